//! Monitoring: alert topics, CloudWatch alarms, a dashboard and X-Ray.
//!
//! - [`AlertTopics`]: the `alerts-critical` and `alerts-warning` SNS topics,
//!   encrypted with a customer managed KMS key whose policy lets CloudWatch
//!   (and AWS Budgets) publish, optional e-mail subscriptions, and topic
//!   policies that allow only those services (from this account) and TLS.
//! - [`Alarm`]: one typed CloudWatch alarm (period, statistic, comparison and
//!   missing-data handling checked before anything is emitted).
//! - [`Dashboard`]: a CloudWatch dashboard built from typed [`GraphWidget`]s;
//!   the body is generated JSON wrapped in `Fn::Sub`, so dimension values may
//!   be references to resources of the stack.
//! - [`Tracing`]: an X-Ray sampling rule and group for one service.
//! - [`Monitoring`]: the KHS CRM set: the seed's alarms, a few more, the
//!   dashboard and tracing, wired to an [`AlertTopics`].
//!
//! Why a customer managed key: CloudWatch alarms cannot publish to a topic
//! encrypted with the AWS managed key `alias/aws/sns`, because its key
//! policy cannot be changed to let `cloudwatch.amazonaws.com` use it. The
//! messages would be dropped without an error.
//!
//! What CloudWatch cannot do: the seed lists "AutoScaling: add-read-replica"
//! as an action of the database CPU alarm. An alarm action can only notify
//! SNS, scale an EC2 Auto Scaling group or an Application Auto Scaling
//! target, or act on an EC2 instance; creating an RDS read replica is none of
//! these. The alarm notifies the warning topic; adding a replica stays a
//! runbook step (or a subscriber function outside this library).

use crate::cfn::attributes::*;
use crate::cfn::cloudwatch::alarm::DimensionRequired;
use crate::cfn::kms::alias::AliasRequired;
use crate::cfn::sns::subscription::SubscriptionRequired;
use std::collections::BTreeMap;

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Expr, Intrinsic, Pseudo};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;
use crate::iam::{Condition, PolicyDocument, PolicyStatement, Principal};

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// How data points of a period are aggregated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean.
    Average,
    /// The total.
    Sum,
    /// The lowest value.
    Minimum,
    /// The highest value.
    Maximum,
    /// The number of data points.
    SampleCount,
    /// A percentile, `0 < p < 100` (`p99` for 99.0).
    Percentile(f64),
}

impl Statistic {
    /// The name CloudWatch uses (`Average`, `p99`, `p99.9`).
    pub fn name(&self) -> String {
        match self {
            Statistic::Average => "Average".into(),
            Statistic::Sum => "Sum".into(),
            Statistic::Minimum => "Minimum".into(),
            Statistic::Maximum => "Maximum".into(),
            Statistic::SampleCount => "SampleCount".into(),
            Statistic::Percentile(p) => format!("p{p}"),
        }
    }
}

/// A CloudWatch metric with the statistic and period it is read with.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The namespace, e.g. `AWS/ApplicationELB`.
    pub namespace: String,
    /// The metric name, e.g. `TargetResponseTime`.
    pub name: String,
    /// Dimensions, in order (`LoadBalancer` → `app/khs/0123…`).
    ///
    /// Default: - none.
    pub dimensions: Vec<(String, Value<String>)>,
    /// The statistic.
    ///
    /// Default: [`Statistic::Average`].
    pub statistic: Statistic,
    /// The period in seconds: 10, 30 or a multiple of 60 (what alarms accept).
    ///
    /// Default: 300.
    pub period_seconds: u32,
    /// A label for graphs.
    ///
    /// Default: - the metric name.
    pub label: Option<String>,
}

/// The default period of metrics, in seconds (five minutes, as the seed).
pub const DEFAULT_PERIOD_SECONDS: u32 = 300;

impl Metric {
    /// A metric without dimensions, read as the 5-minute average.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Metric {
            namespace: namespace.into(),
            name: name.into(),
            dimensions: Vec::new(),
            statistic: Statistic::Average,
            period_seconds: DEFAULT_PERIOD_SECONDS,
            label: None,
        }
    }

    /// The same metric with one more dimension.
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<Value<String>>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// The same metric read with another statistic.
    pub fn statistic(mut self, statistic: Statistic) -> Self {
        self.statistic = statistic;
        self
    }

    /// The same metric read over another period.
    pub fn period(mut self, seconds: u32) -> Self {
        self.period_seconds = seconds;
        self
    }

    /// The same metric with a graph label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Checks the period, statistic, names and dimension count.
    pub fn validate(&self, path: &ConstructPath, prop: &str) -> Result<()> {
        check_period(path, &format!("{prop}.period_seconds"), self.period_seconds)?;
        if let Statistic::Percentile(p) = self.statistic {
            if !(p > 0.0 && p < 100.0) {
                return Err(Error::invalid_prop(
                    path,
                    format!("{prop}.statistic"),
                    format!("percentile must be between 0 and 100 (exclusive), got {p}"),
                ));
            }
        }
        for (what, s) in [("namespace", &self.namespace), ("name", &self.name)] {
            if s.is_empty() || s.len() > 255 {
                return Err(Error::invalid_prop(
                    path,
                    format!("{prop}.{what}"),
                    format!("must be 1..=255 characters, got {} ({s:?})", s.len()),
                ));
            }
        }
        if self.namespace.starts_with(':') {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.namespace"),
                format!("must not start with ':', got {:?}", self.namespace),
            ));
        }
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.dimensions"),
                format!(
                    "must have at most {MAX_DIMENSIONS} dimensions, got {}",
                    self.dimensions.len()
                ),
            ));
        }
        Ok(())
    }
}

/// CloudWatch's limit on dimensions per metric.
pub const MAX_DIMENSIONS: usize = 30;

fn check_period(path: &ConstructPath, prop: &str, p: u32) -> Result<()> {
    if matches!(p, 10 | 30) || (p >= 60 && p % 60 == 0) {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            prop,
            format!("must be 10, 30 or a multiple of 60 seconds, got {p}"),
        ))
    }
}

/// The metrics of an Application Load Balancer and one of its target groups.
///
/// The dimension values are the *full names* CloudWatch uses
/// (`app/<name>/<id>` and `targetgroup/<name>/<id>`), which the
/// `LoadBalancerFullName` and `TargetGroupFullName` attributes return.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerMetrics {
    /// The load balancer's full name.
    pub load_balancer_full_name: Value<String>,
    /// The target group's full name.
    pub target_group_full_name: Value<String>,
}

impl LoadBalancerMetrics {
    /// The metrics of a load balancer and target group of this stack.
    pub fn from_handles(
        load_balancer: &Handle<cfn::elasticloadbalancingv2::LoadBalancer>,
        target_group: &Handle<cfn::elasticloadbalancingv2::TargetGroup>,
    ) -> Self {
        LoadBalancerMetrics {
            load_balancer_full_name: load_balancer.get_att("LoadBalancerFullName"),
            target_group_full_name: target_group.get_att("TargetGroupFullName"),
        }
    }

    fn lb(&self, name: &str) -> Metric {
        Metric::new("AWS/ApplicationELB", name)
            .dimension("LoadBalancer", self.load_balancer_full_name.clone())
    }

    fn tg(&self, name: &str) -> Metric {
        self.lb(name)
            .dimension("TargetGroup", self.target_group_full_name.clone())
    }

    /// `RequestCount`, 5-minute sum.
    pub fn request_count(&self) -> Metric {
        self.lb("RequestCount").statistic(Statistic::Sum)
    }

    /// `TargetResponseTime` in seconds, 5-minute average.
    pub fn target_response_time(&self) -> Metric {
        self.lb("TargetResponseTime")
    }

