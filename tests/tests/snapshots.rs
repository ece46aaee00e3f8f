//! One insta snapshot per stack of the KHS app. Review changes with
//! `cargo insta review`; CI runs with INSTA_UPDATE=no and never writes them.

#[test]
fn every_stack_matches_its_snapshot() {
    let artifacts = khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    assert!(
        artifacts.len() >= 2,
        "expected production and staging stacks"
    );
    for a in &artifacts {
        let template: serde_json::Value = serde_json::from_str(&a.json).expect("template is JSON");
        insta::assert_json_snapshot!(a.name.clone(), template);
    }
}
