//! `FargateService`: an ECS service on Fargate, the base of every service,
//! with no load balancer of its own (a background worker as it is; put it
//! behind a shared [`LoadBalancer`](crate::compute::LoadBalancer) with [`LoadBalancer::add_target`](crate::compute::LoadBalancer::add_target)).
//!
//! Emits, below the construct's path:
//! - `Key` (unless one is given), `LogGroup`, `ExecutionRole`, `TaskRole`,
//!   `TaskDefinition`: see [`crate::compute::task`];
//! - the image tag parameter `<logical id>ImageTag` for a repository image;
//! - `SecurityGroup`: no ingress (other constructs open it with
//!   [`Connections::allow_from`]), egress HTTPS to AWS APIs plus whatever
//!   `allow_from` adds on the other side (PostgreSQL, Redis, …);
//! - `Service`: on the [`Cluster`], in the private subnets without public
//!   IPs, with the capacity strategy (on-demand `FARGATE`, `FARGATE_SPOT`,
//!   or a mix) and the deployment strategy (rolling with the circuit
//!   breaker and rollback, or ECS blue/green with a bake time and the
//!   alarms that roll it back), ECS managed tags, optional ECS Exec;
//! - `Scaling/…` with [`FargateServiceProps::scaling`]: see
//!   [`crate::compute::autoscaling`] (request-count steps need a target
//!   group, so they are for [`ApiService`](crate::compute::ApiService)).
//!
//! Checks across constructs: a service in private subnets needs a way to
//! pull its image and reach AWS APIs, so a network without NAT gateways is
//! an error naming the network; Spot needs a cluster with `FARGATE_SPOT`.

use crate::cfn::attributes::*;
use crate::cfn::ecs::Service;
use crate::cfn::ecs::service::DeploymentAlarmsRequired;
use crate::cfn::ecs::service::DeploymentCircuitBreakerRequired;
use crate::cfn::ecs::service::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, DeploymentAlarms,
    DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType, NetworkConfiguration,
    PropagateTags, Strategy,
};
use crate::cfn::iam::Role;
use crate::compute::autoscaling::{self, ScalingProps, ScalingTarget};
use crate::compute::cluster::{Cluster, is_name};
use crate::compute::task::{self, ContainerProps, TaskSpec};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::vpc::{NatGateways, Network};
use crate::ops::monitoring::ServiceMetrics;
use crate::security::iam::{RoleProps, aws_managed_policy_arn, create_role};

/// Where a service's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapacityStrategy {
    /// On-demand Fargate (`LaunchType: FARGATE`).
    #[default]
    OnDemand,
    /// Fargate Spot only: up to 70 % cheaper, tasks may be stopped with two
    /// minutes' notice. For work that tolerates interruption.
    Spot,
    /// `on_demand_base` tasks on demand, the rest split between on-demand
    /// and Spot by weight.
    Mixed {
        /// Tasks that always run on demand.
        on_demand_base: u32,
        /// Weight of on-demand beyond the base.
        on_demand_weight: u32,
        /// Weight of Spot beyond the base.
        spot_weight: u32,
    },
}

impl CapacityStrategy {
    pub(crate) fn uses_spot(&self) -> bool {
        match self {
            CapacityStrategy::OnDemand => false,
            CapacityStrategy::Spot => true,
            CapacityStrategy::Mixed { spot_weight, .. } => *spot_weight > 0,
        }
    }

    /// The capacity providers as `(provider, base, weight)`; `None` for the
    /// `FARGATE` launch type.
    pub(crate) fn providers(&self) -> Option<Vec<(&'static str, Option<u32>, u32)>> {
        match *self {
            CapacityStrategy::OnDemand => None,
            CapacityStrategy::Spot => Some(vec![("FARGATE_SPOT", None, 1)]),
            CapacityStrategy::Mixed {
                on_demand_base,
                on_demand_weight,
                spot_weight,
            } => Some(vec![
                ("FARGATE", Some(on_demand_base), on_demand_weight),
                ("FARGATE_SPOT", None, spot_weight),
            ]),
        }
    }

