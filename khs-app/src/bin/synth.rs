//! `synth`: writes the KHS CRM CloudFormation templates to `synth-out/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use khs_constructs::core::app::StackArtifact;
use khs_constructs::core::timings::{AddTimings, SynthTimings};
use khs_constructs::diagram::{self, Detail, Diagram};
use khs_constructs::prelude::App;

/// Synthesize the KHS CRM stacks into CloudFormation templates.
///
/// Builds every stage in khs-app/stages/*.toml with the khs-constructs
/// library and writes one `<stack>.template.json` per stack. The output is
/// deterministic: the same code gives byte-identical files.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// Where to write the templates (relative paths are taken from the
    /// workspace root).
    #[arg(long, default_value = "synth-out")]
    out: PathBuf,
    /// Write nothing; exit 1 when the directory is not what the code
    /// produces (CI runs this so templates cannot fall behind the code), or
    /// when a rule finding is neither fixed nor acknowledged, or an
    /// acknowledgement is stale.
    #[arg(long)]
    check: bool,
    /// Print the JSON Schema of the stage settings files and exit.
    #[arg(long)]
    schema: bool,
    /// How many threads build the stages and synthesize the stacks (each
    /// stage's stacks on the thread that built it, as soon as it is built);
    /// the templates are the same for every number. Default: the available
    /// cores.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// What the architecture diagram (`architecture.md`, `architecture.svg`)
    /// shows: `constructs` (a box per construct) or `resources` (every
    /// resource inside its construct).
    #[arg(long, default_value_t = Detail::Constructs)]
    diagram_detail: Detail,
    /// Print how long each phase took: building and synthesizing the stages,
    /// and within it building the constructs (serializing and
    /// schema-checking each resource's properties), finishing the templates
    /// (stack tags, references, quotas), the rule packs and writing the
    /// JSON; then the diagram, and writing or checking the files. The
    /// stages are built and synthesized on the available cores at once: the
    /// phases are wall clock, the parts within them are summed over
    /// threads.
    #[arg(long)]
    timings: bool,
}

/// The allocator of the `synth` process: synthesis is mostly small
/// allocations (property trees, strings) made once and dropped at exit,
/// where mimalloc spends less time than the system allocator. Without
/// transparent huge pages (`no_thp`): they cut page faults but zero 2 MiB at
/// a time, which raised the peak memory by 12 MB and the median time on a
/// loaded machine (see `docs/performance.md`). Behind the `mimalloc` feature
/// (`cargo run --release --features mimalloc --bin synth`): its C library
/// costs about 3 s of CPU in every clean build, more than it saves a
/// synth-only user.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The title of the diagram page.
const DIAGRAM_TITLE: &str = "KHS CRM architecture";

