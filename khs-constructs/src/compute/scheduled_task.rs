//! `ScheduledTask`: a task definition that EventBridge Scheduler runs on a
//! [`Cluster`] on a cron schedule (a nightly job, a weekly report).
//!
//! Emits, below the construct's path:
//! - `Key` (unless one is given), `LogGroup`, `ExecutionRole`, `TaskRole`,
//!   `TaskDefinition`: see [`crate::compute::task`]; the image tag
//!   parameter `<logical id>ImageTag` for a repository image;
//! - `SecurityGroup`: no ingress, egress HTTPS to AWS APIs plus what
//!   [`Connections::allow_from`] adds on the other side;
//! - `SchedulerRole`: assumed by `scheduler.amazonaws.com` (this account
//!   only), allowed `ecs:RunTask` on this task definition in this cluster
//!   and `iam:PassRole` on its two roles to ECS tasks;
//! - `Schedule`: an `AWS::Scheduler::Schedule` with the [`Cron`] expression
//!   (in `timezone`), no flexible window, running `task_count` tasks in the
//!   private subnets without public IPs, on-demand or Spot, with ECS managed
//!   tags and the task definition's tags propagated, and `retry_attempts`
//!   retries.
//!
//! Like a service, a task in private subnets needs NAT to pull its image:
//! a network without NAT gateways is an error naming the network.

use crate::cfn::attributes::*;
use crate::cfn::scheduler::Schedule;
use crate::cfn::scheduler::schedule::TargetRequired;
use crate::cfn::scheduler::schedule::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, EcsParameters,
    FlexibleTimeWindow, FlexibleTimeWindowMode, LaunchType, NetworkConfiguration, PropagateTags,
    RetryPolicy, Target,
};
use crate::compute::cluster::Cluster;
use crate::compute::fargate_service::{
    CapacityStrategy, allow_aws_apis, check_egress_path, check_spot,
};
use crate::compute::task::{self, ContainerProps, TaskSpec};
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::ops::schedule::Cron;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, RoleProps, create_role};

/// Props of a [`ScheduledTask`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledTaskProps {
    /// The container to run.
    pub container: ContainerProps,
    /// When to run, an AWS cron expression.
    pub schedule: Cron,
    /// The IANA time zone of `schedule` (`Europe/Paris`).
    ///
    /// Default: `UTC`.
    pub timezone: String,
    /// Tasks started each time (1..=10).
    ///
    /// Default: `1`.
    pub task_count: u32,
    /// On-demand or Spot (a job that can be retried suits Spot).
    ///
    /// Default: [`CapacityStrategy::OnDemand`].
    pub capacity: CapacityStrategy,
    /// Times EventBridge Scheduler retries a failed start (0..=185).
    ///
    /// Default: `2`.
    pub retry_attempts: u32,
    /// Whether the schedule is on.
    ///
    /// Default: `true`.
    pub enabled: bool,
}

impl ScheduledTaskProps {
    /// Props running `container` on `schedule`, every other field at its
    /// default.
    pub fn new(container: ContainerProps, schedule: Cron) -> Self {
        ScheduledTaskProps {
            container,
            schedule,
            timezone: "UTC".to_string(),
            task_count: 1,
            capacity: CapacityStrategy::OnDemand,
            retry_attempts: 2,
            enabled: true,
        }
    }
}

/// A task run on a schedule; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledTask {
    path: ConstructPath,
    schedule: Handle<Schedule>,
    task_definition: Handle<crate::cfn::ecs::TaskDefinition>,
    task_role: Handle<crate::cfn::iam::Role>,
    connections: Connections,
}

