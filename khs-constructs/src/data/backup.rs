//! AWS Backup: an encrypted vault, backup plans with typed schedules, and
//! copies to a vault in another region for disaster recovery.
//!
//! - [`BackupVault`]: a vault encrypted with its own customer managed KMS
//!   key, optionally locked (AWS Backup Vault Lock).
//! - [`dr_vault_stack`]: a stack in another region holding the
//!   disaster-recovery vault, returning a [`BackupVaultRef`] the primary
//!   stack's plans copy to. The reference is a deterministic ARN (vault names
//!   are fixed), so no export is needed (exports do not cross regions); the
//!   plan's stack records a deploy-order dependency on the DR stack.
//! - [`Backup`]: a vault, the service role, and one `AWS::Backup::BackupPlan`
//!   with one `AWS::Backup::BackupSelection` per [`BackupPlanSpec`].
//!
//! In AWS Backup every rule of a plan applies to every resource its
//! selections name, so resources that need different schedules or
//! retention go into different plans (the KHS CRM has a `database` plan and
//! an `application` plan).
//!
//! CloudFormation stacks are an AWS Backup resource type
//! ([`BackupResource::ThisStack`]): a composite recovery point of the
//! template and of every resource of the stack AWS Backup supports.
//!
//! What AWS Backup does not cover: ECS task definitions (other than in a
//! stack's template), Secrets Manager secret values and Systems Manager
//! Parameter Store values are not AWS Backup resource types. Task
//! definitions are rebuilt from source (`synth-out/` is committed); secrets
//! should be replicated with Secrets Manager's multi-region replication
//! where the DR region needs them.
//!
//! [`region_restore_runbook`] adds the runbook that restores a copied
//! database recovery point in the DR region.
//!
//! S3 buckets can only be backed up with versioning enabled.

mod dr_runbook;

pub use dr_runbook::region_restore_runbook;

use crate::cfn::attributes::*;
use crate::cfn::backup::backup_plan::BackupRuleResourceTypeRequired;
use std::collections::BTreeSet;

use crate::cfn;
use crate::cfn::backup::{backup_plan, backup_selection, backup_vault};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::stack::{Environment, Stack, StackProps};
use crate::core::value::Value;
use crate::ops::monitoring::key_policy;
use crate::ops::schedule::Cron;
use crate::security::iam::{self, PolicyDocument, PolicyStatement, Principal};

// ---------------------------------------------------------------------------
// Vaults
// ---------------------------------------------------------------------------

/// AWS Backup Vault Lock settings (governance mode unless
/// `changeable_for_days` is set, which turns into compliance mode once that
/// grace time has passed: from then on nobody, not even the account root,
/// can delete recovery points early or remove the lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultLock {
    /// The shortest retention a recovery point in the vault may have.
    pub min_retention_days: u32,
    /// The longest retention a recovery point in the vault may have.
    ///
    /// Default: - no maximum.
    pub max_retention_days: Option<u32>,
    /// Days before the lock becomes immutable (compliance mode), at least 3.
    ///
    /// Default: - governance mode (users with the right IAM permissions can
    /// remove the lock).
    pub changeable_for_days: Option<u32>,
}

/// The props of a [`BackupVault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupVaultProps {
    /// The vault name (2–50 letters, digits, `-`, `_`; unique per account
    /// and region).
    ///
    /// Default: - `<stack name>-vault` (truncated to 50 characters).
    pub vault_name: Option<String>,
    /// Vault Lock.
    ///
    /// Default: - none.
    pub lock: Option<VaultLock>,
    /// An access policy denying everyone `backup:DeleteRecoveryPoint` and
    /// `backup:UpdateRecoveryPointLifecycle`: recovery points then only go
    /// when their lifecycle ends (remove the policy to delete one early).
    ///
    /// Default: `true`.
    pub block_recovery_point_deletion: bool,
}

impl Default for BackupVaultProps {
    fn default() -> Self {
        BackupVaultProps {
            vault_name: None,
            lock: None,
            block_recovery_point_deletion: true,
        }
    }
}

/// An AWS Backup vault. Emits an `AWS::KMS::Key` (rotation on; the account
/// administers it through IAM, AWS Backup uses it through grants), an
/// `AWS::KMS::Alias` and an `AWS::Backup::BackupVault` encrypted with the
/// key, tagged with the stack's tags. Both are retained when removed from
/// the template.
#[derive(Debug, Clone)]
pub struct BackupVault {
    handle: Handle<cfn::backup::BackupVault>,
    key: Handle<cfn::kms::Key>,
    name: String,
    region: String,
    stack: String,
    lock: Option<VaultLock>,
}

