//! The account's security baseline: CloudTrail, GuardDuty, Security Hub and
//! AWS Config, delivering to a logs bucket.
//!
//! [`SecurityBaseline`] emits, each part optional:
//!
//! - **CloudTrail**: an `AWS::CloudTrail::Trail`, multi-region, with log file
//!   validation and global service events, writing under `cloudtrail/` of the
//!   logs bucket, encrypted with its own KMS key (whose policy lets only this
//!   account's trails encrypt), optionally also to a CloudWatch Logs group
//!   (with the role CloudTrail needs to write there).
//! - **GuardDuty**: an `AWS::GuardDuty::Detector`, enabled, publishing
//!   findings every 15 minutes, with S3 and RDS protection.
//! - **Security Hub**: an `AWS::SecurityHub::Hub` with the default standards
//!   and consolidated control findings.
//! - **AWS Config**: the service role (AWS managed `AWS_ConfigRole` plus
//!   write access to its prefix of the logs bucket), an
//!   `AWS::Config::ConfigurationRecorder` recording every supported resource
//!   type including global ones (IAM), and an `AWS::Config::DeliveryChannel`
//!   writing under `config/` of the logs bucket.
//!
//! The logs bucket's policy is extended with the grants CloudTrail and
//! Config need ([`BucketGrant::CloudTrail`], [`BucketGrant::Config`]); the
//! trail and the delivery channel depend on the policy, because both services
//! check their access when they are created.
//!
//! One per account and region: a GuardDuty detector, a Security Hub hub,
//! and a Config recorder and delivery channel can exist only once per
//! account and region, so two stacks that both create them collide (the
//! second fails to deploy). Deploy the baseline once per account and region
//! (the KHS app does it in the production stage only, see
//! `docs/constructs/security_baseline.md`). A multi-region trail records
//! every region, so one per account is enough too.

use crate::cfn;
use crate::cfn::attributes::*;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Expr, Intrinsic};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::value::Value;
use crate::network::vpc::LOG_RETENTION_DAYS;
use crate::security::iam::{
    Condition, PolicyDocument, PolicyStatement, Principal, RoleProps, aws_managed_policy_arn,
    create_role,
};
use crate::storage::bucket::{Bucket, BucketGrant};

/// How often GuardDuty publishes updated findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingFrequency {
    /// Every 15 minutes.
    #[default]
    FifteenMinutes,
    /// Every hour.
    OneHour,
    /// Every six hours (GuardDuty's default).
    SixHours,
}

/// CloudTrail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailProps {
    /// The trail name (3–128 letters, digits, `.`, `_`, `-`).
    ///
    /// Default: - `<stack name>-trail`.
    pub trail_name: Option<String>,
    /// The key prefix in the logs bucket (no leading or trailing `/`).
    ///
    /// Default: `"cloudtrail"`.
    pub s3_key_prefix: String,
    /// Encrypt the log files with a customer managed KMS key created for the
    /// trail (readers then need `kms:Decrypt` on it).
    ///
    /// Default: `true`.
    pub kms_encryption: bool,
    /// Also deliver events to a CloudWatch Logs group kept this many days
    /// (one of CloudWatch Logs' retention values).
    ///
    /// Default: - no CloudWatch Logs delivery.
    pub cloudwatch_logs_retention_days: Option<u32>,
}

impl Default for TrailProps {
    fn default() -> Self {
        TrailProps {
            trail_name: None,
            s3_key_prefix: "cloudtrail".into(),
            kms_encryption: true,
            cloudwatch_logs_retention_days: None,
        }
    }
}

/// GuardDuty settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardDutyProps {
    /// How often findings are published.
    ///
    /// Default: [`FindingFrequency::FifteenMinutes`].
    pub finding_frequency: FindingFrequency,
    /// Watch S3 data events (S3 Protection).
    ///
    /// Default: `true`.
    pub s3_protection: bool,
    /// Watch RDS login activity (RDS Protection).
    ///
    /// Default: `true`.
    pub rds_protection: bool,
}

