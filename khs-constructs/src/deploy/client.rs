//! The CloudFormation client: a thin layer over `aws-sdk-cloudformation`
//! (and `aws-sdk-s3` for templates over 51,200 bytes) that speaks in the
//! types of [`super::changeset`].
//!
//! Credentials, region and endpoint come from `aws-config`'s normal chain
//! (environment, profiles, SSO, `credential_process`, container and instance
//! roles); `--endpoint-url` / `AWS_ENDPOINT_URL` point it at a local API such
//! as moto. Throttling and transient errors are retried by the SDK's
//! standard retry strategy with exponential backoff.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::config::ProvideCredentials;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, Parameter as CfnParameter, Tag as CfnTag, TemplateStage,
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use super::changeset::{ChangeDetail, ChangeSetDescription, ChangeTarget, ResourceChange};
pub use super::events::StackEvent;

/// CloudFormation's limit for a template passed inline (`TemplateBody`).
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

/// Attempts per API call when nothing else is configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

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
        /// What the credential chain said.
        detail: String,
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
        /// The SDK error.
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

impl DeployError {
    fn api<E>(stack: &str, operation: &'static str, err: cfn::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let message = sdk_message(&err);
        DeployError::Api {
            stack: stack.to_string(),
            operation,
            message,
            source: Box::new(err),
        }
    }

    /// Whether the endpoint answered without an AWS error (an HTTP error
    /// page): the operation is likely not implemented by a local endpoint
    /// such as moto.
    pub fn is_unimplemented(&self) -> bool {
        matches!(self, DeployError::Api { message, .. } if message.starts_with(NOT_AN_AWS_ERROR))
    }
}

const NOT_AN_AWS_ERROR: &str = "the endpoint answered HTTP";

/// One line for an SDK error: `Code: message` for service errors, the
/// transport error otherwise (never the debug dump of the response).
fn sdk_message<E>(err: &cfn::error::SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_cloudformation::error::SdkError;
    match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_string(),
        _ => match err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                format!(
                    "{NOT_AN_AWS_ERROR} {status} without an AWS error (is the operation implemented there?)"
                )
            }
            SdkError::TimeoutError(_) => "timed out".to_string(),
            SdkError::DispatchFailure(_) => {
                format!("could not reach the endpoint: {}", DisplayErrorContext(err))
            }
            _ => DisplayErrorContext(err).to_string(),
        },
    }
}

/// How to reach AWS (the global flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Region for every stack instead of each stack's own.
    ///
    /// Default: - the region of the stack's environment.
    pub region: Option<String>,
    /// A named profile of `~/.aws/config`.
    ///
    /// Default: - `AWS_PROFILE`, else the default profile.
    pub profile: Option<String>,
    /// Another endpoint, e.g. `http://127.0.0.1:5000` for moto.
    ///
    /// Default: - `AWS_ENDPOINT_URL`, else the AWS endpoints.
    pub endpoint_url: Option<String>,
    /// Attempts per API call, including the first (standard retry mode with
    /// exponential backoff and jitter).
    ///
    /// Default: - `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE` when set, else
    /// [`DEFAULT_MAX_ATTEMPTS`] in standard mode.
    pub max_attempts: Option<u32>,
}

/// A deployed stack, as `DescribeStacks` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A CloudFormation (and S3) client for one region.
#[derive(Debug, Clone)]
pub struct Client {
    cfn: cfn::Client,
    s3: aws_sdk_s3::Client,
    region: String,
}

