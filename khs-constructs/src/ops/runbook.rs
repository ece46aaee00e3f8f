//! [`Runbook`]: a recovery procedure as a Systems Manager Automation
//! document that a person starts (console, `aws ssm start-automation-execution`).
//!
//! Emits:
//! - one `AWS::IAM::Role` (`<id>Role`) assumed by `ssm.amazonaws.com` (this
//!   account only), whose inline policy is exactly [`RunbookProps::policy`],
//!   checked for least privilege;
//! - one `AWS::SSM::Document` (`<id>Document`, `DocumentType: Automation`,
//!   schema 0.3) with a fixed name (`<stack>-<id>` by default) so alarms
//!   and pages can link to it before it exists, updated in place
//!   (`UpdateMethod: NewVersion`). Its `AutomationAssumeRole` parameter
//!   defaults to the role.
//!
//! Steps are typed: [`RunbookStep::ExecuteAwsApi`] (`aws:executeAwsApi`) and
//! [`RunbookStep::WaitFor`] (`aws:waitForAwsResourceProperty`); values may
//! reference the document's parameters (`{{ Name }}`) and earlier steps'
//! outputs (`{{ Step.Output }}`). What only a person can decide (is the
//! primary really lost? which point in time?) stays in the description and
//! the parameters.
//!
//! Why Automation documents: they run with their own role (no operator needs
//! RDS write permissions), every execution is recorded step by step, and
//! they are regional resources, so a procedure for a region failure must
//! live in the region it runs in (the DR region), not in the failed one.
//!
//! Alarms link to a runbook with [`Runbook::link_alarm`]: the alarm
//! description gets the document name and console URL.

use crate::cfn;
use crate::cfn::attributes::*;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::ops::monitoring::Alarm;
use crate::security::iam::{PolicyDocument, RoleProps, create_role};

/// A parameter of a runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct RunbookParameter {
    /// The name (`ReplicaId`), referenced as `{{ ReplicaId }}`.
    pub name: String,
    /// What to enter.
    pub description: String,
    /// The value used when none is given.
    ///
    /// Default: - none (the parameter is required).
    pub default: Option<Value<String>>,
    /// A regular expression the value must match.
    ///
    /// Default: - any value.
    pub allowed_pattern: Option<Value<String>>,
    /// The only values allowed.
    ///
    /// Default: - any value.
    pub allowed_values: Vec<Value<String>>,
}

impl RunbookParameter {
    /// A required string parameter.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        RunbookParameter {
            name: name.into(),
            description: description.into(),
            default: None,
            allowed_pattern: None,
            allowed_values: Vec::new(),
        }
    }

    /// The same parameter, restricted to values matching `pattern`.
    pub fn with_pattern(mut self, pattern: &str) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self
    }
}

/// One output of an `aws:executeAwsApi` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutput {
    /// The output's name (`{{ Step.Name }}`).
    pub name: String,
    /// A JSONPath into the API response (`$.DBInstances[0].Endpoint.Address`).
    pub selector: String,
    /// `String` or `StringList`.
    pub type_: String,
}

impl StepOutput {
    /// A string output.
    pub fn string(name: &str, selector: &str) -> Self {
        StepOutput {
            name: name.into(),
            selector: selector.into(),
            type_: "String".into(),
        }
    }

    /// A string-list output.
    pub fn list(name: &str, selector: &str) -> Self {
        StepOutput {
            name: name.into(),
            selector: selector.into(),
            type_: "StringList".into(),
        }
    }
}

/// A step of a runbook.
#[derive(Debug, Clone, PartialEq)]
pub enum RunbookStep {
    /// `aws:executeAwsApi`: one API call.
    ExecuteAwsApi {
        /// The step name (letters, digits, `_`).
        name: String,
        /// The service as boto3 names it (`rds`, `backup`).
        service: String,
        /// The API operation (`PromoteReadReplica`).
        api: String,
        /// The operation's inputs (JSON; strings may hold `{{ … }}` and
        /// intrinsic functions).
        inputs: serde_json::Value,
        /// Values taken from the response.
        outputs: Vec<StepOutput>,
    },
    /// `aws:waitForAwsResourceProperty`: poll an API until a property has
    /// one of the desired values.
    WaitFor {
        /// The step name.
        name: String,
        /// The service.
        service: String,
        /// The describe operation.
        api: String,
        /// Its inputs.
        inputs: serde_json::Value,
        /// A JSONPath into the response.
        property_selector: String,
        /// The values to wait for.
        desired_values: Vec<String>,
        /// Seconds before the step fails.
        timeout_seconds: u32,
    },
}