impl Default for GuardDutyProps {
    fn default() -> Self {
        GuardDutyProps {
            finding_frequency: FindingFrequency::FifteenMinutes,
            s3_protection: true,
            rds_protection: true,
        }
    }
}

/// Security Hub settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHubProps {
    /// Enable the default standards (AWS Foundational Security Best
    /// Practices and CIS).
    ///
    /// Default: `true`.
    pub default_standards: bool,
}

impl Default for SecurityHubProps {
    fn default() -> Self {
        SecurityHubProps {
            default_standards: true,
        }
    }
}

/// How often AWS Config delivers configuration snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotFrequency {
    /// Every hour.
    OneHour,
    /// Every 3 hours.
    ThreeHours,
    /// Every 6 hours.
    SixHours,
    /// Every 12 hours.
    TwelveHours,
    /// Every 24 hours.
    #[default]
    TwentyFourHours,
}

/// AWS Config settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProps {
    /// The key prefix in the logs bucket (no leading or trailing `/`).
    ///
    /// Default: `"config"`.
    pub s3_key_prefix: String,
    /// Record global resource types (IAM users, roles, policies). Record
    /// them in one region only, or they are counted (and billed) once per
    /// region.
    ///
    /// Default: `true`.
    pub include_global_resources: bool,
    /// How often snapshots are delivered.
    ///
    /// Default: [`SnapshotFrequency::TwentyFourHours`].
    pub snapshot_frequency: SnapshotFrequency,
}

impl Default for ConfigProps {
    fn default() -> Self {
        ConfigProps {
            s3_key_prefix: "config".into(),
            include_global_resources: true,
            snapshot_frequency: SnapshotFrequency::TwentyFourHours,
        }
    }
}

/// The props of [`SecurityBaseline`].
#[derive(Debug)]
pub struct SecurityBaselineProps<'a> {
    /// The bucket CloudTrail and Config write to; its policy gets their
    /// grants. It must be in the same stack. Required when `trail` or
    /// `config` is enabled.
    ///
    /// Default: - none (only GuardDuty and Security Hub possible).
    pub logs_bucket: Option<&'a mut Bucket>,
    /// CloudTrail.
    ///
    /// Default: - `Some(TrailProps::default())`.
    pub trail: Option<TrailProps>,
    /// GuardDuty.
    ///
    /// Default: - `Some(GuardDutyProps::default())`.
    pub guardduty: Option<GuardDutyProps>,
    /// Security Hub.
    ///
    /// Default: - `Some(SecurityHubProps::default())`.
    pub security_hub: Option<SecurityHubProps>,
    /// AWS Config.
    ///
    /// Default: - `Some(ConfigProps::default())`.
    pub config: Option<ConfigProps>,
}

impl<'a> SecurityBaselineProps<'a> {
    /// Every part enabled with its defaults, writing to `logs_bucket`.
    pub fn new(logs_bucket: &'a mut Bucket) -> Self {
        SecurityBaselineProps {
            logs_bucket: Some(logs_bucket),
            ..Self::default()
        }
    }
}

impl Default for SecurityBaselineProps<'_> {
    /// Every part enabled, no logs bucket yet (set one, or disable `trail`
    /// and `config`).
    fn default() -> Self {
        SecurityBaselineProps {
            logs_bucket: None,
            trail: Some(TrailProps::default()),
            guardduty: Some(GuardDutyProps::default()),
            security_hub: Some(SecurityHubProps::default()),
            config: Some(ConfigProps::default()),
        }
    }
}

/// The security baseline; see the module documentation for what it emits.
#[derive(Debug, Clone)]
pub struct SecurityBaseline {
    trail: Option<Handle<cfn::cloudtrail::Trail>>,
    detector: Option<Handle<cfn::guardduty::Detector>>,
    hub: Option<Handle<cfn::securityhub::Hub>>,
    recorder: Option<Handle<cfn::config::ConfigurationRecorder>>,
}

