//! The deploy engine: the sequencing of `diff`, `deploy`, `destroy`,
//! `status`, `watch` and `drift`, as plain code over the
//! [`CloudFormation`] port.
//!
//! A deployment of one stack goes: status gate → template, parameters and
//! diff → drift detection → declared moves (stack refactor) → forecast →
//! change set → plan and data-loss guard → stack policy relaxed (production)
//! → execute → follow the events (Ctrl-C stops following) → stack policy
//! restored (also after a rollback) → termination protection. Every branch
//! is reachable through [`super::fake`]; the CLI only parses arguments and
//! renders what the engine says through a [`Sink`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::changeset::{PlannedChange, ResourceChange, plan};
use super::diff::TemplateDiff;
use super::drift;
use super::events::{Outcome, Tracker, is_terminal, rollback_failed_guidance};
use super::forecast::{self, ForecastFinding};
use super::guard::{GuardOptions, Verdict, evaluate, stack_policy};
use super::moves;
use super::params::{self, Resolution, Resolved};
use super::port::{
    ChangeSetRequest, CloudFormation, Connector, DeployError, ParamValue, StackInfo, TemplateSource,
};
use super::render;

mod accounts;
mod admin;
mod drifting;
pub mod exports;
mod moving;
mod parallel;
mod publishing;

pub use parallel::DEFAULT_CONCURRENCY;

use moving::diff_all;

/// CloudFormation's limit for a template passed inline (`TemplateBody`).
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;

/// Where the engine's output goes: the CLI's terminal, or a transcript in
/// tests.
pub trait Sink {
    /// One line of output.
    fn line(&mut self, s: &str);
    /// One error line (`error: …` on stderr in the CLI).
    fn error(&mut self, s: &str);
    /// Whether a person can answer questions.
    fn interactive(&self) -> bool;
    /// Asks a yes/no question; `false` when not interactive.
    fn confirm(&mut self, question: &str) -> bool;
    /// A deployment is being followed: `total` resources.
    fn progress_start(&mut self, total: u64) {
        let _ = total;
    }
    /// `done` resources finished; the stack is `status`.
    fn progress(&mut self, done: u64, status: &str) {
        let _ = (done, status);
    }
    /// Following ended.
    fn progress_end(&mut self) {}
}

/// A Ctrl-C: set by the CLI's signal handler (or a test), checked by the
/// engine wherever it waits.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Cancels.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// An AWS call failed.
    Deploy(DeployError),
    /// Another error, in one sentence.
    Message(String),
    /// Refused by the guard, the forecast, drift or for want of `--approve`.
    Refused(String),
    /// Stopped with Ctrl-C.
    Interrupted(String),
    /// Already reported (a failed deployment).
    Reported,
    /// `drift` found drifted resources (already listed).
    Drifted,
}

impl From<DeployError> for Failure {
    fn from(e: DeployError) -> Self {
        Failure::Deploy(e)
    }
}

/// A command's result.
pub type Res<T = ()> = Result<T, Failure>;

/// A stack of the app as the engine sees it: a name, a region and a
/// template (no construct).
#[derive(Debug, Clone, PartialEq)]
pub struct StackSpec {
    /// The stack name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// The template.
    pub template: Value,
    /// The template as sent (compact JSON).
    pub body: String,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Whether it is a production stack (termination protection on).
    pub termination_protection: bool,
    /// The stacks of the app deployed before this one (a parallel
    /// deployment starts it once they are all deployed).
    pub depends_on: Vec<String>,
    /// The account it deploys to (credentials are chosen by account).
    ///
    /// Default: - the account of the default credentials.
    pub account: Option<String>,
}

impl StackSpec {
    /// A stack with this template (compact body from it).
    pub fn new(name: &str, region: &str, template: Value) -> Self {
        StackSpec {
            name: name.to_string(),
            region: region.to_string(),
            body: template.to_string(),
            template,
            tags: BTreeMap::new(),
            termination_protection: false,
            depends_on: Vec::new(),
            account: None,
        }
    }

