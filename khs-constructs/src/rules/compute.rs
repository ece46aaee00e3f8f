//! Rules on ECS, ECR, IAM and CloudTrail.

use serde_json::Value as Json;

use super::{allows, fails, items, principal_is_everyone, statements, text};
use crate::core::rules::{Rule, Severity, Subject, Verdict, lookup};

const TASK_DEFINITION: &[&str] = &["AWS::ECS::TaskDefinition"];
const REPOSITORY: &[&str] = &["AWS::ECR::Repository"];
const IAM_POLICIES: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];
const TRAIL: &[&str] = &["AWS::CloudTrail::Trail"];

pub(super) const RULES: &[Rule] = &[
    Rule {
        id: "ecs-container-insights",
        severity: Severity::Warning,
        summary: "ECS clusters have Container Insights",
        rationale: "Container Insights collects per-task CPU, memory and network metrics.",
        fix: "set ClusterSettings [{Name: containerInsights, Value: enabled}]",
        resource_types: &["AWS::ECS::Cluster"],
        checkov: &["CKV_AWS_65"],
        aws_solutions: &["AwsSolutions-ECS4"],
        check: ecs_insights,
    },
    Rule {
        id: "ecs-container-logging",
        severity: Severity::Warning,
        summary: "Every container of a task definition sends its logs somewhere",
        rationale: "Without a log configuration a container's output is lost when the task stops.",
        fix: "set LogConfiguration (awslogs) on every container definition",
        resource_types: TASK_DEFINITION,
        checkov: &[],
        aws_solutions: &["AwsSolutions-ECS7"],
        check: ecs_logging,
    },
    Rule {
        id: "ecs-environment-variables",
        severity: Severity::Warning,
        summary: "Task definitions pass configuration through secrets, not plain environment variables",
        rationale: "Environment values are readable by anyone who can describe the task definition; secrets must come from Secrets Manager or Parameter Store (Secrets).",
        fix: "move secret values to Secrets; acknowledge plain, non-secret configuration",
        resource_types: TASK_DEFINITION,
        checkov: &[],
        aws_solutions: &["AwsSolutions-ECS2"],
        check: ecs_environment,
    },
    Rule {
        id: "ecs-efs-transit-encryption",
        severity: Severity::Error,
        summary: "EFS volumes of task definitions are mounted with TLS",
        rationale: "Without TransitEncryption the file system's traffic crosses the network in plaintext.",
        fix: "set EFSVolumeConfiguration.TransitEncryption to ENABLED on every EFS volume",
        resource_types: TASK_DEFINITION,
        checkov: &["CKV_AWS_97"],
        aws_solutions: &[],
        check: ecs_efs_transit,
    },
    Rule {
        id: "ecr-scan-on-push",
        severity: Severity::Warning,
        summary: "ECR repositories scan images on push",
        rationale: "Scanning finds known vulnerabilities in an image before it runs.",
        fix: "set ImageScanningConfiguration.ScanOnPush to true",
        resource_types: REPOSITORY,
        checkov: &["CKV_AWS_163"],
        aws_solutions: &[],
        check: ecr_scan,
    },
    Rule {
        id: "ecr-immutable-tags",
        severity: Severity::Warning,
        summary: "ECR repositories have immutable tags",
        rationale: "An immutable tag always names the same image, so a deployment cannot be changed under a service.",
        fix: "set ImageTagMutability to IMMUTABLE",
        resource_types: REPOSITORY,
        checkov: &["CKV_AWS_51"],
        aws_solutions: &[],
        check: ecr_immutable,
    },
    Rule {
        id: "ecr-kms",
        severity: Severity::Warning,
        summary: "ECR repositories are encrypted with KMS",
        rationale: "A KMS key controls and records who can pull the image layers.",
        fix: "set EncryptionConfiguration.EncryptionType to KMS",
        resource_types: REPOSITORY,
        checkov: &["CKV_AWS_136"],
        aws_solutions: &[],
        check: ecr_kms,
    },
    Rule {
        id: "ecr-open-access",
        severity: Severity::Error,
        summary: "ECR repository policies allow no * principal",
        rationale: "A * principal lets any AWS account pull (or push) images.",
        fix: "name the accounts or roles in RepositoryPolicyText",
        resource_types: REPOSITORY,
        checkov: &["CKV_AWS_32"],
        aws_solutions: &["AwsSolutions-ECR1"],
        check: ecr_open,
    },
    Rule {
        id: "iam-no-managed-policies",
        severity: Severity::Warning,
        summary: "IAM principals use policies of their own, not AWS managed policies",
        rationale: "AWS managed policies change without notice and usually grant more than one workload needs.",
        fix: "replace ManagedPolicyArns arn:aws:iam::aws:policy/... with a policy scoped to the workload, or acknowledge the service role policy AWS documents for the service",
        resource_types: &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"],
        checkov: &[],
        aws_solutions: &["AwsSolutions-IAM4"],
        check: iam_managed,
    },
    Rule {
        id: "iam-no-wildcard-permissions",
        severity: Severity::Warning,
        summary: "IAM policies grant no wildcard actions or resources",
        rationale: "A * in an action or a resource grants more than was reviewed. Some actions (ecr:GetAuthorizationToken, the X-Ray APIs) support no resource but *, and object keys below a fixed prefix need one: acknowledge those with that reason.",
        fix: "name the actions and the resource ARNs",
        resource_types: IAM_POLICIES,
        checkov: &[],
        aws_solutions: &["AwsSolutions-IAM5"],
        check: iam_wildcards,
    },
    Rule {
        id: "iam-no-admin-access",
        severity: Severity::Error,
        summary: "IAM policies never allow Action *",
        rationale: "Action * is full administrative access (to the resources listed).",
        fix: "name the actions the workload calls",
        resource_types: IAM_POLICIES,
        checkov: &["CKV_AWS_62", "CKV_AWS_63"],
        aws_solutions: &[],
        check: iam_admin,
    },
    Rule {
        id: "iam-sensitive-actions-on-any-resource",
        severity: Severity::Error,
        summary: "IAM policies allow no credential, data, permission-management or privilege-escalation action on Resource *",
        rationale: "Actions such as iam:CreateAccessKey, iam:PassRole, iam:Put*Policy, sts:AssumeRole, s3:GetObject, secretsmanager:GetSecretValue or kms:Decrypt on every resource expose credentials, let data out or let the principal grant itself more (checkov's IAM policy checks).",
        fix: "name the resources the actions need",
        resource_types: IAM_POLICIES,
        checkov: &[
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
        ],
        aws_solutions: &[],
        check: iam_sensitive,
    },
    Rule {
        id: "iam-trust-wildcard",
        severity: Severity::Error,
        summary: "Role trust policies name who may assume the role",
        rationale: "A * principal in AssumeRolePolicyDocument lets any AWS account assume the role.",
        fix: "name the service, account or role in the trust policy's Principal",
        resource_types: &["AWS::IAM::Role"],
        checkov: &["CKV_AWS_60", "CKV_AWS_61"],
        aws_solutions: &[],
        check: iam_trust,
    },
    Rule {
        id: "cloudtrail-kms",
        severity: Severity::Warning,
        summary: "CloudTrail trails encrypt log files with KMS",
        rationale: "A key of your own controls who can read the audit trail.",
        fix: "set KMSKeyId",
        resource_types: TRAIL,
        checkov: &["CKV_AWS_35"],
        aws_solutions: &[],
        check: trail_kms,
    },
    Rule {
        id: "cloudtrail-log-validation",
        severity: Severity::Warning,
        summary: "CloudTrail trails validate log files",
        rationale: "Digest files prove that log files were not changed or deleted.",
        fix: "set EnableLogFileValidation to true",
        resource_types: TRAIL,
        checkov: &["CKV_AWS_36"],
        aws_solutions: &[],
        check: trail_validation,
    },
    Rule {
        id: "cloudtrail-multi-region",
        severity: Severity::Warning,
        summary: "CloudTrail trails cover every region",
        rationale: "Activity in a region the trail does not cover goes unrecorded.",
        fix: "set IsMultiRegionTrail to true",
        resource_types: TRAIL,
        checkov: &["CKV_AWS_67"],
        aws_solutions: &[],
        check: trail_multi_region,
    },
];

