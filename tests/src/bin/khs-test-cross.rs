//! The deploy command line on the cross-stack test app
//! (`tests/src/cross_app.rs`); `KHS_TEST_VARIANT` (`used`, `unused`)
//! chooses the version of the app.

use std::process::ExitCode;

use khs_tests::cross_app::{CrossVariant, app};

fn main() -> ExitCode {
    let name = std::env::var("KHS_TEST_VARIANT").unwrap_or_else(|_| "used".to_string());
    let Some(variant) = CrossVariant::parse(&name) else {
        eprintln!("error: KHS_TEST_VARIANT must be used or unused, got {name:?}");
        return ExitCode::from(2);
    };
    match app(variant) {
        Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
