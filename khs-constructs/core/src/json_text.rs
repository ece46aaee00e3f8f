//! [`JsonText`]: a JSON value held as compact text, the form a resource's
//! `Properties` take in the template model.
//!
//! A built stack holds each resource's properties as the compact JSON it
//! will write (keys sorted, as `serde_json` writes a `Value`), not as a
//! `serde_json::Value` tree: a tree takes about eight times the memory of
//! its text (every object is a `BTreeMap` node with room for eleven
//! entries), and a large app held tens of megabytes of them until it was
//! written. See `docs/decisions/0011-template-model-at-the-limit.md`.
//!
//! Reading stays as it was: a `JsonText` dereferences to the
//! `serde_json::Value` it holds, parsed on first read and kept
//! (`entry.properties["BucketName"]`, `entry.properties.get("Tags")`).
//! Changing it goes through [`JsonText::modify`], which writes the text
//! anew. Templates written from it are byte for byte what the tree gave:
//! [`Template::to_pretty_json`](super::template::Template::to_pretty_json)
//! indents the compact text as `serde_json`'s pretty printer would.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::json_scan::{string_end, value_end};
use super::validate::{Use, uses_of};

/// A JSON value held as compact text (see the [module](self)).
pub struct JsonText {
    /// The compact JSON text.
    raw: Box<RawValue>,
    /// The value, parsed from `raw` on first read.
    parsed: OnceLock<Value>,
    /// The names the value refers to (`Ref`, `Fn::GetAtt`, `Fn::Sub`
    /// variables, conditions), for the reference check of synthesis:
    /// recorded from the tree when the text is made from one, else on
    /// first use.
    uses: OnceLock<Box<[Use]>>,
    /// The members of an object, each parsed alone on first read
    /// ([`JsonText::member`]), for readers that look at a few properties.
    members: OnceLock<Box<[Member]>>,
}

/// One member of an object held as text: where its key and value are, and
/// the value once parsed.
struct Member {
    /// The key's text, between the quotes (as written, escapes included).
    key: std::ops::Range<u32>,
    /// The value's text.
    value: std::ops::Range<u32>,
    parsed: OnceLock<Value>,
}

impl JsonText {
    /// The text of `value`, with the names it refers to recorded.
    pub fn from_value(value: &Value) -> JsonText {
        // Writing a `Value` as JSON cannot fail (its keys are strings).
        let raw = serde_json::value::to_raw_value(value).unwrap_or_else(|_| empty_object());
        JsonText {
            raw,
            parsed: OnceLock::new(),
            uses: OnceLock::from(uses_of(value).into_boxed_slice()),
            members: OnceLock::new(),
        }
    }

    /// The text of `value`, written straight from it (no `Value` tree is
    /// made); `None` when it does not serialize. Objects must write their
    /// keys sorted, as a `Value` does (a struct with its fields in that
    /// order), for the text to equal the text of the same value made
    /// with [`JsonText::from_value`].
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Option<JsonText> {
        Some(JsonText {
            raw: serde_json::value::to_raw_value(value).ok()?,
            parsed: OnceLock::new(),
            uses: OnceLock::new(),
            members: OnceLock::new(),
        })
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// The value (parsed on first read, then kept).
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| self.to_value())
    }

    /// A fresh copy of the value, parsed from the text (nothing is kept).
    pub fn to_value(&self) -> Value {
        match self.parsed.get() {
            Some(v) => v.clone(),
            // The text was written from a `Value`: it parses.
            None => serde_json::from_str(self.raw.get()).unwrap_or_default(),
        }
    }

    /// Changes the value with `f` and writes the text anew.
    pub fn modify<R>(&mut self, f: impl FnOnce(&mut Value) -> R) -> R {
        let mut value = self.take_value();
        let out = f(&mut value);
        *self = JsonText::from_value(&value);
        out
    }

    /// [`JsonText::modify`] with a change that can fail: the text is
    /// written anew only when `f` succeeds, and is left as it was when `f`
    /// fails (whatever `f` changed before it failed is dropped).
    pub fn try_modify<R, E>(&mut self, f: impl FnOnce(&mut Value) -> Result<R, E>) -> Result<R, E> {
        let mut value = self.to_value();
        let out = f(&mut value)?;
        *self = JsonText::from_value(&value);
        Ok(out)
    }

    /// Whether the value is `{}` or `null` (a resource without properties
    /// writes no `Properties`).
    pub fn is_empty_object(&self) -> bool {
        matches!(self.raw.get(), "{}" | "null")
    }

    /// The value of member `key` of the object, parsed alone (and kept)
    /// on first read: cheaper than reading the whole value when a reader
    /// looks at a few properties of many resources (the rule packs, the
    /// diagram). `None` when the value is not an object or has no such
    /// member.
    pub fn member(&self, key: &str) -> Option<&Value> {
        if let Some(whole) = self.parsed.get() {
            return whole.get(key);
        }
        let text = self.raw.get();
        let members = self
            .members
            .get_or_init(|| object_members(text).unwrap_or_default().into_boxed_slice());
        if members.is_empty() && text != "{}" && text.starts_with('{') {
            // Not indexed (a key with escapes): read the whole value.
            return self.value().get(key);
        }
        let range = |r: &std::ops::Range<u32>| text.get(r.start as usize..r.end as usize);
        let at = members
            .binary_search_by(|m| range(&m.key).unwrap_or_default().cmp(key))
            .ok()?;
        let m = members.get(at)?;
        Some(m.parsed.get_or_init(|| {
            range(&m.value)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default()
        }))
    }

    /// [`JsonText::member`]: `properties.get("Tags")` reads one member as
    /// `Value::get` would, without parsing the others.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.member(key)
    }

    /// Drops the parsed values kept by earlier reads (the text stays).
    pub fn forget_parsed(&mut self) {
        self.parsed.take();
        self.members.take();
    }

    /// The names the value refers to, for the reference check.
    pub(crate) fn uses(&self) -> &[Use] {
        self.uses
            .get_or_init(|| uses_of(self.value()).into_boxed_slice())
    }

    fn take_value(&mut self) -> Value {
        match self.parsed.take() {
            Some(v) => v,
            None => self.to_value(),
        }
    }
}

