//! `Database`: an RDS for PostgreSQL instance with secure defaults, its
//! credentials in Secrets Manager with rotation, and optional read replicas.
//!
//! Emits, below the construct's path:
//! - `Key`: a customer managed KMS key (rotation on) for storage,
//!   Performance Insights and the credentials secret, unless one is given;
//! - `Credentials`: the master credentials, `{"username": …, "password":
//!   <generated>}` (see [`Secret`]), attached to the instance with an
//!   `AWS::SecretsManager::SecretTargetAttachment` (`CredentialsAttachment`)
//!   and rotated by a Secrets Manager hosted rotation function
//!   (`CredentialsRotation`, PostgreSQL single user, in the private subnets,
//!   with its own security group `RotationSecurityGroup`). Hosted rotation
//!   adds the `AWS::SecretsManager-2020-07-23` transform to the template, so
//!   deploying needs `CAPABILITY_AUTO_EXPAND`;
//! - `SubnetGroup` on the network's private subnets (public subnets are an
//!   error), `SecurityGroup` (no egress, ingress only through
//!   [`Database::connections`]), `ParameterGroup` (`rds.force_ssl = 1`,
//!   slow query log through `log_min_duration_statement`);
//! - `MonitoringRole` for enhanced monitoring (AWS managed policy
//!   `AmazonRDSEnhancedMonitoringRole`);
//! - `Instance`: the `AWS::RDS::DBInstance` (gp3, encrypted, Multi-AZ,
//!   IAM database authentication next to the password, deletion
//!   protection, backups, Performance Insights, CloudWatch log
//!   exports `postgresql` and `upgrade`, `DeletionPolicy` and
//!   `UpdateReplacePolicy` `Snapshot`); the password reaches it only as a
//!   `{{resolve:secretsmanager:…}}` dynamic reference;
//! - `ReadReplica1`, `ReadReplica2`, …: one per entry of
//!   [`DatabaseProps::read_replica_availability_zones`] (policies `Delete`:
//!   a replica holds nothing the primary does not). Each acknowledges the
//!   rule `rds-storage-encrypted` (a replica inherits its source's
//!   encryption, which template scanners cannot see) and, when the primary
//!   is Multi-AZ, `rds-multi-az` (see `docs/rules.md`);
//! - the output `Endpoint` (the primary's address).
//!
//! A database needs a network; without one it does not compile:
//!
//! ```compile_fail
//! use khs_constructs::data::database::{Database, DatabaseProps};
//! use khs_constructs::prelude::*;
//! let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let db = Database::new(&mut stack, "Database", DatabaseProps::default());
//! ```

mod recovery;

use crate::cfn::attributes::*;
use crate::cfn::rds::db_parameter_group::DbParameterGroupRequired;
use crate::cfn::rds::{DbInstance, DbParameterGroup, DbSubnetGroup};
use crate::cfn::secretsmanager::rotation_schedule::{HostedRotationLambda, RotationRules};
use crate::cfn::secretsmanager::secret_target_attachment::SecretTargetAttachmentRequired;
use crate::cfn::secretsmanager::{RotationSchedule, SecretTargetAttachment};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Expr, Intrinsic};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::template::{DeletionPolicy, Output};
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::vpc::{Network, SubnetKind};
use crate::security::iam::{RoleProps, aws_managed_policy_arn, create_role};
use crate::security::kms::{EncryptionKey, EncryptionKeyProps};
use crate::security::secrets::{GeneratedValue, Secret, SecretProps};

/// The PostgreSQL version used by default: a current 16.x minor version.
/// The pinned cfn-lint (1.58.0) accepts 16.9 to 16.15 and flags the bare
/// `16` and 16.1–16.8 as deprecated; 16.13 is recent without being the
/// newest release (which may not have reached every region yet).
pub const DEFAULT_POSTGRES_VERSION: &str = "16.13";

/// The PostgreSQL port.
pub const POSTGRES_PORT: u16 = 5432;

/// How many read replicas RDS for PostgreSQL allows per source instance.
pub const MAX_READ_REPLICAS: usize = 15;

/// The transform hosted secret rotation needs.
pub const SECRETS_MANAGER_TRANSFORM: &str = "AWS::SecretsManager-2020-07-23";

/// Characters RDS does not accept in a master password (and space).
const PASSWORD_EXCLUDE: &str = "\"'\\/@ ";

/// Monitoring intervals enhanced monitoring accepts (0 turns it off).
const MONITORING_INTERVALS: [u32; 7] = [0, 1, 5, 10, 15, 30, 60];

/// Connection pool settings the application uses (the database does not
/// enforce them; [`Database::pool_environment`] hands them to the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPool {
    /// Most connections one task opens.
    ///
    /// Default: `100`.
    pub max_connections: u32,
    /// Connections kept open when idle.
    ///
    /// Default: `10`.
    pub min_connections: u32,
    /// How long an idle connection above the minimum stays open, in ms.
    ///
    /// Default: `30000`.
    pub idle_timeout_ms: u32,
}

impl Default for ConnectionPool {
    fn default() -> Self {
        ConnectionPool {
            max_connections: 100,
            min_connections: 10,
            idle_timeout_ms: 30_000,
        }
    }
}

