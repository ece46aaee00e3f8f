//! Drift detection: `drift STACK` and the check before a diff or a
//! deployment.

use std::time::Instant;

use super::{DriftMode, Engine, Failure, Prepared, Res, Sink};
use crate::deploy::drift::{self, DriftReport};
use crate::deploy::port::{CloudFormation, Connector, DeployError};

impl<K: Connector> Engine<K> {
    /// Drift detection before a diff or deployment, per `mode`; `None` when
    /// skipped, not deployed or unsupported (said in a note).
    pub(super) async fn drift_before(
        &self,
        ui: &mut dyn Sink,
        client: &K::Client,
        p: &Prepared,
        mode: DriftMode,
    ) -> Res<Option<DriftReport>> {
        if mode == DriftMode::Skip || p.old.is_none() {
            return Ok(None);
        }
        match self.detect_drift(client, &p.spec.name).await {
            Ok(r) => Ok(Some(r)),
            Err(Failure::Deploy(e)) if mode == DriftMode::Show => {
                ui.line(&format!(
                    "note: drift detection skipped: {e} (pass --skip-drift to not try)"
                ));
                Ok(None)
            }
            Err(Failure::Deploy(e)) => Err(Failure::Message(format!(
                "{e}; --refuse-drift needs drift detection"
            ))),
            Err(other) => Err(other),
        }
    }

    pub(super) async fn detect_drift(&self, client: &K::Client, name: &str) -> Res<DriftReport> {
        let id = client.detect_stack_drift(name).await?;
        let start = Instant::now();
        loop {
            match client.drift_detection_status(name, &id).await? {
                crate::deploy::port::DriftDetection::Complete => break,
                crate::deploy::port::DriftDetection::Failed(reason) => {
                    return Err(Failure::Message(format!(
                        "{name}: drift detection failed: {reason}"
                    )));
                }
                crate::deploy::port::DriftDetection::InProgress => {}
            }
            if start.elapsed() > self.wait_limit {
                return Err(DeployError::Timeout {
                    stack: name.to_string(),
                    what: "drift detection".to_string(),
                    seconds: self.wait_limit.as_secs(),
                }
                .into());
            }
            if self.pause().await {
                return Err(Failure::Interrupted(format!(
                    "Stopped waiting for drift detection of {name}; nothing was changed."
                )));
            }
        }
        let drifted = client.resource_drifts(name).await?;
        Ok(DriftReport { drifted })
    }

    /// `drift STACK`: runs drift detection and lists what differs.
    pub async fn drift(&mut self, ui: &mut dyn Sink, name: &str) -> Res<bool> {
        let spec = self.spec(name)?;
        let client = self.client_of(&spec).await?;
        if client.describe_stack(name).await?.is_none() {
            ui.line(&format!("{name}: not deployed; nothing to compare."));
            return Ok(false);
        }
        let old = client.get_template(name).await?;
        let report = self.detect_drift(&client, name).await?;
        drift::render(ui, name, &report, Some(&old));
        Ok(!report.drifted.is_empty())
    }
}
