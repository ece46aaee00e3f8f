//! Typed IAM policy documents and a least-privilege check.
//!
//! Every construct that makes a role builds its policies with
//! [`PolicyDocument`] and [`PolicyStatement`] (never JSON by hand), and runs
//! [`validate_least_privilege`] on them, so a policy that allows `*` actions,
//! or write actions on `*` resources, is an error naming the construct path.
//! [`check_template`] applies the same rules to every policy of a
//! synthesized template (roles, managed policies, resource policies, key
//! policies), which the workspace tests run on `synth-out/`.
//!
//! ```
//! use khs_constructs::security::iam::{PolicyDocument, PolicyStatement};
//! use khs_constructs::prelude::*;
//!
//! let doc = PolicyDocument::new([PolicyStatement::allow(
//!     ["secretsmanager:GetSecretValue"],
//!     [Value::from("arn:aws:secretsmanager:us-east-1:111122223333:secret:jwt-AbCdEf")],
//! )]);
//! assert_eq!(doc.to_json()["Version"], "2012-10-17");
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::cfn::iam::Role as CfnRole;
use crate::cfn::iam::role::Policy as CfnInlinePolicy;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Intrinsic, Pseudo};
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;

/// The policy language version every document declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Actions that AWS only authorizes on `"Resource": "*"` (they have no
/// resource-level permissions), and that [`validate_least_privilege`]
/// therefore accepts on `*` although they write:
///
/// - `xray:PutTraceSegments`, `xray:PutTelemetryRecords`: the X-Ray daemon
///   sending traces;
/// - `cloudwatch:PutMetricData`: custom metrics (narrow it with a
///   `cloudwatch:namespace` condition where possible);
/// - `ecr:GetAuthorizationToken`: the registry login of an ECS execution
///   role (the image pull itself is scoped to the repository);
/// - `ssmmessages:CreateControlChannel`, `CreateDataChannel`,
///   `OpenControlChannel`, `OpenDataChannel`: the Session Manager channels
///   of ECS Exec.
pub const STAR_ONLY_ACTIONS: [&str; 8] = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
    "ecr:GetAuthorizationToken",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// Verbs (the part of an action after `service:`) that only read.
const READ_VERBS: [&str; 6] = ["Get", "List", "Describe", "BatchGet", "BatchCheck", "View"];

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants the actions.
    Allow,
    /// Denies the actions (wins over any allow).
    Deny,
}

/// Who a statement of a resource policy or trust policy applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// An AWS service (`ecs-tasks.amazonaws.com`).
    Service(Value<String>),
    /// An account, role or user ARN (`arn:aws:iam::111122223333:root`).
    Aws(Value<String>),
    /// Everyone (`"*"`); use only with conditions or `Deny`.
    Any,
}

impl Principal {
    /// The root of the stack's own account (`arn:${AWS::Partition}:iam::${AWS::AccountId}:root`):
    /// delegates access to the account's IAM policies.
    pub fn account_root() -> Self {
        Principal::Aws(Intrinsic::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root").into())
    }

    /// A service principal.
    pub fn service(name: impl Into<String>) -> Self {
        Principal::Service(Value::Literal(name.into()))
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Service(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("Service", v)?;
                m.end()
            }
            Principal::Aws(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("AWS", v)?;
                m.end()
            }
        }
    }
}

/// One condition: `{"<operator>": {"<key>": [values]}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator (`StringEquals`, `Bool`, `ArnLike`, …).
    pub operator: String,
    /// The condition key (`kms:ViaService`, `aws:SecureTransport`).
    pub key: String,
    /// The values (any of them matches).
    pub values: Vec<Value<String>>,
}