impl Client {
    /// Connects to `region` (or `options.region`) and checks that credentials
    /// can be found, so that a missing login is reported in one sentence
    /// before anything else happens.
    pub async fn connect(options: &ConnectOptions, region: &str) -> Result<Client, DeployError> {
        let region = options.region.clone().unwrap_or_else(|| region.to_string());
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region.clone()))
            .http_client(http);
        // AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (or the profile's settings) win
        // when set; otherwise standard mode with more attempts than the
        // SDK's 3, since following a deployment polls for a long time.
        let from_env = std::env::var_os("AWS_MAX_ATTEMPTS").is_some()
            || std::env::var_os("AWS_RETRY_MODE").is_some();
        if options.max_attempts.is_some() || !from_env {
            loader = loader.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(options.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS))
                    .with_initial_backoff(Duration::from_millis(500)),
            );
        }
        if let Some(p) = &options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = &options.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let config = loader.load().await;
        match config.credentials_provider() {
            None => {
                return Err(DeployError::NoCredentials {
                    detail: "no credential provider is configured".to_string(),
                });
            }
            Some(provider) => {
                if let Err(e) = provider.provide_credentials().await {
                    let detail = e.to_string();
                    let detail = if detail.contains("not enabled") {
                        "none of the environment, profiles, SSO, web identity, container or \
                         instance credentials is configured"
                            .to_string()
                    } else {
                        DisplayErrorContext(&e).to_string()
                    };
                    return Err(DeployError::NoCredentials { detail });
                }
            }
        }
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(
                options.endpoint_url.is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL").is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
            )
            .build();
        Ok(Client {
            cfn: cfn::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            region,
        })
    }

    /// The region this client talks to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The stack, or `None` when it does not exist.
    pub async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, DeployError> {
        let out = match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(o) => o,
            Err(e) => {
                if e.code() == Some("ValidationError")
                    && e.message().is_some_and(|m| m.contains("does not exist"))
                {
                    return Ok(None);
                }
                return Err(DeployError::api(stack, "DescribeStacks", e));
            }
        };
        let Some(s) = out.stacks().first() else {
            return Ok(None);
        };
        let status = s
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
            id: s.stack_id().unwrap_or(stack).to_string(),
            name: s.stack_name().unwrap_or(stack).to_string(),
            status,
            status_reason: s.stack_status_reason().map(str::to_string),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some((
                        o.output_key()?.to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
            termination_protection: s.enable_termination_protection().unwrap_or(false),
            updated: s
                .last_updated_time()
                .or(s.creation_time())
                .map(|t| t.to_string()),
        }))
    }

    /// The deployed template as JSON.
    pub async fn get_template(&self, stack: &str) -> Result<serde_json::Value, DeployError> {
        let out = self
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| DeployError::api(stack, "GetTemplate", e))?;
        let body = out.template_body().unwrap_or("{}");
        serde_json::from_str(body).map_err(|e| DeployError::ForeignTemplate {
            stack: stack.to_string(),
            message: e.to_string(),
        })
    }

    /// Uploads a template to `bucket` and returns its URL.
    pub async fn upload_template(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<String, DeployError> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                body.as_bytes().to_vec(),
            ))
            .send()
            .await
            .map_err(|e| {
                let message = s3_message(&e);
                DeployError::Api {
                    stack: stack.to_string(),
                    operation: "PutObject (template upload)",
                    message: format!("{message} (bucket {bucket})"),
                    source: Box::new(e),
                }
            })?;
        Ok(format!(
            "https://s3.{}.amazonaws.com/{bucket}/{key}",
            self.region
        ))
    }

    /// Creates a change set; returns its id.
    pub async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, DeployError> {
        let mut call = self
            .cfn
            .create_change_set()
            .stack_name(&req.stack)
            .change_set_name(&req.name)
            .change_set_type(if req.create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            // The hosted secret-rotation Lambda comes from the
            // AWS::SecretsManager-2020-07-23 transform.
            .capabilities(Capability::CapabilityAutoExpand)
            .description("created by khs-constructs deploy");
        call = match &req.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        for (k, v) in &req.parameters {
            let p = CfnParameter::builder().parameter_key(k);
            let p = match v {
                ParamValue::Value(v) => p.parameter_value(v),
                ParamValue::UsePrevious => p.use_previous_value(true),
            };
            call = call.parameters(p.build());
        }
        for (k, v) in &req.tags {
            call = call.tags(CfnTag::builder().key(k).value(v).build());
        }
        let out = call
            .send()
            .await
            .map_err(|e| DeployError::api(&req.stack, "CreateChangeSet", e))?;
        Ok(out.id().unwrap_or(&req.name).to_string())
    }

    /// Waits until the change set is created (or failed) and returns it with
    /// every page of rows.
    pub async fn wait_change_set(
        &self,
        stack: &str,
        id: &str,
        timeout: Duration,
    ) -> Result<ChangeSetDescription, DeployError> {
        let start = std::time::Instant::now();
        let mut delay = Duration::from_millis(200);
        loop {
            let d = self.describe_change_set(stack, id).await?;
            let status = d.status.clone().unwrap_or_default();
            if !status.ends_with("_PENDING") && !status.ends_with("_IN_PROGRESS") {
                return Ok(d);
            }
            if start.elapsed() > timeout {
                return Err(DeployError::Timeout {
                    stack: stack.to_string(),
                    what: "the change set".to_string(),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    async fn describe_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<ChangeSetDescription, DeployError> {
        let mut token: Option<String> = None;
        let mut out = ChangeSetDescription::default();
        loop {
            let page = self
                .cfn
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| DeployError::api(stack, "DescribeChangeSet", e))?;
            out.status = page.status().map(|s| s.as_str().to_string());
            out.status_reason = page.status_reason().map(str::to_string);
            for c in page.changes() {
                out.changes.push(super::changeset::Change {
                    change_type: c.r#type().map(|t| t.as_str().to_string()),
                    resource_change: c.resource_change().map(convert_row),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Starts the change set.
    pub async fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| DeployError::api(stack, "ExecuteChangeSet", e))?;
        Ok(())
    }

    /// Deletes a change set that will not be executed.
    pub async fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| DeployError::api(stack, "DeleteChangeSet", e))?;
        Ok(())
    }

    /// Deletes the stack (by name or id).
    pub async fn delete_stack(&self, stack: &str) -> Result<(), DeployError> {
        self.delete_stack_id(stack, stack).await
    }

    /// Deletes the stack with id `id` (errors name the stack `name`).
    pub async fn delete_stack_id(&self, name: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .delete_stack()
            .stack_name(id)
            .send()
            .await
            .map_err(|e| DeployError::api(name, "DeleteStack", e))?;
        Ok(())
    }

    /// Turns termination protection on or off.
    pub async fn set_termination_protection(
        &self,
        stack: &str,
        on: bool,
    ) -> Result<(), DeployError> {
        self.cfn
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| DeployError::api(stack, "UpdateTerminationProtection", e))?;
        Ok(())
    }

    /// Sets the stack policy.
    pub async fn set_stack_policy(&self, stack: &str, policy: &str) -> Result<(), DeployError> {
        self.cfn
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy)
            .send()
            .await
            .map_err(|e| DeployError::api(stack, "SetStackPolicy", e))?;
        Ok(())
    }

    /// Stack events, newest first, stopping after the page that contains
    /// `until` (an event id already seen) when given.
    pub async fn stack_events(
        &self,
        stack: &str,
        until: Option<&str>,
    ) -> Result<Vec<StackEvent>, DeployError> {
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        loop {
            let page = self
                .cfn
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| DeployError::api(stack, "DescribeStackEvents", e))?;
            let mut reached = false;
            for e in page.stack_events() {
                let ev = StackEvent {
                    id: e.event_id().unwrap_or_default().to_string(),
                    timestamp: e.timestamp().map(|t| t.to_string()).unwrap_or_default(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e
                        .resource_status_reason()
                        .filter(|r| !r.is_empty())
                        .map(str::to_string),
                };
                if until == Some(ev.id.as_str()) {
                    reached = true;
                }
                out.push(ev);
            }
            token = page.next_token().map(str::to_string);
            if reached || token.is_none() {
                return Ok(out);
            }
        }
    }
}

fn s3_message<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
    }
}

fn convert_row(rc: &cfn::types::ResourceChange) -> ResourceChange {
    ResourceChange {
        action: rc
            .action()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        logical_resource_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        physical_resource_id: rc.physical_resource_id().map(str::to_string),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        replacement: rc.replacement().map(|r| r.as_str().to_string()),
        scope: rc.scope().iter().map(|s| s.as_str().to_string()).collect(),
        details: rc
            .details()
            .iter()
            .map(|d| ChangeDetail {
                target: d.target().map(|t| ChangeTarget {
                    attribute: t.attribute().map(|a| a.as_str().to_string()),
                    name: t.name().map(str::to_string),
                    requires_recreation: t.requires_recreation().map(|r| r.as_str().to_string()),
                    path: t.path().map(str::to_string),
                }),
                evaluation: d.evaluation().map(|e| e.as_str().to_string()),
                change_source: d.change_source().map(|c| c.as_str().to_string()),
                causing_entity: d.causing_entity().map(str::to_string),
            })
            .collect(),
    }
}
