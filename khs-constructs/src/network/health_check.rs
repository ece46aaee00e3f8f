//! [`Route53HealthCheck`]: a Route 53 health check of a public endpoint
//! (HTTPS on a path of a domain), and the CloudWatch alarm on it.
//!
//! Emits one `AWS::Route53::HealthCheck` (type `HTTPS` or `HTTP`, with SNI,
//! the request interval and failure threshold, optionally a list of
//! checker regions); [`Route53HealthCheck::alarm`] adds an
//! `AWS::CloudWatch::Alarm` on its `AWS/Route53 HealthCheckStatus` metric
//! (minimum below 1: the endpoint is unhealthy).
//!
//! **Route 53 publishes health check metrics in us-east-1 only**, whatever
//! the region of the endpoint or of the stack. An alarm on them must live in
//! a us-east-1 stack, and its actions must be topics of us-east-1 (alarm
//! actions cannot cross regions); [`Route53HealthCheck::alarm`] fails in a
//! stack of another region and says so. For a stage in another region, put
//! the health check and its alarm in a us-east-1 stack (the edge stack) with
//! a topic of that region.
//!
//! **Checker regions and geo restrictions**: Route 53 checks from eight
//! regions around the world by default and calls an endpoint healthy when
//! more than 18 % of the checkers see it healthy. A web ACL that allows only
//! some countries blocks the checkers elsewhere; list checker regions inside
//! the allowed countries ([`Route53HealthCheckProps::regions`], at least
//! three) so that a blocked checker is not counted as a failure.
//!
//! **Failover**: a health check alone changes no DNS answer. Failover
//! records (`Failover: PRIMARY`/`SECONDARY` with this check's id) make
//! sense only where a standby endpoint exists to fail over to.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::network::{Route53HealthCheck, Route53HealthCheckProps};
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let check = Route53HealthCheck::new(&mut stack, "AppHealth", Route53HealthCheckProps {
//!     path: "/health".into(),
//!     ..Route53HealthCheckProps::new("app.example.org")
//! }).unwrap();
//! let alarm = check.alarm(&mut stack, "AppUnhealthy", vec![], None).unwrap();
//! assert_eq!(alarm.handle().logical_id().as_str(), "AppUnhealthyResource");
//! ```

use std::collections::BTreeSet;

use crate::cfn;
use crate::cfn::route53::health_check as l1;
pub use crate::cfn::route53::health_check::Regions as HealthCheckRegion;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::{Handle, Tag};
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::ops::monitoring::{
    Alarm, AlarmProps, ComparisonOperator, Metric, Statistic, TreatMissingData,
};

/// The region where Route 53 publishes health check metrics.
pub const ROUTE53_METRICS_REGION: &str = "us-east-1";

/// How the checkers call the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HealthCheckProtocol {
    /// HTTPS with SNI (the certificate is not validated by Route 53).
    #[default]
    Https,
    /// Plain HTTP.
    Http,
}

/// The props of a [`Route53HealthCheck`].
#[derive(Debug, Clone, PartialEq)]
pub struct Route53HealthCheckProps {
    /// The endpoint's domain name (`app.example.org`).
    pub domain_name: String,
    /// The path requested (starts with `/`).
    ///
    /// Default: `/`.
    pub path: String,
    /// The protocol.
    ///
    /// Default: [`HealthCheckProtocol::Https`].
    pub protocol: HealthCheckProtocol,
    /// The port.
    ///
    /// Default: - 443 for HTTPS, 80 for HTTP.
    pub port: Option<u16>,
    /// Seconds between two checks of one checker: 10 (fast, billed extra) or
    /// 30.
    ///
    /// Default: `30`.
    pub request_interval_seconds: u32,
    /// Consecutive failed checks before a checker calls the endpoint
    /// unhealthy (1..=10).
    ///
    /// Default: `3`.
    pub failure_threshold: u32,
    /// The regions checking from (at least 3 when set).
    ///
    /// Default: - Route 53's default (all eight checker regions).
    pub regions: Vec<HealthCheckRegion>,
}

impl Route53HealthCheckProps {
    /// Props checking `https://<domain_name>/` every 30 s, unhealthy after 3
    /// failures.
    pub fn new(domain_name: impl Into<String>) -> Self {
        Route53HealthCheckProps {
            domain_name: domain_name.into(),
            path: "/".to_string(),
            protocol: HealthCheckProtocol::Https,
            port: None,
            request_interval_seconds: 30,
            failure_threshold: 3,
            regions: Vec::new(),
        }
    }

    fn validate(&self, path: &ConstructPath) -> Result<()> {
        let d = &self.domain_name;
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
            return Err(Error::invalid_prop(
                path,
                "domain_name",
                format!("must be a fully qualified domain name such as app.example.org, got {d:?}"),
            ));
        }
        if !self.path.starts_with('/') || self.path.len() > 255 {
            return Err(Error::invalid_prop(
                path,
                "path",
                format!(
                    "must start with / and be at most 255 characters, got {:?}",
                    self.path
                ),
            ));
        }
        if !matches!(self.request_interval_seconds, 10 | 30) {
            return Err(Error::invalid_prop(
                path,
                "request_interval_seconds",
                format!("must be 10 or 30, got {}", self.request_interval_seconds),
            ));
        }
        if !(1..=10).contains(&self.failure_threshold) {
            return Err(Error::invalid_prop(
                path,
                "failure_threshold",
                format!("must be 1..=10, got {}", self.failure_threshold),
            ));
        }
        let distinct: BTreeSet<_> = self.regions.iter().collect();
        if !self.regions.is_empty() && (distinct.len() < 3 || distinct.len() != self.regions.len())
        {
            return Err(Error::invalid_prop(
                path,
                "regions",
                format!(
                    "must list at least 3 distinct checker regions (or none for Route 53's default), got [{}]",
                    self.regions
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// A Route 53 health check; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Route53HealthCheck {
    path: ConstructPath,
    handle: Handle<cfn::route53::HealthCheck>,
    domain_name: String,
    request_path: String,
}

impl Route53HealthCheck {
    /// Adds the health check at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: Route53HealthCheckProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        props.validate(&path)?;
        let (type_, default_port) = match props.protocol {
            HealthCheckProtocol::Https => (l1::Type::Https, 443),
            HealthCheckProtocol::Http => (l1::Type::Http, 80),
        };
        let config = l1::HealthCheckConfig {
            fully_qualified_domain_name: Some(props.domain_name.as_str().into()),
            resource_path: Some(props.path.as_str().into()),
            port: Some(i64::from(props.port.unwrap_or(default_port)).into()),
            enable_sni: (props.protocol == HealthCheckProtocol::Https).then(|| true.into()),
            request_interval: Some(i64::from(props.request_interval_seconds).into()),
            failure_threshold: Some(i64::from(props.failure_threshold).into()),
            regions: (!props.regions.is_empty())
                .then(|| Value::Literal(props.regions.iter().map(|r| Value::from(*r)).collect())),
            ..l1::HealthCheckConfig::new(type_)
        };
        let handle = me.add(
            "Resource",
            cfn::route53::HealthCheck {
                health_check_tags: Some(vec![Tag::new(
                    "Name",
                    format!("{}{}", props.domain_name, props.path),
                )]),
                ..cfn::route53::HealthCheck::new(config)
            },
        )?;
        Ok(Route53HealthCheck {
            path,
            handle,
            domain_name: props.domain_name,
            request_path: props.path,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The health check resource.
    pub fn handle(&self) -> &Handle<cfn::route53::HealthCheck> {
        &self.handle
    }

    /// The health check id (`Ref`), for failover records.
    pub fn health_check_id(&self) -> Value<String> {
        self.handle.ref_()
    }

    /// `AWS/Route53 HealthCheckStatus` (1 healthy, 0 unhealthy), the
    /// one-minute minimum. Published in us-east-1 only.
    pub fn metric_status(&self) -> Metric {
        Metric::new("AWS/Route53", "HealthCheckStatus")
            .dimension("HealthCheckId", self.health_check_id())
            .statistic(Statistic::Minimum)
            .period(60)
    }

    /// An alarm at `scope/id` when the endpoint is unhealthy for one minute
    /// (missing data counts as unhealthy), notifying `notify` on alarm and
    /// on OK; `description` defaults to what it watches. Fails in a stack
    /// outside us-east-1, where the metric does not exist.
    pub fn alarm(
        &self,
        scope: &mut impl AsScope,
        id: &str,
        notify: Vec<crate::messaging::import::TopicRef>,
        description: Option<String>,
    ) -> Result<Alarm> {
        let mut s = scope.as_scope();
        let region = s.env().region.clone();
        if region != ROUTE53_METRICS_REGION {
            return Err(Error::invalid_prop(
                s.path().child(id)?,
                "region",
                format!(
                    "must be {ROUTE53_METRICS_REGION}, where Route 53 publishes the health check metrics of {}, got a stack in {region}; create the alarm in a {ROUTE53_METRICS_REGION} stack (the edge stack) with a topic of that region",
                    self.path
                ),
            ));
        }
        Alarm::new(
            &mut s,
            id,
            AlarmProps {
                treat_missing_data: TreatMissingData::Breaching,
                description: Some(description.unwrap_or_else(|| {
                    format!(
                        "Route 53 health checkers see https://{}{} unhealthy",
                        self.domain_name, self.request_path
                    )
                })),
                notify,
                ..AlarmProps::new(self.metric_status(), ComparisonOperator::LessThan, 1.0, 1)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::Value as J;

    fn stack(region: &str) -> Stack {
        Stack::new("khs", StackProps::new(Environment::region(region))).unwrap()
    }

    fn template(stack: &Stack) -> J {
        serde_json::to_value(stack.synth().unwrap()).unwrap()
    }

    #[test]
    fn checks_https_with_sni_every_30_seconds_and_alarms_below_1() {
        let mut s = stack("us-east-1");
        let c = Route53HealthCheck::new(
            &mut s,
            "Health",
            Route53HealthCheckProps {
                path: "/api/health".into(),
                regions: vec![
                    HealthCheckRegion::UsEast1,
                    HealthCheckRegion::UsWest1,
                    HealthCheckRegion::UsWest2,
                ],
                ..Route53HealthCheckProps::new("app.example.org")
            },
        )
        .unwrap();
        c.alarm(&mut s, "Unhealthy", vec![], None).unwrap();
        let t = template(&s);
        let hc = &t["Resources"]["HealthResource"]["Properties"]["HealthCheckConfig"];
        assert_eq!(hc["Type"], "HTTPS");
        assert_eq!(hc["FullyQualifiedDomainName"], "app.example.org");
        assert_eq!(hc["ResourcePath"], "/api/health");
        assert_eq!(hc["Port"], 443);
        assert_eq!(hc["EnableSNI"], true);
        assert_eq!(hc["RequestInterval"], 30);
        assert_eq!(hc["FailureThreshold"], 3);
        assert_eq!(
            hc["Regions"],
            serde_json::json!(["us-east-1", "us-west-1", "us-west-2"])
        );
        let a = &t["Resources"]["UnhealthyResource"]["Properties"];
        assert_eq!(a["Namespace"], "AWS/Route53");
        assert_eq!(a["MetricName"], "HealthCheckStatus");
        assert_eq!(a["Statistic"], "Minimum");
        assert_eq!(a["Period"], 60);
        assert_eq!(a["Threshold"], 1.0);
        assert_eq!(a["ComparisonOperator"], "LessThanThreshold");
        assert_eq!(a["TreatMissingData"], "breaching");
        assert_eq!(
            a["Dimensions"][0]["Value"],
            serde_json::json!({"Ref": "HealthResource"})
        );
    }

    #[test]
    fn fails_when_the_alarm_is_outside_us_east_1() {
        let mut s = stack("us-east-2");
        let c = Route53HealthCheck::new(
            &mut s,
            "Health",
            Route53HealthCheckProps::new("a.example.org"),
        )
        .unwrap();
        let e = c
            .alarm(&mut s, "Unhealthy", vec![], None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Unhealthy: region must be us-east-1, where Route 53 publishes the health check metrics of khs/Health, got a stack in us-east-2"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_props_are_out_of_range() {
        let err = |p: Route53HealthCheckProps| {
            let mut s = stack("us-east-1");
            Route53HealthCheck::new(&mut s, "Health", p)
                .unwrap_err()
                .to_string()
        };
        let base = Route53HealthCheckProps::new("app.example.org");
        assert_eq!(
            err(Route53HealthCheckProps {
                request_interval_seconds: 20,
                ..base.clone()
            }),
            "khs/Health: request_interval_seconds must be 10 or 30, got 20"
        );
        assert_eq!(
            err(Route53HealthCheckProps {
                failure_threshold: 0,
                ..base.clone()
            }),
            "khs/Health: failure_threshold must be 1..=10, got 0"
        );
        assert_eq!(
            err(Route53HealthCheckProps {
                regions: vec![HealthCheckRegion::UsEast1, HealthCheckRegion::UsWest1],
                ..base.clone()
            }),
            "khs/Health: regions must list at least 3 distinct checker regions (or none for Route 53's default), got [us-east-1, us-west-1]"
        );
        assert_eq!(
            err(Route53HealthCheckProps {
                path: "health".into(),
                ..base.clone()
            }),
            "khs/Health: path must start with / and be at most 255 characters, got \"health\""
        );
        assert_eq!(
            err(Route53HealthCheckProps::new("localhost")),
            "khs/Health: domain_name must be a fully qualified domain name such as app.example.org, got \"localhost\""
        );
    }
}