    fn resource_count(&self) -> usize {
        self.template
            .get("Resources")
            .and_then(Value::as_object)
            .map(|r| r.len())
            .unwrap_or(0)
    }
}

/// Parameter values from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamInput {
    /// Values by key (file, then `--parameter` flags).
    pub given: BTreeMap<String, String>,
    /// The keys given with `--parameter` (a note names those a stack does
    /// not declare).
    pub flagged: Vec<String>,
}

/// Whether and how drift detection runs before a diff or a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriftMode {
    /// Detect and show drift (skipped with a note where unsupported).
    #[default]
    Show,
    /// Detect drift and refuse the deployment when there is any.
    Refuse,
    /// Do not detect drift.
    Skip,
}

/// The options of `diff`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Also create (and delete) a change set.
    pub changeset: bool,
    /// Upload templates over the inline limit here.
    pub template_bucket: Option<String>,
    /// Drift detection.
    pub drift: DriftMode,
}

/// The options of `deploy`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// Create, show and check the change set, then delete it.
    pub dry_run: bool,
    /// Logical ids allowed to be replaced or deleted.
    pub allow_replace: BTreeSet<String>,
    /// Security-broadening changes approved.
    pub approve: bool,
    /// Upload templates over the inline limit here.
    pub template_bucket: Option<String>,
    /// Drift detection.
    pub drift: DriftMode,
    /// Skip the forecast (pre-flight checks).
    pub skip_forecast: bool,
    /// How many stacks may deploy at the same time (those whose
    /// dependencies are all deployed); 0 or 1 deploys one after another.
    ///
    /// Default: `0` (one after another; the CLI passes
    /// [`DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
}

/// Everything known about one stack before a change set.
#[derive(Debug, Clone)]
struct Prepared {
    spec: StackSpec,
    deployed: Option<StackInfo>,
    old: Option<Value>,
    params: Resolved,
    diff: TemplateDiff,
    /// Declared moves between this stack and another that still apply.
    cross: Vec<PendingCross>,
}

/// A cross-stack move that still applies, with both deployed templates.
#[derive(Debug, Clone)]
struct PendingCross {
    m: moves::CrossMove,
    from: Value,
    to: Option<Value>,
}

/// The engine over a connector.
#[derive(Debug)]
pub struct Engine<K: Connector> {
    stacks: Vec<StackSpec>,
    connector: K,
    /// Time between two polls of a running operation.
    pub poll: Duration,
    /// How long to wait for a change set, a drift detection or a refactor.
    pub wait_limit: Duration,
    cancel: Cancel,
    /// Where the asset manifests are (see [`Engine::with_asset_dir`]).
    asset_dir: Option<std::path::PathBuf>,
}

impl<K: Connector> Engine<K> {
    /// An engine for the app's stacks (in dependency order).
    pub fn new(stacks: Vec<StackSpec>, connector: K, cancel: Cancel) -> Self {
        Engine {
            stacks,
            connector,
            poll: Duration::from_secs(3),
            wait_limit: Duration::from_secs(600),
            cancel,
            asset_dir: None,
        }
    }

