//! [`Schedule`]: an EventBridge Scheduler schedule that invokes a function
//! or runs an ECS task.
//!
//! What a `Schedule` emits:
//! - one `AWS::IAM::Role` (`<id>Role`) assumed by `scheduler.amazonaws.com`
//!   (for this account only, `aws:SourceAccount`), allowed exactly:
//!   `lambda:InvokeFunction` on the target function, or `ecs:RunTask` on
//!   the task definition in the target cluster and `iam:PassRole` on the
//!   task's roles (to ECS only);
//! - one `AWS::Scheduler::Schedule` with the expression ([`Cron`], checked
//!   six-field AWS form, or a [`Rate`]), the time zone, flexible time window
//!   off, and the retry policy of [`ScheduleProps::retry_attempts`].
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::messaging::schedule::{Schedule, ScheduleExpression, ScheduleProps, ScheduleTarget};
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let f = Function::new(&mut stack, "Report", FunctionProps::new(
//!     Runtime::Python3_13, "index.handler", Code::inline("def handler(e, c):\n    pass\n"),
//! )).unwrap();
//! let s = Schedule::new(&mut stack, "Nightly", ScheduleProps::new(
//!     ScheduleExpression::Cron(Cron::daily_at(2, 0).unwrap()),
//!     ScheduleTarget::Function(f),
//! )).unwrap();
//! assert_eq!(s.handle().logical_id().as_str(), "NightlySchedule");
//! ```

use crate::cfn::attributes::*;
use crate::cfn::ecs::{Cluster, TaskDefinition};
use crate::cfn::iam::Role as CfnRole;
use crate::cfn::scheduler::Schedule as CfnSchedule;
use crate::cfn::scheduler::schedule as sc;
use crate::connections::Connections;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::iam::{Condition, PolicyDocument, PolicyStatement, Principal, validate_least_privilege};
use crate::network::Subnet;
use crate::schedule::Cron;
use crate::serverless::function::Function;

/// A fixed rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Every n minutes.
    Minutes(u32),
    /// Every n hours.
    Hours(u32),
    /// Every n days.
    Days(u32),
}

/// When the schedule fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// A six-field AWS cron expression (see [`Cron`]).
    Cron(Cron),
    /// A fixed rate.
    Rate(Rate),
}

impl ScheduleExpression {
    fn expression(&self, path: &ConstructPath) -> Result<String> {
        Ok(match self {
            ScheduleExpression::Cron(c) => c.expression(),
            ScheduleExpression::Rate(r) => {
                let (n, unit) = match *r {
                    Rate::Minutes(n) => (n, "minute"),
                    Rate::Hours(n) => (n, "hour"),
                    Rate::Days(n) => (n, "day"),
                };
                if n == 0 {
                    return Err(Error::invalid_prop(
                        path,
                        "expression",
                        format!("must be a rate of at least 1 {unit}, got 0"),
                    ));
                }
                let plural = if n == 1 { "" } else { "s" };
                format!("rate({n} {unit}{plural})")
            }
        })
    }
}

/// An ECS task to run on a schedule (Fargate, in the given subnets).
#[derive(Debug, Clone, PartialEq)]
pub struct EcsTaskTarget {
    /// The cluster.
    pub cluster: Handle<Cluster>,
    /// The task definition.
    pub task_definition: Handle<TaskDefinition>,
    /// The task's roles (task role and execution role), which the
    /// scheduler passes to ECS.
    pub task_roles: Vec<Handle<CfnRole>>,
    /// The subnets the task runs in (private ones: no public IP is given).
    pub subnets: Vec<Subnet>,
    /// The task's security group.
    pub connections: Connections,
    /// Tasks per run (1..=10).
    ///
    /// Default: `1`.
    pub task_count: u32,
}

/// What a schedule runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleTarget {
    /// Invoke a function (asynchronously, without payload).
    Function(Function),
    /// Run an ECS task.
    EcsTask(EcsTaskTarget),
}

