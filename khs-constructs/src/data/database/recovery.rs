//! Operations on a [`Database`] after it exists: recovery runbooks (promote a
//! read replica, restore to a point in time) and, for non-production
//! stages, stopping the instance outside working hours.

use serde_json::json;

use super::Database;
use crate::cfn::attributes::*;
use crate::cfn::scheduler::Schedule as CfnSchedule;
use crate::cfn::scheduler::schedule as sc;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::ops::runbook::{
    Runbook, RunbookParameter, RunbookProps, RunbookStep, StepOutput, rto_seconds,
};
use crate::ops::schedule::Cron;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, RoleProps, create_role};

/// `arn:<partition>:rds:<region>:<account>:<kind>:<name>` as `Fn::Sub`.
fn rds_arn(kind: &str, name: &str) -> Value<String> {
    Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:rds:${{AWS::Region}}:${{AWS::AccountId}}:{kind}:{name}"
    ))
    .into()
}

fn wait_available(step: &str, instance: &str, timeout_seconds: u32) -> RunbookStep {
    RunbookStep::WaitFor {
        name: step.into(),
        service: "rds".into(),
        api: "DescribeDBInstances".into(),
        inputs: json!({"DBInstanceIdentifier": instance}),
        property_selector: "$.DBInstances[0].DBInstanceStatus".into(),
        desired_values: vec!["available".into()],
        timeout_seconds,
    }
}

fn describe_endpoint(step: &str, instance: &str) -> RunbookStep {
    RunbookStep::ExecuteAwsApi {
        name: step.into(),
        service: "rds".into(),
        api: "DescribeDBInstances".into(),
        inputs: json!({"DBInstanceIdentifier": instance}),
        outputs: vec![StepOutput::string(
            "Endpoint",
            "$.DBInstances[0].Endpoint.Address",
        )],
    }
}

impl Database {
    /// A runbook (`scope/id`) promoting one of the read replicas to a
    /// standalone primary (the seed's "database failure": verify the
    /// primary is lost, promote, point the application at the new
    /// endpoint). Its steps: `PromoteReadReplica` on the chosen replica,
    /// wait until it is available, read its endpoint. The role may promote
    /// and describe these replicas only.
    ///
    /// After it ran, the stack still declares the promoted instance as a
    /// replica: point the application at the endpoint the last step prints
    /// (the `DATABASE_URL`) and bring the template in line before the next
    /// deploy. With Multi-AZ, RDS fails over to the standby by itself; this
    /// is for losing the primary and its standby.
    ///
    /// `rto_minutes` is the recovery time objective: the wait fails after it
    /// (1..=2880; a promotion takes 10–30 minutes), and the description says
    /// it. Fails when the database has no read replicas.
    pub fn promote_replica_runbook(
        &self,
        scope: &mut impl AsScope,
        id: &str,
        rto_minutes: u32,
    ) -> Result<Runbook> {
        let timeout = rto_seconds(&self.path, rto_minutes)?;
        let first = self.replicas.first().ok_or_else(|| {
            Error::invalid_prop(
                &self.path,
                "read_replica_availability_zones",
                "lists no zone, so there is no read replica to promote; add replicas or use restore_runbook",
            )
        })?;
        let ids: Vec<Value<String>> = self.replicas.iter().map(|r| r.ref_()).collect();
        let arns: Vec<Value<String>> = self
            .replicas
            .iter()
            .map(|r| r.get_att("DBInstanceArn"))
            .collect();
        let policy = PolicyDocument::new([
            PolicyStatement::allow(["rds:PromoteReadReplica"], arns.clone()),
            PolicyStatement::allow(["rds:DescribeDBInstances"], arns),
        ]);
        Runbook::new(
            scope,
            id,
            RunbookProps {
                parameters: vec![RunbookParameter {
                    default: Some(first.ref_()),
                    allowed_values: ids,
                    ..RunbookParameter::new("ReplicaId", "The read replica to promote")
                }],
                ..RunbookProps::new(
                    format!(
                        "# Promote a read replica of {}\n\nRecovery time objective: {rto_minutes} minutes (the wait fails after it).\n\n1. Verify that the primary has failed (RDS events, the DatabaseUnavailable alarm); with Multi-AZ, RDS fails over to the standby by itself first.\n2. Run this runbook: it promotes the replica and waits until it is available.\n3. Point the application at the endpoint of the last step (DATABASE_URL) and restart its tasks.\n4. Verify that the application connects.\n5. Bring the template in line (the promoted instance is no longer a replica) and deploy, which creates a new read replica.",
                        self.path
                    ),
                    vec![
                        RunbookStep::ExecuteAwsApi {
                            name: "PromoteReplica".into(),
                            service: "rds".into(),
                            api: "PromoteReadReplica".into(),
                            inputs: json!({"DBInstanceIdentifier": "{{ ReplicaId }}"}),
                            outputs: vec![],
                        },
                        wait_available("WaitUntilAvailable", "{{ ReplicaId }}", timeout),
                        describe_endpoint("ReadEndpoint", "{{ ReplicaId }}"),
                    ],
                    policy,
                )
            },
        )
    }

