//! The examples of `khs-constructs/examples/`: each synthesizes, writes its
//! templates into the folder it is given, passes the pinned cfn-lint with
//! `-c I` clean, and matches its insta snapshot. The example sources are
//! compiled into this test as modules (their `main` is not called here).

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/worker_service.rs"]
mod worker_service;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/two_services.rs"]
mod two_services;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/static_site.rs"]
mod static_site;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/scheduled_job.rs"]
mod scheduled_job;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/cross_stack.rs"]
mod cross_stack;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/imports.rs"]
mod imports;

fn out_dir(example: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("khs-examples-{}-{example}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn lint(templates: &[PathBuf]) {
    let cfn_lint = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint")
        .expect("cfn-lint not found (looked at $KHS_CFN_LINT, .venv/bin/cfn-lint, PATH); run ./scripts/test.sh");
    let out = Command::new(&cfn_lint)
        .args(["--format", "parseable", "--include-checks", "I", "--"])
        .args(templates)
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint findings (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check(example: &str, app: khs_constructs::Result<khs_constructs::prelude::App>) {
    let artifacts = app
        .and_then(|a| a.synth())
        .map_err(|e| format!("{example}: {e}"))
        .expect("the example synthesizes");
    let dir = out_dir(example);
    khs_constructs::prelude::App::write(&artifacts, Path::new(&dir)).expect("templates written");
    let templates: Vec<PathBuf> = artifacts.iter().map(|a| dir.join(a.file_name())).collect();
    for t in &templates {
        assert!(t.is_file(), "{} was not written", t.display());
    }
    lint(&templates);
    for a in &artifacts {
        let template: serde_json::Value = serde_json::from_str(&a.json).expect("template is JSON");
        insta::assert_json_snapshot!(format!("example-{example}-{}", a.name), template);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn worker_service_synthesizes_lints_and_matches_its_snapshot() {
    check("worker_service", worker_service::app());
}

#[test]
fn two_services_synthesizes_lints_and_matches_its_snapshot() {
    check("two_services", two_services::app());
}

#[test]
fn static_site_synthesizes_lints_and_matches_its_snapshot() {
    check("static_site", static_site::app());
}

#[test]
fn scheduled_job_synthesizes_lints_and_matches_its_snapshot() {
    check("scheduled_job", scheduled_job::app());
}

#[test]
fn cross_stack_synthesizes_lints_and_matches_its_snapshot() {
    check("cross_stack", cross_stack::app());
}

#[test]
fn imports_synthesizes_lints_and_matches_its_snapshot() {
    check("imports", imports::app());
}

#[test]
fn examples_name_no_cfn_type() {
    let dir = khs_tests::workspace_root().join("khs-constructs/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ exists").flatten() {
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue; // an example's own files (the queue worker's handler)
        }
        let text = std::fs::read_to_string(entry.path()).expect("example reads");
        assert!(
            !text.contains("cfn::"),
            "{} names a cfn:: type",
            entry.path().display()
        );
        seen += 1;
    }
    assert_eq!(seen, 7, "expected the seven examples");
}
