//! The command line: `diff`, `deploy`, `drift`, `destroy`, `status`, `watch` and
//! `bootstrap` for the stacks of an [`App`].
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
//! Arguments are parsed here and the output rendered; the sequencing lives
//! in [`super::engine`] over the [`super::port::CloudFormation`] port.
//!
//! Exit codes: 0 success (including "no changes"), 1 an error or a failed
//! deployment, 2 a usage error, 3 refused by the data-loss guard, the
//! forecast, `--refuse-drift` or for want of `--approve`, 4 drift found by
//! `drift`, 130 stopped with Ctrl-C (a running deployment goes on).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::bootstrap::{self, BootstrapEncryption, BootstrapProps};
use super::client::{ConnectOptions, SdkConnector};
use super::engine::{
    Cancel, DEFAULT_CONCURRENCY, DeployOptions, DiffOptions, DriftMode, Engine, Failure,
    ParamInput, Sink, StackSpec,
};
use super::environments::Environments;
use super::params;
use crate::core::app::{App, StackArtifact};
use crate::serverless::asset::write_assets;

/// Exit code of a deployment refused by the guard or waiting for `--approve`.
pub const EXIT_REFUSED: i32 = 3;
/// Exit code after Ctrl-C stopped following a deployment (which goes on).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code of `drift` when resources differ from the template.
pub const EXIT_DRIFTED: i32 = 4;

const GUARD_HELP: &str = "\
THE DATA-LOSS GUARD
  Before a change set is executed, every row is checked: a stateful resource
  (database, cache, bucket, secret, key, log group, backup vault, ...) that
  would be replaced (Replacement True or Conditional) or removed, and a subnet,
  security group or subnet group that one sits in and that would be replaced,
  make the deployment stop with exit code 3, naming the resource, its construct
  path and the property that causes it. Replacements are predicted offline from
  the create-only properties of the resource schemas (and follow references: a
  replaced subnet group drags its database along), then confirmed by the change
  set where CloudFormation reports them.
  To accept a loss, name the resource: --allow-replace <LogicalId> (an id that
  matches no resource is an error).
  Security-broadening changes (ingress from 0.0.0.0/0 or ::/0, new IAM or
  resource-policy statements) are listed; on production stacks (termination
  protection on) they need --approve or an interactive yes.

RENAMES AND MOVES
  A construct renamed in code changes its logical ids: CloudFormation would
  delete the old resource and create a new, empty one. Declare the move after
  creating the construct, `stack.declare_moved(\"NewPath/Resource\",
  \"OldLogicalId\")?`: the deployment first renames the resource with a
  CloudFormation stack refactor (it keeps its physical id and data), then runs
  the change set; `\"other-stack/OldLogicalId\"` moves a resource between two
  stacks of the app. Without a declaration the guard refuses and names the one
  to add.

DRIFT AND FORECAST
  `diff` and `deploy` first run drift detection (skip with --skip-drift) and
  say, per drifted resource, what the deployment would revert; `deploy
  --refuse-drift` stops on any drift; `drift STACK` lists it (exit code 4 when
  there is drift). Before the change set, the forecast makes read-only checks
  for failures knowable up front: a named bucket, log group, repository, secret
  or role that already exists, a non-empty bucket to delete, a stack state that
  cannot be updated, a certificate not yet issued (skip with --skip-forecast).

FILE ASSETS AND BOOTSTRAP
  A function whose code is a local file or directory (Code::asset) needs the
  zip published before its stack deploys. Run `bootstrap` once per account
  and region: it deploys the stack khs-bootstrap with the staging bucket
  khs-assets-<account>-<region>. `deploy` then uploads each asset the stack
  needs under its content hash (<sha256>.zip), skipping those already there,
  before it creates the change set; without the bootstrap stack it stops and
  says to run `bootstrap`. New code changes the function's Code.S3Key, which
  `diff` shows (with a note naming the asset).

