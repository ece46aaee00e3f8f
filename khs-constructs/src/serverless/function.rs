//! [`Function`]: a Lambda function with its own role, log group and
//! least-privilege wiring.
//!
//! What a `Function` emits:
//! - one `AWS::Logs::LogGroup` (`<id>LogGroup`, retention
//!   [`FunctionProps::log_retention_days`], retained), which the function
//!   writes to through its `LoggingConfig` (JSON log format);
//! - one `AWS::IAM::Role` (`<id>Role`) assumed by `lambda.amazonaws.com`,
//!   whose inline policy allows exactly: writing to that log group; X-Ray
//!   segments when tracing is on (`xray:PutTraceSegments`,
//!   `xray:PutTelemetryRecords`: no resource-level permissions, so `"*"`);
//!   the network interfaces of a VPC function (in the account's network
//!   interfaces, its subnets and its security group; the `Describe*`
//!   reads on `"*"`); sending to its dead-letter queue; reading the secrets
//!   of [`FunctionProps::secrets`];
//! - in a VPC, an `AWS::EC2::SecurityGroup` (`<id>SecurityGroup`) whose
//!   egress is HTTPS only, exposed as [`Function::connections`];
//! - the `AWS::Lambda::Function`: runtime, handler, architecture, memory
//!   and timeout within Lambda's limits, X-Ray active tracing on by
//!   default, reserved concurrency and dead-letter queue if given.
//!
//! Code comes from a local file or directory ([`Code::asset`]: packed
//! deterministically at construction, published by the deploy client to
//! the staging bucket, see [`crate::serverless::asset`]), an S3 object, or
//! a few inline lines (Python and Node.js only).
//!
//! Environment values are plain configuration: a literal that looks like a
//! secret (a `{{resolve:secretsmanager:…}}` or `{{resolve:ssm-secure:…}}`
//! reference, which CloudFormation would write into the function's
//! configuration in clear) is refused. Secrets go by reference: each entry
//! of [`FunctionProps::secrets`] puts the secret's ARN into a variable and
//! lets the function read that secret only.
//!
//! ```
//! use khs_constructs::prelude::*;
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let f = Function::new(&mut stack, "Hello", FunctionProps::new(
//!     Runtime::Python3_13,
//!     "index.handler",
//!     Code::inline("def handler(event, context):\n    return 'hello'\n"),
//! )).unwrap();
//! assert_eq!(f.handle().logical_id().as_str(), "HelloFunction");
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cfn::attributes::*;
use crate::cfn::iam::{Policy as CfnPolicy, Role as CfnRole};
use crate::cfn::lambda::function as lf;
use crate::cfn::lambda::{EventSourceMapping, Function as CfnFunction};
use crate::cfn::logs::LogGroup;
use crate::core::asset::FileAsset;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions};
use crate::core::template::DeletionPolicy;
use crate::core::value::Value;
use crate::messaging::queue::Queue;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::{LOG_RETENTION_DAYS, Network, SubnetKind};
use crate::security::iam::{PolicyDocument, PolicyStatement, RoleProps, create_role};
use crate::security::secrets::Secret;
use crate::serverless::asset::{ASSET_BUCKET, ZIP_PACKAGING, pack};
use crate::serverless::grant::{Grantee, KEY_WRITE, key_statement};
use crate::serverless::table::Table;
use crate::storage::BucketRef;

/// Lambda's memory limits in MiB.
pub const MEMORY_MIB: std::ops::RangeInclusive<u32> = 128..=10_240;
/// Lambda's timeout limits in seconds.
pub const TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 1..=900;
/// The largest inline code (`ZipFile`) CloudFormation accepts, in bytes.
pub const MAX_INLINE_CODE_BYTES: usize = 4096;
/// The largest total size of environment variables, in bytes.
pub const MAX_ENVIRONMENT_BYTES: usize = 4096;
/// The default log retention of a function's log group.
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 90;
/// Variables Lambda sets itself, which a function may not set.
pub const RESERVED_ENVIRONMENT: [&str; 17] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
];

/// A Lambda runtime (the supported, non-deprecated ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `python3.13`.
    Python3_13,
    /// `python3.12`.
    Python3_12,
    /// `nodejs22.x`.
    Nodejs22,
    /// `nodejs20.x`.
    Nodejs20,
    /// `java21`.
    Java21,
    /// `dotnet8`.
    Dotnet8,
    /// `ruby3.4`.
    Ruby3_4,
    /// `provided.al2023`: a custom runtime (Rust, Go: a `bootstrap`
    /// executable).
    ProvidedAl2023,
}

impl Runtime {
    fn cfn(self) -> lf::Runtime {
        match self {
            Runtime::Python3_13 => lf::Runtime::Python3_13,
            Runtime::Python3_12 => lf::Runtime::Python3_12,
            Runtime::Nodejs22 => lf::Runtime::Nodejs22X,
            Runtime::Nodejs20 => lf::Runtime::Nodejs20X,
            Runtime::Java21 => lf::Runtime::Java21,
            Runtime::Dotnet8 => lf::Runtime::Dotnet8,
            Runtime::Ruby3_4 => lf::Runtime::Ruby3_4,
            Runtime::ProvidedAl2023 => lf::Runtime::ProvidedAl2023,
        }
    }