    /// A runbook (`scope/id`) restoring the database to a point in time into
    /// a new instance `<primary>-restore-<suffix>` (the seed's "data
    /// corruption": stop writes, restore, validate, resume). Its steps read
    /// the primary's subnet group, security groups, parameter group and
    /// class, call `RestoreDBInstanceToPointInTime` with them (storage stays
    /// encrypted with the database's key), wait until the new instance is
    /// available and read its endpoint. The role may describe the primary,
    /// restore from it into instances of that name pattern only, and let RDS
    /// use the key. `rto_minutes`: as for
    /// [`Database::promote_replica_runbook`].
    pub fn restore_runbook(
        &self,
        scope: &mut impl AsScope,
        id: &str,
        rto_minutes: u32,
    ) -> Result<Runbook> {
        let timeout = rto_seconds(&self.path, rto_minutes)?;
        let mut scope = scope.as_scope();
        let primary = self.instance.ref_();
        let target_arn: Value<String> = Intrinsic::sub_with(
            "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:${Primary}-restore-*",
            [("Primary", primary.clone())],
        )
        .into();
        let pattern: Value<String> = Intrinsic::sub_with(
            "^${Primary}-restore-[a-z0-9]{1,16}$",
            [("Primary", primary.clone())],
        )
        .into();
        let policy = PolicyDocument::new([
            PolicyStatement::allow(
                ["rds:DescribeDBInstances"],
                [self.instance.get_att("DBInstanceArn"), target_arn.clone()],
            ),
            PolicyStatement::allow(
                ["rds:RestoreDBInstanceToPointInTime"],
                [
                    self.instance.get_att("DBInstanceArn"),
                    target_arn.clone(),
                    rds_arn("subgrp", "*"),
                    rds_arn("pg", "*"),
                    rds_arn("og", "*"),
                ],
            ),
            PolicyStatement::allow(["rds:AddTagsToResource"], [target_arn]),
            PolicyStatement::allow(["kms:DescribeKey", "kms:CreateGrant"], [self.key.arn()])
                .with_condition(Condition::new("Bool", "kms:GrantIsForAWSResource", "true")),
        ]);
        let mut ids = json!({});
        ids["DBInstanceIdentifier"] = json!(primary);
        let runbook = Runbook::new(
            &mut scope,
            id,
            RunbookProps {
                parameters: vec![
                    RunbookParameter::new(
                        "RestoreTime",
                        "The point in time to restore to, UTC, ISO 8601 (2026-01-31T09:30:00Z); at most the backup retention back",
                    )
                    .with_pattern("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$"),
                    RunbookParameter {
                        allowed_pattern: Some(pattern),
                        ..RunbookParameter::new(
                            "TargetDbInstanceId",
                            "The new instance: <primary identifier>-restore-<suffix>",
                        )
                    },
                ],
                ..RunbookProps::new(
                    format!(
                        "# Restore {} to a point in time\n\nRecovery time objective: {rto_minutes} minutes (the wait fails after it).\n\n1. Identify the corruption's scope and the last good time.\n2. Stop write operations (scale the API service to 0 tasks, or put it in maintenance mode).\n3. Run this runbook with that time: it restores into a new instance in the same subnets and security groups and waits until it is available.\n4. Validate the data on the new instance.\n5. Point the application at the new endpoint (or copy the repaired rows back) and resume writes.",
                        self.path
                    ),
                    vec![
                        RunbookStep::ExecuteAwsApi {
                            name: "ReadPrimary".into(),
                            service: "rds".into(),
                            api: "DescribeDBInstances".into(),
                            inputs: ids,
                            outputs: vec![
                                StepOutput::string(
                                    "SubnetGroup",
                                    "$.DBInstances[0].DBSubnetGroup.DBSubnetGroupName",
                                ),
                                StepOutput::list(
                                    "SecurityGroups",
                                    "$.DBInstances[0].VpcSecurityGroups..VpcSecurityGroupId",
                                ),
                                StepOutput::string(
                                    "ParameterGroup",
                                    "$.DBInstances[0].DBParameterGroups[0].DBParameterGroupName",
                                ),
                                StepOutput::string("InstanceClass", "$.DBInstances[0].DBInstanceClass"),
                            ],
                        },
                        RunbookStep::ExecuteAwsApi {
                            name: "Restore".into(),
                            service: "rds".into(),
                            api: "RestoreDBInstanceToPointInTime".into(),
                            inputs: json!({
                                "SourceDBInstanceIdentifier": primary,
                                "TargetDBInstanceIdentifier": "{{ TargetDbInstanceId }}",
                                "RestoreTime": "{{ RestoreTime }}",
                                "DBSubnetGroupName": "{{ ReadPrimary.SubnetGroup }}",
                                "VpcSecurityGroupIds": "{{ ReadPrimary.SecurityGroups }}",
                                "DBParameterGroupName": "{{ ReadPrimary.ParameterGroup }}",
                                "DBInstanceClass": "{{ ReadPrimary.InstanceClass }}",
                                "PubliclyAccessible": false,
                                "CopyTagsToSnapshot": true,
                                "DeletionProtection": true,
                            }),
                            outputs: vec![],
                        },
                        wait_available("WaitUntilAvailable", "{{ TargetDbInstanceId }}", timeout),
                        describe_endpoint("ReadEndpoint", "{{ TargetDbInstanceId }}"),
                    ],
                    policy,
                )
            },
        )?;
        runbook.role().acknowledge(
            &mut scope,
            "iam-no-wildcard-permissions",
            "The restored instance does not exist yet: its ARN is a pattern under the primary's identifier (`<primary>-restore-*`, also the parameter's allowed pattern), and the subnet, parameter and option group names are read from the primary at run time, so they are named by type in this account and region only.",
        )?;
        Ok(runbook)
    }