    /// The service's `LaunchType` and `CapacityProviderStrategy`.
    pub(crate) fn service_properties(
        &self,
    ) -> (
        Option<Value<LaunchType>>,
        Option<Vec<CapacityProviderStrategyItem>>,
    ) {
        match self.providers() {
            None => (Some(LaunchType::Fargate.into()), None),
            Some(items) => (
                None,
                Some(
                    items
                        .into_iter()
                        .map(|(provider, base, weight)| CapacityProviderStrategyItem {
                            capacity_provider: Some(provider.into()),
                            base: base.map(|b| i64::from(b).into()),
                            weight: Some(i64::from(weight).into()),
                        })
                        .collect(),
                ),
            ),
        }
    }

    pub(crate) fn validate(&self, path: &ConstructPath) -> Result<()> {
        if let CapacityStrategy::Mixed {
            on_demand_weight,
            spot_weight,
            ..
        } = self
        {
            if on_demand_weight + spot_weight == 0 {
                return Err(Error::invalid_prop(
                    path,
                    "capacity",
                    "must give on-demand or Spot a positive weight, got both 0",
                ));
            }
        }
        Ok(())
    }
}

/// How a new version replaces the running one.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DeploymentStrategy {
    /// Rolling replacement (100 % healthy minimum, 200 % maximum) with the
    /// deployment circuit breaker rolling back a failing deployment.
    #[default]
    Rolling,
    /// ECS blue/green: the new tasks start in a second target group, the
    /// listener rule switches to them, and after `bake_time_minutes` the old
    /// ones stop; an alarm of `rollback_alarm_names` going off during the
    /// deployment or the bake time switches back. Needs a load balancer
    /// target ([`LoadBalancer::add_target`](crate::compute::LoadBalancer::add_target) adds the second target group
    /// and the role ECS uses on the load balancer).
    BlueGreen {
        /// Minutes both versions stay up after the switch (0..=1440).
        bake_time_minutes: u32,
        /// Names of CloudWatch alarms (`Alarm::alarm_name`) that roll the
        /// deployment back. Alarms on the target group or the load balancer,
        /// not on this service's own name (that would be a dependency
        /// cycle).
        rollback_alarm_names: Vec<Value<String>>,
    },
}

impl DeploymentStrategy {
    /// The service's `DeploymentConfiguration`.
    pub(crate) fn configuration(&self) -> DeploymentConfiguration {
        match self {
            DeploymentStrategy::Rolling => DeploymentConfiguration {
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker::new(
                    DeploymentCircuitBreakerRequired {
                        enable: true.into(),
                        rollback: true.into(),
                    },
                )),
                minimum_healthy_percent: Some(100.into()),
                maximum_percent: Some(200.into()),
                ..DeploymentConfiguration::new()
            },
            DeploymentStrategy::BlueGreen {
                bake_time_minutes,
                rollback_alarm_names,
            } => DeploymentConfiguration {
                strategy: Some(Strategy::BlueGreen.into()),
                bake_time_in_minutes: Some(i64::from(*bake_time_minutes).into()),
                alarms: (!rollback_alarm_names.is_empty()).then(|| {
                    DeploymentAlarms::new(DeploymentAlarmsRequired {
                        alarm_names: Value::Literal(rollback_alarm_names.clone()),
                        enable: true.into(),
                        rollback: true.into(),
                    })
                }),
                minimum_healthy_percent: Some(100.into()),
                maximum_percent: Some(200.into()),
                ..DeploymentConfiguration::new()
            },
        }
    }

    pub(crate) fn validate(&self, path: &ConstructPath) -> Result<()> {
        if let DeploymentStrategy::BlueGreen {
            bake_time_minutes, ..
        } = self
        {
            if *bake_time_minutes > 1440 {
                return Err(Error::invalid_prop(
                    path,
                    "deployment.bake_time_minutes",
                    format!("must be 0..=1440, got {bake_time_minutes}"),
                ));
            }
        }
        Ok(())
    }
}

