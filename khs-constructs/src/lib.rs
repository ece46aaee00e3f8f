//! # khs-constructs
//!
//! Typed AWS infrastructure in Rust, in the spirit of the AWS CDK: high-level
//! constructs with secure, documented defaults, built on a typed CloudFormation
//! resource layer ([`cfn`]) and a small core ([`core`]) that models templates,
//! intrinsic functions, construct paths and logical IDs.
//!
//! ```
//! use khs_constructs::prelude::*;
//!
//! let mut app = App::new();
//! let mut stack = Stack::new("example", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let network = Network::new(&mut stack, "Network", NetworkProps::default()).unwrap();
//! assert_eq!(network.private_subnets().len(), 3);
//! app.add_stack(stack).unwrap();
//! let out = app.synth().unwrap();
//! assert!(out[0].template_json().contains("AWS::EC2::VPC"));
//! ```
#![doc(html_root_url = "https://docs.rs/khs-constructs")]

pub mod compute;
pub mod data;
pub mod deploy;
pub mod diagram;
pub mod edge;
pub mod messaging;
pub mod network;
pub mod ops;
pub mod rules;
pub mod security;
pub mod serverless;
pub mod storage;
pub mod synth;

/// The core: template model, intrinsics, values, paths, logical ids, stacks
/// and apps (the `khs-core` crate).
pub use khs_core as core;

/// The typed CloudFormation resource layer, generated for every registry
/// type (the `khs-cfn` crate). Each service is behind a cargo feature of
/// the same name (`sqs`, `dynamodb`, …; `full` for all); the services this
/// library's constructs use are always on. See `docs/codegen.md`.
pub use khs_cfn as cfn;

pub use crate::core::error::{Error, Result};

#[cfg(test)]
pub(crate) mod test_support;

/// The names most programs need, in one import.
pub mod prelude {
    /// The typed `attr_*` accessors of resource handles (anonymous imports).
    pub use crate::cfn::attributes::*;
    pub use crate::core::app::{App, StackArtifact};
    /// The core: template model, intrinsics, values, paths, logical ids, stacks
    /// and apps (the `khs-core` crate).
    pub use khs_core as core;

    /// The typed CloudFormation resource layer, generated for every registry
    /// type (the `khs-cfn` crate). Each service is behind a cargo feature of
    /// the same name (`sqs`, `dynamodb`, …; `full` for all); the services this
    /// library's constructs use are always on. See `docs/codegen.md`.
    pub use khs_cfn as cfn;

    pub use crate::core::error::{Error, Result};
    pub use crate::core::intrinsic::{Expr, Intrinsic, Pseudo};
    pub use crate::core::resource::{Handle, Resource};
    pub use crate::core::scope::{AsScope, ResourceOptions, Scope};
    pub use crate::core::stack::{Environment, Stack, StackProps};
    pub use crate::core::template::{DeletionPolicy, Output};
    pub use crate::core::value::{List, Value};
    // Network (network).
    pub use crate::network::{
        AliasTarget, Certificate, CertificateProps, Connections, DnsRecord, DnsRecordProps,
        HostedZoneRef, NatGateways, Network, NetworkProps, Port, RecordTarget, RecordType,
        RecordValues, Subnet, SubnetKind,
    };
    // Compute (compute).
    pub use crate::compute::{
        ApiService, ApiServiceProps, CapacityStrategy, Cluster, ClusterProps, ContainerImage,
        ContainerProps, ContainerSecret, DeploymentStrategy, FargateService, FargateServiceProps,
        HealthCheck, ImageRepository, ImageRepositoryProps, LoadBalancer, LoadBalancerEndpoint,
        LoadBalancerImport, LoadBalancerProps, RequestStep, Routing, ScalingProps,
        ScheduledScaling, ScheduledTask, ScheduledTaskProps,
    };
    // Data stores (data).
    pub use crate::data::{
        Backup, BackupProps, BackupVault, BackupVaultProps, Cache, CacheImport, CacheProps,
        CacheRef, ConnectionPool, Database, DatabaseEngine, DatabaseImport, DatabaseProps,
        DatabaseRef,
    };
    // Object storage (storage).
    pub use crate::storage::{
        Bucket, BucketGrant, BucketImport, BucketName, BucketProps, BucketRef, LifecycleRule,
    };
    // Edge (edge).
    pub use crate::edge::{
        ApiOrigin, Cdn, CdnProps, Edge, EdgeProps, SpaFallback, Waf, WafProps, WafRule, WafRuleKind,
    };
    // Security (security).
    pub use crate::security::{
        EncryptionKey, EncryptionKeyProps, GeneratedValue, Secret, SecretProps, SecurityBaseline,
        SecurityBaselineProps,
    };
    // Operations (ops).
    pub use crate::ops::{
        Alarm, AlarmProps, AlertTopics, AlertTopicsProps, Budget, BudgetProps, ComparisonOperator,
        Cron, Dashboard, DashboardProps, Monitoring, MonitoringProps, Tracing, TracingProps,
    };
    // Serverless and messaging (serverless, messaging).
    pub use crate::messaging::import::TopicRef;
    pub use crate::messaging::queue::{DeadLetter, Queue, QueueEncryption, QueueProps};
    pub use crate::messaging::topic::{Topic, TopicProps};
    pub use crate::serverless::function::{
        Architecture, Code, Function, FunctionProps, QueueSourceProps, Runtime, StreamSourceProps,
        VpcPlacement,
    };
    pub use crate::serverless::grant::{Grantee, RoleGrantee};
    pub use crate::serverless::table::{
        Attribute, Billing, Capacity, GlobalSecondaryIndex, StreamView, Table, TableProps,
    };
}