    /// `HTTPCode_Target_5XX_Count`, 5-minute sum.
    pub fn target_5xx_count(&self) -> Metric {
        self.lb("HTTPCode_Target_5XX_Count")
            .statistic(Statistic::Sum)
    }

    /// `HTTPCode_ELB_5XX_Count` (errors the load balancer itself returns),
    /// 5-minute sum.
    pub fn elb_5xx_count(&self) -> Metric {
        self.lb("HTTPCode_ELB_5XX_Count").statistic(Statistic::Sum)
    }

    /// `UnHealthyHostCount` of the target group, 5-minute maximum.
    pub fn unhealthy_host_count(&self) -> Metric {
        self.tg("UnHealthyHostCount").statistic(Statistic::Maximum)
    }

    /// `HealthyHostCount` of the target group, 5-minute minimum.
    pub fn healthy_host_count(&self) -> Metric {
        self.tg("HealthyHostCount").statistic(Statistic::Minimum)
    }
}

/// The metrics of an RDS DB instance.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseMetrics {
    /// The DB instance identifier (what `Ref` of an `AWS::RDS::DBInstance`
    /// returns).
    pub instance_id: Value<String>,
}

impl DatabaseMetrics {
    /// The metrics of a DB instance of this stack.
    pub fn from_handle(instance: &Handle<cfn::rds::DbInstance>) -> Self {
        DatabaseMetrics {
            instance_id: instance.ref_(),
        }
    }

    fn m(&self, name: &str) -> Metric {
        Metric::new("AWS/RDS", name).dimension("DBInstanceIdentifier", self.instance_id.clone())
    }

    /// `CPUUtilization` (percent), 5-minute average.
    pub fn cpu_utilization(&self) -> Metric {
        self.m("CPUUtilization")
    }

    /// `DatabaseConnections`, 5-minute average.
    pub fn database_connections(&self) -> Metric {
        self.m("DatabaseConnections")
    }

    /// `FreeStorageSpace` (bytes), 5-minute minimum.
    pub fn free_storage_space(&self) -> Metric {
        self.m("FreeStorageSpace").statistic(Statistic::Minimum)
    }

    /// `FreeableMemory` (bytes), 5-minute minimum.
    pub fn freeable_memory(&self) -> Metric {
        self.m("FreeableMemory").statistic(Statistic::Minimum)
    }
}

/// The metrics of the nodes of an ElastiCache (Redis/Valkey) replication
/// group. CloudWatch reports per node, under the `CacheClusterId` of each
/// member cluster (`<replication-group-id>-001`, `-002`, … when cluster mode
/// is disabled).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheMetrics {
    /// The member cluster ids, one per node.
    pub cache_cluster_ids: Vec<Value<String>>,
}

impl CacheMetrics {
    /// The member clusters of a replication group of this stack with
    /// `nodes` nodes and cluster mode disabled (`<id>-001` … `<id>-00n`).
    pub fn from_replication_group(
        group: &Handle<cfn::elasticache::ReplicationGroup>,
        nodes: u32,
    ) -> Self {
        CacheMetrics {
            cache_cluster_ids: (1..=nodes)
                .map(|i| {
                    Intrinsic::sub_with(
                        format!("${{Group}}-{i:03}"),
                        [("Group", Expr::from(group.ref_()))],
                    )
                    .into()
                })
                .collect(),
        }
    }

    fn each(&self, name: &str, statistic: Statistic) -> Vec<Metric> {
        self.cache_cluster_ids
            .iter()
            .map(|id| {
                Metric::new("AWS/ElastiCache", name)
                    .dimension("CacheClusterId", id.clone())
                    .statistic(statistic)
            })
            .collect()
    }

    /// `CPUUtilization` of each node, 5-minute average.
    pub fn cpu_utilization(&self) -> Vec<Metric> {
        self.each("CPUUtilization", Statistic::Average)
    }

    /// `EngineCPUUtilization` (the Redis thread) of each node, 5-minute average.
    pub fn engine_cpu_utilization(&self) -> Vec<Metric> {
        self.each("EngineCPUUtilization", Statistic::Average)
    }

    /// `DatabaseMemoryUsagePercentage` of each node, 5-minute average.
    pub fn memory_usage_percentage(&self) -> Vec<Metric> {
        self.each("DatabaseMemoryUsagePercentage", Statistic::Average)
    }

    /// `CacheHitRate` (percent) of each node, 5-minute average.
    pub fn cache_hit_rate(&self) -> Vec<Metric> {
        self.each("CacheHitRate", Statistic::Average)
    }
}

/// The metrics of an ECS service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMetrics {
    /// The cluster name.
    pub cluster_name: Value<String>,
    /// The service name.
    pub service_name: Value<String>,
}

impl ServiceMetrics {
    /// The metrics of an ECS service of this stack.
    pub fn from_handles(
        cluster: &Handle<cfn::ecs::Cluster>,
        service: &Handle<cfn::ecs::Service>,
    ) -> Self {
        ServiceMetrics {
            cluster_name: cluster.ref_(),
            service_name: service.get_att("Name"),
        }
    }

    fn m(&self, name: &str) -> Metric {
        Metric::new("AWS/ECS", name)
            .dimension("ClusterName", self.cluster_name.clone())
            .dimension("ServiceName", self.service_name.clone())
    }

    /// `CPUUtilization` of the service, 5-minute average.
    pub fn cpu_utilization(&self) -> Metric {
        self.m("CPUUtilization")
    }

    /// `MemoryUtilization` of the service, 5-minute average.
    pub fn memory_utilization(&self) -> Metric {
        self.m("MemoryUtilization")
    }
}

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
    pub notify: Vec<Handle<cfn::sns::Topic>>,
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

// ---------------------------------------------------------------------------
// Dashboards
// ---------------------------------------------------------------------------

/// A line graph of one or more metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphWidget {
    /// The title.
    pub title: String,
    /// The metrics drawn (each with its own statistic and period).
    pub metrics: Vec<Metric>,
    /// Width in grid columns (the grid is 24 wide).
    ///
    /// Default: 12.
    pub width: u32,
    /// Height in grid rows.
    ///
    /// Default: 6.
    pub height: u32,
    /// Stack the series.
    ///
    /// Default: `false`.
    pub stacked: bool,
}

impl GraphWidget {
    /// A half-width graph of `metrics`.
    pub fn new(title: impl Into<String>, metrics: Vec<Metric>) -> Self {
        GraphWidget {
            title: title.into(),
            metrics,
            width: 12,
            height: 6,
            stacked: false,
        }
    }
}

/// A Markdown text widget.
#[derive(Debug, Clone, PartialEq)]
pub struct TextWidget {
    /// The Markdown text.
    pub markdown: String,
    /// Width in grid columns (the grid is 24 wide).
    ///
    /// Default: 24.
    pub width: u32,
    /// Height in grid rows.
    ///
    /// Default: 2.
    pub height: u32,
}

impl TextWidget {
    /// A full-width, two-row text widget.
    pub fn new(markdown: impl Into<String>) -> Self {
        TextWidget {
            markdown: markdown.into(),
            width: 24,
            height: 2,
        }
    }
}

/// One dashboard widget. Widgets are laid out left to right in the order
/// given, wrapping at the grid's 24 columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Widget {
    /// A graph.
    Graph(GraphWidget),
    /// Text.
    Text(TextWidget),
}

/// The width of the dashboard grid.
pub const GRID_WIDTH: u32 = 24;

/// Escapes `${` in literal text for `Fn::Sub`.
fn sub_escape(s: &str) -> String {
    s.replace("${", "${!")
}

