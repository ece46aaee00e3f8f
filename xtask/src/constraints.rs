//! The validation data of the typed layer: for every resource type, its
//! registry schema reduced to the keywords that constrain values, with
//! cfn-lint's extension schemas for that type merged in (allowed instance
//! classes, engine versions, record formats, Fargate sizes, …).
//!
//! Region-keyed extensions (instance classes per region) are folded into
//! one list per property, the union over all regions: a value valid in some
//! region passes, a value valid nowhere (`db.t3.huge`) is an error.
//! Extensions that cfn-lint reports only as warnings (deprecations) are left
//! out, and so is `aws_rds_dbinstance/db_instance_class.json` (3.5 MB of
//! engine-by-class combinations): the class list itself is kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value as Json};

/// Keywords the runtime validator (`khs_cfn::validate`) understands.
const SUPPORTED: &[&str] = &[
    "properties",
    "definitions",
    "required",
    "type",
    "enum",
    "enumCaseInsensitive",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "items",
    "additionalProperties",
    "patternProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentExcluded",
    "requiredXor",
    "requiredOr",
    "minProperties",
    "maxProperties",
    "contains",
    "multipleOf",
    "format",
    "$ref",
];

/// Keywords that describe and do not constrain (dropped).
const ANNOTATIONS: &[&str] = &[
    "description",
    "markdownDescription",
    "$comment",
    "title",
    "examples",
    "default",
    "insertionOrder",
    "uniqueItems",
    "maxUniqueItems",
    "arrayType",
    "relationshipRef",
    "primaryIdentifier",
    "additionalIdentifiers",
    "typeName",
    "handlers",
    "tagging",
    "readOnlyProperties",
    "writeOnlyProperties",
    "createOnlyProperties",
    "conditionalCreateOnlyProperties",
    "deprecatedProperties",
    "sourceUrl",
    "documentationUrl",
    "propertyTransform",
    "replacementStrategy",
    "resourceLink",
    "typeConfiguration",
    "$schema",
    "taggable",
    "uniqueKeys",
    "lifecycle",
    "$id",
];

/// The marker a reduced schema carries where it had a keyword the
/// validator does not understand: such a schema is undecided (never an
/// error), so that a condition built on it never applies a `then` wrongly.
pub const UNSUPPORTED: &str = "!unsupported";

/// Reduces a schema (or sub-schema) to its constraining keywords.
fn reduce(schema: &Json) -> Json {
    let Json::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        match k.as_str() {
            "properties" | "definitions" | "patternProperties" | "dependentExcluded" => {
                let inner = match (k.as_str(), v) {
                    ("dependentExcluded", _) => v.clone(),
                    (_, Json::Object(m)) => Json::Object(
                        m.iter()
                            .map(|(name, s)| (name.clone(), reduce(s)))
                            .collect(),
                    ),
                    _ => v.clone(),
                };
                out.insert(k.clone(), inner);
            }
            "enum"
            | "required"
            | "const"
            | "dependentRequired"
            | "requiredXor"
            | "requiredOr"
            | "type"
            | "pattern"
            | "$ref"
            | "enumCaseInsensitive" => {
                out.insert(k.clone(), v.clone());
            }
            "allOf" | "anyOf" | "oneOf" => {
                let items = v
                    .as_array()
                    .map(|a| a.iter().map(reduce).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Json::Array(items));
            }
            _ if SUPPORTED.contains(&k.as_str()) => {
                out.insert(k.clone(), reduce(v));
            }
            _ if ANNOTATIONS.contains(&k.as_str()) => {}
            _ => {
                out.insert(UNSUPPORTED.to_string(), Json::Bool(true));
            }
        }
    }
    Json::Object(out)
}