/// Props of a [`Database`].
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseProps {
    /// The PostgreSQL version, a full minor version (`16.13`); the parameter
    /// group family follows its major version.
    ///
    /// Default: [`DEFAULT_POSTGRES_VERSION`].
    pub engine_version: String,
    /// The instance class.
    ///
    /// Default: `db.t3.small`.
    pub instance_class: String,
    /// Allocated gp3 storage in GiB (20..=65536).
    ///
    /// Default: `100`.
    pub storage_gib: u32,
    /// Upper limit for storage autoscaling in GiB.
    ///
    /// Default: - no storage autoscaling.
    pub max_storage_gib: Option<u32>,
    /// A standby in a second availability zone with automatic failover.
    ///
    /// Default: `true`.
    pub multi_az: bool,
    /// Days automated backups are kept (1..=35).
    ///
    /// Default: `7`.
    pub backup_retention_days: u32,
    /// Refuse deletion until turned off.
    ///
    /// Default: `true`.
    pub deletion_protection: bool,
    /// Performance Insights (7 days of history, free tier).
    ///
    /// Default: `true`.
    pub performance_insights: bool,
    /// Enhanced monitoring interval in seconds (0, 1, 5, 10, 15, 30 or 60;
    /// 0 turns it off and creates no monitoring role).
    ///
    /// Default: `60`.
    pub monitoring_interval_seconds: u32,
    /// Statements slower than this are logged (`log_min_duration_statement`).
    ///
    /// Default: `Some(1000)` (one second); `None` turns the slow query log off.
    pub slow_query_log_ms: Option<u32>,
    /// The database created on the instance.
    ///
    /// Default: `app`.
    pub database_name: String,
    /// The master user name (the password is generated).
    ///
    /// Default: `dbadmin`.
    pub master_username: String,
    /// Days between rotations of the master password (1..=1000).
    ///
    /// Default: `30`.
    pub rotation_days: u32,
    /// Where the instance and the rotation function run.
    ///
    /// Default: [`SubnetKind::Private`] (public is an error).
    pub subnets: SubnetKind,
    /// One read replica per zone listed, in that zone (at most
    /// [`MAX_READ_REPLICAS`]; zones must be zones of the network).
    ///
    /// Default: - no read replicas.
    pub read_replica_availability_zones: Vec<String>,
    /// The replicas' instance class.
    ///
    /// Default: - the primary's class.
    pub read_replica_instance_class: Option<String>,
    /// Connection pool settings for the application.
    ///
    /// Default: - 100 max, 10 min, 30 s idle ([`ConnectionPool::default`]).
    pub pool: ConnectionPool,
    /// The KMS key for storage, Performance Insights and the credentials.
    ///
    /// Default: - a new customer managed key with rotation (`Key`).
    pub encryption_key: Option<EncryptionKey>,
}

impl Default for DatabaseProps {
    fn default() -> Self {
        DatabaseProps {
            engine_version: DEFAULT_POSTGRES_VERSION.to_string(),
            instance_class: "db.t3.small".to_string(),
            storage_gib: 100,
            max_storage_gib: None,
            multi_az: true,
            backup_retention_days: 7,
            deletion_protection: true,
            performance_insights: true,
            monitoring_interval_seconds: 60,
            slow_query_log_ms: Some(1000),
            database_name: "app".to_string(),
            master_username: "dbadmin".to_string(),
            rotation_days: 30,
            subnets: SubnetKind::Private,
            read_replica_availability_zones: Vec::new(),
            read_replica_instance_class: None,
            pool: ConnectionPool::default(),
            encryption_key: None,
        }
    }
}

/// An RDS for PostgreSQL database; see the module docs for what it emits.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    path: ConstructPath,
    instance: Handle<DbInstance>,
    replicas: Vec<Handle<DbInstance>>,
    credentials: Secret,
    key: EncryptionKey,
    connections: Connections,
    database_name: String,
    master_username: String,
    storage_gib: u32,
    pool: ConnectionPool,
}