/// The members of the compact JSON object `text`, in the text's order
/// (sorted by key, as the text is written); `None` when `text` is not an
/// object, or a key holds an escape (then it is not indexed).
fn object_members(text: &str) -> Option<Vec<Member>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    if bytes.first() != Some(&b'{') || bytes.get(1) == Some(&b'}') {
        return Some(out);
    }
    loop {
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i + 1;
        let key_end = string_end(bytes, i)? - 1;
        if bytes.get(key_start..key_end)?.contains(&b'\\') {
            return None;
        }
        if bytes.get(key_end + 1) != Some(&b':') {
            return None;
        }
        let value_start = key_end + 2;
        let end = value_end(bytes, value_start)?;
        let pos = |n: usize| u32::try_from(n).ok();
        out.push(Member {
            key: pos(key_start)?..pos(key_end)?,
            value: pos(value_start)?..pos(end)?,
            parsed: OnceLock::new(),
        });
        match bytes.get(end) {
            Some(b',') => i = end + 1,
            Some(b'}') => return Some(out),
            _ => return None,
        }
    }
}

/// `{}` (`null`, which reads as empty too, if `{}` did not parse).
fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl Default for JsonText {
    /// `{}`.
    fn default() -> Self {
        JsonText {
            raw: empty_object(),
            parsed: OnceLock::new(),
            uses: OnceLock::from(Vec::new().into_boxed_slice()),
            members: OnceLock::new(),
        }
    }
}

impl From<Value> for JsonText {
    fn from(value: Value) -> Self {
        JsonText::from_value(&value)
    }
}

/// `Value::Null`, what indexing a missing member gives (as for a `Value`).
static NULL: Value = Value::Null;

impl std::ops::Index<&str> for JsonText {
    type Output = Value;

    /// `text["Name"]`: the member, read alone ([`JsonText::member`]), or
    /// `null` when there is none, as indexing a `Value` gives.
    fn index(&self, key: &str) -> &Value {
        self.member(key).unwrap_or(&NULL)
    }
}

