//! Rules on databases, caches, secrets, keys and topics.

use serde_json::Value as Json;

use super::{allows, denies_insecure_transport, fails, number, principal_is_everyone, statements};
use crate::core::rules::{Rule, Severity, Subject, Verdict};

const DB: &[&str] = &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"];
const DB_INSTANCE: &[&str] = &["AWS::RDS::DBInstance"];
const CACHE: &[&str] = &["AWS::ElastiCache::ReplicationGroup"];

pub(super) const RULES: &[Rule] = &[
    Rule {
        id: "rds-storage-encrypted",
        severity: Severity::Error,
        summary: "RDS instances and clusters encrypt their storage",
        rationale: "Storage encryption protects the data, its automated backups, snapshots and replicas at rest. A read replica inherits its source's encryption and cannot declare it, so scanners that read the template flag it: acknowledge that on the replica.",
        fix: "set StorageEncrypted to true (and KmsKeyId to a key of your own)",
        resource_types: DB,
        checkov: &["CKV_AWS_16"],
        aws_solutions: &["AwsSolutions-RDS2"],
        check: rds_storage_encrypted,
    },
    Rule {
        id: "rds-public-access",
        severity: Severity::Error,
        summary: "RDS instances are not publicly accessible",
        rationale: "A public endpoint exposes the database to the internet; only the security groups would stand between it and every scanner.",
        fix: "set PubliclyAccessible to false and place the instance in private subnets",
        resource_types: DB_INSTANCE,
        checkov: &["CKV_AWS_17"],
        aws_solutions: &[],
        check: rds_public,
    },
    Rule {
        id: "rds-backup",
        severity: Severity::Error,
        summary: "RDS instances and clusters keep automated backups",
        rationale: "Automated backups allow point-in-time recovery; a retention of 0 turns them off.",
        fix: "set BackupRetentionPeriod to 1 or more days (7 or more in production)",
        resource_types: DB,
        checkov: &[],
        aws_solutions: &["AwsSolutions-RDS13"],
        check: rds_backup,
    },
    Rule {
        id: "rds-multi-az",
        severity: Severity::Warning,
        summary: "RDS instances are Multi-AZ",
        rationale: "A standby in another availability zone takes over within minutes when the primary or its zone fails.",
        fix: "set MultiAZ to true",
        resource_types: DB_INSTANCE,
        checkov: &["CKV_AWS_157"],
        aws_solutions: &["AwsSolutions-RDS3"],
        check: rds_multi_az,
    },
    Rule {
        id: "rds-iam-authentication",
        severity: Severity::Warning,
        summary: "RDS instances and clusters accept IAM database authentication",
        rationale: "IAM authentication lets applications connect with short-lived tokens instead of long-lived passwords; enabling it costs nothing and keeps password logins working.",
        fix: "set EnableIAMDatabaseAuthentication to true",
        resource_types: DB,
        checkov: &["CKV_AWS_161"],
        aws_solutions: &["AwsSolutions-RDS6"],
        check: rds_iam_auth,
    },
    Rule {
        id: "rds-deletion-protection",
        severity: Severity::Warning,
        summary: "RDS instances and clusters have deletion protection",
        rationale: "Deletion protection stops a stack update, a stack deletion or a console click from deleting the database.",
        fix: "set DeletionProtection to true",
        resource_types: DB,
        checkov: &[],
        aws_solutions: &["AwsSolutions-RDS10"],
        check: rds_deletion_protection,
    },
    Rule {
        id: "rds-default-port",
        severity: Severity::Warning,
        summary: "RDS instances and clusters listen on a non-default port",
        rationale: "AWS Solutions counts port obfuscation as a layer against untargeted scans; security groups are the real control.",
        fix: "set Port to a value other than the engine's default",
        resource_types: DB,
        checkov: &[],
        aws_solutions: &["AwsSolutions-RDS11"],
        check: rds_default_port,
    },
    Rule {
        id: "rds-enhanced-monitoring",
        severity: Severity::Warning,
        summary: "RDS instances publish enhanced monitoring",
        rationale: "Operating-system metrics at a fine interval explain load that CloudWatch's instance metrics do not show.",
        fix: "set MonitoringInterval (1 to 60 seconds) and MonitoringRoleArn",
        resource_types: DB_INSTANCE,
        checkov: &["CKV_AWS_118"],
        aws_solutions: &[],
        check: rds_enhanced_monitoring,
    },
    Rule {
        id: "rds-tls-in-transit",
        severity: Severity::Warning,
        summary: "RDS instances refuse connections without TLS",
        rationale: "The engine's force-TLS parameter (rds.force_ssl for PostgreSQL, require_secure_transport for MySQL and MariaDB) makes plaintext connections fail.",
        fix: "give the instance a DBParameterGroup of the template with rds.force_ssl = 1 (or require_secure_transport = ON)",
        resource_types: DB_INSTANCE,
        checkov: &["CKV2_AWS_69"],
        aws_solutions: &[],
        check: rds_tls,
    },
    Rule {
        id: "elasticache-in-vpc",
        severity: Severity::Error,
        summary: "ElastiCache clusters run in a VPC",
        rationale: "A subnet group places the nodes in your subnets, behind security groups.",
        fix: "set CacheSubnetGroupName",
        resource_types: &[
            "AWS::ElastiCache::ReplicationGroup",
            "AWS::ElastiCache::CacheCluster",
        ],
        checkov: &[],
        aws_solutions: &["AwsSolutions-AEC1"],
        check: cache_in_vpc,
    },
    Rule {
        id: "elasticache-encryption",
        severity: Severity::Error,
        summary: "Redis replication groups encrypt at rest and in transit",
        rationale: "Cached data often includes sessions and personal data; TLS protects it on the wire and at-rest encryption on disk and in backups.",
        fix: "set AtRestEncryptionEnabled and TransitEncryptionEnabled to true",
        resource_types: CACHE,
        checkov: &["CKV_AWS_29", "CKV_AWS_30"],
        aws_solutions: &["AwsSolutions-AEC3"],
        check: cache_encryption,
    },
    Rule {
        id: "elasticache-auth",
        severity: Severity::Error,
        summary: "Redis replication groups require authentication",
        rationale: "Without an AUTH token (or RBAC user groups) anything that reaches the port can read and write the cache.",
        fix: "set AuthToken from a secret (with TransitEncryptionEnabled) or UserGroupIds",
        resource_types: CACHE,
        checkov: &["CKV_AWS_31"],
        aws_solutions: &["AwsSolutions-AEC6"],
        check: cache_auth,
    },
    Rule {
        id: "elasticache-multi-az",
        severity: Severity::Warning,
        summary: "Redis replication groups are Multi-AZ with automatic failover",
        rationale: "A replica in another zone is promoted when the primary fails.",
        fix: "use two or more nodes and set MultiAZEnabled and AutomaticFailoverEnabled to true",
        resource_types: CACHE,
        checkov: &[],
        aws_solutions: &["AwsSolutions-AEC4"],
        check: cache_multi_az,
    },
    Rule {
        id: "elasticache-default-port",
        severity: Severity::Warning,
        summary: "ElastiCache listens on a non-default port",
        rationale: "AWS Solutions counts port obfuscation as a layer against untargeted scans; security groups are the real control.",
        fix: "set Port to a value other than 6379 (Redis) or 11211 (Memcached)",
        resource_types: CACHE,
        checkov: &[],
        aws_solutions: &["AwsSolutions-AEC5"],
        check: cache_default_port,
    },
    Rule {
        id: "elasticache-backup",
        severity: Severity::Warning,
        summary: "Redis replication groups keep snapshots",
        rationale: "Daily snapshots let the cache be restored after a bad write or a lost cluster.",
        fix: "set SnapshotRetentionLimit to 1 or more days",
        resource_types: CACHE,
        checkov: &[],
        aws_solutions: &[],
        check: cache_backup,
    },
    Rule {
        id: "secret-rotation",
        severity: Severity::Warning,
        summary: "Secrets are rotated automatically",
        rationale: "Rotation limits how long a leaked secret stays useful.",
        fix: "add an AWS::SecretsManager::RotationSchedule for the secret",
        resource_types: &["AWS::SecretsManager::Secret"],
        checkov: &[],
        aws_solutions: &["AwsSolutions-SMG4"],
        check: secret_rotation,
    },
    Rule {
        id: "secret-kms",
        severity: Severity::Warning,
        summary: "Secrets are encrypted with a customer managed KMS key",
        rationale: "A key of your own controls who can decrypt the secret, beyond the secret's own policy.",
        fix: "set KmsKeyId",
        resource_types: &["AWS::SecretsManager::Secret"],
        checkov: &["CKV_AWS_149"],
        aws_solutions: &[],
        check: secret_kms,
    },
    Rule {
        id: "kms-key-rotation",
        severity: Severity::Error,
        summary: "Symmetric KMS keys rotate yearly",
        rationale: "Rotation limits the data encrypted under one key version.",
        fix: "set EnableKeyRotation to true",
        resource_types: &["AWS::KMS::Key"],
        checkov: &["CKV_AWS_7"],
        aws_solutions: &["AwsSolutions-KMS5"],
        check: kms_rotation,
    },
    Rule {
        id: "kms-key-policy-wildcard",
        severity: Severity::Error,
        summary: "KMS key policies allow no unconditioned * principal",
        rationale: "An Allow for Principal * without a condition lets any AWS account use the key.",
        fix: "name the account root, roles or services as principals, or add a condition",
        resource_types: &["AWS::KMS::Key"],
        checkov: &["CKV_AWS_33"],
        aws_solutions: &[],
        check: kms_policy_wildcard,
    },
    Rule {
        id: "sns-encryption",
        severity: Severity::Error,
        summary: "SNS topics are encrypted with KMS",
        rationale: "Messages at rest in the topic are encrypted; alarms and alerts can name resources and people.",
        fix: "set KmsMasterKeyId",
        resource_types: &["AWS::SNS::Topic"],
        checkov: &["CKV_AWS_26"],
        aws_solutions: &["AwsSolutions-SNS2"],
        check: sns_encryption,
    },
    Rule {
        id: "sns-ssl-only",
        severity: Severity::Warning,
        summary: "SNS topic policies deny publishing without TLS",
        rationale: "A Deny on aws:SecureTransport false makes plaintext publishing fail.",
        fix: "add an AWS::SNS::TopicPolicy for the topic with a Deny on sns:Publish when aws:SecureTransport is false",
        resource_types: &["AWS::SNS::Topic"],
        checkov: &[],
        aws_solutions: &["AwsSolutions-SNS3"],
        check: sns_ssl_only,
    },
];

