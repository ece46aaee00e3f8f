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
    template_references(stack, t).map(|_| ())
}

/// Validates a whole template of stack `stack` ([`template`]) and returns
/// what its resources refer to, recorded on the way.
pub fn template_references(stack: &str, t: &Template) -> Result<References> {
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

    let names = Names::of(t);
    let conditions: BTreeSet<&str> = t.conditions.keys().map(String::as_str).collect();
    let dangling = |holder: &str, target: &str| Error::DanglingReference {
        stack: stack.to_string(),
        logical_id: holder.to_string(),
        target: target.to_string(),
    };

    let mut refs = References::with_capacity(t);
    let mut record = Record::default();
    for (id, entry) in &t.resources {
        for d in &entry.depends_on {
            if names.resource(d).is_none() {
                return Err(dangling(id, d));
            }
        }
        if let Some(c) = &entry.condition {
            if !conditions.contains(c.as_str()) {
                return Err(dangling(id, c));
            }
        }
        resolve(
            entry.properties.uses(),
            &names,
            &conditions,
            true,
            Some(&mut record),
        )
        .map_err(|target| dangling(id, &target))?;
        refs.push(&mut record);
    }
    for (id, output) in &t.outputs {
        let v = serde_json::to_value(output).unwrap_or_default();
        check_refs(&v, &names, &conditions, true, None)
            .map_err(|target| dangling(&format!("Outputs.{id}"), &target))?;
    }
    Ok(refs)
}

/// What a resource's properties name, as [`References`] records it: the
/// resources and parameters of its template it refers to and whether it
/// imports a value.
///
/// A resource refers to a name through `Ref` (pseudo parameters left out),
/// `Fn::GetAtt` (`["Id", "Attr"]` or `"Id.Attr"`) and the variables of
/// `Fn::Sub` (`${Id}`, `${Id.Attr}`; not the variables its second argument
/// defines, not `${!Literal}`). Intrinsics nested in the arguments of
/// `Fn::GetAtt` and in the text argument of `Fn::Sub` are checked but not
/// recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Referent {
    /// The resource at this position of the template's resources.
    Resource(usize),
    /// The parameter at this position of the template's parameters.
    Parameter(usize),
}

/// The names each resource of a template refers to ([`Referent`]), recorded
/// by the reference check of synthesis and kept beside the template in the
/// [`StackArtifact`](super::app::StackArtifact), so that readers of the
/// synthesized templates (the architecture diagram) need not walk every
/// property again. Resources are given by position in the template's
/// resource order, parameters likewise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// The number of resources of the template: referents below it are
    /// resources, the others parameters.
    resources: u32,
    /// Per resource, the end of its referents in `referents`.
    ends: Vec<u32>,
    /// Per resource, sorted and without repeats.
    referents: Vec<u32>,
    /// Per resource, whether its properties hold an `Fn::ImportValue`.
    imports: Vec<bool>,
}

impl References {
    fn with_capacity(t: &Template) -> References {
        References {
            resources: u32::try_from(t.resources.len()).unwrap_or(u32::MAX),
            ends: Vec::with_capacity(t.resources.len()),
            referents: Vec::with_capacity(t.resources.len() * 4),
            imports: Vec::with_capacity(t.resources.len()),
        }
    }

    fn push(&mut self, r: &mut Record) {
        r.ids.sort_unstable();
        r.ids.dedup();
        self.referents.extend_from_slice(&r.ids);
        self.ends
            .push(u32::try_from(self.referents.len()).unwrap_or(u32::MAX));
        self.imports.push(r.imports);
        r.ids.clear();
        r.imports = false;
    }

    /// The references of `t` without checking them (names that are no
    /// resource or parameter of `t` are left out): for a template that did
    /// not come from synthesis.
    pub fn of(t: &Template) -> References {
        let names = Names::of(t);
        let conditions = BTreeSet::new();
        let mut refs = References::with_capacity(t);
        let mut record = Record::default();
        for entry in t.resources.values() {
            // Not strict: nothing is an error, so the walk goes to the end.
            let _ = resolve(
                entry.properties.uses(),
                &names,
                &conditions,
                false,
                Some(&mut record),
            );
            refs.push(&mut record);
        }
        refs
    }

    /// Whether these are the references of a template with the resources
    /// of `t` (the same number; a default, empty value is not).
    pub fn fits(&self, t: &Template) -> bool {
        self.ends.len() == t.resources.len()
    }

    /// The number of resources recorded.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no resource is recorded.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// What the resource at position `resource` refers to: resources
    /// first, then parameters, each in template order, without repeats.
    pub fn of_resource(&self, resource: usize) -> impl Iterator<Item = Referent> + '_ {
        let end = self.ends.get(resource).map_or(0, |&e| e as usize);
        let start = match resource.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(end, |&e| e as usize),
            None => 0,
        };
        let n = self.resources;
        self.referents[start.min(end)..end].iter().map(move |&i| {
            if i < n {
                Referent::Resource(i as usize)
            } else {
                Referent::Parameter((i - n) as usize)
            }
        })
    }

    /// Whether the properties of the resource at position `resource` hold
    /// an `Fn::ImportValue`.
    pub fn imports(&self, resource: usize) -> bool {
        self.imports.get(resource).copied().unwrap_or(false)
    }
}

