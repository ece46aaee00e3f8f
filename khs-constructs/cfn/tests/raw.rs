//! `RawResource`: the escape hatch is checked like a typed resource.
//! (Integration tests: the generated crate's library has no test harness,
//! so that `cargo test` does not compile its 26 MB a second time.)

use khs_cfn::RawResource;
use khs_core::error::Error;
use khs_core::path::ConstructPath;
use khs_core::resource::Resource;

use serde_json::json;

fn path() -> ConstructPath {
    ConstructPath::root("stack")
        .child("Thing")
        .expect("valid id")
}

#[test]
fn fails_when_type_name_is_a_typo() {
    let r = RawResource::new("AWS::EC2::Subnett", json!({}));
    let err = r.validate(&path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("stack/Thing: unknown resource type"),
        "{msg}"
    );
    assert!(msg.contains("AWS::EC2::Subnet"), "{msg}");
    match err {
        Error::UnknownResourceType { suggestions, .. } => {
            assert_eq!(suggestions[0], "AWS::EC2::Subnet");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn fails_when_case_differs_and_suggests_the_right_case() {
    let r = RawResource::new("aws::ec2::vpc", json!({}));
    let err = r.validate(&path()).unwrap_err();
    assert!(
        err.to_string().contains("did you mean AWS::EC2::VPC?"),
        "{err}"
    );
}

#[test]
fn fails_when_properties_are_not_an_object() {
    let r = RawResource::new("AWS::SQS::Queue", json!([1]));
    let err = r.validate(&path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack/Thing: properties must be a JSON object, got an array"
    );
}

#[test]
fn fails_when_a_property_is_not_in_the_schema() {
    let r = RawResource::new("AWS::EC2::Subnet", json!({"VpcId": "v", "CidrBlok": "x"}));
    let err = r.validate(&path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("stack/Thing: properties"), "{msg}");
    assert!(
        msg.contains("\"CidrBlok\"; did you mean CidrBlock"),
        "{msg}"
    );
}

#[test]
fn accepts_known_and_custom_types() {
    for t in ["Custom::Seeder", "AWS::EC2::Subnet"] {
        RawResource::new(t, json!({"VpcId": "v"}))
            .validate(&path())
            .expect(t);
    }
    let r = RawResource::new("Custom::Seeder", json!({"A": 1}));
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"A": 1}));
    assert!(r.spec().is_none());
    // Every registry type has its metadata, whatever features are on.
    let queue = RawResource::new("AWS::SQS::Queue", json!({"FifoQueue": true}));
    queue.validate(&path()).expect("queue");
    assert!(queue.spec().is_some_and(|s| s.stateful));
}

#[test]
fn a_raw_resource_is_added_and_a_typo_is_refused_with_close_matches() {
    use khs_core::scope::AsScope;
    use khs_core::stack::{Environment, Stack, StackProps};
    let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
    let mut scope = stack.as_scope();
    let queue = RawResource::new("AWS::SQS::Queue", json!({"SqsManagedSseEnabled": true}));
    scope.add("Queue", queue).unwrap();
    let typo = RawResource::new("AWS::SQS::Queu", json!({}));
    let err = scope.add("Typo", typo).unwrap_err();
    assert!(err.to_string().contains("did you mean AWS::SQS::Queue"));
}
