//! The bootstrap stack: per account and region, the staging bucket that
//! file assets are published to before a deployment (`khs bootstrap`).
//!
//! The template is synthesized by the library's own [`Bucket`]: SSE-S3
//! (or SSE-KMS with the AWS managed key `aws/s3`), versioned, every public
//! access block on, ACLs off, a bucket policy that denies requests without
//! TLS, noncurrent versions expired after [`BootstrapProps::noncurrent_version_days`]
//! and incomplete multipart uploads aborted after
//! [`ABORT_INCOMPLETE_UPLOAD_DAYS`], retained on deletion and replacement.
//! Its name is [`ASSET_BUCKET`] (`khs-assets-<account>-<region>`), the name
//! every template with an asset refers to. The stack's outputs
//! [`OUTPUT_BUCKET`] and [`OUTPUT_VERSION`] are what the deploy client reads
//! before it publishes ([`BootstrapInfo::read`]).
//!
//! This module is plain code (no SDK): the `bootstrap` command of
//! [`super::cli`] deploys the template through the engine like any stack,
//! so a second run changes nothing and says so.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::port::StackInfo;
use crate::core::app::App;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::scope::AsScope;
use crate::core::stack::{Environment, Stack, StackProps};
use crate::core::template::Output;
use crate::serverless::asset::ASSET_BUCKET;
use crate::storage::bucket::{Bucket, BucketEncryption, BucketName, BucketProps, LifecycleRule};

/// The bootstrap stack's name, the same in every account and region.
pub const BOOTSTRAP_STACK: &str = "khs-bootstrap";

/// The version of the bootstrap template this library deploys and needs.
/// A deployment refuses a bootstrap stack older than this.
pub const BOOTSTRAP_VERSION: u32 = 1;

/// The output that holds the bucket's name.
pub const OUTPUT_BUCKET: &str = "AssetsBucketName";

/// The output that holds [`BOOTSTRAP_VERSION`].
pub const OUTPUT_VERSION: &str = "BootstrapVersion";

/// Days after which an incomplete multipart upload is aborted.
pub const ABORT_INCOMPLETE_UPLOAD_DAYS: u32 = 7;

/// The prefix of [`ASSET_BUCKET`] (`<prefix>-<account>-<region>`).
const BUCKET_PREFIX: &str = "khs-assets";

/// Encryption at rest of the staging bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BootstrapEncryption {
    /// SSE-S3 (`AES256`): no key policy to manage; Lambda and
    /// CloudFormation read the objects with the deployer's permissions.
    #[default]
    S3Managed,
    /// SSE-KMS with the AWS managed key `aws/s3` and bucket keys on (every
    /// read is logged in CloudTrail as a KMS call).
    Kms,
}

/// The settings of the bootstrap stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapProps {
    /// Encryption at rest.
    ///
    /// Default: [`BootstrapEncryption::S3Managed`].
    pub encryption: BootstrapEncryption,
    /// Days a noncurrent object version is kept before S3 deletes it (1 to
    /// 3650). Assets are named by their content hash and never overwritten,
    /// so versions become noncurrent only when an object is deleted: this
    /// is how long a deleted asset can still be restored.
    ///
    /// Default: `30`.
    pub noncurrent_version_days: u32,
}

impl Default for BootstrapProps {
    fn default() -> Self {
        BootstrapProps {
            encryption: BootstrapEncryption::S3Managed,
            noncurrent_version_days: 30,
        }
    }
}

