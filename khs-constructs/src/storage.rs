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
//! use khs_constructs::storage::{Bucket, BucketName, BucketProps, LifecycleRule};
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let logs = Bucket::new(&mut stack, "Logs", BucketProps {
//!     name: BucketName::unique("khs-crm-logs"),
//!     lifecycle_rules: vec![LifecycleRule::archive_then_expire("Archive")],
//!     ..BucketProps::default()
//! }).unwrap();
//! assert_eq!(logs.bucket().logical_id().as_str(), "LogsBucket");
//! ```

use crate::cfn::attributes::*;
use std::collections::BTreeSet;
use std::fmt;

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions};
use crate::core::template::DeletionPolicy;
use crate::core::value::Value;
use crate::iam::{Condition, PolicyDocument, PolicyStatement, Principal};

/// Days before S3 accepts a transition to `STANDARD_IA` or `ONEZONE_IA`
/// (objects younger than this cannot move to an infrequent-access class).
pub const MIN_INFREQUENT_ACCESS_DAYS: u32 = 30;
/// The seed's lifecycle: days before objects move to `STANDARD_IA`.
pub const DEFAULT_IA_DAYS: u32 = 30;
/// The seed's lifecycle: days before objects move to `GLACIER`.
pub const DEFAULT_GLACIER_DAYS: u32 = 90;
/// The seed's lifecycle: days before objects are deleted.
pub const DEFAULT_EXPIRATION_DAYS: u32 = 365;
/// Days after which incomplete multipart uploads are aborted by the presets.
pub const DEFAULT_ABORT_MULTIPART_DAYS: u32 = 7;
/// Days a noncurrent version is kept by the presets before it is deleted.
pub const DEFAULT_NONCURRENT_EXPIRATION_DAYS: u32 = 90;

/// The Elastic Load Balancing account that writes access logs, per region
/// (regions opened before August 2022; newer regions use the service
/// principal `logdelivery.elasticloadbalancing.amazonaws.com`).
pub const ELB_LOG_ACCOUNTS: [(&str, &str); 19] = [
    ("af-south-1", "098369216593"),
    ("ap-east-1", "754344448648"),
    ("ap-northeast-1", "582318560864"),
    ("ap-northeast-2", "600734575887"),
    ("ap-northeast-3", "383597477331"),
    ("ap-south-1", "718504428378"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-north-1", "897822967062"),
    ("eu-south-1", "635631232127"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-west-3", "009996457667"),
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
];

/// How the bucket is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketName {
    /// CloudFormation generates a unique name from the stack name and the
    /// logical id.
    Generated,
    /// `<prefix>-<account id>-<region>` (through `Fn::Sub`), so the same
    /// code deploys to several accounts and regions without name clashes;
    /// the whole name must fit S3's 63 characters.
    UniquePerAccountRegion(String),
    /// Exactly this name (S3 names are global: it must be free in every
    /// account of the partition).
    Fixed(String),
}

impl BucketName {
    /// [`BucketName::UniquePerAccountRegion`] with `prefix`.
    pub fn unique(prefix: impl Into<String>) -> Self {
        BucketName::UniquePerAccountRegion(prefix.into())
    }
}

/// Server-side encryption at rest.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketEncryption {
    /// SSE-S3 (`AES256`), keys managed by S3. Free; works with CloudFront
    /// origin access control, S3 server access logs and CloudFront standard
    /// logs.
    S3Managed,
    /// SSE-KMS with bucket keys on. `key: None` uses the AWS managed key
    /// `aws/s3`; a customer managed key lets you control its key policy
    /// (needed for CloudFront to read objects, for example).
    Kms {
        /// The key.
        ///
        /// Default: - the AWS managed key `aws/s3`.
        key: Option<Handle<cfn::kms::Key>>,
    },
}

/// Who owns objects written to the bucket, and whether ACLs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs are disabled; the bucket owner owns every object. The secure
    /// default.
    BucketOwnerEnforced,
    /// ACLs are enabled, objects written with `bucket-owner-full-control`
    /// belong to the bucket owner. Needed only by writers that grant access
    /// with ACLs, such as CloudFront standard (legacy) access logs: use it
    /// for the bucket given to [`crate::cdn::CdnProps::access_logs`].
    BucketOwnerPreferred,
}

