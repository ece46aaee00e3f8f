//! A service placed among resources that exist already: a VPC, a
//! PostgreSQL database, a Redis cache, an on-call SNS topic and a shared
//! Application Load Balancer, all made outside this app (by another team,
//! another tool or the console). Only the service's own resources are in
//! the template; nothing imported is created or modified.
//!
//! ```text
//! cargo run -p khs-constructs --example imports -- out/
//! ```
//!
//! writes `out/orders-api.template.json`: the service (task, roles, log
//! group, its own security group with egress to the database and the cache
//! only), a target group and listener rule on the shared load balancer's
//! HTTPS listener, an alias record to the load balancer, and a CPU alarm
//! that pages the imported topic. The database's and cache's security groups get
//! no rule: their owners admit the service's group.

use std::process::ExitCode;

use khs_constructs::network::{ImportedSubnet, NetworkImport};
use khs_constructs::prelude::*;

const ACCOUNT: &str = "123456789012";

/// The app: one stack, `orders-api`, in us-east-1.
pub fn app() -> Result<App> {
    let mut stack = Stack::new(
        "orders-api",
        StackProps::new(Environment {
            account: Some(ACCOUNT.to_string()),
            region: "us-east-1".to_string(),
        }),
    )?;
    let subnet = |id: &str, zone: &str, cidr: &str, rtb: &str| -> Result<ImportedSubnet> {
        Ok(ImportedSubnet {
            subnet_id: id.into(),
            availability_zone: zone.to_string(),
            cidr: cidr.parse().map_err(|e| {
                Error::invalid_prop("orders-api/Shared", "cidr", format!("{cidr}: {e}"))
            })?,
            route_table_id: rtb.into(),
        })
    };
    let network = Network::import(
        &mut stack,
        "Shared",
        NetworkImport {
            private_subnets: vec![
                subnet(
                    "subnet-0a1a1a1a1a1a1a1a1",
                    "us-east-1a",
                    "10.1.11.0/24",
                    "rtb-0a1a1a1a1a1a1a1a1",
                )?,
                subnet(
                    "subnet-0b2b2b2b2b2b2b2b2",
                    "us-east-1b",
                    "10.1.12.0/24",
                    "rtb-0b2b2b2b2b2b2b2b2",
                )?,
            ],
            nat_gateways: NatGateways::PerAz,
            ..NetworkImport::new(
                "vpc-0123456789abcdef0",
                "10.1.0.0/16".parse().map_err(|e| {
                    Error::invalid_prop("orders-api/Shared", "cidr", format!("{e}"))
                })?,
            )
        },
    )?;
    let database = Database::import(
        &mut stack,
        "OrdersDb",
        DatabaseImport {
            database_name: Some("orders".to_string()),
            credentials_key_arn: Some(
                format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
                    .into(),
            ),
            ..DatabaseImport::new(
                DatabaseEngine::Postgres,
                "orders.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com",
                "sg-0d0d0d0d0d0d0d0d0",
                format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders-db-AbCdEf"),
            )
        },
    )?;
    let cache = Cache::import(
        &mut stack,
        "Sessions",
        CacheImport {
            auth_token_secret_arn: Some(
                format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:sessions-token-GhIjKl")
                    .into(),
            ),
            ..CacheImport::new(
                "master.sessions.abc123.use1.cache.amazonaws.com",
                "sg-0c0c0c0c0c0c0c0c0",
            )
        },
    )?;
    let pager = Topic::import(
        &mut stack,
        "Pager",
        format!("arn:aws:sns:us-east-1:{ACCOUNT}:on-call"),
        None,
    )?;
    let alb = LoadBalancer::import(
        &mut stack,
        "SharedAlb",
        &network,
        LoadBalancerImport {
            listener_arn: Some(
                format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2")
                    .into(),
            ),
            ..LoadBalancerImport::new(
                format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/shared/50dc6c495c0c9188"),
                "shared-1234567890.us-east-1.elb.amazonaws.com",
                "Z35SXDOTRQ7X7K",
                "sg-0a0a0a0a0a0a0a0a0",
            )
        },
    )?;

    // The service: endpoints in the environment, passwords as secrets, the
    // same calls as for a database and cache of this app.
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())?;
    let images = ImageRepository::new(&mut stack, "Images", ImageRepositoryProps::default())?;
    let mut container = ContainerProps::new(ContainerImage::from_repository(&images.reference()));
    container.port = Some(8080);
    let env = &mut container.environment;
    env.insert("DATABASE_URL".to_string(), database.connection_url());
    env.insert("REDIS_URL".to_string(), cache.connection_url());
    container.secrets.push(ContainerSecret::json_field(
        "DATABASE_PASSWORD",
        database.credentials(),
        "password",
    ));
    if let Some(token) = cache.auth_token() {
        container
            .secrets
            .push(ContainerSecret::new("REDIS_AUTH", token));
    }
    let api = FargateService::new(
        &mut stack,
        "Api",
        &cluster,
        FargateServiceProps::new(container),
    )?;
    // Egress from the service's own group; the imported groups are left alone.
    api.connections()
        .allow_default_port_to(&mut stack, database.connections())?;
    api.connections()
        .allow_default_port_to(&mut stack, cache.connections())?;

    // A rule on the shared load balancer's listener, and its DNS name.
    alb.add_target(&mut stack, &api, Routing::paths(40, ["/orders/*"]))?;
    let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org")?;
    DnsRecord::new(
        &mut stack,
        "Dns",
        DnsRecordProps {
            zone,
            name: "orders.example.org".to_string(),
            record_type: RecordType::A,
            target: RecordTarget::Alias(AliasTarget::load_balancer(&alb)),
        },
    )?;

    // Page the on-call topic when the service is saturated.
    Alarm::new(
        &mut stack,
        "ApiCpu",
        AlarmProps {
            description: Some("The orders API is busy".to_string()),
            notify: vec![pager],
            ..AlarmProps::new(
                api.metrics().cpu_utilization(),
                ComparisonOperator::GreaterThan,
                80.0,
                3,
            )
        },
    )?;

    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    khs_constructs::synth::main("imports", app)
}