fn is_identifier(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn validate(
    path: &ConstructPath,
    region: &str,
    network: &Network,
    p: &DatabaseProps,
) -> Result<u32> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    let parts: Vec<&str> = p.engine_version.split('.').collect();
    let major = match parts.as_slice() {
        [major, minor] if minor.parse::<u32>().is_ok() => major.parse::<u32>().ok(),
        _ => None,
    };
    let major = major.filter(|m| (11..=17).contains(m)).ok_or_else(|| {
        err(
            "engine_version",
            format!(
                "must be a full PostgreSQL minor version such as {DEFAULT_POSTGRES_VERSION:?} (a bare major version is deprecated for new instances), got {:?}",
                p.engine_version
            ),
        )
    })?;
    if !p.instance_class.starts_with("db.") {
        return Err(err(
            "instance_class",
            format!(
                "must be an RDS class such as \"db.t3.small\", got {:?}",
                p.instance_class
            ),
        ));
    }
    if !(20..=65536).contains(&p.storage_gib) {
        return Err(err(
            "storage_gib",
            format!(
                "must be 20..=65536 GiB for gp3 storage, got {}",
                p.storage_gib
            ),
        ));
    }
    if let Some(max) = p.max_storage_gib {
        if max <= p.storage_gib || max > 65536 {
            return Err(err(
                "max_storage_gib",
                format!(
                    "must be above storage_gib ({}) and at most 65536, got {max}",
                    p.storage_gib
                ),
            ));
        }
    }
    if !(1..=35).contains(&p.backup_retention_days) {
        return Err(err(
            "backup_retention_days",
            format!("must be 1..=35, got {}", p.backup_retention_days),
        ));
    }
    if !MONITORING_INTERVALS.contains(&p.monitoring_interval_seconds) {
        return Err(err(
            "monitoring_interval_seconds",
            format!(
                "must be one of {MONITORING_INTERVALS:?}, got {}",
                p.monitoring_interval_seconds
            ),
        ));
    }
    if !is_identifier(&p.database_name) || p.database_name.len() > 63 {
        return Err(err(
            "database_name",
            format!(
                "must be 1..=63 letters, digits or '_' starting with a letter, got {:?}",
                p.database_name
            ),
        ));
    }
    if !is_identifier(&p.master_username) || p.master_username.len() > 63 {
        return Err(err(
            "master_username",
            format!(
                "must be 1..=63 letters, digits or '_' starting with a letter, got {:?}",
                p.master_username
            ),
        ));
    }
    if ["postgres", "rdsadmin", "admin"].contains(&p.master_username.as_str()) {
        return Err(err(
            "master_username",
            format!("must not be a reserved name, got {:?}", p.master_username),
        ));
    }
    if !(1..=1000).contains(&p.rotation_days) {
        return Err(err(
            "rotation_days",
            format!("must be 1..=1000, got {}", p.rotation_days),
        ));
    }
    if p.subnets == SubnetKind::Public {
        return Err(err(
            "subnets",
            "must be SubnetKind::Private: a database in public subnets is reachable from the internet's side of the network, got SubnetKind::Public".to_string(),
        ));
    }
    let subnets = network.subnets(p.subnets);
    if subnets.len() < 2 {
        return Err(err(
            "subnets",
            format!(
                "must span at least 2 availability zones (RDS subnet groups need 2), got {} in {}",
                subnets.len(),
                network.path()
            ),
        ));
    }
    let replicas = &p.read_replica_availability_zones;
    if replicas.len() > MAX_READ_REPLICAS {
        return Err(err(
            "read_replica_availability_zones",
            format!(
                "must list at most {MAX_READ_REPLICAS} zones (RDS for PostgreSQL's read replica limit), got {}",
                replicas.len()
            ),
        ));
    }
    for z in replicas {
        replica_zone(network, region, z).ok_or_else(|| {
            let known: Vec<String> = network
                .availability_zones()
                .iter()
                .map(|z| zone_name(z, region))
                .collect();
            err(
                "read_replica_availability_zones",
                format!(
                    "must be zones the network was given by name ({}), got {z:?}",
                    known.join(", ")
                ),
            )
        })?;
    }
    if let Some(c) = &p.read_replica_instance_class {
        if !c.starts_with("db.") {
            return Err(err(
                "read_replica_instance_class",
                format!("must be an RDS class such as \"db.t3.small\", got {c:?}"),
            ));
        }
    }
    let pool = p.pool;
    if pool.max_connections == 0 || pool.min_connections > pool.max_connections {
        return Err(err(
            "pool",
            format!(
                "must have 1 <= max_connections and min_connections <= max_connections, got min {} max {}",
                pool.min_connections, pool.max_connections
            ),
        ));
    }
    Ok(major)
}

/// The network's own value for the zone named `name` (so the replica's
/// zone is written exactly as the network writes its subnets' zones: a
/// literal, or `${AWS::Region}<letter>`).
fn replica_zone(network: &Network, region: &str, name: &str) -> Option<Value<String>> {
    let in_region: Option<Value<String>> = name
        .strip_prefix(region)
        .filter(|s| !s.is_empty())
        .map(|suffix| Intrinsic::sub(format!("${{AWS::Region}}{suffix}")).into());
    network
        .availability_zones()
        .iter()
        .find(|z| z.as_literal().is_some_and(|l| l == name) || Some(*z) == in_region.as_ref())
        .cloned()
}

/// A zone's name for messages: the literal, or `<region><letter>`.
fn zone_name(zone: &Value<String>, region: &str) -> String {
    match zone {
        Value::Literal(l) => l.clone(),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => template.replace("${AWS::Region}", region),
            _ => "(zone chosen at deploy time)".to_string(),
        },
    }
}

/// The master credentials: a generated password in a secret encrypted
/// with the database's key.
fn master_credentials(
    me: &mut Scope<'_>,
    props: &DatabaseProps,
    key: &EncryptionKey,
) -> Result<Secret> {
    let path = me.path().clone();
    let mut template = serde_json::Map::new();
    template.insert(
        "username".to_string(),
        serde_json::Value::String(props.master_username.clone()),
    );
    Secret::new(
        me,
        "Credentials",
        SecretProps {
            value: GeneratedValue::Json {
                template,
                key: "password".to_string(),
                length: 32,
                exclude_characters: PASSWORD_EXCLUDE.to_string(),
            },
            encryption_key: Some(key.clone()),
            ..SecretProps::new(format!("Master credentials of {path}"))
        },
    )
}

/// The subnet group and the parameter group of the instances.
struct Groups {
    subnets: Handle<DbSubnetGroup>,
    parameters: Handle<DbParameterGroup>,
}