/// Props of a [`FargateService`].
#[derive(Debug, Clone, PartialEq)]
pub struct FargateServiceProps {
    /// The application container.
    pub container: ContainerProps,
    /// The service's name (1..=255 of `A-Z a-z 0-9 - _`).
    ///
    /// Default: - a name CloudFormation generates.
    pub service_name: Option<String>,
    /// Tasks to run.
    ///
    /// Default: - `scaling.min_capacity` with scaling, else `1`.
    pub desired_count: Option<u32>,
    /// Autoscaling on CPU and memory, and scheduled capacity changes.
    ///
    /// Default: - none: `desired_count` tasks.
    pub scaling: Option<ScalingProps>,
    /// On-demand, Spot or both.
    ///
    /// Default: [`CapacityStrategy::OnDemand`].
    pub capacity: CapacityStrategy,
    /// Rolling or blue/green.
    ///
    /// Default: [`DeploymentStrategy::Rolling`].
    pub deployment: DeploymentStrategy,
    /// ECS Exec (`aws ecs execute-command`): the task role may open the
    /// Session Manager channels. ECS Exec needs a writable root file system,
    /// so `container.readonly_root_filesystem` must be off.
    ///
    /// Default: `false`.
    pub enable_exec: bool,
}

impl FargateServiceProps {
    /// Props running `container` with every other field at its default.
    pub fn new(container: ContainerProps) -> Self {
        FargateServiceProps {
            container,
            service_name: None,
            desired_count: None,
            scaling: None,
            capacity: CapacityStrategy::OnDemand,
            deployment: DeploymentStrategy::Rolling,
            enable_exec: false,
        }
    }
}

/// A Fargate service; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct FargateService {
    path: ConstructPath,
    service: Handle<Service>,
    task_definition: Handle<crate::cfn::ecs::TaskDefinition>,
    task_role: Handle<Role>,
    log_group: Handle<crate::cfn::logs::LogGroup>,
    connections: Connections,
    cluster_name: Value<String>,
    network_path: ConstructPath,
    container_port: Option<u16>,
    blue_green: bool,
}

/// A private service needs a path to ECR, CloudWatch Logs (and Secrets
/// Manager when it has secrets, X-Ray when it is traced): NAT, or the VPC
/// endpoints of those services ([`crate::network::endpoints`]) with the S3
/// gateway endpoint for image layers.
pub(crate) fn check_egress_path(
    path: &ConstructPath,
    network: &Network,
    has_secrets: bool,
    tracing: bool,
) -> Result<()> {
    use crate::network::InterfaceService as S;
    if network.nat_gateways() != NatGateways::None {
        return Ok(());
    }
    let mut needed = vec![S::EcrApi, S::EcrDkr, S::CloudWatchLogs];
    if has_secrets {
        needed.push(S::SecretsManager);
    }
    if tracing {
        needed.push(S::XRay);
    }
    let missing: Vec<S> = needed
        .into_iter()
        .filter(|s| !network.has_interface_endpoint(*s))
        .collect();
    if missing.is_empty() && network.has_s3_gateway_endpoint() {
        return Ok(());
    }
    let mut lacking: Vec<String> = missing
        .iter()
        .map(|s| format!("InterfaceService::{s:?}"))
        .collect();
    if !network.has_s3_gateway_endpoint() {
        lacking.push("the S3 gateway endpoint (s3_gateway_endpoint: true)".to_string());
    }
    Err(Error::invalid_prop(
        path,
        "network",
        format!(
            "must let tasks in private subnets reach ECR, CloudWatch Logs{}{}, but {} has no NAT gateway (nat_gateways: None) and lacks the VPC endpoints {}; add them to NetworkProps::endpoints (VpcEndpointsProps {{ interface: vec![...] }}) or use NatGateways::Single or PerAz",
            if has_secrets { ", Secrets Manager" } else { "" },
            if tracing { ", X-Ray" } else { "" },
            network.path(),
            lacking.join(", ")
        ),
    ))
}

/// The cross-construct check of Spot capacity.
pub(crate) fn check_spot(
    path: &ConstructPath,
    capacity: &CapacityStrategy,
    cluster: &Cluster,
) -> Result<()> {
    if capacity.uses_spot() && !cluster.has_fargate_spot() {
        return Err(Error::invalid_prop(
            path,
            "capacity",
            format!(
                "uses FARGATE_SPOT, but cluster {} has only FARGATE; set its fargate_spot",
                cluster.path()
            ),
        ));
    }
    Ok(())
}

