//! The deploy command line on the asset test app (`tests/src/assets_app.rs`),
//! exactly as an app's own binary runs it; `KHS_TEST_HANDLER` is the
//! function's code directory.

use std::process::ExitCode;

use khs_tests::assets_app::app;

fn main() -> ExitCode {
    let Some(handler) = std::env::var_os("KHS_TEST_HANDLER") else {
        eprintln!("error: KHS_TEST_HANDLER must name the function's code directory");
        return ExitCode::from(2);
    };
    match app(std::path::Path::new(&handler)) {
        Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