impl RunbookStep {
    fn name(&self) -> &str {
        match self {
            RunbookStep::ExecuteAwsApi { name, .. } | RunbookStep::WaitFor { name, .. } => name,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            RunbookStep::ExecuteAwsApi {
                name,
                service,
                api,
                inputs,
                outputs,
            } => {
                let mut i = serde_json::Map::new();
                i.insert("Service".into(), json!(service));
                i.insert("Api".into(), json!(api));
                if let Some(m) = inputs.as_object() {
                    for (k, v) in m {
                        i.insert(k.clone(), v.clone());
                    }
                }
                let mut step = json!({
                    "name": name,
                    "action": "aws:executeAwsApi",
                    "onFailure": "Abort",
                    "inputs": i,
                });
                if !outputs.is_empty() {
                    step["outputs"] = outputs
                        .iter()
                        .map(|o| json!({"Name": o.name, "Selector": o.selector, "Type": o.type_}))
                        .collect();
                }
                step
            }
            RunbookStep::WaitFor {
                name,
                service,
                api,
                inputs,
                property_selector,
                desired_values,
                timeout_seconds,
            } => {
                let mut i = serde_json::Map::new();
                i.insert("Service".into(), json!(service));
                i.insert("Api".into(), json!(api));
                if let Some(m) = inputs.as_object() {
                    for (k, v) in m {
                        i.insert(k.clone(), v.clone());
                    }
                }
                i.insert("PropertySelector".into(), json!(property_selector));
                i.insert("DesiredValues".into(), json!(desired_values));
                json!({
                    "name": name,
                    "action": "aws:waitForAwsResourceProperty",
                    "timeoutSeconds": timeout_seconds,
                    "onFailure": "Abort",
                    "inputs": i,
                })
            }
        }
    }
}

/// The props of a [`Runbook`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunbookProps {
    /// What the runbook does and what a person does before and after it
    /// (Markdown, shown in the console).
    pub description: String,
    /// The parameters (besides `AutomationAssumeRole`).
    ///
    /// Default: - none.
    pub parameters: Vec<RunbookParameter>,
    /// The steps (at least one).
    pub steps: Vec<RunbookStep>,
    /// What the steps may do: the automation role's inline policy.
    pub policy: PolicyDocument,
    /// The document name (3–128 letters, digits, `_`, `-`, `.`; not
    /// starting with `aws`, `amazon` or `amzn`).
    ///
    /// Default: - `<stack name>-<id>`.
    pub document_name: Option<String>,
}

impl RunbookProps {
    /// Props with `description`, `steps` and the role's `policy`.
    pub fn new(
        description: impl Into<String>,
        steps: Vec<RunbookStep>,
        policy: PolicyDocument,
    ) -> Self {
        RunbookProps {
            description: description.into(),
            parameters: Vec::new(),
            steps,
            policy,
            document_name: None,
        }
    }
}

/// An Automation runbook; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    path: ConstructPath,
    document: Handle<cfn::ssm::Document>,
    role: Handle<cfn::iam::Role>,
    name: String,
    region: String,
}

/// The seconds of a recovery time objective given in minutes (1..=2880),
/// the timeout of a runbook's wait steps; an error naming `path` otherwise.
pub fn rto_seconds(path: &ConstructPath, rto_minutes: u32) -> Result<u32> {
    if (1..=2880).contains(&rto_minutes) {
        Ok(rto_minutes * 60)
    } else {
        Err(Error::invalid_prop(
            path,
            "rto_minutes",
            format!("must be 1..=2880 (up to two days), got {rto_minutes}"),
        ))
    }
}

