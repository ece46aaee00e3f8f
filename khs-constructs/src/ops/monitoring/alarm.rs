//! CloudWatch alarms: props, checks and the [`Alarm`] construct.

use crate::cfn;
use crate::cfn::cloudwatch::alarm::DimensionRequired;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;

use super::*;

// ---------------------------------------------------------------------------
// Alarms
// ---------------------------------------------------------------------------

/// How the statistic is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    /// `>` threshold.
    GreaterThan,
    /// `>=` threshold.
    GreaterThanOrEqual,
    /// `<` threshold.
    LessThan,
    /// `<=` threshold.
    LessThanOrEqual,
}

/// How an alarm treats periods without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreatMissingData {
    /// Missing data counts as breaching.
    Breaching,
    /// Missing data counts as within the threshold (right for error counts,
    /// which publish no data point while there are no errors).
    NotBreaching,
    /// The alarm keeps its state.
    Ignore,
    /// CloudWatch's default: periods without data are skipped, and an alarm
    /// with no data at all goes to `INSUFFICIENT_DATA`.
    #[default]
    Missing,
}

/// Who is told when an alarm fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The `alerts-critical` topic: someone acts now.
    Critical,
    /// The `alerts-warning` topic: look at it today.
    Warning,
}

/// The props of an [`Alarm`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmProps {
    /// The metric, statistic and period watched.
    pub metric: Metric,
    /// How the statistic is compared with `threshold`.
    pub comparison: ComparisonOperator,
    /// The threshold, in the metric's unit (seconds for `TargetResponseTime`,
    /// bytes for `FreeStorageSpace`, percent for CPU).
    pub threshold: f64,
    /// How many recent periods are evaluated (at least 1; the periods must
    /// span at most one day, or seven days for periods of an hour or more).
    pub evaluation_periods: u32,
    /// How many of the evaluated periods must breach ("M of N").
    ///
    /// Default: - all `evaluation_periods`.
    pub datapoints_to_alarm: Option<u32>,
    /// How periods without data are treated.
    ///
    /// Default: [`TreatMissingData::Missing`].
    pub treat_missing_data: TreatMissingData,
    /// The alarm description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// The alarm name (unique per account and region).
    ///
    /// Default: - `<stack name>-<alarm id>`.
    pub alarm_name: Option<String>,
    /// Topics notified when the alarm fires.
    ///
    /// Default: - none (the alarm only shows in the console).
    pub notify: Vec<crate::messaging::import::TopicRef>,
    /// Also notify the topics when the alarm returns to `OK`.
    ///
    /// Default: `true`.
    pub notify_on_ok: bool,
}

impl AlarmProps {
    /// Props for an alarm on `metric` with `comparison threshold` over
    /// `evaluation_periods` periods; every other field at its default.
    pub fn new(
        metric: Metric,
        comparison: ComparisonOperator,
        threshold: f64,
        evaluation_periods: u32,
    ) -> Self {
        AlarmProps {
            metric,
            comparison,
            threshold,
            evaluation_periods,
            datapoints_to_alarm: None,
            treat_missing_data: TreatMissingData::Missing,
            description: None,
            alarm_name: None,
            notify: Vec::new(),
            notify_on_ok: true,
        }
    }

    /// Checks the props as CloudWatch would at deploy time.
    pub fn validate(&self, path: &ConstructPath) -> Result<()> {
        self.metric.validate(path, "metric")?;
        if self.evaluation_periods < 1 {
            return Err(Error::invalid_prop(
                path,
                "evaluation_periods",
                format!("must be at least 1, got {}", self.evaluation_periods),
            ));
        }
        let span = u64::from(self.metric.period_seconds) * u64::from(self.evaluation_periods);
        let max = if self.metric.period_seconds >= 3600 {
            MAX_EVALUATION_RANGE_LONG
        } else {
            MAX_EVALUATION_RANGE_SHORT
        };
        if span > max {
            return Err(Error::invalid_prop(
                path,
                "evaluation_periods",
                format!(
                    "times the period must be at most {max} seconds (CloudWatch's evaluation range for a {}-second period), got {} × {} = {span}",
                    self.metric.period_seconds, self.evaluation_periods, self.metric.period_seconds
                ),
            ));
        }
        if let Some(m) = self.datapoints_to_alarm {
            if m < 1 || m > self.evaluation_periods {
                return Err(Error::invalid_prop(
                    path,
                    "datapoints_to_alarm",
                    format!(
                        "must be 1..={} (the evaluation periods), got {m}",
                        self.evaluation_periods
                    ),
                ));
            }
        }
        if !self.threshold.is_finite() {
            return Err(Error::invalid_prop(
                path,
                "threshold",
                format!("must be a finite number, got {}", self.threshold),
            ));
        }
        self.metric.check_typed(path, "metric")?;
        if self.metric.is_percent() && !(0.0..=100.0).contains(&self.threshold) {
            return Err(Error::invalid_prop(
                path,
                "threshold",
                format!(
                    "must be 0..=100 for {} {} (a percentage), got {}",
                    self.metric.namespace, self.metric.name, self.threshold
                ),
            ));
        }
        if let Some(name) = &self.alarm_name {
            if name.is_empty() || name.len() > 255 {
                return Err(Error::invalid_prop(
                    path,
                    "alarm_name",
                    format!("must be 1..=255 characters, got {}", name.len()),
                ));
            }
        }
        if let Some(d) = &self.description {
            if d.len() > 1024 {
                return Err(Error::invalid_prop(
                    path,
                    "description",
                    format!("must be at most 1024 characters, got {}", d.len()),
                ));
            }
        }
        if self.notify.len() > 5 {
            return Err(Error::invalid_prop(
                path,
                "notify",
                format!("takes at most 5 topics, got {}", self.notify.len()),
            ));
        }
        Ok(())
    }
}

