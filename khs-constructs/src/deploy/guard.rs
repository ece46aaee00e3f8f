//! The data-loss guard: refuses a deployment that replaces or deletes a
//! stateful resource unless the user names it with `--allow-replace`, spots
//! renamed constructs, and asks for approval of security-broadening changes
//! on production stacks.
//!
//! Pure function of the plan ([`super::changeset::plan`]), the diff and the
//! two templates; no SDK.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::changeset::PlannedChange;
use super::diff::{Action, Replacement, TemplateDiff};
use super::security::{SecurityChange, security_broadening};

/// What the user allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardOptions {
    /// Logical ids that may be replaced or deleted (`--allow-replace`).
    pub allow_replace: BTreeSet<String>,
    /// Whether the stack is a production stack (termination protection on).
    pub production: bool,
    /// Whether security-broadening changes are approved (`--approve`).
    pub approved: bool,
}

/// Why a stateful resource would lose its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Replaced (`True`).
    Replace,
    /// Maybe replaced (`Conditional`).
    MaybeReplace,
    /// Removed from the stack.
    Delete,
}

/// One stateful resource that would be replaced or deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The logical id.
    pub logical_id: String,
    /// The type.
    pub type_name: String,
    /// The construct path, when known.
    pub construct_path: Option<String>,
    /// Replace or delete.
    pub loss: Loss,
    /// The properties that cause a replacement, with their cause
    /// (`DBSubnetGroupName (because DatabaseSubnetGroup is replaced)`).
    pub properties: Vec<String>,
    /// Whether CloudFormation confirmed the replacement (false: predicted
    /// from the schemas).
    pub confirmed: bool,
    /// `Retain`/`Snapshot` policy keeping the old resource, if any.
    pub retain_policy: Option<String>,
}

/// A removed resource that an added one of the same type resembles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameHint {
    /// The removed logical id.
    pub old_id: String,
    /// Its construct path.
    pub old_path: Option<String>,
    /// The added logical id.
    pub new_id: String,
    /// Its construct path.
    pub new_path: Option<String>,
    /// The type.
    pub type_name: String,
}

/// The guard's decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// Stateful replacements and deletions not allowed: the deployment is refused.
    pub refused: Vec<Finding>,
    /// Stateful replacements and deletions allowed with `--allow-replace`.
    pub allowed: Vec<Finding>,
    /// Likely renamed constructs.
    pub renames: Vec<RenameHint>,
    /// Security-broadening changes.
    pub security: Vec<SecurityChange>,
    /// Whether the security changes still need an approval (production
    /// stack without `--approve`).
    pub needs_approval: bool,
    /// `--allow-replace` ids that match nothing to replace or delete.
    pub unused_allowances: Vec<String>,
}

impl Verdict {
    /// Whether the deployment may proceed without asking.
    pub fn may_proceed(&self) -> bool {
        self.refused.is_empty() && !self.needs_approval
    }

    /// The explanation shown when the deployment is refused (empty when not).
    pub fn explain(&self, stack: &str) -> String {
        let mut s = String::new();
        for f in &self.refused {
            let _ = writeln!(s, "{}", f.describe(stack));
            for r in self
                .renames
                .iter()
                .filter(|r| r.old_id == f.logical_id || r.new_id == f.logical_id)
            {
                let _ = writeln!(s, "  {}", r.describe());
            }
        }
        if !self.refused.is_empty() {
            let ids: Vec<String> = self
                .refused
                .iter()
                .map(|f| format!("--allow-replace {}", f.logical_id))
                .collect();
            let _ = writeln!(
                s,
                "Refused: this would lose data. If that is intended (the data is backed up or \
                 disposable), run again with {}.",
                ids.join(" ")
            );
        }
        if self.needs_approval {
            let _ = writeln!(
                s,
                "Refused: {stack} is a production stack and this deployment widens access ({} \
                 change(s) listed above); review them and run again with --approve.",
                self.security.len()
            );
        }
        s
    }
}

