//! Resource metadata for offline predictions, from the generated registry.
//!
//! TEMPORARY SHIM: a handful of hand-written specs until
//! `crate::cfn::registry::spec` lands; replaced by a call to it.

use crate::core::resource::{ResourceSpec, TagStyle};

macro_rules! spec {
    ($name:ident, $ty:expr, stateful: $st:expr, [$($co:expr),* $(,)?]) => {
        const $name: ResourceSpec = ResourceSpec {
            type_name: $ty,
            properties: &[],
            create_only: &[$($co),*],
            attributes: &[],
            tags: TagStyle::KeyValueList,
            stateful: $st,
            docs_url: "",
        };
    };
}

spec!(DB_INSTANCE, "AWS::RDS::DBInstance", stateful: true, [
    "/properties/DBInstanceIdentifier", "/properties/DBName", "/properties/DBSubnetGroupName",
    "/properties/KmsKeyId", "/properties/MasterUsername", "/properties/StorageEncrypted",
]);
spec!(DB_SUBNET_GROUP, "AWS::RDS::DBSubnetGroup", stateful: false, ["/properties/DBSubnetGroupName"]);
spec!(BUCKET, "AWS::S3::Bucket", stateful: true, ["/properties/BucketName"]);
spec!(SUBNET, "AWS::EC2::Subnet", stateful: false, [
    "/properties/VpcId", "/properties/AvailabilityZone", "/properties/CidrBlock",
]);
spec!(VPC, "AWS::EC2::VPC", stateful: false, ["/properties/CidrBlock"]);
spec!(SECURITY_GROUP, "AWS::EC2::SecurityGroup", stateful: false, [
    "/properties/GroupDescription", "/properties/GroupName", "/properties/VpcId",
]);
spec!(LOG_GROUP, "AWS::Logs::LogGroup", stateful: true, ["/properties/LogGroupName"]);
spec!(SECRET, "AWS::SecretsManager::Secret", stateful: true, ["/properties/Name"]);
spec!(TOPIC, "AWS::SNS::Topic", stateful: false, ["/properties/TopicName"]);
spec!(ROLE, "AWS::IAM::Role", stateful: false, ["/properties/RoleName", "/properties/Path"]);
spec!(REPLICATION_GROUP, "AWS::ElastiCache::ReplicationGroup", stateful: true, [
    "/properties/CacheSubnetGroupName", "/properties/ReplicationGroupId", "/properties/Port",
]);

const ALL: &[&ResourceSpec] = &[
    &DB_INSTANCE,
    &DB_SUBNET_GROUP,
    &BUCKET,
    &SUBNET,
    &VPC,
    &SECURITY_GROUP,
    &LOG_GROUP,
    &SECRET,
    &TOPIC,
    &ROLE,
    &REPLICATION_GROUP,
];

/// The metadata of a resource type, when the registry knows it.
pub fn spec(type_name: &str) -> Option<&'static ResourceSpec> {
    ALL.iter().copied().find(|s| s.type_name == type_name)
}
