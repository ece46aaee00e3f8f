//! Load balancers that exist already: [`LoadBalancer::import`], and
//! [`LoadBalancerEndpoint`], what DNS alias records and CDN origins take.
//!
//! An import returns a [`LoadBalancer`], the type a load balancer of the app
//! has (as [`Network::import`] returns a `Network`): everything that takes
//! a `&LoadBalancer` accepts it. Nothing of the load balancer is added or
//! modified: [`LoadBalancer::load_balancer`] and [`LoadBalancer::listener`]
//! are `None`, and its security group is an imported one (no rule is
//! written on it, see [`Connections`]). What the app may still do:
//!
//! - point DNS alias records ([`AliasTarget::load_balancer`]) and a CDN's
//!   API origin ([`ApiOrigin::new`]) at it;
//! - route to its services with [`LoadBalancer::add_target`] when the
//!   HTTPS listener's ARN is given: the target group and listener rule are
//!   resources of the *app* (below the service's path), and the service's
//!   group admits the load balancer's group; the egress from the load
//!   balancer's group to the service is its owner's to allow.
//!
//! [`Network::import`]: crate::network::Network::import
//! [`AliasTarget::load_balancer`]: crate::network::AliasTarget::load_balancer
//! [`ApiOrigin::new`]: crate::edge::cdn::ApiOrigin::new
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::compute::LoadBalancerImport;
//! # use khs_constructs::network::{ImportedSubnet, NetworkImport};
//! # let mut stack = Stack::new("web", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! # let network = Network::import(&mut stack, "Net", NetworkImport {
//! #     private_subnets: vec![ImportedSubnet {
//! #         subnet_id: "subnet-0a1".into(),
//! #         availability_zone: "us-east-1a".into(),
//! #         cidr: "10.1.11.0/24".parse().unwrap(),
//! #         route_table_id: "rtb-0a1".into(),
//! #     }],
//! #     ..NetworkImport::new("vpc-0123456789abcdef0", "10.1.0.0/16".parse().unwrap())
//! # }).unwrap();
//! let alb = LoadBalancer::import(&mut stack, "SharedAlb", &network, LoadBalancerImport::new(
//!     "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188",
//!     "shared-1234567890.us-east-1.elb.amazonaws.com",
//!     "Z35SXDOTRQ7X7K",
//!     "sg-0123456789abcdef0",
//! )).unwrap();
//! assert!(alb.is_imported());
//! assert!(stack.template().resources.is_empty());
//! ```

use crate::cfn::attributes::*;
use crate::cfn::elasticloadbalancingv2::LoadBalancer as CfnLoadBalancer;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::network::connections::{Connections, Port};
use crate::network::vpc::Network;
use crate::network::vpc::import::{ArnRule, check_arn, check_host, portable_arn};

use super::api_service::ApiService;
use super::load_balancer::{LoadBalancer, LoadBalancerAttributes};

const LOAD_BALANCER_ARN: ArnRule<'static> = ArnRule {
    service: "elasticloadbalancing",
    resource_prefix: "loadbalancer/app/",
    example: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188",
    same_region: true,
    region_reason: "the stack's listener rules and targets live in its own region",
    same_account: true,
};

const LISTENER_ARN: ArnRule<'static> = ArnRule {
    service: "elasticloadbalancing",
    resource_prefix: "listener/app/",
    example: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
    same_region: true,
    region_reason: "the stack's listener rules and targets live in its own region",
    same_account: true,
};

/// What [`LoadBalancer::import`] needs to know about an existing
/// Application Load Balancer.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerImport {
    /// The load balancer's ARN (`…:loadbalancer/app/<name>/<id>`, in the
    /// stack's region and account, or a value such as an import).
    pub arn: Value<String>,
    /// Its DNS name (`<name>-<n>.<region>.elb.amazonaws.com`).
    pub dns_name: Value<String>,
    /// Its canonical hosted zone id (`Z…`, for alias records).
    pub canonical_hosted_zone_id: Value<String>,
    /// Its security group (`sg-…`; default port 443).
    pub security_group_id: Value<String>,
    /// The ARN of its HTTPS listener (`…:listener/app/<name>/<id>/<id>`, of
    /// this load balancer), needed by [`LoadBalancer::add_target`].
    ///
    /// Default: - none (add_target is refused).
    pub listener_arn: Option<Value<String>>,
}