fn is_replica(s: &Subject<'_>) -> bool {
    s.prop("SourceDBInstanceIdentifier").is_some() || s.prop("SourceDbiResourceId").is_some()
}

fn in_cluster(s: &Subject<'_>) -> bool {
    s.type_name() == "AWS::RDS::DBInstance" && s.prop("DBClusterIdentifier").is_some()
}

fn engine<'a>(s: &Subject<'a>) -> &'a str {
    s.prop("Engine").and_then(Json::as_str).unwrap_or_default()
}

fn rds_storage_encrypted(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) || s.is_true("StorageEncrypted") {
        return None;
    }
    Some(if is_replica(s) {
        "the read replica declares no StorageEncrypted (it inherits its source's encryption, which template scanners cannot see)".to_string()
    } else {
        "StorageEncrypted is not true".to_string()
    })
}

fn rds_public(s: &Subject<'_>) -> Verdict {
    fails(s.is_true("PubliclyAccessible"), || {
        "PubliclyAccessible is true".to_string()
    })
}

fn rds_backup(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) || is_replica(s) {
        return None;
    }
    let days = s.prop("BackupRetentionPeriod").and_then(number);
    fails(days == Some(0.0), || {
        "BackupRetentionPeriod is 0, which turns automated backups off".to_string()
    })
}

