//! References between stacks, written by the library: a network stack and
//! a database stack in us-east-1, and a canary in us-west-2 that checks the
//! database from another region.
//!
//! ```text
//! cargo run -p khs-constructs --example cross_stack -- out/
//! ```
//!
//! writes three templates:
//! - `out/orders-net.template.json`: the network, with one output exported
//!   per value the database stack uses (`orders-net:NetworkVpc`, the
//!   private subnets, …);
//! - `out/orders-db.template.json`: the database, reading them with
//!   `Fn::ImportValue`, deployed after `orders-net`; its endpoint address
//!   is an output (`ExportDatabaseInstanceEndpointAddress`) because the
//!   canary uses it;
//! - `out/orders-canary.template.json`: in us-west-2, where exports cannot
//!   be read, the endpoint address is a parameter that the deploy client
//!   fills from that output (`khs:parameter-sources`).
//!
//! The example writes no export, import, parameter or dependency itself:
//! it passes the `Network` and the `Database` to constructs of other
//! stacks, as within one stack.

use std::process::ExitCode;

use khs_constructs::prelude::*;

/// The app: `orders-net` and `orders-db` in us-east-1, `orders-canary` in
/// us-west-2.
pub fn app() -> Result<App> {
    let mut net = Stack::new(
        "orders-net",
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let network = Network::new(
        &mut net,
        "Network",
        NetworkProps {
            max_azs: 2,
            nat_gateways: NatGateways::Single,
            ..NetworkProps::default()
        },
    )?;

    // The database stack takes the other stack's network as it is.
    let mut db = Stack::new(
        "orders-db",
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let database = Database::new(&mut db, "Database", &network, DatabaseProps::default())?;

    // A function in another region that uses the database's endpoint.
    let mut canary = Stack::new(
        "orders-canary",
        StackProps::new(Environment::region("us-west-2")),
    )?;
    let mut props = FunctionProps::new(
        Runtime::Python3_13,
        "index.handler",
        Code::inline("def handler(event, context):\n    return {'ok': True}\n"),
    );
    props.description = Some("Resolves the primary database's name from another region".into());
    props
        .environment
        .insert("DB_HOST".to_string(), database.endpoint_address());
    Function::new(&mut canary, "Canary", props)?;

    let mut app = App::new();
    app.add_stack(canary)?;
    app.add_stack(db)?;
    app.add_stack(net)?;
    Ok(app)
}

fn main() -> ExitCode {
    khs_constructs::synth::main("cross_stack", app)
}
