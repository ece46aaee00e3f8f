//! The generated layer's metadata and conventions, checked on a few types
//! the constructs rely on.

use khs_constructs::cfn::{self, RawResource, registry};
use khs_constructs::core::resource::{Resource, TagStyle};
use khs_constructs::prelude::*;
use serde_json::json;

fn stack() -> Stack {
    Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).expect("stack")
}

#[test]
fn subnet_cidr_block_replaces_but_map_public_ip_does_not() {
    let spec = &cfn::ec2::Subnet::SPEC;
    assert!(spec.replaces_on_change("CidrBlock"));
    assert!(spec.property("CidrBlock").expect("CidrBlock").replaces);
    assert!(!spec.replaces_on_change("MapPublicIpOnLaunch"));
    assert!(!spec.property("MapPublicIpOnLaunch").expect("prop").replaces);
    assert!(spec.property("VpcId").expect("VpcId").required);
    // Read-only properties are attributes, not settable properties.
    assert!(spec.property("SubnetId").is_none());
    assert!(spec.attributes.contains(&"SubnetId"));
}

#[test]
fn db_instance_replacement_metadata() {
    let spec = registry::spec("AWS::RDS::DBInstance").expect("generated");
    assert_eq!(spec, &cfn::rds::DbInstance::SPEC);
    for p in ["DBName", "MasterUsername", "StorageEncrypted"] {
        assert!(spec.replaces_on_change(p), "{p} should replace");
        assert!(spec.property(p).expect(p).replaces, "{p}");
    }
    assert!(!spec.replaces_on_change("DBInstanceClass"));
    assert!(!spec.property("DBInstanceClass").expect("class").replaces);
    assert!(spec.stateful);
    assert!(spec.attributes.contains(&"Endpoint.Address"));
    assert_eq!(
        spec.docs_url,
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbinstance.html"
    );
}

#[test]
fn tag_styles_and_statefulness_come_from_the_schemas() {
    let style = |t: &str| registry::spec(t).expect(t).tags;
    assert_eq!(style("AWS::EC2::VPC"), TagStyle::KeyValueList);
    assert_eq!(style("AWS::XRay::Group"), TagStyle::KeyValueList);
    assert_eq!(style("AWS::SSM::Parameter"), TagStyle::Map);
    assert_eq!(style("AWS::SecurityHub::Hub"), TagStyle::Map);
    assert_eq!(style("AWS::IAM::Policy"), TagStyle::None);
    // The schema's tag property, whatever its name.
    let property = |t: &str| registry::spec(t).expect(t).tag_property;
    assert_eq!(property("AWS::EC2::VPC"), "Tags");
    assert_eq!(style("AWS::Backup::BackupVault"), TagStyle::Map);
    assert_eq!(property("AWS::Backup::BackupVault"), "BackupVaultTags");
    assert_eq!(property("AWS::Route53::HostedZone"), "HostedZoneTags");
    assert_eq!(property("AWS::IAM::Policy"), "");
    assert_eq!(
        style("AWS::EC2::SubnetRouteTableAssociation"),
        TagStyle::None
    );
    let stateful = |t: &str| registry::spec(t).expect(t).stateful;
    assert!(stateful("AWS::S3::Bucket"));
    assert!(stateful("AWS::KMS::Key"));
    assert!(stateful("AWS::Logs::LogGroup"));
    assert!(stateful("AWS::SecretsManager::Secret"));
    assert!(stateful("AWS::ElastiCache::ReplicationGroup"));
    assert!(!stateful("AWS::EC2::Subnet"));
}