/// An S3 storage class objects can transition to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StorageClass {
    /// `STANDARD_IA`: infrequent access, at least 30 days after creation.
    StandardIa,
    /// `INTELLIGENT_TIERING`: S3 moves objects between tiers by access.
    IntelligentTiering,
    /// `ONEZONE_IA`: infrequent access in one zone, at least 30 days.
    OneZoneIa,
    /// `GLACIER_IR`: Glacier Instant Retrieval.
    GlacierInstantRetrieval,
    /// `GLACIER`: Glacier Flexible Retrieval.
    Glacier,
    /// `DEEP_ARCHIVE`: Glacier Deep Archive.
    DeepArchive,
}

impl StorageClass {
    /// The name CloudFormation uses.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::OneZoneIa => "ONEZONE_IA",
            StorageClass::GlacierInstantRetrieval => "GLACIER_IR",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }

    /// Position in S3's transition waterfall: an object can only move to a
    /// class further down (colder) than the one it is in.
    fn rank(self) -> u8 {
        match self {
            StorageClass::StandardIa => 1,
            StorageClass::IntelligentTiering => 2,
            StorageClass::OneZoneIa => 3,
            StorageClass::GlacierInstantRetrieval => 4,
            StorageClass::Glacier => 5,
            StorageClass::DeepArchive => 6,
        }
    }

    fn is_infrequent_access(self) -> bool {
        matches!(self, StorageClass::StandardIa | StorageClass::OneZoneIa)
    }
}

impl fmt::Display for StorageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Move objects to `storage_class` `after_days` days after creation (or,
/// in [`LifecycleRule::noncurrent_transitions`], after becoming noncurrent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The target class.
    pub storage_class: StorageClass,
    /// Days (0 is allowed for `INTELLIGENT_TIERING` and the Glacier classes;
    /// the infrequent-access classes need at least 30).
    pub after_days: u32,
}

impl Transition {
    /// A transition.
    pub fn new(storage_class: StorageClass, after_days: u32) -> Self {
        Transition {
            storage_class,
            after_days,
        }
    }
}

/// One lifecycle rule of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    /// The rule id (unique in the bucket, 1 to 255 characters).
    pub id: String,
    /// Apply only to keys starting with this prefix.
    ///
    /// Default: - every object.
    pub prefix: Option<String>,
    /// Transitions of current versions, in increasing days, each to a
    /// colder class than the one before.
    ///
    /// Default: - none.
    pub transitions: Vec<Transition>,
    /// Delete current versions this many days after creation (on a
    /// versioned bucket they become noncurrent). Must be later than every
    /// transition.
    ///
    /// Default: - never.
    pub expiration_days: Option<u32>,
    /// Transitions of noncurrent versions (days after becoming noncurrent).
    ///
    /// Default: - none.
    pub noncurrent_transitions: Vec<Transition>,
    /// Delete noncurrent versions this many days after they became
    /// noncurrent (needs a versioned bucket).
    ///
    /// Default: - never.
    pub noncurrent_expiration_days: Option<u32>,
    /// Abort multipart uploads not completed within this many days.
    ///
    /// Default: - never.
    pub abort_incomplete_multipart_upload_days: Option<u32>,
}

impl LifecycleRule {
    /// An empty rule with id `id` (add at least one action).
    pub fn new(id: impl Into<String>) -> Self {
        LifecycleRule {
            id: id.into(),
            prefix: None,
            transitions: Vec::new(),
            expiration_days: None,
            noncurrent_transitions: Vec::new(),
            noncurrent_expiration_days: None,
            abort_incomplete_multipart_upload_days: None,
        }
    }