fn check_prefix(path: &ConstructPath, prop: &str, p: &str) -> Result<()> {
    let ok = !p.is_empty()
        && !p.starts_with('/')
        && !p.ends_with('/')
        && !p.contains("//")
        && p.len() <= 200
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must be 1..=200 letters, digits, '-', '_', '.', '/' without a leading or trailing '/', got {p:?}"
            ),
        ))
    }
}

impl SecurityBaseline {
    /// Adds the baseline at `scope/id`.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        props: SecurityBaselineProps<'_>,
    ) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();

        // Validate everything before adding anything.
        let trail_name = validate(&path, &stack_name, &props)?;

        let mut logs = props.logs_bucket;
        if logs.is_none() && (props.trail.is_some() || props.config.is_some()) {
            return Err(Error::invalid_prop(
                &path,
                "logs_bucket",
                "must be given when trail or config is enabled (they write to it), got none",
            ));
        }
        let target = LogsTarget {
            name: logs.as_ref().map_or_else(|| Value::from(""), |b| b.name()),
            arn: logs.as_ref().map_or_else(|| Value::from(""), |b| b.arn()),
            policy: logs.as_ref().map(|b| b.policy().logical_id().clone()),
        };

        let trail = match (&props.trail, &trail_name) {
            (Some(t), Some(name)) => {
                if let Some(b) = logs.as_deref_mut() {
                    b.add_grant(
                        &mut me,
                        BucketGrant::CloudTrail {
                            prefix: format!("{}/", t.s3_key_prefix),
                            trail_name: Some(name.clone()),
                        },
                    )?;
                }
                Some(add_trail(&mut me, t, name, &target)?)
            }
            _ => None,
        };

        let detector = match &props.guardduty {
            Some(g) => Some(guardduty(&mut me, g)?),
            None => None,
        };

        let hub = match &props.security_hub {
            Some(h) => Some(me.add(
                "SecurityHub",
                cfn::securityhub::Hub {
                    enable_default_standards: Some(h.default_standards.into()),
                    control_finding_generator: Some("SECURITY_CONTROL".into()),
                    auto_enable_controls: Some(true.into()),
                    ..cfn::securityhub::Hub::new()
                },
            )?),
            None => None,
        };

        let recorder = match &props.config {
            Some(c) => {
                if let Some(b) = logs {
                    b.add_grant(
                        &mut me,
                        BucketGrant::Config {
                            prefix: format!("{}/", c.s3_key_prefix),
                        },
                    )?;
                }
                Some(add_config(&mut me, c, &stack_name, &target)?)
            }
            None => None,
        };
        Ok(SecurityBaseline {
            trail,
            detector,
            hub,
            recorder,
        })
    }

    /// The trail, when enabled.
    pub fn trail(&self) -> Option<&Handle<cfn::cloudtrail::Trail>> {
        self.trail.as_ref()
    }

    /// The GuardDuty detector, when enabled.
    pub fn detector(&self) -> Option<&Handle<cfn::guardduty::Detector>> {
        self.detector.as_ref()
    }

    /// The Security Hub hub, when enabled.
    pub fn hub(&self) -> Option<&Handle<cfn::securityhub::Hub>> {
        self.hub.as_ref()
    }

    /// The Config recorder, when enabled.
    pub fn recorder(&self) -> Option<&Handle<cfn::config::ConfigurationRecorder>> {
        self.recorder.as_ref()
    }
}

