//! An in-memory CloudFormation behind the [`CloudFormation`] port, for
//! driving every branch of the engine without a server: stacks per region
//! with templates, parameters, outputs, policies and events; change sets
//! whose rows are computed from the templates (without `Replacement`, like
//! moto: the engine's prediction fills it in, or a test scripts the rows);
//! executions that succeed, fail and roll back, fail their rollback or hang;
//! drift results, stack refactors, named resources, bucket contents and
//! certificate statuses set by the test. Every call is logged.
//!
//! What it models is what the engine relies on, not all of CloudFormation:
//! a path covered only here is listed in `docs/deploy.md`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use serde_json::Value;

use super::changeset::{Change, ChangeSetDescription, ResourceChange};
use super::engine::{Cancel, Sink};
use super::port::{
    ChangeSetRequest, CloudFormation, Connector, DeployError, DriftDetection, Existence,
    ParamValue, RefactorRequest, RefactorState, ResourceDrift, StackEvent, StackInfo,
    TemplateSource,
};
use super::s3_port::AssetStore;

/// What executing the next change set of a stack does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Execution {
    /// Every resource completes.
    #[default]
    Succeed,
    /// `resource` fails with `reason`; the stack rolls back.
    Fail {
        /// The failing logical id.
        resource: String,
        /// Its reason.
        reason: String,
    },
    /// `resource` fails, and so does the rollback.
    FailRollback {
        /// The failing logical id.
        resource: String,
        /// Its reason.
        reason: String,
    },
    /// The stack stays in progress (for Ctrl-C).
    Hang,
}

/// A scripted event: logical id, type, status, reason.
type ScriptedEvent = (String, String, String, Option<String>);
/// One step of a running operation: the stack status and its new events.
type Step = (String, Vec<ScriptedEvent>);

/// One deployed stack.
#[derive(Debug, Clone, Default)]
pub struct FakeStack {
    /// The stack id.
    pub id: String,
    /// The status.
    pub status: String,
    /// The template.
    pub template: Value,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Outputs.
    pub outputs: BTreeMap<String, String>,
    /// Termination protection.
    pub termination_protection: bool,
    /// The stack policy last set.
    pub policy: Option<Value>,
    /// Events, oldest first.
    pub events: Vec<StackEvent>,
    /// Physical ids by logical id (default: `<stack>-<logical id>`).
    pub physical: BTreeMap<String, String>,
    pending: VecDeque<Step>,
    after: Option<(Value, BTreeMap<String, String>)>,
}

#[derive(Debug, Clone)]
struct FakeChangeSet {
    stack: String,
    region: String,
    template: Value,
    parameters: BTreeMap<String, String>,
    description: ChangeSetDescription,
}

#[derive(Debug, Clone)]
struct FakeRefactor {
    region: String,
    req: RefactorRequest,
    state: RefactorState,
}

/// The state of the fake cloud, open to tests.
#[derive(Debug, Default)]
pub struct World {
    /// Stacks by (region, name).
    pub stacks: BTreeMap<(String, String), FakeStack>,
    /// Every call, `Operation stack` (and for some a detail).
    pub calls: Vec<String>,
    /// What the next execution of a stack's change set does (by name).
    pub executions: BTreeMap<String, Execution>,
    /// Rows to report instead of the computed ones (by stack name).
    pub rows: BTreeMap<String, Vec<ResourceChange>>,
    /// Drift results by stack name; a stack absent here has no drift.
    pub drifts: BTreeMap<String, Vec<ResourceDrift>>,
    /// Whether drift detection answers as moto does (not implemented).
    pub drift_unsupported: bool,
    /// Names that exist outside any stack: (type, name).
    pub existing: BTreeSet<(String, String)>,
    /// Buckets that hold objects.
    pub buckets_with_objects: BTreeSet<String>,
    /// Certificate statuses by ARN.
    pub certificates: BTreeMap<String, String>,
    /// Errors to answer for an operation (`SetStackPolicy`), once each.
    pub fail_next: BTreeMap<String, String>,
    /// Ctrl-C pressed when this many `DescribeStacks` calls were made
    /// during an execution.
    pub interrupt_after: Option<(usize, Cancel)>,
    /// S3 objects (asset publishing), by `bucket/key`.
    pub objects: BTreeMap<String, Vec<u8>>,
    /// Whether `HeadObject` cannot tell (403 without `s3:ListBucket`).
    pub objects_unreadable: bool,
    /// The account that the credentials chosen for an account turn out to
    /// be (a misconfigured profile), by the account asked for; an account
    /// absent here gets its own credentials.
    pub caller_accounts: BTreeMap<String, String>,
    uploads: BTreeMap<String, String>,
    change_sets: BTreeMap<String, FakeChangeSet>,
    refactors: BTreeMap<String, FakeRefactor>,
    next: usize,
    describes_in_execution: usize,
}

