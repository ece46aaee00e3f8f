//! The small app the deploy tests drive against moto: the library's `Bucket`
//! construct, and a network, a PostgreSQL database and an ALB + Fargate
//! service as `RawResource`s, inside what moto can create and delete: the
//! `Database` and `ApiService` constructs use Secrets Manager (skipped by
//! moto's CloudFormation), and moto cannot delete a stack holding the
//! `Network` construct's internet gateway and routes (DependencyViolation).

use khs_constructs::cfn::RawResource;
use khs_constructs::prelude::*;
use khs_constructs::storage::{Bucket, BucketName, BucketProps, LifecycleRule};
use serde_json::json;

/// The test stack's name.
pub const STACK: &str = "khs-deploy-test";
/// A stack whose template exceeds the 51,200-byte inline limit.
pub const BIG_STACK: &str = "khs-deploy-big";
/// A production stack (termination protection on).
pub const PROD_STACK: &str = "khs-deploy-prod";
/// The VPC CIDR, checked through EC2 DescribeVpcs.
pub const VPC_CIDR: &str = "10.42.0.0/16";
/// The bucket name, checked through S3 ListBuckets.
pub const BUCKET: &str = "khs-deploy-test-assets";

/// Which version of the app to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The first deployment.
    Base,
    /// In-place changes (a bucket lifecycle rule, the service's desired count).
    Update,
    /// `Update`, and the database subnet group gets a new name: the group is
    /// replaced and drags the database along (a replacement moto will not
    /// report).
    ReplaceDatabase,
}

impl Variant {
    /// Parses `base`, `update`, `replace-db`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "base" => Some(Variant::Base),
            "update" => Some(Variant::Update),
            "replace-db" => Some(Variant::ReplaceDatabase),
            _ => None,
        }
    }
}

fn raw(type_name: &str, props: serde_json::Value) -> RawResource {
    RawResource::new(type_name, props)
}

/// The app: the test stack, a big stack and a small production stack.
pub fn app(variant: Variant) -> Result<App> {
    let mut app = App::new();
    app.add_stack(main_stack(variant)?)?;
    app.add_stack(big_stack()?)?;
    app.add_stack(prod_stack()?)?;
    Ok(app)
}

