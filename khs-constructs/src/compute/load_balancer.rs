//! `LoadBalancer`: an Application Load Balancer that several services share,
//! each reached by path or host rules.
//!
//! Emits, below the construct's path:
//! - `SecurityGroup` (default port 443; egress only to the services added
//!   with [`LoadBalancer::add_target`]); when internet-facing, ingress on
//!   443 (and 80 with the redirect) from `0.0.0.0/0`;
//! - `LoadBalancer` (internet-facing in the public subnets, or internal in
//!   the private subnets; invalid headers dropped, defensive desync
//!   mitigation, deletion protection, optional access logs);
//! - `HttpsListener` (the certificate, a TLS 1.3/1.2 policy; requests no
//!   rule matches get a fixed `404`) and, with `http_redirect`,
//!   `HttpListener` (301 to HTTPS).
//!
//! [`LoadBalancer::add_target`] adds, below the *service's* path
//! (`<service>/<load balancer id>/…`): `TargetGroup` (IP targets, the
//! routing's health check) and `ListenerRule` (the path and host
//! conditions, the priority), sets the service's `LoadBalancers`, makes the
//! service wait for the rule, and opens the service's port from the load
//! balancer's security group.
//!
//! A redirect listener on port 80 needs the network's public ACL to admit
//! port 80 ([`NetworkProps::public_ingress_ports`]); otherwise construction
//! fails naming both constructs.
//!
//! [`NetworkProps::public_ingress_ports`]: crate::network::NetworkProps::public_ingress_ports

use crate::cfn::attributes::*;
use crate::cfn::elasticloadbalancingv2::listener::{
    Action, Certificate, FixedResponseConfig, Protocol as ListenerProtocol, RedirectConfig,
    StatusCode, Type as ActionType,
};
use crate::cfn::elasticloadbalancingv2::listener_rule;
use crate::cfn::elasticloadbalancingv2::load_balancer::{
    LoadBalancerAttribute, Scheme, Type as LoadBalancerType,
};
use crate::cfn::elasticloadbalancingv2::target_group::{
    Matcher, Protocol as TargetProtocol, TargetGroupAttribute, TargetType,
};
use crate::cfn::elasticloadbalancingv2::{
    Listener, ListenerRule, LoadBalancer as CfnLoadBalancer, TargetGroup,
};
use crate::cfn::s3::BucketPolicy;
use crate::compute::fargate_service::FargateService;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::dns::CertificateRef;
use crate::network::vpc::{Network, SubnetKind};
use crate::ops::monitoring::LoadBalancerMetrics;
use crate::storage::bucket::BucketRef;

/// The TLS policy of HTTPS listeners: TLS 1.3 and 1.2 with forward secrecy
/// only.
pub const DEFAULT_TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// Where a load balancer writes access logs.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogs {
    /// The bucket: SSE-S3 encrypted, its policy letting Elastic Load
    /// Balancing log delivery write under `prefix`
    /// (`storage::BucketGrant::LoadBalancerLogs`). A bucket of the app: an
    /// imported one (`Bucket::import`) is refused, as its policy is its
    /// owner's.
    pub bucket: BucketRef,
    /// The key prefix, without leading or trailing `/` (`alb`).
    pub prefix: String,
    /// The bucket's policy: the load balancer waits for it (`DependsOn`),
    /// since Elastic Load Balancing checks its write access when access
    /// logs are turned on.
    pub bucket_policy: Handle<BucketPolicy>,
}

/// A target group's health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The path requested (must start with `/`).
    ///
    /// Default: `/`.
    pub path: String,
    /// Seconds between checks (5..=300).
    ///
    /// Default: `30`.
    pub interval_seconds: u32,
    /// Seconds to wait for a response (2..=120, less than the interval).
    ///
    /// Default: `5`.
    pub timeout_seconds: u32,
    /// Successes before a target is healthy (2..=10).
    ///
    /// Default: `2`.
    pub healthy_threshold: u32,
    /// Failures before a target is unhealthy (2..=10).
    ///
    /// Default: `3`.
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: "/".to_string(),
            interval_seconds: 30,
            timeout_seconds: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

impl HealthCheck {
    /// The default check on `path`.
    pub fn on_path(path: impl Into<String>) -> Self {
        HealthCheck {
            path: path.into(),
            ..HealthCheck::default()
        }
    }

