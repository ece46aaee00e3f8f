//! Rules on queues, tables and functions.

use serde_json::Value as Json;

use super::{denies_insecure_transport, fails, items, statements};
use crate::core::rules::{Rule, Severity, Subject, Verdict, refers_to};

const QUEUE: &[&str] = &["AWS::SQS::Queue"];
const TABLE: &[&str] = &["AWS::DynamoDB::Table"];
const FUNCTION: &[&str] = &["AWS::Lambda::Function"];

pub(super) const RULES: &[Rule] = &[
    Rule {
        id: "sqs-encryption",
        severity: Severity::Error,
        summary: "SQS queues are encrypted at rest",
        rationale: "Messages often carry personal data; SSE-SQS or a KMS key encrypts them at rest.",
        fix: "set KmsMasterKeyId, or leave SqsManagedSseEnabled at its default (true)",
        resource_types: QUEUE,
        checkov: &["CKV_AWS_27"],
        aws_solutions: &["AwsSolutions-SQS2"],
        check: sqs_encryption,
    },
    Rule {
        id: "sqs-ssl-only",
        severity: Severity::Warning,
        summary: "SQS queue policies deny requests without TLS",
        rationale: "A Deny on aws:SecureTransport false makes plaintext sends and receives fail.",
        fix: "add an AWS::SQS::QueuePolicy for the queue with a Deny on sqs:* when aws:SecureTransport is false",
        resource_types: QUEUE,
        checkov: &[],
        aws_solutions: &["AwsSolutions-SQS4"],
        check: sqs_ssl_only,
    },
    Rule {
        id: "sqs-dead-letter-queue",
        severity: Severity::Warning,
        summary: "SQS queues have a dead-letter queue (or are one)",
        rationale: "Messages that keep failing are moved aside instead of blocking the queue or being lost at the retention limit.",
        fix: "set RedrivePolicy.deadLetterTargetArn to another queue",
        resource_types: QUEUE,
        checkov: &[],
        aws_solutions: &["AwsSolutions-SQS3"],
        check: sqs_dlq,
    },
    Rule {
        id: "dynamodb-point-in-time-recovery",
        severity: Severity::Warning,
        summary: "DynamoDB tables have point-in-time recovery",
        rationale: "Continuous backups restore the table to any second of the last 35 days after a bad write.",
        fix: "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled to true",
        resource_types: TABLE,
        checkov: &["CKV_AWS_28"],
        aws_solutions: &["AwsSolutions-DDB3"],
        check: ddb_pitr,
    },
    Rule {
        id: "dynamodb-kms",
        severity: Severity::Warning,
        summary: "DynamoDB tables are encrypted with a customer managed KMS key",
        rationale: "A key of your own controls and records who can read the table, beyond IAM.",
        fix: "set SSESpecification with SSEEnabled true, SSEType KMS and KMSMasterKeyId",
        resource_types: TABLE,
        checkov: &["CKV_AWS_119"],
        aws_solutions: &[],
        check: ddb_kms,
    },
    Rule {
        id: "lambda-dead-letter-queue",
        severity: Severity::Warning,
        summary: "Lambda functions invoked asynchronously keep failed events",
        rationale: "A dead-letter target keeps events whose retries failed, instead of dropping them.",
        fix: "set DeadLetterConfig.TargetArn (an SQS queue or SNS topic), or an on-failure destination",
        resource_types: FUNCTION,
        checkov: &["CKV_AWS_116"],
        aws_solutions: &[],
        check: lambda_dlq,
    },
    Rule {
        id: "lambda-reserved-concurrency",
        severity: Severity::Warning,
        summary: "Lambda functions have a concurrency limit",
        rationale: "A limit keeps one function from using the account's whole concurrency or flooding what it calls.",
        fix: "set ReservedConcurrentExecutions",
        resource_types: FUNCTION,
        checkov: &["CKV_AWS_115"],
        aws_solutions: &[],
        check: lambda_concurrency,
    },
    Rule {
        id: "lambda-in-vpc",
        severity: Severity::Warning,
        summary: "Lambda functions that reach private resources run in a VPC",
        rationale: "In a VPC a function reaches databases and caches through security groups, and its egress can be controlled.",
        fix: "set VpcConfig (subnets and security groups), or acknowledge a function that only calls public AWS APIs",
        resource_types: FUNCTION,
        checkov: &["CKV_AWS_117"],
        aws_solutions: &[],
        check: lambda_vpc,
    },
    Rule {
        id: "lambda-environment-kms",
        severity: Severity::Warning,
        summary: "Lambda environment variables are encrypted with a customer managed key",
        rationale: "A key of your own controls who can read the function's configuration.",
        fix: "set KmsKeyArn, and keep secrets in Secrets Manager rather than in the environment",
        resource_types: FUNCTION,
        checkov: &["CKV_AWS_173"],
        aws_solutions: &[],
        check: lambda_env_kms,
    },
];