    fn spec(&self, name: &str) -> Res<StackSpec> {
        self.stacks
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.stacks.iter().map(|a| a.name.as_str()).collect();
                Failure::Message(format!(
                    "no stack named {name:?} in the app; its stacks are: {}",
                    names.join(", ")
                ))
            })
    }

    async fn client(&mut self, region: &str) -> Res<K::Client> {
        Ok(self.connector.connect(region).await?)
    }

    /// A client in `region` with the credentials of `account` (`None`:
    /// the default credentials).
    async fn client_in(&mut self, account: Option<&str>, region: &str) -> Res<K::Client> {
        Ok(self.connector.connect_in(account, region).await?)
    }

    /// Waits one poll interval; `true` when Ctrl-C was pressed.
    async fn pause(&self) -> bool {
        let slice = Duration::from_millis(50);
        let start = Instant::now();
        loop {
            if self.cancel.is_cancelled() {
                return true;
            }
            let left = self.poll.saturating_sub(start.elapsed());
            if left.is_zero() {
                return self.cancel.is_cancelled();
            }
            tokio::time::sleep(left.min(slice)).await;
        }
    }

    /// Fills the parameters a template takes from other stacks' outputs
    /// (template metadata [`params::PARAMETER_SOURCES_KEY`]). A value given
    /// on the command line wins.
    async fn fill_from_other_stacks(
        &mut self,
        ui: &mut dyn Sink,
        spec: &StackSpec,
        given: &mut BTreeMap<String, String>,
        need_values: bool,
    ) -> Res {
        let name = &spec.name;
        for (param, src) in params::parameter_sources(&spec.template) {
            if given.contains_key(&param) {
                continue;
            }
            let account = self.account_of(&src.stack);
            let client = self.client_in(account.as_deref(), &src.region).await?;
            let value = client
                .describe_stack(&src.stack)
                .await?
                .and_then(|d| d.outputs.get(&src.output).cloned());
            match value {
                Some(v) => {
                    ui.line(&format!(
                        "{name}: parameter {param} = output {} of {} ({})",
                        src.output, src.stack, src.region
                    ));
                    given.insert(param, v);
                }
                None if need_values => {
                    return Err(Failure::Message(format!(
                        "{name}: parameter {param} comes from output {} of stack {} ({}), which is not deployed or has no such output; deploy {} first (`deploy` with no stack names deploys every stack in dependency order) or pass --parameter {param}=VALUE",
                        src.output, src.stack, src.region, src.stack
                    )));
                }
                None => {}
            }
        }
        Ok(())
    }

    async fn prepare(
        &mut self,
        ui: &mut dyn Sink,
        name: &str,
        input: &ParamInput,
        need_values: bool,
    ) -> Res<(K::Client, Prepared)> {
        let spec = self.spec(name)?;
        let client = self.client_of(&spec).await?;
        let deployed = client.describe_stack(name).await?;
        if let Some(d) = &deployed {
            if d.in_progress() {
                return Err(Failure::Message(format!(
                    "{name} is busy ({}); follow it with `watch {name}` and try again when it ends",
                    d.status
                )));
            }
        }
        let live = deployed
            .as_ref()
            .filter(|d| d.status != "REVIEW_IN_PROGRESS");
        let old = match live {
            Some(_) => Some(client.get_template(name).await?),
            None => None,
        };
        let mut given = input.given.clone();
        self.fill_from_other_stacks(ui, &spec, &mut given, need_values)
            .await?;
        let declared = spec.template.get("Parameters").and_then(Value::as_object);
        for k in &input.flagged {
            if !declared.is_some_and(|d| d.contains_key(k)) {
                ui.line(&format!(
                    "note: {name} declares no parameter {k}; --parameter {k} is ignored for it"
                ));
            }
        }
        let resolved = if need_values {
            params::resolve(name, &spec.template, &given, live.map(|d| &d.parameters))
                .map_err(Failure::Message)?
        } else {
            let r = params::resolve_partial(&spec.template, &given, live.map(|d| &d.parameters));
            if !r.missing.is_empty() {
                ui.line(&format!(
                    "note: {name}: no value for parameter(s) {} (not needed for an offline diff)",
                    r.missing.join(", ")
                ));
            }
            r
        };
        let cross = self.pending_cross(&spec, old.as_ref()).await?;
        let diff = diff_all(old.as_ref(), &spec, &resolved, &cross);
        Ok((
            client,
            Prepared {
                spec,
                deployed,
                old,
                params: resolved,
                diff,
                cross,
            },
        ))
    }

    /// `diff STACK`.
    pub async fn diff(
        &mut self,
        ui: &mut dyn Sink,
        name: &str,
        input: &ParamInput,
        opts: &DiffOptions,
    ) -> Res {
        let (client, p) = self.prepare(ui, name, input, opts.changeset).await?;
        let header = match &p.old {
            None => format!("Stack {name} ({}): not deployed yet", client.region()),
            Some(_) => format!("Stack {name} ({})", client.region()),
        };
        ui.line(&header);
        let drift = self.drift_before(ui, &client, &p, opts.drift).await?;
        render::diff(ui, &p.diff);
        self.note_code_changes(ui, &p)?;
        self.diff_kept_exports(ui, &p.spec).await?;
        if let Some(report) = &drift {
            drift::against_diff(ui, report, &p.diff);
        }
        let findings = self.forecast(&client, &p).await?;
        render::forecast(ui, name, &findings);
        if !opts.changeset {
            if !p.diff.is_empty() {
                let planned = plan(None, &p.diff);
                let verdict = self.verdict(&p, &planned, &BTreeSet::new(), true);
                render::guard_preview(ui, name, &verdict);
            }
            return Ok(());
        }
        let cs = self
            .create_change_set(ui, &client, &p, opts.template_bucket.as_deref())
            .await?;
        match cs {
            None => {
                ui.line("Change set: no changes.");
                Ok(())
            }
            Some((id, rows)) => {
                let planned = plan(Some(&rows), &p.diff);
                render::plan(ui, name, &planned);
                let verdict = self.verdict(&p, &planned, &BTreeSet::new(), true);
                render::guard_preview(ui, name, &verdict);
                self.discard(&client, &p, &id).await
            }
        }
    }

    fn verdict(
        &self,
        p: &Prepared,
        planned: &[PlannedChange],
        allow: &BTreeSet<String>,
        approved: bool,
    ) -> Verdict {
        evaluate(
            planned,
            &p.diff,
            p.old.as_ref(),
            &p.spec.template,
            &GuardOptions {
                allow_replace: allow.clone(),
                production: p.spec.termination_protection,
                approved,
            },
        )
    }

    /// Creates a change set and waits for it; `None` when it changes nothing
    /// (the change set is deleted then).
    async fn create_change_set(
        &mut self,
        ui: &mut dyn Sink,
        client: &K::Client,
        p: &Prepared,
        bucket: Option<&str>,
    ) -> Res<Option<(String, Vec<ResourceChange>)>> {
        let name = p.spec.name.clone();
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let cs_name = format!("khs-{stamp}");
        let body = &p.spec.body;
        let template = if body.len() > MAX_TEMPLATE_BODY_BYTES {
            let Some(bucket) = bucket else {
                return Err(DeployError::TemplateTooLarge {
                    stack: name,
                    size: body.len(),
                    max: MAX_TEMPLATE_BODY_BYTES,
                }
                .into());
            };
            let key = format!("cloudformation/{name}/{cs_name}.template.json");
            let url = client.upload_template(&name, bucket, &key, body).await?;
            ui.line(&format!(
                "Template ({} bytes) uploaded to {url}",
                body.len()
            ));
            TemplateSource::Url(url)
        } else {
            TemplateSource::Body(body.clone())
        };
        let parameters = p
            .params
            .values
            .iter()
            .filter_map(|(k, r)| match r {
                Resolution::Value(v) => Some((k.clone(), ParamValue::Value(v.clone()))),
                Resolution::UsePrevious => Some((k.clone(), ParamValue::UsePrevious)),
                Resolution::Default => None,
            })
            .collect();
        let create = p
            .deployed
            .as_ref()
            .is_none_or(|d| d.status == "REVIEW_IN_PROGRESS");
        let req = ChangeSetRequest {
            stack: name.clone(),
            name: cs_name,
            create,
            template,
            parameters,
            tags: p.spec.tags.clone(),
        };
        let id = match client.create_change_set(&req).await {
            Ok(id) => id,
            // Some endpoints refuse an identical update outright instead of
            // failing the change set ("No updates are to be performed.").
            Err(DeployError::Api { message, .. })
                if super::changeset::is_no_change_reason(&message) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let start = Instant::now();
        let mut delay = Duration::from_millis(200).min(self.poll);
        let desc = loop {
            let d = client.describe_change_set(&name, &id).await?;
            let status = d.status.clone().unwrap_or_default();
            if !status.ends_with("_PENDING") && !status.ends_with("_IN_PROGRESS") {
                break d;
            }
            if start.elapsed() > self.wait_limit {
                let _ = client.delete_change_set(&name, &id).await;
                return Err(DeployError::Timeout {
                    stack: name,
                    what: "the change set".to_string(),
                    seconds: self.wait_limit.as_secs(),
                }
                .into());
            }
            if self.cancel.is_cancelled() {
                let _ = self.discard(client, p, &id).await;
                return Err(Failure::Interrupted(format!(
                    "Stopped: {name}: the change set was deleted; nothing was executed."
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        };
        if desc.is_no_change() {
            let _ = client.delete_change_set(&name, &id).await;
            return Ok(None);
        }
        if desc.status.as_deref() != Some("CREATE_COMPLETE") {
            let _ = client.delete_change_set(&name, &id).await;
            return Err(Failure::Message(format!(
                "{name}: the change set failed: {}",
                desc.status_reason
                    .unwrap_or_else(|| desc.status.unwrap_or_default())
            )));
        }
        Ok(Some((id, desc.resource_changes())))
    }

    /// Deletes an unexecuted change set, and the stack when it exists only
    /// because of it (REVIEW_IN_PROGRESS).
    async fn discard(&self, client: &K::Client, p: &Prepared, id: &str) -> Res {
        let name = &p.spec.name;
        client.delete_change_set(name, id).await?;
        if let Some(s) = client.describe_stack(name).await? {
            if s.status == "REVIEW_IN_PROGRESS" {
                client.delete_stack(name, name).await?;
            }
        }
        Ok(())
    }

    /// `deploy [STACK…]`: every stack of the app in dependency order when
    /// none is named.
    pub async fn deploy(
        &mut self,
        ui: &mut dyn Sink,
        names: &[String],
        opts: &DeployOptions,
        input: &ParamInput,
    ) -> Res {
        let selected: Vec<String> = if names.is_empty() {
            self.stacks.iter().map(|a| a.name.clone()).collect()
        } else {
            for n in names {
                self.spec(n)?;
            }
            // Dependency order, whatever the order on the command line.
            self.stacks
                .iter()
                .filter(|a| names.contains(&a.name))
                .map(|a| a.name.clone())
                .collect()
        };
        self.check_accounts(&selected).await?;
        self.check_allowances(&selected, &opts.allow_replace)
            .await?;
        let mut used_allowances = BTreeSet::new();
        // Parallel deploys only when no stack must keep an export that
        // another stack still imports (the two-step removal is sequential).
        let mut embrace = None;
        if opts.concurrency > 1 && selected.len() > 1 {
            for name in &selected {
                let spec = self.spec(name)?;
                if !self.exports_in_use(&spec).await?.is_empty() {
                    embrace = Some(name.clone());
                    break;
                }
            }
            if let Some(name) = &embrace {
                ui.line(&format!(
                    "{name} keeps exports that other stacks still import: deploying one stack at a time"
                ));
            }
        }
        if opts.concurrency > 1 && selected.len() > 1 && embrace.is_none() {
            self.deploy_parallel(ui, &selected, opts, input, &mut used_allowances)
                .await?;
        } else {
            let mut second_step = Vec::new();
            for name in &selected {
                let spec = self.spec(name)?;
                let kept = self.exports_in_use(&spec).await?;
                if kept.is_empty() {
                    self.deploy_one(ui, name, opts, input, &mut used_allowances)
                        .await?;
                    continue;
                }
                let later = kept
                    .iter()
                    .all(|k| k.importers.iter().all(|i| selected.contains(i)));
                let original = self
                    .deploy_keeping_exports(ui, name, &selected, &kept)
                    .await?;
                let result = self
                    .deploy_one(ui, name, opts, input, &mut used_allowances)
                    .await;
                if let Some(o) = original {
                    self.restore(o);
                }
                result?;
                if later && !opts.dry_run {
                    second_step.push((name.clone(), kept));
                }
            }
            for (name, kept) in second_step {
                let names: Vec<&str> = kept.iter().map(|k| k.name.as_str()).collect();
                ui.line(&format!(
                    "{name}: second step: removing export(s) {}, which no stack of the app imports any more",
                    names.join(", ")
                ));
                self.deploy_one(ui, &name, opts, input, &mut used_allowances)
                    .await?;
            }
        }
        let unused: Vec<&str> = opts
            .allow_replace
            .iter()
            .filter(|a| !used_allowances.contains(*a))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            ui.line(&format!(
                "note: --allow-replace {} matched a resource, but this deployment replaces or \
                 deletes no stateful resource of that id",
                unused.join(", ")
            ));
        }
        Ok(())
    }

    /// An `--allow-replace` id must name a resource of a selected stack
    /// (in its local or its deployed template): a typo is an error, before
    /// anything is created.
    async fn check_allowances(&mut self, selected: &[String], allow: &BTreeSet<String>) -> Res {
        let ids_of = |t: &Value| -> BTreeSet<String> {
            t.get("Resources")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut known = BTreeSet::new();
        for s in self.stacks.iter().filter(|s| selected.contains(&s.name)) {
            known.extend(ids_of(&s.template));
        }
        let mut unknown: Vec<&String> = allow.iter().filter(|a| !known.contains(*a)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        // A deletion names a resource only the deployed template has.
        for name in selected {
            let spec = self.spec(name)?;
            let client = self.client_of(&spec).await?;
            if client.describe_stack(name).await?.is_some() {
                if let Ok(t) = client.get_template(name).await {
                    known.extend(ids_of(&t));
                }
            }
        }
        unknown.retain(|a| !known.contains(*a));
        let Some(first) = unknown.first() else {
            return Ok(());
        };
        let closest = known
            .iter()
            .map(|k| (strsim::levenshtein(first, k), k))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, k)| format!("; did you mean {k}?"))
            .unwrap_or_else(|| ".".to_string());
        let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        Err(Failure::Message(format!(
            "--allow-replace {} matches no resource of {} (local or deployed template){closest} \
             Nothing was deployed.",
            list.join(", "),
            selected.join(", ")
        )))
    }

    async fn deploy_one(
        &mut self,
        ui: &mut dyn Sink,
        name: &str,
        opts: &DeployOptions,
        input: &ParamInput,
        used_allowances: &mut BTreeSet<String>,
    ) -> Res {
        let (client, mut p) = self.prepare(ui, name, input, true).await?;
        if let Some(d) = &p.deployed {
            match d.status.as_str() {
                "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => {
                    return Err(Failure::Message(format!(
                        "{name} is {} after a failed creation and cannot be updated; delete it \
                         with `destroy {name}` and deploy again",
                        d.status
                    )));
                }
                "UPDATE_ROLLBACK_FAILED" => {
                    return Err(Failure::Message(rollback_failed_guidance(name)));
                }
                _ => {}
            }
        }
        ui.line(&format!(
            "Stack {name} ({}): {}",
            client.region(),
            if p.old.is_some() { "update" } else { "create" }
        ));
        let drift = self.drift_before(ui, &client, &p, opts.drift).await?;
        if let Some(report) = &drift {
            drift::against_diff(ui, report, &p.diff);
            if opts.drift == DriftMode::Refuse && !report.drifted.is_empty() {
                return Err(Failure::Refused(format!(
                    "{name}: refused by --refuse-drift: {} resource(s) differ from the deployed \
                     template (listed above); bring them back in line (or into the code) and \
                     deploy again, or drop --refuse-drift",
                    report.drifted.len()
                )));
            }
        }
        if let Some(old) = &p.old {
            let declared = moves::declared(old, &p.spec.template);
            if !declared.is_empty() {
                self.refactor(ui, &client, &p, old, &declared).await?;
                // The resources now have their new ids: read the stack again.
                let refreshed = client.get_template(name).await?;
                p.diff =
                    moves::diff_with_moves(Some(&refreshed), &p.spec.template, &p.params.changed);
                p.old = Some(refreshed);
            }
        }
        if !p.cross.is_empty() {
            self.refactor_cross(ui, &client, &p).await?;
            // Read both states again: the stack may even have been created.
            p.deployed = client.describe_stack(name).await?;
            p.old = match &p.deployed {
                Some(d) if d.status != "REVIEW_IN_PROGRESS" => {
                    Some(client.get_template(name).await?)
                }
                _ => None,
            };
            p.cross = Vec::new();
            p.diff = diff_all(p.old.as_ref(), &p.spec, &p.params, &[]);
        }
        if !opts.skip_forecast {
            let findings = self.forecast(&client, &p).await?;
            render::forecast(ui, name, &findings);
            let blocking: Vec<&ForecastFinding> = findings.iter().filter(|f| f.blocking).collect();
            if !blocking.is_empty() {
                return Err(Failure::Refused(format!(
                    "{name}: refused by the forecast: {} check(s) above say the deployment would \
                     fail; fix them, or pass --skip-forecast to try anyway",
                    blocking.len()
                )));
            }
        }
        self.publish_assets(ui, &client, &p, opts.dry_run).await?;
        let Some((id, rows)) = self
            .create_change_set(ui, &client, &p, opts.template_bucket.as_deref())
            .await?
        else {
            ui.line(&format!("{name}: no changes."));
            return Ok(());
        };
        let planned = plan(Some(&rows), &p.diff);
        render::plan(ui, name, &planned);
        let mut verdict = self.verdict(&p, &planned, &opts.allow_replace, opts.approve);
        for f in &verdict.allowed {
            used_allowances.insert(f.logical_id.clone());
            ui.line(&format!("allowed by --allow-replace: {}", f.describe(name)));
        }
        render::security(ui, &verdict);
        for r in &verdict.renames {
            if !verdict.refused.iter().any(|f| f.logical_id == r.old_id) {
                ui.line(&format!("note: {}", r.describe()));
            }
        }
        if verdict.refused.is_empty()
            && verdict.needs_approval
            && ui.confirm(&format!(
                "{name} is a production stack; apply these security changes?"
            ))
        {
            verdict.needs_approval = false;
        }
        if !verdict.may_proceed() {
            let _ = self.discard(&client, &p, &id).await;
            return Err(Failure::Refused(
                verdict.explain(name).trim_end().to_string(),
            ));
        }
        if opts.dry_run {
            self.discard(&client, &p, &id).await?;
            ui.line(&format!(
                "{name}: dry run: the change set was created and checked, not executed (deleted)."
            ));
            return Ok(());
        }
        if self.cancel.is_cancelled() {
            let _ = self.discard(&client, &p, &id).await;
            return Err(Failure::Interrupted(format!(
                "Stopped: {name}: the change set was deleted; nothing was executed."
            )));
        }
        let production = p.spec.termination_protection;
        if production && p.old.is_some() {
            // Let this deployment's allowed replacements through the policy.
            let allowed: BTreeSet<String> = verdict
                .allowed
                .iter()
                .map(|f| f.logical_id.clone())
                .collect();
            let policy = stack_policy(&p.spec.template, &allowed).to_string();
            client.set_stack_policy(name, &policy).await?;
        }
        let before = match &p.deployed {
            Some(_) => client
                .stack_events(name, None)
                .await?
                .into_iter()
                .map(|e| e.id)
                .collect(),
            None => BTreeSet::new(),
        };
        if let Err(e) = client.execute_change_set(name, &id).await {
            let _ = self.discard(&client, &p, &id).await;
            if let (true, Some(old)) = (production, &p.old) {
                let policy = stack_policy(old, &BTreeSet::new()).to_string();
                let _ = client.set_stack_policy(name, &policy).await;
            }
            return Err(e.into());
        }
        let total = planned.len().max(1) as u64;
        let outcome = self.follow(ui, &client, (name, name), before, total).await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                // Interrupted: the deployment goes on with the relaxed
                // policy; say how to protect the stack again.
                if production && !verdict.allowed.is_empty() {
                    ui.line(&format!(
                        "{name}: the stack policy still lets {} be replaced until this \
                         deployment ends; run `deploy {name}` again afterwards to restore it.",
                        verdict
                            .allowed
                            .iter()
                            .map(|f| f.logical_id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                return Err(e);
            }
        };
        if outcome.failed {
            // Rolled back: protect what is deployed again (the relaxed policy
            // must not outlive this deployment).
            if let (true, Some(old)) = (production, &p.old) {
                let policy = stack_policy(old, &BTreeSet::new()).to_string();
                match client.set_stack_policy(name, &policy).await {
                    Ok(()) => ui.line(&format!("{name}: stack policy restored.")),
                    Err(e) => ui.error(&format!(
                        "{e}; the stack policy could not be restored: deploy {name} again once \
                         the stack is stable"
                    )),
                }
            }
            return Err(Failure::Reported);
        }
        if production {
            let policy = stack_policy(&p.spec.template, &BTreeSet::new()).to_string();
            client.set_stack_policy(name, &policy).await?;
            ui.line(&format!(
                "{name}: stack policy denies Update:Replace and Update:Delete on stateful resources."
            ));
        }
        let protected = p
            .deployed
            .as_ref()
            .is_some_and(|d| d.termination_protection);
        if production != protected {
            match client.set_termination_protection(name, production).await {
                Ok(()) => ui.line(&format!(
                    "{name}: termination protection {}.",
                    if production { "on" } else { "off" }
                )),
                Err(e) if e.is_unimplemented() => ui.line(&format!(
                    "warning: {e} (termination protection stays {})",
                    if protected { "on" } else { "off" }
                )),
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(info) = client.describe_stack(name).await? {
            render::outputs(ui, &info);
        }
        Ok(())
    }

    /// The forecast of `p`, reading certificates in their own regions.
    async fn forecast(&mut self, client: &K::Client, p: &Prepared) -> Res<Vec<ForecastFinding>> {
        let mut others = BTreeMap::new();
        for region in forecast::certificate_regions(&p.spec, &p.params) {
            let c = self.client_in(p.spec.account.as_deref(), &region).await?;
            others.insert(region, c);
        }
        Ok(forecast::run(client, &others, &p.spec, p.old.as_ref(), &p.diff, &p.params).await?)
    }

    /// Follows the stack events until the stack reaches a terminal state.
    async fn follow(
        &self,
        ui: &mut dyn Sink,
        client: &K::Client,
        (name, stack_ref): (&str, &str),
        seen: BTreeSet<String>,
        total: u64,
    ) -> Res<Outcome> {
        ui.progress_start(total);
        let mut tracker = Tracker::new(seen);
        let mut stack_id = stack_ref.to_string();
        let mut first = true;
        let mut newest: Option<String> = None;
        loop {
            if !first && self.pause().await {
                ui.progress_end();
                return Err(Failure::Interrupted(format!(
                    "Stopped following {name}; the deployment continues in CloudFormation. \
                     Follow it again with `watch {name}`, or check it with `status`."
                )));
            }
            first = false;
            let info = client.describe_stack(&stack_id).await?;
            if let Some(i) = &info {
                stack_id = i.id.clone();
            }
            let events = client.stack_events(&stack_id, newest.as_deref()).await?;
            if let Some(e) = events.first() {
                newest = Some(e.id.clone());
            }
            for line in tracker.observe(&events) {
                ui.line(&line);
            }
            let status = info
                .as_ref()
                .map(|i| i.status.clone())
                .unwrap_or_else(|| "DELETE_COMPLETE".to_string());
            ui.progress(tracker.done().min(total), &status);
            if !is_terminal(&status) {
                continue;
            }
            ui.progress_end();
            let outcome = tracker.outcome(
                name,
                &status,
                info.as_ref().and_then(|i| i.status_reason.as_deref()),
            );
            if let Some(e) = &outcome.error {
                ui.error(e);
            }
            for l in &outcome.lines {
                ui.line(l);
            }
            return Ok(outcome);
        }
    }
}
