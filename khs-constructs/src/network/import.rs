//! [`Network::import`]: a VPC made outside the app (by another tool, team or
//! account setup), used by every construct that takes a [`Network`].

use ipnet::Ipv4Net;

use super::{NatGateways, Network, Subnet, SubnetKind};
use crate::core::error::{Error, Result};
use crate::core::scope::AsScope;
use crate::core::value::Value;

/// One subnet of an imported network.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSubnet {
    /// The subnet id (`subnet-…`, or a value such as
    /// `scope.import_external("shared-net:PrivateSubnet1")?`).
    pub subnet_id: Value<String>,
    /// Its availability zone (`us-east-1a`).
    pub availability_zone: String,
    /// Its CIDR block (inside the VPC's).
    pub cidr: Ipv4Net,
    /// The route table associated with it (`rtb-…` or a value).
    pub route_table_id: Value<String>,
}

/// What [`Network::import`] needs to know about an existing VPC.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkImport {
    /// The VPC id (`vpc-…`, or a value such as an `Fn::ImportValue`).
    pub vpc_id: Value<String>,
    /// The VPC's CIDR block.
    pub cidr: Ipv4Net,
    /// Subnets routed to an internet gateway, one per zone.
    ///
    /// Default: - none.
    pub public_subnets: Vec<ImportedSubnet>,
    /// Subnets without a public route, one per zone (where databases,
    /// caches and services go).
    ///
    /// Default: - none (at least one subnet of either kind is required).
    pub private_subnets: Vec<ImportedSubnet>,
    /// How the private subnets reach the internet.
    ///
    /// Default: [`NatGateways::None`] (no route to the internet assumed).
    pub nat_gateways: NatGateways,
    /// The TCP ports the public subnets admit from the internet.
    ///
    /// Default: - none known.
    pub public_ingress_ports: Vec<u16>,
    /// Whether the VPC has an S3 gateway endpoint on the private subnets'
    /// route tables (counted by the check that tasks without NAT can pull
    /// their images). Interface endpoints of an imported VPC are not known
    /// to the library: a private service on an imported network without
    /// NAT is refused with the endpoints it would need.
    ///
    /// Default: `false`.
    pub s3_gateway_endpoint: bool,
}

impl NetworkImport {
    /// An import of the VPC `vpc_id` with CIDR `cidr`; add its subnets.
    pub fn new(vpc_id: impl Into<Value<String>>, cidr: Ipv4Net) -> Self {
        NetworkImport {
            vpc_id: vpc_id.into(),
            cidr,
            public_subnets: Vec::new(),
            private_subnets: Vec::new(),
            nat_gateways: NatGateways::None,
            public_ingress_ports: Vec::new(),
            s3_gateway_endpoint: false,
        }
    }
}

/// What [`check_arn`] expects of an imported resource's ARN.
pub(crate) struct ArnRule<'a> {
    /// The service (`secretsmanager`, `sns`, `elasticloadbalancing`).
    pub service: &'a str,
    /// The resource part's prefix (`secret:`, `loadbalancer/app/`), empty
    /// for any.
    pub resource_prefix: &'a str,
    /// An example shown in errors.
    pub example: &'a str,
    /// The resource must be in the stack's region.
    pub same_region: bool,
    /// Why the region must match (the end of the error message).
    pub region_reason: &'a str,
    /// The resource must be in the stack's account when the stack names one.
    pub same_account: bool,
}

/// The ARN of a secret.
pub(crate) const SECRET_ARN: ArnRule<'static> = ArnRule {
    service: "secretsmanager",
    resource_prefix: "secret:",
    example: "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf",
    same_region: true,
    region_reason: "the read grant names Secrets Manager of the stack's region; replicate the secret into it",
    same_account: false,
};

/// The ARN of a KMS key.
pub(crate) const KEY_ARN: ArnRule<'static> = ArnRule {
    service: "kms",
    resource_prefix: "key/",
    example: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    same_region: true,
    region_reason: "a KMS key serves the services of its own region only",
    same_account: false,
};