fn containers<'a>(s: &Subject<'a>) -> Vec<&'a Json> {
    items(s.prop("ContainerDefinitions"))
}

fn container_name(c: &Json) -> String {
    c.get("Name")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string()
}

fn ecs_insights(s: &Subject<'_>) -> Verdict {
    let on = items(s.prop("ClusterSettings")).iter().any(|c| {
        c.get("Name").and_then(Json::as_str) == Some("containerInsights")
            && matches!(
                c.get("Value").and_then(Json::as_str),
                Some("enabled" | "enhanced")
            )
    });
    fails(!on, || "containerInsights is not enabled".to_string())
}

fn ecs_logging(s: &Subject<'_>) -> Verdict {
    let bare: Vec<String> = containers(s)
        .into_iter()
        .filter(|c| lookup(c, "LogConfiguration.LogDriver").is_none())
        .map(container_name)
        .collect();
    fails(!bare.is_empty(), || {
        format!("container(s) {} have no LogConfiguration", bare.join(", "))
    })
}

fn ecs_environment(s: &Subject<'_>) -> Verdict {
    let with: Vec<String> = containers(s)
        .into_iter()
        .filter(|c| !items(c.get("Environment")).is_empty())
        .map(|c| {
            let names: Vec<&str> = items(c.get("Environment"))
                .iter()
                .filter_map(|e| e.get("Name").and_then(Json::as_str))
                .collect();
            format!("{} ({})", container_name(c), names.join(", "))
        })
        .collect();
    fails(!with.is_empty(), || {
        format!(
            "container(s) set environment variables: {}",
            with.join("; ")
        )
    })
}

