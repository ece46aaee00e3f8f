//! The small app the deploy tests drive against moto: a stack built with the
//! library's own constructs (`Network`, `Bucket`, `Database`, `ApiService`),
//! which is what moto's CloudFormation can create, a stack over the inline
//! template limit, a small production stack, and two stacks in different
//! regions where one takes a parameter from the other's output.
//!
//! What moto skips (Secrets Manager, Application Auto Scaling, CloudWatch
//! alarms, separate security group rules) is still in the template and is
//! still diffed and guarded; moto just does not create it. The moto bugs
//! that would stop these stacks are fixed by the harness's launcher
//! (`tests/moto/khs_moto_server.py`), not worked around here.

use khs_constructs::cfn::RawResource;
use khs_constructs::core::template::Parameter;
use khs_constructs::network::CertificateRef;
use khs_constructs::prelude::*;
use khs_constructs::storage::{Bucket, BucketName, BucketProps, LifecycleRule};
use serde_json::json;

/// The test stack's name.
pub const STACK: &str = "khs-deploy-test";
/// A stack whose template exceeds the 51,200-byte inline limit.
pub const BIG_STACK: &str = "khs-deploy-big";
/// A production stack (termination protection on).
pub const PROD_STACK: &str = "khs-deploy-prod";
/// A stack in us-east-1 whose output another stack's parameter takes.
pub const SOURCE_STACK: &str = "khs-deploy-source";
/// A stack in us-west-2 with a parameter filled from `SOURCE_STACK`'s
/// output by the deploy client (`khs:parameter-sources`, as the edge split
/// declares it).
pub const CONSUMER_STACK: &str = "khs-deploy-consumer";
/// The output of `SOURCE_STACK` and parameter of `CONSUMER_STACK`.
pub const TOPIC_PARAMETER: &str = "AlertsTopicArn";
/// A stack of one log group, renamed in code by the `Renamed*` variants
/// (the only stack of the app in those variants).
pub const RENAME_STACK: &str = "khs-deploy-rename";
/// A stack whose bucket (`DeletionPolicy: Delete`) the `BucketRemoved`
/// variant removes (the only stack of the app in the `Bucket*` variants).
pub const BUCKET_STACK: &str = "khs-deploy-bucket";
/// The name of `BUCKET_STACK`'s bucket.
pub const DATA_BUCKET: &str = "khs-deploy-bucket-data";
/// The VPC CIDR, checked through EC2 DescribeVpcs; the `Network` construct
/// cuts public `10.42.1-2.0/24` and private `10.42.11-12.0/24` from it.
pub const VPC_CIDR: &str = "10.42.0.0/16";
/// The bucket name, checked through S3 ListBuckets.
pub const BUCKET: &str = "khs-deploy-test-assets";

/// Which version of the app to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The first deployment.
    Base,
    /// In-place changes (a bucket lifecycle rule, the service's minimum and
    /// desired task count).
    Update,
    /// `Update`, and the database's `DBName` changes: a create-only property,
    /// so CloudFormation would replace the instance (moto will not say so).
    ReplaceDatabase,
    /// Only [`RENAME_STACK`], its log group at `Jobs`.
    RenameBase,
    /// Only [`RENAME_STACK`], the log group moved to `Work/Jobs` with the
    /// move declared (`Stack::declare_moved`).
    Renamed,
    /// Only [`RENAME_STACK`], the log group moved to `Work/Jobs` without a
    /// declaration.
    RenamedUndeclared,
    /// Only [`BUCKET_STACK`], with its bucket.
    BucketBase,
    /// Only [`BUCKET_STACK`], its bucket removed.
    BucketRemoved,
}

impl Variant {
    /// Parses `base`, `update`, `replace-db`, `rename-base`, `renamed`,
    /// `renamed-undeclared`, `bucket-base`, `bucket-removed`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "base" => Some(Variant::Base),
            "update" => Some(Variant::Update),
            "replace-db" => Some(Variant::ReplaceDatabase),
            "rename-base" => Some(Variant::RenameBase),
            "renamed" => Some(Variant::Renamed),
            "renamed-undeclared" => Some(Variant::RenamedUndeclared),
            "bucket-base" => Some(Variant::BucketBase),
            "bucket-removed" => Some(Variant::BucketRemoved),
            _ => None,
        }
    }
}

