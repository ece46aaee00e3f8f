//! `ApiService`: an HTTPS API on ECS Fargate behind a public Application
//! Load Balancer, with its image repository, logs, tracing and autoscaling.
//!
//! Emits, below the construct's path:
//! - `Key`: a customer managed KMS key (rotation on) for the log group and
//!   the repository, usable by CloudWatch Logs, unless one is given;
//! - `Repository`: the ECR repository (scan on push, immutable tags, KMS
//!   encryption, lifecycle policy: untagged images expire after 7 days, at
//!   most `keep_images` images are kept);
//! - the template parameter `ImageTag`: the image tag to run (CI pushes
//!   `<repository>:<git sha>` and deploys with `ImageTag=<git sha>`);
//! - `Cluster` (Container Insights on), `LogGroup` (`/aws/ecs/<service>`,
//!   retention, KMS), `ExecutionRole` (pull from this repository, write to
//!   this log group, read exactly the configured secrets), `TaskRole` (X-Ray
//!   trace upload only);
//! - `TaskDefinition`: Fargate, `awsvpc`, Linux/x86-64, the application
//!   container `app` (non-root user, read-only root file system with a
//!   writable `/tmp` volume, environment, secrets from Secrets Manager,
//!   `awslogs`) and the X-Ray daemon sidecar `xray-daemon`;
//! - `LoadBalancerSecurityGroup` (443 and 80 from the internet, egress only
//!   to the service's port), `ServiceSecurityGroup` (the container port from
//!   the load balancer only; egress HTTPS to AWS APIs plus whatever
//!   [`Connections::allow_from`] adds, such as PostgreSQL and Redis);
//! - `LoadBalancer` (internet-facing, public subnets, invalid headers
//!   dropped, deletion protection), `TargetGroup` (IP targets, health check),
//!   `HttpsListener` (the certificate, a TLS 1.3/1.2 policy) and
//!   `HttpListener` (301 to HTTPS);
//! - `Service`: in the private subnets without public IPs, rolling
//!   deployments with the circuit breaker and rollback;
//! - `Scaling/…`: see [`crate::autoscaling`];
//! - outputs `LoadBalancerDnsName`, `RepositoryUri`, `ClusterName`,
//!   `ServiceName`.

use crate::cfn::attributes::*;
use crate::cfn::ecs::service::DeploymentCircuitBreakerRequired;
use crate::cfn::ecs::task_definition::ContainerDefinitionRequired;
use crate::cfn::ecs::task_definition::SecretRequired;
use std::collections::BTreeMap;

use crate::autoscaling::{self, ScalingProps, ScalingTarget};
use crate::cfn::ecr::Repository;
use crate::cfn::ecr::repository::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    LifecyclePolicy,
};
use crate::cfn::ecs::cluster::ClusterSettings;
use crate::cfn::ecs::service::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    LaunchType, LoadBalancer as ServiceLoadBalancer, NetworkConfiguration, PropagateTags,
};
use crate::cfn::ecs::task_definition::{
    ContainerDefinition, CpuArchitecture, KeyValuePair, LogConfiguration, MountPoint, NetworkMode,
    OperatingSystemFamily, PortMapping, Protocol as PortProtocol, RequiresCompatibilities,
    RuntimePlatform, Secret as ContainerSecretRef, Volume,
};
use crate::cfn::ecs::{Cluster, Service, TaskDefinition};
use crate::cfn::elasticloadbalancingv2::listener::{
    Action, Certificate, Protocol as ListenerProtocol, RedirectConfig, StatusCode,
    Type as ActionType,
};
use crate::cfn::elasticloadbalancingv2::load_balancer::{
    LoadBalancerAttribute, Scheme, Type as LoadBalancerType,
};
use crate::cfn::elasticloadbalancingv2::target_group::{
    Matcher, Protocol as TargetProtocol, TargetGroupAttribute, TargetType,
};
use crate::cfn::elasticloadbalancingv2::{Listener, LoadBalancer, TargetGroup};
use crate::cfn::logs::LogGroup;
use crate::cfn::s3::BucketPolicy;
use crate::connections::{Connections, Egress, Port};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions};
use crate::core::template::{Output, Parameter};
use crate::core::value::Value;
use crate::dns::CertificateRef;
use crate::iam::{PolicyDocument, PolicyStatement, RoleProps, create_role};
use crate::kms::{EncryptionKey, EncryptionKeyProps};
use crate::network::{Network, SubnetKind};
use crate::secrets::Secret;
use crate::storage::BucketRef;