CREDENTIALS
  The AWS SDK's default chain: AWS_PROFILE/--profile (SSO profiles after
  `aws sso login`), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity,
  container and instance roles. Region: each stack's environment, or --region.
  --endpoint-url (or AWS_ENDPOINT_URL) points at another endpoint, e.g. moto.

EXIT CODES
  0 success or no changes, 1 error or failed deployment, 2 usage error,
  3 refused by the guard, the forecast or drift, or waiting for --approve,
  4 drift found by `drift`, 130 stopped with Ctrl-C (the deployment
  continues; follow it again with `watch <stack>`).";

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
    /// The credentials of each account: profiles or roles to assume (see
    /// docs/deploy.md, "Several accounts and regions"). Default:
    /// .khs/environments.toml when it exists, else the default credentials
    /// for every account.
    #[arg(long, global = true, value_name = "FILE")]
    pub environments: Option<PathBuf>,
    /// Deploy the stacks of ACCOUNT with this profile (overrides the
    /// environments file); repeat for several accounts.
    #[arg(long, global = true, value_name = "ACCOUNT=PROFILE")]
    pub profile_for: Vec<String>,
    /// Deploy the stacks of ACCOUNT by assuming this role (overrides the
    /// environments file, keeping its external_id); repeat for several
    /// accounts.
    #[arg(long, global = true, value_name = "ACCOUNT=ROLE_ARN")]
    pub role_for: Vec<String>,
}

impl GlobalArgs {
    /// The credentials of each account: the environments file, then the
    /// flags.
    pub fn environments(&self) -> Result<Environments, String> {
        let mut e = Environments::load(self.environments.as_deref())?;
        for a in &self.profile_for {
            e.set_profile(a)?;
        }
        for a in &self.role_for {
            e.set_role(a)?;
        }
        Ok(e)
    }
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
        /// Do not run drift detection first.
        #[arg(long)]
        skip_drift: bool,
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
        /// Do not run drift detection first.
        #[arg(long, conflicts_with = "refuse_drift")]
        skip_drift: bool,
        /// Refuse the deployment when resources drifted from the deployed
        /// template (changed outside CloudFormation).
        #[arg(long)]
        refuse_drift: bool,
        /// Do not run the forecast (read-only pre-flight checks: names
        /// already taken, non-empty buckets to delete, stack state,
        /// certificates pending validation).
        #[arg(long)]
        skip_forecast: bool,
        /// Deploy up to N stacks at the same time: those whose dependencies
        /// are all deployed; each line is prefixed with its stack. 1 deploys
        /// one after another.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u64,
              value_parser = clap::value_parser!(u64).range(1..=32))]
        concurrency: u64,
    },
    /// Run drift detection on a deployed stack and list the resources and
    /// properties changed outside CloudFormation (exit code 4 when any).
    Drift {
        /// The stack name.
        stack: String,
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
    /// Deploy one stack of the app as a CloudFormation StackSet to many
    /// accounts and regions (an organisation's baseline, budget, roles):
    /// create or update the stack set, then create the instances that are
    /// missing, following each operation to its end with one line per
    /// instance. The data-loss guard is applied to the stack set's template
    /// first. Run it with the credentials of the management account or of a
    /// delegated administrator (service-managed), or of the administrator
    /// account (--self-managed); see docs/references.md.
    StackSet(StackSetArgs),
    /// Follow a running deployment's events to the end (after Ctrl-C, or
    /// from another terminal).
    Watch {
        /// The stack name.
        stack: String,
    },
    /// Prepare the account and region(s) of the app's stacks for file
    /// assets: deploy the stack khs-bootstrap with the staging bucket
    /// khs-assets-ACCOUNT-REGION that `deploy` uploads assets to.
    #[command(long_about = BOOTSTRAP_HELP)]
    Bootstrap {
        /// Bootstrap the regions of these stacks (default: of every stack of
        /// the app; --region names one region instead).
        stacks: Vec<String>,
        /// Encrypt with SSE-KMS (the AWS managed key aws/s3, bucket keys on)
        /// instead of SSE-S3.
        #[arg(long)]
        kms: bool,
        /// Days a noncurrent (deleted or overwritten) object version is kept.
        #[arg(long, value_name = "DAYS", default_value_t = BootstrapProps::default().noncurrent_version_days)]
        noncurrent_version_days: u32,
    },
}

