//! The forecast: read-only pre-flight checks run before the change set, for
//! failures that are knowable up front instead of twenty minutes into a
//! deployment:
//! - an explicitly named bucket, log group, ECR repository, secret or role
//!   that already exists outside the stack (`… already exists`);
//! - a bucket with objects that the change would delete (`The bucket you
//!   tried to delete is not empty`);
//! - a stack in a state that cannot be updated, with the command that
//!   fixes it;
//! - a certificate still pending validation (or expired, revoked, failed)
//!   that a listener or distribution needs.
//!
//! Each finding names the resource and its construct path.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diff::{Action, Replacement, TemplateDiff, construct_path};
use super::engine::StackSpec;
use super::params::{Resolution, Resolved};
use super::port::{CloudFormation, DeployError, Existence};

/// Named types and the property holding the name.
pub const NAMED_TYPES: &[(&str, &str, &str)] = &[
    ("AWS::S3::Bucket", "BucketName", "bucket"),
    ("AWS::Logs::LogGroup", "LogGroupName", "log group"),
    ("AWS::ECR::Repository", "RepositoryName", "ECR repository"),
    ("AWS::SecretsManager::Secret", "Name", "secret"),
    ("AWS::IAM::Role", "RoleName", "IAM role"),
];

/// One pre-flight finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastFinding {
    /// The resource concerned (the stack name for the stack itself).
    pub logical_id: String,
    /// Its construct path, when known.
    pub construct_path: Option<String>,
    /// What would happen and what to do.
    pub message: String,
    /// Whether the deployment would fail (it is refused unless
    /// `--skip-forecast`); `false` for notes.
    pub blocking: bool,
}

impl ForecastFinding {
    /// One line: `forecast: <stack>: <id> (<path>): <message>`.
    pub fn describe(&self, stack: &str) -> String {
        let path = self
            .construct_path
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let kind = if self.blocking {
            "forecast"
        } else {
            "forecast note"
        };
        if self.logical_id == stack {
            return format!("{kind}: {stack}: {}", self.message);
        }
        format!(
            "{kind}: {stack}: {}{path}: {}",
            self.logical_id, self.message
        )
    }
}

/// What a stack status means for an update: `None` when it can be
/// updated, else why not and the command that fixes it.
pub fn status_problem(stack: &str, status: &str) -> Option<String> {
    match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Some(format!(
            "the stack is {status} after a failed creation and cannot be updated; delete it \
             with `destroy {stack}` and deploy again"
        )),
        "UPDATE_ROLLBACK_FAILED" => Some(format!(
            "the stack is UPDATE_ROLLBACK_FAILED and cannot be updated; run `aws cloudformation \
             continue-update-rollback --stack-name {stack}`, follow it with `watch {stack}`, \
             then deploy again"
        )),
        "DELETE_FAILED" => Some(format!(
            "the stack is DELETE_FAILED; fix what could not be deleted and run `destroy \
             {stack}` again"
        )),
        s if s.ends_with("_IN_PROGRESS") && s != "REVIEW_IN_PROGRESS" => Some(format!(
            "the stack is busy ({s}); follow it with `watch {stack}` and deploy when it ends"
        )),
        _ => None,
    }
}

fn literal<'a>(v: &'a Value, params: &'a Resolved) -> Option<&'a str> {
    if let Some(s) = v.as_str() {
        return Some(s);
    }
    let r = v.get("Ref")?.as_str()?;
    match params.values.get(r)? {
        Resolution::Value(v) => Some(v.as_str()),
        _ => None,
    }
}

fn resources(t: &Value) -> impl Iterator<Item = (&String, &Value)> {
    t.get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|r| r.iter())
}