impl ScheduledTask {
    /// Creates the scheduled task `id` in `scope` on `cluster`.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        cluster: &Cluster,
        props: ScheduledTaskProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let network = cluster.network();
        props.container.validate(&path)?;
        if !(1..=10).contains(&props.task_count) {
            return Err(Error::invalid_prop(
                &path,
                "task_count",
                format!("must be 1..=10, got {}", props.task_count),
            ));
        }
        if props.retry_attempts > 185 {
            return Err(Error::invalid_prop(
                &path,
                "retry_attempts",
                format!("must be 0..=185, got {}", props.retry_attempts),
            ));
        }
        let tz_ok = !props.timezone.is_empty()
            && props
                .timezone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !tz_ok {
            return Err(Error::invalid_prop(
                &path,
                "timezone",
                format!(
                    "must be an IANA time zone such as \"UTC\" or \"Europe/Paris\", got {:?}",
                    props.timezone
                ),
            ));
        }
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
                exec: false,
                key: &key,
            },
            image,
            repository_arn,
        )?;
        let connections = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            network.vpc_id(),
            &format!("{path}: scheduled tasks"),
            props.container.port.map(Port::tcp),
            Egress::Restricted,
        )?;
        allow_aws_apis(&mut me, &connections)?;

        let policy = PolicyDocument::new([
            PolicyStatement::allow(["ecs:RunTask"], [parts.task_definition.ref_()]).with_condition(
                Condition::new("ArnEquals", "ecs:cluster", cluster.cluster_arn()),
            ),
            PolicyStatement::allow(
                ["iam:PassRole"],
                [parts.execution_role.attr_arn(), parts.task_role.attr_arn()],
            )
            .with_condition(Condition::new(
                "StringEquals",
                "iam:PassedToService",
                "ecs-tasks.amazonaws.com",
            )),
        ]);
        let role = create_role(
            &mut me,
            "SchedulerRole",
            RoleProps {
                description: Some(format!("Lets EventBridge Scheduler run {path}")),
                policy,
                ..RoleProps::new("scheduler.amazonaws.com")
            },
        )?;

        let (launch_type, strategy) = match props.capacity.providers() {
            None => (Some(LaunchType::Fargate.into()), None),
            Some(items) => (
                None,
                Some(
                    items
                        .into_iter()
                        .map(|(provider, base, weight)| CapacityProviderStrategyItem {
                            base: base.map(|b| f64::from(b).into()),
                            weight: Some(f64::from(weight).into()),
                            ..CapacityProviderStrategyItem::new(provider)
                        })
                        .collect(),
                ),
            ),
        };
        let schedule = me.add(
            "Schedule",
            Schedule {
                description: Some(format!("Runs {path}").into()),
                schedule_expression_timezone: Some(props.timezone.clone().into()),
                state: Some(
                    if props.enabled {
                        crate::cfn::scheduler::schedule::ScheduleState::Enabled
                    } else {
                        crate::cfn::scheduler::schedule::ScheduleState::Disabled
                    }
                    .into(),
                ),
                ..Schedule::new(
                    FlexibleTimeWindow::new(FlexibleTimeWindowMode::Off),
                    props.schedule.expression(),
                    Target {
                        ecs_parameters: Some(EcsParameters {
                            launch_type,
                            capacity_provider_strategy: strategy,
                            task_count: Some(f64::from(props.task_count).into()),
                            network_configuration: Some(NetworkConfiguration {
                                awsvpc_configuration: Some(AwsVpcConfiguration {
                                    assign_public_ip: Some(AssignPublicIp::Disabled.into()),
                                    security_groups: Some(Value::Literal(vec![
                                        connections.security_group_id(),
                                    ])),
                                    ..AwsVpcConfiguration::new(Value::Literal(
                                        network
                                            .private_subnets()
                                            .iter()
                                            .map(|s| s.subnet_id())
                                            .collect(),
                                    ))
                                }),
                            }),
                            enable_ecs_managed_tags: Some(true.into()),
                            propagate_tags: Some(PropagateTags::TaskDefinition.into()),
                            ..EcsParameters::new(parts.task_definition.ref_())
                        }),
                        retry_policy: Some(RetryPolicy {
                            maximum_retry_attempts: Some(f64::from(props.retry_attempts).into()),
                            ..RetryPolicy::new()
                        }),
                        ..Target::new(TargetRequired {
                            arn: cluster.cluster_arn(),
                            role_arn: role.attr_arn(),
                        })
                    },
                )
            },
        )?;
        Ok(ScheduledTask {
            path,
            schedule,
            task_definition: parts.task_definition,
            task_role: parts.task_role,
            connections,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The schedule.
    pub fn schedule(&self) -> &Handle<Schedule> {
        &self.schedule
    }

    /// The task definition.
    pub fn task_definition(&self) -> &Handle<crate::cfn::ecs::TaskDefinition> {
        &self.task_definition
    }

    /// The task role (the job's identity).
    pub fn task_role(&self) -> &Handle<crate::cfn::iam::Role> {
        &self.task_role
    }

    /// The tasks' security group: pass it to
    /// `database.connections().allow_default_port_from(…)`.
    pub fn connections(&self) -> &Connections {
        &self.connections
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{ClusterProps, ContainerImage};
    use crate::test_support::stack_with_network as setup;
    use serde_json::json;

    fn job() -> ScheduledTaskProps {
        let mut c = ContainerProps::new(ContainerImage::from_uri(
            "public.ecr.aws/docker/library/busybox:1.37",
        ));
        c.command = vec!["echo".into(), "nightly".into()];
        ScheduledTaskProps::new(c, Cron::daily_at(2, 30).unwrap())
    }

    fn fails(p: ScheduledTaskProps) -> String {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        ScheduledTask::new(&mut stack, "Nightly", &cluster, p)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_run_one_task_daily_in_utc_with_a_scoped_role() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        ScheduledTask::new(&mut stack, "Nightly", &cluster, job()).unwrap();
        let t = stack.synth().unwrap();
        let s = &t.resources["NightlySchedule"];
        assert_eq!(s.type_name, "AWS::Scheduler::Schedule");
        let p = &s.properties;
        assert_eq!(p["ScheduleExpression"], "cron(30 2 * * ? *)");
        assert_eq!(p["ScheduleExpressionTimezone"], "UTC");
        assert_eq!(p["State"], "ENABLED");
        assert_eq!(p["FlexibleTimeWindow"], json!({"Mode": "OFF"}));
        let target = &p["Target"];
        assert_eq!(
            target["Arn"],
            json!({"Fn::GetAtt": ["ClusterCluster", "Arn"]})
        );
        assert_eq!(target["EcsParameters"]["LaunchType"], "FARGATE");
        assert_eq!(target["EcsParameters"]["TaskCount"], 1.0);
        assert_eq!(target["RetryPolicy"]["MaximumRetryAttempts"], 2.0);
        let td = &t.resources["NightlyTaskDefinition"].properties;
        assert_eq!(
            td["ContainerDefinitions"][0]["Command"],
            json!(["echo", "nightly"])
        );
        let role = serde_json::to_string(&t.resources["NightlySchedulerRole"].properties).unwrap();
        assert!(role.contains("scheduler.amazonaws.com") && role.contains("ecs:RunTask"));
        assert!(role.contains("iam:PassedToService"), "{role}");
        assert!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty()
        );
    }

    #[test]
    fn spot_jobs_use_the_capacity_provider() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        ScheduledTask::new(
            &mut stack,
            "Nightly",
            &cluster,
            ScheduledTaskProps {
                capacity: CapacityStrategy::Spot,
                ..job()
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        let ecs = &t.resources["NightlySchedule"].properties["Target"]["EcsParameters"];
        assert!(ecs.get("LaunchType").is_none());
        assert_eq!(
            ecs["CapacityProviderStrategy"],
            json!([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1.0}])
        );
    }

    #[test]
    fn fails_when_counts_or_the_time_zone_are_invalid() {
        assert_eq!(
            fails(ScheduledTaskProps {
                task_count: 0,
                ..job()
            }),
            "khs/Nightly: task_count must be 1..=10, got 0"
        );
        assert_eq!(
            fails(ScheduledTaskProps {
                retry_attempts: 200,
                ..job()
            }),
            "khs/Nightly: retry_attempts must be 0..=185, got 200"
        );
        assert!(
            fails(ScheduledTaskProps {
                timezone: "Paris time".into(),
                ..job()
            })
            .starts_with("khs/Nightly: timezone must be an IANA time zone")
        );
    }
}
