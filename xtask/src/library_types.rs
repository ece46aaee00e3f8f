//! Which generated types the library's own code names, so that a default
//! build compiles only those (feature `_library` of `khs-cfn`) and not whole
//! services. Derived from the sources on every `codegen` run, so there is no
//! list to keep by hand: a construct that starts using `cfn::sqs::QueuePolicy`
//! fails to compile in a default build until `cargo run -p xtask -- codegen`
//! has been run, and the regeneration test says the same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use regex::Regex;

/// The source trees scanned, relative to the workspace root: every crate
/// that builds with `khs-constructs`' default features (the library, its
/// examples and the KHS app).
pub const SCANNED: &[&str] = &["khs-constructs/src", "khs-constructs/examples", "khs-app"];

/// Modules of `khs-cfn` that are not services.
const NOT_SERVICES: &[&str] = &["registry", "validate", "attributes"];

/// A service module and a name in it (a resource struct such as `Queue` or a
/// resource module such as `queue`).
pub type Named = (String, String);

/// Every `(service, name)` the scanned sources use, with the first place each
/// was seen (for error messages).
pub fn scan(root: &Path) -> Result<BTreeMap<Named, String>> {
    let mut files = Vec::new();
    for dir in SCANNED {
        collect_rs(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut found = BTreeMap::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (named, line) in names_in(&text)? {
            found
                .entry(named)
                .or_insert_with(|| format!("{rel}:{line}"));
        }
    }
    Ok(found)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The `(service, name)` pairs one source file names, with their line: paths
/// `cfn::svc::Name`, groups `cfn::svc::{A, b::{C}, D as E}`, and names
/// through a module alias (`use crate::cfn::ec2;` then `ec2::Vpc`,
/// `use cfn::elasticloadbalancingv2 as elb;` then `elb::Listener`).
pub fn names_in(text: &str) -> Result<Vec<(Named, usize)>> {
    // A file that names another crate `cfn` (`use aws_sdk_cloudformation as
    // cfn;`) only reaches the generated layer as `khs_cfn::`.
    let foreign_cfn = Regex::new(r"\bas\s+cfn\s*;")?.is_match(text);
    let prefix = if foreign_cfn {
        r"\bkhs_cfn::"
    } else {
        r"\b(?:khs_)?cfn::"
    };
    let path = Regex::new(&format!(
        r"{prefix}([a-z0-9]+)::([A-Za-z_][A-Za-z0-9_]*|\{{)"
    ))?;
    let alias = Regex::new(&format!(
        r"{prefix}([a-z0-9]+)(?:\s+as\s+([a-z_][a-z0-9_]*))?\s*;"
    ))?;
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut out = Vec::new();
    for c in path.captures_iter(text) {
        let service = &c[1];
        if NOT_SERVICES.contains(&service) {
            continue;
        }
        let m = c.get(2).map_or(0, |m| m.start());
        if &c[2] == "{" {
            for item in group_items(&text[m..]) {
                out.push(((service.to_string(), item), line_of(m)));
            }
        } else {
            out.push(((service.to_string(), c[2].to_string()), line_of(m)));
        }
    }
    for c in alias.captures_iter(text) {
        let service = c[1].to_string();
        if NOT_SERVICES.contains(&service.as_str()) {
            continue;
        }
        let local = c.get(2).map_or(service.as_str(), |m| m.as_str());
        let through = Regex::new(&format!(
            r"(?:^|[^A-Za-z0-9_:]){}::([A-Za-z_][A-Za-z0-9_]*|\{{)",
            regex::escape(local)
        ))?;
        for u in through.captures_iter(text) {
            let m = u.get(1).map_or(0, |m| m.start());
            if &u[1] == "{" {
                for item in group_items(&text[m..]) {
                    out.push(((service.clone(), item), line_of(m)));
                }
            } else {
                out.push(((service.clone(), u[1].to_string()), line_of(m)));
            }
        }
    }
    Ok(out)
}

/// The first path segment of each item of the brace group `text` starts
/// with (`{A, b::{C, D}, E as F}` gives `A`, `b`, `E`).
fn group_items(text: &str) -> Vec<String> {
    let mut depth = 0usize;
    let mut items = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth > 1 {
                    current.push(ch);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    items.push(std::mem::take(&mut current));
                    break;
                }
                current.push(ch);
            }
            ',' if depth == 1 => items.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    items
        .iter()
        .filter_map(|item| {
            let first = item.trim().split("::").next()?.split_whitespace().next()?;
            (!first.is_empty() && first != "self").then(|| first.to_string())
        })
        .collect()
}

/// Resolves the scanned names against the generated services: the set of
/// `(service, module)` of every resource type the library uses. A name that
/// no generated type has is an error naming the file and line.
pub fn resolve(
    found: &BTreeMap<Named, String>,
    modules: &BTreeMap<String, Vec<(String, String)>>,
) -> Result<BTreeSet<(String, String)>> {
    let mut used = BTreeSet::new();
    let mut unknown = Vec::new();
    for ((service, name), at) in found {
        // Not a service of ours (another crate aliased as `cfn`, such as
        // the AWS SDK's `cfn::error`): the compiler judges those.
        let Some(types) = modules.get(service) else {
            continue;
        };
        match types.iter().find(|(module, ty)| module == name || ty == name) {
            Some((module, _)) => {
                used.insert((service.clone(), module.clone()));
            }
            None => unknown.push(format!(
                "{at}: cfn::{service}::{name} is neither a resource type nor a resource module of {service}"
            )),
        }
    }
    if !unknown.is_empty() {
        bail!(
            "the library names generated types that do not exist:\n  {}",
            unknown.join("\n  ")
        );
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        names_in(text)
            .expect("scans")
            .into_iter()
            .map(|((s, n), _)| format!("{s}::{n}"))
            .collect()
    }

    #[test]
    fn finds_paths_groups_and_aliases() {
        let text = "use crate::cfn::ec2;\nuse crate::cfn::sqs::{Queue as CfnQueue, queue_policy::{A, B}, self};\n\
                    let x = cfn::ecs::Service::new();\nlet v = ec2::Vpc::default();\n\
                    use cfn::elasticloadbalancingv2 as elb;\nlet l = elb::listener::Action;\n\
                    use crate::cfn::registry;\nregistry::spec(\"x\");";
        let mut got = names(text);
        got.sort();
        assert_eq!(
            got,
            [
                "ec2::Vpc",
                "ecs::Service",
                "elasticloadbalancingv2::listener",
                "sqs::Queue",
                "sqs::queue_policy"
            ]
        );
    }

    #[test]
    fn a_file_that_names_another_crate_cfn_is_read_through_khs_cfn_only() {
        let text = "use aws_sdk_cloudformation as cfn;\nlet c = cfn::config::Builder::new();\nlet q = khs_cfn::sqs::Queue::default();";
        assert_eq!(names(text), ["sqs::Queue"]);
    }

    #[test]
    fn unknown_names_are_errors_with_their_place() {
        let mut found = BTreeMap::new();
        found.insert(
            ("sqs".to_string(), "Qeue".to_string()),
            "khs-constructs/src/x.rs:3".to_string(),
        );
        let mut modules = BTreeMap::new();
        modules.insert(
            "sqs".to_string(),
            vec![("queue".to_string(), "Queue".to_string())],
        );
        let err = resolve(&found, &modules).expect_err("unknown").to_string();
        assert!(
            err.contains("khs-constructs/src/x.rs:3: cfn::sqs::Qeue is neither"),
            "{err}"
        );
    }
}
