//! No deadly embrace: an export that a new template drops while another
//! deployed stack still imports it is kept (and marked) until that stack no
//! longer imports it, then removed in a second step.
//!
//! CloudFormation refuses to update a stack that removes an export in use
//! (the CDK's "deadly embrace", aws-cdk issue 7602): deployed in dependency
//! order, the producer goes first and fails. The engine instead deploys the
//! producer with the export still in it (template metadata
//! [`RETAINED_EXPORTS_KEY`] says why), then the consumers without their
//! import, then the producer again with its final template.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Connector, Engine, Res, Sink, StackSpec};
use crate::deploy::port::CloudFormation;

/// The template metadata key of the exports the engine keeps for a
/// while: `{"export-name": "imported by stack-b; removed once it no longer
/// imports it"}`.
pub const RETAINED_EXPORTS_KEY: &str = "khs:retained-exports";

/// The literal export names of a template's outputs, with the output ids.
pub fn export_names(template: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(outputs) = template.get("Outputs").and_then(Value::as_object) else {
        return out;
    };
    for (id, o) in outputs {
        if let Some(name) = o.pointer("/Export/Name").and_then(Value::as_str) {
            out.insert(name.to_string(), id.clone());
        }
    }
    out
}

/// The literal names a template reads with `Fn::ImportValue`.
pub fn imports(template: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|i| walk(i, out)),
            Value::Object(m) => {
                if let (1, Some(Value::String(n))) = (m.len(), m.get("Fn::ImportValue")) {
                    out.insert(n.clone());
                }
                m.values().for_each(|i| walk(i, out));
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(template, &mut out);
    out
}

/// An export the new template drops while deployed stacks import it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptExport {
    /// The export name.
    pub name: String,
    /// The deployed output that holds it.
    pub output: String,
    /// Its deployed definition (with a literal value when it refers to
    /// something the new template no longer has).
    pub definition: Value,
    /// The deployed stacks that import it.
    pub importers: Vec<String>,
}

/// Whether `v` refers only to resources and parameters `template` has.
fn resolves_in(v: &Value, template: &Value) -> bool {
    let has = |id: &str| {
        id.starts_with("AWS::")
            || template.pointer(&format!("/Resources/{id}")).is_some()
            || template.pointer(&format!("/Parameters/{id}")).is_some()
    };
    match v {
        Value::Array(a) => a.iter().all(|i| resolves_in(i, template)),
        Value::Object(m) => {
            if let (1, Some(Value::String(id))) = (m.len(), m.get("Ref")) {
                return has(id);
            }
            if let (1, Some(Some(id))) = (
                m.len(),
                m.get("Fn::GetAtt")
                    .map(|a| a.get(0).and_then(Value::as_str)),
            ) {
                return has(id);
            }
            if m.contains_key("Fn::Sub") {
                return false;
            }
            m.values().all(|i| resolves_in(i, template))
        }
        _ => true,
    }
}

/// `template` with the kept exports added back and marked.
pub fn with_kept(template: &Value, kept: &[KeptExport]) -> Value {
    let mut t = template.clone();
    if kept.is_empty() {
        return t;
    }
    let Some(root) = t.as_object_mut() else {
        return t;
    };
    root.entry("Outputs").or_insert_with(|| json!({}));
    if let Some(outputs) = root.get_mut("Outputs").and_then(Value::as_object_mut) {
        for k in kept {
            outputs.insert(k.output.clone(), k.definition.clone());
        }
    }
    let metadata = root.entry("Metadata").or_insert_with(|| json!({}));
    if let Some(m) = metadata.as_object_mut() {
        let marks: serde_json::Map<String, Value> = kept
            .iter()
            .map(|k| {
                (
                    k.name.clone(),
                    json!(format!(
                        "imported by {}; removed once no stack imports it",
                        k.importers.join(", ")
                    )),
                )
            })
            .collect();
        m.insert(RETAINED_EXPORTS_KEY.to_string(), Value::Object(marks));
    }
    t
}