/// The fake cloud: a [`Connector`] handing out one client per region over
/// shared state.
#[derive(Debug, Clone, Default)]
pub struct FakeCloud {
    /// The shared state.
    pub world: Rc<RefCell<World>>,
}

/// A client of the fake cloud for one region.
#[derive(Debug, Clone)]
pub struct FakeClient {
    world: Rc<RefCell<World>>,
    region: String,
}

impl FakeCloud {
    /// An empty cloud.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a deployed stack (status `CREATE_COMPLETE` or `UPDATE_COMPLETE`).
    pub fn put_stack(&self, region: &str, name: &str, template: Value, status: &str) {
        let mut w = self.world.borrow_mut();
        let physical = physical_ids(name, &template);
        w.stacks.insert(
            (region.to_string(), name.to_string()),
            FakeStack {
                id: stack_id(region, name),
                status: status.to_string(),
                template,
                physical,
                ..FakeStack::default()
            },
        );
    }

    /// A stack, cloned.
    pub fn stack(&self, region: &str, name: &str) -> Option<FakeStack> {
        self.world
            .borrow()
            .stacks
            .get(&(region.to_string(), name.to_string()))
            .cloned()
    }

    /// Edits a stack in place.
    pub fn edit_stack(&self, region: &str, name: &str, f: impl FnOnce(&mut FakeStack)) {
        if let Some(s) = self
            .world
            .borrow_mut()
            .stacks
            .get_mut(&(region.to_string(), name.to_string()))
        {
            f(s);
        }
    }

    /// The operations called, in order (without their details).
    pub fn operations(&self) -> Vec<String> {
        self.world
            .borrow()
            .calls
            .iter()
            .map(|c| c.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }

    /// The calls whose operation is `op`, with their details.
    pub fn calls_of(&self, op: &str) -> Vec<String> {
        self.world
            .borrow()
            .calls
            .iter()
            .filter(|c| c.split(' ').next() == Some(op))
            .cloned()
            .collect()
    }
}

fn stack_id(region: &str, name: &str) -> String {
    format!("arn:aws:cloudformation:{region}:123456789012:stack/{name}/fake")
}

fn physical_ids(stack: &str, template: &Value) -> BTreeMap<String, String> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .map(|r| {
            r.keys()
                .map(|k| (k.clone(), format!("{}-{}", stack, k.to_ascii_lowercase())))
                .collect()
        })
        .unwrap_or_default()
}

impl Connector for FakeCloud {
    type Client = FakeClient;

    async fn connect(&mut self, region: &str) -> Result<FakeClient, DeployError> {
        self.connect_in(None, region).await
    }

    async fn connect_in(
        &mut self,
        account: Option<&str>,
        region: &str,
    ) -> Result<FakeClient, DeployError> {
        let mut w = self.world.borrow_mut();
        match account {
            None => w.calls.push(format!("Connect {region}")),
            Some(a) => {
                w.calls.push(format!("Connect {region} {a}"));
                if let Some(actual) = w.caller_accounts.get(a) {
                    return Err(DeployError::WrongAccount {
                        expected: a.to_string(),
                        actual: actual.clone(),
                        via: format!("profile of {a}"),
                    });
                }
            }
        }
        Ok(FakeClient {
            world: self.world.clone(),
            region: region.to_string(),
        })
    }
}

fn without_metadata(entry: &Value) -> Value {
    let mut e = entry.clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("Metadata");
    }
    e
}

