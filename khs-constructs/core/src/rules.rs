//! The rules engine: rule packs checked over every synthesized template,
//! findings with the construct path, and acknowledgements in code.
//!
//! A [`Rule`] is data (an id, a [`Severity`], what is wrong, what to change,
//! its equivalents in checkov and the AWS Solutions pack of cdk-nag) plus a
//! function over one resource of the template ([`Subject`]). Rules are
//! grouped into [`RulePack`]s; an [`App`](super::app::App) runs the packs it
//! was given ([`App::with_rule_packs`](super::app::App::with_rule_packs)) in
//! [`App::synth`](super::app::App::synth):
//!
//! - an unacknowledged finding of an [`Severity::Error`] rule fails synthesis;
//! - an unacknowledged [`Severity::Warning`] is returned in the stack's
//!   [`RuleReport`] (the `synth` binary prints it, `synth --check` fails on it);
//! - an acknowledged finding is written into the resource's `Metadata` in the
//!   formats cdk-nag and checkov read (`cdk_nag.rules_to_suppress` and
//!   `checkov.skip`), so the field's scanners agree with ours;
//! - an acknowledgement that matches no finding is reported as stale.
//!
//! The core knows no rule; the library's built-in packs are in
//! `khs_constructs::rules`.
//!
//! ```
//! use khs_core::app::App;
//! use khs_core::rules::{Rule, RulePack, Severity, Subject};
//! use khs_core::scope::AsScope;
//! use khs_core::stack::{Environment, Stack, StackProps};
//!
//! fn named(s: &Subject<'_>) -> Option<String> {
//!     s.prop("TopicName").is_none().then(|| "the topic has no TopicName".to_string())
//! }
//! let pack = RulePack::new("team", vec![Rule {
//!     id: "team-topic-name",
//!     severity: Severity::Warning,
//!     summary: "Topics are named",
//!     rationale: "Our runbooks look topics up by name.",
//!     fix: "set TopicName",
//!     resource_types: &["AWS::SNS::Topic"],
//!     checkov: &[],
//!     aws_solutions: &[],
//!     check: named,
//! }]);
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! stack.as_scope().add("Topic", khs_cfn::sns::Topic::default()).unwrap();
//! let mut app = App::new().with_rule_packs(vec![pack]);
//! app.add_stack(stack).unwrap();
//! let out = app.synth().unwrap();
//! assert_eq!(out[0].rules.findings[0].rule_id, "team-topic-name");
//! assert_eq!(out[0].rules.findings[0].path, "demo/Topic");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value as Json, json};

use super::error::{Error, Result};
use super::stack::PATH_METADATA_KEY;
use super::template::{JsonText, ResourceEntry, Template};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A secure default is off or data is exposed: synthesis fails unless
    /// the finding is acknowledged.
    Error,
    /// A best practice that depends on context: reported, synthesis goes on.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// What a rule's check returns: `None` when the resource complies,
/// `Some(what is wrong)` when the rule fires.
pub type Verdict = Option<String>;

/// One rule: data plus a check over one resource.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The id used in findings and acknowledgements (`s3-server-access-logs`).
    pub id: &'static str,
    /// Error (fails synthesis) or warning.
    pub severity: Severity,
    /// One line: what the rule requires.
    pub summary: &'static str,
    /// Why (shown in `docs/rules.md`).
    pub rationale: &'static str,
    /// What to change when the rule fires.
    pub fix: &'static str,
    /// The resource types the check runs on; empty for every type.
    pub resource_types: &'static [&'static str],
    /// The checkov check ids this rule corresponds to (`CKV_AWS_18`):
    /// acknowledging the rule writes a `checkov.skip` entry for each.
    pub checkov: &'static [&'static str],
    /// The AWS Solutions rule ids of cdk-nag (`AwsSolutions-S1`):
    /// acknowledging the rule writes a `cdk_nag.rules_to_suppress` entry
    /// for each.
    pub aws_solutions: &'static [&'static str],
    /// The check.
    pub check: fn(&Subject<'_>) -> Verdict,
}

/// A named set of rules.
#[derive(Debug, Clone)]
pub struct RulePack {
    name: String,
    rules: Vec<Rule>,
    disabled: Vec<String>,
}

