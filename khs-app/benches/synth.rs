//! Synthesis benchmarks: the whole KHS app, and scaled variants with many
//! stages, to see how synthesis time grows with size.

use criterion::{Criterion, criterion_main};
use std::hint::black_box;

fn scaled(n: usize) -> Vec<khs_app::settings::StageSettings> {
    let base = khs_app::stages().expect("stage settings parse");
    (0..n)
        .map(|i| {
            let mut s = base[i % base.len()].clone();
            s.stack_name = format!("{}-{i}", s.stack_name);
            s
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    c.bench_function("synth khs app (all stages)", |b| {
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
            black_box(app.synth().expect("app synthesizes"))
        })
    });
    // What schema validation (done by `Scope::add` for every resource) costs
    // on its own: the same checks over every resource of the app's templates.
    let artifacts = khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    let resources: Vec<(String, String, serde_json::Value)> = artifacts
        .iter()
        .flat_map(|a| {
            a.template.resources.iter().map(|(id, r)| {
                (
                    format!("{}/{id}", a.name),
                    r.type_name.clone(),
                    r.properties.clone(),
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
    for n in [10, 50] {
        let stages = scaled(n);
        c.bench_function(&format!("synth {n} stages"), |b| {
            b.iter(|| {
                let app = khs_app::app_for(&stages).expect("app builds");
                black_box(app.synth().expect("app synthesizes"))
            })
        });
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
