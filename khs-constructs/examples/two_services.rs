//! Two services behind one load balancer, routed by path, both reaching one
//! Redis cache; every security group admits only what it needs (the load
//! balancer → each service's port, each service → Redis).
//!
//! ```text
//! cargo run -p khs-constructs --example two_services -- out/
//! ```
//!
//! writes `out/shop.template.json` (parameters `OrdersImageTag` and
//! `CatalogImageTag`, one per service).

use std::process::ExitCode;

use khs_constructs::prelude::*;

/// The app: one stack, `shop`.
pub fn app() -> Result<App> {
    let mut stack = Stack::new("shop", StackProps::new(Environment::region("us-east-1")))?;
    let network = Network::new(
        &mut stack,
        "Network",
        NetworkProps {
            max_azs: 2,
            nat_gateways: NatGateways::Single,
            ..NetworkProps::default()
        },
    )?;
    // A zone that exists already (the registered domain's).
    let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org")?;
    let certificate = Certificate::new(
        &mut stack,
        "Certificate",
        CertificateProps::new("shop.example.org", zone.clone()),
    )?;
    let load_balancer = LoadBalancer::new(
        &mut stack,
        "LoadBalancer",
        &network,
        LoadBalancerProps::new(certificate.reference()),
    )?;
    DnsRecord::new(
        &mut stack,
        "Dns",
        DnsRecordProps {
            zone,
            name: "shop.example.org".to_string(),
            record_type: RecordType::A,
            target: RecordTarget::Alias(AliasTarget::load_balancer(&load_balancer)),
        },
    )?;
    let cache = Cache::new(&mut stack, "Cache", &network, CacheProps::default())?;
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())?;

    for (id, path, priority) in [("Orders", "/orders/*", 10), ("Catalog", "/catalog/*", 20)] {
        let images = ImageRepository::new(
            &mut stack,
            &format!("{id}Images"),
            ImageRepositoryProps::default(),
        )?;
        let mut container =
            ContainerProps::new(ContainerImage::from_repository(&images.reference()));
        container.port = Some(8080);
        container
            .environment
            .insert("REDIS_URL".to_string(), cache.connection_url());
        container
            .secrets
            .push(ContainerSecret::new("REDIS_PASSWORD", cache.auth_token()));
        let service = FargateService::new(
            &mut stack,
            id,
            &cluster,
            FargateServiceProps {
                scaling: Some(ScalingProps::default()),
                ..FargateServiceProps::new(container)
            },
        )?;
        load_balancer.add_target(
            &mut stack,
            &service,
            Routing::paths(priority, [path]).with_health_check(HealthCheck::on_path("/health")),
        )?;
        cache
            .connections()
            .allow_default_port_from(&mut stack, service.connections())?;
    }

    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    khs_constructs::synth::main("two_services", app)
}
