//! Architecture diagrams drawn from the synthesized templates.
//!
//! [`Diagram::from_artifacts`] reads what synthesis produced (each
//! [`StackArtifact`]'s resources, their properties and the construct path in
//! their metadata) and derives the edges the library knows:
//!
//! - security-group connections with their ports (standalone
//!   `AWS::EC2::SecurityGroupIngress`/`Egress` and inline rules), between
//!   the resources that use the groups; `0.0.0.0/0` and `::/0` are the
//!   internet, and a prefix list on a group behind a CloudFront origin is
//!   that distribution;
//! - load-balancer listeners to target groups to ECS services;
//! - CloudFront viewers, origins with their path patterns, web ACL and
//!   certificate;
//! - Route 53 alias records;
//! - alarm actions (topics, scaling policies) and budget notifications;
//! - IAM grants: the resources of the app that an `Allow` statement names;
//! - AWS Backup selections, target vaults and copies to another region's vault;
//! - references to other stacks (`khs:parameter-sources`, `Fn::ImportValue`).
//!
//! Nodes are grouped by stack and by construct (the first segment of a path
//! below the stack). With [`Detail::Constructs`] a construct is one box and
//! the connections inside it are listed in it; with [`Detail::Resources`]
//! every resource is a box inside its construct. Output is deterministic:
//! the same artifacts give byte-identical [`Diagram::to_mermaid`] and
//! [`Diagram::to_svg`] text.
//!
//! ```
//! use khs_constructs::diagram::{Detail, Diagram};
//! use khs_constructs::prelude::*;
//!
//! let mut app = App::new();
//! let mut stack = Stack::new("example", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! Network::new(&mut stack, "Network", NetworkProps::default()).unwrap();
//! app.add_stack(stack).unwrap();
//! let diagram = Diagram::from_artifacts(&app.synth().unwrap(), Detail::Constructs);
//! assert!(diagram.to_mermaid().contains("subgraph"));
//! assert!(diagram.to_svg().starts_with("<?xml"));
//! ```

mod graph;
mod mermaid;
mod svg;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::core::app::StackArtifact;
use crate::core::error::{Error, Result};

pub use graph::{INTERNET, INTERNET_OUTBOUND};

/// The Markdown file (with the Mermaid diagram) that `synth` writes beside
/// the templates.
pub const MARKDOWN_FILE: &str = "architecture.md";
/// The SVG picture that `synth` writes beside the templates.
pub const SVG_FILE: &str = "architecture.svg";

/// How much a diagram shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Detail {
    /// One box per construct; connections inside a construct are listed in
    /// its box.
    #[default]
    Constructs,
    /// One box per resource, inside a box per construct.
    Resources,
}

impl FromStr for Detail {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "constructs" => Ok(Detail::Constructs),
            "resources" => Ok(Detail::Resources),
            other => Err(format!(
                "diagram detail {other:?} is not known; use \"constructs\" or \"resources\""
            )),
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Detail::Constructs => "constructs",
            Detail::Resources => "resources",
        })
    }
}

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// Network traffic: a security-group rule (label: protocol and port),
    /// a load-balancer listener or target, a CDN origin or its viewers.
    Traffic,
    /// A DNS alias or record pointing at a resource.
    Alias,
    /// A resource uses another one: a certificate, a web ACL, a value from
    /// another stack.
    Uses,
    /// An alarm or budget notifies a topic or triggers a scaling policy.
    Alarm,
    /// An IAM policy allows actions on a resource (label: the services).
    Grant,
    /// AWS Backup: what a plan backs up, where it stores and copies.
    Backup,
}

impl EdgeKind {
    /// Whether traffic flows along the edge (drawn solid; the others dotted).
    pub fn is_flow(self) -> bool {
        matches!(self, EdgeKind::Traffic | EdgeKind::Alias)
    }
}