    /// Whether CloudFormation accepts inline code (`ZipFile`) for it.
    pub fn supports_inline_code(self) -> bool {
        matches!(
            self,
            Runtime::Python3_13 | Runtime::Python3_12 | Runtime::Nodejs22 | Runtime::Nodejs20
        )
    }
}

/// The instruction set the function runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    /// `x86_64` (Lambda's default).
    #[default]
    X86_64,
    /// `arm64` (Graviton: about 20 % cheaper per GB-second; native
    /// dependencies must be built for it).
    Arm64,
}

/// Where the function's code comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// A local file or directory, zipped at synthesis and published by the
    /// deploy client (see [`crate::serverless::asset`]).
    Asset(PathBuf),
    /// A zip in S3.
    S3Object {
        /// The bucket name.
        bucket: Value<String>,
        /// The object key.
        key: String,
        /// The object version.
        ///
        /// Default: - the latest version.
        version: Option<String>,
    },
    /// A few lines of Python or Node.js (at most 4096 bytes), in the
    /// template.
    Inline(String),
}

impl Code {
    /// [`Code::Asset`] from `path`.
    pub fn asset(path: impl Into<PathBuf>) -> Self {
        Code::Asset(path.into())
    }

    /// [`Code::Inline`].
    pub fn inline(source: impl Into<String>) -> Self {
        Code::Inline(source.into())
    }

    /// [`Code::S3Object`] in a bucket of this library.
    pub fn from_bucket(bucket: &BucketRef, key: impl Into<String>) -> Self {
        Code::S3Object {
            bucket: bucket.name(),
            key: key.into(),
            version: None,
        }
    }
}

/// Placement of a function in a network's subnets.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcPlacement {
    vpc_id: Value<String>,
    subnet_ids: Vec<Value<String>>,
}

impl VpcPlacement {
    /// The private subnets of `network` (outbound through its NAT gateways).
    pub fn private_subnets(network: &Network) -> Self {
        VpcPlacement {
            vpc_id: network.vpc_id(),
            subnet_ids: network
                .subnets(SubnetKind::Private)
                .iter()
                .map(|s| s.subnet_id())
                .collect(),
        }
    }
}

/// Props of a [`Function`].
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionProps {
    /// The runtime.
    pub runtime: Runtime,
    /// The handler (`index.handler`, `bootstrap` for custom runtimes).
    pub handler: String,
    /// The code.
    pub code: Code,
    /// The instruction set.
    ///
    /// Default: [`Architecture::X86_64`].
    pub architecture: Architecture,
    /// Memory in MiB (128..=10240; CPU grows with it).
    ///
    /// Default: `128`.
    pub memory_mib: u32,
    /// Timeout in seconds (1..=900).
    ///
    /// Default: `3` (Lambda's default).
    pub timeout_seconds: u32,
    /// A description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// The function name.
    ///
    /// Default: - generated by CloudFormation.
    pub name: Option<String>,
    /// Plain (non-secret) environment variables.
    ///
    /// Default: - none.
    pub environment: BTreeMap<String, Value<String>>,
    /// Secrets by reference: each variable holds the secret's ARN, and the
    /// function may read exactly that secret (`GetSecretValue`, and
    /// `kms:Decrypt` on its key through Secrets Manager).
    ///
    /// Default: - none.
    pub secrets: BTreeMap<String, Secret>,
    /// Placement in private subnets (with a security group, see
    /// [`Function::connections`]).
    ///
    /// Default: - outside any VPC (Lambda's own network, internet access).
    pub vpc: Option<VpcPlacement>,
    /// Days the log group keeps logs (a value CloudWatch Logs accepts).
    ///
    /// Default: [`DEFAULT_LOG_RETENTION_DAYS`] (90).
    pub log_retention_days: u32,
    /// X-Ray active tracing.
    ///
    /// Default: `true`.
    pub tracing: bool,
    /// Concurrency reserved for (and limiting) the function.
    ///
    /// Default: - none (the account's unreserved pool).
    pub reserved_concurrency: Option<u32>,
    /// Where failed asynchronous invocations go after Lambda's two retries.
    ///
    /// Default: - none (they are dropped).
    pub dead_letter_queue: Option<Queue>,
}

impl FunctionProps {
    /// Props with the required fields and every other at its default.
    pub fn new(runtime: Runtime, handler: impl Into<String>, code: Code) -> Self {
        FunctionProps {
            runtime,
            handler: handler.into(),
            code,
            architecture: Architecture::default(),
            memory_mib: 128,
            timeout_seconds: 3,
            description: None,
            name: None,
            environment: BTreeMap::new(),
            secrets: BTreeMap::new(),
            vpc: None,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            tracing: true,
            reserved_concurrency: None,
            dead_letter_queue: None,
        }
    }
}

/// Props of [`Function::add_queue_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSourceProps {
    /// Messages per invocation (1..=10000; at most 10 for FIFO queues;
    /// above 10 needs a batching window).
    ///
    /// Default: `10`.
    pub batch_size: u32,
    /// Seconds to gather a batch (0..=300).
    ///
    /// Default: `0`.
    pub max_batching_window_seconds: u32,
    /// Let the function report the failed messages of a batch
    /// (`ReportBatchItemFailures`), so only they are retried.
    ///
    /// Default: `true`.
    pub report_batch_item_failures: bool,
}

impl Default for QueueSourceProps {
    fn default() -> Self {
        QueueSourceProps {
            batch_size: 10,
            max_batching_window_seconds: 0,
            report_batch_item_failures: true,
        }
    }
}

