//! Imports of existing resources (issue 12, item 3): one stack per import
//! that uses it the way a stack uses its own resource, linted with the
//! pinned cfn-lint (`-c I`), and checked to contain nothing of the imported
//! resource and no rule on an imported security group; plus the `imports`
//! example's template.

use std::path::{Path, PathBuf};
use std::process::Command;

use khs_constructs::network::{ImportedSubnet, NetworkImport};
use khs_constructs::prelude::*;
use serde_json::{Value as J, json};

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/imports.rs"]
mod imports;

const ACCOUNT: &str = "123456789012";
const DB_SG: &str = "sg-0d0d0d0d0d0d0d0d0";
const CACHE_SG: &str = "sg-0c0c0c0c0c0c0c0c0";
const ALB_SG: &str = "sg-0a0a0a0a0a0a0a0a0";
const IMPORTED_GROUPS: [&str; 3] = [DB_SG, CACHE_SG, ALB_SG];

fn env() -> StackProps {
    StackProps::new(Environment {
        account: Some(ACCOUNT.to_string()),
        region: "us-east-1".to_string(),
    })
}

fn network(stack: &mut Stack) -> Network {
    let subnet = |id: &str, zone: &str, cidr: &str, rtb: &str| ImportedSubnet {
        subnet_id: id.into(),
        availability_zone: zone.to_string(),
        cidr: cidr.parse().expect("the fixture is valid"),
        route_table_id: rtb.into(),
    };
    Network::import(
        stack,
        "Shared",
        NetworkImport {
            private_subnets: vec![
                subnet(
                    "subnet-0a1a1a1a1a1a1a1a1",
                    "us-east-1a",
                    "10.1.11.0/24",
                    "rtb-0a1a1a1a1a1a1a1a1",
                ),
                subnet(
                    "subnet-0b2b2b2b2b2b2b2b2",
                    "us-east-1b",
                    "10.1.12.0/24",
                    "rtb-0b2b2b2b2b2b2b2b2",
                ),
            ],
            nat_gateways: NatGateways::PerAz,
            ..NetworkImport::new(
                "vpc-0123456789abcdef0",
                "10.1.0.0/16".parse().expect("the fixture is valid"),
            )
        },
    )
    .expect("the fixture is valid")
}

fn service(stack: &mut Stack, network: &Network, port: Option<u16>) -> FargateService {
    let cluster = Cluster::new(stack, "Cluster", network, ClusterProps::default())
        .expect("the fixture is valid");
    let mut c = ContainerProps::new(ContainerImage::from_uri("public.ecr.aws/nginx/nginx:1.27"));
    c.port = port;
    FargateService::new(stack, "Api", &cluster, FargateServiceProps::new(c))
        .expect("the fixture is valid")
}

/// A service reading an imported database's endpoint and password.
fn database_stack() -> Stack {
    let mut stack = Stack::new("uses-db", env()).expect("the fixture is valid");
    let network = network(&mut stack);
    let db = Database::import(
        &mut stack,
        "OrdersDb",
        DatabaseImport {
            database_name: Some("orders".to_string()),
            credentials_key_arn: Some(
                format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
                    .into(),
            ),
            ..DatabaseImport::new(
                DatabaseEngine::Postgres,
                "orders.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com",
                DB_SG,
                format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders-db-AbCdEf"),
            )
        },
    )
    .expect("the fixture is valid");
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())
        .expect("the fixture is valid");
    let mut c = ContainerProps::new(ContainerImage::from_uri("public.ecr.aws/nginx/nginx:1.27"));
    c.environment
        .insert("DATABASE_URL".to_string(), db.connection_url());
    c.secrets.push(ContainerSecret::json_field(
        "DATABASE_PASSWORD",
        db.credentials(),
        "password",
    ));
    let api = FargateService::new(&mut stack, "Api", &cluster, FargateServiceProps::new(c))
        .expect("the fixture is valid");
    api.connections()
        .allow_default_port_to(&mut stack, db.connections())
        .expect("the fixture is valid");
    stack
}

