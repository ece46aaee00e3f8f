//! What the architecture diagram adds to synthesis: the whole KHS app
//! synthesized alone, then with the diagram derived and written as Mermaid,
//! then with the SVG laid out as well (`cargo bench -p khs-tests --bench diagram`).

use criterion::{Criterion, criterion_main};
use khs_constructs::diagram::{Detail, Diagram};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Synthesis and the diagram step measured alternately, round by round, so
/// that both see the same load on a shared machine; prints the medians and
/// the share the diagram adds.
fn share() {
    let rounds = 200;
    let (mut synth, mut mermaid, mut svg) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t0 = Instant::now();
        let artifacts = khs_app::app()
            .expect("app builds")
            .synth()
            .expect("app synthesizes");
        let t1 = Instant::now();
        let d = Diagram::from_artifacts(&artifacts, Detail::Constructs);
        black_box(d.to_markdown("KHS CRM architecture"));
        let t2 = Instant::now();
        black_box(d.to_svg());
        let t3 = Instant::now();
        synth.push(t1 - t0);
        mermaid.push(t2 - t1);
        svg.push(t3 - t2);
    }
    // The minimum is the least disturbed by other processes; the median is
    // what a run sees on a busy machine.
    for (name, pick) in [("minimum", 0.0), ("median", 0.5)] {
        let at = |v: &mut Vec<Duration>| {
            v.sort();
            v[((v.len() - 1) as f64 * pick) as usize].as_secs_f64() * 1e3
        };
        let (s, m, g) = (at(&mut synth), at(&mut mermaid), at(&mut svg));
        println!(
            "interleaved {name} of {rounds} rounds: synth {s:.2} ms, graph + Mermaid {m:.3} ms \
             ({:.1} % of synth), SVG layout {g:.2} ms ({:.0} % of synth)",
            m / s * 100.0,
            g / s * 100.0
        );
    }
}

fn bench(c: &mut Criterion) {
    share();
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