/// The flags of `stack-set`.
#[derive(Debug, Clone, Args)]
pub struct StackSetArgs {
    /// The stack of the app whose template the stack set deploys.
    pub stack: String,
    /// The stack set's name. Default: the stack's name.
    #[arg(long)]
    pub name: Option<String>,
    /// An organizational unit (ou-…) or root (r-…) to deploy to; repeat for
    /// several (service-managed permissions).
    #[arg(long = "ou", value_name = "OU_ID")]
    pub organizational_units: Vec<String>,
    /// An account to deploy to; repeat for several (with --self-managed).
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// The regions of every target, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub regions: Vec<String>,
    /// Self-managed permissions: an administration role here and an
    /// execution role in each target account, instead of AWS Organizations.
    #[arg(long)]
    pub self_managed: bool,
    /// With --self-managed: the administration role. Default:
    /// AWSCloudFormationStackSetAdministrationRole of this account.
    #[arg(long, value_name = "ARN", requires = "self_managed")]
    pub administration_role_arn: Option<String>,
    /// With --self-managed: the execution role's name in the targets.
    /// Default: AWSCloudFormationStackSetExecutionRole.
    #[arg(long, value_name = "NAME", requires = "self_managed")]
    pub execution_role_name: Option<String>,
    /// Service-managed: do not deploy to accounts that join the units later.
    #[arg(long, conflicts_with = "self_managed")]
    pub no_auto_deployment: bool,
    /// Accounts deployed at once per region: a count or a percentage (25%).
    #[arg(long, default_value = "1", value_parser = parse_share)]
    pub max_concurrent: super::stack_set::Share,
    /// Failed accounts tolerated per region before the operation stops: a
    /// count or a percentage.
    #[arg(long, default_value = "0", value_parser = parse_share)]
    pub failure_tolerance: super::stack_set::Share,
    /// The order of the regions, comma-separated (the rest follow).
    #[arg(long, value_delimiter = ',')]
    pub region_order: Vec<String>,
    /// Deploy to all regions at once instead of one region after another.
    #[arg(long)]
    pub parallel_regions: bool,
    /// Accept the replacement or deletion of this stateful resource in every
    /// instance (logical id); repeat for several.
    #[arg(long, value_name = "LOGICAL_ID")]
    pub allow_replace: Vec<String>,
    /// Parameter values.
    #[command(flatten)]
    pub params: ParamArgs,
}

fn parse_share(s: &str) -> Result<super::stack_set::Share, String> {
    super::stack_set::Share::parse(s)
        .ok_or_else(|| format!("{s:?} is neither a count (3) nor a percentage (25%)"))
}