/// Checks the props of a [`SecurityBaseline`] before anything is added;
/// returns the trail's name.
fn validate(
    path: &ConstructPath,
    stack_name: &str,
    props: &SecurityBaselineProps<'_>,
) -> Result<Option<String>> {
    let trail_name = props.trail.as_ref().map(|t| {
        t.trail_name
            .clone()
            .unwrap_or_else(|| format!("{stack_name}-trail"))
    });
    if let (Some(t), Some(name)) = (&props.trail, &trail_name) {
        let ok = (3..=128).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(Error::invalid_prop(
                path,
                "trail.trail_name",
                format!(
                    "must be 3..=128 letters, digits, '.', '_', '-', starting and ending with a letter or digit, got {name:?}"
                ),
            ));
        }
        check_prefix(path, "trail.s3_key_prefix", &t.s3_key_prefix)?;
        if let Some(d) = t.cloudwatch_logs_retention_days {
            if !LOG_RETENTION_DAYS.contains(&d) {
                return Err(Error::invalid_prop(
                    path,
                    "trail.cloudwatch_logs_retention_days",
                    format!(
                        "must be one of CloudWatch Logs' retention periods ({}), got {d}",
                        LOG_RETENTION_DAYS.map(|d| d.to_string()).join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(c) = &props.config {
        check_prefix(path, "config.s3_key_prefix", &c.s3_key_prefix)?;
    }
    Ok(trail_name)
}

/// The logs bucket the trail and the Config recorder write to, and its
/// policy (which they must wait for).
struct LogsTarget {
    name: Value<String>,
    arn: Value<String>,
    policy: Option<crate::core::logical_id::LogicalId>,
}

impl LogsTarget {
    fn after_policy(&self) -> ResourceOptions {
        ResourceOptions {
            depends_on: self.policy.iter().cloned().collect(),
            ..ResourceOptions::default()
        }
    }
}

/// The multi-region trail `name`, with its KMS key and CloudWatch Logs
/// delivery when asked.
fn add_trail(
    me: &mut Scope<'_>,
    t: &TrailProps,
    name: &str,
    target: &LogsTarget,
) -> Result<Handle<cfn::cloudtrail::Trail>> {
    let key = if t.kms_encryption {
        Some(trail_key(me, name)?)
    } else {
        None
    };
    let logs = match t.cloudwatch_logs_retention_days {
        Some(days) => Some(trail_logs(me, name, days)?),
        None => None,
    };
    me.add_with(
        "Trail",
        cfn::cloudtrail::Trail {
            trail_name: Some(name.into()),
            s3_key_prefix: Some(t.s3_key_prefix.as_str().into()),
            is_multi_region_trail: Some(true.into()),
            include_global_service_events: Some(true.into()),
            enable_log_file_validation: Some(true.into()),
            kms_key_id: key.as_ref().map(|k| k.attr_arn()),
            cloud_watch_logs_log_group_arn: logs.as_ref().map(|(g, _)| g.attr_arn()),
            cloud_watch_logs_role_arn: logs.as_ref().map(|(_, r)| r.attr_arn()),
            ..cfn::cloudtrail::Trail::new(target.name.clone(), true)
        },
        target.after_policy(),
    )
}

/// The trail's KMS key (and alias): CloudTrail of this account may encrypt
/// with it, for this trail only.
fn trail_key(me: &mut Scope<'_>, name: &str) -> Result<Handle<cfn::kms::Key>> {
    let trail_arn: Value<String> = Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{name}"
    ))
    .into();
    let policy = PolicyDocument::new([
        PolicyStatement::allow(["kms:*"], ["*"])
            .with_sid("AccountAdministersKeyThroughIam")
            .with_principal(Principal::account_root()),
        PolicyStatement::allow(["kms:GenerateDataKey*"], ["*"])
            .with_sid("CloudTrailEncryptsLogs")
            .with_principal(Principal::service("cloudtrail.amazonaws.com"))
            .with_condition(Condition::new(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                Intrinsic::sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"),
            ))
            .with_condition(Condition::new("StringEquals", "aws:SourceArn", trail_arn)),
        PolicyStatement::allow(["kms:DescribeKey"], ["*"])
            .with_sid("CloudTrailDescribesKey")
            .with_principal(Principal::service("cloudtrail.amazonaws.com")),
    ]);
    let key = me.add(
        "TrailKey",
        cfn::kms::Key {
            description: Some(format!("Encrypts the CloudTrail logs of {name}").into()),
            enable_key_rotation: Some(true.into()),
            key_policy: Some(policy.to_json()),
            ..cfn::kms::Key::new()
        },
    )?;
    me.add(
        "TrailKeyAlias",
        cfn::kms::Alias {
            alias_name: format!("alias/{name}").into(),
            target_key_id: key.ref_(),
        },
    )?;
    Ok(key)
}

/// The trail's CloudWatch Logs group and the role CloudTrail writes to it
/// with (its streams only).
fn trail_logs(
    me: &mut Scope<'_>,
    name: &str,
    days: u32,
) -> Result<(Handle<cfn::logs::LogGroup>, Handle<cfn::iam::Role>)> {
    let group_name = format!("/aws/cloudtrail/{name}");
    let group = me.add(
        "TrailLogGroup",
        cfn::logs::LogGroup {
            log_group_name: Some(group_name.as_str().into()),
            retention_in_days: Some(i64::from(days).into()),
            ..cfn::logs::LogGroup::new()
        },
    )?;
    let stream_arn: Value<String> = Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{group_name}:log-stream:*"
    ))
    .into();
    let role = create_role(
        me,
        "TrailLogsRole",
        RoleProps {
            description: Some(format!("CloudTrail {name} writes to {group_name}")),
            policy: PolicyDocument::new([PolicyStatement::allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [stream_arn],
            )]),
            ..RoleProps::new("cloudtrail.amazonaws.com")
        },
    )?;
    Ok((group, role))
}

