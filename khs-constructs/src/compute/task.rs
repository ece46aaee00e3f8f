//! What every ECS task needs, shared by [`FargateService`], [`ScheduledTask`]
//! and [`ApiService`]: the container image, the image repository, the
//! container settings and the task definition with its roles and log group.
//!
//! - [`ImageRepository`]: an ECR repository with secure defaults (scan on
//!   push, immutable tags, KMS encryption, lifecycle policy: untagged images
//!   expire after 7 days, at most `keep_images` images are kept).
//! - [`ContainerImage`]: where a task's image comes from, a repository plus
//!   a tag template parameter (CI pushes `<repository>:<git sha>` and deploys
//!   with the parameter set to the sha) or a full image URI.
//! - [`ContainerProps`]: the application container (size, port, user,
//!   environment, secrets, logs, optional X-Ray sidecar).
//!
//! A task definition emits, below its construct's path: `LogGroup`
//! (retention, KMS), `ExecutionRole` (pull from the repository, write to the
//! log group, read exactly the configured secrets), `TaskRole` (X-Ray trace
//! upload when tracing, the ECS Exec channels when exec is on, nothing
//! otherwise) and `TaskDefinition` (Fargate, `awsvpc`, Linux/x86-64, the
//! container `app`: non-root user, read-only root file system with a
//! writable `/tmp` volume, `awslogs`; and the `xray-daemon` sidecar when
//! tracing).
//!
//! [`FargateService`]: crate::compute::FargateService
//! [`ScheduledTask`]: crate::compute::ScheduledTask
//! [`ApiService`]: crate::compute::ApiService

use crate::cfn::attributes::*;
use crate::cfn::ecs::task_definition::ContainerDefinitionRequired;
use crate::cfn::ecs::task_definition::SecretRequired;
use std::collections::BTreeMap;

use crate::cfn::ecr::Repository;
use crate::cfn::ecr::repository::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    LifecyclePolicy,
};
use crate::cfn::ecs::TaskDefinition;
use crate::cfn::ecs::task_definition::{
    ContainerDefinition, CpuArchitecture, KeyValuePair, LogConfiguration, MountPoint, NetworkMode,
    OperatingSystemFamily, PortMapping, Protocol as PortProtocol, RequiresCompatibilities,
    RuntimePlatform, Secret as ContainerSecretRef, Volume,
};
use crate::cfn::iam::Role;
use crate::cfn::logs::LogGroup;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::logical_id::LogicalId;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::template::Parameter;
use crate::core::value::{List, Value};
use crate::network::vpc::LOG_RETENTION_DAYS;
use crate::security::iam::{PolicyDocument, PolicyStatement, RoleProps, create_role};
use crate::security::kms::{EncryptionKey, EncryptionKeyProps};
use crate::security::secrets::Secret;

/// The X-Ray daemon image (AWS's public ECR gallery, major version 3).
pub const XRAY_DAEMON_IMAGE: &str = "public.ecr.aws/xray/aws-xray-daemon:3.x";

/// The name of the application container.
pub const APP_CONTAINER: &str = "app";

/// Images an [`ImageRepository`] keeps by default.
pub const DEFAULT_KEEP_IMAGES: u32 = 50;

/// CPU units and the memory sizes (MiB) Fargate accepts with them.
pub(crate) fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
    let range = |lo: u32, hi: u32, step: u32| (lo..=hi).step_by(step as usize).collect();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122880, 8192),
        _ => return None,
    })
}

/// A container secret: an environment variable filled from Secrets Manager
/// when the task starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSecret {
    /// The variable (`JWT_SECRET`).
    pub name: String,
    /// The secret.
    pub secret: Secret,
    /// One field of a JSON secret (`password`).
    ///
    /// Default: - the whole value.
    pub json_key: Option<String>,
}

impl ContainerSecret {
    /// The whole value of `secret` as `name`.
    pub fn new(name: impl Into<String>, secret: &Secret) -> Self {
        ContainerSecret {
            name: name.into(),
            secret: secret.clone(),
            json_key: None,
        }
    }

    /// One JSON field of `secret` as `name`.
    pub fn json_field(name: impl Into<String>, secret: &Secret, key: impl Into<String>) -> Self {
        ContainerSecret {
            name: name.into(),
            secret: secret.clone(),
            json_key: Some(key.into()),
        }
    }
}