fn ecr_scan(s: &Subject<'_>) -> Verdict {
    fails(!s.is_true("ImageScanningConfiguration.ScanOnPush"), || {
        "ImageScanningConfiguration.ScanOnPush is not true".to_string()
    })
}

fn ecr_immutable(s: &Subject<'_>) -> Verdict {
    let m = s.prop("ImageTagMutability").and_then(Json::as_str);
    fails(m != Some("IMMUTABLE"), || {
        "ImageTagMutability is not IMMUTABLE".to_string()
    })
}

fn ecr_kms(s: &Subject<'_>) -> Verdict {
    let t = s
        .prop("EncryptionConfiguration.EncryptionType")
        .and_then(Json::as_str);
    fails(!matches!(t, Some("KMS" | "KMS_DSSE")), || {
        "EncryptionConfiguration.EncryptionType is not KMS".to_string()
    })
}

fn ecr_open(s: &Subject<'_>) -> Verdict {
    let open = statements(s.prop("RepositoryPolicyText"))
        .into_iter()
        .any(|st| allows(st) && principal_is_everyone(st));
    fails(open, || {
        "RepositoryPolicyText allows Principal *".to_string()
    })
}

fn iam_managed(s: &Subject<'_>) -> Verdict {
    let managed: Vec<String> = items(s.prop("ManagedPolicyArns"))
        .into_iter()
        .filter_map(text)
        .filter(|a| a.contains(":iam::aws:policy/"))
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .collect();
    fails(!managed.is_empty(), || {
        format!("AWS managed policies attached: {}", managed.join(", "))
    })
}

/// Every policy document of an IAM resource, with a name for messages.
fn policy_documents<'a>(s: &Subject<'a>) -> Vec<(String, &'a Json)> {
    let mut out = Vec::new();
    if let Some(doc) = s.prop("PolicyDocument") {
        out.push(("PolicyDocument".to_string(), doc));
    }
    for p in items(s.prop("Policies")) {
        if let Some(doc) = p.get("PolicyDocument") {
            let name = p.get("PolicyName").and_then(text).unwrap_or("?");
            out.push((format!("policy {name}"), doc));
        }
    }
    out
}

fn wildcard_value(v: &Json) -> bool {
    match text(v) {
        Some(t) => t.contains('*'),
        None => v.to_string().contains('*'),
    }
}