/// The subnet group (the chosen subnets of `network`) and a parameter group
/// that forces TLS and logs slow queries when asked.
fn groups(
    me: &mut Scope<'_>,
    network: &Network,
    props: &DatabaseProps,
    major: u32,
) -> Result<Groups> {
    let path = me.path().clone();
    let subnets = network.subnets(props.subnets);
    let subnet_group = me.add(
        "SubnetGroup",
        DbSubnetGroup::new(
            format!("Private subnets of {path}"),
            Value::Literal(subnets.iter().map(|s| s.subnet_id()).collect()),
        ),
    )?;
    let mut parameters = serde_json::Map::new();
    parameters.insert("rds.force_ssl".into(), "1".into());
    if let Some(ms) = props.slow_query_log_ms {
        parameters.insert("log_min_duration_statement".into(), ms.to_string().into());
    }
    let parameter_group = me.add(
        "ParameterGroup",
        DbParameterGroup {
            parameters: Some(serde_json::Value::Object(parameters)),
            ..DbParameterGroup::new(DbParameterGroupRequired {
                family: format!("postgres{major}").into(),
                description: format!("PostgreSQL {major} settings of {path}").into(),
            })
        },
    )?;
    Ok(Groups {
        subnets: subnet_group,
        parameters: parameter_group,
    })
}

/// The enhanced-monitoring role, when enhanced monitoring is on.
fn monitoring_role(
    me: &mut Scope<'_>,
    props: &DatabaseProps,
) -> Result<Option<Handle<crate::cfn::iam::Role>>> {
    if props.monitoring_interval_seconds == 0 {
        return Ok(None);
    }
    let path = me.path().clone();
    let role = create_role(
        me,
        "MonitoringRole",
        RoleProps {
            description: Some(format!("Enhanced monitoring of {path}")),
            managed_policy_arns: vec![aws_managed_policy_arn(
                "service-role/AmazonRDSEnhancedMonitoringRole",
            )],
            ..RoleProps::new("monitoring.rds.amazonaws.com")
        },
    )?;
    role.acknowledge(
        me,
        "iam-no-managed-policies",
        "AmazonRDSEnhancedMonitoringRole is the service role policy AWS documents for enhanced monitoring; it only lets RDS write the RDSOSMetrics log group.",
    )?;
    Ok(Some(role))
}

/// Enhanced monitoring and Performance Insights, the same on the primary
/// and every replica.
struct InstanceMonitoring {
    role: Option<Handle<crate::cfn::iam::Role>>,
    interval_seconds: u32,
    performance_insights_key: Option<Value<String>>,
}

impl InstanceMonitoring {
    fn apply(&self, i: &mut DbInstance) {
        if let Some(role) = &self.role {
            i.monitoring_interval = Some(i64::from(self.interval_seconds).into());
            i.monitoring_role_arn = Some(role.attr_arn());
        }
        if let Some(key) = &self.performance_insights_key {
            i.enable_performance_insights = Some(true.into());
            i.performance_insights_kms_key_id = Some(key.clone());
            i.performance_insights_retention_period = Some(7.into());
        }
    }
}

/// What every read replica shares with its source.
struct ReplicaSource<'a> {
    instance: &'a Handle<DbInstance>,
    parameters: &'a Handle<DbParameterGroup>,
    connections: &'a Connections,
    monitoring: &'a InstanceMonitoring,
}

/// One read replica per zone of `props.read_replica_availability_zones`.
fn read_replicas(
    me: &mut Scope<'_>,
    network: &Network,
    props: &DatabaseProps,
    source: &ReplicaSource<'_>,
) -> Result<Vec<Handle<DbInstance>>> {
    let region = me.env().region.clone();
    let class = props
        .read_replica_instance_class
        .clone()
        .unwrap_or_else(|| props.instance_class.clone());
    let mut replicas = Vec::new();
    for (i, zone) in props.read_replica_availability_zones.iter().enumerate() {
        let mut replica = DbInstance {
            source_db_instance_identifier: Some(source.instance.ref_()),
            db_instance_class: Some(class.clone().into()),
            availability_zone: replica_zone(network, &region, zone),
            storage_type: Some("gp3".into()),
            auto_minor_version_upgrade: Some(true.into()),
            db_parameter_group_name: Some(source.parameters.ref_()),
            vpc_security_groups: Some(Value::Literal(vec![source.connections.security_group_id()])),
            publicly_accessible: Some(false.into()),
            copy_tags_to_snapshot: Some(true.into()),
            deletion_protection: Some(props.deletion_protection.into()),
            enable_cloudwatch_logs_exports: Some(vec!["postgresql", "upgrade"].into()),
            ..DbInstance::new()
        };
        source.monitoring.apply(&mut replica);
        let replica = me.add_with(
            &format!("ReadReplica{}", i + 1),
            replica,
            ResourceOptions::policy(DeletionPolicy::Delete),
        )?;
        replica.acknowledge(
            me,
            "rds-storage-encrypted",
            "A read replica inherits the storage encryption and KMS key of its source instance, which this construct always encrypts; CloudFormation accepts no StorageEncrypted on a replica.",
        )?;
        if props.multi_az {
            replica.acknowledge(
                me,
                "rds-multi-az",
                "A read replica only serves reads and can be recreated from its source, which is Multi-AZ with a synchronous standby.",
            )?;
        }
        replicas.push(replica);
    }
    Ok(replicas)
}