impl Condition {
    /// A condition with one value.
    pub fn new(
        operator: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<Value<String>>,
    ) -> Self {
        Condition {
            operator: operator.into(),
            key: key.into(),
            values: vec![value.into()],
        }
    }
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStatement {
    /// A statement id.
    ///
    /// Default: - none.
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// The principal (resource and trust policies only).
    ///
    /// Default: - none (identity policies have no principal).
    pub principal: Option<Principal>,
    /// The actions (`service:Verb`).
    pub actions: Vec<String>,
    /// The resources: ARNs, usually built from typed handles.
    pub resources: Vec<Value<String>>,
    /// Conditions (all must hold).
    ///
    /// Default: - none.
    pub conditions: Vec<Condition>,
}

impl PolicyStatement {
    /// An `Allow` statement for `actions` on `resources`.
    pub fn allow<A: Into<String>, R: Into<Value<String>>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = R>,
    ) -> Self {
        PolicyStatement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            actions: actions.into_iter().map(Into::into).collect(),
            resources: resources.into_iter().map(Into::into).collect(),
            conditions: Vec::new(),
        }
    }

    /// A `Deny` statement for `actions` on `resources`.
    pub fn deny<A: Into<String>, R: Into<Value<String>>>(
        actions: impl IntoIterator<Item = A>,
        resources: impl IntoIterator<Item = R>,
    ) -> Self {
        PolicyStatement {
            effect: Effect::Deny,
            ..Self::allow(actions, resources)
        }
    }

    /// The same statement with a statement id.
    pub fn with_sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// The same statement with a principal.
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// The same statement with one more condition.
    pub fn with_condition(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }
}

impl Serialize for PolicyStatement {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(sid) = &self.sid {
            m.serialize_entry("Sid", sid)?;
        }
        m.serialize_entry("Effect", &self.effect)?;
        if let Some(p) = &self.principal {
            m.serialize_entry("Principal", p)?;
        }
        if self.actions.len() == 1 {
            m.serialize_entry("Action", &self.actions[0])?;
        } else {
            m.serialize_entry("Action", &self.actions)?;
        }
        if !self.resources.is_empty() {
            if self.resources.len() == 1 {
                m.serialize_entry("Resource", &self.resources[0])?;
            } else {
                m.serialize_entry("Resource", &self.resources)?;
            }
        }
        if !self.conditions.is_empty() {
            let mut by_op: BTreeMap<&str, BTreeMap<&str, serde_json::Value>> = BTreeMap::new();
            for c in &self.conditions {
                let values: Vec<serde_json::Value> = c
                    .values
                    .iter()
                    .map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
                    .collect();
                let v = if values.len() == 1 {
                    values[0].clone()
                } else {
                    serde_json::Value::Array(values)
                };
                by_op.entry(&c.operator).or_default().insert(&c.key, v);
            }
            m.serialize_entry("Condition", &by_op)?;
        }
        m.end()
    }
}

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyDocument {
    /// The statements.
    pub statements: Vec<PolicyStatement>,
}

impl PolicyDocument {
    /// A document with these statements.
    pub fn new(statements: impl IntoIterator<Item = PolicyStatement>) -> Self {
        PolicyDocument {
            statements: statements.into_iter().collect(),
        }
    }

    /// The trust policy that lets an AWS service assume a role
    /// (`ecs-tasks.amazonaws.com`, `monitoring.rds.amazonaws.com`).
    pub fn assume_role(service: &str) -> Self {
        PolicyDocument::new([PolicyStatement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(Principal::service(service)),
            actions: vec!["sts:AssumeRole".to_string()],
            resources: Vec::new(),
            conditions: Vec::new(),
        }])
    }

    /// Appends a statement, unless an equal one is there already (two
    /// secrets sharing a key grant `kms:Decrypt` on it once).
    pub fn push(&mut self, statement: PolicyStatement) {
        if !self.statements.contains(&statement) {
            self.statements.push(statement);
        }
    }

    /// Whether the document has no statement.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The document as JSON, as CloudFormation takes it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("Version", POLICY_VERSION)?;
        m.serialize_entry("Statement", &self.statements)?;
        m.end()
    }
}

/// Props of a role made with [`create_role`].
#[derive(Debug, Clone, PartialEq)]
pub struct RoleProps {
    /// The service principal that assumes the role (`ecs-tasks.amazonaws.com`).
    pub assumed_by: String,
    /// The role's description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// Managed policies attached to the role (use [`aws_managed_policy_arn`]
    /// for AWS managed ones).
    ///
    /// Default: - none.
    pub managed_policy_arns: Vec<Value<String>>,
    /// The role's inline policy; checked with [`validate_least_privilege`].
    ///
    /// Default: - no inline policy.
    pub policy: PolicyDocument,
}

impl RoleProps {
    /// Props for a role assumed by `service`, with nothing attached.
    pub fn new(service: impl Into<String>) -> Self {
        RoleProps {
            assumed_by: service.into(),
            description: None,
            managed_policy_arns: Vec::new(),
            policy: PolicyDocument::default(),
        }
    }
}

