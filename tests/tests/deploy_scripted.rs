//! Following a deployment against a scripted CloudFormation endpoint
//! (`khs_tests::fake_cfn`) for what moto cannot show: a stack that stays in
//! progress (Ctrl-C), per-resource events printed once each, a failed update
//! whose rollback fails, a declared rename deployed as a stack refactor,
//! drift detection. The built binary is run as a user runs it, so the SDK
//! client's requests and parsing are exercised.
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_scripted`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use khs_tests::deploy_app::{RENAME_STACK, STACK, Variant, rename_stack};
use khs_tests::fake_cfn::{Drift, Event, Extras, FakeCfn, Script, Step};
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

/// Runs the test binary with `variant` against the endpoint, stdout and
/// stderr on one pipe.
fn khs(fake: &FakeCfn, variant: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" \"$@\" 2>&1"])
        .arg(env!("CARGO_BIN_EXE_khs-test-deploy"))
        .args(args)
        .args(["--endpoint-url", &fake.endpoint()])
        .env("KHS_TEST_VARIANT", variant)
        .env("KHS_DEPLOY_POLL_MS", "20");
    let out = offline_aws_env(&mut cmd)
        .output()
        .expect("run khs-test-deploy");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("$ khs {} (variant {variant})\n{text}", args.join(" "));
    (out.status.code().unwrap_or(-1), text)
}

/// The endpoint with the rename stack deployed in its `Jobs` version.
fn rename_endpoint(drifts: Vec<Drift>) -> FakeCfn {
    let template = rename_stack(Variant::RenameBase)
        .and_then(|s| s.synth())
        .map(|t| serde_json::to_string(&t).expect("template JSON"))
        .expect("synthesize the rename stack");
    FakeCfn::start_with(
        Script {
            stack: RENAME_STACK.to_string(),
            steps: vec![step("UPDATE_COMPLETE", vec![])],
        },
        Extras {
            template: Some(template),
            drifts,
        },
    )
    .expect("start the scripted endpoint")
}

#[test]
fn a_declared_rename_deploys_as_a_stack_refactor_then_an_empty_change_set() {
    let fake = rename_endpoint(Vec::new());
    let (code, out) = khs(&fake, "renamed", &["deploy", RENAME_STACK, "--skip-drift"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "{RENAME_STACK}: moving Jobs to WorkJobs (stack refactor; the resource keeps its physical id)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{RENAME_STACK}: stack refactor complete.")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{RENAME_STACK}: no changes.")),
        "{out}"
    );
    let actions = fake.actions();
    let pos = |a: &str| actions.iter().position(|x| x == a).unwrap_or(usize::MAX);
    assert!(
        pos("CreateStackRefactor") < pos("ExecuteStackRefactor"),
        "{actions:?}"
    );
    assert!(
        pos("ExecuteStackRefactor") < pos("CreateChangeSet"),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|a| a == "ExecuteChangeSet"),
        "{actions:?}"
    );
    // The deployed template now has the new id, and the output refers to it.
    let t: serde_json::Value =
        serde_json::from_str(&fake.template().expect("template")).expect("JSON");
    assert!(t["Resources"].get("WorkJobs").is_some(), "{t}");
    assert!(t["Resources"].get("Jobs").is_none(), "{t}");
    assert_eq!(
        t["Outputs"]["JobsLogGroup"]["Value"],
        serde_json::json!({"Ref": "WorkJobs"})
    );
}

#[test]
fn diff_shows_a_declared_rename_without_a_refusal() {
    let fake = rename_endpoint(Vec::new());
    let (code, out) = khs(&fake, "renamed", &["diff", RENAME_STACK, "--skip-drift"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("WorkJobs") && out.contains("renamed from Jobs"),
        "{out}"
    );
    assert!(!out.contains("refused"), "{out}");
    assert!(!fake.actions().iter().any(|a| a.contains("Refactor")));
}

#[test]
fn an_undeclared_rename_is_refused_naming_the_declaration() {
    let fake = rename_endpoint(Vec::new());
    // The log group has a fixed name: the forecast already knows that
    // creating the "new" one fails while the old one holds the name.
    let (code, out) = khs(
        &fake,
        "renamed-undeclared",
        &["deploy", RENAME_STACK, "--skip-drift"],
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("refused by the forecast"), "{out}");
    assert!(
        out.contains(&format!(
            "`stack.declare_moved(\"{RENAME_STACK}/Work/Jobs\", \"Jobs\")?;`"
        )),
        "{out}"
    );
    assert!(!fake.actions().iter().any(|a| a == "CreateChangeSet"));
    // Past the forecast, the data-loss guard refuses the removal.
    let (code, out) = khs(
        &fake,
        "renamed-undeclared",
        &["deploy", RENAME_STACK, "--skip-drift", "--skip-forecast"],
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("looks like a renamed construct"), "{out}");
    assert!(
        out.contains(&format!(
            "`stack.declare_moved(\"{RENAME_STACK}/Work/Jobs\", \"Jobs\")?;`"
        )),
        "{out}"
    );
    assert!(out.contains("Jobs (AWS::Logs::LogGroup"), "{out}");
    let actions = fake.actions();
    assert!(
        !actions.iter().any(|a| a.contains("Refactor")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "DeleteChangeSet"),
        "{actions:?}"
    );
}

#[test]
fn drift_lists_drifted_resources_and_properties() {
    let fake = rename_endpoint(vec![Drift {
        logical_id: "Jobs".to_string(),
        resource_type: "AWS::Logs::LogGroup".to_string(),
        path: "/Properties/RetentionInDays".to_string(),
        expected: "30".to_string(),
        actual: "7".to_string(),
    }]);
    let (code, out) = khs(&fake, "rename-base", &["drift", RENAME_STACK]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(&format!(
            "{RENAME_STACK}: 1 resource(s) differ from the deployed template:"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "MODIFIED Jobs (AWS::Logs::LogGroup)  {RENAME_STACK}/Jobs"
        )),
        "{out}"
    );
    assert!(
        out.contains("RetentionInDays: template 30, actual 7"),
        "{out}"
    );
    // --refuse-drift stops a deployment before its change set.
    let (code, out) = khs(
        &fake,
        "rename-base",
        &["deploy", RENAME_STACK, "--refuse-drift"],
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("refused by --refuse-drift"), "{out}");
    assert!(!fake.actions().iter().any(|a| a == "CreateChangeSet"));
}

#[test]
fn drift_of_a_stack_in_sync_says_so() {
    let fake = rename_endpoint(Vec::new());
    let (code, out) = khs(&fake, "rename-base", &["drift", RENAME_STACK]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no drift"), "{out}");
}

#[test]
fn missing_credentials_with_the_metadata_service_unreachable_are_one_sentence() {
    // The instance metadata service is tried (not disabled) and refuses
    // connections: the chain's long error must not be dumped.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_khs-test-deploy"));
    offline_aws_env(&mut cmd)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
        .args(["status", "--endpoint-url", "http://127.0.0.1:9"]);
    let out = cmd.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: no AWS credentials found: log in with `aws sso login`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn allow_replace_with_an_id_that_matches_nothing_is_an_error() {
    let fake = rename_endpoint(Vec::new());
    let (code, out) = khs(
        &fake,
        "renamed-undeclared",
        &[
            "deploy",
            RENAME_STACK,
            "--allow-replace",
            "Jbos",
            "--skip-drift",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "error: --allow-replace Jbos matches no resource of {RENAME_STACK} (local or deployed template); did you mean Jobs? Nothing was deployed."
        )),
        "{out}"
    );
    assert!(!fake.actions().iter().any(|a| a == "CreateChangeSet"));
}