fn sqs_encryption(s: &Subject<'_>) -> Verdict {
    let kms = s.prop("KmsMasterKeyId").is_some();
    let sse_off = s.prop("SqsManagedSseEnabled").is_some_and(|v| {
        v == &Json::Bool(false) || v.as_str().is_some_and(|t| t.eq_ignore_ascii_case("false"))
    });
    fails(!kms && sse_off, || {
        "SqsManagedSseEnabled is false and KmsMasterKeyId is not set".to_string()
    })
}

fn sqs_ssl_only(s: &Subject<'_>) -> Verdict {
    let denied = s
        .resources_of_type("AWS::SQS::QueuePolicy")
        .filter(|(_, p)| {
            p.properties
                .member("Queues")
                .is_some_and(|q| s.is_referenced_in(q))
        })
        .any(|(_, p)| {
            statements(p.properties.member("PolicyDocument"))
                .into_iter()
                .any(denies_insecure_transport)
        });
    fails(!denied, || {
        "no queue policy of the template denies requests without TLS".to_string()
    })
}

fn sqs_dlq(s: &Subject<'_>) -> Verdict {
    if s.prop("RedrivePolicy").is_some() {
        return None;
    }
    let is_dlq = s.resources_of_type("AWS::SQS::Queue").any(|(_, q)| {
        q.properties
            .member("RedrivePolicy")
            .is_some_and(|r| refers_to(r, s.logical_id))
    });
    fails(!is_dlq, || {
        "the queue has no RedrivePolicy and is no other queue's dead-letter queue".to_string()
    })
}

fn ddb_pitr(s: &Subject<'_>) -> Verdict {
    fails(
        !s.is_true("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"),
        || "PointInTimeRecoveryEnabled is not true".to_string(),
    )
}

fn ddb_kms(s: &Subject<'_>) -> Verdict {
    fails(s.prop("SSESpecification.KMSMasterKeyId").is_none(), || {
        "SSESpecification.KMSMasterKeyId is not set (an AWS owned or managed key is used)"
            .to_string()
    })
}

fn lambda_dlq(s: &Subject<'_>) -> Verdict {
    fails(s.prop("DeadLetterConfig.TargetArn").is_none(), || {
        "DeadLetterConfig is not set".to_string()
    })
}

fn lambda_concurrency(s: &Subject<'_>) -> Verdict {
    fails(s.prop("ReservedConcurrentExecutions").is_none(), || {
        "ReservedConcurrentExecutions is not set".to_string()
    })
}

fn lambda_vpc(s: &Subject<'_>) -> Verdict {
    let subnets = items(s.prop("VpcConfig.SubnetIds"));
    fails(subnets.is_empty(), || "VpcConfig is not set".to_string())
}

fn lambda_env_kms(s: &Subject<'_>) -> Verdict {
    let has_env = s
        .prop("Environment.Variables")
        .and_then(Json::as_object)
        .is_some_and(|v| !v.is_empty());
    fails(has_env && s.prop("KmsKeyArn").is_none(), || {
        "the function has environment variables and no KmsKeyArn".to_string()
    })
}
