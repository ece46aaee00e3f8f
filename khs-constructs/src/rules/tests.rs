//! Per rule: a template that fires it and one that does not.

use serde_json::{Value as Json, json};

use super::security;
use crate::core::rules::Subject;
use crate::core::template::Template;

/// A template from `{"Id": {"Type": …, "Properties": …}, …}`.
fn template(resources: Json) -> Template {
    serde_json::from_value(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
    }))
    .expect("a valid template")
}

/// Whether rule `id` fires on resource `R` of `resources`.
fn fires(id: &str, resources: Json) -> bool {
    let t = template(resources);
    let pack = security();
    let rule = pack
        .rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"));
    let resource = &t.resources["R"];
    assert!(
        rule.resource_types.contains(&resource.type_name.as_str()),
        "{id} does not run on {}",
        resource.type_name
    );
    let subject = Subject {
        stack: "s",
        logical_id: "R",
        resource,
        template: &t,
    };
    (rule.check)(&subject).is_some()
}

fn r(type_name: &str, properties: Json) -> Json {
    json!({ "R": { "Type": type_name, "Properties": properties } })
}

fn with(mut resources: Json, id: &str, type_name: &str, properties: Json) -> Json {
    resources[id] = json!({ "Type": type_name, "Properties": properties });
    resources
}

const BUCKET: &str = "AWS::S3::Bucket";
const DB: &str = "AWS::RDS::DBInstance";
const CACHE: &str = "AWS::ElastiCache::ReplicationGroup";
const SG: &str = "AWS::EC2::SecurityGroup";
const LB: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const CF: &str = "AWS::CloudFront::Distribution";
const ROLE: &str = "AWS::IAM::Role";

fn pg() -> Json {
    json!({"Engine": "postgres", "MultiAZ": true, "StorageEncrypted": true,
           "EnableIAMDatabaseAuthentication": true, "DeletionProtection": true,
           "Port": 5433, "MonitoringInterval": 60, "BackupRetentionPeriod": 7,
           "DBParameterGroupName": {"Ref": "Params"}})
}

