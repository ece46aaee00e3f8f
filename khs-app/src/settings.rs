//! Stage settings: what differs between environments and is not code.
//!
//! One TOML file per stage under `khs-app/stages/` is deserialized into
//! [`StageSettings`]. Unknown or missing fields are errors that name the file
//! and the field; `settings.schema.json` beside the files (generated with
//! schemars, printed by `synth --schema`) lets editors complete and check
//! them.

use std::collections::BTreeMap;
use std::path::Path;

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::Deserialize;

/// The settings of one stage (one set of stacks).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSettings {
    /// The stage name (`production`, `staging`), used in tags and names.
    pub stage: String,
    /// The main stack's name, kebab-case (`khs-crm-prod`).
    pub stack_name: String,
    /// The AWS account id (12 digits). Omit to use the account of the
    /// credentials at deploy time.
    #[serde(default)]
    pub account: Option<String>,
    /// The region of the stage's stacks (`us-east-1`).
    pub region: String,
    /// Protect the stacks from deletion and guard stateful resources with a
    /// stack policy.
    #[serde(default)]
    pub termination_protection: bool,
    /// Cost allocation and ownership tags put on every taggable resource.
    /// Must contain `Environment`, `Project` and `Owner`.
    pub tags: BTreeMap<String, String>,
    /// The network.
    pub network: NetworkSettings,
    /// The logs and backups buckets.
    pub storage: StorageSettings,
    /// The frontend: CloudFront, its bucket, certificate, WAF and DNS.
    pub frontend: FrontendSettings,
    /// Alerts, monitoring, backup, security baseline and budget (ops).
    pub operations: OperationsSettings,
    // --- Application tier (apptier) ---
    /// The API service: ECS cluster and service, load balancer, scaling.
    pub api: ApiSettings,
    /// The PostgreSQL database.
    pub database: DatabaseSettings,
    /// The Redis cache.
    pub cache: CacheSettings,
}

/// The network of a stage.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSettings {
    /// The VPC's IPv4 CIDR block.
    #[schemars(with = "String")]
    pub cidr: Ipv4Net,
    /// The availability zones, one public and one private subnet in each.
    pub availability_zones: Vec<String>,
    /// The public subnets' CIDRs, one per availability zone, in order.
    #[schemars(with = "Vec<String>")]
    pub public_subnets: Vec<Ipv4Net>,
    /// The private subnets' CIDRs, one per availability zone, in order.
    #[schemars(with = "Vec<String>")]
    pub private_subnets: Vec<Ipv4Net>,
    /// `per-az` (one NAT gateway in each zone, highly available) or
    /// `single` (one shared NAT gateway, cheaper).
    pub nat_gateways: NatSetting,
    /// How long VPC flow logs are kept, in days.
    pub flow_log_retention_days: u32,
    /// Known bad CIDRs denied by the network ACLs.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub deny_cidrs: Vec<Ipv4Net>,
    /// Interface VPC endpoints for the AWS services the API tasks call
    /// (ECR, CloudWatch Logs, Secrets Manager, X-Ray), beside NAT (the S3
    /// gateway endpoint is always there). Each costs about USD 7.30 per zone
    /// and month.
    #[serde(default)]
    pub vpc_endpoints: bool,
}

/// The logs and backups buckets of a stage (names are
/// `<prefix>-<account id>-<region>`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// Name prefix of the logs bucket (`khs-crm-logs`).
    pub logs_bucket_prefix: String,
    /// Days before log objects are deleted (Standard-IA after 30 days and
    /// Glacier after 90 when they live long enough).
    pub logs_expiration_days: u32,
    /// Name prefix of the backups bucket (`khs-crm-backups`).
    pub backups_bucket_prefix: String,
    /// Days before backup objects are deleted.
    pub backups_expiration_days: u32,
    /// Move backups to S3 Intelligent-Tiering at once instead of
    /// Standard-IA after 30 days.
    pub backups_intelligent_tiering: bool,
}