/// A backup vault given by name and region, possibly in another stack or
/// region (same account). Obtained from [`BackupVault::reference`] or
/// [`dr_vault_stack`].
#[derive(Debug, Clone, PartialEq)]
pub struct BackupVaultRef {
    /// The vault name.
    pub name: String,
    /// The vault's region.
    pub region: String,
    /// The vault's ARN, built from the name and region.
    pub arn: Value<String>,
    /// The stack that creates the vault, which must be deployed first.
    ///
    /// Default: - none (the vault exists already).
    pub stack: Option<String>,
    /// The vault's lock, when known (to check retention against it).
    ///
    /// Default: - unknown.
    pub lock: Option<VaultLock>,
}

impl BackupVaultRef {
    /// A vault that exists already, by name and region, in the deploying
    /// account.
    pub fn existing(name: impl Into<String>, region: impl Into<String>) -> Self {
        let (name, region) = (name.into(), region.into());
        BackupVaultRef {
            arn: vault_arn(&name, &region),
            name,
            region,
            stack: None,
            lock: None,
        }
    }
}

fn vault_arn(name: &str, region: &str) -> Value<String> {
    Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:backup:{region}:${{AWS::AccountId}}:backup-vault:{name}"
    ))
    .into()
}

fn check_name(
    path: &ConstructPath,
    prop: &str,
    name: &str,
    max: usize,
    extra: &[char],
) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        let allowed: String = extra.iter().map(|c| format!(", '{c}'")).collect();
        Err(Error::invalid_prop(
            path,
            prop,
            format!("must be 1..={max} ASCII letters, digits, '-', '_'{allowed}, got {name:?}"),
        ))
    }
}

impl BackupVault {
    /// Adds a vault at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: BackupVaultProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack = s.stack_name().to_string();
        let region = s.env().region.clone();
        let tags = s.stack_tags().clone();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let name = props.vault_name.clone().unwrap_or_else(|| {
            let mut n = format!("{stack}-vault");
            n.truncate(50);
            n
        });
        check_name(&path, "vault_name", &name, 50, &[])?;
        if name.len() < 2 {
            return Err(Error::invalid_prop(
                &path,
                "vault_name",
                format!("must be at least 2 characters, got {name:?}"),
            ));
        }
        if let Some(lock) = &props.lock {
            if lock.min_retention_days < 1 {
                return Err(Error::invalid_prop(
                    &path,
                    "lock.min_retention_days",
                    "must be at least 1, got 0",
                ));
            }
            if let Some(max) = lock.max_retention_days {
                if max < lock.min_retention_days {
                    return Err(Error::invalid_prop(
                        &path,
                        "lock.max_retention_days",
                        format!(
                            "must be at least min_retention_days ({}), got {max}",
                            lock.min_retention_days
                        ),
                    ));
                }
            }
            if let Some(c) = lock.changeable_for_days {
                if c < 3 {
                    return Err(Error::invalid_prop(
                        &path,
                        "lock.changeable_for_days",
                        format!(
                            "must be at least 3 (AWS's grace time before compliance mode), got {c}"
                        ),
                    ));
                }
            }
        }
        let key = me.add(
            "Key",
            cfn::kms::Key {
                description: Some(format!("Encrypts the backup vault {name}").into()),
                enable_key_rotation: Some(true.into()),
                key_policy: Some(key_policy(&[], "").to_json()),
                ..cfn::kms::Key::new()
            },
        )?;
        me.add(
            "KeyAlias",
            cfn::kms::Alias {
                alias_name: format!("alias/{name}").into(),
                target_key_id: key.ref_(),
            },
        )?;
        let handle = me.add(
            "Vault",
            cfn::backup::BackupVault {
                encryption_key_arn: Some(key.attr_arn()),
                lock_configuration: props.lock.as_ref().map(|l| {
                    backup_vault::LockConfigurationType {
                        min_retention_days: i64::from(l.min_retention_days).into(),
                        max_retention_days: l.max_retention_days.map(|d| i64::from(d).into()),
                        changeable_for_days: l.changeable_for_days.map(|d| i64::from(d).into()),
                    }
                }),
                access_policy: props.block_recovery_point_deletion.then(|| {
                    PolicyDocument::new([PolicyStatement::deny(
                        [
                            "backup:DeleteRecoveryPoint",
                            "backup:UpdateRecoveryPointLifecycle",
                        ],
                        ["*"],
                    )
                    .with_sid("DenyEarlyRecoveryPointDeletion")
                    .with_principal(Principal::Aws("*".into()))])
                    .to_json()
                }),
                backup_vault_tags: (!tags.is_empty()).then(|| {
                    tags.iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect()
                }),
                ..cfn::backup::BackupVault::new(name.as_str())
            },
        )?;
        Ok(BackupVault {
            handle,
            key,
            name,
            region,
            stack,
            lock: props.lock,
        })
    }

    /// The vault resource.
    pub fn handle(&self) -> &Handle<cfn::backup::BackupVault> {
        &self.handle
    }

    /// The key encrypting the vault.
    pub fn key(&self) -> &Handle<cfn::kms::Key> {
        &self.key
    }

    /// The vault name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A reference to this vault usable from any stack of the account
    /// (another region's plans copy to it by this ARN); using it from
    /// another stack makes that stack depend on this one.
    pub fn reference(&self) -> BackupVaultRef {
        BackupVaultRef {
            name: self.name.clone(),
            region: self.region.clone(),
            arn: vault_arn(&self.name, &self.region),
            stack: Some(self.stack.clone()),
            lock: self.lock.clone(),
        }
    }
}

