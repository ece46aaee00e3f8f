//! `ApiService`: the pattern of an HTTPS API on ECS Fargate behind its own
//! Application Load Balancer, with its image repository, logs, tracing and
//! autoscaling: a [`FargateService`] and a [`LoadBalancer`] built together
//! (with one target group, so the request-count steps of
//! [`ScalingProps`] can scale it).
//!
//! Emits, below the construct's path:
//! - `Key`: a customer managed KMS key (rotation on) for the log group and
//!   the repository, usable by CloudWatch Logs, unless one is given;
//! - `Repository`: the ECR repository ([`ImageRepository`]'s defaults);
//! - the template parameter with the image tag to run, named
//!   `<logical id>ImageTag` (`ApiImageTag` for id `Api`) unless
//!   [`ApiServiceProps::image_tag_parameter`] names it;
//! - `Cluster` (Container Insights on; the capacity providers when the
//!   capacity strategy uses Spot), `LogGroup` (`/aws/ecs/<service>`,
//!   retention, KMS), `ExecutionRole`, `TaskRole`, `TaskDefinition`: see
//!   [`crate::compute::task`] (the X-Ray sidecar is on by default here);
//! - `LoadBalancerSecurityGroup` (443 from the internet unless
//!   `allow_internet_ingress` is off, 80 with `http_redirect`; egress only to
//!   the service's port), `ServiceSecurityGroup` (the container port from
//!   the load balancer only; egress HTTPS to AWS APIs plus whatever
//!   [`Connections::allow_from`] adds, such as PostgreSQL and Redis);
//! - `LoadBalancer` (internet-facing, public subnets, invalid headers
//!   dropped, deletion protection), `TargetGroup` (IP targets, health check),
//!   `HttpsListener` (the certificate, a TLS 1.3/1.2 policy) and, with
//!   `http_redirect`, `HttpListener` (301 to HTTPS);
//! - with [`DeploymentStrategy::BlueGreen`]: `TargetGroupGreen`,
//!   `ProductionRule` (the listener rule ECS switches) and `DeploymentRole`;
//! - `Service`: in the private subnets without public IPs, rolling
//!   deployments with the circuit breaker and rollback (or blue/green);
//! - `Scaling/…`: see [`crate::compute::autoscaling`];
//! - outputs `LoadBalancerDnsName`, `RepositoryUri`, `ClusterName`,
//!   `ServiceName`.
//!
//! [`FargateService`]: crate::compute::FargateService
//! [`LoadBalancer`]: crate::compute::LoadBalancer
//! [`ImageRepository`]: crate::compute::ImageRepository

use crate::cfn::attributes::*;
use std::collections::BTreeMap;

