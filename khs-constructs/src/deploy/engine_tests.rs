//! The engine's sequencing, driven through the in-memory fake: no server.

// Test helpers fail the test with the transcript.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::engine::{
    Cancel, DeployOptions, DiffOptions, DriftMode, Engine, Failure, ParamInput, StackSpec,
};
use super::fake::{Execution, FakeCloud, Transcript};
use super::port::{PropertyDrift, ResourceDrift};

const REGION: &str = "us-west-2";
const STACK: &str = "app";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn db(group: &str) -> Value {
    json!({"Type": "AWS::RDS::DBInstance",
        "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
        "Metadata": {"khs:path": "app/Database/Instance"},
        "Properties": {"DBSubnetGroupName": group, "Engine": "postgres",
            "AllocatedStorage": "20", "StorageEncrypted": true}})
}

fn topic(name: &str) -> Value {
    json!({"Type": "AWS::SNS::Topic", "Metadata": {"khs:path": "app/Alarms/Topic"},
        "Properties": {"DisplayName": name}})
}

fn template(resources: Value) -> Value {
    json!({"Resources": resources})
}

fn base() -> Value {
    template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("alarms")}))
}

struct Run {
    cloud: FakeCloud,
    out: Transcript,
    result: Result<(), Failure>,
}

impl Run {
    fn text(&self) -> String {
        self.out.text()
    }
    fn refused(&self) -> String {
        match &self.result {
            Err(Failure::Refused(m)) => m.clone(),
            other => panic!("not refused: {other:?}\n{}", self.text()),
        }
    }
    fn message(&self) -> String {
        match &self.result {
            Err(Failure::Message(m)) => m.clone(),
            other => panic!("no message: {other:?}\n{}", self.text()),
        }
    }
}

fn spec(t: Value, production: bool) -> StackSpec {
    let mut s = StackSpec::new(STACK, REGION, t);
    s.termination_protection = production;
    s
}

fn engine(cloud: &FakeCloud, specs: Vec<StackSpec>, cancel: Cancel) -> Engine<FakeCloud> {
    let mut e = Engine::new(specs, cloud.clone(), cancel);
    e.poll = Duration::ZERO;
    e
}

fn deploy_with(cloud: FakeCloud, specs: Vec<StackSpec>, opts: DeployOptions) -> Run {
    let mut out = Transcript::default();
    let mut e = engine(&cloud, specs, Cancel::new());
    let result = block_on(e.deploy(&mut out, &[], &opts, &ParamInput::default()));
    Run { cloud, out, result }
}

fn deploy(cloud: FakeCloud, t: Value, opts: DeployOptions) -> Run {
    deploy_with(cloud, vec![spec(t, false)], opts)
}

fn deployed(t: Value) -> FakeCloud {
    let cloud = FakeCloud::new();
    cloud.put_stack(REGION, STACK, t, "CREATE_COMPLETE");
    cloud
}

fn skip_checks() -> DeployOptions {
    DeployOptions {
        drift: DriftMode::Skip,
        ..DeployOptions::default()
    }
}

#[test]
fn no_op_deletes_the_change_set_and_executes_nothing() {
    let r = deploy(deployed(base()), base(), skip_checks());
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert!(r.text().contains("app: no changes."), "{}", r.text());
    let ops = r.cloud.operations();
    assert!(ops.contains(&"DeleteChangeSet".to_string()), "{ops:?}");
    assert!(!ops.contains(&"ExecuteChangeSet".to_string()), "{ops:?}");
}

#[test]
fn create_runs_a_create_change_set_and_follows_it_to_completion() {
    let r = deploy(FakeCloud::new(), base(), skip_checks());
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    assert_eq!(
        r.cloud.calls_of("CreateChangeSet"),
        ["CreateChangeSet app CREATE"]
    );
    let text = r.text();
    assert!(text.contains("Stack app (us-west-2): create"), "{text}");
    assert!(
        text.contains("DatabaseInstance") && text.contains("CREATE_COMPLETE"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("app: CREATE_COMPLETE"), "{text}");
    let s = r.cloud.stack(REGION, STACK).expect("stack");
    assert_eq!(s.status, "CREATE_COMPLETE");
    assert_eq!(s.template, base());
    // Not a production stack: no policy, no termination protection call.
    assert!(r.cloud.calls_of("SetStackPolicy").is_empty());
    assert!(r.cloud.calls_of("UpdateTerminationProtection").is_empty());
}

#[test]
fn update_executes_and_stores_the_new_template() {
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("alerts")}));
    let r = deploy(deployed(base()), new.clone(), skip_checks());
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    assert_eq!(
        r.cloud.calls_of("CreateChangeSet"),
        ["CreateChangeSet app UPDATE"]
    );
    assert!(r.text().contains("Modify  AlarmTopic"), "{}", r.text());
    let s = r.cloud.stack(REGION, STACK).expect("stack");
    assert_eq!(s.status, "UPDATE_COMPLETE");
    assert_eq!(s.template, new);
}

