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
    /// For a replaced subnet, security group or subnet group (stateless
    /// itself): the stateful resources that sit in it, `Id (Type)`.
    pub holders: Vec<String>,
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
                "Refused: {stack}: this deployment replaces or removes {} resource(s) listed \
                 above that hold data or that data sits in; if that is intended (the data is \
                 backed up, disposable or kept by a Retain policy), run again with {}.",
                self.refused.len(),
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
        if !self.holders.is_empty() {
            let _ = write!(s, " while {} sit(s) in it", self.holders.join(", "));
        }
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
        if !self.holders.is_empty() {
            s.push_str(
                "; CloudFormation would have to move them to the new one, and AWS fails such an \
                 update halfway (the old one is still in use, e.g. \"subnets in use\"): add the \
                 new one beside the old one, move the resources over in one deployment, then \
                 remove the old one in the next.",
            );
            return s;
        }
        let fate = match (self.loss, self.retain_policy.as_deref()) {
            (Loss::Delete, Some("Retain" | "RetainExceptOnCreate")) => {
                "; its DeletionPolicy Retain keeps the resource and its data, detached from the \
                 stack (no longer managed by it)"
                    .to_string()
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
    /// The hint, naming the declaration that keeps the resource.
    pub fn describe(&self) -> String {
        let path = |p: &Option<String>| p.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        let target = self.new_path.as_deref().unwrap_or(&self.new_id);
        format!(
            "{}{} is removed and {}{} of the same type {} is added with the same properties: \
             this looks like a renamed construct. To keep the existing resource and its data, \
             declare the move in code after creating the construct, \
             `stack.declare_moved(\"{target}\", \"{}\")?;` (the deployment then renames it \
             with a CloudFormation stack refactor instead of replacing it).",
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
        let holders = if p.stateful || loss == Loss::Delete {
            Vec::new()
        } else {
            holders_of(new, &p.logical_id, &p.type_name)
        };
        if !p.stateful && holders.is_empty() {
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
            holders,
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

/// Types that other resources sit in: replacing one moves them.
const PLACEMENT_TYPES: &[&str] = &[
    "AWS::EC2::Subnet",
    "AWS::EC2::SecurityGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::DocDB::DBSubnetGroup",
    "AWS::Neptune::DBSubnetGroup",
    "AWS::Redshift::ClusterSubnetGroup",
];

/// The logical ids an entry's properties refer to (`Ref`, `Fn::GetAtt`,
/// `${Id}` in `Fn::Sub`).
pub(crate) fn references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("Ref") {
                out.insert(r.clone());
            }
            match o.get("Fn::GetAtt") {
                Some(Value::Array(a)) => {
                    if let Some(Value::String(r)) = a.first() {
                        out.insert(r.clone());
                    }
                }
                Some(Value::String(s)) => {
                    out.insert(s.split('.').next().unwrap_or(s).to_string());
                }
                _ => {}
            }
            let sub = match o.get("Fn::Sub") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(text) = sub {
                for part in text.split("${").skip(1) {
                    if let Some(end) = part.find('}') {
                        let name = &part[..end];
                        out.insert(name.split('.').next().unwrap_or(name).to_string());
                    }
                }
            }
            for x in o.values() {
                references(x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                references(x, out);
            }
        }
        _ => {}
    }
}

/// The stateful resources of `template` that sit in `id` (a subnet,
/// security group or subnet group): they refer to it directly or through
/// other placement resources (a database → its subnet group → the subnet).
fn holders_of(template: &Value, id: &str, type_name: &str) -> Vec<String> {
    if !PLACEMENT_TYPES.contains(&type_name) {
        return Vec::new();
    }
    let Some(res) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let ty = |e: &Value| {
        e.get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let refs = |e: &Value| {
        let mut out = BTreeSet::new();
        if let Some(p) = e.get("Properties") {
            references(p, &mut out);
        }
        out
    };
    // Placement resources that lead to `id`, found outwards from it.
    let mut inside: BTreeSet<String> = [id.to_string()].into();
    loop {
        let more: Vec<String> = res
            .iter()
            .filter(|(k, e)| {
                !inside.contains(*k)
                    && PLACEMENT_TYPES.contains(&ty(e).as_str())
                    && refs(e).iter().any(|r| inside.contains(r))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        inside.extend(more);
    }
    res.iter()
        .filter(|(_, e)| super::diff::is_stateful(&ty(e)))
        .filter(|(_, e)| refs(e).iter().any(|r| inside.contains(r)))
        .map(|(k, e)| format!("{k} ({})", ty(e)))
        .collect()
}

/// Properties that say nothing about which resource it is.
const CONTEXT_PROPERTIES: &[&str] = &["Tags", "VpcId", "KmsKeyId", "KmsKeyArn"];

fn rename_score(a: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>) -> f64 {
    let keys: BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| !CONTEXT_PROPERTIES.contains(&k.as_str()))
        .collect();
    if keys.is_empty() {
        // Nothing to compare: no evidence of a rename.
        return 0.0;
    }
    let same = keys.iter().filter(|k| a.get(**k) == b.get(**k)).count();
    same as f64 / keys.len() as f64
}

/// Removed stateful resources that exactly one added resource of the same
/// type resembles (more than half of the identifying properties equal),
/// and that resource resembles no other removed one: an unambiguous pair.
/// Stateless resources get no hint (re-creating them loses nothing), and
/// look-alikes that could pair several ways (two keys swapped) none.
fn renames(diff: &TemplateDiff, old: Option<&Value>, new: &Value) -> Vec<RenameHint> {
    let props = |t: Option<&Value>, id: &str| {
        t.and_then(|t| t.get("Resources"))
            .and_then(|r| r.get(id))
            .and_then(|e| e.get("Properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let removed: Vec<_> = diff
        .resources
        .iter()
        .filter(|r| r.action == Action::Remove && r.stateful)
        .collect();
    let added: Vec<_> = diff
        .resources
        .iter()
        .filter(|r| r.action == Action::Add && r.stateful)
        .collect();
    let similar = |r: &super::diff::ResourceDiff, a: &super::diff::ResourceDiff| {
        r.type_name == a.type_name
            && rename_score(&props(old, &r.logical_id), &props(Some(new), &a.logical_id)) > 0.5
    };
    let mut out = Vec::new();
    for r in &removed {
        let candidates: Vec<_> = added.iter().filter(|a| similar(r, a)).collect();
        let [a] = candidates.as_slice() else {
            continue;
        };
        if removed.iter().filter(|other| similar(other, a)).count() != 1 {
            continue;
        }
        out.push(RenameHint {
            old_id: r.logical_id.clone(),
            old_path: r.construct_path.clone(),
            new_id: a.logical_id.clone(),
            new_path: a.construct_path.clone(),
            type_name: r.type_name.clone(),
        });
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
            msg.contains("DeletionPolicy Retain keeps the resource and its data"),
            "{msg}"
        );
        assert!(msg.contains("looks like a renamed construct"), "{msg}");
        assert!(
            msg.contains("`stack.declare_moved(\"app/Db/Instance\", \"DatabaseInstance\")?;`"),
            "{msg}"
        );
        assert!(!msg.contains("ResourceOptions"), "{msg}");
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

    /// Two private subnets, the database's subnet group over them, a
    /// security group the database and a task use.
    fn network(cidr: &str, sg_description: &str) -> Value {
        json!({"Resources": {
            "PrivateSubnet1": {"Type": "AWS::EC2::Subnet", "Metadata": {"khs:path": "app/Network/PrivateSubnet1"},
                "Properties": {"CidrBlock": cidr, "VpcId": "vpc-1"}},
            "PrivateSubnet2": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.0.3.0/24", "VpcId": "vpc-1"}},
            "DatabaseSubnetGroup": {"Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {"DBSubnetGroupDescription": "db",
                    "SubnetIds": [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]}},
            "DatabaseSecurityGroup": {"Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": sg_description, "VpcId": "vpc-1"}},
            "DatabaseInstance": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                "Properties": {"DBSubnetGroupName": {"Ref": "DatabaseSubnetGroup"}, "Engine": "postgres",
                    "VPCSecurityGroups": [{"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}]}},
            "ApiService": {"Type": "AWS::ECS::Service",
                "Properties": {"NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [{"Ref": "PrivateSubnet1"}]}}}}}})
    }

    #[test]
    fn replacing_a_subnet_a_database_sits_in_is_refused_naming_the_database() {
        let old = network("10.0.2.0/24", "db");
        let new = network("10.0.12.0/24", "db");
        let v = run(&old, &new, None, &GuardOptions::default());
        assert!(!v.may_proceed());
        assert_eq!(v.refused.len(), 1, "{:?}", v.refused);
        let f = &v.refused[0];
        assert_eq!(f.logical_id, "PrivateSubnet1");
        assert_eq!(f.holders, ["DatabaseInstance (AWS::RDS::DBInstance)"]);
        let msg = v.explain("app");
        assert!(
            msg.contains("app: PrivateSubnet1 (AWS::EC2::Subnet, app/Network/PrivateSubnet1) would be REPLACED while DatabaseInstance (AWS::RDS::DBInstance) sit(s) in it: changing CidrBlock"),
            "{msg}"
        );
        assert!(msg.contains("subnets in use"), "{msg}");
        assert!(msg.contains("--allow-replace PrivateSubnet1"), "{msg}");
        // Allowed by name like any other.
        let allowed = GuardOptions {
            allow_replace: ["PrivateSubnet1".to_string()].into(),
            ..GuardOptions::default()
        };
        assert!(run(&old, &new, None, &allowed).may_proceed());
    }

    #[test]
    fn replacing_a_security_group_a_database_uses_is_refused() {
        let v = run(
            &network("10.0.2.0/24", "db"),
            &network("10.0.2.0/24", "database"),
            None,
            &GuardOptions::default(),
        );
        assert_eq!(v.refused.len(), 1, "{:?}", v.refused);
        assert_eq!(v.refused[0].logical_id, "DatabaseSecurityGroup");
        assert!(
            v.explain("app")
                .contains("while DatabaseInstance (AWS::RDS::DBInstance) sit(s) in it")
        );
    }

    #[test]
    fn replacing_a_subnet_group_reported_by_the_change_set_names_its_cache() {
        let t = json!({"Resources": {
            "CacheSubnets": {"Type": "AWS::ElastiCache::SubnetGroup", "Properties": {"Description": "c", "SubnetIds": ["s-1"]}},
            "Cache": {"Type": "AWS::ElastiCache::ReplicationGroup",
                "Properties": {"CacheSubnetGroupName": {"Ref": "CacheSubnets"}, "ReplicationGroupDescription": "c"}}}});
        let rows = r#"{"Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "CacheSubnets",
            "ResourceType": "AWS::ElastiCache::SubnetGroup", "Replacement": "True", "Scope": ["Properties"],
            "Details": [{"Target": {"Attribute": "Properties", "Name": "CacheSubnetGroupName",
                "RequiresRecreation": "Always"}, "Evaluation": "Static", "ChangeSource": "DirectModification"}]}}]}"#;
        let v = run(&t, &t, Some(rows), &GuardOptions::default());
        let f = v
            .refused
            .iter()
            .find(|f| f.logical_id == "CacheSubnets")
            .expect("refused");
        assert_eq!(f.holders, ["Cache (AWS::ElastiCache::ReplicationGroup)"]);
    }

    #[test]
    fn a_subnet_only_stateless_resources_use_may_be_replaced() {
        let mut old = network("10.0.2.0/24", "db");
        let mut new = network("10.0.12.0/24", "db");
        for t in [&mut old, &mut new] {
            t["Resources"]["DatabaseSubnetGroup"]["Properties"]["SubnetIds"] =
                json!([{"Ref": "PrivateSubnet2"}]);
        }
        let v = run(&old, &new, None, &GuardOptions::default());
        assert!(v.may_proceed(), "{}", v.explain("app"));
    }

    #[test]
    fn rename_hints_pair_only_unambiguous_stateful_look_alikes() {
        // Two unrelated security groups: stateless, no note at all.
        let old = json!({"Resources": {"WebSg": {"Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "web", "VpcId": "vpc-1"}}}});
        let new = json!({"Resources": {"WorkerSg": {"Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "worker", "VpcId": "vpc-1"}}}});
        assert!(
            run(&old, &new, None, &GuardOptions::default())
                .renames
                .is_empty()
        );
        // Two keys removed and two identical ones added: which is which is a
        // guess (a deliberate swap), so no pairing.
        let key = json!({"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": {"Version": "2012-10-17"}}});
        let old = json!({"Resources": {"KeyA": key, "KeyB": key}});
        let new = json!({"Resources": {"KeyC": key, "KeyD": key}});
        let v = run(&old, &new, None, &GuardOptions::default());
        assert!(v.renames.is_empty(), "{:?}", v.renames);
        assert_eq!(v.refused.len(), 2);
        // Stateful resources that share only their VPC and tags are unrelated.
        let q = |name: &str| json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, "Tags": [{"Key": "a", "Value": "b"}]}});
        let v = run(
            &json!({"Resources": {"Jobs": q("jobs")}}),
            &json!({"Resources": {"Mail": q("mail")}}),
            None,
            &GuardOptions::default(),
        );
        assert!(v.renames.is_empty(), "{:?}", v.renames);
    }

    #[test]
    fn a_refusal_is_one_sentence_that_does_not_contradict_a_retain_policy() {
        let old = db_template("DatabaseInstance", "app/Database/Instance", "a");
        let v = run(
            &old,
            &json!({"Resources": {}}),
            None,
            &GuardOptions::default(),
        );
        let msg = v.explain("app");
        assert!(
            msg.contains(
                "DeletionPolicy Retain keeps the resource and its data, detached from the stack"
            ),
            "{msg}"
        );
        assert!(!msg.contains("lose data"), "{msg}");
        let refusals: Vec<&str> = msg.lines().filter(|l| l.starts_with("Refused:")).collect();
        assert_eq!(
            refusals,
            [
                "Refused: app: this deployment replaces or removes 1 resource(s) listed above that hold data or that data sits in; if that is intended (the data is backed up, disposable or kept by a Retain policy), run again with --allow-replace DatabaseInstance."
            ]
        );
    }
}
