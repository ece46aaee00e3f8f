//! References between stacks: written by the app, checked at synthesis.
//!
//! A [`Handle`](super::resource::Handle) made by
//! [`Scope::add`](super::scope::Scope::add) knows its stack. Its `Ref` and
//! `GetAtt` carry the stack name (`{"Ref": "orders-net/NetworkVpc"}`, a
//! form CloudFormation never sees): added to a resource or output of the
//! same stack it becomes a plain `{"Ref": "NetworkVpc"}` at once; used in
//! another stack it stays qualified until [`App::synth`](super::app::App::synth)
//! resolves it:
//!
//! - **same account and region**: the producing stack gets an output
//!   `Export<LogicalId><Attribute>` exported as
//!   `<stack>:<LogicalId>[:<Attribute>]` (dots of the attribute become
//!   `-`), the consuming stack reads it with `Fn::ImportValue`, and the
//!   consumer depends on the producer (deployed after it; template metadata
//!   [`DEPENDS_ON_KEY`]);
//! - **another region or account** (exports only work within one): the
//!   producer gets the same output without export, the consumer a `String`
//!   parameter `<ProducerStack><LogicalId><Attribute>` that the deploy
//!   client fills from that output (template metadata
//!   [`PARAMETER_SOURCES_KEY`]), and the same dependency.
//!
//! [`App::synth`](super::app::App::synth) then checks every
//! `Fn::ImportValue` of the app, including hand-written ones: the name must
//! be exported by a stack of the app in the same account and region, which
//! the importing stack depends on, or be declared external
//! ([`Stack::declare_external_import`], [`Scope::import_external`]); every
//! export name is valid for CloudFormation and unique per account and
//! region; stacks form no cycle. Each message names the stacks and the
//! construct paths involved.
//!
//! References inside `Fn::Sub` strings (`${NetworkVpc}`) are not followed:
//! use the handle's `ref_()`/`get_att()` values for anything that may be
//! in another stack.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J, json};

use super::error::{Error, Result};
use super::intrinsic::{Expr, Intrinsic};
use super::scope::Scope;
use super::stack::{Environment, Stack};
use super::template::{Output, Parameter, Template};
use super::value::Value;

/// The template metadata key listing the stacks a stack is deployed after
/// (`["orders-net"]`): explicit dependencies and those of references.
pub const DEPENDS_ON_KEY: &str = "khs:depends-on";

/// The template metadata key listing export names a stack imports from
/// outside the app (declared with [`Stack::declare_external_import`]).
pub const EXTERNAL_IMPORTS_KEY: &str = "khs:external-imports";

/// The template metadata key of parameters filled from other stacks'
/// outputs at deploy time: `{"Param": {"Stack": …, "Region": …, "Output":
/// …}}` (plus `"Account"` when the producer names one).
pub const PARAMETER_SOURCES_KEY: &str = "khs:parameter-sources";

/// CloudFormation's limit on an export name's length.
pub const MAX_EXPORT_NAME_LEN: usize = 255;

/// `stack/LogicalId`: the target a stack-aware handle's `Ref` carries.
pub(crate) fn qualified(stack: &str, logical_id: &str) -> String {
    format!("{stack}/{logical_id}")
}

/// The stack and logical id of a qualified target.
fn split(target: &str) -> Option<(&str, &str)> {
    target.split_once('/')
}

/// Calls `f` on the target string of every `Ref` and `Fn::GetAtt` in `v`
/// (the other arguments of a `Fn::GetAtt`, an attribute given by a `Ref`,
/// are walked too): every node [`node_target`] can read is reached.
fn each_target_mut(v: &mut J, f: &mut impl FnMut(&mut String)) {
    match v {
        J::Array(items) => items.iter_mut().for_each(|i| each_target_mut(i, f)),
        J::Object(map) => {
            if map.len() == 1 {
                match map.iter_mut().next() {
                    Some((k, J::String(t))) if k == "Ref" => return f(t),
                    Some((k, J::Array(a))) if k == "Fn::GetAtt" => {
                        let rest = match a.split_first_mut() {
                            Some((J::String(t), rest)) => {
                                f(t);
                                rest
                            }
                            _ => a.as_mut_slice(),
                        };
                        rest.iter_mut().for_each(|i| each_target_mut(i, f));
                        return;
                    }
                    _ => {}
                }
            }
            map.values_mut().for_each(|i| each_target_mut(i, f));
        }
        _ => {}
    }
}

/// Makes the references of `v` to resources of stack `own` plain logical
/// ids; references to other stacks stay qualified for
/// [`App::synth`](super::app::App::synth). Also tells whether any did: only
/// the resources that hold such a reference are walked again at synthesis.
pub(crate) fn localize(own: &str, mut v: J) -> (J, bool) {
    let mut foreign = false;
    each_target_mut(&mut v, &mut |t| {
        if let Some((stack, _)) = split(t) {
            if stack == own {
                // `stack/` is removed in place: no new string.
                t.replace_range(..=stack.len(), "");
            } else {
                foreign = true;
            }
        }
    });
    (v, foreign)
}

/// [`localize`] for an output's value.
pub(crate) fn localize_output(own: &str, mut output: Output) -> Output {
    if let Ok(v) = serde_json::to_value(&output.value) {
        output.value = Expr::Json(localize(own, v).0);
    }
    output
}

/// A resource (and attribute) of another stack that a stack refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    stack: String,
    logical_id: String,
    /// `None` for `Ref`.
    attribute: Option<String>,
}

impl Target {
    /// What the reference reads, for messages and descriptions.
    fn what(&self) -> String {
        match &self.attribute {
            None => format!("Ref of {}", self.logical_id),
            Some(a) => format!("{a} of {}", self.logical_id),
        }
    }

