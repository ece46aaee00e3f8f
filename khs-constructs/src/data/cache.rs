//! `Cache`: an ElastiCache for Redis OSS replication group with secure
//! defaults.
//!
//! Emits, below the construct's path:
//! - `Key`: a customer managed KMS key (rotation on) for data at rest and
//!   the AUTH token secret, unless one is given;
//! - `AuthToken`: a [`Secret`] with a 64-character token of letters and
//!   digits (ElastiCache accepts 16..=128 printable characters and no `@`,
//!   `"` or `/`; letters and digits avoid every escaping problem in
//!   `redis://` URLs);
//! - `SubnetGroup` on the network's private subnets (public subnets are an
//!   error) and `SecurityGroup` (no egress, ingress only through
//!   [`Cache::connections`]);
//! - `ReplicationGroup`: Redis 7 (`EngineVersion` `7.1`), cluster mode
//!   disabled, one primary and `nodes - 1` replicas spread over the zones,
//!   automatic failover and Multi-AZ when there are two or more nodes,
//!   encryption at rest (KMS) and in transit (TLS required), the AUTH token
//!   as a `{{resolve:secretsmanager:…}}` dynamic reference, daily snapshots
//!   kept `snapshot_retention_days`; `DeletionPolicy`/`UpdateReplacePolicy`
//!   `Snapshot` when snapshots are kept, `Delete` otherwise;
//! - the output `Endpoint` (the primary endpoint's address).
//!
//! The seed's "Nodes: 2 (Cluster mode)" is read as two nodes of one shard
//! (a primary and a replica with automatic failover): Redis "cluster mode
//! enabled" with one shard adds client complexity (cluster-aware clients,
//! no multi-key commands across slots) without more capacity, and two
//! shards without replicas would lose half the keys on a node failure. See
//! `docs/constructs/cache.md`.

use crate::cfn::attributes::*;
use crate::cfn::elasticache::{ReplicationGroup, SubnetGroup};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions};
use crate::core::template::{DeletionPolicy, Output};
use crate::core::value::Value;
use crate::network::connections::{Connections, Egress, Port};
use crate::network::vpc::{Network, SubnetKind};
use crate::security::kms::{EncryptionKey, EncryptionKeyProps};
use crate::security::secrets::{GeneratedValue, Secret, SecretProps};

/// The Redis port.
pub const REDIS_PORT: u16 = 6379;

/// The Redis OSS version used by default (the newest 7.x that ElastiCache
/// offers).
pub const DEFAULT_REDIS_VERSION: &str = "7.1";

/// Props of a [`Cache`].
#[derive(Debug, Clone, PartialEq)]
pub struct CacheProps {
    /// The Redis OSS engine version (`7.0` or `7.1`; 6.x and older lack
    /// features the defaults rely on).
    ///
    /// Default: [`DEFAULT_REDIS_VERSION`].
    pub engine_version: String,
    /// The node type.
    ///
    /// Default: `cache.t3.micro`.
    pub node_type: String,
    /// Nodes in the group: one primary plus `nodes - 1` replicas (1..=6).
    ///
    /// Default: `2`.
    pub nodes: u32,
    /// Promote a replica when the primary fails (needs 2 or more nodes).
    ///
    /// Default: `true`.
    pub automatic_failover: bool,
    /// Place replicas in other zones than the primary (needs automatic
    /// failover).
    ///
    /// Default: `true`.
    pub multi_az: bool,
    /// Days daily snapshots are kept (0 turns snapshots off; at most 35).
    ///
    /// Default: `7`.
    pub snapshot_retention_days: u32,
    /// The daily snapshot window, UTC, `hh:mm-hh:mm`, at least 60 minutes.
    ///
    /// Default: `03:00-04:00` (after the database's backups start).
    pub snapshot_window: String,
    /// Where the nodes run.
    ///
    /// Default: [`SubnetKind::Private`] (public is an error).
    pub subnets: SubnetKind,
    /// The KMS key for data at rest and the AUTH token.
    ///
    /// Default: - a new customer managed key with rotation (`Key`).
    pub encryption_key: Option<EncryptionKey>,
}

impl Default for CacheProps {
    fn default() -> Self {
        CacheProps {
            engine_version: DEFAULT_REDIS_VERSION.to_string(),
            node_type: "cache.t3.micro".to_string(),
            nodes: 2,
            automatic_failover: true,
            multi_az: true,
            snapshot_retention_days: 7,
            snapshot_window: "03:00-04:00".to_string(),
            subnets: SubnetKind::Private,
            encryption_key: None,
        }
    }
}

