//! The CloudFormation template model.
//!
//! Maps are `BTreeMap`s, so a template always serializes in the same order;
//! [`Template::to_pretty_json`] pretty-prints with a trailing newline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::intrinsic::Expr;
pub use super::json_text::JsonText;

/// The template format version every template declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// A CloudFormation template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    /// Always `2010-09-09`.
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: String,
    /// Macros CloudFormation runs on the template before it is processed
    /// (`AWS::SecretsManager-2020-07-23` for hosted secret rotation).
    /// Serialized as one string when there is one, a list otherwise.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "one_or_many",
        deserialize_with = "de_one_or_many"
    )]
    pub transform: Vec<String>,
    /// The description shown in the console (at most 1024 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Template metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Input parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// Static lookup tables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mappings: BTreeMap<String, serde_json::Value>,
    /// Named conditions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Expr>,
    /// The resources, by logical id.
    pub resources: BTreeMap<String, ResourceEntry>,
    /// Stack outputs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Output>,
}

impl Default for Template {
    fn default() -> Self {
        Template {
            format_version: FORMAT_VERSION.to_string(),
            transform: Vec::new(),
            description: None,
            metadata: BTreeMap::new(),
            parameters: BTreeMap::new(),
            mappings: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

impl Template {
    /// Pretty-printed JSON with a trailing newline: the form written to
    /// `synth-out/` and sent to CloudFormation.
    pub fn to_pretty_json(&self) -> serde_json::Result<String> {
        // Room for the usual size up front (about 1.2 KB a resource in the
        // KHS app), so that the text is not copied as it grows.
        let mut out = Vec::with_capacity(1024 + 1536 * self.resources.len());
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        // Properties and metadata are copied as text and indented by `Pretty`.
        super::json_text::with_raw_text(|| self.serialize(&mut serializer))?;
        out.push(b'\n');
        String::from_utf8(out).map_err(<serde_json::Error as serde::ser::Error>::custom)
    }
}

/// The layout of serde_json's `PrettyFormatter` (two spaces, `": "`, `[]`
/// and `{}` when empty), byte for byte, with each line's indentation
/// written at once rather than two spaces at a time.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A newline (after a comma when `comma`) and the current indentation.
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        const SPACES: &[u8; 128] = &[b' '; 128];
        w.write_all(if comma { b",\n" } else { b"\n" })?;
        let mut n = 2 * self.depth;
        while n > 0 {
            let step = n.min(SPACES.len());
            w.write_all(&SPACES[..step])?;
            n -= step;
        }
        Ok(())
    }

    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, c: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(c)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, c: &[u8]) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.line(w, false)?;
        }
        w.write_all(c)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, !first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    /// A [`JsonText`] (compact JSON without whitespace, as `serde_json`
    /// writes it): indented here as the formatter would have written the
    /// value, at the current depth. Strings are copied as they are (their
    /// escapes are the ones the formatter writes).
    fn write_raw_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        let depth = self.depth;
        // Bytes from `run` on are copied at the next structural character.
        let mut run = 0;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    // To the closing quote (past escaped characters).
                    i = super::json_scan::string_end(bytes, i).map_or(bytes.len(), |end| end - 1);
                }
                b'{' | b'[' => {
                    w.write_all(&bytes[run..i])?;
                    let close = if b == b'{' { b'}' } else { b']' };
                    if bytes.get(i + 1) == Some(&close) {
                        w.write_all(&[b, close])?;
                        i += 1;
                    } else {
                        w.write_all(&[b])?;
                        self.depth += 1;
                        self.line(w, false)?;
                    }
                    run = i + 1;
                }
                b'}' | b']' => {
                    w.write_all(&bytes[run..i])?;
                    self.depth = self.depth.saturating_sub(1);
                    self.line(w, false)?;
                    w.write_all(&[b])?;
                    run = i + 1;
                }
                b',' => {
                    w.write_all(&bytes[run..i])?;
                    self.line(w, true)?;
                    run = i + 1;
                }
                b':' => {
                    w.write_all(&bytes[run..i])?;
                    w.write_all(b": ")?;
                    run = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        w.write_all(bytes.get(run..).unwrap_or_default())?;
        self.depth = depth;
        Ok(())
    }
}

fn one_or_many<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    match v {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

fn de_one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// What CloudFormation does with a resource's physical resource when the
/// resource is deleted from the template or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DeletionPolicy {
    /// Delete it (CloudFormation's default for most types).
    Delete,
    /// Keep it, detached from the stack.
    Retain,
    /// Keep it unless the stack is deleted (updates only).
    RetainExceptOnCreate,
    /// Take a final snapshot, then delete it (RDS, ElastiCache, EBS, …).
    Snapshot,
}

/// One resource of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceEntry {
    /// The type name, e.g. `AWS::EC2::VPC`.
    #[serde(rename = "Type")]
    pub type_name: String,
    /// Condition under which the resource is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Explicit dependencies, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Deletion policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Update-replace policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<DeletionPolicy>,
    /// Resource metadata (the construct path is kept under `khs:path`).
    /// Held as compact JSON text, like the properties (see [`JsonText`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonText>,
    /// The properties, as the compact JSON text they are written from
    /// (read them as a `serde_json::Value`: `entry.properties["Name"]`; see
    /// [`JsonText`]).
    #[serde(default, skip_serializing_if = "JsonText::is_empty_object")]
    pub properties: JsonText,
}

impl ResourceEntry {
    /// A resource of type `type_name` with `properties` and nothing else
    /// set (no condition, dependencies, policies or metadata): for
    /// templates made by hand. Stacks make their entries in
    /// [`Scope::add`](super::scope::Scope::add).
    pub fn new(type_name: impl Into<String>, properties: impl Into<JsonText>) -> Self {
        ResourceEntry {
            type_name: type_name.into(),
            condition: None,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata: None,
            properties: properties.into(),
        }
    }
}

