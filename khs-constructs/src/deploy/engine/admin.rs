//! `destroy`, `status` and `watch`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Engine, Failure, Res, Sink};
use crate::deploy::port::{CloudFormation, Connector};
use crate::deploy::render;

impl<K: Connector> Engine<K> {
    /// `destroy STACK`.
    pub async fn destroy(&mut self, ui: &mut dyn Sink, name: &str, yes: bool) -> Res {
        let spec = self.spec(name)?;
        let client = self.client_of(&spec).await?;
        let Some(info) = client.describe_stack(name).await? else {
            ui.line(&format!("{name}: not deployed; nothing to destroy."));
            return Ok(());
        };
        if spec.termination_protection {
            return Err(Failure::Refused(format!(
                "{name} is a production stack: the app turns termination protection on for it; \
                 set termination_protection to false in its StackProps and deploy before \
                 destroying it"
            )));
        }
        if info.termination_protection {
            return Err(Failure::Refused(format!(
                "{name} has termination protection on (a production stack); turn it off \
                 deliberately with `aws cloudformation update-termination-protection \
                 --no-enable-termination-protection --stack-name {name}` before destroying it"
            )));
        }
        if info.in_progress() {
            return Err(Failure::Message(format!(
                "{name} is busy ({}); follow it with `watch {name}` first",
                info.status
            )));
        }
        let template = client.get_template(name).await.ok();
        let mut kept = Vec::new();
        let mut lost = Vec::new();
        if let Some(res) = template
            .as_ref()
            .and_then(|t| t.get("Resources"))
            .and_then(Value::as_object)
        {
            for (id, e) in res {
                let ty = e.get("Type").and_then(Value::as_str).unwrap_or_default();
                if !crate::deploy::diff::is_stateful(ty) {
                    continue;
                }
                match e.get("DeletionPolicy").and_then(Value::as_str) {
                    Some("Retain" | "RetainExceptOnCreate") => kept.push(format!("{id} ({ty})")),
                    Some("Snapshot") => lost.push(format!("{id} ({ty}, final snapshot taken)")),
                    _ => lost.push(format!("{id} ({ty})")),
                }
            }
        }
        ui.line(&format!(
            "Destroying {name} ({}, {}).",
            client.region(),
            info.status
        ));
        if !kept.is_empty() {
            ui.line(&format!(
                "Kept (DeletionPolicy Retain; delete them by hand when no longer needed): {}",
                kept.join(", ")
            ));
        }
        if !lost.is_empty() {
            ui.line(&format!("Deleted with their data: {}", lost.join(", ")));
        }
        if !yes && !ui.interactive() {
            return Err(Failure::Refused(format!(
                "{name}: not destroyed: there is no terminal to confirm on; pass --yes"
            )));
        }
        if !yes && !ui.confirm(&format!("Delete stack {name}?")) {
            return Err(Failure::Refused(format!("{name}: not destroyed.")));
        }
        let seen = client
            .stack_events(&info.id, None)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        client.delete_stack(name, &info.id).await?;
        let total = template
            .as_ref()
            .and_then(|t| t.get("Resources"))
            .and_then(Value::as_object)
            .map(|r| r.len() as u64)
            .unwrap_or(1);
        let outcome = self
            .follow(ui, &client, (name, &info.id), seen, total)
            .await?;
        if outcome.failed {
            return Err(Failure::Reported);
        }
        Ok(())
    }

    /// `status`: every stack's state, last update and outputs.
    pub async fn status(&mut self, ui: &mut dyn Sink) -> Res {
        let stacks = self.stacks.clone();
        for a in &stacks {
            let client = self.client_of(a).await?;
            match client.describe_stack(&a.name).await? {
                None => ui.line(&format!(
                    "{:<32} {:<12} not deployed",
                    a.name,
                    client.region()
                )),
                Some(info) => {
                    ui.line(&format!(
                        "{:<32} {:<12} {:<24} {}{}",
                        a.name,
                        client.region(),
                        info.status,
                        info.updated.as_deref().unwrap_or("-"),
                        if info.termination_protection {
                            "  (termination protection)"
                        } else {
                            ""
                        }
                    ));
                    if let Some(r) = &info.status_reason {
                        ui.line(&format!("    reason: {r}"));
                    }
                    render::outputs(ui, &info);
                }
            }
        }
        Ok(())
    }

    /// `watch STACK`: follows a running operation to its end.
    pub async fn watch(&mut self, ui: &mut dyn Sink, name: &str) -> Res {
        let spec = self.spec(name)?;
        let client = self.client_of(&spec).await?;
        let Some(info) = client.describe_stack(name).await? else {
            ui.line(&format!("{name}: not deployed."));
            return Ok(());
        };
        // Show the current operation from its start: skip events older than
        // the last terminal stack event.
        let events = client.stack_events(&info.id, None).await?;
        let mut seen = BTreeSet::new();
        let mut skipping = false;
        for e in &events {
            if e.is_stack() && !e.status.ends_with("_IN_PROGRESS") && info.in_progress() {
                skipping = true;
            }
            if skipping || !info.in_progress() {
                seen.insert(e.id.clone());
            }
        }
        let outcome = self
            .follow(
                ui,
                &client,
                (name, &info.id),
                seen,
                spec.resource_count() as u64,
            )
            .await?;
        if outcome.failed {
            return Err(Failure::Reported);
        }
        Ok(())
    }
}