/// A service reaching an imported cache with its AUTH token.
fn cache_stack() -> Stack {
    let mut stack = Stack::new("uses-cache", env()).expect("the fixture is valid");
    let network = network(&mut stack);
    let cache = Cache::import(
        &mut stack,
        "Sessions",
        CacheImport {
            auth_token_secret_arn: Some(
                format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:sessions-token-GhIjKl")
                    .into(),
            ),
            ..CacheImport::new("master.sessions.abc123.use1.cache.amazonaws.com", CACHE_SG)
        },
    )
    .expect("the fixture is valid");
    let cluster = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default())
        .expect("the fixture is valid");
    let mut c = ContainerProps::new(ContainerImage::from_uri("public.ecr.aws/nginx/nginx:1.27"));
    c.environment
        .insert("REDIS_URL".to_string(), cache.connection_url());
    c.secrets.push(ContainerSecret::new(
        "REDIS_AUTH",
        cache.auth_token().expect("the fixture is valid"),
    ));
    let api = FargateService::new(&mut stack, "Api", &cluster, FargateServiceProps::new(c))
        .expect("the fixture is valid");
    api.connections()
        .allow_default_port_to(&mut stack, cache.connections())
        .expect("the fixture is valid");
    stack
}

/// An alarm and a budget notifying an imported topic.
fn topic_stack() -> Stack {
    let mut stack = Stack::new("uses-topic", env()).expect("the fixture is valid");
    let network = network(&mut stack);
    let pager = Topic::import(
        &mut stack,
        "Pager",
        format!("arn:aws:sns:us-east-1:{ACCOUNT}:on-call"),
        None,
    )
    .expect("the fixture is valid");
    let api = service(&mut stack, &network, None);
    Alarm::new(
        &mut stack,
        "ApiCpu",
        AlarmProps {
            notify: vec![pager.clone()],
            ..AlarmProps::new(
                api.metrics().cpu_utilization(),
                ComparisonOperator::GreaterThan,
                80.0,
                3,
            )
        },
    )
    .expect("the fixture is valid");
    Budget::new(&mut stack, "Budget", BudgetProps::new(100.0, &pager))
        .expect("the fixture is valid");
    stack
}