#[test]
fn registry_has_the_metadata_of_every_cfn_lint_type() {
    assert!(registry::KNOWN_TYPES.len() > 1800);
    assert!(registry::KNOWN_TYPES.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(registry::specs().count(), registry::KNOWN_TYPES.len());
    for t in registry::KNOWN_TYPES {
        let spec = registry::spec(t).expect(t);
        assert_eq!(spec.type_name, *t);
        assert!(registry::is_known(t), "{t}");
    }
    // Services whose feature is off still have their metadata.
    let queue = registry::spec("AWS::SQS::Queue").expect("queue");
    assert!(queue.stateful);
    assert_eq!(queue.tags, TagStyle::KeyValueList);
    assert!(queue.replaces_on_change("FifoQueue"));
    let table = registry::spec("AWS::DynamoDB::Table").expect("table");
    assert!(table.stateful);
    assert!(table.replaces_on_change("TableName"));
    assert!(registry::spec("Custom::Thing").is_none());
    assert_eq!(
        registry::suggest("AWS::EC2::Subnett")[0],
        "AWS::EC2::Subnet"
    );
    assert_eq!(
        registry::suggest("aws::rds::dbinstance"),
        ["AWS::RDS::DBInstance"]
    );
    assert!(registry::suggest("Completely::Different::Thing").is_empty());
}

#[test]
fn typed_resources_serialize_with_wire_names_and_typed_attributes() {
    let mut stack = stack();
    let mut s = stack.as_scope();
    let vpc = s
        .add(
            "Vpc",
            cfn::ec2::Vpc {
                cidr_block: Some("10.0.0.0/16".into()),
                enable_dns_hostnames: Some(true.into()),
                ..cfn::ec2::Vpc::new()
            },
        )
        .expect("vpc");
    let subnet = cfn::ec2::Subnet {
        cidr_block: Some("10.0.1.0/24".into()),
        availability_zone: Some(Intrinsic::select(0, Intrinsic::get_azs()).into()),
        ..cfn::ec2::Subnet::new(vpc.ref_())
    };
    // A handle's value names its stack until it is added to one (then it
    // is a plain `Ref` in the same stack, an import in another).
    assert_eq!(
        serde_json::to_value(&subnet).expect("json"),
        json!({
            "VpcId": {"Ref": "demo/Vpc"},
            "CidrBlock": "10.0.1.0/24",
            "AvailabilityZone": {"Fn::Select": ["0", {"Fn::GetAZs": ""}]}
        })
    );
    let subnet = s.add("Subnet", subnet).expect("subnet");
    assert_eq!(
        serde_json::to_value(subnet.attr_subnet_id()).expect("json"),
        json!({"Fn::GetAtt": ["demo/Subnet", "SubnetId"]})
    );
    assert_eq!(
        serde_json::to_value(vpc.attr_cidr_block_associations()).expect("json"),
        json!({"Fn::GetAtt": ["demo/Vpc", "CidrBlockAssociations"]})
    );

    let lb = cfn::elasticloadbalancingv2::LoadBalancer {
        scheme: Some(cfn::elasticloadbalancingv2::load_balancer::Scheme::Internal.into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&lb).expect("json"),
        json!({"Scheme": "internal"})
    );
    let db = s
        .add(
            "Db",
            cfn::rds::DbInstance {
                multi_az: Some(true.into()),
                db_instance_class: Some("db.t4g.micro".into()),
                ..Default::default()
            },
        )
        .expect("db");
    assert_eq!(
        serde_json::to_value(db.attr_endpoint_address()).expect("json"),
        json!({"Fn::GetAtt": ["demo/Db", "Endpoint.Address"]})
    );
    let mut app = App::new();
    drop(s);
    app.add_stack(stack).expect("add");
    let out = app.synth().expect("synth");
    let t: serde_json::Value = serde_json::from_str(out[0].template_json()).expect("json");
    assert_eq!(t["Resources"]["Db"]["Properties"]["MultiAZ"], json!(true));
    assert_eq!(t["Resources"]["Db"]["DeletionPolicy"], json!("Retain"));
}

#[test]
fn recursive_definitions_are_boxed() {
    use cfn::wafv2::web_acl::{AndStatement, NotStatement, Statement};
    let not = NotStatement::new(Statement::default());
    let stmt = Statement {
        and_statement: Some(Box::new(AndStatement::new(vec![Statement {
            not_statement: Some(Box::new(not)),
            ..Default::default()
        }]))),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&stmt).expect("json"),
        json!({"AndStatement": {"Statements": [{"NotStatement": {"Statement": {}}}]}})
    );
}

#[test]
fn fails_when_raw_resource_type_is_a_typo_naming_the_construct_path() {
    let mut stack = stack();
    let mut s = stack.as_scope();
    let mut app_scope = s.child("Queues").expect("child");
    let err = app_scope
        .add("Main", RawResource::new("AWS::SQS::Queeu", json!({})))
        .expect_err("typo");
    let msg = err.to_string();
    assert!(
        msg.starts_with("demo/Queues/Main: unknown resource type \"AWS::SQS::Queeu\""),
        "{msg}"
    );
    assert!(msg.contains("did you mean AWS::SQS::Queue"), "{msg}");
}

