//! The KHS CRM infrastructure, written with `khs-constructs`.
//!
//! Each stage (production, staging) is described by a settings file under
//! `stages/` and built by the same code ([`stage::build`]): stages differ by
//! props, not by copy-paste.

pub mod ops;
pub mod settings;
pub mod stage;

use khs_constructs::prelude::*;
use settings::{SettingsError, StageSettings};

/// The settings files compiled into the binaries, as `(file, contents)`.
pub const STAGE_FILES: [(&str, &str); 2] = [
    (
        "khs-app/stages/production.toml",
        include_str!("../stages/production.toml"),
    ),
    (
        "khs-app/stages/staging.toml",
        include_str!("../stages/staging.toml"),
    ),
];

/// An error building the app: bad settings or a construct error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A settings file is wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A construct rejected its props, or synthesis failed.
    #[error(transparent)]
    Construct(#[from] khs_constructs::Error),
}

/// Every stage's settings, parsed from [`STAGE_FILES`].
pub fn stages() -> Result<Vec<StageSettings>, SettingsError> {
    STAGE_FILES
        .iter()
        .map(|(file, text)| StageSettings::parse(file, text))
        .collect()
}

/// The KHS CRM app: every stack of every stage.
pub fn app() -> Result<App, AppError> {
    app_for(&stages()?)
}

/// The app for the given stage settings.
pub fn app_for(stages: &[StageSettings]) -> Result<App, AppError> {
    app_on_threads(stages, None)
}

/// [`app_for`], building the stages and synthesizing the stacks on at most
/// `threads` threads (`None`: the machine's available parallelism; see
/// `App::with_threads`). The templates are the same for every number.
pub fn app_on_threads(stages: &[StageSettings], threads: Option<usize>) -> Result<App, AppError> {
    let mut app = empty_app();
    if let Some(n) = threads {
        app = app.with_threads(n);
    }
    // Stages share nothing, so each is built on its own thread when the
    // machine has more than one; the stacks are added in stage order.
    let built = khs_constructs::core::parallel::map_in_order(
        stages.iter().collect(),
        app.threads(),
        stage::build,
    );
    for stacks in built {
        for stack in stacks? {
            app.add_stack(stack)?;
        }
    }
    Ok(app)
}

/// An app without stacks, with what every KHS app synthesizes with: the
/// library's built-in rule packs (the findings the KHS stacks accept are
/// acknowledged with a reason in `stage::build`).
fn empty_app() -> App {
    App::new().with_rule_packs(khs_constructs::rules::builtin())
}

/// What [`synth_on_threads`] gives: the artifacts of every stack of every
/// stage, how long the synthesis phases took, and how long building the
/// constructs took (both summed over the stages).
pub type Synthesized = (
    Vec<StackArtifact>,
    khs_constructs::core::timings::SynthTimings,
    std::time::Duration,
);

/// Builds and synthesizes every stage on at most `threads` threads (`None`:
/// the machine's available parallelism), what the `synth` binary does. The
/// stages share nothing, so each is an app of its own
/// (`App::synth_independent`): the thread that built a stage synthesizes
/// its stacks at once, while a larger stage is still being built. The
/// templates and their order are those of `app_for(stages)?.into_synth()`.
pub fn synth_on_threads(
    stages: &[StageSettings],
    threads: Option<usize>,
) -> Result<Synthesized, AppError> {
    let threads = threads.unwrap_or_else(|| App::new().threads());
    let building = std::sync::Mutex::new(std::time::Duration::ZERO);
    let (artifacts, timings) = App::synth_independent(stages.iter().collect(), threads, |s| {
        let started = std::time::Instant::now();
        let stacks = stage::build(s)?;
        let mut app = empty_app();
        for stack in stacks {
            app.add_stack(stack)?;
        }
        *building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += started.elapsed();
        Ok(app)
    })?;
    let building = building
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((artifacts, timings, building))
}

/// The workspace root (where `synth-out/` lives), found from this crate's
/// manifest directory at build time.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}
