//! Change-set rows as CloudFormation returns them, and the plan that merges
//! them with the offline prediction of [`super::diff`].
//!
//! The types deserialize the JSON shape of `DescribeChangeSet` (as the AWS
//! CLI prints it), so recorded responses can be replayed in tests; the SDK
//! layer converts its own types into them. Fields that some endpoints omit
//! (moto sends neither `Replacement` nor `Details`) are optional: the plan
//! then falls back on the prediction.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::diff::{Action, ChangeScope, Replacement, TemplateDiff, is_stateful};

/// The part of a `DescribeChangeSet` response the client reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeSetDescription {
    /// `CREATE_COMPLETE`, `FAILED`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Why it failed (`The submitted information didn't contain changes…`).
    #[serde(default)]
    pub status_reason: Option<String>,
    /// The rows.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One entry of `Changes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    /// Always `Resource` today.
    #[serde(rename = "Type", default)]
    pub change_type: Option<String>,
    /// The resource change.
    pub resource_change: Option<ResourceChange>,
}

/// A change-set row: what happens to one resource.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// The logical id.
    pub logical_resource_id: String,
    /// The physical id, for existing resources.
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The type.
    #[serde(default)]
    pub resource_type: String,
    /// `True`, `False` or `Conditional` (Modify only).
    #[serde(default)]
    pub replacement: Option<String>,
    /// `Properties`, `Metadata`, `CreationPolicy`, `UpdatePolicy`,
    /// `DeletionPolicy`, `UpdateReplacePolicy`, `Tags`.
    #[serde(default)]
    pub scope: Vec<String>,
    /// What causes the change, property by property.
    #[serde(default)]
    pub details: Vec<ChangeDetail>,
}

/// One cause of a resource change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeDetail {
    /// The changed attribute.
    #[serde(default)]
    pub target: Option<ChangeTarget>,
    /// `Static` (known now) or `Dynamic` (known at deploy time).
    #[serde(default)]
    pub evaluation: Option<String>,
    /// `ResourceReference`, `ParameterReference`, `ResourceAttribute`,
    /// `DirectModification`, `Automatic`.
    #[serde(default)]
    pub change_source: Option<String>,
    /// The resource or parameter that causes it (`DbSubnets`,
    /// `Database.Endpoint.Address`).
    #[serde(default)]
    pub causing_entity: Option<String>,
}

/// The attribute a change detail targets.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeTarget {
    /// `Properties`, `Metadata`, `Tags`, …
    #[serde(default)]
    pub attribute: Option<String>,
    /// The property name for `Properties`.
    #[serde(default)]
    pub name: Option<String>,
    /// `Never`, `Conditionally`, `Always`.
    #[serde(default)]
    pub requires_recreation: Option<String>,
    /// The property path (newer API versions: `/Properties/VpcConfig/SubnetIds`).
    #[serde(default)]
    pub path: Option<String>,
}

impl ChangeSetDescription {
    /// Parses a recorded `DescribeChangeSet` JSON response.
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        serde_json::from_str(json)
    }

    /// The resource rows.
    pub fn resource_changes(&self) -> Vec<ResourceChange> {
        self.changes
            .iter()
            .filter_map(|c| c.resource_change.clone())
            .collect()
    }

    /// Whether CloudFormation reports that the template and parameters
    /// change nothing (the change set then ends `FAILED` with this reason).
    pub fn is_no_change(&self) -> bool {
        self.status.as_deref() == Some("FAILED")
            && self
                .status_reason
                .as_deref()
                .is_some_and(is_no_change_reason)
    }
}

/// Whether a change-set failure reason means "nothing to change".
pub fn is_no_change_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Where a planned change's knowledge comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Only the offline prediction (no change set, or a row without fields).
    Predicted,
    /// The change set.
    ChangeSet,
}

/// One reason a resource is replaced or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The property (path) that changes: `DBSubnetGroupName`.
    pub property: String,
    /// Whether this property's change replaces the resource.
    pub replacement: Replacement,
    /// The resource or parameter whose change causes it, if any.
    pub causing_entity: Option<String>,
    /// Whether CloudFormation said so (true) or the schemas predict it (false).
    pub confirmed: bool,
}