/// Where a stream source starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartingPosition {
    /// New records only.
    #[default]
    Latest,
    /// The oldest record kept (24 hours).
    TrimHorizon,
}

/// Props of [`Function::add_table_stream_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSourceProps {
    /// Records per invocation (1..=10000).
    ///
    /// Default: `100`.
    pub batch_size: u32,
    /// Where reading starts.
    ///
    /// Default: [`StartingPosition::Latest`].
    pub starting_position: StartingPosition,
    /// Retries of a failing batch before it is skipped (0..=10000).
    ///
    /// Default: `3` (Lambda's default, -1, retries until the records
    /// expire and blocks the shard meanwhile).
    pub max_retry_attempts: u32,
    /// Split a failing batch in two and retry the halves.
    ///
    /// Default: `true`.
    pub bisect_batch_on_error: bool,
}

impl Default for StreamSourceProps {
    fn default() -> Self {
        StreamSourceProps {
            batch_size: 100,
            starting_position: StartingPosition::Latest,
            max_retry_attempts: 3,
            bisect_batch_on_error: true,
        }
    }
}

/// A Lambda function. Cheap to clone (handles).
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    function: Handle<CfnFunction>,
    role: Handle<CfnRole>,
    log_group: Handle<LogGroup>,
    connections: Option<Connections>,
    path: ConstructPath,
    timeout_seconds: u32,
    asset: Option<FileAsset>,
}

fn check_environment(path: &ConstructPath, props: &FunctionProps) -> Result<()> {
    let mut size = 0;
    for (name, value) in props
        .environment
        .iter()
        .map(|(n, v)| (n, v.as_literal().map(String::as_str)))
        .chain(props.secrets.keys().map(|n| (n, None)))
    {
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(Error::invalid_prop(
                path,
                "environment",
                format!("names must be a letter then letters, digits or _, got {name:?}"),
            ));
        }
        if RESERVED_ENVIRONMENT.contains(&name.as_str()) {
            return Err(Error::invalid_prop(
                path,
                "environment",
                format!("must not set {name}, which Lambda sets itself"),
            ));
        }
        if let Some(v) = value {
            if v.contains("{{resolve:secretsmanager:") || v.contains("{{resolve:ssm-secure:") {
                return Err(Error::invalid_prop(
                    path,
                    "environment",
                    format!(
                        "must not hold secret values, which Lambda shows in clear; got a dynamic reference in {name}; pass the secret in FunctionProps::secrets, which gives its ARN and read access"
                    ),
                ));
            }
            size += name.len() + v.len();
        }
        if props.environment.contains_key(name) && props.secrets.contains_key(name) {
            return Err(Error::invalid_prop(
                path,
                "secrets",
                format!("names {name}, which environment sets too"),
            ));
        }
    }
    if size > MAX_ENVIRONMENT_BYTES {
        return Err(Error::invalid_prop(
            path,
            "environment",
            format!("must total at most {MAX_ENVIRONMENT_BYTES} bytes, got {size}"),
        ));
    }
    Ok(())
}

fn validate(path: &ConstructPath, props: &FunctionProps) -> Result<()> {
    if !MEMORY_MIB.contains(&props.memory_mib) {
        return Err(Error::invalid_prop(
            path,
            "memory_mib",
            format!("must be 128..=10240 MiB, got {}", props.memory_mib),
        ));
    }
    if !TIMEOUT_SECONDS.contains(&props.timeout_seconds) {
        return Err(Error::invalid_prop(
            path,
            "timeout_seconds",
            format!("must be 1..=900 seconds, got {}", props.timeout_seconds),
        ));
    }
    if props.handler.is_empty() || props.handler.len() > 128 {
        return Err(Error::invalid_prop(
            path,
            "handler",
            format!("must be 1..=128 characters, got {:?}", props.handler),
        ));
    }
    if let Some(name) = &props.name {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(Error::invalid_prop(
                path,
                "name",
                format!("must be 1..=64 of A-Z a-z 0-9 - _, got {name:?}"),
            ));
        }
    }
    if !LOG_RETENTION_DAYS.contains(&props.log_retention_days) {
        return Err(Error::invalid_prop(
            path,
            "log_retention_days",
            format!(
                "must be one of {LOG_RETENTION_DAYS:?} (what CloudWatch Logs accepts), got {}",
                props.log_retention_days
            ),
        ));
    }
    if props.reserved_concurrency == Some(0) {
        return Err(Error::invalid_prop(
            path,
            "reserved_concurrency",
            "must be at least 1 (0 stops every invocation), got 0",
        ));
    }
    if let Code::Inline(src) = &props.code {
        if !props.runtime.supports_inline_code() {
            return Err(Error::invalid_prop(
                path,
                "code",
                format!(
                    "can be inline only for Python and Node.js runtimes, got {:?}; use Code::asset",
                    props.runtime
                ),
            ));
        }
        if src.is_empty() || src.len() > MAX_INLINE_CODE_BYTES {
            return Err(Error::invalid_prop(
                path,
                "code",
                format!(
                    "must be 1..={MAX_INLINE_CODE_BYTES} bytes inline, got {}; use Code::asset",
                    src.len()
                ),
            ));
        }
    }
    check_environment(path, props)
}

