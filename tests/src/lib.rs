//! Helpers shared by the integration tests: where the workspace and the
//! pinned tools are, the moto_server harness and the deploy test app.

pub mod deploy_app;
pub mod moto;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The committed templates directory.
pub fn synth_out() -> PathBuf {
    workspace_root().join("synth-out")
}

/// The version of a pinned Python tool in `requirements-dev.txt`
/// (`cfn-lint` → `1.58.0`).
pub fn pinned_version(tool: &str) -> Option<String> {
    let text = std::fs::read_to_string(workspace_root().join("requirements-dev.txt")).ok()?;
    text.lines().find_map(|l| {
        let (name, version) = l.split_once("==")?;
        let name = name.split('[').next()?.trim();
        (name == tool).then(|| version.trim().to_string())
    })
}

/// Finds a pinned tool: `$<env_var>`, else `.venv/bin/<name>` at the
/// workspace root, else `<name>` on `PATH`. `None` when none exists.
pub fn find_tool(env_var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    let venv = workspace_root().join(".venv/bin").join(name);
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}