/// Replaces `#/definitions/…` references of an extension schema by their
/// target (extension schemas are small and not recursive), so that the
/// merged schema's own `definitions` stay the resource's.
fn inline_refs(schema: &Json, definitions: &Map<String, Json>, depth: usize) -> Json {
    match schema {
        Json::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Json::as_str)
                && let Some(name) = r.strip_prefix("#/definitions/")
                && let Some(target) = definitions.get(name)
                && depth < 16
            {
                return inline_refs(target, definitions, depth + 1);
            }
            Json::Object(
                map.iter()
                    .filter(|(k, _)| *k != "definitions")
                    .map(|(k, v)| (k.clone(), inline_refs(v, definitions, depth)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| inline_refs(v, definitions, depth))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `enum` lists anywhere in `schema`: at the top (`{"enum": […]}`) under
/// the key `""`, under `properties.X` by property name.
fn collect_enums(schema: &Json, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match schema {
        Json::Object(map) => {
            if let Some(values) = map.get("enum").and_then(Json::as_array) {
                out.entry(String::new())
                    .or_default()
                    .extend(values.iter().filter_map(|v| v.as_str().map(String::from)));
            }
            if let Some(Json::Object(props)) = map.get("properties") {
                for (name, s) in props {
                    if let Some(values) = s.get("enum").and_then(Json::as_array) {
                        out.entry(name.clone())
                            .or_default()
                            .extend(values.iter().filter_map(|v| v.as_str().map(String::from)));
                    }
                }
            }
            for (k, v) in map {
                if k != "properties" && k != "enum" {
                    collect_enums(v, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| collect_enums(v, out)),
        _ => {}
    }
}

/// One of cfn-lint's extension rules: a schema applied at a place inside
/// the properties of one resource type.
#[derive(Debug, Clone)]
pub struct Extension {
    /// Who checks it, for messages (`cfn-lint E3687`).
    pub rule: String,
    /// Where in `Properties` it applies (`["SecurityGroupIngress", "*"]`;
    /// empty for the properties object itself).
    pub at: Vec<String>,
    /// The reduced schema.
    pub schema: Json,
}

/// Every error-level extension rule of cfn-lint whose schema is an
/// extension file, by resource type. Read from the rules' Python source:
/// their `id`, `keywords` and `SchemaDetails(module, "file.json")`.
pub fn read_extensions(schemas: &Path) -> Result<BTreeMap<String, Vec<Extension>>> {
    let rules_dir = schemas.join("../../rules");
    let mut files = Vec::new();
    walk(&rules_dir, &mut files)?;
    files.sort();
    let id_re = regex::Regex::new(r#"\bid = "([EWI]\d+)""#)?;
    let module_re = regex::Regex::new(
        r#"extensions\.(aws_[a-z0-9_]+)\s*,\s*(?:filename=)?\s*"([a-z0-9_]+\.json)""#,
    )?;
    let mut out: BTreeMap<String, Vec<Extension>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let Some(id) = id_re.captures(&text).map(|c| c[1].to_string()) else {
            continue;
        };
        if !id.starts_with('E') {
            continue;
        }
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(m) = module_re.captures(&flat) else {
            continue;
        };
        let (module, filename) = (m[1].to_string(), m[2].to_string());
        if filename == "db_instance_class.json" {
            continue;
        }
        let Some(keywords) = keywords_of(&flat) else {
            continue;
        };
        let path = schemas.join("extensions").join(&module).join(&filename);
        let json: Json = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        )?;
        let schema = if json.get("us-east-1").is_some() {
            union_of_regions(&json)
        } else {
            let defs = json
                .get("definitions")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
            inline_refs(&json, &defs, 0)
        };
        let schema = reduce(&schema);
        let rule = format!("cfn-lint {id}");
        for kw in keywords {
            let mut parts = kw.split('/');
            if parts.next() != Some("Resources") {
                continue;
            }
            let Some(type_name) = parts.next() else {
                continue;
            };
            if type_name.contains('*') || parts.next() != Some("Properties") {
                continue;
            }
            out.entry(type_name.to_string())
                .or_default()
                .push(Extension {
                    rule: rule.clone(),
                    at: parts.map(String::from).collect(),
                    schema: schema.clone(),
                });
        }
    }
    for (type_name, at, rule, schema) in supplements(schemas)? {
        out.entry(type_name)
            .or_default()
            .push(Extension { rule, at, schema });
    }
    Ok(out)
}

/// Constraints AWS enforces that neither the registry schemas nor cfn-lint
/// apply where users meet them (each found by a user: the library must
/// refuse them at synthesis): `[type, path, who checks it, schema]`, where
/// the schema is inline or `{"file": "<cfn-lint extension file>"}`.
const SUPPLEMENTS: &str = r#"[
  ["AWS::EC2::SecurityGroupIngress", [], "EC2 port range", {"$port": true}],
  ["AWS::EC2::SecurityGroupEgress", [], "EC2 port range", {"$port": true}],
  ["AWS::EC2::SecurityGroup", ["SecurityGroupIngress", "*"], "EC2 port range", {"$port": true}],
  ["AWS::EC2::SecurityGroup", ["SecurityGroupEgress", "*"], "EC2 port range", {"$port": true}],
  ["AWS::ElastiCache::ReplicationGroup", ["CacheNodeType"], "cfn-lint's ElastiCache node types",
   {"file": "aws_elasticache_cachecluster/cachenodetype_enum.json"}]
]"#;

/// The port-range schema of a security-group rule: -1 (all, for ICMP and
/// protocol -1) or 0–65535.
const PORT_RANGE: &str = r#"{"properties": {
  "FromPort": {"minimum": -1, "maximum": 65535},
  "ToPort": {"minimum": -1, "maximum": 65535}
}}"#;

/// `(type, path, who checks it, schema)`.
type Supplement = (String, Vec<String>, String, Json);

fn supplements(schemas: &Path) -> Result<Vec<Supplement>> {
    let list: Vec<Supplement> = serde_json::from_str(SUPPLEMENTS)?;
    let port: Json = serde_json::from_str(PORT_RANGE)?;
    let mut out = Vec::new();
    for (t, at, rule, spec) in list {
        let schema = if let Some(file) = spec.get("file").and_then(Json::as_str) {
            let path = schemas.join("extensions").join(file);
            let json: Json = serde_json::from_str(
                &std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )?;
            reduce(&union_of_regions(&json))
        } else {
            port.clone()
        };
        out.push((t, at, rule, schema));
    }
    Ok(out)
}

/// A regional extension (one schema per region) as one schema: every
/// `enum` becomes the union over the regions (valid somewhere passes).
fn union_of_regions(json: &Json) -> Json {
    let mut enums = BTreeMap::new();
    collect_enums(json, &mut enums);
    let mut out = Map::new();
    let mut props = Map::new();
    for (p, values) in enums {
        let list = Json::Array(values.into_iter().map(Json::String).collect());
        if p.is_empty() {
            out.insert("enum".into(), list);
        } else {
            props.insert(p, serde_json::json!({ "enum": list }));
        }
    }
    if !props.is_empty() {
        out.insert("properties".into(), Json::Object(props));
    }
    Json::Object(out)
}

/// The strings of `keywords=[…]` in a rule's (whitespace-flattened) source.
fn keywords_of(flat: &str) -> Option<Vec<String>> {
    let start = flat.find("keywords=[")? + "keywords=[".len();
    let end = start + flat[start..].find(']')?;
    Some(
        flat[start..end]
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
    Ok(())
}

/// The validation data of one type: its reduced registry schema and the
/// extension rules that apply to it, serialized compactly (keys sorted, so
/// the output is deterministic): `{"s": schema, "x": [[rule, [path…], schema], …]}`.
pub fn type_schema(schema: &Json, extensions: &[Extension]) -> Result<String> {
    let reduced = reduce(schema);
    let ext: Vec<Json> = extensions
        .iter()
        .map(|e| serde_json::json!([e.rule, e.at, e.schema]))
        .collect();
    Ok(serde_json::to_string(
        &serde_json::json!({ "s": reduced, "x": ext }),
    )?)
}

/// The generated `validate_data.rs` of khs-cfn: one schema string per type,
/// in the order of `registry::KNOWN_TYPES`.
pub fn data_file(header: &str, schemas: &[(String, String)]) -> String {
    let mut out = String::from(header);
    out.push_str(
        "//! The validation schema of every resource type, in the order of\n\
         //! [`crate::registry::KNOWN_TYPES`] (see `xtask/src/constraints.rs`).\n\n\
         /// One compact JSON schema per type.\n\
         pub(crate) static SCHEMAS: &[&str] = &[\n",
    );
    for (type_name, json) in schemas {
        out.push_str(&format!("    // {type_name}\n    {},\n", raw_string(json)));
    }
    out.push_str("];\n");
    let texts = schemas.iter().map(|(_, json)| json.as_str());
    out.push_str(&format!(
        "\n/// The fingerprint of [`SCHEMAS`] (FNV-1a of 64 bits over each text and a\n\
         /// zero byte after it), which `validate_code.bin` records: the validator\n\
         /// uses that file only with the data it was written from.\n\
         pub(crate) const FINGERPRINT: u64 = {:#018x};\n",
        fingerprint(texts)
    ));
    out
}

/// FNV-1a (64 bits) over each text followed by a zero byte: the
/// fingerprint of the validation data (`khs-cfn`'s `validate/code.rs`
/// computes the same, and its test compares the two).
pub fn fingerprint<'a>(texts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for text in texts {
        for b in text.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// A Rust raw string literal holding `s`.
fn raw_string(s: &str) -> String {
    let mut hashes = String::from("#");
    while s.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{s}\"{hashes}")
}