    /// The value in the producing stack.
    fn local_value(&self) -> J {
        match &self.attribute {
            None => json!({"Ref": self.logical_id}),
            Some(a) => json!({"Fn::GetAtt": [self.logical_id, a]}),
        }
    }

    fn suffix(&self) -> String {
        self.attribute
            .as_deref()
            .map(|a| a.chars().filter(char::is_ascii_alphanumeric).collect())
            .unwrap_or_default()
    }

    /// The producer's output: `Export<LogicalId><Attribute>`.
    fn output_id(&self) -> String {
        bounded(
            &format!("Export{}{}", self.logical_id, self.suffix()),
            super::logical_id::MAX_LOGICAL_ID_LEN,
            "",
        )
    }

    /// The export name: `<stack>:<LogicalId>[:<Attribute>]`.
    fn export_name(&self) -> String {
        let mut name = format!("{}:{}", self.stack, self.logical_id);
        if let Some(a) = &self.attribute {
            name.push(':');
            name.extend(a.chars().map(|c| if c == '.' { '-' } else { c }));
        }
        bounded(&name, MAX_EXPORT_NAME_LEN, "-")
    }

    /// The consumer's parameter: `<ProducerStack><LogicalId><Attribute>`.
    fn parameter_id(&self) -> String {
        let stack: String = self
            .stack
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        bounded(
            &format!("{stack}{}{}", self.logical_id, self.suffix()),
            super::logical_id::MAX_LOGICAL_ID_LEN,
            "",
        )
    }
}

/// `s` when it fits in `max` bytes, else its start, `sep` and a hash of
/// the whole (deterministic, so the name stays stable).
fn bounded(s: &str, max: usize, sep: &str) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let tail = format!("{sep}{hash:016X}");
    format!("{}{tail}", &s[..max - tail.len()])
}

/// Every qualified reference of `t` (the template of `stack`) to another
/// stack, with the first logical id holding it (`Outputs.<id>` for an
/// output). Only the resources that [`localize`] found such a reference in
/// are walked.
fn foreign_targets(stack: &Stack, t: &Template) -> BTreeMap<Target, String> {
    let own = stack.name();
    let mut out = BTreeMap::new();
    let mut record = |holder: &str, v: &J| {
        walk(v, &mut |node| {
            if let Some(target) = node_target(node).filter(|tg| tg.stack != own) {
                out.entry(target).or_insert_with(|| holder.to_string());
            }
        });
    };
    for id in stack.foreign_holders() {
        if let Some(entry) = t.resources.get(id) {
            record(id, &entry.properties);
        }
    }
    for (id, output) in &t.outputs {
        if let Ok(v) = serde_json::to_value(&output.value) {
            record(&format!("Outputs.{id}"), &v);
        }
    }
    out
}

/// Calls `f` on every node of `v`, parents first.
fn walk(v: &J, f: &mut impl FnMut(&J)) {
    f(v);
    match v {
        J::Array(items) => items.iter().for_each(|i| walk(i, f)),
        J::Object(map) => map.values().for_each(|i| walk(i, f)),
        _ => {}
    }
}

/// Replaces every node of `v` for which `f` returns a value, parents first
/// (a replaced node is not visited further).
fn replace(v: &mut J, f: &impl Fn(&J) -> Option<J>) {
    if let Some(new) = f(v) {
        *v = new;
        return;
    }
    match v {
        J::Array(items) => items.iter_mut().for_each(|i| replace(i, f)),
        J::Object(map) => map.values_mut().for_each(|i| replace(i, f)),
        _ => {}
    }
}

/// The target of a qualified `Ref` / `Fn::GetAtt` node.
fn node_target(node: &J) -> Option<Target> {
    let map = node.as_object().filter(|m| m.len() == 1)?;
    let (stack, id, attribute) = match map.iter().next()? {
        (k, J::String(t)) if k == "Ref" => {
            let (s, i) = split(t)?;
            (s, i, None)
        }
        (k, J::Array(a)) if k == "Fn::GetAtt" => {
            let (s, i) = split(a.first()?.as_str()?)?;
            (s, i, Some(a.get(1)?.as_str()?.to_string()))
        }
        _ => return None,
    };
    Some(Target {
        stack: stack.to_string(),
        logical_id: id.to_string(),
        attribute,
    })
}

/// The construct path of `holder` (a logical id or `Outputs.<id>`) in
/// `stack`, for messages.
fn path_of(stack: &Stack, holder: &str) -> String {
    stack
        .path_of(holder)
        .map_or_else(|| format!("{}/{holder}", stack.name()), ToString::to_string)
}

fn env_text(env: &Environment) -> String {
    match &env.account {
        Some(a) => format!("{a}/{}", env.region),
        None => env.region.clone(),
    }
}

/// What the app adds to each stack for references between them.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Outputs to add, by producing stack and output id.
    outputs: BTreeMap<String, BTreeMap<String, Output>>,
    /// Replacements of qualified references, by consuming stack.
    replacements: BTreeMap<String, BTreeMap<Target, J>>,
    /// Parameters to add, by consuming stack.
    parameters: BTreeMap<String, BTreeMap<String, Parameter>>,
    /// `khs:parameter-sources` entries, by consuming stack.
    sources: BTreeMap<String, Map<String, J>>,
    /// Dependencies of references: consumer → producer → why.
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

