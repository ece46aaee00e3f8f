//! Buckets that exist already: [`Bucket::import`] gives a [`BucketRef`],
//! the type a [`Bucket::reference`] of the app gives, so an imported bucket
//! works where a `BucketRef` is taken.
//!
//! An imported bucket is never modified: nothing of it is in the stack
//! ([`BucketRef::handle`] and [`BucketRef::policy`] are `None`), and no
//! statement is ever written on its policy. Reading and writing it from a
//! function or a service works (the grants go on the app's role:
//! [`BucketRef::grant_read`], [`BucketRef::grant_write`],
//! [`BucketRef::grant_read_write`]), as does
//! [`Code::from_bucket`](crate::serverless::function::Code::from_bucket).
//! Log delivery into it (S3 server access logs, load balancer and
//! CloudFront standard logs), which needs a grant on the bucket itself, is
//! an error that says what the bucket's owner must allow.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::storage::bucket::{Bucket, BucketImport};
//!
//! let mut stack = Stack::new("orders", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let artifacts = Bucket::import(&mut stack, "Artifacts", BucketImport::new("team-artifacts")).unwrap();
//! assert!(artifacts.is_imported() && artifacts.handle().is_none());
//! assert!(stack.template().resources.is_empty());
//! ```

use super::*;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::network::vpc::import::{KEY_ARN, check_arn};
use crate::security::kms::EncryptionKey;

/// What [`Bucket::import`] needs to know of an existing bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketImport {
    /// The bucket name: a literal (checked against S3's naming rules) or a
    /// value such as `scope.import_external("shared:BucketName")?`.
    pub name: Value<String>,
    /// The ARN of the customer managed KMS key the bucket's objects are
    /// encrypted with (`arn:aws:kms:<region>:<account>:key/<id>`, in the
    /// stack's region, or a value): grants then add `kms:Decrypt` (read)
    /// and `kms:GenerateDataKey` (write) on it, through S3 only.
    ///
    /// Default: - none (SSE-S3, or the AWS managed key `aws/s3`).
    pub kms_key_arn: Option<Value<String>>,
    /// The bucket's object ownership, as its owner configured it (the
    /// checks of constructs that need ACLs read it).
    ///
    /// Default: [`ObjectOwnership::BucketOwnerEnforced`] (ACLs off).
    pub object_ownership: ObjectOwnership,
}

impl BucketImport {
    /// An import of the bucket `name`, with the defaults above.
    pub fn new(name: impl Into<Value<String>>) -> Self {
        BucketImport {
            name: name.into(),
            kms_key_arn: None,
            object_ownership: ObjectOwnership::BucketOwnerEnforced,
        }
    }
}

/// Checks a literal name of an imported bucket: S3's characters, 3 to 63
/// characters, not formatted like an IP address.
fn check_imported_name(path: &ConstructPath, name: &str) -> Result<()> {
    if !BUCKET_NAME_LEN.contains(&name.len()) {
        return Err(Error::invalid_prop(
            path,
            "name",
            format!(
                "must be 3 to 63 characters (or a value such as an import), got {} ({name:?})",
                name.len()
            ),
        ));
    }
    check_name_chars(path, name, "a bucket name")?;
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(Error::invalid_prop(
            path,
            "name",
            format!("must not be formatted as an IP address, got {name:?}"),
        ));
    }
    Ok(())
}

/// `template` with `{name}` replaced by the bucket name, as `Fn::Sub` (a
/// literal name inline, any other value as the variable `BucketName`).
pub(crate) fn sub_name(template: &str, name: &Value<String>) -> Value<String> {
    match name {
        Value::Literal(n) => Intrinsic::sub(template.replace("{name}", n)).into(),
        other => Intrinsic::sub_with(
            template.replace("{name}", "${BucketName}"),
            [("BucketName", other.clone())],
        )
        .into(),
    }
}