/// The resources and parameters of a template by name: its index in
/// [`References`] (resources first, then parameters, in template order).
struct Names<'t> {
    sorted: Vec<(&'t str, u32)>,
    resources: u32,
}

impl<'t> Names<'t> {
    fn of(t: &'t Template) -> Names<'t> {
        let mut sorted: Vec<(&str, u32)> = t
            .resources
            .keys()
            .chain(t.parameters.keys())
            .enumerate()
            .map(|(i, k)| (k.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        // Resources win over a parameter of the same name, as before.
        sorted.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
        sorted.dedup_by(|later, earlier| later.0 == earlier.0);
        Names {
            sorted,
            resources: u32::try_from(t.resources.len()).unwrap_or(u32::MAX),
        }
    }

    /// The index of a resource or parameter.
    fn get(&self, name: &str) -> Option<u32> {
        self.sorted
            .binary_search_by(|(k, _)| (*k).cmp(name))
            .ok()
            .map(|i| self.sorted[i].1)
    }

    /// The index of a resource.
    fn resource(&self, name: &str) -> Option<u32> {
        self.get(name).filter(|&i| i < self.resources)
    }
}

/// What [`check_refs`] records of one resource.
#[derive(Default)]
struct Record {
    ids: Vec<u32>,
    imports: bool,
}

impl Record {
    fn name(&mut self, names: &Names<'_>, name: &str) {
        if let Some(i) = names.get(name) {
            self.ids.push(i);
        }
    }
}

/// Walks a JSON value and returns the first reference that does not
/// resolve (when `strict`; otherwise nothing is an error); records what it
/// refers to in `rec` (see [`Referent`]).
fn check_refs(
    v: &serde_json::Value,
    names: &Names<'_>,
    conditions: &BTreeSet<&str>,
    strict: bool,
    rec: Option<&mut Record>,
) -> std::result::Result<(), String> {
    resolve(&uses_of(v), names, conditions, strict, rec)
}

/// One name a JSON value refers to, as the reference check reads it:
/// [`uses_of`] lists them in the order the check meets them, from the tree
/// while it exists (when a resource is added), and [`resolve`] checks them
/// against the template once it is complete. A resource's properties are
/// then held as text (see [`crate::json_text`]) and never walked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Use {
    /// The name (the variable itself for a `Fn::Sub` variable, `Id.Attr`
    /// included; empty for `Fn::ImportValue`).
    name: Box<str>,
    kind: UseKind,
    /// Whether what it names is recorded in [`References`] (not the
    /// intrinsics nested in the arguments of `Fn::GetAtt` and in the text
    /// argument of `Fn::Sub`, which are only checked).
    recorded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UseKind {
    /// `{"Ref": name}`: a resource, a parameter or a pseudo parameter.
    Ref,
    /// `{"Fn::GetAtt": [name, …]}`: a resource.
    GetAtt,
    /// `{"Fn::GetAtt": "Id.Attr"}` (name is `Id`): recorded, not checked.
    GetAttText,
    /// A `${name}` variable of `Fn::Sub`; `defined`: the `Fn::Sub`'s own
    /// variables define it; `base_defined`: they define its `Id` part.
    SubVariable { defined: bool, base_defined: bool },
    /// `Fn::ImportValue`.
    Import,
    /// A condition named by `Fn::If` or `{"Condition": name}`.
    Condition,
}

/// The names `v` refers to, in the order [`resolve`] checks them.
pub(crate) fn uses_of(v: &serde_json::Value) -> Vec<Use> {
    let mut out = Vec::new();
    collect_uses(v, true, &mut out);
    out
}

fn collect_uses(v: &serde_json::Value, recorded: bool, out: &mut Vec<Use>) {
    use serde_json::Value as J;
    let push = |out: &mut Vec<Use>, name: &str, kind: UseKind, recorded: bool| {
        out.push(Use {
            name: name.into(),
            kind,
            recorded,
        });
    };
    match v {
        J::Array(items) => {
            for i in items {
                collect_uses(i, recorded, out);
            }
        }
        J::Object(map) => {
            if let (1, Some((k, arg))) = (map.len(), map.iter().next()) {
                match (k.as_str(), arg) {
                    ("Ref", J::String(n)) => {
                        push(out, n, UseKind::Ref, recorded);
                        return;
                    }
                    ("Fn::GetAtt", J::Array(a)) => {
                        if let Some(J::String(n)) = a.first() {
                            push(out, n, UseKind::GetAtt, recorded);
                        }
                        // Checked, not recorded.
                        for i in a {
                            collect_uses(i, false, out);
                        }
                        return;
                    }
                    ("Fn::GetAtt", J::String(s)) => {
                        if recorded {
                            let base = s.split('.').next().unwrap_or(s);
                            push(out, base, UseKind::GetAttText, true);
                        }
                        return;
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
                            let kind = UseKind::SubVariable {
                                defined: vars.is_some_and(|m| m.contains_key(var)),
                                base_defined: vars.is_some_and(|m| m.contains_key(base)),
                            };
                            push(out, var, kind, recorded);
                        }
                        if let J::Array(a) = s {
                            // The variables' values are recorded, the text's
                            // other arguments only checked.
                            for (k, i) in a.iter().enumerate() {
                                collect_uses(i, recorded && k == 1, out);
                            }
                            return;
                        }
                    }
                    ("Fn::ImportValue", _) if recorded => {
                        push(out, "", UseKind::Import, true);
                    }
                    ("Fn::If", J::Array(a)) => {
                        if let Some(J::String(c)) = a.first() {
                            push(out, c, UseKind::Condition, recorded);
                        }
                    }
                    ("Condition", J::String(c)) => push(out, c, UseKind::Condition, recorded),
                    _ => {}
                }
            }
            for i in map.values() {
                collect_uses(i, recorded, out);
            }
        }
        _ => {}
    }
}

/// Checks `uses` (from [`uses_of`]) against the template's names: returns
/// the first that does not resolve (when `strict`; otherwise nothing is an
/// error) and records what they refer to in `rec`.
fn resolve(
    uses: &[Use],
    names: &Names<'_>,
    conditions: &BTreeSet<&str>,
    strict: bool,
    mut rec: Option<&mut Record>,
) -> std::result::Result<(), String> {
    for u in uses {
        let name = &*u.name;
        let rec = rec.as_deref_mut().filter(|_| u.recorded);
        match u.kind {
            UseKind::Ref => match names.get(name) {
                Some(i) => {
                    if let Some(r) = rec {
                        r.ids.push(i);
                    }
                }
                None if strict && !Pseudo::is_pseudo(name) => return Err(name.to_string()),
                None => {}
            },
            UseKind::GetAtt => match names.resource(name) {
                Some(i) => {
                    if let Some(r) = rec {
                        r.ids.push(i);
                    }
                }
                None if strict => return Err(name.to_string()),
                // Only recording: a parameter is a name too.
                None => {
                    if let Some(r) = rec {
                        r.name(names, name);
                    }
                }
            },
            UseKind::GetAttText => {
                if let Some(r) = rec {
                    r.name(names, name);
                }
            }
            UseKind::SubVariable {
                defined,
                base_defined,
            } => {
                let base = name.split('.').next().unwrap_or_default();
                let known = defined || names.get(base).is_some() || Pseudo::is_pseudo(name);
                if strict && !known {
                    return Err(name.to_string());
                }
                if let Some(r) = rec
                    && !base_defined
                {
                    r.name(names, base);
                }
            }
            UseKind::Import => {
                if let Some(r) = rec {
                    r.imports = true;
                }
            }
            UseKind::Condition => {
                if strict && !conditions.contains(name) {
                    return Err(name.to_string());
                }
            }
        }
    }
    Ok(())
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
        t.resources
            .insert("A".into(), ResourceEntry::new("AWS::SNS::Topic", json!({})));
        t.resources
            .insert("B".into(), ResourceEntry::new("AWS::SNS::Topic", props));
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
    fn records_what_each_resource_refers_to() {
        let mut t = with(json!({
            "A": {"Ref": "A"},
            "G": {"Fn::GetAtt": "A.TopicName"},
            "S": {"Fn::Sub": ["${V}-${P}-${AWS::Region}-${!B}", {"V": {"Ref": "AWS::NoValue"}}]},
            "I": {"Fn::ImportValue": "shared"},
            "N": {"Fn::GetAtt": ["A", {"Ref": "P"}]}
        }));
        t.parameters
            .insert("P".into(), crate::template::Parameter::string("p"));
        let refs = template_references("s", &t).expect("valid");
        assert!(refs.fits(&t) && refs.len() == 2);
        // A refers to nothing; B to A (Ref and both forms of GetAtt) and
        // to parameter P (a variable of the Sub text, not one it defines);
        // the Ref inside the GetAtt of "N" is checked, not recorded.
        assert_eq!(refs.of_resource(0).count(), 0);
        assert!(!refs.imports(0));
        assert_eq!(
            refs.of_resource(1).collect::<Vec<_>>(),
            [Referent::Resource(0), Referent::Parameter(0)]
        );
        assert!(refs.imports(1));
        assert_eq!(References::of(&t), refs);
        assert!(!References::default().fits(&t));
    }

    #[test]
    fn records_without_checking_when_asked() {
        let t = with(
            json!({"X": {"Ref": "Nope"}, "Y": {"Fn::GetAtt": ["A", "Arn"]},
            "Z": {"Fn::If": ["NoCondition", {"Fn::Sub": "${B}"}, 2]}}),
        );
        assert!(template_references("s", &t).is_err());
        let refs = References::of(&t);
        assert_eq!(
            refs.of_resource(1).collect::<Vec<_>>(),
            [Referent::Resource(0), Referent::Resource(1)]
        );
    }

    #[test]
    fn fails_when_depends_on_dangles() {
        let mut t = with(json!({}));
        t.resources.get_mut("B").unwrap().depends_on = vec!["C".into()];
        assert!(template("s", &t).is_err());
    }
}
