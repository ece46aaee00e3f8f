//! VPC endpoints of a [`Network`](super::Network): the AWS services private
//! subnets reach without a NAT gateway.
//!
//! Set with [`NetworkProps::endpoints`](super::NetworkProps::endpoints)
//! ([`VpcEndpointsProps`]); the network then emits, under `Network/Endpoints`:
//! - per [`InterfaceService`] one `AWS::EC2::VPCEndpoint` of type
//!   `Interface`, with private DNS on (the service's public name resolves
//!   to the endpoint's addresses inside the VPC, so SDKs need no
//!   configuration), one network interface in each private subnet;
//! - one security group for all of them that admits HTTPS (`tcp/443`) only:
//!   from the VPC's CIDR ([`EndpointIngress::VpcCidr`], the default), or only
//!   from the security groups given later with
//!   [`VpcEndpoints::allow_from`] ([`EndpointIngress::SecurityGroups`],
//!   least privilege);
//! - with [`VpcEndpointsProps::dynamodb_gateway`] a DynamoDB gateway
//!   endpoint on the private route tables (the S3 gateway endpoint is
//!   [`NetworkProps::s3_gateway_endpoint`](super::NetworkProps::s3_gateway_endpoint),
//!   on by default).
//!
//! Because the endpoints are part of the network's props, every construct
//! that checks how its tasks reach AWS (a private Fargate service on a
//! network without NAT) sees them, whatever the order of construction.
//!
//! # What a Fargate task needs
//!
//! A task in a private subnet pulls its image from ECR (`ecr.api` for the
//! authorization token and manifest, `ecr.dkr` for the registry API, the
//! layers from S3: the S3 gateway endpoint), sends its logs to CloudWatch
//! Logs, and reads its secrets from Secrets Manager at start;
//! [`InterfaceService::FARGATE`] lists them. The X-Ray daemon needs
//! [`InterfaceService::XRay`], code that assumes roles
//! [`InterfaceService::Sts`], ECS Exec [`InterfaceService::SsmMessages`].
//!
//! # Cost: interface endpoints against NAT
//!
//! Gateway endpoints (S3, DynamoDB) are free. An interface endpoint is
//! billed per availability zone and hour plus per GB it processes; a NAT
//! gateway per hour plus per GB it processes. At us-east-1 prices
//! (2025: endpoint USD 0.01 per AZ-hour and 0.01 per GB; NAT USD 0.045 per
//! hour and 0.045 per GB):
//!
//! | | fixed per month (730 h) | per GB |
//! | --- | --- | --- |
//! | 1 interface endpoint in 3 AZs | 3 × 7.30 = USD 21.90 | 0.01 |
//! | 5 interface endpoints in 3 AZs | 15 × 7.30 = USD 109.50 | 0.01 |
//! | the same through NAT (already paid for) | 0 | 0.045 |
//!
//! So N services in Z zones cost `N × Z × 7.30` USD a month and save 0.035
//! USD per GB that no longer goes through NAT: five services in three zones
//! pay for themselves above about 3,100 GB a month of AWS API traffic (image
//! layers come from S3 and already bypass NAT through the free gateway
//! endpoint). Below that, interface endpoints are a security and resilience
//! measure (AWS API traffic never leaves the VPC, tasks start even when a
//! NAT gateway or the internet path fails) more than a saving; they replace
//! NAT entirely only when nothing in the private subnets calls the internet
//! (`NatGateways::None`, which saves the NAT gateways' own USD 32.85 per
//! gateway and month).
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::network::{InterfaceService, VpcEndpointsProps};
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let net = Network::new(&mut stack, "Network", NetworkProps {
//!     nat_gateways: NatGateways::None,
//!     endpoints: VpcEndpointsProps {
//!         interface: InterfaceService::FARGATE.to_vec(),
//!         ..VpcEndpointsProps::default()
//!     },
//!     ..NetworkProps::default()
//! }).unwrap();
//! assert!(net.has_interface_endpoint(InterfaceService::EcrDkr));
//! ```

use std::collections::BTreeSet;

use crate::cfn::ec2;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::{Handle, Tag};
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;

use super::connections::{Connections, Egress, Port};
use super::vpc::Subnet;

/// An AWS service reached through an interface endpoint (AWS PrivateLink).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InterfaceService {
    /// ECR's API (`ecr.api`): authorization tokens, image manifests.
    EcrApi,
    /// ECR's Docker registry (`ecr.dkr`): image pulls.
    EcrDkr,
    /// CloudWatch Logs (`logs`): the `awslogs` log driver.
    CloudWatchLogs,
    /// CloudWatch metrics (`monitoring`): `PutMetricData`.
    CloudWatchMonitoring,
    /// Secrets Manager (`secretsmanager`): task secrets, rotation.
    SecretsManager,
    /// Systems Manager (`ssm`): Parameter Store, Automation.
    Ssm,
    /// Session Manager channels (`ssmmessages`): ECS Exec.
    SsmMessages,
    /// KMS (`kms`): direct encrypt/decrypt calls.
    Kms,
    /// STS (`sts`): `AssumeRole` from the tasks.
    Sts,
    /// X-Ray (`xray`): the X-Ray daemon's segments.
    XRay,
    /// SQS (`sqs`).
    Sqs,
    /// SNS (`sns`).
    Sns,
    /// EventBridge (`events`).
    EventBridge,
}

impl InterfaceService {
    /// What a Fargate task in a private subnet needs to start and log: ECR
    /// (API and registry), CloudWatch Logs and Secrets Manager (image layers
    /// come through the S3 gateway endpoint).
    pub const FARGATE: [InterfaceService; 4] = [
        InterfaceService::EcrApi,
        InterfaceService::EcrDkr,
        InterfaceService::CloudWatchLogs,
        InterfaceService::SecretsManager,
    ];

    /// The service's endpoint name below `com.amazonaws.<region>.`.
    pub fn endpoint_name(self) -> &'static str {
        match self {
            InterfaceService::EcrApi => "ecr.api",
            InterfaceService::EcrDkr => "ecr.dkr",
            InterfaceService::CloudWatchLogs => "logs",
            InterfaceService::CloudWatchMonitoring => "monitoring",
            InterfaceService::SecretsManager => "secretsmanager",
            InterfaceService::Ssm => "ssm",
            InterfaceService::SsmMessages => "ssmmessages",
            InterfaceService::Kms => "kms",
            InterfaceService::Sts => "sts",
            InterfaceService::XRay => "xray",
            InterfaceService::Sqs => "sqs",
            InterfaceService::Sns => "sns",
            InterfaceService::EventBridge => "events",
        }
    }

    /// The construct id of the endpoint (`EcrApi`).
    pub fn id(self) -> &'static str {
        match self {
            InterfaceService::EcrApi => "EcrApi",
            InterfaceService::EcrDkr => "EcrDkr",
            InterfaceService::CloudWatchLogs => "Logs",
            InterfaceService::CloudWatchMonitoring => "Monitoring",
            InterfaceService::SecretsManager => "SecretsManager",
            InterfaceService::Ssm => "Ssm",
            InterfaceService::SsmMessages => "SsmMessages",
            InterfaceService::Kms => "Kms",
            InterfaceService::Sts => "Sts",
            InterfaceService::XRay => "XRay",
            InterfaceService::Sqs => "Sqs",
            InterfaceService::Sns => "Sns",
            InterfaceService::EventBridge => "Events",
        }
    }
}

