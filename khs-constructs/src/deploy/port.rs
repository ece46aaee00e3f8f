//! The CloudFormation port: the operations the deploy engine needs, as a
//! trait, with the plain data types they speak in.
//!
//! `deploy::client` implements it over the AWS SDK for Rust and
//! `deploy::fake` in memory for the engine's unit tests (both with the
//! `deploy` feature).
//! Every method maps to one AWS API call (or one paginated series of
//! calls), so that the engine keeps every sequencing decision.

use std::collections::BTreeMap;

use serde_json::Value;

use super::changeset::ChangeSetDescription;
pub use super::events::StackEvent;

/// Everything that can go wrong while talking to AWS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// No credentials could be found.
    #[error(
        "no AWS credentials found: log in with `aws sso login` (and pass --profile or set AWS_PROFILE), \
         or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({detail})"
    )]
    NoCredentials {
        /// What the credential chain said, in one line.
        detail: String,
    },
    /// The credentials chosen for an account belong to another account.
    #[error(
        "the credentials for account {expected} ({via}) are those of account {actual} \
         (GetCallerIdentity)"
    )]
    WrongAccount {
        /// The account of the stack's environment.
        expected: String,
        /// The account of the credentials.
        actual: String,
        /// Where the credentials came from (`profile prod`, `role arn:…`,
        /// `the default credentials`).
        via: String,
    },
    /// An AWS API call failed.
    #[error("{stack}: {operation} failed: {message}")]
    Api {
        /// The stack concerned.
        stack: String,
        /// The API operation (`CreateChangeSet`).
        operation: &'static str,
        /// The service's error code and message, or the transport error.
        message: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Waiting for CloudFormation took too long.
    #[error("{stack}: {what} did not finish within {seconds} s")]
    Timeout {
        /// The stack.
        stack: String,
        /// What was awaited.
        what: String,
        /// The time waited.
        seconds: u64,
    },
    /// The template is too large to pass inline and no bucket was given.
    #[error(
        "{stack}: the template is {size} bytes, more than the {max} bytes CloudFormation accepts \
         inline; pass --template-bucket BUCKET (an S3 bucket in the stack's region that you can \
         write to) to upload it"
    )]
    TemplateTooLarge {
        /// The stack.
        stack: String,
        /// The template size.
        size: usize,
        /// The inline limit.
        max: usize,
    },
    /// A deployed template is not JSON.
    #[error(
        "{stack}: the deployed template is not JSON ({message}); it was not deployed by this client"
    )]
    ForeignTemplate {
        /// The stack.
        stack: String,
        /// The parser's message.
        message: String,
    },
}

/// The message prefix of an endpoint that answered without an AWS error.
pub(crate) const NOT_AN_AWS_ERROR: &str = "the endpoint answered HTTP";

impl DeployError {
    /// An API error with a plain message (the fake's, or a transport's).
    pub fn api_message(stack: &str, operation: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        DeployError::Api {
            stack: stack.to_string(),
            operation,
            source: message.clone().into(),
            message,
        }
    }

    /// Whether the endpoint answered without an AWS error (an HTTP error
    /// page, or `InvalidAction`): the operation is likely not implemented by
    /// a local endpoint such as moto.
    pub fn is_unimplemented(&self) -> bool {
        matches!(self, DeployError::Api { message, .. }
            if message.starts_with(NOT_AN_AWS_ERROR) || message.starts_with("InvalidAction"))
    }
}

/// A deployed stack, as `DescribeStacks` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackInfo {
    /// The stack id (ARN).
    pub id: String,
    /// The stack name.
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_FAILED`, …
    pub status: String,
    /// Why it is in that status.
    pub status_reason: Option<String>,
    /// Outputs by key.
    pub outputs: BTreeMap<String, String>,
    /// Parameter values by key (`****` for `NoEcho`).
    pub parameters: BTreeMap<String, String>,
    /// Whether termination protection is on.
    pub termination_protection: bool,
    /// Last update (or creation) time, RFC 3339.
    pub updated: Option<String>,
}

impl StackInfo {
    /// Whether an operation is running.
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }
}

/// Where a template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// Inline (`TemplateBody`).
    Body(String),
    /// Uploaded (`TemplateURL`).
    Url(String),
}

/// A parameter to pass to a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// A value.
    Value(String),
    /// Keep the deployed value.
    UsePrevious,
}

/// A change set to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// The stack.
    pub stack: String,
    /// The change-set name.
    pub name: String,
    /// Whether the stack is created (true) or updated.
    pub create: bool,
    /// The template.
    pub template: TemplateSource,
    /// Parameters by key.
    pub parameters: BTreeMap<String, ParamValue>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
}

/// How far a drift detection got (`DescribeStackDriftDetectionStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftDetection {
    /// Still running.
    InProgress,
    /// Finished (possibly with some resources not checked).
    Complete,
    /// Failed, with the reason.
    Failed(String),
}

/// One property that differs from the template (`PropertyDifferences`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDrift {
    /// The JSON pointer of the property (`/Properties/Tags/0/Value`).
    pub path: String,
    /// What the template says, as JSON text.
    pub expected: String,
    /// What AWS has, as JSON text.
    pub actual: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub difference: String,
}

/// A resource that differs from its template (`DescribeStackResourceDrifts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDrift {
    /// The logical id.
    pub logical_id: String,
    /// The type.
    pub resource_type: String,
    /// `MODIFIED` or `DELETED` (in-sync resources are not returned).
    pub status: String,
    /// The properties that differ.
    pub properties: Vec<PropertyDrift>,
}