/// What will happen to one resource: the change-set row (when there is one)
/// merged with the offline prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    /// The logical id.
    pub logical_id: String,
    /// The type.
    pub type_name: String,
    /// Add, modify or remove.
    pub action: Action,
    /// The strongest of CloudFormation's answer and the prediction.
    pub replacement: Replacement,
    /// Whether CloudFormation reported `Replacement` itself.
    pub replacement_confirmed: bool,
    /// Whether the type holds data.
    pub stateful: bool,
    /// The construct path (from the template metadata).
    pub construct_path: Option<String>,
    /// The physical id, when the change set names it.
    pub physical_id: Option<String>,
    /// The properties that change and why.
    pub causes: Vec<Cause>,
    /// The policy that keeps the old physical resource (`Retain`,
    /// `Snapshot`), if any: `DeletionPolicy` for removals,
    /// `UpdateReplacePolicy` for replacements.
    pub retain_policy: Option<String>,
    /// Where the row comes from.
    pub source: Source,
}

/// Merges change-set rows (`None` when no change set was made) with the
/// offline diff. Rows win for the action; the replacement is the stronger of
/// the two answers, since some endpoints omit it.
pub fn plan(rows: Option<&[ResourceChange]>, diff: &TemplateDiff) -> Vec<PlannedChange> {
    let mut out: BTreeMap<String, PlannedChange> = BTreeMap::new();
    let predicted = |d: &super::diff::ResourceDiff| PlannedChange {
        logical_id: d.logical_id.clone(),
        type_name: d.type_name.clone(),
        action: d.action,
        replacement: if d.action == Action::Modify {
            d.replacement
        } else {
            Replacement::No
        },
        replacement_confirmed: false,
        stateful: d.stateful,
        construct_path: d.construct_path.clone(),
        physical_id: None,
        causes: d
            .changes
            .iter()
            .filter(|c| c.scope == ChangeScope::Properties || c.scope == ChangeScope::Type)
            .map(|c| Cause {
                property: c.path.clone(),
                replacement: c.replacement,
                causing_entity: c.because.as_ref().and_then(|b| {
                    b.strip_prefix("parameter ")
                        .map(|p| p.trim_end_matches(" changes"))
                        .or_else(|| b.strip_suffix(" is replaced"))
                        .map(str::to_string)
                }),
                confirmed: false,
            })
            .collect(),
        retain_policy: d.retain_policy.clone(),
        source: Source::Predicted,
    };
    match rows {
        None => {
            for d in &diff.resources {
                out.insert(d.logical_id.clone(), predicted(d));
            }
        }
        Some(rows) => {
            for row in rows {
                let action = Action::from_aws(&row.action).unwrap_or(Action::Modify);
                let pred = diff.resource(&row.logical_resource_id);
                let aws = row.replacement.as_deref().and_then(Replacement::from_aws);
                let mut causes: Vec<Cause> = row
                    .details
                    .iter()
                    .filter_map(|d| {
                        let t = d.target.as_ref()?;
                        let property = t
                            .path
                            .as_deref()
                            .map(|p| p.trim_start_matches("/Properties/").replace('/', "."))
                            .or_else(|| t.name.clone())
                            .or_else(|| t.attribute.clone())?;
                        Some(Cause {
                            property,
                            replacement: t
                                .requires_recreation
                                .as_deref()
                                .and_then(Replacement::from_aws)
                                .unwrap_or(Replacement::No),
                            causing_entity: d.causing_entity.clone(),
                            confirmed: true,
                        })
                    })
                    .collect();
                if let Some(p) = pred {
                    for c in predicted(p).causes {
                        let known = causes.iter().any(|k| {
                            k.property == c.property
                                || c.property.starts_with(&format!("{}.", k.property))
                        });
                        if !known {
                            causes.push(c);
                        }
                    }
                }
                let predicted_repl = pred
                    .filter(|p| p.action == Action::Modify)
                    .map(|p| p.replacement)
                    .unwrap_or(Replacement::No);
                // A definite prediction counts even when AWS says less (an
                // indirect replacement); a conditional one is AWS's to settle
                // when it answers.
                let predicted_repl = match (aws, predicted_repl) {
                    (Some(_), Replacement::Conditional) => Replacement::No,
                    (_, p) => p,
                };
                let replacement = if action == Action::Modify {
                    aws.unwrap_or(Replacement::No).max(predicted_repl)
                } else {
                    Replacement::No
                };
                let type_name = if row.resource_type.is_empty() {
                    pred.map(|p| p.type_name.clone()).unwrap_or_default()
                } else {
                    row.resource_type.clone()
                };
                out.insert(
                    row.logical_resource_id.clone(),
                    PlannedChange {
                        logical_id: row.logical_resource_id.clone(),
                        stateful: is_stateful(&type_name) || pred.is_some_and(|p| p.stateful),
                        type_name,
                        action,
                        replacement,
                        replacement_confirmed: aws.is_some(),
                        construct_path: pred.and_then(|p| p.construct_path.clone()),
                        physical_id: row.physical_resource_id.clone(),
                        causes,
                        retain_policy: pred.and_then(|p| p.retain_policy.clone()),
                        source: Source::ChangeSet,
                    },
                );
            }
            // A prediction the change set does not show (an endpoint that
            // omits rows) still counts for removals and replacements.
            for d in &diff.resources {
                let matters = d.action == Action::Remove
                    || (d.action == Action::Modify && d.replacement.may_replace());
                if matters && !out.contains_key(&d.logical_id) {
                    out.insert(d.logical_id.clone(), predicted(d));
                }
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::deploy::diff::diff_templates;
    use serde_json::json;
    use std::collections::BTreeSet;

    /// A `DescribeChangeSet` response as the AWS CLI prints it for a change
    /// of the database's subnet group (recorded shape; ids shortened).
    pub(crate) const AWS_REPLACE_DB: &str = r#"{
      "ChangeSetName": "khs-1764080000",
      "StackName": "khs-crm-prod",
      "Status": "CREATE_COMPLETE",
      "ExecutionStatus": "AVAILABLE",
      "Changes": [
        {"Type": "Resource", "ResourceChange": {
          "PolicyAction": "ReplaceAndRetain",
          "Action": "Modify", "LogicalResourceId": "DatabaseInstance",
          "PhysicalResourceId": "khs-crm-prod-db", "ResourceType": "AWS::RDS::DBInstance",
          "Replacement": "True", "Scope": ["Properties"],
          "Details": [
            {"Target": {"Attribute": "Properties", "Name": "DBSubnetGroupName",
                        "RequiresRecreation": "Always"},
             "Evaluation": "Static", "ChangeSource": "ResourceReference",
             "CausingEntity": "DatabaseSubnetGroup"},
            {"Target": {"Attribute": "Properties", "Name": "AllocatedStorage",
                        "RequiresRecreation": "Never"},
             "Evaluation": "Static", "ChangeSource": "DirectModification"}
          ]}},
        {"Type": "Resource", "ResourceChange": {
          "Action": "Modify", "LogicalResourceId": "DatabaseSubnetGroup",
          "PhysicalResourceId": "khs-crm-prod-dbsubnets", "ResourceType": "AWS::RDS::DBSubnetGroup",
          "Replacement": "True", "Scope": ["Properties"],
          "Details": [{"Target": {"Attribute": "Properties", "Name": "DBSubnetGroupName",
                                  "RequiresRecreation": "Always"},
                       "Evaluation": "Static", "ChangeSource": "DirectModification"}]}},
        {"Type": "Resource", "ResourceChange": {
          "Action": "Modify", "LogicalResourceId": "ApiTaskDefinition",
          "PhysicalResourceId": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7",
          "ResourceType": "AWS::ECS::TaskDefinition", "Replacement": "Conditional",
          "Scope": ["Properties"],
          "Details": [{"Target": {"Attribute": "Properties", "Name": "ContainerDefinitions",
                                  "RequiresRecreation": "Conditionally"},
                       "Evaluation": "Dynamic", "ChangeSource": "ParameterReference",
                       "CausingEntity": "ImageTag"}]}}
      ]
    }"#;

    /// What moto returns for the same change set: no Replacement, no Details.
    pub(crate) const MOTO_ROWS: &str = r#"{
      "Status": "CREATE_COMPLETE",
      "Changes": [
        {"Type": "Resource", "ResourceChange": {"Action": "Modify",
          "LogicalResourceId": "DatabaseInstance", "ResourceType": "AWS::RDS::DBInstance"}}
      ]
    }"#;

    const NO_CHANGES: &str = r#"{
      "Status": "FAILED",
      "StatusReason": "The submitted information didn't contain changes. Submit different information to create a change set.",
      "Changes": []
    }"#;

    #[test]
    fn parses_aws_rows_with_replacement_and_details() {
        let cs = ChangeSetDescription::from_json(AWS_REPLACE_DB).unwrap();
        let rows = cs.resource_changes();
        assert_eq!(rows.len(), 3);
        let plan = plan(Some(&rows), &TemplateDiff::default());
        let db = &plan[1];
        assert_eq!(db.logical_id, "DatabaseInstance");
        assert_eq!(db.replacement, Replacement::Yes);
        assert!(db.replacement_confirmed);
        assert!(db.stateful);
        assert_eq!(db.causes[0].property, "DBSubnetGroupName");
        assert_eq!(db.causes[0].replacement, Replacement::Yes);
        assert_eq!(
            db.causes[0].causing_entity.as_deref(),
            Some("DatabaseSubnetGroup")
        );
        assert_eq!(db.causes[1].replacement, Replacement::No);
        let task = &plan[0];
        assert_eq!(task.replacement, Replacement::Conditional);
        assert_eq!(task.causes[0].causing_entity.as_deref(), Some("ImageTag"));
    }

    #[test]
    fn no_change_change_set_is_recognised() {
        assert!(
            ChangeSetDescription::from_json(NO_CHANGES)
                .unwrap()
                .is_no_change()
        );
        assert!(
            !ChangeSetDescription::from_json(AWS_REPLACE_DB)
                .unwrap()
                .is_no_change()
        );
    }

    #[test]
    fn rows_without_replacement_fall_back_on_the_prediction() {
        let old = json!({"Resources": {"DatabaseInstance": {"Type": "AWS::RDS::DBInstance",
            "Properties": {"DBSubnetGroupName": "a", "Engine": "postgres"}}}});
        let new = json!({"Resources": {"DatabaseInstance": {"Type": "AWS::RDS::DBInstance",
            "Properties": {"DBSubnetGroupName": "b", "Engine": "postgres"}}}});
        let diff = diff_templates(Some(&old), &new, &BTreeSet::new());
        let rows = ChangeSetDescription::from_json(MOTO_ROWS)
            .unwrap()
            .resource_changes();
        let plan = plan(Some(&rows), &diff);
        assert_eq!(plan[0].replacement, Replacement::Yes);
        assert!(!plan[0].replacement_confirmed);
        assert_eq!(plan[0].causes[0].property, "DBSubnetGroupName");
        assert!(!plan[0].causes[0].confirmed);
    }

    #[test]
    fn predicted_removals_missing_from_rows_are_kept() {
        let old = json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete"}}});
        let new = json!({"Resources": {}});
        let diff = diff_templates(Some(&old), &new, &BTreeSet::new());
        let plan = plan(Some(&[]), &diff);
        assert_eq!(plan[0].action, Action::Remove);
        assert_eq!(plan[0].retain_policy.as_deref(), Some("Delete"));
    }

    #[test]
    fn target_paths_of_newer_responses_are_used() {
        let json = r#"{"Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function",
            "Replacement": "False",
            "Details": [{"Target": {"Attribute": "Properties", "Name": "VpcConfig",
               "Path": "/Properties/VpcConfig/SubnetIds", "RequiresRecreation": "Never"}}]}}]}"#;
        let rows = ChangeSetDescription::from_json(json)
            .unwrap()
            .resource_changes();
        let plan = plan(Some(&rows), &TemplateDiff::default());
        assert_eq!(plan[0].causes[0].property, "VpcConfig.SubnetIds");
        assert_eq!(plan[0].replacement, Replacement::No);
    }
}