impl Function {
    /// Creates the function `id` in `scope`, with its role, log group and
    /// (in a VPC) security group. A [`Code::Asset`] is packed here (an
    /// error names the file that could not be read).
    pub fn new(scope: &mut impl AsScope, id: &str, props: FunctionProps) -> Result<Function> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        validate(&path, &props)?;

        let (code, asset) = code(&path, &props.code)?;
        if let Some(a) = &asset {
            me.add_file_asset(a.clone());
        }
        let log_group = me.add_with(
            "LogGroup",
            LogGroup {
                retention_in_days: Some(i64::from(props.log_retention_days).into()),
                ..LogGroup::new()
            },
            ResourceOptions::policy(DeletionPolicy::Retain),
        )?;
        let connections = match &props.vpc {
            None => None,
            Some(vpc) => {
                let c = Connections::new_security_group(
                    &mut me,
                    "SecurityGroup",
                    vpc.vpc_id.clone(),
                    &format!("The function {path}"),
                    None,
                    Egress::Restricted,
                )?;
                c.allow_to_cidr(
                    &mut me,
                    "Https",
                    "0.0.0.0/0",
                    Port::tcp(443),
                    "HTTPS to AWS APIs",
                )?;
                Some(c)
            }
        };
        let policy = role_policy(&props, &log_group, connections.as_ref());
        let role = create_role(
            &mut me,
            "Role",
            RoleProps {
                description: Some(format!("The execution role of {path}")),
                policy,
                ..RoleProps::new("lambda.amazonaws.com")
            },
        )?;
        let mut variables: BTreeMap<String, Value<String>> = props.environment.clone();
        for (name, secret) in &props.secrets {
            variables.insert(name.clone(), secret.arn());
        }
        let function = me.add(
            "Function",
            CfnFunction {
                runtime: Some(props.runtime.cfn().into()),
                handler: Some(props.handler.as_str().into()),
                architectures: Some(Value::Literal(vec![
                    match props.architecture {
                        Architecture::X86_64 => lf::Architectures::X86_64,
                        Architecture::Arm64 => lf::Architectures::Arm64,
                    }
                    .into(),
                ])),
                memory_size: Some(i64::from(props.memory_mib).into()),
                timeout: Some(i64::from(props.timeout_seconds).into()),
                description: props.description.as_deref().map(Value::from),
                function_name: props.name.as_deref().map(Value::from),
                environment: (!variables.is_empty()).then_some(lf::Environment {
                    variables: Some(variables),
                }),
                logging_config: Some(lf::LoggingConfig {
                    log_group: Some(log_group.ref_()),
                    log_format: Some(lf::LogFormat::Json.into()),
                    ..lf::LoggingConfig::new()
                }),
                tracing_config: Some(lf::TracingConfig {
                    mode: Some(
                        if props.tracing {
                            lf::Mode::Active
                        } else {
                            lf::Mode::PassThrough
                        }
                        .into(),
                    ),
                }),
                reserved_concurrent_executions: props
                    .reserved_concurrency
                    .map(|c| i64::from(c).into()),
                dead_letter_config: props.dead_letter_queue.as_ref().map(|q| {
                    lf::DeadLetterConfig {
                        target_arn: Some(q.arn()),
                    }
                }),
                vpc_config: match (&props.vpc, &connections) {
                    (Some(vpc), Some(c)) => Some(lf::VpcConfig {
                        subnet_ids: Some(Value::Literal(vpc.subnet_ids.clone())),
                        security_group_ids: Some(Value::Literal(vec![c.security_group_id()])),
                        ..lf::VpcConfig::new()
                    }),
                    _ => None,
                },
                ..CfnFunction::new(code, role.attr_arn())
            },
        )?;
        Ok(Function {
            function,
            role,
            log_group,
            connections,
            path,
            timeout_seconds: props.timeout_seconds,
            asset,
        })
    }

    /// The function resource.
    pub fn handle(&self) -> &Handle<CfnFunction> {
        &self.function
    }

    /// The execution role.
    pub fn role(&self) -> &Handle<CfnRole> {
        &self.role
    }

    /// The log group.
    pub fn log_group(&self) -> &Handle<LogGroup> {
        &self.log_group
    }

    /// The function ARN.
    pub fn arn(&self) -> Value<String> {
        self.function.attr_arn()
    }

    /// The function name (`Ref`).
    pub fn name(&self) -> Value<String> {
        self.function.ref_()
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The timeout in seconds.
    pub fn timeout_seconds(&self) -> u32 {
        self.timeout_seconds
    }

    /// The security group of a VPC function (`None` outside a VPC).
    pub fn connections(&self) -> Option<&Connections> {
        self.connections.as_ref()
    }

    /// The asset the code is packed from, if it is one.
    pub fn asset(&self) -> Option<&FileAsset> {
        self.asset.as_ref()
    }

    /// Lets the function consume `queue`: the consume grant
    /// ([`Queue::grant_consume_messages`]) and an
    /// `AWS::Lambda::EventSourceMapping` that depends on it. The queue's
    /// visibility timeout must be at least the function's timeout (AWS
    /// refuses the mapping otherwise; it recommends six times).
    pub fn add_queue_source(
        &self,
        scope: &mut impl AsScope,
        queue: &Queue,
        props: QueueSourceProps,
    ) -> Result<Handle<EventSourceMapping>> {
        if queue.visibility_timeout_seconds() < self.timeout_seconds {
            return Err(Error::invalid_prop(
                queue.path(),
                "visibility_timeout_seconds",
                format!(
                    "must be at least the timeout of {}, which consumes it ({} s), got {} s; AWS recommends six times the timeout ({} s)",
                    self.path,
                    self.timeout_seconds,
                    queue.visibility_timeout_seconds(),
                    6 * self.timeout_seconds
                ),
            ));
        }
        let max_batch = if queue.fifo() { 10 } else { 10_000 };
        if props.batch_size == 0 || props.batch_size > max_batch {
            return Err(Error::invalid_prop(
                &self.path,
                "queue_source.batch_size",
                format!(
                    "must be 1..={max_batch} for {}, got {}",
                    queue.path(),
                    props.batch_size
                ),
            ));
        }
        if props.max_batching_window_seconds > 300 {
            return Err(Error::invalid_prop(
                &self.path,
                "queue_source.max_batching_window_seconds",
                format!("must be 0..=300, got {}", props.max_batching_window_seconds),
            ));
        }
        if props.batch_size > 10 && props.max_batching_window_seconds == 0 {
            return Err(Error::invalid_prop(
                &self.path,
                "queue_source.max_batching_window_seconds",
                format!(
                    "must be at least 1 when batch_size is above 10, got 0 with batch_size {}",
                    props.batch_size
                ),
            ));
        }
        let policy = queue.grant_consume_messages(scope, self)?;
        let mut s = scope.as_scope();
        let id = format!(
            "{}From{}",
            self.path.short_name_below(s.path()),
            queue.path().short_name_below(s.path())
        );
        s.add_with(
            &id,
            EventSourceMapping {
                event_source_arn: Some(queue.arn()),
                batch_size: Some(i64::from(props.batch_size).into()),
                maximum_batching_window_in_seconds: (props.max_batching_window_seconds > 0)
                    .then(|| i64::from(props.max_batching_window_seconds).into()),
                function_response_types: props.report_batch_item_failures.then(|| {
                    Value::Literal(vec![
                        crate::cfn::lambda::event_source_mapping::FunctionResponseTypes::ReportBatchItemFailures.into(),
                    ])
                }),
                ..EventSourceMapping::new(self.name())
            },
            ResourceOptions::default().depends_on(&policy),
        )
    }

    /// Lets the function process `table`'s stream: the stream grant
    /// ([`Table::grant_stream_read`]) and an event source mapping that
    /// depends on it. An error when the table has no stream.
    pub fn add_table_stream_source(
        &self,
        scope: &mut impl AsScope,
        table: &Table,
        props: StreamSourceProps,
    ) -> Result<Handle<EventSourceMapping>> {
        let Some(stream) = table.stream_arn() else {
            return Err(Error::invalid_prop(
                table.path(),
                "stream",
                format!(
                    "is not set, so {} has no stream to process; set TableProps::stream",
                    self.path
                ),
            ));
        };
        if props.batch_size == 0 || props.batch_size > 10_000 {
            return Err(Error::invalid_prop(
                &self.path,
                "stream_source.batch_size",
                format!("must be 1..=10000, got {}", props.batch_size),
            ));
        }
        if props.max_retry_attempts > 10_000 {
            return Err(Error::invalid_prop(
                &self.path,
                "stream_source.max_retry_attempts",
                format!("must be 0..=10000, got {}", props.max_retry_attempts),
            ));
        }
        let policy = table.grant_stream_read(scope, self)?;
        let mut s = scope.as_scope();
        let id = format!(
            "{}From{}Stream",
            self.path.short_name_below(s.path()),
            table.path().short_name_below(s.path())
        );
        s.add_with(
            &id,
            EventSourceMapping {
                event_source_arn: Some(stream),
                batch_size: Some(i64::from(props.batch_size).into()),
                starting_position: Some(
                    match props.starting_position {
                        StartingPosition::Latest => "LATEST",
                        StartingPosition::TrimHorizon => "TRIM_HORIZON",
                    }
                    .into(),
                ),
                maximum_retry_attempts: Some(i64::from(props.max_retry_attempts).into()),
                bisect_batch_on_function_error: Some(props.bisect_batch_on_error.into()),
                function_response_types: Some(Value::Literal(vec![
                    crate::cfn::lambda::event_source_mapping::FunctionResponseTypes::ReportBatchItemFailures.into(),
                ])),
                ..EventSourceMapping::new(self.name())
            },
            ResourceOptions::default().depends_on(&policy),
        )
    }
}

