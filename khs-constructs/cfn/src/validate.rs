//! Schema-driven validation of resource properties at synthesis, for typed
//! resources and [`crate::RawResource`] alike (hand-written; the data is
//! generated into `validate_data.rs`).
//!
//! Each type's registry schema, reduced to the keywords that constrain
//! values and merged with cfn-lint's extension schemas (allowed instance
//! classes, engine versions, record formats, Fargate sizes, …), is checked
//! against the properties as they will be written to the template: enums,
//! `const`, patterns, ranges, lengths, item counts, required and unknown
//! properties, and the `allOf`/`anyOf`/`oneOf`/`not`/`if`-`then`-`else`
//! combinations of the schemas.
//!
//! Values CloudFormation resolves at deploy time (`Ref`, `Fn::*`) are never
//! judged: a schema applied to one is undecided, and an undecided condition
//! applies neither its `then` nor its `else`. A keyword the validator does
//! not know makes its schema undecided in the same way. So the validator
//! reports only what is certainly wrong.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use regex_lite::Regex;
use serde_json::{Map, Value as Json};

use khs_core::error::{Error, Result};
use khs_core::path::ConstructPath;

use crate::registry::SPECS;
use crate::validate_data::SCHEMAS;

/// The marker of an unsupported keyword (see `xtask/src/constraints.rs`).
const UNSUPPORTED: &str = "!unsupported";

/// How many allowed values a message lists before it abbreviates.
const LIST_LIMIT: usize = 12;

/// Checks `properties` (the `Properties` object as it will be written) of a
/// resource of type `type_name` at `path`. Types the registry does not know
/// (custom resources) pass.
pub fn properties(type_name: &str, properties: &Json, path: &ConstructPath) -> Result<()> {
    let Some(data) = schema_of(type_name) else {
        return Ok(());
    };
    let Some(schema) = data.get("s") else {
        return Ok(());
    };
    let root = Root { schema };
    let mut check = Check::default();
    root.assert(schema, properties, &mut At::default(), &mut check);
    if let Some(Json::Array(extensions)) = data.get("x") {
        for ext in extensions {
            let (Some(rule), Some(Json::Array(at)), Some(ext_schema)) =
                (ext.get(0).and_then(Json::as_str), ext.get(1), ext.get(2))
            else {
                continue;
            };
            let at: Vec<&str> = at.iter().filter_map(Json::as_str).collect();
            let before = check.out.len();
            apply_at(&at, properties, &mut At::default(), &mut |value, here| {
                root.assert(ext_schema, value, here, &mut check);
            });
            for v in &mut check.out[before..] {
                v.message.push_str(&format!(" ({rule})"));
            }
        }
    }
    match check.out.into_iter().next() {
        None => Ok(()),
        Some(v) => Err(Error::SchemaViolation {
            path: path.to_string(),
            type_name: type_name.to_string(),
            property: if v.at.is_empty() {
                "(the properties object)".to_string()
            } else {
                v.at
            },
            message: v.message,
        }),
    }
}

