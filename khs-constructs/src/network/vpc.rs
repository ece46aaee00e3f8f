//! `Network`: a VPC with public and private subnets across availability zones.
//!
//! Emits, for N availability zones:
//! - an `AWS::EC2::VPC` with DNS support and hostnames;
//! - per zone a public and a private `AWS::EC2::Subnet` (no public IPs are
//!   assigned on launch, even in public subnets: load balancers and NAT
//!   gateways bring their own addresses);
//! - an internet gateway and its attachment; a public route table with a
//!   default route to it;
//! - NAT gateways with Elastic IPs ([`NatGateways`]) and one private route
//!   table per zone routing `0.0.0.0/0` to its zone's (or the shared) NAT;
//! - an S3 gateway endpoint on the private route tables (free; keeps S3 and
//!   ECR layer traffic off the NAT);
//! - optionally interface endpoints for AWS services and a DynamoDB gateway
//!   endpoint ([`NetworkProps::endpoints`], see [`super::endpoints`] for
//!   what they cost against NAT);
//! - VPC flow logs of all traffic to a CloudWatch Logs group encrypted with
//!   a customer managed key of the network (`FlowLogs/Key`), with the IAM
//!   role the flow-log service uses (allowed to write to that group only);
//! - network ACLs: the public subnets accept only the listed ports from the
//!   internet (HTTPS by default) plus return traffic and traffic from inside
//!   the VPC; the private subnets accept traffic from the VPC and return
//!   traffic; both deny the `deny_cidrs` first.
//!
//! ```
//! use khs_constructs::prelude::*;
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let net = Network::new(&mut stack, "Network", NetworkProps {
//!     nat_gateways: NatGateways::Single,
//!     ..NetworkProps::default()
//! }).unwrap();
//! assert_eq!(net.public_subnets()[0].cidr().to_string(), "10.0.1.0/24");
//! assert_eq!(net.private_subnets()[2].cidr().to_string(), "10.0.13.0/24");
//! ```

use crate::cfn::attributes::*;
use crate::cfn::ec2::network_acl_entry::NetworkAclEntryRequired;
use crate::cfn::ec2::subnet_network_acl_association::SubnetNetworkAclAssociationRequired;
use crate::cfn::ec2::subnet_route_table_association::SubnetRouteTableAssociationRequired;
use ipnet::Ipv4Net;
use serde_json::json;

use crate::cfn::ec2;
use crate::cfn::iam;
use crate::cfn::logs;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::path::ConstructPath;
use crate::core::resource::{Handle, Tag};
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::template::DeletionPolicy;
use crate::core::value::Value;
use crate::security::kms::{EncryptionKey, EncryptionKeyProps};

use super::endpoints::{InterfaceService, VpcEndpoints, VpcEndpointsProps};
#[path = "import.rs"]
pub(crate) mod import;
pub use import::{ImportedSubnet, NetworkImport};

/// The default VPC CIDR.
pub const DEFAULT_CIDR: &str = "10.0.0.0/16";
/// The default number of availability zones.
pub const DEFAULT_AZS: usize = 3;
/// CloudFormation offers at most this many zones in a region worth using.
pub const MAX_AZS: usize = 6;
/// The default flow-log retention in days.
pub const DEFAULT_FLOW_LOG_RETENTION_DAYS: u32 = 90;
/// Rule numbers from here on are the deny list.
const DENY_RULE_START: i64 = 10;
/// Allow rules start here.
const ALLOW_RULE_START: i64 = 100;
/// AWS's default quota of rules per network ACL and direction.
pub const MAX_NACL_RULES: usize = 20;
/// Retention values CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// How many NAT gateways the network has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatGateways {
    /// One NAT gateway in each availability zone: a zone failure does not cut
    /// the other zones off the internet.
    #[default]
    PerAz,
    /// One NAT gateway in the first zone shared by all private subnets:
    /// cheaper, for stages that can accept the zone dependency.
    Single,
    /// No NAT gateways: private subnets have no route to the internet.
    None,
}

/// Props of a [`Network`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkProps {
    /// The VPC's IPv4 CIDR block.
    ///
    /// Default: `10.0.0.0/16` ([`DEFAULT_CIDR`]).
    pub cidr: Ipv4Net,
    /// The availability zones, by name.
    ///
    /// Default: - empty: the first `max_azs` zones of the stack's region
    /// (`Fn::GetAZs`).
    pub availability_zones: Vec<String>,
    /// How many zones to use when `availability_zones` is empty (1..=6).
    ///
    /// Default: `3`.
    pub max_azs: usize,
    /// The public subnets' CIDRs, one per zone.
    ///
    /// Default: - empty: `/24`s numbered from 1 inside the VPC CIDR
    /// (`10.0.1.0/24`, `10.0.2.0/24`, …).
    pub public_subnet_cidrs: Vec<Ipv4Net>,
    /// The private subnets' CIDRs, one per zone.
    ///
    /// Default: - empty: `/24`s numbered from 11 inside the VPC CIDR
    /// (`10.0.11.0/24`, `10.0.12.0/24`, …).
    pub private_subnet_cidrs: Vec<Ipv4Net>,
    /// NAT gateway layout.
    ///
    /// Default: [`NatGateways::PerAz`].
    pub nat_gateways: NatGateways,
    /// Days the VPC flow logs are kept (a value CloudWatch Logs accepts).
    ///
    /// Default: `90`.
    pub flow_log_retention_days: u32,
    /// TCP ports the public subnets accept from the internet.
    ///
    /// Default: `[443]` (HTTPS only).
    pub public_ingress_ports: Vec<u16>,
    /// CIDRs denied in and out of every subnet before any allow rule (known
    /// bad addresses).
    ///
    /// Default: - none.
    pub deny_cidrs: Vec<Ipv4Net>,
    /// Add an S3 gateway endpoint to the private route tables.
    ///
    /// Default: `true`.
    pub s3_gateway_endpoint: bool,
    /// Interface endpoints (private DNS, in the private subnets, HTTPS only)
    /// and a DynamoDB gateway endpoint; see [`super::endpoints`].
    ///
    /// Default: - none (AWS APIs are reached through NAT).
    pub endpoints: VpcEndpointsProps,
}

