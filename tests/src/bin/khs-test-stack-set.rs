//! A small org-wide stack (an encrypted topic and a retained bucket) for the
//! stack-set tests against moto, run with the deploy command line.
//! `KHS_TEST_VARIANT`: `v1`, `v2` (the topic's display name changes) or
//! `renamed-bucket` (the bucket's name changes: a replacement the data-loss
//! guard refuses).

use std::process::ExitCode;

use khs_constructs::messaging::topic::{Topic, TopicProps};
use khs_constructs::prelude::*;
use khs_constructs::storage::bucket::{Bucket, BucketName, BucketProps};

/// The stack deployed as a stack set.
const STACK: &str = "org-baseline";

fn app(variant: &str) -> Result<App> {
    let mut stack = Stack::new(STACK, StackProps::new(Environment::region("us-east-1")))?;
    Topic::new(
        &mut stack,
        "Alerts",
        TopicProps {
            display_name: Some(
                if variant == "v2" {
                    "alerts v2"
                } else {
                    "alerts"
                }
                .into(),
            ),
            ..TopicProps::default()
        },
    )?;
    Bucket::new(
        &mut stack,
        "Logs",
        BucketProps {
            name: BucketName::unique(if variant == "renamed-bucket" {
                "org-archive"
            } else {
                "org-logs"
            }),
            ..BucketProps::default()
        },
    )?;
    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    let variant = std::env::var("KHS_TEST_VARIANT").unwrap_or_else(|_| "v1".to_string());
    if !["v1", "v2", "renamed-bucket"].contains(&variant.as_str()) {
        eprintln!("error: KHS_TEST_VARIANT must be v1, v2 or renamed-bucket, got {variant:?}");
        return ExitCode::from(2);
    }
    match app(&variant) {
        Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