/// A stack named `<primary>-backup-dr` in `region`, same account and tags
/// as `primary`, holding a [`BackupVault`] (id `DrVault`) for cross-region
/// copies. Add the stack to the app; plans that copy to the returned
/// reference make their stack depend on it, so it deploys first.
pub fn dr_vault_stack(
    primary: &Stack,
    region: &str,
    props: BackupVaultProps,
) -> Result<(Stack, BackupVaultRef)> {
    if region == primary.env().region {
        return Err(Error::invalid_prop(
            primary.name(),
            "region",
            format!(
                "must differ from the primary stack's region for disaster recovery, got {region:?} for both"
            ),
        ));
    }
    let mut props_stack = StackProps::new(Environment {
        account: primary.env().account.clone(),
        region: region.to_string(),
    });
    props_stack.tags = primary.props().tags.clone();
    props_stack.termination_protection = primary.props().termination_protection;
    props_stack.description = Some(format!(
        "Disaster-recovery backup vault for {} (copies from {})",
        primary.name(),
        primary.env().region
    ));
    let mut stack = Stack::new(&format!("{}-backup-dr", primary.name()), props_stack)?;
    let vault = BackupVault::new(&mut stack, "DrVault", props)?;
    Ok((stack, vault.reference()))
}

// ---------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------

/// A copy of each recovery point to another vault.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyAction {
    /// The destination vault.
    pub vault: BackupVaultRef,
    /// Days the copy is kept.
    ///
    /// Default: - as long as the source recovery point.
    pub delete_after_days: Option<u32>,
}

/// One rule of a backup plan: when to back up and how long to keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRule {
    /// The rule name (letters, digits, `-`, `_`, `.`; unique in the plan).
    pub name: String,
    /// When backups start (UTC); AWS Backup runs at most hourly.
    pub schedule: Cron,
    /// Days each recovery point is kept (at least 1).
    pub delete_after_days: u32,
    /// Days after which recovery points move to cold storage (then
    /// `delete_after_days` must be at least 90 more).
    ///
    /// Default: - never.
    pub move_to_cold_storage_after_days: Option<u32>,
    /// Copies made of each recovery point.
    ///
    /// Default: - none.
    pub copy_to: Vec<CopyAction>,
    /// Minutes after the scheduled time within which a backup must start
    /// (at least 60).
    ///
    /// Default: 60.
    pub start_window_minutes: u32,
    /// Minutes within which a started backup must complete.
    ///
    /// Default: - AWS Backup's default (7 days).
    pub completion_window_minutes: Option<u32>,
}

impl BackupRule {
    /// A rule running on `schedule`, keeping recovery points for
    /// `delete_after_days`.
    pub fn new(name: impl Into<String>, schedule: Cron, delete_after_days: u32) -> Self {
        BackupRule {
            name: name.into(),
            schedule,
            delete_after_days,
            move_to_cold_storage_after_days: None,
            copy_to: Vec::new(),
            start_window_minutes: 60,
            completion_window_minutes: None,
        }
    }
}

/// What a plan backs up.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupResource {
    /// An RDS DB instance of this stack.
    Database(Handle<cfn::rds::DbInstance>),
    /// An S3 bucket of this stack (versioning must be enabled).
    Bucket(Handle<cfn::s3::Bucket>),
    /// Any supported resource by ARN.
    Arn(Value<String>),
    /// The plan's own CloudFormation stack (`AWS::StackId`): AWS Backup
    /// keeps its template and, as nested recovery points of one composite
    /// recovery point, every resource of the stack it supports (RDS
    /// instances, versioned buckets, …), with this plan's retention.
    ThisStack,
    /// Every supported resource carrying this tag.
    Tagged {
        /// The tag key.
        key: String,
        /// The tag value.
        value: String,
    },
}

/// One backup plan of a [`Backup`].
#[derive(Debug, Clone, PartialEq)]
pub struct BackupPlanSpec {
    /// The construct id of the plan (`Database`), also used in the plan
    /// name `<stack name>-<id>`.
    pub id: String,
    /// The rules (at least one).
    pub rules: Vec<BackupRule>,
    /// The resources (at least one).
    pub resources: Vec<BackupResource>,
}

