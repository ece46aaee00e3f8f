//! The operations block of a stage: alert topics, alarms and dashboard,
//! X-Ray, AWS Backup (with the cross-region DR vault stack), the security
//! baseline and the cost budget.
//!
//! [`add`] takes what the other blocks built as [`OpsInputs`] (typed metric
//! dimensions, handles, the logs bucket) and returns the extra stacks it
//! needs (the DR vault stack in another region).

use khs_constructs::data::{
    BackupPlanSpec, BackupResource, BackupRule, BackupVaultProps, CopyAction, dr_vault_stack,
};
use khs_constructs::ops::Cron;
use khs_constructs::ops::{
    AlarmThresholds, CacheMetrics, FreeStorage, LoadBalancerMetrics, ServiceMetrics,
};
use khs_constructs::prelude::*;
use khs_constructs::security::{ConfigProps, GuardDutyProps, SecurityHubProps, TrailProps};
use khs_constructs::storage::Bucket;

use crate::settings::StageSettings;

/// What the operations block watches and protects, from the other blocks.
/// Every field may be absent; what is absent is not watched or backed up.
#[derive(Default)]
pub struct OpsInputs<'a> {
    /// The API's load balancer and target group.
    pub load_balancer: Option<LoadBalancerMetrics>,
    /// The API's ECS service.
    pub service: Option<ServiceMetrics>,
    /// The database (metrics and the database backup plan).
    pub database: Option<&'a Database>,
    /// The cache nodes.
    pub cache: Option<CacheMetrics>,
    /// Buckets of the application backup plan (versioned).
    pub application_buckets: Vec<&'a Bucket>,
    /// The logs bucket CloudTrail and Config write to.
    pub logs_bucket: Option<&'a mut Bucket>,
}

/// The service name of the KHS CRM API's X-Ray segment
/// (`AWSXRay.express.openSegment("KHS-CRM-API")` in the application).
pub const KHS_API_SEGMENT: &str = "KHS-CRM-API";
/// The title of the stage's dashboard.
pub const DASHBOARD_TITLE: &str = "KHS CRM";

/// The seed's database backup time (02:00 UTC).
pub const DATABASE_BACKUP_HOUR: u32 = 2;
/// The seed's application backup time (03:00 UTC).
pub const APPLICATION_BACKUP_HOUR: u32 = 3;

/// What [`add`] made that the rest of the stage needs.
pub struct OpsOutput {
    /// The extra stacks (the DR vault stack) to add to the app before the
    /// stage's stack.
    pub stacks: Vec<Stack>,
    /// The alarms and dashboard (a blue/green deployment waits for its
    /// rollback alarms).
    pub monitoring: Monitoring,
}