impl LoadBalancerImport {
    /// An import without a listener.
    pub fn new(
        arn: impl Into<Value<String>>,
        dns_name: impl Into<Value<String>>,
        canonical_hosted_zone_id: impl Into<Value<String>>,
        security_group_id: impl Into<Value<String>>,
    ) -> Self {
        LoadBalancerImport {
            arn: arn.into(),
            dns_name: dns_name.into(),
            canonical_hosted_zone_id: canonical_hosted_zone_id.into(),
            security_group_id: security_group_id.into(),
            listener_arn: None,
        }
    }
}

/// `app/<name>/<id>` of a load balancer ARN: the `LoadBalancer` metric
/// dimension (`Fn::Select`/`Fn::Split` when the ARN is a value).
fn full_name(arn: &Value<String>) -> Value<String> {
    match arn {
        Value::Literal(s) => Value::Literal(
            s.split_once(":loadbalancer/")
                .map(|(_, r)| r.to_string())
                .unwrap_or_default(),
        ),
        other => Intrinsic::select(
            1,
            Intrinsic::Split {
                delimiter: ":loadbalancer/".to_string(),
                source: other.clone().into(),
            },
        )
        .into(),
    }
}

impl LoadBalancer {
    /// An Application Load Balancer that exists already, on `network` (the
    /// network its services are placed in): see the [module
    /// docs](crate::compute::import) for what the app may do with it.
    /// ARNs must be of this stack's region and account (when the stack
    /// names one), the listener one of this load balancer's, the hosted
    /// zone id `Z` and capitals or digits.
    pub fn import(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: LoadBalancerImport,
    ) -> Result<LoadBalancer> {
        let mut parent = scope.as_scope();
        let me = parent.child(id)?;
        let path = me.path().clone();
        let env = me.env().clone();
        check_arn(&path, "arn", &props.arn, &LOAD_BALANCER_ARN, &env)?;
        if let Some(l) = &props.listener_arn {
            check_arn(&path, "listener_arn", l, &LISTENER_ARN, &env)?;
            if let (Value::Literal(lb), Value::Literal(l)) = (&props.arn, l) {
                let lb_part = lb.split_once(":loadbalancer/").map(|(_, r)| r);
                let l_part = l
                    .split_once(":listener/")
                    .and_then(|(_, r)| r.rsplit_once('/'))
                    .map(|(lb, _)| lb);
                if lb_part != l_part {
                    return Err(Error::invalid_prop(
                        &path,
                        "listener_arn",
                        format!(
                            "must be a listener of the load balancer {}, got {l:?}",
                            lb_part.unwrap_or_default()
                        ),
                    ));
                }
            }
        }
        check_host(&path, "dns_name", &props.dns_name)?;
        if let Value::Literal(z) = &props.canonical_hosted_zone_id {
            let ok = z.len() > 1
                && z.len() <= 32
                && z.starts_with('Z')
                && z.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ok {
                return Err(Error::invalid_prop(
                    &path,
                    "canonical_hosted_zone_id",
                    format!(
                        "must be a hosted zone id like \"Z35SXDOTRQ7X7K\" (the load balancer's CanonicalHostedZoneID), got {z:?}"
                    ),
                ));
            }
        }
        let connections =
            Connections::import(path.clone(), props.security_group_id, Some(Port::tcp(443)))?;
        Ok(LoadBalancer {
            path,
            load_balancer: None,
            listener: None,
            attributes: LoadBalancerAttributes {
                full_name: full_name(&props.arn),
                arn: portable_arn(props.arn),
                dns_name: props.dns_name,
                hosted_zone_id: props.canonical_hosted_zone_id,
                listener_arn: props.listener_arn.map(portable_arn),
            },
            connections,
            network_path: network.path().clone(),
            vpc_id: network.vpc_id(),
        })
    }
}

