//! X-Ray sampling rule and group.

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::resource::Handle;
use crate::core::scope::AsScope;

// ---------------------------------------------------------------------------
// X-Ray
// ---------------------------------------------------------------------------

/// The props of [`Tracing`].
#[derive(Debug, Clone, PartialEq)]
pub struct TracingProps {
    /// The segment (service) name the application reports
    /// (`orders-api`; the name the X-Ray SDK opens its segments with).
    pub service_name: String,
    /// The sampling rule name (unique per account and region, 1–32
    /// characters).
    ///
    /// Default: - the service name.
    pub rule_name: Option<String>,
    /// The group name (unique per account and region, 1–32 characters).
    ///
    /// Default: - the service name.
    pub group_name: Option<String>,
    /// The share of requests traced after the reservoir is used up, 0–1.
    ///
    /// Default: 0.05.
    pub fixed_rate: f64,
    /// Requests per second traced before `fixed_rate` applies.
    ///
    /// Default: 1.
    pub reservoir_size: u32,
    /// The rule's priority, 1–9999 (lower wins).
    ///
    /// Default: 1000.
    pub priority: u32,
    /// The URL paths the rule matches (`*` and `?` wildcards).
    ///
    /// Default: `"*"`.
    pub url_path: String,
    /// X-Ray Insights (anomaly detection) on the group.
    ///
    /// Default: `true`.
    pub insights: bool,
}

impl TracingProps {
    /// Props for tracing the service `service_name`, every other field at
    /// its default.
    pub fn new(service_name: impl Into<String>) -> Self {
        TracingProps {
            service_name: service_name.into(),
            rule_name: None,
            group_name: None,
            fixed_rate: 0.05,
            reservoir_size: 1,
            priority: 1000,
            url_path: "*".into(),
            insights: true,
        }
    }
}

/// X-Ray sampling rule and group for one service.
///
/// Emits an `AWS::XRay::SamplingRule` matching the service and an
/// `AWS::XRay::Group` filtering its traces (`service("<name>")`), with
/// Insights on by default. The application still has to send traces (the
/// X-Ray SDK or an OpenTelemetry collector sidecar, and `xray:PutTraceSegments`
/// on its task role).
#[derive(Debug, Clone)]
pub struct Tracing {
    rule: Handle<cfn::xray::SamplingRule>,
    group: Handle<cfn::xray::Group>,
}

impl Tracing {
    /// Adds the rule and group at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: TracingProps) -> Result<Self> {
        use cfn::xray::{group, sampling_rule};
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let rule_name = props
            .rule_name
            .clone()
            .unwrap_or_else(|| props.service_name.clone());
        let group_name = props
            .group_name
            .clone()
            .unwrap_or_else(|| props.service_name.clone());
        for (prop, v) in [("rule_name", &rule_name), ("group_name", &group_name)] {
            if v.is_empty() || v.chars().count() > 32 {
                return Err(Error::invalid_prop(
                    &path,
                    prop,
                    format!(
                        "must be 1..=32 characters, got {} ({v:?})",
                        v.chars().count()
                    ),
                ));
            }
        }
        if props.service_name.is_empty() || props.service_name.len() > 64 {
            return Err(Error::invalid_prop(
                &path,
                "service_name",
                format!(
                    "must be 1..=64 characters, got {} ({:?})",
                    props.service_name.len(),
                    props.service_name
                ),
            ));
        }
        if props.service_name.contains('"') {
            return Err(Error::invalid_prop(
                &path,
                "service_name",
                format!("must not contain '\"', got {:?}", props.service_name),
            ));
        }
        if !(0.0..=1.0).contains(&props.fixed_rate) {
            return Err(Error::invalid_prop(
                &path,
                "fixed_rate",
                format!("must be between 0 and 1, got {}", props.fixed_rate),
            ));
        }
        if !(1..=9999).contains(&props.priority) {
            return Err(Error::invalid_prop(
                &path,
                "priority",
                format!("must be 1..=9999, got {}", props.priority),
            ));
        }
        if props.url_path.is_empty() || props.url_path.len() > 128 {
            return Err(Error::invalid_prop(
                &path,
                "url_path",
                format!("must be 1..=128 characters, got {:?}", props.url_path),
            ));
        }
        let rule = me.add(
            "SamplingRule",
            cfn::xray::SamplingRule {
                sampling_rule: Some(sampling_rule::SamplingRuleProperty {
                    rule_name: Some(rule_name.into()),
                    version: Some(1.into()),
                    fixed_rate: props.fixed_rate.into(),
                    http_method: "*".into(),
                    host: "*".into(),
                    priority: i64::from(props.priority).into(),
                    reservoir_size: i64::from(props.reservoir_size).into(),
                    resource_arn: "*".into(),
                    service_name: props.service_name.as_str().into(),
                    service_type: "*".into(),
                    url_path: props.url_path.as_str().into(),
                    attributes: None,
                    rule_arn: None,
                    sampling_rate_boost: None,
                }),
                ..cfn::xray::SamplingRule::new()
            },
        )?;
        let group = me.add(
            "Group",
            cfn::xray::Group {
                filter_expression: Some(format!("service(\"{}\")", props.service_name).into()),
                insights_configuration: Some(group::InsightsConfiguration {
                    insights_enabled: Some(props.insights.into()),
                    notifications_enabled: Some(false.into()),
                }),
                ..cfn::xray::Group::new(group_name)
            },
        )?;
        Ok(Tracing { rule, group })
    }

    /// The sampling rule.
    pub fn rule(&self) -> &Handle<cfn::xray::SamplingRule> {
        &self.rule
    }

    /// The group.
    pub fn group(&self) -> &Handle<cfn::xray::Group> {
        &self.group
    }
}
