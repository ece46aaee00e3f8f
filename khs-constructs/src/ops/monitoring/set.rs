//! [`Monitoring`]: a service's alarms, dashboard and tracing in one construct.

use crate::cfn;
use crate::core::error::Result;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;

use super::*;

// ---------------------------------------------------------------------------
// The monitoring set of a service
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
        let title = props
            .dashboard_title
            .clone()
            .unwrap_or_else(|| me.path().to_string());
        let mut widgets = vec![Widget::Text(TextWidget::new(format!(
            "# {title}\nAPI traffic, latency and errors; database and cache health."
        )))];
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
