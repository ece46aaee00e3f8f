//! Declared renames (moves) of resources, like Terraform's `moved` blocks.
//!
//! A resource declares its previous logical id in its template metadata,
//! `"Metadata": {"khs:moved-from": "OldLogicalId"}` (written by
//! `Stack::declare_moved`). When the deployed template still has the old id
//! and not the new one, the deployment first runs a CloudFormation stack
//! refactor that renames the resource in place (it keeps its physical
//! identity and its data), then the change set. Pure functions; the engine
//! calls the port.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diff::{TemplateDiff, diff_templates};
use super::port::{RefactorRequest, ResourceMove};

/// The resource metadata key naming a resource's previous logical id.
pub const MOVED_FROM_KEY: &str = crate::core::stack::MOVED_FROM_METADATA_KEY;

/// One declared move within a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The logical id in the deployed template.
    pub from: String,
    /// The logical id in the new template.
    pub to: String,
}

/// The moves declared in `new` that still apply to the deployed `old`
/// template: the old id is deployed, the new id is not.
pub fn declared(old: &Value, new: &Value) -> Vec<Move> {
    let old_res = old.get("Resources").and_then(Value::as_object);
    let new_res = new.get("Resources").and_then(Value::as_object);
    let (Some(old_res), Some(new_res)) = (old_res, new_res) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (to, entry) in new_res {
        let Some(from) = entry
            .get("Metadata")
            .and_then(|m| m.get(MOVED_FROM_KEY))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let same_type = old_res.get(from).and_then(|e| e.get("Type")) == entry.get("Type");
        if old_res.contains_key(from)
            && !old_res.contains_key(to)
            && !new_res.contains_key(from)
            && same_type
        {
            out.push(Move {
                from: from.to_string(),
                to: to.clone(),
            });
        }
    }
    out
}

/// `template` with each move's resource renamed, and every reference to it
/// (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `DependsOn`) rewritten: the template a
/// stack refactor deploys (nothing changes but the ids).
pub fn apply(template: &Value, moves: &[Move]) -> Value {
    let map: BTreeMap<&str, &str> = moves
        .iter()
        .map(|m| (m.from.as_str(), m.to.as_str()))
        .collect();
    let mut t = template.clone();
    if let Some(res) = t.get_mut("Resources").and_then(Value::as_object_mut) {
        let old: Vec<(String, Value)> = std::mem::take(res).into_iter().collect();
        for (id, entry) in old {
            let id = map.get(id.as_str()).map(|s| s.to_string()).unwrap_or(id);
            res.insert(id, entry);
        }
    }
    rewrite(&mut t, &map);
    t
}

