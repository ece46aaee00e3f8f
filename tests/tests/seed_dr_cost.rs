//! The figures of the seed's Disaster Recovery and Cost Optimization
//! sections (issue 17) in the committed KHS templates: the configuration
//! backup tier, Route 53 region-failure detection, the recovery runbooks
//! linked from their alarms, VPC endpoints and the staging database's
//! auto-stop.

use serde_json::Value as J;

fn template(stack: &str) -> J {
    let p = khs_tests::synth_out().join(format!("{stack}.template.json"));
    let text = std::fs::read_to_string(&p).expect("synth-out/ holds the stack's template");
    serde_json::from_str(&text).expect("the template is JSON")
}

fn of_type<'a>(t: &'a J, ty: &str) -> Vec<(&'a String, &'a J)> {
    t["Resources"]
        .as_object()
        .expect("a template has resources")
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

#[test]
fn configuration_tier_backs_up_the_stack_at_4_am_for_90_days() {
    let t = template("khs-crm-prod");
    let plan = &t["Resources"]["BackupConfigurationPlan"]["Properties"]["BackupPlan"];
    let rule = &plan["BackupPlanRule"][0];
    assert_eq!(rule["ScheduleExpression"], "cron(0 4 * * ? *)");
    assert_eq!(rule["ScheduleExpressionTimezone"], "Etc/UTC");
    assert_eq!(rule["Lifecycle"]["DeleteAfterDays"], 90.0);
    let sel = &t["Resources"]["BackupConfigurationSelection"]["Properties"]["BackupSelection"];
    assert_eq!(
        sel["Resources"],
        serde_json::json!([{"Ref": "AWS::StackId"}])
    );
    // The other two tiers keep their figures.
    let db = &t["Resources"]["BackupDatabasePlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0];
    assert_eq!(db["ScheduleExpression"], "cron(0 2 * * ? *)");
    assert_eq!(db["Lifecycle"]["DeleteAfterDays"], 30.0);
    let app =
        &t["Resources"]["BackupApplicationPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0];
    assert_eq!(app["ScheduleExpression"], "cron(0 3 * * ? *)");
    assert_eq!(app["Lifecycle"]["DeleteAfterDays"], 7.0);
    // Staging has no configuration tier.
    let s = template("khs-crm-staging");
    assert!(s["Resources"].get("BackupConfigurationPlan").is_none());
    // Parameter Store holds nothing of the KHS stacks (ADR 0008): no
    // template creates a parameter the tier would have to cover.
    for stack in [
        "khs-crm-prod",
        "khs-crm-prod-backup-dr",
        "khs-crm-staging",
        "khs-crm-staging-edge",
    ] {
        assert!(
            of_type(&template(stack), "AWS::SSM::Parameter").is_empty(),
            "{stack} creates a Parameter Store parameter: extend the configuration tier (ADR 0008)"
        );
    }
}

#[test]
fn region_failure_is_detected_by_a_route53_health_check_alarm_to_the_critical_topic() {
    let t = template("khs-crm-prod");
    let hc = &t["Resources"]["RegionHealthCheckResource"]["Properties"]["HealthCheckConfig"];
    assert_eq!(hc["Type"], "HTTPS");
    assert_eq!(hc["FullyQualifiedDomainName"], "app.khscrm.com");
    assert_eq!(hc["ResourcePath"], "/api/health");
    assert_eq!(hc["Port"], 443);
    assert_eq!(hc["RequestInterval"], 30);
    assert_eq!(hc["FailureThreshold"], 3);
    // Checkers only where the web ACL's GeoAllow (US, CA, MX) lets them in.
    assert_eq!(
        hc["Regions"],
        serde_json::json!(["us-east-1", "us-west-1", "us-west-2"])
    );
    let a = &t["Resources"]["PublicEndpointUnhealthyResource"]["Properties"];
    assert_eq!(a["Namespace"], "AWS/Route53");
    assert_eq!(a["MetricName"], "HealthCheckStatus");
    assert_eq!(a["Period"], 60);
    assert_eq!(a["Threshold"], 1.0);
    assert_eq!(
        a["AlarmActions"],
        serde_json::json!([{"Ref": "AlertsCritical"}])
    );
    // Production's stack is in us-east-1, where Route 53 publishes the metric.
    let settings = khs_app::stages().unwrap();
    let prod = settings
        .iter()
        .find(|s| s.stack_name == "khs-crm-prod")
        .unwrap();
    assert_eq!(prod.region, "us-east-1");
    // No failover record: the DR region has a vault, no standby service.
    for (_, r) in of_type(&t, "AWS::Route53::RecordSet") {
        assert!(r["Properties"].get("Failover").is_none());
    }
}

#[test]
fn runbooks_are_automation_documents_linked_from_the_alarms_that_detect_the_failure() {
    let t = template("khs-crm-prod");
    let dr = template("khs-crm-prod-backup-dr");
    let doc = |t: &J, id: &str| t["Resources"][id]["Properties"].clone();
    let promote = doc(&t, "PromoteReplicaRunbookDocument");
    let restore = doc(&t, "RestoreDatabaseRunbookDocument");
    let failover = doc(&dr, "RegionFailoverDocument");
    // The seed's RTOs: database 30 minutes, data corruption 2 hours,
    // region 1 hour (the waits fail after them).
    for (d, name, api, rto_seconds) in [
        (
            &promote,
            "khs-crm-prod-PromoteReplicaRunbook",
            "PromoteReadReplica",
            1800,
        ),
        (
            &restore,
            "khs-crm-prod-RestoreDatabaseRunbook",
            "RestoreDBInstanceToPointInTime",
            7200,
        ),
        (
            &failover,
            "khs-crm-prod-backup-dr-RegionFailover",
            "StartRestoreJob",
            3600,
        ),
    ] {
        assert_eq!(d["DocumentType"], "Automation");
        assert_eq!(d["Name"], name);
        let steps = d["Content"]["mainSteps"].as_array().unwrap();
        assert!(
            steps
                .iter()
                .any(|s| s["action"] == "aws:executeAwsApi" && s["inputs"]["Api"] == api),
            "{name} calls {api}"
        );
        assert!(
            steps.iter().any(|s| s["timeoutSeconds"] == rto_seconds),
            "{name} waits {rto_seconds} s"
        );
    }
    let desc = |id: &str| {
        t["Resources"][id]["Properties"]["AlarmDescription"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(desc("DatabaseUnavailableResource").contains("Runbook: khs-crm-prod-PromoteReplicaRunbook https://us-east-1.console.aws.amazon.com/systems-manager/documents/khs-crm-prod-PromoteReplicaRunbook/"));
    assert!(
        desc("MonitoringHighErrorRateResource")
            .contains("Runbook: khs-crm-prod-RestoreDatabaseRunbook")
    );
    assert!(desc("PublicEndpointUnhealthyResource").contains(
        "Runbook: khs-crm-prod-backup-dr-RegionFailover https://us-west-2.console.aws.amazon.com/"
    ));
    // The database alarm: no connection for 3 minutes, to the critical topic.
    let a = &t["Resources"]["DatabaseUnavailableResource"]["Properties"];
    assert_eq!(a["MetricName"], "DatabaseConnections");
    assert_eq!(a["Period"], 60);
    assert_eq!(a["EvaluationPeriods"], 3);
    assert_eq!(a["TreatMissingData"], "breaching");
    assert_eq!(
        a["AlarmActions"],
        serde_json::json!([{"Ref": "AlertsCritical"}])
    );
    // Each automation role is assumed by Systems Manager and may promote
    // only the two replicas.
    let role = &t["Resources"]["PromoteReplicaRunbookRole"]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "ssm.amazonaws.com"
    );
    let st = &role["Policies"][0]["PolicyDocument"]["Statement"][0];
    assert_eq!(st["Action"], "rds:PromoteReadReplica");
    assert_eq!(st["Resource"].as_array().unwrap().len(), 2);
}

#[test]
fn production_has_interface_endpoints_for_what_the_tasks_call_staging_none() {
    let t = template("khs-crm-prod");
    let mut services: Vec<String> = of_type(&t, "AWS::EC2::VPCEndpoint")
        .iter()
        .map(|(_, r)| {
            let n = &r["Properties"]["ServiceName"]["Fn::Sub"];
            n.as_str()
                .unwrap()
                .trim_start_matches("com.amazonaws.${AWS::Region}.")
                .to_string()
        })
        .collect();
    services.sort();
    assert_eq!(
        services,
        ["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager", "xray"]
    );
    for (_, r) in of_type(&t, "AWS::EC2::VPCEndpoint") {
        let p = &r["Properties"];
        if p["VpcEndpointType"] == "Interface" {
            assert_eq!(p["PrivateDnsEnabled"], true);
            assert_eq!(p["SubnetIds"].as_array().unwrap().len(), 3);
        }
    }
    let ingress = &t["Resources"]["NetworkEndpointsIngressFromVpc"]["Properties"];
    assert_eq!(ingress["CidrIp"], "10.0.0.0/16");
    assert_eq!(ingress["FromPort"], 443);
    assert_eq!(ingress["ToPort"], 443);
    let s = template("khs-crm-staging");
    assert_eq!(
        of_type(&s, "AWS::EC2::VPCEndpoint").len(),
        1,
        "staging: S3 gateway only"
    );
}

#[test]
fn staging_database_stops_at_night_and_over_the_weekend() {
    let s = template("khs-crm-staging");
    let r = &s["Resources"];
    let stop = &r["DatabaseAutoStopStop"]["Properties"];
    let start = &r["DatabaseAutoStopStart"]["Properties"];
    assert_eq!(stop["ScheduleExpression"], "cron(0 4 ? * TUE-SAT *)");
    assert_eq!(start["ScheduleExpression"], "cron(0 12 ? * MON-FRI *)");
    assert_eq!(stop["ScheduleExpressionTimezone"], "Etc/UTC");
    // It stops only after the night's backups (they need a running
    // instance): the hour of the stop is later than every backup rule's.
    let hour = |cron: &J| -> u32 {
        cron.as_str()
            .and_then(|c| c.trim_start_matches("cron(").split(' ').nth(1))
            .and_then(|h| h.parse().ok())
            .expect("a cron with a fixed hour")
    };
    for (_, plan) in of_type(&s, "AWS::Backup::BackupPlan") {
        for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]
            .as_array()
            .expect("rules")
        {
            assert!(
                hour(&rule["ScheduleExpression"]) < hour(&stop["ScheduleExpression"]),
                "{rule} runs while the database is stopped"
            );
        }
    }
    assert!(
        stop["Target"]["Arn"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":scheduler:::aws-sdk:rds:stopDBInstance")
    );
    assert!(
        start["Target"]["Arn"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":scheduler:::aws-sdk:rds:startDBInstance")
    );
    let role = &r["DatabaseAutoStopRole"]["Properties"];
    let st = &role["Policies"][0]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        st["Action"],
        serde_json::json!(["rds:StopDBInstance", "rds:StartDBInstance"])
    );
    // A stopped database has no connections: no DatabaseUnavailable alarm.
    assert!(r.get("DatabaseUnavailableResource").is_none());
    // Production's database is never stopped.
    let t = template("khs-crm-prod");
    assert!(t["Resources"].get("DatabaseAutoStopStop").is_none());
}

#[test]
fn log_and_backup_buckets_tier_their_objects() {
    let t = template("khs-crm-prod");
    let rules =
        |id: &str| t["Resources"][id]["Properties"]["LifecycleConfiguration"]["Rules"][0].clone();
    let backups = rules("BackupsBucketBucket");
    assert_eq!(
        backups["Transitions"][0]["StorageClass"],
        "INTELLIGENT_TIERING"
    );
    assert_eq!(backups["Transitions"][0]["TransitionInDays"], 0);
    assert_eq!(backups["ExpirationInDays"], 365);
    let logs = rules("LogsBucketBucket");
    assert_eq!(logs["Transitions"][0]["StorageClass"], "STANDARD_IA");
    assert_eq!(logs["Transitions"][0]["TransitionInDays"], 30);
    assert_eq!(logs["Transitions"][1]["StorageClass"], "GLACIER");
    assert_eq!(logs["Transitions"][1]["TransitionInDays"], 90);
    assert_eq!(logs["ExpirationInDays"], 365);
}

/// The seed's regionFailure RPO of 1 hour: the production database's
/// automated backups (snapshots and 5-minute transaction logs) replicate to
/// the DR region under the DR stack's key, passed across regions at deploy.
#[test]
fn production_database_backups_replicate_to_the_dr_region() {
    let t = template("khs-crm-prod");
    let dr = template("khs-crm-prod-backup-dr");
    let db = &t["Resources"]["DatabaseInstance"]["Properties"];
    assert_eq!(db["AutomaticBackupReplicationRegion"], "us-west-2");
    let param = db["AutomaticBackupReplicationKmsKeyId"]["Ref"]
        .as_str()
        .expect("the key ARN is a parameter");
    let source = &t["Metadata"]["khs:parameter-sources"][param];
    assert_eq!(source["Stack"], "khs-crm-prod-backup-dr");
    assert_eq!(source["Region"], "us-west-2");
    let output = source["Output"].as_str().expect("output name");
    assert_eq!(
        dr["Outputs"][output]["Value"],
        serde_json::json!({"Fn::GetAtt": ["BackupReplicationKey", "Arn"]})
    );
    assert_eq!(
        dr["Resources"]["BackupReplicationKey"]["Properties"]["EnableKeyRotation"],
        true
    );
    let staging = template("khs-crm-staging");
    assert!(
        staging["Resources"]["DatabaseInstance"]["Properties"]
            .get("AutomaticBackupReplicationRegion")
            .is_none()
    );
}