/// Props of a [`Schedule`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleProps {
    /// When it fires.
    pub expression: ScheduleExpression,
    /// What it runs.
    pub target: ScheduleTarget,
    /// The IANA time zone of a cron expression (`Europe/Berlin`).
    ///
    /// Default: - UTC.
    pub timezone: Option<String>,
    /// A description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// Retries of a failed delivery to the target (0..=185).
    ///
    /// Default: `3`.
    pub retry_attempts: u32,
    /// Whether the schedule is enabled.
    ///
    /// Default: `true`.
    pub enabled: bool,
}

impl ScheduleProps {
    /// Props with an expression and a target, UTC, enabled, 3 retries.
    pub fn new(expression: ScheduleExpression, target: ScheduleTarget) -> Self {
        ScheduleProps {
            expression,
            target,
            timezone: None,
            description: None,
            retry_attempts: 3,
            enabled: true,
        }
    }
}

/// An EventBridge Scheduler schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    schedule: Handle<CfnSchedule>,
    role: Handle<CfnRole>,
    path: ConstructPath,
}

impl Schedule {
    /// Creates the schedule `id` in `scope` and its role.
    pub fn new(scope: &mut impl AsScope, id: &str, props: ScheduleProps) -> Result<Schedule> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let expression = props.expression.expression(&path)?;
        if props.retry_attempts > 185 {
            return Err(Error::invalid_prop(
                &path,
                "retry_attempts",
                format!("must be 0..=185, got {}", props.retry_attempts),
            ));
        }
        if let Some(tz) = &props.timezone
            && (tz.is_empty() || tz.len() > 50 || tz.contains(' '))
        {
            return Err(Error::invalid_prop(
                &path,
                "timezone",
                format!("must be an IANA time zone such as \"Europe/Berlin\", got {tz:?}"),
            ));
        }
        let policy = match &props.target {
            ScheduleTarget::Function(f) => PolicyDocument::new([PolicyStatement::allow(
                ["lambda:InvokeFunction"],
                [
                    f.arn(),
                    Intrinsic::sub(format!("${{{}.Arn}}:*", f.handle().logical_id())).into(),
                ],
            )]),
            ScheduleTarget::EcsTask(task) => {
                if !(1..=10).contains(&task.task_count) {
                    return Err(Error::invalid_prop(
                        &path,
                        "target.task_count",
                        format!("must be 1..=10, got {}", task.task_count),
                    ));
                }
                if task.subnets.is_empty() {
                    return Err(Error::invalid_prop(
                        &path,
                        "target.subnets",
                        "must name at least one subnet, got none",
                    ));
                }
                let mut doc = PolicyDocument::new([PolicyStatement::allow(
                    ["ecs:RunTask"],
                    [task.task_definition.ref_()],
                )
                .with_condition(Condition::new(
                    "ArnEquals",
                    "ecs:cluster",
                    task.cluster.attr_arn(),
                ))]);
                if !task.task_roles.is_empty() {
                    doc.push(
                        PolicyStatement::allow(
                            ["iam:PassRole"],
                            task.task_roles.iter().map(|r| r.attr_arn()),
                        )
                        .with_condition(Condition::new(
                            "StringLike",
                            "iam:PassedToService",
                            "ecs-tasks.amazonaws.com",
                        )),
                    );
                }
                doc
            }
        };
        validate_least_privilege(path.child("Role")?, "policy", &policy)?;
        let trust = PolicyDocument::new([PolicyStatement {
            sid: None,
            effect: crate::iam::Effect::Allow,
            principal: Some(Principal::service("scheduler.amazonaws.com")),
            actions: vec!["sts:AssumeRole".to_string()],
            resources: Vec::new(),
            conditions: vec![Condition::new(
                "StringEquals",
                "aws:SourceAccount",
                Value::from(crate::core::intrinsic::Pseudo::AccountId),
            )],
        }]);
        let role = me.add(
            "Role",
            CfnRole {
                description: Some(format!("Lets the schedule {path} run its target").into()),
                policies: Some(vec![crate::cfn::iam::role::Policy::new(
                    policy.to_json(),
                    format!("{id}Target"),
                )]),
                ..CfnRole::new(trust.to_json())
            },
        )?;
        let target = match &props.target {
            ScheduleTarget::Function(f) => sc::Target::new(sc::TargetRequired {
                arn: f.arn(),
                role_arn: role.attr_arn(),
            }),
            ScheduleTarget::EcsTask(task) => sc::Target {
                ecs_parameters: Some(sc::EcsParameters {
                    launch_type: Some(sc::LaunchType::Fargate.into()),
                    task_count: Some(f64::from(task.task_count).into()),
                    network_configuration: Some(sc::NetworkConfiguration {
                        awsvpc_configuration: Some(sc::AwsVpcConfiguration {
                            assign_public_ip: Some(sc::AssignPublicIp::Disabled.into()),
                            security_groups: Some(Value::Literal(vec![
                                task.connections.security_group_id(),
                            ])),
                            ..sc::AwsVpcConfiguration::new(Value::Literal(
                                task.subnets.iter().map(Subnet::subnet_id).collect(),
                            ))
                        }),
                    }),
                    ..sc::EcsParameters::new(task.task_definition.ref_())
                }),
                ..sc::Target::new(sc::TargetRequired {
                    arn: task.cluster.attr_arn(),
                    role_arn: role.attr_arn(),
                })
            },
        };
        let target = sc::Target {
            retry_policy: Some(sc::RetryPolicy {
                maximum_retry_attempts: Some(f64::from(props.retry_attempts).into()),
                ..sc::RetryPolicy::new()
            }),
            ..target
        };
        let schedule = me.add(
            "Schedule",
            CfnSchedule {
                description: props.description.map(Into::into),
                schedule_expression_timezone: props.timezone.map(Into::into),
                state: Some(
                    if props.enabled {
                        sc::ScheduleState::Enabled
                    } else {
                        sc::ScheduleState::Disabled
                    }
                    .into(),
                ),
                ..CfnSchedule::new(
                    sc::FlexibleTimeWindow::new(sc::FlexibleTimeWindowMode::Off),
                    expression,
                    target,
                )
            },
        )?;
        Ok(Schedule {
            schedule,
            role,
            path,
        })
    }

    /// The schedule resource.
    pub fn handle(&self) -> &Handle<CfnSchedule> {
        &self.schedule
    }

    /// The role the scheduler assumes.
    pub fn role(&self) -> &Handle<CfnRole> {
        &self.role
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use serde_json::json;

    fn function(st: &mut Stack) -> Function {
        Function::new(
            st,
            "Report",
            FunctionProps::new(
                Runtime::Python3_13,
                "index.handler",
                Code::inline("x = 1\n"),
            ),
        )
        .unwrap()
    }

    #[test]
    fn invokes_a_function_with_a_role_that_may_only_invoke_it() {
        let mut st = Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let f = function(&mut st);
        Schedule::new(
            &mut st,
            "Nightly",
            ScheduleProps {
                timezone: Some("Europe/Berlin".into()),
                ..ScheduleProps::new(
                    ScheduleExpression::Cron(Cron::daily_at(2, 0).unwrap()),
                    ScheduleTarget::Function(f),
                )
            },
        )
        .unwrap();
        let t = st.synth().unwrap();
        let p = &t.resources["NightlySchedule"].properties;
        assert_eq!(p["ScheduleExpression"], "cron(0 2 * * ? *)");
        assert_eq!(p["ScheduleExpressionTimezone"], "Europe/Berlin");
        assert_eq!(p["FlexibleTimeWindow"], json!({"Mode": "OFF"}));
        assert_eq!(
            p["Target"]["Arn"],
            json!({"Fn::GetAtt": ["ReportFunction", "Arn"]})
        );
        assert_eq!(p["Target"]["RetryPolicy"]["MaximumRetryAttempts"], 3.0);
        let role = &t.resources["NightlyRole"].properties;
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
        let st0 = &role["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(st0["Action"], "lambda:InvokeFunction");
    }

    fn ecs_target(st: &mut Stack, task_count: u32) -> EcsTaskTarget {
        let network = Network::new(st, "Network", NetworkProps::default()).unwrap();
        let mut root = st.as_scope();
        let cluster = root
            .add("Cluster", crate::cfn::ecs::Cluster::new())
            .unwrap();
        let task_definition = root.add("Task", TaskDefinition::new()).unwrap();
        let role = crate::iam::create_role(
            &mut root,
            "TaskRole",
            crate::iam::RoleProps::new("ecs-tasks.amazonaws.com"),
        )
        .unwrap();
        let connections = Connections::new_security_group(
            &mut root,
            "TaskSg",
            network.vpc_id(),
            "task",
            None,
            crate::connections::Egress::Restricted,
        )
        .unwrap();
        EcsTaskTarget {
            cluster,
            task_definition,
            task_roles: vec![role],
            subnets: network.private_subnets().to_vec(),
            connections,
            task_count,
        }
    }

    #[test]
    fn runs_a_fargate_task_with_run_task_and_pass_role_only() {
        let mut st = Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let target = ecs_target(&mut st, 2);
        Schedule::new(
            &mut st,
            "Hourly",
            ScheduleProps::new(
                ScheduleExpression::Rate(Rate::Hours(1)),
                ScheduleTarget::EcsTask(target),
            ),
        )
        .unwrap();
        let t = st.synth().unwrap();
        let p = &t.resources["HourlySchedule"].properties;
        assert_eq!(p["ScheduleExpression"], "rate(1 hour)");
        assert_eq!(
            p["Target"]["Arn"],
            json!({"Fn::GetAtt": ["Cluster", "Arn"]})
        );
        let ecs = &p["Target"]["EcsParameters"];
        assert_eq!(ecs["LaunchType"], "FARGATE");
        assert_eq!(ecs["TaskCount"], 2.0);
        assert_eq!(
            ecs["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            "DISABLED"
        );
        let st0 =
            &t.resources["HourlyRole"].properties["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(st0[0]["Action"], "ecs:RunTask");
        assert_eq!(st0[0]["Resource"], json!({"Ref": "Task"}));
        assert_eq!(
            st0[0]["Condition"]["ArnEquals"]["ecs:cluster"],
            json!({"Fn::GetAtt": ["Cluster", "Arn"]})
        );
        assert_eq!(st0[1]["Action"], "iam:PassRole");
        assert_eq!(
            st0[1]["Condition"]["StringLike"]["iam:PassedToService"],
            "ecs-tasks.amazonaws.com"
        );
    }

    #[test]
    fn fails_when_the_task_count_is_out_of_range() {
        let mut st = Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let target = ecs_target(&mut st, 0);
        let e = Schedule::new(
            &mut st,
            "Hourly",
            ScheduleProps::new(
                ScheduleExpression::Rate(Rate::Hours(1)),
                ScheduleTarget::EcsTask(target),
            ),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "khs/Hourly: target.task_count must be 1..=10, got 0");
    }

    #[test]
    fn rates_are_written_in_aws_form() {
        let p = ConstructPath::root("khs");
        assert_eq!(
            ScheduleExpression::Rate(Rate::Minutes(1))
                .expression(&p)
                .unwrap(),
            "rate(1 minute)"
        );
        assert_eq!(
            ScheduleExpression::Rate(Rate::Hours(6))
                .expression(&p)
                .unwrap(),
            "rate(6 hours)"
        );
        let e = ScheduleExpression::Rate(Rate::Days(0))
            .expression(&p.child("S").unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/S: expression must be a rate of at least 1 day, got 0"
        );
    }

    #[test]
    fn fails_when_retries_or_timezone_are_invalid() {
        let mut st = Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let f = function(&mut st);
        let base = ScheduleProps::new(
            ScheduleExpression::Rate(Rate::Hours(1)),
            ScheduleTarget::Function(f),
        );
        let e = Schedule::new(
            &mut st,
            "A",
            ScheduleProps {
                retry_attempts: 200,
                ..base.clone()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "khs/A: retry_attempts must be 0..=185, got 200");
        let e = Schedule::new(
            &mut st,
            "B",
            ScheduleProps {
                timezone: Some("Central European".into()),
                ..base
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/B: timezone must be an IANA time zone"),
            "{e}"
        );
    }
}