#[test]
fn refused_replacement_deletes_the_change_set_and_names_the_override() {
    let new = template(json!({"DatabaseInstance": db("group-b"), "AlarmTopic": topic("alarms")}));
    let r = deploy(deployed(base()), new, skip_checks());
    let msg = r.refused();
    assert!(
        msg.contains(
            "DatabaseInstance (AWS::RDS::DBInstance, app/Database/Instance) would be REPLACED"
        ),
        "{msg}"
    );
    assert!(msg.contains("--allow-replace DatabaseInstance"), "{msg}");
    let ops = r.cloud.operations();
    assert!(ops.contains(&"DeleteChangeSet".to_string()));
    assert!(!ops.contains(&"ExecuteChangeSet".to_string()));
    assert_eq!(
        r.cloud.stack(REGION, STACK).expect("stack").template,
        base()
    );
}

#[test]
fn rollback_is_reported_with_the_first_failure_and_keeps_the_old_template() {
    let cloud = deployed(base());
    cloud.world.borrow_mut().executions.insert(
        STACK.into(),
        Execution::Fail {
            resource: "AlarmTopic".into(),
            reason: "Invalid parameter: DisplayName".into(),
        },
    );
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("x")}));
    let r = deploy(cloud, new, skip_checks());
    assert!(matches!(r.result, Err(Failure::Reported)), "{:?}", r.result);
    let text = r.text();
    assert!(text.contains("error: app: deployment failed: AlarmTopic (UPDATE_FAILED): Invalid parameter: DisplayName"), "{text}");
    assert!(
        text.contains("app: final status UPDATE_ROLLBACK_COMPLETE"),
        "{text}"
    );
    assert!(text.contains("rolled back to the previous state"), "{text}");
    assert_eq!(
        r.cloud.stack(REGION, STACK).expect("stack").template,
        base()
    );
}

#[test]
fn failed_rollback_says_how_to_continue_and_blocks_the_next_deploy() {
    let cloud = deployed(base());
    cloud.world.borrow_mut().executions.insert(
        STACK.into(),
        Execution::FailRollback {
            resource: "AlarmTopic".into(),
            reason: "boom".into(),
        },
    );
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("x")}));
    let r = deploy(cloud, new.clone(), skip_checks());
    assert!(matches!(r.result, Err(Failure::Reported)));
    assert!(
        r.text()
            .contains("aws cloudformation continue-update-rollback --stack-name app"),
        "{}",
        r.text()
    );
    // The status gate: the next deployment stops before any change set.
    let again = deploy(r.cloud, new, skip_checks());
    assert!(
        again.message().contains("UPDATE_ROLLBACK_FAILED"),
        "{}",
        again.message()
    );
    assert!(again.cloud.calls_of("CreateChangeSet").len() == 1);
}

#[test]
fn status_gate_refuses_busy_and_never_created_stacks() {
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| s.status = "UPDATE_IN_PROGRESS".into());
    let r = deploy(cloud, base(), skip_checks());
    assert!(
        r.message()
            .contains("app is busy (UPDATE_IN_PROGRESS); follow it with `watch app`")
    );
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| s.status = "ROLLBACK_COMPLETE".into());
    let r = deploy(cloud, base(), skip_checks());
    assert!(
        r.message().contains("delete it with `destroy app`"),
        "{}",
        r.message()
    );
    assert!(r.cloud.calls_of("CreateChangeSet").is_empty());
}