/// The TLS policy of the HTTPS listener: TLS 1.3 and 1.2 with forward
/// secrecy only.
pub const DEFAULT_TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The X-Ray daemon image (AWS's public ECR gallery, major version 3).
pub const XRAY_DAEMON_IMAGE: &str = "public.ecr.aws/xray/aws-xray-daemon:3.x";

/// The name of the application container.
pub const APP_CONTAINER: &str = "app";

/// Log retention values CloudWatch Logs accepts.
const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// CPU units and the memory sizes (MiB) Fargate accepts with them.
fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
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

/// Where the load balancer writes access logs.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogs {
    /// The bucket: SSE-S3 encrypted, its policy letting Elastic Load
    /// Balancing log delivery write under `prefix`
    /// (`storage::BucketGrant::LoadBalancerLogs`).
    pub bucket: BucketRef,
    /// The key prefix, without leading or trailing `/` (`alb`).
    pub prefix: String,
    /// The bucket's policy: the load balancer waits for it (`DependsOn`),
    /// since Elastic Load Balancing checks its write access when access
    /// logs are turned on.
    pub bucket_policy: Handle<BucketPolicy>,
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

/// The target group's health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The path requested (must start with `/`).
    ///
    /// Default: `/api/health`.
    pub path: String,
    /// Seconds between checks (5..=300).
    ///
    /// Default: `30`.
    pub interval_seconds: u32,
    /// Seconds to wait for a response (2..=120, less than the interval).
    ///
    /// Default: `5`.
    pub timeout_seconds: u32,
    /// Successes before a target is healthy (2..=10).
    ///
    /// Default: `2`.
    pub healthy_threshold: u32,
    /// Failures before a target is unhealthy (2..=10).
    ///
    /// Default: `3`.
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: "/api/health".to_string(),
            interval_seconds: 30,
            timeout_seconds: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

/// Props of an [`ApiService`].
#[derive(Debug, Clone, PartialEq)]
pub struct ApiServiceProps {
    /// The ECS cluster's name.
    pub cluster_name: String,
    /// The ECS service's name (also the container log group's last part).
    pub service_name: String,
    /// The ECR repository's name.
    pub repository_name: String,
    /// The certificate of the HTTPS listener (in the stack's region).
    pub certificate: CertificateRef,
    /// Task CPU units (a Fargate size: 256, 512, 1024, …).
    ///
    /// Default: `512`.
    pub cpu: u32,
    /// Task memory in MiB (a size Fargate allows with `cpu`).
    ///
    /// Default: `1024`.
    pub memory_mib: u32,
    /// The port the application listens on.
    ///
    /// Default: `3001`.
    pub container_port: u16,
    /// The user the application runs as (`uid` or `uid:gid`; not root).
    ///
    /// Default: `1001` (the image's `nodejs` user).
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
    /// Default: `true`.
    pub tracing: bool,
    /// The target group's health check.
    ///
    /// Default: - `/api/health` every 30 s ([`HealthCheck::default`]).
    pub health_check: HealthCheck,
    /// Days the container logs are kept (a value CloudWatch Logs accepts).
    ///
    /// Default: `30`.
    pub log_retention_days: u32,
    /// The log group's name.
    ///
    /// Default: - `/aws/ecs/<service_name>`.
    pub log_group_name: Option<String>,
    /// The HTTPS listener's TLS policy.
    ///
    /// Default: [`DEFAULT_TLS_POLICY`].
    pub tls_policy: String,
    /// Open the listener ports (443, and 80 for the redirect) to the
    /// internet. Turn it off when only CloudFront may reach the load
    /// balancer (`cdn::ApiOrigin::restrict_to_cloudfront` then opens 443 to
    /// CloudFront's origin-facing prefix list); the HTTP listener is then
    /// not created either.
    ///
    /// Default: `true` (the seed: 443 from `0.0.0.0/0`).
    pub allow_internet_ingress: bool,
    /// Refuse deleting the load balancer until turned off.
    ///
    /// Default: `true`.
    pub deletion_protection: bool,
    /// Write load balancer access logs to a bucket.
    ///
    /// Default: - no access logs.
    pub access_logs: Option<AccessLogs>,
    /// Images kept in the repository.
    ///
    /// Default: `50`.
    pub keep_images: u32,
    /// How the service scales.
    ///
    /// Default: - 2..=10 tasks, CPU 70 %, memory 80 %, request steps
    /// ([`ScalingProps::default`]).
    pub scaling: ScalingProps,
    /// The KMS key for the log group and the repository (it must let
    /// CloudWatch Logs use it, see [`EncryptionKeyProps::allow_cloudwatch_logs`]).
    ///
    /// Default: - a new customer managed key with rotation (`Key`).
    pub encryption_key: Option<EncryptionKey>,
}

impl ApiServiceProps {
    /// Props with the names and certificate given and every other field at
    /// its default.
    pub fn new(
        cluster_name: impl Into<String>,
        service_name: impl Into<String>,
        repository_name: impl Into<String>,
        certificate: CertificateRef,
    ) -> Self {
        ApiServiceProps {
            cluster_name: cluster_name.into(),
            service_name: service_name.into(),
            repository_name: repository_name.into(),
            certificate,
            cpu: 512,
            memory_mib: 1024,
            container_port: 3001,
            user: "1001".to_string(),
            readonly_root_filesystem: true,
            environment: BTreeMap::new(),
            secrets: Vec::new(),
            tracing: true,
            health_check: HealthCheck::default(),
            log_retention_days: 30,
            log_group_name: None,
            tls_policy: DEFAULT_TLS_POLICY.to_string(),
            allow_internet_ingress: true,
            deletion_protection: true,
            access_logs: None,
            keep_images: 50,
            scaling: ScalingProps::default(),
            encryption_key: None,
        }
    }
}

/// An API on ECS Fargate behind an Application Load Balancer; see the module
/// docs for what it emits.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiService {
    path: ConstructPath,
    cluster: Handle<Cluster>,
    service: Handle<Service>,
    repository: Handle<Repository>,
    load_balancer: Handle<LoadBalancer>,
    target_group: Handle<TargetGroup>,
    log_group: Handle<LogGroup>,
    task_role: Handle<crate::cfn::iam::Role>,
    service_connections: Connections,
    load_balancer_connections: Connections,
}

fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn validate(path: &ConstructPath, region: &str, p: &ApiServiceProps) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    if p.certificate.region() != region {
        return Err(err(
            "certificate",
            format!(
                "must be in the stack's region {region} (a load balancer uses certificates of its own region), got one in {}",
                p.certificate.region()
            ),
        ));
    }
    if let Some(logs) = &p.access_logs {
        let b = &logs.bucket;
        if logs.prefix.starts_with('/')
            || logs.prefix.ends_with('/')
            || logs.prefix.contains("AWSLogs")
        {
            return Err(err(
                "access_logs.prefix",
                format!(
                    "must not start or end with '/' or contain \"AWSLogs\", got {:?}",
                    logs.prefix
                ),
            ));
        }
        if b.kms_encrypted() {
            return Err(err(
                "access_logs.bucket",
                format!(
                    "must be encrypted with SSE-S3 (load balancer access logs cannot be written to SSE-KMS buckets), got {} with SSE-KMS",
                    b.path()
                ),
            ));
        }
    }
    for (prop, v) in [
        ("cluster_name", &p.cluster_name),
        ("service_name", &p.service_name),
    ] {
        if !is_name(v, 255) {
            return Err(err(
                prop,
                format!("must be 1..=255 of A-Z a-z 0-9 - _, got {v:?}"),
            ));
        }
    }
    let repo_ok = p.repository_name.len() >= 2
        && p.repository_name.len() <= 256
        && p.repository_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_./".contains(c))
        && p.repository_name
            .starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !repo_ok {
        return Err(err(
            "repository_name",
            format!(
                "must be 2..=256 of a-z 0-9 - _ . / starting with a letter or digit, got {:?}",
                p.repository_name
            ),
        ));
    }
    match fargate_memory_options(p.cpu) {
        None => {
            return Err(err(
                "cpu",
                format!(
                    "must be a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192 or 16384), got {}",
                    p.cpu
                ),
            ));
        }
        Some(options) if !options.contains(&p.memory_mib) => {
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
            return Err(err(
                "memory_mib",
                format!(
                    "must be a size Fargate allows with cpu {}: {shown} MiB, got {}",
                    p.cpu, p.memory_mib
                ),
            ));
        }
        Some(_) => {}
    }
    if p.container_port == 0 {
        return Err(err(
            "container_port",
            "must be 1..=65535, got 0".to_string(),
        ));
    }
    let uid = p.user.split(':').next().unwrap_or_default();
    if p.user.is_empty() || uid == "0" || uid == "root" {
        return Err(err(
            "user",
            format!(
                "must name a non-root user (such as \"1001\"), got {:?}",
                p.user
            ),
        ));
    }
    let hc = &p.health_check;
    if !hc.path.starts_with('/') {
        return Err(err(
            "health_check.path",
            format!("must start with \"/\", got {:?}", hc.path),
        ));
    }
    if !(5..=300).contains(&hc.interval_seconds) {
        return Err(err(
            "health_check.interval_seconds",
            format!("must be 5..=300, got {}", hc.interval_seconds),
        ));
    }
    if !(2..=120).contains(&hc.timeout_seconds) || hc.timeout_seconds >= hc.interval_seconds {
        return Err(err(
            "health_check.timeout_seconds",
            format!(
                "must be 2..=120 and less than interval_seconds ({}), got {}",
                hc.interval_seconds, hc.timeout_seconds
            ),
        ));
    }
    for (prop, v) in [
        ("health_check.healthy_threshold", hc.healthy_threshold),
        ("health_check.unhealthy_threshold", hc.unhealthy_threshold),
    ] {
        if !(2..=10).contains(&v) {
            return Err(err(prop, format!("must be 2..=10, got {v}")));
        }
    }
    if !LOG_RETENTION_DAYS.contains(&p.log_retention_days) {
        return Err(err(
            "log_retention_days",
            format!(
                "must be one of {LOG_RETENTION_DAYS:?}, got {}",
                p.log_retention_days
            ),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    let env_name_ok = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    for name in p.environment.keys() {
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
    for s in &p.secrets {
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
    if p.keep_images == 0 {
        return Err(err("keep_images", "must be at least 1, got 0".to_string()));
    }
    p.scaling.validate(path)
}

impl ApiService {
    /// Creates the service `id` in `scope` on `network`.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: ApiServiceProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate(&path, &region, &props)?;
        let private = network.subnets(SubnetKind::Private);
        let public = network.subnets(SubnetKind::Public);
        let port = Port::tcp(props.container_port);

        let key = match props.encryption_key.clone() {
            Some(k) => k,
            None => EncryptionKey::new(
                &mut me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the logs and images of {path}")),
                    allow_cloudwatch_logs: true,
                    ..Default::default()
                },
            )?,
        };

        // Image repository and the tag to deploy.
        let lifecycle = serde_json::json!({"rules": [
            {"rulePriority": 1, "description": "expire untagged images after 7 days",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": format!("keep the newest {} images", props.keep_images),
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": props.keep_images},
             "action": {"type": "expire"}}
        ]});
        let repository = me.add(
            "Repository",
            Repository {
                repository_name: Some(props.repository_name.clone().into()),
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
        )?;
        let image_tag: Value<String> = me.add_parameter(
            "ImageTag",
            Parameter {
                allowed_pattern: Some("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$".to_string()),
                constraint_description: Some(
                    "an image tag: letters, digits, '_', '.', '-', at most 128".to_string(),
                ),
                ..Parameter::string(format!(
                    "Tag of the {} image to run (the repository's tags are immutable; CI deploys the git sha)",
                    props.repository_name
                ))
            },
        )?;
        let image: Value<String> = Intrinsic::sub_with(
            "${Uri}:${Tag}",
            [
                ("Uri", repository.attr_repository_uri()),
                ("Tag", image_tag),
            ],
        )
        .into();

        let cluster = me.add(
            "Cluster",
            Cluster {
                cluster_name: Some(props.cluster_name.clone().into()),
                cluster_settings: Some(vec![ClusterSettings {
                    name: Some("containerInsights".into()),
                    value: Some("enabled".into()),
                }]),
                ..Cluster::new()
            },
        )?;

        let log_group_name = props
            .log_group_name
            .clone()
            .unwrap_or_else(|| format!("/aws/ecs/{}", props.service_name));
        let log_group = me.add(
            "LogGroup",
            LogGroup {
                log_group_name: Some(log_group_name.into()),
                retention_in_days: Some(i64::from(props.log_retention_days).into()),
                kms_key_id: Some(key.arn()),
                ..LogGroup::new()
            },
        )?;

        // Roles: the execution role starts the task, the task role is the
        // application's identity.
        let mut exec_policy = PolicyDocument::new([
            PolicyStatement::allow(["ecr:GetAuthorizationToken"], ["*"]),
            PolicyStatement::allow(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [repository.attr_arn()],
            ),
            PolicyStatement::allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_group.attr_arn()],
            ),
        ]);
        for s in &props.secrets {
            s.secret.grant_read(&mut exec_policy);
        }
        let execution_role = create_role(
            &mut me,
            "ExecutionRole",
            RoleProps {
                description: Some(format!("Starts the tasks of {path}")),
                policy: exec_policy,
                ..RoleProps::new("ecs-tasks.amazonaws.com")
            },
        )?;
        execution_role.acknowledge(
            &mut me,
            "iam-no-wildcard-permissions",
            "ecr:GetAuthorizationToken supports no resource but \"*\" (AWS service authorization reference); the role's other statements name their resources.",
        )?;
        let mut task_policy = PolicyDocument::default();
        if props.tracing {
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
        let task_role = create_role(
            &mut me,
            "TaskRole",
            RoleProps {
                description: Some(format!("The application identity of {path}")),
                policy: task_policy,
                ..RoleProps::new("ecs-tasks.amazonaws.com")
            },
        )?;
        if props.tracing {
            task_role.acknowledge(
                &mut me,
                "iam-no-wildcard-permissions",
                "The X-Ray actions PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets support no resource but \"*\" (AWS service authorization reference).",
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
        let mut environment = props.environment.clone();
        if props.tracing {
            environment.insert(
                "AWS_XRAY_DAEMON_ADDRESS".to_string(),
                "localhost:2000".into(),
            );
        }
        let mut secrets: Vec<ContainerSecretRef> = props
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
            port_mappings: Some(vec![PortMapping {
                container_port: Some(i64::from(props.container_port).into()),
                protocol: Some(PortProtocol::Tcp.into()),
                ..PortMapping::new()
            }]),
            user: Some(props.user.clone().into()),
            readonly_root_filesystem: Some(props.readonly_root_filesystem.into()),
            mount_points: props.readonly_root_filesystem.then(|| {
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
        if props.tracing {
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
                family: Some(props.service_name.clone().into()),
                cpu: Some(props.cpu.to_string().into()),
                memory: Some(props.memory_mib.to_string().into()),
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
                volumes: props.readonly_root_filesystem.then(|| {
                    vec![Volume {
                        name: Some("tmp".into()),
                        ..Volume::new()
                    }]
                }),
                ..TaskDefinition::new()
            },
        )?;

        // Network access: internet → load balancer → service.
        let lb_conn = Connections::new_security_group(
            &mut me,
            "LoadBalancerSecurityGroup",
            network.vpc_id(),
            &format!("{path}: public HTTPS load balancer"),
            Some(Port::tcp(443)),
            Egress::Restricted,
        )?;
        if props.allow_internet_ingress {
            lb_conn.allow_listener_from_internet(&mut me, Port::tcp(443))?;
            lb_conn.allow_listener_from_internet(&mut me, Port::tcp(80))?;
        }
        let svc_conn = Connections::new_security_group(
            &mut me,
            "ServiceSecurityGroup",
            network.vpc_id(),
            &format!("{path}: API tasks"),
            Some(port),
            Egress::Restricted,
        )?;
        svc_conn.allow_from(&mut me, &lb_conn, port)?;
        svc_conn.allow_to_cidr(
            &mut me,
            "HttpsToAwsApis",
            "0.0.0.0/0",
            Port::tcp(443),
            "HTTPS to AWS APIs (ECR, Secrets Manager, CloudWatch Logs, X-Ray)",
        )?;

        let attribute = |key: &str, value: Value<String>| LoadBalancerAttribute {
            key: Some(key.into()),
            value: Some(value),
        };
        let mut attributes = vec![
            attribute(
                "deletion_protection.enabled",
                props.deletion_protection.to_string().into(),
            ),
            attribute(
                "routing.http.drop_invalid_header_fields.enabled",
                "true".into(),
            ),
            attribute("routing.http.desync_mitigation_mode", "defensive".into()),
        ];
        if let Some(logs) = &props.access_logs {
            attributes.push(attribute("access_logs.s3.enabled", "true".into()));
            attributes.push(attribute("access_logs.s3.bucket", logs.bucket.name()));
            attributes.push(attribute(
                "access_logs.s3.prefix",
                logs.prefix.clone().into(),
            ));
        }
        let lb_options = match &props.access_logs {
            Some(logs) => ResourceOptions::default().depends_on(&logs.bucket_policy),
            None => ResourceOptions::default(),
        };
        let load_balancer = me.add_with(
            "LoadBalancer",
            LoadBalancer {
                type_: Some(LoadBalancerType::Application.into()),
                scheme: Some(Scheme::InternetFacing.into()),
                subnets: Some(Value::Literal(
                    public.iter().map(|s| s.subnet_id()).collect(),
                )),
                security_groups: Some(Value::Literal(vec![lb_conn.security_group_id()])),
                load_balancer_attributes: Some(attributes),
                ..LoadBalancer::new()
            },
            lb_options,
        )?;
        let hc = &props.health_check;
        let target_group = me.add(
            "TargetGroup",
            TargetGroup {
                target_type: Some(TargetType::Ip.into()),
                protocol: Some(TargetProtocol::Http.into()),
                port: Some(i64::from(props.container_port).into()),
                vpc_id: Some(network.vpc_id()),
                health_check_enabled: Some(true.into()),
                health_check_path: Some(hc.path.clone().into()),
                health_check_interval_seconds: Some(i64::from(hc.interval_seconds).into()),
                health_check_timeout_seconds: Some(i64::from(hc.timeout_seconds).into()),
                healthy_threshold_count: Some(i64::from(hc.healthy_threshold).into()),
                unhealthy_threshold_count: Some(i64::from(hc.unhealthy_threshold).into()),
                matcher: Some(Matcher {
                    http_code: Some("200".into()),
                    ..Matcher::new()
                }),
                target_group_attributes: Some(vec![TargetGroupAttribute {
                    key: Some("deregistration_delay.timeout_seconds".into()),
                    value: Some("30".into()),
                }]),
                ..TargetGroup::new()
            },
        )?;
        let https = me.add(
            "HttpsListener",
            Listener {
                port: Some(443.into()),
                protocol: Some(ListenerProtocol::Https.into()),
                ssl_policy: Some(props.tls_policy.clone().into()),
                certificates: Some(vec![Certificate {
                    certificate_arn: Some(props.certificate.arn().clone()),
                }]),
                ..Listener::new(
                    load_balancer.ref_(),
                    vec![Action {
                        target_group_arn: Some(target_group.ref_()),
                        ..Action::new(ActionType::Forward)
                    }],
                )
            },
        )?;
        if props.allow_internet_ingress {
            me.add(
                "HttpListener",
                Listener {
                    port: Some(80.into()),
                    protocol: Some(ListenerProtocol::Http.into()),
                    ..Listener::new(
                        load_balancer.ref_(),
                        vec![Action {
                            redirect_config: Some(RedirectConfig {
                                protocol: Some("HTTPS".into()),
                                port: Some("443".into()),
                                ..RedirectConfig::new(StatusCode::Http301)
                            }),
                            ..Action::new(ActionType::Redirect)
                        }],
                    )
                },
            )?;
        }

        let min = props.scaling.min_capacity;
        let service = me.add_with(
            "Service",
            Service {
                service_name: Some(props.service_name.clone().into()),
                cluster: Some(cluster.ref_()),
                task_definition: Some(task_definition.ref_()),
                launch_type: Some(LaunchType::Fargate.into()),
                desired_count: Some(i64::from(min).into()),
                deployment_configuration: Some(DeploymentConfiguration {
                    deployment_circuit_breaker: Some(DeploymentCircuitBreaker::new(
                        DeploymentCircuitBreakerRequired {
                            enable: true.into(),
                            rollback: true.into(),
                        },
                    )),
                    minimum_healthy_percent: Some(100.into()),
                    maximum_percent: Some(200.into()),
                    ..DeploymentConfiguration::new()
                }),
                network_configuration: Some(NetworkConfiguration {
                    awsvpc_configuration: Some(AwsVpcConfiguration {
                        assign_public_ip: Some(AssignPublicIp::Disabled.into()),
                        subnets: Some(Value::Literal(
                            private.iter().map(|s| s.subnet_id()).collect(),
                        )),
                        security_groups: Some(Value::Literal(vec![svc_conn.security_group_id()])),
                    }),
                }),
                load_balancers: Some(vec![ServiceLoadBalancer {
                    container_name: Some(APP_CONTAINER.into()),
                    container_port: Some(i64::from(props.container_port).into()),
                    target_group_arn: Some(target_group.ref_()),
                    ..ServiceLoadBalancer::new()
                }]),
                health_check_grace_period_seconds: Some(60.into()),
                propagate_tags: Some(PropagateTags::Service.into()),
                enable_ecs_managed_tags: Some(true.into()),
                ..Service::new()
            },
            ResourceOptions::default().depends_on(&https),
        )?;

        {
            let mut scaling = me.child("Scaling")?;
            autoscaling::emit(
                &mut scaling,
                &props.scaling,
                ScalingTarget {
                    resource_id: Intrinsic::sub_with(
                        "service/${Cluster}/${Service}",
                        [
                            ("Cluster", cluster.ref_()),
                            ("Service", service.attr_name()),
                        ],
                    )
                    .into(),
                    target_group_full_name: target_group.attr_target_group_full_name(),
                    load_balancer_full_name: load_balancer.attr_load_balancer_full_name(),
                },
            )?;
        }

        me.add_output(
            "LoadBalancerDnsName",
            Output::new(
                format!("DNS name of the load balancer of {path}"),
                load_balancer.attr_dns_name(),
            ),
        )?;
        me.add_output(
            "RepositoryUri",
            Output::new(
                format!("Image repository of {path}"),
                repository.attr_repository_uri(),
            ),
        )?;
        me.add_output(
            "ClusterName",
            Output::new(format!("ECS cluster of {path}"), cluster.ref_()),
        )?;
        me.add_output(
            "ServiceName",
            Output::new(format!("ECS service of {path}"), service.attr_name()),
        )?;

        Ok(ApiService {
            path,
            cluster,
            service,
            repository,
            load_balancer,
            target_group,
            log_group,
            task_role,
            service_connections: svc_conn,
            load_balancer_connections: lb_conn,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The tasks' security group (default port: the container port): pass
    /// it to `database.connections().allow_default_port_from(…)`.
    pub fn connections(&self) -> &Connections {
        &self.service_connections
    }

    /// The load balancer's security group (default port 443).
    pub fn load_balancer_connections(&self) -> &Connections {
        &self.load_balancer_connections
    }

    /// The load balancer.
    pub fn load_balancer(&self) -> &Handle<LoadBalancer> {
        &self.load_balancer
    }

    /// The load balancer's DNS name (for CloudFront origins and aliases).
    pub fn load_balancer_dns_name(&self) -> Value<String> {
        self.load_balancer.attr_dns_name()
    }

    /// The load balancer's hosted zone (for Route 53 alias records).
    pub fn load_balancer_hosted_zone_id(&self) -> Value<String> {
        self.load_balancer.attr_canonical_hosted_zone_id()
    }

    /// The load balancer's full name (`app/…`), the `LoadBalancer`
    /// dimension of its CloudWatch metrics.
    pub fn load_balancer_full_name(&self) -> Value<String> {
        self.load_balancer.attr_load_balancer_full_name()
    }

    /// The target group's full name (`targetgroup/…`), the `TargetGroup`
    /// dimension of its CloudWatch metrics.
    pub fn target_group_full_name(&self) -> Value<String> {
        self.target_group.attr_target_group_full_name()
    }

    /// The ECS cluster's name (the `ClusterName` metric dimension).
    pub fn cluster_name(&self) -> Value<String> {
        self.cluster.ref_()
    }

    /// The ECS service's name (the `ServiceName` metric dimension).
    pub fn service_name(&self) -> Value<String> {
        self.service.attr_name()
    }

    /// The ECR repository.
    pub fn repository(&self) -> &Handle<Repository> {
        &self.repository
    }

    /// The container log group.
    pub fn log_group(&self) -> &Handle<LogGroup> {
        &self.log_group
    }

    /// The task role: the application's identity, which grants
    /// (`bucket.grant_read(&mut stack, &service)`) extend.
    pub fn task_role(&self) -> &Handle<crate::cfn::iam::Role> {
        &self.task_role
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::ScheduledScaling;
    use crate::prelude::*;
    use crate::schedule::Cron;
    use serde_json::json;

    fn props() -> ApiServiceProps {
        ApiServiceProps::new(
            "khs-crm-prod",
            "khs-crm-api",
            "khs-crm-api",
            CertificateRef::from_arn(
                "arn:aws:acm:us-east-1:111122223333:certificate/abc",
                "us-east-1",
                vec!["app.khscrm.com".into()],
            ),
        )
    }

    use crate::test_support::stack_with_network as setup;

    fn fails(p: ApiServiceProps) -> String {
        let (mut stack, network) = setup();
        ApiService::new(&mut stack, "Api", &network, p)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_are_the_seed_figures_and_secure() {
        let (mut stack, network) = setup();
        let secret = Secret::new(&mut stack, "Jwt", SecretProps::new("jwt")).unwrap();
        let mut p = props();
        p.environment.insert("NODE_ENV".into(), "production".into());
        p.secrets.push(ContainerSecret::new("JWT_SECRET", &secret));
        p.scaling.schedules = vec![ScheduledScaling {
            name: "scale-up-morning".into(),
            schedule: Cron::weekdays_at(6, 0).unwrap(),
            min_capacity: 4,
            max_capacity: 10,
        }];
        let api = ApiService::new(&mut stack, "Api", &network, p).unwrap();
        assert_eq!(api.connections().default_port(), Some(Port::tcp(3001)));
        let t = stack.synth().unwrap();
        let td = &t.resources["ApiTaskDefinition"].properties;
        assert_eq!(
            (td["Cpu"].clone(), td["Memory"].clone()),
            (json!("512"), json!("1024"))
        );
        let app = &td["ContainerDefinitions"][0];
        assert_eq!(app["User"], "1001");
        assert_eq!(app["ReadonlyRootFilesystem"], true);
        assert_eq!(app["PortMappings"][0]["ContainerPort"], 3001);
        assert_eq!(
            app["Secrets"][0],
            json!({"Name": "JWT_SECRET", "ValueFrom": {"Ref": "Jwt"}})
        );
        assert_eq!(app["Image"]["Fn::Sub"][0], "${Uri}:${Tag}");
        assert_eq!(td["ContainerDefinitions"][1]["Name"], "xray-daemon");
        let svc = &t.resources["ApiService"];
        assert_eq!(svc.depends_on, ["ApiHttpsListener"]);
        let sp = &svc.properties;
        assert_eq!(sp["ServiceName"], "khs-crm-api");
        assert_eq!(
            sp["DeploymentConfiguration"]["DeploymentCircuitBreaker"],
            json!({"Enable": true, "Rollback": true})
        );
        assert_eq!(sp["DeploymentConfiguration"]["MinimumHealthyPercent"], 100);
        assert_eq!(
            sp["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            "DISABLED"
        );
        assert_eq!(
            t.resources["ApiCluster"].properties["ClusterName"],
            "khs-crm-prod"
        );
        let tg = &t.resources["ApiTargetGroup"].properties;
        assert_eq!(tg["HealthCheckPath"], "/api/health");
        assert_eq!(tg["HealthCheckIntervalSeconds"], 30);
        assert_eq!(tg["TargetType"], "ip");
        let https = &t.resources["ApiHttpsListener"].properties;
        assert_eq!(https["SslPolicy"], DEFAULT_TLS_POLICY);
        let http = &t.resources["ApiHttpListener"].properties;
        assert_eq!(
            http["DefaultActions"][0]["RedirectConfig"]["StatusCode"],
            "HTTP_301"
        );
        let lg = &t.resources["ApiLogGroup"].properties;
        assert_eq!(lg["LogGroupName"], "/aws/ecs/khs-crm-api");
        assert_eq!(lg["RetentionInDays"], 30);
        let repo = &t.resources["ApiRepository"].properties;
        assert_eq!(repo["ImageTagMutability"], "IMMUTABLE");
        assert_eq!(repo["ImageScanningConfiguration"]["ScanOnPush"], true);
        // Only the listener ports are open to the internet.
        let open: Vec<&String> = t
            .resources
            .iter()
            .filter(|(_, r)| {
                r.properties.get("CidrIp") == Some(&json!("0.0.0.0/0"))
                    && r.type_name == "AWS::EC2::SecurityGroupIngress"
            })
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            open,
            [
                "ApiLoadBalancerSecurityGroupIngressFromInternetTcp443",
                "ApiLoadBalancerSecurityGroupIngressFromInternetTcp80"
            ]
        );
        // Scaling.
        let st = &t.resources["ApiScalingTarget"].properties;
        assert_eq!(
            (st["MinCapacity"].clone(), st["MaxCapacity"].clone()),
            (json!(2), json!(10))
        );
        assert_eq!(
            st["ScheduledActions"][0]["Schedule"],
            "cron(0 6 ? * MON-FRI *)"
        );
        let cpu = &t.resources["ApiScalingCpuTracking"].properties["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(cpu["TargetValue"], 70.0);
        assert_eq!(cpu["ScaleInCooldown"], 300);
        let steps =
            &t.resources["ApiScalingRequestSteps"].properties["StepScalingPolicyConfiguration"];
        assert_eq!(steps["AdjustmentType"], "PercentChangeInCapacity");
        assert_eq!(
            steps["StepAdjustments"][1],
            json!({"MetricIntervalLowerBound": 1000.0, "MetricIntervalUpperBound": 4000.0, "ScalingAdjustment": 50})
        );
        assert_eq!(
            t.resources["ApiScalingRequestStepsAlarm"].properties["Threshold"],
            1000.0
        );
        // Least privilege everywhere.
        assert_eq!(
            crate::iam::check_template(&serde_json::to_value(&t).unwrap()),
            Vec::<String>::new()
        );
        let exec = &t.resources["ApiExecutionRole"].properties["Policies"][0]["PolicyDocument"]["Statement"];
        assert!(
            exec.as_array()
                .unwrap()
                .iter()
                .any(|s| s["Action"] == "secretsmanager:GetSecretValue"
                    && s["Resource"] == json!({"Ref": "Jwt"}))
        );
        for o in [
            "ApiLoadBalancerDnsName",
            "ApiRepositoryUri",
            "ApiClusterName",
            "ApiServiceName",
        ] {
            assert!(t.outputs.contains_key(o), "{o}");
        }
        assert!(t.parameters.contains_key("ImageTag"));
    }

    #[test]
    fn without_internet_ingress_nothing_is_open_to_anywhere() {
        let (mut stack, network) = setup();
        ApiService::new(
            &mut stack,
            "Api",
            &network,
            ApiServiceProps {
                allow_internet_ingress: false,
                ..props()
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        let text = serde_json::to_string(&t).unwrap();
        assert!(!text.contains("IngressFromInternet"));
        assert!(!t.resources.contains_key("ApiHttpListener"));
    }

    fn with_logs_bucket(
        encryption: crate::storage::BucketEncryption,
        prefix: &str,
    ) -> (Stack, Result<ApiService>) {
        use crate::storage::{Bucket, BucketGrant, BucketProps};
        let (mut stack, network) = setup();
        let bucket = Bucket::new(
            &mut stack,
            "Logs",
            BucketProps {
                encryption,
                grants: vec![BucketGrant::LoadBalancerLogs {
                    prefix: "alb/".into(),
                }],
                ..BucketProps::default()
            },
        )
        .unwrap();
        let api = ApiService::new(
            &mut stack,
            "Api",
            &network,
            ApiServiceProps {
                access_logs: Some(AccessLogs {
                    bucket: bucket.reference(),
                    prefix: prefix.into(),
                    bucket_policy: bucket.policy().clone(),
                }),
                ..props()
            },
        );
        (stack, api)
    }

    #[test]
    fn access_logs_wait_for_the_bucket_policy() {
        let (stack, api) = with_logs_bucket(crate::storage::BucketEncryption::S3Managed, "alb");
        api.unwrap();
        let t = stack.synth().unwrap();
        let lb = &t.resources["ApiLoadBalancer"];
        assert_eq!(lb.depends_on.len(), 1);
        let attrs = lb.properties["LoadBalancerAttributes"].as_array().unwrap();
        assert!(attrs.contains(&json!({"Key": "access_logs.s3.prefix", "Value": "alb"})));
    }

    #[test]
    fn fails_when_access_logs_go_to_a_kms_bucket_or_a_slashed_prefix() {
        let (_, api) = with_logs_bucket(crate::storage::BucketEncryption::Kms { key: None }, "alb");
        let e = api.unwrap_err().to_string();
        assert!(
            e.starts_with("khs/Api: access_logs.bucket must be encrypted with SSE-S3"),
            "{e}"
        );
        let (_, api) = with_logs_bucket(crate::storage::BucketEncryption::S3Managed, "alb/");
        let e = api.unwrap_err().to_string();
        assert!(
            e.starts_with("khs/Api: access_logs.prefix must not start or end with '/'"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_fargate_cpu_memory_pair_is_invalid() {
        let e = fails(ApiServiceProps {
            memory_mib: 512,
            ..props()
        });
        assert_eq!(
            e,
            "khs/Api: memory_mib must be a size Fargate allows with cpu 512: [1024, 2048, 3072, 4096] MiB, got 512"
        );
        let e = fails(ApiServiceProps {
            cpu: 300,
            ..props()
        });
        assert!(
            e.starts_with("khs/Api: cpu must be a Fargate CPU size"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_health_check_path_lacks_a_slash() {
        let mut p = props();
        p.health_check.path = "api/health".into();
        assert_eq!(
            fails(p),
            "khs/Api: health_check.path must start with \"/\", got \"api/health\""
        );
    }

    #[test]
    fn fails_when_the_health_check_timeout_is_not_below_the_interval() {
        let mut p = props();
        p.health_check.timeout_seconds = 30;
        assert!(fails(p).starts_with("khs/Api: health_check.timeout_seconds must be 2..=120 and less than interval_seconds (30), got 30"));
    }

    #[test]
    fn fails_when_the_container_runs_as_root() {
        let e = fails(ApiServiceProps {
            user: "0:0".into(),
            ..props()
        });
        assert!(
            e.starts_with("khs/Api: user must name a non-root user"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_secret_is_passed_as_plain_environment() {
        let mut p = props();
        p.environment.insert("DB_PASSWORD".into(), "hunter2".into());
        let e = fails(p);
        assert!(
            e.starts_with("khs/Api: environment must not carry secrets, got \"DB_PASSWORD\""),
            "{e}"
        );
    }

    #[test]
    fn fails_when_log_retention_is_not_a_cloudwatch_value() {
        let e = fails(ApiServiceProps {
            log_retention_days: 31,
            ..props()
        });
        assert!(
            e.starts_with("khs/Api: log_retention_days must be one of"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_repository_name_has_capitals() {
        let e = fails(ApiServiceProps {
            repository_name: "KHS".into(),
            ..props()
        });
        assert!(e.starts_with("khs/Api: repository_name must be"), "{e}");
    }

    #[test]
    fn fails_when_scaling_is_invalid() {
        let mut p = props();
        p.scaling.min_capacity = 0;
        assert!(fails(p).starts_with("khs/Api: scaling.min_capacity"));
    }

    #[test]
    fn fails_when_the_certificate_is_in_another_region() {
        let e = fails(ApiServiceProps {
            certificate: CertificateRef::from_arn(
                "arn:aws:acm:eu-west-1:1:certificate/x",
                "eu-west-1",
                vec![],
            ),
            ..props()
        });
        assert!(
            e.starts_with("khs/Api: certificate must be in the stack's region us-east-1"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_names_counts_or_thresholds_are_invalid() {
        let cases: Vec<(ApiServiceProps, &str)> = vec![
            (
                ApiServiceProps {
                    cluster_name: "khs crm".into(),
                    ..props()
                },
                "khs/Api: cluster_name must be 1..=255 of A-Z a-z 0-9 - _",
            ),
            (
                ApiServiceProps {
                    container_port: 0,
                    ..props()
                },
                "khs/Api: container_port must be 1..=65535, got 0",
            ),
            (
                ApiServiceProps {
                    keep_images: 0,
                    ..props()
                },
                "khs/Api: keep_images must be at least 1, got 0",
            ),
            (
                ApiServiceProps {
                    health_check: HealthCheck {
                        interval_seconds: 400,
                        ..HealthCheck::default()
                    },
                    ..props()
                },
                "khs/Api: health_check.interval_seconds must be 5..=300, got 400",
            ),
            (
                ApiServiceProps {
                    health_check: HealthCheck {
                        healthy_threshold: 1,
                        ..HealthCheck::default()
                    },
                    ..props()
                },
                "khs/Api: health_check.healthy_threshold must be 2..=10, got 1",
            ),
        ];
        for (p, want) in cases {
            let e = fails(p);
            assert!(e.starts_with(want), "{e}");
        }
    }

    #[test]
    fn fails_when_a_secret_name_is_used_twice() {
        let (mut stack, network) = setup();
        let secret = Secret::new(&mut stack, "Jwt", SecretProps::new("jwt")).unwrap();
        let mut p = props();
        p.environment.insert("JWT_KEY_ID".into(), "1".into());
        p.secrets = vec![ContainerSecret::new("JWT_KEY_ID", &secret)];
        let e = ApiService::new(&mut stack, "Api", &network, p)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Api: secrets names must be valid variable names not used twice"),
            "{e}"
        );
    }

    #[test]
    fn fargate_pairs_cover_the_documented_table() {
        assert_eq!(fargate_memory_options(256).unwrap(), [512, 1024, 2048]);
        assert!(fargate_memory_options(4096).unwrap().contains(&30720));
        assert_eq!(fargate_memory_options(8192).unwrap()[1], 20480);
        assert!(fargate_memory_options(100).is_none());
    }
}