impl Database {
    /// Creates the database `id` in `scope`, in `network`'s private subnets.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: DatabaseProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        let major = validate(&path, &region, network, &props)?;

        let key = match props.encryption_key.clone() {
            Some(k) => k,
            None => EncryptionKey::new(
                &mut me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the database {path}")),
                    ..Default::default()
                },
            )?,
        };
        let credentials = master_credentials(&mut me, &props, &key)?;
        let groups = groups(&mut me, network, &props, major)?;
        let connections = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            network.vpc_id(),
            &format!("{path}: PostgreSQL clients only"),
            Some(Port::tcp(POSTGRES_PORT)),
            Egress::Restricted,
        )?;
        let monitoring = InstanceMonitoring {
            role: monitoring_role(&mut me, &props)?,
            interval_seconds: props.monitoring_interval_seconds,
            performance_insights_key: props.performance_insights.then(|| key.arn()),
        };

        let mut primary = DbInstance {
            engine: Some("postgres".into()),
            engine_version: Some(props.engine_version.clone().into()),
            auto_minor_version_upgrade: Some(true.into()),
            db_instance_class: Some(props.instance_class.clone().into()),
            allocated_storage: Some(props.storage_gib.to_string().into()),
            max_allocated_storage: props.max_storage_gib.map(|m| i64::from(m).into()),
            storage_type: Some("gp3".into()),
            storage_encrypted: Some(true.into()),
            kms_key_id: Some(key.arn()),
            multi_az: Some(props.multi_az.into()),
            enable_iam_database_authentication: Some(true.into()),
            db_name: Some(props.database_name.clone().into()),
            master_username: Some(props.master_username.clone().into()),
            master_user_password: Some(credentials.dynamic_reference(Some("password"))),
            port: Some(POSTGRES_PORT.to_string().into()),
            db_subnet_group_name: Some(groups.subnets.ref_()),
            db_parameter_group_name: Some(groups.parameters.ref_()),
            vpc_security_groups: Some(Value::Literal(vec![connections.security_group_id()])),
            publicly_accessible: Some(false.into()),
            backup_retention_period: Some(i64::from(props.backup_retention_days).into()),
            copy_tags_to_snapshot: Some(true.into()),
            deletion_protection: Some(props.deletion_protection.into()),
            enable_cloudwatch_logs_exports: Some(vec!["postgresql", "upgrade"].into()),
            ..DbInstance::new()
        };
        monitoring.apply(&mut primary);
        let instance = me.add_with(
            "Instance",
            primary,
            ResourceOptions::policy(DeletionPolicy::Snapshot),
        )?;

        let attachment = me.add(
            "CredentialsAttachment",
            SecretTargetAttachment::new(SecretTargetAttachmentRequired {
                target_type: "AWS::RDS::DBInstance".into(),
                target_id: instance.ref_(),
                secret_id: credentials.arn(),
            }),
        )?;

        // Hosted rotation: a Lambda in the private subnets that reaches the
        // database and the Secrets Manager API.
        hosted_rotation(
            &mut me,
            network,
            &props,
            &connections,
            &key,
            &credentials,
            &attachment,
        )?;

        let replicas = read_replicas(
            &mut me,
            network,
            &props,
            &ReplicaSource {
                instance: &instance,
                parameters: &groups.parameters,
                connections: &connections,
                monitoring: &monitoring,
            },
        )?;

        me.add_output(
            "Endpoint",
            Output::new(
                format!("PostgreSQL endpoint of {path}"),
                instance.attr_endpoint_address(),
            ),
        )?;

        Ok(Database {
            path,
            instance,
            replicas,
            credentials,
            key,
            connections,
            database_name: props.database_name,
            master_username: props.master_username,
            storage_gib: props.storage_gib,
            pool: props.pool,
        })
    }

    /// Replicates the primary's automated backups to `region`: its daily
    /// snapshots and its transaction logs (uploaded every five minutes), so
    /// that after a region failure the database can be restored in `region`
    /// to a point a few minutes before it (RDS automated backup
    /// replication), instead of to the last copied snapshot.
    ///
    /// `key` is a KMS key of `region` (an [`EncryptionKey`] of a stack in
    /// that region: the app passes its ARN to this stack as a parameter at
    /// deploy time). `retention_days` defaults to the primary's
    /// backup retention. Costs: the replicated backup storage in `region` and
    /// the cross-region data transfer of snapshots and logs.
    ///
    /// `scope` is the database's stack.
    pub fn replicate_backups_to(
        &self,
        scope: &mut impl AsScope,
        region: &str,
        key: &EncryptionKey,
        retention_days: Option<u32>,
    ) -> Result<()> {
        let mut s = scope.as_scope();
        let own = s.env().region.clone();
        if !crate::core::regions::REGIONS.contains(&region) {
            return Err(Error::invalid_prop(
                &self.path,
                "backup replication region",
                format!("{region:?} is not an AWS region"),
            ));
        }
        if region == own {
            return Err(Error::invalid_prop(
                &self.path,
                "backup replication region",
                format!(
                    "is the database's own region {own}; replicate to another region (the point is to survive a region failure)"
                ),
            ));
        }
        if let Some(days) = retention_days {
            if !(1..=35).contains(&days) {
                return Err(Error::invalid_prop(
                    &self.path,
                    "backup replication retention_days",
                    format!("must be 1..=35, got {days}"),
                ));
            }
        }
        let key_arn = serde_json::to_value(key.arn()).map_err(|e| Error::Serialization {
            stack: s.stack_name().to_string(),
            message: format!("{}: the replication key's ARN: {e}", self.path),
        })?;
        s.override_property(
            &self.instance,
            "AutomaticBackupReplicationRegion",
            serde_json::Value::String(region.to_string()),
        )?;
        s.override_property(
            &self.instance,
            "AutomaticBackupReplicationKmsKeyId",
            key_arn,
        )?;
        if let Some(days) = retention_days {
            s.override_property(
                &self.instance,
                "AutomaticBackupReplicationRetentionPeriod",
                serde_json::Value::from(days),
            )?;
        }
        Ok(())
    }

    /// The instance's CloudWatch metrics (`metrics().cpu_utilization()`, …)
    /// for alarms and dashboards.
    pub fn metrics(&self) -> crate::ops::monitoring::DatabaseMetrics {
        crate::ops::monitoring::DatabaseMetrics {
            allocated_storage_gib: Some(self.storage_gib),
            ..crate::ops::monitoring::DatabaseMetrics::from_handle(&self.instance)
        }
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The primary instance.
    pub fn instance(&self) -> &Handle<DbInstance> {
        &self.instance
    }

    /// The primary's `DBInstanceIdentifier` (`Ref`): the
    /// `DBInstanceIdentifier` dimension of its CloudWatch metrics.
    pub fn instance_identifier(&self) -> Value<String> {
        self.instance.ref_()
    }

    /// The read replicas, in the order of their zones.
    pub fn read_replicas(&self) -> &[Handle<DbInstance>] {
        &self.replicas
    }

    /// The primary's DNS name.
    pub fn endpoint_address(&self) -> Value<String> {
        self.instance.attr_endpoint_address()
    }

    /// The replicas' DNS names.
    pub fn read_replica_endpoint_addresses(&self) -> Vec<Value<String>> {
        self.replicas
            .iter()
            .map(|r| r.attr_endpoint_address())
            .collect()
    }

    /// The port (5432).
    pub fn port(&self) -> u16 {
        POSTGRES_PORT
    }

    /// The security group and default port, for [`Connections::allow_from`].
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The master credentials (`username`, `password` and, after the
    /// attachment, `host`, `port`, `dbname`, `engine`).
    pub fn credentials(&self) -> &Secret {
        &self.credentials
    }

    /// The KMS key of storage, Performance Insights and credentials.
    pub fn encryption_key(&self) -> &EncryptionKey {
        &self.key
    }

    /// The master user name.
    pub fn master_username(&self) -> &str {
        &self.master_username
    }

    /// The database name.
    pub fn database_name(&self) -> &str {
        &self.database_name
    }

    /// `postgresql://<user>@<endpoint>:5432/<db>?sslmode=require`, without
    /// the password (it reaches the service as a secret).
    pub fn connection_url(&self) -> Value<String> {
        Intrinsic::sub_with(
            format!(
                "postgresql://{}@${{Endpoint}}:{POSTGRES_PORT}/{}?sslmode=require",
                self.master_username, self.database_name
            ),
            [("Endpoint", self.endpoint_address())],
        )
        .into()
    }

    /// The connection pool settings.
    pub fn pool(&self) -> ConnectionPool {
        self.pool
    }

    /// The pool settings as environment variables for the service:
    /// `DB_POOL_MAX`, `DB_POOL_MIN`, `DB_POOL_IDLE_TIMEOUT_MS`.
    pub fn pool_environment(&self) -> Vec<(String, String)> {
        vec![
            ("DB_POOL_MAX".into(), self.pool.max_connections.to_string()),
            ("DB_POOL_MIN".into(), self.pool.min_connections.to_string()),
            (
                "DB_POOL_IDLE_TIMEOUT_MS".into(),
                self.pool.idle_timeout_ms.to_string(),
            ),
        ]
    }
}

/// The hosted rotation of the credentials: the rotation function's security
/// group (reaching the database and the Secrets Manager API), the
/// Secrets Manager transform and the rotation schedule.
fn hosted_rotation(
    me: &mut Scope<'_>,
    network: &Network,
    props: &DatabaseProps,
    connections: &Connections,
    key: &EncryptionKey,
    credentials: &Secret,
    attachment: &Handle<SecretTargetAttachment>,
) -> Result<()> {
    let subnets = network.subnets(props.subnets);
    let rotation_days = props.rotation_days;
    let rotation = Connections::new_security_group(
        me,
        "RotationSecurityGroup",
        network.vpc_id(),
        &format!("{}: secret rotation function", me.path()),
        None,
        Egress::Restricted,
    )?;
    connections.allow_default_port_from(me, &rotation)?;
    rotation.allow_to_cidr(
        me,
        "HttpsToAwsApis",
        "0.0.0.0/0",
        Port::tcp(443),
        "HTTPS to the Secrets Manager API",
    )?;
    me.add_transform(SECRETS_MANAGER_TRANSFORM);
    me.add_with(
        "CredentialsRotation",
        RotationSchedule {
            hosted_rotation_lambda: Some(HostedRotationLambda {
                kms_key_arn: Some(key.arn()),
                exclude_characters: Some(PASSWORD_EXCLUDE.into()),
                vpc_subnet_ids: Some(
                    Intrinsic::join(",", subnets.iter().map(|s| Expr::from(s.subnet_id()))).into(),
                ),
                vpc_security_group_ids: Some(rotation.security_group_id()),
                ..HostedRotationLambda::new("PostgreSQLSingleUser")
            }),
            rotation_rules: Some(RotationRules {
                schedule_expression: Some(format!("rate({} days)", rotation_days).into()),
                ..RotationRules::new()
            }),
            ..RotationSchedule::new(credentials.arn())
        },
        ResourceOptions::default().depends_on(attachment),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::vpc::NetworkProps;
    use crate::prelude::*;
    use crate::test_support::stack_with_network_of;
    use serde_json::json;

    fn setup() -> (Stack, Network) {
        stack_with_network_of(NetworkProps {
            availability_zones: vec![
                "us-east-1a".into(),
                "us-east-1b".into(),
                "us-east-1c".into(),
            ],
            ..NetworkProps::default()
        })
    }

    fn fails(props: DatabaseProps) -> String {
        let (mut stack, network) = setup();
        Database::new(&mut stack, "Database", &network, props)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn backups_replicate_to_another_region_under_its_key() {
        let (mut stack, network) = setup();
        let db = Database::new(&mut stack, "Database", &network, DatabaseProps::default()).unwrap();
        let key = EncryptionKey::new(&mut stack, "DrKey", EncryptionKeyProps::default()).unwrap();
        db.replicate_backups_to(&mut stack, "us-west-2", &key, Some(14))
            .unwrap();
        let t = stack.synth().unwrap();
        let p = &t.resources["DatabaseInstance"].properties;
        assert_eq!(p["AutomaticBackupReplicationRegion"], json!("us-west-2"));
        assert_eq!(
            p["AutomaticBackupReplicationKmsKeyId"],
            json!({"Fn::GetAtt": ["DrKey", "Arn"]})
        );
        assert_eq!(p["AutomaticBackupReplicationRetentionPeriod"], json!(14));

        let e = db
            .replicate_backups_to(&mut stack, "us-east-1", &key, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is the database's own region us-east-1; replicate to another region"),
            "{e}"
        );
        let e = db
            .replicate_backups_to(&mut stack, "us-west-9", &key, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"us-west-9\" is not an AWS region"), "{e}");
        let e = db
            .replicate_backups_to(&mut stack, "us-west-2", &key, Some(40))
            .unwrap_err()
            .to_string();
        assert!(e.contains("retention_days must be 1..=35, got 40"), "{e}");
    }

    #[test]
    fn defaults_are_the_seed_figures_and_secure() {
        let (mut stack, network) = setup();
        let db = Database::new(
            &mut stack,
            "Database",
            &network,
            DatabaseProps {
                read_replica_availability_zones: vec!["us-east-1b".into(), "us-east-1c".into()],
                ..DatabaseProps::default()
            },
        )
        .unwrap();
        assert_eq!(db.read_replicas().len(), 2);
        let t = stack.synth().unwrap();
        assert_eq!(t.transform, [SECRETS_MANAGER_TRANSFORM]);
        let i = &t.resources["DatabaseInstance"];
        assert_eq!(i.deletion_policy, Some(DeletionPolicy::Snapshot));
        assert_eq!(i.update_replace_policy, Some(DeletionPolicy::Snapshot));
        let p = &i.properties;
        assert_eq!(p["EngineVersion"], DEFAULT_POSTGRES_VERSION);
        assert_eq!(p["DBInstanceClass"], "db.t3.small");
        assert_eq!(p["AllocatedStorage"], "100");
        assert_eq!(p["StorageType"], "gp3");
        assert_eq!(p["MultiAZ"], true);
        assert_eq!(p["StorageEncrypted"], true);
        assert_eq!(p["BackupRetentionPeriod"], 7);
        assert_eq!(p["DeletionProtection"], true);
        assert_eq!(p["PubliclyAccessible"], false);
        assert_eq!(p["EnablePerformanceInsights"], true);
        assert_eq!(p["MonitoringInterval"], 60);
        assert_eq!(p["EnableIAMDatabaseAuthentication"], true);
        assert_eq!(
            p["EnableCloudwatchLogsExports"],
            json!(["postgresql", "upgrade"])
        );
        assert_eq!(
            p["MasterUserPassword"]["Fn::Sub"][0],
            "{{resolve:secretsmanager:${Secret}:SecretString:password}}"
        );
        let pg = &t.resources["DatabaseParameterGroup"].properties;
        assert_eq!(pg["Family"], "postgres16");
        let att = &t.resources["DatabaseCredentialsAttachment"].properties;
        assert_eq!(att["TargetType"], "AWS::RDS::DBInstance");
        assert_eq!(att["SecretId"], json!({"Ref": "DatabaseCredentials"}));
        assert_eq!(pg["Parameters"]["rds.force_ssl"], "1");
        assert_eq!(pg["Parameters"]["log_min_duration_statement"], "1000");
        let rot = &t.resources["DatabaseCredentialsRotation"];
        assert_eq!(rot.depends_on, ["DatabaseCredentialsAttachment"]);
        assert_eq!(
            rot.properties["HostedRotationLambda"]["RotationType"],
            "PostgreSQLSingleUser"
        );
        let r1 = &t.resources["DatabaseReadReplica1"];
        // The replica's zone is written the way the network writes zone b.
        assert_eq!(
            r1.properties["AvailabilityZone"],
            serde_json::to_value(&network.availability_zones()[1]).unwrap()
        );
        assert_eq!(
            r1.properties["SourceDBInstanceIdentifier"],
            json!({"Ref": "DatabaseInstance"})
        );
        assert_eq!(r1.deletion_policy, Some(DeletionPolicy::Delete));
        let role = &t.resources["DatabaseMonitoringRole"].properties;
        assert_eq!(
            role["ManagedPolicyArns"][0],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"})
        );
        // The subnet group holds the private subnets only.
        let sn = &t.resources["DatabaseSubnetGroup"].properties["SubnetIds"];
        for (i, s) in network.private_subnets().iter().enumerate() {
            // A subnet's value carries its stack until it is added to one.
            let id = s.subnet_id();
            assert_eq!(
                serde_json::to_value(&id).unwrap(),
                json!({"Ref": format!("khs/{}", sn[i]["Ref"].as_str().unwrap())})
            );
        }
        assert_eq!(
            db.pool_environment()[0],
            ("DB_POOL_MAX".to_string(), "100".to_string())
        );
        assert!(t.outputs.contains_key("DatabaseEndpoint"));
        assert!(
            crate::security::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty()
        );
    }

    #[test]
    fn fails_when_the_database_is_in_public_subnets() {
        let e = fails(DatabaseProps {
            subnets: SubnetKind::Public,
            ..DatabaseProps::default()
        });
        assert!(
            e.starts_with("khs/Database: subnets must be SubnetKind::Private"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_gp3_storage_is_below_20_gib() {
        let e = fails(DatabaseProps {
            storage_gib: 10,
            ..DatabaseProps::default()
        });
        assert_eq!(
            e,
            "khs/Database: storage_gib must be 20..=65536 GiB for gp3 storage, got 10"
        );
    }

    #[test]
    fn fails_when_replica_count_is_over_the_limit() {
        let e = fails(DatabaseProps {
            read_replica_availability_zones: vec!["us-east-1b".to_string(); 16],
            ..DatabaseProps::default()
        });
        assert!(
            e.starts_with(
                "khs/Database: read_replica_availability_zones must list at most 15 zones"
            ),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_replica_zone_is_not_in_the_network() {
        let e = fails(DatabaseProps {
            read_replica_availability_zones: vec!["us-west-2a".into()],
            ..DatabaseProps::default()
        });
        assert!(
            e.contains("must be zones the network was given by name"),
            "{e}"
        );
        assert!(e.starts_with("khs/Database: "), "{e}");
    }

    #[test]
    fn fails_when_the_engine_version_is_a_bare_major() {
        let e = fails(DatabaseProps {
            engine_version: "16".into(),
            ..DatabaseProps::default()
        });
        assert!(
            e.starts_with("khs/Database: engine_version must be a full PostgreSQL minor version"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_backup_retention_is_out_of_range() {
        let e = fails(DatabaseProps {
            backup_retention_days: 0,
            ..DatabaseProps::default()
        });
        assert_eq!(
            e,
            "khs/Database: backup_retention_days must be 1..=35, got 0"
        );
    }

    #[test]
    fn fails_when_the_monitoring_interval_is_not_allowed() {
        let e = fails(DatabaseProps {
            monitoring_interval_seconds: 45,
            ..DatabaseProps::default()
        });
        assert!(
            e.starts_with("khs/Database: monitoring_interval_seconds must be one of"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_master_username_is_reserved() {
        let e = fails(DatabaseProps {
            master_username: "postgres".into(),
            ..DatabaseProps::default()
        });
        assert!(
            e.starts_with("khs/Database: master_username must not be a reserved name"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_pool_minimum_exceeds_maximum() {
        let e = fails(DatabaseProps {
            pool: ConnectionPool {
                max_connections: 5,
                min_connections: 10,
                idle_timeout_ms: 1,
            },
            ..DatabaseProps::default()
        });
        assert!(e.starts_with("khs/Database: pool must have"), "{e}");
    }

    #[test]
    fn fails_when_the_network_has_one_zone() {
        let (mut stack, network) = stack_with_network_of(NetworkProps {
            max_azs: 1,
            ..NetworkProps::default()
        });
        let e = Database::new(&mut stack, "Database", &network, DatabaseProps::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Database: subnets must span at least 2 availability zones"),
            "{e}"
        );
    }

    #[test]
    fn staging_props_make_no_replicas_and_no_standby() {
        let (mut stack, network) = setup();
        Database::new(
            &mut stack,
            "Database",
            &network,
            DatabaseProps {
                multi_az: false,
                instance_class: "db.t3.micro".into(),
                storage_gib: 20,
                ..DatabaseProps::default()
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(t.resources["DatabaseInstance"].properties["MultiAZ"], false);
        assert!(!t.resources.contains_key("DatabaseReadReplica1"));
    }
}
