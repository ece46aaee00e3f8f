use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::fake::FakeStackSets;
use super::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(f)
}

const OU: &str = "ou-ab12-cd34ef56";

fn template(bucket_name: &str, topic: &str) -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Logs": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
                     "UpdateReplacePolicy": "Retain",
                     "Properties": {"BucketName": bucket_name}},
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": topic}}
        }
    })
}

fn plan() -> StackSetPlan {
    StackSetPlan {
        name: "org-baseline".into(),
        description: "Security baseline of every account".into(),
        template: template("org-logs", "alerts"),
        parameters: BTreeMap::new(),
        permissions: Permissions::ServiceManaged {
            auto_deployment: true,
        },
        targets: Targets {
            organizational_units: vec![OU.into()],
            accounts: vec![],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
        },
        preferences: Preferences::default(),
        allow_replace: BTreeSet::new(),
    }
}

fn fake() -> FakeStackSets {
    FakeStackSets::new(
        [(
            OU.to_string(),
            vec!["111111111111".to_string(), "222222222222".to_string()],
        )]
        .into(),
        1,
    )
}

const FAST: Waiting = Waiting {
    poll: Duration::from_millis(1),
    timeout: Duration::from_secs(5),
};

fn run(
    f: &FakeStackSets,
    p: &StackSetPlan,
) -> (Result<StackSetReport, StackSetError>, Vec<String>) {
    let mut lines = Vec::new();
    let r = block_on(deploy_stack_set(f, p, FAST, &mut |l| {
        lines.push(l.to_string())
    }));
    (r, lines)
}

#[test]
fn creates_the_stack_set_and_an_instance_per_account_and_region() {
    let f = fake();
    let (r, lines) = run(&f, &plan());
    let r = r.expect("deploys");
    assert!(r.created && !r.updated);
    assert_eq!(r.added, 4);
    assert_eq!(r.instances.len(), 4);
    assert!(r.instances.iter().all(|i| i.status == "CURRENT"));
    assert_eq!(
        f.calls(),
        [
            "CreateStackSet org-baseline".to_string(),
            format!(
                "CreateStackInstances org-baseline [\"{OU}\"] [] [\"us-east-1\", \"eu-west-1\"]"
            ),
        ]
    );
    assert!(lines.contains(&"org-baseline: creating the stack set".to_string()));
    assert!(
        lines.contains(&"  111111111111 eu-west-1: SUCCEEDED".to_string()),
        "{lines:#?}"
    );
}

#[test]
fn an_unchanged_plan_calls_nothing_that_writes() {
    let f = fake();
    run(&f, &plan()).0.expect("first");
    let (r, lines) = run(&f, &plan());
    let r = r.expect("second");
    assert!(!r.created && !r.updated);
    assert_eq!(r.added, 0);
    assert_eq!(f.calls().len(), 2, "{:?}", f.calls());
    assert!(lines.contains(&"org-baseline: template and parameters unchanged".to_string()));
}

#[test]
fn a_new_region_adds_only_its_instances_and_a_change_updates_every_instance() {
    let f = fake();
    run(&f, &plan()).0.expect("first");
    let mut p = plan();
    p.template = template("org-logs", "alerts-v2");
    p.targets.regions.push("ap-southeast-2".into());
    let (r, lines) = run(&f, &p);
    let r = r.expect("second");
    assert!(r.updated);
    assert_eq!(r.added, 2);
    assert_eq!(r.instances.len(), 6);
    let calls = f.calls();
    assert_eq!(calls[2], "UpdateStackSet org-baseline");
    assert_eq!(
        calls[3],
        format!("CreateStackInstances org-baseline [\"{OU}\"] [] [\"ap-southeast-2\"]")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("updating every instance (0 to add, 1 to modify, 0 to remove)")),
        "{lines:#?}"
    );
}

