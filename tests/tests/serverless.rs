//! The serverless example and a stack of every serverless and messaging
//! construct: they synthesize, pass the pinned cfn-lint with `-c I` clean,
//! write their assets and manifests, and the example's template is an insta
//! snapshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use khs_constructs::prelude::*;
use khs_constructs::serverless::asset::{ASSET_BUCKET, AssetManifest, pack, write_assets};
use khs_tests::serverless_app::{every_construct, queue_worker_handler};

#[path = "../../khs-constructs/examples/queue_worker.rs"]
#[allow(dead_code)]
mod queue_worker;

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("khs-serverless-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn cfn_lint(templates: &[PathBuf]) {
    let cfn_lint = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint").expect(
        "cfn-lint found ($KHS_CFN_LINT, .venv/bin/cfn-lint or PATH); run ./scripts/test.sh",
    );
    let out = Command::new(&cfn_lint)
        .arg("--format")
        .arg("parseable")
        .args(["--include-checks", "I"])
        .arg("--")
        .args(templates)
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint found problems (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_manifest(dir: &Path, artifact: &StackArtifact) {
    let text = std::fs::read_to_string(dir.join(AssetManifest::file_name(&artifact.name)))
        .expect("manifest written");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    assert_eq!(manifest["version"], 1);
    assert_eq!(manifest["stack"], artifact.name);
    let assets = manifest["assets"].as_array().expect("assets");
    assert_eq!(assets.len(), artifact.assets.len());
    let template = serde_json::to_string(&artifact.template).expect("template");
    for a in assets {
        let key = a["key"].as_str().expect("key");
        assert_eq!(a["bucket"], ASSET_BUCKET);
        assert!(
            template.contains(&format!("\"S3Key\":\"{key}\"")),
            "{key} not in the template"
        );
        let bytes =
            std::fs::read(dir.join(a["file"].as_str().expect("file"))).expect("zip written");
        assert_eq!(a["size"], bytes.len());
        let repacked = pack(Path::new(a["source"].as_str().expect("source"))).expect("packs");
        assert_eq!(
            repacked.bytes, bytes,
            "the written zip is the deterministic pack"
        );
        assert_eq!(format!("{}.zip", repacked.hash), key);
    }
}

#[test]
fn queue_worker_example_synthesizes_lints_and_matches_its_snapshot() {
    let dir = out_dir("example");
    let artifacts =
        queue_worker::synth_into(&queue_worker_handler(), &dir).expect("example synthesizes");
    assert_eq!(artifacts.len(), 1);
    let a = &artifacts[0];
    assert_eq!(a.assets.len(), 1);
    check_manifest(&dir, a);
    cfn_lint(&[dir.join(a.file_name())]);
    let template: serde_json::Value = serde_json::from_str(&a.json).expect("template is JSON");
    assert!(
        khs_constructs::iam::check_template(&template).is_empty(),
        "{:?}",
        khs_constructs::iam::check_template(&template)
    );
    insta::assert_json_snapshot!("queue-worker", template);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_serverless_construct_passes_cfn_lint() {
    let dir = out_dir("all");
    let artifacts = every_construct(&queue_worker_handler())
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    App::write(&artifacts, &dir).expect("templates written");
    write_assets(&artifacts, &dir).expect("assets written");
    check_manifest(&dir, &artifacts[0]);
    let templates: Vec<PathBuf> = artifacts.iter().map(|a| dir.join(a.file_name())).collect();
    cfn_lint(&templates);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JSON paths at which `a` and `b` differ.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => differences(v, w, &format!("{at}/{k}"), out),
                    _ => out.push(format!("{at}/{k}")),
                }
            }
        }
        _ if a != b => out.push(at.to_string()),
        _ => {}
    }
}

#[test]
fn new_code_changes_only_the_functions_code_key() {
    let src = out_dir("code-change");
    std::fs::create_dir_all(&src).expect("scratch dir");
    let handler = queue_worker_handler();
    for entry in std::fs::read_dir(&handler).expect("handler dir") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, src.join(p.file_name().expect("name"))).expect("copy");
    }
    let synth = || -> serde_json::Value {
        let a = queue_worker::app(&src)
            .expect("builds")
            .synth()
            .expect("synthesizes");
        serde_json::from_str(&a[0].json).expect("JSON")
    };
    let before = synth();
    let out = out_dir("code-change-out");
    queue_worker::synth_into(&src, &out).expect("writes");
    let index = src.join("index.py");
    let code = std::fs::read_to_string(&index).expect("index.py");
    std::fs::write(&index, code + "\n# a new version\n").expect("write");
    let after = synth();
    // Writing the new version into the same folder replaces the old zip.
    queue_worker::synth_into(&src, &out).expect("writes");
    let zips = |d: &Path| -> usize {
        std::fs::read_dir(d)
            .expect("out dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".zip"))
            .count()
    };
    assert_eq!(zips(&out), 1);
    let _ = std::fs::remove_dir_all(&out);
    let mut diff = Vec::new();
    differences(&before, &after, "", &mut diff);
    assert_eq!(diff, ["/Resources/WorkerFunction/Properties/Code/S3Key"]);
    let _ = std::fs::remove_dir_all(&src);
}