fn check_document_name(path: &ConstructPath, name: &str) -> Result<()> {
    let lower = name.to_ascii_lowercase();
    let ok = (3..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !["aws", "amazon", "amzn"]
            .iter()
            .any(|p| lower.starts_with(p));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            "document_name",
            format!(
                "must be 3..=128 letters, digits, _, - or . and not start with aws, amazon or amzn, got {name:?}"
            ),
        ))
    }
}

impl Runbook {
    /// Adds the role and the document at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: RunbookProps) -> Result<Self> {
        use serde_json::json;
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let region = s.env().region.clone();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let name = props
            .document_name
            .clone()
            .unwrap_or_else(|| format!("{stack_name}-{id}"));
        check_document_name(&path, &name)?;
        if props.steps.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "steps",
                "must list at least one step, got none",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, st) in props.steps.iter().enumerate() {
            let n = st.name();
            let ok = !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || !names.insert(n.to_string()) {
                return Err(Error::invalid_prop(
                    &path,
                    format!("steps[{i}].name"),
                    format!("must be unique letters, digits or _, got {n:?}"),
                ));
            }
        }
        if props.policy.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "policy",
                "must allow what the steps call, got an empty policy",
            ));
        }
        let role = create_role(
            &mut me,
            "Role",
            RoleProps {
                description: Some(format!("Runs the Automation runbook {name}")),
                policy: props.policy.clone(),
                ..RoleProps::new("ssm.amazonaws.com")
            },
        )?;
        let mut parameters = serde_json::Map::new();
        parameters.insert(
            "AutomationAssumeRole".into(),
            json!({
                "type": "String",
                "description": "The role the automation runs with (default: the runbook's own role)",
                "default": role.attr_arn(),
            }),
        );
        for (i, p) in props.parameters.iter().enumerate() {
            if p.name == "AutomationAssumeRole" || parameters.contains_key(&p.name) {
                return Err(Error::invalid_prop(
                    &path,
                    format!("parameters[{i}].name"),
                    format!(
                        "must be unique and not AutomationAssumeRole, got {:?}",
                        p.name
                    ),
                ));
            }
            let mut v = json!({"type": "String", "description": p.description});
            if let Some(d) = &p.default {
                v["default"] = json!(d);
            }
            if let Some(a) = &p.allowed_pattern {
                v["allowedPattern"] = json!(a);
            }
            if !p.allowed_values.is_empty() {
                v["allowedValues"] = json!(p.allowed_values);
            }
            parameters.insert(p.name.clone(), v);
        }
        let content = json!({
            "schemaVersion": "0.3",
            "description": props.description,
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": parameters,
            "mainSteps": props.steps.iter().map(RunbookStep::to_json).collect::<Vec<_>>(),
        });
        let document = me.add(
            "Document",
            cfn::ssm::Document {
                document_type: Some(cfn::ssm::document::DocumentType::Automation.into()),
                document_format: Some(cfn::ssm::document::DocumentFormat::Json.into()),
                name: Some(name.as_str().into()),
                update_method: Some(cfn::ssm::document::UpdateMethod::NewVersion.into()),
                ..cfn::ssm::Document::new(content)
            },
        )?;
        Ok(Runbook {
            path,
            document,
            role,
            name,
            region,
        })
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The document.
    pub fn document(&self) -> &Handle<cfn::ssm::Document> {
        &self.document
    }

    /// The automation role.
    pub fn role(&self) -> &Handle<cfn::iam::Role> {
        &self.role
    }

    /// The document name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The document's page in the Systems Manager console.
    pub fn console_url(&self) -> String {
        format!(
            "https://{r}.console.aws.amazon.com/systems-manager/documents/{n}/description?region={r}",
            r = self.region,
            n = self.name
        )
    }

    /// Appends `Runbook: <name> <url>` to the description of `alarm` (an
    /// alarm of a stack of `scope`), so whoever is paged finds the
    /// procedure. Fails when the description would exceed 1024 characters.
    pub fn link_alarm(&self, scope: &mut impl AsScope, alarm: &Alarm) -> Result<()> {
        let text = format!(
            "{} Runbook: {} {}",
            alarm.description().unwrap_or_default(),
            self.name,
            self.console_url()
        )
        .trim_start()
        .to_string();
        if text.len() > 1024 {
            return Err(Error::invalid_prop(
                &self.path,
                "alarm",
                format!(
                    "description with the runbook link must be at most 1024 characters, got {}",
                    text.len()
                ),
            ));
        }
        let mut s = scope.as_scope();
        s.override_property(
            alarm.handle(),
            "AlarmDescription",
            serde_json::Value::String(text),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::ops::monitoring::{AlarmProps, ComparisonOperator, Metric};
    use crate::security::iam::PolicyStatement;
    use serde_json::json;

    fn stack() -> Stack {
        Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn props() -> RunbookProps {
        RunbookProps {
            parameters: vec![RunbookParameter::new("InstanceId", "The DB instance")],
            ..RunbookProps::new(
                "Reboots a DB instance",
                vec![RunbookStep::ExecuteAwsApi {
                    name: "Reboot".into(),
                    service: "rds".into(),
                    api: "RebootDBInstance".into(),
                    inputs: json!({"DBInstanceIdentifier": "{{ InstanceId }}"}),
                    outputs: vec![],
                }],
                PolicyDocument::new([PolicyStatement::allow(
                    ["rds:RebootDBInstance"],
                    ["arn:aws:rds:us-east-1:123456789012:db:x"],
                )]),
            )
        }
    }

    #[test]
    fn emits_an_automation_document_with_its_role_and_links_alarms() {
        let mut s = stack();
        let r = Runbook::new(&mut s, "Reboot", props()).unwrap();
        let a = crate::ops::monitoring::Alarm::new(
            &mut s,
            "Down",
            AlarmProps {
                description: Some("The database is down".into()),
                ..AlarmProps::new(
                    Metric::new("Custom", "Up"),
                    ComparisonOperator::LessThan,
                    1.0,
                    1,
                )
            },
        )
        .unwrap();
        r.link_alarm(&mut s, &a).unwrap();
        let t = serde_json::to_value(s.synth().unwrap()).unwrap();
        let d = &t["Resources"]["RebootDocument"]["Properties"];
        assert_eq!(d["DocumentType"], "Automation");
        assert_eq!(d["Name"], "khs-Reboot");
        assert_eq!(d["UpdateMethod"], "NewVersion");
        assert_eq!(d["Content"]["schemaVersion"], "0.3");
        assert_eq!(d["Content"]["assumeRole"], "{{ AutomationAssumeRole }}");
        assert_eq!(
            d["Content"]["parameters"]["AutomationAssumeRole"]["default"],
            json!({"Fn::GetAtt": ["RebootRole", "Arn"]})
        );
        assert_eq!(d["Content"]["mainSteps"][0]["action"], "aws:executeAwsApi");
        assert_eq!(
            d["Content"]["mainSteps"][0]["inputs"]["Api"],
            "RebootDBInstance"
        );
        let role = &t["Resources"]["RebootRole"]["Properties"];
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "ssm.amazonaws.com"
        );
        assert_eq!(
            t["Resources"]["DownResource"]["Properties"]["AlarmDescription"],
            "The database is down Runbook: khs-Reboot https://us-east-1.console.aws.amazon.com/systems-manager/documents/khs-Reboot/description?region=us-east-1"
        );
    }

    #[test]
    fn fails_on_bad_names_and_empty_parts() {
        let err = |p: RunbookProps| {
            Runbook::new(&mut stack(), "Reboot", p)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(RunbookProps {
                document_name: Some("aws-reboot".into()),
                ..props()
            }),
            "khs/Reboot: document_name must be 3..=128 letters, digits, _, - or . and not start with aws, amazon or amzn, got \"aws-reboot\""
        );
        assert_eq!(
            err(RunbookProps {
                steps: vec![],
                ..props()
            }),
            "khs/Reboot: steps must list at least one step, got none"
        );
        assert_eq!(
            err(RunbookProps {
                policy: PolicyDocument::default(),
                ..props()
            }),
            "khs/Reboot: policy must allow what the steps call, got an empty policy"
        );
        let mut p = props();
        p.parameters
            .push(RunbookParameter::new("InstanceId", "again"));
        assert_eq!(
            err(p),
            "khs/Reboot: parameters[1].name must be unique and not AutomationAssumeRole, got \"InstanceId\""
        );
    }
}
