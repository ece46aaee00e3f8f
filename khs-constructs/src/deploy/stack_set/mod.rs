//! Stack sets: one stack of the app deployed by CloudFormation StackSets to
//! many accounts and regions, for what every account of an organisation
//! should have (a security baseline, a budget, a logging role).
//!
//! [`deploy_stack_set`] is the sequencing, over the [`StackSets`] port
//! (implemented over the AWS SDK in `sdk.rs`, in memory in [`fake`]):
//!
//! 1. the plan is checked before any call ([`StackSetPlan::validate`]):
//!    names, regions, organizational unit and account ids, permission model
//!    against targets, operation preferences;
//! 2. when the stack set exists, its deployed template is compared with the
//!    new one and the **data-loss guard** of single stacks is applied to it:
//!    a stateful resource that would be replaced or deleted in every stack
//!    instance is refused unless its logical id is allowed;
//! 3. the stack set is created, or updated when the template or parameters
//!    changed (one operation that updates every instance, under the
//!    operation preferences), and followed to its end;
//! 4. stack instances are created for the targets × regions that have none
//!    yet, and followed to their end;
//! 5. every instance is listed with its status.
//!
//! Progress is one line per instance whose status changes while an
//! operation runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::changeset;
use super::diff::diff_templates;
use super::guard::{self, GuardOptions};
use super::port::DeployError;

pub mod fake;
mod sdk;
#[cfg(test)]
mod tests;

/// Who may create the stack instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    /// StackSets' service-managed permissions through AWS Organizations
    /// (trusted access for CloudFormation StackSets turned on in the
    /// management account, or a delegated administrator): targets are
    /// organizational units.
    ServiceManaged {
        /// Deploy to accounts that join the targeted units later, and remove
        /// the instances of accounts that leave.
        auto_deployment: bool,
    },
    /// Self-managed permissions: an administration role in this account and
    /// an execution role in every target account; targets are account ids.
    SelfManaged {
        /// The administration role.
        ///
        /// Default: - `AWSCloudFormationStackSetAdministrationRole` of this account.
        administration_role_arn: Option<String>,
        /// The execution role's name in each target account.
        ///
        /// Default: - `AWSCloudFormationStackSetExecutionRole`.
        execution_role_name: Option<String>,
    },
}

/// Where the stack instances go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Organizational unit ids (`ou-…`) or the root (`r-…`), with
    /// [`Permissions::ServiceManaged`].
    pub organizational_units: Vec<String>,
    /// Account ids (12 digits), with [`Permissions::SelfManaged`].
    pub accounts: Vec<String>,
    /// The regions of every target.
    pub regions: Vec<String>,
}

/// A number of accounts, or a percentage of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// This many.
    Count(u32),
    /// This percentage (rounded down by CloudFormation).
    Percent(u8),
}

impl Share {
    /// Parses `3` or `25%`.
    pub fn parse(s: &str) -> Option<Share> {
        match s.strip_suffix('%') {
            Some(p) => p.trim().parse().ok().map(Share::Percent),
            None => s.trim().parse().ok().map(Share::Count),
        }
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Share::Count(n) => write!(f, "{n}"),
            Share::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// How an operation rolls out (CloudFormation's operation preferences).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    /// Accounts deployed at once per region.
    ///
    /// Default: `Share::Count(1)`.
    pub max_concurrent: Share,
    /// Failed accounts per region before the operation stops in that region
    /// (and in the following ones).
    ///
    /// Default: `Share::Count(0)` (stop at the first failure).
    pub failure_tolerance: Share,
    /// The order of the regions; regions not named follow in their order of
    /// [`Targets::regions`].
    ///
    /// Default: - the order of [`Targets::regions`].
    pub region_order: Vec<String>,
    /// Deploy to all regions at once instead of one after the other.
    ///
    /// Default: `false` (sequential: a failure in the first region stops
    /// the rest).
    pub parallel_regions: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            max_concurrent: Share::Count(1),
            failure_tolerance: Share::Count(0),
            region_order: Vec::new(),
            parallel_regions: false,
        }
    }
}