impl RulePack {
    /// A pack named `name`.
    pub fn new(name: impl Into<String>, rules: Vec<Rule>) -> Self {
        RulePack {
            name: name.into(),
            rules,
            disabled: Vec::new(),
        }
    }

    /// The pack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The same pack without the rules whose ids are listed (to turn a rule
    /// off for a whole app; prefer acknowledging single findings).
    /// Acknowledgements of a rule turned off are not reported as stale.
    pub fn without(mut self, ids: &[&str]) -> Self {
        self.rules.retain(|r| !ids.contains(&r.id));
        self.disabled.extend(ids.iter().map(|id| id.to_string()));
        self
    }

    /// The ids turned off with [`RulePack::without`].
    pub fn disabled(&self) -> &[String] {
        &self.disabled
    }
}

/// One resource of a template, as a rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The stack name.
    pub stack: &'a str,
    /// The resource's logical id.
    pub logical_id: &'a str,
    /// The resource.
    pub resource: &'a ResourceEntry,
    /// The whole template (for rules that look at related resources).
    pub template: &'a Template,
}

impl<'a> Subject<'a> {
    /// The construct path (from the `khs:path` metadata), or
    /// `<stack>/<logical id>` for a resource without one.
    pub fn path(&self) -> String {
        path_of(self.stack, self.logical_id, self.resource)
    }

    /// The resource type.
    pub fn type_name(&self) -> &'a str {
        &self.resource.type_name
    }

    /// A property by dotted path below `Properties`
    /// (`BucketEncryption.ServerSideEncryptionConfiguration.0`).
    pub fn prop(&self, path: &str) -> Option<&'a Json> {
        // The first property is parsed alone: rules read a few properties
        // of many resources.
        let (first, rest) = match path.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (path, None),
        };
        let member = self.resource.properties.member(first)?;
        match rest {
            Some(rest) => lookup(member, rest),
            None => Some(member),
        }
    }

    /// Whether the property is `true` (or the string `"true"`).
    pub fn is_true(&self, path: &str) -> bool {
        self.prop(path).is_some_and(is_true)
    }

    /// The other resources of the template of type `type_name`, with their
    /// logical ids.
    pub fn resources_of_type(
        &self,
        type_name: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a ResourceEntry)> + 'a {
        self.template
            .resources
            .iter()
            .filter(move |(_, r)| r.type_name == type_name)
            .map(|(id, r)| (id.as_str(), r))
    }

    /// Whether `value` refers to this resource (`Ref`, `Fn::GetAtt` or a
    /// `${Id}`/`${Id.Attr}` variable of `Fn::Sub`).
    pub fn is_referenced_in(&self, value: &Json) -> bool {
        refers_to(value, self.logical_id)
    }
}

/// A dotted-path lookup into JSON (`A.B.0.C`).
pub fn lookup<'v>(value: &'v Json, path: &str) -> Option<&'v Json> {
    let mut cur = value;
    for seg in path.split('.') {
        cur = match cur {
            Json::Object(m) => m.get(seg)?,
            Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Whether a JSON value is `true` or `"true"` (CloudFormation accepts both).
pub fn is_true(v: &Json) -> bool {
    v.as_bool() == Some(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// Whether `value` contains a reference to `logical_id`.
pub fn refers_to(value: &Json, logical_id: &str) -> bool {
    match value {
        Json::Object(m) => {
            if let Some(Json::String(r)) = m.get("Ref") {
                if r == logical_id {
                    return true;
                }
            }
            if let Some(Json::Array(a)) = m.get("Fn::GetAtt") {
                if a.first().and_then(Json::as_str) == Some(logical_id) {
                    return true;
                }
            }
            if let Some(sub) = m.get("Fn::Sub") {
                let text = match sub {
                    Json::String(s) => Some(s.as_str()),
                    Json::Array(a) => a.first().and_then(Json::as_str),
                    _ => None,
                };
                if text.is_some_and(|t| {
                    t.contains(&format!("${{{logical_id}}}"))
                        || t.contains(&format!("${{{logical_id}."))
                }) {
                    return true;
                }
            }
            m.values().any(|v| refers_to(v, logical_id))
        }
        Json::Array(a) => a.iter().any(|v| refers_to(v, logical_id)),
        _ => false,
    }
}

fn path_of(stack: &str, logical_id: &str, r: &ResourceEntry) -> String {
    r.metadata
        .as_ref()
        .and_then(|m| m.get(PATH_METADATA_KEY))
        .and_then(Json::as_str)
        .map_or_else(|| format!("{stack}/{logical_id}"), str::to_string)
}

/// One finding: a rule that fired on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stack name.
    pub stack: String,
    /// The resource's construct path.
    pub path: String,
    /// The resource's logical id.
    pub logical_id: String,
    /// The pack the rule belongs to.
    pub pack: String,
    /// The rule id.
    pub rule_id: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, for this resource.
    pub message: String,
    /// What to change.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({}): {}; {}, or acknowledge it with a reason",
            self.path, self.severity, self.rule_id, self.pack, self.message, self.fix
        )
    }
}

/// What an acknowledgement covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckTarget {
    /// Every resource at or below a construct path.
    Path(String),
    /// One resource, by logical id.
    Resource(String),
}