impl Plan {
    /// Plans every reference between the stacks of an app.
    pub(crate) fn new(stacks: &[Stack]) -> Result<Plan> {
        let by_name: BTreeMap<&str, &Stack> = stacks.iter().map(|s| (s.name(), s)).collect();
        let mut plan = Plan::default();
        for consumer in stacks {
            let c = consumer.name();
            for (target, holder) in foreign_targets(consumer, consumer.template()) {
                let at = path_of(consumer, &holder);
                let Some(producer) = by_name.get(target.stack.as_str()) else {
                    let names: Vec<&str> = by_name.keys().copied().collect();
                    return Err(Error::Reference {
                        path: at,
                        message: format!(
                            "uses {} of stack {:?}, which is not in the app (its stacks: {}); add that stack to the App before synthesizing",
                            target.what(),
                            target.stack,
                            names.join(", ")
                        ),
                    });
                };
                if !producer
                    .template()
                    .resources
                    .contains_key(&target.logical_id)
                {
                    return Err(Error::Reference {
                        path: at,
                        message: format!(
                            "uses {}, which is not a resource of stack {:?}",
                            target.what(),
                            target.stack
                        ),
                    });
                }
                let p = producer.name();
                let from = path_of(producer, &target.logical_id);
                let same_env = producer.env() == consumer.env();
                let output_id = target.output_id();
                let output = plan
                    .outputs
                    .entry(p.to_string())
                    .or_default()
                    .entry(output_id.clone())
                    .or_insert_with(|| {
                        Output::new(
                            format!("{} ({from}), for other stacks of the app", target.what()),
                            target.local_value(),
                        )
                    });
                let replacement = if same_env {
                    let name = target.export_name();
                    output.export = Some(super::template::Export {
                        name: Expr::from(name.clone()),
                    });
                    json!({"Fn::ImportValue": name})
                } else {
                    let param = target.parameter_id();
                    let mut source = json!({
                        "Stack": p,
                        "Region": producer.env().region,
                        "Output": output_id,
                    });
                    if let (Some(account), Some(m)) =
                        (&producer.env().account, source.as_object_mut())
                    {
                        m.insert("Account".into(), J::String(account.clone()));
                    }
                    plan.sources
                        .entry(c.to_string())
                        .or_default()
                        .insert(param.clone(), source);
                    plan.parameters
                        .entry(c.to_string())
                        .or_default()
                        .insert(
                            param.clone(),
                            Parameter::string(format!(
                                "{} ({from}) in {}: output {output_id} of stack {p}, filled in by the deploy client",
                                target.what(),
                                env_text(producer.env()),
                            )),
                        );
                    json!({"Ref": param})
                };
                plan.replacements
                    .entry(c.to_string())
                    .or_default()
                    .insert(target, replacement);
                plan.edges
                    .entry(c.to_string())
                    .or_default()
                    .entry(p.to_string())
                    .or_insert_with(|| format!("{at} uses {from}"));
            }
        }
        Ok(plan)
    }

    /// The stacks `stack` depends on through references.
    pub(crate) fn dependencies(&self, stack: &str) -> impl Iterator<Item = &String> {
        self.edges.get(stack).into_iter().flat_map(|m| m.keys())
    }

    /// Why `consumer` depends on `producer` (a reference, or an explicit
    /// dependency).
    fn reason(&self, consumer: &str, producer: &str) -> String {
        self.edges
            .get(consumer)
            .and_then(|m| m.get(producer))
            .cloned()
            .unwrap_or_else(|| "declared with add_dependency".to_string())
    }

    /// Writes the plan's outputs, imports, parameters and metadata into the
    /// template of `stack`.
    pub(crate) fn apply(&self, stack: &Stack, t: &mut Template) -> Result<()> {
        let name = stack.name();
        for (id, output) in self.outputs.get(name).into_iter().flatten() {
            if t.outputs.contains_key(id) {
                return Err(Error::Reference {
                    path: name.to_string(),
                    message: format!(
                        "output {id} exists already; it is the output the app adds for another stack's reference, rename the construct that made it"
                    ),
                });
            }
            t.outputs.insert(id.clone(), output.clone());
        }
        if let Some(replacements) = self.replacements.get(name) {
            let f = |node: &J| node_target(node).and_then(|tg| replacements.get(&tg).cloned());
            for id in stack.foreign_holders() {
                if let Some(entry) = t.resources.get_mut(id) {
                    entry.properties.modify(|p| replace(p, &f));
                }
            }
            for output in t.outputs.values_mut() {
                if let Ok(mut v) = serde_json::to_value(&output.value) {
                    replace(&mut v, &f);
                    output.value = Expr::Json(v);
                }
            }
        }
        for (id, parameter) in self.parameters.get(name).into_iter().flatten() {
            if t.parameters.contains_key(id) || t.resources.contains_key(id) {
                return Err(Error::Reference {
                    path: name.to_string(),
                    message: format!(
                        "logical id {id} exists already; it is the parameter the app adds for a reference to another region or account"
                    ),
                });
            }
            t.parameters.insert(id.clone(), parameter.clone());
        }
        if let Some(sources) = self.sources.get(name) {
            let mut all = t
                .metadata
                .get(PARAMETER_SOURCES_KEY)
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            all.extend(sources.clone());
            t.metadata
                .insert(PARAMETER_SOURCES_KEY.to_string(), J::Object(all));
        }
        let deps = self.all_dependencies(stack);
        if !deps.is_empty() {
            t.metadata.insert(DEPENDS_ON_KEY.to_string(), json!(deps));
        }
        Ok(())
    }

    /// Explicit and reference dependencies of `stack`, sorted.
    pub(crate) fn all_dependencies(&self, stack: &Stack) -> Vec<String> {
        let mut all: BTreeSet<String> = stack.dependencies().iter().cloned().collect();
        all.extend(self.dependencies(stack.name()).cloned());
        all.into_iter().collect()
    }

