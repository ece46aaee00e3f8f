//! A worker function from a local directory that consumes a queue and
//! records each job in a table, wired with grants.
//!
//! ```text
//! cargo run -p khs-constructs --example queue_worker -- out/
//! ```
//!
//! writes `out/queue-worker.template.json`, the packed handler
//! `out/asset.<hash>.zip` and its manifest `out/queue-worker.assets.json`
//! (what the deploy client uploads before it deploys the template).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use khs_constructs::prelude::*;
use khs_constructs::serverless::asset::write_assets;

/// The worker's code: the directory beside this file.
pub fn handler_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queue_worker_handler")
}

/// The app: one stack with the queue, the table and the worker.
pub fn app(handler: &Path) -> Result<App> {
    let mut stack = Stack::new(
        "queue-worker",
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let worker_props = FunctionProps {
        memory_mib: 256,
        timeout_seconds: 30,
        description: Some("Records jobs from the queue in the table".into()),
        ..FunctionProps::new(Runtime::Python3_13, "index.handler", Code::asset(handler))
    };
    // Six times the worker's timeout, as AWS recommends for SQS sources.
    let jobs = Queue::new(
        &mut stack,
        "Jobs",
        QueueProps {
            visibility_timeout_seconds: 6 * worker_props.timeout_seconds,
            ..QueueProps::default()
        },
    )?;
    let results = Table::new(
        &mut stack,
        "Results",
        TableProps {
            ttl_attribute: Some("expiresAt".into()),
            ..TableProps::new(Attribute::string("jobId"))
        },
    )?;
    let mut worker_props = worker_props;
    worker_props
        .environment
        .insert("TABLE_NAME".into(), results.name());
    let worker = Function::new(&mut stack, "Worker", worker_props)?;
    worker.add_queue_source(&mut stack, &jobs, QueueSourceProps::default())?;
    results.grant_read_write(&mut stack, &worker)?;
    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

/// Synthesizes the app into `out`: templates, packed assets, manifests.
pub fn synth_into(handler: &Path, out: &Path) -> Result<Vec<StackArtifact>> {
    let artifacts = app(handler)?.synth()?;
    App::write(&artifacts, out)?;
    write_assets(&artifacts, out)?;
    Ok(artifacts)
}

#[allow(dead_code)]
fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: queue_worker <output folder>");
        return ExitCode::from(2);
    };
    match synth_into(&handler_dir(), Path::new(&out)) {
        Ok(artifacts) => {
            for a in &artifacts {
                println!(
                    "{}: {} resources, {} asset(s)",
                    a.name,
                    a.resource_count(),
                    a.assets.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