/// Creates an `AWS::IAM::Role` `id` in `scope`, assumed by one service, with
/// its inline policy (named `<id>Policy`) checked for least privilege.
pub fn create_role(
    scope: &mut impl AsScope,
    id: &str,
    props: RoleProps,
) -> Result<Handle<CfnRole>> {
    let mut s = scope.as_scope();
    let path = s.path().child(id)?;
    validate_least_privilege(&path, "policy", &props.policy)?;
    let policies = (!props.policy.is_empty()).then(|| {
        vec![CfnInlinePolicy::new(
            props.policy.to_json(),
            format!("{id}Policy"),
        )]
    });
    s.add(
        id,
        CfnRole {
            description: props.description.map(Into::into),
            managed_policy_arns: (!props.managed_policy_arns.is_empty())
                .then_some(Value::Literal(props.managed_policy_arns)),
            policies,
            ..CfnRole::new(PolicyDocument::assume_role(&props.assumed_by).to_json())
        },
    )
}

/// `arn:${AWS::Partition}:iam::aws:policy/<name>`: an AWS managed policy ARN
/// that works in every partition.
pub fn aws_managed_policy_arn(name: &str) -> Value<String> {
    Intrinsic::sub(format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}")).into()
}

/// The partition pseudo parameter as a value (for building ARNs).
pub fn partition() -> Value<String> {
    Pseudo::Partition.into()
}

/// Whether an action only reads (`s3:GetObject`, `ecr:BatchGetImage`).
/// Wildcards (`s3:*`, `s3:Get*`) count as writing unless the literal prefix
/// before the `*` is a read verb.
pub fn is_read_action(action: &str) -> bool {
    let verb = action.split_once(':').map_or(action, |(_, v)| v);
    READ_VERBS.iter().any(|r| {
        verb.starts_with(r)
            && verb[r.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_ascii_uppercase() || c == '*')
    })
}

/// Checks `doc` (an identity policy) for the least-privilege rules: no
/// `Allow` of `"*"` actions, and no `Allow` of write actions on
/// `"Resource": "*"` unless the action is one AWS only authorizes on `*`
/// ([`STAR_ONLY_ACTIONS`]). `path` and `prop` name where the policy is.
pub fn validate_least_privilege(
    path: impl std::fmt::Display,
    prop: &str,
    doc: &PolicyDocument,
) -> Result<()> {
    let json = doc.to_json();
    match check_document(&json, false).into_iter().next() {
        Some(problem) => Err(Error::invalid_prop(path, prop, problem)),
        None => Ok(()),
    }
}

fn as_strings(v: Option<&serde_json::Value>) -> Vec<&serde_json::Value> {
    match v {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// The least-privilege problems of one policy document in JSON form.
/// `key_policy`: in a KMS key policy `"Resource": "*"` means the key itself,
/// so only the `"Action": "*"` rule applies.
fn check_document(doc: &serde_json::Value, key_policy: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, st) in as_strings(doc.get("Statement")).into_iter().enumerate() {
        if st.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
            continue;
        }
        let actions: Vec<&str> = as_strings(st.get("Action"))
            .into_iter()
            .filter_map(|a| a.as_str())
            .collect();
        if actions.contains(&"*") || st.get("NotAction").is_some() {
            problems.push(format!(
                "must not allow every action (\"Action\": \"*\" or NotAction), got statement {i} allowing {actions:?}; list the actions the role needs"
            ));
            continue;
        }
        if key_policy {
            continue;
        }
        let star = as_strings(st.get("Resource"))
            .into_iter()
            .any(|r| r.as_str() == Some("*"));
        if !star {
            continue;
        }
        let writes: Vec<&str> = actions
            .iter()
            .copied()
            .filter(|a| !is_read_action(a) && !STAR_ONLY_ACTIONS.contains(a))
            .collect();
        if !writes.is_empty() {
            problems.push(format!(
                "must not allow write actions on \"Resource\": \"*\", got statement {i} allowing {writes:?} on \"*\"; name the resources (only {} may use \"*\")",
                STAR_ONLY_ACTIONS.join(", ")
            ));
        }
    }
    problems
}