/// A box of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The key: a construct path (`stack/Construct`), a resource path
    /// (`stack/Construct/…`) or an external name ([`INTERNET`],
    /// [`INTERNET_OUTBOUND`], `cidr:…`, `prefix-list:…`).
    pub key: String,
    /// What the box says first.
    pub label: String,
    /// The stack it belongs to; `None` outside the app.
    pub stack: Option<String>,
    /// With [`Detail::Resources`], the construct (`stack/Construct`) whose
    /// box holds this resource; `None` otherwise.
    pub construct: Option<String>,
    /// The CloudFormation type of a resource box.
    pub type_name: Option<String>,
    /// The number of template resources a construct box stands for.
    pub resources: usize,
    /// Connections inside a construct box (`LoadBalancer → Service: tcp/3001`).
    pub notes: Vec<String>,
}

/// An arrow of the diagram.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    /// The key of the node it starts at.
    pub from: String,
    /// The key of the node it points at.
    pub to: String,
    /// What it means.
    pub kind: EdgeKind,
    /// `tcp/5432`, `/api/* https/443`, `alarm`, `grant kms secretsmanager`, …
    pub label: String,
}

/// A stack of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// The stack name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its number of resources.
    pub resources: usize,
}

/// The architecture of an app: stacks, constructs (or resources) and the
/// edges between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagram {
    detail: Detail,
    stacks: Vec<StackInfo>,
    nodes: BTreeMap<String, Node>,
    edges: BTreeSet<Edge>,
}

/// Where a resource is drawn: see [`Diagram::from_artifacts`].
struct Place<'p> {
    construct: &'p str,
    rest: Option<&'p str>,
    key: &'p str,
    inner: &'p str,
}

/// The node key of an edge's end and its name inside a construct box.
fn end_key<'x>(end: &'x graph::End, places: &[Place<'x>]) -> (&'x str, &'x str) {
    match end {
        graph::End::Res(i) => places.get(*i).map_or(("", ""), |p| (p.key, p.inner)),
        graph::End::External(key, label) => (key, label),
    }
}

/// `stack/Construct` of a resource path, and the rest below it.
fn split_path(path: &str) -> (&str, Option<&str>) {
    let Some(first) = path.find('/') else {
        return (path, None);
    };
    match path[first + 1..].find('/') {
        Some(second) => {
            let at = first + 1 + second;
            (&path[..at], Some(&path[at + 1..]))
        }
        None => (path, None),
    }
}