/// Calls `f` with every value at `at` below `value` (`*` is any list item
/// or object entry).
fn apply_at(at: &[&str], value: &Json, here: &mut At, f: &mut dyn FnMut(&Json, &mut At)) {
    if is_intrinsic(value) {
        return;
    }
    let Some((first, rest)) = at.split_first() else {
        f(value, here);
        return;
    };
    match (value, *first) {
        (Json::Array(items), "*") => {
            for (i, item) in items.iter().enumerate() {
                let mark = here.enter_index(i);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        (Json::Object(map), "*") => {
            for (k, item) in map {
                let mark = here.enter(k);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        (Json::Object(map), key) => {
            if let Some(item) = map.get(key) {
                let mark = here.enter(key);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        _ => {}
    }
}

/// What checking found: certain violations, and whether some part could
/// not be decided (an intrinsic value, an unsupported keyword or pattern).
#[derive(Default)]
struct Check {
    out: Vec<Violation>,
    undecided: bool,
}

impl Check {
    fn push(&mut self, at: &At, message: String) {
        self.out.push(Violation {
            at: at.0.clone(),
            message,
        });
    }
}

/// Where in the properties a check is (`ContainerDefinitions.0.Cpu`), built
/// in one buffer: entering a step appends to it, leaving truncates it, so
/// walking a resource allocates nothing per property.
#[derive(Default)]
struct At(String);

impl At {
    /// Appends a step; returns the mark to leave it with.
    fn enter(&mut self, step: &str) -> usize {
        let mark = self.0.len();
        if mark > 0 {
            self.0.push('.');
        }
        self.0.push_str(step);
        mark
    }

    /// Appends a list index.
    fn enter_index(&mut self, i: usize) -> usize {
        let mark = self.0.len();
        if mark > 0 {
            self.0.push('.');
        }
        let _ = write!(self.0, "{i}");
        mark
    }

    fn leave(&mut self, mark: usize) {
        self.0.truncate(mark);
    }
}

/// The validation data of a type (`{"s": schema, "x": [[who, path, schema], …]}`:
/// its reduced registry schema and the extension rules at their paths),
/// parsed once per process; `None` for types the registry does not know.
pub fn schema(type_name: &str) -> Option<&'static Json> {
    schema_of(type_name)
}

fn schema_of(type_name: &str) -> Option<&'static Json> {
    static PARSED: OnceLock<Vec<OnceLock<Option<Json>>>> = OnceLock::new();
    let index = SPECS
        .binary_search_by(|s| s.type_name.cmp(type_name))
        .ok()?;
    let cells = PARSED.get_or_init(|| (0..SCHEMAS.len()).map(|_| OnceLock::new()).collect());
    cells
        .get(index)?
        .get_or_init(|| serde_json::from_str(SCHEMAS.get(index)?).ok())
        .as_ref()
}

/// A compiled pattern, once per process; `None` when the pattern is not one
/// `regex-lite` accepts (ECMAScript look-arounds, Unicode classes such as
/// `\p{L}`): then it is not checked. `regex-lite` rather than `regex`
/// because it compiles in a fraction of the time, and the schemas' patterns
/// are short and few per template.
fn pattern_matches(source: &str, text: &str) -> Option<bool> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    if let Some(compiled) = map.get(source) {
        return compiled.as_ref().map(|re| re.is_match(text));
    }
    let compiled = Regex::new(source).ok();
    let result = compiled.as_ref().map(|re| re.is_match(text));
    map.insert(source.to_string(), compiled);
    result
}

/// One broken constraint.
struct Violation {
    at: String,
    message: String,
}

/// The outcome of checking a value against a schema used as a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    No,
    Unknown,
}

/// Whether a JSON value is resolved by CloudFormation at deploy time.
fn is_intrinsic(v: &Json) -> bool {
    match v {
        Json::Object(m) if m.len() == 1 => m
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition"),
        _ => false,
    }
}

/// The value as text, for enums, patterns and lengths (CloudFormation
/// passes scalars as strings).
fn scalar_text(v: &Json) -> Option<Cow<'_, str>> {
    match v {
        Json::String(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// Whether `v` has JSON-schema type `t`, CloudFormation-style: scalars
/// given as strings count for numbers and booleans when they parse.
fn has_type(v: &Json, t: &str) -> bool {
    match t {
        "string" => matches!(v, Json::String(_) | Json::Number(_) | Json::Bool(_)),
        "integer" => match v {
            Json::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Json::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        "number" => number(v).is_some(),
        "boolean" => match v {
            Json::Bool(_) => true,
            Json::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "false"),
            _ => false,
        },
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn quote_list(values: &[Json]) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(LIST_LIMIT)
        .map(|v| scalar_text(v).map_or_else(|| v.to_string(), Cow::into_owned))
        .collect();
    let mut s = shown.join(", ");
    if values.len() > LIST_LIMIT {
        s.push_str(&format!(", … ({} values in all)", values.len()));
    }
    s
}

/// Allowed values close to `got`, best first: those sharing its longest
/// prefix (`16.99` → `16.9`, `16.8`, …), else by similarity.
fn close_matches(values: &[Json], got: &str) -> Vec<String> {
    let texts: Vec<String> = values
        .iter()
        .filter_map(|v| scalar_text(v).map(Cow::into_owned))
        .collect();
    let lower = got.to_ascii_lowercase();
    let mut scored: Vec<(f64, &String)> = texts
        .iter()
        .map(|v| (strsim::jaro_winkler(&v.to_ascii_lowercase(), &lower), v))
        .filter(|(score, _)| *score > 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, v)| v.clone()).collect()
}

/// The allowed values worth listing: all when few, else the ones sharing
/// the longest prefix with `got` (the same major version, the same
/// instance family).
fn listed(values: &[Json], got: &str) -> String {
    if values.len() <= LIST_LIMIT {
        return quote_list(values);
    }
    let texts: Vec<String> = values
        .iter()
        .filter_map(|v| scalar_text(v).map(Cow::into_owned))
        .collect();
    let common = |v: &str| {
        v.chars()
            .zip(got.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let best = texts.iter().map(|v| common(v)).max().unwrap_or(0);
    // Back to a family boundary (`16.`, `db.t3.`), so that siblings show.
    let head: String = got.chars().take(best).collect();
    let prefix = match head.rfind(['.', '-', ':']) {
        Some(i) if i > 0 => head[..=i].to_string(),
        _ => head,
    };
    if prefix.is_empty() {
        return quote_list(values);
    }
    let near: Vec<Json> = texts
        .iter()
        .filter(|v| v.starts_with(&prefix))
        .map(|v| Json::String(v.clone()))
        .collect();
    format!(
        "{} of {} values start with {prefix:?}: {}",
        near.len(),
        values.len(),
        quote_list(&near)
    )
}

/// Whether `text` has the named format, for the formats cfn-lint checks
/// that matter in templates (others are not judged).
fn has_format(format: &str, text: &str) -> Option<bool> {
    let network = |t: &str, v6: bool| {
        let Some((addr, len)) = t.split_once('/') else {
            return false;
        };
        let Ok(len) = len.parse::<u8>() else {
            return false;
        };
        if v6 {
            addr.parse::<std::net::Ipv6Addr>().is_ok() && len <= 128
        } else {
            addr.parse::<std::net::Ipv4Addr>().is_ok() && len <= 32
        }
    };
    match format {
        "ipv4" => Some(text.parse::<std::net::Ipv4Addr>().is_ok()),
        "ipv6" => Some(text.parse::<std::net::Ipv6Addr>().is_ok()),
        "ipv4-network" => Some(network(text, false)),
        "ipv6-network" => Some(network(text, true)),
        _ => None,
    }
}

struct Root<'a> {
    schema: &'a Json,
}

impl<'a> Root<'a> {
    /// Follows `$ref` (`#/definitions/X`) to its target.
    fn resolve(&self, schema: &'a Json) -> Option<&'a Json> {
        let mut cur = schema;
        for _ in 0..32 {
            match cur.get("$ref").and_then(Json::as_str) {
                Some(r) => {
                    let name = r.strip_prefix("#/definitions/")?;
                    cur = self.schema.get("definitions")?.get(name)?;
                }
                None => return Some(cur),
            }
        }
        None
    }

    /// Checks `v` against `schema`: what is certainly wrong goes to
    /// `check.out`; what cannot be decided sets `check.undecided`.
    fn assert(&self, schema: &'a Json, v: &Json, at: &mut At, check: &mut Check) {
        if is_intrinsic(v) {
            check.undecided = true;
            return;
        }
        let Some(schema) = self.resolve(schema) else {
            check.undecided = true;
            return;
        };
        let s = match schema {
            Json::Object(s) => s,
            Json::Bool(false) => {
                check.push(at, "must not be set here".to_string());
                return;
            }
            _ => return,
        };
        if s.contains_key(UNSUPPORTED) {
            check.undecided = true;
        }
        // Type.
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Json::String(t) => vec![t.as_str()],
                Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
                _ => Vec::new(),
            };
            if !types.is_empty() && !types.iter().any(|t| has_type(v, t)) {
                check.push(
                    at,
                    format!("must be {}, got {}", types.join(" or "), kind(v)),
                );
                return;
            }
        }
        if let Some(text) = scalar_text(v) {
            self.assert_scalar(s, v, &text, at, check);
        }
        if let Json::Array(items) = v {
            self.assert_list(s, items, at, check);
        }
        if let Json::Object(obj) = v {
            self.assert_object(s, obj, at, check);
        }
        self.assert_combinations(s, v, at, check);
    }

    fn assert_scalar(
        &self,
        s: &'a Map<String, Json>,
        v: &Json,
        text: &str,
        at: &At,
        check: &mut Check,
    ) {
        if let Some(Json::Array(values)) = s.get("enum") {
            let ci = s.get("enumCaseInsensitive").and_then(Json::as_bool) == Some(true);
            let ok = values.iter().any(|a| {
                scalar_text(a).is_some_and(|a| {
                    if ci {
                        a.eq_ignore_ascii_case(text)
                    } else {
                        a == text
                    }
                })
            });
            if !ok {
                let close = close_matches(values, text);
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", close.join(" or "))
                };
                check.push(
                    at,
                    format!(
                        "is {text:?}, which is not an allowed value{hint} (allowed: {})",
                        listed(values, text)
                    ),
                );
            }
        }
        if let Some(c) = s.get("const")
            && scalar_text(c).is_some_and(|c| c != text)
        {
            check.push(at, format!("is {text:?}, it must be {c}"));
        }
        if let (Json::String(text), Some(p)) = (v, s.get("pattern").and_then(Json::as_str)) {
            match pattern_matches(p, text) {
                Some(false) => check.push(
                    at,
                    format!("is {text:?}, which does not match the pattern {p}"),
                ),
                Some(true) => {}
                None => check.undecided = true,
            }
        }
        if let (Json::String(text), Some(f)) = (v, s.get("format").and_then(Json::as_str))
            && has_format(f, text) == Some(false)
        {
            check.push(at, format!("is {text:?}, which is not a valid {f} value"));
        }
        if let Json::String(text) = v {
            let len = text.chars().count() as u64;
            if let Some(min) = s.get("minLength").and_then(Json::as_u64)
                && len < min
            {
                check.push(
                    at,
                    format!("is {len} characters long, at least {min} are required"),
                );
            }
            if let Some(max) = s.get("maxLength").and_then(Json::as_u64)
                && len > max
            {
                check.push(
                    at,
                    format!("is {len} characters long, at most {max} are allowed"),
                );
            }
        }
        if let Some(n) = number(v)
            && !matches!(v, Json::Bool(_))
        {
            let bound = |k: &str| s.get(k).and_then(Json::as_f64);
            if let Some(min) = bound("minimum")
                && n < min
            {
                check.push(at, format!("is {text}, the minimum is {min}"));
            }
            if let Some(max) = bound("maximum")
                && n > max
            {
                check.push(at, format!("is {text}, the maximum is {max}"));
            }
            if let Some(min) = bound("exclusiveMinimum")
                && n <= min
            {
                check.push(at, format!("is {text}, it must be more than {min}"));
            }
            if let Some(max) = bound("exclusiveMaximum")
                && n >= max
            {
                check.push(at, format!("is {text}, it must be less than {max}"));
            }
            if let Some(m) = bound("multipleOf")
                && m > 0.0
                && (n / m).fract().abs() > 1e-9
            {
                check.push(at, format!("is {text}, it must be a multiple of {m}"));
            }
        }
    }

    fn assert_list(
        &self,
        s: &'a Map<String, Json>,
        items: &[Json],
        at: &mut At,
        check: &mut Check,
    ) {
        let count = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Json::as_u64)
            && count < min
        {
            check.push(
                at,
                format!("has {count} items, at least {min} are required"),
            );
        }
        if let Some(max) = s.get("maxItems").and_then(Json::as_u64)
            && count > max
        {
            check.push(at, format!("has {count} items, at most {max} are allowed"));
        }
        if let Some(item_schema) = s.get("items").filter(|i| i.is_object() || i.is_boolean()) {
            for (i, item) in items.iter().enumerate() {
                let mark = at.enter_index(i);
                self.assert(item_schema, item, at, check);
                at.leave(mark);
            }
        }
        if let Some(c) = s.get("contains") {
            let fits: Vec<Fit> = items.iter().map(|item| self.fit(c, item)).collect();
            if fits.iter().all(|f| *f == Fit::No) {
                check.push(at, format!("has no item {}", describe(c)));
            } else if !fits.contains(&Fit::Yes) {
                check.undecided = true;
            }
        }
    }

    fn assert_object(
        &self,
        s: &'a Map<String, Json>,
        obj: &Map<String, Json>,
        at: &mut At,
        check: &mut Check,
    ) {
        let props = s.get("properties").and_then(Json::as_object);
        if let Some(Json::Array(required)) = s.get("required") {
            for r in required.iter().filter_map(Json::as_str) {
                if !obj.contains_key(r) {
                    check.push(at, format!("needs the property {r}, which is missing"));
                }
            }
        }
        let patterns = s.get("patternProperties").and_then(Json::as_object);
        for (name, value) in obj {
            let mut matched = false;
            if let Some(ps) = props.and_then(|p| p.get(name)) {
                matched = true;
                let mark = at.enter(name);
                self.assert(ps, value, at, check);
                at.leave(mark);
            }
            for (p, ps) in patterns.into_iter().flatten() {
                match pattern_matches(p, name) {
                    Some(true) => {
                        matched = true;
                        let mark = at.enter(name);
                        self.assert(ps, value, at, check);
                        at.leave(mark);
                    }
                    Some(false) => {}
                    None => {
                        matched = true;
                        check.undecided = true;
                    }
                }
            }
            if matched {
                continue;
            }
            match s.get("additionalProperties") {
                Some(Json::Bool(false)) => {
                    let known: Vec<&str> = props
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let mut close: Vec<&str> = known
                        .iter()
                        .copied()
                        .filter(|k| strsim::jaro_winkler(k, name) > 0.8)
                        .collect();
                    close.sort_unstable();
                    let hint = if close.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean {}?", close.join(" or "))
                    };
                    let mark = at.enter(name);
                    check.push(at, format!("is not a property of this object{hint}"));
                    at.leave(mark);
                }
                Some(extra @ Json::Object(_)) => {
                    let mark = at.enter(name);
                    self.assert(extra, value, at, check);
                    at.leave(mark);
                }
                _ => {}
            }
        }
        let count = obj.len() as u64;
        if let Some(min) = s.get("minProperties").and_then(Json::as_u64)
            && count < min
        {
            check.push(
                at,
                format!("has {count} entries, at least {min} are required"),
            );
        }
        if let Some(max) = s.get("maxProperties").and_then(Json::as_u64)
            && count > max
        {
            check.push(
                at,
                format!("has {count} entries, at most {max} are allowed"),
            );
        }
        if let Some(Json::Object(deps)) = s.get("dependentRequired") {
            for (name, needs) in deps.iter().filter(|(n, _)| obj.contains_key(*n)) {
                for n in needs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                {
                    if !obj.contains_key(n) {
                        check.push(at, format!("sets {name}, which needs {n} too"));
                    }
                }
            }
        }
        if let Some(Json::Object(excl)) = s.get("dependentExcluded") {
            for (name, excluded) in excl.iter().filter(|(n, _)| obj.contains_key(*n)) {
                for n in excluded
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                {
                    if obj.contains_key(n) {
                        check.push(at, format!("sets both {name} and {n}; set only one"));
                    }
                }
            }
        }
        for (key, exactly_one) in [("requiredXor", true), ("requiredOr", false)] {
            if let Some(Json::Array(names)) = s.get(key) {
                let names: Vec<&str> = names.iter().filter_map(Json::as_str).collect();
                let set = names.iter().filter(|n| obj.contains_key(**n)).count();
                if set == 0 || (exactly_one && set > 1) {
                    check.push(
                        at,
                        format!(
                            "must set {} of {}, sets {set}",
                            if exactly_one {
                                "exactly one"
                            } else {
                                "at least one"
                            },
                            names.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn assert_combinations(
        &self,
        s: &'a Map<String, Json>,
        v: &Json,
        at: &mut At,
        check: &mut Check,
    ) {
        if let Some(Json::Array(all)) = s.get("allOf") {
            for sub in all {
                self.assert(sub, v, at, check);
            }
        }
        if let Some(Json::Array(any)) = s.get("anyOf") {
            let fits: Vec<Fit> = any.iter().map(|sub| self.fit(sub, v)).collect();
            if !fits.is_empty() && fits.iter().all(|f| *f == Fit::No) {
                check.push(at, self.explain_alternatives(any, v, "at least one"));
            } else if !fits.contains(&Fit::Yes) && !fits.is_empty() {
                check.undecided = true;
            }
        }
        if let Some(Json::Array(one)) = s.get("oneOf") {
            let fits: Vec<Fit> = one.iter().map(|sub| self.fit(sub, v)).collect();
            let yes = fits.iter().filter(|f| **f == Fit::Yes).count();
            let unknown = fits.iter().filter(|f| **f == Fit::Unknown).count();
            if !fits.is_empty() && (yes > 1 || (yes == 0 && unknown == 0)) {
                check.push(at, self.explain_alternatives(one, v, "exactly one"));
            } else if unknown > 0 {
                check.undecided = true;
            }
        }
        if let Some(not) = s.get("not") {
            match self.fit(not, v) {
                Fit::Yes => check.push(
                    at,
                    format!("has a combination that is not allowed ({})", describe(not)),
                ),
                Fit::Unknown => check.undecided = true,
                Fit::No => {}
            }
        }
        if let Some(cond) = s.get("if") {
            match self.fit(cond, v) {
                Fit::Yes => {
                    if let Some(then) = s.get("then") {
                        self.assert(then, v, at, check);
                    }
                }
                Fit::No => {
                    if let Some(other) = s.get("else") {
                        self.assert(other, v, at, check);
                    }
                }
                Fit::Unknown => check.undecided = true,
            }
        }
    }

    /// A message for `anyOf` / `oneOf` failures, from the alternatives' own
    /// first violations.
    fn explain_alternatives(&self, alts: &'a [Json], v: &Json, how: &str) -> String {
        let mut reasons = Vec::new();
        for alt in alts.iter().take(4) {
            let mut inner = Check::default();
            self.assert(alt, v, &mut At::default(), &mut inner);
            match inner.out.into_iter().next() {
                Some(f) if f.at.is_empty() => reasons.push(f.message),
                Some(f) => reasons.push(format!("{} {}", f.at, f.message)),
                None => reasons.push(describe(alt)),
            }
        }
        format!(
            "must match {how} of {} alternatives; {}",
            alts.len(),
            reasons.join(" / ")
        )
    }

    /// `schema` as a condition: does `v` certainly fit, certainly not, or
    /// cannot it be told?
    fn fit(&self, schema: &'a Json, v: &Json) -> Fit {
        let mut inner = Check::default();
        self.assert(schema, v, &mut At::default(), &mut inner);
        if !inner.out.is_empty() {
            Fit::No
        } else if inner.undecided {
            Fit::Unknown
        } else {
            Fit::Yes
        }
    }
}

/// A short description of a (condition) schema, for messages.
fn describe(schema: &Json) -> String {
    if let Some(Json::Array(req)) = schema.get("required") {
        let names: Vec<String> = req
            .iter()
            .filter_map(Json::as_str)
            .map(String::from)
            .collect();
        if !names.is_empty() {
            return format!("with {}", names.join(", "));
        }
    }
    if let Some(Json::Object(props)) = schema.get("properties") {
        let parts: Vec<String> = props
            .iter()
            .filter_map(|(k, v)| {
                v.get("const")
                    .or_else(|| v.get("enum"))
                    .map(|c| format!("{k} = {c}"))
            })
            .collect();
        if !parts.is_empty() {
            return parts.join(", ");
        }
    }
    "another shape".to_string()
}
