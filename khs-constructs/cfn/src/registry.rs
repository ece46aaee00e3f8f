//! Every CloudFormation resource type cfn-lint knows for us-east-1, with the
//! metadata of each from its registry schema. Always compiled in, whatever
//! service features are on.
//!
//! The metadata is generated (`cargo run -p xtask -- codegen`) as one line of
//! text per type (`registry_data.rs`) and parsed into a [`ResourceSpec`] on
//! the first use of that type in a process, then kept for the rest of it.
//! Compiling 1,854 constant `ResourceSpec` tables instead cost about 12 s of
//! CPU in every clean build; parsing the line of a type takes microseconds
//! (`docs/performance.md`). A generated type's `SPEC` constant holds the
//! same metadata; a test compares the two for every type.

use std::sync::OnceLock;

use khs_core::resource::{PropertySpec, ResourceSpec, TagStyle};

pub use crate::registry_data::KNOWN_TYPES;
use crate::registry_data::{COUNT, SPEC_LINES};

/// The metadata of a resource type, by type name (`None` for a custom
/// resource or an unknown name).
pub fn spec(type_name: &str) -> Option<&'static ResourceSpec> {
    static PARSED: [OnceLock<Option<&'static ResourceSpec>>; COUNT] =
        [const { OnceLock::new() }; COUNT];
    let index = index_of(type_name)?;
    *PARSED.get(index)?.get_or_init(|| {
        let spec = parse(SPEC_LINES.get(index)?)?;
        // Kept for the rest of the process, like a static table.
        (KNOWN_TYPES.get(index) == Some(&spec.type_name)).then(|| &*Box::leak(Box::new(spec)))
    })
}

/// Every type's metadata, in the order of [`KNOWN_TYPES`] (sorted by type
/// name). Parses the types not used yet.
pub fn specs() -> impl Iterator<Item = &'static ResourceSpec> {
    KNOWN_TYPES.iter().filter_map(|t| spec(t))
}

/// The position of `type_name` in [`KNOWN_TYPES`] (and of its data in the
/// generated tables that follow that order).
pub(crate) fn index_of(type_name: &str) -> Option<usize> {
    KNOWN_TYPES.binary_search(&type_name).ok()
}

/// Whether `type_name` is a CloudFormation resource type: one of
/// [`KNOWN_TYPES`], or a custom resource (`Custom::…`).
pub fn is_known(type_name: &str) -> bool {
    index_of(type_name).is_some()
        || type_name
            .strip_prefix("Custom::")
            .is_some_and(|rest| !rest.is_empty())
}

/// Known type names close to `type_name` (at most three, best first):
/// a case-insensitive match, else names within a small edit distance.
pub fn suggest(type_name: &str) -> Vec<String> {
    let wanted = type_name.to_ascii_lowercase();
    if let Some(exact) = KNOWN_TYPES
        .iter()
        .find(|k| k.to_ascii_lowercase() == wanted)
    {
        return vec![(*exact).to_string()];
    }
    let mut scored: Vec<(f64, &str)> = KNOWN_TYPES
        .iter()
        .map(|k| {
            (
                strsim::normalized_levenshtein(&k.to_ascii_lowercase(), &wanted),
                *k,
            )
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_string())
        .collect()
}

/// The service feature (and module) a type belongs to: `sqs` for
/// `AWS::SQS::Queue`.
pub fn service_of(type_name: &str) -> Option<String> {
    let mut parts = type_name.split("::");
    let (_, service) = (parts.next()?, parts.next()?);
    Some(service.to_ascii_lowercase())
}

/// One line of the registry data (the format is written by
/// `xtask/src/codegen.rs`, `spec_line`): eight fields separated by `|`,
/// list items by `,`:
/// `type|tags|stateful|docs url|properties|create-only|conditional|attributes`,
/// where tags are `-`, `list:<property>` or `map:<property>`, stateful is
/// `stateful` or `-`, and a property is its name with the flags `:r`
/// (required), `:c` (create-only) or `:rc`. `None` for a line that does not
/// have this form (a test parses every line).
fn parse(line: &'static str) -> Option<ResourceSpec> {
    let mut fields = line.split('|');
    let type_name = fields.next()?;
    let (tags, tag_property) = match fields.next()? {
        "-" => (TagStyle::None, ""),
        tags => match tags.split_once(':')? {
            ("list", property) => (TagStyle::KeyValueList, property),
            ("map", property) => (TagStyle::Map, property),
            _ => return None,
        },
    };
    let stateful = match fields.next()? {
        "stateful" => true,
        "-" => false,
        _ => return None,
    };
    let docs_url = fields.next()?;
    let properties = items(fields.next()?)
        .map(property)
        .collect::<Option<Vec<_>>>()?
        .leak();
    let create_only = items(fields.next()?).collect::<Vec<_>>().leak();
    let conditional_create_only = items(fields.next()?).collect::<Vec<_>>().leak();
    let attributes = items(fields.next()?).collect::<Vec<_>>().leak();
    if fields.next().is_some() {
        return None;
    }
    Some(ResourceSpec {
        type_name,
        properties,
        create_only,
        conditional_create_only,
        attributes,
        tags,
        tag_property,
        stateful,
        docs_url,
    })
}

/// The items of a `,`-separated list (none for an empty field).
fn items(field: &'static str) -> impl Iterator<Item = &'static str> {
    field.split(',').filter(|item| !item.is_empty())
}

/// `Name`, `Name:r`, `Name:c` or `Name:rc`.
fn property(item: &'static str) -> Option<PropertySpec> {
    let (name, flags) = item.split_once(':').unwrap_or((item, ""));
    let (required, replaces) = match flags {
        "" => (false, false),
        "r" => (true, false),
        "c" => (false, true),
        "rc" => (true, true),
        _ => return None,
    };
    Some(PropertySpec {
        name,
        required,
        replaces,
    })
}
