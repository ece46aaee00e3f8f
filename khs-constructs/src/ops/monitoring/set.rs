//! [`Monitoring`]: a service's alarms, dashboard and tracing in one construct.

use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::scope::AsScope;

use super::*;

// ---------------------------------------------------------------------------
// The monitoring set of a service
// ---------------------------------------------------------------------------

/// Alarm thresholds of [`Monitoring`].
///
/// The defaults are common operational practice for any service (CPU and
/// memory alarms at 80 %, where queueing makes latency climb; a free-storage
/// alarm at 10 % of the allocated storage; an average response time of one
/// second); an app sets its own figures (the KHS app states each of its
/// runbook's figures in `khs-app`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmThresholds {
    /// Target 5xx responses per 5 minutes, over 2 periods → critical.
    ///
    /// Default: 10.
    pub target_5xx_count: f64,
    /// Average target response time in seconds, over 3 periods → warning.
    ///
    /// Default: 1.0.
    pub target_response_time_seconds: f64,
    /// Database CPU percent, over 2 periods → warning.
    ///
    /// Default: 80.
    pub database_cpu_percent: f64,
    /// Database free storage, below it → critical.
    ///
    /// Default: [`FreeStorage::PercentOfAllocated`]`(10.0)`.
    pub database_free_storage: FreeStorage,
    /// Cache engine CPU percent per node, over 2 periods → warning.
    ///
    /// Default: 80.
    pub cache_engine_cpu_percent: f64,
    /// Cache memory use percent per node, over 2 periods → warning.
    ///
    /// Default: 80.
    pub cache_memory_percent: f64,
    /// Service CPU and memory percent, over 3 periods → warning. Set it above
    /// the service's scale-out targets: staying above it means the service
    /// cannot scale out any further.
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
            database_free_storage: FreeStorage::PercentOfAllocated(10.0),
            cache_engine_cpu_percent: 80.0,
            cache_memory_percent: 80.0,
            service_utilization_percent: 90.0,
        }
    }
}

/// When the database's free storage alarm fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FreeStorage {
    /// Below this percentage of the storage allocated at creation
    /// ([`DatabaseMetrics::allocated_storage_gib`]; with storage autoscaling
    /// the instance may grow past it, so the alarm then fires earlier).
    PercentOfAllocated(f64),
    /// Below this many bytes.
    Bytes(f64),
}

impl FreeStorage {
    /// The threshold in bytes for a database of `allocated_gib`, or an error
    /// naming `path` when it cannot be known.
    fn bytes(self, path: &ConstructPath, allocated_gib: Option<u32>) -> Result<f64> {
        match self {
            FreeStorage::Bytes(b) if b > 0.0 && b.is_finite() => Ok(b),
            FreeStorage::Bytes(b) => Err(Error::invalid_prop(
                path,
                "thresholds.database_free_storage",
                format!("Bytes({b}) is not a positive number of bytes"),
            )),
            FreeStorage::PercentOfAllocated(pct) if !(pct > 0.0 && pct < 100.0) => {
                Err(Error::invalid_prop(
                    path,
                    "thresholds.database_free_storage",
                    format!("PercentOfAllocated({pct}) is outside (0, 100)"),
                ))
            }
            FreeStorage::PercentOfAllocated(pct) => match allocated_gib {
                Some(gib) => Ok(f64::from(gib) * 1024.0 * 1024.0 * 1024.0 * pct / 100.0),
                None => Err(Error::invalid_prop(
                    path,
                    "thresholds.database_free_storage",
                    format!(
                        "PercentOfAllocated({pct}) needs the database's allocated storage, which these \
                         DatabaseMetrics do not carry; use Database::metrics(), set \
                         DatabaseMetrics::allocated_storage_gib, or give FreeStorage::Bytes"
                    ),
                )),
            },
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
    /// Default: - [`AlarmThresholds::default`].
    pub thresholds: AlarmThresholds,
    /// The dashboard's name.
    ///
    /// Default: - the stack name.
    pub dashboard_name: Option<String>,
    /// The dashboard's title (a Markdown heading above the graphs).
    ///
    /// Default: - the construct path.
    pub dashboard_title: Option<String>,
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
            dashboard_title: None,
            tracing: None,
        }
    }
}

/// The alarms, dashboard and tracing of a load-balanced service with its
/// database and cache.
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
/// dashboard shows request count, latency, 5xx, database connections,
/// cache hit rate and CPU graphs.
#[derive(Debug, Clone)]
pub struct Monitoring {
    alarms: Vec<(String, Alarm)>,
    dashboard: Option<Dashboard>,
    tracing: Option<Tracing>,
}

impl Monitoring {
    /// Adds the alarms, dashboard and tracing at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: MonitoringProps<'_>) -> Result<Self> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let title = props
            .dashboard_title
            .clone()
            .unwrap_or_else(|| me.path().to_string());
        let mut plan = Plan {
            critical: props.alerts.critical().clone(),
            warning: props.alerts.warning().clone(),
            thresholds: &props.thresholds,
            alarms: Vec::new(),
            widgets: vec![Widget::Text(TextWidget::new(format!(
                "# {title}\nTraffic, latency and errors; database and cache health."
            )))],
        };
        if let Some(lb) = &props.load_balancer {
            plan.load_balancer(lb);
        }
        if let Some(svc) = &props.service {
            plan.service(svc);
        }
        if let Some(db) = &props.database {
            plan.database(me.path(), db)?;
        }
        if let Some(cache) = &props.cache {
            plan.cache(cache);
        }
        let Plan {
            alarms: specs,
            widgets,
            ..
        } = plan;
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

/// The alarms and widgets [`Monitoring::new`] collects, one method per part
/// watched.
struct Plan<'t> {
    critical: crate::messaging::import::TopicRef,
    warning: crate::messaging::import::TopicRef,
    thresholds: &'t AlarmThresholds,
    alarms: Vec<(String, AlarmProps)>,
    widgets: Vec<Widget>,
}