    /// The stacks in deployment order: each after the stacks it depends on
    /// (explicitly or through references), otherwise in the order added. A
    /// dependency on a stack not in the app, or a cycle, is an error naming
    /// the stacks and why each depends on the next.
    pub(crate) fn order<'a>(&self, stacks: &'a [Stack]) -> Result<Vec<&'a Stack>> {
        let by_name: BTreeMap<&str, &Stack> = stacks.iter().map(|s| (s.name(), s)).collect();
        let deps: BTreeMap<&str, Vec<String>> = stacks
            .iter()
            .map(|s| (s.name(), self.all_dependencies(s)))
            .collect();
        for s in stacks {
            for d in s.dependencies() {
                if !by_name.contains_key(d.as_str()) {
                    return Err(Error::invalid_prop(
                        s.name(),
                        "dependencies",
                        format!("names stack {d:?}, which is not in the app"),
                    ));
                }
            }
        }
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
        while out.len() < stacks.len() {
            let next = stacks.iter().find(|s| {
                !done.contains(s.name()) && deps[s.name()].iter().all(|d| done.contains(d.as_str()))
            });
            let Some(s) = next else {
                return Err(self.cycle(stacks, &deps, &done));
            };
            done.insert(s.name());
            out.push(s);
        }
        Ok(out)
    }

    /// The error for a cycle among the stacks not yet `done`.
    fn cycle(
        &self,
        stacks: &[Stack],
        deps: &BTreeMap<&str, Vec<String>>,
        done: &BTreeSet<&str>,
    ) -> Error {
        let stuck: Vec<&str> = stacks
            .iter()
            .map(|s| s.name())
            .filter(|n| !done.contains(n))
            .collect();
        // Follow undeployable dependencies from the first stuck stack until
        // a stack repeats: that is the cycle.
        let mut seen: Vec<&str> = Vec::new();
        let mut cur = stuck[0];
        while !seen.contains(&cur) {
            seen.push(cur);
            match deps[cur].iter().find(|d| !done.contains(d.as_str())) {
                Some(d) => cur = stuck.iter().copied().find(|s| s == d).unwrap_or(cur),
                None => break,
            }
        }
        let start = seen.iter().position(|s| *s == cur).unwrap_or(0);
        let mut ring: Vec<&str> = seen[start..].to_vec();
        ring.push(cur);
        let steps: Vec<String> = ring
            .windows(2)
            .map(|w| format!("{} → {} ({})", w[0], w[1], self.reason(w[0], w[1])))
            .collect();
        Error::Reference {
            path: ring[0].to_string(),
            message: format!(
                "stacks depend on each other in a cycle, so none can be deployed first: {}; move the shared resources into a stack of their own, or pass the value the other way",
                steps.join(", ")
            ),
        }
    }
}

/// The error [`Stack::synth`] gives for a reference to another stack: only
/// an app can write the export and import.
pub(crate) fn reject_foreign(stack: &Stack, t: &Template) -> Result<()> {
    if let Some((target, holder)) = foreign_targets(stack, t).into_iter().next() {
        return Err(Error::Reference {
            path: path_of(stack, &holder),
            message: format!(
                "uses {} of stack {:?}; add both stacks to an App and synthesize with App::synth, which exports it there and imports it here",
                target.what(),
                target.stack
            ),
        });
    }
    Ok(())
}

/// The name an export's expression gives in `stack`: a literal, or a
/// `Fn::Sub` / `Fn::Join` of literals and `AWS::StackName` (`None` when it
/// depends on anything else).
fn literal_name(stack: &str, v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Object(m) if m.len() == 1 => match m.iter().next()? {
            (k, J::String(t)) if k == "Fn::Sub" => {
                let vars = super::validate::sub_variables(t);
                if vars.iter().all(|v| *v == "AWS::StackName") {
                    Some(t.replace("${AWS::StackName}", stack))
                } else {
                    None
                }
            }
            (k, J::Object(r)) if k == "Ref" && r.is_empty() => None,
            (k, J::String(r)) if k == "Ref" && r == "AWS::StackName" => Some(stack.to_string()),
            (k, J::Array(a)) if k == "Fn::Join" => {
                let sep = a.first()?.as_str()?;
                let parts = a.get(1)?.as_array()?;
                let parts: Option<Vec<String>> =
                    parts.iter().map(|p| literal_name(stack, p)).collect();
                Some(parts?.join(sep))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Why `name` is not a valid export name, if it is not.
fn export_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_string());
    }
    if name.len() > MAX_EXPORT_NAME_LEN {
        return Some(format!(
            "it is {} characters, at most {MAX_EXPORT_NAME_LEN} are allowed",
            name.len()
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == ':' || *c == '-'))
        .map(|c| format!("it contains {c:?}; only ASCII letters, digits, ':' and '-' are allowed"))
}

/// One synthesized stack as the app-level checks see it.
pub(crate) struct Synthesized<'a> {
    pub(crate) name: &'a str,
    pub(crate) env: &'a Environment,
    pub(crate) template: &'a Template,
    pub(crate) depends_on: &'a [String],
    /// What the template's resources refer to, as the reference check
    /// recorded it: resources it does not mark as importing a value are not
    /// walked for `Fn::ImportValue` (every resource is, without it).
    pub(crate) references: Option<&'a super::validate::References>,
}