/// The certificate ARNs a resource needs: listeners' `Certificates` and a
/// distribution's `ViewerCertificate.AcmCertificateArn`, given as text or
/// through a parameter (certificates created in the same template are
/// awaited by CloudFormation itself and skipped).
fn certificate_arns<'a>(entry: &'a Value, params: &'a Resolved) -> Vec<&'a str> {
    let props = entry.get("Properties");
    let mut out = Vec::new();
    if let Some(certs) = props
        .and_then(|p| p.get("Certificates"))
        .and_then(Value::as_array)
    {
        for c in certs {
            if let Some(a) = c.get("CertificateArn").and_then(|a| literal(a, params)) {
                out.push(a);
            }
        }
    }
    if let Some(a) = props
        .and_then(|p| p.get("DistributionConfig"))
        .and_then(|d| d.get("ViewerCertificate"))
        .and_then(|v| v.get("AcmCertificateArn"))
        .and_then(|a| literal(a, params))
    {
        out.push(a);
    }
    out.retain(|a| a.starts_with("arn:"));
    out
}

/// The regions of the certificates the template's listeners and
/// distributions need, other than `region` (a distribution's certificate
/// lives in us-east-1 whatever the stack's region).
pub fn certificate_regions(spec: &StackSpec, params: &Resolved) -> BTreeSet<String> {
    resources(&spec.template)
        .flat_map(|(_, e)| certificate_arns(e, params))
        .filter_map(|arn| arn.split(':').nth(3).map(str::to_string))
        .filter(|r| !r.is_empty() && *r != spec.region)
        .collect()
}