/// What [`emit_service`] needs.
pub(crate) struct ServiceSpec<'a> {
    pub service_name: Option<String>,
    pub cluster: Value<String>,
    pub task_definition: Value<String>,
    pub desired_count: u32,
    pub network: &'a Network,
    pub security_group: Value<String>,
    pub load_balancers: Option<Vec<crate::cfn::ecs::service::LoadBalancer>>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub capacity: CapacityStrategy,
    pub deployment: &'a DeploymentStrategy,
    pub enable_exec: bool,
    pub options: ResourceOptions,
}

/// Emits `Service` in `me`.
pub(crate) fn emit_service(me: &mut Scope<'_>, spec: ServiceSpec<'_>) -> Result<Handle<Service>> {
    let (launch_type, capacity_provider_strategy) = spec.capacity.service_properties();
    me.add_with(
        "Service",
        Service {
            service_name: spec.service_name.map(Into::into),
            cluster: Some(spec.cluster),
            task_definition: Some(spec.task_definition),
            launch_type,
            capacity_provider_strategy,
            desired_count: Some(i64::from(spec.desired_count).into()),
            deployment_configuration: Some(spec.deployment.configuration()),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: Some(AwsVpcConfiguration {
                    assign_public_ip: Some(AssignPublicIp::Disabled.into()),
                    subnets: Some(Value::Literal(
                        spec.network
                            .private_subnets()
                            .iter()
                            .map(|s| s.subnet_id())
                            .collect(),
                    )),
                    security_groups: Some(Value::Literal(vec![spec.security_group])),
                }),
            }),
            load_balancers: spec.load_balancers,
            health_check_grace_period_seconds: spec
                .health_check_grace_period_seconds
                .map(|s| i64::from(s).into()),
            propagate_tags: Some(PropagateTags::Service.into()),
            enable_ecs_managed_tags: Some(true.into()),
            enable_execute_command: spec.enable_exec.then(|| true.into()),
            ..Service::new()
        },
        spec.options,
    )
}

/// The HTTPS egress of a task security group (AWS APIs have no fixed
/// addresses).
pub(crate) fn allow_aws_apis(me: &mut Scope<'_>, connections: &Connections) -> Result<()> {
    connections.allow_to_cidr(
        me,
        "HttpsToAwsApis",
        "0.0.0.0/0",
        Port::tcp(443),
        "HTTPS to AWS APIs (ECR, Secrets Manager, CloudWatch Logs, X-Ray)",
    )
}

impl FargateService {
    /// Creates the service `id` in `scope` on `cluster` (and its network).
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        cluster: &Cluster,
        props: FargateServiceProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let network = cluster.network();
        props.container.validate(&path)?;
        if let Some(n) = &props.service_name {
            if !is_name(n, 255) {
                return Err(Error::invalid_prop(
                    &path,
                    "service_name",
                    format!("must be 1..=255 of A-Z a-z 0-9 - _, got {n:?}"),
                ));
            }
        }
        if props.enable_exec && props.container.readonly_root_filesystem {
            return Err(Error::invalid_prop(
                &path,
                "enable_exec",
                "needs a writable root file system (the ECS Exec agent writes to it), got container.readonly_root_filesystem: true; turn one of them off",
            ));
        }
        let desired = match (&props.scaling, props.desired_count) {
            (Some(s), d) => {
                s.validate(&path)?;
                if !s.request_steps.is_empty() {
                    return Err(Error::invalid_prop(
                        &path,
                        "scaling.request_steps",
                        format!(
                            "need a target group, which a FargateService has not; got {} steps (use ApiService, or scale on CPU and memory)",
                            s.request_steps.len()
                        ),
                    ));
                }
                let d = d.unwrap_or(s.min_capacity);
                if !(s.min_capacity..=s.max_capacity).contains(&d) {
                    return Err(Error::invalid_prop(
                        &path,
                        "desired_count",
                        format!(
                            "must lie in scaling's {}..={}, got {d}",
                            s.min_capacity, s.max_capacity
                        ),
                    ));
                }
                d
            }
            (None, d) => d.unwrap_or(1),
        };
        props.deployment.validate(&path)?;
        props.capacity.validate(&path)?;
        check_egress_path(
            &path,
            network,
            !props.container.secrets.is_empty(),
            props.container.tracing,
        )?;
        check_spot(&path, &props.capacity, cluster)?;