impl Diagram {
    /// Derives the diagram of the stacks of one app, in the order given
    /// (synthesis order).
    pub fn from_artifacts(artifacts: &[StackArtifact], detail: Detail) -> Diagram {
        let idx = graph::Index::build(artifacts);
        let stacks = artifacts
            .iter()
            .map(|a| StackInfo {
                name: a.name.clone(),
                region: a.env.region.clone(),
                resources: a.template.resources.len(),
            })
            .collect();
        // Per resource: its construct (`stack/Construct`) and the rest of
        // its path below it, its node key, and its name inside a construct
        // box (for the notes).
        let places: Vec<Place<'_>> = idx
            .res
            .iter()
            .map(|r| {
                let path: &str = &r.path;
                let (construct, rest) = split_path(path);
                Place {
                    construct,
                    rest,
                    key: match detail {
                        Detail::Constructs => construct,
                        Detail::Resources => path,
                    },
                    inner: rest.or_else(|| path.rsplit('/').next()).unwrap_or(path),
                }
            })
            .collect();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        let stack_of = |i: usize| artifacts[idx.res[i].stack].name.clone();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, (r, place)) in idx.res.iter().zip(&places).enumerate() {
            let construct = place.construct;
            let drawn = idx.is_node(i);
            match detail {
                Detail::Constructs => {
                    if drawn && !nodes.contains_key(construct) {
                        let label = construct.rsplit('/').next().unwrap_or("").to_string();
                        nodes.insert(
                            construct.to_string(),
                            Node {
                                key: construct.to_string(),
                                label,
                                stack: Some(stack_of(i)),
                                construct: None,
                                type_name: None,
                                resources: 0,
                                notes: Vec::new(),
                            },
                        );
                    }
                    *counts.entry(construct).or_insert(0) += 1;
                }
                Detail::Resources if drawn => {
                    let label = place
                        .rest
                        .unwrap_or_else(|| construct.rsplit('/').next().unwrap_or(""))
                        .to_string();
                    nodes.insert(
                        r.path.to_string(),
                        Node {
                            key: r.path.to_string(),
                            label,
                            stack: Some(stack_of(i)),
                            construct: place.rest.is_some().then(|| construct.to_string()),
                            type_name: Some(r.type_name.to_string()),
                            resources: 1,
                            notes: Vec::new(),
                        },
                    );
                }
                Detail::Resources => {}
            }
        }
        for n in nodes.values_mut() {
            if let Some(&c) = counts.get(n.key.as_str()) {
                n.resources = c;
            }
        }
        // The ends of edges that are no box yet (counted above or not):
        // a resource drawn as an edge elsewhere, something outside the app.
        for e in &idx.edges {
            for end in [&e.from, &e.to] {
                match end {
                    graph::End::Res(i) => {
                        let place = &places[*i];
                        if !nodes.contains_key(place.key) {
                            let label = match detail {
                                Detail::Constructs => {
                                    place.construct.rsplit('/').next().unwrap_or("")
                                }
                                Detail::Resources => place.rest.unwrap_or(place.key),
                            };
                            nodes.insert(
                                place.key.to_string(),
                                Node {
                                    key: place.key.to_string(),
                                    label: label.to_string(),
                                    stack: Some(stack_of(*i)),
                                    construct: (detail == Detail::Resources
                                        && place.rest.is_some())
                                    .then(|| place.construct.to_string()),
                                    type_name: (detail == Detail::Resources)
                                        .then(|| idx.res[*i].type_name.to_string()),
                                    resources: 1,
                                    notes: Vec::new(),
                                },
                            );
                        }
                    }
                    graph::End::External(key, label) => {
                        if !nodes.contains_key(key.as_str()) {
                            nodes.insert(
                                key.clone(),
                                Node {
                                    key: key.clone(),
                                    label: label.clone(),
                                    stack: None,
                                    construct: None,
                                    type_name: None,
                                    resources: 0,
                                    notes: Vec::new(),
                                },
                            );
                        }
                    }
                }
            }
        }
        let mut arrows: Vec<(&str, &str, EdgeKind, &str)> = Vec::with_capacity(idx.edges.len());
        let mut notes: BTreeMap<&str, BTreeMap<(&str, &str), BTreeSet<&str>>> = BTreeMap::new();
        for e in &idx.edges {
            let (from, from_inner) = end_key(&e.from, &places);
            let (to, to_inner) = end_key(&e.to, &places);
            if from == to {
                if e.kind.is_flow() {
                    notes
                        .entry(from)
                        .or_default()
                        .entry((from_inner, &e.label))
                        .or_default()
                        .insert(to_inner);
                }
                continue;
            }
            arrows.push((from, to, e.kind, &e.label));
        }
        arrows.sort_unstable();
        arrows.dedup();
        let edges: BTreeSet<Edge> = arrows
            .into_iter()
            .map(|(from, to, kind, label)| Edge {
                from: from.to_string(),
                to: to.to_string(),
                kind,
                label: label.to_string(),
            })
            .collect();
        for (key, by) in notes {
            if let Some(n) = nodes.get_mut(key) {
                n.notes = by
                    .into_iter()
                    .map(|((from, label), to)| {
                        let to: Vec<&str> = to.into_iter().collect();
                        format!("{from} → {}: {label}", to.join(", "))
                    })
                    .collect();
            }
        }
        Diagram {
            detail,
            stacks,
            nodes,
            edges,
        }
    }

    /// The level of detail.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// The stacks, in synthesis order.
    pub fn stacks(&self) -> &[StackInfo] {
        &self.stacks
    }

    /// The boxes, by key.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// The box with key `key`.
    pub fn node(&self, key: &str) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// Every arrow, ordered by start, end, kind and label.
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.edges.iter()
    }

    /// The labels of the arrows from `from` to `to` (node keys).
    pub fn labels(&self, from: &str, to: &str) -> Vec<&str> {
        self.edges
            .iter()
            .filter(|e| e.from == from && e.to == to)
            .map(|e| e.label.as_str())
            .collect()
    }

    /// The diagram as a Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        mermaid::render(self)
    }

    /// The Markdown page `synth` writes: a short explanation and the Mermaid
    /// flowchart in a fenced block (GitHub and GitLab draw it).
    pub fn to_markdown(&self, title: &str) -> String {
        mermaid::markdown(self, title)
    }

    /// The diagram as an SVG picture, laid out by the `layout-rs` crate.
    pub fn to_svg(&self) -> String {
        svg::render(self)
    }

    /// Arrows merged per start, end and style (solid for traffic, dotted
    /// otherwise), labels joined in kind order: what both renderers draw.
    pub(crate) fn arrows(&self) -> Vec<(&str, &str, bool, String)> {
        let mut merged: BTreeMap<(&str, &str, bool), Vec<&str>> = BTreeMap::new();
        // The set is ordered by start, end, kind and label already.
        for e in &self.edges {
            let labels = merged
                .entry((&e.from, &e.to, e.kind.is_flow()))
                .or_default();
            if !e.label.is_empty() && !labels.contains(&e.label.as_str()) {
                labels.push(&e.label);
            }
        }
        merged
            .into_iter()
            .map(|((f, t, flow), labels)| (f, t, flow, merge_labels(&labels)))
            .collect()
    }
}

