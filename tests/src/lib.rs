//! Helpers shared by the integration tests: where the workspace and the
//! pinned tools are, the moto_server harness, the scripted CloudFormation
//! endpoint and the deploy test apps.

pub mod assets_app;
pub mod cli_run;
pub mod cross_app;
pub mod deploy_app;
pub mod fake_cfn;
pub mod moto;
pub mod serverless_app;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Prepares a deploy command for a local endpoint: static test credentials,
/// no metadata service, no user configuration or endpoint overrides, two
/// attempts per call and a 100 ms poll interval.
pub fn offline_aws_env(cmd: &mut Command) -> &mut Command {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDFORMATION",
        "AWS_ENDPOINT_URL_S3",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_RETRY_MODE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/khs-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/khs-test/credentials",
        )
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("KHS_DEPLOY_POLL_MS", "100")
}

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
