//! `khs stack-set` against moto_server on 127.0.0.1: a stack of an app
//! deployed as a service-managed StackSet to an organizational unit of
//! moto's AWS Organizations, updated, refused by the data-loss guard, and
//! extended to another region. moto has StackSets and Organizations; it
//! completes every operation at once and does not report the unit of each
//! instance, so waiting on a running operation and unit matching are
//! covered by the in-memory fake's unit tests (`deploy::stack_set`).
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_stack_sets`.

use khs_tests::cli_run::{Run, expect_out, run};
use khs_tests::moto::MotoServer;

fn khs(moto: &MotoServer, variant: &str, args: &[&str]) -> Run {
    run(
        env!("CARGO_BIN_EXE_khs-test-stack-set"),
        moto,
        &[("KHS_TEST_VARIANT", variant), ("KHS_DEPLOY_POLL_MS", "50")],
        args,
    )
}

/// The stack set as moto describes it (XML).
fn describe_stack_set(moto: &MotoServer) -> String {
    moto.query(
        "cloudformation",
        "DescribeStackSet&StackSetName=org-baseline",
        "2010-05-15",
    )
    .expect("DescribeStackSet")
}

/// The first string value of `key` anywhere in a JSON text.
fn json_field(text: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).expect("JSON answer");
    fn find(v: &serde_json::Value, key: &str) -> Option<String> {
        match v {
            serde_json::Value::Object(m) => m
                .get(key)
                .and_then(|x| x.as_str().map(str::to_string))
                .or_else(|| m.values().find_map(|x| find(x, key))),
            serde_json::Value::Array(a) => a.iter().find_map(|x| find(x, key)),
            _ => None,
        }
    }
    let found = find(&v, key);
    assert!(found.is_some(), "no {key} in {text}");
    found.expect("checked above")
}

/// An organisation with one unit holding two member accounts; returns the
/// unit's id.
fn organisation(moto: &MotoServer) -> String {
    let call = |target: &str, body: &str| {
        moto.json(
            "organizations",
            &format!("AWSOrganizationsV20161128.{target}"),
            body,
        )
        .map_err(|e| format!("{target}: {e}"))
        .expect("an Organizations call to moto")
    };
    call("CreateOrganization", r#"{"FeatureSet": "ALL"}"#);
    let root = json_field(&call("ListRoots", "{}"), "Id");
    let ou = json_field(
        &call(
            "CreateOrganizationalUnit",
            &format!(r#"{{"ParentId": "{root}", "Name": "workloads"}}"#),
        ),
        "Id",
    );
    for name in ["alpha", "beta"] {
        let created = call(
            "CreateAccount",
            &format!(r#"{{"AccountName": "{name}", "Email": "{name}@example.com"}}"#),
        );
        let account = json_field(&created, "AccountId");
        call(
            "MoveAccount",
            &format!(
                r#"{{"AccountId": "{account}", "SourceParentId": "{root}", "DestinationParentId": "{ou}"}}"#
            ),
        );
    }
    ou
}

#[test]
fn a_stack_set_is_created_updated_guarded_and_extended_on_moto() {
    let moto = MotoServer::start().expect("moto_server");
    let ou = organisation(&moto);
    let regions = "us-east-1,eu-west-1";

    let r = khs(
        &moto,
        "v1",
        &[
            "stack-set",
            "org-baseline",
            "--ou",
            &ou,
            "--regions",
            regions,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "org-baseline: creating the stack set");
    expect_out(
        &r,
        &format!("org-baseline: adding instances for units {ou} in us-east-1, eu-west-1"),
    );
    expect_out(&r, "org-baseline: 4 instance(s), 4 added");
    let listed = moto
        .query(
            "cloudformation",
            "ListStackInstances&StackSetName=org-baseline",
            "2010-05-15",
        )
        .expect("ListStackInstances");
    assert_eq!(listed.matches("<Account>").count(), 4, "{listed}");
    assert!(
        listed.contains("eu-west-1") && listed.contains("us-east-1"),
        "{listed}"
    );

    // The same code again: nothing to write.
    let r = khs(
        &moto,
        "v1",
        &[
            "stack-set",
            "org-baseline",
            "--ou",
            &ou,
            "--regions",
            regions,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "org-baseline: template and parameters unchanged");
    expect_out(&r, "org-baseline: 4 instance(s), 0 added");

    // A change of the topic: every instance is updated, sequentially.
    let r = khs(
        &moto,
        "v2",
        &[
            "stack-set",
            "org-baseline",
            "--ou",
            &ou,
            "--regions",
            regions,
            "--region-order",
            "eu-west-1",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(
        &r,
        "org-baseline: updating every instance (0 to add, 1 to modify, 0 to remove)",
    );
    let described = describe_stack_set(&moto);
    assert!(described.contains("alerts v2"), "{described}");

    // Renaming the bucket would replace it in every account: refused.
    let r = khs(
        &moto,
        "renamed-bucket",
        &[
            "stack-set",
            "org-baseline",
            "--ou",
            &ou,
            "--regions",
            regions,
        ],
    );
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "refused, the update would lose data in every stack instance",
    );
    expect_out(&r, "--allow-replace LogsBucket");
    let described = describe_stack_set(&moto);
    assert!(
        !described.contains("org-archive"),
        "the template was not updated: {described}"
    );

    // Another region: only its instances are added.
    let r = khs(
        &moto,
        "v2",
        &[
            "stack-set",
            "org-baseline",
            "--ou",
            &ou,
            "--regions",
            "us-east-1,eu-west-1,us-west-2",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(
        &r,
        &format!("org-baseline: adding instances for units {ou} in us-west-2"),
    );
    expect_out(&r, "org-baseline: 6 instance(s), 2 added");
}

#[test]
fn bad_targets_are_refused_before_any_call() {
    let moto = MotoServer::start().expect("moto_server");
    let r = khs(
        &moto,
        "v1",
        &[
            "stack-set",
            "org-baseline",
            "--account",
            "123",
            "--regions",
            "us-east-1",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(&r, "account \"123\" is not a 12-digit account id");
    expect_out(
        &r,
        "service-managed permissions target organizational units, not accounts",
    );
    let r = khs(
        &moto,
        "v1",
        &[
            "stack-set",
            "nope",
            "--ou",
            "ou-ab12-cd34ef56",
            "--regions",
            "us-east-1",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(
        &r,
        "no stack \"nope\" in this app; its stacks are org-baseline",
    );
}