    /// Stops the instance on `stop` and starts it on `start` (EventBridge
    /// Scheduler universal targets calling `rds:StopDBInstance` and
    /// `rds:StartDBInstance`; no function), for non-production stages.
    /// Emits `scope/id/Role` (may stop and start this instance only) and
    /// `scope/id/Stop`, `scope/id/Start` schedules (UTC).
    ///
    /// RDS starts a stopped instance by itself after seven days, and an
    /// instance with read replicas cannot be stopped (an error here). While
    /// stopped, storage and backups are still billed, the instance hours are
    /// not.
    pub fn auto_stop(
        &self,
        scope: &mut impl AsScope,
        id: &str,
        stop: Cron,
        start: Cron,
    ) -> Result<Vec<Handle<CfnSchedule>>> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        if !self.replicas.is_empty() {
            return Err(Error::invalid_prop(
                me.path(),
                "database",
                format!(
                    "must have no read replicas to be stopped (RDS cannot stop an instance with replicas), got {} with {}",
                    self.path,
                    self.replicas.len()
                ),
            ));
        }
        let arn = self.instance.get_att("DBInstanceArn");
        let role = create_role(
            &mut me,
            "Role",
            RoleProps {
                description: Some(format!("Stops and starts {} on schedule", self.path)),
                policy: PolicyDocument::new([PolicyStatement::allow(
                    ["rds:StopDBInstance", "rds:StartDBInstance"],
                    [arn],
                )]),
                ..RoleProps::new("scheduler.amazonaws.com")
            },
        )?;
        let input: Value<String> = Intrinsic::sub_with(
            "{\"DbInstanceIdentifier\": \"${Instance}\"}",
            [("Instance", self.instance.ref_())],
        )
        .into();
        let mut out = Vec::new();
        for (sid, api, cron) in [
            ("Stop", "stopDBInstance", stop),
            ("Start", "startDBInstance", start),
        ] {
            let target = sc::Target {
                input: Some(input.clone()),
                retry_policy: Some(sc::RetryPolicy {
                    maximum_retry_attempts: Some(3.0.into()),
                    ..sc::RetryPolicy::new()
                }),
                ..sc::Target::new(sc::TargetRequired {
                    arn: Intrinsic::sub(format!(
                        "arn:${{AWS::Partition}}:scheduler:::aws-sdk:rds:{api}"
                    ))
                    .into(),
                    role_arn: role.attr_arn(),
                })
            };
            out.push(me.add(
                sid,
                CfnSchedule {
                    description: Some(
                        format!("{sid} {} ({})", self.path, cron.expression()).into(),
                    ),
                    schedule_expression_timezone: Some("Etc/UTC".into()),
                    state: Some(sc::ScheduleState::Enabled.into()),
                    ..CfnSchedule::new(
                        sc::FlexibleTimeWindow::new(sc::FlexibleTimeWindowMode::Off),
                        cron.expression(),
                        target,
                    )
                },
            )?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatabaseProps;
    use crate::network::vpc::NetworkProps;
    use crate::prelude::*;
    use crate::test_support::stack_with_network_of;

    fn database(replicas: &[&str]) -> (Stack, Database) {
        let (mut stack, network) = stack_with_network_of(NetworkProps {
            availability_zones: vec![
                "us-east-1a".into(),
                "us-east-1b".into(),
                "us-east-1c".into(),
            ],
            ..NetworkProps::default()
        });
        let db = Database::new(
            &mut stack,
            "Database",
            &network,
            DatabaseProps {
                read_replica_availability_zones: replicas.iter().map(|z| z.to_string()).collect(),
                ..DatabaseProps::default()
            },
        )
        .unwrap();
        (stack, db)
    }

    #[test]
    fn promote_runbook_may_promote_only_the_replicas_and_waits_the_rto() {
        let (mut stack, db) = database(&["us-east-1b", "us-east-1c"]);
        db.promote_replica_runbook(&mut stack, "Promote", 30)
            .unwrap();
        let t = serde_json::to_value(stack.synth().unwrap()).unwrap();
        let doc = &t["Resources"]["PromoteDocument"]["Properties"]["Content"];
        let p = &doc["parameters"]["ReplicaId"];
        assert_eq!(p["default"], json!({"Ref": "DatabaseReadReplica1"}));
        assert_eq!(p["allowedValues"].as_array().unwrap().len(), 2);
        assert_eq!(doc["mainSteps"][0]["inputs"]["Api"], "PromoteReadReplica");
        assert_eq!(doc["mainSteps"][1]["timeoutSeconds"], 1800);
        let st = &t["Resources"]["PromoteRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(st[0]["Action"], "rds:PromoteReadReplica");
        assert_eq!(
            st[0]["Resource"][0],
            json!({"Fn::GetAtt": ["DatabaseReadReplica1", "DBInstanceArn"]})
        );
    }

    #[test]
    fn restore_runbook_restores_into_the_named_pattern_with_the_primarys_groups() {
        let (mut stack, db) = database(&[]);
        db.restore_runbook(&mut stack, "Restore", 120).unwrap();
        let t = serde_json::to_value(stack.synth().unwrap()).unwrap();
        let doc = &t["Resources"]["RestoreDocument"]["Properties"]["Content"];
        let restore = &doc["mainSteps"][1]["inputs"];
        assert_eq!(restore["Api"], "RestoreDBInstanceToPointInTime");
        assert_eq!(
            restore["SourceDBInstanceIdentifier"],
            json!({"Ref": "DatabaseInstance"})
        );
        assert_eq!(
            restore["DBSubnetGroupName"],
            "{{ ReadPrimary.SubnetGroup }}"
        );
        assert_eq!(restore["PubliclyAccessible"], false);
        assert_eq!(doc["mainSteps"][2]["timeoutSeconds"], 7200);
        assert_eq!(
            doc["parameters"]["TargetDbInstanceId"]["allowedPattern"]["Fn::Sub"][0],
            "^${Primary}-restore-[a-z0-9]{1,16}$"
        );
    }

    #[test]
    fn auto_stop_calls_rds_through_universal_targets() {
        let (mut stack, db) = database(&[]);
        let stop = Cron::parse("t", "stop", "cron(0 4 ? * TUE-SAT *)").unwrap();
        let start = Cron::parse("t", "start", "cron(0 12 ? * MON-FRI *)").unwrap();
        db.auto_stop(&mut stack, "AutoStop", stop, start).unwrap();
        let t = serde_json::to_value(stack.synth().unwrap()).unwrap();
        let s = &t["Resources"]["AutoStopStop"]["Properties"];
        assert_eq!(s["ScheduleExpression"], "cron(0 4 ? * TUE-SAT *)");
        assert_eq!(
            s["Target"]["Arn"]["Fn::Sub"],
            "arn:${AWS::Partition}:scheduler:::aws-sdk:rds:stopDBInstance"
        );
        assert_eq!(
            s["Target"]["Input"]["Fn::Sub"][0],
            "{\"DbInstanceIdentifier\": \"${Instance}\"}"
        );
        let role = &t["Resources"]["AutoStopRole"]["Properties"];
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "scheduler.amazonaws.com"
        );
    }

    #[test]
    fn fails_when_there_is_no_replica_to_promote_or_replicas_block_a_stop() {
        let (mut stack, db) = database(&[]);
        let e = db
            .promote_replica_runbook(&mut stack, "Promote", 30)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Database: read_replica_availability_zones lists no zone, so there is no read replica to promote"),
            "{e}"
        );
        let (mut stack, db) = database(&["us-east-1b"]);
        let cron = Cron::daily_at(1, 0).unwrap();
        let e = db
            .auto_stop(&mut stack, "AutoStop", cron.clone(), cron)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/AutoStop: database must have no read replicas to be stopped (RDS cannot stop an instance with replicas), got khs/Database with 1"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_rto_is_out_of_range() {
        let (mut stack, db) = database(&[]);
        let e = db
            .restore_runbook(&mut stack, "Restore", 0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Database: rto_minutes must be 1..=2880 (up to two days), got 0"
        );
    }
}