impl Grantee for Function {
    fn grant_role(&self) -> &Handle<CfnRole> {
        &self.role
    }

    fn grant_path(&self) -> &ConstructPath {
        &self.path
    }
}

/// The function's `Code` and, for an asset, what was packed.
fn code(path: &ConstructPath, code: &Code) -> Result<(lf::Code, Option<FileAsset>)> {
    Ok(match code {
        Code::Inline(src) => (
            lf::Code {
                zip_file: Some(src.as_str().into()),
                ..lf::Code::new()
            },
            None,
        ),
        Code::S3Object {
            bucket,
            key,
            version,
        } => {
            if key.is_empty() || key.len() > 1024 {
                return Err(Error::invalid_prop(
                    path,
                    "code",
                    format!("must name an S3 key of 1..=1024 characters, got {key:?}"),
                ));
            }
            (
                lf::Code {
                    s3_bucket: Some(bucket.clone()),
                    s3_key: Some(key.as_str().into()),
                    s3_object_version: version.as_deref().map(Value::from),
                    ..lf::Code::new()
                },
                None,
            )
        }
        Code::Asset(source) => {
            let packed = pack(source)
                .map_err(|e| Error::invalid_prop(path, "code", format!("cannot be packed: {e}")))?;
            // Recorded absolute, so the assets can be written from any
            // working directory.
            let source = std::fs::canonicalize(source).map_err(|e| {
                Error::invalid_prop(
                    path,
                    "code",
                    format!("cannot be packed: {}: {e}", source.display()),
                )
            })?;
            let key = packed.object_key();
            (
                lf::Code {
                    s3_bucket: Some(Intrinsic::sub(ASSET_BUCKET).into()),
                    s3_key: Some(key.as_str().into()),
                    ..lf::Code::new()
                },
                Some(FileAsset {
                    hash: packed.hash,
                    source,
                    packaging: ZIP_PACKAGING.to_string(),
                    object_key: key,
                }),
            )
        }
    })
}