        let key = task::log_key(&mut me, props.container.encryption_key.as_ref())?;
        let (image, repository_arn) = task::resolve_image(&mut me, &props.container.image)?;
        let parts = task::emit_task(
            &mut me,
            TaskSpec {
                family: None,
                container: &props.container,
                log_group_name: props.container.log_group_name.clone(),
                exec: props.enable_exec,
                key: &key,
            },
            image,
            repository_arn,
        )?;
        let connections = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            network.vpc_id(),
            &format!("{path}: tasks"),
            props.container.port.map(Port::tcp),
            Egress::Restricted,
        )?;
        allow_aws_apis(&mut me, &connections)?;
        let service = emit_service(
            &mut me,
            ServiceSpec {
                service_name: props.service_name.clone(),
                cluster: cluster.cluster_name(),
                task_definition: parts.task_definition.ref_(),
                desired_count: desired,
                network,
                security_group: connections.security_group_id(),
                load_balancers: None,
                health_check_grace_period_seconds: None,
                capacity: props.capacity,
                deployment: &props.deployment,
                enable_exec: props.enable_exec,
                options: ResourceOptions::default(),
            },
        )?;
        if let Some(scaling) = &props.scaling {
            let mut s = me.child("Scaling")?;
            autoscaling::emit(
                &mut s,
                scaling,
                ScalingTarget {
                    resource_id: Intrinsic::sub_with(
                        "service/${Cluster}/${Service}",
                        [
                            ("Cluster", cluster.cluster_name()),
                            ("Service", service.attr_name()),
                        ],
                    )
                    .into(),
                    target_group_full_name: Value::Literal(String::new()),
                    load_balancer_full_name: Value::Literal(String::new()),
                },
            )?;
        }
        Ok(FargateService {
            path,
            service,
            task_definition: parts.task_definition,
            task_role: parts.task_role,
            log_group: parts.log_group,
            connections,
            cluster_name: cluster.cluster_name(),
            network_path: network.path().clone(),
            container_port: props.container.port,
            blue_green: matches!(props.deployment, DeploymentStrategy::BlueGreen { .. }),
        })
    }

    /// A service emitted by a pattern (the service of an `ApiService`).
    pub(crate) fn from_parts(
        path: ConstructPath,
        service: Handle<Service>,
        parts: task::TaskParts,
        connections: Connections,
        cluster: &Cluster,
        container_port: Option<u16>,
        blue_green: bool,
    ) -> Self {
        FargateService {
            path,
            service,
            task_definition: parts.task_definition,
            task_role: parts.task_role,
            log_group: parts.log_group,
            connections,
            cluster_name: cluster.cluster_name(),
            network_path: cluster.network().path().clone(),
            container_port,
            blue_green,
        }
    }

    /// The role ECS uses to switch the listener rule of a blue/green
    /// deployment, below the service's path (`<service>/<lb id>/…`).
    pub(crate) fn emit_blue_green_role(
        &self,
        scope: &mut Scope<'_>,
        lb_id: &str,
    ) -> Result<Handle<Role>> {
        let mut owner = scope.reopen(&self.path)?;
        let mut me = owner.child(&format!("{lb_id}Deployment"))?;
        blue_green_role(&mut me, "Role", &self.path)
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The ECS service.
    pub fn service(&self) -> &Handle<Service> {
        &self.service
    }

    /// The task definition.
    pub fn task_definition(&self) -> &Handle<crate::cfn::ecs::TaskDefinition> {
        &self.task_definition
    }

    /// The task role (the application's identity: grant it what the
    /// application calls).
    pub fn task_role(&self) -> &Handle<Role> {
        &self.task_role
    }

    /// The container log group.
    pub fn log_group(&self) -> &Handle<crate::cfn::logs::LogGroup> {
        &self.log_group
    }

    /// The tasks' security group (default port: the container port, if any).
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The service's name (the `ServiceName` metric dimension).
    pub fn service_name(&self) -> Value<String> {
        self.service.attr_name()
    }

    /// The container port.
    pub fn container_port(&self) -> Option<u16> {
        self.container_port
    }

    /// Whether the service deploys blue/green.
    pub fn is_blue_green(&self) -> bool {
        self.blue_green
    }

    /// The network the tasks run in (its path).
    pub(crate) fn network_path(&self) -> &ConstructPath {
        &self.network_path
    }

    /// The service's CloudWatch metrics (CPU and memory utilization).
    pub fn metrics(&self) -> ServiceMetrics {
        ServiceMetrics {
            cluster_name: self.cluster_name.clone(),
            service_name: self.service.attr_name(),
        }
    }
}