/// Builds a dashboard body: JSON text with `${Dn}` placeholders for the
/// intrinsic dimension values and `${AWS::Region}` for the region, wrapped in
/// `Fn::Sub`.
fn dashboard_body(path: &ConstructPath, start: &str, widgets: &[Widget]) -> Result<Value<String>> {
    use serde_json::{Value as J, json};
    let mut vars: BTreeMap<String, Expr> = BTreeMap::new();
    let mut items = Vec::new();
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    for (i, w) in widgets.iter().enumerate() {
        let prop = format!("widgets[{i}]");
        let (width, height) = match w {
            Widget::Graph(g) => (g.width, g.height),
            Widget::Text(t) => (t.width, t.height),
        };
        if !(1..=GRID_WIDTH).contains(&width) {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.width"),
                format!("must be 1..={GRID_WIDTH} grid columns, got {width}"),
            ));
        }
        if !(1..=1000).contains(&height) {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.height"),
                format!("must be 1..=1000 grid rows, got {height}"),
            ));
        }
        if x + width > GRID_WIDTH {
            x = 0;
            y += row_height;
            row_height = 0;
        }
        let properties = match w {
            Widget::Text(t) => json!({"markdown": sub_escape(&t.markdown)}),
            Widget::Graph(g) => {
                if g.metrics.is_empty() {
                    return Err(Error::invalid_prop(
                        path,
                        format!("{prop}.metrics"),
                        "must list at least one metric, got none",
                    ));
                }
                let mut metrics = Vec::new();
                for (j, m) in g.metrics.iter().enumerate() {
                    m.validate(path, &format!("{prop}.metrics[{j}]"))?;
                    let mut row = vec![
                        J::from(sub_escape(&m.namespace)),
                        J::from(sub_escape(&m.name)),
                    ];
                    for (name, value) in &m.dimensions {
                        row.push(J::from(sub_escape(name)));
                        row.push(J::from(match value {
                            Value::Literal(s) => sub_escape(s),
                            Value::Fn(f) => {
                                let expr = Expr::Fn(f.clone());
                                let existing = vars
                                    .iter()
                                    .find(|(_, e)| **e == expr)
                                    .map(|(k, _)| k.clone());
                                let var = existing.unwrap_or_else(|| {
                                    let var = format!("D{}", vars.len());
                                    vars.insert(var.clone(), expr);
                                    var
                                });
                                format!("${{{var}}}")
                            }
                        }));
                    }
                    let mut opts = serde_json::Map::new();
                    opts.insert("stat".into(), J::from(m.statistic.name()));
                    opts.insert("period".into(), J::from(m.period_seconds));
                    if let Some(l) = &m.label {
                        opts.insert("label".into(), J::from(sub_escape(l)));
                    }
                    row.push(J::Object(opts));
                    metrics.push(J::Array(row));
                }
                json!({
                    "title": sub_escape(&g.title),
                    "view": "timeSeries",
                    "stacked": g.stacked,
                    "region": "${AWS::Region}",
                    "metrics": metrics,
                })
            }
        };
        let kind = match w {
            Widget::Graph(_) => "metric",
            Widget::Text(_) => "text",
        };
        items.push(json!({
            "type": kind, "x": x, "y": y, "width": width, "height": height,
            "properties": properties,
        }));
        x += width;
        row_height = row_height.max(height);
    }
    let body = json!({"start": sub_escape(start), "widgets": items});
    let text = serde_json::to_string(&body).map_err(|e| Error::Serialization {
        stack: path.stack().to_string(),
        message: format!("{path}: {e}"),
    })?;
    Ok(Intrinsic::Sub {
        template: text,
        vars,
    }
    .into())
}

/// The props of a [`Dashboard`].
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardProps {
    /// The dashboard name (unique per account; letters, digits, `-`, `_`).
    ///
    /// Default: - the stack name.
    pub dashboard_name: Option<String>,
    /// The widgets, laid out left to right, wrapping at 24 columns.
    pub widgets: Vec<Widget>,
    /// The time range shown when the dashboard opens (ISO 8601 duration,
    /// relative to now).
    ///
    /// Default: `"-PT3H"` (the last three hours).
    pub start: String,
}

impl DashboardProps {
    /// A dashboard of `widgets`, every other field at its default.
    pub fn new(widgets: Vec<Widget>) -> Self {
        DashboardProps {
            dashboard_name: None,
            widgets,
            start: "-PT3H".into(),
        }
    }
}

/// A CloudWatch dashboard. Emits one `AWS::CloudWatch::Dashboard` whose body
/// is generated from typed widgets.
#[derive(Debug, Clone)]
pub struct Dashboard {
    handle: Handle<cfn::cloudwatch::Dashboard>,
}

impl Dashboard {
    /// Adds a dashboard at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: DashboardProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let name = props.dashboard_name.clone().unwrap_or(stack_name);
        if name.is_empty()
            || name.len() > 255
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::invalid_prop(
                &path,
                "dashboard_name",
                format!("must be 1..=255 ASCII letters, digits, '-' or '_', got {name:?}"),
            ));
        }
        if props.widgets.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "widgets",
                "must list at least one widget, got none",
            ));
        }
        let body = dashboard_body(&path, &props.start, &props.widgets)?;
        let handle = me.add(
            "Resource",
            cfn::cloudwatch::Dashboard {
                dashboard_name: Some(name.into()),
                ..cfn::cloudwatch::Dashboard::new(body)
            },
        )?;
        Ok(Dashboard { handle })
    }

    /// The dashboard resource.
    pub fn handle(&self) -> &Handle<cfn::cloudwatch::Dashboard> {
        &self.handle
    }
}

/// A CloudWatch alarm on one metric. Emits one `AWS::CloudWatch::Alarm`.
#[derive(Debug, Clone)]
pub struct Alarm {
    handle: Handle<cfn::cloudwatch::Alarm>,
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
        let topics: Vec<Value<String>> = props.notify.iter().map(|t| t.ref_()).collect();
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
        Ok(Alarm { handle })
    }

    /// The alarm resource.
    pub fn handle(&self) -> &Handle<cfn::cloudwatch::Alarm> {
        &self.handle
    }
}

// ---------------------------------------------------------------------------
// Alert topics
// ---------------------------------------------------------------------------

/// The props of [`AlertTopics`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlertTopicsProps {
    /// E-mail addresses subscribed to the critical topic (each must confirm
    /// the subscription from the message SNS sends).
    ///
    /// Default: - none.
    pub critical_emails: Vec<String>,
    /// E-mail addresses subscribed to the warning topic.
    ///
    /// Default: - none.
    pub warning_emails: Vec<String>,
    /// Prefix of the topic names (`<prefix>-alerts-critical`,
    /// `<prefix>-alerts-warning`) and of the key alias
    /// (`alias/<prefix>-alerts`).
    ///
    /// Default: - the stack name.
    pub name_prefix: Option<String>,
    /// Let AWS Budgets publish to the topics (and use the key).
    ///
    /// Default: `true`.
    pub allow_budgets: bool,
}

impl Default for AlertTopicsProps {
    fn default() -> Self {
        AlertTopicsProps {
            critical_emails: Vec::new(),
            warning_emails: Vec::new(),
            name_prefix: None,
            allow_budgets: true,
        }
    }
}

/// The `alerts-critical` and `alerts-warning` SNS topics.
///
/// Emits: an `AWS::KMS::Key` (rotation on; its policy lets the account
/// administer it and CloudWatch and Budgets encrypt for the topics) with an
/// `AWS::KMS::Alias`, two `AWS::SNS::Topic`s encrypted with it, an
/// `AWS::SNS::TopicPolicy` per topic (publish allowed to
/// `cloudwatch.amazonaws.com` and `budgets.amazonaws.com` from this account
/// only; publishing without TLS denied), and an `AWS::SNS::Subscription` per
/// e-mail address.
#[derive(Debug, Clone)]
pub struct AlertTopics {
    key: Handle<cfn::kms::Key>,
    critical: Handle<cfn::sns::Topic>,
    warning: Handle<cfn::sns::Topic>,
}

