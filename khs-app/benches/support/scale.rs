//! Apps of a chosen size, for the synthesis benchmarks and the memory
//! measurement (`cargo bench -p khs-app --bench synth`,
//! `cargo bench -p khs-app --bench memory`); included by both with
//! `#[path]`.
//!
//! Two shapes: the KHS stages repeated under other stack names
//! ([`repeated_stages`], the app as it is, scaled), and stacks of a given
//! number of resources made of the library's queues (a queue, its
//! dead-letter queue and their policies) topped up with topics
//! ([`synthetic_stack`], for exact resource counts up to CloudFormation's
//! 500 per stack).

use khs_constructs::prelude::*;

use khs_app::AppError;
use khs_app::settings::StageSettings;

/// `n` stages: the KHS stages in turn, each under a stack name of its own.
pub fn repeated_stages(n: usize) -> Result<Vec<StageSettings>, AppError> {
    let base = khs_app::stages()?;
    Ok((0..n)
        .map(|i| {
            let mut s = base[i % base.len()].clone();
            s.stack_name = format!("{}-{i}", s.stack_name);
            s
        })
        .collect())
}

/// The smallest number of stages of [`repeated_stages`] whose app has at
/// least `resources` resources.
pub fn stages_for(resources: usize) -> Result<usize, AppError> {
    let per_pair: usize = khs_app::app()?
        .stacks()
        .iter()
        .map(|s| s.template().resources.len())
        .sum();
    // The KHS stages come in pairs (production, staging).
    Ok((resources * 2).div_ceil(per_pair.max(1)))
}

/// A stack named `name` with exactly `resources` resources (at most 500):
/// queues with their dead-letter queues and policies, then topics
/// (encrypted, as the built-in rules require). Stack
/// tags apply to every one, and schema validation runs as for any stack.
pub fn synthetic_stack(name: &str, resources: usize) -> Result<Stack, AppError> {
    let mut props = StackProps::new(Environment::region("us-east-1"));
    props.tags.insert("app".into(), "scale".into());
    props.tags.insert("owner".into(), "benchmarks".into());
    let mut stack = Stack::new(name, props)?;
    let per_queue = queue_resources()?;
    let mut i = 0;
    while stack.template().resources.len() + per_queue <= resources {
        Queue::new(&mut stack, &format!("Queue{i}"), QueueProps::default())?;
        i += 1;
    }
    let mut t = 0;
    while stack.template().resources.len() < resources {
        let topic = cfn::sns::Topic {
            kms_master_key_id: Some("alias/aws/sns".into()),
            ..cfn::sns::Topic::default()
        };
        stack.as_scope().add(&format!("Topic{t}"), topic)?;
        t += 1;
    }
    Ok(stack)
}

/// How many resources one queue with default props adds (computed once).
fn queue_resources() -> Result<usize, AppError> {
    static COUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    if let Some(n) = COUNT.get() {
        return Ok(*n);
    }
    let mut stack = Stack::new("probe", StackProps::new(Environment::region("us-east-1")))?;
    Queue::new(&mut stack, "Queue", QueueProps::default())?;
    let n = stack.template().resources.len().max(1);
    Ok(*COUNT.get_or_init(|| n))
}

/// An app of `stacks` synthetic stacks of `resources` resources each.
pub fn synthetic_app(stacks: usize, resources: usize) -> Result<App, AppError> {
    let mut app = App::new().with_rule_packs(khs_constructs::rules::builtin());
    for i in 0..stacks {
        app.add_stack(synthetic_stack(&format!("scale-{i}"), resources)?)?;
    }
    Ok(app)
}
