//! The app of the asset deploy test (`tests/tests/deploy_assets.rs`): one
//! stack with a function whose code is a local directory (an asset), the
//! queue it consumes and the table it writes to, wired with grants. The
//! binary `khs-test-assets` runs the deploy command line over it, with the
//! handler directory from `KHS_TEST_HANDLER`.

use std::path::Path;

use khs_constructs::prelude::*;

/// The stack's name.
pub const STACK: &str = "assets-worker";

/// The function's logical id.
pub const FUNCTION: &str = "WorkerFunction";

/// The app over the handler directory `handler`.
pub fn app(handler: &Path) -> Result<App> {
    let mut stack = Stack::new(STACK, StackProps::new(Environment::region("us-east-1")))?;
    let jobs = Queue::new(
        &mut stack,
        "Jobs",
        QueueProps {
            visibility_timeout_seconds: 180,
            ..QueueProps::default()
        },
    )?;
    let results = Table::new(
        &mut stack,
        "Results",
        TableProps::new(Attribute::string("jobId")),
    )?;
    let mut props = FunctionProps {
        timeout_seconds: 30,
        ..FunctionProps::new(Runtime::Python3_13, "index.handler", Code::asset(handler))
    };
    props
        .environment
        .insert("TABLE_NAME".into(), results.name());
    let worker = Function::new(&mut stack, "Worker", props)?;
    worker.add_queue_source(&mut stack, &jobs, QueueSourceProps::default())?;
    results.grant_read_write(&mut stack, &worker)?;
    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}