/// A Redis replication group; see the module docs for what it emits.
#[derive(Debug, Clone, PartialEq)]
pub struct Cache {
    path: ConstructPath,
    group: Handle<ReplicationGroup>,
    auth_token: Secret,
    key: EncryptionKey,
    connections: Connections,
    nodes: u32,
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn validate(path: &ConstructPath, network: &Network, p: &CacheProps) -> Result<()> {
    let err = |prop: &str, m: String| Error::invalid_prop(path, prop, m);
    if !["7.0", "7.1"].contains(&p.engine_version.as_str()) {
        return Err(err(
            "engine_version",
            format!(
                "must be \"7.0\" or \"7.1\" (Redis OSS 7), got {:?}",
                p.engine_version
            ),
        ));
    }
    if !p.node_type.starts_with("cache.") {
        return Err(err(
            "node_type",
            format!(
                "must be an ElastiCache node type such as \"cache.t3.micro\", got {:?}",
                p.node_type
            ),
        ));
    }
    if !(1..=6).contains(&p.nodes) {
        return Err(err(
            "nodes",
            format!(
                "must be 1..=6 (a primary and up to 5 replicas), got {}",
                p.nodes
            ),
        ));
    }
    if p.automatic_failover && p.nodes < 2 {
        return Err(err(
            "automatic_failover",
            format!(
                "needs at least 2 nodes (a replica to promote), got nodes = {}; add a node or turn failover off",
                p.nodes
            ),
        ));
    }
    if p.multi_az && !p.automatic_failover {
        return Err(err(
            "multi_az",
            "needs automatic_failover = true, got automatic_failover = false".to_string(),
        ));
    }
    if p.snapshot_retention_days > 35 {
        return Err(err(
            "snapshot_retention_days",
            format!("must be 0..=35, got {}", p.snapshot_retention_days),
        ));
    }
    let window = p
        .snapshot_window
        .split_once('-')
        .and_then(|(a, b)| Some((minutes(a)?, minutes(b)?)));
    match window {
        Some((a, b)) if (b + 24 * 60 - a) % (24 * 60) >= 60 => {}
        _ => {
            return Err(err(
                "snapshot_window",
                format!(
                    "must be \"hh:mm-hh:mm\" (UTC) spanning at least 60 minutes, got {:?}",
                    p.snapshot_window
                ),
            ));
        }
    }
    if p.subnets == SubnetKind::Public {
        return Err(err(
            "subnets",
            "must be SubnetKind::Private: a cache in public subnets is reachable from the internet's side of the network, got SubnetKind::Public".to_string(),
        ));
    }
    if p.multi_az && network.subnets(p.subnets).len() < 2 {
        return Err(err(
            "multi_az",
            format!(
                "needs subnets in at least 2 availability zones, {} has {}",
                network.path(),
                network.subnets(p.subnets).len()
            ),
        ));
    }
    Ok(())
}

impl Cache {
    /// Creates the cache `id` in `scope`, in `network`'s private subnets.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: CacheProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        validate(&path, network, &props)?;
        let subnets = network.subnets(props.subnets);