/// An ECR repository, created with [`ImageRepository::new`] or imported with
/// [`RepositoryRef::from_name`].
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryRef {
    arn: Value<String>,
    uri: Value<String>,
    label: String,
}

impl RepositoryRef {
    /// A repository of the stack's account and region that exists already
    /// (made by another stack or by hand), by name.
    pub fn from_name(name: &str) -> Self {
        RepositoryRef {
            arn: Intrinsic::sub(format!(
                "arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{name}"
            ))
            .into(),
            uri: Intrinsic::sub(format!(
                "${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{name}"
            ))
            .into(),
            label: name.to_string(),
        }
    }

    /// A repository made in this stack (its `Repository` resource).
    pub(crate) fn from_handle(repository: &Handle<Repository>, label: &str) -> Self {
        RepositoryRef {
            arn: repository.attr_arn(),
            uri: repository.attr_repository_uri(),
            label: label.to_string(),
        }
    }

    /// The repository ARN (what the execution role may pull from).
    pub fn arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The repository URI (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`).
    pub fn uri(&self) -> Value<String> {
        self.uri.clone()
    }
}

/// Where a task's image comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerImage {
    /// An image of an ECR repository at the tag given by a template
    /// parameter (CI deploys with the parameter set to the pushed tag). The
    /// execution role may pull from exactly this repository.
    Repository {
        /// The repository.
        repository: RepositoryRef,
        /// The template parameter's name.
        ///
        /// Default: - `<logical id of the construct>ImageTag` (`WorkerImageTag`
        /// for a service with id `Worker`), so every service of a stack has
        /// its own.
        tag_parameter: Option<String>,
    },
    /// A full image reference (`public.ecr.aws/nginx/nginx:1.27`, or an
    /// image of another registry). No ECR permission is granted: a private
    /// registry of another account needs its own grant.
    Uri(Value<String>),
}

impl ContainerImage {
    /// The image of `repository` at the tag of a parameter named after the
    /// construct path.
    pub fn from_repository(repository: &RepositoryRef) -> Self {
        ContainerImage::Repository {
            repository: repository.clone(),
            tag_parameter: None,
        }
    }

    /// A full image reference.
    pub fn from_uri(uri: impl Into<Value<String>>) -> Self {
        ContainerImage::Uri(uri.into())
    }
}

/// Props of an [`ImageRepository`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageRepositoryProps {
    /// The repository's name (2..=256 of `a-z 0-9 - _ . /`).
    ///
    /// Default: - a name CloudFormation generates.
    pub repository_name: Option<String>,
    /// Images kept (older ones expire).
    ///
    /// Default: `50` ([`DEFAULT_KEEP_IMAGES`]).
    pub keep_images: Option<u32>,
    /// The KMS key encrypting the images.
    ///
    /// Default: - a new customer managed key with rotation (`Key`).
    pub encryption_key: Option<EncryptionKey>,
}

/// An ECR repository with secure defaults; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRepository {
    path: ConstructPath,
    repository: Handle<Repository>,
}

impl ImageRepository {
    /// Creates the repository `id` in `scope` (resources `<id>/Repository`
    /// and, unless a key is given, `<id>/Key`).
    pub fn new(scope: &mut impl AsScope, id: &str, props: ImageRepositoryProps) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let key = match props.encryption_key {
            Some(k) => k,
            None => EncryptionKey::new(
                &mut me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the images of {path}")),
                    ..Default::default()
                },
            )?,
        };
        let repository = emit_repository(
            &mut me,
            props.repository_name.as_deref(),
            props.keep_images.unwrap_or(DEFAULT_KEEP_IMAGES),
            &key,
        )?;
        Ok(ImageRepository { path, repository })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The repository resource.
    pub fn repository(&self) -> &Handle<Repository> {
        &self.repository
    }

    /// A reference for [`ContainerImage::from_repository`].
    pub fn reference(&self) -> RepositoryRef {
        RepositoryRef {
            arn: self.repository.attr_arn(),
            uri: self.repository.attr_repository_uri(),
            label: self.path.to_string(),
        }
    }
}

pub(crate) fn validate_repository_name(path: &ConstructPath, prop: &str, name: &str) -> Result<()> {
    let ok = name.len() >= 2
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_./".contains(c))
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must be 2..=256 of a-z 0-9 - _ . / starting with a letter or digit, got {name:?}"
            ),
        ))
    }
}

/// Emits `Repository` in `me`: scan on push, immutable tags, KMS, the
/// lifecycle policy.
pub(crate) fn emit_repository(
    me: &mut Scope<'_>,
    name: Option<&str>,
    keep_images: u32,
    key: &EncryptionKey,
) -> Result<Handle<Repository>> {
    if let Some(n) = name {
        validate_repository_name(me.path(), "repository_name", n)?;
    }
    if keep_images == 0 {
        return Err(Error::invalid_prop(
            me.path(),
            "keep_images",
            "must be at least 1, got 0",
        ));
    }
    let lifecycle = serde_json::json!({"rules": [
        {"rulePriority": 1, "description": "expire untagged images after 7 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": format!("keep the newest {keep_images} images"),
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
         "action": {"type": "expire"}}
    ]});
    me.add(
        "Repository",
        Repository {
            repository_name: name.map(|n| n.to_string().into()),
            image_scanning_configuration: Some(ImageScanningConfiguration {
                scan_on_push: Some(true.into()),
            }),
            image_tag_mutability: Some(ImageTagMutability::Immutable.into()),
            encryption_configuration: Some(EncryptionConfiguration {
                kms_key: Some(key.arn()),
                ..EncryptionConfiguration::new(EncryptionType::Kms)
            }),
            lifecycle_policy: Some(LifecyclePolicy {
                lifecycle_policy_text: Some(lifecycle.to_string().into()),
                ..LifecyclePolicy::new()
            }),
            ..Repository::new()
        },
    )
}

/// The application container of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerProps {
    /// The image.
    pub image: ContainerImage,
    /// Task CPU units (a Fargate size: 256, 512, 1024, …).
    ///
    /// Default: `256`.
    pub cpu: u32,
    /// Task memory in MiB (a size Fargate allows with `cpu`).
    ///
    /// Default: `512`.
    pub memory_mib: u32,
    /// The port the application listens on (needed to sit behind a load
    /// balancer or to be reached by other constructs).
    ///
    /// Default: - none (a worker that only makes outgoing connections).
    pub port: Option<u16>,
    /// The command, replacing the image's `CMD`.
    ///
    /// Default: - the image's command.
    pub command: Vec<String>,
    /// The user the application runs as (`uid` or `uid:gid`; not root).
    ///
    /// Default: `1000`.
    pub user: String,
    /// Mount the container's root file system read-only (`/tmp` stays
    /// writable).
    ///
    /// Default: `true`.
    pub readonly_root_filesystem: bool,
    /// Plain environment variables. Names containing `PASSWORD`, `SECRET`
    /// or `TOKEN` are refused: those belong in `secrets`.
    ///
    /// Default: - none besides `AWS_XRAY_DAEMON_ADDRESS` when tracing.
    pub environment: BTreeMap<String, Value<String>>,
    /// Variables filled from Secrets Manager; the execution role may read
    /// exactly these secrets.
    ///
    /// Default: - none.
    pub secrets: Vec<ContainerSecret>,
    /// Run the X-Ray daemon sidecar and let the task write traces.
    ///
    /// Default: `false`.
    pub tracing: bool,
    /// Days the container logs are kept (a value CloudWatch Logs accepts).
    ///
    /// Default: `30`.
    pub log_retention_days: u32,
    /// The log group's name.
    ///
    /// Default: - a name CloudFormation generates.
    pub log_group_name: Option<String>,
    /// The KMS key for the log group (it must let CloudWatch Logs use it,
    /// see [`EncryptionKeyProps::allow_cloudwatch_logs`]).
    ///
    /// Default: - a new customer managed key with rotation (`Key`).
    pub encryption_key: Option<EncryptionKey>,
}

impl ContainerProps {
    /// A container running `image` with every other field at its default.
    pub fn new(image: ContainerImage) -> Self {
        ContainerProps {
            image,
            cpu: 256,
            memory_mib: 512,
            port: None,
            command: Vec::new(),
            user: "1000".to_string(),
            readonly_root_filesystem: true,
            environment: BTreeMap::new(),
            secrets: Vec::new(),
            tracing: false,
            log_retention_days: 30,
            log_group_name: None,
            encryption_key: None,
        }
    }

    /// Checks the container props; errors name `path` and the field.
    pub fn validate(&self, path: &ConstructPath) -> Result<()> {
        check_size(path, self.cpu, self.memory_mib)?;
        if self.port == Some(0) {
            return Err(Error::invalid_prop(
                path,
                "port",
                "must be 1..=65535, got 0",
            ));
        }
        check_user(path, &self.user)?;
        check_retention(path, self.log_retention_days)?;
        check_environment(path, &self.environment, &self.secrets)
    }
}

pub(crate) fn check_size(path: &ConstructPath, cpu: u32, memory_mib: u32) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    match fargate_memory_options(cpu) {
        None => Err(err(
            "cpu",
            format!(
                "must be a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192 or 16384), got {cpu}"
            ),
        )),
        Some(options) if !options.contains(&memory_mib) => {
            let shown = if options.len() > 4 {
                format!(
                    "{}..={} in steps of {}",
                    options[0],
                    options[options.len() - 1],
                    options[1] - options[0]
                )
            } else {
                format!("{options:?}")
            };
            Err(err(
                "memory_mib",
                format!(
                    "must be a size Fargate allows with cpu {cpu}: {shown} MiB, got {memory_mib}"
                ),
            ))
        }
        Some(_) => Ok(()),
    }
}

pub(crate) fn check_user(path: &ConstructPath, user: &str) -> Result<()> {
    let uid = user.split(':').next().unwrap_or_default();
    if user.is_empty() || uid == "0" || uid == "root" {
        return Err(Error::invalid_prop(
            path,
            "user",
            format!("must name a non-root user (such as \"1000\"), got {user:?}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_retention(path: &ConstructPath, days: u32) -> Result<()> {
    if !LOG_RETENTION_DAYS.contains(&days) {
        return Err(Error::invalid_prop(
            path,
            "log_retention_days",
            format!("must be one of {LOG_RETENTION_DAYS:?}, got {days}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_environment(
    path: &ConstructPath,
    environment: &BTreeMap<String, Value<String>>,
    secrets: &[ContainerSecret],
) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    let mut names = std::collections::BTreeSet::new();
    let env_name_ok = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    for name in environment.keys() {
        if !env_name_ok(name) {
            return Err(err(
                "environment",
                format!(
                    "names must be letters, digits and '_', not starting with a digit, got {name:?}"
                ),
            ));
        }
        let upper = name.to_ascii_uppercase();
        if ["PASSWORD", "SECRET", "TOKEN"]
            .iter()
            .any(|w| upper.contains(w))
        {
            return Err(err(
                "environment",
                format!(
                    "must not carry secrets, got {name:?}; pass it in `secrets` (from Secrets Manager) instead"
                ),
            ));
        }
        names.insert(name.as_str());
    }
    for s in secrets {
        if !env_name_ok(&s.name) || !names.insert(s.name.as_str()) {
            return Err(err(
                "secrets",
                format!(
                    "names must be valid variable names not used twice or in environment, got {:?}",
                    s.name
                ),
            ));
        }
    }
    Ok(())
}

/// What [`emit_task`] made.
#[derive(Debug, Clone)]
pub(crate) struct TaskParts {
    pub log_group: Handle<LogGroup>,
    pub task_definition: Handle<TaskDefinition>,
    pub task_role: Handle<Role>,
    pub execution_role: Handle<Role>,
}

/// How [`emit_task`] names and extends what it emits.
pub(crate) struct TaskSpec<'a> {
    /// The task definition family.
    pub family: Option<String>,
    /// The container.
    pub container: &'a ContainerProps,
    /// The log group name (resolved by the caller).
    pub log_group_name: Option<String>,
    /// Let the task role open ECS Exec channels.
    pub exec: bool,
    /// The key of the log group.
    pub key: &'a EncryptionKey,
}

/// The image reference of `image` in `me`: a repository image adds the tag
/// parameter (named after `me`'s path unless given).
pub(crate) fn resolve_image(
    me: &mut Scope<'_>,
    image: &ContainerImage,
) -> Result<(Value<String>, Option<Value<String>>)> {
    match image {
        ContainerImage::Uri(uri) => Ok((uri.clone(), None)),
        ContainerImage::Repository {
            repository,
            tag_parameter,
        } => {
            let name = match tag_parameter {
                Some(n) => n.clone(),
                None => LogicalId::from_path(&me.path().child("ImageTag")?)?.to_string(),
            };
            let tag: Value<String> = me.add_parameter(
                &name,
                Parameter {
                    allowed_pattern: Some("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$".to_string()),
                    constraint_description: Some(
                        "an image tag: letters, digits, '_', '.', '-', at most 128".to_string(),
                    ),
                    ..Parameter::string(format!(
                        "Tag of the {} image to run (the repository's tags are immutable; CI deploys the git sha)",
                        repository.label
                    ))
                },
            )?;
            let image: Value<String> =
                Intrinsic::sub_with("${Uri}:${Tag}", [("Uri", repository.uri()), ("Tag", tag)])
                    .into();
            Ok((image, Some(repository.arn())))
        }
    }
}

/// Emits `LogGroup`, `ExecutionRole`, `TaskRole` and `TaskDefinition` in
/// `me` (see the module docs). `image` and `repository_arn` come from
/// [`resolve_image`].
pub(crate) fn emit_task(
    me: &mut Scope<'_>,
    spec: TaskSpec<'_>,
    image: Value<String>,
    repository_arn: Option<Value<String>>,
) -> Result<TaskParts> {
    let path = me.path().clone();
    let c = spec.container;
    let log_group = me.add(
        "LogGroup",
        LogGroup {
            log_group_name: spec.log_group_name.map(Into::into),
            retention_in_days: Some(i64::from(c.log_retention_days).into()),
            kms_key_id: Some(spec.key.arn()),
            ..LogGroup::new()
        },
    )?;

    // Roles: the execution role starts the task, the task role is the
    // application's identity.
    let mut exec_policy = PolicyDocument::default();
    let pulls_from_ecr = repository_arn.is_some();
    if let Some(arn) = repository_arn {
        exec_policy.push(PolicyStatement::allow(["ecr:GetAuthorizationToken"], ["*"]));
        exec_policy.push(PolicyStatement::allow(
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            [arn],
        ));
    }
    exec_policy.push(PolicyStatement::allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [log_group.attr_arn()],
    ));
    for s in &c.secrets {
        s.secret.grant_read(&mut exec_policy);
    }
    let execution_role = create_role(
        me,
        "ExecutionRole",
        RoleProps {
            description: Some(format!("Starts the tasks of {path}")),
            policy: exec_policy,
            ..RoleProps::new("ecs-tasks.amazonaws.com")
        },
    )?;
    if pulls_from_ecr {
        execution_role.acknowledge(
            me,
            "iam-no-wildcard-permissions",
            "ecr:GetAuthorizationToken supports no resource but \"*\" (AWS service authorization reference); the role's other statements name their resources.",
        )?;
    }
    let mut task_policy = PolicyDocument::default();
    if c.tracing {
        task_policy.push(PolicyStatement::allow(
            [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ],
            ["*"],
        ));
    }
    if spec.exec {
        task_policy.push(PolicyStatement::allow(
            [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            ["*"],
        ));
    }
    let task_role = create_role(
        me,
        "TaskRole",
        RoleProps {
            description: Some(format!("The application identity of {path}")),
            policy: task_policy,
            ..RoleProps::new("ecs-tasks.amazonaws.com")
        },
    )?;
    if c.tracing || spec.exec {
        task_role.acknowledge(
            me,
            "iam-no-wildcard-permissions",
            "The X-Ray actions (PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and the ECS Exec ssmmessages channel actions support no resource but \"*\" (AWS service authorization reference).",
        )?;
    }

    let log_config = |prefix: &str| LogConfiguration {
        options: Some(BTreeMap::from([
            ("awslogs-group".to_string(), log_group.ref_()),
            ("awslogs-region".to_string(), Pseudo::Region.into()),
            ("awslogs-stream-prefix".to_string(), prefix.into()),
        ])),
        ..LogConfiguration::new("awslogs")
    };
    let mut environment = c.environment.clone();
    if c.tracing {
        environment.insert(
            "AWS_XRAY_DAEMON_ADDRESS".to_string(),
            "localhost:2000".into(),
        );
    }
    let mut secrets: Vec<ContainerSecretRef> = c
        .secrets
        .iter()
        .map(|s| {
            let from = match &s.json_key {
                Some(k) => s.secret.ecs_value_from_json_key(k),
                None => s.secret.ecs_value_from(),
            };
            ContainerSecretRef::new(SecretRequired {
                name: s.name.clone().into(),
                value_from: from,
            })
        })
        .collect();
    secrets.sort_by(|a, b| format!("{:?}", a.name).cmp(&format!("{:?}", b.name)));
    let mut containers = vec![ContainerDefinition {
        essential: Some(true.into()),
        port_mappings: c.port.map(|port| {
            vec![PortMapping {
                container_port: Some(i64::from(port).into()),
                protocol: Some(PortProtocol::Tcp.into()),
                ..PortMapping::new()
            }]
        }),
        command: (!c.command.is_empty()).then(|| List::from(c.command.clone())),
        user: Some(c.user.clone().into()),
        readonly_root_filesystem: Some(c.readonly_root_filesystem.into()),
        mount_points: c.readonly_root_filesystem.then(|| {
            vec![MountPoint {
                container_path: Some("/tmp".into()),
                source_volume: Some("tmp".into()),
                read_only: Some(false.into()),
            }]
        }),
        environment: Some(
            environment
                .into_iter()
                .map(|(k, v)| KeyValuePair {
                    name: Some(k.into()),
                    value: Some(v),
                })
                .collect(),
        ),
        secrets: (!secrets.is_empty()).then_some(secrets),
        log_configuration: Some(log_config(APP_CONTAINER)),
        ..ContainerDefinition::new(ContainerDefinitionRequired {
            image,
            name: APP_CONTAINER.into(),
        })
    }];
    if c.tracing {
        containers.push(ContainerDefinition {
            essential: Some(false.into()),
            cpu: Some(32.into()),
            memory_reservation: Some(256.into()),
            port_mappings: Some(vec![PortMapping {
                container_port: Some(2000.into()),
                protocol: Some(PortProtocol::Udp.into()),
                ..PortMapping::new()
            }]),
            user: Some("1337".into()),
            readonly_root_filesystem: Some(true.into()),
            log_configuration: Some(log_config("xray")),
            ..ContainerDefinition::new(ContainerDefinitionRequired {
                image: XRAY_DAEMON_IMAGE.into(),
                name: "xray-daemon".into(),
            })
        });
    }
    let task_definition = me.add(
        "TaskDefinition",
        TaskDefinition {
            family: spec.family.map(Into::into),
            cpu: Some(c.cpu.to_string().into()),
            memory: Some(c.memory_mib.to_string().into()),
            network_mode: Some(NetworkMode::Awsvpc.into()),
            requires_compatibilities: Some(Value::Literal(vec![
                RequiresCompatibilities::Fargate.into(),
            ])),
            runtime_platform: Some(RuntimePlatform {
                cpu_architecture: Some(CpuArchitecture::X86_64.into()),
                operating_system_family: Some(OperatingSystemFamily::Linux.into()),
            }),
            execution_role_arn: Some(execution_role.attr_arn()),
            task_role_arn: Some(task_role.attr_arn()),
            container_definitions: Some(containers),
            volumes: c.readonly_root_filesystem.then(|| {
                vec![Volume {
                    name: Some("tmp".into()),
                    ..Volume::new()
                }]
            }),
            ..TaskDefinition::new()
        },
    )?;
    Ok(TaskParts {
        log_group,
        task_definition,
        task_role,
        execution_role,
    })
}

/// The key of a task's log group: the one given, or a new `Key` in `me`.
pub(crate) fn log_key(me: &mut Scope<'_>, given: Option<&EncryptionKey>) -> Result<EncryptionKey> {
    match given {
        Some(k) => Ok(k.clone()),
        None => {
            let path = me.path().clone();
            EncryptionKey::new(
                me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the logs and images of {path}")),
                    allow_cloudwatch_logs: true,
                    ..Default::default()
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_pairs_cover_the_documented_table() {
        assert_eq!(fargate_memory_options(256).unwrap(), [512, 1024, 2048]);
        assert!(fargate_memory_options(4096).unwrap().contains(&30720));
        assert_eq!(fargate_memory_options(8192).unwrap()[1], 20480);
        assert!(fargate_memory_options(100).is_none());
    }
}
