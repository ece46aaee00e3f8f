//! `khs deploy --concurrency 2` of an app across two regions (and, with a
//! role to assume, another account) against moto_server on 127.0.0.1:
//! `network-east` (us-east-1) and `network-west` (us-west-2) deploy side
//! by side, `service` (us-east-1) once both are deployed. moto completes
//! every operation at once, so that a failure lets running stacks finish
//! and starts nothing new is covered by the engine's tests over the
//! in-memory fake (`deploy::engine::parallel`); here the order comes from
//! the output and the states from DescribeStacks.
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_multi_env`.

use std::process::Command;

use khs_tests::moto::MotoServer;
use khs_tests::offline_aws_env;

struct Run {
    code: i32,
    out: String,
}

fn khs(moto: &MotoServer, account: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_khs-test-multi-env"));
    cmd.args(args).arg("--endpoint-url").arg(moto.endpoint());
    offline_aws_env(&mut cmd).env("KHS_DEPLOY_POLL_MS", "50");
    // No environments file of the working directory is read.
    cmd.current_dir(std::env::temp_dir());
    match account {
        Some(a) => cmd.env("KHS_TEST_ACCOUNT", a),
        None => cmd.env_remove("KHS_TEST_ACCOUNT"),
    };
    let out = cmd.output().expect("run the multi-environment binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("$ khs {} (account {account:?})\n{text}", args.join(" "));
    Run {
        code: out.status.code().unwrap_or(-1),
        out: text,
    }
}

/// The index of the first line equal to `line`.
#[track_caller]
fn at(r: &Run, line: &str) -> usize {
    let found = r.out.lines().position(|l| l == line);
    assert!(found.is_some(), "no line {line:?} in:\n{}", r.out);
    found.unwrap_or_default()
}

/// The stack's status in `region`, as moto's DescribeStacks says for the
/// test credentials' account (`None`: no such stack there).
fn status(moto: &MotoServer, region: &str, stack: &str) -> Option<String> {
    let answer = moto
        .query_in(
            region,
            "cloudformation",
            &format!("DescribeStacks&StackName={stack}"),
            "2010-05-15",
        )
        .ok()?;
    let start = answer.find("<StackStatus>")? + "<StackStatus>".len();
    let end = answer[start..].find("</StackStatus>")? + start;
    Some(answer[start..end].to_string())
}

/// Dependency order and overlap, from the prefixed lines.
#[track_caller]
fn assert_order(r: &Run) {
    // Both independent stacks start before either ends...
    assert!(at(r, "[network-west] starting") < at(r, "[network-east] done"));
    assert!(at(r, "[network-east] starting") < at(r, "[network-west] done"));
    // ...and service starts after both.
    assert!(at(r, "[network-east] done") < at(r, "[service] starting"));
    assert!(at(r, "[network-west] done") < at(r, "[service] starting"));
    for s in ["network-east", "network-west", "service"] {
        at(r, &format!("[{s}] {s}: CREATE_COMPLETE"));
    }
}

#[test]
fn three_stacks_in_two_regions_deploy_in_dependency_order_two_at_a_time() {
    let moto = MotoServer::start().expect("moto_server");
    let r = khs(&moto, None, &["deploy", "--concurrency", "2"]);
    assert_eq!(r.code, 0, "{}", r.out);
    at(
        &r,
        "Deploying 3 stacks, up to 2 at a time (--concurrency): network-east, network-west, service",
    );
    assert_order(&r);
    for (region, stack) in [
        ("us-east-1", "network-east"),
        ("us-west-2", "network-west"),
        ("us-east-1", "service"),
    ] {
        assert_eq!(
            status(&moto, region, stack).as_deref(),
            Some("CREATE_COMPLETE"),
            "{stack} in {region}"
        );
    }
    // network-west is in us-west-2 only.
    assert_eq!(status(&moto, "us-east-1", "network-west"), None);
}

#[test]
fn a_role_per_account_is_assumed_through_moto_sts() {
    let moto = MotoServer::start().expect("moto_server");
    let account = "111111111111";
    let role = format!("--role-for={account}=arn:aws:iam::{account}:role/khs-deploy");
    let r = khs(
        &moto,
        Some(account),
        &["deploy", "--concurrency", "2", &role],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    assert_order(&r);
    // The stacks are in the role's account, not the test credentials'.
    assert_eq!(status(&moto, "us-east-1", "network-east"), None);
    let st = khs(&moto, Some(account), &["status", &role]);
    assert_eq!(st.code, 0, "{}", st.out);
    assert_eq!(st.out.matches("CREATE_COMPLETE").count(), 3, "{}", st.out);
}

#[test]
fn credentials_of_another_account_are_refused_before_anything_deploys() {
    let moto = MotoServer::start().expect("moto_server");
    // The test credentials are moto's default account, 123456789012.
    let r = khs(
        &moto,
        Some("111111111111"),
        &["deploy", "--concurrency", "2"],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains(
            "error: network-east, network-west, service: deploy to account 111111111111, but the \
             credentials for account 111111111111 (the default credentials) are those of account \
             123456789012 (GetCallerIdentity); nothing was deployed."
        ),
        "{}",
        r.out
    );
    assert_eq!(status(&moto, "us-east-1", "network-east"), None);
    assert_eq!(status(&moto, "us-west-2", "network-west"), None);
}