/// The bootstrap stack of `region` (the account is the deployer's).
pub fn stack(region: &str, props: &BootstrapProps) -> Result<Stack> {
    let path = ConstructPath::root(BOOTSTRAP_STACK);
    if !(1..=3650).contains(&props.noncurrent_version_days) {
        return Err(Error::invalid_prop(
            &path,
            "noncurrent_version_days",
            format!(
                "must be 1..=3650 days, got {}",
                props.noncurrent_version_days
            ),
        ));
    }
    let mut stack = Stack::new(
        BOOTSTRAP_STACK,
        StackProps {
            description: Some(format!(
                "khs-constructs bootstrap (version {BOOTSTRAP_VERSION}): the staging bucket of \
                 file assets"
            )),
            ..StackProps::new(Environment::region(region))
        },
    )?;
    let bucket = Bucket::new(
        &mut stack,
        "Assets",
        BucketProps {
            name: BucketName::unique(BUCKET_PREFIX),
            encryption: match props.encryption {
                BootstrapEncryption::S3Managed => BucketEncryption::S3Managed,
                BootstrapEncryption::Kms => BucketEncryption::Kms { key: None },
            },
            versioned: true,
            lifecycle_rules: vec![LifecycleRule {
                noncurrent_expiration_days: Some(props.noncurrent_version_days),
                abort_incomplete_multipart_upload_days: Some(ABORT_INCOMPLETE_UPLOAD_DAYS),
                ..LifecycleRule::new("ExpireOldVersions")
            }],
            ..BucketProps::default()
        },
    )?;
    bucket.bucket().acknowledge(
        &mut stack,
        "s3-server-access-logs",
        "The staging bucket holds only deployment artifacts (zips named by their content hash) \
         that the deploy client writes and CloudFormation and Lambda read; server access logs \
         would need a second bucket in every bootstrapped account and region.",
    )?;
    let mut root = stack.as_scope();
    root.add_output(
        OUTPUT_BUCKET,
        Output::new("The staging bucket of file assets", bucket.name()),
    )?;
    root.add_output(
        OUTPUT_VERSION,
        Output::new(
            "The version of the bootstrap template",
            crate::core::value::Value::<String>::Literal(BOOTSTRAP_VERSION.to_string()),
        ),
    )?;
    Ok(stack)
}

/// The bootstrap template of `region`, as JSON.
pub fn template(region: &str, props: &BootstrapProps) -> Result<Json> {
    let mut app = App::new().with_rule_packs(crate::rules::builtin());
    app.add_stack(stack(region, props)?)?;
    let artifacts = app.synth()?;
    let path = ConstructPath::root(BOOTSTRAP_STACK);
    let a = artifacts
        .first()
        .ok_or_else(|| Error::invalid_prop(&path, "template", "was not synthesized"))?;
    serde_json::from_str(&a.json)
        .map_err(|e| Error::invalid_prop(&path, "template", format!("is not JSON: {e}")))
}

/// The staging bucket's name in `account` and `region`: [`ASSET_BUCKET`]
/// resolved.
pub fn bucket_name(account: &str, region: &str) -> String {
    resolve_pseudo(ASSET_BUCKET, account, region)
}

/// `${AWS::AccountId}` and `${AWS::Region}` replaced in a `Fn::Sub` string
/// without other variables (a manifest's `bucket`).
pub fn resolve_pseudo(sub: &str, account: &str, region: &str) -> String {
    sub.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
}

/// The account of a CloudFormation stack id
/// (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`).
pub fn account_of_stack_id(id: &str) -> Option<&str> {
    let mut parts = id.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(3))
        .flatten()
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// What the deploy client knows of a deployed bootstrap stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapInfo {
    /// The account (from the stack id).
    pub account: String,
    /// The staging bucket.
    pub bucket: String,
    /// The bootstrap version.
    pub version: u32,
}

