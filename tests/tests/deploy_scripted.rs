//! Following a deployment against a scripted CloudFormation endpoint
//! (`khs_tests::fake_cfn`) for what moto cannot show: a stack that stays in
//! progress (Ctrl-C), per-resource events printed once each, a failed update
//! whose rollback fails. The built binary is run as a user runs it.
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_scripted`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use khs_tests::deploy_app::STACK;
use khs_tests::fake_cfn::{Event, FakeCfn, Script, Step};
use khs_tests::offline_aws_env;

const SERVICE: &str = "AWS::ECS::Service";
const TASK: &str = "AWS::ECS::TaskDefinition";

fn step(status: &str, events: Vec<Event>) -> Step {
    Step {
        status: status.to_string(),
        events,
    }
}

/// The first step of an update: the stack's `User Initiated` event.
fn update_started() -> Step {
    step(
        "UPDATE_IN_PROGRESS",
        vec![Event::stack(
            STACK,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        )],
    )
}

/// A step in which the ECS service starts updating.
fn service_updating() -> Step {
    step(
        "UPDATE_IN_PROGRESS",
        vec![Event::resource(
            "ApiService",
            SERVICE,
            "UPDATE_IN_PROGRESS",
            None,
        )],
    )
}

/// Runs `watch STACK` with stdout and stderr on one pipe, in the order a
/// terminal shows them.
fn watch(fake: &FakeCfn) -> (i32, String) {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" \"$@\" 2>&1"])
        .arg(env!("CARGO_BIN_EXE_khs-test-deploy"))
        .args(["watch", STACK, "--endpoint-url", &fake.endpoint()]);
    let out = offline_aws_env(&mut cmd)
        .output()
        .expect("run khs-test-deploy");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("$ khs watch {STACK}\n{text}");
    (out.status.code().unwrap_or(-1), text)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn follows_resource_events_once_each_to_completion() {
    let fake = FakeCfn::start(Script {
        stack: STACK.to_string(),
        steps: vec![
            update_started(),
            step(
                "UPDATE_IN_PROGRESS",
                vec![
                    Event::resource("ApiTaskDefinition", TASK, "UPDATE_IN_PROGRESS", None),
                    Event::resource(
                        "ApiTaskDefinition",
                        TASK,
                        "UPDATE_IN_PROGRESS",
                        Some("Requested update requires the creation of a new physical resource; hence creating one."),
                    ),
                ],
            ),
            step("UPDATE_IN_PROGRESS", vec![]),
            step(
                "UPDATE_IN_PROGRESS",
                vec![
                    Event::resource("ApiTaskDefinition", TASK, "UPDATE_COMPLETE", None),
                    Event::resource("ApiService", SERVICE, "UPDATE_IN_PROGRESS", None),
                ],
            ),
            step(
                "UPDATE_COMPLETE",
                vec![
                    Event::resource("ApiService", SERVICE, "UPDATE_COMPLETE", None),
                    Event::stack(STACK, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None),
                    Event::resource("ApiTaskDefinition", TASK, "DELETE_COMPLETE", None),
                    Event::stack(STACK, "UPDATE_COMPLETE", None),
                ],
            ),
        ],
    })
    .expect("start the scripted endpoint");
    let (code, out) = watch(&fake);
    assert_eq!(code, 0, "{out}");
    // Every event once, in the order it happened.
    let order = [
        "ApiTaskDefinition",
        "Requested update requires the creation of a new physical resource",
        "ApiService",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "DELETE_COMPLETE",
    ];
    let mut at = 0;
    for needle in order {
        let found = out[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing or out of order in:\n{out}"));
        at += found;
    }
    assert_eq!(count(&out, "ApiService"), 2, "{out}");
    assert_eq!(
        count(&out, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        1,
        "{out}"
    );
    assert_eq!(count(&out, "User Initiated"), 1, "{out}");
    assert!(
        out.trim_end()
            .ends_with(&format!("{STACK}: UPDATE_COMPLETE")),
        "{out}"
    );
    // It polled through the in-progress steps rather than stopping early.
    assert!(fake.describe_calls() >= 5, "{}", fake.describe_calls());
}

#[test]
fn a_failed_update_whose_rollback_fails_is_reported_with_how_to_continue() {
    let first_reason = "Resource handler returned message: \"Invalid request provided: UpdateService error: the container api does not exist in the task definition\"";
    let fake = FakeCfn::start(Script {
        stack: STACK.to_string(),
        steps: vec![
            update_started(),
            service_updating(),
            step(
                "UPDATE_IN_PROGRESS",
                vec![Event::resource(
                    "ApiService",
                    SERVICE,
                    "UPDATE_FAILED",
                    Some(first_reason),
                )],
            ),
            step(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                vec![Event::stack(
                    STACK,
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    Some("The following resource(s) failed to update: [ApiService]."),
                )],
            ),
            step(
                "UPDATE_ROLLBACK_FAILED",
                vec![
                    Event::resource(
                        "ApiService",
                        SERVICE,
                        "UPDATE_FAILED",
                        Some("Service was deleted outside CloudFormation"),
                    ),
                    Event::stack(
                        STACK,
                        "UPDATE_ROLLBACK_FAILED",
                        Some("The following resource(s) failed to update: [ApiService]."),
                    ),
                ],
            ),
        ],
    })
    .expect("start the scripted endpoint");
    let (code, out) = watch(&fake);
    assert_eq!(code, 1, "{out}");
    // The first failing reason is the error, ahead of the summary lines.
    let error = out
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line in:\n{out}"));
    assert!(
        error.contains("ApiService") && error.contains("the container api does not exist"),
        "{error}"
    );
    assert!(
        !error.contains("Service was deleted outside CloudFormation"),
        "{error}"
    );
    // The error comes after the event stream and before the summary.
    let error_at = out.find("\nerror:").unwrap_or(usize::MAX);
    let summary_at = out.find("final status").unwrap_or(0);
    assert!(error_at < summary_at, "{out}");
    assert!(out[..error_at].contains("UPDATE_ROLLBACK_FAILED"), "{out}");
    assert_eq!(count(&out, "UPDATE_ROLLBACK_IN_PROGRESS"), 1, "{out}");
    assert!(out.contains("UPDATE_ROLLBACK_FAILED"), "{out}");
    assert!(
        out.contains(&format!(
            "aws cloudformation continue-update-rollback --stack-name {STACK}"
        )),
        "{out}"
    );
}

#[test]
fn ctrl_c_stops_following_and_leaves_the_deployment_running() {
    let fake = FakeCfn::start(Script {
        stack: STACK.to_string(),
        steps: vec![update_started(), service_updating()],
    })
    .expect("start the scripted endpoint");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_khs-test-deploy"));
    cmd.args(["watch", STACK, "--endpoint-url", &fake.endpoint()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = offline_aws_env(&mut cmd).spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut seen = String::new();
    let start = Instant::now();
    // Wait until it is following (the resource event is printed).
    while !seen.contains("ApiService") && start.elapsed() < Duration::from_secs(30) {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("ApiService"), "{seen}");
    // Let it settle in its poll wait, then press Ctrl-C.
    std::thread::sleep(Duration::from_millis(400));
    let calls_before = fake.describe_calls();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let code = child.wait().expect("wait").code();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("stdout");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let out = format!("{seen}{rest}{err}");
    println!("{out}");
    assert_eq!(code, Some(130), "{out}");
    assert!(
        out.contains(&format!(
            "Stopped following {STACK}; the deployment continues in CloudFormation. Follow it again with `watch {STACK}`"
        )),
        "{out}"
    );
    // It was still polling when interrupted, and stopped without another call.
    assert!(calls_before >= 3, "{calls_before}");
    assert!(fake.describe_calls() <= calls_before + 1);
}