/// A customer managed key policy: the account administers the key (through
/// IAM), and `services` may use it to encrypt and decrypt messages or data
/// they write for this account.
pub(crate) fn key_policy(services: &[&str], sid: &str) -> PolicyDocument {
    let mut doc = PolicyDocument::new([PolicyStatement::allow(["kms:*"], ["*"])
        .with_sid("AccountAdministersKeyThroughIam")
        .with_principal(Principal::account_root())]);
    for svc in services {
        doc.push(
            PolicyStatement::allow(["kms:Decrypt", "kms:GenerateDataKey*"], ["*"])
                .with_sid(format!("{sid}{}", service_sid(svc)))
                .with_principal(Principal::service(*svc)),
        );
    }
    doc
}

/// `cloudwatch.amazonaws.com` → `Cloudwatch`.
fn service_sid(service: &str) -> String {
    let name = service.split('.').next().unwrap_or(service);
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// One alert topic with its policy and e-mail subscriptions.
fn add_topic(
    me: &mut Scope<'_>,
    key: &Handle<cfn::kms::Key>,
    services: &[&str],
    (tid, suffix, display): (&str, &str, &str),
    prefix: &str,
    emails: &[String],
) -> Result<Handle<cfn::sns::Topic>> {
    let topic = me.add(
        tid,
        cfn::sns::Topic {
            topic_name: Some(format!("{prefix}-alerts-{suffix}").into()),
            display_name: Some(display.into()),
            kms_master_key_id: Some(key.attr_arn()),
            ..cfn::sns::Topic::new()
        },
    )?;
    let mut doc = PolicyDocument::default();
    for svc in services {
        doc.push(
            PolicyStatement::allow(["sns:Publish"], [topic.ref_()])
                .with_sid(format!("{}Publish", service_sid(svc)))
                .with_principal(Principal::service(*svc))
                .with_condition(Condition::new(
                    "StringEquals",
                    "aws:SourceAccount",
                    Pseudo::AccountId,
                )),
        );
    }
    doc.push(
        PolicyStatement::deny(["sns:Publish"], [topic.ref_()])
            .with_sid("DenyPublishWithoutTls")
            .with_principal(Principal::Any)
            .with_condition(Condition::new("Bool", "aws:SecureTransport", "false")),
    );
    me.add(
        &format!("{tid}Policy"),
        cfn::sns::TopicPolicy::new(doc.to_json(), Value::Literal(vec![topic.ref_()])),
    )?;
    for (i, e) in emails.iter().enumerate() {
        me.add(
            &format!("{tid}Email{}", i + 1),
            cfn::sns::Subscription {
                endpoint: Some(e.as_str().into()),
                ..cfn::sns::Subscription::new(SubscriptionRequired {
                    topic_arn: topic.ref_(),
                    protocol: "email".into(),
                })
            },
        )?;
    }
    Ok(topic)
}

fn check_email(path: &ConstructPath, prop: &str, e: &str) -> Result<()> {
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            prop,
            format!("must be an e-mail address such as \"ops@example.com\", got {e:?}"),
        ))
    }
}

impl AlertTopics {
    /// Adds the topics at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: AlertTopicsProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        for (prop, list) in [
            ("critical_emails", &props.critical_emails),
            ("warning_emails", &props.warning_emails),
        ] {
            for (i, e) in list.iter().enumerate() {
                check_email(&path, &format!("{prop}[{i}]"), e)?;
            }
        }
        let prefix = props.name_prefix.clone().unwrap_or(stack_name);
        if prefix.is_empty()
            || prefix.len() > 200
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::invalid_prop(
                &path,
                "name_prefix",
                format!("must be 1..=200 ASCII letters, digits, '-' or '_', got {prefix:?}"),
            ));
        }
        let mut services = vec!["cloudwatch.amazonaws.com"];
        if props.allow_budgets {
            services.push("budgets.amazonaws.com");
        }
        let key = me.add(
            "Key",
            cfn::kms::Key {
                description: Some(format!("Encrypts the {prefix} alert topics").into()),
                enable_key_rotation: Some(true.into()),
                key_policy: Some(key_policy(&services, "ServiceEncrypts").to_json()),
                ..cfn::kms::Key::new()
            },
        )?;
        me.add(
            "KeyAlias",
            cfn::kms::Alias::new(AliasRequired {
                alias_name: format!("alias/{prefix}-alerts").into(),
                target_key_id: key.ref_(),
            }),
        )?;
        let critical = add_topic(
            &mut me,
            &key,
            &services,
            ("Critical", "critical", "Critical alerts"),
            &prefix,
            &props.critical_emails,
        )?;
        let warning = add_topic(
            &mut me,
            &key,
            &services,
            ("Warning", "warning", "Warnings"),
            &prefix,
            &props.warning_emails,
        )?;
        Ok(AlertTopics {
            key,
            critical,
            warning,
        })
    }

    /// The critical topic.
    pub fn critical(&self) -> &Handle<cfn::sns::Topic> {
        &self.critical
    }

    /// The warning topic.
    pub fn warning(&self) -> &Handle<cfn::sns::Topic> {
        &self.warning
    }

    /// The topic for a severity.
    pub fn topic(&self, severity: Severity) -> &Handle<cfn::sns::Topic> {
        match severity {
            Severity::Critical => &self.critical,
            Severity::Warning => &self.warning,
        }
    }

    /// The key encrypting both topics.
    pub fn key(&self) -> &Handle<cfn::kms::Key> {
        &self.key
    }
}

// ---------------------------------------------------------------------------
// X-Ray
// ---------------------------------------------------------------------------

/// The props of [`Tracing`].
#[derive(Debug, Clone, PartialEq)]
pub struct TracingProps {
    /// The segment (service) name the application reports
    /// (`AWSXRay.express.openSegment("KHS-CRM-API")` in the seed).
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

/// The service name of the KHS CRM API segment.
pub const KHS_API_SEGMENT: &str = "KHS-CRM-API";

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

// ---------------------------------------------------------------------------
// The KHS CRM monitoring set
// ---------------------------------------------------------------------------

/// Alarm thresholds of [`Monitoring`]. The defaults are the seed's figures
/// where it gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmThresholds {
    /// Target 5xx responses per 5 minutes, over 2 periods → critical.
    ///
    /// Default: 10 (the seed's `HighErrorRate`).
    pub target_5xx_count: f64,
    /// Average target response time in seconds, over 3 periods → warning.
    ///
    /// Default: 1.0 (the seed's `HighLatency`, "1000 ms").
    pub target_response_time_seconds: f64,
    /// Database CPU percent, over 2 periods → warning.
    ///
    /// Default: 80 (the seed's `DatabaseCPU`).
    pub database_cpu_percent: f64,
    /// Database free storage in bytes, below it → critical.
    ///
    /// Default: 10 GiB (10 % of the seed's 100 GB).
    pub database_free_storage_bytes: f64,
    /// Cache engine CPU percent per node, over 2 periods → warning.
    ///
    /// Default: 80.
    pub cache_engine_cpu_percent: f64,
    /// Cache memory use percent per node, over 2 periods → warning.
    ///
    /// Default: 80.
    pub cache_memory_percent: f64,
    /// Service CPU and memory percent, over 3 periods → warning (the service
    /// scales out at 70 % CPU / 80 % memory; staying above this means it
    /// cannot).
    ///
    /// Default: 90.
    pub service_utilization_percent: f64,
}

