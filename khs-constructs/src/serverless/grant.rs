//! Grants: least-privilege access from one construct to another, as the
//! CDK's `grant*` methods give it.
//!
//! A [`Grantee`] is anything with an IAM role (a [`Function`], the task
//! role of an [`ApiService`], a role made with [`crate::security::iam::create_role`]
//! and wrapped in [`RoleGrantee`]). A grant
//! method of the resource's construct (`table.grant_read_write`,
//! `queue.grant_consume_messages`, `bucket.grant_read`, …) adds one
//! `AWS::IAM::Policy` attached to the grantee's role, named
//! `<grantee><Verb><resource>`, with exactly the actions the verb needs on
//! exactly the resource's ARNs, checked with
//! [`crate::security::iam::validate_least_privilege`]. Granting the same thing twice is
//! an error (a duplicate construct), not a second copy.
//!
//! Why one policy per grant rather than one growing policy per role: every
//! grant then is one reviewable resource in the diff, and resources that
//! need the permission before they are created (a Lambda event source
//! mapping checks that its function may read the queue) depend on exactly
//! the policy they need.
//!
//! KMS: keys made with [`EncryptionKey`] delegate to IAM (their key policy
//! lets the account's IAM policies decide), so a grant never edits a key
//! policy; it adds the key actions to the grantee's policy, limited to the
//! resource's service with `kms:ViaService` where the service calls KMS on
//! the caller's behalf.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::security::iam::{RoleProps, create_role};
//! use khs_constructs::serverless::grant::RoleGrantee;
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let queue = Queue::new(&mut stack, "Jobs", QueueProps::default()).unwrap();
//! let role = create_role(&mut stack, "WorkerRole", RoleProps::new("ecs-tasks.amazonaws.com")).unwrap();
//! let worker = RoleGrantee::new(role, stack.as_scope().path().child("WorkerRole").unwrap());
//! queue.grant_send_messages(&mut stack, &worker).unwrap();
//! let t = stack.synth().unwrap();
//! assert!(t.resources.contains_key("WorkerRoleSendMessagesJobs"));
//! ```
//!
//! [`Function`]: crate::serverless::function::Function

use crate::cfn::attributes::*;
use crate::cfn::iam::{Policy as CfnPolicy, Role as CfnRole};
use crate::compute::api_service::ApiService;
use crate::compute::fargate_service::FargateService;
use crate::core::error::Result;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::security::iam::{PolicyDocument, PolicyStatement, Principal, validate_least_privilege};
use crate::security::kms::EncryptionKey;
use crate::security::secrets::Secret;
use crate::storage::{Bucket, BucketRef};

/// Something that can be granted access: it has an IAM role.
pub trait Grantee {
    /// The role that receives the policies.
    fn grant_role(&self) -> &Handle<CfnRole>;

    /// The construct path of the grantee (for policy ids and errors).
    fn grant_path(&self) -> &ConstructPath;

    /// The principal for resource policies: the role's ARN.
    fn grant_principal(&self) -> Principal {
        Principal::Aws(self.grant_role().attr_arn())
    }
}

/// A role made elsewhere (with [`crate::security::iam::create_role`], or the task role
/// of a container service) as a [`Grantee`].
#[derive(Debug, Clone, PartialEq)]
pub struct RoleGrantee {
    role: Handle<CfnRole>,
    path: ConstructPath,
}

impl RoleGrantee {
    /// Wraps `role`; `path` is the construct that owns it.
    pub fn new(role: Handle<CfnRole>, path: ConstructPath) -> Self {
        RoleGrantee { role, path }
    }
}

impl Grantee for RoleGrantee {
    fn grant_role(&self) -> &Handle<CfnRole> {
        &self.role
    }

    fn grant_path(&self) -> &ConstructPath {
        &self.path
    }
}

/// The task role of an [`ApiService`]: what its containers may do.
impl Grantee for ApiService {
    fn grant_role(&self) -> &Handle<CfnRole> {
        self.service().task_role()
    }