/// Adds the operations constructs to `stack`.
pub fn add(
    stack: &mut Stack,
    s: &StageSettings,
    inputs: OpsInputs<'_>,
) -> Result<OpsOutput, khs_constructs::Error> {
    let ops = &s.operations;
    let mut extra = Vec::new();

    // Alerts: alerts-critical / alerts-warning, KMS key CloudWatch and
    // Budgets may use.
    let alerts = AlertTopics::new(
        stack,
        "Alerts",
        AlertTopicsProps {
            critical_emails: ops.critical_emails.clone(),
            warning_emails: ops.warning_emails.clone(),
            ..AlertTopicsProps::default()
        },
    )?;

    // Alarms, dashboard, X-Ray.
    let mut tracing = TracingProps::new(KHS_API_SEGMENT);
    let mut names = format!("{}-api", s.stack_name);
    names.truncate(32);
    tracing.rule_name = Some(names.clone());
    tracing.group_name = Some(names);
    tracing.fixed_rate = ops.tracing_fixed_rate;
    let monitoring = Monitoring::new(
        stack,
        "Monitoring",
        MonitoringProps {
            load_balancer: inputs.load_balancer,
            service: inputs.service,
            database: inputs.database.map(Database::metrics),
            cache: inputs.cache,
            tracing: Some(tracing),
            thresholds: alarm_thresholds(),
            dashboard_title: Some(DASHBOARD_TITLE.to_string()),
            ..MonitoringProps::new(&alerts)
        },
    )?;

    // Budget: 80 % actual / 100 % forecast to the warning topic.
    let mut budget = BudgetProps::new(ops.monthly_budget_usd, alerts.warning());
    if ops.budget_by_environment_tag
        && let Some(env) = s.tags.get("Environment")
    {
        budget
            .cost_filter_tags
            .insert("Environment".to_string(), env.clone());
    }
    Budget::new(stack, "Budget", budget)?;

    // Backup: database plan (02:00, copied to the DR region), application
    // plan (03:00). The seed's configuration tier (Terraform state,
    // CloudFormation templates, Parameter Store) has no AWS Backup resource
    // in this app; see docs/constructs/backup.md.
    let b = &ops.backup;
    let mut plans = Vec::new();
    if let Some(db) = inputs.database {
        let mut rule = BackupRule::new(
            "daily",
            Cron::daily_at(DATABASE_BACKUP_HOUR, 0)?,
            b.database_retention_days,
        );
        if let Some(region) = &b.dr_region {
            let (dr, vault) = dr_vault_stack(stack, region, BackupVaultProps::default())?;
            extra.push(dr);
            rule.copy_to.push(CopyAction {
                vault,
                delete_after_days: None,
            });
        }
        plans.push(BackupPlanSpec {
            id: "Database".into(),
            rules: vec![rule],
            resources: vec![BackupResource::Database(db.instance().clone())],
        });
    }
    if !inputs.application_buckets.is_empty() {
        plans.push(BackupPlanSpec {
            id: "Application".into(),
            rules: vec![BackupRule::new(
                "daily",
                Cron::daily_at(APPLICATION_BACKUP_HOUR, 0)?,
                b.application_retention_days,
            )],
            resources: inputs
                .application_buckets
                .into_iter()
                .map(|b| BackupResource::Bucket(b.bucket().clone()))
                .collect(),
        });
    }
    if !plans.is_empty() {
        Backup::new(
            stack,
            "Backup",
            BackupProps {
                plans,
                ..BackupProps::default()
            },
        )?;
    }

    // Security baseline (per account and region; see the stage settings).
    let sec = ops.security;
    if sec.cloudtrail || sec.guardduty || sec.security_hub || sec.config {
        SecurityBaseline::new(
            stack,
            "Security",
            SecurityBaselineProps {
                trail: sec.cloudtrail.then(TrailProps::default),
                guardduty: sec.guardduty.then(GuardDutyProps::default),
                security_hub: sec.security_hub.then(SecurityHubProps::default),
                config: sec.config.then(ConfigProps::default),
                logs_bucket: inputs.logs_bucket,
            },
        )?;
    }

    let mut out = stack.as_scope();
    out.add_output(
        "AlertsCriticalTopicArn",
        Output::new("SNS topic of critical alerts", alerts.critical().ref_()),
    )?;
    out.add_output(
        "AlertsWarningTopicArn",
        Output::new(
            "SNS topic of warnings and budget notifications",
            alerts.warning().ref_(),
        ),
    )?;
    Ok(OpsOutput {
        stacks: extra,
        monitoring,
    })
}

/// The alarm thresholds of the KHS runbook: the seed's `Alarms` section
/// (`HighErrorRate` 10 per 5 minutes over 2 periods, `HighLatency` 1000 ms
/// over 3, `DatabaseCPU` 80 % over 2) and the app's own figures for what the
/// seed does not give.
fn alarm_thresholds() -> AlarmThresholds {
    AlarmThresholds {
        target_5xx_count: 10.0,
        target_response_time_seconds: 1.0,
        database_cpu_percent: 80.0,
        // Alarm when less than 10 % of the allocated storage is free.
        database_free_storage: FreeStorage::PercentOfAllocated(10.0),
        cache_engine_cpu_percent: 80.0,
        cache_memory_percent: 80.0,
        // Above the API's scale-out targets (70 % CPU, 80 % memory).
        service_utilization_percent: 90.0,
    }
}