/// The frontend of a stage.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrontendSettings {
    /// Name prefix of the frontend bucket (`khs-crm-frontend-prod`).
    pub bucket_prefix: String,
    /// The site's domain name (`app.khscrm.com`).
    pub domain: String,
    /// The Route 53 public hosted zone holding `domain`: its id (`Z…`).
    pub hosted_zone_id: String,
    /// The hosted zone's domain (`khscrm.com`).
    pub hosted_zone_name: String,
    /// CloudFront price class.
    pub price_class: PriceClassSetting,
    /// WAF rate limit: requests per 5 minutes per IP (at least 10).
    pub waf_rate_limit: u32,
    /// CIDRs the WAF blocks.
    #[serde(default)]
    pub waf_ip_deny: Vec<String>,
}

// --- Application tier (apptier) ------------------------------------------

/// The API service of a stage (`ApiService`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The ECS cluster's name (`khs-crm-prod`).
    pub cluster_name: String,
    /// The ECS service's name (`khs-crm-api`); logs go to `/aws/ecs/<name>`.
    pub service_name: String,
    /// The ECR repository's name (`khs-crm-api`).
    pub repository_name: String,
    /// Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.
    pub cpu: u32,
    /// Task memory in MiB, a size Fargate allows with `cpu` (512 CPU: 1024..=4096).
    pub memory_mib: u32,
    /// Fewest tasks (also the desired count at deploy).
    pub min_tasks: u32,
    /// Most tasks.
    pub max_tasks: u32,
    /// Days the container logs are kept (1, 3, 5, 7, 14, 30, 60, 90, …).
    pub log_retention_days: u32,
    /// Protect the load balancer from deletion.
    pub deletion_protection: bool,
    /// Scheduled capacity changes.
    #[serde(default)]
    pub schedules: Vec<ScheduleSetting>,
    /// Deploy blue/green (ECS native): the new tasks take the traffic, the
    /// old ones stay up for the bake time, the error alarms roll back.
    /// Absent: rolling deployments with the circuit breaker.
    #[serde(default)]
    pub blue_green: Option<BlueGreenSetting>,
    /// Tasks that always run on demand; tasks above this many run on Fargate
    /// Spot. Absent: every task on demand.
    #[serde(default)]
    pub on_demand_base_tasks: Option<u32>,
}

/// Blue/green deployments of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlueGreenSetting {
    /// Minutes the old tasks stay up after the switch (0..=1440).
    pub bake_time_minutes: u32,
}

/// A scheduled change of the task range.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSetting {
    /// The action's name (`scale-up-morning`).
    pub name: String,
    /// An AWS cron expression in UTC with six fields and one `?` day field:
    /// `cron(0 6 ? * MON-FRI *)`, not the Unix form `cron(0 6 * * MON-FRI)`.
    pub cron: String,
    /// The new minimum task count.
    pub min_tasks: u32,
    /// The new maximum task count.
    pub max_tasks: u32,
}

/// The PostgreSQL database of a stage (`Database`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// The instance class (`db.t3.small`).
    pub instance_class: String,
    /// Allocated gp3 storage in GiB (at least 20).
    pub storage_gib: u32,
    /// A standby in a second zone with automatic failover.
    pub multi_az: bool,
    /// Days automated backups are kept (1..=35).
    pub backup_retention_days: u32,
    /// Protect the instance from deletion.
    pub deletion_protection: bool,
    /// One read replica per zone listed (zones of `network.availability_zones`).
    #[serde(default)]
    pub read_replica_availability_zones: Vec<String>,
    /// Stop the instance outside working hours (non-production): stop and
    /// start schedules (AWS cron, UTC). Absent: always running.
    #[serde(default)]
    pub auto_stop: Option<AutoStopSetting>,
}

/// When a non-production database is stopped and started.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoStopSetting {
    /// When to stop (`cron(0 4 ? * TUE-SAT *)`).
    pub stop: String,
    /// When to start (`cron(0 12 ? * MON-FRI *)`).
    pub start: String,
}