/// Runs `stack-set`: the plan from the app's stack and the flags, then the
/// deployment over the SDK in the stack's region (or --region).
async fn stack_set(
    ui: &mut Ui<'_>,
    artifacts: &[StackArtifact],
    args: StackSetArgs,
    connect: &ConnectOptions,
) -> Result<(), Failure> {
    use super::stack_set::{
        Permissions, Preferences, StackSetError, StackSetPlan, Targets, Waiting, deploy_stack_set,
    };
    let Some(artifact) = artifacts.iter().find(|a| a.name == args.stack) else {
        let names: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
        return Err(Failure::Message(format!(
            "no stack {:?} in this app; its stacks are {}",
            args.stack,
            names.join(", ")
        )));
    };
    let spec = spec_of(artifact)?;
    let input = param_input(&args.params)?;
    let declared = spec
        .template
        .get("Parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let plan = StackSetPlan {
        name: args.name.clone().unwrap_or_else(|| spec.name.clone()),
        description: format!("Stack {} of the app, deployed as a stack set", spec.name),
        parameters: input
            .given
            .into_iter()
            .filter(|(k, _)| declared.contains_key(k))
            .collect(),
        template: spec.template,
        permissions: if args.self_managed {
            Permissions::SelfManaged {
                administration_role_arn: args.administration_role_arn,
                execution_role_name: args.execution_role_name,
            }
        } else {
            Permissions::ServiceManaged {
                auto_deployment: !args.no_auto_deployment,
            }
        },
        targets: Targets {
            organizational_units: args.organizational_units,
            accounts: args.accounts,
            regions: args.regions,
        },
        preferences: Preferences {
            max_concurrent: args.max_concurrent,
            failure_tolerance: args.failure_tolerance,
            region_order: args.region_order,
            parallel_regions: args.parallel_regions,
        },
        allow_replace: args.allow_replace.into_iter().collect(),
    };
    plan.validate()
        .map_err(|e| Failure::Message(e.to_string()))?;
    let client = super::client::Client::connect(connect, &spec.region)
        .await
        .map_err(Failure::Deploy)?;
    let waiting = Waiting {
        poll: poll_interval(),
        ..Waiting::default()
    };
    let result = deploy_stack_set(&client, &plan, waiting, &mut |l| ui.line(l)).await;
    match result {
        Ok(report) => {
            ui.line(&format!(
                "{}: {} instance(s), {} added{}",
                plan.name,
                report.instances.len(),
                report.added,
                if report.updated { ", all updated" } else { "" }
            ));
            for i in &report.instances {
                ui.line(&format!(
                    "  {} {}: {}",
                    i.account,
                    i.region,
                    i.detailed_status.as_deref().unwrap_or(&i.status)
                ));
            }
            Ok(())
        }
        Err(e @ StackSetError::Refused { .. }) => Err(Failure::Refused(e.to_string())),
        Err(e) => Err(Failure::Message(e.to_string())),
    }
}

const BOOTSTRAP_HELP: &str = "\
Prepare the account and region(s) of the app's stacks for file assets.

In each region (the regions of the named stacks, of every stack of the app
when none is named, or only --region), deploy the CloudFormation stack
khs-bootstrap through a change set, like any stack. It holds one S3 bucket,
khs-assets-<account>-<region>, the bucket every template with a file asset
names:
  - encrypted at rest: SSE-S3 (AES-256), or SSE-KMS with --kms;
  - versioned; noncurrent versions deleted after --noncurrent-version-days
    (default 30); incomplete multipart uploads aborted after 7 days;
  - every public access block on, ACLs off (bucket owner enforced), and a
    bucket policy that denies any request not made over TLS;
  - retained when the stack is deleted or the bucket replaced.
