//! The bootstrap template (`khs bootstrap`'s staging bucket), synthesized by
//! the library's own constructs: an insta snapshot, and the pinned cfn-lint
//! with `-c I` clean for both encryptions.

use std::path::PathBuf;
use std::process::Command;

use khs_constructs::deploy::bootstrap::{BootstrapEncryption, BootstrapProps, template};

fn write(name: &str, t: &serde_json::Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("khs-bootstrap-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.template.json"));
    std::fs::write(&path, serde_json::to_string_pretty(t).expect("json")).expect("write");
    path
}

#[test]
fn the_bootstrap_template_matches_its_snapshot() {
    let t = template("us-east-1", &BootstrapProps::default()).expect("bootstrap template");
    insta::assert_json_snapshot!("khs-bootstrap", t);
}

#[test]
fn the_bootstrap_templates_pass_cfn_lint() {
    let cfn_lint = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint").expect(
        "cfn-lint found ($KHS_CFN_LINT, .venv/bin/cfn-lint or PATH); run ./scripts/test.sh",
    );
    let s3 = template("eu-west-1", &BootstrapProps::default()).expect("SSE-S3");
    let kms = template(
        "eu-west-1",
        &BootstrapProps {
            encryption: BootstrapEncryption::Kms,
            ..BootstrapProps::default()
        },
    )
    .expect("SSE-KMS");
    let files = [write("bootstrap-s3", &s3), write("bootstrap-kms", &kms)];
    let out = Command::new(&cfn_lint)
        .arg("--format")
        .arg("parseable")
        .args(&files)
        .args(["--include-checks", "I"])
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint found problems (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(dir) = files[0].parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