#[test]
fn fails_when_raw_resource_names_an_unknown_property_of_a_generated_type() {
    let mut stack = stack();
    let mut s = stack.as_scope();
    let err = s
        .add(
            "Bucket",
            RawResource::new("AWS::S3::Bucket", json!({"BucketNmae": "x"})),
        )
        .expect_err("unknown property");
    let msg = err.to_string();
    assert!(msg.starts_with("demo/Bucket: properties"), "{msg}");
    assert!(msg.contains("did you mean BucketName"), "{msg}");
    let ok = s
        .add(
            "Queue",
            RawResource::new("AWS::SQS::Queue", json!({"SqsManagedSseEnabled": true})),
        )
        .expect("known type without a spec");
    assert_eq!(ok.logical_id().as_str(), "Queue");
    let raw = RawResource::new("AWS::S3::Bucket", json!({}));
    assert_eq!(raw.spec(), Some(&cfn::s3::Bucket::SPEC));
}

#[test]
fn override_property_is_checked_against_the_generated_spec() {
    let mut stack = stack();
    let mut s = stack.as_scope();
    let topic = s.add("Topic", cfn::sns::Topic::default()).expect("topic");
    s.override_property(&topic, "KmsMasterKeyId", json!("alias/aws/sns"))
        .expect("known property");
    let err = s
        .override_property(&topic, "KmsMasterKeyID", json!("x"))
        .expect_err("typo");
    assert!(
        err.to_string().contains("did you mean KmsMasterKeyId"),
        "{err}"
    );
}

#[test]
fn enums_serialize_as_wire_values_and_fill_lists() {
    use cfn::s3::bucket::{AllowedMethods, CorsRule};
    assert_eq!(AllowedMethods::Get.as_str(), "GET");
    let rule = CorsRule::new(
        vec![AllowedMethods::Get, AllowedMethods::Head],
        ["https://example.com"],
    );
    assert_eq!(
        serde_json::to_value(&rule).expect("json"),
        json!({"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["https://example.com"]})
    );
}

/// A typed resource and a `RawResource` of the same type with the same
/// properties come out of synthesis identically: the same registry metadata
/// gives both the stack tags and the policies of a stateful type.
#[test]
fn a_typed_and_a_raw_resource_of_one_type_synthesize_identically() {
    let synth = |raw: bool| {
        let props = StackProps {
            tags: [("Team".to_string(), "payments".to_string())].into(),
            ..StackProps::new(Environment::region("eu-west-1"))
        };
        let mut stack = Stack::new("same", props).expect("stack");
        let mut s = stack.as_scope();
        let bucket = cfn::s3::Bucket {
            bucket_name: Some("reports-archive".into()),
            ..Default::default()
        };
        if raw {
            let json = serde_json::to_value(&bucket).expect("json");
            s.add("Bucket", RawResource::new("AWS::S3::Bucket", json))
                .expect("raw");
        } else {
            s.add("Bucket", bucket).expect("typed");
        }
        drop(s);
        let mut app = App::new();
        app.add_stack(stack).expect("add");
        app.synth().expect("synth")[0].template_json().to_string()
    };
    let typed = synth(false);
    assert_eq!(typed, synth(true));
    let t: serde_json::Value = serde_json::from_str(&typed).expect("json");
    let bucket = &t["Resources"]["Bucket"];
    assert_eq!(bucket["DeletionPolicy"], json!("Retain"));
    assert_eq!(bucket["UpdateReplacePolicy"], json!("Retain"));
    assert_eq!(
        bucket["Properties"]["Tags"],
        json!([{"Key": "Team", "Value": "payments"}])
    );
}

/// A type of a service whose feature is off, used through `RawResource`, is
/// tagged and retained like any typed resource (it used to get neither).
#[test]
fn a_raw_resource_of_a_service_without_its_feature_gets_tags_and_policies() {
    let props = StackProps {
        tags: [("Team".to_string(), "payments".to_string())].into(),
        ..StackProps::new(Environment::region("eu-west-1"))
    };
    let mut stack = Stack::new("raw", props).expect("stack");
    let mut s = stack.as_scope();
    s.add(
        "Table",
        RawResource::new(
            "AWS::DynamoDB::Table",
            json!({
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        ),
    )
    .expect("table");
    drop(s);
    let mut app = App::new();
    app.add_stack(stack).expect("add");
    let out = app.synth().expect("synth");
    let t: serde_json::Value = serde_json::from_str(out[0].template_json()).expect("json");
    let table = &t["Resources"]["Table"];
    assert_eq!(table["DeletionPolicy"], json!("Retain"));
    assert_eq!(table["UpdateReplacePolicy"], json!("Retain"));
    assert_eq!(
        table["Properties"]["Tags"],
        json!([{"Key": "Team", "Value": "payments"}])
    );
}