use crate::cfn::ecr::Repository;
use crate::cfn::ecs::service::{AdvancedConfiguration, LoadBalancer as ServiceLoadBalancer};
use crate::cfn::ecs::{Cluster as CfnCluster, Service};
use crate::cfn::elasticloadbalancingv2::Listener;
use crate::cfn::elasticloadbalancingv2::listener::{Action, Type as ActionType};
use crate::cfn::elasticloadbalancingv2::{LoadBalancer, TargetGroup};
use crate::cfn::logs::LogGroup;
use crate::compute::autoscaling::{self, ScalingProps, ScalingTarget};
use crate::compute::cluster::{Cluster, emit_cluster, is_name};
use crate::compute::fargate_service::{
    CapacityStrategy, DeploymentStrategy, FargateService, ServiceSpec, allow_aws_apis,
    check_egress_path, emit_service,
};
use crate::compute::load_balancer::{
    AccessLogs, DEFAULT_TLS_POLICY, HealthCheck, LoadBalancerSpec, check_redirect_admitted,
    emit_https_listener, emit_listener_rule, emit_load_balancer, emit_redirect_listener,
    emit_target_group, validate_access_logs, validate_certificate,
};
use crate::compute::task::{
    self, APP_CONTAINER, ContainerImage, ContainerProps, ContainerSecret, RepositoryRef, TaskSpec,
    emit_repository, validate_repository_name,
};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::template::Output;
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::dns::CertificateRef;
use crate::network::vpc::{Network, SubnetKind};
use crate::ops::monitoring::{LoadBalancerMetrics, ServiceMetrics};
use crate::security::kms::EncryptionKey;

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
    /// The name of the template parameter holding the image tag.
    ///
    /// Default: - `<logical id of the construct>ImageTag`.
    pub image_tag_parameter: Option<String>,
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
    /// Default: `8080`.
    pub container_port: u16,
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
    /// Default: `true`.
    pub tracing: bool,
    /// The target group's health check.
    ///
    /// Default: - `/` every 30 s ([`HealthCheck::default`]).
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
    /// Open the HTTPS listener (443) to the internet. Turn it off when only
    /// CloudFront may reach the load balancer
    /// (`cdn::ApiOrigin::restrict_to_cloudfront` then opens 443 to
    /// CloudFront's origin-facing prefix list).
    ///
    /// Default: `true`.
    pub allow_internet_ingress: bool,
    /// An HTTP listener on port 80 answering `301` to HTTPS, open to the
    /// internet. Needs `allow_internet_ingress` and a network whose public
    /// ACL admits port 80 (`NetworkProps::public_ingress_ports`).
    ///
    /// Default: `false`.
    pub http_redirect: bool,
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
    /// Default: - 2..=10 tasks, CPU 70 %, memory 80 %
    /// ([`ScalingProps::default`]).
    pub scaling: ScalingProps,
    /// On-demand, Spot or both.
    ///
    /// Default: [`CapacityStrategy::OnDemand`].
    pub capacity: CapacityStrategy,
    /// Rolling or blue/green.
    ///
    /// Default: [`DeploymentStrategy::Rolling`].
    pub deployment: DeploymentStrategy,
    /// The KMS key for the log group and the repository (it must let
    /// CloudWatch Logs use it, see
    /// [`EncryptionKeyProps::allow_cloudwatch_logs`](crate::security::EncryptionKeyProps::allow_cloudwatch_logs)).
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
            image_tag_parameter: None,
            cpu: 512,
            memory_mib: 1024,
            container_port: 8080,
            user: "1000".to_string(),
            readonly_root_filesystem: true,
            environment: BTreeMap::new(),
            secrets: Vec::new(),
            tracing: true,
            health_check: HealthCheck::default(),
            log_retention_days: 30,
            log_group_name: None,
            tls_policy: DEFAULT_TLS_POLICY.to_string(),
            allow_internet_ingress: true,
            http_redirect: false,
            deletion_protection: true,
            access_logs: None,
            keep_images: 50,
            scaling: ScalingProps::default(),
            capacity: CapacityStrategy::OnDemand,
            deployment: DeploymentStrategy::Rolling,
            encryption_key: None,
        }
    }

    fn container(&self, image: ContainerImage) -> ContainerProps {
        ContainerProps {
            image,
            cpu: self.cpu,
            memory_mib: self.memory_mib,
            port: Some(self.container_port),
            command: Vec::new(),
            user: self.user.clone(),
            readonly_root_filesystem: self.readonly_root_filesystem,
            environment: self.environment.clone(),
            secrets: self.secrets.clone(),
            tracing: self.tracing,
            log_retention_days: self.log_retention_days,
            log_group_name: None,
            encryption_key: self.encryption_key.clone(),
        }
    }
}

/// An API on ECS Fargate behind an Application Load Balancer; see the module
/// docs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiService {
    path: ConstructPath,
    cluster: Cluster,
    service: FargateService,
    repository: Handle<Repository>,
    load_balancer: Handle<LoadBalancer>,
    target_group: Handle<TargetGroup>,
    load_balancer_connections: Connections,
}

