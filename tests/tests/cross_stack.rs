//! References between stacks with the library's own constructs (the
//! `cross_stack` example: a `Network` of one stack passed to a `Database`
//! of another, and the database's endpoint used in another region), as
//! `App::synth` writes them; the error a user meets without an app.

use khs_constructs::core::references::{DEPENDS_ON_KEY, PARAMETER_SOURCES_KEY};
use khs_constructs::prelude::*;
use serde_json::json;

#[allow(dead_code)]
#[path = "../../khs-constructs/examples/cross_stack.rs"]
mod cross_stack;

fn artifacts() -> Vec<StackArtifact> {
    cross_stack::app()
        .and_then(|a| a.synth())
        .expect("the example synthesizes")
}

fn by_name<'a>(all: &'a [StackArtifact], name: &str) -> &'a StackArtifact {
    all.iter()
        .find(|a| a.name == name)
        .expect("a stack of the example")
}

#[test]
fn stacks_deploy_after_the_stacks_they_use() {
    let all = artifacts();
    let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["orders-net", "orders-db", "orders-canary"]);
    assert_eq!(by_name(&all, "orders-db").depends_on, ["orders-net"]);
    assert_eq!(by_name(&all, "orders-canary").depends_on, ["orders-db"]);
    assert_eq!(
        by_name(&all, "orders-db").template.metadata[DEPENDS_ON_KEY],
        json!(["orders-net"])
    );
}

#[test]
fn the_database_imports_what_the_network_exports() {
    let all = artifacts();
    let net = &by_name(&all, "orders-net").template;
    let db = &by_name(&all, "orders-db").template;
    let subnets = &db.resources["DatabaseSubnetGroup"].properties["SubnetIds"];
    assert_eq!(
        subnets,
        &json!([
            {"Fn::ImportValue": "orders-net:NetworkPrivateSubnet1Subnet"},
            {"Fn::ImportValue": "orders-net:NetworkPrivateSubnet2Subnet"}
        ])
    );
    for (i, name) in [
        "orders-net:NetworkPrivateSubnet1Subnet",
        "orders-net:NetworkPrivateSubnet2Subnet",
    ]
    .iter()
    .enumerate()
    {
        let output = &net.outputs[&format!("ExportNetworkPrivateSubnet{}Subnet", i + 1)];
        assert_eq!(
            serde_json::to_value(output).unwrap()["Export"]["Name"],
            json!(name)
        );
        assert_eq!(
            serde_json::to_value(&output.value).unwrap(),
            json!({"Ref": format!("NetworkPrivateSubnet{}Subnet", i + 1)})
        );
    }
    // Nothing of the network is copied into the database stack.
    assert!(
        !db.resources
            .values()
            .any(|r| r.type_name.starts_with("AWS::EC2::VPC") || r.type_name == "AWS::EC2::Subnet")
    );
    // Every import names an export of orders-net.
    let text = by_name(&all, "orders-db").json.clone();
    let exported: Vec<String> = net
        .outputs
        .values()
        .filter_map(|o| o.export.as_ref())
        .map(|e| {
            serde_json::to_value(&e.name)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for part in text.split("\"Fn::ImportValue\": \"").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(exported.iter().any(|e| e == name), "{name} is not exported");
    }
}

#[test]
fn another_region_gets_a_parameter_filled_from_the_output() {
    let all = artifacts();
    let db = &by_name(&all, "orders-db").template;
    let output = &db.outputs["ExportDatabaseInstanceEndpointAddress"];
    assert_eq!(
        output.export, None,
        "no export: the only reader is in another region"
    );
    let canary = &by_name(&all, "orders-canary").template;
    let param = "OrdersDbDatabaseInstanceEndpointAddress";
    assert!(canary.parameters.contains_key(param));
    assert_eq!(
        canary.metadata[PARAMETER_SOURCES_KEY],
        json!({param: {"Stack": "orders-db", "Region": "us-east-1", "Output": "ExportDatabaseInstanceEndpointAddress"}})
    );
    assert_eq!(
        canary.resources["CanaryFunction"].properties["Environment"]["Variables"]["DB_HOST"],
        json!({"Ref": param})
    );
}

/// The case: a stack using another stack's network, synthesized
/// without an app, names the other stack and what to do.
#[test]
fn a_stack_alone_names_the_stack_it_uses() {
    let mut net = Stack::new(
        "orders-net",
        StackProps::new(Environment::region("us-east-1")),
    )
    .unwrap();
    let network = Network::new(&mut net, "Network", NetworkProps::default()).unwrap();
    let mut db = Stack::new(
        "orders-db",
        StackProps::new(Environment::region("us-east-1")),
    )
    .unwrap();
    Database::new(&mut db, "Database", &network, DatabaseProps::default()).unwrap();
    let e = db.synth().unwrap_err().to_string();
    assert_eq!(
        e,
        "orders-db/Database/CredentialsRotation: uses Ref of NetworkPrivateSubnet1Subnet of stack \"orders-net\"; add both stacks to an App and synthesize with App::synth, which exports it there and imports it here"
    );
}