    /// The seed's rule: `STANDARD_IA` after 30 days, `GLACIER` after 90,
    /// deleted after 365; noncurrent versions deleted after 90 days;
    /// incomplete multipart uploads aborted after 7 days.
    pub fn archive_then_expire(id: impl Into<String>) -> Self {
        LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::StandardIa, DEFAULT_IA_DAYS),
                Transition::new(StorageClass::Glacier, DEFAULT_GLACIER_DAYS),
            ],
            expiration_days: Some(DEFAULT_EXPIRATION_DAYS),
            noncurrent_expiration_days: Some(DEFAULT_NONCURRENT_EXPIRATION_DAYS),
            abort_incomplete_multipart_upload_days: Some(DEFAULT_ABORT_MULTIPART_DAYS),
            ..LifecycleRule::new(id)
        }
    }

    /// Every object to `INTELLIGENT_TIERING` right away (day 0), then
    /// `GLACIER` and expiry as in [`LifecycleRule::archive_then_expire`].
    /// For data whose access pattern is unknown (the seed's "Enable S3
    /// Intelligent-Tiering").
    pub fn intelligent_tiering(id: impl Into<String>) -> Self {
        LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::IntelligentTiering, 0),
                Transition::new(StorageClass::Glacier, DEFAULT_GLACIER_DAYS),
            ],
            ..LifecycleRule::archive_then_expire(id)
        }
    }

    fn has_action(&self) -> bool {
        !self.transitions.is_empty()
            || self.expiration_days.is_some()
            || !self.noncurrent_transitions.is_empty()
            || self.noncurrent_expiration_days.is_some()
            || self.abort_incomplete_multipart_upload_days.is_some()
    }
}

/// A lightweight, clonable reference to a [`Bucket`] of the same stack, for
/// props of other constructs (`Cdn` access logs, server access logs).
#[derive(Debug, Clone, PartialEq)]
pub struct BucketRef {
    bucket: Handle<cfn::s3::Bucket>,
    policy: Handle<cfn::s3::BucketPolicy>,
    path: String,
    object_ownership: ObjectOwnership,
    kms_encrypted: bool,
    access_log_prefixes: Vec<String>,
}

impl BucketRef {
    /// The bucket resource.
    pub fn handle(&self) -> &Handle<cfn::s3::Bucket> {
        &self.bucket
    }

    /// The bucket's policy: resources that write to the bucket from the
    /// moment they are created (S3 server access logging, load balancer
    /// logs) should depend on it, so the grants exist first.
    pub fn policy(&self) -> &Handle<cfn::s3::BucketPolicy> {
        &self.policy
    }

    /// The construct path of the bucket.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The bucket's object ownership (whether ACLs are enabled).
    pub fn object_ownership(&self) -> ObjectOwnership {
        self.object_ownership
    }

    /// Whether the bucket is encrypted with SSE-KMS (log writers such as
    /// S3 server access logging accept SSE-S3 only).
    pub fn kms_encrypted(&self) -> bool {
        self.kms_encrypted
    }

    /// The prefixes under which the bucket accepts S3 server access logs
    /// (its [`BucketGrant::ServerAccessLogs`] grants when the reference was
    /// taken).
    pub fn access_log_prefixes(&self) -> &[String] {
        &self.access_log_prefixes
    }

    /// The bucket name (`Ref`).
    pub fn name(&self) -> Value<String> {
        self.bucket.ref_()
    }

    /// The bucket ARN.
    pub fn arn(&self) -> Value<String> {
        self.bucket.attr_arn()
    }

    /// `<name>.s3.amazonaws.com`, as CloudFront logging wants it.
    pub fn domain_name(&self) -> Value<String> {
        self.bucket.attr_domain_name()
    }

    /// `<name>.s3.<region>.amazonaws.com`, as CloudFront origins want it.
    pub fn regional_domain_name(&self) -> Value<String> {
        self.bucket.attr_regional_domain_name()
    }
}

/// Server access logging of a bucket into another bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAccessLogs {
    /// The bucket receiving the logs; it gets a policy statement allowing
    /// the S3 logging service to write under `prefix` for this bucket only.
    pub bucket: BucketRef,
    /// The key prefix of the log objects (ends with `/`).
    pub prefix: String,
}

