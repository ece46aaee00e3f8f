//! Synthesis benchmarks (`cargo bench -p khs-app --bench synth`): the whole
//! KHS app, schema validation alone, a 10,000-resource app of repeated KHS
//! stages, one stack at CloudFormation's 500-resource limit, and a series of
//! 1 / 10 / 100 / 1,000 stacks of 10 resources each, whose cost should grow
//! linearly with the number of resources. Each iteration builds the
//! constructs and synthesizes them, as the `synth` binary does: on the
//! available cores, and for the KHS app and the large app also on one
//! thread.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use std::hint::black_box;
use std::time::Duration;

#[allow(dead_code, missing_docs)]
#[path = "support/scale.rs"]
mod scale;

fn khs_app(c: &mut Criterion) {
    // One app of every stack: build, then synthesize consuming it.
    c.bench_function("synth khs app (all stages)", |b| {
        b.iter(|| {
            let app = khs_app::app().expect("app builds");
            black_box(app.into_synth().expect("app synthesizes"))
        })
    });
    let stages = khs_app::stages().expect("stages parse");
    // What `synth` does since the fifth round: each stage an app of its
    // own, its stacks synthesized on the thread that built it.
    c.bench_function("synth khs app (stages as independent apps)", |b| {
        b.iter(|| black_box(khs_app::synth_on_threads(&stages, None).expect("app synthesizes")))
    });
    // One app of every stack on one thread (stages built and stacks
    // synthesized in turn).
    c.bench_function("synth khs app (all stages, one thread)", |b| {
        b.iter(|| {
            let app = khs_app::app_on_threads(&stages, Some(1)).expect("app builds");
            black_box(app.into_synth().expect("app synthesizes"))
        })
    });
    // `App::synth(&self)` copies each template before finishing it.
    c.bench_function("synth khs app (all stages, by reference)", |b| {
        b.iter(|| {
            let app = khs_app::app().expect("app builds");
            black_box(app.synth().expect("app synthesizes"))
        })
    });
    // The same app without rule packs: what the rules cost.
    c.bench_function("synth khs app (all stages, no rules)", |b| {
        b.iter(|| {
            let app = khs_app::app()
                .expect("app builds")
                .with_rule_packs(Vec::new());
            black_box(app.into_synth().expect("app synthesizes"))
        })
    });
    // What schema validation (done by `Scope::add` for every resource) costs
    // on its own: the same checks over every resource of the app's templates.
    let artifacts = khs_app::app()
        .expect("app builds")
        .into_synth()
        .expect("app synthesizes");
    let resources: Vec<(String, String, serde_json::Value)> = artifacts
        .iter()
        .flat_map(|a| {
            a.template.resources.iter().map(|(id, r)| {
                (
                    format!("{}/{id}", a.name),
                    r.type_name.clone(),
                    r.properties.to_value(),
                )
            })
        })
        .collect();
    c.bench_function("validate every resource of the khs app", |b| {
        b.iter(|| {
            for (path, type_name, properties) in &resources {
                let path = khs_constructs::core::path::ConstructPath::root(path);
                khs_constructs::cfn::validate::properties(type_name, black_box(properties), &path)
                    .expect("valid");
            }
        })
    });
}

fn large(c: &mut Criterion) {
    let mut group = c.benchmark_group("large");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    let n = scale::stages_for(10_000).expect("stages");
    let stages = scale::repeated_stages(n).expect("stages");
    let resources: usize = khs_app::app_for(&stages)
        .expect("app builds")
        .stacks()
        .iter()
        .map(|s| s.template().resources.len())
        .sum();
    group.throughput(Throughput::Elements(resources as u64));
    group.bench_function(
        format!("synth {n} khs stages ({resources} resources)"),
        |b| {
            b.iter(|| {
                let app = khs_app::app_for(&stages).expect("app builds");
                black_box(app.into_synth().expect("app synthesizes"))
            })
        },
    );
    group.bench_function(
        format!("synth {n} khs stages ({resources} resources, independent apps)"),
        |b| b.iter(|| black_box(khs_app::synth_on_threads(&stages, None).expect("synthesizes"))),
    );
    group.bench_function(
        format!("synth {n} khs stages ({resources} resources, one thread)"),
        |b| {
            b.iter(|| {
                let app = khs_app::app_on_threads(&stages, Some(1)).expect("app builds");
                black_box(app.into_synth().expect("app synthesizes"))
            })
        },
    );
    group.throughput(Throughput::Elements(500));
    group.bench_function("synth one stack of 500 resources", |b| {
        b.iter(|| {
            let app = scale::synthetic_app(1, 500).expect("app builds");
            black_box(app.into_synth().expect("app synthesizes"))
        })
    });
    group.finish();
}

fn series(c: &mut Criterion) {
    let mut group = c.benchmark_group("stacks of 10 resources");
    group.sample_size(10);
    for stacks in [1usize, 10, 100, 1000] {
        group.throughput(Throughput::Elements((stacks * 10) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(stacks), &stacks, |b, &n| {
            b.iter(|| {
                let app = scale::synthetic_app(n, 10).expect("app builds");
                black_box(app.into_synth().expect("app synthesizes"))
            })
        });
    }
    group.finish();
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::khs_app, super::large, super::series);
}
use group::benches;
criterion_main!(benches);