#[test]
fn ctrl_c_while_following_stops_with_the_deployment_running() {
    let cloud = deployed(base());
    let cancel = Cancel::new();
    {
        let mut w = cloud.world.borrow_mut();
        w.executions.insert(STACK.into(), Execution::Hang);
        w.interrupt_after = Some((3, cancel.clone()));
    }
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("x")}));
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(new, false)], cancel);
    let result = block_on(e.deploy(&mut out, &[], &skip_checks(), &ParamInput::default()));
    match result {
        Err(Failure::Interrupted(m)) => assert!(
            m.contains("Stopped following app; the deployment continues in CloudFormation. Follow it again with `watch app`"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cloud.stack(REGION, STACK).expect("stack").status,
        "UPDATE_IN_PROGRESS"
    );
    // It stopped promptly: a few polls, not the whole script.
    assert!(cloud.calls_of("DescribeStacks").len() < 10);
}

#[test]
fn ctrl_c_before_execution_deletes_the_change_set() {
    let cloud = deployed(base());
    let cancel = Cancel::new();
    cancel.cancel();
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("x")}));
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(new, false)], cancel);
    let result = block_on(e.deploy(&mut out, &[], &skip_checks(), &ParamInput::default()));
    assert!(
        matches!(result, Err(Failure::Interrupted(ref m)) if m.contains("nothing was executed")),
        "{result:?}"
    );
    let ops = cloud.operations();
    assert!(ops.contains(&"DeleteChangeSet".to_string()));
    assert!(!ops.contains(&"ExecuteChangeSet".to_string()));
}

fn policy_denies(policy: &str, id: &str) -> bool {
    let v: Value =
        serde_json::from_str(policy.splitn(3, ' ').nth(2).unwrap_or("{}")).expect("policy JSON");
    v["Statement"].as_array().into_iter().flatten().any(|s| {
        s["Effect"] == "Deny"
            && s["Resource"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|x| x == &json!(format!("LogicalResourceId/{id}")))
            })
    })
}

#[test]
fn production_policy_is_relaxed_for_an_allowed_replacement_then_restored() {
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| s.termination_protection = true);
    let new = template(json!({"DatabaseInstance": db("group-b"), "AlarmTopic": topic("alarms")}));
    let opts = DeployOptions {
        allow_replace: ["DatabaseInstance".to_string()].into(),
        ..skip_checks()
    };
    let r = deploy_with(cloud, vec![spec(new, true)], opts);
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    let policies = r.cloud.calls_of("SetStackPolicy");
    assert_eq!(policies.len(), 2, "{policies:?}");
    assert!(
        !policy_denies(&policies[0], "DatabaseInstance"),
        "relaxed: {}",
        policies[0]
    );
    assert!(
        policy_denies(&policies[1], "DatabaseInstance"),
        "restored: {}",
        policies[1]
    );
    // The relaxed policy is set before the execution, the strict one after.
    let ops = r.cloud.operations();
    let pos = |op: &str| ops.iter().position(|o| o == op).unwrap_or(usize::MAX);
    let last_policy = ops.iter().rposition(|o| o == "SetStackPolicy").unwrap_or(0);
    assert!(pos("SetStackPolicy") < pos("ExecuteChangeSet"));
    assert!(last_policy > pos("ExecuteChangeSet"));
    assert!(
        r.text()
            .contains("allowed by --allow-replace: app: DatabaseInstance"),
        "{}",
        r.text()
    );
}

#[test]
fn production_policy_is_restored_after_a_rollback() {
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| s.termination_protection = true);
    cloud.world.borrow_mut().executions.insert(
        STACK.into(),
        Execution::Fail {
            resource: "DatabaseInstance".into(),
            reason: "quota".into(),
        },
    );
    let new = template(json!({"DatabaseInstance": db("group-b"), "AlarmTopic": topic("alarms")}));
    let opts = DeployOptions {
        allow_replace: ["DatabaseInstance".to_string()].into(),
        ..skip_checks()
    };
    let r = deploy_with(cloud, vec![spec(new, true)], opts);
    assert!(matches!(r.result, Err(Failure::Reported)));
    let policies = r.cloud.calls_of("SetStackPolicy");
    assert_eq!(policies.len(), 2, "{policies:?}");
    assert!(policy_denies(&policies[1], "DatabaseInstance"));
    assert!(
        r.text().contains("app: stack policy restored."),
        "{}",
        r.text()
    );
    let p = r
        .cloud
        .stack(REGION, STACK)
        .and_then(|s| s.policy)
        .expect("policy");
    assert!(p.to_string().contains("LogicalResourceId/DatabaseInstance"));
}