fn patched(mut base: Json, patch: Json) -> Json {
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

fn redis() -> Json {
    json!({"Engine": "redis", "AtRestEncryptionEnabled": true, "TransitEncryptionEnabled": true,
           "AuthToken": "{{resolve:secretsmanager:s}}", "MultiAZEnabled": true,
           "AutomaticFailoverEnabled": true, "Port": 6380, "SnapshotRetentionLimit": 7,
           "CacheSubnetGroupName": "g"})
}

fn dist(config: Json) -> Json {
    let base = json!({
        "DefaultCacheBehavior": {"ViewerProtocolPolicy": "redirect-to-https"},
        "ViewerCertificate": {"AcmCertificateArn": "arn", "MinimumProtocolVersion": "TLSv1.2_2021"},
        "Origins": [
            {"Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com", "S3OriginConfig": {}, "OriginAccessControlId": "oac"},
            {"Id": "api", "DomainName": "api.example.com", "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}}
        ],
        "Logging": {"Bucket": "logs.s3.amazonaws.com"},
        "WebACLId": "arn:waf",
        "Restrictions": {"GeoRestriction": {"RestrictionType": "whitelist", "Locations": ["DE"]}}
    });
    r(CF, json!({ "DistributionConfig": patched(base, config) }))
}

fn lb(attributes: &[(&str, &str)]) -> Json {
    let attrs: Vec<Json> = attributes
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    r(
        LB,
        json!({"Type": "application", "LoadBalancerAttributes": attrs}),
    )
}

fn role_policy(statement: Json) -> Json {
    r(
        ROLE,
        json!({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
               "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}]}),
    )
}

fn ssl_policy(bucket_or_topic_key: &str, deny: bool) -> Json {
    let effect = if deny { "Deny" } else { "Allow" };
    json!({ bucket_or_topic_key: {"Ref": "R"}, "PolicyDocument": {"Statement": [
        {"Effect": effect, "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}})
}

/// (rule, a template it fires on, a template it does not fire on).
fn cases() -> Vec<(&'static str, Json, Json)> {
    let good_bucket = json!({
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "LoggingConfiguration": {"DestinationBucketName": "logs"},
        "VersioningConfiguration": {"Status": "Enabled"}
    });
    let bucket = |patch: Json| r(BUCKET, patched(good_bucket.clone(), patch));
    let db = |patch: Json| {
        with(
            r(DB, patched(pg(), patch)),
            "Params",
            "AWS::RDS::DBParameterGroup",
            json!({"Family": "postgres16", "Parameters": {"rds.force_ssl": "1"}}),
        )
    };
    let cache = |patch: Json| r(CACHE, patched(redis(), patch));
    let ingress = |cidr: &str, from: u16, to: u16| {
        r(
            SG,
            json!({"GroupDescription": "d", "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": from, "ToPort": to, "CidrIp": cidr, "Description": "d"}]}),
        )
    };
    let repo = |patch: Json| {
        r(
            "AWS::ECR::Repository",
            patched(
                json!({"ImageScanningConfiguration": {"ScanOnPush": true}, "ImageTagMutability": "IMMUTABLE",
                       "EncryptionConfiguration": {"EncryptionType": "KMS"}}),
                patch,
            ),
        )
    };
    let trail = |patch: Json| {
        r(
            "AWS::CloudTrail::Trail",
            patched(
                json!({"KMSKeyId": "k", "EnableLogFileValidation": true, "IsMultiRegionTrail": true, "IsLogging": true, "S3BucketName": "b"}),
                patch,
            ),
        )
    };
    let task = |container: Json| {
        r(
            "AWS::ECS::TaskDefinition",
            json!({"ContainerDefinitions": [patched(json!({"Name": "app", "Image": "i",
                "LogConfiguration": {"LogDriver": "awslogs"}}), container)]}),
        )
    };
    let key = |patch: Json| {
        r(
            "AWS::KMS::Key",
            patched(
                json!({"EnableKeyRotation": true, "KeyPolicy": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}}),
                patch,
            ),
        )
    };
    let secret = r("AWS::SecretsManager::Secret", json!({"KmsKeyId": "k"}));
    let topic = r("AWS::SNS::Topic", json!({"KmsMasterKeyId": "k"}));
    let log_group = |patch: Json| {
        r(
            "AWS::Logs::LogGroup",
            patched(json!({"KmsKeyId": "k", "RetentionInDays": 30}), patch),
        )
    };
    let vpc = r("AWS::EC2::VPC", json!({"CidrBlock": "10.0.0.0/16"}));
    let listener = |p: Json| r("AWS::ElasticLoadBalancingV2::Listener", p);
    vec![
        (
            "s3-public-access-block",
            bucket(json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true}})),
            bucket(json!({})),
        ),
        (
            "s3-public-acl",
            bucket(json!({"AccessControl": "PublicRead"})),
            bucket(json!({"AccessControl": "LogDeliveryWrite"})),
        ),
        (
            "s3-encryption",
            bucket(json!({"BucketEncryption": null})),
            bucket(json!({})),
        ),
        (
            "s3-ssl-only",
            with(
                bucket(json!({})),
                "P",
                "AWS::S3::BucketPolicy",
                ssl_policy("Bucket", false),
            ),
            with(
                bucket(json!({})),
                "P",
                "AWS::S3::BucketPolicy",
                ssl_policy("Bucket", true),
            ),
        ),
        (
            "s3-server-access-logs",
            bucket(json!({"LoggingConfiguration": null})),
            bucket(json!({})),
        ),
        (
            "s3-versioning",
            bucket(json!({"VersioningConfiguration": {"Status": "Suspended"}})),
            bucket(json!({})),
        ),
        (
            "log-group-kms",
            log_group(json!({"KmsKeyId": null})),
            log_group(json!({})),
        ),
        (
            "log-group-retention",
            log_group(json!({"RetentionInDays": null})),
            log_group(json!({})),
        ),
        (
            "backup-vault-kms",
            r("AWS::Backup::BackupVault", json!({"BackupVaultName": "v"})),
            r(
                "AWS::Backup::BackupVault",
                json!({"BackupVaultName": "v", "EncryptionKeyArn": "k"}),
            ),
        ),
        (
            "rds-storage-encrypted",
            db(json!({"StorageEncrypted": null})),
            db(json!({})),
        ),
        (
            "rds-public-access",
            db(json!({"PubliclyAccessible": true})),
            db(json!({"PubliclyAccessible": false})),
        ),
        (
            "rds-backup",
            db(json!({"BackupRetentionPeriod": 0})),
            db(json!({})),
        ),
        ("rds-multi-az", db(json!({"MultiAZ": false})), db(json!({}))),
        (
            "rds-iam-authentication",
            db(json!({"EnableIAMDatabaseAuthentication": null})),
            db(json!({"Engine": null, "SourceDBInstanceIdentifier": {"Ref": "Primary"}})),
        ),
        (
            "rds-deletion-protection",
            db(json!({"DeletionProtection": false})),
            db(json!({})),
        ),
        (
            "rds-default-port",
            db(json!({"Port": "5432"})),
            db(json!({})),
        ),
        (
            "rds-enhanced-monitoring",
            db(json!({"MonitoringInterval": 0})),
            db(json!({})),
        ),
        (
            "rds-tls-in-transit",
            db(json!({"DBParameterGroupName": "default.postgres16"})),
            db(json!({})),
        ),
        (
            "elasticache-in-vpc",
            cache(json!({"CacheSubnetGroupName": null})),
            cache(json!({})),
        ),
        (
            "elasticache-encryption",
            cache(json!({"TransitEncryptionEnabled": false})),
            cache(json!({})),
        ),
        (
            "elasticache-auth",
            cache(json!({"AuthToken": null})),
            cache(json!({})),
        ),
        (
            "elasticache-multi-az",
            cache(json!({"MultiAZEnabled": false})),
            cache(json!({})),
        ),
        (
            "elasticache-default-port",
            cache(json!({"Port": null})),
            cache(json!({})),
        ),
        (
            "elasticache-backup",
            cache(json!({"SnapshotRetentionLimit": 0})),
            cache(json!({})),
        ),
        (
            "secret-rotation",
            secret.clone(),
            with(
                secret.clone(),
                "Rotation",
                "AWS::SecretsManager::RotationSchedule",
                json!({"SecretId": {"Ref": "R"}}),
            ),
        ),
        (
            "secret-kms",
            r("AWS::SecretsManager::Secret", json!({})),
            secret,
        ),
        (
            "kms-key-rotation",
            key(json!({"EnableKeyRotation": false})),
            key(json!({"EnableKeyRotation": null, "KeySpec": "RSA_2048"})),
        ),
        (
            "kms-key-policy-wildcard",
            key(
                json!({"KeyPolicy": {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}}),
            ),
            key(json!({})),
        ),
        (
            "sns-encryption",
            r("AWS::SNS::Topic", json!({})),
            topic.clone(),
        ),
        (
            "sns-ssl-only",
            topic.clone(),
            with(
                topic,
                "P",
                "AWS::SNS::TopicPolicy",
                json!({"Topics": [{"Ref": "R"}], "PolicyDocument": ssl_policy("x", true)["PolicyDocument"].clone()}),
            ),
        ),
        (
            "vpc-flow-logs",
            vpc.clone(),
            with(
                vpc,
                "Flow",
                "AWS::EC2::FlowLog",
                json!({"ResourceId": {"Ref": "R"}, "ResourceType": "VPC", "TrafficType": "ALL"}),
            ),
        ),
        (
            "vpc-network-acls",
            r("AWS::EC2::NetworkAcl", json!({"VpcId": "v"})),
            // Only network ACL resources fire; a security group does not.
            json!({}),
        ),
        (
            "sg-open-admin-ports",
            ingress("0.0.0.0/0", 20, 25),
            ingress("10.0.0.0/8", 22, 22),
        ),
        (
            "sg-open-http",
            ingress("0.0.0.0/0", 80, 80),
            ingress("0.0.0.0/0", 443, 443),
        ),
        (
            "sg-open-ingress",
            ingress("0.0.0.0/0", 443, 443),
            ingress("10.0.0.0/16", 443, 443),
        ),
        (
            "sg-rule-description",
            r(
                "AWS::EC2::SecurityGroupIngress",
                json!({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "GroupId": "g"}),
            ),
            ingress("10.0.0.0/16", 443, 443),
        ),
        (
            "elb-access-logs",
            lb(&[]),
            lb(&[("access_logs.s3.enabled", "true")]),
        ),
        (
            "elb-drop-invalid-headers",
            lb(&[]),
            lb(&[("routing.http.drop_invalid_header_fields.enabled", "true")]),
        ),
        (
            "elb-deletion-protection",
            lb(&[("deletion_protection.enabled", "false")]),
            lb(&[("deletion_protection.enabled", "true")]),
        ),
        (
            "elb-listener-tls",
            listener(
                json!({"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-2016-08"}),
            ),
            listener(json!({"Protocol": "HTTP", "Port": 80, "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]})),
        ),
        (
            "cloudfront-viewer-https",
            dist(
                json!({"CacheBehaviors": [{"PathPattern": "/api/*", "ViewerProtocolPolicy": "allow-all"}]}),
            ),
            dist(json!({})),
        ),
        (
            "cloudfront-viewer-tls",
            dist(json!({"ViewerCertificate": {"CloudFrontDefaultCertificate": true}})),
            dist(json!({})),
        ),
        (
            "cloudfront-origin-tls",
            dist(
                json!({"Origins": [{"Id": "api", "DomainName": "a", "CustomOriginConfig": {"OriginProtocolPolicy": "match-viewer"}}]}),
            ),
            dist(json!({})),
        ),
        (
            "cloudfront-s3-origin-access",
            dist(
                json!({"Origins": [{"Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com", "S3OriginConfig": {}}]}),
            ),
            dist(json!({})),
        ),
        (
            "cloudfront-access-logs",
            dist(json!({"Logging": null})),
            dist(json!({})),
        ),
        (
            "cloudfront-waf",
            dist(json!({"WebACLId": null})),
            dist(json!({})),
        ),
        (
            "cloudfront-geo-restriction",
            dist(json!({"Restrictions": null})),
            dist(json!({})),
        ),
        (
            "waf-known-bad-inputs",
            r(
                "AWS::WAFv2::WebACL",
                json!({"Rules": [{"Name": "x", "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}}]}),
            ),
            r(
                "AWS::WAFv2::WebACL",
                json!({"Rules": [{"Name": "x", "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}}]}),
            ),
        ),
        (
            "acm-no-wildcard",
            r(
                "AWS::CertificateManager::Certificate",
                json!({"DomainName": "*.example.com"}),
            ),
            r(
                "AWS::CertificateManager::Certificate",
                json!({"DomainName": "app.example.com", "SubjectAlternativeNames": ["www.example.com"]}),
            ),
        ),
        (
            "ecs-container-insights",
            r("AWS::ECS::Cluster", json!({})),
            r(
                "AWS::ECS::Cluster",
                json!({"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}),
            ),
        ),
        (
            "ecs-container-logging",
            task(json!({"LogConfiguration": null})),
            task(json!({})),
        ),
        (
            "ecs-environment-variables",
            task(json!({"Environment": [{"Name": "MODE", "Value": "x"}]})),
            task(json!({"Secrets": [{"Name": "TOKEN", "ValueFrom": "arn"}]})),
        ),
        (
            "ecr-scan-on-push",
            repo(json!({"ImageScanningConfiguration": null})),
            repo(json!({})),
        ),
        (
            "ecr-immutable-tags",
            repo(json!({"ImageTagMutability": "MUTABLE"})),
            repo(json!({})),
        ),
        (
            "ecr-kms",
            repo(json!({"EncryptionConfiguration": null})),
            repo(json!({})),
        ),
        (
            "ecr-open-access",
            repo(
                json!({"RepositoryPolicyText": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}}),
            ),
            repo(
                json!({"RepositoryPolicyText": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "ecr:BatchGetImage"}]}}),
            ),
        ),
        (
            "iam-no-managed-policies",
            r(
                ROLE,
                json!({"ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}]}),
            ),
            r(
                ROLE,
                json!({"ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mine"}]}),
            ),
        ),
        (
            "iam-no-wildcard-permissions",
            role_policy(
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${B.Arn}/*"}}),
            ),
            role_policy(
                json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": {"Fn::Sub": "${B.Arn}/index.html"}}),
            ),
        ),
        (
            "iam-no-admin-access",
            role_policy(json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"})),
            role_policy(json!({"Effect": "Deny", "Action": "*", "Resource": "*"})),
        ),
        (
            "iam-sensitive-actions-on-any-resource",
            role_policy(json!({"Effect": "Allow", "Action": ["iam:Put*"], "Resource": "*"})),
            role_policy(
                json!({"Effect": "Allow", "Action": ["xray:PutTraceSegments", "ecr:GetAuthorizationToken"], "Resource": "*"}),
            ),
        ),
        (
            "ecs-efs-transit-encryption",
            r(
                "AWS::ECS::TaskDefinition",
                json!({"Volumes": [{"Name": "data", "EFSVolumeConfiguration": {"FilesystemId": "fs"}}]}),
            ),
            r(
                "AWS::ECS::TaskDefinition",
                json!({"Volumes": [{"Name": "data", "EFSVolumeConfiguration": {"FilesystemId": "fs", "TransitEncryption": "ENABLED"}}]}),
            ),
        ),
        (
            "iam-trust-wildcard",
            r(
                ROLE,
                json!({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}}),
            ),
            role_policy(
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}),
            ),
        ),
        (
            "sqs-encryption",
            r("AWS::SQS::Queue", json!({"SqsManagedSseEnabled": false})),
            r("AWS::SQS::Queue", json!({})),
        ),
        (
            "sqs-ssl-only",
            r("AWS::SQS::Queue", json!({})),
            with(
                r("AWS::SQS::Queue", json!({})),
                "P",
                "AWS::SQS::QueuePolicy",
                json!({"Queues": [{"Ref": "R"}], "PolicyDocument": ssl_policy("x", true)["PolicyDocument"].clone()}),
            ),
        ),
        (
            "sqs-dead-letter-queue",
            r("AWS::SQS::Queue", json!({})),
            with(
                r("AWS::SQS::Queue", json!({})),
                "Work",
                "AWS::SQS::Queue",
                json!({"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["R", "Arn"]}, "maxReceiveCount": 5}}),
            ),
        ),
        (
            "dynamodb-point-in-time-recovery",
            r("AWS::DynamoDB::Table", json!({})),
            r(
                "AWS::DynamoDB::Table",
                json!({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
            ),
        ),
        (
            "dynamodb-kms",
            r(
                "AWS::DynamoDB::Table",
                json!({"SSESpecification": {"SSEEnabled": true}}),
            ),
            r(
                "AWS::DynamoDB::Table",
                json!({"SSESpecification": {"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": "k"}}),
            ),
        ),
        (
            "lambda-dead-letter-queue",
            r("AWS::Lambda::Function", json!({})),
            r(
                "AWS::Lambda::Function",
                json!({"DeadLetterConfig": {"TargetArn": "arn"}}),
            ),
        ),
        (
            "lambda-reserved-concurrency",
            r("AWS::Lambda::Function", json!({})),
            r(
                "AWS::Lambda::Function",
                json!({"ReservedConcurrentExecutions": 10}),
            ),
        ),
        (
            "lambda-in-vpc",
            r("AWS::Lambda::Function", json!({})),
            r(
                "AWS::Lambda::Function",
                json!({"VpcConfig": {"SubnetIds": ["s"], "SecurityGroupIds": ["g"]}}),
            ),
        ),
        (
            "lambda-environment-kms",
            r(
                "AWS::Lambda::Function",
                json!({"Environment": {"Variables": {"MODE": "x"}}}),
            ),
            r(
                "AWS::Lambda::Function",
                json!({"Environment": {"Variables": {"MODE": "x"}}, "KmsKeyArn": "k"}),
            ),
        ),
        (
            "cloudtrail-kms",
            trail(json!({"KMSKeyId": null})),
            trail(json!({})),
        ),
        (
            "cloudtrail-log-validation",
            trail(json!({"EnableLogFileValidation": false})),
            trail(json!({})),
        ),
        (
            "cloudtrail-multi-region",
            trail(json!({"IsMultiRegionTrail": false})),
            trail(json!({})),
        ),
    ]
}

#[test]
fn every_rule_fires_on_its_failing_template_only() {
    for (id, bad, good) in cases() {
        assert!(fires(id, bad.clone()), "{id} does not fire on {bad}");
        if good.get("R").is_some() {
            assert!(!fires(id, good.clone()), "{id} fires on {good}");
        }
    }
}

#[test]
fn every_rule_has_a_case_and_a_unique_id() {
    let pack = security();
    let ids: Vec<&str> = cases().iter().map(|c| c.0).collect();
    let mut seen = std::collections::BTreeSet::new();
    for rule in pack.rules() {
        assert!(seen.insert(rule.id), "{} is defined twice", rule.id);
        assert!(ids.contains(&rule.id), "{} has no test case", rule.id);
        assert!(
            !rule.resource_types.is_empty(),
            "{} runs on no type",
            rule.id
        );
        assert!(
            rule.checkov.iter().all(|c| c.starts_with("CKV")),
            "{}: {:?}",
            rule.id,
            rule.checkov
        );
        assert!(
            rule.aws_solutions
                .iter()
                .all(|c| c.starts_with("AwsSolutions-")),
            "{}: {:?}",
            rule.id,
            rule.aws_solutions
        );
    }
}

#[test]
fn a_read_replica_fires_the_encryption_rule_with_its_own_message() {
    let t = template(r(DB, json!({"SourceDBInstanceIdentifier": {"Ref": "P"}})));
    let pack = security();
    let rule = pack
        .rules()
        .iter()
        .find(|r| r.id == "rds-storage-encrypted")
        .expect("rule");
    let msg = (rule.check)(&Subject {
        stack: "s",
        logical_id: "R",
        resource: &t.resources["R"],
        template: &t,
    })
    .expect("fires");
    assert!(msg.contains("inherits its source's encryption"), "{msg}");
}

/// The library's defaults raise no error-level finding of the built-in
/// pack: a network, a database with replicas, a cache, a bucket, an API
/// service, a CDN in front of it, the security baseline, a queue and a
/// table synthesize with
/// every rule running, and the replicas carry the
/// construct's own acknowledgements in both scanner formats.
#[test]
fn the_library_defaults_raise_no_error() {
    use crate::prelude::*;
    let mut stack = Stack::new("d", StackProps::new(Environment::region("us-east-1"))).unwrap();
    let network = Network::new(
        &mut stack,
        "Network",
        NetworkProps {
            availability_zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            ..NetworkProps::default()
        },
    )
    .unwrap();
    Database::new(
        &mut stack,
        "Database",
        &network,
        DatabaseProps {
            read_replica_availability_zones: vec!["us-east-1b".into()],
            ..DatabaseProps::default()
        },
    )
    .unwrap();
    Cache::new(&mut stack, "Cache", &network, CacheProps::default()).unwrap();
    let mut logs = Bucket::new(&mut stack, "Bucket", BucketProps::default()).unwrap();
    let certificate = crate::network::dns::CertificateRef::from_arn(
        "arn:aws:acm:us-east-1:111122223333:certificate/abc",
        "us-east-1",
        vec!["app.example.com".into()],
    );
    let api = ApiService::new(
        &mut stack,
        "Api",
        &network,
        ApiServiceProps::new("cluster", "service", "repository", certificate),
    )
    .unwrap();
    Cdn::new(
        &mut stack,
        "Cdn",
        CdnProps {
            api: Some(ApiOrigin::new(api.load_balancer().clone())),
            ..CdnProps::default()
        },
    )
    .unwrap();
    SecurityBaseline::new(
        &mut stack,
        "Security",
        crate::security::baseline::SecurityBaselineProps::new(&mut logs),
    )
    .unwrap();
    crate::messaging::queue::Queue::new(
        &mut stack,
        "Queue",
        crate::messaging::queue::QueueProps::default(),
    )
    .unwrap();
    crate::serverless::table::Table::new(
        &mut stack,
        "Table",
        crate::serverless::table::TableProps::new(crate::serverless::table::Attribute::string(
            "pk",
        )),
    )
    .unwrap();
    let mut app = App::new().with_rule_packs(super::builtin());
    app.add_stack(stack).unwrap();
    let out = app.synth().expect("no error-level finding");
    let report = &out[0].rules;
    assert!(report.stale.is_empty(), "{:?}", report.stale);
    let replica = out[0].template.resources["DatabaseReadReplica1"]
        .metadata
        .clone()
        .unwrap();
    let skips: Vec<&str> = replica["checkov"]["skip"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(skips, ["CKV_AWS_157", "CKV_AWS_16"]);
    let nag: Vec<&str> = replica["cdk_nag"]["rules_to_suppress"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(nag.contains(&"AwsSolutions-RDS2"), "{nag:?}");
    // What remains are warnings whose answer depends on the workload.
    for f in &report.findings {
        assert_eq!(f.severity, crate::core::rules::Severity::Warning, "{f}");
    }
}

/// `docs/rules.md` lists every rule with its severity and equivalents.
#[test]
fn docs_list_every_rule() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let docs = std::fs::read_to_string(&path).expect("docs/rules.md exists");
    for r in security().rules() {
        let heading = format!("### `{}` ({})", r.id, r.severity);
        assert!(docs.contains(&heading), "docs/rules.md lacks {heading:?}");
        for id in r.checkov.iter().chain(r.aws_solutions) {
            assert!(
                docs.contains(id),
                "docs/rules.md does not name {id} for {}",
                r.id
            );
        }
    }
}
