//! One stage of the KHS CRM: the stacks built from a [`StageSettings`].
//!
//! Each system of the architecture document has its block below; the blocks
//! pass typed handles to each other (the network to the service, the service
//! to the CDN and the alarms, …).

use khs_constructs::edge::CountryCodes;
use khs_constructs::edge::{ApiCache, CdnAccessLogs, Cookies, PriceClass};
use khs_constructs::network::cloudfront_alias_records;
use khs_constructs::network::{InterfaceService, VpcEndpointsProps};
use khs_constructs::prelude::*;
use khs_constructs::storage::{ObjectOwnership, ServerAccessLogs, StorageClass, Transition};
// Application tier (apptier).
use khs_constructs::compute::AccessLogs;

use crate::settings::{NatSetting, PriceClassSetting, StageSettings};

/// The KHS CRM database and its master user.
const DATABASE_NAME: &str = "khscrm";
const DATABASE_USER: &str = "khsadmin";
/// Paths the CDN never caches: the service worker must update promptly.
const NO_CACHE_PATHS: [&str; 1] = ["/sw.js"];
/// The alarms of the operations block that roll a blue/green deployment
/// back (ids of `Monitoring`).
const ROLLBACK_ALARMS: [&str; 2] = ["HighErrorRate", "NoHealthyHosts"];
/// The port the KHS CRM API listens on.
const API_PORT: u16 = 3001;
/// The API's health check path.
const API_HEALTH_PATH: &str = "/api/health";
/// The API image's `nodejs` user.
const API_USER: &str = "1001";
/// The template parameter CI sets to the image's git sha.
const API_IMAGE_TAG_PARAMETER: &str = "ImageTag";
/// The AWS services the API tasks call (image pulls, logs, secrets, the
/// X-Ray daemon): the interface endpoints of a stage with `vpc_endpoints`.
/// Ingress stays the VPC's CIDR: with private DNS every caller in the VPC
/// (the tasks and the database's rotation function) must reach them.
const API_ENDPOINT_SERVICES: [InterfaceService; 5] = [
    InterfaceService::EcrApi,
    InterfaceService::EcrDkr,
    InterfaceService::CloudWatchLogs,
    InterfaceService::SecretsManager,
    InterfaceService::XRay,
];
/// The seed's request-count steps: requests per target and minute → added
/// capacity in percent.
const API_REQUEST_STEPS: [(u32, u32); 3] = [(1000, 20), (2000, 50), (5000, 100)];

