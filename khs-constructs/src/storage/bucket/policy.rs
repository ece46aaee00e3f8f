//! The bucket policy documents: TLS only, plus one statement group per grant.

use super::*;
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::value::Value;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, Principal};

// ---------------------------------------------------------------------------
// Bucket policy documents.

pub(crate) fn sub(template: String) -> Value<String> {
    Intrinsic::sub(template).into()
}

pub(crate) fn account() -> Value<String> {
    Pseudo::AccountId.into()
}

pub(crate) fn statement(
    sid: &str,
    service: &str,
    actions: &[&str],
    resource: Value<String>,
) -> PolicyStatement {
    PolicyStatement::allow(actions.iter().copied(), [resource])
        .with_sid(sid)
        .with_principal(Principal::service(service))
        .with_condition(Condition::new(
            "StringEquals",
            "aws:SourceAccount",
            account(),
        ))
}

pub(crate) fn owner_full_control() -> Condition {
    Condition::new("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control")
}

/// The bucket policy of bucket `id` (a logical id).
pub(crate) fn policy_document(id: &str, region: &str, grants: &[BucketGrant]) -> PolicyDocument {
    let arn = format!("${{{id}.Arn}}");
    let mut doc = PolicyDocument::new([PolicyStatement::deny(
        ["s3:*"],
        [sub(arn.clone()), sub(format!("{arn}/*"))],
    )
    .with_sid("DenyInsecureTransport")
    .with_principal(Principal::Any)
    .with_condition(Condition::new("Bool", "aws:SecureTransport", "false"))]);
    for g in grants {
        match g {
            BucketGrant::CloudTrail { prefix, trail_name } => {
                let source = trail_name.as_ref().map(|name| {
                    Condition::new(
                        "StringEquals",
                        "aws:SourceArn",
                        sub(format!(
                            "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{name}"
                        )),
                    )
                });
                let mut check = statement(
                    "CloudTrailAclCheck",
                    "cloudtrail.amazonaws.com",
                    &["s3:GetBucketAcl"],
                    sub(arn.clone()),
                );
                let mut write = statement(
                    "CloudTrailWrite",
                    "cloudtrail.amazonaws.com",
                    &["s3:PutObject"],
                    sub(format!("{arn}/{prefix}AWSLogs/${{AWS::AccountId}}/*")),
                )
                .with_condition(owner_full_control());
                if let Some(c) = source {
                    check = check.with_condition(c.clone());
                    write = write.with_condition(c);
                }
                doc.push(check);
                doc.push(write);
            }
            BucketGrant::Config { prefix } => {
                doc.push(statement(
                    "ConfigAclCheck",
                    "config.amazonaws.com",
                    &["s3:GetBucketAcl", "s3:ListBucket"],
                    sub(arn.clone()),
                ));
                doc.push(
                    statement(
                        "ConfigWrite",
                        "config.amazonaws.com",
                        &["s3:PutObject"],
                        sub(format!(
                            "{arn}/{prefix}AWSLogs/${{AWS::AccountId}}/Config/*"
                        )),
                    )
                    .with_condition(owner_full_control()),
                );
            }
            BucketGrant::ServerAccessLogs { prefix } => {
                doc.push(
                    statement(
                        &format!("ServerAccessLogs{}", sid_suffix(prefix)),
                        "logging.s3.amazonaws.com",
                        &["s3:PutObject"],
                        sub(format!("{arn}/{prefix}*")),
                    )
                    .with_condition(Condition::new(
                        "ArnLike",
                        "aws:SourceArn",
                        sub("arn:${AWS::Partition}:s3:::*".to_string()),
                    )),
                );
            }
            BucketGrant::BackupReports { prefix } => {
                doc.push(
                    PolicyStatement::allow(["s3:PutObject"], [sub(format!("{arn}/{prefix}*"))])
                        .with_sid("BackupReportsWrite")
                        .with_principal(Principal::Aws(sub(
                            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports".to_string(),
                        )))
                        .with_condition(owner_full_control()),
                );
            }
            BucketGrant::LoadBalancerLogs { prefix } => {
                let resource = sub(format!("{arn}/{prefix}AWSLogs/${{AWS::AccountId}}/*"));
                let elb_account = ELB_LOG_ACCOUNTS
                    .iter()
                    .find(|(r, _)| *r == region)
                    .map(|(_, a)| *a);
                doc.push(match elb_account {
                    Some(account) => PolicyStatement::allow(["s3:PutObject"], [resource])
                        .with_sid("LoadBalancerLogsWrite")
                        .with_principal(Principal::Aws(sub(format!(
                            "arn:${{AWS::Partition}}:iam::{account}:root"
                        )))),
                    None => statement(
                        "LoadBalancerLogsWrite",
                        "logdelivery.elasticloadbalancing.amazonaws.com",
                        &["s3:PutObject"],
                        resource,
                    ),
                });
            }
            BucketGrant::CloudFrontRead { distribution, list } => {
                let source = Condition::new(
                    "StringEquals",
                    "AWS:SourceArn",
                    sub(format!(
                        "arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{}}}",
                        distribution.logical_id()
                    )),
                );
                doc.push(
                    PolicyStatement::allow(["s3:GetObject"], [sub(format!("{arn}/*"))])
                        .with_sid(format!("CloudFrontRead{}", distribution.logical_id()))
                        .with_principal(Principal::service("cloudfront.amazonaws.com"))
                        .with_condition(source.clone()),
                );
                if *list {
                    doc.push(
                        PolicyStatement::allow(["s3:ListBucket"], [sub(arn.clone())])
                            .with_sid(format!("CloudFrontList{}", distribution.logical_id()))
                            .with_principal(Principal::service("cloudfront.amazonaws.com"))
                            .with_condition(source),
                    );
                }
            }
        }
    }
    doc
}

/// Letters and digits of a prefix, for statement ids.
pub(crate) fn sid_suffix(prefix: &str) -> String {
    prefix
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
