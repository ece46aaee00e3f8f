//! One stage of the KHS CRM: the stacks built from a [`StageSettings`].
//!
//! Each system of the architecture document has its block below; the blocks
//! pass typed handles to each other (the network to the service, the service
//! to the CDN and the alarms, …).

use khs_constructs::prelude::*;

use crate::settings::{NatSetting, StageSettings};

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
    let _network = Network::new(
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
            ..NetworkProps::default()
        },
    )?;

    Ok(vec![stack])
}
