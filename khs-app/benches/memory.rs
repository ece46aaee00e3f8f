//! Peak memory of synthesis (`cargo bench -p khs-app --bench memory`): one
//! process per measurement (this binary runs itself), so that each peak is
//! its own. Prints the peak resident memory (`VmHWM` of `/proc/self/status`,
//! Linux) above what the process held before building anything, beside the
//! JSON the templates take, for the KHS app and for a 10,000-resource app,
//! each synthesized moving the templates (`App::into_synth`), by reference
//! (`App::synth`, which copies them), and stage by stage as independent
//! apps (`khs_app::synth_on_threads`, what `synth` does).

use std::process::Command;

#[allow(dead_code, missing_docs)]
#[path = "support/scale.rs"]
mod scale;

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Builds and synthesizes one app (in this process), then prints one line.
fn measure(what: &str) {
    // The stage settings of the large app are made before anything is
    // measured (counting stages builds apps).
    let stages = match what {
        "khs" | "khs-by-reference" | "khs-independent" => None,
        _ => {
            let n = scale::stages_for(10_000).expect("stages");
            Some((n, scale::repeated_stages(n).expect("stages")))
        }
    };
    let before = status_kib("VmRSS:").unwrap_or(0);
    let started = std::time::Instant::now();
    if what.ends_with("-independent") {
        let (name, list) = match &stages {
            None => (what.to_string(), khs_app::stages().expect("stages parse")),
            Some((n, stages)) => (format!("{what}: {n} khs stages"), stages.clone()),
        };
        let (artifacts, _, _) = khs_app::synth_on_threads(&list, None).expect("app synthesizes");
        report(&name, &artifacts, before, None, started.elapsed());
        std::mem::forget(artifacts);
        return;
    }
    let (name, app) = match &stages {
        None => (what.to_string(), khs_app::app().expect("app builds")),
        Some((n, stages)) => (
            format!("{what}: {n} khs stages"),
            khs_app::app_for(stages).expect("app builds"),
        ),
    };
    let build_time = started.elapsed();
    let built = status_kib("VmRSS:").unwrap_or(0);
    let synthesizing = std::time::Instant::now();
    let artifacts = if what.ends_with("-by-reference") {
        // `App::synth(&self)`: the templates are copied, the app kept.
        let artifacts = app.synth().expect("app synthesizes");
        std::mem::forget(app);
        artifacts
    } else {
        app.into_synth().expect("app synthesizes")
    };
    let elapsed = build_time + synthesizing.elapsed();
    report(&name, &artifacts, before, Some(built), elapsed);
    std::mem::forget(artifacts);
}

/// Prints one line: the app's size, its peak memory above `before` (KiB),
/// what it held once built (`built`, KiB; unknown when the stages were
/// built and synthesized together), and how long it took.
fn report(
    name: &str,
    artifacts: &[khs_constructs::prelude::StackArtifact],
    before: u64,
    built: Option<u64>,
    elapsed: std::time::Duration,
) {
    let peak = status_kib("VmHWM:").unwrap_or(0);
    let resources: usize = artifacts.iter().map(|a| a.resource_count()).sum();
    let pretty: usize = artifacts.iter().map(|a| a.json.len()).sum();
    let compact: usize = artifacts
        .iter()
        .map(|a| a.compact_json().map_or(0, |j| j.len()))
        .sum();
    let used = peak.saturating_sub(before) * 1024;
    println!(
        "{name}: {} stacks, {resources} resources, {:.1} MB of JSON ({:.1} MB compact); \
         peak memory {:.1} MB above the {:.1} MB at start = {:.1}x the JSON \
         ({}); built and synthesized in {:.1} ms (the first in this process)",
        artifacts.len(),
        pretty as f64 / 1e6,
        compact as f64 / 1e6,
        used as f64 / 1e6,
        before as f64 * 1024.0 / 1e6,
        used as f64 / pretty.max(1) as f64,
        built.map_or_else(
            || "stages built and synthesized together".to_string(),
            |built| format!(
                "{:.1} MB held once the constructs were built",
                built.saturating_sub(before) as f64 * 1024.0 / 1e6
            )
        ),
        elapsed.as_secs_f64() * 1e3
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(what)) = (args.next(), args.next())
        && flag == "--measure"
    {
        measure(&what);
        return;
    }
    // `cargo bench` passes its own flags; measure each app in a child.
    let Ok(me) = std::env::current_exe() else {
        eprintln!("cannot find this binary");
        return;
    };
    for what in [
        "khs",
        "khs-by-reference",
        "khs-independent",
        "10k",
        "10k-by-reference",
        "10k-independent",
    ] {
        match Command::new(&me).args(["--measure", what]).status() {
            Ok(s) if s.success() => {}
            other => eprintln!("measuring {what} failed: {other:?}"),
        }
    }
}