fn main() -> ExitCode {
    let args = Args::parse();
    if args.schema {
        print!("{}", khs_app::settings::StageSettings::json_schema());
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let stages = match khs_app::stages() {
        Ok(stages) => stages,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (artifacts, synth_timings, build) =
        match khs_app::synth_on_threads(&stages, args.threads.map(usize::from)) {
            Ok(synthesized) => synthesized,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
    let elapsed = started.elapsed();
    let mut timings = Timings {
        stages: elapsed,
        build,
        add: AddTimings::now(),
        synth: synth_timings,
        ..Timings::default()
    };
    let drawing = Instant::now();
    let diagram = Diagram::from_artifacts(&artifacts, args.diagram_detail);
    timings.diagram = drawing.elapsed();
    let code = report(&args, &artifacts, &diagram, elapsed, timings);
    // The process ends here: the operating system takes the memory back at
    // once, so the templates are not freed value by value (a few percent
    // of the run).
    std::mem::forget((artifacts, diagram));
    code
}

/// Checks or writes `synth-out/` and prints what was done.
fn report(
    args: &Args,
    artifacts: &[StackArtifact],
    diagram: &Diagram,
    elapsed: Duration,
    mut timings: Timings,
) -> ExitCode {
    // Error-level findings failed synthesis above; warnings and stale
    // acknowledgements are printed here, and fail `--check`.
    let mut unresolved = 0;
    for a in artifacts {
        for f in &a.rules.findings {
            eprintln!("{f}");
            unresolved += 1;
        }
        for s in &a.rules.stale {
            eprintln!("{s}");
            unresolved += 1;
        }
    }
    let out = if args.out.is_relative() {
        khs_app::workspace_root().join(&args.out)
    } else {
        args.out.clone()
    };
    if args.check {
        let checking = Instant::now();
        let mut problems = App::check(artifacts, &out);
        problems.extend(diagram::check(diagram, DIAGRAM_TITLE, &out));
        timings.files = checking.elapsed();
        if args.timings {
            timings.print("check the files");
        }
        if unresolved > 0 {
            eprintln!(
                "{unresolved} rule finding(s) or stale acknowledgement(s): fix them, or acknowledge a finding with a reason (docs/rules.md)"
            );
            return ExitCode::FAILURE;
        }
        if problems.is_empty() {
            println!(
                "{}: {} templates and the diagram up to date",
                args.out.display(),
                artifacts.len()
            );
            return ExitCode::SUCCESS;
        }
        for p in problems {
            eprintln!("stale: {}/{p}", args.out.display());
        }
        eprintln!(
            "run `cargo run --bin synth` and commit {}",
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    let writing = Instant::now();
    if let Err(e) =
        App::write(artifacts, &out).and_then(|()| diagram::write(diagram, DIAGRAM_TITLE, &out))
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    timings.files = writing.elapsed();
    for a in artifacts {
        println!(
            "{:<24} {:>4} resources {:>8} bytes  {}/{}",
            a.name,
            a.resource_count(),
            a.json.len(),
            args.out.display(),
            a.file_name()
        );
    }
    let acknowledged: usize = artifacts.iter().map(|a| a.rules.acknowledged.len()).sum();
    println!(
        "{}/{} and {}/{} ({} diagram)",
        args.out.display(),
        diagram::MARKDOWN_FILE,
        args.out.display(),
        diagram::SVG_FILE,
        args.diagram_detail
    );
    println!(
        "synthesized {} stacks in {:.1} ms; rules: {unresolved} warning(s) or stale acknowledgement(s), {acknowledged} acknowledged finding(s)",
        artifacts.len(),
        elapsed.as_secs_f64() * 1e3
    );
    if args.timings {
        timings.print("write the files");
    }
    ExitCode::SUCCESS
}

/// The phases of one run, for `--timings`.
#[derive(Debug, Default)]
struct Timings {
    /// Reading the settings, building the stages and synthesizing their
    /// stacks, wall clock.
    stages: Duration,
    /// Within `stages`: building the constructs, `Scope::add` included
    /// (summed over the threads that built stages).
    build: Duration,
    /// Within `build`: serializing and schema-checking properties.
    add: AddTimings,
    /// Within `stages`: the phases of synthesis, summed over the threads
    /// that synthesized stacks.
    synth: SynthTimings,
    /// Deriving the diagram.
    diagram: Duration,
    /// Writing or checking `synth-out/` (the SVG is laid out here when the
    /// diagram changed, or always for `--check`).
    files: Duration,
}

impl Timings {
    fn print(&self, files: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let rows = [
            ("build and synthesize the stages", self.stages, 0),
            ("build the constructs", self.build, 1),
            ("serialize properties", self.add.serialize, 2),
            ("validate (schemas)", self.add.validate, 2),
            ("finish the templates", self.synth.stacks, 1),
            ("rules", self.synth.rules, 1),
            ("serialize the templates", self.synth.serialize, 1),
            ("diagram", self.diagram, 0),
            (files, self.files, 0),
        ];
        let total = self.stages + self.diagram + self.files;
        println!("timings (ms; wall clock, the \"of which\" lines summed over threads):");
        for (name, d, indent) in rows {
            let name = match indent {
                0 => name.to_string(),
                n => format!("{}of which {name}", "  ".repeat(n)),
            };
            println!("  {name:<40} {:>8.3}", ms(d));
        }
        println!("  {:<40} {:>8.3}", "total", ms(total));
    }
}
