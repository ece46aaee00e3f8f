//! Autoscaling of an ECS service: target tracking, step scaling on load
//! balancer requests, and scheduled capacity changes.
//!
//! Used by [`ApiService`](crate::api_service::ApiService) through
//! [`ScalingProps`]; emits below the service's path (`Scaling/…`):
//! - `Target`: the `AWS::ApplicationAutoScaling::ScalableTarget` of the
//!   service's desired count (min/max capacity, the scheduled actions; the
//!   ECS service-linked role is used, so no role is created);
//! - `CpuTracking`, `MemoryTracking`: target tracking policies on the
//!   service's average CPU and memory utilization;
//! - `RequestSteps` and its alarm `RequestStepsAlarm`: step scaling on the
//!   target group's `RequestCountPerTarget` (sum per minute), one step per
//!   threshold, adjustments as `PercentChangeInCapacity`.

use crate::cfn::applicationautoscaling::ScalableTarget;
use crate::cfn::applicationautoscaling::ScalingPolicy;
use crate::cfn::applicationautoscaling::scalable_target::ScalableTargetRequired;
use crate::cfn::applicationautoscaling::scalable_target::ScheduledActionRequired;
use crate::cfn::applicationautoscaling::scalable_target::{
    ScalableDimension, ScalableTargetAction, ScheduledAction, ServiceNamespace,
};
use crate::cfn::applicationautoscaling::scaling_policy::{
    AdjustmentType, MetricAggregationType, PolicyType, PredefinedMetricSpecification,
    PredefinedMetricSpecificationPredefinedMetricType as Predefined, StepAdjustment,
    StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration,
};
use crate::cfn::cloudwatch::Alarm;
use crate::cfn::cloudwatch::alarm::DimensionRequired;
use crate::cfn::cloudwatch::alarm::{ComparisonOperator, Dimension, Statistic, TreatMissingData};
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::Scope;
use crate::core::value::Value;
use crate::schedule::Cron;

/// One step of request-based scaling: when requests per target and minute
/// reach `threshold`, change capacity by `percent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestStep {
    /// Requests per target per minute at which the step starts.
    pub threshold: u32,
    /// Capacity change in percent (`PercentChangeInCapacity`).
    pub percent: u32,
}

/// A scheduled change of the capacity range.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledScaling {
    /// The action's name (`scale-up-morning`).
    pub name: String,
    /// When, as an AWS cron expression (see [`Cron`]).
    pub schedule: Cron,
    /// The new minimum capacity.
    pub min_capacity: u32,
    /// The new maximum capacity.
    pub max_capacity: u32,
}

/// How the service scales.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingProps {
    /// Fewest tasks.
    ///
    /// Default: `2`.
    pub min_capacity: u32,
    /// Most tasks.
    ///
    /// Default: `10`.
    pub max_capacity: u32,
    /// Average CPU utilization to keep, in percent.
    ///
    /// Default: `Some(70)`; `None` for no CPU tracking.
    pub cpu_target_percent: Option<u32>,
    /// Average memory utilization to keep, in percent.
    ///
    /// Default: `Some(80)`; `None` for no memory tracking.
    pub memory_target_percent: Option<u32>,
    /// Seconds after a scale-in before the next one.
    ///
    /// Default: `300`.
    pub scale_in_cooldown_seconds: u32,
    /// Seconds after a scale-out before the next one.
    ///
    /// Default: `60`.
    pub scale_out_cooldown_seconds: u32,
    /// Request-count steps, thresholds strictly increasing.
    ///
    /// Default: - 1000 → +20 %, 2000 → +50 %, 5000 → +100 %.
    pub request_steps: Vec<RequestStep>,
    /// Scheduled capacity changes.
    ///
    /// Default: - none.
    pub schedules: Vec<ScheduledScaling>,
}

impl Default for ScalingProps {
    fn default() -> Self {
        ScalingProps {
            min_capacity: 2,
            max_capacity: 10,
            cpu_target_percent: Some(70),
            memory_target_percent: Some(80),
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
            request_steps: vec![
                RequestStep {
                    threshold: 1000,
                    percent: 20,
                },
                RequestStep {
                    threshold: 2000,
                    percent: 50,
                },
                RequestStep {
                    threshold: 5000,
                    percent: 100,
                },
            ],
            schedules: Vec::new(),
        }
    }
}

