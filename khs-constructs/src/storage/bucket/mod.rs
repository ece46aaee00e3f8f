//! [`Bucket`]: an S3 bucket with secure defaults.
//!
//! What a `Bucket` emits:
//! - one `AWS::S3::Bucket`: server-side encryption (SSE-S3 / AES-256 unless
//!   [`BucketEncryption::Kms`]), every public access block on, object
//!   ownership `BucketOwnerEnforced` (ACLs off) unless
//!   [`ObjectOwnership::BucketOwnerPreferred`] is chosen, versioning on,
//!   the lifecycle rules of [`BucketProps::lifecycle_rules`], server access
//!   logging when [`BucketProps::server_access_logs`] is set, and
//!   `DeletionPolicy`/`UpdateReplacePolicy` `Retain`;
//! - one `AWS::S3::BucketPolicy` that denies every request not made over TLS
//!   (`aws:SecureTransport` = `false`) plus one statement group per
//!   [`BucketGrant`] (CloudTrail, AWS Config, S3 server access logs, AWS
//!   Backup reports, CloudFront through an origin access control), each
//!   limited to this account with `aws:SourceAccount` and, where the writer
//!   is known, `aws:SourceArn`.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::storage::bucket::{Bucket, BucketName, BucketProps, LifecycleRule};
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let logs = Bucket::new(&mut stack, "Logs", BucketProps {
//!     name: BucketName::unique("khs-crm-logs"),
//!     lifecycle_rules: vec![LifecycleRule::archive_then_expire("Archive")],
//!     ..BucketProps::default()
//! }).unwrap();
//! assert_eq!(logs.bucket().logical_id().as_str(), "LogsBucket");
//! ```

mod checks;
mod construct;
mod import;
mod policy;
mod props;

pub(crate) use checks::*;
pub use construct::*;
pub use import::*;
pub(crate) use policy::*;
pub use props::*;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cfn;

    use crate::core::path::ConstructPath;
    use crate::core::resource::Handle;

    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::{Value as Json, json};

    fn stack() -> Stack {
        Stack::new("test", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn resources(stack: &Stack) -> Json {
        serde_json::to_value(stack.synth().unwrap().resources).unwrap()
    }

    fn err(props: BucketProps) -> String {
        let mut s = stack();
        Bucket::new(&mut s, "Logs", props).unwrap_err().to_string()
    }

    fn with_rule(rule: LifecycleRule) -> BucketProps {
        BucketProps {
            lifecycle_rules: vec![rule],
            ..BucketProps::default()
        }
    }

    #[test]
    fn defaults_are_secure() {
        let mut s = stack();
        let b = Bucket::new(&mut s, "Data", BucketProps::default()).unwrap();
        assert_eq!(b.bucket().logical_id().as_str(), "DataBucket");
        let r = resources(&s);
        let bucket = &r["DataBucket"];
        assert_eq!(bucket["DeletionPolicy"], "Retain");
        assert_eq!(bucket["UpdateReplacePolicy"], "Retain");
        let p = &bucket["Properties"];
        assert!(p.get("BucketName").is_none());
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"],
            "AES256"
        );
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(p["PublicAccessBlockConfiguration"][k], true, "{k}");
        }
        assert_eq!(
            p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            "BucketOwnerEnforced"
        );
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
        assert!(p.get("LifecycleConfiguration").is_none());
        let policy = &r["DataPolicy"]["Properties"];
        assert_eq!(policy["Bucket"], json!({"Ref": "DataBucket"}));
        let st = &policy["PolicyDocument"]["Statement"][0];
        assert_eq!(st["Effect"], "Deny");
        assert_eq!(
            st["Condition"]["Bool"]["aws:SecureTransport"],
            json!("false")
        );
        assert_eq!(
            st["Resource"],
            json!([{"Fn::Sub": "${DataBucket.Arn}"}, {"Fn::Sub": "${DataBucket.Arn}/*"}])
        );
    }

    #[test]
    fn seed_lifecycle_and_unique_name() {
        let mut s = stack();
        Bucket::new(
            &mut s,
            "Logs",
            BucketProps {
                name: BucketName::unique("khs-crm-logs"),
                encryption: BucketEncryption::Kms { key: None },
                lifecycle_rules: vec![LifecycleRule::archive_then_expire("Archive")],
                ..BucketProps::default()
            },
        )
        .unwrap();
        let r = resources(&s);
        let p = &r["LogsBucket"]["Properties"];
        assert_eq!(
            p["BucketName"],
            json!({"Fn::Sub": "khs-crm-logs-${AWS::AccountId}-${AWS::Region}"})
        );
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"],
            true
        );
        assert_eq!(
            p["LifecycleConfiguration"]["Rules"][0],
            json!({
                "Id": "Archive",
                "Status": "Enabled",
                "Transitions": [
                    {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                    {"StorageClass": "GLACIER", "TransitionInDays": 90}
                ],
                "ExpirationInDays": 365,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
            })
        );
    }

    #[test]
    fn intelligent_tiering_preset_is_valid() {
        let mut s = stack();
        Bucket::new(
            &mut s,
            "B",
            with_rule(LifecycleRule::intelligent_tiering("Tiering")),
        )
        .unwrap();
        let r = resources(&s);
        assert_eq!(
            r["BBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["Transitions"][0],
            json!({"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0})
        );
    }

    #[test]
    fn grants_and_access_logs() {
        let mut s = stack();
        let mut logs = Bucket::new(
            &mut s,
            "Logs",
            BucketProps {
                object_ownership: ObjectOwnership::BucketOwnerPreferred,
                grants: vec![
                    BucketGrant::ServerAccessLogs {
                        prefix: "s3-access/".into(),
                    },
                    BucketGrant::CloudTrail {
                        prefix: String::new(),
                        trail_name: Some("main".into()),
                    },
                    BucketGrant::Config {
                        prefix: "config/".into(),
                    },
                    BucketGrant::BackupReports {
                        prefix: "backup/".into(),
                    },
                ],
                ..BucketProps::default()
            },
        )
        .unwrap();
        let data = Bucket::new(
            &mut s,
            "Data",
            BucketProps {
                server_access_logs: Some(ServerAccessLogs {
                    bucket: logs.reference(),
                    prefix: "s3-access/data/".into(),
                }),
                ..BucketProps::default()
            },
        )
        .unwrap();
        let dist = Handle::<cfn::cloudfront::Distribution>::new(
            crate::core::logical_id::LogicalId::from_path(
                &ConstructPath::root("test").child("Dist").unwrap(),
            )
            .unwrap(),
        );
        let _ = data;
        logs.add_grant(
            &mut s,
            BucketGrant::CloudFrontRead {
                distribution: dist,
                list: false,
            },
        )
        .unwrap();
        let t = s.template();
        let r = serde_json::to_value(&t.resources).unwrap();
        assert_eq!(r["DataBucket"]["DependsOn"], json!(["LogsPolicy"]));
        assert_eq!(
            r["DataBucket"]["Properties"]["LoggingConfiguration"],
            json!({"DestinationBucketName": {"Ref": "LogsBucket"}, "LogFilePrefix": "s3-access/data/"})
        );
        let st = r["LogsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone();
        let sids: Vec<&str> = st.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert_eq!(
            sids,
            [
                "DenyInsecureTransport",
                "ServerAccessLogsS3Access",
                "CloudTrailAclCheck",
                "CloudTrailWrite",
                "ConfigAclCheck",
                "ConfigWrite",
                "BackupReportsWrite",
                "CloudFrontReadDist"
            ]
        );
        assert_eq!(
            st[3]["Condition"]["StringEquals"]["aws:SourceArn"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/main"})
        );
        assert_eq!(
            st[7]["Condition"]["StringEquals"]["AWS:SourceArn"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Dist}"})
        );
    }

    #[test]
    fn load_balancer_logs_use_the_regions_elb_account_or_the_service() {
        for (region, principal) in [
            (
                "us-east-1",
                json!({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root"}}),
            ),
            (
                "mx-central-1",
                json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
            ),
        ] {
            let mut s = Stack::new("test", StackProps::new(Environment::region(region))).unwrap();
            Bucket::new(
                &mut s,
                "Logs",
                BucketProps {
                    grants: vec![BucketGrant::LoadBalancerLogs {
                        prefix: "alb/".into(),
                    }],
                    ..BucketProps::default()
                },
            )
            .unwrap();
            let r = resources(&s);
            let st = &r["LogsPolicy"]["Properties"]["PolicyDocument"]["Statement"][1];
            assert_eq!(st["Principal"], principal, "{region}");
            assert_eq!(
                st["Resource"],
                json!({"Fn::Sub": "${LogsBucket.Arn}/alb/AWSLogs/${AWS::AccountId}/*"})
            );
        }
    }

    #[test]
    fn fails_when_expiration_is_not_after_a_transition() {
        let rule = LifecycleRule {
            expiration_days: Some(90),
            ..LifecycleRule::archive_then_expire("Archive")
        };
        let e = err(with_rule(rule));
        assert!(e.starts_with("test/Logs: lifecycle_rules[Archive].expiration_days must be later than every transition, got 90 days"), "{e}");
    }

    #[test]
    fn fails_when_infrequent_access_is_under_30_days() {
        let rule = LifecycleRule {
            transitions: vec![Transition::new(StorageClass::StandardIa, 7)],
            ..LifecycleRule::new("Ia")
        };
        let e = err(with_rule(rule));
        assert!(e.starts_with("test/Logs: lifecycle_rules[Ia].transitions must move objects to STANDARD_IA after at least 30 days, got 7"), "{e}");
    }

    #[test]
    fn fails_when_transitions_go_to_a_warmer_class() {
        let rule = LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::Glacier, 30),
                Transition::new(StorageClass::StandardIa, 60),
            ],
            ..LifecycleRule::new("Back")
        };
        let e = err(with_rule(rule));
        assert!(e.starts_with("test/Logs: lifecycle_rules[Back].transitions must move objects to colder classes only"), "{e}");
    }

    #[test]
    fn fails_when_transitions_are_not_increasing() {
        let rule = LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::StandardIa, 60),
                Transition::new(StorageClass::Glacier, 60),
            ],
            ..LifecycleRule::new("Same")
        };
        let e = err(with_rule(rule));
        assert!(
            e.contains("test/Logs: lifecycle_rules[Same].transitions must be in increasing days"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_objects_leave_infrequent_access_within_30_days() {
        let rule = LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::StandardIa, 30),
                Transition::new(StorageClass::Glacier, 45),
            ],
            ..LifecycleRule::new("Short")
        };
        let e = err(with_rule(rule));
        assert!(e.contains("test/Logs: lifecycle_rules[Short].transitions must keep objects 30 days in STANDARD_IA"), "{e}");
    }

    #[test]
    fn fails_when_a_storage_class_repeats() {
        let rule = LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::Glacier, 30),
                Transition::new(StorageClass::Glacier, 60),
            ],
            ..LifecycleRule::new("Twice")
        };
        let e = err(with_rule(rule));
        assert!(
            e.contains(
                "test/Logs: lifecycle_rules[Twice].transitions must name each storage class once"
            ),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_rule_has_no_action() {
        let e = err(with_rule(LifecycleRule::new("Empty")));
        assert!(
            e.starts_with("test/Logs: lifecycle_rules[Empty] must have at least one action"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_rule_ids_repeat() {
        let e = err(BucketProps {
            lifecycle_rules: vec![
                LifecycleRule::archive_then_expire("A"),
                LifecycleRule::archive_then_expire("A"),
            ],
            ..BucketProps::default()
        });
        assert!(
            e.starts_with(
                "test/Logs: lifecycle_rules.id must be unique in the bucket, got \"A\" twice"
            ),
            "{e}"
        );
    }

    #[test]
    fn fails_when_noncurrent_actions_on_unversioned_bucket() {
        let e = err(BucketProps {
            versioned: false,
            ..with_rule(LifecycleRule::archive_then_expire("A"))
        });
        assert!(
            e.starts_with("test/Logs: lifecycle_rules[A] acts on noncurrent versions"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_expiration_or_abort_is_zero() {
        let e = err(with_rule(LifecycleRule {
            noncurrent_expiration_days: Some(0),
            ..LifecycleRule::new("Z")
        }));
        assert!(e.starts_with("test/Logs: lifecycle_rules[Z].noncurrent_expiration_days must be at least 1 day, got 0"), "{e}");
        let e = err(with_rule(LifecycleRule {
            abort_incomplete_multipart_upload_days: Some(0),
            ..LifecycleRule::new("Z")
        }));
        assert!(e.starts_with("test/Logs: lifecycle_rules[Z].abort_incomplete_multipart_upload_days must be at least 1 day"), "{e}");
    }

    #[test]
    fn fails_when_the_name_is_invalid() {
        let e = err(BucketProps {
            name: BucketName::Fixed("KHS_Logs".into()),
            ..BucketProps::default()
        });
        assert!(
            e.starts_with("test/Logs: name a bucket name must use only lowercase letters"),
            "{e}"
        );
        let e = err(BucketProps {
            name: BucketName::Fixed("ab".into()),
            ..BucketProps::default()
        });
        assert!(
            e.starts_with("test/Logs: name must be 3 to 63 characters, got 2"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_unique_name_is_too_long() {
        let e = err(BucketProps {
            name: BucketName::unique("a".repeat(41)),
            ..BucketProps::default()
        });
        assert!(e.contains("test/Logs: name prefix"), "{e}");
        assert!(
            e.contains("the prefix can have at most 40 characters"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_access_logs_target_does_not_accept_them() {
        let mut s = stack();
        let logs = Bucket::new(&mut s, "Logs", BucketProps::default()).unwrap();
        let e = Bucket::new(
            &mut s,
            "Data",
            BucketProps {
                server_access_logs: Some(ServerAccessLogs {
                    bucket: logs.reference(),
                    prefix: "s3/".into(),
                }),
                ..BucketProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("test/Data: server_access_logs.prefix must lie below a prefix that test/Logs accepts"), "{e}");
    }

    #[test]
    fn fails_when_access_logs_target_uses_kms() {
        let mut s = stack();
        let logs = Bucket::new(
            &mut s,
            "Logs",
            BucketProps {
                encryption: BucketEncryption::Kms { key: None },
                grants: vec![BucketGrant::ServerAccessLogs {
                    prefix: "s3/".into(),
                }],
                ..BucketProps::default()
            },
        )
        .unwrap();
        let e = Bucket::new(
            &mut s,
            "Data",
            BucketProps {
                server_access_logs: Some(ServerAccessLogs {
                    bucket: logs.reference(),
                    prefix: "s3/".into(),
                }),
                ..BucketProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("test/Data: server_access_logs.bucket must be encrypted with SSE-S3"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_grant_prefix_is_malformed() {
        let e = err(BucketProps {
            grants: vec![BucketGrant::Config {
                prefix: "config".into(),
            }],
            ..BucketProps::default()
        });
        assert!(
            e.starts_with("test/Logs: grants.prefix must end with '/'"),
            "{e}"
        );
        let e = err(BucketProps {
            grants: vec![BucketGrant::ServerAccessLogs {
                prefix: String::new(),
            }],
            ..BucketProps::default()
        });
        assert!(
            e.starts_with("test/Logs: grants.prefix must not be empty"),
            "{e}"
        );
    }
}
