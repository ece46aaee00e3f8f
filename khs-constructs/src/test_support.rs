//! Fixtures shared by the construct unit tests.

use crate::prelude::*;

/// A stack `khs` in us-east-1 with a default three-zone [`Network`] (id
/// `Network`), the setting most construct tests start from.
pub(crate) fn stack_with_network() -> (Stack, Network) {
    stack_with_network_of(NetworkProps::default())
}

/// [`stack_with_network`] with the network built from `props`.
pub(crate) fn stack_with_network_of(props: NetworkProps) -> (Stack, Network) {
    let mut stack =
        Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).expect("valid stack");
    let network = Network::new(&mut stack, "Network", props).expect("valid network");
    (stack, network)
}