impl ScalingProps {
    /// Checks the props; errors name `path` and the field below `scaling`.
    pub fn validate(&self, path: &ConstructPath) -> Result<()> {
        let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
        if self.min_capacity == 0 || self.min_capacity > self.max_capacity {
            return Err(err(
                "scaling.min_capacity",
                format!(
                    "must be 1..=max_capacity ({}), got {}",
                    self.max_capacity, self.min_capacity
                ),
            ));
        }
        for (prop, v) in [
            ("scaling.cpu_target_percent", self.cpu_target_percent),
            ("scaling.memory_target_percent", self.memory_target_percent),
        ] {
            if let Some(v) = v {
                if !(1..=100).contains(&v) {
                    return Err(err(prop, format!("must be 1..=100, got {v}")));
                }
            }
        }
        let mut last = 0;
        for (i, s) in self.request_steps.iter().enumerate() {
            if s.threshold <= last {
                return Err(err(
                    "scaling.request_steps",
                    format!(
                        "must have positive, strictly increasing thresholds, got {} after {last} at step {i}",
                        s.threshold
                    ),
                ));
            }
            if s.percent == 0 {
                return Err(err(
                    "scaling.request_steps",
                    format!("must add a positive percentage, got 0 at step {i}"),
                ));
            }
            last = s.threshold;
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.schedules {
            let ok_name = !s.name.is_empty()
                && s.name.len() <= 256
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok_name || !names.insert(s.name.as_str()) {
                return Err(err(
                    "scaling.schedules",
                    format!(
                        "names must be unique, 1..=256 of A-Z a-z 0-9 - _ ., got {:?}",
                        s.name
                    ),
                ));
            }
            if s.min_capacity > s.max_capacity {
                return Err(err(
                    "scaling.schedules",
                    format!(
                        "{:?} must have min_capacity <= max_capacity, got {} > {}",
                        s.name, s.min_capacity, s.max_capacity
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The service and load balancer the scaling applies to.
pub(crate) struct ScalingTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: Value<String>,
    /// The target group's full name (`targetgroup/…`).
    pub target_group_full_name: Value<String>,
    /// The load balancer's full name (`app/…`).
    pub load_balancer_full_name: Value<String>,
}

/// Emits the scaling resources in `scope` (the `Scaling` child of the
/// service). Validate the props first.
pub(crate) fn emit(
    scope: &mut Scope<'_>,
    props: &ScalingProps,
    target: ScalingTarget,
) -> Result<Handle<ScalableTarget>> {
    let scheduled: Vec<ScheduledAction> = props
        .schedules
        .iter()
        .map(|s| ScheduledAction {
            scalable_target_action: Some(ScalableTargetAction {
                min_capacity: Some(i64::from(s.min_capacity).into()),
                max_capacity: Some(i64::from(s.max_capacity).into()),
            }),
            ..ScheduledAction::new(ScheduledActionRequired {
                schedule: s.schedule.expression().into(),
                scheduled_action_name: s.name.clone().into(),
            })
        })
        .collect();
    let scalable = scope.add(
        "Target",
        ScalableTarget {
            scheduled_actions: (!scheduled.is_empty()).then_some(scheduled),
            ..ScalableTarget::new(ScalableTargetRequired {
                resource_id: target.resource_id,
                service_namespace: ServiceNamespace::Ecs.into(),
                scalable_dimension: ScalableDimension::EcsServiceDesiredCount.into(),
                min_capacity: i64::from(props.min_capacity).into(),
                max_capacity: i64::from(props.max_capacity).into(),
            })
        },
    )?;
    let tracking = [
        (
            "CpuTracking",
            props.cpu_target_percent,
            Predefined::EcsServiceAverageCpuUtilization,
        ),
        (
            "MemoryTracking",
            props.memory_target_percent,
            Predefined::EcsServiceAverageMemoryUtilization,
        ),
    ];
    for (id, value, metric) in tracking {
        let Some(value) = value else { continue };
        scope.add(
            id,
            ScalingPolicy {
                scaling_target_id: Some(scalable.ref_()),
                target_tracking_scaling_policy_configuration: Some(
                    TargetTrackingScalingPolicyConfiguration {
                        predefined_metric_specification: Some(PredefinedMetricSpecification::new(
                            metric,
                        )),
                        scale_in_cooldown: Some(i64::from(props.scale_in_cooldown_seconds).into()),
                        scale_out_cooldown: Some(
                            i64::from(props.scale_out_cooldown_seconds).into(),
                        ),
                        ..TargetTrackingScalingPolicyConfiguration::new(f64::from(value))
                    },
                ),
                ..ScalingPolicy::new(
                    format!("{}-{id}", scope.path().ids().join("-")),
                    PolicyType::TargetTrackingScaling,
                )
            },
        )?;
    }
    if let Some(first) = props.request_steps.first() {
        let base = f64::from(first.threshold);
        let steps: Vec<StepAdjustment> = props
            .request_steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepAdjustment {
                metric_interval_lower_bound: Some((f64::from(s.threshold) - base).into()),
                metric_interval_upper_bound: props
                    .request_steps
                    .get(i + 1)
                    .map(|n| (f64::from(n.threshold) - base).into()),
                ..StepAdjustment::new(i64::from(s.percent))
            })
            .collect();
        let policy = scope.add(
            "RequestSteps",
            ScalingPolicy {
                scaling_target_id: Some(scalable.ref_()),
                step_scaling_policy_configuration: Some(StepScalingPolicyConfiguration {
                    adjustment_type: Some(AdjustmentType::PercentChangeInCapacity.into()),
                    cooldown: Some(i64::from(props.scale_out_cooldown_seconds).into()),
                    metric_aggregation_type: Some(MetricAggregationType::Maximum.into()),
                    min_adjustment_magnitude: Some(1.into()),
                    step_adjustments: Some(steps),
                }),
                ..ScalingPolicy::new(
                    format!("{}-RequestSteps", scope.path().ids().join("-")),
                    PolicyType::StepScaling,
                )
            },
        )?;
        scope.add(
            "RequestStepsAlarm",
            Alarm {
                alarm_description: Some(
                    format!(
                        "{}: requests per target reach {} per minute; scale out",
                        scope.path(),
                        first.threshold
                    )
                    .into(),
                ),
                namespace: Some("AWS/ApplicationELB".into()),
                metric_name: Some("RequestCountPerTarget".into()),
                dimensions: Some(vec![
                    Dimension::new(DimensionRequired {
                        name: "TargetGroup".into(),
                        value: target.target_group_full_name,
                    }),
                    Dimension::new(DimensionRequired {
                        name: "LoadBalancer".into(),
                        value: target.load_balancer_full_name,
                    }),
                ]),
                statistic: Some(Statistic::Sum.into()),
                period: Some(60.into()),
                evaluation_periods: Some(1.into()),
                threshold: Some(base.into()),
                comparison_operator: Some(ComparisonOperator::GreaterThanOrEqualToThreshold.into()),
                treat_missing_data: Some(TreatMissingData::NotBreaching.into()),
                alarm_actions: Some(Value::Literal(vec![policy.ref_()])),
                ..Alarm::new()
            },
        )?;
    }
    Ok(scalable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> ConstructPath {
        ConstructPath::root("khs").child("Api").unwrap()
    }

    #[test]
    fn defaults_are_the_seed_figures() {
        let p = ScalingProps::default();
        assert_eq!((p.min_capacity, p.max_capacity), (2, 10));
        assert_eq!(
            p.request_steps[2],
            RequestStep {
                threshold: 5000,
                percent: 100
            }
        );
        p.validate(&path()).unwrap();
    }

    #[test]
    fn fails_when_min_capacity_exceeds_max() {
        let e = ScalingProps {
            min_capacity: 11,
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs/Api: scaling.min_capacity must be 1..=max_capacity (10), got 11"
        );
    }

    #[test]
    fn fails_when_step_thresholds_do_not_increase() {
        let e = ScalingProps {
            request_steps: vec![
                RequestStep {
                    threshold: 2000,
                    percent: 20,
                },
                RequestStep {
                    threshold: 1000,
                    percent: 50,
                },
            ],
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Api: scaling.request_steps must have positive, strictly increasing"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_step_adds_nothing() {
        let e = ScalingProps {
            request_steps: vec![RequestStep {
                threshold: 1000,
                percent: 0,
            }],
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs/Api: scaling.request_steps must add a positive percentage, got 0 at step 0"
        );
    }

    #[test]
    fn fails_when_a_target_percentage_is_out_of_range() {
        let e = ScalingProps {
            cpu_target_percent: Some(120),
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs/Api: scaling.cpu_target_percent must be 1..=100, got 120"
        );
    }

    #[test]
    fn fails_when_a_schedule_has_min_above_max() {
        let e = ScalingProps {
            schedules: vec![ScheduledScaling {
                name: "scale-up-morning".into(),
                schedule: Cron::weekdays_at(6, 0).unwrap(),
                min_capacity: 8,
                max_capacity: 4,
            }],
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Api: scaling.schedules \"scale-up-morning\" must have min_capacity"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_schedule_names_repeat() {
        let s = ScheduledScaling {
            name: "a".into(),
            schedule: Cron::daily_at(18, 0).unwrap(),
            min_capacity: 2,
            max_capacity: 6,
        };
        let e = ScalingProps {
            schedules: vec![s.clone(), s],
            ..ScalingProps::default()
        }
        .validate(&path())
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Api: scaling.schedules names must be unique"),
            "{e}"
        );
    }
}