impl Default for NetworkProps {
    fn default() -> Self {
        NetworkProps {
            cidr: Ipv4Net::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 16).unwrap_or_default(),
            availability_zones: Vec::new(),
            max_azs: DEFAULT_AZS,
            public_subnet_cidrs: Vec::new(),
            private_subnet_cidrs: Vec::new(),
            nat_gateways: NatGateways::PerAz,
            flow_log_retention_days: DEFAULT_FLOW_LOG_RETENTION_DAYS,
            public_ingress_ports: vec![443],
            deny_cidrs: Vec::new(),
            s3_gateway_endpoint: true,
            endpoints: VpcEndpointsProps::default(),
        }
    }
}

/// Whether a subnet is reachable from the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubnetKind {
    /// Routes to the internet gateway; for load balancers and NAT gateways.
    Public,
    /// Routes to a NAT gateway (if any); for services, databases, caches.
    Private,
}

/// A subnet of a [`Network`].
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    id: Value<String>,
    route_table_id: Value<String>,
    /// `None` for an imported subnet ([`Network::import`]).
    handle: Option<Handle<ec2::Subnet>>,
    /// `None` for an imported subnet.
    route_table: Option<Handle<ec2::RouteTable>>,
    kind: SubnetKind,
    cidr: Ipv4Net,
    availability_zone: Value<String>,
    index: usize,
}

impl Subnet {
    /// The subnet resource (`None` for an imported subnet, which this app
    /// does not manage).
    pub fn handle(&self) -> Option<&Handle<ec2::Subnet>> {
        self.handle.as_ref()
    }

    /// The subnet id (`Ref`, or the imported id).
    pub fn subnet_id(&self) -> Value<String> {
        self.id.clone()
    }

    /// The route table associated with the subnet (`None` for an imported
    /// subnet).
    pub fn route_table(&self) -> Option<&Handle<ec2::RouteTable>> {
        self.route_table.as_ref()
    }

    /// The id of the route table associated with the subnet (`Ref`, or the
    /// imported id).
    pub fn route_table_id(&self) -> Value<String> {
        self.route_table_id.clone()
    }

    /// Public or private.
    pub fn kind(&self) -> SubnetKind {
        self.kind
    }

    /// The subnet's CIDR.
    pub fn cidr(&self) -> Ipv4Net {
        self.cidr
    }

    /// The subnet's availability zone.
    pub fn availability_zone(&self) -> &Value<String> {
        &self.availability_zone
    }

    /// The zone's position in the network (0-based).
    pub fn zone_index(&self) -> usize {
        self.index
    }
}

/// A VPC with public and private subnets; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    path: ConstructPath,
    vpc_id: Value<String>,
    /// `None` for an imported network ([`Network::import`]).
    vpc: Option<Handle<ec2::Vpc>>,
    cidr: Ipv4Net,
    public: Vec<Subnet>,
    private: Vec<Subnet>,
    zones: Vec<Value<String>>,
    nat_gateways: NatGateways,
    public_ingress_ports: Vec<u16>,
    s3_gateway_endpoint: bool,
    endpoints: Option<VpcEndpoints>,
}

impl Network {
    /// Creates the network under `scope` with id `id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: NetworkProps) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        let plan = Plan::resolve(&path, &region, &props)?;