/// The database name of the `Base` and `Update` variants.
pub const DB_NAME: &str = "khsdeploy";
/// The ECS service name.
pub const SERVICE: &str = "khs-deploy-test-api";

fn raw(type_name: &str, props: serde_json::Value) -> RawResource {
    RawResource::new(type_name, props)
}

/// The app: the test stack, a big stack, a small production stack, and the
/// source and consumer stacks of a cross-region parameter.
///
/// The test stack's parameters: `CertificateArn` (the load balancer's
/// certificate; the tests request one from moto's ACM, which moto's ELBv2
/// checks) and `ImageTag` (declared by `ApiService`).
pub fn app(variant: Variant) -> Result<App> {
    let mut app = App::new();
    if matches!(
        variant,
        Variant::RenameBase | Variant::Renamed | Variant::RenamedUndeclared
    ) {
        app.add_stack(rename_stack(variant)?)?;
        return Ok(app);
    }
    if matches!(variant, Variant::BucketBase | Variant::BucketRemoved) {
        app.add_stack(bucket_stack(variant)?)?;
        return Ok(app);
    }
    app.add_stack(main_stack(variant)?)?;
    app.add_stack(big_stack()?)?;
    app.add_stack(prod_stack()?)?;
    app.add_stack(source_stack()?)?;
    app.add_stack(consumer_stack()?)?;
    Ok(app)
}

fn main_stack(variant: Variant) -> Result<Stack> {
    let mut props = StackProps::new(Environment::region("us-east-1"));
    props
        .tags
        .insert("project".into(), "khs-deploy-test".into());
    let mut stack = Stack::new(STACK, props)?;

    let network = Network::new(
        &mut stack,
        "Network",
        NetworkProps {
            cidr: VPC_CIDR
                .parse()
                .map_err(|e| Error::invalid_prop(STACK, "cidr", format!("{e}")))?,
            max_azs: 2,
            nat_gateways: NatGateways::Single,
            ..NetworkProps::default()
        },
    )?;

    let lifecycle_rules = if variant == Variant::Base {
        Vec::new()
    } else {
        vec![LifecycleRule::archive_then_expire("archive")]
    };
    Bucket::new(
        &mut stack,
        "Assets",
        BucketProps {
            name: BucketName::Fixed(BUCKET.to_string()),
            lifecycle_rules,
            ..BucketProps::default()
        },
    )?;

    let database = Database::new(
        &mut stack,
        "Database",
        &network,
        DatabaseProps {
            instance_class: "db.t3.micro".to_string(),
            storage_gib: 20,
            multi_az: false,
            deletion_protection: false,
            database_name: match variant {
                Variant::ReplaceDatabase => "khsdeploy2".to_string(),
                _ => DB_NAME.to_string(),
            },
            ..DatabaseProps::default()
        },
    )?;

    let certificate = stack.as_scope().add_parameter::<String>(
        "CertificateArn",
        Parameter::string("The ACM certificate of the load balancer's HTTPS listener"),
    )?;
    let mut api_props = ApiServiceProps::new(
        "khs-deploy-test",
        SERVICE,
        "khs-deploy-test-api",
        CertificateRef::from_arn(
            certificate,
            "us-east-1",
            vec!["api.example.com".to_string()],
        ),
    );
    api_props.deletion_protection = false;
    api_props.image_tag_parameter = Some("ImageTag".to_string());
    api_props.scaling.min_capacity = if variant == Variant::Base { 1 } else { 2 };
    let api = ApiService::new(&mut stack, "Api", &network, api_props)?;
    database
        .connections()
        .allow_default_port_from(&mut stack, api.connections())?;
    stack
        .as_scope()
        .add_output("VpcId", Output::new("The VPC", network.vpc_id()))?;
    Ok(stack)
}