/// The type of a template parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterType {
    /// `String`.
    String,
    /// `Number`.
    Number,
    /// `CommaDelimitedList`.
    CommaDelimitedList,
    /// An AWS-specific type such as `AWS::EC2::VPC::Id`, or an SSM type.
    #[serde(untagged)]
    Other(String),
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// The type.
    #[serde(rename = "Type")]
    pub parameter_type: ParameterType,
    /// A description for the console and for `deploy --help` listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The only values accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    /// A regular expression values must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    /// Shown when a value is rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
    /// Minimum length of a string value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Maximum length of a string value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Mask the value in the console and API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_echo: Option<bool>,
}

impl Parameter {
    /// A `String` parameter with a description.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            parameter_type: ParameterType::String,
            description: Some(description.into()),
            default: None,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            constraint_description: None,
            min_length: None,
            max_length: None,
            no_echo: None,
        }
    }
}

/// A stack output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The value.
    pub value: Expr,
    /// Export under a name for `Fn::ImportValue` in other stacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    /// Condition under which the output exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Output {
    /// An output with a description and a value.
    pub fn new(description: impl Into<String>, value: impl Into<Expr>) -> Self {
        Output {
            description: Some(description.into()),
            value: value.into(),
            export: None,
            condition: None,
        }
    }

    /// The same output, exported under `name`.
    pub fn exported_as(mut self, name: impl Into<String>) -> Self {
        self.export = Some(Export {
            name: Expr::from(name.into()),
        });
        self
    }
}

/// An output's export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Export {
    /// The export name.
    pub name: Expr,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_is_serde_jsons_pretty_layout() {
        let deep = (0..70).fold(
            json!("leaf"),
            |v, i| json!({ format!("k{i}"): [v, {}, []] }),
        );
        let t = Template {
            metadata: [("Deep".to_string(), deep), ("Empty".to_string(), json!({}))]
                .into_iter()
                .collect(),
            ..Template::default()
        };
        let ours = t.to_pretty_json().unwrap();
        let theirs = serde_json::to_string_pretty(&t).unwrap() + "\n";
        assert_eq!(ours, theirs);
        assert!(
            ours.contains(&" ".repeat(140)),
            "deeper than one block of spaces"
        );
    }

    #[test]
    fn properties_held_as_text_print_as_their_tree_would() {
        let awkward = json!({
            "Text": "a, b: {c} [d] \"e\" \\ f\n\té 🙂 \u{1}",
            "Numbers": [0, -1, 1.5, 1e300, -2.5e-7, 18446744073709551615u64],
            "Empty": [{}, [], {"a": {}}, [[]]],
            "Deep": (0..50).fold(json!("leaf"), |v, i| json!({ format!("k{i}"): [v] })),
            "Literals": [true, false, null],
            "Ref": {"Ref": "X"}
        });
        let mut t = Template::default();
        for (id, props) in [("A", awkward), ("B", json!({})), ("C", json!({"One": 1}))] {
            let mut entry = ResourceEntry::new("AWS::SNS::Topic", props);
            entry.metadata = Some(json!({"khs:path": format!("s/{id}")}).into());
            t.resources.insert(id.into(), entry);
        }
        // The same template with its properties and metadata as trees (the
        // model before they were held as text), printed by serde_json.
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct TreeEntry {
            #[serde(rename = "Type")]
            type_name: String,
            metadata: serde_json::Value,
            #[serde(skip_serializing_if = "is_empty")]
            properties: serde_json::Value,
        }
        fn is_empty(v: &serde_json::Value) -> bool {
            v.as_object().is_some_and(serde_json::Map::is_empty)
        }
        #[derive(Serialize)]
        struct TreeTemplate {
            #[serde(rename = "AWSTemplateFormatVersion")]
            format_version: &'static str,
            #[serde(rename = "Resources")]
            resources: BTreeMap<String, TreeEntry>,
        }
        let tree = TreeTemplate {
            format_version: FORMAT_VERSION,
            resources: t
                .resources
                .iter()
                .map(|(id, e)| {
                    let entry = TreeEntry {
                        type_name: e.type_name.clone(),
                        metadata: e.metadata.as_ref().unwrap().to_value(),
                        properties: e.properties.to_value(),
                    };
                    (id.clone(), entry)
                })
                .collect(),
        };
        assert_eq!(
            t.to_pretty_json().unwrap(),
            serde_json::to_string_pretty(&tree).unwrap() + "\n"
        );
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        let back: Template = serde_json::from_str(&t.to_pretty_json().unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn serializes_in_template_order_with_trailing_newline() {
        let mut t = Template {
            description: Some("d".into()),
            ..Template::default()
        };
        t.resources.insert(
            "B".into(),
            ResourceEntry {
                type_name: "AWS::SNS::Topic".into(),
                condition: None,
                depends_on: vec!["A".into()],
                deletion_policy: Some(DeletionPolicy::Retain),
                update_replace_policy: Some(DeletionPolicy::Retain),
                metadata: None,
                properties: json!({}).into(),
            },
        );
        let s = t.to_pretty_json().unwrap();
        assert!(s.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            v,
            json!({"AWSTemplateFormatVersion": "2010-09-09", "Description": "d", "Resources": {"B": {
                "Type": "AWS::SNS::Topic", "DependsOn": ["A"], "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}}})
        );
        assert!(s.find("AWSTemplateFormatVersion").unwrap() < s.find("Resources").unwrap());
        let back: Template = serde_json::from_str(&s).unwrap();
        assert_eq!(back.resources["B"].depends_on, ["A"]);
    }
}