        let key = match props.encryption_key.clone() {
            Some(k) => k,
            None => EncryptionKey::new(
                &mut me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the cache {path}")),
                    ..Default::default()
                },
            )?,
        };
        let auth_token = Secret::new(
            &mut me,
            "AuthToken",
            SecretProps {
                value: GeneratedValue::String {
                    length: 64,
                    exclude_characters: String::new(),
                    exclude_punctuation: true,
                },
                encryption_key: Some(key.clone()),
                ..SecretProps::new(format!("Redis AUTH token of {path}"))
            },
        )?;
        let subnet_group = me.add(
            "SubnetGroup",
            SubnetGroup::new(
                format!("Private subnets of {path}"),
                Value::Literal(subnets.iter().map(|s| s.subnet_id()).collect()),
            ),
        )?;
        let connections = Connections::new_security_group(
            &mut me,
            "SecurityGroup",
            network.vpc_id(),
            &format!("{path}: Redis clients only"),
            Some(Port::tcp(REDIS_PORT)),
            Egress::Restricted,
        )?;
        let snapshots = props.snapshot_retention_days > 0;
        let policy = if snapshots {
            DeletionPolicy::Snapshot
        } else {
            DeletionPolicy::Delete
        };
        let group = me.add_with(
            "ReplicationGroup",
            ReplicationGroup {
                engine: Some("redis".into()),
                engine_version: Some(props.engine_version.clone().into()),
                cache_node_type: Some(props.node_type.clone().into()),
                num_cache_clusters: Some(i64::from(props.nodes).into()),
                automatic_failover_enabled: Some(props.automatic_failover.into()),
                multi_az_enabled: Some(props.multi_az.into()),
                cache_subnet_group_name: Some(subnet_group.ref_()),
                security_group_ids: Some(Value::Literal(vec![connections.security_group_id()])),
                port: Some(i64::from(REDIS_PORT).into()),
                at_rest_encryption_enabled: Some(true.into()),
                kms_key_id: Some(key.arn()),
                transit_encryption_enabled: Some(true.into()),
                auth_token: Some(auth_token.dynamic_reference(None)),
                auto_minor_version_upgrade: Some(true.into()),
                snapshot_retention_limit: Some(i64::from(props.snapshot_retention_days).into()),
                snapshot_window: snapshots.then(|| props.snapshot_window.clone().into()),
                ..ReplicationGroup::new(format!("Redis for {path}"))
            },
            ResourceOptions::policy(policy),
        )?;
        me.add_output(
            "Endpoint",
            Output::new(
                format!("Redis primary endpoint of {path}"),
                group.attr_primary_end_point_address(),
            ),
        )?;
        Ok(Cache {
            path,
            group,
            auth_token,
            key,
            connections,
            nodes: props.nodes,
        })
    }

    /// The replication group's id (`Ref`).
    pub fn replication_group_id(&self) -> Value<String> {
        self.group.ref_()
    }

    /// The ids of the member nodes (`<group id>-001`, `-002`, …): the
    /// `CacheClusterId` dimension of ElastiCache's per-node metrics.
    pub fn member_cluster_ids(&self) -> Vec<Value<String>> {
        (1..=self.nodes)
            .map(|n| {
                Intrinsic::sub_with(format!("${{Group}}-{n:03}"), [("Group", self.group.ref_())])
                    .into()
            })
            .collect()
    }

    /// The nodes' CloudWatch metrics (`metrics().cpu_utilization()`, one
    /// metric per node) for alarms and dashboards.
    pub fn metrics(&self) -> crate::ops::monitoring::CacheMetrics {
        crate::ops::monitoring::CacheMetrics {
            cache_cluster_ids: self.member_cluster_ids(),
        }
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The replication group.
    pub fn replication_group(&self) -> &Handle<ReplicationGroup> {
        &self.group
    }

    /// The primary endpoint's DNS name.
    pub fn endpoint_address(&self) -> Value<String> {
        self.group.attr_primary_end_point_address()
    }

    /// The reader endpoint's DNS name (spreads reads over the replicas).
    pub fn reader_endpoint_address(&self) -> Value<String> {
        self.group.attr_reader_end_point_address()
    }

    /// The port (6379).
    pub fn port(&self) -> u16 {
        REDIS_PORT
    }

    /// The security group and default port, for [`Connections::allow_from`].
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The AUTH token secret.
    pub fn auth_token(&self) -> &Secret {
        &self.auth_token
    }

    /// The KMS key of data at rest and the token.
    pub fn encryption_key(&self) -> &EncryptionKey {
        &self.key
    }

    /// `rediss://<endpoint>:6379` (TLS), without the token (it reaches the
    /// service as a secret).
    pub fn connection_url(&self) -> Value<String> {
        Intrinsic::sub_with(
            format!("rediss://${{Endpoint}}:{REDIS_PORT}"),
            [("Endpoint", self.endpoint_address())],
        )
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::vpc::NetworkProps;
    use crate::test_support::{stack_with_network as setup, stack_with_network_of};

    fn fails(props: CacheProps) -> String {
        let (mut stack, network) = setup();
        Cache::new(&mut stack, "Cache", &network, props)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_are_the_seed_figures_and_secure() {
        let (mut stack, network) = setup();
        let cache = Cache::new(&mut stack, "Cache", &network, CacheProps::default()).unwrap();
        assert_eq!(cache.port(), 6379);
        assert_eq!(
            serde_json::to_value(&cache.member_cluster_ids()[1]).unwrap(),
            serde_json::json!({"Fn::Sub": ["${Group}-002", {"Group": {"Ref": "khs/CacheReplicationGroup"}}]})
        );
        let t = stack.synth().unwrap();
        let g = &t.resources["CacheReplicationGroup"];
        assert_eq!(g.deletion_policy, Some(DeletionPolicy::Snapshot));
        let p = &g.properties;
        assert_eq!(p["Engine"], "redis");
        assert_eq!(p["EngineVersion"], "7.1");
        assert_eq!(p["CacheNodeType"], "cache.t3.micro");
        assert_eq!(p["NumCacheClusters"], 2);
        assert_eq!(p["AutomaticFailoverEnabled"], true);
        assert_eq!(p["MultiAZEnabled"], true);
        assert_eq!(p["AtRestEncryptionEnabled"], true);
        assert_eq!(p["TransitEncryptionEnabled"], true);
        assert_eq!(p["SnapshotRetentionLimit"], 7);
        assert_eq!(
            p["AuthToken"]["Fn::Sub"][0],
            "{{resolve:secretsmanager:${Secret}:SecretString}}"
        );
        let tok = &t.resources["CacheAuthToken"].properties["GenerateSecretString"];
        assert_eq!(tok["PasswordLength"], 64);
        assert_eq!(tok["ExcludePunctuation"], true);
        assert!(t.outputs.contains_key("CacheEndpoint"));
    }

    #[test]
    fn fails_when_failover_has_one_node() {
        let e = fails(CacheProps {
            nodes: 1,
            ..CacheProps::default()
        });
        assert!(
            e.starts_with("khs/Cache: automatic_failover needs at least 2 nodes"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_cache_is_in_public_subnets() {
        let e = fails(CacheProps {
            subnets: SubnetKind::Public,
            ..CacheProps::default()
        });
        assert!(
            e.starts_with("khs/Cache: subnets must be SubnetKind::Private"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_multi_az_lacks_failover() {
        let e = fails(CacheProps {
            automatic_failover: false,
            ..CacheProps::default()
        });
        assert!(
            e.starts_with("khs/Cache: multi_az needs automatic_failover"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_engine_is_not_redis_7() {
        let e = fails(CacheProps {
            engine_version: "6.2".into(),
            ..CacheProps::default()
        });
        assert!(e.starts_with("khs/Cache: engine_version must be"), "{e}");
    }

    #[test]
    fn fails_when_the_snapshot_window_is_short_or_malformed() {
        for w in ["03:00-03:30", "3-4", "25:00-26:00"] {
            let e = fails(CacheProps {
                snapshot_window: w.into(),
                ..CacheProps::default()
            });
            assert!(e.starts_with("khs/Cache: snapshot_window must be"), "{e}");
        }
    }

    #[test]
    fn fails_when_snapshot_retention_is_over_35_days() {
        let e = fails(CacheProps {
            snapshot_retention_days: 40,
            ..CacheProps::default()
        });
        assert_eq!(
            e,
            "khs/Cache: snapshot_retention_days must be 0..=35, got 40"
        );
    }

    #[test]
    fn fails_when_there_are_too_many_nodes() {
        let e = fails(CacheProps {
            nodes: 7,
            ..CacheProps::default()
        });
        assert!(e.starts_with("khs/Cache: nodes must be 1..=6"), "{e}");
    }

    #[test]
    fn fails_when_multi_az_has_one_zone() {
        let (mut stack, network) = stack_with_network_of(NetworkProps {
            max_azs: 1,
            ..NetworkProps::default()
        });
        let e = Cache::new(&mut stack, "Cache", &network, CacheProps::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs/Cache: multi_az needs subnets in at least 2 availability zones"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_node_type_is_not_an_elasticache_type() {
        let e = fails(CacheProps {
            node_type: "t3.micro".into(),
            ..CacheProps::default()
        });
        assert!(e.starts_with("khs/Cache: node_type must be"), "{e}");
    }

    #[test]
    fn a_single_node_without_failover_is_allowed_for_staging() {
        let (mut stack, network) = setup();
        Cache::new(
            &mut stack,
            "Cache",
            &network,
            CacheProps {
                nodes: 1,
                automatic_failover: false,
                multi_az: false,
                snapshot_retention_days: 1,
                ..CacheProps::default()
            },
        )
        .unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            t.resources["CacheReplicationGroup"].properties["NumCacheClusters"],
            1
        );
    }
}