/// One resource move of a stack refactor (`ResourceMappings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMove {
    /// The stack the resource is in now.
    pub from_stack: String,
    /// Its logical id there.
    pub from_id: String,
    /// The stack it moves to (the same stack for a rename).
    pub to_stack: String,
    /// Its new logical id.
    pub to_id: String,
}

/// A stack refactor to create (`CreateStackRefactor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefactorRequest {
    /// The stacks' new templates (compact JSON), by stack name.
    pub templates: BTreeMap<String, String>,
    /// The moves.
    pub moves: Vec<ResourceMove>,
    /// Whether a destination stack that does not exist yet may be created
    /// (`EnableStackCreation`).
    pub create_stacks: bool,
}

/// How far a stack refactor got (`DescribeStackRefactor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefactorState {
    /// `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `CREATE_FAILED`, …
    pub status: String,
    /// `UNAVAILABLE`, `AVAILABLE`, `EXECUTE_IN_PROGRESS`,
    /// `EXECUTE_COMPLETE`, `EXECUTE_FAILED`, `ROLLBACK_COMPLETE`, …
    pub execution_status: String,
    /// Why, when it failed.
    pub reason: Option<String>,
}

/// Whether something exists, as far as a read-only call can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// It exists.
    Exists,
    /// It does not.
    Missing,
    /// The call could not tell (denied, not implemented here); the text
    /// says why.
    Unknown(String),
}

/// The CloudFormation (and read-only S3/ACM/…) operations the engine uses.
///
/// Each method is one API call or one paginated series of calls; errors
/// name the stack and the operation. The engine runs on a single-threaded
/// runtime, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait CloudFormation {
    /// The region this client talks to.
    fn region(&self) -> &str;

    /// `DescribeStacks`: the stack, or `None` when it does not exist (or is
    /// `DELETE_COMPLETE`).
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, DeployError>;

    /// `GetTemplate` (original stage) as JSON.
    async fn get_template(&self, stack: &str) -> Result<Value, DeployError>;

    /// `PutObject` of a template; returns its URL.
    async fn upload_template(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<String, DeployError>;

    /// `CreateChangeSet`; returns the change set's id.
    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, DeployError>;

    /// `DescribeChangeSet`, every page of rows.
    async fn describe_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<ChangeSetDescription, DeployError>;

    /// `ExecuteChangeSet`.
    async fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError>;

    /// `DeleteChangeSet`.
    async fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError>;

    /// `DeleteStack` of the stack with id `id` (errors name `name`).
    async fn delete_stack(&self, name: &str, id: &str) -> Result<(), DeployError>;

    /// `UpdateTerminationProtection`.
    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), DeployError>;

    /// `SetStackPolicy`.
    async fn set_stack_policy(&self, stack: &str, policy: &str) -> Result<(), DeployError>;

    /// `DescribeStackEvents`, newest first, stopping after the page that
    /// contains `until` (an event id already seen) when given.
    async fn stack_events(
        &self,
        stack: &str,
        until: Option<&str>,
    ) -> Result<Vec<StackEvent>, DeployError>;

    /// `DescribeStackResources`: physical id by logical id.
    async fn stack_resources(&self, stack: &str) -> Result<BTreeMap<String, String>, DeployError>;

    /// `DetectStackDrift`; returns the detection id.
    async fn detect_stack_drift(&self, stack: &str) -> Result<String, DeployError>;

    /// `DescribeStackDriftDetectionStatus`.
    async fn drift_detection_status(
        &self,
        stack: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, DeployError>;

    /// `DescribeStackResourceDrifts` filtered to `MODIFIED` and `DELETED`.
    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, DeployError>;

    /// `CreateStackRefactor`; returns the refactor id.
    async fn create_stack_refactor(
        &self,
        stack: &str,
        req: &RefactorRequest,
    ) -> Result<String, DeployError>;

    /// `DescribeStackRefactor`.
    async fn describe_stack_refactor(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<RefactorState, DeployError>;

    /// `ExecuteStackRefactor`.
    async fn execute_stack_refactor(&self, stack: &str, id: &str) -> Result<(), DeployError>;

    /// Whether a resource of `type_name` named `name` exists in the account
    /// and region (read-only: `HeadBucket` for buckets; other types as the
    /// implementation can tell, else [`Existence::Unknown`]).
    async fn named_resource_exists(
        &self,
        stack: &str,
        type_name: &str,
        name: &str,
    ) -> Result<Existence, DeployError>;

    /// Whether a bucket holds at least one object (`ListObjectsV2` with one
    /// key); `Unknown` when the call could not tell.
    async fn bucket_has_objects(&self, stack: &str, bucket: &str)
    -> Result<Existence, DeployError>;

    /// The status of an ACM certificate (`ISSUED`, `PENDING_VALIDATION`, …),
    /// `None` when the implementation cannot read it.
    async fn certificate_status(
        &self,
        stack: &str,
        arn: &str,
    ) -> Result<Option<String>, DeployError>;
}

/// Makes one [`CloudFormation`] client per region.
#[allow(async_fn_in_trait)]
pub trait Connector {
    /// The client type (also the S3 store that assets are published to).
    type Client: CloudFormation + super::s3_port::AssetStore + Clone;

    /// A client for `region` (checking credentials the first time).
    async fn connect(&mut self, region: &str) -> Result<Self::Client, DeployError>;

    /// A client for `region` with the credentials of `account` (the
    /// account of a stack's environment; `None`: the default credentials).
    ///
    /// Default: - [`Connector::connect`], whatever the account.
    async fn connect_in(
        &mut self,
        account: Option<&str>,
        region: &str,
    ) -> Result<Self::Client, DeployError> {
        let _ = account;
        self.connect(region).await
    }
}
