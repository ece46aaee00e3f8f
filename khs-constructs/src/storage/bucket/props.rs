//! The props of a [`Bucket`](super::Bucket): names, encryption, lifecycle rules, grants, access logs.

use crate::cfn::attributes::*;
use std::fmt;

use crate::cfn;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::template::DeletionPolicy;
use crate::core::value::Value;
use crate::security::kms::EncryptionKey;

/// Days before S3 accepts a transition to `STANDARD_IA` or `ONEZONE_IA`
/// (objects younger than this cannot move to an infrequent-access class).
pub const MIN_INFREQUENT_ACCESS_DAYS: u32 = 30;
/// [`LifecycleRule::archive_then_expire`]: days before objects move to `STANDARD_IA`.
pub const DEFAULT_IA_DAYS: u32 = 30;
/// [`LifecycleRule::archive_then_expire`]: days before objects move to `GLACIER`.
pub const DEFAULT_GLACIER_DAYS: u32 = 90;
/// [`LifecycleRule::archive_then_expire`]: days before objects are deleted.
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
    /// for the bucket given to [`crate::edge::cdn::CdnProps::access_logs`].
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
    pub(crate) fn rank(self) -> u8 {
        match self {
            StorageClass::StandardIa => 1,
            StorageClass::IntelligentTiering => 2,
            StorageClass::OneZoneIa => 3,
            StorageClass::GlacierInstantRetrieval => 4,
            StorageClass::Glacier => 5,
            StorageClass::DeepArchive => 6,
        }
    }

    pub(crate) fn is_infrequent_access(self) -> bool {
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

    /// A common archive schedule for logs and backups: `STANDARD_IA` after
    /// 30 days (the earliest S3 allows), `GLACIER` after 90,
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
    /// For data whose access pattern is unknown.
    pub fn intelligent_tiering(id: impl Into<String>) -> Self {
        LifecycleRule {
            transitions: vec![
                Transition::new(StorageClass::IntelligentTiering, 0),
                Transition::new(StorageClass::Glacier, DEFAULT_GLACIER_DAYS),
            ],
            ..LifecycleRule::archive_then_expire(id)
        }
    }

    pub(crate) fn has_action(&self) -> bool {
        !self.transitions.is_empty()
            || self.expiration_days.is_some()
            || !self.noncurrent_transitions.is_empty()
            || self.noncurrent_expiration_days.is_some()
            || self.abort_incomplete_multipart_upload_days.is_some()
    }
}

/// A lightweight, clonable reference to a bucket, for props of other
/// constructs (`Cdn` access logs, server access logs, load balancer access
/// logs, [`Code::from_bucket`](crate::serverless::function::Code::from_bucket))
/// and for grants on the app's roles: one of the app's
/// ([`Bucket::reference`](super::Bucket::reference)) or one that exists
/// already ([`Bucket::import`](super::Bucket::import)), which is never
/// modified ([`BucketRef::is_imported`]; [`BucketRef::handle`] and
/// [`BucketRef::policy`] are `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct BucketRef {
    pub(crate) bucket: Option<Handle<cfn::s3::Bucket>>,
    pub(crate) policy: Option<Handle<cfn::s3::BucketPolicy>>,
    pub(crate) name: Value<String>,
    pub(crate) arn: Value<String>,
    pub(crate) domain_name: Value<String>,
    pub(crate) regional_domain_name: Value<String>,
    pub(crate) path: ConstructPath,
    pub(crate) object_ownership: ObjectOwnership,
    pub(crate) kms_encrypted: bool,
    pub(crate) key: Option<EncryptionKey>,
    pub(crate) access_log_prefixes: Vec<String>,
}

impl BucketRef {
    /// A reference to a bucket resource of the app.
    pub(crate) fn from_handles(
        bucket: &Handle<cfn::s3::Bucket>,
        policy: &Handle<cfn::s3::BucketPolicy>,
        path: ConstructPath,
        object_ownership: ObjectOwnership,
        kms_encrypted: bool,
        access_log_prefixes: Vec<String>,
    ) -> Self {
        BucketRef {
            bucket: Some(bucket.clone()),
            policy: Some(policy.clone()),
            name: bucket.ref_(),
            arn: bucket.attr_arn(),
            domain_name: bucket.attr_domain_name(),
            regional_domain_name: bucket.attr_regional_domain_name(),
            path,
            object_ownership,
            kms_encrypted,
            key: None,
            access_log_prefixes,
        }
    }

    /// The bucket resource; `None` for an imported bucket (nothing of it is
    /// in the stack).
    pub fn handle(&self) -> Option<&Handle<cfn::s3::Bucket>> {
        self.bucket.as_ref()
    }

    /// The bucket's policy: resources that write to the bucket from the
    /// moment they are created (S3 server access logging, load balancer
    /// logs) should depend on it, so the grants exist first. `None` for an
    /// imported bucket (its policy is its owner's and never modified).
    pub fn policy(&self) -> Option<&Handle<cfn::s3::BucketPolicy>> {
        self.policy.as_ref()
    }

    /// Whether the bucket exists outside the app
    /// ([`Bucket::import`](super::Bucket::import)): nothing of it is in the
    /// stack and neither it nor its policy is ever modified.
    pub fn is_imported(&self) -> bool {
        self.bucket.is_none()
    }

    /// The construct path of the bucket (or of the import).
    pub fn path(&self) -> &ConstructPath {
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

    /// The customer managed key of an imported bucket, when given
    /// ([`BucketImport::kms_key_arn`](super::BucketImport::kms_key_arn)):
    /// the grants add its key actions. `None` for a bucket of the app.
    pub fn encryption_key(&self) -> Option<&EncryptionKey> {
        self.key.as_ref()
    }

    /// The prefixes under which the bucket accepts S3 server access logs
    /// (its [`BucketGrant::ServerAccessLogs`] grants when the reference was
    /// taken; none for an imported bucket).
    pub fn access_log_prefixes(&self) -> &[String] {
        &self.access_log_prefixes
    }

    /// The bucket name (`Ref`, or the imported name).
    pub fn name(&self) -> Value<String> {
        self.name.clone()
    }

    /// The bucket ARN (`arn:${AWS::Partition}:s3:::<name>` for an import).
    pub fn arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// `<name>.s3.amazonaws.com`, as CloudFront logging wants it.
    pub fn domain_name(&self) -> Value<String> {
        self.domain_name.clone()
    }

    /// `<name>.s3.<region>.amazonaws.com`, as CloudFront origins want it.
    pub fn regional_domain_name(&self) -> Value<String> {
        self.regional_domain_name.clone()
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

/// Props of a [`Bucket`](super::Bucket).
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
