//! [`Bucket`](super::Bucket): the bucket and its policy.

use super::*;
use crate::cfn;
use crate::cfn::attributes::*;
use crate::core::error::Result;
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions};
use crate::core::value::Value;

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

pub(crate) fn storage_class(c: StorageClass) -> cfn::s3::bucket::StorageClass {
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

pub(crate) fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

pub(crate) fn lifecycle_rule(rule: &LifecycleRule) -> cfn::s3::bucket::Rule {
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
            // The target's policy must grant the logging service first
            // (an imported target was refused by `check_access_log_target`).
            if let Some(policy) = logs.bucket.policy() {
                options = options.depends_on(policy);
            }
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
        BucketRef::from_handles(
            &self.bucket,
            &self.policy,
            self.path.clone(),
            self.object_ownership,
            self.kms_encrypted,
            self.grants
                .iter()
                .filter_map(|g| match g {
                    BucketGrant::ServerAccessLogs { prefix } => Some(prefix.clone()),
                    _ => None,
                })
                .collect(),
        )
    }
}