fn iam_wildcards(s: &Subject<'_>) -> Verdict {
    let mut found = Vec::new();
    for (name, doc) in policy_documents(s) {
        for st in statements(Some(doc)).into_iter().filter(|st| allows(st)) {
            let actions: Vec<String> = items(st.get("Action"))
                .into_iter()
                .filter_map(Json::as_str)
                .filter(|a| a.contains('*'))
                .map(str::to_string)
                .collect();
            let wild_resource = items(st.get("Resource")).into_iter().any(wildcard_value);
            if !actions.is_empty() {
                found.push(format!("{name} allows {}", actions.join(", ")));
            }
            if wild_resource {
                let acts: Vec<&str> = items(st.get("Action"))
                    .into_iter()
                    .filter_map(Json::as_str)
                    .collect();
                found.push(format!(
                    "{name} allows {} on a wildcard resource",
                    acts.join(", ")
                ));
            }
        }
    }
    fails(!found.is_empty(), || found.join("; "))
}

fn iam_admin(s: &Subject<'_>) -> Verdict {
    let admin = policy_documents(s).into_iter().any(|(_, doc)| {
        statements(Some(doc)).into_iter().any(|st| {
            allows(st)
                && items(st.get("Action"))
                    .iter()
                    .any(|a| a.as_str() == Some("*"))
        })
    });
    fails(admin, || "a statement allows Action *".to_string())
}

/// Actions that expose credentials, let data out, manage permissions or
/// escalate privileges; `service:*` and `*` include them.
const SENSITIVE_ACTIONS: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:PassRole",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "sts:AssumeRole",
    "sts:GetFederationToken",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutBucketPolicy",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "ec2:CreateNetworkInterface",
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
];

/// Whether the action pattern `pattern` (`s3:*`, `iam:Put*`) matches `action`.
fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match p.strip_suffix('*') {
        Some(prefix) => a.starts_with(prefix),
        None => p == a,
    }
}

fn iam_sensitive(s: &Subject<'_>) -> Verdict {
    let mut found = Vec::new();
    for (name, doc) in policy_documents(s) {
        for st in statements(Some(doc)).into_iter().filter(|st| allows(st)) {
            let any_resource = items(st.get("Resource"))
                .iter()
                .any(|r| r.as_str() == Some("*"));
            if !any_resource || st.get("Condition").is_some() {
                continue;
            }
            for a in items(st.get("Action")).into_iter().filter_map(Json::as_str) {
                if SENSITIVE_ACTIONS.iter().any(|x| action_matches(a, x)) {
                    found.push(format!("{name} allows {a} on Resource *"));
                }
            }
        }
    }
    fails(!found.is_empty(), || found.join("; "))
}

fn ecs_efs_transit(s: &Subject<'_>) -> Verdict {
    let plain: Vec<String> = items(s.prop("Volumes"))
        .into_iter()
        .filter(|v| {
            v.get("EFSVolumeConfiguration").is_some_and(|c| {
                c.get("TransitEncryption").and_then(Json::as_str) != Some("ENABLED")
            })
        })
        .map(|v| {
            v.get("Name")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    fails(!plain.is_empty(), || {
        format!("EFS volume(s) {} are mounted without TLS", plain.join(", "))
    })
}

fn iam_trust(s: &Subject<'_>) -> Verdict {
    let open = statements(s.prop("AssumeRolePolicyDocument"))
        .into_iter()
        .any(|st| allows(st) && principal_is_everyone(st));
    fails(open, || {
        "AssumeRolePolicyDocument allows Principal *".to_string()
    })
}

fn trail_kms(s: &Subject<'_>) -> Verdict {
    fails(s.prop("KMSKeyId").is_none(), || {
        "KMSKeyId is not set".to_string()
    })
}

fn trail_validation(s: &Subject<'_>) -> Verdict {
    fails(!s.is_true("EnableLogFileValidation"), || {
        "EnableLogFileValidation is not true".to_string()
    })
}

fn trail_multi_region(s: &Subject<'_>) -> Verdict {
    fails(!s.is_true("IsMultiRegionTrail"), || {
        "IsMultiRegionTrail is not true".to_string()
    })
}
