//! The command line: `diff`, `deploy`, `destroy`, `status`, `watch` for the
//! stacks of an [`App`].
//!
//! An app's binary is one call:
//!
//! ```no_run
//! # fn app() -> khs_constructs::Result<khs_constructs::prelude::App> { Ok(Default::default()) }
//! fn main() -> std::process::ExitCode {
//!     match app() {
//!         Ok(app) => khs_constructs::deploy::cli::run(&app, std::env::args_os()),
//!         Err(e) => {
//!             eprintln!("error: {e}");
//!             std::process::ExitCode::FAILURE
//!         }
//!     }
//! }
//! ```
//!
//! Exit codes: 0 success (including "no changes"), 1 an error or a failed
//! deployment, 2 a usage error, 3 refused by the data-loss guard or for want
//! of `--approve`, 130 stopped following with Ctrl-C (the deployment goes on).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::changeset::{PlannedChange, Source, plan};
use super::client::{
    ChangeSetRequest, Client, ConnectOptions, DeployError, MAX_TEMPLATE_BODY_BYTES, ParamValue,
    StackInfo, TemplateSource,
};
use super::diff::{Action, ChangeScope, Replacement, TemplateDiff, diff_templates, short};
use super::events::{Outcome, Tracker, is_terminal, rollback_failed_guidance};
use super::guard::{GuardOptions, Verdict, evaluate, stack_policy};
use super::params::{self, Resolution, Resolved};
use crate::core::app::{App, StackArtifact};

/// Change-set rows of additions listed one by one; more are summarized by type.
const MAX_LISTED_ADDS: usize = 40;

/// Exit code of a deployment refused by the guard or waiting for `--approve`.
pub const EXIT_REFUSED: i32 = 3;
/// Exit code after Ctrl-C stopped following a deployment (which goes on).
pub const EXIT_INTERRUPTED: i32 = 130;

const GUARD_HELP: &str = "\
THE DATA-LOSS GUARD
  Before a change set is executed, every row is checked: a stateful resource
  (database, cache, bucket, secret, key, log group, backup vault, ...) that
  would be replaced (Replacement True or Conditional) or removed makes the
  deployment stop with exit code 3, naming the resource, its construct path and
  the property that causes it. Replacements are predicted offline from the
  create-only properties of the resource schemas (and follow references: a
  replaced subnet group drags its database along), then confirmed by the change
  set where CloudFormation reports them. A construct renamed in code shows up
  as one resource removed and one added; the guard says so and how to keep the
  old logical id (ResourceOptions::logical_id).
  To accept a loss, name the resource: --allow-replace <LogicalId>.
  Security-broadening changes (ingress from 0.0.0.0/0 or ::/0, new IAM or
  resource-policy statements) are listed; on production stacks (termination
  protection on) they need --approve or an interactive yes.

CREDENTIALS
  The AWS SDK's default chain: AWS_PROFILE/--profile (SSO profiles after
  `aws sso login`), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity,
  container and instance roles. Region: each stack's environment, or --region.
  --endpoint-url (or AWS_ENDPOINT_URL) points at another endpoint, e.g. moto.

EXIT CODES
  0 success or no changes, 1 error or failed deployment, 2 usage error,
  3 refused by the guard or waiting for --approve, 130 stopped with Ctrl-C
  (the deployment continues; follow it again with `watch <stack>`).";

/// Deploys the app's stacks with CloudFormation change sets, refusing to
/// lose data.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Diff, deploy and destroy the app's CloudFormation stacks through change sets, without losing data.",
    after_long_help = GUARD_HELP
)]
pub struct Cli {
    /// How to reach AWS.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Send every AWS request to this endpoint (e.g. http://127.0.0.1:5000 for
    /// moto). Default: AWS_ENDPOINT_URL, else the AWS endpoints.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Use this region for every stack. Default: the region of each stack's
    /// environment.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Use this profile of ~/.aws/config (e.g. an SSO profile). Default:
    /// AWS_PROFILE, else the default chain.
    #[arg(long, global = true)]
    pub profile: Option<String>,
}