/// A finding acknowledged in code: the rule, the reason, what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// What it covers.
    pub target: AckTarget,
    /// The construct path it was declared at (for reports).
    pub declared_at: String,
    /// The rule id.
    pub rule_id: String,
    /// Why the finding is accepted.
    pub reason: String,
}

/// The fewest words an acknowledgement's reason must have.
pub const MIN_REASON_WORDS: usize = 4;

impl Acknowledgement {
    /// Checks the rule id and the reason: the id has no blanks, the reason
    /// is at least a sentence (at least [`MIN_REASON_WORDS`] words).
    pub fn new(target: AckTarget, declared_at: &str, rule_id: &str, reason: &str) -> Result<Self> {
        if rule_id.is_empty() || rule_id.chars().any(char::is_whitespace) {
            return Err(Error::invalid_prop(
                declared_at,
                "acknowledge",
                format!("rule id must be a rule's id without blanks, got {rule_id:?}"),
            ));
        }
        let reason = reason.trim();
        let words = reason
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        if words < MIN_REASON_WORDS {
            return Err(Error::invalid_prop(
                declared_at,
                "acknowledge",
                format!(
                    "reason of {rule_id} must be at least a sentence ({MIN_REASON_WORDS} words or more) that tells a reviewer why the finding is accepted, got {reason:?}"
                ),
            ));
        }
        Ok(Acknowledgement {
            target,
            declared_at: declared_at.to_string(),
            rule_id: rule_id.to_string(),
            reason: reason.to_string(),
        })
    }

    fn covers(&self, logical_id: &str, path: &str) -> bool {
        match &self.target {
            AckTarget::Resource(id) => id == logical_id,
            AckTarget::Path(p) => {
                path == p || (path.starts_with(p.as_str()) && path[p.len()..].starts_with('/'))
            }
        }
    }

    /// Higher is more specific: a resource beats a path, a longer path a
    /// shorter one.
    fn specificity(&self) -> usize {
        match &self.target {
            AckTarget::Resource(_) => usize::MAX,
            AckTarget::Path(p) => p.len(),
        }
    }
}

/// A finding that an acknowledgement accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgedFinding {
    /// The finding.
    pub finding: Finding,
    /// The reason given.
    pub reason: String,
}

/// An acknowledgement that matched no finding: the rule no longer fires
/// (or never ran) on what it covers, so it should be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleAcknowledgement {
    /// Where it was declared.
    pub declared_at: String,
    /// The rule id.
    pub rule_id: String,
    /// Why it is stale.
    pub message: String,
}

impl fmt::Display for StaleAcknowledgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: stale acknowledgement of {}: {}; remove it",
            self.declared_at, self.rule_id, self.message
        )
    }
}

/// What the rules found in one stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleReport {
    /// Unacknowledged warnings (unacknowledged errors fail synthesis).
    pub findings: Vec<Finding>,
    /// Findings accepted by an acknowledgement (written into the template).
    pub acknowledged: Vec<AcknowledgedFinding>,
    /// Acknowledgements that matched nothing.
    pub stale: Vec<StaleAcknowledgement>,
}

impl RuleReport {
    /// Whether there is nothing to act on (no warning, no stale
    /// acknowledgement).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.stale.is_empty()
    }
}