/// Rows as CloudFormation lists them without details: Add, Remove, and
/// Modify for entries whose properties or attributes differ (a change of
/// metadata alone gives no row, as with moto).
fn rows(old: Option<&Value>, new: &Value) -> Vec<ResourceChange> {
    let empty = serde_json::Map::new();
    let o = old
        .and_then(|t| t.get("Resources"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let n = new
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let ty = |e: &Value| {
        e.get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let row = |action: &str, id: &str, e: &Value| ResourceChange {
        action: action.to_string(),
        logical_resource_id: id.to_string(),
        physical_resource_id: None,
        resource_type: ty(e),
        replacement: None,
        scope: Vec::new(),
        details: Vec::new(),
    };
    let mut out = Vec::new();
    for (id, e) in n {
        match o.get(id) {
            None => out.push(row("Add", id, e)),
            Some(before) if without_metadata(before) != without_metadata(e) => {
                out.push(row("Modify", id, e))
            }
            _ => {}
        }
    }
    for (id, e) in o {
        if !n.contains_key(id) {
            out.push(row("Remove", id, e));
        }
    }
    out
}

impl FakeClient {
    fn key(&self, stack: &str) -> (String, String) {
        (self.region.clone(), stack.to_string())
    }

    /// Logs the call; answers a scripted error when one is set.
    fn call(&self, op: &'static str, stack: &str, detail: &str) -> Result<(), DeployError> {
        let mut w = self.world.borrow_mut();
        let line = if detail.is_empty() {
            format!("{op} {stack}")
        } else {
            format!("{op} {stack} {detail}")
        };
        w.calls.push(line);
        if let Some(msg) = w.fail_next.remove(op) {
            return Err(DeployError::api_message(stack, op, msg));
        }
        Ok(())
    }

    fn event(
        w: &mut World,
        region: &str,
        stack: &str,
        logical: &str,
        ty: &str,
        status: &str,
        reason: Option<String>,
    ) {
        w.next += 1;
        let n = w.next;
        if let Some(s) = w.stacks.get_mut(&(region.to_string(), stack.to_string())) {
            s.events.push(StackEvent {
                id: format!("event-{n:04}"),
                timestamp: format!("2026-12-01T10:00:{:02}.000Z", n % 60),
                logical_id: logical.to_string(),
                resource_type: ty.to_string(),
                status: status.to_string(),
                reason,
            });
        }
    }
}

fn missing(stack: &str, op: &'static str) -> DeployError {
    DeployError::api_message(
        stack,
        op,
        format!("ValidationError: Stack with id {stack} does not exist"),
    )
}

impl CloudFormation for FakeClient {
    fn region(&self) -> &str {
        &self.region
    }

    async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, DeployError> {
        self.call("DescribeStacks", stack, "")?;
        let mut w = self.world.borrow_mut();
        // A stack id names the stack too.
        let name = stack
            .strip_prefix("arn:")
            .and_then(|s| s.split('/').nth(1))
            .unwrap_or(stack)
            .to_string();
        let key = self.key(&name);
        let executing = w.stacks.get(&key).is_some_and(|s| !s.pending.is_empty());
        if executing {
            w.describes_in_execution += 1;
            if let Some((n, cancel)) = &w.interrupt_after {
                if w.describes_in_execution >= *n {
                    cancel.cancel();
                }
            }
            let step = w.stacks.get_mut(&key).and_then(|s| s.pending.pop_front());
            if let Some((status, events)) = step {
                for (logical, ty, st, reason) in events {
                    FakeClient::event(&mut w, &self.region, &name, &logical, &ty, &st, reason);
                }
                if let Some(s) = w.stacks.get_mut(&key) {
                    s.status = status;
                    if s.pending.is_empty() && !super::events::is_failure(&s.status) {
                        if let Some((t, p)) = s.after.take() {
                            s.physical = physical_ids(&name, &t);
                            s.template = t;
                            s.parameters = p;
                        }
                    }
                }
            }
        }
        let Some(s) = w.stacks.get(&key) else {
            return Ok(None);
        };
        if s.status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
            id: s.id.clone(),
            name: name.clone(),
            status: s.status.clone(),
            status_reason: None,
            outputs: s.outputs.clone(),
            parameters: s.parameters.clone(),
            termination_protection: s.termination_protection,
            updated: Some("2026-12-01T10:00:00Z".to_string()),
        }))
    }

    async fn get_template(&self, stack: &str) -> Result<Value, DeployError> {
        self.call("GetTemplate", stack, "")?;
        let w = self.world.borrow();
        w.stacks
            .get(&self.key(stack))
            .map(|s| s.template.clone())
            .ok_or_else(|| missing(stack, "GetTemplate"))
    }

    async fn upload_template(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<String, DeployError> {
        self.call("PutObject", stack, &format!("{bucket}/{key}"))?;
        let url = format!("https://s3.{}.amazonaws.com/{bucket}/{key}", self.region);
        self.world
            .borrow_mut()
            .uploads
            .insert(url.clone(), body.to_string());
        Ok(url)
    }

    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, DeployError> {
        self.call(
            "CreateChangeSet",
            &req.stack,
            if req.create { "CREATE" } else { "UPDATE" },
        )?;
        let mut w = self.world.borrow_mut();
        let body = match &req.template {
            TemplateSource::Body(b) => b.clone(),
            TemplateSource::Url(u) => w.uploads.get(u).cloned().ok_or_else(|| {
                DeployError::api_message(
                    &req.stack,
                    "CreateChangeSet",
                    format!("ValidationError: no template at {u}"),
                )
            })?,
        };
        let template: Value = serde_json::from_str(&body).map_err(|e| {
            DeployError::api_message(
                &req.stack,
                "CreateChangeSet",
                format!("ValidationError: Template format error: {e}"),
            )
        })?;
        let key = self.key(&req.stack);
        let exists = w
            .stacks
            .get(&key)
            .is_some_and(|s| s.status != "DELETE_COMPLETE");
        if req.create == exists
            && !(req.create
                && w.stacks
                    .get(&key)
                    .is_some_and(|s| s.status == "REVIEW_IN_PROGRESS"))
        {
            return Err(DeployError::api_message(
                &req.stack,
                "CreateChangeSet",
                if req.create {
                    format!(
                        "AlreadyExistsException: Stack [{}] already exists",
                        req.stack
                    )
                } else {
                    format!("ValidationError: Stack [{}] does not exist", req.stack)
                },
            ));
        }
        if req.create && !exists {
            w.stacks.insert(
                key.clone(),
                FakeStack {
                    id: stack_id(&self.region, &req.stack),
                    status: "REVIEW_IN_PROGRESS".to_string(),
                    template: serde_json::json!({}),
                    ..FakeStack::default()
                },
            );
        }
        let stack = w.stacks.get(&key).cloned().unwrap_or_default();
        let mut parameters = BTreeMap::new();
        for (k, v) in &req.parameters {
            let v = match v {
                ParamValue::Value(v) => v.clone(),
                ParamValue::UsePrevious => stack.parameters.get(k).cloned().unwrap_or_default(),
            };
            parameters.insert(k.clone(), v);
        }
        let old = (!req.create).then_some(&stack.template);
        let computed = w
            .rows
            .remove(&req.stack)
            .unwrap_or_else(|| rows(old, &template));
        let params_changed = !req.create && parameters != stack.parameters;
        let description = if computed.is_empty() && !params_changed {
            ChangeSetDescription {
                status: Some("FAILED".to_string()),
                status_reason: Some(
                    "The submitted information didn't contain changes. Submit different \
                     information to create a change set."
                        .to_string(),
                ),
                changes: Vec::new(),
            }
        } else {
            ChangeSetDescription {
                status: Some("CREATE_COMPLETE".to_string()),
                status_reason: None,
                changes: computed
                    .into_iter()
                    .map(|r| Change {
                        change_type: Some("Resource".to_string()),
                        resource_change: Some(r),
                    })
                    .collect(),
            }
        };
        w.next += 1;
        let id = format!(
            "arn:aws:cloudformation:{}:123456789012:changeSet/{}/{}",
            self.region, req.name, w.next
        );
        w.change_sets.insert(
            id.clone(),
            FakeChangeSet {
                stack: req.stack.clone(),
                region: self.region.clone(),
                template,
                parameters,
                description,
            },
        );
        Ok(id)
    }

    async fn describe_change_set(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<ChangeSetDescription, DeployError> {
        self.call("DescribeChangeSet", stack, "")?;
        let w = self.world.borrow();
        w.change_sets
            .get(id)
            .map(|c| c.description.clone())
            .ok_or_else(|| {
                DeployError::api_message(
                    stack,
                    "DescribeChangeSet",
                    "ChangeSetNotFound: no such change set",
                )
            })
    }

    async fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.call("ExecuteChangeSet", stack, "")?;
        let mut w = self.world.borrow_mut();
        let cs = w.change_sets.remove(id).ok_or_else(|| {
            DeployError::api_message(
                stack,
                "ExecuteChangeSet",
                "ChangeSetNotFound: no such change set",
            )
        })?;
        let execution = w.executions.remove(stack).unwrap_or_default();
        w.describes_in_execution = 0;
        let key = (cs.region.clone(), cs.stack.clone());
        let Some(s) = w.stacks.get(&key) else {
            return Err(missing(stack, "ExecuteChangeSet"));
        };
        let create = s.status == "REVIEW_IN_PROGRESS";
        let verb = if create { "CREATE" } else { "UPDATE" };
        let stack_ty = "AWS::CloudFormation::Stack".to_string();
        let name = cs.stack.clone();
        let rows: Vec<ResourceChange> = cs.description.resource_changes();
        let first = rows
            .first()
            .map(|r| (r.logical_resource_id.clone(), r.resource_type.clone()))
            .unwrap_or_else(|| {
                (
                    "Resource".to_string(),
                    "AWS::CloudFormation::WaitConditionHandle".to_string(),
                )
            });
        let ev = |l: &str, t: &str, st: &str, r: Option<&str>| {
            (
                l.to_string(),
                t.to_string(),
                st.to_string(),
                r.map(str::to_string),
            )
        };
        let mut steps: VecDeque<Step> = VecDeque::new();
        let in_progress = format!("{verb}_IN_PROGRESS");
        steps.push_back((
            in_progress.clone(),
            vec![ev(&name, &stack_ty, &in_progress, Some("User Initiated"))],
        ));
        let resource_of = |id: &str| -> String {
            rows.iter()
                .find(|r| r.logical_resource_id == id)
                .map(|r| r.resource_type.clone())
                .unwrap_or_else(|| first.1.clone())
        };
        match &execution {
            Execution::Succeed => {
                let mut evs = Vec::new();
                for r in &rows {
                    let st = match r.action.as_str() {
                        "Add" => "CREATE_COMPLETE",
                        "Remove" => "DELETE_COMPLETE",
                        _ => "UPDATE_COMPLETE",
                    };
                    evs.push(ev(&r.logical_resource_id, &r.resource_type, st, None));
                }
                steps.push_back((in_progress.clone(), evs));
                let done = format!("{verb}_COMPLETE");
                steps.push_back((done.clone(), vec![ev(&name, &stack_ty, &done, None)]));
            }
            Execution::Fail { resource, reason } | Execution::FailRollback { resource, reason } => {
                let ty = resource_of(resource);
                steps.push_back((
                    in_progress.clone(),
                    vec![ev(resource, &ty, &format!("{verb}_FAILED"), Some(reason))],
                ));
                let rb = if create {
                    "ROLLBACK"
                } else {
                    "UPDATE_ROLLBACK"
                };
                let rb_progress = format!("{rb}_IN_PROGRESS");
                steps.push_back((
                    rb_progress.clone(),
                    vec![ev(
                        &name,
                        &stack_ty,
                        &rb_progress,
                        Some(&format!(
                            "The following resource(s) failed to {}: [{resource}].",
                            verb.to_ascii_lowercase()
                        )),
                    )],
                ));
                let end = if matches!(execution, Execution::FailRollback { .. }) {
                    format!("{rb}_FAILED")
                } else {
                    format!("{rb}_COMPLETE")
                };
                steps.push_back((end.clone(), vec![ev(&name, &stack_ty, &end, None)]));
            }
            Execution::Hang => {
                for _ in 0..10_000 {
                    steps.push_back((in_progress.clone(), Vec::new()));
                }
            }
        }
        if let Some(s) = w.stacks.get_mut(&key) {
            s.pending = steps;
            s.after = Some((cs.template, cs.parameters));
        }
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.call("DeleteChangeSet", stack, "")?;
        self.world.borrow_mut().change_sets.remove(id);
        Ok(())
    }

    async fn delete_stack(&self, name: &str, id: &str) -> Result<(), DeployError> {
        self.call("DeleteStack", name, "")?;
        let mut w = self.world.borrow_mut();
        let key = self.key(name);
        let _ = id;
        let Some(s) = w.stacks.get_mut(&key) else {
            return Ok(());
        };
        if s.termination_protection {
            return Err(DeployError::api_message(
                name,
                "DeleteStack",
                format!(
                    "ValidationError: Stack [{name}] cannot be deleted while TerminationProtection is enabled"
                ),
            ));
        }
        if s.status == "REVIEW_IN_PROGRESS" {
            w.stacks.remove(&key);
            return Ok(());
        }
        let ty = "AWS::CloudFormation::Stack".to_string();
        s.pending = VecDeque::from([
            (
                "DELETE_IN_PROGRESS".to_string(),
                vec![(
                    name.to_string(),
                    ty.clone(),
                    "DELETE_IN_PROGRESS".to_string(),
                    Some("User Initiated".to_string()),
                )],
            ),
            (
                "DELETE_COMPLETE".to_string(),
                vec![(name.to_string(), ty, "DELETE_COMPLETE".to_string(), None)],
            ),
        ]);
        Ok(())
    }

    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), DeployError> {
        self.call(
            "UpdateTerminationProtection",
            stack,
            if on { "on" } else { "off" },
        )?;
        let key = self.key(stack);
        if let Some(s) = self.world.borrow_mut().stacks.get_mut(&key) {
            s.termination_protection = on;
        }
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, policy: &str) -> Result<(), DeployError> {
        self.call("SetStackPolicy", stack, policy)?;
        let key = self.key(stack);
        let v: Value = serde_json::from_str(policy).map_err(|e| {
            DeployError::api_message(stack, "SetStackPolicy", format!("ValidationError: {e}"))
        })?;
        if let Some(s) = self.world.borrow_mut().stacks.get_mut(&key) {
            s.policy = Some(v);
        }
        Ok(())
    }

    async fn stack_events(
        &self,
        stack: &str,
        until: Option<&str>,
    ) -> Result<Vec<StackEvent>, DeployError> {
        self.call("DescribeStackEvents", stack, "")?;
        let name = stack
            .strip_prefix("arn:")
            .and_then(|s| s.split('/').nth(1))
            .unwrap_or(stack);
        let w = self.world.borrow();
        let Some(s) = w.stacks.get(&self.key(name)) else {
            return Err(missing(stack, "DescribeStackEvents"));
        };
        let mut out: Vec<StackEvent> = s.events.iter().rev().cloned().collect();
        if let Some(u) = until {
            if let Some(i) = out.iter().position(|e| e.id == u) {
                out.truncate(i + 1);
            }
        }
        Ok(out)
    }

    async fn stack_resources(&self, stack: &str) -> Result<BTreeMap<String, String>, DeployError> {
        self.call("DescribeStackResources", stack, "")?;
        let w = self.world.borrow();
        w.stacks
            .get(&self.key(stack))
            .map(|s| s.physical.clone())
            .ok_or_else(|| missing(stack, "DescribeStackResources"))
    }

    async fn detect_stack_drift(&self, stack: &str) -> Result<String, DeployError> {
        self.call("DetectStackDrift", stack, "")?;
        if self.world.borrow().drift_unsupported {
            return Err(DeployError::api_message(
                stack,
                "DetectStackDrift",
                format!(
                    "{} 500 without an AWS error (is the operation implemented there?)",
                    super::port::NOT_AN_AWS_ERROR
                ),
            ));
        }
        Ok(format!("drift-{stack}"))
    }

    async fn drift_detection_status(
        &self,
        stack: &str,
        detection_id: &str,
    ) -> Result<DriftDetection, DeployError> {
        self.call("DescribeStackDriftDetectionStatus", stack, detection_id)?;
        Ok(DriftDetection::Complete)
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, DeployError> {
        self.call("DescribeStackResourceDrifts", stack, "")?;
        Ok(self
            .world
            .borrow()
            .drifts
            .get(stack)
            .cloned()
            .unwrap_or_default())
    }

    async fn create_stack_refactor(
        &self,
        stack: &str,
        req: &RefactorRequest,
    ) -> Result<String, DeployError> {
        self.call("CreateStackRefactor", stack, "")?;
        let mut w = self.world.borrow_mut();
        // CloudFormation accepts a refactor only when the templates change
        // nothing but the moves: each template must be the deployed one with
        // the renames applied, the resources moved out removed and those
        // moved in added.
        let mut reason = None;
        for (name, body) in &req.templates {
            let key = (self.region.clone(), name.clone());
            let deployed = match w.stacks.get(&key) {
                Some(s) => s.template.clone(),
                None if req.create_stacks => {
                    serde_json::json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}})
                }
                None => {
                    reason = Some(format!("Stack {name} does not exist"));
                    continue;
                }
            };
            let renames: Vec<super::moves::Move> = req
                .moves
                .iter()
                .filter(|m| &m.from_stack == name && &m.to_stack == name)
                .map(|m| super::moves::Move {
                    from: m.from_id.clone(),
                    to: m.to_id.clone(),
                })
                .collect();
            let mut expected = super::moves::apply(&deployed, &renames);
            for m in req.moves.iter().filter(|m| m.from_stack != m.to_stack) {
                if &m.from_stack == name {
                    if let Some(r) = expected.get_mut("Resources").and_then(Value::as_object_mut) {
                        r.remove(&m.from_id);
                    }
                }
                if &m.to_stack == name {
                    let entry = w
                        .stacks
                        .get(&(self.region.clone(), m.from_stack.clone()))
                        .and_then(|s| {
                            s.template
                                .get("Resources")
                                .and_then(|r| r.get(&m.from_id))
                                .cloned()
                        });
                    match (
                        entry,
                        expected.get_mut("Resources").and_then(Value::as_object_mut),
                    ) {
                        (Some(e), Some(r)) => {
                            r.insert(m.to_id.clone(), e);
                        }
                        _ => {
                            reason = Some(format!(
                                "{} is not a resource of {}",
                                m.from_id, m.from_stack
                            ))
                        }
                    }
                }
            }
            let sent: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            if sent != expected {
                reason = Some(format!(
                    "the template of {name} contains changes besides the resource moves"
                ));
            }
        }
        w.next += 1;
        let id = format!("refactor-{}", w.next);
        let state = match reason {
            Some(r) => RefactorState {
                status: "CREATE_FAILED".to_string(),
                execution_status: "UNAVAILABLE".to_string(),
                reason: Some(r),
            },
            None => RefactorState {
                status: "CREATE_COMPLETE".to_string(),
                execution_status: "AVAILABLE".to_string(),
                reason: None,
            },
        };
        w.refactors.insert(
            id.clone(),
            FakeRefactor {
                region: self.region.clone(),
                req: req.clone(),
                state,
            },
        );
        Ok(id)
    }

    async fn describe_stack_refactor(
        &self,
        stack: &str,
        id: &str,
    ) -> Result<RefactorState, DeployError> {
        self.call("DescribeStackRefactor", stack, "")?;
        self.world
            .borrow()
            .refactors
            .get(id)
            .map(|r| r.state.clone())
            .ok_or_else(|| {
                DeployError::api_message(
                    stack,
                    "DescribeStackRefactor",
                    "StackRefactorNotFoundException",
                )
            })
    }

    async fn execute_stack_refactor(&self, stack: &str, id: &str) -> Result<(), DeployError> {
        self.call("ExecuteStackRefactor", stack, "")?;
        let mut w = self.world.borrow_mut();
        let Some(r) = w.refactors.get(id).cloned() else {
            return Err(DeployError::api_message(
                stack,
                "ExecuteStackRefactor",
                "StackRefactorNotFoundException",
            ));
        };
        // Physical ids travel with the moved resources.
        let mut travelling = Vec::new();
        for m in &r.req.moves {
            let from = (r.region.clone(), m.from_stack.clone());
            if let Some(p) = w
                .stacks
                .get_mut(&from)
                .and_then(|s| s.physical.remove(&m.from_id))
            {
                travelling.push(((r.region.clone(), m.to_stack.clone()), m.to_id.clone(), p));
            }
        }
        for (name, body) in &r.req.templates {
            let t: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let key = (r.region.clone(), name.clone());
            let s = w.stacks.entry(key).or_insert_with(|| FakeStack {
                id: stack_id(&r.region, name),
                status: "UPDATE_COMPLETE".to_string(),
                ..FakeStack::default()
            });
            s.template = t;
        }
        for (key, id, p) in travelling {
            if let Some(s) = w.stacks.get_mut(&key) {
                s.physical.insert(id, p);
            }
        }
        if let Some(r) = w.refactors.get_mut(id) {
            r.state.execution_status = "EXECUTE_COMPLETE".to_string();
        }
        Ok(())
    }

    async fn named_resource_exists(
        &self,
        stack: &str,
        type_name: &str,
        name: &str,
    ) -> Result<Existence, DeployError> {
        self.call("Exists", stack, &format!("{type_name} {name}"))?;
        let w = self.world.borrow();
        Ok(
            if w.existing
                .contains(&(type_name.to_string(), name.to_string()))
            {
                Existence::Exists
            } else {
                Existence::Missing
            },
        )
    }

    async fn bucket_has_objects(
        &self,
        stack: &str,
        bucket: &str,
    ) -> Result<Existence, DeployError> {
        self.call("ListObjectsV2", stack, bucket)?;
        Ok(
            if self.world.borrow().buckets_with_objects.contains(bucket) {
                Existence::Exists
            } else {
                Existence::Missing
            },
        )
    }

    async fn certificate_status(
        &self,
        stack: &str,
        arn: &str,
    ) -> Result<Option<String>, DeployError> {
        self.call(
            "DescribeCertificate",
            stack,
            &format!("{} {arn}", self.region),
        )?;
        // ACM answers for certificates of its own region only.
        if arn.split(':').nth(3) != Some(self.region.as_str()) {
            return Ok(None);
        }
        Ok(self.world.borrow().certificates.get(arn).cloned())
    }
}