#[test]
fn termination_protection_follows_the_app() {
    // A new production stack: protection turned on after the creation.
    let r = deploy_with(FakeCloud::new(), vec![spec(base(), true)], skip_checks());
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(
        r.cloud.calls_of("UpdateTerminationProtection"),
        ["UpdateTerminationProtection app on"]
    );
    assert!(
        r.cloud
            .stack(REGION, STACK)
            .expect("stack")
            .termination_protection
    );
    assert!(r.text().contains("app: termination protection on."));
    // A stack the app no longer marks as production: turned off.
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| s.termination_protection = true);
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("x")}));
    let r = deploy(cloud, new, skip_checks());
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(
        r.cloud.calls_of("UpdateTerminationProtection"),
        ["UpdateTerminationProtection app off"]
    );
}

#[test]
fn destroy_is_refused_for_a_production_stack_and_follows_the_deletion_otherwise() {
    let cloud = deployed(base());
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(base(), true)], Cancel::new());
    let r = block_on(e.destroy(&mut out, STACK, true));
    assert!(matches!(r, Err(Failure::Refused(ref m)) if m.contains("production stack")));
    let mut e = engine(&cloud, vec![spec(base(), false)], Cancel::new());
    let r = block_on(e.destroy(&mut out, STACK, true));
    assert!(r.is_ok(), "{r:?}\n{}", out.text());
    assert!(
        out.text().contains(
            "Deleted with their data: DatabaseInstance (AWS::RDS::DBInstance, final snapshot taken)"
        ),
        "{}",
        out.text()
    );
    assert!(
        cloud
            .stack(REGION, STACK)
            .is_some_and(|s| s.status == "DELETE_COMPLETE")
    );
}

#[test]
fn parameters_come_from_the_template_metadata_of_another_regions_stack() {
    let cloud = FakeCloud::new();
    cloud.put_stack(
        "us-east-1",
        "app-edge",
        template(json!({"Cert": topic("c")})),
        "CREATE_COMPLETE",
    );
    cloud.edit_stack("us-east-1", "app-edge", |s| {
        s.outputs.insert(
            "EdgeCertificateArn".into(),
            "arn:aws:acm:us-east-1:1:certificate/x".into(),
        );
    });
    let mut t = base();
    t["Parameters"] = json!({"EdgeCertificateArn": {"Type": "String"}});
    t["Metadata"] = json!({"khs:parameter-sources": {"EdgeCertificateArn":
        {"Stack": "app-edge", "Region": "us-east-1", "Output": "EdgeCertificateArn"}}});
    let r = deploy(cloud, t, skip_checks());
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    assert!(r.text().contains(
        "app: parameter EdgeCertificateArn = output EdgeCertificateArn of app-edge (us-east-1)"
    ));
    let s = r.cloud.stack(REGION, STACK).expect("stack");
    assert_eq!(
        s.parameters["EdgeCertificateArn"],
        "arn:aws:acm:us-east-1:1:certificate/x"
    );
}

#[test]
fn allow_replace_matching_no_resource_is_an_error_before_anything_is_created() {
    let new = template(json!({"DatabaseInstance": db("group-b"), "AlarmTopic": topic("alarms")}));
    let opts = DeployOptions {
        allow_replace: ["DatabaseInstanse".to_string()].into(),
        ..skip_checks()
    };
    let r = deploy(deployed(base()), new, opts);
    let m = r.message();
    assert!(
        m.contains("--allow-replace DatabaseInstanse matches no resource of app"),
        "{m}"
    );
    assert!(m.contains("did you mean DatabaseInstance?"), "{m}");
    assert!(r.cloud.calls_of("CreateChangeSet").is_empty());
}

#[test]
fn allow_replace_of_a_removed_resource_is_found_in_the_deployed_template() {
    let new = template(json!({"AlarmTopic": topic("alarms")}));
    let opts = DeployOptions {
        allow_replace: ["DatabaseInstance".to_string()].into(),
        ..skip_checks()
    };
    let r = deploy(deployed(base()), new, opts);
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
}

fn drifted_topic() -> ResourceDrift {
    ResourceDrift {
        logical_id: "AlarmTopic".into(),
        resource_type: "AWS::SNS::Topic".into(),
        status: "MODIFIED".into(),
        properties: vec![PropertyDrift {
            path: "/Properties/DisplayName".into(),
            expected: "alarms".into(),
            actual: "hand-edited".into(),
            difference: "NOT_EQUAL".into(),
        }],
    }
}

