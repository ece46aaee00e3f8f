//! Running a deploy binary of this package against moto, as a user runs an
//! app's binary: arguments plus `--endpoint-url`, offline credentials, extra
//! environment; the combined output printed (shown by `--nocapture` and on
//! failure) and returned with the exit code.

use std::process::Command;
use std::time::Instant;

use crate::moto::MotoServer;
use crate::offline_aws_env;

/// What a run printed and how it ended.
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// stdout followed by stderr.
    pub out: String,
}

/// Runs `exe` with `args` against `moto`, with `env` set.
pub fn run(exe: &str, moto: &MotoServer, env: &[(&str, &str)], args: &[&str]) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.args(args).arg("--endpoint-url").arg(moto.endpoint());
    offline_aws_env(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the deploy binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "$ khs {} ({}; {:.1} s)\n{text}",
        args.join(" "),
        shown.join(" "),
        start.elapsed().as_secs_f64()
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        out: text,
    }
}

/// Asserts that the run's output contains `needle`, showing it if not.
#[track_caller]
pub fn expect_out(r: &Run, needle: &str) {
    assert!(
        r.out.contains(needle),
        "{needle:?} missing from:\n{}",
        r.out
    );
}

/// Asserts the exit code, showing the output if it differs.
#[track_caller]
pub fn expect_code(r: &Run, code: i32) {
    assert_eq!(r.code, code, "exit code of:\n{}", r.out);
}