/// A service allowed to write to (or read from) the bucket through the
/// bucket policy. Every grant is limited to this account with
/// `aws:SourceAccount`.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketGrant {
    /// CloudTrail may check the ACL and write under
    /// `<prefix>AWSLogs/<account>/`.
    CloudTrail {
        /// Key prefix (empty or ending with `/`).
        prefix: String,
        /// Limit to the trail with this name (`aws:SourceArn`).
        ///
        /// Default: - any trail of the account.
        trail_name: Option<String>,
    },
    /// AWS Config may check the ACL, list the bucket and write under
    /// `<prefix>AWSLogs/<account>/Config/`.
    Config {
        /// Key prefix (empty or ending with `/`).
        prefix: String,
    },
    /// The S3 logging service may write server access logs of any bucket
    /// of this account under `prefix`. A bucket whose
    /// [`BucketProps::server_access_logs`] point here must use a prefix
    /// below it (checked).
    ServerAccessLogs {
        /// Key prefix (ending with `/`).
        prefix: String,
    },
    /// AWS Backup Audit Manager may deliver reports under `prefix` (through
    /// its service-linked role).
    BackupReports {
        /// Key prefix (empty or ending with `/`).
        prefix: String,
    },
    /// Elastic Load Balancing may write access logs under
    /// `<prefix>AWSLogs/<account>/`: the region's ELB account (regions
    /// opened before August 2022, see [`ELB_LOG_ACCOUNTS`]) or the log
    /// delivery service principal (newer regions).
    LoadBalancerLogs {
        /// Key prefix (empty or ending with `/`); the load balancer's
        /// `access_logs.s3.prefix` without the trailing `/`.
        prefix: String,
    },
    /// CloudFront may read objects through an origin access control, for
    /// the distribution `distribution` only (`AWS:SourceArn`).
    CloudFrontRead {
        /// The distribution.
        distribution: Handle<cfn::cloudfront::Distribution>,
        /// Also allow `s3:ListBucket`, so a missing key answers 404 (not
        /// 403) through CloudFront.
        list: bool,
    },
}

/// Props of a [`Bucket`].
#[derive(Debug, Clone, PartialEq)]
pub struct BucketProps {
    /// The bucket name.
    ///
    /// Default: [`BucketName::Generated`].
    pub name: BucketName,
    /// Encryption at rest.
    ///
    /// Default: [`BucketEncryption::S3Managed`] (AES-256).
    pub encryption: BucketEncryption,
    /// Keep every version of every object.
    ///
    /// Default: `true`.
    pub versioned: bool,
    /// Object ownership (ACLs off or on).
    ///
    /// Default: [`ObjectOwnership::BucketOwnerEnforced`] (ACLs off).
    pub object_ownership: ObjectOwnership,
    /// Lifecycle rules.
    ///
    /// Default: - none (objects are kept forever).
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// Log every request to another bucket.
    ///
    /// Default: - no server access logs.
    pub server_access_logs: Option<ServerAccessLogs>,
    /// Services allowed to write to the bucket (bucket policy statements).
    ///
    /// Default: - none; the policy only denies non-TLS requests.
    pub grants: Vec<BucketGrant>,
    /// What happens to the bucket when it leaves the stack or is replaced.
    /// `Delete` fails on a non-empty bucket.
    ///
    /// Default: [`DeletionPolicy::Retain`].
    pub removal_policy: DeletionPolicy,
}

impl Default for BucketProps {
    fn default() -> Self {
        BucketProps {
            name: BucketName::Generated,
            encryption: BucketEncryption::S3Managed,
            versioned: true,
            object_ownership: ObjectOwnership::BucketOwnerEnforced,
            lifecycle_rules: Vec::new(),
            server_access_logs: None,
            grants: Vec::new(),
            removal_policy: DeletionPolicy::Retain,
        }
    }
}

/// S3's bucket name length limits.
const BUCKET_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=63;
/// Length of an AWS account id.
const ACCOUNT_ID_LEN: usize = 12;

/// Checks a (literal part of a) bucket name against S3's rules: lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit.
fn check_name_chars(path: &ConstructPath, name: &str, what: &str) -> Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ok_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok_chars || !ok_ends || name.contains("..") {
        return Err(Error::invalid_prop(
            path,
            "name",
            format!(
                "{what} must use only lowercase letters, digits, '-' and '.', start and end with a letter or digit, got {name:?}"
            ),
        ));
    }
    Ok(())
}

