//! Developer tasks for the khs-constructs workspace.
//!
//! `cargo run -p xtask -- codegen [--schemas DIR] [--out DIR]`
//! regenerates the typed CloudFormation layer (the `khs-cfn` crate in
//! `khs-constructs/cfn/`) from the registry schemas shipped with the pinned
//! cfn-lint. See `docs/codegen.md`.

mod codegen;
mod constraints;
mod library_types;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo run -p xtask -- codegen [--schemas DIR] [--out DIR]

Generates every resource type of the registry into khs-constructs/cfn/ (crate khs-cfn,
one cargo feature per service) and the feature list of khs-constructs/Cargo.toml, then
rewrites khs-constructs/cfn/src/validate_code.bin (the validation data compiled into the
form the checks read) by running khs-cfn's test `validate_code` with
KHS_UPDATE_VALIDATE_CODE=1.

  --schemas DIR  cfn-lint's data/schemas directory (default: located by importing cfnlint
                 with $KHS_PYTHON, <repo>/.venv/bin/python, the main checkout's .venv, python3)
  --out DIR      the workspace root to write into (default: this repository)";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(task) = args.next() else {
        bail!("{USAGE}");
    };
    if task != "codegen" {
        bail!("unknown task {task:?}\n{USAGE}");
    }
    let mut schemas: Option<PathBuf> = None;
    let mut out: Option<PathBuf> = None;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .map(PathBuf::from)
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--schemas" => schemas = Some(value()?),
            "--out" => out = Some(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let root = codegen::workspace_root();
    let schemas = match schemas {
        Some(dir) => dir,
        None => codegen::locate_schemas()?,
    };
    let out = out.unwrap_or(root);
    let written = codegen::run(&schemas, &out)?;
    println!(
        "codegen: wrote {} files into {} from {}",
        written.len(),
        out.display(),
        schemas.display()
    );
    codegen::write_validate_code(&out)?;
    Ok(())
}