impl Deref for JsonText {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl Clone for JsonText {
    /// The text and the recorded names; not the parsed value (a copy is
    /// parsed again when read).
    fn clone(&self) -> Self {
        JsonText {
            raw: self.raw.clone(),
            parsed: OnceLock::new(),
            uses: self.uses.clone(),
            members: OnceLock::new(),
        }
    }
}

impl PartialEq for JsonText {
    /// Equal texts: equal values, since both are written by the same
    /// writer with sorted keys.
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

impl PartialEq<Value> for JsonText {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl PartialEq<JsonText> for Value {
    fn eq(&self, other: &JsonText) -> bool {
        self == other.value()
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw.get())
    }
}

impl fmt::Display for JsonText {
    /// The compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw.get())
    }
}

thread_local! {
    /// Whether [`JsonText`]s serialize as raw JSON text on this thread (see
    /// [`with_raw_text`]).
    static RAW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (which writes JSON with `serde_json`) with every [`JsonText`]
/// serialized as the text it holds: written as it is, and indented by the
/// template's pretty printer, instead of being parsed and serialized value
/// by value. Only `serde_json`'s writers understand raw text; any other
/// serializer gets the values.
pub(crate) fn with_raw_text<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RAW.with(|raw| raw.set(self.0));
        }
    }
    let _restore = Restore(RAW.with(|raw| raw.replace(true)));
    f()
}

impl Serialize for JsonText {
    /// Written as the JSON value it holds, to any serializer (insta
    /// snapshots, YAML, `serde_json::to_value`). The template's own
    /// writers ([`Template::to_pretty_json`](super::template::Template::to_pretty_json),
    /// [`StackArtifact::compact_json`](super::app::StackArtifact::compact_json))
    /// copy the text instead, which is faster and gives the same bytes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if RAW.with(std::cell::Cell::get) {
            return self.raw.serialize(serializer);
        }
        match self.parsed.get() {
            Some(value) => value.serialize(serializer),
            None => self.to_value().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(JsonText::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holds_compact_sorted_text_and_reads_as_the_value() {
        let t = JsonText::from(json!({"b": [1, {"y": "x", "a": null}], "a": "é\"\n"}));
        assert_eq!(t.as_str(), r#"{"a":"é\"\n","b":[1,{"a":null,"y":"x"}]}"#);
        assert_eq!(t["b"][1]["y"], "x");
        assert_eq!(t, json!({"a": "é\"\n", "b": [1, {"a": null, "y": "x"}]}));
        assert_eq!(serde_json::to_value(&t).unwrap(), *t);
        assert_eq!(serde_json::to_string(&t).unwrap(), t.as_str());
        assert_eq!(
            with_raw_text(|| serde_json::to_string(&t)).unwrap(),
            t.as_str()
        );
    }

    #[test]
    fn modify_writes_the_text_anew_and_a_failed_change_is_dropped() {
        let mut t = JsonText::from(json!({"A": 1}));
        assert_eq!(t["A"], 1);
        t.modify(|v| v["B"] = json!({"Ref": "X"}));
        assert_eq!(t.as_str(), r#"{"A":1,"B":{"Ref":"X"}}"#);
        assert_eq!(t.uses().len(), 1);
        let failed: Result<(), &str> = t.try_modify(|v| {
            v["C"] = json!(3);
            Err("no")
        });
        assert!(failed.is_err());
        assert_eq!(t.as_str(), r#"{"A":1,"B":{"Ref":"X"}}"#);
        assert!(JsonText::default().is_empty_object());
        assert!(JsonText::from(Value::Null).is_empty_object());
        assert!(!t.is_empty_object());
    }

    #[test]
    fn members_are_read_alone_and_agree_with_the_whole_value() {
        let value = json!({
            "A": {"x": [1, "}]\\\"", {"y": {}}]},
            "B": "a,b:c",
            "C": [],
            "D": 1.5,
            "E": null,
            "F": {"Fn::GetAtt": ["X", "Arn"]}
        });
        let t = JsonText::from(value.clone());
        for key in ["A", "B", "C", "D", "E", "F"] {
            assert_eq!(t.member(key), value.get(key), "{key}");
        }
        assert_eq!(t.member("Z"), None);
        assert_eq!(JsonText::from(json!([1])).member("A"), None);
        assert_eq!(JsonText::default().member("A"), None);
        // A key with an escape is found through the whole value.
        let odd = JsonText::from(json!({"a\"b": 1, "c": 2}));
        assert_eq!(odd.member("a\"b"), Some(&json!(1)));
        assert_eq!(odd.member("c"), Some(&json!(2)));
    }

    #[test]
    fn deserializes_any_layout_into_compact_text() {
        let t: JsonText = serde_json::from_str("{ \"b\" : [ 1 , 2 ],\n \"a\": {} }").unwrap();
        assert_eq!(t.as_str(), r#"{"a":{},"b":[1,2]}"#);
        let copy = t.clone();
        assert_eq!(copy, t);
        assert_eq!(format!("{copy:?}"), r#"{"a":{},"b":[1,2]}"#);
    }
}