fn validate_name(path: &ConstructPath, name: &BucketName, region: &str) -> Result<()> {
    match name {
        BucketName::Generated => Ok(()),
        BucketName::Fixed(n) => {
            check_name_chars(path, n, "a bucket name")?;
            if !BUCKET_NAME_LEN.contains(&n.len()) {
                return Err(Error::invalid_prop(
                    path,
                    "name",
                    format!("must be 3 to 63 characters, got {} ({n:?})", n.len()),
                ));
            }
            Ok(())
        }
        BucketName::UniquePerAccountRegion(prefix) => {
            check_name_chars(path, prefix, "the name prefix")?;
            let total = prefix.len() + 1 + ACCOUNT_ID_LEN + 1 + region.len();
            if total > *BUCKET_NAME_LEN.end() {
                let max = BUCKET_NAME_LEN.end() - (2 + ACCOUNT_ID_LEN + region.len());
                return Err(Error::invalid_prop(
                    path,
                    "name",
                    format!(
                        "prefix {prefix:?} makes a {total}-character name with the account id and {region}; S3 allows 63, so the prefix can have at most {max} characters"
                    ),
                ));
            }
            Ok(())
        }
    }
}

fn check_transitions(
    path: &ConstructPath,
    rule: &LifecycleRule,
    list: &[Transition],
    what: &str,
) -> Result<()> {
    let prop = format!("lifecycle_rules[{}].{what}", rule.id);
    let mut seen = BTreeSet::new();
    let mut prev: Option<&Transition> = None;
    for t in list {
        if !seen.insert(t.storage_class) {
            return Err(Error::invalid_prop(
                path,
                &prop,
                format!(
                    "must name each storage class once, got {} twice",
                    t.storage_class
                ),
            ));
        }
        if t.storage_class.is_infrequent_access() && t.after_days < MIN_INFREQUENT_ACCESS_DAYS {
            return Err(Error::invalid_prop(
                path,
                &prop,
                format!(
                    "must move objects to {} after at least {MIN_INFREQUENT_ACCESS_DAYS} days, got {}",
                    t.storage_class, t.after_days
                ),
            ));
        }
        if let Some(p) = prev {
            if t.after_days <= p.after_days {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must be in increasing days, got {} after {} days following {} after {} days",
                        t.storage_class, t.after_days, p.storage_class, p.after_days
                    ),
                ));
            }
            if t.storage_class.rank() <= p.storage_class.rank() {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must move objects to colder classes only (STANDARD_IA, INTELLIGENT_TIERING, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE), got {} after {}",
                        t.storage_class, p.storage_class
                    ),
                ));
            }
            if p.storage_class.is_infrequent_access()
                && t.after_days - p.after_days < MIN_INFREQUENT_ACCESS_DAYS
            {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must keep objects {MIN_INFREQUENT_ACCESS_DAYS} days in {} before moving them on, got {} days before {}",
                        p.storage_class,
                        t.after_days - p.after_days,
                        t.storage_class
                    ),
                ));
            }
        }
        prev = Some(t);
    }
    Ok(())
}

fn check_expiration(
    path: &ConstructPath,
    rule: &LifecycleRule,
    transitions: &[Transition],
    expiration: Option<u32>,
    what: &str,
) -> Result<()> {
    let prop = format!("lifecycle_rules[{}].{what}", rule.id);
    let Some(days) = expiration else {
        return Ok(());
    };
    if days == 0 {
        return Err(Error::invalid_prop(
            path,
            &prop,
            "must be at least 1 day, got 0",
        ));
    }
    if let Some(t) = transitions.iter().find(|t| days <= t.after_days) {
        return Err(Error::invalid_prop(
            path,
            &prop,
            format!(
                "must be later than every transition, got {days} days, not after the transition to {} at {} days",
                t.storage_class, t.after_days
            ),
        ));
    }
    Ok(())
}