Its outputs AssetsBucketName and BootstrapVersion are what `deploy` reads
before it uploads. Running it again changes nothing (\"no changes\"); a newer
client updates the stack in place. It prints the change set it executes and,
per region, the bucket assets go to.";

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
    let prompting = Arc::new(AtomicBool::new(false));
    let mut ui = Ui {
        out,
        terminal,
        interactive: terminal && std::io::stdin().is_terminal(),
        bar_allowed: terminal && std::io::stderr().is_terminal(),
        bar: None,
        prompting: prompting.clone(),
    };
    // One worker thread runs the Ctrl-C listener while the command runs
    // (and blocks, at a question) on this thread.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    // The asset manifests and zips of a diff or deployment, written here
    // and removed at the end.
    let mut staging: Option<PathBuf> = None;
    let result = runtime.block_on(async {
        let artifacts = app
            .synth()
            .map_err(|e| Failure::Message(format!("synthesis failed: {e}")))?;
        let stacks = artifacts
            .iter()
            .map(spec_of)
            .collect::<Result<Vec<StackSpec>, Failure>>()?;
        let regions = |names: &[String]| -> Result<Vec<String>, Failure> {
            for n in names {
                if !artifacts.iter().any(|a| a.name == *n) {
                    let all: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
                    return Err(Failure::Message(format!(
                        "no stack named {n:?} in the app; its stacks are: {}",
                        all.join(", ")
                    )));
                }
            }
            Ok(bootstrap::regions(
                artifacts
                    .iter()
                    .filter(|a| names.is_empty() || names.contains(&a.name))
                    .map(|a| a.env.region.as_str()),
                cli.global.region.as_deref(),
            ))
        };
        let publishes = matches!(cli.command, Command::Diff { .. } | Command::Deploy { .. });
        if publishes && artifacts.iter().any(|a| !a.assets.is_empty()) {
            let dir = std::env::temp_dir().join(format!("khs-assets-{}", std::process::id()));
            staging = Some(dir.clone());
            write_assets(&artifacts, &dir)
                .map_err(|e| Failure::Message(format!("packing the file assets failed: {e}")))?;
        }
        let environments = cli.global.environments().map_err(Failure::Message)?;
        let connector = SdkConnector::new(ConnectOptions {
            region: cli.global.region.clone(),
            profile: cli.global.profile.clone(),
            endpoint_url: cli.global.endpoint_url.clone(),
            max_attempts: None,
        })
        .with_environments(environments);
        let cancel = Cancel::new();
        let on_signal = cancel.clone();
        // Ctrl-C only sets the token: the engine decides what stopping
        // means where it is (delete an unexecuted change set, stop
        // following a running deployment).
        // A second Ctrl-C, or one at a question, ends the process at once.
        tokio::spawn(async move {
            let mut pressed = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                pressed += 1;
                if pressed > 1 || prompting.load(Ordering::SeqCst) {
                    eprintln!();
                    std::process::exit(EXIT_INTERRUPTED);
                }
                on_signal.cancel();
            }
        });
        let connect = ConnectOptions {
            region: cli.global.region.clone(),
            profile: cli.global.profile.clone(),
            endpoint_url: cli.global.endpoint_url.clone(),
            max_attempts: None,
        };
        if let Command::StackSet(args) = cli.command {
            return stack_set(&mut ui, &artifacts, args, &connect).await;
        }
        let mut engine = Engine::new(stacks, connector, cancel);
        if let Some(dir) = &staging {
            engine = engine.with_asset_dir(dir);
        }
        engine.poll = poll_interval();
        match cli.command {
            Command::Diff {
                stack,
                changeset,
                params,
                template_bucket,
                skip_drift,
            } => {
                let input = param_input(&params)?;
                let opts = DiffOptions {
                    changeset,
                    template_bucket,
                    drift: if skip_drift {
                        DriftMode::Skip
                    } else {
                        DriftMode::Show
                    },
                };
                engine.diff(&mut ui, &stack, &input, &opts).await
            }
            Command::Deploy {
                stacks,
                dry_run,
                allow_replace,
                approve,
                params,
                template_bucket,
                skip_drift,
                refuse_drift,
                skip_forecast,
                concurrency,
            } => {
                let input = param_input(&params)?;
                let opts = DeployOptions {
                    dry_run,
                    allow_replace: allow_replace.into_iter().collect(),
                    approve,
                    template_bucket,
                    drift: match (skip_drift, refuse_drift) {
                        (_, true) => DriftMode::Refuse,
                        (true, false) => DriftMode::Skip,
                        (false, false) => DriftMode::Show,
                    },
                    skip_forecast,
                    concurrency: usize::try_from(concurrency).unwrap_or(1),
                };
                engine.deploy(&mut ui, &stacks, &opts, &input).await
            }
            Command::Drift { stack } => match engine.drift(&mut ui, &stack).await {
                Ok(true) => Err(Failure::Drifted),
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            },
            Command::Destroy { stack, yes } => engine.destroy(&mut ui, &stack, yes).await,
            Command::Status => engine.status(&mut ui).await,
            Command::Watch { stack } => engine.watch(&mut ui, &stack).await,
            Command::Bootstrap {
                stacks: names,
                kms,
                noncurrent_version_days,
            } => {
                let props = BootstrapProps {
                    encryption: if kms {
                        BootstrapEncryption::Kms
                    } else {
                        BootstrapEncryption::S3Managed
                    },
                    noncurrent_version_days,
                };
                engine.bootstrap(&mut ui, &regions(&names)?, &props).await
            }
            // Run above, without the engine of single stacks.
            Command::StackSet(_) => Ok(()),
        }
    });
    if let Some(dir) = &staging {
        let _ = std::fs::remove_dir_all(dir);
    }
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
        Err(Failure::Drifted) => EXIT_DRIFTED,
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

