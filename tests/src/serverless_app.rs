//! Stacks that use every serverless and messaging construct and every
//! grant, for the least-privilege and cfn-lint tests: the `queue_worker`
//! example and one stack of everything else.

use std::path::{Path, PathBuf};

use khs_constructs::cfn::ecs::task_definition::{
    ContainerDefinition, ContainerDefinitionRequired, NetworkMode, RequiresCompatibilities,
};
use khs_constructs::cfn::ecs::{Cluster, TaskDefinition};
use khs_constructs::messaging::event_rule::{EventPattern, EventRule, EventRuleProps, RuleTarget};
use khs_constructs::messaging::schedule::{
    EcsTaskTarget, Rate, Schedule, ScheduleExpression, ScheduleProps, ScheduleTarget,
};
use khs_constructs::network::connections::{Connections, Egress};
use khs_constructs::prelude::*;
use khs_constructs::security::iam::{RoleProps, create_role};
use khs_constructs::serverless::function::StartingPosition;
use khs_constructs::serverless::table::Projection;

/// The handler directory of the `queue_worker` example.
pub fn queue_worker_handler() -> PathBuf {
    crate::workspace_root().join("khs-constructs/examples/queue_worker_handler")
}

/// A stack using every new construct, in a VPC, with every grant.
pub fn every_construct(handler: &Path) -> Result<App> {
    let mut stack = Stack::new(
        "serverless-all",
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let network = Network::new(&mut stack, "Network", NetworkProps::default())?;
    let secret = Secret::new(&mut stack, "ApiToken", SecretProps::new("token"))?;
    let failed = Queue::new(&mut stack, "Failed", QueueProps::default())?;
    let orders = Queue::new(
        &mut stack,
        "Orders",
        QueueProps {
            fifo: true,
            content_based_deduplication: true,
            visibility_timeout_seconds: 360,
            ..QueueProps::default()
        },
    )?;
    let audit = Queue::new(
        &mut stack,
        "Audit",
        QueueProps {
            encryption: QueueEncryption::SqsManaged,
            ..QueueProps::default()
        },
    )?;
    let table = Table::new(
        &mut stack,
        "Orders2",
        TableProps {
            sort_key: Some(Attribute::number("createdAt")),
            billing: Billing::Provisioned {
                read: Capacity::scaled(2, 20),
                write: Capacity::scaled(2, 10),
            },
            stream: Some(StreamView::NewAndOldImages),
            ttl_attribute: Some("expiresAt".into()),
            global_secondary_indexes: vec![GlobalSecondaryIndex {
                projection: Projection::KeysOnly,
                ..GlobalSecondaryIndex::new("byStatus", Attribute::string("status"))
            }],
            ..TableProps::new(Attribute::string("customerId"))
        },
    )?;
    let topic = Topic::new(&mut stack, "Events", TopicProps::default())?;
    topic.subscribe_queue(&mut stack, &audit)?;
    let worker = Function::new(
        &mut stack,
        "Worker",
        FunctionProps {
            architecture: Architecture::Arm64,
            timeout_seconds: 60,
            memory_mib: 512,
            vpc: Some(VpcPlacement::private_subnets(&network)),
            reserved_concurrency: Some(5),
            dead_letter_queue: Some(failed.clone()),
            secrets: [("API_TOKEN_ARN".to_string(), secret.clone())].into(),
            environment: [("TABLE_NAME".to_string(), table.name())].into(),
            ..FunctionProps::new(Runtime::Python3_13, "index.handler", Code::asset(handler))
        },
    )?;
    let streamer = Function::new(
        &mut stack,
        "Streamer",
        FunctionProps::new(
            Runtime::Nodejs22,
            "index.handler",
            Code::inline("exports.handler = async () => ({});\n"),
        ),
    )?;
    worker.add_queue_source(&mut stack, &orders, QueueSourceProps::default())?;
    streamer.add_table_stream_source(
        &mut stack,
        &table,
        StreamSourceProps {
            starting_position: StartingPosition::TrimHorizon,
            ..StreamSourceProps::default()
        },
    )?;
    table.grant_read_write(&mut stack, &worker)?;
    table.grant_read_data(&mut stack, &streamer)?;
    table.grant_write_data(&mut stack, &streamer)?;
    orders.grant_send_messages(&mut stack, &streamer)?;
    failed.grant_consume_messages(&mut stack, &streamer)?;
    topic.grant_publish(&mut stack, &worker)?;
    secret.grant_read_to(&mut stack, &streamer)?;
    if let Some(key) = secret.encryption_key() {
        key.grant_decrypt(&mut stack, &streamer)?;
    }
    worker.grant_invoke(&mut stack, &streamer)?;
    let bucket = Bucket::new(&mut stack, "Uploads", BucketProps::default())?;
    bucket.grant_read(&mut stack, &worker)?;
    bucket.grant_read_write(&mut stack, &streamer)?;
    EventRule::new(
        &mut stack,
        "OrderEvents",
        EventRuleProps::new(
            EventPattern::new(["com.example.orders"], ["Order Placed"]),
            [
                RuleTarget::Function(streamer.clone()),
                RuleTarget::Queue(audit.clone()),
            ],
        ),
    )?;
    Schedule::new(
        &mut stack,
        "Nightly",
        ScheduleProps::new(
            ScheduleExpression::Cron(Cron::daily_at(2, 0)?),
            ScheduleTarget::Function(streamer.clone()),
        ),
    )?;
    // A scheduled Fargate task.
    let mut root = stack.as_scope();
    let cluster = root.add("TaskCluster", Cluster::new())?;
    let task_role = create_role(
        &mut root,
        "TaskRole",
        RoleProps::new("ecs-tasks.amazonaws.com"),
    )?;
    let task = root.add(
        "Task",
        TaskDefinition {
            cpu: Some("256".into()),
            memory: Some("512".into()),
            network_mode: Some(NetworkMode::Awsvpc.into()),
            requires_compatibilities: Some(Value::Literal(vec![
                RequiresCompatibilities::Fargate.into(),
            ])),
            task_role_arn: Some(task_role.get_att("Arn")),
            container_definitions: Some(vec![ContainerDefinition {
                essential: Some(true.into()),
                ..ContainerDefinition::new(ContainerDefinitionRequired {
                    image: "public.ecr.aws/docker/library/busybox:1.37".into(),
                    name: "job".into(),
                })
            }]),
            ..TaskDefinition::new()
        },
    )?;
    let task_sg = Connections::new_security_group(
        &mut root,
        "TaskSecurityGroup",
        network.vpc_id(),
        "the scheduled task",
        None,
        Egress::Restricted,
    )?;
    Schedule::new(
        &mut stack,
        "Hourly",
        ScheduleProps::new(
            ScheduleExpression::Rate(Rate::Hours(1)),
            ScheduleTarget::EcsTask(EcsTaskTarget {
                cluster,
                task_definition: task,
                task_roles: vec![task_role],
                subnets: network.private_subnets().to_vec(),
                connections: task_sg,
                task_count: 1,
            }),
        ),
    )?;
    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}