fn validate_rules(path: &ConstructPath, props: &BucketProps) -> Result<()> {
    let mut ids = BTreeSet::new();
    for rule in &props.lifecycle_rules {
        if rule.id.is_empty() || rule.id.len() > 255 {
            return Err(Error::invalid_prop(
                path,
                "lifecycle_rules.id",
                format!(
                    "must be 1 to 255 characters, got {} ({:?})",
                    rule.id.len(),
                    rule.id
                ),
            ));
        }
        if !ids.insert(rule.id.as_str()) {
            return Err(Error::invalid_prop(
                path,
                "lifecycle_rules.id",
                format!("must be unique in the bucket, got {:?} twice", rule.id),
            ));
        }
        if !rule.has_action() {
            return Err(Error::invalid_prop(
                path,
                format!("lifecycle_rules[{}]", rule.id),
                "must have at least one action (a transition, an expiration or an abort of incomplete uploads), got none",
            ));
        }
        check_transitions(path, rule, &rule.transitions, "transitions")?;
        check_transitions(
            path,
            rule,
            &rule.noncurrent_transitions,
            "noncurrent_transitions",
        )?;
        check_expiration(
            path,
            rule,
            &rule.transitions,
            rule.expiration_days,
            "expiration_days",
        )?;
        check_expiration(
            path,
            rule,
            &rule.noncurrent_transitions,
            rule.noncurrent_expiration_days,
            "noncurrent_expiration_days",
        )?;
        if rule.abort_incomplete_multipart_upload_days == Some(0) {
            return Err(Error::invalid_prop(
                path,
                format!(
                    "lifecycle_rules[{}].abort_incomplete_multipart_upload_days",
                    rule.id
                ),
                "must be at least 1 day, got 0",
            ));
        }
        let noncurrent =
            !rule.noncurrent_transitions.is_empty() || rule.noncurrent_expiration_days.is_some();
        if noncurrent && !props.versioned {
            return Err(Error::invalid_prop(
                path,
                format!("lifecycle_rules[{}]", rule.id),
                "acts on noncurrent versions, which only a versioned bucket has; set versioned: true or drop the noncurrent actions",
            ));
        }
    }
    Ok(())
}

fn check_prefix(path: &ConstructPath, prop: &str, prefix: &str, may_be_empty: bool) -> Result<()> {
    if prefix.starts_with('/') || (!prefix.is_empty() && !prefix.ends_with('/')) {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!("must end with '/' and not start with one, got {prefix:?}"),
        ));
    }
    if prefix.is_empty() && !may_be_empty {
        return Err(Error::invalid_prop(
            path,
            prop,
            "must not be empty (give the logs a folder such as \"s3-access/\"), got \"\"",
        ));
    }
    Ok(())
}

fn validate_grants(path: &ConstructPath, grants: &[BucketGrant]) -> Result<()> {
    for g in grants {
        match g {
            BucketGrant::CloudTrail { prefix, .. }
            | BucketGrant::Config { prefix }
            | BucketGrant::BackupReports { prefix }
            | BucketGrant::LoadBalancerLogs { prefix } => {
                check_prefix(path, "grants.prefix", prefix, true)?;
            }
            BucketGrant::ServerAccessLogs { prefix, .. } => {
                check_prefix(path, "grants.prefix", prefix, false)?;
            }
            BucketGrant::CloudFrontRead { .. } => {}
        }
    }
    Ok(())
}

/// Checks `props` for a bucket at `path` in `region`.
fn validate(path: &ConstructPath, props: &BucketProps, region: &str) -> Result<()> {
    validate_name(path, &props.name, region)?;
    validate_rules(path, props)?;
    if let Some(logs) = &props.server_access_logs {
        check_prefix(path, "server_access_logs.prefix", &logs.prefix, false)?;
    }
    validate_grants(path, &props.grants)?;
    Ok(())
}