/// Stack parameters.
#[derive(Debug, Clone, Default, Args)]
pub struct ParamArgs {
    /// A JSON file of parameter values: {"Key": "Value", ...} or the AWS CLI's
    /// [{"ParameterKey": ..., "ParameterValue": ...}]. Keys a stack does not
    /// declare are ignored.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// A parameter value, overriding the file; repeat for several. A declared
    /// parameter without a value keeps its deployed value, else its default.
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameter: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare a stack's local template with the deployed one: resources
    /// added, removed and modified, the property paths that change and
    /// whether each change replaces the resource (predicted from the resource
    /// schemas; confirmed by CloudFormation with --changeset).
    Diff {
        /// The stack name.
        stack: String,
        /// Also create a change set to confirm the prediction (deleted
        /// afterwards; nothing is executed).
        #[arg(long)]
        changeset: bool,
        /// Parameter values.
        #[command(flatten)]
        params: ParamArgs,
        /// With --changeset: upload templates over 51,200 bytes to this S3
        /// bucket.
        #[arg(long, value_name = "BUCKET")]
        template_bucket: Option<String>,
    },
    /// Deploy stacks through change sets: create the change set, show it,
    /// apply the data-loss guard, execute it and follow the stack events to
    /// the end. With no stack named, every stack of the app in dependency
    /// order.
    Deploy {
        /// Stack names (default: all, in dependency order).
        stacks: Vec<String>,
        /// Create and show the change set, apply the guard, then delete it
        /// without executing.
        #[arg(long)]
        dry_run: bool,
        /// Accept the replacement or deletion of this stateful resource
        /// (logical id); repeat for several.
        #[arg(long, value_name = "LOGICAL_ID")]
        allow_replace: Vec<String>,
        /// Approve security-broadening changes on production stacks.
        #[arg(long)]
        approve: bool,
        /// Parameter values.
        #[command(flatten)]
        params: ParamArgs,
        /// Upload templates over 51,200 bytes to this S3 bucket (in the
        /// stack's region) and deploy them from there.
        #[arg(long, value_name = "BUCKET")]
        template_bucket: Option<String>,
    },
    /// Delete a stack. Refused while termination protection is on; resources
    /// with DeletionPolicy Retain are kept and listed.
    Destroy {
        /// The stack name.
        stack: String,
        /// Do not ask for confirmation (required when not on a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Show each stack's state, last update and outputs.
    Status,
    /// Follow a running deployment's events to the end (after Ctrl-C, or
    /// from another terminal).
    Watch {
        /// The stack name.
        stack: String,
    },
}

/// Runs the command line on `app` with process arguments (the first is the
/// program name), printing to stdout/stderr; returns the exit code.
pub fn run<I, T>(app: &App, args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut stdout = std::io::stdout();
    let code = run_with(app, args, &mut stdout, true);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs the command line and returns the exit code with everything printed
/// (output and errors, no progress bar): the same path as [`run`], for tests
/// and for capturing documentation.
pub fn run_captured<I, T>(app: &App, args: I) -> (i32, String)
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut buf: Vec<u8> = Vec::new();
    let code = run_with(app, args, &mut buf, false);
    (code, String::from_utf8_lossy(&buf).into_owned())
}

fn run_with<I, T>(app: &App, args: I, out: &mut dyn Write, terminal: bool) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let text = if terminal && std::io::stdout().is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            if terminal && code != 0 {
                eprint!("{text}");
            } else {
                let _ = write!(out, "{text}");
            }
            return code;
        }
    };
    let mut ui = Ui {
        out,
        terminal,
        interactive: terminal && std::io::stdin().is_terminal(),
        bar: terminal && std::io::stderr().is_terminal(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    let result = runtime.block_on(async {
        let artifacts = app
            .synth()
            .map_err(|e| Failure::Message(format!("synthesis failed: {e}")))?;
        let mut ctx = Ctx {
            artifacts,
            connect: ConnectOptions {
                region: cli.global.region.clone(),
                profile: cli.global.profile.clone(),
                endpoint_url: cli.global.endpoint_url.clone(),
                max_attempts: None,
            },
            clients: BTreeMap::new(),
            poll: poll_interval(),
        };
        match cli.command {
            Command::Diff {
                stack,
                changeset,
                params,
                template_bucket,
            } => {
                ctx.diff(
                    &mut ui,
                    &stack,
                    changeset,
                    &params,
                    template_bucket.as_deref(),
                )
                .await
            }
            Command::Deploy {
                stacks,
                dry_run,
                allow_replace,
                approve,
                params,
                template_bucket,
            } => {
                let opts = DeployOpts {
                    dry_run,
                    allow_replace: allow_replace.into_iter().collect(),
                    approve,
                    template_bucket,
                };
                ctx.deploy(&mut ui, &stacks, &opts, &params).await
            }
            Command::Destroy { stack, yes } => ctx.destroy(&mut ui, &stack, yes).await,
            Command::Status => ctx.status(&mut ui).await,
            Command::Watch { stack } => ctx.watch(&mut ui, &stack).await,
        }
    });
    match result {
        Ok(()) => 0,
        Err(Failure::Refused(msg)) => {
            ui.error(&msg);
            EXIT_REFUSED
        }
        Err(Failure::Interrupted(msg)) => {
            ui.line(&msg);
            EXIT_INTERRUPTED
        }
        Err(Failure::Reported) => 1,
        Err(Failure::Message(msg)) => {
            ui.error(&msg);
            1
        }
        Err(Failure::Deploy(e)) => {
            ui.error(&e.to_string());
            1
        }
    }
}

fn poll_interval() -> Duration {
    std::env::var("KHS_DEPLOY_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(3))
}

enum Failure {
    Deploy(DeployError),
    Message(String),
    Refused(String),
    Interrupted(String),
    /// Already printed (a failed deployment).
    Reported,
}

impl From<DeployError> for Failure {
    fn from(e: DeployError) -> Self {
        Failure::Deploy(e)
    }
}

type Res<T = ()> = Result<T, Failure>;

struct Ui<'a> {
    out: &'a mut dyn Write,
    terminal: bool,
    interactive: bool,
    bar: bool,
}

impl Ui<'_> {
    fn line(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }

    fn error(&mut self, s: &str) {
        if self.terminal {
            let _ = self.out.flush();
            eprintln!("error: {s}");
        } else {
            let _ = writeln!(self.out, "error: {s}");
        }
    }

    fn confirm(&mut self, question: &str) -> bool {
        if !self.interactive {
            return false;
        }
        let _ = write!(self.out, "{question} [y/N] ");
        let _ = self.out.flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES")
    }

    fn progress(&self, total: u64) -> ProgressBar {
        if !self.bar {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} resources  {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

struct DeployOpts {
    dry_run: bool,
    allow_replace: BTreeSet<String>,
    approve: bool,
    template_bucket: Option<String>,
}

struct Ctx {
    artifacts: Vec<StackArtifact>,
    connect: ConnectOptions,
    clients: BTreeMap<String, Client>,
    poll: Duration,
}

/// Everything known about one stack before a change set.
struct Prepared {
    artifact: StackArtifact,
    new: Value,
    deployed: Option<StackInfo>,
    old: Option<Value>,
    params: Resolved,
    diff: TemplateDiff,
}

impl Ctx {
    fn artifact(&self, name: &str) -> Res<StackArtifact> {
        self.artifacts
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.artifacts.iter().map(|a| a.name.as_str()).collect();
                Failure::Message(format!(
                    "no stack named {name:?} in the app; its stacks are: {}",
                    names.join(", ")
                ))
            })
    }

    async fn client(&mut self, region: &str) -> Res<Client> {
        let key = self
            .connect
            .region
            .clone()
            .unwrap_or_else(|| region.to_string());
        if let Some(c) = self.clients.get(&key) {
            return Ok(c.clone());
        }
        let c = Client::connect(&self.connect, region).await?;
        self.clients.insert(key, c.clone());
        Ok(c)
    }

    /// Fills the parameters a template takes from other stacks' outputs
    /// (template metadata `khs:parameter-sources`, written by
    /// [`crate::edge::Edge`] for the us-east-1 certificate and web ACL of a
    /// stage in another region). A value given on the command line wins.
    async fn fill_from_other_stacks(
        &mut self,
        ui: &mut Ui<'_>,
        artifact: &StackArtifact,
        given: &mut BTreeMap<String, String>,
        need_values: bool,
    ) -> Res<()> {
        let name = &artifact.name;
        for (param, src) in crate::edge::parameter_sources(&artifact.template) {
            if given.contains_key(&param) {
                continue;
            }
            let client = self.client(&src.region).await?;
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
        ui: &mut Ui<'_>,
        name: &str,
        params: &ParamArgs,
        need_values: bool,
    ) -> Res<(Client, Prepared)> {
        let artifact = self.artifact(name)?;
        let client = self.client(&artifact.env.region).await?;
        let new: Value = serde_json::from_str(&artifact.json)
            .map_err(|e| Failure::Message(format!("{name}: template is not JSON: {e}")))?;
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
        let mut given = given_params(params)?;
        self.fill_from_other_stacks(ui, &artifact, &mut given, need_values)
            .await?;
        let declared = new.get("Parameters").and_then(Value::as_object);
        for a in &params.parameter {
            if let Ok((k, _)) = params::parse_assignment(a) {
                if !declared.is_some_and(|d| d.contains_key(&k)) {
                    ui.line(&format!(
                        "note: {name} declares no parameter {k}; --parameter {k} is ignored for it"
                    ));
                }
            }
        }
        let resolved = if need_values {
            params::resolve(name, &new, &given, live.map(|d| &d.parameters))
                .map_err(Failure::Message)?
        } else {
            let r = params::resolve_partial(&new, &given, live.map(|d| &d.parameters));
            if !r.missing.is_empty() {
                ui.line(&format!(
                    "note: {name}: no value for parameter(s) {} (not needed for an offline diff)",
                    r.missing.join(", ")
                ));
            }
            r
        };
        let diff = diff_templates(old.as_ref(), &new, &resolved.changed);
        Ok((
            client,
            Prepared {
                artifact,
                new,
                deployed,
                old,
                params: resolved,
                diff,
            },
        ))
    }

    async fn diff(
        &mut self,
        ui: &mut Ui<'_>,
        name: &str,
        changeset: bool,
        params: &ParamArgs,
        bucket: Option<&str>,
    ) -> Res {
        let (client, p) = self.prepare(ui, name, params, changeset).await?;
        let header = match &p.old {
            None => format!("Stack {name} ({}): not deployed yet", client.region()),
            Some(_) => format!("Stack {name} ({})", client.region()),
        };
        ui.line(&header);
        if !changeset {
            print_diff(ui, &p.diff);
            if !p.diff.is_empty() {
                let planned = plan(None, &p.diff);
                let verdict = self.verdict(&p, &planned, &BTreeSet::new(), true);
                print_guard_preview(ui, name, &verdict);
            }
            return Ok(());
        }
        print_diff(ui, &p.diff);
        let cs = self.create_change_set(ui, &client, &p, bucket).await?;
        match cs {
            None => {
                ui.line("Change set: no changes.");
                Ok(())
            }
            Some((id, rows)) => {
                let planned = plan(Some(&rows), &p.diff);
                print_plan(ui, name, &planned);
                let verdict = self.verdict(&p, &planned, &BTreeSet::new(), true);
                print_guard_preview(ui, name, &verdict);
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
            &p.new,
            &GuardOptions {
                allow_replace: allow.clone(),
                production: p.artifact.termination_protection,
                approved,
            },
        )
    }

    /// Creates a change set and waits for it; `None` when it changes nothing
    /// (the change set is deleted then).
    async fn create_change_set(
        &mut self,
        ui: &mut Ui<'_>,
        client: &Client,
        p: &Prepared,
        bucket: Option<&str>,
    ) -> Res<Option<(String, Vec<super::changeset::ResourceChange>)>> {
        let name = p.artifact.name.clone();
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let cs_name = format!("khs-{stamp}");
        // Sent without whitespace: the limits count the bytes sent.
        let body = p
            .artifact
            .compact_json()
            .map_err(|e| Failure::Message(e.to_string()))?;
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
            let url = client.upload_template(&name, bucket, &key, &body).await?;
            ui.line(&format!(
                "Template ({} bytes) uploaded to {url}",
                body.len()
            ));
            TemplateSource::Url(url)
        } else {
            TemplateSource::Body(body)
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
            tags: p.artifact.tags.clone(),
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
        let desc = client
            .wait_change_set(&name, &id, Duration::from_secs(600))
            .await?;
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
    async fn discard(&self, client: &Client, p: &Prepared, id: &str) -> Res {
        let name = &p.artifact.name;
        client.delete_change_set(name, id).await?;
        if let Some(s) = client.describe_stack(name).await? {
            if s.status == "REVIEW_IN_PROGRESS" {
                client.delete_stack(name).await?;
            }
        }
        Ok(())
    }

    async fn deploy(
        &mut self,
        ui: &mut Ui<'_>,
        names: &[String],
        opts: &DeployOpts,
        params: &ParamArgs,
    ) -> Res {
        let selected: Vec<String> = if names.is_empty() {
            self.artifacts.iter().map(|a| a.name.clone()).collect()
        } else {
            for n in names {
                self.artifact(n)?;
            }
            // Dependency order, whatever the order on the command line.
            self.artifacts
                .iter()
                .filter(|a| names.contains(&a.name))
                .map(|a| a.name.clone())
                .collect()
        };
        let mut used_allowances = BTreeSet::new();
        for name in &selected {
            self.deploy_one(ui, name, opts, params, &mut used_allowances)
                .await?;
        }
        let unused: Vec<&String> = opts
            .allow_replace
            .iter()
            .filter(|a| !used_allowances.contains(*a))
            .collect();
        if !unused.is_empty() {
            let list: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            ui.line(&format!(
                "note: --allow-replace {} matched no replaced or deleted stateful resource",
                list.join(", ")
            ));
        }
        Ok(())
    }

    async fn deploy_one(
        &mut self,
        ui: &mut Ui<'_>,
        name: &str,
        opts: &DeployOpts,
        params: &ParamArgs,
        used_allowances: &mut BTreeSet<String>,
    ) -> Res {
        let (client, p) = self.prepare(ui, name, params, true).await?;
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
        let Some((id, rows)) = self
            .create_change_set(ui, &client, &p, opts.template_bucket.as_deref())
            .await?
        else {
            ui.line(&format!("{name}: no changes."));
            return Ok(());
        };
        let planned = plan(Some(&rows), &p.diff);
        print_plan(ui, name, &planned);
        let mut verdict = self.verdict(&p, &planned, &opts.allow_replace, opts.approve);
        for f in &verdict.allowed {
            used_allowances.insert(f.logical_id.clone());
            ui.line(&format!("allowed by --allow-replace: {}", f.describe(name)));
        }
        if !verdict.security.is_empty() {
            ui.line("Security-broadening changes:");
            for s in &verdict.security {
                ui.line(&format!(
                    "  {} ({}): {}",
                    s.logical_id, s.type_name, s.description
                ));
            }
        }
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
        let production = p.artifact.termination_protection;
        if production && p.old.is_some() {
            // Let this deployment's allowed replacements through the policy.
            let allowed: BTreeSet<String> = verdict
                .allowed
                .iter()
                .map(|f| f.logical_id.clone())
                .collect();
            let policy = stack_policy(&p.new, &allowed).to_string();
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
            return Err(e.into());
        }
        let total = planned.len().max(1) as u64;
        let outcome = self
            .follow(ui, &client, (name, name), before, total)
            .await?;
        if outcome.failed {
            // Rolled back: protect what is deployed again (the relaxed policy
            // must not outlive this deployment).
            if let (true, Some(old)) = (production, &p.old) {
                let policy = stack_policy(old, &BTreeSet::new()).to_string();
                if client.set_stack_policy(name, &policy).await.is_ok() {
                    ui.line(&format!("{name}: stack policy restored."));
                }
            }
            return Err(Failure::Reported);
        }
        if production {
            let policy = stack_policy(&p.new, &BTreeSet::new()).to_string();
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
            print_outputs(ui, &info);
        }
        Ok(())
    }

    /// Follows the stack events until the stack reaches a terminal state.
    async fn follow(
        &self,
        ui: &mut Ui<'_>,
        client: &Client,
        (name, stack_ref): (&str, &str),
        seen: BTreeSet<String>,
        total: u64,
    ) -> Res<Outcome> {
        let bar = ui.progress(total);
        let mut tracker = Tracker::new(seen);
        let mut stack_id = stack_ref.to_string();
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        let mut first = true;
        let mut newest: Option<String> = None;
        loop {
            if !first {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = &mut interrupt => {
                        bar.finish_and_clear();
                        return Err(Failure::Interrupted(format!(
                            "Stopped following {name}; the deployment continues in CloudFormation. \
                             Follow it again with `watch {name}`, or check it with `status`."
                        )));
                    }
                }
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
                bar.suspend(|| ui.line(&line));
            }
            bar.set_position(tracker.done().min(total));
            let status = info
                .as_ref()
                .map(|i| i.status.clone())
                .unwrap_or_else(|| "DELETE_COMPLETE".to_string());
            bar.set_message(status.clone());
            if !is_terminal(&status) {
                continue;
            }
            bar.finish_and_clear();
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

    async fn destroy(&mut self, ui: &mut Ui<'_>, name: &str, yes: bool) -> Res {
        let artifact = self.artifact(name)?;
        let client = self.client(&artifact.env.region).await?;
        let Some(info) = client.describe_stack(name).await? else {
            ui.line(&format!("{name}: not deployed; nothing to destroy."));
            return Ok(());
        };
        if artifact.termination_protection {
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
                if !super::diff::is_stateful(ty) {
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
        if !yes && !ui.interactive {
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
        client.delete_stack_id(name, &info.id).await?;
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

    async fn status(&mut self, ui: &mut Ui<'_>) -> Res {
        let artifacts = self.artifacts.clone();
        for a in &artifacts {
            let client = self.client(&a.env.region).await?;
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
                    print_outputs(ui, &info);
                }
            }
        }
        Ok(())
    }

    async fn watch(&mut self, ui: &mut Ui<'_>, name: &str) -> Res {
        let artifact = self.artifact(name)?;
        let client = self.client(&artifact.env.region).await?;
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
                artifact.resource_count() as u64,
            )
            .await?;
        if outcome.failed {
            return Err(Failure::Reported);
        }
        Ok(())
    }
}

fn given_params(args: &ParamArgs) -> Res<BTreeMap<String, String>> {
    let mut given = match &args.parameters {
        Some(path) => params::load_file(path).map_err(Failure::Message)?,
        None => BTreeMap::new(),
    };
    for a in &args.parameter {
        let (k, v) = params::parse_assignment(a).map_err(Failure::Message)?;
        given.insert(k, v);
    }
    Ok(given)
}

fn print_diff(ui: &mut Ui<'_>, diff: &TemplateDiff) {
    if diff.is_empty() {
        ui.line("No differences.");
        return;
    }
    let (a, m, r) = diff.counts();
    ui.line(&format!(
        "Resources: {a} to add, {m} to modify, {r} to remove"
    ));
    for d in &diff.resources {
        let tag = match (d.action, d.replacement) {
            (Action::Modify, Replacement::Yes) => "  [REPLACE]",
            (Action::Modify, Replacement::Conditional) => "  [MAY REPLACE]",
            _ => "",
        };
        let stateful = if d.stateful { "  (stateful)" } else { "" };
        let path = d
            .construct_path
            .as_deref()
            .map(|p| format!("  {p}"))
            .unwrap_or_default();
        ui.line(&format!(
            "{} {:<36} {}{tag}{stateful}{path}",
            d.action.marker(),
            d.logical_id,
            d.type_name
        ));
        for c in &d.changes {
            let label = match c.scope {
                ChangeScope::Properties => c.path.clone(),
                _ => format!("[{}]", c.path),
            };
            let compound = |v: &Option<Value>| {
                v.as_ref()
                    .is_some_and(|v| (v.is_object() || v.is_array()) && v.to_string().len() > 60)
            };
            let multiline = c.before != c.after
                && (compound(&c.before) || compound(&c.after))
                && c.before
                    .as_ref()
                    .is_none_or(|v| v.is_object() || v.is_array())
                && c.after
                    .as_ref()
                    .is_none_or(|v| v.is_object() || v.is_array());
            let mut line = if c.before == c.after {
                format!("    ~ {label}: {}", short(c.after.as_ref()))
            } else if multiline {
                format!("    ~ {label}:")
            } else {
                format!(
                    "    ~ {label}: {} -> {}",
                    short(c.before.as_ref()),
                    short(c.after.as_ref())
                )
            };
            if let Some(b) = &c.because {
                line.push_str(&format!(" (value changes: {b})"));
            }
            match c.replacement {
                Replacement::Yes => line.push_str("  replaces (create-only property)"),
                Replacement::Conditional => line
                    .push_str("  may replace (conditionally create-only; the change set decides)"),
                Replacement::No => {}
            }
            ui.line(&line);
            if multiline {
                let pretty = |v: &Option<Value>| {
                    v.as_ref()
                        .and_then(|v| serde_json::to_string_pretty(v).ok())
                        .map(|s| s + "\n")
                        .unwrap_or_default()
                };
                let (bs, as_) = (pretty(&c.before), pretty(&c.after));
                let td = similar::TextDiff::from_lines(&bs, &as_);
                for change in td.iter_all_changes() {
                    let sign = match change.tag() {
                        similar::ChangeTag::Delete => "-",
                        similar::ChangeTag::Insert => "+",
                        similar::ChangeTag::Equal => " ",
                    };
                    ui.line(&format!("        {sign} {}", change.value().trim_end()));
                }
            }
        }
    }
    for e in &diff.entries {
        let name = if e.name.is_empty() {
            String::new()
        } else {
            format!(" {}", e.name)
        };
        ui.line(&format!("{} {}{name}", e.action.marker(), e.section));
    }
}

fn print_plan(ui: &mut Ui<'_>, name: &str, planned: &[PlannedChange]) {
    ui.line(&format!(
        "Change set for {name}: {} resource change(s)",
        planned.len()
    ));
    ui.line(&format!(
        "  {:<7} {:<36} {:<40} {}",
        "Action", "LogicalId", "Type", "Replacement"
    ));
    // A long list of additions (a new stack) is summarized by type.
    let adds: Vec<&PlannedChange> = planned.iter().filter(|p| p.action == Action::Add).collect();
    let summarize = adds.len() > MAX_LISTED_ADDS;
    if summarize {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &adds {
            *by_type.entry(p.type_name.as_str()).or_default() += 1;
        }
        let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} x{n}")).collect();
        ui.line(&format!(
            "  Add     {} resources: {}",
            adds.len(),
            types.join(", ")
        ));
    }
    for p in planned {
        if summarize && p.action == Action::Add {
            continue;
        }
        let action = match p.action {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
        };
        let repl = match (p.action, p.replacement) {
            (Action::Modify, r) => {
                let word = match r {
                    Replacement::Yes => "True",
                    Replacement::Conditional => "Conditional",
                    Replacement::No => "False",
                };
                if p.replacement_confirmed || r == Replacement::No {
                    word.to_string()
                } else if p.source == Source::Predicted {
                    format!("{word} (predicted; not in the change set)")
                } else {
                    format!("{word} (predicted; the change set does not say)")
                }
            }
            _ => "-".to_string(),
        };
        let stateful = if p.stateful { "  stateful" } else { "" };
        ui.line(&format!(
            "  {action:<7} {:<36} {:<40} {repl}{stateful}",
            p.logical_id, p.type_name
        ));
        let causes = p
            .causes
            .iter()
            .filter(|c| p.replacement.may_replace() && c.replacement.may_replace());
        for c in causes {
            let verb = if c.replacement == Replacement::Yes {
                "replaced"
            } else {
                "may be replaced"
            };
            ui.line(&format!(
                "          {verb} because {} changes{}",
                c.property,
                c.causing_entity
                    .as_deref()
                    .map(|e| format!(" (caused by {e})"))
                    .unwrap_or_default()
            ));
        }
    }
}

fn print_guard_preview(ui: &mut Ui<'_>, name: &str, verdict: &Verdict) {
    if !verdict.refused.is_empty() {
        ui.line("Deploying this would be refused by the data-loss guard:");
        for f in &verdict.refused {
            ui.line(&format!("  {}", f.describe(name)));
        }
        let ids: Vec<&str> = verdict
            .refused
            .iter()
            .map(|f| f.logical_id.as_str())
            .collect();
        ui.line(&format!(
            "  (override: --allow-replace {})",
            ids.join(" --allow-replace ")
        ));
    }
    for r in &verdict.renames {
        ui.line(&format!("note: {}", r.describe()));
    }
    if !verdict.security.is_empty() {
        ui.line("Security-broadening changes:");
        for s in &verdict.security {
            ui.line(&format!(
                "  {} ({}): {}",
                s.logical_id, s.type_name, s.description
            ));
        }
    }
}

fn print_outputs(ui: &mut Ui<'_>, info: &StackInfo) {
    for (k, v) in &info.outputs {
        ui.line(&format!("    {k} = {v}"));
    }
}
