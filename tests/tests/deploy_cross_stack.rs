//! References between stacks deployed against moto_server on 127.0.0.1
//! (the binary `khs-test-cross`, the CLI over `tests/src/cross_app.rs`):
//! the producer deploys before the consumer that reads its export with
//! `Fn::ImportValue`; a stack in another region gets the value as a
//! parameter filled at deploy; when the consumer stops using the export,
//! the deployment keeps it until the consumer is updated and then removes
//! it (no deadly embrace).
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_cross_stack`.

use std::process::Command;

use khs_tests::cross_app::{CONSUMER, EXPORT, PRODUCER, REMOTE};
use khs_tests::moto::MotoServer;
use khs_tests::offline_aws_env;

struct Run {
    code: i32,
    out: String,
}

fn khs(moto: &MotoServer, variant: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_khs-test-cross"));
    cmd.args(args).arg("--endpoint-url").arg(moto.endpoint());
    let out = offline_aws_env(&mut cmd)
        .env("KHS_TEST_VARIANT", variant)
        .output()
        .expect("run the deploy binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("$ khs {} (variant {variant})\n{text}", args.join(" "));
    Run {
        code: out.status.code().unwrap_or(-1),
        out: text,
    }
}

#[track_caller]
fn at(r: &Run, needle: &str) -> usize {
    let found = r.out.find(needle);
    assert!(found.is_some(), "{needle:?} missing from:\n{}", r.out);
    found.unwrap_or_default()
}

fn cfn(m: &MotoServer, region: &str, action: &str) -> String {
    m.query_in(region, "cloudformation", action, "2010-05-15")
        .expect(action)
}

/// The value of `EXPORT` in moto's ListExports (us-east-1).
fn export_value(m: &MotoServer) -> Option<String> {
    let list = cfn(m, "us-east-1", "ListExports");
    let start = list.find(&format!("<Name>{EXPORT}</Name>"))?;
    let member = &list[..list[start..].find("</member>")? + start];
    let member = &member[member.rfind("<member>")?..];
    let v = member.split("<Value>").nth(1)?;
    Some(v[..v.find("</Value>")?].to_string())
}

#[test]
fn references_deploy_in_order_and_a_removed_use_deploys_without_the_deadly_embrace() {
    let m = MotoServer::start()
        .map_err(|e| format!("the deploy tests need moto_server: {e}"))
        .expect("moto_server");
    m.reset().expect("reset moto");

    // 1. Everything, in dependency order: the producer first.
    let r = khs(&m, "used", &["deploy"]);
    assert_eq!(r.code, 0, "{}", r.out);
    let producer = at(&r, &format!("{PRODUCER}: CREATE_COMPLETE"));
    let consumer = at(&r, &format!("{CONSUMER}: CREATE_COMPLETE"));
    let filled = at(
        &r,
        &format!(
            "{REMOTE}: parameter XsProducerAlertsTopicTopicName = output ExportAlertsTopicTopicName of {PRODUCER} (us-east-1)"
        ),
    );
    assert!(producer < consumer && producer < filled, "{}", r.out);
    let name = export_value(&m).expect("the producer exports the topic name");
    assert!(!name.is_empty());
    // The consumer imports it; the remote stack got it as a parameter.
    let consumer_template = cfn(
        &m,
        "us-east-1",
        &format!("GetTemplate&StackName={CONSUMER}"),
    );
    assert!(consumer_template.contains(EXPORT), "{consumer_template}");
    let remote = cfn(
        &m,
        "us-west-2",
        &format!("DescribeStacks&StackName={REMOTE}"),
    );
    assert!(
        remote.contains(&format!("<ParameterValue>{name}</ParameterValue>")),
        "{remote}"
    );

    // 2. The consumer stops using the export: diff says what will happen.
    let r = khs(&m, "unused", &["diff", PRODUCER]);
    assert_eq!(r.code, 0, "{}", r.out);
    at(
        &r,
        &format!(
            "{PRODUCER}: export \"{EXPORT}\" (output ExportAlertsTopicTopicName) is gone from the template but {CONSUMER} still import(s) it; the deployment keeps it until {CONSUMER} is updated without the import, then removes it in a second step (no deadly embrace)"
        ),
    );

    // 3. Deploy: producer (export kept), consumer (import gone), producer
    // again (export removed). Nothing fails.
    let r = khs(&m, "unused", &["deploy"]);
    assert_eq!(r.code, 0, "{}", r.out);
    let kept = at(&r, &format!("{PRODUCER}: export \"{EXPORT}\""));
    let consumer = at(&r, &format!("{CONSUMER}: UPDATE_COMPLETE"));
    let second = at(
        &r,
        &format!(
            "{PRODUCER}: second step: removing export(s) {EXPORT}, which no stack of the app imports any more"
        ),
    );
    assert!(kept < consumer && consumer < second, "{}", r.out);
    let producer_template = cfn(
        &m,
        "us-east-1",
        &format!("GetTemplate&StackName={PRODUCER}"),
    );
    assert!(
        !producer_template.contains(EXPORT) && !producer_template.contains("khs:retained-exports"),
        "the export is gone after the second step: {producer_template}"
    );
    let consumer_template = cfn(
        &m,
        "us-east-1",
        &format!("GetTemplate&StackName={CONSUMER}"),
    );
    assert!(!consumer_template.contains(EXPORT), "{consumer_template}");
}