/// Builds the stacks of one stage.
pub fn build(s: &StageSettings) -> Result<Vec<Stack>, khs_constructs::Error> {
    let env = match &s.account {
        Some(account) => Environment::new(account, &s.region),
        None => Environment::region(&s.region),
    };
    let mut stack = Stack::new(
        &s.stack_name,
        StackProps {
            description: Some(format!(
                "KHS CRM {} infrastructure (khs-constructs)",
                s.stage
            )),
            tags: s.tags.clone(),
            termination_protection: s.termination_protection,
            ..StackProps::new(env)
        },
    )?;

    // --- Networking: VPC, subnets, NAT, flow logs, network ACLs -------------
    let n = &s.network;
    let network = Network::new(
        &mut stack,
        "Network",
        NetworkProps {
            cidr: n.cidr,
            availability_zones: n.availability_zones.clone(),
            public_subnet_cidrs: n.public_subnets.clone(),
            private_subnet_cidrs: n.private_subnets.clone(),
            nat_gateways: match n.nat_gateways {
                NatSetting::PerAz => NatGateways::PerAz,
                NatSetting::Single => NatGateways::Single,
            },
            flow_log_retention_days: n.flow_log_retention_days,
            deny_cidrs: n.deny_cidrs.clone(),
            endpoints: if n.vpc_endpoints {
                VpcEndpointsProps {
                    interface: API_ENDPOINT_SERVICES.to_vec(),
                    ..VpcEndpointsProps::default()
                }
            } else {
                VpcEndpointsProps::default()
            },
            ..NetworkProps::default()
        },
    )?;
    stack.acknowledge_under(
        "Network",
        "vpc-network-acls",
        "The architecture requires network ACLs as a second, stateless layer beside the security groups (the deny list, HTTPS only into the public subnets); their entries are generated from the network settings and tested.",
    )?;

    // --- Storage: logs and backups buckets (edge) ----------------------------
    // Logs: CloudFront standard logs need ACLs (BucketOwnerPreferred); S3
    // server access logs under s3-access/, load balancer logs under alb/.
    let st = &s.storage;
    let mut logs_bucket = Bucket::new(
        &mut stack,
        "LogsBucket",
        BucketProps {
            name: BucketName::unique(&st.logs_bucket_prefix),
            object_ownership: ObjectOwnership::BucketOwnerPreferred,
            lifecycle_rules: vec![expiring_rule("Expire", st.logs_expiration_days, false)],
            grants: vec![
                BucketGrant::ServerAccessLogs {
                    prefix: "s3-access/".to_string(),
                },
                BucketGrant::LoadBalancerLogs {
                    prefix: "alb/".to_string(),
                },
            ],
            ..BucketProps::default()
        },
    )?;
    logs_bucket.bucket().acknowledge(
        &mut stack,
        "s3-server-access-logs",
        "This bucket is the destination of the server access logs of the other buckets; logging it into itself would log every log delivery, and a second log bucket would only move the finding.",
    )?;
    let backups_bucket = Bucket::new(
        &mut stack,
        "BackupsBucket",
        BucketProps {
            name: BucketName::unique(&st.backups_bucket_prefix),
            lifecycle_rules: vec![expiring_rule(
                "Archive",
                st.backups_expiration_days,
                st.backups_intelligent_tiering,
            )],
            server_access_logs: Some(ServerAccessLogs {
                bucket: logs_bucket.reference(),
                prefix: "s3-access/backups/".to_string(),
            }),
            ..BucketProps::default()
        },
    )?;

    // --- Edge: certificate and WAF in us-east-1 (edge) ------------------------
    // In a stage outside us-east-1 they live in a `<stack>-edge` stack.
    let fe = &s.frontend;
    let zone = HostedZoneRef::from_id(&fe.hosted_zone_id, &fe.hosted_zone_name)?;
    let mut edge = Edge::new(
        &mut stack,
        "Edge",
        EdgeProps {
            certificate: Some(CertificateProps::new(&fe.domain, zone.clone())),
            waf: Some(WafProps {
                rules: vec![
                    WafRule::new(
                        "IpDenyList",
                        0,
                        WafRuleKind::IpDeny {
                            addresses: fe.waf_ip_deny.clone(),
                        },
                    ),
                    WafRule::new(
                        "RateLimit",
                        1,
                        WafRuleKind::RateLimit {
                            limit: fe.waf_rate_limit,
                            window_seconds: 300,
                        },
                    ),
                    WafRule::new(
                        "GeoAllow",
                        2,
                        WafRuleKind::GeoAllow {
                            countries: vec![CountryCodes::Us, CountryCodes::Ca, CountryCodes::Mx],
                        },
                    ),
                    WafRule::aws_managed("AWSManagedRulesCommonRuleSet", 3),
                    WafRule::aws_managed("AWSManagedRulesKnownBadInputsRuleSet", 4),
                    WafRule::aws_managed("AWSManagedRulesSQLiRuleSet", 5),
                ],
                ..WafProps::default()
            }),
            stack_name: None,
            regional_certificate: true,
        },
    )?;

    // --- Application tier: secrets, database, cache, API service (apptier) --
    // Stages differ only by the settings below (sizes, counts, standbys).
    let secrets_key = EncryptionKey::new(
        &mut stack,
        "SecretsKey",
        EncryptionKeyProps {
            description: Some("Encrypts the JWT secrets of the KHS CRM API".to_string()),
            alias: Some(format!("{}/secrets", s.stack_name)),
            ..EncryptionKeyProps::default()
        },
    )?;
    let jwt_secret = |stack: &mut Stack, id: &str, what: &str| {
        let secret = Secret::new(
            stack,
            id,
            SecretProps {
                value: GeneratedValue::String {
                    length: 64,
                    exclude_characters: String::new(),
                    exclude_punctuation: true,
                },
                encryption_key: Some(secrets_key.clone()),
                ..SecretProps::new(what)
            },
        )?;
        stack.acknowledge_under(
            id,
            "secret-rotation",
            "Rotating a JWT signing secret invalidates every issued token at once; until the API accepts two signing keys during a rollover, rotation is a manual, announced operation.",
        )?;
        Ok::<_, khs_constructs::Error>(secret)
    };
    let jwt = jwt_secret(
        &mut stack,
        "JwtSecret",
        "JWT signing secret of the KHS CRM API",
    )?;
    let jwt_refresh = jwt_secret(
        &mut stack,
        "JwtRefreshSecret",
        "JWT refresh-token signing secret of the KHS CRM API",
    )?;

    let d = &s.database;
    let database = Database::new(
        &mut stack,
        "Database",
        &network,
        DatabaseProps {
            instance_class: d.instance_class.clone(),
            storage_gib: d.storage_gib,
            multi_az: d.multi_az,
            backup_retention_days: d.backup_retention_days,
            deletion_protection: d.deletion_protection,
            read_replica_availability_zones: d.read_replica_availability_zones.clone(),
            database_name: DATABASE_NAME.to_string(),
            master_username: DATABASE_USER.to_string(),
            ..DatabaseProps::default()
        },
    )?;
    stack.acknowledge_under(
        "Database",
        "rds-default-port",
        "Port obfuscation is no control here: the database is in private subnets, its security group admits only the API service and the rotation function, and connections require TLS.",
    )?;
    if !d.multi_az {
        stack.acknowledge_under(
            "Database/Instance",
            "rds-multi-az",
            "This stage's settings choose a single-AZ instance: its data is disposable test data, restored from backups if the zone fails.",
        )?;
    }
    // "Enable RDS auto-stop for non-prod" (see docs/architecture.md).
    if let Some(auto) = &d.auto_stop {
        let at = |prop: &str, expr: &str| {
            Cron::parse(format!("{}/DatabaseAutoStop", s.stack_name), prop, expr)
        };
        database.auto_stop(
            &mut stack,
            "DatabaseAutoStop",
            at("stop", &auto.stop)?,
            at("start", &auto.start)?,
        )?;
    }
    if !d.deletion_protection {
        stack.acknowledge_under(
            "Database",
            "rds-deletion-protection",
            "This stage's settings turn deletion protection off so the disposable stage can be torn down; its backups are kept by the backup plan.",
        )?;
    }

    let c = &s.cache;
    let cache = Cache::new(
        &mut stack,
        "Cache",
        &network,
        CacheProps {
            node_type: c.node_type.clone(),
            nodes: c.nodes,
            automatic_failover: c.nodes >= 2,
            multi_az: c.nodes >= 2,
            snapshot_retention_days: c.snapshot_retention_days,
            ..CacheProps::default()
        },
    )?;
    stack.acknowledge_under(
        "Cache",
        "elasticache-default-port",
        "Port obfuscation is no control here: the cache is in private subnets, its security group admits only the API service, and clients need TLS and the AUTH token.",
    )?;
    stack.acknowledge_under(
        "Cache/AuthToken",
        "secret-rotation",
        "ElastiCache offers no hosted rotation for Redis AUTH tokens; rotating one is an auth-token update with the ROTATE strategy followed by a restart of the API tasks, done by hand until the API reloads the token itself.",
    )?;
    if c.nodes < 2 {
        stack.acknowledge_under(
            "Cache",
            "elasticache-multi-az",
            "This stage's settings choose one cache node: the cache holds only sessions and cached reads, which the API rebuilds after a failure.",
        )?;
    }

    // The load balancer needs a certificate of its own region: the edge's
    // regional certificate (the stage domain in this region).
    let api_certificate = match edge.regional_certificate() {
        Some(cert) => cert.clone(),
        None => Certificate::new(
            &mut stack,
            "ApiCertificate",
            CertificateProps::new(&fe.domain, zone.clone()),
        )?
        .reference(),
    };
    let a = &s.api;
    let mut api_props = ApiServiceProps::new(
        &a.cluster_name,
        &a.service_name,
        &a.repository_name,
        api_certificate,
    );
    api_props.image_tag_parameter = Some(API_IMAGE_TAG_PARAMETER.to_string());
    api_props.container_port = API_PORT;
    api_props.user = API_USER.to_string();
    api_props.health_check = HealthCheck::on_path(API_HEALTH_PATH);
    api_props.scaling.request_steps = API_REQUEST_STEPS
        .iter()
        .map(|&(threshold, percent)| RequestStep { threshold, percent })
        .collect();
    if let Some(bg) = a.blue_green {
        api_props.deployment = DeploymentStrategy::BlueGreen {
            bake_time_minutes: bg.bake_time_minutes,
            // The alarms of the operations block (`<stack>-<id>` names):
            // the service waits for them below.
            rollback_alarm_names: ROLLBACK_ALARMS
                .iter()
                .map(|id| format!("{}-{id}", s.stack_name).into())
                .collect(),
        };
    }
    if let Some(base) = a.on_demand_base_tasks {
        api_props.capacity = CapacityStrategy::Mixed {
            on_demand_base: base,
            on_demand_weight: 0,
            spot_weight: 1,
        };
    }
    api_props.cpu = a.cpu;
    api_props.memory_mib = a.memory_mib;
    api_props.log_retention_days = a.log_retention_days;
    api_props.deletion_protection = a.deletion_protection;
    // Only CloudFront reaches the load balancer: the Frontend block opens
    // 443 to CloudFront's origin-facing prefix list instead (edge).
    api_props.allow_internet_ingress = false;
    api_props.access_logs = Some(AccessLogs {
        bucket: logs_bucket.reference(),
        prefix: "alb".to_string(),
        bucket_policy: logs_bucket.policy().clone(),
    });
    api_props.scaling.min_capacity = a.min_tasks;
    api_props.scaling.max_capacity = a.max_tasks;
    for sch in &a.schedules {
        api_props.scaling.schedules.push(ScheduledScaling {
            name: sch.name.clone(),
            schedule: Cron::parse(
                format!("{}/ApiService", s.stack_name),
                "schedule",
                &sch.cron,
            )?,
            min_capacity: sch.min_tasks,
            max_capacity: sch.max_tasks,
        });
    }
    // Plain configuration; passwords only as secrets.
    let port = api_props.container_port.to_string();
    let env = &mut api_props.environment;
    env.insert("NODE_ENV".to_string(), "production".into());
    env.insert("PORT".to_string(), port.into());
    env.insert("DATABASE_URL".to_string(), database.connection_url());
    env.insert("REDIS_URL".to_string(), cache.connection_url());
    for (k, v) in database.pool_environment() {
        env.insert(k, v.into());
    }
    api_props.secrets = vec![
        ContainerSecret::new("JWT_SECRET", &jwt),
        ContainerSecret::new("JWT_REFRESH_SECRET", &jwt_refresh),
        ContainerSecret::json_field("DB_PASSWORD", database.credentials(), "password"),
        ContainerSecret::new("REDIS_PASSWORD", cache.auth_token()),
    ];
    let api_deployment = api_props.deployment.clone();
    let api = ApiService::new(&mut stack, "ApiService", &network, api_props)?;
    stack.acknowledge_under(
        "ApiService/TaskDefinition",
        "ecs-environment-variables",
        "The environment holds plain configuration only (mode, port, pool sizes, endpoints without credentials); the JWT secrets and the database and Redis passwords come from Secrets Manager through Secrets.",
    )?;
    if !a.deletion_protection {
        stack.acknowledge_under(
            "ApiService/LoadBalancer",
            "elb-deletion-protection",
            "This stage's settings turn deletion protection off so the disposable stage can be torn down; its DNS alias is recreated with it.",
        )?;
    }
    // ALB → tasks is wired by ApiService; tasks → PostgreSQL and Redis here.
    database
        .connections()
        .allow_default_port_from(&mut stack, api.connections())?;
    cache
        .connections()
        .allow_default_port_from(&mut stack, api.connections())?;

    // --- Frontend: S3 + CloudFront + DNS (edge) --------------------------------
    let cdn = Cdn::new(
        &mut stack,
        "Frontend",
        CdnProps {
            bucket: BucketProps {
                name: BucketName::unique(&fe.bucket_prefix),
                server_access_logs: Some(ServerAccessLogs {
                    bucket: logs_bucket.reference(),
                    prefix: "s3-access/frontend/".to_string(),
                }),
                ..BucketProps::default()
            },
            aliases: vec![fe.domain.clone()],
            certificate: edge.certificate().cloned(),
            api: Some(ApiOrigin {
                restrict_to_cloudfront: Some(api.load_balancer_connections().clone()),
                // The seed's API behaviour: its session cookies only.
                cache: ApiCache {
                    cookies: Cookies::Only(vec!["session".into(), "auth-token".into()]),
                    ..ApiCache::default()
                },
                ..ApiOrigin::new(api.load_balancer().clone())
            }),
            web_acl: edge.web_acl().cloned(),
            access_logs: Some(CdnAccessLogs {
                bucket: logs_bucket.reference(),
                prefix: "cloudfront/".to_string(),
            }),
            price_class: match fe.price_class {
                PriceClassSetting::PriceClass100 => PriceClass::PriceClass100,
                PriceClassSetting::PriceClass200 => PriceClass::PriceClass200,
                PriceClassSetting::All => PriceClass::All,
            },
            no_cache_paths: NO_CACHE_PATHS.iter().map(|p| p.to_string()).collect(),
            ..CdnProps::default()
        },
    )?;
    stack.acknowledge_under(
        "Frontend/Distribution",
        "cloudfront-geo-restriction",
        "Countries are restricted by the web ACL's GeoAllow rule, which the distribution applies before any origin; a second country list in the distribution would drift from it.",
    )?;
    cloudfront_alias_records(
        &mut stack,
        "FrontendDns",
        &zone,
        &fe.domain,
        cdn.distribution(),
    )?;
    {
        let mut out = stack.as_scope();
        out.add_output(
            "FrontendDistributionDomain",
            Output::new("CloudFront domain of the frontend", cdn.domain_name()),
        )?;
        out.add_output(
            "FrontendDistributionId",
            Output::new(
                "CloudFront distribution id (for invalidations)",
                cdn.distribution_id(),
            ),
        )?;
        out.add_output(
            "FrontendBucketName",
            Output::new("Bucket the frontend is deployed to", cdn.bucket().name()),
        )?;
        out.add_output(
            "LogsBucketName",
            Output::new(
                "Bucket of CloudFront, S3 and load balancer logs",
                logs_bucket.name(),
            ),
        )?;
        out.add_output(
            "BackupsBucketName",
            Output::new("Bucket of application backups", backups_bucket.name()),
        )?;
    }

    // --- Operations: alerts, alarms, dashboard, X-Ray, backup, security ------
    // --- baseline, budget (ops) -----------------------------------------------
    let ops = crate::ops::add(
        &mut stack,
        s,
        crate::ops::OpsInputs {
            application_buckets: vec![cdn.bucket(), &backups_bucket],
            logs_bucket: Some(&mut logs_bucket),
            // Application tier handles (apptier).
            load_balancer: Some(api.load_balancer_metrics()),
            service: Some(api.service_metrics()),
            database: Some(&database),
            cache: Some(cache.metrics()),
        },
    )?;

    if matches!(api_deployment, DeploymentStrategy::BlueGreen { .. }) {
        let mut root = stack.as_scope();
        for id in ROLLBACK_ALARMS {
            let alarm = ops.monitoring.alarm(id).ok_or_else(|| {
                khs_constructs::Error::invalid_prop(
                    format!("{}/ApiService", s.stack_name),
                    "deployment.rollback_alarm_names",
                    format!("names the alarm {id}, which the Monitoring block did not create"),
                )
            })?;
            root.add_dependency(api.service().service(), alarm.handle())?;
        }
    }

    let mut stacks = vec![stack];
    stacks.extend(edge.take_stack());
    stacks.extend(ops.stacks);
    Ok(stacks)
}

/// A lifecycle rule deleting objects after `days`, moving them to
/// Standard-IA (or Intelligent-Tiering at once) and Glacier before when
/// they live long enough for it (S3 bills Standard-IA for 30 days, Glacier
/// for 90).
fn expiring_rule(id: &str, days: u32, intelligent_tiering: bool) -> LifecycleRule {
    let mut transitions = Vec::new();
    if intelligent_tiering {
        transitions.push(Transition::new(StorageClass::IntelligentTiering, 0));
    } else if days > 60 {
        transitions.push(Transition::new(StorageClass::StandardIa, 30));
    }
    if days > 180 {
        transitions.push(Transition::new(StorageClass::Glacier, 90));
    }
    LifecycleRule {
        transitions,
        expiration_days: Some(days),
        noncurrent_expiration_days: Some(30),
        abort_incomplete_multipart_upload_days: Some(7),
        ..LifecycleRule::new(id)
    }
}