impl Finding {
    /// One paragraph: which resource, what happens, which property causes it.
    pub fn describe(&self, stack: &str) -> String {
        let what = match self.loss {
            Loss::Replace => "would be REPLACED",
            Loss::MaybeReplace => "may be REPLACED (conditional replacement)",
            Loss::Delete => "would be DELETED from the stack",
        };
        let path = self
            .construct_path
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default();
        let mut s = format!(
            "{stack}: {} ({}{path}) {what}",
            self.logical_id, self.type_name
        );
        if !self.properties.is_empty() {
            let how = if self.confirmed {
                "CloudFormation reports"
            } else if self.loss == Loss::MaybeReplace {
                "conditionally create-only in the resource schema, and this endpoint's change \
                 set does not say whether it replaces"
            } else {
                "predicted from the create-only properties of the resource schema"
            };
            let _ = write!(s, ": changing {} ({how})", self.properties.join(", "));
        }
        let fate = match (self.loss, self.retain_policy.as_deref()) {
            (Loss::Delete, Some("Retain" | "RetainExceptOnCreate")) => {
                "; its DeletionPolicy Retain keeps the data, detached from the stack".to_string()
            }
            (Loss::Delete, Some("Snapshot")) => {
                "; a final snapshot is taken, then the resource and its data are deleted"
                    .to_string()
            }
            (Loss::Delete, _) => "; the resource and its data are deleted".to_string(),
            (_, Some("Retain")) => {
                "; a new, empty resource takes its place (the old one is kept, detached, by \
                 UpdateReplacePolicy Retain)"
                    .to_string()
            }
            (_, Some("Snapshot")) => {
                "; a new, empty resource takes its place (the old one is snapshotted, then \
                 deleted)"
                    .to_string()
            }
            _ => "; a new, empty resource takes its place and the old one is deleted".to_string(),
        };
        s.push_str(&fate);
        s.push('.');
        s
    }
}

impl RenameHint {
    /// The hint, pointing at `ResourceOptions::logical_id`.
    pub fn describe(&self) -> String {
        let path = |p: &Option<String>| p.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        format!(
            "{}{} is removed and {}{} of the same type {} is added with similar properties: this \
             looks like a renamed construct. To keep the existing resource, give the new one the \
             old logical id with ResourceOptions {{ logical_id: Some(\"{}\".into()), .. }}.",
            self.old_id,
            path(&self.old_path),
            self.new_id,
            path(&self.new_path),
            self.type_name,
            self.old_id
        )
    }
}

/// Evaluates a plan. `old` is the deployed template (`None` for a new stack).
pub fn evaluate(
    plan: &[PlannedChange],
    diff: &TemplateDiff,
    old: Option<&Value>,
    new: &Value,
    options: &GuardOptions,
) -> Verdict {
    let mut v = Verdict::default();
    let mut matched = BTreeSet::new();
    for p in plan {
        let loss = match (p.action, p.replacement) {
            (Action::Remove, _) => Loss::Delete,
            (Action::Modify, Replacement::Yes) => Loss::Replace,
            (Action::Modify, Replacement::Conditional) => Loss::MaybeReplace,
            _ => continue,
        };
        if !p.stateful {
            continue;
        }
        let properties: Vec<String> = p
            .causes
            .iter()
            .filter(|c| c.replacement.may_replace())
            .map(|c| match &c.causing_entity {
                Some(e) => format!("{} (because {e} changes)", c.property),
                None => c.property.clone(),
            })
            .collect();
        let finding = Finding {
            logical_id: p.logical_id.clone(),
            type_name: p.type_name.clone(),
            construct_path: p.construct_path.clone(),
            loss,
            confirmed: p.replacement_confirmed || p.causes.iter().any(|c| c.confirmed),
            properties,
            retain_policy: p.retain_policy.clone(),
        };
        if options.allow_replace.contains(&p.logical_id) {
            matched.insert(p.logical_id.clone());
            v.allowed.push(finding);
        } else {
            v.refused.push(finding);
        }
    }
    v.unused_allowances = options
        .allow_replace
        .iter()
        .filter(|id| !matched.contains(*id))
        .cloned()
        .collect();
    v.renames = renames(diff, old, new);
    v.security = security_broadening(old, new);
    v.needs_approval = options.production && !options.approved && !v.security.is_empty();
    v
}

/// The stack policy of a production stack: every update is allowed except
/// `Update:Replace` and `Update:Delete` of the template's stateful resources
/// (minus `except`, the ids allowed for this one deployment).
pub fn stack_policy(template: &Value, except: &BTreeSet<String>) -> Value {
    let mut protected: Vec<String> = template
        .get("Resources")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .filter(|(id, e)| {
                    !except.contains(*id)
                        && e.get("Type")
                            .and_then(Value::as_str)
                            .is_some_and(super::diff::is_stateful)
                })
                .map(|(id, _)| format!("LogicalResourceId/{id}"))
                .collect()
        })
        .unwrap_or_default();
    protected.sort();
    let mut statements = vec![serde_json::json!({
        "Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"
    })];
    if !protected.is_empty() {
        statements.push(serde_json::json!({
            "Effect": "Deny", "Principal": "*",
            "Action": ["Update:Replace", "Update:Delete"],
            "Resource": protected
        }));
    }
    serde_json::json!({ "Statement": statements })
}

