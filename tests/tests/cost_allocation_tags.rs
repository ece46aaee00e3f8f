//! Every resource of every template in `synth-out/` whose type is taggable
//! (per the CloudFormation registry schema shipped with the pinned cfn-lint)
//! carries the cost allocation tags `Environment`, `Project` and `Owner`,
//! under the type's own tag property (`Tags`, `BackupVaultTags`,
//! `ResourceTags`, `HostedZoneTags`, …).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as J;

const REQUIRED: [&str; 3] = ["Environment", "Project", "Owner"];

/// The registry schemas directory of the cfn-lint install next to the
/// pinned binary.
fn schemas_dir() -> Result<PathBuf, String> {
    let cfn_lint = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint").ok_or(
        "cfn-lint not found (looked at $KHS_CFN_LINT, .venv/bin/cfn-lint, PATH); \
         run ./scripts/test.sh, which installs the pinned version into .venv/",
    )?;
    let cfn_lint = cfn_lint.canonicalize().unwrap_or(cfn_lint);
    let lib = cfn_lint
        .parent()
        .and_then(Path::parent)
        .ok_or("cfn-lint lives in <venv>/bin")?
        .join("lib");
    std::fs::read_dir(&lib)
        .map_err(|e| format!("{}: {e}", lib.display()))?
        .flatten()
        .map(|e| e.path().join("site-packages/cfnlint/data/schemas"))
        .find(|p| p.join("providers/us-east-1.json").exists())
        .ok_or(format!("no cfnlint/data/schemas under {}", lib.display()))
}

fn read_json(p: &Path) -> Result<J, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Type name → tag property name, for every type whose schema says it is
/// taggable through a top-level property. Every type is registered in
/// us-east-1's provider list, and taggability does not differ by region.
fn tag_properties(schemas: &Path) -> Result<BTreeMap<String, String>, String> {
    let provider = read_json(&schemas.join("providers/us-east-1.json"))?;
    let mut out = BTreeMap::new();
    for (type_name, file) in provider.as_object().ok_or("provider map")? {
        let Some(file) = file.as_str() else { continue };
        let path = schemas.join(format!("resources/{file}.json"));
        if !path.exists() {
            continue;
        }
        let schema = read_json(&path)?;
        let tagging = &schema["tagging"];
        if tagging["taggable"] != J::Bool(true) {
            continue;
        }
        let prop = tagging["tagProperty"]
            .as_str()
            .unwrap_or("/properties/Tags")
            .trim_start_matches("/properties/")
            .to_string();
        if !prop.contains('/') {
            out.insert(type_name.clone(), prop);
        }
    }
    Ok(out)
}

fn tag_keys(v: &J) -> Vec<String> {
    match v {
        J::Array(items) => items
            .iter()
            .filter_map(|t| t["Key"].as_str().map(String::from))
            .collect(),
        J::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_taggable_resource_carries_the_cost_allocation_tags() {
    let schemas = schemas_dir().unwrap_or_else(|e| panic!("{e}"));
    let props = tag_properties(&schemas).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        props.get("AWS::Backup::BackupVault").map(String::as_str) == Some("BackupVaultTags"),
        "the registry schemas name BackupVaultTags as the vault's tag property"
    );
    let mut templates: Vec<_> = std::fs::read_dir(khs_tests::synth_out())
        .expect("synth-out/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    assert!(!templates.is_empty(), "synth-out/ has no templates");
    let (mut checked, mut missing) = (0, Vec::new());
    for file in &templates {
        let t: J = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for (id, r) in t["Resources"].as_object().expect("Resources") {
            let type_name = r["Type"].as_str().unwrap_or_default();
            let Some(prop) = props.get(type_name) else {
                continue;
            };
            checked += 1;
            let keys = tag_keys(&r["Properties"][prop.as_str()]);
            let absent: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|k| !keys.iter().any(|have| have == k))
                .collect();
            if !absent.is_empty() {
                missing.push(format!(
                    "{}: {id} ({type_name}) lacks {absent:?} in {prop}",
                    file.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
        }
    }
    assert!(checked > 0, "no taggable resource found in synth-out/");
    assert!(
        missing.is_empty(),
        "{} of {checked} taggable resources lack cost allocation tags:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