/// The AWS Config recorder (every supported type), its role and its
/// delivery channel to the logs bucket.
fn add_config(
    me: &mut Scope<'_>,
    c: &ConfigProps,
    stack_name: &str,
    target: &LogsTarget,
) -> Result<Handle<cfn::config::ConfigurationRecorder>> {
    use cfn::config::delivery_channel as dc;
    let objects: Value<String> = Intrinsic::sub_with(
        format!(
            "${{Bucket}}/{}/AWSLogs/${{AWS::AccountId}}/Config/*",
            c.s3_key_prefix
        ),
        [("Bucket", Expr::from(target.arn.clone()))],
    )
    .into();
    let role =
        create_role(
            me,
            "ConfigRole",
            RoleProps {
                description: Some(format!("AWS Config recorder of {stack_name}")),
                managed_policy_arns: vec![aws_managed_policy_arn("service-role/AWS_ConfigRole")],
                policy: PolicyDocument::new([
                    PolicyStatement::allow(["s3:PutObject"], [objects]).with_condition(
                        Condition::new("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                    ),
                    PolicyStatement::allow(["s3:GetBucketAcl"], [target.arn.clone()]),
                ]),
                ..RoleProps::new("config.amazonaws.com")
            },
        )?;
    role.acknowledge(
        me,
        "iam-no-managed-policies",
        "AWS_ConfigRole is the service role policy AWS documents for AWS Config; it follows the resource types Config records.",
    )?;
    role.acknowledge(
        me,
        "iam-no-wildcard-permissions",
        "AWS Config chooses the object keys it writes below the fixed prefix config/AWSLogs/<account>/Config/ of the logs bucket; the wildcard covers only those keys.",
    )?;
    let recorder = me.add(
        "ConfigRecorder",
        cfn::config::ConfigurationRecorder {
            recording_group: Some(cfn::config::configuration_recorder::RecordingGroup {
                all_supported: Some(true.into()),
                include_global_resource_types: Some(c.include_global_resources.into()),
                ..Default::default()
            }),
            ..cfn::config::ConfigurationRecorder::new(role.attr_arn())
        },
    )?;
    let freq = match c.snapshot_frequency {
        SnapshotFrequency::OneHour => dc::DeliveryFrequency::OneHour,
        SnapshotFrequency::ThreeHours => dc::DeliveryFrequency::ThreeHours,
        SnapshotFrequency::SixHours => dc::DeliveryFrequency::SixHours,
        SnapshotFrequency::TwelveHours => dc::DeliveryFrequency::TwelveHours,
        SnapshotFrequency::TwentyFourHours => dc::DeliveryFrequency::TwentyFourHours,
    };
    me.add_with(
        "ConfigDeliveryChannel",
        cfn::config::DeliveryChannel {
            s3_key_prefix: Some(c.s3_key_prefix.as_str().into()),
            config_snapshot_delivery_properties: Some(dc::ConfigSnapshotDeliveryProperties {
                delivery_frequency: Some(freq.into()),
            }),
            ..cfn::config::DeliveryChannel::new(target.name.clone())
        },
        target.after_policy().depends_on(&recorder),
    )?;
    Ok(recorder)
}

/// The GuardDuty detector: enabled, the finding frequency, S3 and RDS
/// protection.
fn guardduty(me: &mut Scope<'_>, g: &GuardDutyProps) -> Result<Handle<cfn::guardduty::Detector>> {
    use cfn::guardduty::detector as gd;
    let freq = match g.finding_frequency {
        FindingFrequency::FifteenMinutes => gd::FindingPublishingFrequency::FifteenMinutes,
        FindingFrequency::OneHour => gd::FindingPublishingFrequency::OneHour,
        FindingFrequency::SixHours => gd::FindingPublishingFrequency::SixHours,
    };
    let status = |on: bool| {
        if on {
            gd::CfnFeatureConfigurationStatus::Enabled
        } else {
            gd::CfnFeatureConfigurationStatus::Disabled
        }
    };
    let feature = |name, on| gd::CfnFeatureConfiguration {
        name: Value::Literal(name),
        status: Value::Literal(status(on)),
        additional_configuration: None,
    };
    me.add(
        "GuardDuty",
        cfn::guardduty::Detector {
            finding_publishing_frequency: Some(freq.into()),
            features: Some(vec![
                feature(
                    gd::CfnFeatureConfigurationName::S3DataEvents,
                    g.s3_protection,
                ),
                feature(
                    gd::CfnFeatureConfigurationName::RdsLoginEvents,
                    g.rds_protection,
                ),
            ]),
            ..cfn::guardduty::Detector::new(true)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::storage::bucket::{BucketName, BucketProps};
    use serde_json::{Value as J, json};

    fn stack_and_bucket() -> (Stack, Bucket) {
        let mut st = Stack::new(
            "khs-test",
            StackProps::new(Environment::region("us-east-1")),
        )
        .unwrap();
        let logs = Bucket::new(
            &mut st,
            "Logs",
            BucketProps {
                name: BucketName::unique("khs-crm-logs"),
                ..BucketProps::default()
            },
        )
        .unwrap();
        (st, logs)
    }

    fn synth(st: &Stack) -> J {
        serde_json::to_value(st.synth().unwrap()).unwrap()
    }

    fn sids(t: &J) -> Vec<String> {
        t["Resources"]["LogsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str().map(String::from))
            .collect()
    }

    #[test]
    fn baseline_records_everything_into_the_logs_bucket() {
        let (mut st, mut logs) = stack_and_bucket();
        let b = SecurityBaseline::new(&mut st, "Security", SecurityBaselineProps::new(&mut logs))
            .unwrap();
        let t = synth(&st);
        let r = &t["Resources"];
        let trail = &r[b.trail().unwrap().logical_id().as_str()];
        assert_eq!(trail["DependsOn"], json!(["LogsPolicy"]));
        let p = &trail["Properties"];
        assert_eq!(p["TrailName"], "khs-test-trail");
        assert_eq!(p["IsLogging"], true);
        assert_eq!(p["IsMultiRegionTrail"], true);
        assert_eq!(p["EnableLogFileValidation"], true);
        assert_eq!(p["IncludeGlobalServiceEvents"], true);
        assert_eq!(p["S3BucketName"], json!({"Ref": "LogsBucket"}));
        assert_eq!(p["S3KeyPrefix"], "cloudtrail");
        assert_eq!(
            p["KMSKeyId"],
            json!({"Fn::GetAtt": ["SecurityTrailKey", "Arn"]})
        );
        assert!(p.get("CloudWatchLogsLogGroupArn").is_none());
        let key = &r["SecurityTrailKey"]["Properties"]["KeyPolicy"]["Statement"];
        assert_eq!(key[1]["Principal"]["Service"], "cloudtrail.amazonaws.com");
        let s = sids(&t);
        for want in ["CloudTrailAclCheck", "CloudTrailWrite", "ConfigAclCheck"] {
            assert!(s.iter().any(|x| x == want), "{want} missing from {s:?}");
        }
        let gd = &r[b.detector().unwrap().logical_id().as_str()]["Properties"];
        assert_eq!(gd["Enable"], true);
        assert_eq!(gd["FindingPublishingFrequency"], "FIFTEEN_MINUTES");
        assert_eq!(
            gd["Features"],
            json!([{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}, {"Name": "RDS_LOGIN_EVENTS", "Status": "ENABLED"}])
        );
        let hub = &r[b.hub().unwrap().logical_id().as_str()]["Properties"];
        assert_eq!(hub["EnableDefaultStandards"], true);
        assert_eq!(hub["ControlFindingGenerator"], "SECURITY_CONTROL");
        let rec = &r[b.recorder().unwrap().logical_id().as_str()]["Properties"];
        assert_eq!(
            rec["RecordingGroup"],
            json!({"AllSupported": true, "IncludeGlobalResourceTypes": true})
        );
        assert_eq!(
            rec["RoleARN"],
            json!({"Fn::GetAtt": ["SecurityConfigRole", "Arn"]})
        );
        let role = &r["SecurityConfigRole"]["Properties"];
        assert_eq!(
            role["ManagedPolicyArns"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"}])
        );
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "config.amazonaws.com"
        );
        let ch = &r["SecurityConfigDeliveryChannel"];
        assert_eq!(
            ch["DependsOn"],
            json!(["LogsPolicy", "SecurityConfigRecorder"])
        );
        assert_eq!(
            ch["Properties"]["S3BucketName"],
            json!({"Ref": "LogsBucket"})
        );
        assert_eq!(ch["Properties"]["S3KeyPrefix"], "config");
        assert_eq!(
            ch["Properties"]["ConfigSnapshotDeliveryProperties"]["DeliveryFrequency"],
            "TwentyFour_Hours"
        );
        assert!(
            crate::security::iam::check_template(&t).is_empty(),
            "{:?}",
            crate::security::iam::check_template(&t)
        );
    }

    #[test]
    fn parts_can_be_left_out() {
        let (mut st, mut logs) = stack_and_bucket();
        let b = SecurityBaseline::new(
            &mut st,
            "Security",
            SecurityBaselineProps {
                trail: None,
                security_hub: None,
                config: None,
                ..SecurityBaselineProps::new(&mut logs)
            },
        )
        .unwrap();
        assert!(b.detector().is_some());
        assert!(b.trail().is_none() && b.hub().is_none() && b.recorder().is_none());
        let t = synth(&st);
        assert!(
            !sids(&t)
                .iter()
                .any(|s| s.starts_with("CloudTrail") || s.starts_with("Config"))
        );
    }

    #[test]
    fn trail_can_also_deliver_to_cloudwatch_logs_without_kms() {
        let (mut st, mut logs) = stack_and_bucket();
        SecurityBaseline::new(
            &mut st,
            "Security",
            SecurityBaselineProps {
                trail: Some(TrailProps {
                    cloudwatch_logs_retention_days: Some(90),
                    kms_encryption: false,
                    ..TrailProps::default()
                }),
                ..SecurityBaselineProps::new(&mut logs)
            },
        )
        .unwrap();
        let t = synth(&st);
        let p = &t["Resources"]["SecurityTrail"]["Properties"];
        assert!(p.get("KMSKeyId").is_none());
        assert_eq!(
            p["CloudWatchLogsLogGroupArn"],
            json!({"Fn::GetAtt": ["SecurityTrailLogGroup", "Arn"]})
        );
        assert_eq!(
            p["CloudWatchLogsRoleArn"],
            json!({"Fn::GetAtt": ["SecurityTrailLogsRole", "Arn"]})
        );
        assert_eq!(
            t["Resources"]["SecurityTrailLogGroup"]["Properties"]["RetentionInDays"],
            90
        );
    }

    fn err(edit: impl FnOnce(SecurityBaselineProps<'_>) -> SecurityBaselineProps<'_>) -> String {
        let (mut st, mut logs) = stack_and_bucket();
        SecurityBaseline::new(
            &mut st,
            "Security",
            edit(SecurityBaselineProps::new(&mut logs)),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn fails_when_trail_or_config_has_no_logs_bucket() {
        for (trail, config) in [(true, false), (false, true)] {
            let mut st = Stack::new(
                "khs-test",
                StackProps::new(Environment::region("us-east-1")),
            )
            .unwrap();
            let e = SecurityBaseline::new(
                &mut st,
                "Security",
                SecurityBaselineProps {
                    trail: trail.then(TrailProps::default),
                    config: config.then(ConfigProps::default),
                    ..SecurityBaselineProps::default()
                },
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("khs-test/Security: logs_bucket must be given"),
                "{e}"
            );
        }
        let mut st = Stack::new(
            "khs-test",
            StackProps::new(Environment::region("us-east-1")),
        )
        .unwrap();
        let b = SecurityBaseline::new(
            &mut st,
            "Security",
            SecurityBaselineProps {
                trail: None,
                config: None,
                ..SecurityBaselineProps::default()
            },
        )
        .unwrap();
        assert!(b.detector().is_some() && b.hub().is_some());
    }

    #[test]
    fn fails_when_the_trail_name_is_invalid() {
        for bad in ["ab", "-trail", "my trail"] {
            let e = err(|p| SecurityBaselineProps {
                trail: Some(TrailProps {
                    trail_name: Some(bad.into()),
                    ..TrailProps::default()
                }),
                ..p
            });
            assert!(
                e.starts_with("khs-test/Security: trail.trail_name must be"),
                "{e}"
            );
        }
    }

    #[test]
    fn fails_when_a_prefix_is_invalid() {
        let e = err(|p| SecurityBaselineProps {
            trail: Some(TrailProps {
                s3_key_prefix: "cloudtrail/".into(),
                ..TrailProps::default()
            }),
            ..p
        });
        assert!(
            e.starts_with("khs-test/Security: trail.s3_key_prefix must be"),
            "{e}"
        );
        let e = err(|p| SecurityBaselineProps {
            config: Some(ConfigProps {
                s3_key_prefix: String::new(),
                ..ConfigProps::default()
            }),
            ..p
        });
        assert!(
            e.starts_with("khs-test/Security: config.s3_key_prefix must be"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_log_retention_is_not_a_cloudwatch_value() {
        let e = err(|p| SecurityBaselineProps {
            trail: Some(TrailProps {
                cloudwatch_logs_retention_days: Some(31),
                ..TrailProps::default()
            }),
            ..p
        });
        assert!(
            e.starts_with("khs-test/Security: trail.cloudwatch_logs_retention_days must be one of"),
            "{e}"
        );
        assert!(e.contains("got 31"), "{e}");
    }
}