    fn grant_path(&self) -> &ConstructPath {
        self.path()
    }
}

/// The task role of a [`FargateService`]: what its containers may do.
impl Grantee for FargateService {
    fn grant_role(&self) -> &Handle<CfnRole> {
        self.task_role()
    }

    fn grant_path(&self) -> &ConstructPath {
        self.path()
    }
}

/// Adds the policy `<grantee><verb><resource>` with `statements` to the
/// grantee's role, after checking it for least privilege. The building
/// block of every `grant_*` method; use it for grants of your own.
pub fn grant(
    scope: &mut impl AsScope,
    grantee: &dyn Grantee,
    verb: &str,
    resource: &ConstructPath,
    statements: Vec<PolicyStatement>,
) -> Result<Handle<CfnPolicy>> {
    let mut s = scope.as_scope();
    let id = format!(
        "{}{verb}{}",
        grantee.grant_path().short_name_below(s.path()),
        resource.short_name_below(s.path())
    );
    let mut doc = PolicyDocument::default();
    for st in statements {
        doc.push(st);
    }
    let path = s.path().child(&id)?;
    validate_least_privilege(&path, "policy", &doc)?;
    s.add(
        &id,
        CfnPolicy {
            roles: Some(Value::Literal(vec![grantee.grant_role().ref_()])),
            ..CfnPolicy::new(doc.to_json(), id.clone())
        },
    )
}

/// `kms:<actions>` on `key`, only through `service` in the stack's region.
pub(crate) fn key_statement(
    key: &EncryptionKey,
    actions: &[&str],
    service: &str,
) -> PolicyStatement {
    let mut st = key.grant_decrypt_via(service);
    st.actions = actions.iter().map(|a| a.to_string()).collect();
    st
}

/// What reading data takes from a KMS key: decrypting.
pub(crate) const KEY_READ: [&str; 1] = ["kms:Decrypt"];
/// What writing data takes from a KMS key: data keys to encrypt with, and
/// decrypting (to read back what was written, and for SQS and DynamoDB,
/// which decrypt their cached data keys).
pub(crate) const KEY_WRITE: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

/// The object actions of [`Bucket::grant_read`].
pub const BUCKET_READ_ACTIONS: [&str; 2] = ["s3:GetObject", "s3:GetObjectVersion"];
/// The object actions of [`Bucket::grant_write`].
pub const BUCKET_WRITE_ACTIONS: [&str; 3] =
    ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"];

impl Bucket {
    /// Lets `grantee` read objects: `s3:GetObject` and `s3:GetObjectVersion`
    /// on `<bucket arn>/*` and `s3:ListBucket` on the bucket. Buckets
    /// encrypted with SSE-S3 need no key grant; a bucket with a customer
    /// managed key needs [`EncryptionKey::grant_decrypt`] too.
    pub fn grant_read(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        self.reference().grant_read(scope, grantee)
    }

    /// Lets `grantee` write and delete objects: `s3:PutObject`,
    /// `s3:AbortMultipartUpload` and `s3:DeleteObject` on `<bucket arn>/*`.
    pub fn grant_write(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        self.reference().grant_write(scope, grantee)
    }

    /// Lets `grantee` read and write objects: [`Bucket::grant_read`] and
    /// [`Bucket::grant_write`] in one policy.
    pub fn grant_read_write(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        self.reference().grant_read_write(scope, grantee)
    }
}

/// The grants of a bucket of the app or of an imported one: one policy on
/// the grantee's role, never a statement on the bucket's policy.
impl BucketRef {
    /// [`Bucket::grant_read`]; for an imported bucket with a
    /// [`kms_key_arn`](crate::storage::BucketImport::kms_key_arn), also
    /// `kms:Decrypt` on that key through S3.
    pub fn grant_read(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut statements = vec![
            PolicyStatement::allow(BUCKET_READ_ACTIONS, [self.objects_arn()]),
            PolicyStatement::allow(["s3:ListBucket"], [self.arn()]),
        ];
        statements.extend(self.key_statement(&KEY_READ));
        grant(scope, grantee, "Read", self.path(), statements)
    }

