//! Typed CloudWatch metrics and the metrics of the constructs.

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Expr, Intrinsic};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::value::Value;

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

/// The default period of metrics, in seconds (five minutes, the period of most AWS metrics).
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

/// The AWS metrics the typed metric constructors return, by namespace
/// (`DatabaseMetrics`, `CacheMetrics`, `LoadBalancerMetrics`,
/// `ServiceMetrics`). An alarm on another name in one of these namespaces
/// is a typo, and CloudWatch would accept it and never fire.
pub const TYPED_METRICS: [(&str, &[&str]); 4] = [
    (
        "AWS/RDS",
        &[
            "CPUUtilization",
            "DatabaseConnections",
            "FreeStorageSpace",
            "FreeableMemory",
        ],
    ),
    (
        "AWS/ElastiCache",
        &[
            "CPUUtilization",
            "EngineCPUUtilization",
            "DatabaseMemoryUsagePercentage",
            "CacheHitRate",
        ],
    ),
    (
        "AWS/ApplicationELB",
        &[
            "RequestCount",
            "RequestCountPerTarget",
            "TargetResponseTime",
            "HTTPCode_Target_5XX_Count",
            "HTTPCode_ELB_5XX_Count",
            "UnHealthyHostCount",
            "HealthyHostCount",
        ],
    ),
    ("AWS/ECS", &["CPUUtilization", "MemoryUtilization"]),
];

impl Metric {
    /// Whether the metric is a percentage (0..=100).
    pub fn is_percent(&self) -> bool {
        self.name.ends_with("Utilization")
            || self.name.ends_with("Percentage")
            || self.name == "CacheHitRate"
    }

    /// The typed metric check: a metric of a namespace listed in
    /// [`TYPED_METRICS`] must have one of its names. Custom namespaces (not
    /// listed) pass.
    pub fn check_typed(&self, path: &ConstructPath, prop: &str) -> Result<()> {
        if let Some((_, names)) = TYPED_METRICS.iter().find(|(ns, _)| *ns == self.namespace) {
            if !names.contains(&self.name.as_str()) {
                return Err(Error::invalid_prop(
                    path,
                    format!("{prop}.name"),
                    format!(
                        "must be a metric of {} that a typed metric has ({}), got {:?}",
                        self.namespace,
                        names.join(", "),
                        self.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub(crate) fn check_period(path: &ConstructPath, prop: &str, p: u32) -> Result<()> {
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
    /// The storage allocated at creation, in GiB, for alarms relative to it
    /// ([`FreeStorage::PercentOfAllocated`](super::FreeStorage)).
    ///
    /// Default: - unknown (set by [`Database::metrics`](crate::data::Database::metrics)).
    pub allocated_storage_gib: Option<u32>,
}

impl DatabaseMetrics {
    /// The metrics of a DB instance of this stack (allocated storage
    /// unknown: set [`DatabaseMetrics::allocated_storage_gib`] for a
    /// relative free-storage alarm).
    pub fn from_handle(instance: &Handle<cfn::rds::DbInstance>) -> Self {
        DatabaseMetrics {
            instance_id: instance.ref_(),
            allocated_storage_gib: None,
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
