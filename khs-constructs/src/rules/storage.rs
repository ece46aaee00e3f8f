//! Rules on S3 buckets, log groups and backup vaults.

use serde_json::Value as Json;

use super::{denies_insecure_transport, fails, number, statements};
use crate::core::rules::{Rule, Severity, Subject, Verdict};

const BUCKET: &[&str] = &["AWS::S3::Bucket"];
const LOG_GROUP: &[&str] = &["AWS::Logs::LogGroup"];

pub(super) const RULES: &[Rule] = &[
    Rule {
        id: "s3-public-access-block",
        severity: Severity::Error,
        summary: "S3 buckets block every kind of public access",
        rationale: "The four PublicAccessBlockConfiguration flags stop an ACL or a bucket policy from making objects public by mistake.",
        fix: "set PublicAccessBlockConfiguration with BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls and RestrictPublicBuckets all true",
        resource_types: BUCKET,
        checkov: &["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
        aws_solutions: &["AwsSolutions-S2"],
        check: s3_public_access_block,
    },
    Rule {
        id: "s3-public-acl",
        severity: Severity::Error,
        summary: "S3 buckets grant no canned ACL to everyone",
        rationale: "PublicRead, PublicReadWrite and AuthenticatedRead let anyone (or any AWS account) read or write the bucket.",
        fix: "remove AccessControl or set it to Private (or LogDeliveryWrite for a log bucket)",
        resource_types: BUCKET,
        checkov: &["CKV_AWS_20", "CKV_AWS_57"],
        aws_solutions: &[],
        check: s3_public_acl,
    },
    Rule {
        id: "s3-encryption",
        severity: Severity::Error,
        summary: "S3 buckets declare default encryption",
        rationale: "Declaring BucketEncryption makes the encryption of every object explicit and reviewable (SSE-S3 or SSE-KMS).",
        fix: "set BucketEncryption.ServerSideEncryptionConfiguration (AES256 or aws:kms)",
        resource_types: BUCKET,
        checkov: &["CKV_AWS_19"],
        aws_solutions: &[],
        check: s3_encryption,
    },
    Rule {
        id: "s3-ssl-only",
        severity: Severity::Error,
        summary: "S3 bucket policies deny requests without TLS",
        rationale: "Without a Deny on aws:SecureTransport false, clients can read and write objects over plain HTTP.",
        fix: "add an AWS::S3::BucketPolicy for the bucket with a Deny statement on s3:* when aws:SecureTransport is false",
        resource_types: BUCKET,
        checkov: &[],
        aws_solutions: &["AwsSolutions-S10"],
        check: s3_ssl_only,
    },
    Rule {
        id: "s3-server-access-logs",
        severity: Severity::Warning,
        summary: "S3 buckets write server access logs",
        rationale: "Access logs record every request to the bucket, for audits and incident response.",
        fix: "set LoggingConfiguration.DestinationBucketName to a log bucket",
        resource_types: BUCKET,
        checkov: &["CKV_AWS_18"],
        aws_solutions: &["AwsSolutions-S1"],
        check: s3_access_logs,
    },
    Rule {
        id: "s3-versioning",
        severity: Severity::Warning,
        summary: "S3 buckets keep object versions",
        rationale: "Versioning lets an overwritten or deleted object be restored.",
        fix: "set VersioningConfiguration.Status to Enabled",
        resource_types: BUCKET,
        checkov: &["CKV_AWS_21"],
        aws_solutions: &[],
        check: s3_versioning,
    },
    Rule {
        id: "log-group-kms",
        severity: Severity::Warning,
        summary: "Log groups are encrypted with a customer managed KMS key",
        rationale: "A key of your own controls who can read the logs (key policy) and records every use in CloudTrail.",
        fix: "set KmsKeyId to a key whose policy lets logs.<region>.amazonaws.com use it",
        resource_types: LOG_GROUP,
        checkov: &["CKV_AWS_158"],
        aws_solutions: &[],
        check: log_group_kms,
    },
    Rule {
        id: "log-group-retention",
        severity: Severity::Warning,
        summary: "Log groups have a retention period",
        rationale: "Without RetentionInDays logs are kept (and billed) forever.",
        fix: "set RetentionInDays",
        resource_types: LOG_GROUP,
        checkov: &["CKV_AWS_66"],
        aws_solutions: &[],
        check: log_group_retention,
    },
    Rule {
        id: "backup-vault-kms",
        severity: Severity::Warning,
        summary: "Backup vaults are encrypted with a customer managed KMS key",
        rationale: "A key of your own controls who can restore recovery points.",
        fix: "set EncryptionKeyArn",
        resource_types: &["AWS::Backup::BackupVault"],
        checkov: &["CKV_AWS_166"],
        aws_solutions: &[],
        check: backup_vault_kms,
    },
];

fn s3_public_access_block(s: &Subject<'_>) -> Verdict {
    let missing: Vec<&str> = [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ]
    .into_iter()
    .filter(|f| !s.is_true(&format!("PublicAccessBlockConfiguration.{f}")))
    .collect();
    fails(!missing.is_empty(), || {
        format!(
            "PublicAccessBlockConfiguration does not set {} to true",
            missing.join(", ")
        )
    })
}

fn s3_public_acl(s: &Subject<'_>) -> Verdict {
    let acl = s.prop("AccessControl").and_then(Json::as_str);
    fails(
        matches!(
            acl,
            Some("PublicRead" | "PublicReadWrite" | "AuthenticatedRead")
        ),
        || format!("AccessControl is {}", acl.unwrap_or_default()),
    )
}

fn s3_encryption(s: &Subject<'_>) -> Verdict {
    let set = s
        .prop("BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm")
        .is_some();
    fails(!set, || "BucketEncryption is not set".to_string())
}

fn s3_ssl_only(s: &Subject<'_>) -> Verdict {
    let denied = s
        .resources_of_type("AWS::S3::BucketPolicy")
        .filter(|(_, p)| {
            p.properties
                .member("Bucket")
                .is_some_and(|b| s.is_referenced_in(b))
        })
        .any(|(_, p)| {
            statements(p.properties.member("PolicyDocument"))
                .into_iter()
                .any(denies_insecure_transport)
        });
    fails(!denied, || {
        "no bucket policy of the template denies requests without TLS".to_string()
    })
}

fn s3_access_logs(s: &Subject<'_>) -> Verdict {
    fails(
        s.prop("LoggingConfiguration.DestinationBucketName")
            .is_none(),
        || "LoggingConfiguration is not set".to_string(),
    )
}

fn s3_versioning(s: &Subject<'_>) -> Verdict {
    let status = s
        .prop("VersioningConfiguration.Status")
        .and_then(Json::as_str);
    fails(status != Some("Enabled"), || {
        "VersioningConfiguration.Status is not Enabled".to_string()
    })
}

fn log_group_kms(s: &Subject<'_>) -> Verdict {
    fails(s.prop("KmsKeyId").is_none(), || {
        "KmsKeyId is not set".to_string()
    })
}

fn log_group_retention(s: &Subject<'_>) -> Verdict {
    fails(s.prop("RetentionInDays").and_then(number).is_none(), || {
        "RetentionInDays is not set".to_string()
    })
}

fn backup_vault_kms(s: &Subject<'_>) -> Verdict {
    fails(s.prop("EncryptionKeyArn").is_none(), || {
        "EncryptionKeyArn is not set".to_string()
    })
}