    /// [`Bucket::grant_write`]; for an imported bucket with a key, also
    /// `kms:Decrypt` and `kms:GenerateDataKey` on it through S3.
    pub fn grant_write(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut statements = vec![PolicyStatement::allow(
            BUCKET_WRITE_ACTIONS,
            [self.objects_arn()],
        )];
        statements.extend(self.key_statement(&KEY_WRITE));
        grant(scope, grantee, "Write", self.path(), statements)
    }

    /// [`Bucket::grant_read_write`]; for an imported bucket with a key,
    /// also the key actions of [`BucketRef::grant_write`].
    pub fn grant_read_write(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut actions: Vec<&str> = BUCKET_READ_ACTIONS.to_vec();
        actions.extend(BUCKET_WRITE_ACTIONS);
        let mut statements = vec![
            PolicyStatement::allow(actions, [self.objects_arn()]),
            PolicyStatement::allow(["s3:ListBucket"], [self.arn()]),
        ];
        statements.extend(self.key_statement(&KEY_WRITE));
        grant(scope, grantee, "ReadWrite", self.path(), statements)
    }

    /// The key statement of an imported bucket's key, through S3.
    fn key_statement(&self, actions: &[&str]) -> Option<PolicyStatement> {
        self.encryption_key()
            .map(|key| key_statement(key, actions, "s3"))
    }

    /// `<bucket arn>/*`.
    fn objects_arn(&self) -> Value<String> {
        match self.handle() {
            Some(b) => {
                crate::core::intrinsic::Intrinsic::sub(format!("${{{}.Arn}}/*", b.logical_id()))
                    .into()
            }
            None => crate::storage::bucket::sub_name(
                "arn:${AWS::Partition}:s3:::{name}/*",
                &self.name(),
            ),
        }
    }
}

impl Secret {
    /// Lets `grantee` read the secret's value: `secretsmanager:GetSecretValue`
    /// on this secret and `kms:Decrypt` on its key through Secrets Manager
    /// only (the statements of [`Secret::grant_read`], as a policy of the
    /// grantee's role).
    pub fn grant_read_to(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut doc = PolicyDocument::default();
        self.grant_read(&mut doc);
        grant(scope, grantee, "Read", self.path(), doc.statements)
    }
}

impl EncryptionKey {
    /// Lets `grantee` decrypt with this key directly (`kms:Decrypt` on the
    /// key's ARN, from any service). Prefer the grants of the resource the
    /// key protects, which limit the key to that service.
    pub fn grant_decrypt(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        grant(
            scope,
            grantee,
            "Decrypt",
            self.path(),
            vec![PolicyStatement::allow(["kms:Decrypt"], [self.arn()])],
        )
    }