/// The app-level checks over every synthesized template: export names are
/// valid and unique per account and region; every `Fn::ImportValue` names
/// an export of a stack in the same account and region that the importer
/// depends on, or a name declared external.
pub(crate) fn check_app(stacks: &[Synthesized<'_>]) -> Result<()> {
    // (account, region, name) → "stack/Outputs/Id".
    let mut exports: BTreeMap<(Option<String>, String, String), (usize, String)> = BTreeMap::new();
    for (i, s) in stacks.iter().enumerate() {
        for (id, output) in &s.template.outputs {
            let Some(export) = &output.export else {
                continue;
            };
            let at = format!("{}/Outputs/{id}", s.name);
            let Some(name) = serde_json::to_value(&export.name)
                .ok()
                .and_then(|v| literal_name(s.name, &v))
            else {
                continue;
            };
            if let Some(problem) = export_name_problem(&name) {
                return Err(Error::Reference {
                    path: at,
                    message: format!(
                        "export name {name:?} would be refused by CloudFormation: {problem}"
                    ),
                });
            }
            let key = (s.env.account.clone(), s.env.region.clone(), name.clone());
            if let Some((_, other)) = exports.get(&key) {
                return Err(Error::DuplicateExport {
                    stack: s.name.to_string(),
                    output: id.clone(),
                    name,
                    other: other.clone(),
                });
            }
            exports.insert(key, (i, at));
        }
    }
    let by_name: BTreeMap<&str, &Synthesized<'_>> = stacks.iter().map(|s| (s.name, s)).collect();
    let depends = |from: &str, on: &str| -> bool {
        let mut todo = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(s) = todo.pop() {
            if s == on {
                return true;
            }
            if seen.insert(s) {
                if let Some(st) = by_name.get(s) {
                    todo.extend(st.depends_on.iter().map(String::as_str));
                }
            }
        }
        false
    };
    for s in stacks {
        let external: BTreeSet<String> = s
            .template
            .metadata
            .get(EXTERNAL_IMPORTS_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let mut imports: Vec<(String, String)> = Vec::new();
        let mut collect = |holder: &dyn Fn() -> String, v: &J| {
            walk(v, &mut |node| {
                if let Some(arg) = node
                    .as_object()
                    .filter(|m| m.len() == 1)
                    .and_then(|m| m.get("Fn::ImportValue"))
                {
                    if let Some(name) = literal_name(s.name, arg) {
                        imports.push((holder(), name));
                    }
                }
            });
        };
        let recorded = s.references.filter(|r| r.fits(s.template));
        for (i, (id, entry)) in s.template.resources.iter().enumerate() {
            if recorded.is_some_and(|r| !r.imports(i)) {
                continue;
            }
            let holder = || {
                entry
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(super::stack::PATH_METADATA_KEY))
                    .and_then(J::as_str)
                    .map_or_else(|| format!("{}/{id}", s.name), str::to_string)
            };
            collect(&holder, &entry.properties);
        }
        for (id, output) in &s.template.outputs {
            if let Ok(v) = serde_json::to_value(&output.value) {
                collect(&|| format!("{}/Outputs/{id}", s.name), &v);
            }
        }
        for (at, name) in imports {
            if external.contains(&name) {
                continue;
            }
            let key = (s.env.account.clone(), s.env.region.clone(), name.clone());
            if let Some((i, export_at)) = exports.get(&key) {
                let producer = stacks[*i].name;
                if producer == s.name {
                    return Err(Error::Reference {
                        path: at,
                        message: format!(
                            "imports {name:?}, which its own stack exports ({export_at}); a stack cannot import its own export, use the value directly"
                        ),
                    });
                }
                if !depends(s.name, producer) {
                    return Err(Error::Reference {
                        path: at,
                        message: format!(
                            "imports {name:?} from stack {producer} ({export_at}), but stack {} does not depend on {producer}, so it may be deployed first and fail; call add_dependency(\"{producer}\") on it, or use the handle instead of a hand-written Fn::ImportValue",
                            s.name
                        ),
                    });
                }
                continue;
            }
            if let Some(((account, region, _), (_, export_at))) =
                exports.iter().find(|((_, _, n), _)| *n == name)
            {
                let there = Environment {
                    account: account.clone(),
                    region: region.clone(),
                };
                return Err(Error::Reference {
                    path: at,
                    message: format!(
                        "imports {name:?}, which is exported in {} ({export_at}), not in this stack's {}; Fn::ImportValue only reads exports of its own account and region, so use the handle instead (the app passes the value as a parameter filled at deploy time)",
                        env_text(&there),
                        env_text(s.env)
                    ),
                });
            }
            let mut close: Vec<&str> = exports
                .keys()
                .map(|(_, _, n)| n.as_str())
                .filter(|n| strsim::jaro_winkler(n, &name) > 0.85)
                .collect();
            close.sort();
            close.dedup();
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", close.join(" or "))
            };
            return Err(Error::Reference {
                path: at,
                message: format!(
                    "imports {name:?}, which no stack of the app exports{hint} (an export made outside the app must be declared with declare_external_import({name:?}))"
                ),
            });
        }
    }
    Ok(())
}