/// The props of [`Backup`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackupProps {
    /// The vault's props.
    ///
    /// Default: - a vault named `<stack name>-vault`, no lock.
    pub vault: BackupVaultProps,
    /// The plans (at least one).
    pub plans: Vec<BackupPlanSpec>,
}

/// AWS Backup for a stack: a [`BackupVault`] (`scope/id/Vault`), the
/// service role (`scope/id/Role`, with the AWS managed backup and restore
/// policies, including those for S3), and per [`BackupPlanSpec`] an
/// `AWS::Backup::BackupPlan` and an `AWS::Backup::BackupSelection`.
#[derive(Debug, Clone)]
pub struct Backup {
    vault: BackupVault,
    role: Handle<cfn::iam::Role>,
    plans: Vec<(String, Handle<cfn::backup::BackupPlan>)>,
}

/// The AWS managed policies the backup role carries.
pub const BACKUP_ROLE_MANAGED_POLICIES: [&str; 4] = [
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
];

fn check_rule(
    path: &ConstructPath,
    prop: &str,
    r: &BackupRule,
    lock: Option<&VaultLock>,
) -> Result<()> {
    check_name(path, &format!("{prop}.name"), &r.name, 50, &['.'])?;
    let minutes = r
        .schedule
        .expression()
        .trim_start_matches("cron(")
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    if minutes.parse::<u32>().is_err() {
        return Err(Error::invalid_prop(
            path,
            format!("{prop}.schedule"),
            format!(
                "must run at most once an hour (a single minute value), got {}",
                r.schedule.expression()
            ),
        ));
    }
    if r.delete_after_days < 1 {
        return Err(Error::invalid_prop(
            path,
            format!("{prop}.delete_after_days"),
            "must be at least 1, got 0",
        ));
    }
    if let Some(cold) = r.move_to_cold_storage_after_days {
        if r.delete_after_days < cold.saturating_add(90) {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.delete_after_days"),
                format!(
                    "must be at least 90 days after move_to_cold_storage_after_days ({cold}), got {}",
                    r.delete_after_days
                ),
            ));
        }
    }
    if r.start_window_minutes < 60 {
        return Err(Error::invalid_prop(
            path,
            format!("{prop}.start_window_minutes"),
            format!("must be at least 60, got {}", r.start_window_minutes),
        ));
    }
    if let Some(c) = r.completion_window_minutes {
        if c <= r.start_window_minutes {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.completion_window_minutes"),
                format!(
                    "must be more than start_window_minutes ({}), got {c}",
                    r.start_window_minutes
                ),
            ));
        }
    }
    let within = |what: String, days: u32, lock: Option<&VaultLock>| -> Result<()> {
        if let Some(l) = lock {
            let too_long = l.max_retention_days.is_some_and(|m| days > m);
            if days < l.min_retention_days || too_long {
                return Err(Error::invalid_prop(
                    path,
                    what,
                    format!(
                        "must lie within the vault lock's retention ({}..={} days), got {days}",
                        l.min_retention_days,
                        l.max_retention_days
                            .map_or("unbounded".to_string(), |m| m.to_string())
                    ),
                ));
            }
        }
        Ok(())
    };
    within(
        format!("{prop}.delete_after_days"),
        r.delete_after_days,
        lock,
    )?;
    for (j, c) in r.copy_to.iter().enumerate() {
        let days = c.delete_after_days.unwrap_or(r.delete_after_days);
        if days < 1 {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.copy_to[{j}].delete_after_days"),
                "must be at least 1, got 0",
            ));
        }
        within(
            format!("{prop}.copy_to[{j}].delete_after_days"),
            days,
            c.vault.lock.as_ref(),
        )?;
    }
    Ok(())
}