/// What DNS alias records and CDN origins need of a load balancer: its DNS
/// name and canonical hosted zone. From a [`LoadBalancer`] (of the app or
/// imported), an [`ApiService`] or its load balancer resource.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerEndpoint {
    /// The DNS name.
    pub dns_name: Value<String>,
    /// The canonical hosted zone id.
    pub hosted_zone_id: Value<String>,
}

impl From<&LoadBalancer> for LoadBalancerEndpoint {
    fn from(lb: &LoadBalancer) -> Self {
        LoadBalancerEndpoint {
            dns_name: lb.dns_name(),
            hosted_zone_id: lb.hosted_zone_id(),
        }
    }
}

impl From<&ApiService> for LoadBalancerEndpoint {
    fn from(api: &ApiService) -> Self {
        LoadBalancerEndpoint {
            dns_name: api.load_balancer_dns_name(),
            hosted_zone_id: api.load_balancer_hosted_zone_id(),
        }
    }
}

impl From<&Handle<CfnLoadBalancer>> for LoadBalancerEndpoint {
    fn from(lb: &Handle<CfnLoadBalancer>) -> Self {
        LoadBalancerEndpoint {
            dns_name: lb.attr_dns_name(),
            hosted_zone_id: lb.attr_canonical_hosted_zone_id(),
        }
    }
}