impl Stack {
    /// Declares that this stack imports `export_name` from outside the app
    /// (a stack deployed by another tool or team): the app-level check then
    /// accepts an `Fn::ImportValue` of it. Recorded in the template
    /// metadata [`EXTERNAL_IMPORTS_KEY`].
    pub fn declare_external_import(&mut self, export_name: &str) -> Result<()> {
        if let Some(problem) = export_name_problem(export_name) {
            return Err(Error::Reference {
                path: self.name().to_string(),
                message: format!(
                    "external import {export_name:?} is not an export name: {problem}"
                ),
            });
        }
        let mut names: BTreeSet<String> = self
            .template()
            .metadata
            .get(EXTERNAL_IMPORTS_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        names.insert(export_name.to_string());
        self.set_metadata(EXTERNAL_IMPORTS_KEY, json!(names));
        Ok(())
    }
}

impl Scope<'_> {
    /// `Fn::ImportValue` of an export made outside the app, declared as
    /// such ([`Stack::declare_external_import`]). For a resource of another
    /// stack of the app, pass its handle instead: the app writes the
    /// export and the import.
    pub fn import_external(&mut self, export_name: &str) -> Result<Value<String>> {
        self.stack_mut().declare_external_import(export_name)?;
        Ok(Intrinsic::ImportValue(Expr::from(export_name)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localizes_own_references_and_keeps_others() {
        let v = json!({"A": {"Ref": "s/X"}, "B": [{"Fn::GetAtt": ["t/Y", "Arn"]}], "C": {"Ref": "AWS::Region"}});
        assert_eq!(
            localize("s", v),
            (
                json!({"A": {"Ref": "X"}, "B": [{"Fn::GetAtt": ["t/Y", "Arn"]}], "C": {"Ref": "AWS::Region"}}),
                true
            )
        );
        let own_only = json!({"A": {"Fn::GetAtt": ["s/X", {"Ref": "s/Attr"}]}, "B": "t/Y"});
        assert_eq!(
            localize("s", own_only),
            (
                json!({"A": {"Fn::GetAtt": ["X", {"Ref": "Attr"}]}, "B": "t/Y"}),
                false
            )
        );
    }

    #[test]
    fn names_are_stable_and_valid() {
        let t = Target {
            stack: "orders-db".into(),
            logical_id: "DatabaseInstance".into(),
            attribute: Some("Endpoint.Address".into()),
        };
        assert_eq!(
            t.export_name(),
            "orders-db:DatabaseInstance:Endpoint-Address"
        );
        assert_eq!(t.output_id(), "ExportDatabaseInstanceEndpointAddress");
        assert_eq!(t.parameter_id(), "OrdersDbDatabaseInstanceEndpointAddress");
        assert!(export_name_problem(&t.export_name()).is_none());
        let long = Target {
            stack: "s".repeat(128),
            logical_id: "L".repeat(200),
            attribute: None,
        };
        assert_eq!(long.export_name().len(), MAX_EXPORT_NAME_LEN);
        assert_eq!(long.export_name(), long.export_name());
        assert!(export_name_problem(&long.export_name()).is_none());
    }

    #[test]
    fn reads_literal_export_names() {
        assert_eq!(literal_name("s", &json!("a")), Some("a".into()));
        assert_eq!(
            literal_name("s", &json!({"Fn::Sub": "${AWS::StackName}-vpc"})),
            Some("s-vpc".into())
        );
        assert_eq!(
            literal_name(
                "s",
                &json!({"Fn::Join": [":", [{"Ref": "AWS::StackName"}, "x"]]})
            ),
            Some("s:x".into())
        );
        assert_eq!(literal_name("s", &json!({"Ref": "Param"})), None);
    }

    use crate::app::App;
    use crate::resource::{Resource, ResourceSpec};
    use crate::scope::AsScope;
    use crate::stack::StackProps;
    use crate::template::Output;

    #[derive(serde::Serialize)]
    #[serde(transparent)]
    struct Thing(J);

    impl Resource for Thing {
        fn type_name(&self) -> &str {
            "AWS::SNS::Topic"
        }
        fn spec(&self) -> Option<&'static ResourceSpec> {
            None
        }
    }

    fn stack(name: &str, region: &str) -> Stack {
        Stack::new(name, StackProps::new(Environment::region(region))).unwrap()
    }

    /// `orders-net` (us-east-1) with a topic at `Alerts/Topic`.
    fn producer() -> (Stack, crate::resource::Handle<Thing>) {
        let mut net = stack("orders-net", "us-east-1");
        let topic = {
            let mut root = net.as_scope();
            let mut alerts = root.child("Alerts").unwrap();
            alerts.add("Topic", Thing(json!({}))).unwrap()
        };
        (net, topic)
    }

    fn consumer(name: &str, region: &str, props: J) -> Stack {
        let mut s = stack(name, region);
        s.as_scope()
            .child("Database")
            .unwrap()
            .add("Instance", Thing(props))
            .unwrap();
        s
    }

    fn synth_err(stacks: Vec<Stack>) -> String {
        let mut app = App::new();
        for s in stacks {
            app.add_stack(s).unwrap();
        }
        app.synth().unwrap_err().to_string()
    }

    #[test]
    fn a_handle_of_the_same_stack_stays_a_plain_reference() {
        let (mut net, topic) = producer();
        assert_eq!(topic.stack_name(), Some("orders-net"));
        net.as_scope()
            .add(
                "Sub",
                Thing(json!({"T": topic.ref_(), "N": topic.get_att::<String>("TopicName")})),
            )
            .unwrap();
        net.as_scope()
            .add_output("TopicArn", Output::new("arn", topic.ref_()))
            .unwrap();
        let t = net.synth().unwrap();
        assert_eq!(
            t.resources["Sub"].properties,
            json!({"T": {"Ref": "AlertsTopic"}, "N": {"Fn::GetAtt": ["AlertsTopic", "TopicName"]}})
        );
        assert_eq!(
            serde_json::to_value(&t.outputs["TopicArn"].value).unwrap(),
            json!({"Ref": "AlertsTopic"})
        );
    }

    #[test]
    fn a_reference_set_by_an_override_is_imported_too() {
        // The resource was added without a reference to another stack; the
        // override gives it one, and synthesis must still find it.
        let (net, topic) = producer();
        let mut db = stack("orders-db", "us-east-1");
        let instance = db
            .as_scope()
            .child("Database")
            .unwrap()
            .add("Instance", Thing(json!({"Name": "plain"})))
            .unwrap();
        db.as_scope()
            .override_property(
                &instance,
                "Topic",
                serde_json::to_value(topic.ref_()).unwrap(),
            )
            .unwrap();
        let mut app = App::new();
        app.add_stack(db).unwrap();
        app.add_stack(net).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(
            out[1].template.resources["DatabaseInstance"].properties,
            json!({"Name": "plain", "Topic": {"Fn::ImportValue": "orders-net:AlertsTopic"}})
        );
        assert_eq!(out[1].depends_on, ["orders-net"]);
    }

    #[test]
    fn a_handle_used_in_the_same_region_is_exported_and_imported() {
        let (net, topic) = producer();
        let db = consumer(
            "orders-db",
            "us-east-1",
            json!({"Topic": topic.ref_(), "Name": [topic.get_att::<String>("TopicName")]}),
        );
        let mut app = App::new();
        app.add_stack(db).unwrap();
        app.add_stack(net).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(out[0].name, "orders-net", "the producer deploys first");
        assert_eq!(out[1].depends_on, ["orders-net"]);
        let net = &out[0].template;
        assert_eq!(
            serde_json::to_value(&net.outputs["ExportAlertsTopic"]).unwrap(),
            json!({"Description": "Ref of AlertsTopic (orders-net/Alerts/Topic), for other stacks of the app",
                   "Value": {"Ref": "AlertsTopic"}, "Export": {"Name": "orders-net:AlertsTopic"}})
        );
        assert_eq!(
            serde_json::to_value(&net.outputs["ExportAlertsTopicTopicName"].value).unwrap(),
            json!({"Fn::GetAtt": ["AlertsTopic", "TopicName"]})
        );
        let db = &out[1].template;
        assert_eq!(
            db.resources["DatabaseInstance"].properties,
            json!({"Topic": {"Fn::ImportValue": "orders-net:AlertsTopic"},
                   "Name": [{"Fn::ImportValue": "orders-net:AlertsTopic:TopicName"}]})
        );
        assert_eq!(db.metadata[DEPENDS_ON_KEY], json!(["orders-net"]));
        assert!(db.parameters.is_empty());
    }

    #[test]
    fn moving_synthesis_writes_the_same_references_as_copying() {
        let build = || {
            let (net, topic) = producer();
            let db = consumer("orders-db", "us-east-1", json!({"Topic": topic.ref_()}));
            let web = consumer("orders-web", "eu-west-1", json!({"Topic": topic.ref_()}));
            let mut app = App::new();
            for s in [db, net, web] {
                app.add_stack(s).unwrap();
            }
            app
        };
        let copied = build().synth().unwrap();
        assert_eq!(build().into_synth().unwrap(), copied);
        assert!(copied[1].template.parameters.is_empty());
        assert_eq!(copied[0].name, "orders-net");
    }

    #[test]
    fn a_handle_used_in_another_region_becomes_a_parameter_filled_at_deploy() {
        let (net, topic) = producer();
        let web = consumer("orders-web", "eu-west-1", json!({"Topic": topic.ref_()}));
        let mut app = App::new();
        app.add_stack(net).unwrap();
        app.add_stack(web).unwrap();
        let out = app.synth().unwrap();
        let net = &out[0].template;
        assert_eq!(
            net.outputs["ExportAlertsTopic"].export, None,
            "no export across regions"
        );
        let web = &out[1];
        assert_eq!(web.depends_on, ["orders-net"]);
        assert_eq!(
            web.template.resources["DatabaseInstance"].properties,
            json!({"Topic": {"Ref": "OrdersNetAlertsTopic"}})
        );
        assert_eq!(
            web.template.parameters["OrdersNetAlertsTopic"]
                .description
                .as_deref(),
            Some(
                "Ref of AlertsTopic (orders-net/Alerts/Topic) in us-east-1: output ExportAlertsTopic of stack orders-net, filled in by the deploy client"
            )
        );
        assert_eq!(
            web.template.metadata[PARAMETER_SOURCES_KEY],
            json!({"OrdersNetAlertsTopic": {"Stack": "orders-net", "Region": "us-east-1", "Output": "ExportAlertsTopic"}})
        );
    }

    #[test]
    fn another_account_is_named_in_the_parameter_source() {
        let mut net = Stack::new(
            "orders-net",
            StackProps::new(Environment::new("111111111111", "us-east-1")),
        )
        .unwrap();
        let topic = net.as_scope().add("Topic", Thing(json!({}))).unwrap();
        let mut other = Stack::new(
            "orders-db",
            StackProps::new(Environment::new("222222222222", "us-east-1")),
        )
        .unwrap();
        other
            .as_scope()
            .add("Queue", Thing(json!({"T": topic.ref_()})))
            .unwrap();
        let mut app = App::new();
        app.add_stack(net).unwrap();
        app.add_stack(other).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(
            out[1].template.metadata[PARAMETER_SOURCES_KEY]["OrdersNetTopic"],
            json!({"Stack": "orders-net", "Region": "us-east-1", "Account": "111111111111", "Output": "ExportTopic"})
        );
    }

    #[test]
    fn fails_when_a_stack_with_a_foreign_handle_is_synthesized_alone() {
        let (_net, topic) = producer();
        let db = consumer("orders-db", "us-east-1", json!({"Topic": topic.ref_()}));
        assert_eq!(
            db.synth().unwrap_err().to_string(),
            "orders-db/Database/Instance: uses Ref of AlertsTopic of stack \"orders-net\"; add both stacks to an App and synthesize with App::synth, which exports it there and imports it here"
        );
    }

    #[test]
    fn fails_when_the_producer_is_not_in_the_app() {
        let (_net, topic) = producer();
        let db = consumer("orders-db", "us-east-1", json!({"Topic": topic.ref_()}));
        assert_eq!(
            synth_err(vec![db]),
            "orders-db/Database/Instance: uses Ref of AlertsTopic of stack \"orders-net\", which is not in the app (its stacks: orders-db); add that stack to the App before synthesizing"
        );
    }

    #[test]
    fn fails_on_an_import_no_stack_exports_unless_declared_external() {
        let (mut net, topic) = producer();
        net.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", topic.ref_()).exported_as("orders-topic"),
            )
            .unwrap();
        let mut db = consumer(
            "orders-db",
            "us-east-1",
            json!({"Topic": {"Fn::ImportValue": "orders-topc"}}),
        );
        db.add_dependency("orders-net");
        assert_eq!(
            synth_err(vec![net.clone(), db.clone()]),
            "orders-db/Database/Instance: imports \"orders-topc\", which no stack of the app exports; did you mean orders-topic? (an export made outside the app must be declared with declare_external_import(\"orders-topc\"))"
        );
        db.declare_external_import("orders-topc").unwrap();
        let mut app = App::new();
        app.add_stack(net).unwrap();
        app.add_stack(db).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(
            out[1].template.metadata[EXTERNAL_IMPORTS_KEY],
            json!(["orders-topc"])
        );
    }

    #[test]
    fn import_external_declares_the_name() {
        let mut db = stack("orders-db", "us-east-1");
        let v = db.as_scope().import_external("shared-vpc-id").unwrap();
        db.as_scope()
            .add("Instance", Thing(json!({"Vpc": v})))
            .unwrap();
        let mut app = App::new();
        app.add_stack(db).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(
            out[0].template.resources["Instance"].properties,
            json!({"Vpc": {"Fn::ImportValue": "shared-vpc-id"}})
        );
        let e = stack("x", "us-east-1")
            .as_scope()
            .import_external("bad name")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x: external import \"bad name\" is not an export name: it contains ' '; only ASCII letters, digits, ':' and '-' are allowed"
        );
    }

