//! Declared moves: the stack refactors run before the change set, and the
//! diff with the moves applied.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;

use super::{Engine, Failure, PendingCross, Prepared, Res, Sink, StackSpec};
use crate::deploy::diff::TemplateDiff;
use crate::deploy::moves;
use crate::deploy::params::Resolved;
use crate::deploy::port::{CloudFormation, Connector, DeployError};

impl<K: Connector> Engine<K> {
    /// The cross-stack moves declared in the app's templates that involve
    /// `spec`'s stack and still apply (reads the other stack's template).
    pub(super) async fn pending_cross(
        &mut self,
        spec: &StackSpec,
        old: Option<&Value>,
    ) -> Res<Vec<PendingCross>> {
        let declared =
            moves::declared_cross(self.stacks.iter().map(|s| (s.name.as_str(), &s.template)));
        let mut out = Vec::new();
        for m in declared
            .into_iter()
            .filter(|m| m.from_stack == spec.name || m.to_stack == spec.name)
        {
            let other_name = if m.from_stack == spec.name {
                &m.to_stack
            } else {
                &m.from_stack
            };
            let other = self.spec(other_name).map_err(|_| {
                Failure::Message(format!(
                    "{}: the move of {}/{} to {}/{} names a stack that is not in the app",
                    spec.name, m.from_stack, m.from_id, m.to_stack, m.to_id
                ))
            })?;
            if other.region != spec.region {
                return Err(Failure::Message(format!(
                    "{}: {}/{} cannot move to {}/{}: the stacks are in different regions ({} \
                     and {}); a stack refactor works within one region",
                    spec.name,
                    m.from_stack,
                    m.from_id,
                    m.to_stack,
                    m.to_id,
                    if m.from_stack == spec.name {
                        &spec.region
                    } else {
                        &other.region
                    },
                    if m.from_stack == spec.name {
                        &other.region
                    } else {
                        &spec.region
                    }
                )));
            }
            let client = self.client_of(&other).await?;
            let other_template = match client.describe_stack(other_name).await? {
                Some(d) if d.status != "REVIEW_IN_PROGRESS" => {
                    Some(client.get_template(other_name).await?)
                }
                _ => None,
            };
            let (from, to) = if m.from_stack == spec.name {
                (old.cloned(), other_template)
            } else {
                (other_template, old.cloned())
            };
            if let Some(from) = from {
                if m.pending(Some(&from), to.as_ref()) {
                    out.push(PendingCross { m, from, to });
                }
            }
        }
        Ok(out)
    }

    /// Runs the declared moves of `declared` as one stack refactor and waits
    /// for it to end.
    pub(super) async fn refactor(
        &self,
        ui: &mut dyn Sink,
        client: &K::Client,
        p: &Prepared,
        old: &Value,
        declared: &[moves::Move],
    ) -> Res {
        let name = &p.spec.name;
        let req = moves::request(name, old, declared).map_err(Failure::Message)?;
        for m in declared {
            ui.line(&format!(
                "{name}: moving {} to {} (stack refactor; the resource keeps its physical id)",
                m.from, m.to
            ));
        }
        self.run_refactor(ui, client, name, &req).await
    }

    /// Creates, waits for, executes and waits for a stack refactor.
    pub(super) async fn run_refactor(
        &self,
        ui: &mut dyn Sink,
        client: &K::Client,
        name: &str,
        req: &crate::deploy::port::RefactorRequest,
    ) -> Res {
        let id = client.create_stack_refactor(name, req).await?;
        let state = self
            .wait_refactor(client, name, &id, |s| !s.status.ends_with("_IN_PROGRESS"))
            .await?;
        if state.status != "CREATE_COMPLETE" {
            return Err(Failure::Message(format!(
                "{name}: the stack refactor for the declared moves failed ({}): {}; nothing was \
                 moved",
                state.status,
                state
                    .reason
                    .unwrap_or_else(|| "no reason given".to_string())
            )));
        }
        client.execute_stack_refactor(name, &id).await?;
        let state = self
            .wait_refactor(client, name, &id, |s| {
                !s.execution_status.ends_with("_IN_PROGRESS")
                    && s.execution_status != "AVAILABLE"
                    && s.execution_status != "UNAVAILABLE"
            })
            .await?;
        if state.execution_status != "EXECUTE_COMPLETE" {
            return Err(Failure::Message(format!(
                "{name}: the stack refactor for the declared moves ended {}: {}",
                state.execution_status,
                state
                    .reason
                    .unwrap_or_else(|| "no reason given".to_string())
            )));
        }
        ui.line(&format!("{name}: stack refactor complete."));
        Ok(())
    }

