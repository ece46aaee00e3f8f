//! The `main` of a synth-only program in one call: synthesize the app into
//! the folder given as the first argument (templates, and the manifests and
//! archives of any file assets).
//!
//! ```no_run
//! # fn app() -> khs_constructs::Result<khs_constructs::prelude::App> { Ok(Default::default()) }
//! fn main() -> std::process::ExitCode {
//!     khs_constructs::synth::main("my_app", app)
//! }
//! ```
//!
//! `cargo run --bin my_app -- out/` writes `out/<stack>.template.json` for
//! every stack (and `out/<stack>.assets.json` with the zips of its assets).

use std::path::Path;
use std::process::ExitCode;

use crate::core::app::{App, StackArtifact};
use crate::core::error::Result;

/// Synthesizes `app` and writes it into `dir`: every template
/// ([`App::write`], which also removes stale templates) and the asset
/// manifests and archives
/// ([`write_assets`](crate::serverless::asset::write_assets)).
pub fn write(app: App, dir: &Path) -> Result<Vec<StackArtifact>> {
    let artifacts = app.into_synth()?;
    App::write(&artifacts, dir)?;
    crate::serverless::asset::write_assets(&artifacts, dir)?;
    Ok(artifacts)
}

/// Builds the app with `build` and [`write()`]s it into the folder named by
/// the first argument, printing one line per stack. Exit codes: 0 written,
/// 1 an error (printed with its construct path), 2 no folder given.
pub fn main(program: &str, build: impl FnOnce() -> Result<App>) -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: {program} <output folder>");
        return ExitCode::from(2);
    };
    match build().and_then(|app| write(app, Path::new(&dir))) {
        Ok(artifacts) => {
            for a in &artifacts {
                println!(
                    "{}: {} resources, {} bytes{}",
                    a.file_name(),
                    a.resource_count(),
                    a.json.len(),
                    match a.assets.len() {
                        0 => String::new(),
                        n => format!(", {n} asset(s)"),
                    }
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