/// Who may reach the interface endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointIngress {
    /// HTTPS from anywhere in the VPC's CIDR: every client of the VPC can
    /// use the endpoints (with private DNS on, every client *must*: the
    /// service names resolve to the endpoints).
    #[default]
    VpcCidr,
    /// HTTPS only from the security groups given with
    /// [`VpcEndpoints::allow_from`]. With private DNS on, a client of the
    /// VPC that is not allowed can no longer reach these services at all
    /// (its calls go to the endpoint and are dropped), so allow every
    /// construct that calls them: service tasks, rotation functions, jobs.
    SecurityGroups,
}

/// What [`Network`](super::Network) makes of endpoints; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcEndpointsProps {
    /// The interface endpoints, one per service (listed at most once).
    ///
    /// Default: - none (private subnets reach AWS APIs through NAT).
    pub interface: Vec<InterfaceService>,
    /// Private DNS on the interface endpoints: the services' public names
    /// resolve to the endpoints inside the VPC.
    ///
    /// Default: `true`.
    pub private_dns: bool,
    /// Who may reach the interface endpoints (on HTTPS only).
    ///
    /// Default: [`EndpointIngress::VpcCidr`].
    pub ingress: EndpointIngress,
    /// A DynamoDB gateway endpoint on the private route tables (free).
    ///
    /// Default: `false`.
    pub dynamodb_gateway: bool,
}

