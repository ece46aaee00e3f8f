//! Offline template diff: which resources a deployment adds, modifies and
//! removes, which property paths change, and whether each change replaces
//! the resource.
//!
//! Replacement is predicted from the registry schemas: a change to a
//! create-only property (or below one) replaces the resource, and a change to
//! a conditionally create-only one may (`Conditional`: CloudFormation
//! decides at deploy time, and its change set's answer is taken then). Changes that
//! arrive indirectly are followed too: a create-only property whose value is a
//! `Ref`/`Fn::GetAtt`/`Fn::Sub` of a resource that is itself replaced, or of a
//! parameter whose value changes, replaces its resource as well (the
//! subnet-group-drags-the-database case). Pure functions over JSON templates,
//! no SDK.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use super::specs;
use crate::core::stack::PATH_METADATA_KEY;

/// Whether a change replaces the resource (CloudFormation's `Replacement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Replacement {
    /// Updated in place.
    No,
    /// Replaced if a value that is only known at deploy time changes.
    Conditional,
    /// Replaced: a new physical resource is created and the old one removed.
    Yes,
}

impl Replacement {
    /// Parses CloudFormation's `True` / `False` / `Conditional` (and the
    /// `Always` / `Never` / `Conditionally` of `RequiresRecreation`).
    pub fn from_aws(s: &str) -> Option<Self> {
        match s {
            "True" | "Always" => Some(Replacement::Yes),
            "Conditional" | "Conditionally" => Some(Replacement::Conditional),
            "False" | "Never" => Some(Replacement::No),
            _ => None,
        }
    }

    /// Whether the resource may be replaced (`Yes` or `Conditional`).
    pub fn may_replace(self) -> bool {
        self != Replacement::No
    }
}

impl fmt::Display for Replacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Replacement::No => "no",
            Replacement::Conditional => "conditional",
            Replacement::Yes => "yes",
        })
    }
}

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Created.
    Add,
    /// Updated (in place or by replacement).
    Modify,
    /// Deleted from the stack.
    Remove,
}

impl Action {
    /// The marker used in listings: `+`, `~`, `-`.
    pub fn marker(self) -> &'static str {
        match self {
            Action::Add => "+",
            Action::Modify => "~",
            Action::Remove => "-",
        }
    }

    /// Parses CloudFormation's `Add` / `Modify` / `Remove` (`Import` and
    /// `Dynamic` are treated as `Add` and `Modify`).
    pub fn from_aws(s: &str) -> Option<Self> {
        match s {
            "Add" | "Import" => Some(Action::Add),
            "Modify" | "Dynamic" => Some(Action::Modify),
            "Remove" => Some(Action::Remove),
            _ => None,
        }
    }
}

/// Which part of a resource entry a change is in (CloudFormation's `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeScope {
    /// `Type` (a type change always replaces).
    Type,
    /// Under `Properties`.
    Properties,
    /// `Metadata`.
    Metadata,
    /// `DeletionPolicy`.
    DeletionPolicy,
    /// `UpdateReplacePolicy`.
    UpdateReplacePolicy,
    /// `DependsOn`.
    DependsOn,
    /// `Condition`.
    Condition,
}

/// One changed path of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    /// Where the change is.
    pub scope: ChangeScope,
    /// The dotted path below `Properties` (`VpcConfig.SubnetIds`), or the
    /// attribute name for other scopes.
    pub path: String,
    /// The deployed value (`None` when added).
    pub before: Option<Value>,
    /// The new value (`None` when removed).
    pub after: Option<Value>,
    /// Whether this change replaces the resource.
    pub replacement: Replacement,
    /// Why the value changes when the text does not (`DbSubnets is
    /// replaced`, `parameter ImageTag changes`).
    pub because: Option<String>,
}

/// One resource that differs between the deployed and the new template.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDiff {
    /// The logical id.
    pub logical_id: String,
    /// The resource type (the new one when it changes).
    pub type_name: String,
    /// Added, modified or removed.
    pub action: Action,
    /// The construct path from the `khs:path` metadata, when present.
    pub construct_path: Option<String>,
    /// The changed paths (empty for additions and removals).
    pub changes: Vec<PropertyChange>,
    /// The strongest replacement among the changes.
    pub replacement: Replacement,
    /// Whether the type holds data (registry `stateful`).
    pub stateful: bool,
    /// The `DeletionPolicy` in force for a removal (the deployed one) or
    /// for a replacement (`UpdateReplacePolicy` of the new template).
    pub retain_policy: Option<String>,
}

