//! Schema-driven validation (`khs_cfn::validate`), on the cases and
//! on every type's data.

use khs_cfn::{registry, validate};
use khs_core::path::ConstructPath;
use serde_json::Value as Json;

use serde_json::json;

fn path() -> ConstructPath {
    ConstructPath::root("app").child("Thing").expect("id")
}

fn check(type_name: &str, props: Json) -> std::result::Result<(), String> {
    validate::properties(type_name, &props, &path()).map_err(|e| e.to_string())
}

#[test]
fn every_type_has_a_parsable_schema() {
    for spec in registry::specs() {
        let data = validate::schema(spec.type_name);
        assert!(data.is_some(), "{}", spec.type_name);
        // What synthesis checks against: the compiled form of the same data.
        assert_eq!(
            validate::compiles(spec.type_name),
            data.is_some_and(|d| d.get("s").is_some()),
            "{}",
            spec.type_name
        );
    }
    assert!(!validate::compiles("Custom::Thing"));
}

#[test]
fn fails_when_an_rds_engine_version_does_not_exist() {
    let err = check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "EngineVersion": "16.99", "DBInstanceClass": "db.t3.small"}),
    )
    .expect_err("16.99");
    assert!(
        err.starts_with("app/Thing: AWS::RDS::DBInstance property EngineVersion is \"16.99\", which is not an allowed value"),
        "{err}"
    );
    assert!(err.contains("16.1"), "{err}");
    check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "EngineVersion": "16.13", "DBInstanceClass": "db.t3.small"}),
    )
    .expect("16.13 exists");
}

#[test]
fn fails_when_an_instance_class_does_not_exist() {
    let err = check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.huge"}),
    )
    .expect_err("db.t3.huge");
    assert!(err.contains("DBInstanceClass is \"db.t3.huge\""), "{err}");
    let err = check(
        "AWS::ElastiCache::ReplicationGroup",
        json!({"ReplicationGroupDescription": "x", "CacheNodeType": "cache.t3.nano"}),
    )
    .expect_err("cache.t3.nano");
    assert!(err.contains("CacheNodeType is \"cache.t3.nano\""), "{err}");
    assert!(err.contains("did you mean"), "{err}");
}

#[test]
fn intrinsics_are_never_judged() {
    check(
        "AWS::RDS::DBInstance",
        json!({"Engine": {"Ref": "Engine"}, "EngineVersion": "16.99", "DBInstanceClass": {"Ref": "Class"}}),
    )
    .expect("the engine is not known, so its versions are not either");
    check(
        "AWS::EC2::SecurityGroupIngress",
        json!({"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": {"Ref": "Port"}, "GroupId": {"Ref": "G"}, "CidrIp": "10.0.0.0/8"}),
    )
    .expect("intrinsic ports");
}

#[test]
fn fails_on_ranges_lengths_and_unknown_nested_properties() {
    let err = check(
        "AWS::EC2::SecurityGroupIngress",
        json!({"IpProtocol": "tcp", "FromPort": 70000, "ToPort": 70000, "GroupId": "sg-1", "CidrIp": "10.0.0.0/8"}),
    )
    .expect_err("port 70000");
    assert!(err.contains("70000"), "{err}");
    let long = "x".repeat(300);
    let err = check(
        "AWS::Route53::RecordSet",
        json!({"Name": "example.org.", "Type": "TXT", "TTL": "300", "HostedZoneId": "Z1", "ResourceRecords": [format!("\"{long}\"")]}),
    )
    .expect_err("long TXT");
    assert!(err.contains("ResourceRecords"), "{err}");
    let err = check(
        "AWS::Route53::RecordSet",
        json!({"Name": "example.org.", "Type": "A", "TTL": "300", "HostedZoneId": "Z1", "ResourceRecords": ["www.example.org"]}),
    )
    .expect_err("A record with a host name");
    assert!(err.contains("ResourceRecords.0"), "{err}");
}

#[test]
fn fails_when_a_fargate_task_size_is_not_a_fargate_size() {
    let err = check(
        "AWS::ECS::TaskDefinition",
        json!({"RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc", "Cpu": "300", "Memory": "100",
               "ContainerDefinitions": [{"Name": "app", "Image": "nginx"}]}),
    )
    .expect_err("cpu 300");
    assert!(err.contains("Cpu") || err.contains("Memory"), "{err}");
}

#[test]
fn custom_resources_pass() {
    check("Custom::Seeder", json!({"Anything": [1, 2]})).expect("custom");
}