/// Removed resources that an added resource of the same type resembles:
/// at least half of the properties (by name and value) are equal.
fn renames(diff: &TemplateDiff, old: Option<&Value>, new: &Value) -> Vec<RenameHint> {
    let props = |t: Option<&Value>, id: &str| {
        t.and_then(|t| t.get("Resources"))
            .and_then(|r| r.get(id))
            .and_then(|e| e.get("Properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for removed in diff.resources.iter().filter(|r| r.action == Action::Remove) {
        let a = props(old, &removed.logical_id);
        let best = diff
            .resources
            .iter()
            .filter(|r| r.action == Action::Add && r.type_name == removed.type_name)
            .map(|added| {
                let b = props(Some(new), &added.logical_id);
                let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                let same = keys.iter().filter(|k| a.get(**k) == b.get(**k)).count();
                let score = if keys.is_empty() {
                    1.0
                } else {
                    same as f64 / keys.len() as f64
                };
                (score, added)
            })
            .filter(|(score, _)| *score >= 0.5)
            .max_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((_, added)) = best {
            out.push(RenameHint {
                old_id: removed.logical_id.clone(),
                old_path: removed.construct_path.clone(),
                new_id: added.logical_id.clone(),
                new_path: added.construct_path.clone(),
                type_name: removed.type_name.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::changeset::{ChangeSetDescription, plan};
    use crate::deploy::diff::diff_templates;
    use serde_json::json;

    fn db_template(id: &str, path: &str, group: &str) -> Value {
        json!({"Resources": {id: {"Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Metadata": {"khs:path": path},
            "Properties": {"DBSubnetGroupName": group, "Engine": "postgres",
                           "AllocatedStorage": "20", "StorageEncrypted": true}}}})
    }

    fn run(old: &Value, new: &Value, rows: Option<&str>, options: &GuardOptions) -> Verdict {
        let diff = diff_templates(Some(old), new, &BTreeSet::new());
        let rows = rows.map(|j| {
            ChangeSetDescription::from_json(j)
                .unwrap()
                .resource_changes()
        });
        let plan = plan(rows.as_deref(), &diff);
        evaluate(&plan, &diff, Some(old), new, options)
    }

    #[test]
    fn refuses_a_predicted_database_replacement_naming_resource_and_property() {
        let old = db_template("DatabaseInstance", "app/Database/Instance", "a");
        let new = db_template("DatabaseInstance", "app/Database/Instance", "b");
        let v = run(&old, &new, None, &GuardOptions::default());
        assert!(!v.may_proceed());
        let msg = v.explain("app");
        assert!(
            msg.contains(
                "DatabaseInstance (AWS::RDS::DBInstance, app/Database/Instance) would be REPLACED"
            ),
            "{msg}"
        );
        assert!(
            msg.contains("changing DBSubnetGroupName (predicted"),
            "{msg}"
        );
        assert!(msg.contains("--allow-replace DatabaseInstance"), "{msg}");
    }

    #[test]
    fn allow_replace_lets_it_through() {
        let old = db_template("DatabaseInstance", "app/Database/Instance", "a");
        let new = db_template("DatabaseInstance", "app/Database/Instance", "b");
        let options = GuardOptions {
            allow_replace: ["DatabaseInstance".to_string(), "Typo".to_string()].into(),
            ..GuardOptions::default()
        };
        let v = run(&old, &new, None, &options);
        assert!(v.may_proceed());
        assert_eq!(v.allowed.len(), 1);
        assert_eq!(v.unused_allowances, ["Typo"]);
    }

    #[test]
    fn refuses_replacement_reported_by_the_change_set() {
        // Templates equal: only CloudFormation knows (e.g. a dynamic value).
        let t = db_template("DatabaseInstance", "p", "a");
        let v = run(
            &t,
            &t,
            Some(crate::deploy::changeset::tests::AWS_REPLACE_DB),
            &GuardOptions::default(),
        );
        assert_eq!(v.refused.len(), 1);
        let msg = v.explain("khs-crm-prod");
        assert!(
            msg.contains("changing DBSubnetGroupName (because DatabaseSubnetGroup changes) (CloudFormation reports)"),
            "{msg}"
        );
    }

    #[test]
    fn conditional_replacement_of_a_stateful_resource_is_refused() {
        let json = r#"{"Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "Cache",
            "ResourceType": "AWS::ElastiCache::ReplicationGroup", "Replacement": "Conditional",
            "Scope": ["Properties"],
            "Details": [{"Target": {"Attribute": "Properties", "Name": "CacheSubnetGroupName",
                "RequiresRecreation": "Conditionally"}, "Evaluation": "Dynamic",
                "ChangeSource": "ResourceReference", "CausingEntity": "CacheSubnets"}]}}]}"#;
        let t = json!({"Resources": {}});
        let v = run(&t, &t, Some(json), &GuardOptions::default());
        assert_eq!(v.refused[0].loss, Loss::MaybeReplace);
        assert!(v.explain("s").contains("may be REPLACED"));
    }

    /// A PostgreSQL instance going Multi-AZ: `MultiAZ` is conditionally
    /// create-only in the schema.
    fn multi_az(on: bool) -> Value {
        json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance",
            "Metadata": {"khs:path": "app/Database/Instance"},
            "Properties": {"Engine": "postgres", "AllocatedStorage": "20", "MultiAZ": on}}}})
    }

    #[test]
    fn conditionally_create_only_changes_are_refused_when_the_endpoint_does_not_say() {
        let v = run(
            &multi_az(false),
            &multi_az(true),
            None,
            &GuardOptions::default(),
        );
        assert_eq!(v.refused.len(), 1);
        assert_eq!(v.refused[0].loss, Loss::MaybeReplace);
        let msg = v.explain("app");
        assert!(
            msg.contains("Db (AWS::RDS::DBInstance, app/Database/Instance) may be REPLACED"),
            "{msg}"
        );
        assert!(
            msg.contains("changing MultiAZ (conditionally create-only"),
            "{msg}"
        );
    }

    #[test]
    fn the_change_set_settles_a_conditional_prediction() {
        let row = |replacement: &str, recreation: &str| {
            format!(
                r#"{{"Changes": [{{"Type": "Resource", "ResourceChange": {{
                "Action": "Modify", "LogicalResourceId": "Db",
                "ResourceType": "AWS::RDS::DBInstance", "Replacement": "{replacement}",
                "Scope": ["Properties"],
                "Details": [{{"Target": {{"Attribute": "Properties", "Name": "MultiAZ",
                    "RequiresRecreation": "{recreation}"}}, "Evaluation": "Static",
                    "ChangeSource": "DirectModification"}}]}}}}]}}"#
            )
        };
        // AWS says it is updated in place: the guard lets it through.
        let v = run(
            &multi_az(false),
            &multi_az(true),
            Some(&row("False", "Never")),
            &GuardOptions::default(),
        );
        assert!(v.may_proceed(), "{}", v.explain("app"));
        // AWS says it may be replaced: refused, as AWS reports.
        let v = run(
            &multi_az(false),
            &multi_az(true),
            Some(&row("Conditional", "Conditionally")),
            &GuardOptions::default(),
        );
        assert_eq!(v.refused.len(), 1);
        assert!(v.explain("app").contains("CloudFormation reports"));
    }

    #[test]
    fn stateless_replacements_pass() {
        let sg = |d: &str| {
            json!({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": d}}}})
        };
        let v = run(&sg("a"), &sg("b"), None, &GuardOptions::default());
        assert!(v.may_proceed());
        assert!(v.refused.is_empty() && v.allowed.is_empty());
    }

    #[test]
    fn renamed_database_is_a_deletion_with_a_rename_hint() {
        let old = db_template("DatabaseInstance", "app/Database/Instance", "a");
        let new = db_template("DbInstance", "app/Db/Instance", "a");
        let v = run(&old, &new, None, &GuardOptions::default());
        assert_eq!(v.refused.len(), 1);
        assert_eq!(v.refused[0].loss, Loss::Delete);
        assert_eq!(v.renames[0].new_id, "DbInstance");
        let msg = v.explain("app");
        assert!(msg.contains("would be DELETED"), "{msg}");
        assert!(
            msg.contains("DeletionPolicy Retain keeps the data"),
            "{msg}"
        );
        assert!(msg.contains("looks like a renamed construct"), "{msg}");
        assert!(
            msg.contains("logical_id: Some(\"DatabaseInstance\".into())"),
            "{msg}"
        );
    }

    #[test]
    fn stack_policy_denies_replacing_stateful_resources() {
        let t = json!({"Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance"},
            "Logs": {"Type": "AWS::Logs::LogGroup"},
            "Vpc": {"Type": "AWS::EC2::VPC"}}});
        let p = stack_policy(&t, &["Logs".to_string()].into());
        assert_eq!(p["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            p["Statement"][1]["Action"],
            json!(["Update:Replace", "Update:Delete"])
        );
        assert_eq!(
            p["Statement"][1]["Resource"],
            json!(["LogicalResourceId/Db"])
        );
        let none = stack_policy(
            &json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}}}),
            &BTreeSet::new(),
        );
        assert_eq!(none["Statement"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn security_changes_need_approval_in_production_only() {
        let old = json!({"Resources": {}});
        let new = json!({"Resources": {"In": {"Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}}}});
        let dev = run(&old, &new, None, &GuardOptions::default());
        assert!(dev.may_proceed());
        assert_eq!(dev.security.len(), 1);
        let prod = GuardOptions {
            production: true,
            ..GuardOptions::default()
        };
        let v = run(&old, &new, None, &prod);
        assert!(!v.may_proceed());
        assert!(v.explain("prod").contains("--approve"));
        let approved = GuardOptions {
            approved: true,
            ..prod
        };
        assert!(run(&old, &new, None, &approved).may_proceed());
    }
}