/// Checks a literal ARN (`arn:<partition>:<service>:<region>:<account>:<resource>`)
/// of an imported resource against `rule` and the environment `env`;
/// values such as imports are checked by CloudFormation at deploy time.
pub(crate) fn check_arn(
    path: impl std::fmt::Display,
    prop: &str,
    v: &Value<String>,
    rule: &ArnRule<'_>,
    env: &crate::core::stack::Environment,
) -> Result<()> {
    let Value::Literal(s) = v else {
        return Ok(());
    };
    let bad = |why: String| Error::invalid_prop(&path, prop, why);
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Err(bad(format!(
            "must be an ARN like {:?} (or a value such as an import), got {s:?}",
            rule.example
        )));
    };
    let partition_ok = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"].contains(&partition);
    let region_ok = region.split('-').count() >= 3
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    let resource_ok =
        resource.len() > rule.resource_prefix.len() && resource.starts_with(rule.resource_prefix);
    if arn != "arn"
        || !partition_ok
        || service != rule.service
        || !region_ok
        || !account_ok
        || !resource_ok
    {
        return Err(bad(format!(
            "must be an ARN like {:?} (service {}, a region, a 12-digit account{}), got {s:?}",
            rule.example,
            rule.service,
            if rule.resource_prefix.is_empty() {
                String::new()
            } else {
                format!(", resource {}…", rule.resource_prefix)
            }
        )));
    }
    if rule.same_region && region != env.region {
        return Err(bad(format!(
            "must be in the stack's region {} ({}), got {region} in {s:?}",
            env.region, rule.region_reason
        )));
    }
    if rule.same_account
        && let Some(mine) = &env.account
        && mine != account
    {
        return Err(bad(format!(
            "must be in the stack's account {mine}, got {account} in {s:?}"
        )));
    }
    Ok(())
}

/// A checked literal ARN written with `${AWS::Partition}` in place of its
/// partition (`Fn::Sub`), as cfn-lint asks (I3042): the resource is in the
/// stack's region, so in its partition. Values are returned as they are.
pub(crate) fn portable_arn(v: Value<String>) -> Value<String> {
    match &v {
        Value::Literal(s) if !s.contains("${") => match s.splitn(3, ':').collect::<Vec<_>>()[..] {
            ["arn", _, rest] => {
                crate::core::intrinsic::Intrinsic::sub(format!("arn:${{AWS::Partition}}:{rest}"))
                    .into()
            }
            _ => v,
        },
        _ => v,
    }
}

/// Checks a port of an imported endpoint (`1..=65535`).
pub(crate) fn check_port(path: impl std::fmt::Display, prop: &str, port: u16) -> Result<()> {
    if port == 0 {
        return Err(Error::invalid_prop(
            path,
            prop,
            "must be a port in 1..=65535, got 0",
        ));
    }
    Ok(())
}

/// Checks that a literal endpoint address is a DNS name (letters, digits,
/// `-` and `.`, at most 253 characters).
pub(crate) fn check_host(
    path: impl std::fmt::Display,
    prop: &str,
    v: &Value<String>,
) -> Result<()> {
    if let Value::Literal(s) = v {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!(
                    "must be a DNS name such as \"orders.abc123.us-east-1.rds.amazonaws.com\" (or a value such as an import), got {s:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a literal id's prefix (`vpc-`, `subnet-`, `rtb-`).
pub(crate) fn check_id(
    path: impl std::fmt::Display,
    prop: &str,
    v: &Value<String>,
    prefix: &str,
) -> Result<()> {
    if let Value::Literal(s) = v {
        let rest = s.strip_prefix(prefix).unwrap_or_default();
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!(
                    "must be an id like \"{prefix}0123456789abcdef0\" (or a value such as an import), got {s:?}"
                ),
            ));
        }
    }
    Ok(())
}

