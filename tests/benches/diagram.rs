//! What the architecture diagram adds to synthesis: the whole KHS app
//! synthesized alone, then with the diagram derived and written as Mermaid,
//! then with the SVG laid out as well (`cargo bench -p khs-tests --bench diagram`).

use criterion::{Criterion, criterion_main};
use khs_constructs::diagram::{Detail, Diagram};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Synthesis and the diagram step measured alternately, round by round, so
/// that both see the same load on a shared machine; prints the minimums and
/// medians and the share the diagram adds.
///
/// Synthesis ends by dropping the app: thousands of small blocks go back to
/// the allocator, which merges them only at the next large allocation,
/// whoever makes it (glibc's `malloc_consolidate`). Right after synthesis
/// that is the diagram, but without a diagram it would be the next step of
/// the program (reading and writing the files) or the next synthesis, so
/// that work is synthesis's own. The bench makes that allocation itself
/// ("settle", timed apart) before the diagram, and prints the diagram's
/// share both without it and with it (what the diagram pays when it comes
/// first after synthesis).
fn share() {
    let rounds = 200;
    let (mut synth, mut settle, mut mermaid, mut svg) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t0 = Instant::now();
        let artifacts = khs_app::app()
            .expect("app builds")
            .synth()
            .expect("app synthesizes");
        let t1 = Instant::now();
        black_box(Vec::<u8>::with_capacity(1 << 20));
        let t2 = Instant::now();
        let d = Diagram::from_artifacts(&artifacts, Detail::Constructs);
        black_box(d.to_markdown("KHS CRM architecture"));
        let t3 = Instant::now();
        black_box(d.to_svg());
        let t4 = Instant::now();
        synth.push(t1 - t0);
        settle.push(t2 - t1);
        mermaid.push(t3 - t2);
        svg.push(t4 - t3);
    }
    // The minimum is the least disturbed by other processes; the median is
    // what a run sees on a busy machine.
    for (name, pick) in [("minimum", 0.0), ("median", 0.5)] {
        let at = |v: &mut Vec<Duration>| {
            v.sort();
            v[((v.len() - 1) as f64 * pick) as usize].as_secs_f64() * 1e3
        };
        let (s, z, m, g) = (
            at(&mut synth),
            at(&mut settle),
            at(&mut mermaid),
            at(&mut svg),
        );
        println!(
            "interleaved {name} of {rounds} rounds: synth {s:.2} ms, settle {z:.3} ms, \
             graph + Mermaid {m:.3} ms ({:.1} % of synth + settle; with the settle \
             {:.1} % of synth), SVG layout {g:.2} ms ({:.0} % of synth)",
            m / (s + z) * 100.0,
            (m + z) / s * 100.0,
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
