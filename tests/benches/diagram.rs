//! What the architecture diagram adds to synthesis: the whole KHS app
//! synthesized alone, then with the diagram derived and written as Mermaid,
//! then with the SVG laid out as well (`cargo bench -p khs-tests --bench diagram`).

use criterion::{Criterion, criterion_main};
use khs_constructs::diagram::{Detail, Diagram};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let synth = || {
        khs_app::app()
            .expect("app builds")
            .synth()
            .expect("app synthesizes")
    };
    c.bench_function("synth khs app", |b| b.iter(|| black_box(synth())));
    c.bench_function("synth khs app + diagram (Mermaid)", |b| {
        b.iter(|| {
            let artifacts = synth();
            let d = Diagram::from_artifacts(&artifacts, Detail::Constructs);
            black_box(d.to_markdown("KHS CRM architecture"))
        })
    });
    c.bench_function("synth khs app + diagram (Mermaid and SVG)", |b| {
        b.iter(|| {
            let artifacts = synth();
            let d = Diagram::from_artifacts(&artifacts, Detail::Constructs);
            black_box((d.to_markdown("KHS CRM architecture"), d.to_svg()))
        })
    });
    let artifacts = synth();
    for detail in [Detail::Constructs, Detail::Resources] {
        c.bench_function(&format!("diagram alone ({detail}): graph"), |b| {
            b.iter(|| black_box(Diagram::from_artifacts(&artifacts, detail)))
        });
        let d = Diagram::from_artifacts(&artifacts, detail);
        c.bench_function(&format!("diagram alone ({detail}): Mermaid"), |b| {
            b.iter(|| black_box(d.to_mermaid()))
        });
        c.bench_function(&format!("diagram alone ({detail}): SVG"), |b| {
            b.iter(|| black_box(d.to_svg()))
        });
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
use group::benches;
criterion_main!(benches);