/// CloudWatch's evaluation range for periods under an hour: one day.
pub const MAX_EVALUATION_RANGE_SHORT: u64 = 86_400;
/// CloudWatch's evaluation range for periods of an hour or more: seven days.
pub const MAX_EVALUATION_RANGE_LONG: u64 = 604_800;

/// A CloudWatch alarm on one metric. Emits one `AWS::CloudWatch::Alarm`.
#[derive(Debug, Clone)]
pub struct Alarm {
    handle: Handle<cfn::cloudwatch::Alarm>,
    threshold: f64,
    description: Option<String>,
}

impl Alarm {
    /// Adds an alarm at `scope/id`; the props are validated first.
    pub fn new(scope: &mut impl AsScope, id: &str, props: AlarmProps) -> Result<Self> {
        use cfn::cloudwatch::alarm as l1;
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        props.validate(&path)?;
        let m = &props.metric;
        let (statistic, extended_statistic) = match m.statistic {
            Statistic::Average => (Some(l1::Statistic::Average), None),
            Statistic::Sum => (Some(l1::Statistic::Sum), None),
            Statistic::Minimum => (Some(l1::Statistic::Minimum), None),
            Statistic::Maximum => (Some(l1::Statistic::Maximum), None),
            Statistic::SampleCount => (Some(l1::Statistic::SampleCount), None),
            Statistic::Percentile(_) => (None, Some(m.statistic.name())),
        };
        let comparison = match props.comparison {
            ComparisonOperator::GreaterThan => l1::ComparisonOperator::GreaterThanThreshold,
            ComparisonOperator::GreaterThanOrEqual => {
                l1::ComparisonOperator::GreaterThanOrEqualToThreshold
            }
            ComparisonOperator::LessThan => l1::ComparisonOperator::LessThanThreshold,
            ComparisonOperator::LessThanOrEqual => {
                l1::ComparisonOperator::LessThanOrEqualToThreshold
            }
        };
        let missing = match props.treat_missing_data {
            TreatMissingData::Breaching => l1::TreatMissingData::Breaching,
            TreatMissingData::NotBreaching => l1::TreatMissingData::NotBreaching,
            TreatMissingData::Ignore => l1::TreatMissingData::Ignore,
            TreatMissingData::Missing => l1::TreatMissingData::Missing,
        };
        let topics: Vec<Value<String>> = props.notify.iter().map(|t| t.arn()).collect();
        let name = props
            .alarm_name
            .clone()
            .unwrap_or_else(|| format!("{stack_name}-{id}"));
        let dims: Vec<l1::Dimension> = m
            .dimensions
            .iter()
            .map(|(n, v)| {
                l1::Dimension::new(DimensionRequired {
                    name: n.as_str().into(),
                    value: v.clone(),
                })
            })
            .collect();
        let alarm = l1::Alarm {
            alarm_name: Some(name.into()),
            alarm_description: props.description.clone().map(Value::from),
            namespace: Some(m.namespace.as_str().into()),
            metric_name: Some(m.name.as_str().into()),
            dimensions: (!dims.is_empty()).then_some(dims),
            statistic: statistic.map(Value::from),
            extended_statistic: extended_statistic.map(Value::from),
            period: Some(i64::from(m.period_seconds).into()),
            evaluation_periods: Some(i64::from(props.evaluation_periods).into()),
            datapoints_to_alarm: props.datapoints_to_alarm.map(|d| i64::from(d).into()),
            threshold: Some(props.threshold.into()),
            comparison_operator: Some(comparison.into()),
            treat_missing_data: Some(missing.into()),
            alarm_actions: (!topics.is_empty()).then(|| Value::Literal(topics.clone())),
            ok_actions: (props.notify_on_ok && !topics.is_empty())
                .then(|| Value::Literal(topics.clone())),
            ..l1::Alarm::new()
        };
        let handle = me.add("Resource", alarm)?;
        Ok(Alarm {
            handle,
            threshold: props.threshold,
            description: props.description,
        })
    }

    /// The threshold the metric is compared with.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The alarm resource.
    pub fn handle(&self) -> &Handle<cfn::cloudwatch::Alarm> {
        &self.handle
    }

    /// The alarm description given in the props.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}