/// Applies the least-privilege rules to every policy of a synthesized
/// template: inline and managed IAM policies, resource policies (`*Policy`
/// properties holding a document) and KMS key policies. Returns one message
/// per problem, each starting with the resource's construct path (its
/// `khs:path` metadata) or logical id.
pub fn check_template(template: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(resources) = template.get("Resources").and_then(|r| r.as_object()) else {
        return out;
    };
    for (id, res) in resources {
        let type_name = res.get("Type").and_then(|t| t.as_str()).unwrap_or_default();
        let path = res
            .pointer("/Metadata/khs:path")
            .and_then(|p| p.as_str())
            .unwrap_or(id);
        let Some(props) = res.get("Properties") else {
            continue;
        };
        let key_policy = type_name == "AWS::KMS::Key";
        let mut docs: Vec<(String, &serde_json::Value)> = Vec::new();
        collect_documents(props, String::new(), &mut docs);
        for (where_, doc) in docs {
            if where_ == "AssumeRolePolicyDocument" {
                continue;
            }
            for p in check_document(doc, key_policy) {
                out.push(format!("{path}: {where_} {p}"));
            }
        }
    }
    out
}

fn collect_documents<'a>(
    v: &'a serde_json::Value,
    at: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("Statement") && !at.is_empty() {
                out.push((at, v));
                return;
            }
            for (k, child) in m {
                let next = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                collect_documents(child, next, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_documents(child, format!("{at}.{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_statements_as_iam_expects() {
        let doc = PolicyDocument::new([PolicyStatement::allow(
            ["kms:Decrypt"],
            [Value::from("arn:aws:kms:us-east-1:1:key/k")],
        )
        .with_sid("Decrypt")
        .with_condition(Condition::new(
            "StringEquals",
            "kms:ViaService",
            "secretsmanager.us-east-1.amazonaws.com",
        ))]);
        assert_eq!(
            doc.to_json(),
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": "arn:aws:kms:us-east-1:1:key/k",
                "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
            }]})
        );
        let trust = PolicyDocument::assume_role("ecs-tasks.amazonaws.com").to_json();
        assert_eq!(
            trust["Statement"][0],
            json!({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
        );
    }

    #[test]
    fn read_actions_are_recognized() {
        assert!(is_read_action("s3:GetObject"));
        assert!(is_read_action("ecr:BatchGetImage"));
        assert!(is_read_action("logs:Describe*"));
        assert!(!is_read_action("s3:PutObject"));
        assert!(!is_read_action("s3:*"));
        assert!(!is_read_action("iam:GetawayCar"));
    }

    #[test]
    fn accepts_scoped_writes_and_star_only_actions() {
        let doc = PolicyDocument::new([
            PolicyStatement::allow(["logs:PutLogEvents"], [Value::from("arn:aws:logs:x")]),
            PolicyStatement::allow(
                ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                [Value::from("*")],
            ),
            PolicyStatement::allow(["ec2:DescribeInstances"], [Value::from("*")]),
        ]);
        validate_least_privilege("s/TaskRole", "policy", &doc).unwrap();
    }

    #[test]
    fn fails_when_a_policy_allows_every_action() {
        let doc = PolicyDocument::new([PolicyStatement::allow(["*"], [Value::from("arn:x")])]);
        let e = validate_least_privilege("khs-crm-prod/Api/TaskRole", "policy", &doc)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs-crm-prod/Api/TaskRole: policy must not allow every action"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_policy_allows_writes_on_every_resource() {
        let doc = PolicyDocument::new([PolicyStatement::allow(
            ["s3:PutObject", "s3:GetObject"],
            [Value::from("*")],
        )]);
        let e = validate_least_privilege("khs-crm-prod/Api/TaskRole", "policy", &doc)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs-crm-prod/Api/TaskRole: policy must not allow write actions"),
            "{e}"
        );
        assert!(
            e.contains("s3:PutObject") && !e.contains("s3:GetObject"),
            "{e}"
        );
    }

    #[test]
    fn deny_statements_may_use_wildcards() {
        let doc = PolicyDocument::new([PolicyStatement::deny(["*"], [Value::from("*")])]);
        validate_least_privilege("s/R", "policy", &doc).unwrap();
    }

    #[test]
    fn template_check_finds_policies_anywhere_and_names_paths() {
        let t = json!({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Metadata": {"khs:path": "stack/Api/Role"}, "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}]}}]}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn"}, "Action": "kms:*", "Resource": "*"}]}}},
            "BadKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn"}, "Action": "*", "Resource": "*"}]}}}
        }});
        let problems = check_template(&t);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("BadKey: KeyPolicy must not allow every action"));
        assert!(
            problems[1].starts_with(
                "stack/Api/Role: Policies.0.PolicyDocument must not allow write actions"
            )
        );
    }
}