/// One sentence on a kept export, for `diff` and `deploy`.
pub fn describe(stack: &str, k: &KeptExport, removed_later: bool) -> String {
    let then = if removed_later {
        "then removes it in a second step".to_string()
    } else {
        format!(
            "and a later deployment of {stack} removes it once {} no longer import(s) it",
            k.importers.join(", ")
        )
    };
    format!(
        "{stack}: export {:?} (output {}) is gone from the template but {} still import(s) it; \
         the deployment keeps it until {} {} updated without the import, {then} (no deadly embrace)",
        k.name,
        k.output,
        k.importers.join(", "),
        k.importers.join(", "),
        if k.importers.len() == 1 { "is" } else { "are" },
    )
}

impl<K: Connector> Engine<K> {
    /// The exports that `spec`'s deployed stack has, its new template drops,
    /// and other deployed stacks of the app (same region) still import.
    pub(super) async fn exports_in_use(&mut self, spec: &StackSpec) -> Res<Vec<KeptExport>> {
        let client = self.client(&spec.region).await?;
        let live = client
            .describe_stack(&spec.name)
            .await?
            .filter(|d| d.status != "REVIEW_IN_PROGRESS");
        let Some(info) = live else {
            return Ok(Vec::new());
        };
        let old = client.get_template(&spec.name).await?;
        let new_names = export_names(&spec.template);
        let dropped: BTreeMap<String, String> = export_names(&old)
            .into_iter()
            .filter(|(n, _)| !new_names.contains_key(n))
            .collect();
        if dropped.is_empty() {
            return Ok(Vec::new());
        }
        let others: Vec<StackSpec> = self
            .stacks
            .iter()
            .filter(|s| s.name != spec.name && s.region == spec.region)
            .cloned()
            .collect();
        let mut importers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for other in others {
            let deployed = client
                .describe_stack(&other.name)
                .await?
                .filter(|d| d.status != "REVIEW_IN_PROGRESS");
            if deployed.is_none() {
                continue;
            }
            let t = client.get_template(&other.name).await?;
            for name in imports(&t) {
                if dropped.contains_key(&name) {
                    importers.entry(name).or_default().push(other.name.clone());
                }
            }
        }
        let mut out = Vec::new();
        for (name, who) in importers {
            let output = dropped[&name].clone();
            let mut definition = old
                .pointer(&format!("/Outputs/{output}"))
                .cloned()
                .unwrap_or_else(|| json!({"Export": {"Name": name}}));
            let value_ok = definition
                .get("Value")
                .is_some_and(|v| resolves_in(v, &spec.template));
            if !value_ok {
                if let (Some(v), Some(d)) = (info.outputs.get(&output), definition.as_object_mut())
                {
                    d.insert("Value".into(), json!(v));
                }
            }
            out.push(KeptExport {
                name,
                output,
                definition,
                importers: who,
            });
        }
        Ok(out)
    }

    /// Swaps in `name`'s template with its kept exports added back (and
    /// says so); returns the original spec to restore after the deployment.
    pub(super) async fn deploy_keeping_exports(
        &mut self,
        ui: &mut dyn Sink,
        name: &str,
        selected: &[String],
        kept: &[KeptExport],
    ) -> Res<Option<StackSpec>> {
        let Some(pos) = self.stacks.iter().position(|s| s.name == name) else {
            return Ok(None);
        };
        let original = self.stacks[pos].clone();
        let later = kept
            .iter()
            .all(|k| k.importers.iter().all(|i| selected.contains(i)));
        for k in kept {
            ui.line(&describe(name, k, later));
        }
        let template = with_kept(&original.template, kept);
        let mut augmented = original.clone();
        augmented.body = template.to_string();
        augmented.template = template;
        self.stacks[pos] = augmented;
        Ok(Some(original))
    }