fn main_stack(variant: Variant) -> Result<Stack> {
    let mut props = StackProps::new(Environment::region("us-east-1"));
    props
        .tags
        .insert("project".into(), "khs-deploy-test".into());
    let mut stack = Stack::new(STACK, props)?;
    let mut root = stack.as_scope();

    let mut net = root.child("Network")?;
    let vpc = net.add(
        "Vpc",
        raw(
            "AWS::EC2::VPC",
            json!({"CidrBlock": VPC_CIDR, "EnableDnsSupport": true, "EnableDnsHostnames": true}),
        ),
    )?;
    let mut subnets = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = net.add(
            &format!("PrivateSubnet{}", i + 1),
            raw(
                "AWS::EC2::Subnet",
                json!({"VpcId": vpc.ref_(), "AvailabilityZone": az,
                       "CidrBlock": format!("10.42.{i}.0/24"), "MapPublicIpOnLaunch": false}),
            ),
        )?;
        subnets.push(s);
    }
    let subnet_refs: Vec<_> = subnets.iter().map(|s| s.ref_()).collect();

    let lifecycle_rules = if variant == Variant::Base {
        Vec::new()
    } else {
        vec![LifecycleRule::archive_then_expire("archive")]
    };
    Bucket::new(
        &mut root,
        "Assets",
        BucketProps {
            name: BucketName::Fixed(BUCKET.to_string()),
            lifecycle_rules,
            ..BucketProps::default()
        },
    )?;

    let mut db = root.child("Database")?;
    let db_sg = db.add(
        "SecurityGroup",
        raw(
            "AWS::EC2::SecurityGroup",
            json!({"GroupDescription": "database", "VpcId": vpc.ref_()}),
        ),
    )?;
    let group_name = match variant {
        Variant::ReplaceDatabase => "khs-deploy-test-db-b",
        _ => "khs-deploy-test-db-a",
    };
    let group = db.add(
        "SubnetGroup",
        raw(
            "AWS::RDS::DBSubnetGroup",
            json!({"DBSubnetGroupName": group_name, "DBSubnetGroupDescription": "database subnets",
                   "SubnetIds": subnet_refs}),
        ),
    )?;
    db.add(
        "Instance",
        raw(
            "AWS::RDS::DBInstance",
            json!({
                "Engine": "postgres", "EngineVersion": "16.4", "DBInstanceClass": "db.t3.micro",
                "AllocatedStorage": "20", "StorageType": "gp3", "StorageEncrypted": true,
                "MasterUsername": "khs", "ManageMasterUserPassword": true,
                "DBSubnetGroupName": group.ref_(), "VPCSecurityGroups": [db_sg.get_att::<String>("GroupId")],
                "BackupRetentionPeriod": 7, "PubliclyAccessible": false
            }),
        ),
    )?;

    let mut api = root.child("Api")?;
    let lb_sg = api.add(
        "LbSecurityGroup",
        raw(
            "AWS::EC2::SecurityGroup",
            json!({"GroupDescription": "load balancer", "VpcId": vpc.ref_(),
                   "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                              "CidrIp": VPC_CIDR}]}),
        ),
    )?;
    let svc_sg = api.add(
        "ServiceSecurityGroup",
        raw(
            "AWS::EC2::SecurityGroup",
            json!({"GroupDescription": "service", "VpcId": vpc.ref_()}),
        ),
    )?;
    let lb = api.add(
        "LoadBalancer",
        raw(
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            json!({"Scheme": "internal", "Type": "application", "Subnets": subnet_refs,
                   "SecurityGroups": [lb_sg.get_att::<String>("GroupId")]}),
        ),
    )?;
    let tg = api.add(
        "TargetGroup",
        raw(
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            json!({"Port": 80, "Protocol": "HTTP", "TargetType": "ip", "VpcId": vpc.ref_(),
                   "HealthCheckPath": "/health"}),
        ),
    )?;
    let listener = api.add(
        "Listener",
        raw(
            "AWS::ElasticLoadBalancingV2::Listener",
            json!({"LoadBalancerArn": lb.ref_(), "Port": 80, "Protocol": "HTTP",
                   "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg.ref_()}]}),
        ),
    )?;
    let cluster = api.add("Cluster", raw("AWS::ECS::Cluster", json!({})))?;
    let logs = api.add(
        "Logs",
        raw("AWS::Logs::LogGroup", json!({"RetentionInDays": 30})),
    )?;
    let role = api.add(
        "ExecutionRole",
        raw(
            "AWS::IAM::Role",
            json!({"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                 "Action": "sts:AssumeRole"}]},
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]}),
        ),
    )?;
    let task = api.add(
        "TaskDefinition",
        raw(
            "AWS::ECS::TaskDefinition",
            json!({"Family": "khs-deploy-test-api", "Cpu": "256", "Memory": "512",
                   "NetworkMode": "awsvpc", "RequiresCompatibilities": ["FARGATE"],
                   "ExecutionRoleArn": role.get_att::<String>("Arn"),
                   "ContainerDefinitions": [{"Name": "api", "Image": "public.ecr.aws/nginx/nginx:1.27",
                       "Essential": true, "PortMappings": [{"ContainerPort": 80}],
                       "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                           "awslogs-group": logs.ref_(), "awslogs-region": "us-east-1",
                           "awslogs-stream-prefix": "api"}}}]}),
        ),
    )?;
    let desired = if variant == Variant::Base { 1 } else { 2 };
    api.add_with(
        "Service",
        raw(
            "AWS::ECS::Service",
            json!({"ServiceName": "khs-deploy-test-api", "Cluster": cluster.ref_(), "LaunchType": "FARGATE",
                   "TaskDefinition": task.ref_(), "DesiredCount": desired,
                   "NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "DISABLED",
                       "Subnets": subnet_refs, "SecurityGroups": [svc_sg.get_att::<String>("GroupId")]}},
                   "LoadBalancers": [{"ContainerName": "api", "ContainerPort": 80,
                                      "TargetGroupArn": tg.ref_()}]}),
        ),
        ResourceOptions {
            depends_on: vec![listener.logical_id().clone()],
            ..ResourceOptions::default()
        },
    )?;
    root.add_output("VpcId", Output::new("The VPC", vpc.ref_()))?;
    Ok(stack)
}

/// More than 51,200 bytes of template: 180 SNS topics with long display names.
fn big_stack() -> Result<Stack> {
    let mut stack = Stack::new(BIG_STACK, StackProps::new(Environment::region("us-east-1")))?;
    let mut root = stack.as_scope();
    let mut topics = root.child("Topics")?;
    for i in 0..180 {
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
