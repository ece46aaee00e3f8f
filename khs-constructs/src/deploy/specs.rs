//! Resource metadata for offline predictions, from the generated registry.

use crate::cfn::registry;
use crate::core::resource::ResourceSpec;

/// Stateful types from cfn-lint's `AdditionalSpecs/StatefulResources.json`
/// (1.58.0), for types the generated layer does not cover (used through
/// `RawResource`): the registry's own `stateful` flag wins where it knows the type.
const STATEFUL_FALLBACK: &[&str] = &[
    "AWS::Backup::BackupVault",
    "AWS::CloudFormation::Stack",
    "AWS::Cognito::UserPool",
    "AWS::DocDB::DBCluster",
    "AWS::DocDB::DBInstance",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Volume",
    "AWS::EFS::FileSystem",
    "AWS::EMR::Cluster",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::Elasticsearch::Domain",
    "AWS::FSx::FileSystem",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::Neptune::DBCluster",
    "AWS::Neptune::DBInstance",
    "AWS::OpenSearchService::Domain",
    "AWS::Organizations::Account",
    "AWS::QLDB::Ledger",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
    "AWS::S3::Bucket",
    "AWS::SDB::Domain",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
];

/// The metadata of a resource type, when the generated layer covers it.
pub fn spec(type_name: &str) -> Option<&'static ResourceSpec> {
    registry::spec(type_name)
}

/// Whether a type holds data that a replacement or deletion loses.
pub fn stateful(type_name: &str) -> bool {
    match spec(type_name) {
        Some(s) => s.stateful,
        None => STATEFUL_FALLBACK.contains(&type_name),
    }
}
