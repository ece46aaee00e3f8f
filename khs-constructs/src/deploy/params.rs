//! Stack parameters: from a file and `--parameter KEY=VALUE` flags, resolved
//! against the template's declarations and the deployed stack's values.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// How one declared parameter is passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A value given by the user.
    Value(String),
    /// Not given: keep the deployed stack's value.
    UsePrevious,
    /// Not given: the template's default applies.
    Default,
}

/// The parameters of one stack deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Every declared parameter with how it is passed.
    pub values: BTreeMap<String, Resolution>,
    /// Parameters whose value differs from the deployed one.
    pub changed: BTreeSet<String>,
    /// Declared parameters with no value, no deployed value and no default.
    pub missing: Vec<String>,
}

/// The template metadata key listing the parameters filled from other
/// stacks' outputs at deploy time (written, for example, by the edge
/// construct for the us-east-1 certificate of a stage in another region):
/// `{"Param": {"Stack": "…", "Region": "…", "Output": "…"}}`.
pub const PARAMETER_SOURCES_KEY: &str = "khs:parameter-sources";

/// Where a parameter's value comes from: an output of another stack.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterSource {
    /// The stack holding the output.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// The output's logical id.
    pub output: String,
}

/// The parameters of a template (JSON) to fill from other stacks' outputs,
/// from its [`PARAMETER_SOURCES_KEY`] metadata (empty when none).
pub fn parameter_sources(template: &Value) -> BTreeMap<String, ParameterSource> {
    template
        .get("Metadata")
        .and_then(|m| m.get(PARAMETER_SOURCES_KEY))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Reads a parameters file: a JSON object `{"Key": "Value", …}` or the AWS
/// CLI's list `[{"ParameterKey": "Key", "ParameterValue": "Value"}, …]`.
/// Numbers and booleans are taken as their text.
pub fn load_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the parameters file: {e}", path.display()))?;
    parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a parameters file (see [`load_file`]).
pub fn parse_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let scalar = |k: &str, v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "parameter {k} must be a string, number or boolean, got {other}"
        )),
    };
    let mut out = BTreeMap::new();
    match &v {
        Value::Object(o) => {
            for (k, v) in o {
                out.insert(k.clone(), scalar(k, v)?);
            }
        }
        Value::Array(a) => {
            for item in a {
                let k = item
                    .get("ParameterKey")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("each list entry needs a ParameterKey, got {item}"))?;
                let v = item
                    .get("ParameterValue")
                    .ok_or_else(|| format!("parameter {k} needs a ParameterValue"))?;
                out.insert(k.to_string(), scalar(k, v)?);
            }
        }
        other => {
            return Err(format!(
                "must be an object {{\"Key\": \"Value\"}} or a list of {{\"ParameterKey\", \"ParameterValue\"}}, got {other}"
            ));
        }
    }
    Ok(out)
}

/// Parses `KEY=VALUE`.
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("--parameter must be KEY=VALUE, got {s:?}")),
    }
}

/// Resolves the parameters `template` declares: a given value wins, else the
/// deployed value is kept, else the template default applies; a parameter
/// with none of these is an error naming it. Given keys the template does not
/// declare are ignored (one file can serve several stacks).
pub fn resolve(
    stack: &str,
    template: &Value,
    given: &BTreeMap<String, String>,
    deployed: Option<&BTreeMap<String, String>>,
) -> Result<Resolved, String> {
    let out = resolve_partial(template, given, deployed);
    if !out.missing.is_empty() {
        let flags: Vec<String> = out
            .missing
            .iter()
            .map(|m| format!("--parameter {m}=VALUE"))
            .collect();
        return Err(format!(
            "{stack}: parameter(s) {} have no value and no default; pass {} or list them in --parameters FILE",
            out.missing.join(", "),
            flags.join(" ")
        ));
    }
    Ok(out)
}

/// Like [`resolve`], but parameters without a value are listed in
/// [`Resolved::missing`] instead of failing (enough for an offline diff).
pub fn resolve_partial(
    template: &Value,
    given: &BTreeMap<String, String>,
    deployed: Option<&BTreeMap<String, String>>,
) -> Resolved {
    let mut out = Resolved::default();
    let mut missing = Vec::new();
    let declared = template.get("Parameters").and_then(Value::as_object);
    for (name, decl) in declared.into_iter().flatten() {
        let previous = deployed.and_then(|d| d.get(name));
        let r = if let Some(v) = given.get(name) {
            if previous != Some(v) && deployed.is_some() {
                out.changed.insert(name.clone());
            }
            Resolution::Value(v.clone())
        } else if previous.is_some() {
            Resolution::UsePrevious
        } else if decl.get("Default").is_some() {
            Resolution::Default
        } else {
            missing.push(name.clone());
            continue;
        };
        out.values.insert(name.clone(), r);
    }
    out.missing = missing;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sources_come_from_the_template_metadata() {
        let t = serde_json::json!({"Metadata": {"khs:parameter-sources": {
            "EdgeCertificateArn": {"Stack": "app-edge", "Region": "us-east-1", "Output": "EdgeCertificateArn"}}}});
        let s = parameter_sources(&t);
        assert_eq!(s["EdgeCertificateArn"].stack, "app-edge");
        assert_eq!(s["EdgeCertificateArn"].region, "us-east-1");
        assert!(parameter_sources(&serde_json::json!({})).is_empty());
    }
    use serde_json::json;

    fn template() -> Value {
        json!({"Parameters": {
            "ImageTag": {"Type": "String"},
            "CertificateArn": {"Type": "String"},
            "DesiredCount": {"Type": "Number", "Default": "2"}}})
    }

    #[test]
    fn files_take_objects_and_aws_cli_lists() {
        let a = parse_file(r#"{"ImageTag": "v1", "DesiredCount": 3}"#).unwrap();
        assert_eq!(a["DesiredCount"], "3");
        let b = parse_file(r#"[{"ParameterKey": "ImageTag", "ParameterValue": "v1"}]"#).unwrap();
        assert_eq!(b["ImageTag"], "v1");
        assert!(parse_file("[1]").unwrap_err().contains("ParameterKey"));
        assert!(
            parse_file(r#"{"A": [1]}"#)
                .unwrap_err()
                .contains("parameter A must be")
        );
    }

    #[test]
    fn assignments() {
        assert_eq!(
            parse_assignment("A=b=c").unwrap(),
            ("A".into(), "b=c".into())
        );
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("novalue").is_err());
    }

    #[test]
    fn new_stack_needs_values_without_defaults() {
        let given: BTreeMap<String, String> = [("ImageTag".into(), "v1".into())].into();
        let e = resolve("app", &template(), &given, None).unwrap_err();
        assert!(e.contains("app: parameter(s) CertificateArn"), "{e}");
        assert!(e.contains("--parameter CertificateArn=VALUE"), "{e}");
    }

    #[test]
    fn update_keeps_previous_values_and_reports_changes() {
        let deployed: BTreeMap<String, String> = [
            ("ImageTag".into(), "v1".into()),
            ("CertificateArn".into(), "arn".into()),
        ]
        .into();
        let given: BTreeMap<String, String> = [
            ("ImageTag".into(), "v2".into()),
            ("Unrelated".into(), "x".into()),
        ]
        .into();
        let r = resolve("app", &template(), &given, Some(&deployed)).unwrap();
        assert_eq!(r.values["ImageTag"], Resolution::Value("v2".into()));
        assert_eq!(r.values["CertificateArn"], Resolution::UsePrevious);
        assert_eq!(r.values["DesiredCount"], Resolution::Default);
        assert_eq!(r.changed, ["ImageTag".to_string()].into());
    }
}
