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
use crate::ops::runbook::{Runbook, RunbookParameter, RunbookProps, RunbookStep, StepOutput};
use crate::ops::schedule::Cron;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, RoleProps, create_role};

/// Seconds a runbook waits for an instance to become available (one hour,
/// the RTO of a region failure; a promotion or restore of a small instance
/// takes 10–30 minutes).
pub const RUNBOOK_WAIT_SECONDS: u32 = 3600;

/// `arn:<partition>:rds:<region>:<account>:<kind>:<name>` as `Fn::Sub`.
fn rds_arn(kind: &str, name: &str) -> Value<String> {
    Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:rds:${{AWS::Region}}:${{AWS::AccountId}}:{kind}:{name}"
    ))
    .into()
}

fn wait_available(step: &str, instance: &str) -> RunbookStep {
    RunbookStep::WaitFor {
        name: step.into(),
        service: "rds".into(),
        api: "DescribeDBInstances".into(),
        inputs: json!({"DBInstanceIdentifier": instance}),
        property_selector: "$.DBInstances[0].DBInstanceStatus".into(),
        desired_values: vec!["available".into()],
        timeout_seconds: RUNBOOK_WAIT_SECONDS,
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
    /// Fails when the database has no read replicas.
    pub fn promote_replica_runbook(&self, scope: &mut impl AsScope, id: &str) -> Result<Runbook> {
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
                        "# Promote a read replica of {}\n\n1. Verify that the primary has failed (RDS events, the DatabaseUnavailable alarm); with Multi-AZ, RDS fails over to the standby by itself first.\n2. Run this runbook: it promotes the replica and waits until it is available.\n3. Point the application at the endpoint of the last step (DATABASE_URL) and restart its tasks.\n4. Verify that the application connects.\n5. Bring the template in line (the promoted instance is no longer a replica) and deploy, which creates a new read replica.",
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
                        wait_available("WaitUntilAvailable", "{{ ReplicaId }}"),
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
    /// use the key.
    pub fn restore_runbook(&self, scope: &mut impl AsScope, id: &str) -> Result<Runbook> {
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
                        "# Restore {} to a point in time\n\n1. Identify the corruption's scope and the last good time.\n2. Stop write operations (scale the API service to 0 tasks, or put it in maintenance mode).\n3. Run this runbook with that time: it restores into a new instance in the same subnets and security groups and waits until it is available.\n4. Validate the data on the new instance.\n5. Point the application at the new endpoint (or copy the repaired rows back) and resume writes.",
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
                        wait_available("WaitUntilAvailable", "{{ TargetDbInstanceId }}"),
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