fn check_access_log_target(path: &ConstructPath, logs: &ServerAccessLogs) -> Result<()> {
    check_prefix(path, "server_access_logs.prefix", &logs.prefix, false)?;
    let target = &logs.bucket;
    if target.kms_encrypted {
        return Err(Error::invalid_prop(
            path,
            "server_access_logs.bucket",
            format!(
                "must be encrypted with SSE-S3, as S3 server access logging cannot write to SSE-KMS buckets, got {} with SSE-KMS",
                target.path
            ),
        ));
    }
    if !target
        .access_log_prefixes
        .iter()
        .any(|p| logs.prefix.starts_with(p.as_str()))
    {
        let allowed = if target.access_log_prefixes.is_empty() {
            "none".to_string()
        } else {
            target.access_log_prefixes.join(", ")
        };
        return Err(Error::invalid_prop(
            path,
            "server_access_logs.prefix",
            format!(
                "must lie below a prefix that {} accepts server access logs under (add BucketGrant::ServerAccessLogs to it before taking the reference; accepted: {allowed}), got {:?}",
                target.path, logs.prefix
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Bucket policy documents.

fn sub(template: String) -> Value<String> {
    Intrinsic::sub(template).into()
}

fn account() -> Value<String> {
    Pseudo::AccountId.into()
}

fn statement(
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

fn owner_full_control() -> Condition {
    Condition::new("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control")
}

/// The bucket policy of bucket `id` (a logical id).
fn policy_document(id: &str, region: &str, grants: &[BucketGrant]) -> PolicyDocument {
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
fn sid_suffix(prefix: &str) -> String {
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

// ---------------------------------------------------------------------------
// The construct.

/// An S3 bucket with secure defaults and its bucket policy. See the module
/// documentation for what it emits.
#[derive(Debug)]
pub struct Bucket {
    bucket: Handle<cfn::s3::Bucket>,
    policy: Handle<cfn::s3::BucketPolicy>,
    path: ConstructPath,
    object_ownership: ObjectOwnership,
    kms_encrypted: bool,
    grants: Vec<BucketGrant>,
    region: String,
}

fn storage_class(c: StorageClass) -> cfn::s3::bucket::StorageClass {
    use cfn::s3::bucket::StorageClass as S;
    match c {
        StorageClass::StandardIa => S::StandardIa,
        StorageClass::IntelligentTiering => S::IntelligentTiering,
        StorageClass::OneZoneIa => S::OnezoneIa,
        StorageClass::GlacierInstantRetrieval => S::GlacierIr,
        StorageClass::Glacier => S::Glacier,
        StorageClass::DeepArchive => S::DeepArchive,
    }
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

fn lifecycle_rule(rule: &LifecycleRule) -> cfn::s3::bucket::Rule {
    use cfn::s3::bucket as b;
    b::Rule {
        id: Some(rule.id.as_str().into()),
        prefix: rule.prefix.as_deref().map(Value::from),
        transitions: non_empty(
            rule.transitions
                .iter()
                .map(|t| b::Transition {
                    transition_in_days: Some(t.after_days.into()),
                    ..b::Transition::new(storage_class(t.storage_class))
                })
                .collect(),
        ),
        expiration_in_days: rule.expiration_days.map(Value::from),
        noncurrent_version_transitions: non_empty(
            rule.noncurrent_transitions
                .iter()
                .map(|t| {
                    b::NoncurrentVersionTransition::new(
                        storage_class(t.storage_class),
                        t.after_days,
                    )
                })
                .collect(),
        ),
        noncurrent_version_expiration: rule
            .noncurrent_expiration_days
            .map(b::NoncurrentVersionExpiration::new),
        abort_incomplete_multipart_upload: rule
            .abort_incomplete_multipart_upload_days
            .map(b::AbortIncompleteMultipartUpload::new),
        ..b::Rule::new(b::RuleStatus::Enabled)
    }
}

impl Bucket {
    /// Adds a bucket and its policy under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: BucketProps) -> Result<Bucket> {
        use cfn::s3::bucket as b;
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate(&path, &props, &region)?;
        if let Some(logs) = &props.server_access_logs {
            check_access_log_target(&path, logs)?;
        }

        let bucket_name: Option<Value<String>> = match &props.name {
            BucketName::Generated => None,
            BucketName::Fixed(n) => Some(n.as_str().into()),
            BucketName::UniquePerAccountRegion(prefix) => Some(
                Intrinsic::sub(format!("{prefix}-${{AWS::AccountId}}-${{AWS::Region}}")).into(),
            ),
        };
        let (algorithm, key, kms_encrypted) = match &props.encryption {
            BucketEncryption::S3Managed => (b::SseAlgorithm::Aes256, None, false),
            BucketEncryption::Kms { key } => (
                b::SseAlgorithm::AwsKms,
                key.as_ref().map(|k| k.get_att::<String>("Arn")),
                true,
            ),
        };
        let encryption = b::BucketEncryption::new(vec![b::ServerSideEncryptionRule {
            bucket_key_enabled: kms_encrypted.then_some(true.into()),
            server_side_encryption_by_default: Some(b::ServerSideEncryptionByDefault {
                kms_master_key_id: key,
                ..b::ServerSideEncryptionByDefault::new(algorithm)
            }),
            ..b::ServerSideEncryptionRule::new()
        }]);
        let ownership = match props.object_ownership {
            ObjectOwnership::BucketOwnerEnforced => b::ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred => b::ObjectOwnership::BucketOwnerPreferred,
        };
        let resource = cfn::s3::Bucket {
            bucket_name,
            bucket_encryption: Some(encryption),
            public_access_block_configuration: Some(b::PublicAccessBlockConfiguration {
                block_public_acls: Some(true.into()),
                block_public_policy: Some(true.into()),
                ignore_public_acls: Some(true.into()),
                restrict_public_buckets: Some(true.into()),
            }),
            ownership_controls: Some(b::OwnershipControls::new(vec![b::OwnershipControlsRule {
                object_ownership: Some(ownership.into()),
            }])),
            versioning_configuration: props.versioned.then(|| {
                b::VersioningConfiguration::new(b::VersioningConfigurationStatus::Enabled)
            }),
            lifecycle_configuration: (!props.lifecycle_rules.is_empty()).then(|| {
                b::LifecycleConfiguration::new(
                    props
                        .lifecycle_rules
                        .iter()
                        .map(lifecycle_rule)
                        .collect::<Vec<_>>(),
                )
            }),
            logging_configuration: props.server_access_logs.as_ref().map(|l| {
                b::LoggingConfiguration {
                    destination_bucket_name: Some(l.bucket.name()),
                    log_file_prefix: Some(l.prefix.as_str().into()),
                    ..b::LoggingConfiguration::new()
                }
            }),
            ..cfn::s3::Bucket::new()
        };
        let mut options = ResourceOptions::policy(props.removal_policy);
        if let Some(logs) = &props.server_access_logs {
            // The target's policy must grant the logging service first.
            options = options.depends_on(logs.bucket.policy());
        }
        let bucket = me.add_with("Bucket", resource, options)?;
        let policy = me.add(
            "Policy",
            cfn::s3::BucketPolicy::new(
                bucket.ref_(),
                policy_document(bucket.logical_id().as_str(), &region, &props.grants).to_json(),
            ),
        )?;
        Ok(Bucket {
            bucket,
            policy,
            path,
            object_ownership: props.object_ownership,
            kms_encrypted,
            grants: props.grants,
            region,
        })
    }

    /// Adds a grant to the bucket policy after the bucket was created (for
    /// writers created later, such as the distribution of a `Cdn`). `scope`
    /// must be in the bucket's stack.
    pub fn add_grant(&mut self, scope: &mut impl AsScope, grant: BucketGrant) -> Result<()> {
        validate_grants(&self.path, std::slice::from_ref(&grant))?;
        self.grants.push(grant);
        let doc = policy_document(
            self.bucket.logical_id().as_str(),
            &self.region,
            &self.grants,
        )
        .to_json();
        scope
            .as_scope()
            .override_property(&self.policy, "PolicyDocument", doc)
    }

    /// The `AWS::S3::Bucket` resource.
    pub fn bucket(&self) -> &Handle<cfn::s3::Bucket> {
        &self.bucket
    }

    /// The `AWS::S3::BucketPolicy` resource.
    pub fn policy(&self) -> &Handle<cfn::s3::BucketPolicy> {
        &self.policy
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The bucket name.
    pub fn name(&self) -> Value<String> {
        self.bucket.ref_()
    }

    /// The bucket ARN.
    pub fn arn(&self) -> Value<String> {
        self.bucket.attr_arn()
    }

    /// A reference for other constructs' props (take it after adding the
    /// grants it should reflect).
    pub fn reference(&self) -> BucketRef {
        BucketRef {
            bucket: self.bucket.clone(),
            policy: self.policy.clone(),
            path: self.path.to_string(),
            object_ownership: self.object_ownership,
            kms_encrypted: self.kms_encrypted,
            access_log_prefixes: self
                .grants
                .iter()
                .filter_map(|g| match g {
                    BucketGrant::ServerAccessLogs { prefix } => Some(prefix.clone()),
                    _ => None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
