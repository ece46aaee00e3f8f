//! The pinned checkov finds nothing in `synth-out/`: no failed check, and
//! every skipped check is skipped by a template's `Metadata.checkov.skip`
//! entry with a comment (written from an acknowledgement in code; see
//! `docs/rules.md`). checkov runs offline: no download of external checks,
//! no mapping or version check against the vendor's servers. Every check it
//! runs maps to a rule of the library's built-in pack.

use std::process::Command;

use serde_json::Value;

#[test]
fn checkov_finds_no_failed_check_in_synth_out() {
    // scripts/test.sh installs checkov into a venv of its own (it pins an
    // older boto3/botocore than moto's).
    let from_env = std::env::var_os("KHS_CHECKOV")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists());
    let own_venv =
        Some(khs_tests::workspace_root().join(".venv/checkov/bin/checkov")).filter(|p| p.exists());
    let found = from_env
        .or(own_venv)
        .or_else(|| khs_tests::find_tool("KHS_CHECKOV", "checkov"));
    let Some(checkov) = found else {
        panic!(
            "checkov not found (looked at $KHS_CHECKOV, .venv/checkov/bin/checkov, .venv/bin/checkov, PATH); \
             run ./scripts/test.sh, which installs the pinned version into .venv/checkov/"
        );
    };
    let pinned = khs_tests::pinned_version("checkov").expect("requirements-dev.txt pins checkov");
    let offline = |cmd: &mut Command| {
        cmd.env("BC_SKIP_MAPPING", "TRUE")
            .env("CKV_SKIP_PACKAGE_UPDATE_CHECK", "True")
            .env_remove("BC_API_KEY");
    };
    let mut version = Command::new(&checkov);
    offline(&mut version);
    let version = version.arg("--version").output().expect("checkov runs");
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    assert_eq!(
        version,
        pinned,
        "{} is {version}, the tests pin {pinned}; run ./scripts/test.sh to install it into .venv/",
        checkov.display()
    );
    let templates = std::fs::read_dir(khs_tests::synth_out())
        .expect("synth-out/ exists")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".template.json"))
        .count();
    assert!(templates > 0, "synth-out/ has no templates");

    let mut run = Command::new(&checkov);
    offline(&mut run);
    let out = run
        .arg("--directory")
        .arg(khs_tests::synth_out())
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ])
        .output()
        .expect("checkov runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}); exit {:?}\n{}\n{stdout}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // One report per framework: an object, or a list of them.
    let reports: Vec<&Value> = match &report {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let cfn = reports
        .iter()
        .find(|r| r["check_type"] == "cloudformation")
        .expect("a cloudformation report");
    let summary = &cfn["summary"];
    assert_eq!(summary["parsing_errors"], 0, "{summary}");
    assert!(
        summary["resource_count"].as_u64().unwrap_or(0) > 0,
        "checkov saw no resource: {summary}"
    );

    let failed: Vec<String> = cfn["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {}{} ({})",
                c["check_id"].as_str().unwrap_or("?"),
                c["file_path"].as_str().unwrap_or("?"),
                c["resource"]
                    .as_str()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default(),
                c["check_name"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "checkov: {} failed check(s); fix them, or acknowledge the rule of khs-constructs that maps to the check (docs/rules.md):\n{}",
        failed.len(),
        failed.join("\n")
    );

    let uncommented: Vec<String> = cfn["results"]["skipped_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["check_result"]["suppress_comment"]
                .as_str()
                .is_none_or(|s| s.trim().is_empty())
        })
        .map(|c| {
            format!(
                "{} {}",
                c["check_id"].as_str().unwrap_or("?"),
                c["resource"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert!(
        uncommented.is_empty(),
        "checkov: skipped without a comment:\n{}",
        uncommented.join("\n")
    );
    assert_eq!(out.status.code(), Some(0), "checkov exit status");

    // Every check checkov ran has a rule of the built-in pack that maps to
    // it, so a finding of checkov is one of ours, acknowledged in code.
    let mapped: std::collections::BTreeSet<&str> = khs_constructs::rules::builtin()
        .iter()
        .flat_map(|p| p.rules().iter().flat_map(|r| r.checkov.iter().copied()))
        .collect();
    let mut unmapped: Vec<&str> = ["passed_checks", "failed_checks", "skipped_checks"]
        .iter()
        .flat_map(|k| cfn["results"][k].as_array().into_iter().flatten())
        .filter_map(|c| c["check_id"].as_str())
        .filter(|id| !mapped.contains(id))
        .collect();
    unmapped.sort_unstable();
    unmapped.dedup();
    assert!(
        unmapped.is_empty(),
        "checks checkov ran that no built-in rule maps to (add them to a rule of khs_constructs::rules): {unmapped:?}"
    );
}