/// The Redis cache of a stage (`Cache`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// The node type (`cache.t3.micro`).
    pub node_type: String,
    /// Nodes: a primary plus replicas (1..=6); with 2 or more, automatic
    /// failover and Multi-AZ are on.
    pub nodes: u32,
    /// Days daily snapshots are kept (0..=35; 0 turns snapshots off).
    pub snapshot_retention_days: u32,
}

/// CloudFront price class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum PriceClassSetting {
    /// North America and Europe.
    #[serde(rename = "PriceClass_100")]
    PriceClass100,
    /// Adds Asia, the Middle East and Africa.
    #[serde(rename = "PriceClass_200")]
    PriceClass200,
    /// Every edge location.
    #[serde(rename = "PriceClass_All")]
    All,
}

/// NAT gateway layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NatSetting {
    /// One NAT gateway per availability zone.
    PerAz,
    /// One NAT gateway shared by all zones.
    Single,
}

// --- Operations settings (ops) ----------------------------------------------

/// Alerts, monitoring, backup, security baseline and budget of a stage.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationsSettings {
    /// E-mail addresses subscribed to the `alerts-critical` topic.
    #[serde(default)]
    pub critical_emails: Vec<String>,
    /// E-mail addresses subscribed to the `alerts-warning` topic (which also
    /// receives the budget notifications).
    #[serde(default)]
    pub warning_emails: Vec<String>,
    /// The monthly cost budget in USD (notifications at 80 % actual and
    /// 100 % forecasted spend).
    pub monthly_budget_usd: f64,
    /// Count only costs tagged `Environment = <this stage's tag>` (the tag
    /// must be activated as a cost allocation tag in Billing); `false`
    /// counts the whole account.
    #[serde(default)]
    pub budget_by_environment_tag: bool,
    /// The share of API requests X-Ray traces beyond the first each second
    /// (0–1).
    pub tracing_fixed_rate: f64,
    /// AWS Backup.
    pub backup: BackupSettings,
    /// The security baseline (GuardDuty, Security Hub and Config are one per
    /// account and region; the trail is multi-region).
    pub security: SecuritySettings,
    /// A Route 53 health check of `https://<frontend.domain>/api/health`
    /// with an alarm to the critical topic (region failure detection). The
    /// stage's region must be us-east-1, where Route 53 publishes its
    /// metrics.
    #[serde(default)]
    pub region_health_check: bool,
}

/// AWS Backup settings of a stage.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    /// Days the daily (02:00 UTC) database backups are kept.
    pub database_retention_days: u32,
    /// Days the daily (03:00 UTC) application bucket backups are kept.
    pub application_retention_days: u32,
    /// The region database backups are copied to (a `<stack>-backup-dr`
    /// stack holds the vault there and the region-failover runbook); omit
    /// for no cross-region copy.
    #[serde(default)]
    pub dr_region: Option<String>,
    /// Days the daily (04:00 UTC) configuration backups are kept: the
    /// stage's CloudFormation stack (template and the resources AWS Backup
    /// supports). Omit for no configuration tier.
    #[serde(default)]
    pub configuration_retention_days: Option<u32>,
}

/// Which parts of the security baseline a stage deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// A multi-region CloudTrail trail to the logs bucket (one per account).
    pub cloudtrail: bool,
    /// A GuardDuty detector (one per account and region).
    pub guardduty: bool,
    /// Security Hub with the default standards (one per account and region).
    pub security_hub: bool,
    /// AWS Config recorder and delivery channel (one per account and region).
    pub config: bool,
}

/// The tags every stage must carry (cost allocation).
pub const REQUIRED_TAGS: [&str; 3] = ["Environment", "Project", "Owner"];

/// An error reading stage settings: names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct SettingsError {
    /// The settings file.
    pub file: String,
    /// What is wrong (field and what is allowed).
    pub message: String,
}