impl Default for VpcEndpointsProps {
    fn default() -> Self {
        VpcEndpointsProps {
            interface: Vec::new(),
            private_dns: true,
            ingress: EndpointIngress::VpcCidr,
            dynamodb_gateway: false,
        }
    }
}

/// The endpoints of a network (`Network/Endpoints`).
#[derive(Debug, Clone, PartialEq)]
pub struct VpcEndpoints {
    path: ConstructPath,
    interface: Vec<(InterfaceService, Handle<ec2::VpcEndpoint>)>,
    dynamodb_gateway: Option<Handle<ec2::VpcEndpoint>>,
    connections: Option<Connections>,
}

impl VpcEndpoints {
    /// The construct path (`<network>/Endpoints`).
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The interface endpoints, in the order of the props.
    pub fn interface(&self) -> &[(InterfaceService, Handle<ec2::VpcEndpoint>)] {
        &self.interface
    }

    /// The interface services.
    pub fn services(&self) -> Vec<InterfaceService> {
        self.interface.iter().map(|(s, _)| *s).collect()
    }

    /// The DynamoDB gateway endpoint, if any.
    pub fn dynamodb_gateway(&self) -> Option<&Handle<ec2::VpcEndpoint>> {
        self.dynamodb_gateway.as_ref()
    }

    /// The interface endpoints' security group (none without interface
    /// endpoints).
    pub fn connections(&self) -> Option<&Connections> {
        self.connections.as_ref()
    }

    /// Lets `source` (a service's or function's security group) reach the
    /// interface endpoints on HTTPS; the rules are added to `scope`. An error
    /// when the network has no interface endpoints.
    pub fn allow_from(&self, scope: &mut impl AsScope, source: &Connections) -> Result<()> {
        let c = self.connections.as_ref().ok_or_else(|| {
            Error::invalid_prop(
                &self.path,
                "interface",
                format!(
                    "lists no interface endpoints, so there is nothing to let {} reach",
                    source.path()
                ),
            )
        })?;
        c.allow_from(scope, source, Port::tcp(443))
    }
}

