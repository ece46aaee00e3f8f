//! Template validation run at synthesis: every reference resolves and the
//! template stays within CloudFormation's quotas. A template that fails here
//! is never written.

use std::collections::BTreeSet;

use super::error::{Error, Result};
use super::intrinsic::Pseudo;
use super::template::Template;

/// CloudFormation quota: resources per template.
pub const MAX_RESOURCES: usize = 500;
/// CloudFormation quota: parameters per template.
pub const MAX_PARAMETERS: usize = 200;
/// CloudFormation quota: outputs per template.
pub const MAX_OUTPUTS: usize = 200;
/// CloudFormation quota: bytes of a template body uploaded through S3.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// CloudFormation quota: bytes of a template description.
pub const MAX_DESCRIPTION_BYTES: usize = 1024;

/// Validates a whole template of stack `stack`.
pub fn template(stack: &str, t: &Template) -> Result<()> {
    let limit = |what: &str, got: usize, max: usize| -> Result<()> {
        if got > max {
            return Err(Error::LimitExceeded {
                stack: stack.to_string(),
                what: what.to_string(),
                got,
                max,
            });
        }
        Ok(())
    };
    limit("the number of resources", t.resources.len(), MAX_RESOURCES)?;
    limit(
        "the number of parameters",
        t.parameters.len(),
        MAX_PARAMETERS,
    )?;
    limit("the number of outputs", t.outputs.len(), MAX_OUTPUTS)?;
    if let Some(d) = &t.description {
        limit(
            "the description's length in bytes",
            d.len(),
            MAX_DESCRIPTION_BYTES,
        )?;
    }

    let resources: BTreeSet<&str> = t.resources.keys().map(String::as_str).collect();
    let names: BTreeSet<&str> = resources
        .iter()
        .copied()
        .chain(t.parameters.keys().map(String::as_str))
        .collect();
    let conditions: BTreeSet<&str> = t.conditions.keys().map(String::as_str).collect();
    let dangling = |holder: &str, target: &str| Error::DanglingReference {
        stack: stack.to_string(),
        logical_id: holder.to_string(),
        target: target.to_string(),
    };

    for (id, entry) in &t.resources {
        for d in &entry.depends_on {
            if !resources.contains(d.as_str()) {
                return Err(dangling(id, d));
            }
        }
        if let Some(c) = &entry.condition {
            if !conditions.contains(c.as_str()) {
                return Err(dangling(id, c));
            }
        }
        check_refs(&entry.properties, &names, &resources, &conditions)
            .map_err(|target| dangling(id, &target))?;
    }
    for (id, output) in &t.outputs {
        let v = serde_json::to_value(output).unwrap_or_default();
        check_refs(&v, &names, &resources, &conditions)
            .map_err(|target| dangling(&format!("Outputs.{id}"), &target))?;
    }
    Ok(())
}

/// Walks a JSON value and returns the first reference that does not resolve.
fn check_refs(
    v: &serde_json::Value,
    names: &BTreeSet<&str>,
    resources: &BTreeSet<&str>,
    conditions: &BTreeSet<&str>,
) -> std::result::Result<(), String> {
    use serde_json::Value as J;
    match v {
        J::Array(items) => items
            .iter()
            .try_for_each(|i| check_refs(i, names, resources, conditions)),
        J::Object(map) => {
            if let (1, Some((k, arg))) = (map.len(), map.iter().next()) {
                match (k.as_str(), arg) {
                    ("Ref", J::String(n)) => {
                        if !names.contains(n.as_str()) && !Pseudo::is_pseudo(n) {
                            return Err(n.clone());
                        }
                        return Ok(());
                    }
                    ("Fn::GetAtt", J::Array(a)) => {
                        if let Some(J::String(n)) = a.first() {
                            if !resources.contains(n.as_str()) {
                                return Err(n.clone());
                            }
                        }
                    }
                    ("Fn::Sub", s) => {
                        let (text, vars) = match s {
                            J::String(t) => (t.as_str(), None),
                            J::Array(a) => (
                                a.first().and_then(|t| t.as_str()).unwrap_or_default(),
                                a.get(1).and_then(|m| m.as_object()),
                            ),
                            _ => ("", None),
                        };
                        for var in sub_variables(text) {
                            let base = var.split('.').next().unwrap_or_default();
                            let known = vars.is_some_and(|m| m.contains_key(var))
                                || names.contains(base)
                                || Pseudo::is_pseudo(var);
                            if !known {
                                return Err(var.to_string());
                            }
                        }
                    }
                    ("Fn::If", J::Array(a)) => {
                        if let Some(J::String(c)) = a.first() {
                            if !conditions.contains(c.as_str()) {
                                return Err(c.clone());
                            }
                        }
                    }
                    ("Condition", J::String(c)) if !conditions.contains(c.as_str()) => {
                        return Err(c.clone());
                    }
                    _ => {}
                }
            }
            map.values()
                .try_for_each(|i| check_refs(i, names, resources, conditions))
        }
        _ => Ok(()),
    }
}

/// The `${Name}` variables of a `Fn::Sub` string (`${!Literal}` excluded).
pub fn sub_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            out.push(var);
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::ResourceEntry;
    use serde_json::json;

    fn with(props: serde_json::Value) -> Template {
        let mut t = Template::default();
        for id in ["A", "B"] {
            t.resources.insert(
                id.into(),
                ResourceEntry {
                    type_name: "AWS::SNS::Topic".into(),
                    condition: None,
                    depends_on: vec![],
                    deletion_policy: None,
                    update_replace_policy: None,
                    metadata: None,
                    properties: json!({}),
                },
            );
        }
        t.resources.get_mut("B").unwrap().properties = props;
        t
    }

    #[test]
    fn accepts_resolvable_references() {
        template(
            "s",
            &with(
                json!({"X": {"Ref": "A"}, "Y": {"Fn::GetAtt": ["A", "TopicArn"]},
            "Z": {"Fn::Sub": "${A}-${AWS::Region}-${A.TopicName}-${!Literal}"},
            "W": {"Fn::Sub": ["${V}", {"V": "x"}]}}),
            ),
        )
        .unwrap();
    }

    #[test]
    fn fails_when_a_reference_dangles() {
        for props in [
            json!({"X": {"Ref": "Nope"}}),
            json!({"X": [{"Fn::GetAtt": ["Nope", "Arn"]}]}),
            json!({"X": {"Fn::Sub": "${Nope}"}}),
            json!({"X": {"Fn::If": ["NoCondition", 1, 2]}}),
        ] {
            let e = template("s", &with(props)).unwrap_err();
            assert!(
                matches!(e, Error::DanglingReference { ref logical_id, .. } if logical_id == "B"),
                "{e}"
            );
        }
        let e = template("s", &with(json!({"X": {"Ref": "Nope"}}))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s: resource B refers to \"Nope\", which is not a resource, parameter or pseudo parameter of this stack"
        );
    }

    #[test]
    fn fails_when_depends_on_dangles() {
        let mut t = with(json!({}));
        t.resources.get_mut("B").unwrap().depends_on = vec!["C".into()];
        assert!(template("s", &t).is_err());
    }
}