impl Default for AlarmThresholds {
    fn default() -> Self {
        AlarmThresholds {
            target_5xx_count: 10.0,
            target_response_time_seconds: 1.0,
            database_cpu_percent: 80.0,
            database_free_storage_bytes: 10.0 * 1024.0 * 1024.0 * 1024.0,
            cache_engine_cpu_percent: 80.0,
            cache_memory_percent: 80.0,
            service_utilization_percent: 90.0,
        }
    }
}

/// The props of [`Monitoring`].
#[derive(Debug, Clone)]
pub struct MonitoringProps<'a> {
    /// Where alarms notify.
    pub alerts: &'a AlertTopics,
    /// The API's load balancer and target group.
    ///
    /// Default: - no load balancer alarms or widgets.
    pub load_balancer: Option<LoadBalancerMetrics>,
    /// The database.
    ///
    /// Default: - no database alarms or widgets.
    pub database: Option<DatabaseMetrics>,
    /// The cache nodes.
    ///
    /// Default: - no cache alarms or widgets.
    pub cache: Option<CacheMetrics>,
    /// The ECS service.
    ///
    /// Default: - no service alarms or widgets.
    pub service: Option<ServiceMetrics>,
    /// Alarm thresholds.
    ///
    /// Default: - [`AlarmThresholds::default`] (the seed's figures).
    pub thresholds: AlarmThresholds,
    /// The dashboard's name.
    ///
    /// Default: - the stack name.
    pub dashboard_name: Option<String>,
    /// X-Ray sampling rule and group.
    ///
    /// Default: - none.
    pub tracing: Option<TracingProps>,
}

impl<'a> MonitoringProps<'a> {
    /// Props notifying `alerts`, with nothing to watch yet.
    pub fn new(alerts: &'a AlertTopics) -> Self {
        MonitoringProps {
            alerts,
            load_balancer: None,
            database: None,
            cache: None,
            service: None,
            thresholds: AlarmThresholds::default(),
            dashboard_name: None,
            tracing: None,
        }
    }
}

/// The alarms, dashboard and tracing of the KHS CRM.
///
/// Alarms (each a [`Alarm`] under `scope/id/<name>`):
///
/// | id | metric | condition | to |
/// |---|---|---|---|
/// | `HighErrorRate` | ALB `HTTPCode_Target_5XX_Count` Sum | > 10 for 2 × 300 s | critical |
/// | `HighLatency` | ALB `TargetResponseTime` Average | > 1 s for 3 × 300 s | warning |
/// | `UnhealthyHosts` | target group `UnHealthyHostCount` Maximum | > 0 for 2 × 300 s | warning |
/// | `NoHealthyHosts` | target group `HealthyHostCount` Minimum | < 1 for 2 × 60 s | critical |
/// | `DatabaseCpu` | RDS `CPUUtilization` Average | > 80 % for 2 × 300 s | warning |
/// | `DatabaseFreeStorage` | RDS `FreeStorageSpace` Minimum | < 10 GiB for 1 × 300 s | critical |
/// | `CacheEngineCpu<n>` | ElastiCache `EngineCPUUtilization` per node | > 80 % for 2 × 300 s | warning |
/// | `CacheMemory<n>` | ElastiCache `DatabaseMemoryUsagePercentage` per node | > 80 % for 2 × 300 s | warning |
/// | `ServiceCpu`, `ServiceMemory` | ECS `CPUUtilization`, `MemoryUtilization` | > 90 % for 3 × 300 s | warning |
///
/// Only the alarms of the parts given in the props are created. The
/// dashboard shows the seed's widgets (request count, latency, 5xx,
/// database connections, cache hit rate) and CPU graphs.
#[derive(Debug, Clone)]
pub struct Monitoring {
    alarms: Vec<(String, Alarm)>,
    dashboard: Option<Dashboard>,
    tracing: Option<Tracing>,
}