impl Bucket {
    /// A bucket that exists already, by name. Nothing is added to the
    /// stack and the bucket (and its policy) is never modified; the
    /// reference's ARN is `arn:${AWS::Partition}:s3:::<name>` and its
    /// domain names `<name>.s3.${AWS::URLSuffix}` and
    /// `<name>.s3.${AWS::Region}.${AWS::URLSuffix}`.
    pub fn import(scope: &mut impl AsScope, id: &str, props: BucketImport) -> Result<BucketRef> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        if let Value::Literal(n) = &props.name {
            check_imported_name(&path, n)?;
        }
        let key = match props.kms_key_arn {
            Some(k) => {
                check_arn(&path, "kms_key_arn", &k, &KEY_ARN, me.env())?;
                Some(EncryptionKey::import(&mut me, "Key", k)?)
            }
            None => None,
        };
        let name = props.name;
        Ok(BucketRef {
            bucket: None,
            policy: None,
            arn: sub_name("arn:${AWS::Partition}:s3:::{name}", &name),
            domain_name: sub_name("{name}.s3.${AWS::URLSuffix}", &name),
            regional_domain_name: sub_name("{name}.s3.${AWS::Region}.${AWS::URLSuffix}", &name),
            name,
            path,
            object_ownership: props.object_ownership,
            kms_encrypted: key.is_some(),
            key,
            access_log_prefixes: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::load_balancer::{AccessLogs, validate_access_logs};
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::security::iam::{RoleProps, create_role};
    use crate::serverless::grant::RoleGrantee;
    use serde_json::json;

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn stack() -> Stack {
        Stack::new("uses", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn err(name: &str) -> String {
        Bucket::import(&mut stack(), "Shared", BucketImport::new(name))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_imported_bucket_computes_its_names_and_adds_nothing() {
        let mut s = stack();
        let b = Bucket::import(&mut s, "Shared", BucketImport::new("team-artifacts")).unwrap();
        assert!(b.is_imported() && b.handle().is_none() && b.policy().is_none());
        assert_eq!(b.path().to_string(), "uses/Shared");
        assert_eq!(b.name(), Value::from("team-artifacts"));
        let j = |v: Value<String>| serde_json::to_value(v).unwrap();
        assert_eq!(
            j(b.arn()),
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::team-artifacts"})
        );
        assert_eq!(
            j(b.domain_name()),
            json!({"Fn::Sub": "team-artifacts.s3.${AWS::URLSuffix}"})
        );
        assert_eq!(
            j(b.regional_domain_name()),
            json!({"Fn::Sub": "team-artifacts.s3.${AWS::Region}.${AWS::URLSuffix}"})
        );
        assert!(!b.kms_encrypted() && b.encryption_key().is_none());
        assert!(s.synth().unwrap().resources.is_empty());
    }

    #[test]
    fn a_name_that_is_a_value_goes_into_the_sub_as_a_variable() {
        let mut s = stack();
        let name = s.as_scope().import_external("shared:BucketName").unwrap();
        let b = Bucket::import(&mut s, "Shared", BucketImport::new(name.clone())).unwrap();
        assert_eq!(b.name(), name);
        assert_eq!(
            serde_json::to_value(b.arn()).unwrap(),
            json!({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${BucketName}", {"BucketName": serde_json::to_value(&name).unwrap()}]})
        );
    }

    #[test]
    fn a_grant_on_a_bucket_named_by_a_value_names_its_objects_through_the_variable() {
        let mut s = stack();
        let role = create_role(&mut s, "Worker", RoleProps::new("lambda.amazonaws.com")).unwrap();
        let worker = RoleGrantee::new(role, s.as_scope().path().child("Worker").unwrap());
        let name = s.as_scope().import_external("shared:BucketName").unwrap();
        let b = Bucket::import(&mut s, "Shared", BucketImport::new(name.clone())).unwrap();
        b.grant_read_write(&mut s, &worker).unwrap();
        let t = s.synth().unwrap();
        let st = &t.resources["WorkerReadWriteShared"].properties["PolicyDocument"]["Statement"];
        let name = serde_json::to_value(&name).unwrap();
        assert_eq!(
            st[0]["Resource"],
            json!({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${BucketName}/*", {"BucketName": name}]})
        );
        assert_eq!(
            st[1]["Resource"],
            json!({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${BucketName}", {"BucketName": name}]})
        );
        assert_eq!(
            st.as_array().unwrap().len(),
            2,
            "no key statement without a key"
        );
    }

    #[test]
    fn an_owned_bucket_gives_the_same_reference_type() {
        let mut s = stack();
        let owned = Bucket::new(&mut s, "Data", BucketProps::default()).unwrap();
        let r = owned.reference();
        assert!(!r.is_imported());
        assert_eq!(r.handle(), Some(owned.bucket()));
        assert_eq!(r.policy(), Some(owned.policy()));
        assert_eq!(r.arn(), owned.arn());
    }

    #[test]
    fn grants_on_an_imported_bucket_go_on_the_role_with_its_key() {
        let mut s = stack();
        let role = create_role(&mut s, "Worker", RoleProps::new("lambda.amazonaws.com")).unwrap();
        let worker = RoleGrantee::new(role, s.as_scope().path().child("Worker").unwrap());
        let b = Bucket::import(
            &mut s,
            "Shared",
            BucketImport {
                kms_key_arn: Some(KEY.into()),
                ..BucketImport::new("team-artifacts")
            },
        )
        .unwrap();
        assert!(b.kms_encrypted());
        b.grant_read(&mut s, &worker).unwrap();
        b.grant_write(&mut s, &worker).unwrap();
        let t = s.synth().unwrap();
        let read = &t.resources["WorkerReadShared"].properties["PolicyDocument"]["Statement"];
        assert_eq!(
            read[0]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::team-artifacts/*"})
        );
        assert_eq!(read[1]["Action"], "s3:ListBucket");
        assert_eq!(
            read[1]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::team-artifacts"})
        );
        assert_eq!(read[2]["Action"], "kms:Decrypt");
        let write = &t.resources["WorkerWriteShared"].properties["PolicyDocument"]["Statement"];
        assert_eq!(
            write[1]["Action"],
            json!(["kms:Decrypt", "kms:GenerateDataKey"])
        );
        assert_eq!(
            write[1]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
        );
        assert!(
            !t.resources
                .values()
                .any(|r| r.type_name.starts_with("AWS::S3::") || r.type_name == "AWS::KMS::Key"),
            "nothing of the imported bucket or its key is written"
        );
    }

    #[test]
    fn fails_when_a_literal_name_breaks_s3_rules() {
        assert_eq!(
            err("ab"),
            "uses/Shared: name must be 3 to 63 characters (or a value such as an import), got 2 (\"ab\")"
        );
        assert_eq!(
            err(&"a".repeat(64)),
            format!(
                "uses/Shared: name must be 3 to 63 characters (or a value such as an import), got 64 ({:?})",
                "a".repeat(64)
            )
        );
        assert_eq!(
            err("Team_Artifacts"),
            "uses/Shared: name a bucket name must use only lowercase letters, digits, '-' and '.', start and end with a letter or digit, got \"Team_Artifacts\""
        );
        assert_eq!(
            err("192.168.1.10"),
            "uses/Shared: name must not be formatted as an IP address, got \"192.168.1.10\""
        );
    }

    #[test]
    fn fails_when_the_key_arn_is_not_a_key_of_the_stack_region() {
        let e = Bucket::import(
            &mut stack(),
            "Shared",
            BucketImport {
                kms_key_arn: Some(
                    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into(),
                ),
                ..BucketImport::new("team-artifacts")
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "uses/Shared: kms_key_arn must be in the stack's region us-east-1 (a KMS key serves the services of its own region only), got eu-west-1 in \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\""
        );
    }

    #[test]
    fn fails_when_logs_would_need_a_grant_on_an_imported_bucket() {
        let mut s = stack();
        let shared = Bucket::import(&mut s, "Shared", BucketImport::new("team-logs")).unwrap();
        let e = Bucket::new(
            &mut s,
            "Data",
            BucketProps {
                server_access_logs: Some(ServerAccessLogs {
                    bucket: shared.clone(),
                    prefix: "s3/".into(),
                }),
                ..BucketProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "uses/Data: server_access_logs.bucket is the imported bucket uses/Shared, which this app never modifies, so it cannot grant S3 server access logging; its owner must allow the principal logging.s3.amazonaws.com s3:PutObject on <bucket arn>/s3/* (conditions aws:SourceAccount and aws:SourceArn), or log to a Bucket of the app with BucketGrant::ServerAccessLogs"
        );

        // A load balancer's access logs: the policy handle is the app's own
        // bucket's, which does not make the import writable.
        let own = Bucket::new(&mut s, "Own", BucketProps::default()).unwrap();
        let path = s.as_scope().path().child("Api").unwrap();
        let e = validate_access_logs(
            &path,
            &AccessLogs {
                bucket: shared,
                prefix: "alb".into(),
                bucket_policy: own.policy().clone(),
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "uses/Api: access_logs.bucket is the imported bucket uses/Shared, which this app never modifies, so it cannot grant Elastic Load Balancing log delivery; its owner must allow the region's Elastic Load Balancing account (or logdelivery.elasticloadbalancing.amazonaws.com) s3:PutObject on <bucket arn>/alb/AWSLogs/<account>/*, or log to a Bucket of the app with BucketGrant::LoadBalancerLogs"
        );
    }
}