impl StageSettings {
    /// Parses and checks the settings in `text`, read from `file`.
    pub fn parse(file: &str, text: &str) -> Result<Self, SettingsError> {
        let err = |message: String| SettingsError {
            file: file.to_string(),
            message,
        };
        let s: StageSettings =
            toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        for t in REQUIRED_TAGS {
            if !s.tags.contains_key(t) {
                return Err(err(format!(
                    "tags: missing {t:?}; every stage needs the cost allocation tags {}",
                    REQUIRED_TAGS.join(", ")
                )));
            }
        }
        if let Some(a) = &s.account
            && (a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(err(format!("account: must be 12 digits, got {a:?}")));
        }
        if let Some(a) = &s.database.auto_stop {
            for (field, cron) in [("stop", &a.stop), ("start", &a.start)] {
                if let Err(e) = khs_constructs::ops::Cron::parse("", "", cron) {
                    let message = match e {
                        khs_constructs::Error::InvalidProp { message, .. } => message,
                        other => other.to_string(),
                    };
                    return Err(err(format!("database.auto_stop.{field}: {message}")));
                }
            }
        }
        // Application tier (apptier): schedules are checked here so that a
        // Unix-style cron names the file and the field.
        for (i, sch) in s.api.schedules.iter().enumerate() {
            if let Err(e) = khs_constructs::ops::Cron::parse("", "", &sch.cron) {
                let message = match e {
                    khs_constructs::Error::InvalidProp { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(err(format!("api.schedules[{i}].cron: {message}")));
            }
        }
        Ok(s)
    }

    /// Reads settings from a file.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The JSON Schema of the settings files.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(StageSettings);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../stages/production.toml");

    #[test]
    fn every_committed_stage_file_parses() {
        for (file, text) in crate::STAGE_FILES {
            StageSettings::parse(file, text).unwrap();
        }
    }

    #[test]
    fn committed_schema_is_current() {
        let committed = include_str!("../stages/settings.schema.json");
        assert!(
            committed == StageSettings::json_schema(),
            "khs-app/stages/settings.schema.json is stale: run `cargo run --bin synth -- --schema > khs-app/stages/settings.schema.json`"
        );
    }

    #[test]
    fn fails_when_a_field_is_unknown_naming_file_and_field() {
        let text = GOOD.replace(
            "stage = \"production\"",
            "stage = \"production\"\nstak_name = \"x\"",
        );
        let e = StageSettings::parse("stages/p.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("stages/p.toml: "), "{e}");
        assert!(e.contains("unknown field `stak_name`"), "{e}");
        assert!(e.contains("expected one of"), "{e}");
    }

    #[test]
    fn fails_when_a_field_is_missing_or_malformed() {
        let e = StageSettings::parse("p.toml", &GOOD.replace("region = \"us-east-1\"\n", ""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `region`"), "{e}");
        let e = StageSettings::parse("p.toml", &GOOD.replace("10.0.0.0/16", "10.0.0.0/33"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml: ") && e.contains("cidr"), "{e}");
        let e = StageSettings::parse("p.toml", &GOOD.replace("\"per-az\"", "\"two\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("per-az") && e.contains("single"), "{e}");
    }

    #[test]
    fn fails_when_a_schedule_uses_the_unix_cron_form() {
        let e = StageSettings::parse(
            "p.toml",
            &GOOD.replace("cron(0 6 ? * MON-FRI *)", "cron(0 6 * * MON-FRI)"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("p.toml: api.schedules[0].cron: must have the six fields"),
            "{e}"
        );
        assert!(e.contains("write \"cron(0 6 ? * MON-FRI *)\""), "{e}");
    }

    #[test]
    fn fails_when_an_auto_stop_uses_the_unix_cron_form() {
        let staging = include_str!("../stages/staging.toml");
        let e = StageSettings::parse(
            "s.toml",
            &staging.replace("cron(0 4 ? * TUE-SAT *)", "cron(0 4 * * TUE-SAT)"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("s.toml: database.auto_stop.stop: must have the six fields"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_cost_allocation_tag_is_missing() {
        let e = StageSettings::parse("p.toml", &GOOD.replace("Owner = \"khs-platform\"\n", ""))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.toml: tags: missing \"Owner\"; every stage needs the cost allocation tags Environment, Project, Owner"
        );
    }
}
