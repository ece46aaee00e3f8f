//! Every policy in every synthesized template follows the least-privilege
//! rules of `khs_constructs::iam`: no `"Action": "*"`, no write action on
//! `"Resource": "*"` (except the documented actions AWS only authorizes on
//! `*`). Checks both what the code synthesizes and the committed
//! `synth-out/` files.

use khs_constructs::iam::check_template;

#[path = "../../khs-constructs/examples/queue_worker.rs"]
#[allow(dead_code)]
mod queue_worker;

#[test]
fn no_policy_allows_everything_or_writes_everywhere() {
    let artifacts = khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    let mut problems = Vec::new();
    for a in &artifacts {
        let template: serde_json::Value = serde_json::from_str(&a.json).expect("template is JSON");
        problems.extend(
            check_template(&template)
                .into_iter()
                .map(|p| format!("{}: {p}", a.name)),
        );
    }
    let dir = khs_tests::synth_out();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("synth-out exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            files += 1;
            let text = std::fs::read_to_string(&path).expect("readable");
            let template: serde_json::Value =
                serde_json::from_str(&text).expect("template is JSON");
            problems.extend(
                check_template(&template)
                    .into_iter()
                    .map(|p| format!("{}: {p}", path.display())),
            );
        }
    }
    assert!(files >= 2, "expected templates in {}", dir.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn serverless_and_messaging_templates_follow_least_privilege() {
    let handler = khs_tests::serverless_app::queue_worker_handler();
    let mut artifacts = khs_tests::serverless_app::every_construct(&handler)
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    artifacts.extend(
        queue_worker::app(&handler)
            .expect("example builds")
            .synth()
            .expect("example synthesizes"),
    );
    let mut problems = Vec::new();
    let mut policies = 0;
    for a in &artifacts {
        let template: serde_json::Value = serde_json::from_str(&a.json).expect("template is JSON");
        policies += a
            .template
            .resources
            .values()
            .filter(|r| r.type_name == "AWS::IAM::Policy")
            .count();
        problems.extend(
            check_template(&template)
                .into_iter()
                .map(|p| format!("{}: {p}", a.name)),
        );
    }
    assert!(
        policies >= 15,
        "expected the grants' policies, got {policies}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_catches_a_wildcard_policy() {
    let bad = serde_json::json!({"Resources": {"R": {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "p", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}}}});
    assert_eq!(check_template(&bad).len(), 1);
}