impl ResourceDiff {
    /// The changes that replace the resource.
    pub fn replacing_changes(&self) -> impl Iterator<Item = &PropertyChange> {
        self.changes.iter().filter(|c| c.replacement.may_replace())
    }
}

/// A named template section entry (output, parameter, condition…) that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    /// `Outputs`, `Parameters`, `Conditions`, `Mappings`, `Description`…
    pub section: String,
    /// The entry name (empty for single-valued sections).
    pub name: String,
    /// Added, modified or removed.
    pub action: Action,
}

/// The difference between a deployed template and a new one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateDiff {
    /// Changed resources, sorted by logical id.
    pub resources: Vec<ResourceDiff>,
    /// Changed outputs, parameters and other sections.
    pub entries: Vec<EntryChange>,
    /// Resources renamed by a declared move (`khs:moved-from`), compared
    /// under their new id.
    pub moved: Vec<Moved>,
}

/// A resource renamed by a declared move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The deployed logical id.
    pub from: String,
    /// The new logical id.
    pub to: String,
}

impl TemplateDiff {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.entries.is_empty() && self.moved.is_empty()
    }

    /// A resource's diff by logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceDiff> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// Counts of (added, modified, removed) resources.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |a| self.resources.iter().filter(|r| r.action == a).count();
        (n(Action::Add), n(Action::Modify), n(Action::Remove))
    }
}