impl BootstrapInfo {
    /// Reads the bootstrap stack `info` of `region`. The outputs are read
    /// first; where an endpoint reports none (moto after a change set, for
    /// example), the bucket name is derived from the stack id's account and
    /// the version from the deployed template's own `Outputs` (`template`).
    /// Errors are one sentence that says what to run.
    pub fn read(
        info: &StackInfo,
        template: Option<&Json>,
        region: &str,
    ) -> std::result::Result<BootstrapInfo, String> {
        let rerun = format!("run `bootstrap` (e.g. `khs bootstrap --region {region}`)");
        if !matches!(
            info.status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
        ) {
            return Err(format!(
                "the bootstrap stack {BOOTSTRAP_STACK} in {region} is {}, not ready; {rerun} \
                 again once it is stable (`status` shows it)",
                info.status
            ));
        }
        let account = account_of_stack_id(&info.id)
            .ok_or_else(|| {
                format!(
                    "the bootstrap stack's id {:?} names no account; {rerun} again",
                    info.id
                )
            })?
            .to_string();
        let from_template = |key: &str| -> Option<String> {
            template?
                .get("Outputs")?
                .get(key)?
                .get("Value")?
                .as_str()
                .map(str::to_string)
        };
        let version_text = info
            .outputs
            .get(OUTPUT_VERSION)
            .cloned()
            .or_else(|| from_template(OUTPUT_VERSION));
        let version = match version_text.as_deref().map(str::parse::<u32>) {
            Some(Ok(v)) => v,
            Some(Err(_)) | None => {
                return Err(format!(
                    "the bootstrap stack {BOOTSTRAP_STACK} in {region} has no output \
                     {OUTPUT_VERSION} (got {version_text:?}); it was not made by this client's \
                     `bootstrap`: {rerun}"
                ));
            }
        };
        if version < BOOTSTRAP_VERSION {
            return Err(format!(
                "the bootstrap stack {BOOTSTRAP_STACK} in {region} is version {version}, this \
                 client needs {BOOTSTRAP_VERSION} or later; {rerun} to upgrade it"
            ));
        }
        let bucket = info
            .outputs
            .get(OUTPUT_BUCKET)
            .cloned()
            .unwrap_or_else(|| bucket_name(&account, region));
        Ok(BootstrapInfo {
            account,
            bucket,
            version,
        })
    }
}

/// The regions to bootstrap for stacks in `regions` (deduplicated, sorted),
/// or `only` when given (the `--region` flag).
pub fn regions<'a>(regions: impl IntoIterator<Item = &'a str>, only: Option<&str>) -> Vec<String> {
    if let Some(r) = only {
        return vec![r.to_string()];
    }
    let set: std::collections::BTreeSet<String> = regions.into_iter().map(str::to_string).collect();
    set.into_iter().collect()
}

