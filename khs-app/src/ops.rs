//! The operations block of a stage: alert topics, alarms and dashboard,
//! X-Ray, AWS Backup (with the cross-region DR vault stack), the security
//! baseline and the cost budget.
//!
//! [`add`] takes what the other blocks built as [`OpsInputs`] (typed metric
//! dimensions, handles, the logs bucket) and returns the extra stacks it
//! needs (the DR vault stack in another region).

use khs_constructs::data::{
    BackupPlanSpec, BackupResource, BackupRule, BackupVaultProps, CopyAction, dr_vault_stack,
    region_restore_runbook,
};
use khs_constructs::network::{HealthCheckRegion, Route53HealthCheck, Route53HealthCheckProps};
use khs_constructs::ops::Cron;
use khs_constructs::ops::{Alarm, AlarmProps, ComparisonOperator, Runbook, TreatMissingData};
use khs_constructs::ops::{AlarmThresholds, CacheMetrics, LoadBalancerMetrics, ServiceMetrics};
use khs_constructs::prelude::*;
use khs_constructs::security::kms::{EncryptionKey, EncryptionKeyProps};
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
/// The seed's configuration backup time (04:00 UTC).
pub const CONFIGURATION_BACKUP_HOUR: u32 = 4;
/// The API's health path the Route 53 health check requests.
pub const HEALTH_CHECK_PATH: &str = "/api/health";
/// Route 53 checker regions inside the countries the web ACL allows
/// (US/CA/MX): checkers elsewhere would be blocked and count as failures.
pub const HEALTH_CHECK_REGIONS: [HealthCheckRegion; 3] = [
    HealthCheckRegion::UsEast1,
    HealthCheckRegion::UsWest1,
    HealthCheckRegion::UsWest2,
];
/// The seed's recovery time objectives, in minutes: the runbooks' waits
/// fail after them.
pub const DATABASE_FAILURE_RTO_MINUTES: u32 = 30;
/// Region failure: one hour.
pub const REGION_FAILURE_RTO_MINUTES: u32 = 60;
/// Data corruption: two hours.
pub const DATA_CORRUPTION_RTO_MINUTES: u32 = 120;
/// Minutes without a single database connection before the
/// `DatabaseUnavailable` alarm fires (every API task keeps the pool's
/// minimum of connections open).
pub const DATABASE_UNAVAILABLE_MINUTES: u32 = 3;

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
    // plan (03:00), configuration plan (04:00, the stack itself; ADR 0009).
    let b = &ops.backup;
    let mut plans = Vec::new();
    let mut region_failover: Option<Runbook> = None;
    if let Some(db) = inputs.database {
        let mut rule = BackupRule::new(
            "daily",
            Cron::daily_at(DATABASE_BACKUP_HOUR, 0)?,
            b.database_retention_days,
        );
        if let Some(region) = &b.dr_region {
            let (mut dr, vault) = dr_vault_stack(stack, region, BackupVaultProps::default())?;
            // Region failure: the restore runbook lives in the DR region.
            region_failover = Some(region_restore_runbook(
                &mut dr,
                "RegionFailover",
                &vault,
                REGION_FAILURE_RTO_MINUTES,
            )?);
            // Region failure, recovery point: the database's automated
            // backups (snapshots and 5-minute transaction logs) are
            // replicated to the DR region under a key of that region, so
            // a restore there loses minutes, not the day since the last
            // copied snapshot (the seed's regionFailure RPO of 1 hour).
            let replication_key = EncryptionKey::new(
                &mut dr,
                "BackupReplicationKey",
                EncryptionKeyProps {
                    description: Some(format!(
                        "Encrypts the replicated automated backups of {}",
                        db.path()
                    )),
                    ..EncryptionKeyProps::default()
                },
            )?;
            db.replicate_backups_to(stack, region, &replication_key, None)?;
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
    // Configuration tier (ADR 0009): the stack itself, its template and
    // what AWS Backup supports in it, 04:00 daily.
    if let Some(days) = b.configuration_retention_days {
        plans.push(BackupPlanSpec {
            id: "Configuration".into(),
            rules: vec![BackupRule::new(
                "daily",
                Cron::daily_at(CONFIGURATION_BACKUP_HOUR, 0)?,
                days,
            )],
            resources: vec![BackupResource::ThisStack],
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

    recovery(
        stack,
        s,
        &alerts,
        &monitoring,
        inputs.database,
        region_failover.as_ref(),
    )?;

    let mut out = stack.as_scope();
    out.add_output(
        "AlertsCriticalTopicArn",
        Output::new("SNS topic of critical alerts", alerts.critical().arn()),
    )?;
    out.add_output(
        "AlertsWarningTopicArn",
        Output::new(
            "SNS topic of warnings and budget notifications",
            alerts.warning().arn(),
        ),
    )?;
    Ok(OpsOutput {
        stacks: extra,
        monitoring,
    })
}

/// The alarm thresholds of the KHS runbook: the seed's `Alarms` section
/// (`HighErrorRate` 10 per 5 minutes over 2 periods, `HighLatency` 1000 ms
/// over 3, `DatabaseCPU` 80 % over 2); for what the seed does not give, the
/// library's defaults (free storage below 10 % of the allocated storage,
/// cache at 80 %, the service at 90 %, above its scale-out targets).
fn alarm_thresholds() -> AlarmThresholds {
    AlarmThresholds {
        target_5xx_count: 10.0,
        target_response_time_seconds: 1.0,
        database_cpu_percent: 80.0,
        ..AlarmThresholds::default()
    }
}

/// Detection and recovery (the seed's recovery procedures): the runbooks,
/// the alarms that detect each failure, and the links between them.
fn recovery(
    stack: &mut Stack,
    s: &StageSettings,
    alerts: &AlertTopics,
    monitoring: &Monitoring,
    database: Option<&Database>,
    region_failover: Option<&Runbook>,
) -> Result<(), khs_constructs::Error> {
    // Region failure: Route 53 health checks on the public endpoint.
    if s.operations.region_health_check {
        let check = Route53HealthCheck::new(
            stack,
            "RegionHealthCheck",
            Route53HealthCheckProps {
                path: HEALTH_CHECK_PATH.to_string(),
                regions: HEALTH_CHECK_REGIONS.to_vec(),
                ..Route53HealthCheckProps::new(&s.frontend.domain)
            },
        )?;
        let alarm = check.alarm(
            stack,
            "PublicEndpointUnhealthy",
            vec![alerts.critical().clone()],
            None,
        )?;
        if let Some(r) = region_failover {
            r.link_alarm(stack, &alarm)?;
        }
    }
    let Some(db) = database else {
        return Ok(());
    };
    // Data corruption: application errors → restore to a point in time.
    let restore =
        db.restore_runbook(stack, "RestoreDatabaseRunbook", DATA_CORRUPTION_RTO_MINUTES)?;
    if let Some(a) = monitoring.alarm("HighErrorRate") {
        restore.link_alarm(stack, a)?;
    }
    // Database failure: no connections at all (the API keeps its pool's
    // minimum open) → promote a replica. A stopped staging database has
    // none every night, so no alarm there.
    if s.database.auto_stop.is_none() {
        let alarm = Alarm::new(
            stack,
            "DatabaseUnavailable",
            AlarmProps {
                treat_missing_data: TreatMissingData::Breaching,
                description: Some(format!(
                    "No connection to the database for {DATABASE_UNAVAILABLE_MINUTES} minutes although the API keeps {} per task",
                    db.pool().min_connections
                )),
                notify: vec![alerts.critical().clone()],
                ..AlarmProps::new(
                    db.metrics().database_connections().period(60),
                    ComparisonOperator::LessThan,
                    1.0,
                    DATABASE_UNAVAILABLE_MINUTES,
                )
            },
        )?;
        if !s.database.read_replica_availability_zones.is_empty() {
            let promote = db.promote_replica_runbook(
                stack,
                "PromoteReplicaRunbook",
                DATABASE_FAILURE_RTO_MINUTES,
            )?;
            promote.link_alarm(stack, &alarm)?;
        } else {
            restore.link_alarm(stack, &alarm)?;
        }
    }
    Ok(())
}