fn arn(resource: &str) -> Value<String> {
    Intrinsic::sub(format!(
        "arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
    ))
    .into()
}

/// The execution role's inline policy.
fn role_policy(
    props: &FunctionProps,
    log_group: &Handle<LogGroup>,
    connections: Option<&Connections>,
) -> PolicyDocument {
    let mut doc = PolicyDocument::new([PolicyStatement::allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [log_group.attr_arn()],
    )]);
    if props.tracing {
        doc.push(PolicyStatement::allow(
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            ["*"],
        ));
    }
    if let (Some(vpc), Some(c)) = (&props.vpc, connections) {
        let mut resources = vec![arn("network-interface/*")];
        resources.extend(vpc.subnet_ids.iter().map(|id| {
            Value::from(Intrinsic::sub_with(
                "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/${Subnet}",
                [("Subnet", id.clone())],
            ))
        }));
        resources.push(
            Intrinsic::sub_with(
                "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/${Group}",
                [("Group", c.security_group_id())],
            )
            .into(),
        );
        doc.push(PolicyStatement::allow(
            ["ec2:CreateNetworkInterface"],
            resources,
        ));
        doc.push(PolicyStatement::allow(
            [
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [arn("network-interface/*")],
        ));
        doc.push(PolicyStatement::allow(
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            ["*"],
        ));
    }
    if let Some(q) = &props.dead_letter_queue {
        doc.push(PolicyStatement::allow(["sqs:SendMessage"], [q.arn()]));
        if let Some(k) = q.encryption_key() {
            doc.push(key_statement(k, &KEY_WRITE, "sqs"));
        }
    }
    for secret in props.secrets.values() {
        secret.grant_read(&mut doc);
    }
    doc
}