/// Runs `packs` over `template`, writes the metadata of acknowledged
/// findings into it, and returns the report; unacknowledged errors are an
/// [`Error::RuleViolations`].
pub fn check_template(
    packs: &[RulePack],
    stack: &str,
    template: &mut Template,
    acknowledgements: &[Acknowledgement],
) -> Result<RuleReport> {
    if packs.is_empty() {
        // Nothing is checked, so nothing is stale either.
        return Ok(RuleReport::default());
    }
    let mut by_type: BTreeMap<&str, Vec<(&str, &Rule)>> = BTreeMap::new();
    let mut any_type: Vec<(&str, &Rule)> = Vec::new();
    for pack in packs {
        for rule in &pack.rules {
            if rule.resource_types.is_empty() {
                any_type.push((pack.name(), rule));
            } else {
                for t in rule.resource_types {
                    by_type.entry(t).or_default().push((pack.name(), rule));
                }
            }
        }
    }
    let mut fired: Vec<(Finding, &Rule)> = Vec::new();
    for (id, resource) in &template.resources {
        let subject = Subject {
            stack,
            logical_id: id,
            resource,
            template,
        };
        let typed = by_type
            .get(resource.type_name.as_str())
            .into_iter()
            .flatten();
        for (pack, rule) in typed.chain(any_type.iter()) {
            if let Some(message) = (rule.check)(&subject) {
                fired.push((
                    Finding {
                        stack: stack.to_string(),
                        path: subject.path(),
                        logical_id: id.clone(),
                        pack: pack.to_string(),
                        rule_id: rule.id.to_string(),
                        severity: rule.severity,
                        message,
                        fix: rule.fix.to_string(),
                    },
                    rule,
                ));
            }
        }
    }
    let mut used = vec![false; acknowledgements.len()];
    let mut report = RuleReport::default();
    let mut errors = Vec::new();
    // logical id -> (cdk_nag entries, checkov entries), each id -> reason.
    let mut metadata: BTreeMap<String, (Reasons, Reasons)> = BTreeMap::new();
    for (finding, rule) in fired {
        let ack = acknowledgements
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.rule_id == finding.rule_id && a.covers(&finding.logical_id, &finding.path)
            })
            .max_by_key(|(i, a)| (a.specificity(), usize::MAX - i));
        match ack {
            Some((i, a)) => {
                used[i] = true;
                let (nag, ckv) = metadata.entry(finding.logical_id.clone()).or_default();
                for id in std::iter::once(rule.id).chain(rule.aws_solutions.iter().copied()) {
                    nag.entry(id.to_string())
                        .or_insert_with(|| a.reason.clone());
                }
                for id in rule.checkov {
                    ckv.entry(id.to_string())
                        .or_insert_with(|| a.reason.clone());
                }
                report.acknowledged.push(AcknowledgedFinding {
                    finding,
                    reason: a.reason.clone(),
                });
            }
            None if finding.severity == Severity::Error => errors.push(finding),
            None => report.findings.push(finding),
        }
    }
    if !errors.is_empty() {
        return Err(Error::RuleViolations { findings: errors });
    }
    for (id, (nag, ckv)) in metadata {
        let Some(entry) = template.resources.get_mut(&id) else {
            continue;
        };
        let meta = entry.metadata.get_or_insert_with(JsonText::default);
        meta.modify(|meta| {
            let Some(m) = meta.as_object_mut() else {
                return;
            };
            let nag: Vec<Json> = nag
                .into_iter()
                .map(|(id, reason)| json!({"id": id, "reason": reason}))
                .collect();
            m.insert("cdk_nag".to_string(), json!({ "rules_to_suppress": nag }));
            if !ckv.is_empty() {
                let ckv: Vec<Json> = ckv
                    .into_iter()
                    .map(|(id, comment)| json!({"id": id, "comment": comment}))
                    .collect();
                m.insert("checkov".to_string(), json!({ "skip": ckv }));
            }
        });
    }
    let known: Vec<&str> = packs
        .iter()
        .flat_map(|p| p.rules.iter().map(|r| r.id))
        .collect();
    let disabled: Vec<&str> = packs
        .iter()
        .flat_map(|p| p.disabled.iter().map(String::as_str))
        .collect();
    for (a, used) in acknowledgements.iter().zip(used) {
        if used || disabled.contains(&a.rule_id.as_str()) {
            continue;
        }
        let message = if !known.contains(&a.rule_id.as_str()) {
            "no rule with this id runs in this app (a typo, or its pack was not chosen)".to_string()
        } else if !template.resources.iter().any(|(id, r)| {
            let path = path_of(stack, id, r);
            a.covers(id, &path)
        }) {
            "it covers no resource of the stack".to_string()
        } else {
            "the rule does not fire on any resource it covers".to_string()
        };
        report.stale.push(stale(a, &message));
    }
    Ok(report)
}