fn rds_multi_az(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) {
        return None;
    }
    fails(!s.is_true("MultiAZ"), || {
        if is_replica(s) {
            "the read replica is not Multi-AZ".to_string()
        } else {
            "MultiAZ is not true".to_string()
        }
    })
}

fn rds_iam_auth(s: &Subject<'_>) -> Verdict {
    let e = engine(s);
    let supported = ["mysql", "postgres", "mariadb", "aurora"]
        .iter()
        .any(|p| e.starts_with(p));
    if in_cluster(s) || is_replica(s) || !supported {
        return None;
    }
    fails(!s.is_true("EnableIAMDatabaseAuthentication"), || {
        "EnableIAMDatabaseAuthentication is not true".to_string()
    })
}

fn rds_deletion_protection(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) {
        return None;
    }
    fails(!s.is_true("DeletionProtection"), || {
        "DeletionProtection is not true".to_string()
    })
}

fn default_db_port(engine: &str) -> Option<f64> {
    Some(match engine {
        e if e.starts_with("postgres") || e == "aurora-postgresql" => 5432.0,
        e if e.starts_with("mysql") || e.starts_with("mariadb") || e.starts_with("aurora") => {
            3306.0
        }
        e if e.starts_with("sqlserver") => 1433.0,
        e if e.starts_with("oracle") => 1521.0,
        _ => return None,
    })
}

fn rds_default_port(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) {
        return None;
    }
    match s.prop("Port").and_then(number) {
        None => Some("Port is not set, so the engine's default port is used".to_string()),
        Some(p) if default_db_port(engine(s)) == Some(p) => {
            Some(format!("Port {p} is the engine's default"))
        }
        Some(_) => None,
    }
}

fn rds_enhanced_monitoring(s: &Subject<'_>) -> Verdict {
    let interval = s.prop("MonitoringInterval").and_then(number).unwrap_or(0.0);
    fails(interval <= 0.0, || {
        "MonitoringInterval is not set (enhanced monitoring is off)".to_string()
    })
}