fn rewrite(v: &mut Value, map: &BTreeMap<&str, &str>) {
    match v {
        Value::Object(o) => {
            if o.len() == 1 {
                if let Some(Value::String(target)) = o.get_mut("Ref") {
                    if let Some(new) = map.get(target.as_str()) {
                        *target = new.to_string();
                    }
                    return;
                }
                if let Some(Value::Array(args)) = o.get_mut("Fn::GetAtt") {
                    if let Some(Value::String(target)) = args.first_mut() {
                        if let Some(new) = map.get(target.as_str()) {
                            *target = new.to_string();
                        }
                    }
                }
                if let Some(Value::String(s)) = o.get_mut("Fn::GetAtt") {
                    if let Some((target, attr)) = s.split_once('.') {
                        if let Some(new) = map.get(target) {
                            *s = format!("{new}.{attr}");
                        }
                    }
                }
                let sub = o.get_mut("Fn::Sub");
                let text = match sub {
                    Some(Value::String(s)) => Some(s),
                    Some(Value::Array(a)) => match a.first_mut() {
                        Some(Value::String(s)) => Some(s),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(s) = text {
                    for (old, new) in map {
                        *s = s
                            .replace(&format!("${{{old}}}"), &format!("${{{new}}}"))
                            .replace(&format!("${{{old}."), &format!("${{{new}."));
                    }
                }
            }
            if let Some(d) = o.get_mut("DependsOn") {
                match d {
                    Value::String(s) => {
                        if let Some(new) = map.get(s.as_str()) {
                            *s = new.to_string();
                        }
                    }
                    Value::Array(a) => {
                        for x in a {
                            if let Value::String(s) = x {
                                if let Some(new) = map.get(s.as_str()) {
                                    *s = new.to_string();
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (_, x) in o.iter_mut() {
                rewrite(x, map);
            }
        }
        Value::Array(a) => {
            for x in a {
                rewrite(x, map);
            }
        }
        _ => {}
    }
}

/// The diff of `new` against the deployed `old` with the declared moves
/// applied first: a moved resource shows as renamed (in
/// [`TemplateDiff::moved`]), not as removed and added.
pub fn diff_with_moves(
    old: Option<&Value>,
    new: &Value,
    changed_parameters: &BTreeSet<String>,
) -> TemplateDiff {
    let Some(old) = old else {
        return diff_templates(None, new, changed_parameters);
    };
    let moves = declared(old, new);
    if moves.is_empty() {
        return diff_templates(Some(old), new, changed_parameters);
    }
    let moved = apply(old, &moves);
    let mut d = diff_templates(Some(&moved), new, changed_parameters);
    d.moved = moves
        .into_iter()
        .map(|m| super::diff::Moved {
            from: m.from,
            to: m.to,
        })
        .collect();
    d
}

/// The stack refactor renaming `moves` in the deployed `old` template of
/// `stack`.
pub fn request(stack: &str, old: &Value, moves: &[Move]) -> Result<RefactorRequest, String> {
    let body = serde_json::to_string(&apply(old, moves))
        .map_err(|e| format!("{stack}: cannot write the refactor template: {e}"))?;
    Ok(RefactorRequest {
        templates: [(stack.to_string(), body)].into(),
        moves: moves
            .iter()
            .map(|m| ResourceMove {
                from_stack: stack.to_string(),
                from_id: m.from.clone(),
                to_stack: stack.to_string(),
                to_id: m.to.clone(),
            })
            .collect(),
        create_stacks: false,
    })
}

/// A declared move of a resource from another stack of the app
/// (`"khs:moved-from": "other-stack/OldId"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossMove {
    /// The stack the resource is deployed in.
    pub from_stack: String,
    /// Its logical id there.
    pub from_id: String,
    /// The stack whose template now declares it.
    pub to_stack: String,
    /// Its logical id there.
    pub to_id: String,
}

impl CrossMove {
    /// Whether it still applies: the source stack's deployed template has
    /// the resource and the destination's (if deployed) does not.
    pub fn pending(&self, from_deployed: Option<&Value>, to_deployed: Option<&Value>) -> bool {
        let has = |t: Option<&Value>, id: &str| {
            t.and_then(|t| t.get("Resources"))
                .and_then(|r| r.get(id))
                .is_some()
        };
        has(from_deployed, &self.from_id) && !has(to_deployed, &self.to_id)
    }
}

/// The cross-stack moves declared in the app's local templates, by stack
/// name.
pub fn declared_cross<'a>(
    locals: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Vec<CrossMove> {
    let mut out = Vec::new();
    for (stack, template) in locals {
        let Some(res) = template.get("Resources").and_then(Value::as_object) else {
            continue;
        };
        for (to, entry) in res {
            let Some((from_stack, from_id)) = entry
                .get("Metadata")
                .and_then(|m| m.get(MOVED_FROM_KEY))
                .and_then(Value::as_str)
                .and_then(|v| v.split_once('/'))
            else {
                continue;
            };
            if from_stack != stack {
                out.push(CrossMove {
                    from_stack: from_stack.to_string(),
                    from_id: from_id.to_string(),
                    to_stack: stack.to_string(),
                    to_id: to.clone(),
                });
            }
        }
    }
    out
}

fn refs_of(entry: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for key in ["Properties", "Condition"] {
        if let Some(v) = entry.get(key) {
            super::guard::references(v, &mut out);
        }
    }
    if let Some(d) = entry.get("DependsOn") {
        match d {
            Value::String(s) => {
                out.insert(s.clone());
            }
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            _ => {}
        }
    }
    out
}

/// The two templates after a cross-stack move: `from` without the
/// resource, `to` (an empty template when the stack does not exist yet)
/// with it. A resource that something else in its old stack refers to, or
/// that refers to something of its old stack, cannot move: the error says
/// which.
pub fn apply_cross(
    m: &CrossMove,
    from: &Value,
    to: Option<&Value>,
) -> Result<(Value, Value), String> {
    let entry = from
        .get("Resources")
        .and_then(|r| r.get(&m.from_id))
        .cloned()
        .ok_or_else(|| {
            format!(
                "{}: no resource {} to move to {}",
                m.from_stack, m.from_id, m.to_stack
            )
        })?;
    let mut from_after = from.clone();
    if let Some(res) = from_after
        .get_mut("Resources")
        .and_then(Value::as_object_mut)
    {
        res.remove(&m.from_id);
        let users: Vec<&String> = res
            .iter()
            .filter(|(_, e)| refs_of(e).contains(&m.from_id))
            .map(|(k, _)| k)
            .collect();
        if !users.is_empty() {
            return Err(format!(
                "{}: {} cannot move to {}: {} of {} still refer(s) to it; pass what they need \
                 through an output and a parameter first, or move them too",
                m.from_stack,
                m.from_id,
                m.to_stack,
                users
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                m.from_stack
            ));
        }
        let needs: Vec<String> = refs_of(&entry)
            .into_iter()
            .filter(|r| {
                res.contains_key(r) || from.get("Parameters").and_then(|p| p.get(r)).is_some()
            })
            .collect();
        if !needs.is_empty() {
            return Err(format!(
                "{}: {} cannot move to {}: it refers to {} of {}, which stay(s) there",
                m.from_stack,
                m.from_id,
                m.to_stack,
                needs.join(", "),
                m.from_stack
            ));
        }
    }
    let outputs: Vec<String> = from
        .get("Outputs")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter(|(_, v)| {
                    refs_of(&serde_json::json!({"Properties": v})).contains(&m.from_id)
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    if !outputs.is_empty() {
        return Err(format!(
            "{}: {} cannot move to {}: output(s) {} of {} refer to it; remove them in a \
             deployment of {} first",
            m.from_stack,
            m.from_id,
            m.to_stack,
            outputs.join(", "),
            m.from_stack,
            m.from_stack
        ));
    }
    let mut to_after = to.cloned().unwrap_or_else(
        || serde_json::json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}),
    );
    if let Some(res) = to_after.get_mut("Resources").and_then(Value::as_object_mut) {
        res.insert(m.to_id.clone(), entry);
    }
    Ok((from_after, to_after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn old() -> Value {
        json!({"Resources": {
            "DatabaseInstance": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "DatabaseInstance",
                "Properties": {"Dimensions": [{"Value": {"Ref": "DatabaseInstance"}}],
                    "AlarmDescription": {"Fn::Sub": "db ${DatabaseInstance} at ${DatabaseInstance.Endpoint.Address}"}}}},
            "Outputs": {"Endpoint": {"Value": {"Fn::GetAtt": ["DatabaseInstance", "Endpoint.Address"]}}}})
    }

    fn new() -> Value {
        json!({"Resources": {
            "MainDatabaseInstance": {"Type": "AWS::RDS::DBInstance",
                "Metadata": {"khs:moved-from": "DatabaseInstance"}, "Properties": {"Engine": "postgres"}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "MainDatabaseInstance",
                "Properties": {"Dimensions": [{"Value": {"Ref": "MainDatabaseInstance"}}],
                    "AlarmDescription": {"Fn::Sub": "db ${MainDatabaseInstance} at ${MainDatabaseInstance.Endpoint.Address}"}}}},
            "Outputs": {"Endpoint": {"Value": {"Fn::GetAtt": ["MainDatabaseInstance", "Endpoint.Address"]}}}})
    }

    #[test]
    fn a_declared_move_renames_the_resource_and_every_reference() {
        let m = declared(&old(), &new());
        assert_eq!(
            m,
            [Move {
                from: "DatabaseInstance".into(),
                to: "MainDatabaseInstance".into()
            }]
        );
        let moved = apply(&old(), &m);
        let mut expected = new();
        // The refactor template is the deployed one renamed: no metadata added.
        expected["Resources"]["MainDatabaseInstance"]
            .as_object_mut()
            .map(|o| o.remove("Metadata"));
        assert_eq!(moved, expected);
        let d = diff_with_moves(Some(&old()), &new(), &BTreeSet::new());
        assert_eq!(d.moved.len(), 1);
        // Only the metadata differs: no resource is added or removed.
        assert_eq!(d.counts().0, 0);
        assert_eq!(d.counts().2, 0);
    }

    #[test]
    fn a_move_already_done_or_of_another_type_is_not_declared_again() {
        let mut done = old();
        done["Resources"].as_object_mut().map(|r| {
            r.insert(
                "MainDatabaseInstance".into(),
                json!({"Type": "AWS::RDS::DBInstance"}),
            )
        });
        assert!(declared(&done, &new()).is_empty());
        let mut other = new();
        other["Resources"]["MainDatabaseInstance"]["Type"] = json!("AWS::S3::Bucket");
        assert!(declared(&old(), &other).is_empty());
    }

    #[test]
    fn the_request_names_both_ids_and_sends_the_renamed_template() {
        let m = declared(&old(), &new());
        let r = request("app", &old(), &m).unwrap();
        assert_eq!(r.moves[0].from_id, "DatabaseInstance");
        assert_eq!(r.moves[0].to_id, "MainDatabaseInstance");
        assert!(r.templates["app"].contains("\"MainDatabaseInstance\""));
        assert!(!r.templates["app"].contains("\"DatabaseInstance\""));
    }

    #[test]
    fn stack_declare_moved_writes_the_metadata_the_deploy_reads() {
        use crate::cfn::RawResource;
        use crate::core::scope::AsScope;
        use crate::core::stack::{Environment, Stack, StackProps};
        let mut stack =
            Stack::new("app", StackProps::new(Environment::region("us-west-2"))).unwrap();
        {
            let mut root = stack.as_scope();
            let mut db = root.child("MainDatabase").unwrap();
            db.add(
                "Instance",
                RawResource::new("AWS::SQS::Queue", json!({"SqsManagedSseEnabled": true})),
            )
            .unwrap();
        }
        stack
            .declare_moved("MainDatabase/Instance", "DatabaseInstance")
            .unwrap();
        let t = serde_json::to_value(stack.synth().unwrap()).unwrap();
        let entry = &t["Resources"]["MainDatabaseInstance"];
        assert_eq!(entry["Metadata"]["khs:moved-from"], "DatabaseInstance");
        assert_eq!(entry["Metadata"]["khs:path"], "app/MainDatabase/Instance");
        let old = json!({"Resources": {"DatabaseInstance": {"Type": "AWS::SQS::Queue"}}});
        assert_eq!(declared(&old, &t).len(), 1);
        // Errors name the stack or path, what was received and what is allowed.
        let e = stack
            .declare_moved("Nope/Instance", "X")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("app"), "{e}");
        assert!(e.contains("no resource at \"Nope/Instance\""), "{e}");
        let e = stack
            .declare_moved("app/MainDatabase/Instance", "Old-Id")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("app/app/MainDatabase/Instance") || e.starts_with("app/"),
            "{e}"
        );
        assert!(e.contains("got \"Old-Id\""), "{e}");
        // From another stack of the app: recorded with the stack's name.
        stack
            .declare_moved("MainDatabase/Instance", "app-data/DatabaseInstance")
            .unwrap();
        let t = serde_json::to_value(stack.synth().unwrap()).unwrap();
        assert_eq!(
            t["Resources"]["MainDatabaseInstance"]["Metadata"]["khs:moved-from"],
            "app-data/DatabaseInstance"
        );
        let cross = declared_cross([("app", &t)]);
        assert_eq!(cross[0].from_stack, "app-data");
        assert_eq!(cross[0].to_id, "MainDatabaseInstance");
        assert!(
            stack
                .declare_moved("MainDatabase/Instance", "bad stack/X")
                .is_err()
        );
    }
}