fn spec_of(a: &StackArtifact) -> Result<StackSpec, Failure> {
    let template: Value = serde_json::from_str(&a.json)
        .map_err(|e| Failure::Message(format!("{}: template is not JSON: {e}", a.name)))?;
    // Sent without whitespace: the limits count the bytes sent.
    let body = a
        .compact_json()
        .map_err(|e| Failure::Message(e.to_string()))?;
    Ok(StackSpec {
        name: a.name.clone(),
        region: a.env.region.clone(),
        template,
        body,
        tags: a.tags.clone(),
        termination_protection: a.termination_protection,
        depends_on: a.depends_on.clone(),
        account: a.env.account.clone(),
    })
}

fn poll_interval() -> Duration {
    std::env::var("KHS_DEPLOY_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(3))
}

fn param_input(args: &ParamArgs) -> Result<ParamInput, Failure> {
    let mut given = match &args.parameters {
        Some(path) => params::load_file(path).map_err(Failure::Message)?,
        None => BTreeMap::new(),
    };
    let mut flagged = Vec::new();
    for a in &args.parameter {
        let (k, v) = params::parse_assignment(a).map_err(Failure::Message)?;
        flagged.push(k.clone());
        given.insert(k, v);
    }
    Ok(ParamInput { given, flagged })
}

/// The terminal: output to a writer, errors to stderr, an optional
/// progress bar while following.
struct Ui<'a> {
    out: &'a mut dyn Write,
    terminal: bool,
    interactive: bool,
    bar_allowed: bool,
    bar: Option<ProgressBar>,
    /// Set while a question waits for an answer (Ctrl-C then exits).
    prompting: Arc<AtomicBool>,
}

impl Sink for Ui<'_> {
    fn line(&mut self, s: &str) {
        match &self.bar {
            Some(bar) => {
                let out = &mut self.out;
                bar.suspend(|| {
                    let _ = writeln!(out, "{s}");
                });
            }
            None => {
                let _ = writeln!(self.out, "{s}");
            }
        }
    }

    fn error(&mut self, s: &str) {
        if self.terminal {
            let _ = self.out.flush();
            eprintln!("error: {s}");
        } else {
            let _ = writeln!(self.out, "error: {s}");
        }
    }

    fn interactive(&self) -> bool {
        self.interactive
    }

    fn confirm(&mut self, question: &str) -> bool {
        if !self.interactive {
            return false;
        }
        let _ = write!(self.out, "{question} [y/N] ");
        let _ = self.out.flush();
        let mut answer = String::new();
        self.prompting.store(true, Ordering::SeqCst);
        let read = std::io::stdin().read_line(&mut answer);
        self.prompting.store(false, Ordering::SeqCst);
        if read.is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES")
    }

    fn progress_start(&mut self, total: u64) {
        if !self.bar_allowed {
            return;
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} resources  {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn progress(&mut self, done: u64, status: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(status.to_string());
        }
    }

    fn progress_end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
