//! A background worker on Fargate with no load balancer, the PostgreSQL
//! database it reaches, and a CPU alarm on the database sent to an SNS
//! topic. Ireland (eu-west-1), two availability zones, one NAT gateway.
//!
//! ```text
//! cargo run -p khs-constructs --example worker_service -- out/
//! ```
//!
//! writes `out/orders-worker.template.json`. Deploy it with the image tag
//! parameter `WorkerImageTag` set to the tag CI pushed to the repository.

use std::process::ExitCode;

use khs_constructs::prelude::*;

/// The app: one stack, `orders-worker`.
pub fn app() -> Result<App> {
    let mut stack = Stack::new(
        "orders-worker",
        StackProps::new(Environment::region("eu-west-1")),
    )?;
    let network = Network::new(
        &mut stack,
        "Network",
        NetworkProps {
            max_azs: 2,
            nat_gateways: NatGateways::Single,
            ..NetworkProps::default()
        },
    )?;
    let database = Database::new(
        &mut stack,
        "Database",
        &network,
        DatabaseProps {
            database_name: "orders".to_string(),
            ..DatabaseProps::default()
        },
    )?;

    // The worker: the image from this stack's repository, the database's
    // address in the environment and its password from Secrets Manager.
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())?;
    let images = ImageRepository::new(&mut stack, "Images", ImageRepositoryProps::default())?;
    let mut container = ContainerProps::new(ContainerImage::from_repository(&images.reference()));
    container
        .environment
        .insert("DATABASE_HOST".to_string(), database.endpoint_address());
    container
        .environment
        .insert("DATABASE_NAME".to_string(), database.database_name().into());
    container.secrets.push(ContainerSecret::json_field(
        "DATABASE_PASSWORD",
        database.credentials(),
        "password",
    ));
    let worker = FargateService::new(
        &mut stack,
        "Worker",
        &cluster,
        FargateServiceProps::new(container),
    )?;
    database
        .connections()
        .allow_default_port_from(&mut stack, worker.connections())?;

    // Alerts: the database's CPU above 80 % for 15 minutes.
    let topics = AlertTopics::new(&mut stack, "Alerts", AlertTopicsProps::default())?;
    Alarm::new(
        &mut stack,
        "DatabaseCpu",
        AlarmProps {
            description: Some("The orders database is busy".to_string()),
            notify: vec![topics.critical().clone()],
            ..AlarmProps::new(
                database.metrics().cpu_utilization(),
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
    khs_constructs::synth::main("worker_service", app)
}