    /// Runs the pending cross-stack moves of `p` as one stack refactor.
    pub(super) async fn refactor_cross(
        &self,
        ui: &mut dyn Sink,
        client: &K::Client,
        p: &Prepared,
    ) -> Res {
        let name = &p.spec.name;
        let mut templates: BTreeMap<String, Option<Value>> = BTreeMap::new();
        for c in &p.cross {
            templates
                .entry(c.m.from_stack.clone())
                .or_insert_with(|| Some(c.from.clone()));
            templates
                .entry(c.m.to_stack.clone())
                .or_insert_with(|| c.to.clone());
        }
        let create_stacks = templates.values().any(Option::is_none);
        let mut req_moves = Vec::new();
        for c in &p.cross {
            let from = templates
                .get(&c.m.from_stack)
                .cloned()
                .flatten()
                .unwrap_or(Value::Null);
            let to = templates.get(&c.m.to_stack).cloned().flatten();
            let (f, t) = moves::apply_cross(&c.m, &from, to.as_ref()).map_err(Failure::Message)?;
            templates.insert(c.m.from_stack.clone(), Some(f));
            templates.insert(c.m.to_stack.clone(), Some(t));
            req_moves.push(crate::deploy::port::ResourceMove {
                from_stack: c.m.from_stack.clone(),
                from_id: c.m.from_id.clone(),
                to_stack: c.m.to_stack.clone(),
                to_id: c.m.to_id.clone(),
            });
            ui.line(&format!(
                "{name}: moving {}/{} to {}/{} (stack refactor; the resource keeps its physical id)",
                c.m.from_stack, c.m.from_id, c.m.to_stack, c.m.to_id
            ));
        }
        let mut bodies = BTreeMap::new();
        for (stack, t) in templates {
            let t = t.unwrap_or(Value::Null);
            let body = serde_json::to_string(&t).map_err(|e| {
                Failure::Message(format!("{stack}: cannot write the refactor template: {e}"))
            })?;
            bodies.insert(stack, body);
        }
        let req = crate::deploy::port::RefactorRequest {
            templates: bodies,
            moves: req_moves,
            create_stacks,
        };
        self.run_refactor(ui, client, name, &req).await
    }

    pub(super) async fn wait_refactor(
        &self,
        client: &K::Client,
        name: &str,
        id: &str,
        done: impl Fn(&crate::deploy::port::RefactorState) -> bool,
    ) -> Res<crate::deploy::port::RefactorState> {
        let start = Instant::now();
        loop {
            let s = client.describe_stack_refactor(name, id).await?;
            if done(&s) {
                return Ok(s);
            }
            if start.elapsed() > self.wait_limit {
                return Err(DeployError::Timeout {
                    stack: name.to_string(),
                    what: "the stack refactor".to_string(),
                    seconds: self.wait_limit.as_secs(),
                }
                .into());
            }
            if self.pause().await {
                return Err(Failure::Interrupted(format!(
                    "Stopped waiting for the stack refactor of {name}; it goes on in \
                     CloudFormation (`aws cloudformation describe-stack-refactor \
                     --stack-refactor-id {id}`)."
                )));
            }
        }
    }
}

/// The diff of `spec` against the deployed `old` with the declared moves
/// applied: same-stack renames (see [`moves::diff_with_moves`]) and
/// cross-stack moves (a resource moving out is not a removal, one moving in
/// not an addition).
pub(super) fn diff_all(
    old: Option<&Value>,
    spec: &StackSpec,
    params: &Resolved,
    cross: &[PendingCross],
) -> TemplateDiff {
    if cross.is_empty() {
        return moves::diff_with_moves(old, &spec.template, &params.changed);
    }
    let mut virtual_old = old
        .cloned()
        .unwrap_or_else(|| serde_json::json!({"Resources": {}}));
    let mut moved = Vec::new();
    for c in cross {
        let Some(res) = virtual_old
            .get_mut("Resources")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if c.m.from_stack == spec.name {
            res.remove(&c.m.from_id);
            moved.push(crate::deploy::diff::Moved {
                from: c.m.from_id.clone(),
                to: format!("{}/{}", c.m.to_stack, c.m.to_id),
            });
        } else if let Some(entry) = c.from.get("Resources").and_then(|r| r.get(&c.m.from_id)) {
            res.insert(c.m.to_id.clone(), entry.clone());
            moved.push(crate::deploy::diff::Moved {
                from: format!("{}/{}", c.m.from_stack, c.m.from_id),
                to: c.m.to_id.clone(),
            });
        }
    }
    let mut d = moves::diff_with_moves(Some(&virtual_old), &spec.template, &params.changed);
    d.moved.extend(moved);
    d
}