impl Monitoring {
    /// Adds the alarms, dashboard and tracing at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: MonitoringProps<'_>) -> Result<Self> {
        use ComparisonOperator::{GreaterThan, LessThan};
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let t = &props.thresholds;
        let critical = props.alerts.critical().clone();
        let warning = props.alerts.warning().clone();
        let mut specs: Vec<(String, AlarmProps)> = Vec::new();
        let mut alarm = |id: &str,
                         metric: Metric,
                         cmp: ComparisonOperator,
                         threshold: f64,
                         periods: u32,
                         missing: TreatMissingData,
                         to: &Handle<cfn::sns::Topic>,
                         description: &str| {
            specs.push((
                id.to_string(),
                AlarmProps {
                    treat_missing_data: missing,
                    description: Some(description.to_string()),
                    notify: vec![to.clone()],
                    ..AlarmProps::new(metric, cmp, threshold, periods)
                },
            ));
        };
        let mut widgets = vec![Widget::Text(TextWidget::new(
            "# KHS CRM\nAPI traffic, latency and errors; database and cache health.",
        ))];
        if let Some(lb) = &props.load_balancer {
            alarm(
                "HighErrorRate",
                lb.target_5xx_count(),
                GreaterThan,
                t.target_5xx_count,
                2,
                TreatMissingData::NotBreaching,
                &critical,
                "API targets returned too many 5xx responses",
            );
            alarm(
                "HighLatency",
                lb.target_response_time(),
                GreaterThan,
                t.target_response_time_seconds,
                3,
                TreatMissingData::NotBreaching,
                &warning,
                "API average response time is too high",
            );
            alarm(
                "UnhealthyHosts",
                lb.unhealthy_host_count(),
                GreaterThan,
                0.0,
                2,
                TreatMissingData::NotBreaching,
                &warning,
                "Some API tasks fail their health checks",
            );
            alarm(
                "NoHealthyHosts",
                lb.healthy_host_count().period(60),
                LessThan,
                1.0,
                2,
                TreatMissingData::Breaching,
                &critical,
                "No API task passes its health check",
            );
            widgets.push(Widget::Graph(GraphWidget::new(
                "API requests",
                vec![lb.request_count()],
            )));
            widgets.push(Widget::Graph(GraphWidget::new(
                "API latency (s)",
                vec![lb.target_response_time()],
            )));
            widgets.push(Widget::Graph(GraphWidget::new(
                "API 5xx errors",
                vec![lb.target_5xx_count(), lb.elb_5xx_count()],
            )));
        }
        if let Some(svc) = &props.service {
            alarm(
                "ServiceCpu",
                svc.cpu_utilization(),
                GreaterThan,
                t.service_utilization_percent,
                3,
                TreatMissingData::Missing,
                &warning,
                "API service CPU stays high although it scales out at 70 %",
            );
            alarm(
                "ServiceMemory",
                svc.memory_utilization(),
                GreaterThan,
                t.service_utilization_percent,
                3,
                TreatMissingData::Missing,
                &warning,
                "API service memory stays high although it scales out at 80 %",
            );
            widgets.push(Widget::Graph(GraphWidget::new(
                "API service CPU and memory (%)",
                vec![svc.cpu_utilization(), svc.memory_utilization()],
            )));
        }
        if let Some(db) = &props.database {
            alarm(
                "DatabaseCpu",
                db.cpu_utilization(),
                GreaterThan,
                t.database_cpu_percent,
                2,
                TreatMissingData::Missing,
                &warning,
                "Database CPU is high; consider a read replica or a larger instance",
            );
            alarm(
                "DatabaseFreeStorage",
                db.free_storage_space(),
                LessThan,
                t.database_free_storage_bytes,
                1,
                TreatMissingData::Missing,
                &critical,
                "Database free storage is low",
            );
            widgets.push(Widget::Graph(GraphWidget::new(
                "Database connections",
                vec![db.database_connections()],
            )));
            widgets.push(Widget::Graph(GraphWidget::new(
                "Database CPU (%)",
                vec![db.cpu_utilization()],
            )));
        }
        if let Some(cache) = &props.cache {
            for (i, m) in cache.engine_cpu_utilization().into_iter().enumerate() {
                alarm(
                    &format!("CacheEngineCpu{}", i + 1),
                    m,
                    GreaterThan,
                    t.cache_engine_cpu_percent,
                    2,
                    TreatMissingData::Missing,
                    &warning,
                    "Cache engine CPU is high",
                );
            }
            for (i, m) in cache.memory_usage_percentage().into_iter().enumerate() {
                alarm(
                    &format!("CacheMemory{}", i + 1),
                    m,
                    GreaterThan,
                    t.cache_memory_percent,
                    2,
                    TreatMissingData::Missing,
                    &warning,
                    "Cache memory use is high",
                );
            }
            widgets.push(Widget::Graph(GraphWidget::new(
                "Cache hit rate (%)",
                cache.cache_hit_rate(),
            )));
        }
        let mut alarms = Vec::new();
        for (aid, p) in specs {
            let a = Alarm::new(&mut me, &aid, p)?;
            alarms.push((aid, a));
        }
        let dashboard = if widgets.len() > 1 {
            Some(Dashboard::new(
                &mut me,
                "Dashboard",
                DashboardProps {
                    dashboard_name: props.dashboard_name.clone(),
                    ..DashboardProps::new(widgets)
                },
            )?)
        } else {
            None
        };
        let tracing = match props.tracing {
            Some(tp) => Some(Tracing::new(&mut me, "Tracing", tp)?),
            None => None,
        };
        Ok(Monitoring {
            alarms,
            dashboard,
            tracing,
        })
    }

    /// The alarms, by id.
    pub fn alarms(&self) -> &[(String, Alarm)] {
        &self.alarms
    }

    /// The alarm with this id.
    pub fn alarm(&self, id: &str) -> Option<&Alarm> {
        self.alarms.iter().find(|(i, _)| i == id).map(|(_, a)| a)
    }

    /// The dashboard (absent when nothing is watched).
    pub fn dashboard(&self) -> Option<&Dashboard> {
        self.dashboard.as_ref()
    }

    /// The X-Ray rule and group.
    pub fn tracing(&self) -> Option<&Tracing> {
        self.tracing.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::{Value as J, json};

    fn stack() -> Stack {
        Stack::new(
            "khs-test",
            StackProps::new(Environment::region("us-east-1")),
        )
        .unwrap()
    }

    fn template(stack: &Stack) -> J {
        serde_json::to_value(stack.synth().unwrap()).unwrap()
    }

    fn of_type<'a>(t: &'a J, ty: &str) -> Vec<(&'a String, &'a J)> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == ty)
            .collect()
    }

    struct Watched {
        lb: LoadBalancerMetrics,
        db: DatabaseMetrics,
        cache: CacheMetrics,
        svc: ServiceMetrics,
    }

    fn watched(stack: &mut Stack) -> Watched {
        use cfn::elasticloadbalancingv2 as elb;
        let mut s = stack.as_scope();
        let lb = s
            .add(
                "Lb",
                elb::LoadBalancer {
                    subnets: Some(vec!["subnet-1", "subnet-2"].into()),
                    ..elb::LoadBalancer::new()
                },
            )
            .unwrap();
        let tg = s.add("Tg", elb::TargetGroup::new()).unwrap();
        let db = s.add("Db", cfn::rds::DbInstance::new()).unwrap();
        let rg = s
            .add("Cache", cfn::elasticache::ReplicationGroup::new("cache"))
            .unwrap();
        let cluster = s.add("Cluster", cfn::ecs::Cluster::new()).unwrap();
        let svc = s.add("Service", cfn::ecs::Service::new()).unwrap();
        Watched {
            lb: LoadBalancerMetrics::from_handles(&lb, &tg),
            db: DatabaseMetrics::from_handle(&db),
            cache: CacheMetrics::from_replication_group(&rg, 2),
            svc: ServiceMetrics::from_handles(&cluster, &svc),
        }
    }

    fn full(stack: &mut Stack) -> (AlertTopics, Monitoring) {
        let w = watched(stack);
        let alerts = AlertTopics::new(
            stack,
            "Alerts",
            AlertTopicsProps {
                critical_emails: vec!["oncall@example.com".into()],
                ..AlertTopicsProps::default()
            },
        )
        .unwrap();
        let m = Monitoring::new(
            stack,
            "Monitoring",
            MonitoringProps {
                load_balancer: Some(w.lb),
                database: Some(w.db),
                cache: Some(w.cache),
                service: Some(w.svc),
                tracing: Some(TracingProps::new(KHS_API_SEGMENT)),
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        (alerts, m)
    }

    #[test]
    fn alert_topics_are_encrypted_with_a_key_cloudwatch_and_budgets_may_use() {
        let mut st = stack();
        let (alerts, _) = full(&mut st);
        let t = template(&st);
        let topics = of_type(&t, "AWS::SNS::Topic");
        assert_eq!(topics.len(), 2);
        let key_id = alerts.key().logical_id().as_str();
        for (_, topic) in &topics {
            assert_eq!(
                topic["Properties"]["KmsMasterKeyId"],
                json!({"Fn::GetAtt": [key_id, "Arn"]})
            );
        }
        assert_eq!(
            t["Resources"]["AlertsCritical"]["Properties"]["TopicName"],
            "khs-test-alerts-critical"
        );
        assert_eq!(
            t["Resources"]["AlertsWarning"]["Properties"]["TopicName"],
            "khs-test-alerts-warning"
        );
        let key = &t["Resources"][key_id]["Properties"];
        assert_eq!(key["EnableKeyRotation"], true);
        let services: Vec<&J> = key["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Principal"].get("Service"))
            .collect();
        assert_eq!(
            services,
            vec![
                &json!("cloudwatch.amazonaws.com"),
                &json!("budgets.amazonaws.com")
            ]
        );
        let policy = &t["Resources"]["AlertsWarningPolicy"]["Properties"];
        let st0 = &policy["PolicyDocument"]["Statement"];
        assert_eq!(st0[0]["Principal"]["Service"], "cloudwatch.amazonaws.com");
        assert_eq!(st0[0]["Resource"], json!({"Ref": "AlertsWarning"}));
        assert_eq!(st0[1]["Principal"]["Service"], "budgets.amazonaws.com");
        assert_eq!(st0[2]["Effect"], "Deny");
        let subs = of_type(&t, "AWS::SNS::Subscription");
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].1["Properties"]["Protocol"], "email");
        assert_eq!(subs[0].1["Properties"]["Endpoint"], "oncall@example.com");
        assert_eq!(
            subs[0].1["Properties"]["TopicArn"],
            json!({"Ref": "AlertsCritical"})
        );
        assert!(crate::iam::check_template(&t).is_empty());
    }

    #[test]
    fn budgets_can_be_left_out_of_the_key_and_topic_policies() {
        let mut st = stack();
        AlertTopics::new(
            &mut st,
            "Alerts",
            AlertTopicsProps {
                allow_budgets: false,
                name_prefix: Some("khs".into()),
                ..AlertTopicsProps::default()
            },
        )
        .unwrap();
        let t = template(&st);
        assert!(!t.to_string().contains("budgets.amazonaws.com"));
        assert_eq!(
            t["Resources"]["AlertsKeyAlias"]["Properties"]["AliasName"],
            "alias/khs-alerts"
        );
    }

    #[test]
    fn seed_alarms_have_the_seed_figures() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let p = |id: &str| {
            let lid = m.alarm(id).unwrap().handle().logical_id().to_string();
            t["Resources"][lid]["Properties"].clone()
        };
        let e = p("HighErrorRate");
        assert_eq!(e["MetricName"], "HTTPCode_Target_5XX_Count");
        assert_eq!(e["Namespace"], "AWS/ApplicationELB");
        assert_eq!(e["Statistic"], "Sum");
        assert_eq!(e["Threshold"], 10.0);
        assert_eq!(e["Period"], 300);
        assert_eq!(e["EvaluationPeriods"], 2);
        assert_eq!(e["ComparisonOperator"], "GreaterThanThreshold");
        assert_eq!(e["TreatMissingData"], "notBreaching");
        assert_eq!(e["AlarmActions"], json!([{"Ref": "AlertsCritical"}]));
        assert_eq!(e["OKActions"], json!([{"Ref": "AlertsCritical"}]));
        assert_eq!(e["AlarmName"], "khs-test-HighErrorRate");
        assert_eq!(
            e["Dimensions"],
            json!([{"Name": "LoadBalancer", "Value": {"Fn::GetAtt": ["Lb", "LoadBalancerFullName"]}}])
        );
        let l = p("HighLatency");
        assert_eq!(l["MetricName"], "TargetResponseTime");
        assert_eq!(l["Statistic"], "Average");
        assert_eq!(l["Threshold"], 1.0);
        assert_eq!(l["EvaluationPeriods"], 3);
        assert_eq!(l["AlarmActions"], json!([{"Ref": "AlertsWarning"}]));
        let c = p("DatabaseCpu");
        assert_eq!(c["Namespace"], "AWS/RDS");
        assert_eq!(c["MetricName"], "CPUUtilization");
        assert_eq!(c["Threshold"], 80.0);
        assert_eq!(c["EvaluationPeriods"], 2);
        assert_eq!(c["Period"], 300);
        assert_eq!(
            c["Dimensions"],
            json!([{"Name": "DBInstanceIdentifier", "Value": {"Ref": "Db"}}])
        );
        assert_eq!(c["AlarmActions"], json!([{"Ref": "AlertsWarning"}]));
        let n = p("NoHealthyHosts");
        assert_eq!(n["ComparisonOperator"], "LessThanThreshold");
        assert_eq!(n["Dimensions"][1]["Name"], "TargetGroup");
        let cache = p("CacheEngineCpu2");
        assert_eq!(
            cache["Dimensions"][0]["Value"],
            json!({"Fn::Sub": ["${Group}-002", {"Group": {"Ref": "Cache"}}]})
        );
        let ids: Vec<&str> = m.alarms().iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            ids,
            [
                "HighErrorRate",
                "HighLatency",
                "UnhealthyHosts",
                "NoHealthyHosts",
                "ServiceCpu",
                "ServiceMemory",
                "DatabaseCpu",
                "DatabaseFreeStorage",
                "CacheEngineCpu1",
                "CacheEngineCpu2",
                "CacheMemory1",
                "CacheMemory2"
            ]
        );
    }

    #[test]
    fn dashboard_shows_the_seed_widgets() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let lid = m.dashboard().unwrap().handle().logical_id().to_string();
        let d = &t["Resources"][lid]["Properties"];
        assert_eq!(d["DashboardName"], "khs-test");
        let sub = d["DashboardBody"]["Fn::Sub"].as_array().unwrap();
        let body: J = serde_json::from_str(sub[0].as_str().unwrap()).unwrap();
        let vars = &sub[1];
        let widgets = body["widgets"].as_array().unwrap();
        let metric = |ns: &str, name: &str| -> (String, u64) {
            for w in widgets {
                for m in w["properties"]["metrics"].as_array().into_iter().flatten() {
                    let m = m.as_array().unwrap();
                    if m[0] == ns && m[1] == name {
                        let o = m.last().unwrap();
                        return (
                            o["stat"].as_str().unwrap().to_string(),
                            o["period"].as_u64().unwrap(),
                        );
                    }
                }
            }
            panic!("{ns} {name} not on the dashboard");
        };
        assert_eq!(
            metric("AWS/ApplicationELB", "RequestCount"),
            ("Sum".into(), 300)
        );
        assert_eq!(
            metric("AWS/ApplicationELB", "TargetResponseTime"),
            ("Average".into(), 300)
        );
        assert_eq!(
            metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
            ("Sum".into(), 300)
        );
        assert_eq!(
            metric("AWS/RDS", "DatabaseConnections"),
            ("Average".into(), 300)
        );
        assert_eq!(
            metric("AWS/ElastiCache", "CacheHitRate"),
            ("Average".into(), 300)
        );
        assert_eq!(widgets[1]["properties"]["region"], "${AWS::Region}");
        assert_eq!(widgets[1]["properties"]["metrics"][0][3], "${D0}");
        assert_eq!(
            vars["D0"],
            json!({"Fn::GetAtt": ["Lb", "LoadBalancerFullName"]})
        );
        // Laid out on the 24-column grid without overlap.
        for w in widgets {
            assert!(w["x"].as_u64().unwrap() + w["width"].as_u64().unwrap() <= 24);
        }
        assert_eq!(
            (widgets[1]["x"].as_u64(), widgets[1]["y"].as_u64()),
            (Some(0), Some(2))
        );
        assert_eq!(
            (widgets[2]["x"].as_u64(), widgets[2]["y"].as_u64()),
            (Some(12), Some(2))
        );
    }

    #[test]
    fn dashboard_escapes_literal_placeholders() {
        let mut st = stack();
        Dashboard::new(
            &mut st,
            "Dash",
            DashboardProps::new(vec![Widget::Text(TextWidget::new("cost ${x}"))]),
        )
        .unwrap();
        let t = template(&st);
        let body = t["Resources"]["DashResource"]["Properties"]["DashboardBody"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(body.contains("cost ${!x}"), "{body}");
    }

    #[test]
    fn tracing_has_a_sampling_rule_and_group_for_the_api_segment() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let tr = m.tracing().unwrap();
        let rule = &t["Resources"][tr.rule().logical_id().as_str()]["Properties"]["SamplingRule"];
        assert_eq!(rule["ServiceName"], "KHS-CRM-API");
        assert_eq!(rule["RuleName"], "KHS-CRM-API");
        assert_eq!(rule["FixedRate"], 0.05);
        assert_eq!(rule["Version"], 1);
        let g = &t["Resources"][tr.group().logical_id().as_str()]["Properties"];
        assert_eq!(g["FilterExpression"], "service(\"KHS-CRM-API\")");
        assert_eq!(g["InsightsConfiguration"]["InsightsEnabled"], true);
    }

    #[test]
    fn only_watched_parts_get_alarms() {
        let mut st = stack();
        let w = watched(&mut st);
        let alerts = AlertTopics::new(&mut st, "Alerts", AlertTopicsProps::default()).unwrap();
        let m = Monitoring::new(
            &mut st,
            "Monitoring",
            MonitoringProps {
                database: Some(w.db),
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        assert_eq!(m.alarms().len(), 2);
        assert!(m.dashboard().is_some());
        assert!(m.tracing().is_none());
    }

    fn alarm_err(p: AlarmProps) -> String {
        let mut st = stack();
        Alarm::new(&mut st, "Bad", p).unwrap_err().to_string()
    }

    fn metric() -> Metric {
        Metric::new("AWS/RDS", "CPUUtilization")
    }

    #[test]
    fn fails_when_period_is_not_one_cloudwatch_accepts() {
        for p in [0, 5, 20, 45, 90, 61] {
            let m = alarm_err(AlarmProps::new(
                metric().period(p),
                ComparisonOperator::GreaterThan,
                1.0,
                1,
            ));
            assert!(m.starts_with("khs-test/Bad: metric.period_seconds"), "{m}");
            assert!(m.contains(&format!("got {p}")), "{m}");
        }
        for p in [10, 30, 60, 300, 3600] {
            let mut st = stack();
            Alarm::new(
                &mut st,
                "Ok",
                AlarmProps::new(metric().period(p), ComparisonOperator::GreaterThan, 1.0, 1),
            )
            .unwrap();
        }
    }

    #[test]
    fn fails_when_evaluation_periods_is_zero() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            1.0,
            0,
        ));
        assert!(
            m.starts_with("khs-test/Bad: evaluation_periods must be at least 1, got 0"),
            "{m}"
        );
    }

    #[test]
    fn fails_when_the_evaluation_range_exceeds_a_day() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            1.0,
            289,
        ));
        assert!(m.starts_with("khs-test/Bad: evaluation_periods"), "{m}");
        assert!(m.contains("86400"), "{m}");
        // Hour-long periods may span a week.
        let mut st = stack();
        Alarm::new(
            &mut st,
            "Week",
            AlarmProps::new(
                metric().period(3600),
                ComparisonOperator::GreaterThan,
                1.0,
                168,
            ),
        )
        .unwrap();
    }

    #[test]
    fn fails_when_datapoints_to_alarm_exceed_the_periods() {
        let m = alarm_err(AlarmProps {
            datapoints_to_alarm: Some(4),
            ..AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 3)
        });
        assert!(
            m.starts_with("khs-test/Bad: datapoints_to_alarm must be 1..=3"),
            "{m}"
        );
    }

    #[test]
    fn fails_when_threshold_is_not_finite() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            f64::NAN,
            1,
        ));
        assert!(m.starts_with("khs-test/Bad: threshold"), "{m}");
    }

    #[test]
    fn fails_when_percentile_is_out_of_range() {
        let m = alarm_err(AlarmProps::new(
            metric().statistic(Statistic::Percentile(100.0)),
            ComparisonOperator::GreaterThan,
            1.0,
            1,
        ));
        assert!(m.starts_with("khs-test/Bad: metric.statistic"), "{m}");
        let mut st = stack();
        Alarm::new(
            &mut st,
            "P99",
            AlarmProps::new(
                metric().statistic(Statistic::Percentile(99.0)),
                ComparisonOperator::GreaterThan,
                1.0,
                1,
            ),
        )
        .unwrap();
        let t = template(&st);
        assert_eq!(
            t["Resources"]["P99Resource"]["Properties"]["ExtendedStatistic"],
            "p99"
        );
        assert!(
            t["Resources"]["P99Resource"]["Properties"]
                .get("Statistic")
                .is_none()
        );
    }

    #[test]
    fn fails_when_a_metric_has_too_many_dimensions() {
        let mut m = metric();
        for i in 0..31 {
            m = m.dimension(format!("D{i}"), "x");
        }
        let e = alarm_err(AlarmProps::new(m, ComparisonOperator::GreaterThan, 1.0, 1));
        assert!(e.starts_with("khs-test/Bad: metric.dimensions"), "{e}");
    }

    #[test]
    fn fails_when_names_or_descriptions_are_too_long_or_empty() {
        let base = || AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 1);
        let cases: Vec<(AlarmProps, &str)> = vec![
            (
                AlarmProps {
                    alarm_name: Some("a".repeat(256)),
                    ..base()
                },
                "alarm_name must be 1..=255 characters, got 256",
            ),
            (
                AlarmProps {
                    description: Some("d".repeat(1025)),
                    ..base()
                },
                "description must be at most 1024 characters, got 1025",
            ),
            (
                AlarmProps::new(
                    Metric::new("", "CPUUtilization"),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.namespace must be 1..=255 characters",
            ),
            (
                AlarmProps::new(
                    Metric::new(":AWS/RDS", "CPUUtilization"),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.namespace must not start with ':'",
            ),
            (
                AlarmProps::new(
                    Metric::new("AWS/RDS", ""),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.name must be 1..=255 characters",
            ),
        ];
        for (p, needle) in cases {
            let e = alarm_err(p);
            assert!(e.starts_with("khs-test/Bad: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn fails_when_an_alarm_notifies_more_than_five_topics() {
        let mut st = stack();
        let topics: Vec<Handle<cfn::sns::Topic>> = (0..6)
            .map(|i| {
                st.as_scope()
                    .add(&format!("T{i}"), cfn::sns::Topic::new())
                    .unwrap()
            })
            .collect();
        let e = Alarm::new(
            &mut st,
            "Bad",
            AlarmProps {
                notify: topics,
                ..AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 1)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs-test/Bad: notify takes at most 5 topics, got 6"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_an_email_is_malformed() {
        for bad in ["ops", "ops@localhost", "@example.com", "o ps@example.com"] {
            let mut st = stack();
            let e = AlertTopics::new(
                &mut st,
                "Alerts",
                AlertTopicsProps {
                    warning_emails: vec![bad.into()],
                    ..AlertTopicsProps::default()
                },
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("khs-test/Alerts: warning_emails[0] must be an e-mail"),
                "{e}"
            );
        }
    }

    #[test]
    fn fails_when_name_prefix_is_invalid() {
        let mut st = stack();
        let e = AlertTopics::new(
            &mut st,
            "Alerts",
            AlertTopicsProps {
                name_prefix: Some("khs crm".into()),
                ..AlertTopicsProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("khs-test/Alerts: name_prefix"), "{e}");
    }

    #[test]
    fn fails_when_dashboard_props_are_invalid() {
        let graph = |w: u32| {
            Widget::Graph(GraphWidget {
                width: w,
                ..GraphWidget::new("g", vec![metric()])
            })
        };
        let cases: Vec<(DashboardProps, &str)> = vec![
            (
                DashboardProps::new(vec![]),
                "widgets must list at least one widget",
            ),
            (
                DashboardProps::new(vec![graph(25)]),
                "widgets[0].width must be 1..=24",
            ),
            (DashboardProps::new(vec![graph(0)]), "widgets[0].width"),
            (
                DashboardProps::new(vec![Widget::Graph(GraphWidget::new("g", vec![]))]),
                "widgets[0].metrics must list at least one metric",
            ),
            (
                DashboardProps::new(vec![Widget::Graph(GraphWidget::new(
                    "g",
                    vec![metric().period(7)],
                ))]),
                "widgets[0].metrics[0].period_seconds",
            ),
            (
                DashboardProps {
                    dashboard_name: Some("my dashboard".into()),
                    ..DashboardProps::new(vec![graph(12)])
                },
                "dashboard_name must be",
            ),
        ];
        for (props, needle) in cases {
            let mut st = stack();
            let e = Dashboard::new(&mut st, "Dash", props)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("khs-test/Dash: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn fails_when_tracing_props_are_invalid() {
        let cases: Vec<(TracingProps, &str)> = vec![
            (
                TracingProps {
                    fixed_rate: 1.5,
                    ..TracingProps::new("api")
                },
                "fixed_rate must be between 0 and 1, got 1.5",
            ),
            (
                TracingProps {
                    priority: 0,
                    ..TracingProps::new("api")
                },
                "priority must be 1..=9999, got 0",
            ),
            (
                TracingProps::new("a-service-name-longer-than-32-chars"),
                "rule_name must be 1..=32 characters",
            ),
            (
                TracingProps {
                    group_name: Some(String::new()),
                    ..TracingProps::new("api")
                },
                "group_name must be 1..=32 characters",
            ),
            (TracingProps::new("a\"b"), "service_name must not contain"),
            (
                TracingProps {
                    url_path: String::new(),
                    ..TracingProps::new("api")
                },
                "url_path",
            ),
        ];
        for (props, needle) in cases {
            let mut st = stack();
            let e = Tracing::new(&mut st, "Tracing", props)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("khs-test/Tracing: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }
}