fn rds_tls(s: &Subject<'_>) -> Verdict {
    if in_cluster(s) {
        return None;
    }
    let group = s.prop("DBParameterGroupName");
    let forced = group.is_some_and(|g| {
        s.resources_of_type("AWS::RDS::DBParameterGroup")
            .filter(|(id, _)| crate::core::rules::refers_to(g, id))
            .any(|(_, pg)| {
                let params = pg.properties.member("Parameters");
                let get = |k: &str| params.and_then(|p| p.get(k));
                get("rds.force_ssl").and_then(number) == Some(1.0)
                    || get("require_secure_transport").is_some_and(|v| {
                        number(v) == Some(1.0)
                            || v.as_str().is_some_and(|t| t.eq_ignore_ascii_case("on"))
                    })
            })
    });
    fails(!forced, || {
        "no parameter group of the template forces TLS (rds.force_ssl or require_secure_transport)"
            .to_string()
    })
}

fn cache_in_vpc(s: &Subject<'_>) -> Verdict {
    fails(s.prop("CacheSubnetGroupName").is_none(), || {
        "CacheSubnetGroupName is not set".to_string()
    })
}

fn is_redis(s: &Subject<'_>) -> bool {
    matches!(engine(s), "" | "redis" | "valkey")
}

fn cache_encryption(s: &Subject<'_>) -> Verdict {
    if !is_redis(s) {
        return None;
    }
    let missing: Vec<&str> = ["AtRestEncryptionEnabled", "TransitEncryptionEnabled"]
        .into_iter()
        .filter(|p| !s.is_true(p))
        .collect();
    fails(!missing.is_empty(), || {
        format!("{} not true", missing.join(" and "))
    })
}

fn cache_auth(s: &Subject<'_>) -> Verdict {
    if !is_redis(s) {
        return None;
    }
    let auth = s.prop("AuthToken").is_some() || s.prop("UserGroupIds").is_some();
    fails(!auth, || {
        "neither AuthToken nor UserGroupIds is set".to_string()
    })
}

fn cache_multi_az(s: &Subject<'_>) -> Verdict {
    fails(
        !(s.is_true("MultiAZEnabled") && s.is_true("AutomaticFailoverEnabled")),
        || "MultiAZEnabled and AutomaticFailoverEnabled are not both true".to_string(),
    )
}

fn cache_default_port(s: &Subject<'_>) -> Verdict {
    match s.prop("Port").and_then(number) {
        None => Some("Port is not set, so the engine's default port is used".to_string()),
        Some(p) if p == 6379.0 || p == 11211.0 => Some(format!("Port {p} is the engine's default")),
        Some(_) => None,
    }
}

fn cache_backup(s: &Subject<'_>) -> Verdict {
    let days = s
        .prop("SnapshotRetentionLimit")
        .and_then(number)
        .unwrap_or(0.0);
    fails(days <= 0.0, || {
        "SnapshotRetentionLimit is not set (no automatic snapshots)".to_string()
    })
}

fn secret_rotation(s: &Subject<'_>) -> Verdict {
    let rotated = s
        .resources_of_type("AWS::SecretsManager::RotationSchedule")
        .any(|(_, r)| {
            r.properties
                .member("SecretId")
                .is_some_and(|id| s.is_referenced_in(id))
        });
    fails(!rotated, || {
        "no RotationSchedule of the template rotates the secret".to_string()
    })
}

fn secret_kms(s: &Subject<'_>) -> Verdict {
    fails(s.prop("KmsKeyId").is_none(), || {
        "KmsKeyId is not set (the AWS managed key aws/secretsmanager is used)".to_string()
    })
}

fn kms_rotation(s: &Subject<'_>) -> Verdict {
    let symmetric = s
        .prop("KeySpec")
        .and_then(Json::as_str)
        .is_none_or(|k| k == "SYMMETRIC_DEFAULT");
    fails(symmetric && !s.is_true("EnableKeyRotation"), || {
        "EnableKeyRotation is not true".to_string()
    })
}

fn kms_policy_wildcard(s: &Subject<'_>) -> Verdict {
    let open = statements(s.prop("KeyPolicy"))
        .into_iter()
        .filter(|st| allows(st) && principal_is_everyone(st) && st.get("Condition").is_none())
        .count();
    fails(open > 0, || {
        format!("{open} statement(s) of KeyPolicy allow Principal * without a condition")
    })
}

fn sns_encryption(s: &Subject<'_>) -> Verdict {
    fails(s.prop("KmsMasterKeyId").is_none(), || {
        "KmsMasterKeyId is not set".to_string()
    })
}

fn sns_ssl_only(s: &Subject<'_>) -> Verdict {
    let denied = s
        .resources_of_type("AWS::SNS::TopicPolicy")
        .filter(|(_, p)| {
            p.properties
                .member("Topics")
                .is_some_and(|t| s.is_referenced_in(t))
        })
        .any(|(_, p)| {
            statements(p.properties.member("PolicyDocument"))
                .into_iter()
                .any(denies_insecure_transport)
        });
    fails(!denied, || {
        "no topic policy of the template denies publishing without TLS".to_string()
    })
}