/// Which alert topic a [`Plan`] alarm notifies.
#[derive(Clone, Copy)]
enum Severity {
    Critical,
    Warning,
}

impl Plan<'_> {
    #[allow(clippy::too_many_arguments)]
    fn alarm(
        &mut self,
        id: &str,
        metric: Metric,
        cmp: ComparisonOperator,
        threshold: f64,
        periods: u32,
        missing: TreatMissingData,
        severity: Severity,
        description: &str,
    ) {
        let to = match severity {
            Severity::Critical => self.critical.clone(),
            Severity::Warning => self.warning.clone(),
        };
        self.alarms.push((
            id.to_string(),
            AlarmProps {
                treat_missing_data: missing,
                description: Some(description.to_string()),
                notify: vec![to],
                ..AlarmProps::new(metric, cmp, threshold, periods)
            },
        ));
    }

    fn graph(&mut self, title: &str, metrics: Vec<Metric>) {
        self.widgets
            .push(Widget::Graph(GraphWidget::new(title, metrics)));
    }

    fn load_balancer(&mut self, lb: &LoadBalancerMetrics) {
        use ComparisonOperator::{GreaterThan, LessThan};
        let t = self.thresholds;
        self.alarm(
            "HighErrorRate",
            lb.target_5xx_count(),
            GreaterThan,
            t.target_5xx_count,
            2,
            TreatMissingData::NotBreaching,
            Severity::Critical,
            "Targets returned too many 5xx responses",
        );
        self.alarm(
            "HighLatency",
            lb.target_response_time(),
            GreaterThan,
            t.target_response_time_seconds,
            3,
            TreatMissingData::NotBreaching,
            Severity::Warning,
            "Average target response time is too high",
        );
        self.alarm(
            "UnhealthyHosts",
            lb.unhealthy_host_count(),
            GreaterThan,
            0.0,
            2,
            TreatMissingData::NotBreaching,
            Severity::Warning,
            "Some targets fail their health checks",
        );
        self.alarm(
            "NoHealthyHosts",
            lb.healthy_host_count().period(60),
            LessThan,
            1.0,
            2,
            TreatMissingData::Breaching,
            Severity::Critical,
            "No target passes its health check",
        );
        self.graph("Requests", vec![lb.request_count()]);
        self.graph("Latency (s)", vec![lb.target_response_time()]);
        self.graph(
            "5xx errors",
            vec![lb.target_5xx_count(), lb.elb_5xx_count()],
        );
    }

    fn service(&mut self, svc: &ServiceMetrics) {
        let pct = self.thresholds.service_utilization_percent;
        for (id, metric, what) in [
            ("ServiceCpu", svc.cpu_utilization(), "CPU"),
            ("ServiceMemory", svc.memory_utilization(), "memory"),
        ] {
            self.alarm(
                id,
                metric,
                ComparisonOperator::GreaterThan,
                pct,
                3,
                TreatMissingData::Missing,
                Severity::Warning,
                &format!(
                    "Service {what} stays above {pct} %: it cannot scale out further (maximum task count?)"
                ),
            );
        }
        self.graph(
            "Service CPU and memory (%)",
            vec![svc.cpu_utilization(), svc.memory_utilization()],
        );
    }

    fn database(&mut self, path: &ConstructPath, db: &DatabaseMetrics) -> Result<()> {
        let t = self.thresholds;
        let free = t
            .database_free_storage
            .bytes(path, db.allocated_storage_gib)?;
        self.alarm(
            "DatabaseCpu",
            db.cpu_utilization(),
            ComparisonOperator::GreaterThan,
            t.database_cpu_percent,
            2,
            TreatMissingData::Missing,
            Severity::Warning,
            "Database CPU is high; consider a read replica or a larger instance",
        );
        self.alarm(
            "DatabaseFreeStorage",
            db.free_storage_space(),
            ComparisonOperator::LessThan,
            free,
            1,
            TreatMissingData::Missing,
            Severity::Critical,
            "Database free storage is low",
        );
        self.graph("Database connections", vec![db.database_connections()]);
        self.graph("Database CPU (%)", vec![db.cpu_utilization()]);
        Ok(())
    }

    fn cache(&mut self, cache: &CacheMetrics) {
        let t = self.thresholds;
        for (i, m) in cache.engine_cpu_utilization().into_iter().enumerate() {
            self.alarm(
                &format!("CacheEngineCpu{}", i + 1),
                m,
                ComparisonOperator::GreaterThan,
                t.cache_engine_cpu_percent,
                2,
                TreatMissingData::Missing,
                Severity::Warning,
                "Cache engine CPU is high",
            );
        }
        for (i, m) in cache.memory_usage_percentage().into_iter().enumerate() {
            self.alarm(
                &format!("CacheMemory{}", i + 1),
                m,
                ComparisonOperator::GreaterThan,
                t.cache_memory_percent,
                2,
                TreatMissingData::Missing,
                Severity::Warning,
                "Cache memory use is high",
            );
        }
        self.graph("Cache hit rate (%)", cache.cache_hit_rate());
    }
}