fn validate(path: &ConstructPath, region: &str, p: &ApiServiceProps) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    validate_certificate(path, region, &p.certificate)?;
    if let Some(logs) = &p.access_logs {
        validate_access_logs(path, logs)?;
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
    validate_repository_name(path, "repository_name", &p.repository_name)?;
    task::check_size(path, p.cpu, p.memory_mib)?;
    if p.container_port == 0 {
        return Err(err(
            "container_port",
            "must be 1..=65535, got 0".to_string(),
        ));
    }
    task::check_user(path, &p.user)?;
    p.health_check.validate(path, "health_check")?;
    task::check_retention(path, p.log_retention_days)?;
    task::check_environment(path, &p.environment, &p.secrets)?;
    if p.keep_images == 0 {
        return Err(err("keep_images", "must be at least 1, got 0".to_string()));
    }
    if p.http_redirect && !p.allow_internet_ingress {
        return Err(err(
            "http_redirect",
            "needs allow_internet_ingress (the redirect listener is for browsers on the internet), got allow_internet_ingress: false".to_string(),
        ));
    }
    p.capacity.validate(path)?;
    p.deployment.validate(path)?;
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
        if props.http_redirect {
            check_redirect_admitted(&path, network)?;
        }
        check_egress_path(&path, network, !props.secrets.is_empty(), props.tracing)?;

        let key = task::log_key(&mut me, props.encryption_key.as_ref())?;
        let repository = emit_repository(
            &mut me,
            Some(&props.repository_name),
            props.keep_images,
            &key,
        )?;
        let image = ContainerImage::Repository {
            repository: RepositoryRef::from_handle(&repository, &props.repository_name),
            tag_parameter: props.image_tag_parameter.clone(),
        };
        let (image, repository_arn) = task::resolve_image(&mut me, &image)?;
        let spot = props.capacity.uses_spot();
        let cluster = emit_cluster(
            &mut me,
            Some(&props.cluster_name),
            true,
            spot.then_some(&["FARGATE", "FARGATE_SPOT"][..]),
        )?;

        let container = props.container(ContainerImage::Uri(image.clone()));
        let parts = task::emit_task(
            &mut me,
            TaskSpec {
                family: Some(props.service_name.clone()),
                container: &container,
                log_group_name: Some(
                    props
                        .log_group_name
                        .clone()
                        .unwrap_or_else(|| format!("/aws/ecs/{}", props.service_name)),
                ),
                exec: false,
                key: &key,
            },
            image,
            repository_arn,
        )?;

        let (lb_conn, svc_conn) = security_groups(&mut me, network, &props)?;

        let Front {
            load_balancer,
            target_group,
            https,
        } = front(&mut me, network, &props, &lb_conn)?;

        // Blue/green: a second target group, the rule ECS switches, and the
        // role it switches it with.
        let options = ResourceOptions::default().depends_on(&https);
        let mut service_lb = ServiceLoadBalancer {
            container_name: Some(APP_CONTAINER.into()),
            container_port: Some(i64::from(props.container_port).into()),
            target_group_arn: Some(target_group.ref_()),
            ..ServiceLoadBalancer::new()
        };
        if matches!(props.deployment, DeploymentStrategy::BlueGreen { .. }) {
            service_lb.advanced_configuration =
                Some(blue_green(&mut me, network, &props, &https, &target_group)?);
        }
        let service = emit_service(
            &mut me,
            ServiceSpec {
                service_name: Some(props.service_name.clone()),
                cluster: cluster.ref_(),
                task_definition: parts.task_definition.ref_(),
                desired_count: props.scaling.min_capacity,
                network,
                security_group: svc_conn.security_group_id(),
                load_balancers: Some(vec![service_lb]),
                health_check_grace_period_seconds: Some(60),
                capacity: props.capacity,
                deployment: &props.deployment,
                enable_exec: false,
                options,
            },
        )?;

        scale(
            &mut me,
            &props,
            &cluster,
            &service,
            &target_group,
            &load_balancer,
        )?;

        outputs(&mut me, &load_balancer, &repository, &cluster, &service)?;

        let cluster = Cluster::from_parts(path.clone(), cluster, network, spot);
        let service = FargateService::from_parts(
            path.clone(),
            service,
            parts,
            svc_conn,
            &cluster,
            Some(props.container_port),
            matches!(props.deployment, DeploymentStrategy::BlueGreen { .. }),
        );
        Ok(ApiService {
            path,
            cluster,
            service,
            repository,
            load_balancer,
            target_group,
            load_balancer_connections: lb_conn,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The Fargate service of the pattern.
    pub fn service(&self) -> &FargateService {
        &self.service
    }

    /// The cluster of the pattern (its own).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The tasks' security group (default port: the container port): pass
    /// it to `database.connections().allow_default_port_from(…)`.
    pub fn connections(&self) -> &Connections {
        self.service.connections()
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
        self.cluster.cluster_name()
    }

    /// The ECS service's name (the `ServiceName` metric dimension).
    pub fn service_name(&self) -> Value<String> {
        self.service.service_name()
    }

    /// The ECR repository.
    pub fn repository(&self) -> &Handle<Repository> {
        &self.repository
    }

    /// The container log group.
    pub fn log_group(&self) -> &Handle<LogGroup> {
        self.service.log_group()
    }

    /// The load balancer and target group metrics.
    pub fn load_balancer_metrics(&self) -> LoadBalancerMetrics {
        LoadBalancerMetrics {
            load_balancer_full_name: self.load_balancer_full_name(),
            target_group_full_name: self.target_group_full_name(),
        }
    }

    /// The service's metrics.
    pub fn service_metrics(&self) -> ServiceMetrics {
        self.service.metrics()
    }
}

/// The two security groups: internet → load balancer (443, and 80 for the
/// redirect) → service (the container port), the tasks also reaching the
/// AWS APIs.
fn security_groups(
    me: &mut Scope<'_>,
    network: &Network,
    props: &ApiServiceProps,
) -> Result<(Connections, Connections)> {
    let path = me.path().clone();
    let port = Port::tcp(props.container_port);
    let lb_conn = Connections::new_security_group(
        me,
        "LoadBalancerSecurityGroup",
        network.vpc_id(),
        &format!("{path}: public HTTPS load balancer"),
        Some(Port::tcp(443)),
        Egress::Restricted,
    )?;
    if props.allow_internet_ingress {
        lb_conn.allow_listener_from_internet(me, Port::tcp(443))?;
        if props.http_redirect {
            lb_conn.allow_listener_from_internet(me, Port::tcp(80))?;
        }
    }
    let svc_conn = Connections::new_security_group(
        me,
        "ServiceSecurityGroup",
        network.vpc_id(),
        &format!("{path}: API tasks"),
        Some(port),
        Egress::Restricted,
    )?;
    svc_conn.allow_from(me, &lb_conn, port)?;
    allow_aws_apis(me, &svc_conn)?;
    Ok((lb_conn, svc_conn))
}

/// The load balancer, its target group and listeners.
struct Front {
    load_balancer: Handle<LoadBalancer>,
    target_group: Handle<TargetGroup>,
    https: Handle<Listener>,
}

/// The internet-facing load balancer in the public subnets, the target
/// group, the HTTPS listener forwarding to it and the optional redirect.
fn front(
    me: &mut Scope<'_>,
    network: &Network,
    props: &ApiServiceProps,
    lb_conn: &Connections,
) -> Result<Front> {
    let public = network.subnets(SubnetKind::Public);
    let load_balancer = emit_load_balancer(
        me,
        LoadBalancerSpec {
            internet_facing: true,
            deletion_protection: props.deletion_protection,
            access_logs: props.access_logs.as_ref(),
            subnets: public.iter().map(|s| s.subnet_id()).collect(),
            security_group: lb_conn.security_group_id(),
        },
    )?;
    let target_group = emit_target_group(
        me,
        "TargetGroup",
        network.vpc_id(),
        props.container_port,
        &props.health_check,
        30,
    )?;
    let https = emit_https_listener(
        me,
        &load_balancer,
        &props.certificate,
        &props.tls_policy,
        Action {
            target_group_arn: Some(target_group.ref_()),
            ..Action::new(ActionType::Forward)
        },
    )?;
    if props.http_redirect {
        emit_redirect_listener(me, &load_balancer)?;
    }
    Ok(Front {
        load_balancer,
        target_group,
        https,
    })
}

/// Target tracking on CPU, memory and requests per target, under
/// `scope/Scaling`.
fn scale(
    me: &mut Scope<'_>,
    props: &ApiServiceProps,
    cluster: &Handle<CfnCluster>,
    service: &Handle<Service>,
    target_group: &Handle<TargetGroup>,
    load_balancer: &Handle<LoadBalancer>,
) -> Result<()> {
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
    Ok(())
}

/// The blue/green parts of an [`ApiService`]: the green target group, the
/// production rule ECS switches (priority 1, `/*`, weights 100/0; the
/// service references it, so it waits for it) and the role ECS switches it
/// with.
fn blue_green(
    me: &mut Scope<'_>,
    network: &Network,
    props: &ApiServiceProps,
    https: &Handle<Listener>,
    target_group: &Handle<TargetGroup>,
) -> Result<AdvancedConfiguration> {
    let green = emit_target_group(
        me,
        "TargetGroupGreen",
        network.vpc_id(),
        props.container_port,
        &props.health_check,
        30,
    )?;
    let rule = emit_listener_rule(
        me,
        "ProductionRule",
        https.ref_(),
        1,
        &[],
        &[],
        &[(target_group, 100), (&green, 0)],
    )?;
    let service_path = me.path().clone();
    let role = super::fargate_service::blue_green_role(me, "DeploymentRole", &service_path)?;
    Ok(AdvancedConfiguration {
        production_listener_rule: Some(rule.ref_()),
        role_arn: Some(role.attr_arn()),
        ..AdvancedConfiguration::new(green.ref_())
    })
}

/// The outputs of an [`ApiService`]: load balancer DNS name, repository URI,
/// cluster and service names.
fn outputs(
    me: &mut Scope<'_>,
    load_balancer: &Handle<LoadBalancer>,
    repository: &Handle<Repository>,
    cluster: &Handle<CfnCluster>,
    service: &Handle<Service>,
) -> Result<()> {
    let path = me.path().clone();
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::autoscaling::ScheduledScaling;
    use crate::ops::schedule::Cron;
    use crate::prelude::*;
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
    fn defaults_are_general_and_secure() {
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
        assert_eq!(api.connections().default_port(), Some(Port::tcp(8080)));
        let t = stack.synth().unwrap();
        let td = &t.resources["ApiTaskDefinition"].properties;
        assert_eq!(
            (td["Cpu"].clone(), td["Memory"].clone()),
            (json!("512"), json!("1024"))
        );
        let app = &td["ContainerDefinitions"][0];
        assert_eq!(app["User"], "1000");
        assert_eq!(app["ReadonlyRootFilesystem"], true);
        assert_eq!(app["PortMappings"][0]["ContainerPort"], 8080);
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
        assert_eq!(tg["HealthCheckPath"], "/");
        assert_eq!(tg["HealthCheckIntervalSeconds"], 30);
        assert_eq!(tg["TargetType"], "ip");
        let https = &t.resources["ApiHttpsListener"].properties;
        assert_eq!(https["SslPolicy"], DEFAULT_TLS_POLICY);
        // No redirect listener unless asked (the default network ACL admits
        // only 443).
        assert!(!t.resources.contains_key("ApiHttpListener"));
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
            ["ApiLoadBalancerSecurityGroupIngressFromInternetTcp443"]
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
        // Request steps only when asked.
        assert!(!t.resources.contains_key("ApiScalingRequestSteps"));
        // Least privilege everywhere.
        assert_eq!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()),
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
        // The tag parameter is named after the construct path.
        assert!(t.parameters.contains_key("ApiImageTag"));
    }

    #[test]
    fn two_api_services_fit_in_one_stack() {
        let (mut stack, network) = setup();
        for (id, name) in [("Orders", "orders"), ("Billing", "billing")] {
            ApiService::new(
                &mut stack,
                id,
                &network,
                ApiServiceProps::new(name, name, name, props().certificate),
            )
            .unwrap();
        }
        let t = stack.synth().unwrap();
        for p in ["OrdersImageTag", "BillingImageTag"] {
            assert!(t.parameters.contains_key(p), "{p}");
        }
        for o in ["OrdersLoadBalancerDnsName", "BillingLoadBalancerDnsName"] {
            assert!(t.outputs.contains_key(o), "{o}");
        }
    }

    #[test]
    fn blue_green_adds_the_green_target_group_rule_and_role() {
        let (mut stack, network) = setup();
        ApiService::new(
            &mut stack,
            "Api",
            &network,
            ApiServiceProps {
                deployment: DeploymentStrategy::BlueGreen {
                    bake_time_minutes: 10,
                    rollback_alarm_names: vec!["api-5xx".into()],
                },
                ..props()
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        let svc = &t.resources["ApiService"];
        assert_eq!(svc.depends_on, ["ApiHttpsListener"]);
        let adv = &svc.properties["LoadBalancers"][0]["AdvancedConfiguration"];
        assert_eq!(
            adv["AlternateTargetGroupArn"],
            json!({"Ref": "ApiTargetGroupGreen"})
        );
        assert_eq!(
            adv["RoleArn"],
            json!({"Fn::GetAtt": ["ApiDeploymentRole", "Arn"]})
        );
        assert_eq!(
            svc.properties["DeploymentConfiguration"]["Strategy"],
            "BLUE_GREEN"
        );
    }

    #[test]
    fn fails_when_the_redirect_is_blocked_by_the_network_acl() {
        let e = fails(ApiServiceProps {
            http_redirect: true,
            ..props()
        });
        assert!(
            e.starts_with("khs/Api: http_redirect needs port 80 from the internet, but the public network ACL of khs/Network admits only [443]"),
            "{e}"
        );
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
        encryption: crate::storage::bucket::BucketEncryption,
        prefix: &str,
    ) -> (Stack, Result<ApiService>) {
        use crate::storage::bucket::{Bucket, BucketGrant, BucketProps};
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
        let (stack, api) =
            with_logs_bucket(crate::storage::bucket::BucketEncryption::S3Managed, "alb");
        api.unwrap();
        let t = stack.synth().unwrap();
        let lb = &t.resources["ApiLoadBalancer"];
        assert_eq!(lb.depends_on.len(), 1);
        let attrs = lb.properties["LoadBalancerAttributes"].as_array().unwrap();
        assert!(attrs.contains(&json!({"Key": "access_logs.s3.prefix", "Value": "alb"})));
    }

    #[test]
    fn fails_when_access_logs_go_to_a_kms_bucket_or_a_slashed_prefix() {
        let (_, api) = with_logs_bucket(
            crate::storage::bucket::BucketEncryption::Kms { key: None },
            "alb",
        );
        let e = api.unwrap_err().to_string();
        assert!(
            e.starts_with("khs/Api: access_logs.bucket must be encrypted with SSE-S3"),
            "{e}"
        );
        let (_, api) =
            with_logs_bucket(crate::storage::bucket::BucketEncryption::S3Managed, "alb/");
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
}