    /// Puts back the stack's own template after a deployment with kept
    /// exports.
    pub(super) fn restore(&mut self, original: StackSpec) {
        if let Some(s) = self.stacks.iter_mut().find(|s| s.name == original.name) {
            *s = original;
        }
    }

    /// `diff`'s words for the exports a deployment would keep.
    pub(super) async fn diff_kept_exports(&mut self, ui: &mut dyn Sink, spec: &StackSpec) -> Res {
        let names: Vec<String> = self.stacks.iter().map(|s| s.name.clone()).collect();
        for k in self.exports_in_use(spec).await? {
            let later = k.importers.iter().all(|i| names.contains(i));
            ui.line(&describe(&spec.name, &k, later));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exports_and_imports() {
        let t = json!({"Outputs": {"A": {"Value": "x", "Export": {"Name": "s:A"}}, "B": {"Value": "y"}},
                       "Resources": {"R": {"Properties": {"P": [{"Fn::ImportValue": "o:X"}]}}}});
        assert_eq!(
            export_names(&t),
            BTreeMap::from([("s:A".to_string(), "A".to_string())])
        );
        assert_eq!(imports(&t), BTreeSet::from(["o:X".to_string()]));
    }

    #[test]
    fn kept_exports_are_added_back_and_marked() {
        let new = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}});
        let kept = vec![KeptExport {
            name: "p:Topic".into(),
            output: "ExportTopic".into(),
            definition: json!({"Value": {"Ref": "Topic"}, "Export": {"Name": "p:Topic"}}),
            importers: vec!["c".into()],
        }];
        let t = with_kept(&new, &kept);
        assert_eq!(t["Outputs"]["ExportTopic"]["Export"]["Name"], "p:Topic");
        assert_eq!(
            t["Metadata"][RETAINED_EXPORTS_KEY]["p:Topic"],
            "imported by c; removed once no stack imports it"
        );
        assert!(resolves_in(&json!({"Ref": "Topic"}), &new));
        assert!(!resolves_in(&json!({"Fn::GetAtt": ["Gone", "Arn"]}), &new));
        assert_eq!(
            describe("p", &kept[0], true),
            "p: export \"p:Topic\" (output ExportTopic) is gone from the template but c still import(s) it; the deployment keeps it until c is updated without the import, then removes it in a second step (no deadly embrace)"
        );
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn producer(exported: bool) -> Value {
        let mut t = json!({"Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "t"}},
            "Other": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "o"}}},
            "Outputs": {"ExportOther": {"Value": {"Ref": "Other"}, "Export": {"Name": "p:Other"}}}});
        if exported {
            t["Outputs"]["ExportTopic"] =
                json!({"Value": {"Ref": "Topic"}, "Export": {"Name": "p:Topic"}});
        }
        t
    }

    fn consumer(importing: bool) -> Value {
        let mut t = json!({"Resources": {
            "Keep": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::ImportValue": "p:Other"}}},
            "Mirror": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "m"}}}});
        if importing {
            t["Resources"]["Mirror"]["Properties"]["DisplayName"] =
                json!({"Fn::ImportValue": "p:Topic"});
        }
        t
    }

    /// The sequence over the in-memory fake: producer with the export kept
    /// (and marked), consumer without the import, producer again. (The
    /// fake computes changes from resources only, so the second step, which
    /// changes outputs only, is "no changes" there and the kept export is
    /// still visible afterwards; moto executes it, see
    /// `tests/tests/deploy_cross_stack.rs`.)
    #[test]
    fn a_dropped_export_in_use_is_kept_then_removed_in_a_second_step() {
        use crate::deploy::engine::{Cancel, DeployOptions, DriftMode, ParamInput};
        use crate::deploy::fake::{FakeCloud, Transcript};
        let cloud = FakeCloud::new();
        cloud.put_stack("us-east-1", "p", producer(true), "CREATE_COMPLETE");
        cloud.put_stack("us-east-1", "c", consumer(true), "CREATE_COMPLETE");
        let mut new_producer = producer(false);
        new_producer["Resources"]["Topic"]["Properties"]["DisplayName"] = json!("t2");
        let specs = vec![
            StackSpec::new("p", "us-east-1", new_producer),
            StackSpec::new("c", "us-east-1", consumer(false)),
        ];
        let mut engine = Engine::new(specs, cloud.clone(), Cancel::new());
        engine.poll = std::time::Duration::ZERO;
        let mut out = Transcript::default();
        let opts = DeployOptions {
            drift: DriftMode::Skip,
            ..DeployOptions::default()
        };
        let result = block_on(engine.deploy(&mut out, &[], &opts, &ParamInput::default()));
        let text = out.text();
        assert!(result.is_ok(), "{result:?}\n{text}");
        let executed = cloud.calls_of("ExecuteChangeSet");
        assert_eq!(
            executed,
            ["ExecuteChangeSet p", "ExecuteChangeSet c"],
            "{text}"
        );
        let planned = cloud.calls_of("CreateChangeSet");
        assert_eq!(
            planned,
            [
                "CreateChangeSet p UPDATE",
                "CreateChangeSet c UPDATE",
                "CreateChangeSet p UPDATE"
            ],
            "{text}"
        );
        assert!(text.contains("p: export \"p:Topic\" (output ExportTopic) is gone from the template but c still import(s) it"), "{text}");
        let second = text
            .find("p: second step: removing export(s) p:Topic, which no stack of the app imports any more")
            .expect("the second step is announced");
        assert!(
            text.find("Stack c (us-east-1): update")
                .is_some_and(|c| c < second),
            "{text}"
        );
        // What the first step deployed: the kept export, marked.
        let p = cloud.stack("us-east-1", "p").expect("p");
        assert_eq!(
            p.template["Outputs"]["ExportTopic"]["Export"]["Name"],
            "p:Topic"
        );
        assert_eq!(
            p.template["Metadata"][RETAINED_EXPORTS_KEY]["p:Topic"],
            "imported by c; removed once no stack imports it"
        );
        assert_eq!(
            p.template["Resources"]["Topic"]["Properties"]["DisplayName"],
            "t2"
        );
        let c = cloud.stack("us-east-1", "c").expect("c");
        assert_eq!(c.template, consumer(false));
    }

    #[test]
    fn an_export_nobody_imports_goes_at_once() {
        use crate::deploy::engine::{Cancel, DeployOptions, DriftMode, ParamInput};
        use crate::deploy::fake::{FakeCloud, Transcript};
        let cloud = FakeCloud::new();
        cloud.put_stack("us-east-1", "p", producer(true), "CREATE_COMPLETE");
        cloud.put_stack("us-east-1", "c", consumer(false), "CREATE_COMPLETE");
        let mut new_producer = producer(false);
        new_producer["Resources"]["Topic"]["Properties"]["DisplayName"] = json!("t2");
        let specs = vec![
            StackSpec::new("p", "us-east-1", new_producer.clone()),
            StackSpec::new("c", "us-east-1", consumer(false)),
        ];
        let mut engine = Engine::new(specs, cloud.clone(), Cancel::new());
        engine.poll = std::time::Duration::ZERO;
        let mut out = Transcript::default();
        let opts = DeployOptions {
            drift: DriftMode::Skip,
            ..DeployOptions::default()
        };
        let result = block_on(engine.deploy(&mut out, &[], &opts, &ParamInput::default()));
        assert!(result.is_ok(), "{result:?}\n{}", out.text());
        assert_eq!(
            cloud.calls_of("ExecuteChangeSet"),
            ["ExecuteChangeSet p"],
            "{}",
            out.text()
        );
        assert!(!out.text().contains("second step"));
        let p = cloud.stack("us-east-1", "p").expect("p");
        assert_eq!(p.template, new_producer, "nothing kept");
    }
}
