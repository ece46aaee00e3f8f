//! The deploy command line on the test app (`tests/src/deploy_app.rs`),
//! exactly as an app's own binary runs it. `KHS_TEST_VARIANT` (`base`,
//! `update`, `replace-db`, `rename-base`, `renamed`, `renamed-undeclared`,
//! `bucket-base`, `bucket-removed`) chooses the version of the app.

use std::process::ExitCode;

use khs_tests::deploy_app::{Variant, app};

fn main() -> ExitCode {
    let name = std::env::var("KHS_TEST_VARIANT").unwrap_or_else(|_| "base".to_string());
    let Some(variant) = Variant::parse(&name) else {
        eprintln!(
            "error: KHS_TEST_VARIANT must be base, update, replace-db, rename-base, renamed, renamed-undeclared, bucket-base or bucket-removed, got {name:?}"
        );
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
