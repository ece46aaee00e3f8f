//! The schema validator's first use in a process (`cargo bench -p khs-app
//! --bench first_use`): a fresh process per run (this binary runs itself)
//! reads the resources of `synth-out/` and validates every one twice. The
//! first pass decodes the validation data of the types and properties the
//! templates use (`validate_code.bin`, compiled at build time) and compiles
//! their patterns; the second is warm, what `validate every resource of the
//! khs app` in the `synth` bench measures. Prints the minimum and median of
//! both over the runs, and the page faults of the first pass.
//!
//! The resources come from the committed templates, not from building the
//! app: building it validates each resource as it is added, which would
//! compile the data before the measurement.

use std::process::Command;
use std::time::Instant;

use khs_constructs::cfn::validate;
use khs_constructs::core::path::ConstructPath;

/// How many fresh processes are measured.
const RUNS: usize = 40;

/// The minor page faults of this process so far (`/proc/self/stat`, Linux;
/// 0 elsewhere).
fn minor_faults() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The fields after the command name (which is in parentheses).
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.split(' ').nth(7))
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// One run: prints `first_ms warm_ms first_pass_faults resources`.
fn measure() {
    let dir = khs_app::workspace_root().join("synth-out");
    let mut resources = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("synth-out/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("template reads");
        let template: serde_json::Value = serde_json::from_str(&text).expect("template parses");
        let stack = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".template.json"))
            .unwrap_or("stack")
            .to_string();
        for (id, r) in template["Resources"].as_object().into_iter().flatten() {
            let type_name = r["Type"].as_str().unwrap_or_default().to_string();
            let properties = r.get("Properties").cloned().unwrap_or_default();
            let path = ConstructPath::root(&stack)
                .child(id)
                .expect("logical ids are valid");
            resources.push((type_name, properties, path));
        }
    }
    let pass = || {
        let started = Instant::now();
        let failed = resources
            .iter()
            .filter(|(t, p, path)| validate::properties(t, p, path).is_err())
            .count();
        assert_eq!(failed, 0, "the committed templates pass validation");
        started.elapsed().as_secs_f64() * 1e3
    };
    let faults = minor_faults();
    let first = pass();
    let first_faults = minor_faults() - faults;
    let warm = pass();
    println!("{first} {warm} {first_faults} {}", resources.len());
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--measure") {
        measure();
        return;
    }
    let Ok(me) = std::env::current_exe() else {
        eprintln!("cannot find this binary");
        return;
    };
    let (mut first, mut warm, mut faults, mut resources) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..RUNS {
        let Ok(out) = Command::new(&me).arg("--measure").output() else {
            eprintln!("a run failed to start");
            return;
        };
        let line = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<f64> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [f, w, pf, n] = fields[..] else {
            eprintln!("a run failed: {}", String::from_utf8_lossy(&out.stderr));
            return;
        };
        first.push(f);
        warm.push(w);
        faults.push(pf);
        resources = n as usize;
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    let ((f_min, f_med), (w_min, w_med), (pf_min, pf_med)) =
        (stats(&mut first), stats(&mut warm), stats(&mut faults));
    println!(
        "validator, {resources} resources of synth-out/, {RUNS} fresh processes (min / median): \
         first pass {f_min:.3} / {f_med:.3} ms ({pf_min} / {pf_med} page faults), \
         warm pass {w_min:.3} / {w_med:.3} ms"
    );
}
