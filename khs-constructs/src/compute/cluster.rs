//! `Cluster`: an ECS cluster shared by any number of Fargate services and
//! scheduled tasks.
//!
//! Emits one `AWS::ECS::Cluster` at `<id>/Cluster` with Container Insights
//! on and the capacity providers `FARGATE` and `FARGATE_SPOT` attached (the
//! cluster property `CapacityProviders`; Fargate needs no
//! `ClusterCapacityProviderAssociations`), default strategy `FARGATE`. Each
//! service then picks on-demand, Spot or a mix with its
//! [`CapacityStrategy`](crate::compute::CapacityStrategy).

use crate::cfn::attributes::*;
use crate::cfn::ecs::Cluster as CfnCluster;
use crate::cfn::ecs::cluster::{CapacityProviderStrategyItem, ClusterSettings};
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;
use crate::network::vpc::Network;

/// Props of a [`Cluster`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterProps {
    /// The cluster's name (1..=255 of `A-Z a-z 0-9 - _`).
    ///
    /// Default: - a name CloudFormation generates.
    pub cluster_name: Option<String>,
    /// CloudWatch Container Insights (per-task CPU, memory, network metrics).
    ///
    /// Default: `true`.
    pub container_insights: bool,
    /// Attach the `FARGATE_SPOT` capacity provider (next to `FARGATE`), so
    /// services may run on Spot.
    ///
    /// Default: `true`.
    pub fargate_spot: bool,
}

impl Default for ClusterProps {
    fn default() -> Self {
        ClusterProps {
            cluster_name: None,
            container_insights: true,
            fargate_spot: true,
        }
    }
}

/// An ECS cluster on a network; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    path: ConstructPath,
    cluster: Handle<CfnCluster>,
    network: Network,
    fargate_spot: bool,
}

pub(crate) fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Emits the cluster resource `Cluster` in `me`. `capacity_providers`:
/// `None` writes no capacity-provider properties (the cluster of an
/// [`ApiService`](crate::compute::ApiService) running on-demand only).
pub(crate) fn emit_cluster(
    me: &mut Scope<'_>,
    name: Option<&str>,
    container_insights: bool,
    capacity_providers: Option<&[&str]>,
) -> Result<Handle<CfnCluster>> {
    if let Some(n) = name {
        if !is_name(n, 255) {
            return Err(Error::invalid_prop(
                me.path(),
                "cluster_name",
                format!("must be 1..=255 of A-Z a-z 0-9 - _, got {n:?}"),
            ));
        }
    }
    me.add(
        "Cluster",
        CfnCluster {
            cluster_name: name.map(|n| n.to_string().into()),
            cluster_settings: Some(vec![ClusterSettings {
                name: Some("containerInsights".into()),
                value: Some(
                    if container_insights {
                        "enabled"
                    } else {
                        "disabled"
                    }
                    .into(),
                ),
            }]),
            capacity_providers: capacity_providers
                .map(|p| Value::Literal(p.iter().map(|c| (*c).into()).collect())),
            default_capacity_provider_strategy: capacity_providers.map(|_| {
                vec![CapacityProviderStrategyItem {
                    capacity_provider: Some("FARGATE".into()),
                    weight: Some(1.into()),
                    ..CapacityProviderStrategyItem::new()
                }]
            }),
            ..CfnCluster::new()
        },
    )
}

impl Cluster {
    /// Creates the cluster `id` in `scope` for services on `network`.
    pub fn new(
        scope: &mut impl AsScope,
        id: &str,
        network: &Network,
        props: ClusterProps,
    ) -> Result<Self> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let providers: &[&str] = if props.fargate_spot {
            &["FARGATE", "FARGATE_SPOT"]
        } else {
            &["FARGATE"]
        };
        let cluster = emit_cluster(
            &mut me,
            props.cluster_name.as_deref(),
            props.container_insights,
            Some(providers),
        )?;
        Ok(Cluster {
            path,
            cluster,
            network: network.clone(),
            fargate_spot: props.fargate_spot,
        })
    }

    /// Wraps a cluster resource emitted by a pattern (the cluster of an
    /// `ApiService`).
    pub(crate) fn from_parts(
        path: ConstructPath,
        cluster: Handle<CfnCluster>,
        network: &Network,
        fargate_spot: bool,
    ) -> Self {
        Cluster {
            path,
            cluster,
            network: network.clone(),
            fargate_spot,
        }
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The cluster resource.
    pub fn cluster(&self) -> &Handle<CfnCluster> {
        &self.cluster
    }

    /// The cluster's name (`Ref`; the `ClusterName` metric dimension).
    pub fn cluster_name(&self) -> Value<String> {
        self.cluster.ref_()
    }

    /// The cluster's ARN.
    pub fn cluster_arn(&self) -> Value<String> {
        self.cluster.attr_arn()
    }

    /// The network the cluster's tasks run in.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Whether `FARGATE_SPOT` is attached.
    pub fn has_fargate_spot(&self) -> bool {
        self.fargate_spot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stack_with_network as setup;

    #[test]
    fn defaults_insights_on_fargate_and_spot() {
        let (mut stack, network) = setup();
        let c = Cluster::new(&mut stack, "Cluster", &network, ClusterProps::default()).unwrap();
        assert!(c.has_fargate_spot());
        let t = stack.synth().unwrap();
        let r = &serde_json::to_value(&t).unwrap()["Resources"]["ClusterCluster"];
        assert_eq!(r["Type"], "AWS::ECS::Cluster");
        let p = &r["Properties"];
        assert_eq!(
            p["ClusterSettings"],
            serde_json::json!([{"Name": "containerInsights", "Value": "enabled"}])
        );
        assert_eq!(
            p["CapacityProviders"],
            serde_json::json!(["FARGATE", "FARGATE_SPOT"])
        );
        assert_eq!(
            p["DefaultCapacityProviderStrategy"],
            serde_json::json!([{"CapacityProvider": "FARGATE", "Weight": 1}])
        );
        assert!(p.get("ClusterName").is_none());
    }

    #[test]
    fn fails_when_the_name_is_not_a_cluster_name() {
        let (mut stack, network) = setup();
        let e = Cluster::new(
            &mut stack,
            "Cluster",
            &network,
            ClusterProps {
                cluster_name: Some("my cluster".into()),
                ..ClusterProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("khs/Cluster"), "{e}");
        assert!(
            e.contains("cluster_name") && e.contains("\"my cluster\""),
            "{e}"
        );
    }
}
