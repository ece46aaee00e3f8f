//! The KHS CRM app's deploy command line, built exactly as `khs-app`'s `khs`
//! binary is (`khs_app::app()` under `khs_constructs::deploy::cli`), so that
//! the deploy tests can run the full production stack against moto.

use std::process::ExitCode;

fn main() -> ExitCode {
    match khs_app::app() {
        Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