impl Network {
    /// A network that exists already (made by another tool, team or account
    /// setup): nothing is added to the stack and no construct modifies it;
    /// every construct that takes a `&Network` accepts it and places its own
    /// resources (security groups, subnet groups, ENIs) in it by id.
    /// [`Network::vpc`], [`Subnet::handle`] and [`Subnet::route_table`] are
    /// `None`, [`Network::is_imported`] is `true`.
    ///
    /// ```
    /// use khs_constructs::prelude::*;
    /// use khs_constructs::network::{ImportedSubnet, NetworkImport};
    ///
    /// let mut stack = Stack::new("orders-db", StackProps::new(Environment::region("us-east-1"))).unwrap();
    /// let subnet = |id: &str, zone: &str, cidr: &str, rtb: &str| ImportedSubnet {
    ///     subnet_id: id.into(),
    ///     availability_zone: zone.to_string(),
    ///     cidr: cidr.parse().unwrap(),
    ///     route_table_id: rtb.into(),
    /// };
    /// let network = Network::import(&mut stack, "Shared", NetworkImport {
    ///     private_subnets: vec![
    ///         subnet("subnet-0a1", "us-east-1a", "10.1.11.0/24", "rtb-0a1"),
    ///         subnet("subnet-0b2", "us-east-1b", "10.1.12.0/24", "rtb-0b2"),
    ///     ],
    ///     ..NetworkImport::new("vpc-0123456789abcdef0", "10.1.0.0/16".parse().unwrap())
    /// }).unwrap();
    /// assert!(network.is_imported());
    /// Database::new(&mut stack, "Database", &network, DatabaseProps::default()).unwrap();
    /// ```
    pub fn import(scope: &mut impl AsScope, id: &str, props: NetworkImport) -> Result<Network> {
        let mut parent = scope.as_scope();
        let me = parent.child(id)?;
        let path = me.path().clone();
        let at = path.to_string();
        check_id(&at, "vpc_id", &props.vpc_id, "vpc-")?;
        if props.public_subnets.is_empty() && props.private_subnets.is_empty() {
            return Err(Error::invalid_prop(
                &at,
                "private_subnets",
                "must list at least one subnet (public or private), got none",
            ));
        }
        let mut all: Vec<(String, Ipv4Net)> = Vec::new();
        let mut subnets = |list: &[ImportedSubnet], kind: SubnetKind| -> Result<Vec<Subnet>> {
            let field = match kind {
                SubnetKind::Public => "public_subnets",
                SubnetKind::Private => "private_subnets",
            };
            let mut zones: Vec<&str> = Vec::new();
            let mut out = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let here = format!("{at}/{field}[{i}]");
                check_id(
                    &at,
                    &format!("{field}[{i}].subnet_id"),
                    &s.subnet_id,
                    "subnet-",
                )?;
                check_id(
                    &at,
                    &format!("{field}[{i}].route_table_id"),
                    &s.route_table_id,
                    "rtb-",
                )?;
                if !props.cidr.contains(&s.cidr) {
                    return Err(Error::SubnetOutsideVpc {
                        path: here,
                        subnet: s.cidr.to_string(),
                        vpc: props.cidr.to_string(),
                    });
                }
                if let Some((other_path, other)) = all
                    .iter()
                    .find(|(_, o)| o.contains(&s.cidr) || s.cidr.contains(o))
                {
                    return Err(Error::OverlappingSubnets {
                        path: here,
                        subnet: s.cidr.to_string(),
                        other: other.to_string(),
                        other_path: other_path.clone(),
                    });
                }
                if zones.contains(&s.availability_zone.as_str()) {
                    return Err(Error::invalid_prop(
                        &at,
                        format!("{field}[{i}].availability_zone"),
                        format!(
                            "must differ between the {field} (one per zone), got {:?} twice",
                            s.availability_zone
                        ),
                    ));
                }
                zones.push(&s.availability_zone);
                all.push((here, s.cidr));
                out.push(Subnet {
                    id: s.subnet_id.clone(),
                    route_table_id: s.route_table_id.clone(),
                    handle: None,
                    route_table: None,
                    kind,
                    cidr: s.cidr,
                    availability_zone: Value::Literal(s.availability_zone.clone()),
                    index: i,
                });
            }
            Ok(out)
        };
        let public = subnets(&props.public_subnets, SubnetKind::Public)?;
        let private = subnets(&props.private_subnets, SubnetKind::Private)?;
        let zones = if private.is_empty() {
            &public
        } else {
            &private
        }
        .iter()
        .map(|s| s.availability_zone.clone())
        .collect();
        Ok(Network {
            path,
            vpc_id: props.vpc_id,
            vpc: None,
            cidr: props.cidr,
            public,
            private,
            zones,
            nat_gateways: props.nat_gateways,
            public_ingress_ports: props.public_ingress_ports,
            s3_gateway_endpoint: props.s3_gateway_endpoint,
            endpoints: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn subnet(id: &str, zone: &str, cidr: &str, rtb: &str) -> ImportedSubnet {
        ImportedSubnet {
            subnet_id: id.into(),
            availability_zone: zone.to_string(),
            cidr: cidr.parse().unwrap(),
            route_table_id: rtb.into(),
        }
    }

    fn props() -> NetworkImport {
        NetworkImport {
            private_subnets: vec![
                subnet("subnet-0a1", "us-east-1a", "10.1.11.0/24", "rtb-0a1"),
                subnet("subnet-0b2", "us-east-1b", "10.1.12.0/24", "rtb-0b2"),
            ],
            ..NetworkImport::new("vpc-0123456789abcdef0", "10.1.0.0/16".parse().unwrap())
        }
    }

    fn stack() -> Stack {
        Stack::new("db", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    #[test]
    fn an_imported_network_adds_nothing_and_constructs_use_its_ids() {
        let mut s = stack();
        let network = Network::import(&mut s, "Shared", props()).unwrap();
        assert!(network.is_imported());
        assert!(network.vpc().is_none());
        assert!(network.private_subnets()[0].handle().is_none());
        assert!(network.private_subnets()[0].route_table().is_none());
        assert!(s.template().resources.is_empty(), "nothing is created");
        Database::new(&mut s, "Database", &network, DatabaseProps::default()).unwrap();
        let t = s.synth().unwrap();
        assert_eq!(
            t.resources["DatabaseSubnetGroup"].properties["SubnetIds"],
            serde_json::json!(["subnet-0a1", "subnet-0b2"])
        );
        assert!(
            !t.resources
                .values()
                .any(|r| r.type_name.starts_with("AWS::EC2::Subnet")
                    || r.type_name == "AWS::EC2::VPC"
                    || r.type_name == "AWS::EC2::RouteTable")
        );
    }

    #[test]
    fn fails_when_an_id_has_the_wrong_shape() {
        let e = Network::import(
            &mut stack(),
            "Shared",
            NetworkImport {
                vpc_id: "vpc0123".into(),
                ..props()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "db/Shared: vpc_id must be an id like \"vpc-0123456789abcdef0\" (or a value such as an import), got \"vpc0123\""
        );
    }

    #[test]
    fn fails_when_a_subnet_is_outside_the_vpc_or_zones_repeat() {
        let mut p = props();
        p.private_subnets[1].cidr = "10.2.0.0/24".parse().unwrap();
        let e = Network::import(&mut stack(), "Shared", p)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "db/Shared/private_subnets[1]: subnet cidr 10.2.0.0/24 is outside the vpc cidr 10.1.0.0/16; choose a subnet inside 10.1.0.0/16"
        );
        let mut p = props();
        p.private_subnets[1].availability_zone = "us-east-1a".into();
        let e = Network::import(&mut stack(), "Shared", p)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "db/Shared: private_subnets[1].availability_zone must differ between the private_subnets (one per zone), got \"us-east-1a\" twice"
        );
        let e = Network::import(
            &mut stack(),
            "Shared",
            NetworkImport::new("vpc-0abc", "10.1.0.0/16".parse().unwrap()),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "db/Shared: private_subnets must list at least one subnet (public or private), got none"
        );
    }

    #[test]
    fn ids_may_come_from_another_tool_s_exports() {
        let mut s = stack();
        let mut p = props();
        {
            let mut root = s.as_scope();
            p.vpc_id = root.import_external("shared-net:VpcId").unwrap();
            p.private_subnets[0].subnet_id = root.import_external("shared-net:Private1").unwrap();
        }
        let network = Network::import(&mut s, "Shared", p).unwrap();
        Cache::new(&mut s, "Cache", &network, CacheProps::default()).unwrap();
        let mut app = App::new();
        app.add_stack(s).unwrap();
        let out = app.synth().unwrap();
        let t = &out[0].template;
        assert_eq!(
            t.resources["CacheSubnetGroup"].properties["SubnetIds"][0],
            serde_json::json!({"Fn::ImportValue": "shared-net:Private1"})
        );
        assert_eq!(
            t.metadata[crate::core::references::EXTERNAL_IMPORTS_KEY],
            serde_json::json!(["shared-net:Private1", "shared-net:VpcId"])
        );
    }
}