#[test]
fn drift_lists_drifted_resources_and_properties() {
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .drifts
        .insert(STACK.into(), vec![drifted_topic()]);
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(base(), false)], Cancel::new());
    let r = block_on(e.drift(&mut out, STACK));
    assert!(matches!(r, Ok(true)), "{r:?}");
    let text = out.text();
    assert!(
        text.contains("app: 1 resource(s) differ from the deployed template:"),
        "{text}"
    );
    assert!(
        text.contains("MODIFIED AlarmTopic (AWS::SNS::Topic)  app/Alarms/Topic"),
        "{text}"
    );
    assert!(
        text.contains("DisplayName: template alarms, actual hand-edited"),
        "{text}"
    );
    let ops = cloud.operations();
    assert!(ops.contains(&"DetectStackDrift".to_string()));
    assert!(ops.contains(&"DescribeStackDriftDetectionStatus".to_string()));
}

#[test]
fn deploy_shows_what_it_would_revert_and_refuse_drift_stops_it() {
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .drifts
        .insert(STACK.into(), vec![drifted_topic()]);
    let new = template(json!({"DatabaseInstance": db("group-a"), "AlarmTopic": topic("alarms2")}));
    let r = deploy(cloud, new.clone(), DeployOptions::default());
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert!(r.text().contains("drift: this deployment updates AlarmTopic (AWS::SNS::Topic), which was changed outside CloudFormation: it would set DisplayName back to alarms (now hand-edited)"), "{}", r.text());
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .drifts
        .insert(STACK.into(), vec![drifted_topic()]);
    let r = deploy(
        cloud,
        new,
        DeployOptions {
            drift: DriftMode::Refuse,
            ..DeployOptions::default()
        },
    );
    assert!(
        r.refused()
            .contains("refused by --refuse-drift: 1 resource(s)"),
        "{}",
        r.refused()
    );
    assert!(r.cloud.calls_of("CreateChangeSet").is_empty());
}

#[test]
fn drift_detection_unsupported_is_a_note_and_skip_drift_does_not_call_it() {
    let cloud = deployed(base());
    cloud.world.borrow_mut().drift_unsupported = true;
    let r = deploy(cloud, base(), DeployOptions::default());
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert!(
        r.text().contains("note: drift detection skipped:"),
        "{}",
        r.text()
    );
    let r = deploy(deployed(base()), base(), skip_checks());
    assert!(r.cloud.calls_of("DetectStackDrift").is_empty());
}

#[test]
fn diff_runs_drift_first_and_says_an_unchanged_drifted_resource_stays() {
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .drifts
        .insert(STACK.into(), vec![drifted_topic()]);
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(base(), false)], Cancel::new());
    let r = block_on(e.diff(
        &mut out,
        STACK,
        &ParamInput::default(),
        &DiffOptions::default(),
    ));
    assert!(r.is_ok(), "{r:?}");
    assert!(out.text().contains("drift: AlarmTopic (AWS::SNS::Topic) differs from its template (DisplayName: template alarms, actual hand-edited); this deployment does not update it, so the drift stays"), "{}", out.text());
    // --skip-drift: no detection.
    let mut e = engine(&cloud, vec![spec(base(), false)], Cancel::new());
    let before = cloud.calls_of("DetectStackDrift").len();
    let opts = DiffOptions {
        drift: DriftMode::Skip,
        ..DiffOptions::default()
    };
    let r = block_on(e.diff(&mut out, STACK, &ParamInput::default(), &opts));
    assert!(r.is_ok());
    assert_eq!(cloud.calls_of("DetectStackDrift").len(), before);
}

fn named_bucket(name: &str) -> Value {
    json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Metadata": {"khs:path": "app/Assets/Bucket"}, "Properties": {"BucketName": name}})
}

#[test]
fn forecast_refuses_a_name_taken_outside_the_stack() {
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .existing
        .insert(("AWS::S3::Bucket".into(), "khs-assets".into()));
    let mut new = base();
    new["Resources"]["AssetsBucket"] = named_bucket("khs-assets");
    let r = deploy(cloud, new.clone(), skip_checks());
    let msg = r.refused();
    assert!(msg.contains("refused by the forecast: 1 check(s)"), "{msg}");
    assert!(r.text().contains("forecast: app: AssetsBucket (app/Assets/Bucket): a bucket named \"khs-assets\" already exists outside this stack"), "{}", r.text());
    assert!(r.cloud.calls_of("CreateChangeSet").is_empty());
    // --skip-forecast tries anyway; a free name passes.
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .existing
        .insert(("AWS::S3::Bucket".into(), "khs-assets".into()));
    let r = deploy(
        cloud,
        new,
        DeployOptions {
            skip_forecast: true,
            ..skip_checks()
        },
    );
    assert!(r.result.is_ok(), "{:?}", r.result);
    let mut free = base();
    free["Resources"]["AssetsBucket"] = named_bucket("khs-free");
    let r = deploy(deployed(base()), free, skip_checks());
    assert!(r.result.is_ok(), "{:?}", r.result);
}

