//! The deploy command line against moto_server on 127.0.0.1: the built
//! binary (`khs-test-deploy`, the CLI over `tests/src/deploy_app.rs`) is run
//! with arguments, exactly as a user runs an app's binary. Each test starts
//! its own moto_server on a free port (killed on drop) and checks the
//! resources through moto's EC2/S3/RDS/ECS APIs.
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_moto`.

use std::process::Command;

use khs_tests::cli_run::{Run, expect_out, run};
use khs_tests::deploy_app::{
    BIG_STACK, BUCKET, BUCKET_STACK, CONSUMER_STACK, DATA_BUCKET, DB_NAME, PROD_STACK, SERVICE,
    SOURCE_STACK, STACK, TOPIC_PARAMETER, VPC_CIDR,
};
use khs_tests::moto::MotoServer;
use khs_tests::offline_aws_env;

fn khs(moto: &MotoServer, variant: &str, args: &[&str]) -> Run {
    run(
        env!("CARGO_BIN_EXE_khs-test-deploy"),
        moto,
        &[("KHS_TEST_VARIANT", variant)],
        args,
    )
}

/// The KHS CRM app's own command line (`khs` in khs-app).
fn khs_crm(moto: &MotoServer, args: &[&str]) -> Run {
    run(
        env!("CARGO_BIN_EXE_khs-crm-deploy"),
        moto,
        &[("KHS_TEST_VARIANT", "khs-crm")],
        args,
    )
}

/// Asserts that `status` printed `stack` (its first column) in `state`.
#[track_caller]
fn expect_status(r: &Run, stack: &str, state: &str) {
    assert!(
        r.out
            .lines()
            .any(|l| l.split_whitespace().next() == Some(stack) && l.contains(state)),
        "{stack} not {state} in:\n{}",
        r.out
    );
}

fn moto() -> MotoServer {
    let m = MotoServer::start()
        .map_err(|e| format!("the deploy tests need moto_server: {e}"))
        .expect("moto_server");
    m.reset().expect("reset moto");
    m
}

fn cfn_query(m: &MotoServer, action_and_args: &str) -> String {
    m.query("cloudformation", action_and_args, "2010-05-15")
        .expect(action_and_args)
}

fn ec2(m: &MotoServer, action: &str) -> String {
    m.query("ec2", action, "2016-11-15").expect(action)
}

/// A certificate in moto's ACM (its ELBv2 checks the HTTPS listener's).
fn certificate(m: &MotoServer) -> String {
    let out = m
        .json(
            "acm",
            "CertificateManager.RequestCertificate",
            r#"{"DomainName": "api.example.com"}"#,
        )
        .expect("acm RequestCertificate");
    let v: serde_json::Value = serde_json::from_str(&out).expect("acm json");
    v["CertificateArn"].as_str().expect("an ARN").to_string()
}

/// Runs `deploy STACK <extra>… --parameters FILE` (base variant) with a
/// parameters file holding a moto certificate and the first image tag; the
/// file is removed afterwards.
fn deploy_base_with(m: &MotoServer, extra: &[&str]) -> Run {
    let path = std::env::temp_dir().join(format!("khs-deploy-test-{}.json", m.port));
    let body = serde_json::json!({"CertificateArn": certificate(m), "ImageTag": "v1"});
    std::fs::write(&path, body.to_string()).expect("write the parameters file");
    let file = path.to_str().expect("utf-8 temp path");
    let mut args = vec!["deploy", STACK];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--parameters", file]);
    let r = khs(m, "base", &args);
    let _ = std::fs::remove_file(&path);
    r
}

/// Deploys the base variant with its parameters.
fn deploy_base(m: &MotoServer) -> Run {
    deploy_base_with(m, &[])
}

#[test]
fn deploys_updates_reports_no_changes_and_destroys() {
    let m = moto();

    let r = khs(&m, "base", &["diff", STACK]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "not deployed yet");
    expect_out(&r, "+ DatabaseInstance");

    // The parameters are required: a clear error before anything is sent.
    let r = khs(&m, "base", &["deploy", STACK]);
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(
        &r,
        "parameter(s) CertificateArn, ImageTag have no value and no default",
    );

    let r = deploy_base(&m);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, &format!("{STACK}: CREATE_COMPLETE"));

    // The constructs' resources exist, seen through moto's service APIs.
    assert!(ec2(&m, "DescribeVpcs").contains(VPC_CIDR));
    let subnets = ec2(&m, "DescribeSubnets");
    for cidr in [
        "10.42.1.0/24",
        "10.42.2.0/24",
        "10.42.11.0/24",
        "10.42.12.0/24",
    ] {
        assert!(subnets.contains(cidr), "{cidr} missing: {subnets}");
    }
    assert!(m.s3("GET", "/").expect("ListBuckets").contains(BUCKET));
    let dbs = m
        .query("rds", "DescribeDBInstances", "2014-10-31")
        .expect("rds");
    assert!(dbs.contains("<Engine>postgres</Engine>"), "{dbs}");
    assert!(
        dbs.contains(&format!("<DBName>{DB_NAME}</DBName>")),
        "{dbs}"
    );
    assert!(
        dbs.contains("<StorageEncrypted>true</StorageEncrypted>"),
        "{dbs}"
    );
    let clusters = m
        .json(
            "ecs",
            "AmazonEC2ContainerServiceV20141113.ListClusters",
            "{}",
        )
        .expect("ecs");
    let cluster = clusters
        .split('"')
        .find(|s| s.starts_with("arn:aws:ecs"))
        .expect("a cluster");
    let services = m
        .json(
            "ecs",
            "AmazonEC2ContainerServiceV20141113.ListServices",
            &format!(r#"{{"cluster": "{cluster}"}}"#),
        )
        .expect("ecs services");
    assert!(services.contains(SERVICE), "{services}");
    let lbs = m
        .query(
            "elasticloadbalancing",
            "DescribeLoadBalancers",
            "2015-12-01",
        )
        .expect("elbv2");
    assert!(lbs.contains("<Scheme>internet-facing</Scheme>"), "{lbs}");

    // Same code again, parameters kept from the deployed stack: a clean
    // "no changes", exit 0.
    let r = khs(&m, "base", &["deploy", STACK]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, &format!("{STACK}: no changes."));

    // An in-place update and a new image: the diff names the paths, the
    // deploy applies them.
    let r = khs(&m, "update", &["diff", STACK, "--parameter", "ImageTag=v2"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "~ ApiService");
    expect_out(&r, "~ DesiredCount: 1 -> 2");
    expect_out(&r, "~ MinCapacity: 1 -> 2");
    expect_out(&r, "~ AssetsBucket");
    expect_out(&r, "ImageTag");
    assert!(!r.out.contains("would be refused"), "{}", r.out);
    let r = khs(
        &m,
        "update",
        &["deploy", STACK, "--parameter", "ImageTag=v2"],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, &format!("{STACK}: UPDATE_COMPLETE"));
    let template = cfn_query(&m, &format!("GetTemplate&StackName={STACK}"));
    assert!(template.contains("archive"), "{template}");

    let r = khs(&m, "update", &["status"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "UPDATE_COMPLETE");
    expect_out(&r, BIG_STACK);
    expect_out(&r, "not deployed");

    let r = khs(&m, "update", &["destroy", STACK, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "Kept (DeletionPolicy Retain");
    expect_out(&r, "AssetsBucket (AWS::S3::Bucket)");
    expect_out(
        &r,
        "DatabaseInstance (AWS::RDS::DBInstance, final snapshot taken)",
    );
    expect_out(&r, &format!("{STACK}: DELETE_COMPLETE"));
    let r = khs(&m, "update", &["status"]);
    expect_status(&r, STACK, "not deployed");
    // The network went with the stack; the retained bucket stayed.
    assert!(!ec2(&m, "DescribeVpcs").contains(VPC_CIDR));
    assert!(m.s3("GET", "/").expect("ListBuckets").contains(BUCKET));
}

#[test]
fn refuses_a_database_replacement_unless_allowed() {
    let m = moto();
    let r = deploy_base(&m);
    assert_eq!(r.code, 0, "{}", r.out);

    // The offline diff predicts it (moto's change sets carry no Replacement).
    let r = khs(&m, "replace-db", &["diff", STACK, "--changeset"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "~ DatabaseInstance");
    expect_out(&r, "[REPLACE]");
    expect_out(&r, r#"~ DBName: "khsdeploy" -> "khsdeploy2"  replaces"#);
    expect_out(&r, "would be refused by the data-loss guard");

    let r = khs(&m, "replace-db", &["deploy", STACK]);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "DatabaseInstance (AWS::RDS::DBInstance, khs-deploy-test/Database/Instance) would be REPLACED",
    );
    expect_out(&r, "changing DBName");
    expect_out(&r, "--allow-replace DatabaseInstance");
    // Nothing was executed: the deployed template still has the old name.
    let template = cfn_query(&m, &format!("GetTemplate&StackName={STACK}"));
    assert!(!template.contains("khsdeploy2"), "{template}");

    let r = khs(
        &m,
        "replace-db",
        &["deploy", STACK, "--allow-replace", "DatabaseInstance"],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "allowed by --allow-replace");
    expect_out(&r, &format!("{STACK}: UPDATE_COMPLETE"));
    // moto applies the template without replacing anything: check the
    // deployed template instead.
    let template = cfn_query(&m, &format!("GetTemplate&StackName={STACK}"));
    assert!(template.contains("khsdeploy2"), "{template}");
}

#[test]
fn dry_run_shows_the_change_set_and_executes_nothing() {
    let m = moto();
    let r = deploy_base_with(&m, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "Change set for khs-deploy-test");
    expect_out(&r, "dry run");
    assert!(!ec2(&m, "DescribeVpcs").contains(VPC_CIDR));
    let r = khs(&m, "base", &["status"]);
    expect_status(&r, STACK, "not deployed");
}

#[test]
fn large_templates_go_through_the_named_bucket() {
    let m = moto();
    let r = khs(&m, "base", &["deploy", BIG_STACK]);
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(&r, "pass --template-bucket BUCKET");

    // An API error, reported in one line with its code.
    let r = khs(
        &m,
        "base",
        &[
            "deploy",
            BIG_STACK,
            "--template-bucket",
            "khs-no-such-bucket",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(
        &r,
        "error: khs-deploy-big: PutObject (template upload) failed: NoSuchBucket",
    );

    m.s3("PUT", "/khs-templates-test").expect("create bucket");
    let r = khs(
        &m,
        "base",
        &[
            "deploy",
            BIG_STACK,
            "--template-bucket",
            "khs-templates-test",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(
        &r,
        "uploaded to https://s3.us-east-1.amazonaws.com/khs-templates-test/cloudformation/khs-deploy-big/",
    );
    expect_out(&r, &format!("{BIG_STACK}: CREATE_COMPLETE"));
}

#[test]
fn production_stacks_get_termination_protection_and_a_stack_policy() {
    let m = moto();
    let r = khs(&m, "base", &["deploy", PROD_STACK]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "stack policy denies Update:Replace");
    let policy = cfn_query(&m, &format!("GetStackPolicy&StackName={PROD_STACK}"));
    assert!(
        policy.contains("Update:Replace") && policy.contains("LogicalResourceId/AuditLogs"),
        "{policy}"
    );
    // moto 5.2.5 does not implement UpdateTerminationProtection: the client
    // says so and goes on; against AWS the flag is set (and an AWS error
    // there fails the deployment).
    assert!(
        r.out.contains("termination protection on.")
            || r.out.contains("warning: khs-deploy-prod: UpdateTerminationProtection failed: the endpoint answered HTTP 500"),
        "{}",
        r.out
    );

    let r = khs(&m, "base", &["destroy", PROD_STACK, "--yes"]);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(&r, "is a production stack");
}

#[test]
fn missing_credentials_are_one_sentence() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_khs-test-deploy"));
    offline_aws_env(&mut cmd)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["status", "--endpoint-url", "http://127.0.0.1:9"]);
    let out = cmd.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: no AWS credentials found: log in with `aws sso login`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn help_explains_the_commands_and_the_guard() {
    let out = Command::new(env!("CARGO_BIN_EXE_khs-test-deploy"))
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "diff",
        "deploy",
        "destroy",
        "status",
        "watch",
        "drift",
        "THE DATA-LOSS GUARD",
        "declare_moved",
        "--endpoint-url",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_khs-test-deploy"))
        .args(["deploy", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--allow-replace",
        "--dry-run",
        "--approve",
        "--parameters",
        "--parameter",
        "--template-bucket",
        "--skip-drift",
        "--refuse-drift",
        "--skip-forecast",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}

/// The KHS production stack itself (171 kB, 156 resources): the offline diff,
/// and a dry run that creates the change set through the template bucket,
/// shows it, applies the guard and executes nothing. Executing it on moto is
/// not tested: moto's CloudFormation skips CloudFront, WAFv2, ElastiCache,
/// Secrets Manager and more, and a `GetAtt` to a skipped resource fails.
#[test]
fn the_production_stack_diffs_and_dry_runs() {
    let m = moto();
    let r = khs_crm(&m, &["diff", "khs-crm-prod"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "Stack khs-crm-prod (us-east-1): not deployed yet");
    expect_out(&r, "+ DatabaseInstance");
    expect_out(&r, "+ CacheReplicationGroup");

    m.s3("PUT", "/khs-templates").expect("create bucket");
    let base = [
        "deploy",
        "khs-crm-prod",
        "--dry-run",
        "--parameter",
        "ImageTag=3f2c1e0",
        // Filled from the DR stack's output when that stack is deployed;
        // given here, as a user may, since only production is dry-run.
        "--parameter",
        "KhsCrmProdBackupDrBackupReplicationKeyArn=arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "--template-bucket",
        "khs-templates",
    ];
    // Production and widening access (a new stack opens its listeners and
    // creates roles): refused without --approve, even for a dry run.
    let r = khs_crm(&m, &base);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "khs-crm-prod is a production stack and this deployment widens access",
    );

    let mut approved = base.to_vec();
    approved.push("--approve");
    let r = khs_crm(&m, &approved);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(
        &r,
        "uploaded to https://s3.us-east-1.amazonaws.com/khs-templates/cloudformation/khs-crm-prod/",
    );
    expect_out(&r, "Change set for khs-crm-prod:");
    expect_out(
        &r,
        "khs-crm-prod: dry run: the change set was created and checked, not executed",
    );
    // Nothing was created.
    let r = khs_crm(&m, &["status"]);
    expect_status(&r, "khs-crm-prod", "not deployed");
}

/// A parameter filled from another stack's output in another region (the
/// `khs:parameter-sources` the edge split declares): refused with a clear
/// message while the source is not deployed; then both stacks deploy in
/// dependency order, whatever the order on the command line.
#[test]
fn parameters_come_from_another_regions_stack_outputs() {
    let m = moto();
    let r = khs(&m, "base", &["deploy", CONSUMER_STACK]);
    assert_eq!(r.code, 1, "{}", r.out);
    expect_out(
        &r,
        &format!(
            "{CONSUMER_STACK}: parameter {TOPIC_PARAMETER} comes from output {TOPIC_PARAMETER} of stack {SOURCE_STACK} (us-east-1), which is not deployed or has no such output; deploy {SOURCE_STACK} first"
        ),
    );

    let r = khs(&m, "base", &["deploy", CONSUMER_STACK, SOURCE_STACK]);
    assert_eq!(r.code, 0, "{}", r.out);
    let source_done = r
        .out
        .find(&format!("{SOURCE_STACK}: CREATE_COMPLETE"))
        .expect("source deployed");
    let filled = r
        .out
        .find(&format!(
            "{CONSUMER_STACK}: parameter {TOPIC_PARAMETER} = output {TOPIC_PARAMETER} of {SOURCE_STACK} (us-east-1)"
        ))
        .expect("parameter filled");
    assert!(source_done < filled, "{}", r.out);
    expect_out(&r, &format!("{CONSUMER_STACK}: CREATE_COMPLETE"));

    // The consumer, in us-west-2, got the us-east-1 topic's ARN.
    let r = khs(&m, "base", &["status"]);
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "arn:aws:sns:us-east-1:123456789012:khs-deploy-alerts");
    let consumer = m
        .query_in(
            "us-west-2",
            "cloudformation",
            &format!("DescribeStacks&StackName={CONSUMER_STACK}"),
            "2010-05-15",
        )
        .expect("DescribeStacks");
    assert!(
        consumer.contains(
            "<ParameterValue>arn:aws:sns:us-east-1:123456789012:khs-deploy-alerts</ParameterValue>"
        ),
        "{consumer}"
    );
}

/// Runs the binary on a terminal (util-linux `script` gives it a pseudo-
/// terminal) with `answer` typed at its prompt; output as the terminal shows
/// it.
fn on_terminal(exe: &str, moto: &MotoServer, args: &[&str], answer: &str) -> Run {
    let mut line = format!("'{exe}'");
    for a in args
        .iter()
        .copied()
        .chain(["--endpoint-url", &moto.endpoint()])
    {
        line.push_str(&format!(" '{a}'"));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = offline_aws_env(&mut cmd)
        .spawn()
        .expect("util-linux `script` (gives the command a terminal)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("type the answer");
    }
    let out = child.wait_with_output().expect("script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("$ (terminal) khs {} <<< {answer}\n{text}", args.join(" "));
    Run {
        code: out.status.code().unwrap_or(-1),
        out: text,
    }
}

/// On a terminal the client asks instead of requiring `--yes` / `--approve`,
/// and shows a progress bar; without one it refuses and says which flag.
#[test]
fn on_a_terminal_it_asks_and_shows_progress() {
    let m = moto();
    let exe = env!("CARGO_BIN_EXE_khs-test-deploy");
    let r = khs(&m, "base", &["deploy", SOURCE_STACK]);
    assert_eq!(r.code, 0, "{}", r.out);

    let r = khs(&m, "base", &["destroy", SOURCE_STACK]);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "not destroyed: there is no terminal to confirm on; pass --yes",
    );

    let r = on_terminal(exe, &m, &["destroy", SOURCE_STACK], "n");
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(&r, &format!("Delete stack {SOURCE_STACK}? [y/N]"));
    expect_out(&r, &format!("{SOURCE_STACK}: not destroyed."));
    let r = khs(&m, "base", &["status"]);
    expect_status(&r, SOURCE_STACK, "CREATE_COMPLETE");

    let r = on_terminal(exe, &m, &["destroy", SOURCE_STACK], "y");
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(&r, "resources"); // the progress bar, drawn on a terminal only
    expect_out(&r, &format!("{SOURCE_STACK}: DELETE_COMPLETE"));

    // A production deployment that widens access asks for approval.
    m.s3("PUT", "/khs-templates").expect("create bucket");
    let crm = env!("CARGO_BIN_EXE_khs-crm-deploy");
    let args = [
        "deploy",
        "khs-crm-prod",
        "--dry-run",
        "--parameter",
        "ImageTag=3f2c1e0",
        "--parameter",
        "KhsCrmProdBackupDrBackupReplicationKeyArn=arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "--template-bucket",
        "khs-templates",
    ];
    let r = on_terminal(crm, &m, &args, "n");
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "khs-crm-prod is a production stack; apply these security changes? [y/N]",
    );
    let r = on_terminal(crm, &m, &args, "y");
    assert_eq!(r.code, 0, "{}", r.out);
    expect_out(
        &r,
        "khs-crm-prod: dry run: the change set was created and checked",
    );
}

#[test]
fn forecast_refuses_a_bucket_name_taken_outside_the_stack() {
    let m = moto();
    // Someone else's bucket with the name the stack asks for.
    m.s3("PUT", &format!("/{BUCKET}"))
        .expect("create the bucket");
    let r = deploy_base(&m);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        &format!("a bucket named \"{BUCKET}\" already exists outside this stack"),
    );
    expect_out(&r, "refused by the forecast: 1 check(s)");
    // Read-only: nothing was created, not even a change set's stack.
    let r = khs(&m, "base", &["status"]);
    expect_status(&r, STACK, "not deployed");
}

#[test]
fn forecast_refuses_a_listener_whose_certificate_is_pending_validation() {
    // moto's ACM keeps requested certificates PENDING_VALIDATION this long.
    let m = MotoServer::start_with(&[("MOTO_ACM_VALIDATION_WAIT", "3600")])
        .map_err(|e| format!("the deploy tests need moto_server: {e}"))
        .expect("moto_server");
    let r = deploy_base(&m);
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        "ApiHttpsListener (khs-deploy-test/Api/HttpsListener): the AWS::ElasticLoadBalancingV2::Listener needs certificate arn:aws:acm:us-east-1:",
    );
    expect_out(&r, "which is PENDING_VALIDATION, not ISSUED");
    // --skip-forecast lets it try (moto's load balancer accepts it).
    let r = deploy_base_with(&m, &["--skip-forecast", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.out);
}

#[test]
fn forecast_refuses_deleting_a_bucket_that_holds_objects() {
    let m = moto();
    let r = khs(&m, "bucket-base", &["deploy", BUCKET_STACK, "--skip-drift"]);
    assert_eq!(r.code, 0, "{}", r.out);
    m.s3("PUT", &format!("/{DATA_BUCKET}/report.csv"))
        .expect("put an object");
    // The guard is told to let the bucket go; the forecast still knows
    // CloudFormation cannot delete a bucket that holds objects.
    let r = khs(
        &m,
        "bucket-removed",
        &[
            "deploy",
            BUCKET_STACK,
            "--allow-replace",
            "Data",
            "--skip-drift",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.out);
    expect_out(
        &r,
        &format!(
            "forecast: {BUCKET_STACK}: Data ({BUCKET_STACK}/Data): bucket {DATA_BUCKET} still holds objects, and this change deletes it"
        ),
    );
    expect_out(&r, &format!("aws s3 rm s3://{DATA_BUCKET} --recursive"));
    // Emptied, it goes.
    m.s3("DELETE", &format!("/{DATA_BUCKET}/report.csv"))
        .expect("delete the object");
    let r = khs(
        &m,
        "bucket-removed",
        &[
            "deploy",
            BUCKET_STACK,
            "--allow-replace",
            "Data",
            "--skip-drift",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.out);
}