/// Grants of a function to resources not covered by typed grants, for
/// completeness of the [`Grantee`] API: `lambda:InvokeFunction` on this
/// function (for callers such as another function).
impl Function {
    /// Lets `grantee` invoke the function (`lambda:InvokeFunction` on its
    /// ARN and its versions and aliases).
    pub fn grant_invoke(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        crate::serverless::grant::grant(
            scope,
            grantee,
            "Invoke",
            &self.path,
            vec![PolicyStatement::allow(
                ["lambda:InvokeFunction"],
                [
                    self.arn(),
                    Intrinsic::sub(format!("${{{}.Arn}}:*", self.function.logical_id())).into(),
                ],
            )],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::queue::QueueProps;
    use crate::prelude::*;
    use crate::security::secrets::SecretProps;
    use crate::serverless::table::{Attribute, StreamView, TableProps};
    use serde_json::json;

    fn stack() -> Stack {
        Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn inline() -> FunctionProps {
        FunctionProps::new(
            Runtime::Python3_13,
            "index.handler",
            Code::inline("def handler(e, c):\n    return 1\n"),
        )
    }

    fn err(props: FunctionProps) -> String {
        Function::new(&mut stack(), "Worker", props)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_log_trace_and_keep_the_role_minimal() {
        let mut st = stack();
        let f = Function::new(&mut st, "Worker", inline()).unwrap();
        assert!(f.connections().is_none());
        assert!(f.asset().is_none());
        let t = st.synth().unwrap();
        let p = &t.resources["WorkerFunction"].properties;
        assert_eq!(p["Runtime"], "python3.13");
        assert_eq!(p["Handler"], "index.handler");
        assert_eq!(p["Architectures"], json!(["x86_64"]));
        assert_eq!(p["MemorySize"], 128);
        assert_eq!(p["Timeout"], 3);
        assert_eq!(p["TracingConfig"]["Mode"], "Active");
        assert_eq!(
            p["LoggingConfig"],
            json!({"LogFormat": "JSON", "LogGroup": {"Ref": "WorkerLogGroup"}})
        );
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["WorkerRole", "Arn"]}));
        assert_eq!(p["Code"]["ZipFile"], "def handler(e, c):\n    return 1\n");
        assert!(p.get("VpcConfig").is_none());
        let lg = &t.resources["WorkerLogGroup"];
        assert_eq!(lg.properties["RetentionInDays"], 90);
        assert_eq!(lg.deletion_policy, Some(DeletionPolicy::Retain));
        let st0 =
            &t.resources["WorkerRole"].properties["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(
            st0[0]["Resource"],
            json!({"Fn::GetAtt": ["WorkerLogGroup", "Arn"]})
        );
        assert_eq!(st0[1]["Resource"], "*");
        assert_eq!(st0.as_array().unwrap().len(), 2);
    }

    #[test]
    fn vpc_functions_get_a_group_with_https_egress_and_scoped_eni_rights() {
        let (mut st, network) = crate::test_support::stack_with_network();
        let f = Function::new(
            &mut st,
            "Worker",
            FunctionProps {
                vpc: Some(VpcPlacement::private_subnets(&network)),
                ..inline()
            },
        )
        .unwrap();
        assert!(f.connections().is_some());
        let t = st.synth().unwrap();
        let p = &t.resources["WorkerFunction"].properties;
        assert_eq!(p["VpcConfig"]["SubnetIds"].as_array().unwrap().len(), 3);
        assert!(t.resources.contains_key("WorkerSecurityGroupEgressHttps"));
        let json = serde_json::to_value(&t).unwrap();
        assert!(
            crate::security::iam::check_template(&json).is_empty(),
            "{:?}",
            crate::security::iam::check_template(&json)
        );
        let st0 =
            &t.resources["WorkerRole"].properties["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(st0[2]["Action"], "ec2:CreateNetworkInterface");
        assert_eq!(st0[2]["Resource"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn secrets_go_by_reference_and_are_granted() {
        let mut st = stack();
        let secret = Secret::new(&mut st, "ApiKey", SecretProps::new("k")).unwrap();
        Function::new(
            &mut st,
            "Worker",
            FunctionProps {
                secrets: BTreeMap::from([("API_KEY_ARN".to_string(), secret)]),
                environment: BTreeMap::from([("MODE".to_string(), Value::from("batch"))]),
                ..inline()
            },
        )
        .unwrap();
        let t = st.synth().unwrap();
        let vars = &t.resources["WorkerFunction"].properties["Environment"]["Variables"];
        assert_eq!(vars["API_KEY_ARN"], json!({"Ref": "ApiKey"}));
        assert_eq!(vars["MODE"], "batch");
        let st0 =
            &t.resources["WorkerRole"].properties["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(st0[2]["Action"], "secretsmanager:GetSecretValue");
    }

    #[test]
    fn queue_source_checks_the_visibility_timeout_and_depends_on_its_grant() {
        let mut st = stack();
        let q = Queue::new(
            &mut st,
            "Jobs",
            QueueProps {
                visibility_timeout_seconds: 60,
                ..QueueProps::default()
            },
        )
        .unwrap();
        let f = Function::new(
            &mut st,
            "Worker",
            FunctionProps {
                timeout_seconds: 60,
                ..inline()
            },
        )
        .unwrap();
        let m = f
            .add_queue_source(&mut st, &q, QueueSourceProps::default())
            .unwrap();
        assert_eq!(m.logical_id().as_str(), "WorkerFromJobs");
        let t = st.synth().unwrap();
        let r = &t.resources["WorkerFromJobs"];
        assert_eq!(r.depends_on, vec!["WorkerConsumeMessagesJobs".to_string()]);
        assert_eq!(
            r.properties["FunctionResponseTypes"],
            json!(["ReportBatchItemFailures"])
        );
        assert_eq!(
            r.properties["EventSourceArn"],
            json!({"Fn::GetAtt": ["JobsQueue", "Arn"]})
        );

        let slow = Function::new(
            &mut st,
            "Slow",
            FunctionProps {
                timeout_seconds: 120,
                ..inline()
            },
        )
        .unwrap();
        let e = slow
            .add_queue_source(&mut st, &q, QueueSourceProps::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Jobs: visibility_timeout_seconds must be at least the timeout of khs/Slow, which consumes it (120 s), got 60 s; AWS recommends six times the timeout (720 s)"
        );
    }

    #[test]
    fn stream_source_reads_the_stream() {
        let mut st = stack();
        let table = Table::new(
            &mut st,
            "Orders",
            TableProps {
                stream: Some(StreamView::NewImage),
                ..TableProps::new(Attribute::string("pk"))
            },
        )
        .unwrap();
        let f = Function::new(&mut st, "Worker", inline()).unwrap();
        f.add_table_stream_source(&mut st, &table, StreamSourceProps::default())
            .unwrap();
        let t = st.synth().unwrap();
        let r = &t.resources["WorkerFromOrdersStream"];
        assert_eq!(r.properties["StartingPosition"], "LATEST");
        assert_eq!(r.properties["MaximumRetryAttempts"], 3);
        assert_eq!(r.depends_on, vec!["WorkerStreamReadOrders".to_string()]);

        let plain = Table::new(&mut st, "Plain", TableProps::new(Attribute::string("pk"))).unwrap();
        let e = f
            .add_table_stream_source(&mut st, &plain, StreamSourceProps::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Plain: stream is not set, so khs/Worker has no stream"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_memory_or_timeout_exceed_lambda_limits() {
        assert_eq!(
            err(FunctionProps {
                memory_mib: 64,
                ..inline()
            }),
            "khs/Worker: memory_mib must be 128..=10240 MiB, got 64"
        );
        assert_eq!(
            err(FunctionProps {
                timeout_seconds: 901,
                ..inline()
            }),
            "khs/Worker: timeout_seconds must be 1..=900 seconds, got 901"
        );
    }

    #[test]
    fn fails_when_the_environment_holds_a_secret_value() {
        let e = err(FunctionProps {
            environment: BTreeMap::from([(
                "DB_PASSWORD".to_string(),
                Value::from("{{resolve:secretsmanager:db:SecretString:password}}"),
            )]),
            ..inline()
        });
        assert!(
            e.starts_with("khs/Worker: environment must not hold secret values"),
            "{e}"
        );
        let e = err(FunctionProps {
            environment: BTreeMap::from([("AWS_REGION".to_string(), Value::from("x"))]),
            ..inline()
        });
        assert_eq!(
            e,
            "khs/Worker: environment must not set AWS_REGION, which Lambda sets itself"
        );
    }

    #[test]
    fn fails_when_environment_names_or_sizes_are_invalid() {
        let e = err(FunctionProps {
            environment: BTreeMap::from([("1X".to_string(), Value::from("x"))]),
            ..inline()
        });
        assert_eq!(
            e,
            "khs/Worker: environment names must be a letter then letters, digits or _, got \"1X\""
        );
        let e = err(FunctionProps {
            environment: BTreeMap::from([("BIG".to_string(), Value::from("x".repeat(5000)))]),
            ..inline()
        });
        assert_eq!(
            e,
            "khs/Worker: environment must total at most 4096 bytes, got 5003"
        );
    }

    #[test]
    fn fails_when_a_queue_source_batch_is_out_of_range() {
        let mut st = stack();
        let q = Queue::new(&mut st, "Jobs", QueueProps::default()).unwrap();
        let fifo = Queue::new(
            &mut st,
            "Orders",
            QueueProps {
                fifo: true,
                ..QueueProps::default()
            },
        )
        .unwrap();
        let f = Function::new(&mut st, "Worker", inline()).unwrap();
        let e = f
            .add_queue_source(
                &mut st,
                &fifo,
                QueueSourceProps {
                    batch_size: 20,
                    ..QueueSourceProps::default()
                },
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Worker: queue_source.batch_size must be 1..=10 for khs/Orders, got 20"
        );
        let e = f
            .add_queue_source(
                &mut st,
                &q,
                QueueSourceProps {
                    batch_size: 100,
                    ..QueueSourceProps::default()
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Worker: queue_source.max_batching_window_seconds must be at least 1 when batch_size is above 10"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_inline_code_is_for_a_compiled_runtime_or_too_long() {
        let e = err(FunctionProps {
            runtime: Runtime::Java21,
            ..inline()
        });
        assert!(
            e.starts_with("khs/Worker: code can be inline only for Python and Node.js"),
            "{e}"
        );
        let e = err(FunctionProps {
            code: Code::inline("x".repeat(5000)),
            ..inline()
        });
        assert!(
            e.starts_with("khs/Worker: code must be 1..=4096 bytes inline, got 5000"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_retention_concurrency_or_name_are_invalid() {
        assert!(
            err(FunctionProps {
                log_retention_days: 10,
                ..inline()
            })
            .starts_with("khs/Worker: log_retention_days must be one of")
        );
        assert!(
            err(FunctionProps {
                reserved_concurrency: Some(0),
                ..inline()
            })
            .starts_with("khs/Worker: reserved_concurrency must be at least 1")
        );
        assert!(
            err(FunctionProps {
                name: Some("bad name".into()),
                ..inline()
            })
            .starts_with("khs/Worker: name must be 1..=64")
        );
    }

    #[test]
    fn s3_code_names_the_object_and_fails_without_a_key() {
        let mut st = stack();
        let bucket = Bucket::new(&mut st, "Code", BucketProps::default()).unwrap();
        Function::new(
            &mut st,
            "Worker",
            FunctionProps {
                code: Code::from_bucket(&bucket.reference(), "worker/v1.zip"),
                ..inline()
            },
        )
        .unwrap();
        let t = st.synth().unwrap();
        let c = &t.resources["WorkerFunction"].properties["Code"];
        assert_eq!(c["S3Bucket"], json!({"Ref": "CodeBucket"}));
        assert_eq!(c["S3Key"], "worker/v1.zip");
        let e = err(FunctionProps {
            code: Code::from_bucket(&bucket.reference(), ""),
            ..inline()
        });
        assert_eq!(
            e,
            "khs/Worker: code must name an S3 key of 1..=1024 characters, got \"\""
        );
    }

    #[test]
    fn fails_when_an_asset_is_missing() {
        let e = err(FunctionProps {
            code: Code::asset("/nonexistent/khs/handler"),
            ..inline()
        });
        assert!(
            e.starts_with("khs/Worker: code cannot be packed: /nonexistent/khs/handler:"),
            "{e}"
        );
    }

    #[test]
    fn assets_point_at_the_staging_bucket_and_are_recorded() {
        let dir = std::env::temp_dir().join(format!("khs-fn-asset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        let mut st = stack();
        let f = Function::new(
            &mut st,
            "Worker",
            FunctionProps {
                code: Code::asset(&dir),
                ..inline()
            },
        )
        .unwrap();
        let asset = f.asset().unwrap().clone();
        assert_eq!(st.assets().len(), 1);
        let t = st.synth().unwrap();
        let c = &t.resources["WorkerFunction"].properties["Code"];
        assert_eq!(c["S3Bucket"], json!({"Fn::Sub": ASSET_BUCKET}));
        assert_eq!(c["S3Key"], format!("{}.zip", asset.hash));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