#[test]
fn forecast_refuses_deleting_a_bucket_that_holds_objects() {
    let mut old = base();
    let mut bucket = named_bucket("khs-assets");
    bucket.as_object_mut().map(|o| {
        o.remove("DeletionPolicy");
        o.remove("UpdateReplacePolicy")
    });
    old["Resources"]["AssetsBucket"] = bucket;
    let cloud = deployed(old);
    let physical = cloud.stack(REGION, STACK).expect("stack").physical["AssetsBucket"].clone();
    cloud
        .world
        .borrow_mut()
        .buckets_with_objects
        .insert(physical.clone());
    let opts = DeployOptions {
        allow_replace: ["AssetsBucket".to_string()].into(),
        ..skip_checks()
    };
    let r = deploy(cloud, base(), opts);
    r.refused();
    assert!(
        r.text().contains(&format!(
            "forecast: app: AssetsBucket (app/Assets/Bucket): bucket {physical} still holds objects"
        )),
        "{}",
        r.text()
    );
}

#[test]
fn forecast_refuses_a_listener_certificate_pending_validation() {
    let arn = "arn:aws:acm:us-west-2:123456789012:certificate/pending";
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .certificates
        .insert(arn.into(), "PENDING_VALIDATION".into());
    let mut new = base();
    new["Parameters"] = json!({"CertificateArn": {"Type": "String"}});
    new["Resources"]["HttpsListener"] = json!({"Type": "AWS::ElasticLoadBalancingV2::Listener",
        "Metadata": {"khs:path": "app/Api/HttpsListener"},
        "Properties": {"Certificates": [{"CertificateArn": {"Ref": "CertificateArn"}}], "Port": 443}});
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(new, false)], Cancel::new());
    let input = ParamInput {
        given: [("CertificateArn".to_string(), arn.to_string())].into(),
        flagged: vec!["CertificateArn".to_string()],
    };
    let r = block_on(e.deploy(&mut out, &[], &skip_checks(), &input));
    assert!(matches!(r, Err(Failure::Refused(_))), "{r:?}");
    assert!(out.text().contains(&format!("forecast: app: HttpsListener (app/Api/HttpsListener): the AWS::ElasticLoadBalancingV2::Listener needs certificate {arn}, which is PENDING_VALIDATION")), "{}", out.text());
}

#[test]
fn forecast_in_diff_names_the_stack_state_and_its_fix() {
    let cloud = deployed(base());
    cloud.edit_stack(REGION, STACK, |s| {
        s.status = "UPDATE_ROLLBACK_FAILED".into()
    });
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(base(), false)], Cancel::new());
    let opts = DiffOptions {
        drift: DriftMode::Skip,
        ..DiffOptions::default()
    };
    let r = block_on(e.diff(&mut out, STACK, &ParamInput::default(), &opts));
    assert!(r.is_ok(), "{r:?}");
    assert!(out.text().contains("forecast: app: the stack is UPDATE_ROLLBACK_FAILED and cannot be updated; run `aws cloudformation continue-update-rollback --stack-name app`"), "{}", out.text());
}

fn moved_template() -> Value {
    let mut d = db("group-a");
    d["Metadata"] =
        json!({"khs:path": "app/MainDatabase/Instance", "khs:moved-from": "DatabaseInstance"});
    template(json!({"MainDatabaseInstance": d, "AlarmTopic": topic("alarms")}))
}

#[test]
fn a_declared_move_runs_a_stack_refactor_then_an_empty_change_set() {
    let cloud = deployed(base());
    let physical = cloud.stack(REGION, STACK).expect("stack").physical["DatabaseInstance"].clone();
    let r = deploy(cloud, moved_template(), skip_checks());
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    let ops = r.cloud.operations();
    let pos = |op: &str| ops.iter().position(|o| o == op).unwrap_or(usize::MAX);
    assert!(pos("CreateStackRefactor") < pos("ExecuteStackRefactor"));
    assert!(pos("ExecuteStackRefactor") < pos("CreateChangeSet"));
    assert!(!ops.contains(&"ExecuteChangeSet".to_string()), "{ops:?}");
    let text = r.text();
    assert!(text.contains("app: moving DatabaseInstance to MainDatabaseInstance (stack refactor; the resource keeps its physical id)"), "{text}");
    assert!(text.contains("app: no changes."), "{text}");
    let s = r.cloud.stack(REGION, STACK).expect("stack");
    assert_eq!(s.physical["MainDatabaseInstance"], physical);
    assert!(!s.physical.contains_key("DatabaseInstance"));
}