    /// Checks the fields; errors name `path` and `prop.<field>`.
    pub fn validate(&self, path: &ConstructPath, prop: &str) -> Result<()> {
        let err = |field: &str, m: String| Error::invalid_prop(path, format!("{prop}.{field}"), m);
        if !self.path.starts_with('/') {
            return Err(err(
                "path",
                format!("must start with \"/\", got {:?}", self.path),
            ));
        }
        if !(5..=300).contains(&self.interval_seconds) {
            return Err(err(
                "interval_seconds",
                format!("must be 5..=300, got {}", self.interval_seconds),
            ));
        }
        if !(2..=120).contains(&self.timeout_seconds)
            || self.timeout_seconds >= self.interval_seconds
        {
            return Err(err(
                "timeout_seconds",
                format!(
                    "must be 2..=120 and less than interval_seconds ({}), got {}",
                    self.interval_seconds, self.timeout_seconds
                ),
            ));
        }
        for (field, v) in [
            ("healthy_threshold", self.healthy_threshold),
            ("unhealthy_threshold", self.unhealthy_threshold),
        ] {
            if !(2..=10).contains(&v) {
                return Err(err(field, format!("must be 2..=10, got {v}")));
            }
        }
        Ok(())
    }
}

/// Props of a [`LoadBalancer`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerProps {
    /// The certificate of the HTTPS listener (in the stack's region).
    pub certificate: CertificateRef,
    /// Internet-facing in the public subnets (443 open to the internet), or
    /// internal in the private subnets (reachable only through
    /// [`Connections::allow_from`]).
    ///
    /// Default: `true`.
    pub internet_facing: bool,
    /// An HTTP listener on port 80 answering `301` to HTTPS (internet-facing
    /// only; the network's public ACL must admit port 80).
    ///
    /// Default: `false`.
    pub http_redirect: bool,
    /// The HTTPS listener's TLS policy.
    ///
    /// Default: [`DEFAULT_TLS_POLICY`].
    pub tls_policy: String,
    /// Refuse deleting the load balancer until turned off.
    ///
    /// Default: `true`.
    pub deletion_protection: bool,
    /// Write access logs to a bucket.
    ///
    /// Default: - no access logs.
    pub access_logs: Option<AccessLogs>,
}

impl LoadBalancerProps {
    /// Props with the certificate given and every other field at its default.
    pub fn new(certificate: CertificateRef) -> Self {
        LoadBalancerProps {
            certificate,
            internet_facing: true,
            http_redirect: false,
            tls_policy: DEFAULT_TLS_POLICY.to_string(),
            deletion_protection: true,
            access_logs: None,
        }
    }
}

/// Which requests a load balancer sends to a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// The rule's priority (1..=50000, unique per listener; lower wins).
    pub priority: u32,
    /// Path patterns (`/orders/*`); up to 5 with `hosts`.
    ///
    /// Default: - any path.
    pub paths: Vec<String>,
    /// Host names (`api.example.org`).
    ///
    /// Default: - any host.
    pub hosts: Vec<String>,
    /// The target group's health check.
    ///
    /// Default: - `/` every 30 s ([`HealthCheck::default`]).
    pub health_check: HealthCheck,
    /// Seconds a stopping task keeps receiving in-flight requests.
    ///
    /// Default: `30`.
    pub deregistration_delay_seconds: u32,
}

impl Routing {
    /// Requests whose path matches one of `patterns`.
    pub fn paths<S: Into<String>>(priority: u32, patterns: impl IntoIterator<Item = S>) -> Self {
        Routing {
            paths: patterns.into_iter().map(Into::into).collect(),
            ..Routing::any(priority)
        }
    }

    /// Requests for one of `hosts`.
    pub fn hosts<S: Into<String>>(priority: u32, hosts: impl IntoIterator<Item = S>) -> Self {
        Routing {
            hosts: hosts.into_iter().map(Into::into).collect(),
            ..Routing::any(priority)
        }
    }

    /// Every request (a catch-all rule at `priority`).
    pub fn any(priority: u32) -> Self {
        Routing {
            priority,
            paths: Vec::new(),
            hosts: Vec::new(),
            health_check: HealthCheck::default(),
            deregistration_delay_seconds: 30,
        }
    }

    /// The same routing with `health_check`.
    pub fn with_health_check(mut self, health_check: HealthCheck) -> Self {
        self.health_check = health_check;
        self
    }
}

/// A shared Application Load Balancer; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancer {
    pub(crate) path: ConstructPath,
    /// `None` for an imported load balancer.
    pub(crate) load_balancer: Option<Handle<CfnLoadBalancer>>,
    /// `None` for an imported load balancer.
    pub(crate) listener: Option<Handle<Listener>>,
    pub(crate) attributes: LoadBalancerAttributes,
    pub(crate) connections: Connections,
    pub(crate) network_path: ConstructPath,
    pub(crate) vpc_id: Value<String>,
}

/// The values other resources read from a load balancer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadBalancerAttributes {
    pub arn: Value<String>,
    pub dns_name: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub full_name: Value<String>,
    /// The HTTPS listener rules are added to, when known.
    pub listener_arn: Option<Value<String>>,
}