        let vpc = me.add(
            "Vpc",
            ec2::Vpc {
                cidr_block: Some(props.cidr.to_string().into()),
                enable_dns_hostnames: Some(true.into()),
                enable_dns_support: Some(true.into()),
                tags: Some(vec![Tag::new("Name", path.to_string())]),
                ..ec2::Vpc::default()
            },
        )?;
        let igw = me.add(
            "InternetGateway",
            ec2::InternetGateway {
                tags: Some(vec![Tag::new("Name", path.to_string())]),
            },
        )?;
        let attachment = me.add(
            "InternetGatewayAttachment",
            ec2::VpcGatewayAttachment {
                internet_gateway_id: Some(igw.ref_()),
                ..ec2::VpcGatewayAttachment::new(vpc.ref_())
            },
        )?;

        // Public subnets share one route table with a default route to the IGW.
        let public_rt = me.add(
            "PublicRouteTable",
            ec2::RouteTable {
                tags: Some(vec![Tag::new("Name", format!("{path}/public"))]),
                ..ec2::RouteTable::new(vpc.ref_())
            },
        )?;
        me.add_with(
            "PublicDefaultRoute",
            ec2::Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                gateway_id: Some(igw.ref_()),
                ..ec2::Route::new(public_rt.ref_())
            },
            ResourceOptions::default().depends_on(&attachment),
        )?;

        let mut public = Vec::new();
        for (i, cidr) in plan.public.iter().enumerate() {
            let subnet = add_subnet(
                &mut me,
                &vpc,
                SubnetKind::Public,
                i,
                *cidr,
                plan.zones[i].clone(),
                &public_rt,
            )?;
            public.push(subnet);
        }

        // NAT gateways live in public subnets.
        let mut nats: Vec<Handle<ec2::NatGateway>> = Vec::new();
        let nat_count = match props.nat_gateways {
            NatGateways::PerAz => public.len(),
            NatGateways::Single => 1,
            NatGateways::None => 0,
        };
        for subnet in public.iter().take(nat_count) {
            let n = subnet.index + 1;
            let eip = me.add_with(
                &format!("NatEip{n}"),
                ec2::Eip {
                    domain: Some("vpc".into()),
                    tags: Some(vec![Tag::new("Name", format!("{path}/nat{n}"))]),
                    ..ec2::Eip::default()
                },
                ResourceOptions::default().depends_on(&attachment),
            )?;
            let nat = me.add(
                &format!("NatGateway{n}"),
                ec2::NatGateway {
                    allocation_id: Some(eip.attr_allocation_id()),
                    subnet_id: Some(subnet.subnet_id()),
                    tags: Some(vec![Tag::new("Name", format!("{path}/nat{n}"))]),
                    ..ec2::NatGateway::default()
                },
            )?;
            nats.push(nat);
        }

        let mut private = Vec::new();
        for (i, cidr) in plan.private.iter().enumerate() {
            let n = i + 1;
            let rt = me.add(
                &format!("PrivateRouteTable{n}"),
                ec2::RouteTable {
                    tags: Some(vec![Tag::new("Name", format!("{path}/private{n}"))]),
                    ..ec2::RouteTable::new(vpc.ref_())
                },
            )?;
            if let Some(nat) = nats.get(i).or_else(|| nats.first()) {
                me.add(
                    &format!("PrivateDefaultRoute{n}"),
                    ec2::Route {
                        destination_cidr_block: Some("0.0.0.0/0".into()),
                        nat_gateway_id: Some(nat.ref_()),
                        ..ec2::Route::new(rt.ref_())
                    },
                )?;
            }
            let subnet = add_subnet(
                &mut me,
                &vpc,
                SubnetKind::Private,
                i,
                *cidr,
                plan.zones[i].clone(),
                &rt,
            )?;
            private.push(subnet);
        }

        if props.s3_gateway_endpoint {
            me.add(
                "S3Endpoint",
                ec2::VpcEndpoint {
                    service_name: Some(Intrinsic::sub("com.amazonaws.${AWS::Region}.s3").into()),
                    vpc_endpoint_type: Some(ec2::vpc_endpoint::VpcEndpointType::Gateway.into()),
                    route_table_ids: Some(Value::Literal(
                        private.iter().map(Subnet::route_table_id).collect(),
                    )),
                    ..ec2::VpcEndpoint::new(vpc.ref_())
                },
            )?;
        }

        let endpoints =
            super::endpoints::add(&mut me, &vpc, props.cidr, &props.endpoints, &private)?;
        add_flow_logs(&mut me, &vpc, props.flow_log_retention_days)?;
        add_network_acls(&mut me, &vpc, &props, &public, &private)?;

        Ok(Network {
            path,
            vpc_id: vpc.ref_(),
            vpc: Some(vpc),
            cidr: props.cidr,
            public,
            private,
            zones: plan.zones,
            nat_gateways: props.nat_gateways,
            public_ingress_ports: props.public_ingress_ports.clone(),
            s3_gateway_endpoint: props.s3_gateway_endpoint,
            endpoints,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The VPC resource (`None` for an imported network, which this app
    /// does not manage).
    pub fn vpc(&self) -> Option<&Handle<ec2::Vpc>> {
        self.vpc.as_ref()
    }

    /// Whether the network was imported ([`Network::import`]): its VPC,
    /// subnets and route tables are not resources of this app and are never
    /// modified.
    pub fn is_imported(&self) -> bool {
        self.vpc.is_none()
    }

    /// The VPC id (`Ref`, or the imported id).
    pub fn vpc_id(&self) -> Value<String> {
        self.vpc_id.clone()
    }

    /// The VPC's CIDR block.
    pub fn cidr(&self) -> Ipv4Net {
        self.cidr
    }

    /// The public subnets, one per zone, in zone order.
    pub fn public_subnets(&self) -> &[Subnet] {
        &self.public
    }

    /// The private subnets, one per zone, in zone order.
    pub fn private_subnets(&self) -> &[Subnet] {
        &self.private
    }

    /// The subnets of one kind.
    pub fn subnets(&self, kind: SubnetKind) -> &[Subnet] {
        match kind {
            SubnetKind::Public => &self.public,
            SubnetKind::Private => &self.private,
        }
    }

    /// The availability zones, in order.
    pub fn availability_zones(&self) -> &[Value<String>] {
        &self.zones
    }

    /// The NAT gateway layout ([`NatGateways::None`]: private subnets have
    /// no route to the internet).
    pub fn nat_gateways(&self) -> NatGateways {
        self.nat_gateways
    }

    /// The TCP ports the public subnets' network ACL admits from the
    /// internet.
    pub fn public_ingress_ports(&self) -> &[u16] {
        &self.public_ingress_ports
    }

    /// Whether the private route tables have the S3 gateway endpoint.
    pub fn has_s3_gateway_endpoint(&self) -> bool {
        self.s3_gateway_endpoint
    }

    /// The VPC endpoints beyond the S3 gateway endpoint, if any.
    pub fn endpoints(&self) -> Option<&VpcEndpoints> {
        self.endpoints.as_ref()
    }

    /// Whether the network has an interface endpoint for `service`.
    pub fn has_interface_endpoint(&self, service: InterfaceService) -> bool {
        self.endpoints
            .as_ref()
            .is_some_and(|e| e.interface().iter().any(|(s, _)| *s == service))
    }
}

/// Subnet layout after defaults and validation.
struct Plan {
    zones: Vec<Value<String>>,
    public: Vec<Ipv4Net>,
    private: Vec<Ipv4Net>,
}

impl Plan {
    fn resolve(path: &ConstructPath, region: &str, props: &NetworkProps) -> Result<Plan> {
        let zone_count = if props.availability_zones.is_empty() {
            if !(1..=MAX_AZS).contains(&props.max_azs) {
                return Err(Error::invalid_prop(
                    path,
                    "max_azs",
                    format!("must be 1..={MAX_AZS}, got {}", props.max_azs),
                ));
            }
            props.max_azs
        } else {
            let mut seen = std::collections::BTreeSet::new();
            for z in &props.availability_zones {
                if !seen.insert(z) {
                    return Err(Error::invalid_prop(
                        path,
                        "availability_zones",
                        format!(
                            "lists {z:?} twice; each zone gets one public and one private subnet"
                        ),
                    ));
                }
            }
            props.availability_zones.len()
        };
        if props.cidr.prefix_len() < 16 || props.cidr.prefix_len() > 28 {
            return Err(Error::invalid_prop(
                path,
                "cidr",
                format!(
                    "must have a prefix length from /16 to /28 (VPC limits), got {}",
                    props.cidr
                ),
            ));
        }
        if props.cidr.network() != props.cidr.addr() {
            return Err(Error::invalid_prop(
                path,
                "cidr",
                format!(
                    "{} has host bits set; did you mean {}?",
                    props.cidr,
                    props.cidr.trunc()
                ),
            ));
        }
        let zones: Vec<Value<String>> = if props.availability_zones.is_empty() {
            (0..zone_count)
                .map(|i| Intrinsic::select(i as u32, Intrinsic::get_azs()).into())
                .collect()
        } else {
            props
                .availability_zones
                .iter()
                .map(|z| zone_in_region(path, region, z))
                .collect::<Result<_>>()?
        };
        let carve = |start: u32, field: &str| -> Result<Vec<Ipv4Net>> {
            let new_prefix = 24.max(props.cidr.prefix_len());
            let subnets: Vec<Ipv4Net> = props
                .cidr
                .subnets(new_prefix)
                .map_err(|e| Error::invalid_prop(path, field, e.to_string()))?
                .skip(start as usize)
                .take(zone_count)
                .collect();
            if subnets.len() < zone_count {
                return Err(Error::invalid_prop(
                    path,
                    field,
                    format!(
                        "cannot be derived: {} has no room for {zone_count} more /{new_prefix} subnets; give the CIDRs explicitly",
                        props.cidr
                    ),
                ));
            }
            Ok(subnets)
        };
        let public = if props.public_subnet_cidrs.is_empty() {
            carve(1, "public_subnet_cidrs")?
        } else {
            props.public_subnet_cidrs.clone()
        };
        let private = if props.private_subnet_cidrs.is_empty() {
            carve(11, "private_subnet_cidrs")?
        } else {
            props.private_subnet_cidrs.clone()
        };
        for (field, list) in [
            ("public_subnet_cidrs", &public),
            ("private_subnet_cidrs", &private),
        ] {
            if list.len() != zone_count {
                return Err(Error::invalid_prop(
                    path,
                    field,
                    format!(
                        "has {} subnets for {zone_count} availability zones; give exactly one subnet per zone",
                        list.len()
                    ),
                ));
            }
        }
        let mut all: Vec<(String, Ipv4Net)> = Vec::new();
        for (kind, list) in [("PublicSubnet", &public), ("PrivateSubnet", &private)] {
            for (i, cidr) in list.iter().enumerate() {
                let sub_path = format!("{path}/{kind}{}", i + 1);
                if !props.cidr.contains(cidr) {
                    return Err(Error::SubnetOutsideVpc {
                        path: sub_path,
                        subnet: cidr.to_string(),
                        vpc: props.cidr.to_string(),
                    });
                }
                if cidr.prefix_len() > 28 {
                    return Err(Error::invalid_prop(
                        sub_path,
                        "cidr",
                        format!("must be /28 or larger (AWS limit), got {cidr}"),
                    ));
                }
                if let Some((other_path, other)) = all
                    .iter()
                    .find(|(_, o)| o.contains(cidr) || cidr.contains(o))
                {
                    return Err(Error::OverlappingSubnets {
                        path: sub_path,
                        subnet: cidr.to_string(),
                        other: other.to_string(),
                        other_path: other_path.clone(),
                    });
                }
                all.push((sub_path, *cidr));
            }
        }
        if !LOG_RETENTION_DAYS.contains(&props.flow_log_retention_days) {
            return Err(Error::invalid_prop(
                path,
                "flow_log_retention_days",
                format!(
                    "must be one of {LOG_RETENTION_DAYS:?} (what CloudWatch Logs accepts), got {}",
                    props.flow_log_retention_days
                ),
            ));
        }
        if props.public_ingress_ports.contains(&0) {
            return Err(Error::invalid_prop(
                path,
                "public_ingress_ports",
                "must be 1..=65535, got 0",
            ));
        }
        let rules = props.deny_cidrs.len() + props.public_ingress_ports.len() + 2;
        if rules > MAX_NACL_RULES {
            return Err(Error::invalid_prop(
                path,
                "deny_cidrs",
                format!(
                    "needs {rules} inbound network ACL rules with the allow rules, AWS allows {MAX_NACL_RULES} by default; aggregate the CIDRs or use the WAF IP set"
                ),
            ));
        }
        Ok(Plan {
            zones,
            public,
            private,
        })
    }
}

/// A zone of the stack's region, written as `${AWS::Region}<letter>` so the
/// template holds no hard-coded zone name (cfn-lint W3010) yet deploys to
/// exactly the zone asked for.
fn zone_in_region(path: &ConstructPath, region: &str, zone: &str) -> Result<Value<String>> {
    let suffix = zone.strip_prefix(region).filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    match suffix {
        Some(suffix) => Ok(Intrinsic::sub(format!("${{AWS::Region}}{suffix}")).into()),
        None => Err(Error::invalid_prop(
            path,
            "availability_zones",
            format!(
                "must be zones of the stack's region {region} (like \"{region}a\"), got {zone:?}"
            ),
        )),
    }
}

fn add_subnet(
    me: &mut Scope<'_>,
    vpc: &Handle<ec2::Vpc>,
    kind: SubnetKind,
    index: usize,
    cidr: Ipv4Net,
    zone: Value<String>,
    route_table: &Handle<ec2::RouteTable>,
) -> Result<Subnet> {
    let (name, public) = match kind {
        SubnetKind::Public => ("PublicSubnet", true),
        SubnetKind::Private => ("PrivateSubnet", false),
    };
    let n = index + 1;
    let mut s = me.child(&format!("{name}{n}"))?;
    let label = format!("{}", s.path());
    let handle = s.add(
        "Subnet",
        ec2::Subnet {
            availability_zone: Some(zone.clone()),
            cidr_block: Some(cidr.to_string().into()),
            map_public_ip_on_launch: Some(false.into()),
            tags: Some(vec![
                Tag::new("Name", label),
                Tag::new("khs:subnet-type", if public { "public" } else { "private" }),
            ]),
            ..ec2::Subnet::new(vpc.ref_())
        },
    )?;
    s.add(
        "RouteTableAssociation",
        ec2::SubnetRouteTableAssociation::new(SubnetRouteTableAssociationRequired {
            route_table_id: route_table.ref_(),
            subnet_id: handle.ref_(),
        }),
    )?;
    Ok(Subnet {
        id: handle.ref_(),
        route_table_id: route_table.ref_(),
        handle: Some(handle),
        route_table: Some(route_table.clone()),
        kind,
        cidr,
        availability_zone: zone,
        index,
    })
}

fn add_flow_logs(me: &mut Scope<'_>, vpc: &Handle<ec2::Vpc>, retention_days: u32) -> Result<()> {
    let network_path = me.path().to_string();
    let mut f = me.child("FlowLogs")?;
    let key = EncryptionKey::new(
        &mut f,
        "Key",
        EncryptionKeyProps {
            description: Some(format!("Encrypts the flow logs of {network_path}")),
            allow_cloudwatch_logs: true,
            ..EncryptionKeyProps::default()
        },
    )?;
    let group = f.add_with(
        "LogGroup",
        logs::LogGroup {
            retention_in_days: Some(i64::from(retention_days).into()),
            kms_key_id: Some(key.arn()),
            ..logs::LogGroup::default()
        },
        ResourceOptions::policy(DeletionPolicy::Retain),
    )?;
    let role = f.add(
        "Role",
        iam::Role {
            description: Some("Lets the VPC flow-log service write to its log group".into()),
            policies: Some(vec![iam::role::Policy::new(
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": group.attr_arn().to_expr(),
                    }]
                }),
                "flow-logs-delivery",
            )]),
            ..iam::Role::new(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": Intrinsic::from(Pseudo::AccountId).to_json()}}
                }]
            }))
        },
    )?;
    f.add(
        "FlowLog",
        ec2::FlowLog {
            deliver_logs_permission_arn: Some(role.attr_arn()),
            log_destination_type: Some(ec2::flow_log::LogDestinationType::CloudWatchLogs.into()),
            log_group_name: Some(group.ref_()),
            traffic_type: Some(ec2::flow_log::TrafficType::All.into()),
            max_aggregation_interval: Some(60.into()),
            ..ec2::FlowLog::new(ec2::flow_log::ResourceType::Vpc, vpc.ref_())
        },
    )?;
    Ok(())
}

