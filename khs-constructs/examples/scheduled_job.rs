//! A nightly job on a shared cluster: EventBridge Scheduler starts a task at
//! 02:00 (Berlin time) on the cluster a worker service also runs on. The
//! job tolerates interruption, so it runs on Fargate Spot.
//!
//! ```text
//! cargo run -p khs-constructs --example scheduled_job -- out/
//! ```
//!
//! writes `out/reports.template.json`.

use std::process::ExitCode;

use khs_constructs::prelude::*;

/// The app: one stack, `reports`.
pub fn app() -> Result<App> {
    let mut stack = Stack::new(
        "reports",
        StackProps::new(Environment::region("eu-central-1")),
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
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())?;
    let images = ImageRepository::new(&mut stack, "Images", ImageRepositoryProps::default())?;

    // The service that shares the cluster.
    FargateService::new(
        &mut stack,
        "Exporter",
        &cluster,
        FargateServiceProps::new(ContainerProps::new(ContainerImage::from_repository(
            &images.reference(),
        ))),
    )?;

    // The nightly job: same image, another command.
    let mut container = ContainerProps::new(ContainerImage::from_repository(&images.reference()));
    container.command = vec!["reports".to_string(), "--nightly".to_string()];
    ScheduledTask::new(
        &mut stack,
        "NightlyReport",
        &cluster,
        ScheduledTaskProps {
            timezone: "Europe/Berlin".to_string(),
            capacity: CapacityStrategy::Spot,
            ..ScheduledTaskProps::new(container, Cron::daily_at(2, 0)?)
        },
    )?;

    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    khs_constructs::synth::main("scheduled_job", app)
}