/// The role ECS assumes to switch a load balancer's listener rule during a
/// blue/green deployment of the service at `service`: the service role
/// policy AWS documents for it, acknowledged as such.
pub(crate) fn blue_green_role(
    me: &mut Scope<'_>,
    id: &str,
    service: &ConstructPath,
) -> Result<Handle<Role>> {
    let role = create_role(
        me,
        id,
        RoleProps {
            description: Some(format!(
                "Lets ECS switch the load balancer of {service} during blue/green deployments"
            )),
            managed_policy_arns: vec![aws_managed_policy_arn(
                "AmazonECSInfrastructureRolePolicyForLoadBalancers",
            )],
            ..RoleProps::new("ecs.amazonaws.com")
        },
    )?;
    role.acknowledge(
        me,
        "iam-no-managed-policies",
        "AmazonECSInfrastructureRolePolicyForLoadBalancers is the policy AWS documents for the ECS infrastructure role of blue/green deployments, and ECS changes it as the feature changes.",
    )?;
    Ok(role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{ClusterProps, ContainerImage, ImageRepository, ImageRepositoryProps};
    use crate::network::NetworkProps;
    use crate::prelude::*;
    use crate::test_support::{stack_with_network as setup, stack_with_network_of};
    use serde_json::json;

    fn worker() -> FargateServiceProps {
        FargateServiceProps::new(ContainerProps::new(ContainerImage::from_uri(
            "public.ecr.aws/docker/library/busybox:1.37",
        )))
    }

    fn fails_with(network: NetworkProps, cluster: ClusterProps, p: FargateServiceProps) -> String {
        let (mut stack, network) = stack_with_network_of(network);
        let cluster = Cluster::new(&mut stack, "Cluster", &network, cluster).unwrap();
        FargateService::new(&mut stack, "Worker", &cluster, p)
            .unwrap_err()
            .to_string()
    }

    fn fails(p: FargateServiceProps) -> String {
        fails_with(NetworkProps::default(), ClusterProps::default(), p)
    }

    #[test]
    fn defaults_are_one_private_on_demand_task_without_ingress() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let w = FargateService::new(&mut stack, "Worker", &cluster, worker()).unwrap();
        assert_eq!(w.connections().default_port(), None);
        assert!(!w.is_blue_green());
        let t = stack.synth().unwrap();
        let svc = &t.resources["WorkerService"].properties;
        assert_eq!(svc["LaunchType"], "FARGATE");
        assert_eq!(svc["DesiredCount"], 1);
        assert_eq!(svc["Cluster"], json!({"Ref": "ClusterCluster"}));
        assert!(svc.get("LoadBalancers").is_none());
        assert!(svc.get("EnableExecuteCommand").is_none());
        assert_eq!(
            svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            "DISABLED"
        );
        assert_eq!(
            svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"],
            json!({"Enable": true, "Rollback": true})
        );
        let td = &t.resources["WorkerTaskDefinition"].properties;
        assert_eq!(
            (td["Cpu"].clone(), td["Memory"].clone()),
            (json!("256"), json!("512"))
        );
        let app = &td["ContainerDefinitions"][0];
        assert_eq!(app["User"], "1000");
        assert_eq!(app["ReadonlyRootFilesystem"], true);
        assert!(app.get("PortMappings").is_none());
        // No X-Ray sidecar by default.
        assert_eq!(td["ContainerDefinitions"].as_array().unwrap().len(), 1);
        // A URI image: no ECR grant, no parameter.
        assert!(t.parameters.is_empty());
        let exec = serde_json::to_string(&t.resources["WorkerExecutionRole"].properties).unwrap();
        assert!(!exec.contains("ecr:"), "{exec}");
        // Nothing may reach the worker.
        assert!(
            !t.resources
                .values()
                .any(|r| r.type_name == "AWS::EC2::SecurityGroupIngress")
        );
        assert!(
            t.resources
                .contains_key("WorkerSecurityGroupEgressHttpsToAwsApis")
        );
        assert!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty()
        );
    }

    #[test]
    fn two_services_from_one_repository_have_their_own_tag_parameters() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let repo =
            ImageRepository::new(&mut stack, "Images", ImageRepositoryProps::default()).unwrap();
        for id in ["Orders", "Billing"] {
            let mut p = worker();
            p.container.image = ContainerImage::from_repository(&repo.reference());
            FargateService::new(&mut stack, id, &cluster, p).unwrap();
        }
        let t = stack.synth().unwrap();
        assert!(t.parameters.contains_key("OrdersImageTag"));
        assert!(t.parameters.contains_key("BillingImageTag"));
        let exec = serde_json::to_string(&t.resources["OrdersExecutionRole"].properties).unwrap();
        assert!(exec.contains("ecr:BatchGetImage") && exec.contains("ImagesRepository"));
    }

    #[test]
    fn spot_exec_scaling_and_blue_green_are_written() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let mut p = worker();
        p.capacity = CapacityStrategy::Mixed {
            on_demand_base: 1,
            on_demand_weight: 1,
            spot_weight: 3,
        };
        p.enable_exec = true;
        p.container.readonly_root_filesystem = false;
        p.scaling = Some(ScalingProps::default());
        p.deployment = DeploymentStrategy::BlueGreen {
            bake_time_minutes: 15,
            rollback_alarm_names: vec!["high-5xx".into()],
        };
        FargateService::new(&mut stack, "Worker", &cluster, p).unwrap();
        let t = stack.synth().unwrap();
        let svc = &t.resources["WorkerService"].properties;
        assert!(svc.get("LaunchType").is_none());
        assert_eq!(
            svc["CapacityProviderStrategy"],
            json!([{"Base": 1, "CapacityProvider": "FARGATE", "Weight": 1},
                   {"CapacityProvider": "FARGATE_SPOT", "Weight": 3}])
        );
        assert_eq!(svc["EnableExecuteCommand"], true);
        assert_eq!(svc["DesiredCount"], 2);
        let dc = &svc["DeploymentConfiguration"];
        assert_eq!(dc["Strategy"], "BLUE_GREEN");
        assert_eq!(dc["BakeTimeInMinutes"], 15);
        assert_eq!(
            dc["Alarms"],
            json!({"AlarmNames": ["high-5xx"], "Enable": true, "Rollback": true})
        );
        let task = serde_json::to_string(&t.resources["WorkerTaskRole"].properties).unwrap();
        assert!(task.contains("ssmmessages:OpenDataChannel"), "{task}");
        assert!(t.resources.contains_key("WorkerScalingCpuTracking"));
        assert!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty()
        );
    }

    #[test]
    fn fails_when_exec_meets_a_read_only_root_file_system() {
        let mut p = worker();
        p.enable_exec = true;
        assert_eq!(
            fails(p),
            "khs/Worker: enable_exec needs a writable root file system (the ECS Exec agent writes to it), got container.readonly_root_filesystem: true; turn one of them off"
        );
    }

    #[test]
    fn fails_when_request_steps_have_no_target_group() {
        let mut p = worker();
        p.scaling = Some(ScalingProps {
            request_steps: vec![RequestStep {
                threshold: 100,
                percent: 10,
            }],
            ..ScalingProps::default()
        });
        assert!(fails(p).starts_with("khs/Worker: scaling.request_steps need a target group"),);
    }

    #[test]
    fn fails_when_the_desired_count_is_outside_the_scaling_range() {
        let mut p = worker();
        p.scaling = Some(ScalingProps::default());
        p.desired_count = Some(20);
        assert_eq!(
            fails(p),
            "khs/Worker: desired_count must lie in scaling's 2..=10, got 20"
        );
    }

    #[test]
    fn fails_when_the_network_has_no_nat_naming_both_paths() {
        let e = fails_with(
            NetworkProps {
                nat_gateways: NatGateways::None,
                ..NetworkProps::default()
            },
            ClusterProps::default(),
            worker(),
        );
        assert!(
            e.starts_with("khs/Worker: network must let tasks in private subnets reach ECR"),
            "{e}"
        );
        assert!(e.contains("but khs/Network has no NAT gateway"), "{e}");
    }

    #[test]
    fn fails_without_nat_suggesting_the_missing_endpoints() {
        use crate::network::{InterfaceService, VpcEndpointsProps};
        let mut p = worker();
        p.container.tracing = true;
        let e = fails_with(
            NetworkProps {
                nat_gateways: NatGateways::None,
                endpoints: VpcEndpointsProps {
                    interface: vec![InterfaceService::EcrApi, InterfaceService::CloudWatchLogs],
                    ..VpcEndpointsProps::default()
                },
                ..NetworkProps::default()
            },
            ClusterProps::default(),
            p,
        );
        assert!(
            e.contains("reach ECR, CloudWatch Logs, X-Ray, but khs/Network has no NAT gateway (nat_gateways: None) and lacks the VPC endpoints InterfaceService::EcrDkr, InterfaceService::XRay; add them to NetworkProps::endpoints"),
            "{e}"
        );
    }

    #[test]
    fn a_network_without_nat_but_with_the_needed_endpoints_is_accepted() {
        use crate::network::{InterfaceService, VpcEndpointsProps};
        let (mut stack, network) = stack_with_network_of(NetworkProps {
            nat_gateways: NatGateways::None,
            endpoints: VpcEndpointsProps {
                interface: InterfaceService::FARGATE.to_vec(),
                ..VpcEndpointsProps::default()
            },
            ..NetworkProps::default()
        });
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let w = FargateService::new(&mut stack, "Worker", &cluster, worker()).unwrap();
        let t = stack.synth().unwrap();
        assert!(t.resources.contains_key("NetworkEndpointsEcrDkr"));
        assert!(t.resources.contains_key(w.service().logical_id().as_str()));
    }

    #[test]
    fn fails_when_spot_is_asked_of_a_cluster_without_it() {
        let mut p = worker();
        p.capacity = CapacityStrategy::Spot;
        let e = fails_with(
            NetworkProps::default(),
            ClusterProps {
                fargate_spot: false,
                ..ClusterProps::default()
            },
            p,
        );
        assert_eq!(
            e,
            "khs/Worker: capacity uses FARGATE_SPOT, but cluster khs/Cluster has only FARGATE; set its fargate_spot"
        );
    }

    #[test]
    fn fails_when_the_bake_time_or_weights_are_invalid() {
        let mut p = worker();
        p.deployment = DeploymentStrategy::BlueGreen {
            bake_time_minutes: 2000,
            rollback_alarm_names: vec![],
        };
        assert_eq!(
            fails(p),
            "khs/Worker: deployment.bake_time_minutes must be 0..=1440, got 2000"
        );
        let mut p = worker();
        p.capacity = CapacityStrategy::Mixed {
            on_demand_base: 0,
            on_demand_weight: 0,
            spot_weight: 0,
        };
        assert!(
            fails(p)
                .starts_with("khs/Worker: capacity must give on-demand or Spot a positive weight")
        );
    }

    #[test]
    fn fails_when_container_props_are_invalid() {
        let mut p = worker();
        p.container.port = Some(0);
        assert_eq!(fails(p), "khs/Worker: port must be 1..=65535, got 0");
        let mut p = worker();
        p.container.cpu = 300;
        assert!(fails(p).starts_with("khs/Worker: cpu must be a Fargate CPU size"));
        let mut p = worker();
        p.service_name = Some("a b".into());
        assert!(fails(p).starts_with("khs/Worker: service_name must be 1..=255"));
    }
}