impl Backup {
    /// Adds the vault, role and plans at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: BackupProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let tags = s.stack_tags().clone();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        if props.plans.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "plans",
                "must list at least one plan, got none",
            ));
        }
        let mut ids = BTreeSet::new();
        for (i, plan) in props.plans.iter().enumerate() {
            let prop = format!("plans[{i}]");
            if !ids.insert(plan.id.as_str()) {
                return Err(Error::invalid_prop(
                    &path,
                    format!("{prop}.id"),
                    format!("must be unique, got {:?} twice", plan.id),
                ));
            }
            if plan.rules.is_empty() {
                return Err(Error::invalid_prop(
                    &path,
                    format!("{prop}.rules"),
                    "must list at least one rule, got none",
                ));
            }
            if plan.resources.is_empty() {
                return Err(Error::invalid_prop(
                    &path,
                    format!("{prop}.resources"),
                    "must list at least one resource (a plan without a selection backs up nothing), got none",
                ));
            }
            let mut names = BTreeSet::new();
            for (j, r) in plan.rules.iter().enumerate() {
                if !names.insert(r.name.as_str()) {
                    return Err(Error::invalid_prop(
                        &path,
                        format!("{prop}.rules[{j}].name"),
                        format!("must be unique in the plan, got {:?} twice", r.name),
                    ));
                }
                check_rule(
                    &path,
                    &format!("{prop}.rules[{j}]"),
                    r,
                    props.vault.lock.as_ref(),
                )?;
            }
        }

        let vault = BackupVault::new(&mut me, "Vault", props.vault.clone())?;
        let role_props = cfn::iam::Role {
            description: Some(format!("AWS Backup service role of {stack_name}").into()),
            managed_policy_arns: Some(Value::Literal(
                BACKUP_ROLE_MANAGED_POLICIES
                    .iter()
                    .map(|p| iam::aws_managed_policy_arn(p))
                    .collect(),
            )),
            path: Some("/service-role/".into()),
            ..cfn::iam::Role::new(PolicyDocument::assume_role("backup.amazonaws.com").to_json())
        };
        let role = me.add("Role", role_props)?;
        role.acknowledge(
            &mut me,
            "iam-no-managed-policies",
            "The AWS Backup service role policies are the ones AWS documents for backup and restore jobs, and they follow the resource types AWS Backup supports.",
        )?;

        let mut plans = Vec::new();
        for spec in &props.plans {
            let handle = add_plan(&mut me, &stack_name, &tags, &vault, &role, spec)?;
            plans.push((spec.id.clone(), handle));
        }
        Ok(Backup { vault, role, plans })
    }

    /// The vault.
    pub fn vault(&self) -> &BackupVault {
        &self.vault
    }

    /// The service role.
    pub fn role(&self) -> &Handle<cfn::iam::Role> {
        &self.role
    }

    /// The plans, by id.
    pub fn plans(&self) -> &[(String, Handle<cfn::backup::BackupPlan>)] {
        &self.plans
    }
}

