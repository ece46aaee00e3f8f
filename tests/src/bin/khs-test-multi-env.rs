//! An app of three stacks in two regions for the multi-environment deploy
//! test against moto, run with the deploy command line: `network-east`
//! (us-east-1) and `network-west` (us-west-2) are independent, `service`
//! (us-east-1) depends on both. `KHS_TEST_ACCOUNT`, when set, puts every
//! stack in that account (else the account of the credentials).

use std::process::ExitCode;

use khs_constructs::messaging::topic::{Topic, TopicProps};
use khs_constructs::prelude::*;

fn env(account: Option<&str>, region: &str) -> Environment {
    match account {
        Some(a) => Environment::new(a, region),
        None => Environment::region(region),
    }
}

fn stack(name: &str, environment: Environment, deps: &[&str]) -> Result<Stack> {
    let mut stack = Stack::new(name, StackProps::new(environment))?;
    Topic::new(
        &mut stack,
        "Events",
        TopicProps {
            display_name: Some(format!("{name} events")),
            ..TopicProps::default()
        },
    )?;
    for d in deps {
        stack.add_dependency(d);
    }
    Ok(stack)
}

fn app(account: Option<&str>) -> Result<App> {
    let mut app = App::new();
    app.add_stack(stack("network-east", env(account, "us-east-1"), &[])?)?;
    app.add_stack(stack("network-west", env(account, "us-west-2"), &[])?)?;
    app.add_stack(stack(
        "service",
        env(account, "us-east-1"),
        &["network-east", "network-west"],
    )?)?;
    Ok(app)
}

fn main() -> ExitCode {
    let account = std::env::var("KHS_TEST_ACCOUNT").ok();
    match app(account.as_deref()) {
        Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