    /// Lets `grantee` encrypt and decrypt with this key directly
    /// (`kms:Encrypt`, `kms:Decrypt`, `kms:ReEncrypt*`,
    /// `kms:GenerateDataKey*` on the key's ARN).
    pub fn grant_encrypt_decrypt(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        grant(
            scope,
            grantee,
            "EncryptDecrypt",
            self.path(),
            vec![PolicyStatement::allow(
                [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                ],
                [self.arn()],
            )],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::security::iam::{RoleProps, create_role};
    use serde_json::json;

    fn stack_and_role() -> (Stack, RoleGrantee) {
        let mut stack =
            Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let role =
            create_role(&mut stack, "Worker", RoleProps::new("lambda.amazonaws.com")).unwrap();
        let path = stack.as_scope().path().child("Worker").unwrap();
        (stack, RoleGrantee::new(role, path))
    }

    #[test]
    fn bucket_read_names_the_objects_and_the_bucket() {
        let (mut stack, worker) = stack_and_role();
        let bucket = Bucket::new(&mut stack, "Uploads", BucketProps::default()).unwrap();
        let policy = bucket.grant_read(&mut stack, &worker).unwrap();
        assert_eq!(policy.logical_id().as_str(), "WorkerReadUploads");
        let t = stack.synth().unwrap();
        let p = &t.resources["WorkerReadUploads"].properties;
        assert_eq!(p["Roles"], json!([{"Ref": "Worker"}]));
        assert_eq!(p["PolicyName"], "WorkerReadUploads");
        let st = &p["PolicyDocument"]["Statement"];
        assert_eq!(
            st[0]["Action"],
            json!(["s3:GetObject", "s3:GetObjectVersion"])
        );
        assert_eq!(
            st[0]["Resource"],
            json!({"Fn::Sub": "${UploadsBucket.Arn}/*"})
        );
        assert_eq!(st[1]["Action"], "s3:ListBucket");
        assert_eq!(
            st[1]["Resource"],
            json!({"Fn::GetAtt": ["UploadsBucket", "Arn"]})
        );
        assert!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty()
        );
    }

    #[test]
    fn secret_and_key_grants_are_exact() {
        let (mut stack, worker) = stack_and_role();
        let secret = Secret::new(&mut stack, "Token", SecretProps::new("t")).unwrap();
        secret.grant_read_to(&mut stack, &worker).unwrap();
        secret
            .encryption_key()
            .unwrap()
            .grant_decrypt(&mut stack, &worker)
            .unwrap();
        let t = stack.synth().unwrap();
        let st = &t.resources["WorkerReadToken"].properties["PolicyDocument"]["Statement"];
        assert_eq!(st[0]["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(st[0]["Resource"], json!({"Ref": "Token"}));
        assert_eq!(
            st[1]["Condition"]["StringEquals"]["kms:ViaService"],
            json!({"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"})
        );
        let st = &t.resources["WorkerDecryptTokenKey"].properties["PolicyDocument"]["Statement"];
        assert_eq!(
            st[0]["Resource"],
            json!({"Fn::GetAtt": ["TokenKey", "Arn"]})
        );
    }

    #[test]
    fn an_api_service_is_granted_through_its_task_role() {
        let (mut stack, network) = crate::test_support::stack_with_network();
        let api = crate::compute::api_service::ApiService::new(
            &mut stack,
            "Api",
            &network,
            crate::compute::api_service::ApiServiceProps::new(
                "example",
                "api",
                "api",
                crate::network::dns::CertificateRef::from_arn(
                    "arn:aws:acm:us-east-1:111122223333:certificate/abc",
                    "us-east-1",
                    vec!["api.example.com".into()],
                ),
            ),
        )
        .unwrap();
        let bucket = Bucket::new(&mut stack, "Uploads", BucketProps::default()).unwrap();
        bucket.grant_read(&mut stack, &api).unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            t.resources["ApiReadUploads"].properties["Roles"],
            json!([{"Ref": "ApiTaskRole"}])
        );
    }

    #[test]
    fn fails_when_the_same_grant_is_made_twice() {
        let (mut stack, worker) = stack_and_role();
        let bucket = Bucket::new(&mut stack, "Uploads", BucketProps::default()).unwrap();
        bucket.grant_read(&mut stack, &worker).unwrap();
        let e = bucket
            .grant_read(&mut stack, &worker)
            .unwrap_err()
            .to_string();
        assert!(e.contains("khs/WorkerReadUploads"), "{e}");
    }

    #[test]
    fn fails_when_a_grant_writes_everywhere() {
        let (mut stack, worker) = stack_and_role();
        let e = grant(
            &mut stack,
            &worker,
            "Everything",
            &ConstructPathFixture::path(),
            vec![PolicyStatement::allow(["s3:PutObject"], ["*"])],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/WorkerEverythingData: policy must not allow write actions"),
            "{e}"
        );
    }

    struct ConstructPathFixture;
    impl ConstructPathFixture {
        fn path() -> ConstructPath {
            ConstructPath::root("khs").child("Data").unwrap()
        }
    }
}