    #[test]
    fn fails_on_a_hand_written_import_across_regions() {
        let (mut net, topic) = producer();
        net.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", topic.ref_()).exported_as("orders-topic"),
            )
            .unwrap();
        let mut web = consumer(
            "orders-web",
            "eu-west-1",
            json!({"Topic": {"Fn::ImportValue": "orders-topic"}}),
        );
        web.add_dependency("orders-net");
        assert_eq!(
            synth_err(vec![net, web]),
            "orders-web/Database/Instance: imports \"orders-topic\", which is exported in us-east-1 (orders-net/Outputs/Arn), not in this stack's eu-west-1; Fn::ImportValue only reads exports of its own account and region, so use the handle instead (the app passes the value as a parameter filled at deploy time)"
        );
    }

    #[test]
    fn fails_on_a_hand_written_import_without_the_dependency() {
        let (mut net, topic) = producer();
        net.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", topic.ref_()).exported_as("orders-topic"),
            )
            .unwrap();
        let db = consumer(
            "orders-db",
            "us-east-1",
            json!({"Topic": {"Fn::ImportValue": "orders-topic"}}),
        );
        assert_eq!(
            synth_err(vec![net, db]),
            "orders-db/Database/Instance: imports \"orders-topic\" from stack orders-net (orders-net/Outputs/Arn), but stack orders-db does not depend on orders-net, so it may be deployed first and fail; call add_dependency(\"orders-net\") on it, or use the handle instead of a hand-written Fn::ImportValue"
        );
    }

    #[test]
    fn fails_on_a_cycle_naming_the_references() {
        let (mut net, topic) = producer();
        let db = {
            let mut db = stack("orders-db", "us-east-1");
            let h = db
                .as_scope()
                .child("Database")
                .unwrap()
                .add("Instance", Thing(json!({"Topic": topic.ref_()})))
                .unwrap();
            net.as_scope()
                .add("Back", Thing(json!({"Db": h.ref_()})))
                .unwrap();
            db
        };
        assert_eq!(
            synth_err(vec![net, db]),
            "orders-net: stacks depend on each other in a cycle, so none can be deployed first: orders-net → orders-db (orders-net/Back uses orders-db/Database/Instance), orders-db → orders-net (orders-db/Database/Instance uses orders-net/Alerts/Topic); move the shared resources into a stack of their own, or pass the value the other way"
        );
    }

    #[test]
    fn fails_on_an_export_name_cloudformation_refuses() {
        let (mut net, topic) = producer();
        net.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", topic.ref_()).exported_as("orders topic"),
            )
            .unwrap();
        assert_eq!(
            synth_err(vec![net]),
            "orders-net/Outputs/Arn: export name \"orders topic\" would be refused by CloudFormation: it contains ' '; only ASCII letters, digits, ':' and '-' are allowed"
        );
    }

    #[test]
    fn fails_on_the_same_export_name_twice() {
        let (mut net, topic) = producer();
        net.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", topic.ref_()).exported_as("orders-topic"),
            )
            .unwrap();
        let mut db = stack("orders-db", "us-east-1");
        let t = db.as_scope().add("Topic", Thing(json!({}))).unwrap();
        db.as_scope()
            .add_output(
                "Arn",
                Output::new("arn", t.ref_()).exported_as("orders-topic"),
            )
            .unwrap();
        assert_eq!(
            synth_err(vec![net, db]),
            "orders-db: output Arn exports \"orders-topic\", which orders-net/Outputs/Arn exports too; export names are unique per account and region"
        );
    }
}
