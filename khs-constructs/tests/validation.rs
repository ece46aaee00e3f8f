//! Bad input that used to synthesize silently and fail only in cfn-lint or
//! at deploy (issue 10's list): each is now an error at synthesis naming the
//! construct path, the property and what is allowed.

use khs_constructs::cfn::{self, RawResource};
use khs_constructs::prelude::*;
use serde_json::json;

fn stack() -> Stack {
    Stack::new("orders", StackProps::new(Environment::region("eu-west-1"))).expect("stack")
}

/// The error of adding `resource` at `Data/Resource` in a fresh stack.
fn add_err<R: Resource>(resource: R) -> String {
    let mut stack = stack();
    let mut root = stack.as_scope();
    let mut data = root.child("Data").expect("child");
    data.add("Resource", resource)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn fails_when_a_postgres_engine_version_does_not_exist() {
    let msg = add_err(cfn::rds::DbInstance {
        engine: Some("postgres".into()),
        engine_version: Some("16.99".into()),
        db_instance_class: Some("db.t4g.micro".into()),
        ..Default::default()
    });
    assert!(
        msg.starts_with(
            "orders/Data/Resource: AWS::RDS::DBInstance property EngineVersion is \"16.99\", which is not an allowed value"
        ),
        "{msg}"
    );
    assert!(msg.contains("start with \"16.\""), "{msg}");
    assert!(msg.contains("16.13"), "{msg}");
}

#[test]
fn fails_when_a_db_instance_class_does_not_exist() {
    let msg = add_err(cfn::rds::DbInstance {
        engine: Some("postgres".into()),
        db_instance_class: Some("db.t3.huge".into()),
        ..Default::default()
    });
    assert!(
        msg.starts_with(
            "orders/Data/Resource: AWS::RDS::DBInstance property DBInstanceClass is \"db.t3.huge\""
        ),
        "{msg}"
    );
    assert!(msg.contains("db.t3.large"), "{msg}");
}

#[test]
fn fails_when_a_cache_node_type_does_not_exist() {
    let msg = add_err(cfn::elasticache::ReplicationGroup {
        cache_node_type: Some("cache.t3.nano".into()),
        ..cfn::elasticache::ReplicationGroup::new("sessions")
    });
    assert!(
        msg.starts_with(
            "orders/Data/Resource: AWS::ElastiCache::ReplicationGroup property CacheNodeType is \"cache.t3.nano\""
        ),
        "{msg}"
    );
    assert!(msg.contains("cache.t3.micro"), "{msg}");
}

#[test]
fn fails_when_a_txt_record_string_is_too_long() {
    let long = format!("\"{}\"", "v".repeat(300));
    let msg = add_err(RawResource::new(
        "AWS::Route53::RecordSet",
        json!({"HostedZoneId": "Z123", "Name": "example.org.", "Type": "TXT", "TTL": "300",
               "ResourceRecords": [long]}),
    ));
    assert!(
        msg.starts_with("orders/Data/Resource: AWS::Route53::RecordSet property ResourceRecords.0"),
        "{msg}"
    );
}

#[test]
fn fails_when_an_a_record_holds_a_host_name() {
    let msg = add_err(RawResource::new(
        "AWS::Route53::RecordSet",
        json!({"HostedZoneId": "Z123", "Name": "www.example.org.", "Type": "A", "TTL": "300",
               "ResourceRecords": ["lb.example.org"]}),
    ));
    assert!(
        msg.starts_with("orders/Data/Resource: AWS::Route53::RecordSet property ResourceRecords.0 is \"lb.example.org\""),
        "{msg}"
    );
    assert!(msg.contains("ipv4"), "{msg}");
}

#[test]
fn fails_when_a_fargate_task_has_no_fargate_size() {
    let msg = add_err(RawResource::new(
        "AWS::ECS::TaskDefinition",
        json!({"RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
               "Cpu": "300", "Memory": "100",
               "ContainerDefinitions": [{"Name": "app", "Image": "public.ecr.aws/nginx/nginx:1"}]}),
    ));
    assert!(
        msg.starts_with("orders/Data/Resource: AWS::ECS::TaskDefinition property"),
        "{msg}"
    );
    assert!(msg.contains("Cpu") || msg.contains("Memory"), "{msg}");
    assert!(
        msg.contains("cfn-lint E3047") || msg.contains("cfn-lint"),
        "{msg}"
    );
}

#[test]
fn fails_when_a_security_group_rule_names_port_70000() {
    let msg = add_err(cfn::ec2::SecurityGroupIngress {
        ip_protocol: "tcp".into(),
        from_port: Some(70000.into()),
        to_port: Some(70000.into()),
        cidr_ip: Some("10.0.0.0/16".into()),
        group_id: Some("sg-0123456789abcdef0".into()),
        ..cfn::ec2::SecurityGroupIngress::new("tcp")
    });
    assert!(
        msg.starts_with(
            "orders/Data/Resource: AWS::EC2::SecurityGroupIngress property FromPort is 70000, the maximum is 65535"
        ),
        "{msg}"
    );
}

#[test]
fn fails_when_a_raw_property_breaks_its_schema_like_a_typed_one() {
    let msg = add_err(RawResource::new(
        "AWS::SQS::Queue",
        json!({"MessageRetentionPeriod": 30, "VisibilityTimeout": 50000}),
    ));
    assert!(
        msg.starts_with("orders/Data/Resource: AWS::SQS::Queue property"),
        "{msg}"
    );
}

#[test]
fn fails_when_the_region_is_not_an_aws_region() {
    for (region, hint) in [("eu-middle-9", None), ("eu-west-l", Some("eu-west-1"))] {
        let msg = Stack::new("orders", StackProps::new(Environment::region(region)))
            .expect_err(region)
            .to_string();
        assert!(
            msg.starts_with(&format!(
                "orders: env.region is {region:?}, which is not an AWS region"
            )),
            "{msg}"
        );
        if let Some(hint) = hint {
            assert!(msg.contains(&format!("did you mean {hint:?}")), "{msg}");
        }
        assert!(msg.contains("us-east-1"), "{msg}");
    }
}

#[test]
fn fails_when_the_account_is_not_twelve_digits() {
    let msg = Stack::new(
        "orders",
        StackProps::new(Environment::new("12345", "eu-west-1")),
    )
    .expect_err("5 digits")
    .to_string();
    assert_eq!(
        msg,
        "orders: env.account is \"12345\"; an AWS account id is exactly 12 digits (keep leading zeros: \"012345678901\")"
    );
    Stack::new(
        "orders",
        StackProps::new(Environment::new("012345678901", "eu-west-1")),
    )
    .expect("12 digits");
}

#[test]
fn values_resolved_at_deploy_time_are_not_judged() {
    let mut stack = stack();
    let mut s = stack.as_scope();
    s.add(
        "Db",
        cfn::rds::DbInstance {
            engine: Some("postgres".into()),
            engine_version: Some(Intrinsic::ref_("EngineVersion").into()),
            db_instance_class: Some(Intrinsic::ref_("Class").into()),
            ..Default::default()
        },
    )
    .expect("intrinsics pass");
}