/// Runs the checks for one stack (read-only calls only). `others` are
/// clients for the regions of [`certificate_regions`].
pub async fn run<C: CloudFormation>(
    client: &C,
    others: &BTreeMap<String, C>,
    spec: &StackSpec,
    old: Option<&Value>,
    diff: &TemplateDiff,
    params: &Resolved,
) -> Result<Vec<ForecastFinding>, DeployError> {
    let name = &spec.name;
    let mut out = Vec::new();
    if let Some(info) = client.describe_stack(name).await? {
        if let Some(problem) = status_problem(name, &info.status) {
            out.push(ForecastFinding {
                logical_id: name.clone(),
                construct_path: None,
                message: problem,
                blocking: true,
            });
            return Ok(out);
        }
    }
    let new = &spec.template;
    // The physical ids the stack owns (a name it owns is not a conflict).
    let mut owned: Option<BTreeMap<String, String>> = None;
    // (why, what) of the checks that could not be made.
    let mut unknown: Vec<(String, String)> = Vec::new();
    for d in diff.resources.iter().filter(|d| d.action == Action::Add) {
        let Some((_, prop, kind)) = NAMED_TYPES.iter().find(|(t, _, _)| *t == d.type_name) else {
            continue;
        };
        let entry = new.get("Resources").and_then(|r| r.get(&d.logical_id));
        let Some(value) = entry
            .and_then(|e| e.get("Properties"))
            .and_then(|p| p.get(*prop))
            .and_then(|v| literal(v, params))
        else {
            continue;
        };
        if old.is_some() && owned.is_none() {
            owned = Some(client.stack_resources(name).await.unwrap_or_default());
        }
        let holder = owned
            .as_ref()
            .and_then(|o| o.iter().find(|(_, p)| *p == value))
            .map(|(id, _)| id.clone());
        if let Some(holder) = holder {
            let removed = diff
                .resource(&holder)
                .is_some_and(|h| h.action == Action::Remove);
            if removed {
                out.push(ForecastFinding {
                    logical_id: d.logical_id.clone(),
                    construct_path: d.construct_path.clone(),
                    message: format!(
                        "the {kind} name {value:?} belongs to {holder} of this stack, which this \
                         change removes: CloudFormation creates {} before deleting {holder}, so \
                         the creation fails (\"already exists\"); if this is a rename, declare \
                         it (`stack.declare_moved(\"{}\", \"{holder}\")?;`), else choose another \
                         {prop}",
                        d.logical_id,
                        d.construct_path.as_deref().unwrap_or(&d.logical_id)
                    ),
                    blocking: true,
                });
            }
            continue;
        }
        match client
            .named_resource_exists(name, &d.type_name, value)
            .await?
        {
            Existence::Exists => out.push(ForecastFinding {
                logical_id: d.logical_id.clone(),
                construct_path: d.construct_path.clone(),
                message: format!(
                    "a {kind} named {value:?} already exists outside this stack, so creating \
                     it would fail (\"{value} already exists\"); choose another {prop}, leave \
                     it unset to get a generated name, or delete the existing {kind}"
                ),
                blocking: true,
            }),
            Existence::Missing => {}
            Existence::Unknown(why) => unknown.push((why, format!("{} {value:?}", d.logical_id))),
        }
    }
    // Buckets the change deletes: removed without Retain, or replaced
    // without UpdateReplacePolicy Retain.
    for d in diff
        .resources
        .iter()
        .filter(|d| d.type_name == "AWS::S3::Bucket")
    {
        let deleted = match d.action {
            Action::Remove => !matches!(
                d.retain_policy.as_deref(),
                Some("Retain" | "RetainExceptOnCreate")
            ),
            Action::Modify => {
                d.replacement == Replacement::Yes && d.retain_policy.as_deref() != Some("Retain")
            }
            Action::Add => false,
        };
        if !deleted {
            continue;
        }
        if old.is_some() && owned.is_none() {
            owned = Some(client.stack_resources(name).await.unwrap_or_default());
        }
        let Some(bucket) = owned.as_ref().and_then(|o| o.get(&d.logical_id)).cloned() else {
            continue;
        };
        let path = d.construct_path.clone().or_else(|| {
            old.and_then(|t| t.get("Resources"))
                .and_then(|r| r.get(&d.logical_id))
                .and_then(construct_path)
        });
        match client.bucket_has_objects(name, &bucket).await? {
            Existence::Exists => out.push(ForecastFinding {
                logical_id: d.logical_id.clone(),
                construct_path: path,
                message: format!(
                    "bucket {bucket} still holds objects, and this change deletes it: \
                     CloudFormation would fail with \"The bucket you tried to delete is not \
                     empty\"; empty it first (`aws s3 rm s3://{bucket} --recursive`, and its \
                     versions) or keep it with DeletionPolicy Retain"
                ),
                blocking: true,
            }),
            Existence::Missing => {}
            Existence::Unknown(why) => {
                unknown.push((why, format!("whether {} holds objects", d.logical_id)))
            }
        }
    }
    // Certificates a listener or distribution needs.
    let mut checked = BTreeSet::new();
    for (id, entry) in resources(new) {
        for arn in certificate_arns(entry, params) {
            if !checked.insert((id.clone(), arn.to_string())) {
                continue;
            }
            let region = arn.split(':').nth(3).unwrap_or_default();
            let reader = others.get(region).unwrap_or(client);
            let Some(status) = reader.certificate_status(name, arn).await? else {
                continue;
            };
            if status == "ISSUED" {
                continue;
            }
            let ty = entry
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let fix = if status == "PENDING_VALIDATION" {
                "add its DNS validation record (see `aws acm describe-certificate`) and deploy \
                 when ACM shows ISSUED"
            } else {
                "request a new certificate and point the stack at it"
            };
            out.push(ForecastFinding {
                logical_id: id.clone(),
                construct_path: construct_path(entry),
                message: format!(
                    "the {ty} needs certificate {arn}, which is {status}, not ISSUED: \
                     CloudFormation would fail when it reaches this resource; {fix}"
                ),
                blocking: true,
            });
        }
    }
    let mut by_reason: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (why, what) in unknown {
        by_reason.entry(why).or_default().push(what);
    }
    for (why, what) in by_reason {
        out.push(ForecastFinding {
            logical_id: name.clone(),
            construct_path: None,
            message: format!("not checked ({why}): {}", what.join(", ")),
            blocking: false,
        });
    }
    Ok(out)
}