/// Emits the endpoints of `props` under `network/Endpoints`.
pub(crate) fn add(
    network: &mut Scope<'_>,
    vpc: &Handle<ec2::Vpc>,
    cidr: ipnet::Ipv4Net,
    props: &VpcEndpointsProps,
    private: &[Subnet],
) -> Result<Option<VpcEndpoints>> {
    if props.interface.is_empty() && !props.dynamodb_gateway {
        return Ok(None);
    }
    let mut me = network.child("Endpoints")?;
    let path = me.path().clone();
    let mut seen = BTreeSet::new();
    for (i, s) in props.interface.iter().enumerate() {
        if !seen.insert(*s) {
            return Err(Error::invalid_prop(
                &path,
                format!("interface[{i}]"),
                format!(
                    "must list each service once, got {:?} ({}) twice",
                    s,
                    s.endpoint_name()
                ),
            ));
        }
    }
    if !props.interface.is_empty() && private.is_empty() {
        return Err(Error::invalid_prop(
            &path,
            "interface",
            "needs private subnets to place the endpoints in, got a network without any",
        ));
    }
    let mut interface = Vec::new();
    let mut connections = None;
    if !props.interface.is_empty() {
        let c = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            vpc.ref_(),
            "Interface VPC endpoints: HTTPS from the clients of the VPC",
            Some(Port::tcp(443)),
            Egress::Restricted,
        )?;
        if props.ingress == EndpointIngress::VpcCidr {
            me.add(
                "IngressFromVpc",
                ec2::SecurityGroupIngress {
                    group_id: Some(c.security_group_id()),
                    cidr_ip: Some(cidr.to_string().into()),
                    from_port: Some(443.into()),
                    to_port: Some(443.into()),
                    description: Some(format!("HTTPS from the VPC {cidr}").into()),
                    ..ec2::SecurityGroupIngress::new("tcp")
                },
            )?;
        }
        let subnets: Vec<Value<String>> = private.iter().map(Subnet::subnet_id).collect();
        for s in &props.interface {
            let handle = me.add(
                s.id(),
                ec2::VpcEndpoint {
                    service_name: Some(
                        Intrinsic::sub(format!(
                            "com.amazonaws.${{AWS::Region}}.{}",
                            s.endpoint_name()
                        ))
                        .into(),
                    ),
                    vpc_endpoint_type: Some(ec2::vpc_endpoint::VpcEndpointType::Interface.into()),
                    private_dns_enabled: Some(props.private_dns.into()),
                    subnet_ids: Some(Value::Literal(subnets.clone())),
                    security_group_ids: Some(Value::Literal(vec![c.security_group_id()])),
                    tags: Some(vec![Tag::new(
                        "Name",
                        format!("{path}/{}", s.endpoint_name()),
                    )]),
                    ..ec2::VpcEndpoint::new(vpc.ref_())
                },
            )?;
            interface.push((*s, handle));
        }
        connections = Some(c);
    }
    let dynamodb_gateway = if props.dynamodb_gateway {
        Some(me.add(
            "DynamoDb",
            ec2::VpcEndpoint {
                service_name: Some(Intrinsic::sub("com.amazonaws.${AWS::Region}.dynamodb").into()),
                vpc_endpoint_type: Some(ec2::vpc_endpoint::VpcEndpointType::Gateway.into()),
                route_table_ids: Some(Value::Literal(
                    private.iter().map(|s| s.route_table_id()).collect(),
                )),
                ..ec2::VpcEndpoint::new(vpc.ref_())
            },
        )?)
    } else {
        None
    };
    Ok(Some(VpcEndpoints {
        path,
        interface,
        dynamodb_gateway,
        connections,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::network::{NatGateways, Network, NetworkProps};
    use serde_json::Value as J;

    fn stack() -> Stack {
        Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn template(stack: &Stack) -> J {
        serde_json::to_value(stack.synth().unwrap()).unwrap()
    }

    fn network(stack: &mut Stack, endpoints: VpcEndpointsProps) -> Result<Network> {
        Network::new(
            stack,
            "Network",
            NetworkProps {
                nat_gateways: NatGateways::None,
                endpoints,
                ..NetworkProps::default()
            },
        )
    }

    #[test]
    fn no_endpoints_by_default() {
        let mut s = stack();
        let n = Network::new(&mut s, "Network", NetworkProps::default()).unwrap();
        assert!(n.endpoints().is_none());
        let t = template(&s);
        let endpoints: Vec<_> = t["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::EC2::VPCEndpoint")
            .collect();
        assert_eq!(endpoints.len(), 1, "only the S3 gateway endpoint");
    }

    #[test]
    fn interface_endpoints_are_private_dns_in_every_private_subnet_behind_https_only() {
        let mut s = stack();
        let n = network(
            &mut s,
            VpcEndpointsProps {
                interface: InterfaceService::FARGATE.to_vec(),
                dynamodb_gateway: true,
                ..VpcEndpointsProps::default()
            },
        )
        .unwrap();
        assert_eq!(
            n.endpoints().unwrap().services(),
            InterfaceService::FARGATE.to_vec()
        );
        let t = template(&s);
        let r = &t["Resources"];
        let ecr = &r["NetworkEndpointsEcrDkr"]["Properties"];
        assert_eq!(ecr["VpcEndpointType"], "Interface");
        assert_eq!(ecr["PrivateDnsEnabled"], true);
        assert_eq!(
            ecr["ServiceName"]["Fn::Sub"],
            "com.amazonaws.${AWS::Region}.ecr.dkr"
        );
        assert_eq!(ecr["SubnetIds"].as_array().unwrap().len(), 3);
        assert_eq!(
            ecr["SecurityGroupIds"][0]["Fn::GetAtt"][0],
            "NetworkEndpointsSecurityGroup"
        );
        let ingress = &r["NetworkEndpointsIngressFromVpc"]["Properties"];
        assert_eq!(ingress["CidrIp"], "10.0.0.0/16");
        assert_eq!(ingress["FromPort"], 443);
        assert_eq!(ingress["ToPort"], 443);
        let ddb = &r["NetworkEndpointsDynamoDb"]["Properties"];
        assert_eq!(ddb["VpcEndpointType"], "Gateway");
        assert_eq!(ddb["RouteTableIds"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn security_group_ingress_admits_only_the_allowed_groups() {
        let mut s = stack();
        let n = network(
            &mut s,
            VpcEndpointsProps {
                interface: vec![InterfaceService::Sts],
                ingress: EndpointIngress::SecurityGroups,
                ..VpcEndpointsProps::default()
            },
        )
        .unwrap();
        let client = {
            let mut sc = s.as_scope();
            Connections::new_security_group(
                &mut sc,
                "Client",
                n.vpc_id(),
                "client",
                None,
                Egress::Restricted,
            )
            .unwrap()
        };
        n.endpoints().unwrap().allow_from(&mut s, &client).unwrap();
        let t = template(&s);
        let r = t["Resources"].as_object().unwrap();
        assert!(!r.contains_key("NetworkEndpointsIngressFromVpc"));
        let ingress: Vec<_> = r
            .values()
            .filter(|v| v["Type"] == "AWS::EC2::SecurityGroupIngress")
            .collect();
        assert_eq!(ingress.len(), 1);
        assert_eq!(
            ingress[0]["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0],
            "Client"
        );
        assert_eq!(ingress[0]["Properties"]["FromPort"], 443);
    }

    #[test]
    fn fails_when_a_service_is_listed_twice() {
        let mut s = stack();
        let e = network(
            &mut s,
            VpcEndpointsProps {
                interface: vec![InterfaceService::Sts, InterfaceService::Sts],
                ..VpcEndpointsProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Network/Endpoints: interface[1] must list each service once, got Sts (sts) twice"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_allowing_a_client_without_interface_endpoints() {
        let mut s = stack();
        let n = network(
            &mut s,
            VpcEndpointsProps {
                dynamodb_gateway: true,
                ..VpcEndpointsProps::default()
            },
        )
        .unwrap();
        let client = {
            let mut sc = s.as_scope();
            Connections::new_security_group(
                &mut sc,
                "Client",
                n.vpc_id(),
                "client",
                None,
                Egress::Restricted,
            )
            .unwrap()
        };
        let e = n
            .endpoints()
            .unwrap()
            .allow_from(&mut s, &client)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("khs/Network/Endpoints: interface lists no interface endpoints, so there is nothing to let khs/Client reach"),
            "{e}"
        );
    }
}