/// Joins the labels of one arrow: labels with the same `(from …)` suffix
/// share it, and grants list their services once (`grant kms secretsmanager`).
fn merge_labels(labels: &[&str]) -> String {
    // The common case: one label without a `(from …)` suffix or a grant.
    if let [one] = labels
        && !one.ends_with(')')
        && !one.starts_with("grant ")
    {
        return (*one).to_string();
    }
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for l in labels {
        let (body, via) = match l.rfind('(') {
            Some(i) if l.ends_with(')') => (l[..i].trim_end(), &l[i + 1..l.len() - 1]),
            _ => (*l, ""),
        };
        match groups.iter_mut().find(|(v, _)| *v == via) {
            Some((_, bodies)) => bodies.push(body),
            None => groups.push((via, vec![body])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(via, bodies)| {
            let mut services: Vec<&str> = Vec::new();
            let mut out: Vec<String> = Vec::new();
            for b in bodies {
                if let Some(s) = b.strip_prefix("grant ") {
                    if services.is_empty() {
                        out.push(String::new());
                    }
                    services.extend(
                        s.split(' ')
                            .filter(|x| !services.contains(x))
                            .collect::<Vec<_>>(),
                    );
                } else if !b.is_empty() {
                    out.push(b.to_string());
                }
            }
            if let Some(slot) = out.iter_mut().find(|x| x.is_empty()) {
                services.sort_unstable();
                *slot = format!("grant {}", services.join(" "));
            }
            let body = out.join(", ");
            match (body.is_empty(), via.is_empty()) {
                (_, true) => body,
                (true, false) => format!("({via})"),
                (false, false) => format!("{body} ({via})"),
            }
        })
        .collect();
    parts.join("; ")
}

/// The files `synth` writes beside the templates: `(file name, content)`.
pub fn files(diagram: &Diagram, title: &str) -> Vec<(&'static str, String)> {
    vec![
        (MARKDOWN_FILE, diagram.to_markdown(title)),
        (SVG_FILE, diagram.to_svg()),
    ]
}

/// Writes the diagram files into `dir` (created if missing), leaving a file
/// untouched when its content is already right.
///
/// Both files are drawn from the same [`Diagram`], and the Markdown holds all
/// of it (every box, note and label), so when `architecture.md` is already
/// current and `architecture.svg` exists the SVG is not laid out again (the
/// layout costs about twice a synthesis of the KHS app). [`check`] compares
/// both, so a change of the SVG renderer alone is still caught.
pub fn write(diagram: &Diagram, title: &str, dir: &Path) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let md_path = dir.join(MARKDOWN_FILE);
    let svg_path = dir.join(SVG_FILE);
    let markdown = diagram.to_markdown(title);
    if std::fs::read_to_string(&md_path).is_ok_and(|old| old == markdown) && svg_path.exists() {
        return Ok(());
    }
    let svg = diagram.to_svg();
    for (p, content) in [(md_path, markdown), (svg_path, svg)] {
        if std::fs::read_to_string(&p).is_ok_and(|old| old == content) {
            continue;
        }
        std::fs::write(&p, content).map_err(|e| io(&p, e))?;
    }
    Ok(())
}

/// Compares the diagram files in `dir` with the diagram; returns the
/// problems (empty when they are current), worded like
/// [`App::check`](crate::core::app::App::check).
pub fn check(diagram: &Diagram, title: &str, dir: &Path) -> Vec<String> {
    files(diagram, title)
        .into_iter()
        .filter_map(
            |(name, content)| match std::fs::read_to_string(dir.join(name)) {
                Ok(old) if old == content => None,
                Ok(_) => Some(format!("{name} differs from the code")),
                Err(_) => Some(format!("{name} is missing")),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::Environment;
    use crate::core::template::Template;
    use serde_json::{Value, json};

    fn artifact(name: &str, region: &str, mut template: Value) -> StackArtifact {
        template["AWSTemplateFormatVersion"] = json!("2010-09-09");
        if let Some(resources) = template["Resources"].as_object_mut() {
            for (id, r) in resources.iter_mut() {
                if r.get("Metadata").is_none() {
                    r["Metadata"] = json!({ "khs:path": format!("{name}/{id}/Resource") });
                }
            }
        }
        let template: Template = serde_json::from_value(template).expect("a template");
        StackArtifact {
            name: name.to_string(),
            env: Environment::region(region),
            json: String::new(),
            template,
            tags: BTreeMap::new(),
            termination_protection: false,
            depends_on: Vec::new(),
            assets: Vec::new(),
            rules: Default::default(),
            // Not recorded: the diagram computes them.
            references: Default::default(),
        }
    }

    fn web() -> StackArtifact {
        artifact(
            "web",
            "eu-west-1",
            json!({"Resources": {
                "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                    "GroupDescription": "web",
                    "SecurityGroupIngress": [
                        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"},
                        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.1.0.0/16"}
                    ],
                    "SecurityGroupEgress": [
                        {"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "CidrIp": "255.255.255.255/32"}
                    ]
                }},
                "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                    "SecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}]
                }},
                "Lonely": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}},
                "LonelyIn": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                    "GroupId": {"Ref": "Lonely"}, "IpProtocol": "-1", "SourcePrefixListId": "pl-123"
                }},
                "Topic": {"Type": "AWS::SNS::Topic"}
            },
            "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "shared-topic"}}}
            }),
        )
    }

    #[test]
    fn inline_rules_connect_the_resources_that_use_the_group() {
        let d = Diagram::from_artifacts(&[web()], Detail::Resources);
        assert_eq!(d.labels(INTERNET, "web/Lb/Resource"), ["tcp/80"]);
        assert_eq!(d.labels("cidr:10.1.0.0/16", "web/Lb/Resource"), ["tcp/22"]);
        // The group has a user, so it is drawn as the edges, not as a box;
        // its placeholder egress matches no traffic and is no edge.
        assert!(d.node("web/Sg/Resource").is_none());
        assert_eq!(d.edges().filter(|e| e.from == "web/Lb/Resource").count(), 0);
    }

    #[test]
    fn a_group_nothing_uses_and_a_prefix_list_without_cdn_are_boxes() {
        let d = Diagram::from_artifacts(&[web()], Detail::Resources);
        assert!(d.node("web/Lonely/Resource").is_some());
        assert_eq!(
            d.labels("prefix-list:pl-123", "web/Lonely/Resource"),
            ["all traffic"]
        );
        assert_eq!(
            d.node("prefix-list:pl-123").map(|n| n.label.as_str()),
            Some("prefix list pl-123")
        );
    }

    #[test]
    fn imports_and_parameter_sources_cross_stacks() {
        let ops = artifact(
            "ops",
            "us-west-2",
            json!({
                "Metadata": {"khs:parameter-sources": {
                    "TopicArn": {"Stack": "web", "Output": "TopicArn", "Region": "eu-west-1"}
                }},
                "Parameters": {"TopicArn": {"Type": "String"}},
                "Resources": {
                    "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                        "AlarmActions": [{"Fn::ImportValue": "shared-topic"}],
                        "OKActions": [{"Ref": "TopicArn"}]
                    }},
                    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                        "Environment": {"Variables": {"TOPIC": {"Ref": "TopicArn"}}}
                    }}
                }
            }),
        );
        let d = Diagram::from_artifacts(&[web(), ops], Detail::Constructs);
        assert_eq!(
            d.labels("ops/Alarm", "web/Topic"),
            ["alarm (import shared-topic)", "ok (from web, eu-west-1)"]
        );
        // A reference no specific rule knows still shows, as a use.
        let uses: Vec<&Edge> = d.edges().filter(|e| e.from == "ops/Fn").collect();
        assert_eq!(uses.len(), 1, "{uses:?}");
        assert_eq!(
            (uses[0].to.as_str(), uses[0].kind, uses[0].label.as_str()),
            ("web/Topic", EdgeKind::Uses, "(from web, eu-west-1)")
        );
    }

    #[test]
    fn backup_copies_find_the_vault_of_another_region_by_its_arn() {
        let main = artifact(
            "main",
            "us-east-1",
            json!({"Resources": {
                "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {
                    "BackupPlanRule": [{"CopyActions": [{"DestinationBackupVaultArn":
                        "arn:aws:backup:us-west-2:123456789012:backup-vault:dr"}]}]
                }}},
                "Db": {"Type": "AWS::RDS::DBInstance"},
                "Selection": {"Type": "AWS::Backup::BackupSelection", "Properties": {
                    "BackupPlanId": {"Ref": "Plan"},
                    "BackupSelection": {"Resources": [{"Fn::Sub": "arn:aws:rds:::db:${Db}"}]}
                }}
            }}),
        );
        let dr = artifact(
            "dr",
            "us-west-2",
            json!({"Resources": {"Vault": {"Type": "AWS::Backup::BackupVault",
                "Properties": {"BackupVaultName": "dr"}}}}),
        );
        let d = Diagram::from_artifacts(&[main, dr], Detail::Constructs);
        assert_eq!(d.labels("main/Plan", "dr/Vault"), ["copies to us-west-2"]);
        assert_eq!(d.labels("main/Plan", "main/Db"), ["backs up"]);
    }

    #[test]
    fn labels_of_one_arrow_are_merged() {
        assert_eq!(
            merge_labels(&["grant kms", "grant secretsmanager", "tcp/5432"]),
            "grant kms secretsmanager, tcp/5432"
        );
        assert_eq!(
            merge_labels(&[
                "TLS certificate (from edge, us-east-1)",
                "web ACL (from edge, us-east-1)"
            ]),
            "TLS certificate, web ACL (from edge, us-east-1)"
        );
        assert_eq!(merge_labels(&["(from edge)"]), "(from edge)");
    }

    #[test]
    fn detail_parses_from_its_name() {
        assert_eq!("resources".parse::<Detail>(), Ok(Detail::Resources));
        assert_eq!(Detail::default().to_string(), "constructs");
        assert_eq!(
            "all".parse::<Detail>(),
            Err(
                "diagram detail \"all\" is not known; use \"constructs\" or \"resources\""
                    .to_string()
            )
        );
    }

    #[test]
    fn files_are_written_and_then_checked_current() {
        let dir = std::env::temp_dir().join(format!("khs-diagram-{}", std::process::id()));
        let d = Diagram::from_artifacts(&[web()], Detail::Constructs);
        assert_eq!(
            check(&d, "Web", &dir),
            ["architecture.md is missing", "architecture.svg is missing"]
        );
        write(&d, "Web", &dir).expect("written");
        assert!(check(&d, "Web", &dir).is_empty());
        let other = Diagram::from_artifacts(&[web()], Detail::Resources);
        assert_eq!(
            check(&other, "Web", &dir),
            [
                "architecture.md differs from the code",
                "architecture.svg differs from the code"
            ]
        );
        let md = std::fs::read_to_string(dir.join(MARKDOWN_FILE)).expect("read");
        assert!(md.starts_with("# Web\n") && md.contains("```mermaid\nflowchart LR\n"));
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