fn add_network_acls(
    me: &mut Scope<'_>,
    vpc: &Handle<ec2::Vpc>,
    props: &NetworkProps,
    public: &[Subnet],
    private: &[Subnet],
) -> Result<()> {
    for (kind, subnets) in [("Public", public), ("Private", private)] {
        let mut a = me.child(&format!("{kind}Acl"))?;
        let acl = a.add(
            "Acl",
            ec2::NetworkAcl {
                tags: Some(vec![Tag::new("Name", a.path().to_string())]),
                ..ec2::NetworkAcl::new(vpc.ref_())
            },
        )?;
        let entry = |a: &mut Scope<'_>,
                     id: String,
                     rule: i64,
                     egress: bool,
                     allow: bool,
                     cidr: String,
                     ports: Option<(u16, u16)>|
         -> Result<()> {
            a.add(
                &id,
                ec2::NetworkAclEntry {
                    cidr_block: Some(cidr.into()),
                    egress: Some(egress.into()),
                    port_range: ports.map(|(from, to)| ec2::network_acl_entry::PortRange {
                        from: Some(i64::from(from).into()),
                        to: Some(i64::from(to).into()),
                    }),
                    ..ec2::NetworkAclEntry::new(NetworkAclEntryRequired {
                        network_acl_id: acl.ref_(),
                        rule_action: if allow { "allow" } else { "deny" }.into(),
                        rule_number: rule.into(),
                        protocol: if ports.is_some() { 6 } else { -1 }.into(),
                    })
                },
            )?;
            Ok(())
        };
        for (i, bad) in props.deny_cidrs.iter().enumerate() {
            let rule = DENY_RULE_START + i as i64;
            entry(
                &mut a,
                format!("DenyIn{}", i + 1),
                rule,
                false,
                false,
                bad.to_string(),
                None,
            )?;
            entry(
                &mut a,
                format!("DenyOut{}", i + 1),
                rule,
                true,
                false,
                bad.to_string(),
                None,
            )?;
        }
        let mut rule = ALLOW_RULE_START;
        // Everything inside the VPC (load balancer to tasks, tasks to NAT, …).
        entry(
            &mut a,
            "AllowVpcIn".into(),
            rule,
            false,
            true,
            props.cidr.to_string(),
            None,
        )?;
        rule += 10;
        if kind == "Public" {
            for port in &props.public_ingress_ports {
                entry(
                    &mut a,
                    format!("AllowTcp{port}In"),
                    rule,
                    false,
                    true,
                    "0.0.0.0/0".into(),
                    Some((*port, *port)),
                )?;
                rule += 10;
            }
        }
        // Return traffic of connections opened from inside (ephemeral ports).
        entry(
            &mut a,
            "AllowEphemeralIn".into(),
            rule,
            false,
            true,
            "0.0.0.0/0".into(),
            Some((1024, 65535)),
        )?;
        entry(
            &mut a,
            "AllowAllOut".into(),
            ALLOW_RULE_START,
            true,
            true,
            "0.0.0.0/0".into(),
            None,
        )?;
        for s in subnets {
            a.add(
                &format!("Association{}", s.index + 1),
                ec2::SubnetNetworkAclAssociation::new(SubnetNetworkAclAssociationRequired {
                    network_acl_id: acl.ref_(),
                    subnet_id: s.subnet_id(),
                }),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn stack() -> Stack {
        Stack::new("test", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_give_the_khs_layout() {
        let mut s = stack();
        let n = Network::new(&mut s, "Network", NetworkProps::default()).unwrap();
        let cidrs: Vec<String> = n
            .public_subnets()
            .iter()
            .chain(n.private_subnets())
            .map(|s| s.cidr().to_string())
            .collect();
        assert_eq!(
            cidrs,
            [
                "10.0.1.0/24",
                "10.0.2.0/24",
                "10.0.3.0/24",
                "10.0.11.0/24",
                "10.0.12.0/24",
                "10.0.13.0/24"
            ]
        );
        let t = s.synth().unwrap();
        let count = |ty: &str| t.resources.values().filter(|r| r.type_name == ty).count();
        assert_eq!(count("AWS::EC2::VPC"), 1);
        assert_eq!(count("AWS::EC2::Subnet"), 6);
        assert_eq!(count("AWS::EC2::NatGateway"), 3);
        assert_eq!(count("AWS::EC2::EIP"), 3);
        assert_eq!(count("AWS::EC2::FlowLog"), 1);
        assert_eq!(count("AWS::EC2::NetworkAcl"), 2);
        assert_eq!(count("AWS::EC2::SubnetNetworkAclAssociation"), 6);
        let vpc = &t.resources["NetworkVpc"];
        assert_eq!(vpc.properties["CidrBlock"], "10.0.0.0/16");
        let sub = &t.resources["NetworkPublicSubnet1Subnet"];
        assert_eq!(sub.properties["MapPublicIpOnLaunch"], false);
        assert_eq!(
            sub.properties["AvailabilityZone"],
            serde_json::json!({"Fn::Select": ["0", {"Fn::GetAZs": ""}]})
        );
        let log = &t.resources["NetworkFlowLogsLogGroup"];
        assert_eq!(log.properties["RetentionInDays"], 90);
        // Encrypted with the network's own key; the role writes that group only.
        assert_eq!(
            log.properties["KmsKeyId"],
            serde_json::json!({"Fn::GetAtt": ["NetworkFlowLogsKey", "Arn"]})
        );
        assert_eq!(count("AWS::KMS::Key"), 1);
        let role = &t.resources["NetworkFlowLogsRole"].properties;
        let statements = &role["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(statements.as_array().map(Vec::len), Some(1));
        assert_eq!(
            statements[0]["Resource"],
            serde_json::json!({"Fn::GetAtt": ["NetworkFlowLogsLogGroup", "Arn"]})
        );
    }

    #[test]
    fn single_nat_is_shared_by_every_private_subnet() {
        let mut s = stack();
        Network::new(
            &mut s,
            "Net",
            NetworkProps {
                nat_gateways: NatGateways::Single,
                ..NetworkProps::default()
            },
        )
        .unwrap();
        let t = s.synth().unwrap();
        assert_eq!(
            t.resources
                .values()
                .filter(|r| r.type_name == "AWS::EC2::NatGateway")
                .count(),
            1
        );
        for n in 1..=3 {
            assert_eq!(
                t.resources[&format!("NetPrivateDefaultRoute{n}")].properties["NatGatewayId"],
                serde_json::json!({"Ref": "NetNatGateway1"})
            );
        }
    }

    #[test]
    fn public_acl_allows_only_listed_ports_and_denies_bad_cidrs_first() {
        let mut s = stack();
        Network::new(
            &mut s,
            "Net",
            NetworkProps {
                deny_cidrs: vec![net("203.0.113.0/24")],
                ..NetworkProps::default()
            },
        )
        .unwrap();
        let t = s.synth().unwrap();
        let https = &t.resources["NetPublicAclAllowTcp443In"].properties;
        assert_eq!(
            https["PortRange"],
            serde_json::json!({"From": 443, "To": 443})
        );
        assert_eq!(https["RuleAction"], "allow");
        let deny = &t.resources["NetPublicAclDenyIn1"].properties;
        assert_eq!(deny["RuleAction"], "deny");
        assert!(deny["RuleNumber"].as_i64() < https["RuleNumber"].as_i64());
        assert!(!t.resources.contains_key("NetPrivateAclAllowTcp443In"));
    }

    #[test]
    fn fails_when_a_subnet_is_outside_the_vpc() {
        let mut s = stack();
        let e = Network::new(
            &mut s,
            "Network",
            NetworkProps {
                public_subnet_cidrs: vec![
                    net("10.0.1.0/24"),
                    net("10.9.2.0/24"),
                    net("10.0.3.0/24"),
                ],
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "test/Network/PublicSubnet2: subnet cidr 10.9.2.0/24 is outside the vpc cidr 10.0.0.0/16; choose a subnet inside 10.0.0.0/16"
        );
    }

    #[test]
    fn fails_when_subnets_overlap() {
        let mut s = stack();
        let e = Network::new(
            &mut s,
            "Network",
            NetworkProps {
                private_subnet_cidrs: vec![
                    net("10.0.11.0/24"),
                    net("10.0.1.0/25"),
                    net("10.0.13.0/24"),
                ],
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert!(matches!(e, Error::OverlappingSubnets { .. }), "{e}");
        assert!(e.to_string().starts_with("test/Network/PrivateSubnet2: subnet cidr 10.0.1.0/25 overlaps 10.0.1.0/24 (test/Network/PublicSubnet1)"), "{e}");
    }

    #[test]
    fn fails_when_zones_and_subnets_differ_in_number() {
        let mut s = stack();
        let e = Network::new(
            &mut s,
            "Network",
            NetworkProps {
                availability_zones: vec![
                    "us-east-1a".into(),
                    "us-east-1b".into(),
                    "us-east-1c".into(),
                ],
                public_subnet_cidrs: vec![net("10.0.1.0/24"), net("10.0.2.0/24")],
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "test/Network: public_subnet_cidrs has 2 subnets for 3 availability zones; give exactly one subnet per zone"
        );
    }

    #[test]
    fn explicit_zones_are_written_relative_to_the_region() {
        let mut s = stack();
        Network::new(
            &mut s,
            "Net",
            NetworkProps {
                availability_zones: vec![
                    "us-east-1a".into(),
                    "us-east-1b".into(),
                    "us-east-1c".into(),
                ],
                ..NetworkProps::default()
            },
        )
        .unwrap();
        let t = s.synth().unwrap();
        assert_eq!(
            t.resources["NetPrivateSubnet2Subnet"].properties["AvailabilityZone"],
            serde_json::json!({"Fn::Sub": "${AWS::Region}b"})
        );
    }

    #[test]
    fn fails_when_a_zone_is_not_in_the_stack_region() {
        let mut s = stack();
        let e = Network::new(
            &mut s,
            "Net",
            NetworkProps {
                availability_zones: vec![
                    "us-east-1a".into(),
                    "us-west-2b".into(),
                    "us-east-1c".into(),
                ],
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "test/Net: availability_zones must be zones of the stack's region us-east-1 (like \"us-east-1a\"), got \"us-west-2b\""
        );
    }

    #[test]
    fn fails_when_max_azs_or_retention_is_out_of_range() {
        let mut s = stack();
        let e = Network::new(
            &mut s,
            "A",
            NetworkProps {
                max_azs: 9,
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "test/A: max_azs must be 1..=6, got 9");
        let e = Network::new(
            &mut s,
            "B",
            NetworkProps {
                flow_log_retention_days: 10,
                ..NetworkProps::default()
            },
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("test/B: flow_log_retention_days must be one of"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_construct_id_is_used_twice() {
        let mut s = stack();
        Network::new(&mut s, "Network", NetworkProps::default()).unwrap();
        let e = Network::new(&mut s, "Network", NetworkProps::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "test/Network: a construct with this path already exists; give each construct in a scope its own id"
        );
    }

    #[test]
    fn logical_ids_do_not_depend_on_other_constructs() {
        let mut a = stack();
        Network::new(&mut a, "Network", NetworkProps::default()).unwrap();
        let mut b = stack();
        Network::new(
            &mut b,
            "Other",
            NetworkProps {
                cidr: net("10.1.0.0/16"),
                ..NetworkProps::default()
            },
        )
        .unwrap();
        Network::new(&mut b, "Network", NetworkProps::default()).unwrap();
        let ta = a.synth().unwrap();
        let tb = b.synth().unwrap();
        for (id, r) in &ta.resources {
            assert_eq!(
                tb.resources.get(id),
                Some(r),
                "{id} changed when an unrelated construct was added"
            );
        }
    }
}