/// Rule ids and the reason each was acknowledged for.
type Reasons = BTreeMap<String, String>;

fn stale(a: &Acknowledgement, message: &str) -> StaleAcknowledgement {
    StaleAcknowledgement {
        declared_at: a.declared_at.clone(),
        rule_id: a.rule_id.clone(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::app::App;
    use super::super::resource::{Resource, ResourceSpec};
    use super::super::scope::AsScope;
    use super::super::stack::{Environment, Stack, StackProps};
    use super::*;

    /// A topic without the generated layer (the core's tests use none).
    #[derive(serde::Serialize, Default)]
    #[serde(rename_all = "PascalCase")]
    struct Topic {
        #[serde(skip_serializing_if = "Option::is_none")]
        kms_master_key_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        topic_name: Option<String>,
    }

    impl Resource for Topic {
        fn type_name(&self) -> &str {
            "AWS::SNS::Topic"
        }
        fn spec(&self) -> Option<&'static ResourceSpec> {
            None
        }
    }

    fn unencrypted(s: &Subject<'_>) -> Verdict {
        s.prop("KmsMasterKeyId")
            .is_none()
            .then(|| "KmsMasterKeyId is not set".to_string())
    }

    fn unnamed(s: &Subject<'_>) -> Verdict {
        s.prop("TopicName")
            .is_none()
            .then(|| "TopicName is not set".to_string())
    }

    fn pack() -> RulePack {
        RulePack::new(
            "test",
            vec![
                Rule {
                    id: "topic-encrypted",
                    severity: Severity::Error,
                    summary: "Topics are encrypted",
                    rationale: "r",
                    fix: "set KmsMasterKeyId",
                    resource_types: &["AWS::SNS::Topic"],
                    checkov: &["CKV_AWS_26"],
                    aws_solutions: &["AwsSolutions-SNS2"],
                    check: unencrypted,
                },
                Rule {
                    id: "topic-named",
                    severity: Severity::Warning,
                    summary: "Topics are named",
                    rationale: "r",
                    fix: "set TopicName",
                    resource_types: &[],
                    checkov: &[],
                    aws_solutions: &[],
                    check: unnamed,
                },
            ],
        )
    }

    const REASON: &str = "The alerts topic carries no data beyond alarm names.";

    fn stack() -> Stack {
        Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn synth(stack: Stack, packs: Vec<RulePack>) -> Result<super::super::app::StackArtifact> {
        let mut app = App::new().with_rule_packs(packs);
        app.add_stack(stack)?;
        Ok(app.synth()?.remove(0))
    }

    #[test]
    fn an_unacknowledged_error_fails_synthesis_naming_the_path() {
        let mut s = stack();
        s.as_scope()
            .child("Alerts")
            .unwrap()
            .add("Topic", Topic::default())
            .unwrap();
        let err = synth(s, vec![pack()]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("s/Alerts/Topic: error topic-encrypted (test): KmsMasterKeyId is not set; set KmsMasterKeyId"),
            "{msg}"
        );
        assert!(matches!(err, Error::RuleViolations { ref findings } if findings.len() == 1));
    }

    #[test]
    fn warnings_are_returned_and_packs_can_be_chosen() {
        let mut s = stack();
        s.as_scope().add("Topic", Topic::default()).unwrap();
        let only_warning = pack().without(&["topic-encrypted"]);
        let out = synth(s.clone(), vec![only_warning]).unwrap();
        assert_eq!(out.rules.findings.len(), 1);
        let f = &out.rules.findings[0];
        assert_eq!(
            (f.path.as_str(), f.rule_id.as_str(), f.severity),
            ("s/Topic", "topic-named", Severity::Warning)
        );
        assert!(f.to_string().contains("set TopicName"), "{f}");
        // No pack: nothing runs, nothing is written.
        let none = synth(s, vec![]).unwrap();
        assert!(none.rules.is_clean());
        assert!(!none.json.contains("cdk_nag"));
    }

    #[test]
    fn an_acknowledgement_on_a_handle_writes_both_scanner_formats() {
        let mut s = stack();
        let topic = s.as_scope().add("Topic", Topic::default()).unwrap();
        topic
            .acknowledge(&mut s, "topic-encrypted", REASON)
            .unwrap();
        s.acknowledge("topic-named", "Names are generated by CloudFormation here.")
            .unwrap();
        let out = synth(s, vec![pack()]).unwrap();
        assert!(out.rules.is_clean(), "{:?}", out.rules);
        assert_eq!(out.rules.acknowledged.len(), 2);
        let meta = out.template.resources["Topic"].metadata.clone().unwrap();
        assert_eq!(
            meta["checkov"],
            json!({"skip": [{"id": "CKV_AWS_26", "comment": REASON}]})
        );
        assert_eq!(
            meta["cdk_nag"],
            json!({"rules_to_suppress": [
                {"id": "AwsSolutions-SNS2", "reason": REASON},
                {"id": "topic-encrypted", "reason": REASON},
                {"id": "topic-named", "reason": "Names are generated by CloudFormation here."},
            ]})
        );
        assert_eq!(meta[PATH_METADATA_KEY], "s/Topic");
        assert!(out.json.contains("\"rules_to_suppress\""));
    }

    #[test]
    fn a_scope_acknowledgement_covers_only_resources_below_it() {
        let mut s = stack();
        {
            let mut root = s.as_scope();
            let mut a = root.child("A").unwrap();
            a.add("Topic", Topic::default()).unwrap();
            a.acknowledge("topic-encrypted", REASON).unwrap();
        }
        s.as_scope()
            .child("AB")
            .unwrap()
            .add("Topic", Topic::default())
            .unwrap();
        let err = synth(s, vec![pack()]).unwrap_err().to_string();
        assert!(
            err.starts_with("s/AB/Topic: error topic-encrypted"),
            "{err}"
        );
        assert!(!err.contains("s/A/Topic"), "{err}");
    }

    #[test]
    fn a_stale_acknowledgement_is_reported() {
        let mut s = stack();
        let topic = s
            .as_scope()
            .add(
                "Topic",
                Topic {
                    kms_master_key_id: Some("alias/aws/sns".to_string()),
                    topic_name: Some("t".to_string()),
                },
            )
            .unwrap();
        topic
            .acknowledge(&mut s, "topic-encrypted", REASON)
            .unwrap();
        s.acknowledge_under("Nothing", "topic-named", REASON)
            .unwrap();
        s.acknowledge("no-such-rule", REASON).unwrap();
        // A rule turned off app-wide makes its acknowledgements moot, not stale.
        s.acknowledge("turned-off", REASON).unwrap();
        let out = synth(s, vec![pack().without(&["turned-off"])]).unwrap();
        let stale: Vec<String> = out.rules.stale.iter().map(ToString::to_string).collect();
        assert_eq!(
            stale,
            [
                "s/Topic: stale acknowledgement of topic-encrypted: the rule does not fire on any resource it covers; remove it",
                "s/Nothing: stale acknowledgement of topic-named: it covers no resource of the stack; remove it",
                "s: stale acknowledgement of no-such-rule: no rule with this id runs in this app (a typo, or its pack was not chosen); remove it",
            ]
        );
        assert!(
            !out.json.contains("cdk_nag"),
            "nothing fired, nothing written"
        );
    }

    #[test]
    fn a_reason_must_be_a_sentence() {
        let mut s = stack();
        let mut root = s.as_scope();
        let mut a = root.child("Alerts").unwrap();
        for bad in ["", "   ", "ok", "accepted risk here"] {
            let err = a
                .acknowledge("topic-encrypted", bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(
                    "s/Alerts: acknowledge reason of topic-encrypted must be at least a sentence"
                ),
                "{err}"
            );
        }
        let err = a.acknowledge("two words", REASON).unwrap_err().to_string();
        assert!(err.contains("without blanks"), "{err}");
        a.acknowledge("topic-encrypted", REASON).unwrap();
    }
}