impl From<Handle<CfnLoadBalancer>> for LoadBalancerEndpoint {
    fn from(lb: Handle<CfnLoadBalancer>) -> Self {
        LoadBalancerEndpoint::from(&lb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::test_support::stack_with_network;
    use serde_json::json;

    const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188";
    const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2";

    fn props() -> LoadBalancerImport {
        LoadBalancerImport::new(
            LB,
            "shared-1234567890.us-east-1.elb.amazonaws.com",
            "Z35SXDOTRQ7X7K",
            "sg-0123456789abcdef0",
        )
    }

    fn err(
        account: Option<&str>,
        f: impl FnOnce(LoadBalancerImport) -> LoadBalancerImport,
    ) -> String {
        let mut s = Stack::new(
            "web",
            StackProps::new(Environment {
                account: account.map(str::to_string),
                region: "us-east-1".to_string(),
            }),
        )
        .unwrap();
        let network = Network::new(&mut s, "Network", NetworkProps::default()).unwrap();
        LoadBalancer::import(&mut s, "Alb", &network, f(props()))
            .unwrap_err()
            .to_string()
    }

    fn service(stack: &mut Stack, network: &Network) -> FargateService {
        let cluster = Cluster::new(stack, "Cluster", network, ClusterProps::default()).unwrap();
        let mut c =
            ContainerProps::new(ContainerImage::from_uri("public.ecr.aws/nginx/nginx:1.27"));
        c.port = Some(8080);
        FargateService::new(stack, "Web", &cluster, FargateServiceProps::new(c)).unwrap()
    }

    #[test]
    fn targets_on_an_imported_load_balancer_are_the_app_s_resources_only() {
        let (mut s, network) = stack_with_network();
        let before = s.template().resources.len();
        let alb = LoadBalancer::import(
            &mut s,
            "Alb",
            &network,
            LoadBalancerImport {
                listener_arn: Some(LISTENER.into()),
                ..props()
            },
        )
        .unwrap();
        assert!(alb.is_imported() && alb.load_balancer().is_none() && alb.listener().is_none());
        assert_eq!(s.template().resources.len(), before, "nothing is added");
        assert_eq!(
            alb.full_name(),
            Value::Literal("app/shared/50dc6c495c0c9188".into())
        );
        let web = service(&mut s, &network);
        let target = alb
            .add_target(&mut s, &web, Routing::paths(10, ["/web/*"]))
            .unwrap();
        assert_eq!(
            serde_json::to_value(target.metrics().load_balancer_full_name).unwrap(),
            json!("app/shared/50dc6c495c0c9188")
        );
        let t = s.synth().unwrap();
        assert_eq!(
            t.resources["WebAlbListenerRule"].properties["ListenerArn"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2"})
        );
        assert!(!t.resources.values().any(|r| matches!(
            r.type_name.as_str(),
            "AWS::ElasticLoadBalancingV2::LoadBalancer" | "AWS::ElasticLoadBalancingV2::Listener"
        )));
        // The service admits the load balancer; its group gets no rule.
        let on_imported: Vec<_> = t
            .resources
            .iter()
            .filter(|(_, r)| {
                r.type_name.starts_with("AWS::EC2::SecurityGroup")
                    && r.properties.get("GroupId") == Some(&json!("sg-0123456789abcdef0"))
            })
            .map(|(id, _)| id.to_string())
            .collect();
        assert!(on_imported.is_empty(), "{on_imported:?}");
        assert_eq!(
            t.resources["WebSecurityGroupIngressFromAlbTcp8080"].properties["SourceSecurityGroupId"],
            "sg-0123456789abcdef0"
        );
    }

    #[test]
    fn alias_records_and_cdn_origins_take_an_imported_load_balancer() {
        let (mut s, network) = stack_with_network();
        let alb = LoadBalancer::import(&mut s, "Alb", &network, props()).unwrap();
        let AliasTarget::LoadBalancer {
            dns_name,
            hosted_zone_id,
        } = AliasTarget::load_balancer(&alb)
        else {
            panic!("a load balancer alias");
        };
        assert_eq!(
            dns_name,
            Value::Literal("shared-1234567890.us-east-1.elb.amazonaws.com".into())
        );
        assert_eq!(hosted_zone_id, Value::Literal("Z35SXDOTRQ7X7K".into()));
        let origin = ApiOrigin::new(&alb);
        assert_eq!(origin.load_balancer.dns_name, alb.dns_name());
    }

    #[test]
    fn full_names_of_imported_arns_are_split_at_deploy_time() {
        let v: Value<String> = Intrinsic::ImportValue("shared:AlbArn".into()).into();
        assert_eq!(
            serde_json::to_value(full_name(&v)).unwrap(),
            json!({"Fn::Select": ["1", {"Fn::Split": [":loadbalancer/", {"Fn::ImportValue": "shared:AlbArn"}]}]})
        );
    }

    #[test]
    fn fails_when_add_target_has_no_listener() {
        let (mut s, network) = stack_with_network();
        let alb = LoadBalancer::import(&mut s, "Alb", &network, props()).unwrap();
        let web = service(&mut s, &network);
        let e = alb
            .add_target(&mut s, &web, Routing::any(10))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/Alb: listener_arn is not set on this imported load balancer, so add_target for khs/Web has no listener to add its rule to; give the HTTPS listener's ARN in LoadBalancerImport::listener_arn"
        );
    }

    #[test]
    fn fails_when_load_balancer_import_values_are_wrong() {
        assert_eq!(
            err(None, |p| {
                LoadBalancerImport {
                arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/shared/50dc6c495c0c9188".into(),
                ..p
            }
            }),
            "web/Alb: arn must be an ARN like \"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188\" (service elasticloadbalancing, a region, a 12-digit account, resource loadbalancer/app/…), got \"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/shared/50dc6c495c0c9188\""
        );
        assert_eq!(
            err(Some("210987654321"), |p| p),
            format!(
                "web/Alb: arn must be in the stack's account 210987654321, got 123456789012 in {LB:?}"
            )
        );
        assert_eq!(
            err(None, |p| {
                LoadBalancerImport {
                listener_arn: Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/60dc6c495c0c9188/f2f7dc8efc522ab2".into()),
                ..p
            }
            }),
            "web/Alb: listener_arn must be a listener of the load balancer app/shared/50dc6c495c0c9188, got \"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/60dc6c495c0c9188/f2f7dc8efc522ab2\""
        );
        assert_eq!(
            err(None, |p| LoadBalancerImport {
                canonical_hosted_zone_id: "z35sxdotrq7x7k".into(),
                ..p
            }),
            "web/Alb: canonical_hosted_zone_id must be a hosted zone id like \"Z35SXDOTRQ7X7K\" (the load balancer's CanonicalHostedZoneID), got \"z35sxdotrq7x7k\""
        );
        assert_eq!(
            err(None, |p| LoadBalancerImport {
                security_group_id: "0123".into(),
                ..p
            }),
            "web/Alb: security_group_id must be an id like \"sg-0123456789abcdef0\" (or a value such as an import), got \"0123\""
        );
    }
}