/// Compares a deployed template (`old`, `None` for a stack that does not
/// exist yet) with a new one. `changed_parameters` names the parameters whose
/// value differs from the deployed stack's (their `Ref`s change value).
pub fn diff_templates(
    old: Option<&Value>,
    new: &Value,
    changed_parameters: &BTreeSet<String>,
) -> TemplateDiff {
    let empty = serde_json::Map::new();
    let old_res = old
        .and_then(|t| t.get("Resources"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_res = new
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);

    let mut out: BTreeMap<String, ResourceDiff> = BTreeMap::new();
    for (id, n) in new_res {
        let ty = type_of(n);
        match old_res.get(id) {
            None => {
                out.insert(id.clone(), resource_diff(id, n, Action::Add, Vec::new()));
            }
            Some(o) => {
                let changes = entry_changes(o, n, &ty);
                if !changes.is_empty() {
                    out.insert(id.clone(), resource_diff(id, n, Action::Modify, changes));
                }
            }
        }
    }
    for (id, o) in old_res {
        if !new_res.contains_key(id) {
            let mut d = resource_diff(id, o, Action::Remove, Vec::new());
            d.retain_policy = o
                .get("DeletionPolicy")
                .and_then(Value::as_str)
                .map(str::to_string);
            out.insert(id.clone(), d);
        }
    }

    // Indirect changes: follow references to replaced resources and changed
    // parameters until nothing more changes.
    loop {
        let replaced: BTreeMap<String, Replacement> = out
            .values()
            .filter(|d| d.action == Action::Modify && d.replacement.may_replace())
            .map(|d| (d.logical_id.clone(), d.replacement))
            .collect();
        let mut grew = false;
        for (id, n) in new_res {
            if !old_res.contains_key(id) {
                continue;
            }
            let ty = type_of(n);
            let Some(props) = n.get("Properties") else {
                continue;
            };
            let mut refs = Vec::new();
            collect_refs(props, "", &mut refs);
            for (path, target) in refs {
                let why = if let Some(r) = replaced.get(&target) {
                    Some((*r, format!("{target} is replaced")))
                } else if changed_parameters.contains(&target) {
                    Some((Replacement::Yes, format!("parameter {target} changes")))
                } else {
                    None
                };
                let Some((strength, because)) = why else {
                    continue;
                };
                let replacement = strength.min(replacement_on_change(&ty, &path));
                let diff = out
                    .entry(id.clone())
                    .or_insert_with(|| resource_diff(id, n, Action::Modify, Vec::new()));
                if diff.action != Action::Modify {
                    continue;
                }
                let covered = diff.changes.iter().any(|c| {
                    c.scope == ChangeScope::Properties
                        && (c.path == path || is_prefix(&c.path, &path))
                        && c.replacement >= replacement
                });
                if covered {
                    continue;
                }
                let value = lookup(props, &path).cloned();
                diff.changes.push(PropertyChange {
                    scope: ChangeScope::Properties,
                    path: path.clone(),
                    before: value.clone(),
                    after: value,
                    replacement,
                    because: Some(because),
                });
                diff.replacement = diff.replacement.max(replacement);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    for d in out.values_mut() {
        if d.action == Action::Modify && d.replacement.may_replace() {
            d.retain_policy = new_res
                .get(&d.logical_id)
                .and_then(|n| n.get("UpdateReplacePolicy"))
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        d.changes
            .sort_by(|a, b| (a.scope, &a.path).cmp(&(b.scope, &b.path)));
    }

    let mut entries = Vec::new();
    for section in ["Parameters", "Conditions", "Mappings", "Outputs"] {
        let o = old
            .and_then(|t| t.get(section))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let n = new
            .get(section)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for name in names {
            let action = match (o.get(name), n.get(name)) {
                (None, Some(_)) => Action::Add,
                (Some(_), None) => Action::Remove,
                (Some(a), Some(b)) if a != b => Action::Modify,
                _ => continue,
            };
            entries.push(EntryChange {
                section: section.to_string(),
                name: name.clone(),
                action,
            });
        }
    }
    for section in ["Description", "Transform"] {
        let o = old.and_then(|t| t.get(section));
        let n = new.get(section);
        let action = match (o, n) {
            (None, Some(_)) => Action::Add,
            (Some(_), None) => Action::Remove,
            (Some(a), Some(b)) if a != b => Action::Modify,
            _ => continue,
        };
        entries.push(EntryChange {
            section: section.to_string(),
            name: String::new(),
            action,
        });
    }

    TemplateDiff {
        resources: out.into_values().collect(),
        entries,
        moved: Vec::new(),
    }
}

/// The construct path recorded in a resource entry's metadata.
pub fn construct_path(entry: &Value) -> Option<String> {
    entry
        .get("Metadata")
        .and_then(|m| m.get(PATH_METADATA_KEY))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether the registry marks the type as stateful.
pub fn is_stateful(type_name: &str) -> bool {
    specs::stateful(type_name)
}

fn type_of(entry: &Value) -> String {
    entry
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// What changing `path` does to a resource of `type_name`, from its schema:
/// `Yes` for a create-only property, `Conditional` for a conditionally
/// create-only one (CloudFormation decides at deploy time), else `No`.
fn replacement_on_change(type_name: &str, path: &str) -> Replacement {
    match specs::spec(type_name) {
        Some(s) if s.replaces_on_change(path) => Replacement::Yes,
        Some(s) if s.may_replace_on_change(path) => Replacement::Conditional,
        _ => Replacement::No,
    }
}

fn resource_diff(
    id: &str,
    entry: &Value,
    action: Action,
    changes: Vec<PropertyChange>,
) -> ResourceDiff {
    let type_name = type_of(entry);
    let replacement = changes
        .iter()
        .map(|c| c.replacement)
        .max()
        .unwrap_or(Replacement::No);
    ResourceDiff {
        logical_id: id.to_string(),
        stateful: is_stateful(&type_name),
        type_name,
        action,
        construct_path: construct_path(entry),
        changes,
        replacement,
        retain_policy: None,
    }
}

fn entry_changes(old: &Value, new: &Value, type_name: &str) -> Vec<PropertyChange> {
    let mut out = Vec::new();
    let old_ty = type_of(old);
    if old_ty != type_name {
        out.push(PropertyChange {
            scope: ChangeScope::Type,
            path: "Type".to_string(),
            before: Some(Value::String(old_ty)),
            after: Some(Value::String(type_name.to_string())),
            replacement: Replacement::Yes,
            because: None,
        });
    }
    let null = Value::Null;
    let op = old.get("Properties").unwrap_or(&null);
    let np = new.get("Properties").unwrap_or(&null);
    let mut leaves = Vec::new();
    diff_values("", op, np, &mut leaves);
    for (path, before, after) in leaves {
        let replacement = replacement_on_change(type_name, &path);
        out.push(PropertyChange {
            scope: ChangeScope::Properties,
            path,
            before,
            after,
            replacement,
            because: None,
        });
    }
    for (scope, key) in [
        (ChangeScope::Metadata, "Metadata"),
        (ChangeScope::DeletionPolicy, "DeletionPolicy"),
        (ChangeScope::UpdateReplacePolicy, "UpdateReplacePolicy"),
        (ChangeScope::DependsOn, "DependsOn"),
        (ChangeScope::Condition, "Condition"),
    ] {
        let (a, b) = (old.get(key), new.get(key));
        // A declared move's marker is not a change of the resource.
        let (a, b) = if key == "Metadata" {
            (without_move_marker(a), without_move_marker(b))
        } else {
            (a.cloned(), b.cloned())
        };
        if a != b {
            out.push(PropertyChange {
                scope,
                path: key.to_string(),
                before: a,
                after: b,
                replacement: Replacement::No,
                because: None,
            });
        }
    }
    out
}

fn without_move_marker(m: Option<&Value>) -> Option<Value> {
    let mut m = m.cloned()?;
    if let Some(o) = m.as_object_mut() {
        o.remove(super::moves::MOVED_FROM_KEY);
        if o.is_empty() {
            return None;
        }
    }
    Some(m)
}

/// Whether a JSON object is an intrinsic function call (`{"Ref": …}`,
/// `{"Fn::…": …}`), compared as a whole rather than key by key.
fn is_intrinsic(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 1
            && o.keys()
                .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

type Leaf = (String, Option<Value>, Option<Value>);

fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<Leaf>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if !is_intrinsic(a) && !is_intrinsic(b) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = join(path, k);
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_values(&p, u, v, out),
                    (u, v) => out.push((p, u.cloned(), v.cloned())),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_values(&join(path, &i.to_string()), u, v, out);
            }
        }
        (Value::Null, _) if path.is_empty() => {
            diff_values(path, &Value::Object(Default::default()), b, out)
        }
        (_, Value::Null) if path.is_empty() => {
            diff_values(path, a, &Value::Object(Default::default()), out)
        }
        _ => out.push((
            path.to_string(),
            (!a.is_null()).then(|| a.clone()),
            (!b.is_null()).then(|| b.clone()),
        )),
    }
}

fn is_prefix(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |cur, part| match cur {
        Value::Object(o) => o.get(part),
        Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The targets of `Ref`, `Fn::GetAtt` and `Fn::Sub` variables below `v`,
/// each with the property path of the intrinsic that holds it.
fn collect_refs(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    collect_refs_at(v, path, false, out);
}

/// Collects `(property path, target)` of every reference in `v`. Inside an
/// intrinsic function (`inside`), keys and indices are the function's
/// arguments, not property paths: everything there belongs to `path`.
fn collect_refs_at(v: &Value, path: &str, inside: bool, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(t)) = o.get("Ref") {
                if !t.starts_with("AWS::") {
                    out.push((path.to_string(), t.clone()));
                }
                return;
            }
            if let Some(g) = o.get("Fn::GetAtt") {
                let target = match g {
                    Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
                    Value::String(s) => s.split('.').next().map(str::to_string),
                    _ => None,
                };
                if let Some(t) = target {
                    out.push((path.to_string(), t));
                }
                return;
            }
            if let Some(s) = o.get("Fn::Sub") {
                let (text, vars) = match s {
                    Value::String(t) => (Some(t.as_str()), None),
                    Value::Array(a) => (a.first().and_then(Value::as_str), a.get(1)),
                    _ => (None, None),
                };
                if let Some(text) = text {
                    for var in sub_variables(text) {
                        let t = var.split('.').next().unwrap_or(&var).to_string();
                        if !t.starts_with("AWS::") && vars.is_none_or(|m| m.get(&t).is_none()) {
                            out.push((path.to_string(), t));
                        }
                    }
                }
                if let Some(m) = vars {
                    collect_refs_at(m, path, true, out);
                }
                return;
            }
            for (k, x) in o {
                if inside || k.starts_with("Fn::") {
                    collect_refs_at(x, path, true, out);
                } else {
                    collect_refs_at(x, &join(path, k), false, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if inside {
                    collect_refs_at(x, path, true, out);
                } else {
                    collect_refs_at(x, &join(path, &i.to_string()), false, out);
                }
            }
        }
        _ => {}
    }
}

/// `${Name}` and `${Name.Attr}` variables of an `Fn::Sub` string (not `${!Literal}`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let var = &after[..end];
                if !var.starts_with('!') && !var.is_empty() {
                    out.push(var.trim().to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// A short one-line rendering of a JSON value for listings.
pub fn short(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 80 {
                let cut: String = s.chars().take(77).collect();
                format!("{cut}...")
            } else {
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db(subnet_group: Value, storage: &str) -> Value {
        json!({
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Metadata": {"khs:path": "app/Database/Instance"},
            "Properties": {
                "DBSubnetGroupName": subnet_group,
                "AllocatedStorage": storage,
                "Engine": "postgres",
                "Tags": [{"Key": "team", "Value": "crm"}]
            }
        })
    }

    fn template(resources: Value) -> Value {
        json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    }

    fn no_params() -> BTreeSet<String> {
        BTreeSet::new()
    }

    #[test]
    fn identical_templates_have_no_diff() {
        let t = template(json!({"Db": db(json!("g"), "20")}));
        assert!(diff_templates(Some(&t), &t, &no_params()).is_empty());
    }

    #[test]
    fn new_stack_adds_every_resource() {
        let t = template(json!({"Db": db(json!("g"), "20")}));
        let d = diff_templates(None, &t, &no_params());
        assert_eq!(d.counts(), (1, 0, 0));
        assert_eq!(
            d.resources[0].construct_path.as_deref(),
            Some("app/Database/Instance")
        );
        assert!(d.resources[0].stateful);
    }

    #[test]
    fn in_place_change_does_not_replace() {
        let a = template(json!({"Db": db(json!("g"), "20")}));
        let b = template(json!({"Db": db(json!("g"), "50")}));
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Db").unwrap();
        assert_eq!(r.action, Action::Modify);
        assert_eq!(r.replacement, Replacement::No);
        assert_eq!(r.changes.len(), 1);
        assert_eq!(r.changes[0].path, "AllocatedStorage");
        assert_eq!(r.changes[0].before, Some(json!("20")));
    }

    #[test]
    fn create_only_change_replaces_and_names_the_property() {
        let a = template(json!({"Db": db(json!("old-group"), "20")}));
        let b = template(json!({"Db": db(json!("new-group"), "20")}));
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Db").unwrap();
        assert_eq!(r.replacement, Replacement::Yes);
        assert_eq!(r.retain_policy.as_deref(), Some("Retain"));
        let c: Vec<_> = r.replacing_changes().map(|c| c.path.as_str()).collect();
        assert_eq!(c, ["DBSubnetGroupName"]);
    }

    #[test]
    fn replaced_subnet_group_drags_the_database_along() {
        let group = |name: &str| {
            json!({"Type": "AWS::RDS::DBSubnetGroup",
                   "Properties": {"DBSubnetGroupName": name, "SubnetIds": ["a", "b"]}})
        };
        let a = template(json!({"Group": group("g1"), "Db": db(json!({"Ref": "Group"}), "20")}));
        let b = template(json!({"Group": group("g2"), "Db": db(json!({"Ref": "Group"}), "20")}));
        let d = diff_templates(Some(&a), &b, &no_params());
        assert_eq!(d.resource("Group").unwrap().replacement, Replacement::Yes);
        let r = d.resource("Db").unwrap();
        assert_eq!(r.replacement, Replacement::Yes);
        assert_eq!(r.changes[0].path, "DBSubnetGroupName");
        assert_eq!(r.changes[0].because.as_deref(), Some("Group is replaced"));
    }

    #[test]
    fn renamed_subnet_group_changes_the_reference_text() {
        let group = json!({"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"SubnetIds": ["a"]}});
        let a = template(json!({"Group": group, "Db": db(json!({"Ref": "Group"}), "20")}));
        let b = template(json!({"Subnets": group, "Db": db(json!({"Ref": "Subnets"}), "20")}));
        let d = diff_templates(Some(&a), &b, &no_params());
        assert_eq!(d.counts(), (1, 1, 1));
        assert_eq!(d.resource("Db").unwrap().replacement, Replacement::Yes);
    }

    #[test]
    fn changed_parameter_reaching_a_create_only_property_replaces() {
        let t = template(json!({"Db": db(json!({"Ref": "GroupName"}), "20")}));
        let changed: BTreeSet<String> = ["GroupName".to_string()].into();
        let d = diff_templates(Some(&t), &t, &changed);
        let r = d.resource("Db").unwrap();
        assert_eq!(r.replacement, Replacement::Yes);
        assert_eq!(
            r.changes[0].because.as_deref(),
            Some("parameter GroupName changes")
        );
        // Unchanged parameters change nothing.
        assert!(diff_templates(Some(&t), &t, &no_params()).is_empty());
    }

    #[test]
    fn sub_variables_are_followed() {
        let bucket = |name: &str| json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": name}}});
        let a = template(
            json!({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t1"}},
                                "B": bucket("b-${Topic.TopicName}-${AWS::Region}")}),
        );
        let mut b = a.clone();
        b["Resources"]["Topic"]["Properties"]["TopicName"] = json!("t2");
        let d = diff_templates(Some(&a), &b, &no_params());
        assert_eq!(d.resource("B").unwrap().replacement, Replacement::Yes);
    }

    #[test]
    fn references_inside_functions_belong_to_the_property() {
        // `Fn::Sub` variable maps and `Fn::Join` lists are arguments, not
        // property paths: the change is reported on the property itself, with
        // its current value.
        let task = json!({"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "ContainerDefinitions": [{
                "Name": "api",
                "Image": {"Fn::Sub": ["${Uri}:${Tag}", {"Tag": {"Ref": "ImageTag"}, "Uri": "repo"}]},
                "Command": [{"Fn::Join": ["", ["--tag=", {"Ref": "ImageTag"}]]}]
            }]
        }});
        let t = template(json!({"Task": task}));
        let changed: BTreeSet<String> = ["ImageTag".to_string()].into();
        let d = diff_templates(Some(&t), &t, &changed);
        let r = d.resource("Task").unwrap();
        let paths: Vec<&str> = r.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "ContainerDefinitions.0.Command.0",
                "ContainerDefinitions.0.Image"
            ]
        );
        assert!(
            r.changes[1]
                .before
                .as_ref()
                .is_some_and(|v| v.get("Fn::Sub").is_some())
        );
        assert_eq!(r.replacement, Replacement::Yes);
    }

    #[test]
    fn conditionally_create_only_properties_may_replace() {
        let db = |multi_az: bool, class: &str| {
            json!({"Type": "AWS::RDS::DBInstance", "Properties": {
                "Engine": "postgres", "AllocatedStorage": "20",
                "MultiAZ": multi_az, "DBInstanceClass": class}})
        };
        let a = template(json!({"Db": db(false, "db.t3.small")}));
        let b = template(json!({"Db": db(true, "db.t3.medium")}));
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Db").unwrap();
        let of = |p: &str| r.changes.iter().find(|c| c.path == p).unwrap().replacement;
        assert_eq!(of("MultiAZ"), Replacement::Conditional);
        assert_eq!(of("DBInstanceClass"), Replacement::No);
        assert_eq!(r.replacement, Replacement::Conditional);
    }

    #[test]
    fn moving_a_service_from_a_launch_type_to_capacity_providers_may_replace_it() {
        // What the staging service went through when it moved to Fargate
        // Spot: `LaunchType` is conditionally create-only, so the diff and
        // the plan say the service may be replaced.
        let a = template(json!({"Svc": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": "c", "LaunchType": "FARGATE", "DesiredCount": 2}}}));
        let b = template(json!({"Svc": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": "c", "DesiredCount": 2, "CapacityProviderStrategy": [
                {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 3}]}}}));
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Svc").unwrap();
        let of = |p: &str| r.changes.iter().find(|c| c.path == p).unwrap().replacement;
        assert_eq!(of("LaunchType"), Replacement::Conditional);
        assert_eq!(of("CapacityProviderStrategy"), Replacement::No);
        assert_eq!(r.replacement, Replacement::Conditional);
    }

    #[test]
    fn removal_keeps_the_deletion_policy() {
        let a = template(json!({"Db": db(json!("g"), "20")}));
        let b = template(json!({}));
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Db").unwrap();
        assert_eq!(r.action, Action::Remove);
        assert_eq!(r.retain_policy.as_deref(), Some("Retain"));
    }

    #[test]
    fn attribute_and_section_changes_are_listed() {
        let a = template(json!({"Db": db(json!("g"), "20")}));
        let mut b = a.clone();
        b["Resources"]["Db"]["DeletionPolicy"] = json!("Snapshot");
        b["Outputs"] = json!({"Endpoint": {"Value": "x"}});
        let d = diff_templates(Some(&a), &b, &no_params());
        let r = d.resource("Db").unwrap();
        assert_eq!(r.changes[0].scope, ChangeScope::DeletionPolicy);
        assert_eq!(r.replacement, Replacement::No);
        assert_eq!(d.entries[0].section, "Outputs");
        assert_eq!(d.entries[0].action, Action::Add);
    }

    #[test]
    fn nested_paths_and_arrays() {
        let a = template(json!({"Db": db(json!("g"), "20")}));
        let mut b = a.clone();
        b["Resources"]["Db"]["Properties"]["Tags"][0]["Value"] = json!("ops");
        let d = diff_templates(Some(&a), &b, &no_params());
        assert_eq!(d.resource("Db").unwrap().changes[0].path, "Tags.0.Value");
    }
}
