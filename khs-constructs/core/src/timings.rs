//! Where synthesis spends its time, for `synth --timings` and the benchmarks.
//!
//! Two costs are paid while the constructs are built, resource by resource
//! ([`Scope::add`](super::scope::Scope::add)): serializing the typed
//! properties and checking them against the type's schema. They are summed
//! here, process-wide, so that a caller can tell them apart from the rest of
//! building the constructs; [`App::synth_timed`](super::app::App::synth_timed)
//! times the phases of synthesis itself ([`SynthTimings`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SERIALIZE_NANOS: AtomicU64 = AtomicU64::new(0);
static VALIDATE_NANOS: AtomicU64 = AtomicU64::new(0);

/// Time spent while adding resources, summed over every stack of the
/// process since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddTimings {
    /// Serializing typed properties to JSON values.
    pub serialize: Duration,
    /// Checking properties against the registry schemas.
    pub validate: Duration,
}

impl AddTimings {
    /// The sums so far.
    pub fn now() -> Self {
        AddTimings {
            serialize: Duration::from_nanos(SERIALIZE_NANOS.load(Ordering::Relaxed)),
            validate: Duration::from_nanos(VALIDATE_NANOS.load(Ordering::Relaxed)),
        }
    }
}

/// What one phase of adding resources is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AddPhase {
    Serialize,
    Validate,
}

/// Runs `f`, adding its time to `phase`'s sum.
pub(crate) fn add_time<T>(phase: AddPhase, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let counter = match phase {
        AddPhase::Serialize => &SERIALIZE_NANOS,
        AddPhase::Validate => &VALIDATE_NANOS,
    };
    counter.fetch_add(nanos, Ordering::Relaxed);
    out
}

/// How long the phases of [`App::synth_timed`](super::app::App::synth_timed)
/// took, summed over the app's stacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthTimings {
    /// Finishing each stack's template (stack tags, references, quotas) and
    /// the checks across stacks (unique export names).
    pub stacks: Duration,
    /// Running the rule packs.
    pub rules: Duration,
    /// Writing each template as pretty JSON.
    pub serialize: Duration,
}

/// Adds the phases of another part of the work (another stack, another
/// app) phase by phase.
impl std::ops::AddAssign for SynthTimings {
    fn add_assign(&mut self, other: SynthTimings) {
        self.stacks += other.stacks;
        self.rules += other.rules;
        self.serialize += other.serialize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_time_sums_per_phase_and_returns_the_result() {
        let before = AddTimings::now();
        let out = add_time(AddPhase::Validate, || {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(out, 7);
        let after = AddTimings::now();
        // Other tests may add concurrently: the sum only grows.
        assert!(after.validate >= before.validate + Duration::from_millis(2));
        assert!(after.serialize >= before.serialize);
    }
}
