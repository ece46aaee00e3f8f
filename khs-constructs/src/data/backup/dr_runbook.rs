//! The region-failover runbook: restore a database recovery point copied to
//! the disaster-recovery vault, in the DR region.

use serde_json::json;

use crate::cfn::attributes::*;
use crate::core::error::Result;
use crate::core::intrinsic::Intrinsic;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::ops::runbook::{
    Runbook, RunbookParameter, RunbookProps, RunbookStep, StepOutput, rto_seconds,
};
use crate::security::iam::{self, Condition, PolicyDocument, PolicyStatement};

use super::BackupVaultRef;

/// A runbook (`scope/id`) restoring a database recovery point of `vault`
/// (the DR vault the primary region's plan copies to) into a new RDS
/// instance in the vault's region: the seed's "region failure" steps
/// "execute cross-region failover" and "restore from cross-region backups".
/// `scope` must be a stack of the vault's region (Automation documents are
/// regional: a runbook in the failed region cannot run).
///
/// Emits the runbook and `scope/<id>RestoreRole`, the role AWS Backup
/// restores with (`backup.amazonaws.com`, the AWS managed restore policy).
/// The automation role may start restore jobs of recovery points in this
/// region, pass the restore role to AWS Backup only, and read restore jobs.
/// `rto_minutes` is the recovery time objective: the wait for the restore
/// job fails after it (1..=2880).
pub fn region_restore_runbook(
    scope: &mut impl AsScope,
    id: &str,
    vault: &BackupVaultRef,
    rto_minutes: u32,
) -> Result<Runbook> {
    let mut s = scope.as_scope();
    let timeout = rto_seconds(&s.path().child(id)?, rto_minutes)?;
    let restore_role = s.add(
        &format!("{id}RestoreRole"),
        crate::cfn::iam::Role {
            description: Some(format!("AWS Backup restores of the vault {}", vault.name).into()),
            managed_policy_arns: Some(Value::Literal(vec![iam::aws_managed_policy_arn(
                "service-role/AWSBackupServiceRolePolicyForRestores",
            )])),
            path: Some("/service-role/".into()),
            ..crate::cfn::iam::Role::new(
                PolicyDocument::assume_role("backup.amazonaws.com").to_json(),
            )
        },
    )?;
    restore_role.acknowledge(
        &mut s,
        "iam-no-managed-policies",
        "The AWS Backup restore policy is the one AWS documents for restore jobs and follows the resource types AWS Backup supports.",
    )?;
    let recovery_points: Vec<Value<String>> = [
        "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:snapshot:awsbackup:*",
        "arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:recovery-point:*",
    ]
    .iter()
    .map(|a| Intrinsic::sub(*a).into())
    .collect();
    let policy = PolicyDocument::new([
        PolicyStatement::allow(["backup:StartRestoreJob"], recovery_points),
        PolicyStatement::allow(["backup:DescribeRestoreJob"], ["*"]),
        PolicyStatement::allow(["iam:PassRole"], [restore_role.attr_arn()]).with_condition(
            Condition::new(
                "StringEquals",
                "iam:PassedToService",
                "backup.amazonaws.com",
            ),
        ),
    ]);
    let runbook = Runbook::new(
        &mut s,
        id,
        RunbookProps {
            parameters: vec![
                RunbookParameter::new(
                    "RecoveryPointArn",
                    "The copied database recovery point to restore (AWS Backup console: the DR vault, newest recovery point)",
                )
                .with_pattern("^arn:aws[a-z-]*:rds:[a-z0-9-]+:\\d{12}:snapshot:awsbackup:.+$"),
                RunbookParameter::new(
                    "TargetDbInstanceId",
                    "The identifier of the restored instance",
                )
                .with_pattern("^[a-z][a-z0-9-]{0,62}$"),
                RunbookParameter::new(
                    "DbSubnetGroupName",
                    "A DB subnet group of this region (create the network here first)",
                ),
            ],
            ..RunbookProps::new(
                format!(
                    "# Region failover: restore the database in {}\n\nRecovery time objective: {rto_minutes} minutes (the wait fails after it).\n\n1. Confirm the region-wide failure (the Route 53 health check alarm, the AWS Health Dashboard).\n2. Deploy the network and application stacks into this region (khs deploy with the DR stage) if they do not exist.\n3. Run this runbook with the newest copied recovery point: it starts an AWS Backup restore job and waits until it completes.\n4. Point the application at the restored instance, then update DNS (the frontend alias) to this region.\n5. Notify users of the temporary degradation (status page, e-mail).",
                    vault.region
                ),
                vec![
                    RunbookStep::ExecuteAwsApi {
                        name: "StartRestore".into(),
                        service: "backup".into(),
                        api: "StartRestoreJob".into(),
                        inputs: json!({
                            "RecoveryPointArn": "{{ RecoveryPointArn }}",
                            "IamRoleArn": restore_role.attr_arn(),
                            "ResourceType": "RDS",
                            "Metadata": {
                                "DBInstanceIdentifier": "{{ TargetDbInstanceId }}",
                                "DBSubnetGroupName": "{{ DbSubnetGroupName }}",
                                "PubliclyAccessible": "false",
                                "MultiAZ": "false",
                            },
                        }),
                        outputs: vec![StepOutput::string("RestoreJobId", "$.RestoreJobId")],
                    },
                    RunbookStep::WaitFor {
                        name: "WaitUntilRestored".into(),
                        service: "backup".into(),
                        api: "DescribeRestoreJob".into(),
                        inputs: json!({"RestoreJobId": "{{ StartRestore.RestoreJobId }}"}),
                        property_selector: "$.Status".into(),
                        desired_values: vec!["COMPLETED".into()],
                        timeout_seconds: timeout,
                    },
                ],
                policy,
            )
        },
    )?;
    runbook.role().acknowledge(
        &mut s,
        "iam-no-wildcard-permissions",
        "Recovery points are created by the copy jobs, after this stack: restore is allowed on recovery points of this account and region only, and restore jobs, whose ids the first step returns, are only read.",
    )?;
    Ok(runbook)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};

    #[test]
    fn restores_a_copied_recovery_point_passing_the_restore_role_to_backup_only() {
        let mut dr =
            Stack::new("khs-dr", StackProps::new(Environment::region("us-west-2"))).unwrap();
        let vault = BackupVaultRef::existing("khs-dr-vault", "us-west-2");
        let r = region_restore_runbook(&mut dr, "Failover", &vault, 60).unwrap();
        assert_eq!(
            r.console_url(),
            "https://us-west-2.console.aws.amazon.com/systems-manager/documents/khs-dr-Failover/description?region=us-west-2"
        );
        let t = serde_json::to_value(dr.synth().unwrap()).unwrap();
        let doc = &t["Resources"]["FailoverDocument"]["Properties"]["Content"];
        assert_eq!(doc["mainSteps"][0]["inputs"]["Api"], "StartRestoreJob");
        assert_eq!(
            doc["mainSteps"][0]["inputs"]["IamRoleArn"],
            json!({"Fn::GetAtt": ["FailoverRestoreRole", "Arn"]})
        );
        assert_eq!(doc["mainSteps"][1]["timeoutSeconds"], 3600);
        let st = &t["Resources"]["FailoverRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(st[2]["Action"], "iam:PassRole");
        assert_eq!(
            st[2]["Condition"]["StringEquals"]["iam:PassedToService"],
            "backup.amazonaws.com"
        );
        let restore_role = &t["Resources"]["FailoverRestoreRole"]["Properties"];
        assert_eq!(
            restore_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "backup.amazonaws.com"
        );
    }
}