fn add_plan(
    me: &mut Scope<'_>,
    stack_name: &str,
    tags: &std::collections::BTreeMap<String, String>,
    vault: &BackupVault,
    role: &Handle<cfn::iam::Role>,
    spec: &BackupPlanSpec,
) -> Result<Handle<cfn::backup::BackupPlan>> {
    let mut p = me.child(&spec.id)?;
    let mut rules = Vec::new();
    for r in &spec.rules {
        let mut copies = Vec::new();
        for c in &r.copy_to {
            if let Some(other) = &c.vault.stack {
                if other != stack_name {
                    p.add_stack_dependency(other);
                }
            }
            copies.push(backup_plan::CopyActionResourceType {
                destination_backup_vault_arn: c.vault.arn.clone(),
                lifecycle: Some(backup_plan::LifecycleResourceType {
                    delete_after_days: Some(
                        f64::from(c.delete_after_days.unwrap_or(r.delete_after_days)).into(),
                    ),
                    ..backup_plan::LifecycleResourceType::new()
                }),
            });
        }
        rules.push(backup_plan::BackupRuleResourceType {
            rule_name: r.name.as_str().into(),
            target_backup_vault: vault.handle().ref_(),
            schedule_expression: Some(r.schedule.expression().into()),
            schedule_expression_timezone: Some("Etc/UTC".into()),
            start_window_minutes: Some(f64::from(r.start_window_minutes).into()),
            completion_window_minutes: r.completion_window_minutes.map(|c| f64::from(c).into()),
            lifecycle: Some(backup_plan::LifecycleResourceType {
                delete_after_days: Some(f64::from(r.delete_after_days).into()),
                move_to_cold_storage_after_days: r
                    .move_to_cold_storage_after_days
                    .map(|d| f64::from(d).into()),
                ..backup_plan::LifecycleResourceType::new()
            }),
            copy_actions: (!copies.is_empty()).then_some(copies),
            ..backup_plan::BackupRuleResourceType::new(BackupRuleResourceTypeRequired {
                rule_name: r.name.as_str().into(),
                target_backup_vault: vault.handle().ref_(),
            })
        });
    }
    let plan_name = format!("{stack_name}-{}", spec.id);
    let plan = p.add(
        "Plan",
        cfn::backup::BackupPlan {
            backup_plan_tags: (!tags.is_empty()).then(|| {
                tags.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect()
            }),
            ..cfn::backup::BackupPlan::new(backup_plan::BackupPlanResourceType {
                backup_plan_name: plan_name.as_str().into(),
                backup_plan_rule: rules,
                advanced_backup_settings: None,
                scan_settings: None,
            })
        },
    )?;
    let mut arns: Vec<Value<String>> = Vec::new();
    let mut tagged = Vec::new();
    for r in &spec.resources {
        match r {
            BackupResource::Database(db) => arns.push(db.get_att("DBInstanceArn")),
            BackupResource::Bucket(b) => arns.push(b.get_att("Arn")),
            BackupResource::Arn(a) => arns.push(a.clone()),
            BackupResource::ThisStack => arns.push(crate::core::intrinsic::Pseudo::StackId.into()),
            BackupResource::Tagged { key, value } => {
                tagged.push(backup_selection::ConditionResourceType {
                    condition_key: key.as_str().into(),
                    condition_type: "STRINGEQUALS".into(),
                    condition_value: value.as_str().into(),
                })
            }
        }
    }
    let mut selection_name = plan_name.clone();
    selection_name.truncate(50);
    p.add(
        "Selection",
        cfn::backup::BackupSelection {
            backup_plan_id: plan.ref_(),
            backup_selection: backup_selection::BackupSelectionResourceType {
                iam_role_arn: role.get_att("Arn"),
                selection_name: selection_name.into(),
                resources: (!arns.is_empty()).then_some(Value::Literal(arns)),
                list_of_tags: (!tagged.is_empty()).then_some(tagged),
                conditions: None,
                not_resources: None,
            },
        },
    )?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as J, json};

    fn primary() -> Stack {
        let mut props = StackProps::new(Environment::region("us-east-1"));
        props.tags.insert("Environment".into(), "production".into());
        Stack::new("khs-test", props).unwrap()
    }

    fn daily(h: u32) -> Cron {
        Cron::daily_at(h, 0).unwrap()
    }

    fn synth(st: &Stack) -> J {
        serde_json::to_value(st.synth().unwrap()).unwrap()
    }

    fn seed_backup(st: &mut Stack, dr: BackupVaultRef) -> Result<Backup> {
        let db = st
            .as_scope()
            .add("Db", cfn::rds::DbInstance::new())
            .unwrap();
        let bucket = st.as_scope().add("Assets", cfn::s3::Bucket::new()).unwrap();
        Backup::new(
            st,
            "Backup",
            BackupProps {
                plans: vec![
                    BackupPlanSpec {
                        id: "Database".into(),
                        rules: vec![BackupRule {
                            copy_to: vec![CopyAction {
                                vault: dr,
                                delete_after_days: None,
                            }],
                            ..BackupRule::new("daily", daily(2), 30)
                        }],
                        resources: vec![BackupResource::Database(db)],
                    },
                    BackupPlanSpec {
                        id: "Application".into(),
                        rules: vec![BackupRule::new("daily", daily(3), 7)],
                        resources: vec![
                            BackupResource::Bucket(bucket),
                            BackupResource::Tagged {
                                key: "backup".into(),
                                value: "application".into(),
                            },
                        ],
                    },
                ],
                ..BackupProps::default()
            },
        )
    }

    #[test]
    fn seed_plan_backs_up_daily_at_2_keeps_30_days_and_copies_to_us_west_2() {
        let mut st = primary();
        let (dr, dr_ref) = dr_vault_stack(&st, "us-west-2", BackupVaultProps::default()).unwrap();
        assert_eq!(dr.name(), "khs-test-backup-dr");
        assert_eq!(dr.env().region, "us-west-2");
        assert_eq!(dr.props().tags["Environment"], "production");
        seed_backup(&mut st, dr_ref).unwrap();
        assert!(st.dependencies().contains("khs-test-backup-dr"));
        let t = synth(&st);
        let plan = &t["Resources"]["BackupDatabasePlan"]["Properties"]["BackupPlan"];
        assert_eq!(plan["BackupPlanName"], "khs-test-Database");
        let rule = &plan["BackupPlanRule"][0];
        assert_eq!(rule["ScheduleExpression"], "cron(0 2 * * ? *)");
        assert_eq!(rule["ScheduleExpressionTimezone"], "Etc/UTC");
        assert_eq!(rule["Lifecycle"], json!({"DeleteAfterDays": 30.0}));
        assert_eq!(
            rule["TargetBackupVault"],
            json!({"Ref": "BackupVaultVault"})
        );
        assert_eq!(
            rule["CopyActions"],
            json!([{
                "DestinationBackupVaultArn": {"Fn::Sub": "arn:${AWS::Partition}:backup:us-west-2:${AWS::AccountId}:backup-vault:khs-test-backup-dr-vault"},
                "Lifecycle": {"DeleteAfterDays": 30.0}
            }])
        );
        assert_eq!(
            t["Resources"]["BackupDatabasePlan"]["Properties"]["BackupPlanTags"],
            json!({"Environment": "production"})
        );
        let sel = &t["Resources"]["BackupDatabaseSelection"]["Properties"];
        assert_eq!(sel["BackupPlanId"], json!({"Ref": "BackupDatabasePlan"}));
        assert_eq!(
            sel["BackupSelection"]["Resources"],
            json!([{"Fn::GetAtt": ["Db", "DBInstanceArn"]}])
        );
        assert_eq!(
            sel["BackupSelection"]["IamRoleArn"],
            json!({"Fn::GetAtt": ["BackupRole", "Arn"]})
        );
        let app = &t["Resources"]["BackupApplicationPlan"]["Properties"]["BackupPlan"];
        assert_eq!(
            app["BackupPlanRule"][0]["ScheduleExpression"],
            "cron(0 3 * * ? *)"
        );
        let app_sel =
            &t["Resources"]["BackupApplicationSelection"]["Properties"]["BackupSelection"];
        assert_eq!(
            app_sel["Resources"],
            json!([{"Fn::GetAtt": ["Assets", "Arn"]}])
        );
        assert_eq!(
            app_sel["ListOfTags"],
            json!([{"ConditionKey": "backup", "ConditionType": "STRINGEQUALS", "ConditionValue": "application"}])
        );
        let role = &t["Resources"]["BackupRole"]["Properties"];
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "backup.amazonaws.com"
        );
        assert_eq!(
            role["ManagedPolicyArns"][0],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"})
        );
        assert_eq!(role["ManagedPolicyArns"].as_array().unwrap().len(), 4);
        let vault = &t["Resources"]["BackupVaultVault"];
        assert_eq!(vault["DeletionPolicy"], "Retain");
        assert_eq!(
            vault["Properties"]["AccessPolicy"]["Statement"][0],
            json!({"Sid": "DenyEarlyRecoveryPointDeletion", "Effect": "Deny",
                   "Principal": {"AWS": "*"},
                   "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"],
                   "Resource": "*"})
        );
        assert_eq!(vault["Properties"]["BackupVaultName"], "khs-test-vault");
        assert_eq!(
            vault["Properties"]["EncryptionKeyArn"],
            json!({"Fn::GetAtt": ["BackupVaultKey", "Arn"]})
        );
        assert_eq!(
            vault["Properties"]["BackupVaultTags"],
            json!({"Environment": "production"})
        );
        let dr_t = synth(&dr);
        assert_eq!(
            dr_t["Resources"]["DrVaultVault"]["Properties"]["BackupVaultName"],
            "khs-test-backup-dr-vault"
        );
        assert!(crate::security::iam::check_template(&t).is_empty());
    }

    #[test]
    fn vault_lock_is_emitted() {
        let mut st = primary();
        BackupVault::new(
            &mut st,
            "V",
            BackupVaultProps {
                vault_name: Some("locked".into()),
                lock: Some(VaultLock {
                    min_retention_days: 7,
                    max_retention_days: Some(120),
                    changeable_for_days: Some(3),
                }),
                block_recovery_point_deletion: false,
            },
        )
        .unwrap();
        let t = synth(&st);
        assert_eq!(
            t["Resources"]["VVault"]["Properties"]["LockConfiguration"],
            json!({"ChangeableForDays": 3, "MaxRetentionDays": 120, "MinRetentionDays": 7})
        );
        assert!(
            t["Resources"]["VVault"]["Properties"]
                .get("AccessPolicy")
                .is_none()
        );
    }

    #[test]
    fn fails_when_the_dr_region_is_the_primary_region() {
        let st = primary();
        let e = dr_vault_stack(&st, "us-east-1", BackupVaultProps::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("khs-test: region must differ"), "{e}");
    }

    fn plan_err(
        spec: impl FnOnce(BackupPlanSpec) -> Vec<BackupPlanSpec>,
        vault: BackupVaultProps,
    ) -> String {
        let mut st = primary();
        let db = st
            .as_scope()
            .add("Db", cfn::rds::DbInstance::new())
            .unwrap();
        let base = BackupPlanSpec {
            id: "Database".into(),
            rules: vec![BackupRule::new("daily", daily(2), 30)],
            resources: vec![BackupResource::Database(db)],
        };
        Backup::new(
            &mut st,
            "Backup",
            BackupProps {
                vault,
                plans: spec(base),
            },
        )
        .unwrap_err()
        .to_string()
    }

    fn rule_err(rule: impl FnOnce(BackupRule) -> BackupRule) -> String {
        plan_err(
            |mut p| {
                let r = p.rules.remove(0);
                p.rules.push(rule(r));
                vec![p]
            },
            BackupVaultProps::default(),
        )
    }

    #[test]
    fn fails_when_plans_rules_or_resources_are_missing() {
        let e = plan_err(|_| vec![], BackupVaultProps::default());
        assert!(
            e.starts_with("khs-test/Backup: plans must list at least one plan"),
            "{e}"
        );
        let e = plan_err(
            |p| vec![BackupPlanSpec { rules: vec![], ..p }],
            BackupVaultProps::default(),
        );
        assert!(
            e.starts_with("khs-test/Backup: plans[0].rules must list"),
            "{e}"
        );
        let e = plan_err(
            |p| {
                vec![BackupPlanSpec {
                    resources: vec![],
                    ..p
                }]
            },
            BackupVaultProps::default(),
        );
        assert!(
            e.starts_with("khs-test/Backup: plans[0].resources must list"),
            "{e}"
        );
        let e = plan_err(|p| vec![p.clone(), p], BackupVaultProps::default());
        assert!(
            e.starts_with("khs-test/Backup: plans[1].id must be unique"),
            "{e}"
        );
        let e = plan_err(
            |mut p| {
                p.rules.push(p.rules[0].clone());
                vec![p]
            },
            BackupVaultProps::default(),
        );
        assert!(
            e.starts_with("khs-test/Backup: plans[0].rules[1].name must be unique"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_rule_is_invalid() {
        type Edit = Box<dyn FnOnce(BackupRule) -> BackupRule>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|r| BackupRule {
                    name: "daily backup".into(),
                    ..r
                }),
                "plans[0].rules[0].name must be",
            ),
            (
                Box::new(|r| BackupRule {
                    schedule: Cron::parse("p", "s", "cron(*/15 * * * ? *)").unwrap(),
                    ..r
                }),
                "plans[0].rules[0].schedule must run at most once an hour",
            ),
            (
                Box::new(|r| BackupRule {
                    delete_after_days: 0,
                    ..r
                }),
                "plans[0].rules[0].delete_after_days must be at least 1",
            ),
            (
                Box::new(|r| BackupRule {
                    move_to_cold_storage_after_days: Some(30),
                    delete_after_days: 100,
                    ..r
                }),
                "plans[0].rules[0].delete_after_days must be at least 90 days after",
            ),
            (
                Box::new(|r| BackupRule {
                    start_window_minutes: 30,
                    ..r
                }),
                "plans[0].rules[0].start_window_minutes must be at least 60",
            ),
            (
                Box::new(|r| BackupRule {
                    completion_window_minutes: Some(60),
                    ..r
                }),
                "plans[0].rules[0].completion_window_minutes must be more than",
            ),
            (
                Box::new(|r| BackupRule {
                    copy_to: vec![CopyAction {
                        vault: BackupVaultRef::existing("dr", "us-west-2"),
                        delete_after_days: Some(0),
                    }],
                    ..r
                }),
                "plans[0].rules[0].copy_to[0].delete_after_days must be at least 1",
            ),
        ];
        for (f, needle) in cases {
            let e = rule_err(f);
            assert!(e.starts_with("khs-test/Backup: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn fails_when_retention_is_outside_the_vault_lock() {
        let lock = VaultLock {
            min_retention_days: 35,
            max_retention_days: None,
            changeable_for_days: None,
        };
        let e = plan_err(
            |p| vec![p],
            BackupVaultProps {
                lock: Some(lock.clone()),
                ..BackupVaultProps::default()
            },
        );
        assert!(
            e.starts_with("khs-test/Backup: plans[0].rules[0].delete_after_days must lie within the vault lock's retention (35..=unbounded days), got 30"),
            "{e}"
        );
        let e = rule_err(|r| BackupRule {
            copy_to: vec![CopyAction {
                vault: BackupVaultRef {
                    lock: Some(lock),
                    ..BackupVaultRef::existing("dr", "us-west-2")
                },
                delete_after_days: None,
            }],
            ..r
        });
        assert!(
            e.contains("plans[0].rules[0].copy_to[0].delete_after_days must lie within"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_vault_props_are_invalid() {
        let cases = [
            (
                BackupVaultProps {
                    vault_name: Some("my vault".into()),
                    ..Default::default()
                },
                "vault_name must be",
            ),
            (
                BackupVaultProps {
                    vault_name: Some("v".into()),
                    ..Default::default()
                },
                "vault_name must be at least 2",
            ),
            (
                BackupVaultProps {
                    lock: Some(VaultLock {
                        min_retention_days: 0,
                        max_retention_days: None,
                        changeable_for_days: None,
                    }),
                    ..Default::default()
                },
                "lock.min_retention_days must be at least 1",
            ),
            (
                BackupVaultProps {
                    lock: Some(VaultLock {
                        min_retention_days: 10,
                        max_retention_days: Some(5),
                        changeable_for_days: None,
                    }),
                    ..Default::default()
                },
                "lock.max_retention_days must be at least",
            ),
            (
                BackupVaultProps {
                    lock: Some(VaultLock {
                        min_retention_days: 1,
                        max_retention_days: None,
                        changeable_for_days: Some(1),
                    }),
                    ..Default::default()
                },
                "lock.changeable_for_days must be at least 3",
            ),
        ];
        for (props, needle) in cases {
            let mut st = primary();
            let e = BackupVault::new(&mut st, "V", props)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("khs-test/V: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }
}
