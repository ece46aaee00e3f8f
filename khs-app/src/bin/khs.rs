//! `khs`: diff, deploy, destroy and follow the KHS CRM stacks with
//! CloudFormation change sets (the command line of
//! `khs_constructs::deploy::cli` over [`khs_app::app`]). Built with the
//! `deploy` feature: `cargo run -p khs-app --features deploy --bin khs -- --help`.

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
