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
use super::environments::{AccountCredentials, Environments};
use super::port::NOT_AN_AWS_ERROR;
pub use super::port::{
    ChangeSetRequest, CloudFormation, Connector, DeployError, DriftDetection, Existence,
    ParamValue, PropertyDrift, RefactorRequest, RefactorState, ResourceDrift, StackEvent,
    StackInfo, TemplateSource,
};

/// CloudFormation's limit for a template passed inline (`TemplateBody`).
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

/// Attempts per API call when nothing else is configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

pub(crate) fn api_error<E>(
    stack: &str,
    operation: &'static str,
    err: cfn::error::SdkError<E>,
) -> DeployError
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

/// A CloudFormation (and S3) client for one region.
#[derive(Debug, Clone)]
pub struct Client {
    cfn: cfn::Client,
    s3: aws_sdk_s3::Client,
    acm: aws_sdk_acm::Client,
    cloudcontrol: aws_sdk_cloudcontrol::Client,
    region: String,
}

impl Client {
    /// Connects to `region` (or `options.region`) and checks that credentials
    /// can be found, so that a missing login is reported in one sentence
    /// before anything else happens.
    pub async fn connect(options: &ConnectOptions, region: &str) -> Result<Client, DeployError> {
        let region = options.region.clone().unwrap_or_else(|| region.to_string());
        let config = load_config(options, &region, None).await?;
        Ok(Client::from_config(options, &config, region))
    }

    fn from_config(
        options: &ConnectOptions,
        config: &aws_config::SdkConfig,
        region: String,
    ) -> Client {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(
                options.endpoint_url.is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL").is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
            )
            .build();
        Client {
            cfn: cfn::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            acm: aws_sdk_acm::Client::new(config),
            cloudcontrol: aws_sdk_cloudcontrol::Client::new(config),
            region,
        }
    }
}

/// Loads the SDK configuration for `region`: `options`' profile and
/// endpoint, or `creds` (a profile, or a role assumed with the source
/// profile's or the default credentials); checks that credentials can be
/// found, so that a missing login is reported in one sentence before
/// anything else happens.
async fn load_config(
    options: &ConnectOptions,
    region: &str,
    creds: Option<&AccountCredentials>,
) -> Result<aws_config::SdkConfig, DeployError> {
    let profile = match creds {
        Some(AccountCredentials::Profile(p)) => Some(p.clone()),
        Some(AccountCredentials::Role { source_profile, .. }) => {
            source_profile.clone().or_else(|| options.profile.clone())
        }
        None => options.profile.clone(),
    };
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
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
    if let Some(p) = &profile {
        loader = loader.profile_name(p);
    }
    if let Some(e) = &options.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let mut config = loader.load().await;
    if let Some(AccountCredentials::Role {
        role_arn,
        external_id,
        ..
    }) = creds
    {
        let mut role = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .session_name("khs-deploy")
            .region(aws_config::Region::new(region.to_string()))
            .configure(&config);
        if let Some(id) = external_id {
            role = role.external_id(id.clone());
        }
        let provider = role.build().await;
        config = config
            .into_builder()
            .credentials_provider(cfn::config::SharedCredentialsProvider::new(provider))
            .build();
    }
    match config.credentials_provider() {
        None => {
            return Err(DeployError::NoCredentials {
                detail: "no credential provider is configured".to_string(),
            });
        }
        Some(provider) => {
            if let Err(e) = provider.provide_credentials().await {
                let text = DisplayErrorContext(&e).to_string();
                let detail = match creds {
                    Some(c @ AccountCredentials::Role { .. }) => format!(
                        "{} could not be assumed: {}",
                        c.describe(),
                        text.lines().next().unwrap_or_default()
                    ),
                    _ => credentials_detail(&text),
                };
                return Err(DeployError::NoCredentials { detail });
            }
        }
    }
    Ok(config)
}

/// The account of the credentials of `config` (STS `GetCallerIdentity`).
async fn caller_account(config: &aws_config::SdkConfig) -> Result<String, DeployError> {
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts.get_caller_identity().send().await.map_err(|e| {
        let message = DisplayErrorContext(&e).to_string();
        DeployError::Api {
            stack: "credentials".to_string(),
            operation: "GetCallerIdentity",
            message: message.lines().next().unwrap_or_default().to_string(),
            source: Box::new(e),
        }
    })?;
    out.account.ok_or_else(|| {
        DeployError::api_message(
            "credentials",
            "GetCallerIdentity",
            "the answer names no account",
        )
    })
}