/// A listener rule on an imported load balancer and an alias to it.
fn load_balancer_stack() -> Stack {
    let mut stack = Stack::new("uses-alb", env()).expect("the fixture is valid");
    let network = network(&mut stack);
    let alb = LoadBalancer::import(
        &mut stack,
        "SharedAlb",
        &network,
        LoadBalancerImport {
            listener_arn: Some(format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2").into()),
            ..LoadBalancerImport::new(
                format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/shared/50dc6c495c0c9188"),
                "shared-1234567890.us-east-1.elb.amazonaws.com",
                "Z35SXDOTRQ7X7K",
                ALB_SG,
            )
        },
    )
    .expect("the fixture is valid");
    let api = service(&mut stack, &network, Some(8080));
    alb.add_target(&mut stack, &api, Routing::paths(40, ["/orders/*"]))
        .expect("the fixture is valid");
    DnsRecord::new(
        &mut stack,
        "Dns",
        DnsRecordProps {
            zone: HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org")
                .expect("the fixture is valid"),
            name: "orders.example.org".to_string(),
            record_type: RecordType::A,
            target: RecordTarget::Alias(AliasTarget::load_balancer(&alb)),
        },
    )
    .expect("the fixture is valid");
    stack
}

/// A function whose code is in an imported bucket and that reads the
/// bucket (SSE-KMS with the owner's key).
fn bucket_stack() -> Stack {
    let mut stack = Stack::new("uses-bucket", env()).expect("the fixture is valid");
    let artifacts = Bucket::import(
        &mut stack,
        "Artifacts",
        BucketImport {
            kms_key_arn: Some(
                format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
                    .into(),
            ),
            ..BucketImport::new("team-artifacts")
        },
    )
    .expect("the fixture is valid");
    let worker = Function::new(
        &mut stack,
        "Worker",
        FunctionProps::new(
            Runtime::Python3_13,
            "index.handler",
            Code::from_bucket(&artifacts, "worker/v1.zip"),
        ),
    )
    .expect("the fixture is valid");
    artifacts
        .grant_read(&mut stack, &worker)
        .expect("the fixture is valid");
    stack
}

fn synth(stacks: Vec<Stack>) -> Vec<StackArtifact> {
    let mut app = App::new();
    for s in stacks {
        app.add_stack(s).expect("the fixture is valid");
    }
    app.synth().expect("the import stacks synthesize")
}

fn lint(artifacts: &[StackArtifact]) {
    let dir: PathBuf = std::env::temp_dir().join(format!("khs-imports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    App::write(artifacts, Path::new(&dir)).expect("templates written");
    let templates: Vec<PathBuf> = artifacts.iter().map(|a| dir.join(a.file_name())).collect();
    let cfn_lint = khs_tests::find_tool("KHS_CFN_LINT", "cfn-lint")
        .expect("cfn-lint not found (looked at $KHS_CFN_LINT, .venv/bin/cfn-lint, PATH); run ./scripts/test.sh");
    let out = Command::new(&cfn_lint)
        .args(["--format", "parseable", "--include-checks", "I", "--"])
        .args(&templates)
        .output()
        .expect("cfn-lint runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "cfn-lint findings (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn template(a: &StackArtifact) -> J {
    serde_json::from_str(&a.json).expect("template is JSON")
}

/// Resource types an import stands for: none may be in a template.
const IMPORTED_TYPES: [&str; 13] = [
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
];

fn assert_imports_untouched(t: &J, name: &str) {
    for (id, r) in t["Resources"].as_object().expect("the fixture is valid") {
        let ty = r["Type"].as_str().expect("the fixture is valid");
        assert!(
            !IMPORTED_TYPES.contains(&ty),
            "{name}: {id} is a {ty}, which an import stands for"
        );
        if ty.starts_with("AWS::EC2::SecurityGroup") {
            let group = &r["Properties"]["GroupId"];
            assert!(
                !IMPORTED_GROUPS.iter().any(|g| group == &json!(g)),
                "{name}: {id} writes a rule on the imported group {group}"
            );
        }
    }
}

fn egress_to(t: &J, group: &str) -> Vec<(String, J)> {
    t["Resources"]
        .as_object()
        .expect("the fixture is valid")
        .iter()
        .filter(|(_, r)| {
            r["Type"] == "AWS::EC2::SecurityGroupEgress"
                && r["Properties"]["DestinationSecurityGroupId"] == json!(group)
        })
        .map(|(id, r)| (id.clone(), r["Properties"]["GroupId"].clone()))
        .collect()
}

#[test]
fn each_import_builds_a_stack_that_lints_clean_and_leaves_the_import_alone() {
    let artifacts = synth(vec![
        database_stack(),
        cache_stack(),
        topic_stack(),
        load_balancer_stack(),
        bucket_stack(),
    ]);
    lint(&artifacts);
    for a in &artifacts {
        assert_imports_untouched(&template(a), &a.name);
    }
}

#[test]
fn a_service_reaching_an_imported_database_gets_egress_on_its_own_group_only() {
    let artifacts = synth(vec![database_stack()]);
    let t = template(&artifacts[0]);
    assert_eq!(
        egress_to(&t, DB_SG),
        [(
            "ApiSecurityGroupEgressToOrdersDbTcp5432".to_string(),
            json!({"Fn::GetAtt": ["ApiSecurityGroup", "GroupId"]})
        )]
    );
    let ingress: Vec<&String> = t["Resources"]
        .as_object()
        .expect("the fixture is valid")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::EC2::SecurityGroupIngress")
        .map(|(id, _)| id)
        .collect();
    assert!(ingress.is_empty(), "no ingress anywhere: {ingress:?}");
    // The execution role reads exactly the imported secret and its key.
    let policy = &t["Resources"]["ApiExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"];
    let reads: Vec<&J> = policy
        .as_array()
        .expect("the fixture is valid")
        .iter()
        .filter(|s| s["Action"] == "secretsmanager:GetSecretValue" || s["Action"] == "kms:Decrypt")
        .map(|s| &s["Resource"])
        .collect();
    assert_eq!(
        reads,
        [
            &json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:secretsmanager:us-east-1:{ACCOUNT}:secret:orders-db-AbCdEf")}),
            &json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")}),
        ]
    );
}

#[test]
fn a_function_reads_its_code_and_data_from_an_imported_bucket() {
    let artifacts = synth(vec![bucket_stack()]);
    let t = template(&artifacts[0]);
    let code = &t["Resources"]["WorkerFunction"]["Properties"]["Code"];
    assert_eq!(
        code,
        &json!({"S3Bucket": "team-artifacts", "S3Key": "worker/v1.zip"})
    );
    let st = &t["Resources"]["WorkerReadArtifacts"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(
        st[0]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::team-artifacts/*"})
    );
    assert_eq!(
        st[2]["Condition"]["StringEquals"]["kms:ViaService"],
        json!({"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
    );
}

#[test]
fn the_imports_example_creates_only_the_service_s_resources() {
    let artifacts = imports::app()
        .and_then(|a| a.synth())
        .expect("the example synthesizes");
    let t = template(&artifacts[0]);
    assert_imports_untouched(&t, "orders-api");
    assert_eq!(egress_to(&t, DB_SG).len(), 1);
    assert_eq!(egress_to(&t, CACHE_SG).len(), 1);
    let rule = &t["Resources"]["ApiSharedAlbListenerRule"]["Properties"];
    assert_eq!(rule["Priority"], 40);
    assert_eq!(
        t["Resources"]["DnsRecord"]["Properties"]["AliasTarget"]["HostedZoneId"],
        "Z35SXDOTRQ7X7K"
    );
}

#[test]
fn fails_when_a_rule_would_be_written_on_an_imported_group() {
    let mut stack = Stack::new("uses-db", env()).expect("the fixture is valid");
    let network = network(&mut stack);
    let db = Database::import(
        &mut stack,
        "OrdersDb",
        DatabaseImport::new(
            DatabaseEngine::Postgres,
            "orders.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com",
            DB_SG,
            format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders-db-AbCdEf"),
        ),
    )
    .expect("the fixture is valid");
    let api = service(&mut stack, &network, None);
    let e = db
        .connections()
        .allow_default_port_from(&mut stack, api.connections())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "uses-db/OrdersDb: security_group is the imported security group {DB_SG}, which this app never modifies, so allow_from cannot add a rule to it; reach it with `allow_to` from your own group (an egress rule there only; the group's owner admits your group), or call `allow_from_on_imported_group` with a reason to add the ingress rule anyway"
        )
    );
}

#[test]
fn fails_when_an_import_is_in_another_region() {
    let mut stack = Stack::new("uses-db", env()).expect("the fixture is valid");
    let e = Database::import(
        &mut stack,
        "OrdersDb",
        DatabaseImport::new(
            DatabaseEngine::Postgres,
            "orders.c1a2b3c4d5e6.us-west-2.rds.amazonaws.com",
            DB_SG,
            format!("arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:orders-db-AbCdEf"),
        ),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        format!(
            "uses-db/OrdersDb: credentials_secret_arn must be in the stack's region us-east-1 (the read grant names Secrets Manager of the stack's region; replicate the secret into it), got us-west-2 in \"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:orders-db-AbCdEf\""
        )
    );
}
