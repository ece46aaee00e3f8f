//! Every template in `synth-out/` passes the pinned cfn-lint with no error,
//! no warning and no informational finding (`-c I`: for example I3011, explicit
//! `DeletionPolicy`/`UpdateReplacePolicy` on stateful resources).

use std::process::Command;

#[test]
fn every_template_passes_cfn_lint() {
    let Some(cfn_lint) = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint") else {
        panic!(
            "cfn-lint not found (looked at $KHS_CFN_LINT, .venv/bin/cfn-lint, PATH); \
             run ./scripts/test.sh, which installs the pinned version into .venv/"
        );
    };
    let pinned = khs_tests::pinned_version("cfn-lint").expect("requirements-dev.txt pins cfn-lint");
    let version = Command::new(&cfn_lint)
        .arg("--version")
        .output()
        .expect("cfn-lint runs");
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(
        version.contains(&pinned),
        "{} is {}, the tests pin {pinned}; run ./scripts/test.sh to install it into .venv/",
        cfn_lint.display(),
        version.trim()
    );
    let mut templates: Vec<_> = std::fs::read_dir(khs_tests::synth_out())
        .expect("synth-out/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    assert!(!templates.is_empty(), "synth-out/ has no templates");
    let out = Command::new(&cfn_lint)
        .arg("--format")
        .arg("parseable")
        .args(&templates)
        .args(["--include-checks", "I"])
        .output()
        .expect("cfn-lint runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "cfn-lint found errors, warnings or informational findings (exit {:?}) in {} templates:\n{report}",
        out.status.code(),
        templates.len()
    );
}