/// The outputs of a bootstrap stack as a map, for tests and the fake.
pub fn outputs(account: &str, region: &str) -> BTreeMap<String, String> {
    [
        (OUTPUT_BUCKET.to_string(), bucket_name(account, region)),
        (OUTPUT_VERSION.to_string(), BOOTSTRAP_VERSION.to_string()),
    ]
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_the_one_templates_refer_to_and_is_secure_and_retained() {
        let t = template("eu-west-1", &BootstrapProps::default()).unwrap();
        let r = &t["Resources"];
        let (id, bucket) = r
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, v)| v["Type"] == "AWS::S3::Bucket")
            .unwrap();
        let p = &bucket["Properties"];
        assert_eq!(
            p["BucketName"],
            serde_json::json!({"Fn::Sub": ASSET_BUCKET})
        );
        assert_eq!(bucket["DeletionPolicy"], "Retain");
        assert_eq!(bucket["UpdateReplacePolicy"], "Retain");
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
        let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        assert_eq!(
            sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "AES256"
        );
        let block = &p["PublicAccessBlockConfiguration"];
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[k], true, "{k}");
        }
        let rule = &p["LifecycleConfiguration"]["Rules"][0];
        assert_eq!(rule["NoncurrentVersionExpiration"]["NoncurrentDays"], 30);
        assert_eq!(
            rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
            7
        );
        // The policy denies requests without TLS.
        let policy = r
            .as_object()
            .unwrap()
            .values()
            .find(|v| v["Type"] == "AWS::S3::BucketPolicy")
            .unwrap();
        let text = policy["Properties"]["PolicyDocument"].to_string();
        assert!(text.contains("aws:SecureTransport"), "{text}");
        // The outputs the deploy client reads.
        assert_eq!(
            t["Outputs"][OUTPUT_BUCKET]["Value"],
            serde_json::json!({"Ref": id})
        );
        assert_eq!(t["Outputs"][OUTPUT_VERSION]["Value"], "1");
    }

    #[test]
    fn the_bootstrap_stack_passes_the_builtin_rules() {
        let mut app = App::new().with_rule_packs(crate::rules::builtin());
        app.add_stack(stack("us-east-1", &BootstrapProps::default()).unwrap())
            .unwrap();
        let a = app.synth().unwrap();
        let r = &a[0].rules;
        assert!(r.is_clean(), "{:#?}", r.findings);
        let ids: Vec<&str> = r
            .acknowledged
            .iter()
            .map(|f| f.finding.rule_id.as_str())
            .collect();
        assert_eq!(ids, ["s3-server-access-logs"], "{:#?}", r.acknowledged);
    }

    #[test]
    fn kms_encryption_uses_the_aws_managed_key() {
        let t = template(
            "us-east-1",
            &BootstrapProps {
                encryption: BootstrapEncryption::Kms,
                ..BootstrapProps::default()
            },
        )
        .unwrap();
        let text = t["Resources"].to_string();
        assert!(text.contains("\"SSEAlgorithm\":\"aws:kms\""), "{text}");
        assert!(text.contains("\"BucketKeyEnabled\":true"), "{text}");
    }

    #[test]
    fn fails_when_the_noncurrent_days_are_out_of_range() {
        let e = stack(
            "us-east-1",
            &BootstrapProps {
                noncurrent_version_days: 0,
                ..BootstrapProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs-bootstrap: noncurrent_version_days must be 1..=3650 days, got 0"
        );
    }

    fn info(status: &str, outputs: BTreeMap<String, String>) -> StackInfo {
        StackInfo {
            id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/khs-bootstrap/x".into(),
            name: BOOTSTRAP_STACK.into(),
            status: status.into(),
            outputs,
            ..StackInfo::default()
        }
    }

    #[test]
    fn the_bootstrap_is_read_from_outputs_or_else_from_the_stack_id_and_template() {
        let i = BootstrapInfo::read(
            &info("CREATE_COMPLETE", outputs("123456789012", "eu-west-1")),
            None,
            "eu-west-1",
        )
        .unwrap();
        assert_eq!(i.bucket, "khs-assets-123456789012-eu-west-1");
        assert_eq!(i.version, BOOTSTRAP_VERSION);
        assert_eq!(i.account, "123456789012");
        let t = template("eu-west-1", &BootstrapProps::default()).unwrap();
        let i = BootstrapInfo::read(
            &info("UPDATE_COMPLETE", BTreeMap::new()),
            Some(&t),
            "eu-west-1",
        )
        .unwrap();
        assert_eq!(i.bucket, "khs-assets-123456789012-eu-west-1");
        assert_eq!(i.version, 1);
    }

    #[test]
    fn fails_when_the_bootstrap_is_old_busy_or_foreign() {
        let mut old = outputs("123456789012", "eu-west-1");
        old.insert(OUTPUT_VERSION.into(), "0".into());
        let e = BootstrapInfo::read(&info("CREATE_COMPLETE", old), None, "eu-west-1").unwrap_err();
        assert_eq!(
            e,
            "the bootstrap stack khs-bootstrap in eu-west-1 is version 0, this client needs 1 \
             or later; run `bootstrap` (e.g. `khs bootstrap --region eu-west-1`) to upgrade it"
        );
        let e = BootstrapInfo::read(
            &info("UPDATE_IN_PROGRESS", BTreeMap::new()),
            None,
            "eu-west-1",
        )
        .unwrap_err();
        assert!(e.contains("is UPDATE_IN_PROGRESS, not ready"), "{e}");
        let e = BootstrapInfo::read(&info("CREATE_COMPLETE", BTreeMap::new()), None, "eu-west-1")
            .unwrap_err();
        assert!(e.contains("has no output BootstrapVersion"), "{e}");
    }

    #[test]
    fn stack_ids_name_their_account() {
        assert_eq!(
            account_of_stack_id("arn:aws:cloudformation:us-east-1:123456789012:stack/a/b"),
            Some("123456789012")
        );
        assert_eq!(account_of_stack_id("khs-bootstrap"), None);
        assert_eq!(
            resolve_pseudo(ASSET_BUCKET, "111122223333", "us-west-2"),
            "khs-assets-111122223333-us-west-2"
        );
        assert_eq!(
            regions(["us-east-1", "eu-west-1", "us-east-1"], None),
            ["eu-west-1", "us-east-1"]
        );
        assert_eq!(
            regions(["us-east-1"], Some("ca-central-1")),
            ["ca-central-1"]
        );
    }
}
