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

pub mod api_service;
pub mod autoscaling;
pub mod backup;
pub mod budget;
pub mod cache;
pub mod cdn;
pub mod connections;
pub mod database;
pub mod deploy;
pub mod dns;
pub mod edge;
pub mod iam;
pub mod kms;
pub mod messaging;
pub mod monitoring;
pub mod network;
pub mod rules;
pub mod schedule;
pub mod secrets;
pub mod security_baseline;
pub mod serverless;
pub mod storage;
pub mod waf;

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
    pub use crate::network::{NatGateways, Network, NetworkProps, Subnet, SubnetKind};
    // Application tier (apptier).
    pub use crate::api_service::{ApiService, ApiServiceProps, ContainerSecret, HealthCheck};
    pub use crate::autoscaling::{RequestStep, ScalingProps, ScheduledScaling};
    pub use crate::cache::{Cache, CacheProps};
    pub use crate::connections::{Connections, Port};
    pub use crate::database::{ConnectionPool, Database, DatabaseProps};
    pub use crate::kms::{EncryptionKey, EncryptionKeyProps};
    pub use crate::schedule::Cron;
    pub use crate::secrets::{GeneratedValue, Secret, SecretProps};
    // Edge and storage (edge).
    pub use crate::cdn::{ApiOrigin, Cdn, CdnProps, SpaFallback};
    pub use crate::dns::{Certificate, CertificateProps, HostedZoneRef};
    pub use crate::edge::{Edge, EdgeProps};
    pub use crate::storage::{Bucket, BucketGrant, BucketName, BucketProps, LifecycleRule};
    pub use crate::waf::{Waf, WafProps, WafRule, WafRuleKind};
    // Operations (ops).
    pub use crate::backup::{Backup, BackupProps, BackupVault, BackupVaultProps};
    pub use crate::budget::{Budget, BudgetProps};
    pub use crate::monitoring::{
        Alarm, AlarmProps, AlertTopics, AlertTopicsProps, Dashboard, DashboardProps, Monitoring,
        MonitoringProps, Tracing, TracingProps,
    };
    pub use crate::security_baseline::{SecurityBaseline, SecurityBaselineProps};
    // Serverless and messaging (serverless, messaging).
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