/// A service behind a load balancer, made by [`LoadBalancer::add_target`].
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    target_group: Handle<TargetGroup>,
    rule: Handle<ListenerRule>,
    load_balancer_full_name: Value<String>,
}

impl Target {
    /// The target group.
    pub fn target_group(&self) -> &Handle<TargetGroup> {
        &self.target_group
    }

    /// The listener rule.
    pub fn rule(&self) -> &Handle<ListenerRule> {
        &self.rule
    }

    /// Metrics of this target group on its load balancer.
    pub fn metrics(&self) -> LoadBalancerMetrics {
        LoadBalancerMetrics {
            load_balancer_full_name: self.load_balancer_full_name.clone(),
            target_group_full_name: self.target_group.attr_target_group_full_name(),
        }
    }
}

pub(crate) fn validate_access_logs(path: &ConstructPath, logs: &AccessLogs) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    if logs.prefix.starts_with('/') || logs.prefix.ends_with('/') || logs.prefix.contains("AWSLogs")
    {
        return Err(err(
            "access_logs.prefix",
            format!(
                "must not start or end with '/' or contain \"AWSLogs\", got {:?}",
                logs.prefix
            ),
        ));
    }
    if logs.bucket.is_imported() {
        return Err(err(
            "access_logs.bucket",
            format!(
                "is the imported bucket {}, which this app never modifies, so it cannot grant Elastic Load Balancing log delivery; its owner must allow the region's Elastic Load Balancing account (or logdelivery.elasticloadbalancing.amazonaws.com) s3:PutObject on <bucket arn>/{}/AWSLogs/<account>/*, or log to a Bucket of the app with BucketGrant::LoadBalancerLogs",
                logs.bucket.path(),
                logs.prefix
            ),
        ));
    }
    if logs.bucket.kms_encrypted() {
        return Err(err(
            "access_logs.bucket",
            format!(
                "must be encrypted with SSE-S3 (load balancer access logs cannot be written to SSE-KMS buckets), got {} with SSE-KMS",
                logs.bucket.path()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn validate_certificate(
    path: &ConstructPath,
    region: &str,
    certificate: &CertificateRef,
) -> Result<()> {
    if certificate.region() != region {
        return Err(Error::invalid_prop(
            path,
            "certificate",
            format!(
                "must be in the stack's region {region} (a load balancer uses certificates of its own region), got one in {}",
                certificate.region()
            ),
        ));
    }
    Ok(())
}

/// The cross-construct check of a redirect listener: the network's public
/// ACL must admit port 80.
pub(crate) fn check_redirect_admitted(path: &ConstructPath, network: &Network) -> Result<()> {
    if !network.public_ingress_ports().contains(&80) {
        return Err(Error::invalid_prop(
            path,
            "http_redirect",
            format!(
                "needs port 80 from the internet, but the public network ACL of {} admits only {:?}; add 80 to its public_ingress_ports or turn http_redirect off",
                network.path(),
                network.public_ingress_ports()
            ),
        ));
    }
    Ok(())
}

/// What [`emit_load_balancer`] needs.
pub(crate) struct LoadBalancerSpec<'a> {
    pub internet_facing: bool,
    pub deletion_protection: bool,
    pub access_logs: Option<&'a AccessLogs>,
    pub subnets: Vec<Value<String>>,
    pub security_group: Value<String>,
}

/// Emits `LoadBalancer` in `me`.
pub(crate) fn emit_load_balancer(
    me: &mut Scope<'_>,
    spec: LoadBalancerSpec<'_>,
) -> Result<Handle<CfnLoadBalancer>> {
    let attribute = |key: &str, value: Value<String>| LoadBalancerAttribute {
        key: Some(key.into()),
        value: Some(value),
    };
    let mut attributes = vec![
        attribute(
            "deletion_protection.enabled",
            spec.deletion_protection.to_string().into(),
        ),
        attribute(
            "routing.http.drop_invalid_header_fields.enabled",
            "true".into(),
        ),
        attribute("routing.http.desync_mitigation_mode", "defensive".into()),
    ];
    if let Some(logs) = spec.access_logs {
        attributes.push(attribute("access_logs.s3.enabled", "true".into()));
        attributes.push(attribute("access_logs.s3.bucket", logs.bucket.name()));
        attributes.push(attribute(
            "access_logs.s3.prefix",
            logs.prefix.clone().into(),
        ));
    }
    let options = match spec.access_logs {
        Some(logs) => ResourceOptions::default().depends_on(&logs.bucket_policy),
        None => ResourceOptions::default(),
    };
    me.add_with(
        "LoadBalancer",
        CfnLoadBalancer {
            type_: Some(LoadBalancerType::Application.into()),
            scheme: Some(
                if spec.internet_facing {
                    Scheme::InternetFacing
                } else {
                    Scheme::Internal
                }
                .into(),
            ),
            subnets: Some(Value::Literal(spec.subnets)),
            security_groups: Some(Value::Literal(vec![spec.security_group])),
            load_balancer_attributes: Some(attributes),
            ..CfnLoadBalancer::new()
        },
        options,
    )
}

/// Emits `HttpsListener` in `me` with `default_action`.
pub(crate) fn emit_https_listener(
    me: &mut Scope<'_>,
    load_balancer: &Handle<CfnLoadBalancer>,
    certificate: &CertificateRef,
    tls_policy: &str,
    default_action: Action,
) -> Result<Handle<Listener>> {
    me.add(
        "HttpsListener",
        Listener {
            port: Some(443.into()),
            protocol: Some(ListenerProtocol::Https.into()),
            ssl_policy: Some(tls_policy.to_string().into()),
            certificates: Some(vec![Certificate {
                certificate_arn: Some(certificate.arn().clone()),
            }]),
            ..Listener::new(load_balancer.ref_(), vec![default_action])
        },
    )
}

/// Emits `HttpListener` (301 to HTTPS) in `me`.
pub(crate) fn emit_redirect_listener(
    me: &mut Scope<'_>,
    load_balancer: &Handle<CfnLoadBalancer>,
) -> Result<Handle<Listener>> {
    me.add(
        "HttpListener",
        Listener {
            port: Some(80.into()),
            protocol: Some(ListenerProtocol::Http.into()),
            ..Listener::new(
                load_balancer.ref_(),
                vec![Action {
                    redirect_config: Some(RedirectConfig {
                        protocol: Some("HTTPS".into()),
                        port: Some("443".into()),
                        ..RedirectConfig::new(StatusCode::Http301)
                    }),
                    ..Action::new(ActionType::Redirect)
                }],
            )
        },
    )
}

/// Emits a target group `id` in `me` for IP targets on `port`.
pub(crate) fn emit_target_group(
    me: &mut Scope<'_>,
    id: &str,
    vpc_id: Value<String>,
    port: u16,
    health_check: &HealthCheck,
    deregistration_delay_seconds: u32,
) -> Result<Handle<TargetGroup>> {
    let hc = health_check;
    me.add(
        id,
        TargetGroup {
            target_type: Some(TargetType::Ip.into()),
            protocol: Some(TargetProtocol::Http.into()),
            port: Some(i64::from(port).into()),
            vpc_id: Some(vpc_id),
            health_check_enabled: Some(true.into()),
            health_check_path: Some(hc.path.clone().into()),
            health_check_interval_seconds: Some(i64::from(hc.interval_seconds).into()),
            health_check_timeout_seconds: Some(i64::from(hc.timeout_seconds).into()),
            healthy_threshold_count: Some(i64::from(hc.healthy_threshold).into()),
            unhealthy_threshold_count: Some(i64::from(hc.unhealthy_threshold).into()),
            matcher: Some(Matcher {
                http_code: Some("200".into()),
                ..Matcher::new()
            }),
            target_group_attributes: Some(vec![TargetGroupAttribute {
                key: Some("deregistration_delay.timeout_seconds".into()),
                value: Some(deregistration_delay_seconds.to_string().into()),
            }]),
            ..TargetGroup::new()
        },
    )
}

/// A listener rule `id` in `me` forwarding to the weighted target groups.
pub(crate) fn emit_listener_rule(
    me: &mut Scope<'_>,
    id: &str,
    listener_arn: Value<String>,
    priority: u32,
    paths: &[String],
    hosts: &[String],
    target_groups: &[(&Handle<TargetGroup>, i64)],
) -> Result<Handle<ListenerRule>> {
    let mut conditions = Vec::new();
    if !paths.is_empty() || hosts.is_empty() {
        let values: Vec<String> = if paths.is_empty() {
            vec!["/*".to_string()]
        } else {
            paths.to_vec()
        };
        conditions.push(listener_rule::RuleCondition {
            field: Some("path-pattern".into()),
            path_pattern_config: Some(listener_rule::PathPatternConfig {
                values: Some(values.into()),
                ..listener_rule::PathPatternConfig::new()
            }),
            ..listener_rule::RuleCondition::new()
        });
    }
    if !hosts.is_empty() {
        conditions.push(listener_rule::RuleCondition {
            field: Some("host-header".into()),
            host_header_config: Some(listener_rule::HostHeaderConfig {
                values: Some(hosts.to_vec().into()),
                ..listener_rule::HostHeaderConfig::new()
            }),
            ..listener_rule::RuleCondition::new()
        });
    }
    let action = match target_groups {
        [(tg, _)] => listener_rule::Action {
            target_group_arn: Some(tg.ref_()),
            ..listener_rule::Action::new(listener_rule::Type::Forward)
        },
        many => listener_rule::Action {
            forward_config: Some(listener_rule::ForwardConfig {
                target_groups: Some(
                    many.iter()
                        .map(|(tg, w)| listener_rule::TargetGroupTuple {
                            target_group_arn: Some(tg.ref_()),
                            weight: Some((*w).into()),
                        })
                        .collect(),
                ),
                ..listener_rule::ForwardConfig::new()
            }),
            ..listener_rule::Action::new(listener_rule::Type::Forward)
        },
    };
    me.add(
        id,
        ListenerRule {
            listener_arn: Some(listener_arn),
            ..ListenerRule::new(vec![action], i64::from(priority), conditions)
        },
    )
}

impl LoadBalancer {
    /// Creates the load balancer `id` in `scope` on `network`.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: LoadBalancerProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate_certificate(&path, &region, &props.certificate)?;
        if let Some(logs) = &props.access_logs {
            validate_access_logs(&path, logs)?;
        }
        if props.http_redirect {
            if !props.internet_facing {
                return Err(Error::invalid_prop(
                    &path,
                    "http_redirect",
                    "is only for internet-facing load balancers, got internet_facing: false",
                ));
            }
            check_redirect_admitted(&path, network)?;
        }
        let connections = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            network.vpc_id(),
            &format!(
                "{path}: {} HTTPS load balancer",
                if props.internet_facing {
                    "internet-facing"
                } else {
                    "internal"
                }
            ),
            Some(Port::tcp(443)),
            Egress::Restricted,
        )?;
        if props.internet_facing {
            connections.allow_listener_from_internet(&mut me, Port::tcp(443))?;
            if props.http_redirect {
                connections.allow_listener_from_internet(&mut me, Port::tcp(80))?;
            }
        }
        let kind = if props.internet_facing {
            SubnetKind::Public
        } else {
            SubnetKind::Private
        };
        let load_balancer = emit_load_balancer(
            &mut me,
            LoadBalancerSpec {
                internet_facing: props.internet_facing,
                deletion_protection: props.deletion_protection,
                access_logs: props.access_logs.as_ref(),
                subnets: network
                    .subnets(kind)
                    .iter()
                    .map(|s| s.subnet_id())
                    .collect(),
                security_group: connections.security_group_id(),
            },
        )?;
        let listener = emit_https_listener(
            &mut me,
            &load_balancer,
            &props.certificate,
            &props.tls_policy,
            Action {
                fixed_response_config: Some(FixedResponseConfig {
                    content_type: Some("text/plain".into()),
                    message_body: Some("Not Found".into()),
                    ..FixedResponseConfig::new("404")
                }),
                ..Action::new(ActionType::FixedResponse)
            },
        )?;
        if props.http_redirect {
            emit_redirect_listener(&mut me, &load_balancer)?;
        }
        Ok(LoadBalancer {
            path,
            attributes: LoadBalancerAttributes {
                arn: load_balancer.ref_(),
                dns_name: load_balancer.attr_dns_name(),
                hosted_zone_id: load_balancer.attr_canonical_hosted_zone_id(),
                full_name: load_balancer.attr_load_balancer_full_name(),
                listener_arn: Some(listener.ref_()),
            },
            load_balancer: Some(load_balancer),
            listener: Some(listener),
            connections,
            network_path: network.path().clone(),
            vpc_id: network.vpc_id(),
        })
    }

    /// Routes the requests that `routing` matches to `service`: a target
    /// group and a listener rule below the service's path, the service's
    /// `LoadBalancers`, and the security-group rules from this load
    /// balancer to the service's port. The service needs a container port
    /// and must be on this load balancer's network.
    pub fn add_target(
        &self,
        scope: &mut impl AsScope,
        service: &FargateService,
        routing: Routing,
    ) -> Result<Target> {
        let spath = service.path().clone();
        let listener_arn = self.attributes.listener_arn.clone().ok_or_else(|| {
            Error::invalid_prop(
                &self.path,
                "listener_arn",
                format!(
                    "is not set on this imported load balancer, so add_target for {spath} has no listener to add its rule to; give the HTTPS listener's ARN in LoadBalancerImport::listener_arn"
                ),
            )
        })?;
        let port = service.container_port().ok_or_else(|| {
            Error::invalid_prop(
                &spath,
                "container.port",
                format!(
                    "must be set for the service to sit behind {}, got none",
                    self.path
                ),
            )
        })?;
        if service.network_path() != &self.network_path {
            return Err(Error::invalid_prop(
                &spath,
                "network",
                format!(
                    "must be the network of {} ({}), got {}",
                    self.path,
                    self.network_path,
                    service.network_path()
                ),
            ));
        }
        if !(1..=50000).contains(&routing.priority) {
            return Err(Error::invalid_prop(
                &spath,
                "routing.priority",
                format!(
                    "must be 1..=50000 (unique on {}), got {}",
                    self.path, routing.priority
                ),
            ));
        }
        if routing.paths.len() + routing.hosts.len() > 5 {
            return Err(Error::invalid_prop(
                &spath,
                "routing",
                format!(
                    "may have at most 5 path and host values together (a listener rule's limit), got {}",
                    routing.paths.len() + routing.hosts.len()
                ),
            ));
        }
        if let Some(p) = routing.paths.iter().find(|p| !p.starts_with('/')) {
            return Err(Error::invalid_prop(
                &spath,
                "routing.paths",
                format!("must start with \"/\", got {p:?}"),
            ));
        }
        routing
            .health_check
            .validate(&spath, "routing.health_check")?;
        let mut s = scope.as_scope();
        let lb_id = self.path.id().to_string();
        let (target_group, green, rule) = {
            let mut owner = s.reopen(&spath)?;
            let mut me = owner.child(&lb_id)?;
            let tg = emit_target_group(
                &mut me,
                "TargetGroup",
                self.vpc_id.clone(),
                port,
                &routing.health_check,
                routing.deregistration_delay_seconds,
            )?;
            let green = if service.is_blue_green() {
                Some(emit_target_group(
                    &mut me,
                    "TargetGroupGreen",
                    self.vpc_id.clone(),
                    port,
                    &routing.health_check,
                    routing.deregistration_delay_seconds,
                )?)
            } else {
                None
            };
            let groups: Vec<(&Handle<TargetGroup>, i64)> = match &green {
                Some(g) => vec![(&tg, 100), (g, 0)],
                None => vec![(&tg, 100)],
            };
            let rule = emit_listener_rule(
                &mut me,
                "ListenerRule",
                listener_arn,
                routing.priority,
                &routing.paths,
                &routing.hosts,
                &groups,
            )?;
            (tg, green, rule)
        };
        let role = match &green {
            Some(_) => Some(service.emit_blue_green_role(&mut s, &lb_id)?),
            None => None,
        };
        let mut entry = serde_json::json!({
            "ContainerName": crate::compute::task::APP_CONTAINER,
            "ContainerPort": port,
            "TargetGroupArn": target_group.ref_(),
        });
        if let (Some(g), Some(role)) = (&green, &role) {
            entry["AdvancedConfiguration"] = serde_json::json!({
                "AlternateTargetGroupArn": g.ref_(),
                "ProductionListenerRule": rule.ref_(),
                "RoleArn": role.attr_arn(),
            });
        }
        s.override_property(
            service.service(),
            "LoadBalancers",
            serde_json::json!([entry]),
        )?;
        s.override_property(
            service.service(),
            "HealthCheckGracePeriodSeconds",
            serde_json::json!(60),
        )?;
        if green.is_none() {
            // With blue/green the service references the rule already.
            s.add_dependency(service.service(), &rule)?;
        }
        service
            .connections()
            .allow_from(&mut s, &self.connections, Port::tcp(port))?;
        Ok(Target {
            target_group,
            rule,
            load_balancer_full_name: self.attributes.full_name.clone(),
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The load balancer resource; `None` for an imported one.
    pub fn load_balancer(&self) -> Option<&Handle<CfnLoadBalancer>> {
        self.load_balancer.as_ref()
    }

    /// The HTTPS listener (for rules written by hand); `None` for an
    /// imported one (see [`LoadBalancer::listener_arn`]).
    pub fn listener(&self) -> Option<&Handle<Listener>> {
        self.listener.as_ref()
    }

    /// Whether the load balancer exists outside the app
    /// ([`LoadBalancer::import`]): nothing of it is in the stack and only
    /// listener rules and target groups of this app's services are added.
    pub fn is_imported(&self) -> bool {
        self.load_balancer.is_none()
    }

    /// The load balancer's ARN.
    pub fn arn(&self) -> Value<String> {
        self.attributes.arn.clone()
    }

    /// The HTTPS listener's ARN, when known.
    pub fn listener_arn(&self) -> Option<Value<String>> {
        self.attributes.listener_arn.clone()
    }

    /// The load balancer's security group (default port 443).
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The DNS name (for CloudFront origins and aliases).
    pub fn dns_name(&self) -> Value<String> {
        self.attributes.dns_name.clone()
    }

    /// The hosted zone of the DNS name (for Route 53 alias records).
    pub fn hosted_zone_id(&self) -> Value<String> {
        self.attributes.hosted_zone_id.clone()
    }

    /// The full name (`app/…`), the `LoadBalancer` metric dimension.
    pub fn full_name(&self) -> Value<String> {
        self.attributes.full_name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{
        Cluster, ClusterProps, ContainerImage, ContainerProps, DeploymentStrategy,
        FargateServiceProps,
    };
    use crate::network::NetworkProps;
    use crate::test_support::{stack_with_network as setup, stack_with_network_of};
    use serde_json::json;

    fn cert() -> CertificateRef {
        CertificateRef::from_arn(
            "arn:aws:acm:us-east-1:111122223333:certificate/abc",
            "us-east-1",
            vec!["api.example.org".into()],
        )
    }

    fn web(port: Option<u16>) -> FargateServiceProps {
        let mut c =
            ContainerProps::new(ContainerImage::from_uri("public.ecr.aws/nginx/nginx:1.27"));
        c.port = port;
        FargateServiceProps::new(c)
    }

    #[test]
    fn defaults_are_internet_facing_https_with_a_404_default() {
        let (mut stack, network) = setup();
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        assert_eq!(lb.connections().default_port(), Some(Port::tcp(443)));
        let t = stack.synth().unwrap();
        let p = &t.resources["AlbLoadBalancer"].properties;
        assert_eq!(p["Scheme"], "internet-facing");
        let l = &t.resources["AlbHttpsListener"].properties;
        assert_eq!(l["SslPolicy"], DEFAULT_TLS_POLICY);
        assert_eq!(
            l["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"],
            "404"
        );
        assert!(!t.resources.contains_key("AlbHttpListener"));
        assert!(
            t.resources
                .contains_key("AlbSecurityGroupIngressFromInternetTcp443")
        );
    }

    #[test]
    fn two_services_share_one_load_balancer_by_path() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        let orders = FargateService::new(&mut stack, "Orders", &cluster, web(Some(8080))).unwrap();
        let billing =
            FargateService::new(&mut stack, "Billing", &cluster, web(Some(9090))).unwrap();
        lb.add_target(&mut stack, &orders, Routing::paths(10, ["/orders/*"]))
            .unwrap();
        let target = lb
            .add_target(
                &mut stack,
                &billing,
                Routing::hosts(20, ["billing.example.org"])
                    .with_health_check(HealthCheck::on_path("/healthz")),
            )
            .unwrap();
        let _ = target.metrics();
        let t = stack.synth().unwrap();
        let rule = &t.resources["OrdersAlbListenerRule"];
        assert_eq!(rule.properties["Priority"], 10);
        assert_eq!(
            rule.properties["Conditions"],
            json!([{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders/*"]}}])
        );
        assert_eq!(
            t.resources["BillingAlbListenerRule"].properties["Conditions"][0]["Field"],
            "host-header"
        );
        assert_eq!(
            t.resources["BillingAlbTargetGroup"].properties["HealthCheckPath"],
            "/healthz"
        );
        let svc = &t.resources["OrdersService"];
        assert_eq!(svc.depends_on, ["OrdersAlbListenerRule"]);
        assert_eq!(
            svc.properties["LoadBalancers"],
            json!([{"ContainerName": "app", "ContainerPort": 8080, "TargetGroupArn": {"Ref": "OrdersAlbTargetGroup"}}])
        );
        // Least privilege: each service admits only the load balancer, on its port.
        assert!(
            t.resources
                .contains_key("OrdersSecurityGroupIngressFromAlbSecurityGroupTcp8080")
        );
        assert!(
            t.resources
                .contains_key("AlbSecurityGroupEgressToBillingSecurityGroupTcp9090")
        );
    }

    #[test]
    fn a_blue_green_service_gets_a_green_target_group_and_role() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        let mut p = web(Some(8080));
        p.deployment = DeploymentStrategy::BlueGreen {
            bake_time_minutes: 5,
            rollback_alarm_names: vec![],
        };
        let svc = FargateService::new(&mut stack, "Web", &cluster, p).unwrap();
        lb.add_target(&mut stack, &svc, Routing::any(100)).unwrap();
        let t = stack.synth().unwrap();
        let entry = &t.resources["WebService"].properties["LoadBalancers"][0];
        assert_eq!(
            entry["AdvancedConfiguration"]["AlternateTargetGroupArn"],
            json!({"Ref": "WebAlbTargetGroupGreen"})
        );
        assert_eq!(
            entry["AdvancedConfiguration"]["ProductionListenerRule"],
            json!({"Ref": "WebAlbListenerRule"})
        );
        assert!(t.resources.contains_key("WebAlbDeploymentRole"));
        let weights = &t.resources["WebAlbListenerRule"].properties["Actions"][0]["ForwardConfig"]
            ["TargetGroups"];
        assert_eq!(weights[1]["Weight"], 0);
    }

    #[test]
    fn internal_load_balancers_sit_in_private_subnets_without_internet_ingress() {
        let (mut stack, network) = setup();
        LoadBalancer::new(
            &mut stack,
            "Alb",
            &network,
            LoadBalancerProps {
                internet_facing: false,
                ..LoadBalancerProps::new(cert())
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            t.resources["AlbLoadBalancer"].properties["Scheme"],
            "internal"
        );
        assert!(
            !serde_json::to_string(&t)
                .unwrap()
                .contains("IngressFromInternet")
        );
    }

    #[test]
    fn fails_when_the_redirect_port_is_blocked_by_the_network_acl() {
        let (mut stack, network) = setup();
        let e = LoadBalancer::new(
            &mut stack,
            "Alb",
            &network,
            LoadBalancerProps {
                http_redirect: true,
                ..LoadBalancerProps::new(cert())
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs/Alb: http_redirect needs port 80 from the internet, but the public network ACL of khs/Network admits only [443]; add 80 to its public_ingress_ports or turn http_redirect off"
        );
        let (mut stack, network) = stack_with_network_of(NetworkProps {
            public_ingress_ports: vec![80, 443],
            ..NetworkProps::default()
        });
        LoadBalancer::new(
            &mut stack,
            "Alb",
            &network,
            LoadBalancerProps {
                http_redirect: true,
                ..LoadBalancerProps::new(cert())
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        assert!(t.resources.contains_key("AlbHttpListener"));
    }

    #[test]
    fn fails_when_a_target_has_no_port_or_a_bad_priority() {
        let (mut stack, network) = setup();
        let cluster =
            Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        let worker = FargateService::new(&mut stack, "Worker", &cluster, web(None)).unwrap();
        let e = lb
            .add_target(&mut stack, &worker, Routing::any(1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Worker: container.port must be set for the service to sit behind khs/Alb, got none"
        );
        let web = FargateService::new(&mut stack, "Web", &cluster, web(Some(80))).unwrap();
        let e = lb
            .add_target(&mut stack, &web, Routing::any(0))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Web: routing.priority must be 1..=50000"),
            "{e}"
        );
        let e = lb
            .add_target(&mut stack, &web, Routing::paths(1, ["orders"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Web: routing.paths must start with \"/\", got \"orders\""
        );
    }

    #[test]
    fn dns_aliases_point_at_the_load_balancer_and_values_may_be_intrinsics() {
        use crate::network::{
            AliasTarget, DnsRecord, DnsRecordProps, HostedZoneRef, RecordTarget, RecordType,
            RecordValues,
        };
        let (mut stack, network) = setup();
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org").unwrap();
        DnsRecord::new(
            &mut stack,
            "ApiDns",
            DnsRecordProps {
                zone: zone.clone(),
                name: "api.example.org".into(),
                record_type: RecordType::A,
                target: RecordTarget::Alias(AliasTarget::load_balancer(&lb)),
            },
        )
        .unwrap();
        DnsRecord::new(
            &mut stack,
            "AlbName",
            DnsRecordProps {
                zone,
                name: "alb.example.org".into(),
                record_type: RecordType::Cname,
                target: RecordTarget::Values {
                    values: RecordValues::one(lb.dns_name()),
                    ttl_seconds: 300,
                },
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            t.resources["ApiDnsRecord"].properties["AliasTarget"],
            json!({"DNSName": {"Fn::GetAtt": ["AlbLoadBalancer", "DNSName"]},
                   "EvaluateTargetHealth": true,
                   "HostedZoneId": {"Fn::GetAtt": ["AlbLoadBalancer", "CanonicalHostedZoneID"]}})
        );
        assert_eq!(
            t.resources["AlbNameRecord"].properties["ResourceRecords"],
            json!([{"Fn::GetAtt": ["AlbLoadBalancer", "DNSName"]}])
        );
    }

    #[test]
    fn scopes_reopen_only_paths_of_their_own_stack() {
        use crate::core::path::ConstructPath;
        let (mut stack, network) = setup();
        let other = ConstructPath::root("other").child("Svc").unwrap();
        let e = stack.as_scope().reopen(&other).err().unwrap().to_string();
        assert!(e.contains("is in stack \"other\", not in \"khs\""), "{e}");
        let lb =
            LoadBalancer::new(&mut stack, "Alb", &network, LoadBalancerProps::new(cert())).unwrap();
        let missing: Handle<TargetGroup> = Handle::new(
            crate::core::logical_id::LogicalId::from_path(
                &ConstructPath::root("khs").child("Nope").unwrap(),
            )
            .unwrap(),
        );
        let e = stack
            .as_scope()
            .add_dependency(lb.load_balancer().unwrap(), &missing)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Nope") && e.contains("no such resource"), "{e}");
    }

    #[test]
    fn fails_when_the_certificate_is_in_another_region() {
        let (mut stack, network) = setup();
        let e = LoadBalancer::new(
            &mut stack,
            "Alb",
            &network,
            LoadBalancerProps::new(CertificateRef::from_arn(
                "arn:aws:acm:eu-west-1:1:certificate/x",
                "eu-west-1",
                vec![],
            )),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Alb: certificate must be in the stack's region us-east-1"),
            "{e}"
        );
    }
}