impl Client {
    /// The SDK's CloudFormation client (for the stack-set port).
    pub(crate) fn sdk(&self) -> &cfn::Client {
        &self.cfn
    }

    /// The S3 client (asset publishing in `deploy::s3`).
    pub(crate) fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }
}

impl CloudFormation for Client {
    fn region(&self) -> &str {
        &self.region
    }

    /// The stack, or `None` when it does not exist.
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, DeployError> {
        let out = match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(o) => o,
            Err(e) => {
                if e.code() == Some("ValidationError")
                    && e.message().is_some_and(|m| m.contains("does not exist"))
                {
                    return Ok(None);
                }
                return Err(api_error(stack, "DescribeStacks", e));
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
    async fn get_template(&self, stack: &str) -> Result<serde_json::Value, DeployError> {
        let out = self
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| api_error(stack, "GetTemplate", e))?;
        let body = out.template_body().unwrap_or("{}");
        serde_json::from_str(body).map_err(|e| DeployError::ForeignTemplate {
            stack: stack.to_string(),
            message: e.to_string(),
        })
    }

    /// Uploads a template to `bucket` and returns its URL.
    async fn upload_template(
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
    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, DeployError> {
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
            .map_err(|e| api_error(&req.stack, "CreateChangeSet", e))?;
        Ok(out.id().unwrap_or(&req.name).to_string())
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
                .map_err(|e| api_error(stack, "DescribeChangeSet", e))?;
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
    async fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| api_error(stack, "ExecuteChangeSet", e))?;
        Ok(())
    }

    /// Deletes a change set that will not be executed.
    async fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| api_error(stack, "DeleteChangeSet", e))?;
        Ok(())
    }

    /// Deletes the stack with id `id` (errors name the stack `name`).
    async fn delete_stack(&self, name: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .delete_stack()
            .stack_name(id)
            .send()
            .await
            .map_err(|e| api_error(name, "DeleteStack", e))?;
        Ok(())
    }

    /// Turns termination protection on or off.
    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), DeployError> {
        self.cfn
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| api_error(stack, "UpdateTerminationProtection", e))?;
        Ok(())
    }

    /// Sets the stack policy.
    async fn set_stack_policy(&self, stack: &str, policy: &str) -> Result<(), DeployError> {
        self.cfn
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy)
            .send()
            .await
            .map_err(|e| api_error(stack, "SetStackPolicy", e))?;
        Ok(())
    }

    /// Stack events, newest first, stopping after the page that contains
    /// `until` (an event id already seen) when given.
    async fn stack_events(
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
                .map_err(|e| api_error(stack, "DescribeStackEvents", e))?;
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

    async fn stack_resources(&self, stack: &str) -> Result<BTreeMap<String, String>, DeployError> {
        let out = self
            .cfn
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| api_error(stack, "DescribeStackResources", e))?;
        Ok(out
            .stack_resources()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_string(),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                ))
            })
            .collect())
    }

    async fn detect_stack_drift(&self, stack: &str) -> Result<String, DeployError> {
        let out = self
            .cfn
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| api_error(stack, "DetectStackDrift", e))?;
        out.stack_drift_detection_id()
            .map(str::to_string)
            .ok_or_else(|| {
                DeployError::api_message(stack, "DetectStackDrift", "no detection id in the answer")
            })
    }

    async fn drift_detection_status(
        &self,
        stack: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, DeployError> {
        use aws_sdk_cloudformation::types::StackDriftDetectionStatus as S;
        let out = self
            .cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection_id)
            .send()
            .await
            .map_err(|e| api_error(stack, "DescribeStackDriftDetectionStatus", e))?;
        Ok(match out.detection_status() {
            Some(S::DetectionInProgress) => DriftDetection::InProgress,
            Some(S::DetectionFailed) => DriftDetection::Failed(
                out.detection_status_reason()
                    .unwrap_or("no reason given")
                    .to_string(),
            ),
            _ => DriftDetection::Complete,
        })
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, DeployError> {
        use aws_sdk_cloudformation::types::StackResourceDriftStatus as S;
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        loop {
            let page = self
                .cfn
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(S::Modified)
                .stack_resource_drift_status_filters(S::Deleted)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| api_error(stack, "DescribeStackResourceDrifts", e))?;
            for d in page.stack_resource_drifts() {
                out.push(ResourceDrift {
                    logical_id: d.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: d.resource_type().unwrap_or_default().to_string(),
                    status: d
                        .stack_resource_drift_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    properties: d
                        .property_differences()
                        .iter()
                        .map(|p| PropertyDrift {
                            path: p.property_path().unwrap_or_default().to_string(),
                            expected: p.expected_value().unwrap_or_default().to_string(),
                            actual: p.actual_value().unwrap_or_default().to_string(),
                            difference: p
                                .difference_type()
                                .map(|t| t.as_str().to_string())
                                .unwrap_or_default(),
                        })
                        .collect(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn create_stack_refactor(
        &self,
        stack: &str,
        req: &RefactorRequest,
    ) -> Result<String, DeployError> {
        use aws_sdk_cloudformation::types::{ResourceLocation, ResourceMapping, StackDefinition};
        let mut call = self
            .cfn
            .create_stack_refactor()
            .description("declared moves (khs:moved-from), by khs-constructs deploy")
            .enable_stack_creation(req.create_stacks);
        for (name, body) in &req.templates {
            call = call.stack_definitions(
                StackDefinition::builder()
                    .stack_name(name)
                    .template_body(body)
                    .build(),
            );
        }
        for m in &req.moves {
            call = call.resource_mappings(
                ResourceMapping::builder()
                    .source(
                        ResourceLocation::builder()
                            .stack_name(&m.from_stack)
                            .logical_resource_id(&m.from_id)
                            .build(),
                    )
                    .destination(
                        ResourceLocation::builder()
                            .stack_name(&m.to_stack)
                            .logical_resource_id(&m.to_id)
                            .build(),
                    )
                    .build(),
            );
        }
        let out = call
            .send()
            .await
            .map_err(|e| api_error(stack, "CreateStackRefactor", e))?;
        out.stack_refactor_id().map(str::to_string).ok_or_else(|| {
            DeployError::api_message(stack, "CreateStackRefactor", "no refactor id in the answer")
        })
    }

    async fn describe_stack_refactor(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<RefactorState, DeployError> {
        let out = self
            .cfn
            .describe_stack_refactor()
            .stack_refactor_id(id)
            .send()
            .await
            .map_err(|e| api_error(stack, "DescribeStackRefactor", e))?;
        Ok(RefactorState {
            status: out
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            execution_status: out
                .execution_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: out
                .execution_status_reason()
                .or(out.status_reason())
                .map(str::to_string),
        })
    }

    async fn execute_stack_refactor(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.cfn
            .execute_stack_refactor()
            .stack_refactor_id(id)
            .send()
            .await
            .map_err(|e| api_error(stack, "ExecuteStackRefactor", e))?;
        Ok(())
    }

    async fn named_resource_exists(
        &self,
        stack: &str,
        type_name: &str,
        name: &str,
    ) -> Result<Existence, DeployError> {
        if type_name != "AWS::S3::Bucket" {
            // Cloud Control reads every other named type by its name.
            let _ = stack;
            return Ok(
                match self
                    .cloudcontrol
                    .get_resource()
                    .type_name(type_name)
                    .identifier(name)
                    .send()
                    .await
                {
                    Ok(_) => Existence::Exists,
                    Err(e) => {
                        use aws_sdk_cloudcontrol::error::ProvideErrorMetadata as _;
                        match e.code() {
                            Some("ResourceNotFoundException") => Existence::Missing,
                            Some(code) => Existence::Unknown(format!(
                                "Cloud Control GetResource: {code}: {}",
                                e.message().unwrap_or_default()
                            )),
                            None => Existence::Unknown(match e.raw_response() {
                                Some(r) => format!(
                                    "Cloud Control GetResource: {NOT_AN_AWS_ERROR} {} without \
                                     an AWS error",
                                    r.status().as_u16()
                                ),
                                None => "Cloud Control GetResource: no answer".to_string(),
                            }),
                        }
                    }
                },
            );
        }
        match self.s3.head_bucket().bucket(name).send().await {
            Ok(_) => Ok(Existence::Exists),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                match status {
                    Some(404) => Ok(Existence::Missing),
                    // Owned by another account: the name is taken all the same.
                    Some(403) => Ok(Existence::Exists),
                    _ => {
                        let _ = stack;
                        Ok(Existence::Unknown(s3_message(&e)))
                    }
                }
            }
        }
    }

    async fn bucket_has_objects(
        &self,
        stack: &str,
        bucket: &str,
    ) -> Result<Existence, DeployError> {
        let _ = stack;
        match self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(1)
            .send()
            .await
        {
            Ok(out) => Ok(
                if out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty() {
                    Existence::Exists
                } else {
                    Existence::Missing
                },
            ),
            Err(e) => Ok(Existence::Unknown(s3_message(&e))),
        }
    }

    async fn certificate_status(
        &self,
        stack: &str,
        arn: &str,
    ) -> Result<Option<String>, DeployError> {
        let _ = stack;
        match self
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .certificate()
                .and_then(|c| c.status())
                .map(|s| s.as_str().to_string())),
            // Not readable here (another account, denied, not implemented):
            // the check is skipped, CloudFormation will say.
            Err(_) => Ok(None),
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

/// The one-line reason given when the credential chain found nothing: the
/// documented sentence, never the chain's debug dump (which, with the
/// instance metadata service unreachable, runs to many lines).
pub fn credentials_detail(chain_error: &str) -> String {
    let none = "none of the environment, profiles, SSO, web identity, container or instance \
                credentials is configured";
    let lower = chain_error.to_ascii_lowercase();
    if lower.contains("not enabled") || lower.contains("no providers in chain") {
        none.to_string()
    } else if lower.contains("imds")
        || lower.contains("metadata")
        || lower.contains("timed out")
        || lower.contains("timeout")
        || lower.contains("dispatch failure")
        || lower.contains("connect")
    {
        format!("{none}; the instance metadata service did not answer")
    } else {
        let first = chain_error.lines().next().unwrap_or_default().trim();
        let first: String = first.chars().take(160).collect();
        format!("the credential chain said: {first}")
    }
}

/// The SDK's connector: one [`Client`] per account and region, connected
/// (its credentials found and, for an account, checked to be that
/// account's) on first use.
#[derive(Debug, Clone, Default)]
pub struct SdkConnector {
    options: ConnectOptions,
    environments: Environments,
    clients: BTreeMap<(Option<String>, String), Client>,
}

impl SdkConnector {
    /// A connector with these global options.
    pub fn new(options: ConnectOptions) -> Self {
        SdkConnector {
            options,
            environments: Environments::new(),
            clients: BTreeMap::new(),
        }
    }

    /// With the credentials of each account (a profile or a role to
    /// assume); accounts without an entry use the default credentials.
    pub fn with_environments(mut self, environments: Environments) -> Self {
        self.environments = environments;
        self
    }
}

impl Connector for SdkConnector {
    type Client = Client;

    async fn connect(&mut self, region: &str) -> Result<Client, DeployError> {
        self.connect_in(None, region).await
    }

    async fn connect_in(
        &mut self,
        account: Option<&str>,
        region: &str,
    ) -> Result<Client, DeployError> {
        let region = self
            .options
            .region
            .clone()
            .unwrap_or_else(|| region.to_string());
        let key = (account.map(str::to_string), region.clone());
        if let Some(c) = self.clients.get(&key) {
            return Ok(c.clone());
        }
        let creds = self.environments.for_account(account);
        let config = load_config(&self.options, &region, creds).await?;
        if let Some(expected) = account {
            let actual = caller_account(&config).await?;
            if actual != expected {
                let via = match (creds, &self.options.profile) {
                    (Some(c), _) => match self.environments.origin(expected) {
                        Some(o) => format!("{}, from {o}", c.describe()),
                        None => c.describe(),
                    },
                    (None, Some(p)) => format!("the default credentials, profile {p}"),
                    (None, None) => "the default credentials".to_string(),
                };
                return Err(DeployError::WrongAccount {
                    expected: expected.to_string(),
                    actual,
                    via,
                });
            }
        }
        let c = Client::from_config(&self.options, &config, region);
        self.clients.insert(key, c.clone());
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_are_one_documented_line_whatever_the_chain_says() {
        let imds = "failed to load credentials\nCaused by: an error occurred while loading \
                    credentials from IMDS: dispatch failure: io error: connection timed out \
                    (ConnectError { kind: TimedOut, .. })\n  ... 40 more lines";
        let d = credentials_detail(imds);
        assert_eq!(
            d,
            "none of the environment, profiles, SSO, web identity, container or instance \
             credentials is configured; the instance metadata service did not answer"
        );
        let d = credentials_detail("the credential provider was not enabled");
        assert!(d.starts_with("none of the environment"), "{d}");
        assert!(!d.contains('\n'));
        let d = credentials_detail("profile sso-dev: the SSO session has expired\nmore");
        assert_eq!(
            d,
            "the credential chain said: profile sso-dev: the SSO session has expired"
        );
    }
}