/// The fake S3 of asset publishing: objects in [`World::objects`];
/// `HeadObject` and `PutObject` are logged (`HeadObject <stack>
/// <bucket>/<key>`) and answer [`World::fail_next`] errors.
impl AssetStore for FakeClient {
    async fn object_exists(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Existence, DeployError> {
        self.call("HeadObject", stack, &format!("{bucket}/{key}"))?;
        let w = self.world.borrow();
        if w.objects_unreadable {
            return Ok(Existence::Unknown("HeadObject: 403 Forbidden".to_string()));
        }
        Ok(if w.objects.contains_key(&format!("{bucket}/{key}")) {
            Existence::Exists
        } else {
            Existence::Missing
        })
    }

    async fn put_object(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<(), DeployError> {
        self.call("PutObject", stack, &format!("{bucket}/{key}"))?;
        self.world
            .borrow_mut()
            .objects
            .insert(format!("{bucket}/{key}"), body);
        Ok(())
    }
}

/// A [`Sink`] that keeps every line (errors prefixed `error: `) and answers
/// questions with `answer`.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// The lines printed.
    pub lines: Vec<String>,
    /// Whether it is interactive.
    pub interactive: bool,
    /// The answer to every question.
    pub answer: bool,
}

impl Transcript {
    /// All lines, joined.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl Sink for Transcript {
    fn line(&mut self, s: &str) {
        self.lines.push(s.to_string());
    }
    fn error(&mut self, s: &str) {
        self.lines.push(format!("error: {s}"));
    }
    fn interactive(&self) -> bool {
        self.interactive
    }
    fn confirm(&mut self, question: &str) -> bool {
        self.lines.push(format!(
            "{question} [y/N] {}",
            if self.answer { "y" } else { "n" }
        ));
        self.interactive && self.answer
    }
}