#[test]
fn diff_shows_a_declared_move_as_renamed_and_the_guard_sees_no_replacement() {
    let cloud = deployed(base());
    let mut out = Transcript::default();
    let mut e = engine(&cloud, vec![spec(moved_template(), false)], Cancel::new());
    let opts = DiffOptions {
        drift: DriftMode::Skip,
        ..DiffOptions::default()
    };
    let r = block_on(e.diff(&mut out, STACK, &ParamInput::default(), &opts));
    assert!(r.is_ok(), "{r:?}");
    let text = out.text();
    assert!(
        text.contains("MainDatabaseInstance") && text.contains("renamed from DatabaseInstance"),
        "{text}"
    );
    assert!(!text.contains("refused"), "{text}");
    assert!(r.is_ok());
}

#[test]
fn an_undeclared_rename_is_refused_naming_the_declaration() {
    let mut d = db("group-a");
    d["Metadata"] = json!({"khs:path": "app/MainDatabase/Instance"});
    let new = template(json!({"MainDatabaseInstance": d, "AlarmTopic": topic("alarms")}));
    let r = deploy(deployed(base()), new, skip_checks());
    let msg = r.refused();
    assert!(
        msg.contains(
            "DatabaseInstance (AWS::RDS::DBInstance, app/Database/Instance) would be DELETED"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("declare_moved(\"app/MainDatabase/Instance\", \"DatabaseInstance\")"),
        "{msg}"
    );
    assert!(r.cloud.calls_of("CreateStackRefactor").is_empty());
}

#[test]
fn a_refactor_that_fails_stops_before_the_change_set() {
    let cloud = deployed(base());
    // The deployed template changed behind our back: the refactor template
    // (the deployed one renamed) no longer matches what CloudFormation has.
    let mut e = engine(&cloud, vec![spec(moved_template(), false)], Cancel::new());
    let mut out = Transcript::default();
    cloud.world.borrow_mut().fail_next.insert(
        "ExecuteStackRefactor".into(),
        "ValidationError: refactor expired".into(),
    );
    let r = block_on(e.deploy(&mut out, &[], &skip_checks(), &ParamInput::default()));
    assert!(
        matches!(r, Err(Failure::Deploy(ref err)) if err.to_string().contains("ExecuteStackRefactor failed: ValidationError: refactor expired")),
        "{r:?}"
    );
    assert!(cloud.calls_of("CreateChangeSet").is_empty());
    let _ = BTreeSet::<String>::new();
}

#[test]
fn forecast_says_an_undeclared_rename_of_a_named_resource_would_fail() {
    let mut old = base();
    old["Resources"]["AssetsBucket"] = named_bucket("app-assetsbucket");
    let mut new = base();
    let mut b = named_bucket("app-assetsbucket");
    b["Metadata"] = json!({"khs:path": "app/Site/Bucket"});
    new["Resources"]["SiteBucket"] = b;
    let opts = DeployOptions {
        allow_replace: ["AssetsBucket".to_string()].into(),
        ..skip_checks()
    };
    // The fake names physical resources <stack>-<logical id>.
    let r = deploy(deployed(old), new, opts);
    r.refused();
    assert!(r.text().contains("forecast: app: SiteBucket (app/Site/Bucket): the bucket name \"app-assetsbucket\" belongs to AssetsBucket of this stack, which this change removes"), "{}", r.text());
    assert!(
        r.text()
            .contains("stack.declare_moved(\"app/Site/Bucket\", \"AssetsBucket\")"),
        "{}",
        r.text()
    );
}

/// Stack `app` holds the database; `app-data` is where the code moved it.
fn cross_specs(referenced: bool) -> (FakeCloud, Vec<StackSpec>) {
    let cloud = FakeCloud::new();
    let mut old_app = base();
    if referenced {
        old_app["Resources"]["AlarmTopic"]["Properties"]["DisplayName"] =
            json!({"Fn::GetAtt": ["DatabaseInstance", "Endpoint.Address"]});
    }
    cloud.put_stack(REGION, STACK, old_app.clone(), "UPDATE_COMPLETE");
    cloud.put_stack(
        REGION,
        "app-data",
        template(json!({"Keep": topic("keep")})),
        "CREATE_COMPLETE",
    );
    let mut local_app = old_app;
    local_app["Resources"]
        .as_object_mut()
        .map(|r| r.remove("DatabaseInstance"));
    let mut d = db("group-a");
    d["Metadata"] =
        json!({"khs:path": "app-data/Database/Instance", "khs:moved-from": "app/DatabaseInstance"});
    let local_data = template(json!({"Keep": topic("keep"), "DatabaseInstance": d}));
    (
        cloud,
        vec![
            spec(local_app, false),
            StackSpec::new("app-data", REGION, local_data),
        ],
    )
}

#[test]
fn a_move_between_two_stacks_runs_one_refactor_and_keeps_the_physical_id() {
    let (cloud, specs) = cross_specs(false);
    let physical = cloud.stack(REGION, STACK).expect("stack").physical["DatabaseInstance"].clone();
    let r = deploy_with(cloud, specs, skip_checks());
    assert!(r.result.is_ok(), "{:?}\n{}", r.result, r.text());
    let text = r.text();
    assert!(text.contains("app: moving app/DatabaseInstance to app-data/DatabaseInstance (stack refactor; the resource keeps its physical id)"), "{text}");
    assert_eq!(r.cloud.calls_of("CreateStackRefactor").len(), 1);
    // Neither stack's change set deletes or adds the database.
    assert!(text.contains("app: no changes."), "{text}");
    assert!(text.contains("app-data: no changes."), "{text}");
    assert!(
        !r.cloud
            .operations()
            .contains(&"ExecuteChangeSet".to_string())
    );
    let data = r.cloud.stack(REGION, "app-data").expect("stack");
    assert_eq!(data.physical["DatabaseInstance"], physical);
    assert!(
        r.cloud.stack(REGION, STACK).expect("stack").template["Resources"]
            .get("DatabaseInstance")
            .is_none()
    );
}

#[test]
fn diff_of_both_stacks_shows_the_move_and_no_loss() {
    let (cloud, specs) = cross_specs(false);
    let opts = DiffOptions {
        drift: DriftMode::Skip,
        ..DiffOptions::default()
    };
    for (stack, line) in [
        (
            "app",
            "> DatabaseInstance                     moved to app-data/DatabaseInstance",
        ),
        (
            "app-data",
            "> DatabaseInstance                     moved from app/DatabaseInstance",
        ),
    ] {
        let mut out = Transcript::default();
        let mut e = engine(&cloud, specs.clone(), Cancel::new());
        let r = block_on(e.diff(&mut out, stack, &ParamInput::default(), &opts));
        assert!(r.is_ok(), "{r:?}");
        assert!(out.text().contains(line), "{}", out.text());
        assert!(!out.text().contains("refused"), "{}", out.text());
    }
}

#[test]
fn a_resource_still_referenced_in_its_old_stack_cannot_move() {
    let (cloud, specs) = cross_specs(true);
    let r = deploy_with(cloud, specs, skip_checks());
    let m = r.message();
    assert!(
        m.starts_with(
            "app: DatabaseInstance cannot move to app-data: AlarmTopic of app still refer(s) to it"
        ),
        "{m}"
    );
    assert!(r.cloud.calls_of("CreateStackRefactor").is_empty());
}

#[test]
fn forecast_reads_a_distribution_certificate_in_us_east_1() {
    let arn = "arn:aws:acm:us-east-1:123456789012:certificate/edge";
    let cloud = deployed(base());
    cloud
        .world
        .borrow_mut()
        .certificates
        .insert(arn.into(), "PENDING_VALIDATION".into());
    let mut new = base();
    new["Resources"]["Distribution"] = json!({"Type": "AWS::CloudFront::Distribution",
        "Metadata": {"khs:path": "app/Site/Distribution"},
        "Properties": {"DistributionConfig": {"Enabled": true,
            "ViewerCertificate": {"AcmCertificateArn": arn, "SslSupportMethod": "sni-only"}}}});
    let r = deploy(cloud, new, skip_checks());
    r.refused();
    assert!(r.text().contains(&format!("forecast: app: Distribution (app/Site/Distribution): the AWS::CloudFront::Distribution needs certificate {arn}, which is PENDING_VALIDATION")), "{}", r.text());
    // Read through a us-east-1 client although the stack is in us-west-2.
    assert_eq!(
        r.cloud.calls_of("DescribeCertificate"),
        [format!("DescribeCertificate app us-east-1 {arn}")]
    );
}