impl Preferences {
    /// The region order CloudFormation is given: `region_order`, then the
    /// other target regions.
    pub fn ordered_regions(&self, regions: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self.region_order.clone();
        for r in regions {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }
}

/// What to deploy as a stack set.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetPlan {
    /// The stack set's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The template (a stack of the app, synthesized).
    pub template: Value,
    /// Parameter values (others keep the template's defaults).
    pub parameters: BTreeMap<String, String>,
    /// The permission model.
    pub permissions: Permissions,
    /// The targets.
    pub targets: Targets,
    /// The operation preferences.
    pub preferences: Preferences,
    /// Logical ids of stateful resources that may be replaced or deleted.
    pub allow_replace: BTreeSet<String>,
}

/// The deployed stack set.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetInfo {
    /// `ACTIVE` or `DELETED`.
    pub status: String,
    /// The template body as deployed.
    pub template_body: String,
    /// Parameter values as deployed.
    pub parameters: BTreeMap<String, String>,
}

/// One stack instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StackInstance {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The organizational unit it was deployed for, if any.
    pub organizational_unit: Option<String>,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`.
    pub status: String,
    /// The detailed status (`PENDING`, `RUNNING`, `SUCCEEDED`, `FAILED`, …).
    pub detailed_status: Option<String>,
    /// Why, when it failed.
    pub reason: Option<String>,
}

impl StackInstance {
    fn line(&self) -> String {
        let mut s = format!(
            "{} {}: {}",
            self.account,
            self.region,
            self.detailed_status.as_deref().unwrap_or(&self.status)
        );
        if let Some(r) = self.reason.as_deref().filter(|r| !r.is_empty()) {
            let _ = write!(s, " ({r})");
        }
        s
    }
}

/// The state of a stack set operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    /// Queued or running.
    Running,
    /// Done, every instance succeeded (or within the failure tolerance).
    Succeeded,
    /// Stopped by failures beyond the tolerance, with the reason.
    Failed(String),
    /// Stopped on request.
    Stopped,
}

/// The stack set operations the deployment needs: the StackSets API of the
/// administrator account, one call per method.
#[allow(async_fn_in_trait)]
pub trait StackSets {
    /// `DescribeStackSet`: `None` when it does not exist.
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>, DeployError>;
    /// `CreateStackSet` (with `CAPABILITY_NAMED_IAM`).
    async fn create_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<(), DeployError>;
    /// `UpdateStackSet` of every instance; returns the operation id.
    async fn update_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<String, DeployError>;
    /// `CreateStackInstances` for `targets`; returns the operation id.
    async fn create_stack_instances(
        &self,
        plan: &StackSetPlan,
        targets: &Targets,
    ) -> Result<String, DeployError>;
    /// `DescribeStackSetOperation`.
    async fn operation_status(
        &self,
        name: &str,
        operation_id: &str,
    ) -> Result<OperationStatus, DeployError>;
    /// `ListStackInstances`, every page.
    async fn list_stack_instances(&self, name: &str) -> Result<Vec<StackInstance>, DeployError>;
}

/// Why a stack set deployment stopped.
#[derive(Debug, thiserror::Error)]
pub enum StackSetError {
    /// The plan is invalid; nothing was called.
    #[error("stack set {name}: {message}")]
    Invalid {
        /// The stack set.
        name: String,
        /// What is wrong and what to change.
        message: String,
    },
    /// The data-loss guard refused the new template.
    #[error(
        "stack set {name}: refused, the update would lose data in every stack instance:\n{explanation}"
    )]
    Refused {
        /// The stack set.
        name: String,
        /// The guard's explanation (resources, paths, properties, the flag).
        explanation: String,
    },
    /// An operation failed or was stopped.
    #[error("stack set {name}: operation {operation_id} {outcome}")]
    Operation {
        /// The stack set.
        name: String,
        /// The operation.
        operation_id: String,
        /// `failed: reason` or `was stopped`.
        outcome: String,
    },
    /// An operation did not end in time.
    #[error("stack set {name}: operation {operation_id} did not finish within {seconds} s")]
    Timeout {
        /// The stack set.
        name: String,
        /// The operation.
        operation_id: String,
        /// How long was waited.
        seconds: u64,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Api(#[from] DeployError),
}

/// What a deployment did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSetReport {
    /// The stack set was created.
    pub created: bool,
    /// Its instances were updated to a new template or parameters.
    pub updated: bool,
    /// Instances created for new targets (account × region).
    pub added: usize,
    /// Every instance at the end.
    pub instances: Vec<StackInstance>,
    /// Replacements or deletions that were allowed, described.
    pub allowed: Vec<String>,
}

/// How long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// Time between two polls of an operation.
    pub poll: Duration,
    /// The longest an operation may run.
    pub timeout: Duration,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting {
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(4 * 3600),
        }
    }
}

fn is_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

fn is_unit(u: &str) -> bool {
    let tail = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = u.strip_prefix("ou-") {
        rest.split_once('-').is_some_and(|(a, b)| {
            (4..=32).contains(&a.len()) && (8..=32).contains(&b.len()) && tail(a) && tail(b)
        })
    } else if let Some(rest) = u.strip_prefix("r-") {
        (4..=32).contains(&rest.len()) && tail(rest)
    } else {
        false
    }
}

impl StackSetPlan {
    /// Checks the plan before anything is called: every problem, each
    /// saying what to change.
    pub fn validate(&self) -> Result<(), StackSetError> {
        let mut problems = Vec::new();
        let n = &self.name;
        if n.is_empty()
            || n.len() > 128
            || !n.starts_with(|c: char| c.is_ascii_alphabetic())
            || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            problems.push(format!(
                "the name {n:?} must be 1–128 letters, digits and hyphens, starting with a letter"
            ));
        }
        let t = &self.targets;
        if t.regions.is_empty() {
            problems.push("no region: give at least one (--regions us-east-1,eu-west-1)".into());
        }
        let mut seen = BTreeSet::new();
        for r in &t.regions {
            if !crate::core::regions::REGIONS.contains(&r.as_str()) {
                problems.push(format!("{r:?} is not an AWS region"));
            }
            if !seen.insert(r) {
                problems.push(format!("region {r} is listed twice"));
            }
        }
        for r in &self.preferences.region_order {
            if !t.regions.contains(r) {
                problems.push(format!(
                    "the region order names {r}, which is not a target region ({})",
                    t.regions.join(", ")
                ));
            }
        }
        for a in &t.accounts {
            if !is_account(a) {
                problems.push(format!("account {a:?} is not a 12-digit account id"));
            }
        }
        for u in &t.organizational_units {
            if !is_unit(u) {
                problems.push(format!(
                    "{u:?} is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
                ));
            }
        }
        match &self.permissions {
            Permissions::ServiceManaged { .. } => {
                if t.organizational_units.is_empty() {
                    problems.push(
                        "service-managed permissions deploy to organizational units: give at least one (--ou ou-…)".into(),
                    );
                }
                if !t.accounts.is_empty() {
                    problems.push(
                        "service-managed permissions target organizational units, not accounts: use --self-managed to target accounts".into(),
                    );
                }
            }
            Permissions::SelfManaged { .. } => {
                if t.accounts.is_empty() {
                    problems.push(
                        "self-managed permissions deploy to accounts: give at least one (--account 123456789012)".into(),
                    );
                }
                if !t.organizational_units.is_empty() {
                    problems.push(
                        "self-managed permissions cannot target organizational units: drop --self-managed to use service-managed permissions".into(),
                    );
                }
            }
        }
        let p = &self.preferences;
        match p.max_concurrent {
            Share::Count(0) => problems.push("max concurrent accounts must be at least 1".into()),
            Share::Percent(x) if !(1..=100).contains(&x) => {
                problems.push(format!("max concurrent {x}% must be 1–100 %"))
            }
            _ => {}
        }
        if let Share::Percent(x) = p.failure_tolerance {
            if x > 100 {
                problems.push(format!("failure tolerance {x}% must be 0–100 %"));
            }
        }
        if let (Share::Count(c), Share::Count(f)) = (p.max_concurrent, p.failure_tolerance) {
            if c > f + 1 {
                problems.push(format!(
                    "max concurrent {c} exceeds failure tolerance {f} + 1, which CloudFormation refuses; raise --failure-tolerance to {} or lower --max-concurrent",
                    c - 1
                ));
            }
        }
        if self
            .template
            .get("Resources")
            .and_then(Value::as_object)
            .is_none()
        {
            problems.push("the template has no Resources".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StackSetError::Invalid {
                name: self.name.clone(),
                message: problems.join("; "),
            })
        }
    }
}

/// Deploys `plan`: see the module documentation for the steps. `progress`
/// receives one line per step and per instance status change.
pub async fn deploy_stack_set<P: StackSets>(
    port: &P,
    plan: &StackSetPlan,
    waiting: Waiting,
    progress: &mut dyn FnMut(&str),
) -> Result<StackSetReport, StackSetError> {
    plan.validate()?;
    let body = serde_json::to_string(&plan.template).map_err(|e| StackSetError::Invalid {
        name: plan.name.clone(),
        message: format!("the template does not serialize: {e}"),
    })?;
    let mut report = StackSetReport::default();
    let existing = port.describe_stack_set(&plan.name).await?;
    let existing = existing.filter(|s| s.status != "DELETED");
    match &existing {
        None => {
            progress(&format!("{}: creating the stack set", plan.name));
            port.create_stack_set(plan, &body).await?;
            report.created = true;
        }
        Some(info) => {
            let old: Value =
                serde_json::from_str(&info.template_body).map_err(|e| StackSetError::Invalid {
                    name: plan.name.clone(),
                    message: format!(
                        "the deployed template is not JSON ({e}); it was not deployed by this client"
                    ),
                })?;
            let changed_params: BTreeSet<String> = plan
                .parameters
                .iter()
                .filter(|(k, v)| info.parameters.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .collect();
            let diff = diff_templates(Some(&old), &plan.template, &changed_params);
            let plan_rows = changeset::plan(None, &diff);
            let verdict = guard::evaluate(
                &plan_rows,
                &diff,
                Some(&old),
                &plan.template,
                &GuardOptions {
                    allow_replace: plan.allow_replace.clone(),
                    production: false,
                    approved: true,
                },
            );
            if !verdict.unused_allowances.is_empty() {
                return Err(StackSetError::Invalid {
                    name: plan.name.clone(),
                    message: format!(
                        "--allow-replace {} matches no resource that would be replaced or deleted",
                        verdict.unused_allowances.join(", ")
                    ),
                });
            }
            if !verdict.may_proceed() {
                return Err(StackSetError::Refused {
                    name: plan.name.clone(),
                    explanation: verdict.explain(&plan.name),
                });
            }
            report.allowed = verdict
                .allowed
                .iter()
                .map(|f| f.describe(&plan.name))
                .collect();
            if old != plan.template || !changed_params.is_empty() {
                let (added, modified, removed) = diff.counts();
                progress(&format!(
                    "{}: updating every instance ({added} to add, {modified} to modify, {removed} to remove)",
                    plan.name
                ));
                let id = port.update_stack_set(plan, &body).await?;
                follow(port, plan, &id, waiting, progress).await?;
                report.updated = true;
            } else {
                progress(&format!("{}: template and parameters unchanged", plan.name));
            }
        }
    }

    let missing = missing_targets(plan, &port.list_stack_instances(&plan.name).await?);
    if let Some(targets) = missing {
        let before = port.list_stack_instances(&plan.name).await?.len();
        progress(&format!(
            "{}: adding instances for {} in {}",
            plan.name,
            describe_targets(&targets),
            targets.regions.join(", ")
        ));
        let id = port.create_stack_instances(plan, &targets).await?;
        follow(port, plan, &id, waiting, progress).await?;
        let after = port.list_stack_instances(&plan.name).await?.len();
        report.added = after.saturating_sub(before);
    }
    let mut instances = port.list_stack_instances(&plan.name).await?;
    instances.sort();
    report.instances = instances;
    Ok(report)
}

/// The targets × regions that have no instance yet (`None` when every one
/// has). Accounts are matched directly; an organizational unit counts as
/// covered in a region when an instance was deployed for it there (AWS
/// reports each instance's unit; where an endpoint reports none at all,
/// as moto does, any instance in the region counts).
fn missing_targets(plan: &StackSetPlan, instances: &[StackInstance]) -> Option<Targets> {
    let t = &plan.targets;
    let units_reported = instances.iter().any(|i| i.organizational_unit.is_some());
    let mut regions = BTreeSet::new();
    let mut accounts = BTreeSet::new();
    let mut units = BTreeSet::new();
    for r in &t.regions {
        for a in &t.accounts {
            if !instances.iter().any(|i| &i.account == a && &i.region == r) {
                regions.insert(r.clone());
                accounts.insert(a.clone());
            }
        }
        for u in &t.organizational_units {
            if !instances.iter().any(|i| {
                &i.region == r && (!units_reported || i.organizational_unit.as_ref() == Some(u))
            }) {
                regions.insert(r.clone());
                units.insert(u.clone());
            }
        }
    }
    if regions.is_empty() {
        return None;
    }
    // Keep the plan's region order.
    let regions = plan
        .preferences
        .ordered_regions(&t.regions)
        .into_iter()
        .filter(|r| regions.contains(r))
        .collect();
    Some(Targets {
        organizational_units: units.into_iter().collect(),
        accounts: accounts.into_iter().collect(),
        regions,
    })
}

fn describe_targets(t: &Targets) -> String {
    let mut parts = Vec::new();
    if !t.organizational_units.is_empty() {
        parts.push(format!("units {}", t.organizational_units.join(", ")));
    }
    if !t.accounts.is_empty() {
        parts.push(format!("accounts {}", t.accounts.join(", ")));
    }
    parts.join(" and ")
}

/// Polls an operation to its end, printing each instance whose status
/// changed.
async fn follow<P: StackSets>(
    port: &P,
    plan: &StackSetPlan,
    operation_id: &str,
    waiting: Waiting,
    progress: &mut dyn FnMut(&str),
) -> Result<(), StackSetError> {
    let started = std::time::Instant::now();
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    loop {
        let status = port.operation_status(&plan.name, operation_id).await?;
        for i in port.list_stack_instances(&plan.name).await? {
            let line = i.line();
            let key = (i.account.clone(), i.region.clone());
            if last.get(&key) != Some(&line) {
                progress(&format!("  {line}"));
                last.insert(key, line);
            }
        }
        match status {
            OperationStatus::Succeeded => return Ok(()),
            OperationStatus::Failed(reason) => {
                return Err(StackSetError::Operation {
                    name: plan.name.clone(),
                    operation_id: operation_id.to_string(),
                    outcome: format!("failed: {reason}"),
                });
            }
            OperationStatus::Stopped => {
                return Err(StackSetError::Operation {
                    name: plan.name.clone(),
                    operation_id: operation_id.to_string(),
                    outcome: "was stopped".to_string(),
                });
            }
            OperationStatus::Running => {}
        }
        if started.elapsed() >= waiting.timeout {
            return Err(StackSetError::Timeout {
                name: plan.name.clone(),
                operation_id: operation_id.to_string(),
                seconds: waiting.timeout.as_secs(),
            });
        }
        tokio::time::sleep(waiting.poll).await;
    }
}