#[test]
fn the_data_loss_guard_refuses_replacing_a_bucket_in_every_instance() {
    let f = fake();
    run(&f, &plan()).0.expect("first");
    let mut p = plan();
    p.template = template("org-logs-renamed", "alerts");
    let (r, _) = run(&f, &p);
    let e = r.expect_err("refused").to_string();
    assert!(
        e.starts_with(
            "stack set org-baseline: refused, the update would lose data in every stack instance"
        ) && e.contains("Logs")
            && e.contains("BucketName")
            && e.contains("--allow-replace Logs"),
        "{e}"
    );
    assert_eq!(f.calls().len(), 2, "nothing was updated: {:?}", f.calls());
    assert!(f.template("org-baseline").unwrap().contains("\"org-logs\""));

    p.allow_replace = ["Logs".to_string()].into();
    let r = run(&f, &p).0.expect("allowed");
    assert!(r.updated);
    assert_eq!(r.allowed.len(), 1, "{:?}", r.allowed);
}

#[test]
fn an_allowance_that_matches_nothing_is_an_error() {
    let f = fake();
    run(&f, &plan()).0.expect("first");
    let mut p = plan();
    p.allow_replace = ["Alerts".to_string()].into();
    let e = run(&f, &p).0.expect_err("unused").to_string();
    assert!(
        e.contains("--allow-replace Alerts matches no resource that would be replaced or deleted"),
        "{e}"
    );
}

#[test]
fn a_failed_instance_fails_the_deployment_with_its_reason() {
    let mut f = fake();
    f.failing_accounts = ["222222222222".to_string()].into();
    let (r, lines) = run(&f, &plan());
    let e = r.expect_err("fails").to_string();
    assert!(
        e.contains("stack set org-baseline: operation op-1 failed: the instance in 222222222222"),
        "{e}"
    );
    assert!(
        lines.iter().any(|l| l
            .contains("222222222222 us-east-1: FAILED (Resource handler returned message: boom)")),
        "{lines:#?}"
    );
}

#[test]
fn self_managed_stack_sets_target_accounts() {
    let f = fake();
    let mut p = plan();
    p.permissions = Permissions::SelfManaged {
        administration_role_arn: None,
        execution_role_name: None,
    };
    p.targets.organizational_units.clear();
    p.targets.accounts = vec!["333333333333".into()];
    let r = run(&f, &p).0.expect("deploys");
    assert_eq!(r.added, 2);
    assert!(r.instances.iter().all(|i| i.account == "333333333333"));
}

#[test]
fn bad_plans_are_refused_before_any_call_with_every_problem() {
    let f = fake();
    let mut p = plan();
    p.name = "9 bad".into();
    p.targets.regions = vec!["us-east-1".into(), "mars-1".into()];
    p.targets.accounts = vec!["123".into()];
    p.targets.organizational_units = vec!["ou-x".into()];
    p.preferences.max_concurrent = Share::Count(5);
    p.preferences.region_order = vec!["eu-west-3".into()];
    let e = run(&f, &p).0.expect_err("invalid").to_string();
    for want in [
        "stack set 9 bad: ",
        "must be 1–128 letters, digits and hyphens",
        "\"mars-1\" is not an AWS region",
        "the region order names eu-west-3, which is not a target region (us-east-1, mars-1)",
        "account \"123\" is not a 12-digit account id",
        "\"ou-x\" is not an organizational unit id",
        "service-managed permissions target organizational units, not accounts",
        "max concurrent 5 exceeds failure tolerance 0 + 1",
    ] {
        assert!(e.contains(want), "missing {want:?} in {e}");
    }
    assert!(f.calls().is_empty());

    let mut p = plan();
    p.targets.organizational_units.clear();
    p.targets.regions.clear();
    let e = run(&f, &p).0.expect_err("invalid").to_string();
    assert!(e.contains("no region: give at least one"), "{e}");
    assert!(
        e.contains("service-managed permissions deploy to organizational units: give at least one"),
        "{e}"
    );
}

#[test]
fn shares_parse_counts_and_percentages() {
    assert_eq!(Share::parse("3"), Some(Share::Count(3)));
    assert_eq!(Share::parse("25%"), Some(Share::Percent(25)));
    assert_eq!(Share::parse("x"), None);
    assert_eq!(Share::Percent(10).to_string(), "10%");
    let p = Preferences {
        region_order: vec!["eu-west-1".into()],
        ..Preferences::default()
    };
    assert_eq!(
        p.ordered_regions(&["us-east-1".into(), "eu-west-1".into()]),
        ["eu-west-1", "us-east-1"]
    );
}