/// More than 51,200 bytes of template: 260 SNS topics with long display names.
fn big_stack() -> Result<Stack> {
    let mut stack = Stack::new(BIG_STACK, StackProps::new(Environment::region("us-east-1")))?;
    let mut root = stack.as_scope();
    let mut topics = root.child("Topics")?;
    for i in 0..260 {
        topics.add(
            &format!("Topic{i:03}"),
            raw(
                "AWS::SNS::Topic",
                json!({"DisplayName": format!("{i:03}-{}", "x".repeat(90)),
                       "Tags": [{"Key": "purpose", "Value": "size test of the template upload path"}]}),
            ),
        )?;
    }
    Ok(stack)
}

/// A production stack: termination protection, stack policy on its log group.
fn prod_stack() -> Result<Stack> {
    let mut props = StackProps::new(Environment::region("us-east-1"));
    props.termination_protection = true;
    let mut stack = Stack::new(PROD_STACK, props)?;
    let mut root = stack.as_scope();
    root.add(
        "AuditLogs",
        raw("AWS::Logs::LogGroup", json!({"RetentionInDays": 365})),
    )?;
    root.add("Alerts", raw("AWS::SNS::Topic", json!({})))?;
    Ok(stack)
}

/// An SNS topic in us-east-1 and its ARN as an output.
fn source_stack() -> Result<Stack> {
    let mut stack = Stack::new(
        SOURCE_STACK,
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let mut root = stack.as_scope();
    let topic = root.add(
        "Alerts",
        raw("AWS::SNS::Topic", json!({"TopicName": "khs-deploy-alerts"})),
    )?;
    root.add_output(
        TOPIC_PARAMETER,
        Output::new("The alerts topic", topic.ref_()),
    )?;
    Ok(stack)
}

/// A stack in us-west-2 whose parameter comes from the source stack's
/// output: exports do not cross regions, so the deploy client fills it.
fn consumer_stack() -> Result<Stack> {
    let mut stack = Stack::new(
        CONSUMER_STACK,
        StackProps::new(Environment::region("us-west-2")),
    )?;
    stack.add_dependency(SOURCE_STACK);
    stack.set_metadata(
        khs_constructs::deploy::params::PARAMETER_SOURCES_KEY,
        json!({TOPIC_PARAMETER: {"Stack": SOURCE_STACK, "Region": "us-east-1", "Output": TOPIC_PARAMETER}}),
    );
    let mut root = stack.as_scope();
    let arn: Value<String> = root.add_parameter(
        TOPIC_PARAMETER,
        Parameter::string("The alerts topic in us-east-1"),
    )?;
    root.add(
        "Local",
        raw("AWS::SNS::Topic", json!({"TopicName": "khs-deploy-local"})),
    )?;
    root.add_output(
        "UpstreamTopic",
        Output::new("The topic it forwards to", arn),
    )?;
    Ok(stack)
}

/// A log group (stateful) and an output referring to it; the `Renamed*`
/// variants move it from `Jobs` to `Work/Jobs`.
pub fn rename_stack(variant: Variant) -> Result<Stack> {
    let mut stack = Stack::new(
        RENAME_STACK,
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let logs = raw(
        "AWS::Logs::LogGroup",
        json!({"RetentionInDays": 30, "LogGroupName": "khs-deploy-rename-jobs"}),
    );
    let mut root = stack.as_scope();
    let group = if variant == Variant::RenameBase {
        root.add("Jobs", logs)?
    } else {
        root.child("Work")?.add("Jobs", logs)?
    };
    root.add_output(
        "JobsLogGroup",
        Output::new("The jobs' log group", group.ref_()),
    )?;
    if variant == Variant::Renamed {
        stack.declare_moved("Work/Jobs", "Jobs")?;
    }
    Ok(stack)
}

/// A topic and, in `BucketBase`, a named bucket that is deleted with the
/// stack (`DeletionPolicy: Delete`).
fn bucket_stack(variant: Variant) -> Result<Stack> {
    let mut stack = Stack::new(
        BUCKET_STACK,
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let mut root = stack.as_scope();
    root.add("Alerts", raw("AWS::SNS::Topic", json!({})))?;
    if variant == Variant::BucketBase {
        root.add_with(
            "Data",
            raw("AWS::S3::Bucket", json!({"BucketName": DATA_BUCKET})),
            ResourceOptions::policy(DeletionPolicy::Delete),
        )?;
    }
    Ok(stack)
}
