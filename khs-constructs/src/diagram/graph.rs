//! Deriving the resource graph from synthesized templates.
//!
//! Everything here reads [`StackArtifact`]s: resource types, properties and
//! the construct path each resource carries in its metadata
//! ([`PATH_METADATA_KEY`]); template metadata `khs:parameter-sources` and
//! `Fn::ImportValue` for references between stacks. Nothing reads a
//! construct module, so any construct (the library's or a user's) that
//! synthesizes these CloudFormation types is drawn.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::core::app::StackArtifact;
use crate::core::stack::PATH_METADATA_KEY;
use crate::core::template::JsonText;
use crate::core::validate::{References, Referent};

use super::EdgeKind;

/// The template metadata key naming, per parameter, the stack output that
/// fills it in at deploy time (written by cross-region references). The same
/// value as `edge::PARAMETER_SOURCES_KEY`, repeated here so that the diagram
/// reads no construct module; its one home should be the core, beside
/// [`PATH_METADATA_KEY`].
pub(crate) const PARAMETER_SOURCES_KEY: &str = "khs:parameter-sources";

/// The node key of the internet (`0.0.0.0/0`, `::/0`) as a source of
/// traffic: viewers of a CDN, ingress rules.
pub const INTERNET: &str = "internet";

/// The node key of the internet as a destination (egress rules to
/// `0.0.0.0/0`, such as HTTPS to AWS APIs through a NAT gateway): a box of
/// its own, so that a layered drawing keeps the internet's traffic flowing
/// one way.
pub const INTERNET_OUTBOUND: &str = "internet:outbound";

/// One end of a resource-level edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum End {
    /// A resource, by index into [`Index::res`].
    Res(usize),
    /// Something outside the app: key and label.
    External(String, String),
}

/// A resource-level edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RawEdge {
    pub from: End,
    pub to: End,
    pub kind: EdgeKind,
    pub label: String,
}

/// One resource of one stack.
#[derive(Debug)]
pub(crate) struct Res<'a> {
    pub stack: usize,
    pub logical_id: &'a str,
    pub type_name: &'a str,
    /// The construct path, `stack/Construct/…` (borrowed from the
    /// resource's metadata when it is there).
    pub path: Cow<'a, str>,
    /// The properties, parsed only when a reader needs them (for the
    /// types the diagram draws edges of).
    pub properties: &'a JsonText,
}

/// A resource a value refers to, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    res: usize,
    /// How the reference crosses stacks (`None` within a stack).
    via: Option<String>,
}

/// The resources of every stack and the edges between them.
pub(crate) struct Index<'a> {
    pub arts: &'a [StackArtifact],
    pub res: Vec<Res<'a>>,
    /// Per stack, the index of its first resource; a stack's resources
    /// follow in logical-id order (the template's map order).
    first: Vec<usize>,
    /// The resources whose properties name a parameter filled in from
    /// another stack or hold an `Fn::ImportValue`, with those ids.
    crossing: Vec<(usize, Vec<&'a str>, bool)>,
    /// Security-group resource → the resources that use it.
    sg_members: BTreeMap<usize, Vec<usize>>,
    pub edges: BTreeSet<RawEdge>,
}

/// Resource types that only connect other resources: drawn as edges.
pub(crate) fn is_connector(type_name: &str) -> bool {
    matches!(
        type_name,
        "AWS::EC2::SecurityGroupIngress"
            | "AWS::EC2::SecurityGroupEgress"
            | "AWS::ElasticLoadBalancingV2::Listener"
            | "AWS::ElasticLoadBalancingV2::ListenerRule"
    )
}

const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

const DISTRIBUTION: &str = "AWS::CloudFront::Distribution";

impl<'a> Index<'a> {
    pub fn build(arts: &'a [StackArtifact]) -> Index<'a> {
        let mut res = Vec::with_capacity(arts.iter().map(|a| a.template.resources.len()).sum());
        let mut first = Vec::with_capacity(arts.len() + 1);
        for (stack, a) in arts.iter().enumerate() {
            first.push(res.len());
            for (id, entry) in &a.template.resources {
                let path = entry
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(PATH_METADATA_KEY))
                    .and_then(Value::as_str)
                    .map_or_else(|| Cow::Owned(format!("{}/{id}", a.name)), Cow::Borrowed);
                res.push(Res {
                    stack,
                    logical_id: id,
                    type_name: &entry.type_name,
                    path,
                    properties: &entry.properties,
                });
            }
        }
        first.push(res.len());
        let mut index = Index {
            arts,
            res,
            first,
            crossing: Vec::new(),
            sg_members: BTreeMap::new(),
            edges: BTreeSet::new(),
        };
        index.walk();
        index.derive_edges();
        index
    }

    /// The resource `id` of stack `stack`.
    fn by_id(&self, stack: usize, id: &str) -> Option<usize> {
        let (lo, hi) = (*self.first.get(stack)?, *self.first.get(stack + 1)?);
        self.res[lo..hi]
            .binary_search_by(|r| r.logical_id.cmp(id))
            .ok()
            .map(|i| lo + i)
    }

    /// Whether resource `i` is drawn as a node (connectors and security
    /// groups that something uses are drawn as edges).
    pub fn is_node(&self, i: usize) -> bool {
        let r = &self.res[i];
        !is_connector(r.type_name) && !self.sg_members.contains_key(&i)
    }

    /// Which security groups each resource uses, and whether it refers to
    /// another stack: read from what the reference check of synthesis
    /// recorded ([`References`]), computed here only for artifacts made
    /// without synthesis.
    fn walk(&mut self) {
        let arts = self.arts;
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut crossing = Vec::new();
        for (stack, a) in arts.iter().enumerate() {
            let computed;
            let refs = if a.references.fits(&a.template) {
                &a.references
            } else {
                computed = References::of(&a.template);
                &computed
            };
            let parameters: Vec<&'a str> =
                a.template.parameters.keys().map(String::as_str).collect();
            let sourced = a
                .template
                .metadata
                .get(PARAMETER_SOURCES_KEY)
                .and_then(Value::as_object);
            let first = self.first[stack];
            for k in 0..refs.len() {
                let i = first + k;
                let type_name = self.res[i].type_name;
                let uses_groups = !is_connector(type_name) && type_name != SECURITY_GROUP;
                let mut named: Vec<&'a str> = Vec::new();
                for r in refs.of_resource(k) {
                    match r {
                        Referent::Resource(j) => {
                            let sg = first + j;
                            if uses_groups
                                && self
                                    .res
                                    .get(sg)
                                    .is_some_and(|r| r.type_name == SECURITY_GROUP)
                            {
                                members.entry(sg).or_default().push(i);
                            }
                        }
                        Referent::Parameter(p) => {
                            if let Some(&n) = parameters.get(p)
                                && sourced.is_some_and(|s| s.contains_key(n))
                            {
                                named.push(n);
                            }
                        }
                    }
                }
                let imports = refs.imports(k);
                if imports || !named.is_empty() {
                    crossing.push((i, named, imports));
                }
            }
        }
        self.sg_members = members;
        self.crossing = crossing;
    }

    /// The drawn ends of a security group: the resources that use it, or the
    /// group itself when nothing in the app does.
    fn sg_ends(&self, sg: usize) -> Vec<End> {
        match self.sg_members.get(&sg) {
            Some(m) => m.iter().map(|&i| End::Res(i)).collect(),
            None => vec![End::Res(sg)],
        }
    }

    fn add(&mut self, from: End, to: End, kind: EdgeKind, label: impl Into<String>) {
        if from == to {
            return;
        }
        self.edges.insert(RawEdge {
            from,
            to,
            kind,
            label: label.into(),
        });
    }

    /// Adds an edge from `from` to every resource `value` refers to.
    fn add_to_targets(&mut self, from: usize, value: &Value, kind: EdgeKind, label: &str) {
        let stack = self.res[from].stack;
        for t in self.resolve(stack, value) {
            let label = with_via(label, t.via.as_deref());
            self.add(End::Res(from), End::Res(t.res), kind, label);
        }
    }

    fn derive_edges(&mut self) {
        let mut origins: Vec<(usize, usize)> = Vec::new();
        for i in 0..self.res.len() {
            if self.res[i].type_name == DISTRIBUTION {
                origins.extend(self.distribution(i));
            }
        }
        for i in 0..self.res.len() {
            let props = self.res[i].properties;
            match self.res[i].type_name {
                "AWS::EC2::SecurityGroupIngress" => {
                    let stack = self.res[i].stack;
                    for g in self.resolve(stack, &props["GroupId"]) {
                        self.rule(g.res, props, Direction::Ingress, &origins);
                    }
                }
                "AWS::EC2::SecurityGroupEgress" => {
                    let stack = self.res[i].stack;
                    for g in self.resolve(stack, &props["GroupId"]) {
                        self.rule(g.res, props, Direction::Egress, &origins);
                    }
                }
                SECURITY_GROUP => {
                    for r in items(&props["SecurityGroupIngress"]) {
                        self.rule(i, r, Direction::Ingress, &origins);
                    }
                    for r in items(&props["SecurityGroupEgress"]) {
                        self.rule(i, r, Direction::Egress, &origins);
                    }
                }
                "AWS::ElasticLoadBalancingV2::Listener" => self.listener(i),
                "AWS::ElasticLoadBalancingV2::ListenerRule" => self.listener_rule(i),
                "AWS::ECS::Service" => {
                    for lb in items(&props["LoadBalancers"]) {
                        let port = lb["ContainerPort"]
                            .as_u64()
                            .map_or_else(String::new, |p| format!("port {p}"));
                        self.add_from_targets(&lb["TargetGroupArn"], i, EdgeKind::Traffic, &port);
                    }
                }
                "AWS::Route53::RecordSet" => self.record(i, props),
                "AWS::Route53::RecordSetGroup" => {
                    for r in items(&props["RecordSets"]) {
                        self.record(i, r);
                    }
                }
                "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm" => {
                    for (key, label) in [
                        ("AlarmActions", "alarm"),
                        ("OKActions", "ok"),
                        ("InsufficientDataActions", "insufficient data"),
                    ] {
                        self.add_to_targets(i, &props[key], EdgeKind::Alarm, label);
                    }
                }
                "AWS::Budgets::Budget" => {
                    for n in items(&props["NotificationsWithSubscribers"]) {
                        self.add_to_targets(i, &n["Subscribers"], EdgeKind::Alarm, "budget alert");
                    }
                }
                "AWS::IAM::Role" => {
                    for p in items(&props["Policies"]) {
                        self.grants(&[i], &p["PolicyDocument"]);
                    }
                }
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                    let stack = self.res[i].stack;
                    let mut grantees: Vec<usize> = Vec::new();
                    for key in ["Roles", "Users", "Groups"] {
                        grantees.extend(self.resolve(stack, &props[key]).iter().map(|t| t.res));
                    }
                    if grantees.is_empty() {
                        grantees.push(i);
                    }
                    self.grants(&grantees, &props["PolicyDocument"]);
                }
                "AWS::Backup::BackupPlan" => self.backup_plan(i),
                "AWS::Backup::BackupSelection" => {
                    let stack = self.res[i].stack;
                    let plans = self.resolve(stack, &props["BackupPlanId"]);
                    let from = plans.first().map_or(i, |t| t.res);
                    self.add_to_targets(
                        from,
                        &props["BackupSelection"]["Resources"],
                        EdgeKind::Backup,
                        "backs up",
                    );
                }
                _ => {}
            }
        }
        self.cross_stack_references();
    }

    /// Adds an edge from every resource `value` refers to, to `to`.
    fn add_from_targets(&mut self, value: &Value, to: usize, kind: EdgeKind, label: &str) {
        let stack = self.res[to].stack;
        for t in self.resolve(stack, value) {
            let label = with_via(label, t.via.as_deref());
            self.add(End::Res(t.res), End::Res(to), kind, label);
        }
    }

    /// One security-group rule of group `sg`.
    fn rule(&mut self, sg: usize, rule: &Value, dir: Direction, origins: &[(usize, usize)]) {
        let stack = self.res[sg].stack;
        let label = port_label(rule);
        let (sg_key, pl_key) = match dir {
            Direction::Ingress => ("SourceSecurityGroupId", "SourcePrefixListId"),
            Direction::Egress => ("DestinationSecurityGroupId", "DestinationPrefixListId"),
        };
        let ours = self.sg_ends(sg);
        let mut peers: Vec<End> = Vec::new();
        for t in self.resolve(stack, &rule[sg_key]) {
            peers.extend(self.sg_ends(t.res));
        }
        for key in ["CidrIp", "CidrIpv6"] {
            match rule[key].as_str() {
                Some("0.0.0.0/0" | "::/0") => peers.push(match dir {
                    Direction::Ingress => {
                        End::External(INTERNET.to_string(), "Internet".to_string())
                    }
                    Direction::Egress => End::External(
                        INTERNET_OUTBOUND.to_string(),
                        "Internet (outbound)".to_string(),
                    ),
                }),
                // The placeholder rule of a group without egress: it matches
                // no traffic, so it is not a connection.
                Some("255.255.255.255/32") => {}
                Some(cidr) => peers.push(End::External(format!("cidr:{cidr}"), cidr.to_string())),
                None => {}
            }
        }
        if let Some(pl) = rule[pl_key].as_str() {
            // A prefix list in front of a CloudFront origin: the
            // distributions whose origin is behind this group.
            let fronted: Vec<End> = origins
                .iter()
                .filter(|(_, origin)| ours.contains(&End::Res(*origin)))
                .map(|(d, _)| End::Res(*d))
                .collect();
            if fronted.is_empty() || dir == Direction::Egress {
                peers.push(End::External(
                    format!("prefix-list:{pl}"),
                    format!("prefix list {pl}"),
                ));
            } else {
                peers.extend(fronted);
            }
        }
        for peer in &peers {
            for end in &ours {
                let (from, to) = match dir {
                    Direction::Ingress => (peer.clone(), end.clone()),
                    Direction::Egress => (end.clone(), peer.clone()),
                };
                self.add(from, to, EdgeKind::Traffic, label.clone());
            }
        }
    }

    fn listener(&mut self, i: usize) {
        let props = self.res[i].properties;
        let stack = self.res[i].stack;
        let label = listener_label(props);
        let lbs = self.resolve(stack, &props["LoadBalancerArn"]);
        for lb in &lbs {
            for a in items(&props["DefaultActions"]) {
                self.action(lb.res, a, &label);
            }
            for c in items(&props["Certificates"]) {
                self.add_to_targets(
                    lb.res,
                    &c["CertificateArn"],
                    EdgeKind::Uses,
                    "TLS certificate",
                );
            }
        }
    }

    fn listener_rule(&mut self, i: usize) {
        let props = self.res[i].properties;
        let stack = self.res[i].stack;
        for l in self.resolve(stack, &props["ListenerArn"]) {
            let lprops = self.res[l.res].properties;
            let label = format!("{} rule", listener_label(lprops));
            for lb in self.resolve(self.res[l.res].stack, &lprops["LoadBalancerArn"]) {
                for a in items(&props["Actions"]) {
                    self.action(lb.res, a, &label);
                }
            }
        }
    }

    /// A listener action of load balancer `lb`: forward to target groups.
    fn action(&mut self, lb: usize, action: &Value, label: &str) {
        self.add_to_targets(lb, &action["TargetGroupArn"], EdgeKind::Traffic, label);
        for tg in items(&action["ForwardConfig"]["TargetGroups"]) {
            self.add_to_targets(lb, &tg["TargetGroupArn"], EdgeKind::Traffic, label);
        }
    }

    /// The origins, behaviours, WAF and certificate of a distribution;
    /// returns (distribution, origin resource) pairs.
    fn distribution(&mut self, d: usize) -> Vec<(usize, usize)> {
        let stack = self.res[d].stack;
        let props = self.res[d].properties;
        let config = &props["DistributionConfig"];
        let mut patterns: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let default = &config["DefaultCacheBehavior"];
        let mut viewer_https_only = true;
        for (b, pattern) in std::iter::once((default, "*")).chain(
            items(&config["CacheBehaviors"]).map(|b| (b, b["PathPattern"].as_str().unwrap_or("?"))),
        ) {
            if let Some(origin) = b["TargetOriginId"].as_str() {
                patterns.entry(origin).or_default().push(pattern);
            }
            if b["ViewerProtocolPolicy"].as_str() == Some("allow-all") {
                viewer_https_only = false;
            }
        }
        let viewers = if viewer_https_only {
            "https/443"
        } else {
            "http/80, https/443"
        };
        self.add(
            End::External(INTERNET.to_string(), "Internet".to_string()),
            End::Res(d),
            EdgeKind::Traffic,
            viewers,
        );
        let mut out = Vec::new();
        for o in items(&config["Origins"]) {
            let id = o["Id"].as_str().unwrap_or("?");
            let paths = patterns.get(id).map_or_else(String::new, |p| p.join(" "));
            let transport = match o["CustomOriginConfig"]["OriginProtocolPolicy"].as_str() {
                Some("https-only") => format!(
                    "https/{}",
                    o["CustomOriginConfig"]["HTTPSPort"].as_u64().unwrap_or(443)
                ),
                Some("http-only") => format!(
                    "http/{}",
                    o["CustomOriginConfig"]["HTTPPort"].as_u64().unwrap_or(80)
                ),
                Some(_) => "http/https".to_string(),
                None if !o["OriginAccessControlId"].is_null() => {
                    "origin access control".to_string()
                }
                None => "https".to_string(),
            };
            let label = format!("{paths} {transport}").trim().to_string();
            for t in self.resolve(stack, &o["DomainName"]) {
                out.push((d, t.res));
                let label = with_via(&label, t.via.as_deref());
                self.add(End::Res(d), End::Res(t.res), EdgeKind::Traffic, label);
            }
        }
        self.add_to_targets(d, &config["WebACLId"], EdgeKind::Uses, "web ACL");
        self.add_to_targets(
            d,
            &config["ViewerCertificate"]["AcmCertificateArn"],
            EdgeKind::Uses,
            "TLS certificate",
        );
        out
    }

    fn record(&mut self, i: usize, record: &Value) {
        let kind = record["Type"].as_str().unwrap_or("");
        let name = record["Name"].as_str().unwrap_or("");
        let label = format!("{kind} {name}").trim().to_string();
        self.add_to_targets(
            i,
            &record["AliasTarget"]["DNSName"],
            EdgeKind::Alias,
            &label,
        );
        self.add_to_targets(i, &record["ResourceRecords"], EdgeKind::Alias, &label);
    }

    /// Grants: every `Allow` statement of `document` to resources of the app.
    fn grants(&mut self, grantees: &[usize], document: &'a Value) {
        let mut by_target: BTreeMap<Target, BTreeSet<&'a str>> = BTreeMap::new();
        let stack = grantees.first().map_or(0, |&g| self.res[g].stack);
        for s in items(&document["Statement"]) {
            if s["Effect"].as_str() != Some("Allow") {
                continue;
            }
            let services: BTreeSet<&'a str> = strings(&s["Action"])
                .map(|a| a.split(':').next().unwrap_or(a))
                .collect();
            for t in self.resolve(stack, &s["Resource"]) {
                by_target
                    .entry(t)
                    .or_default()
                    .extend(services.iter().copied());
            }
        }
        for (t, services) in by_target {
            let services: Vec<&str> = services.into_iter().collect();
            let label = with_via(&format!("grant {}", services.join(" ")), t.via.as_deref());
            for &g in grantees {
                self.add(End::Res(g), End::Res(t.res), EdgeKind::Grant, label.clone());
            }
        }
    }

    fn backup_plan(&mut self, i: usize) {
        let props = self.res[i].properties;
        let region = self.arts[self.res[i].stack].env.region.clone();
        for rule in items(&props["BackupPlan"]["BackupPlanRule"]) {
            self.add_to_targets(i, &rule["TargetBackupVault"], EdgeKind::Backup, "stores in");
            for c in items(&rule["CopyActions"]) {
                let dest = &c["DestinationBackupVaultArn"];
                let arn = dest["Fn::Sub"].as_str().or(dest.as_str()).unwrap_or("");
                match self.vault_by_arn(arn, &region) {
                    Some((v, vregion)) => {
                        let label = if vregion == region {
                            "copies to".to_string()
                        } else {
                            format!("copies to {vregion}")
                        };
                        self.add(End::Res(i), End::Res(v), EdgeKind::Backup, label);
                    }
                    None => self.add_to_targets(i, dest, EdgeKind::Backup, "copies to"),
                }
            }
        }
    }

    /// The backup vault of the app an ARN (literal or `Fn::Sub` text) names:
    /// `arn:…:backup:<region>:<account>:backup-vault:<name>`.
    fn vault_by_arn(&self, arn: &str, own_region: &str) -> Option<(usize, String)> {
        let parts: Vec<&str> = arn.split(':').collect();
        let at = parts.iter().position(|p| *p == "backup")?;
        let region = parts.get(at + 1)?;
        let region = if region.contains("AWS::Region") {
            own_region.to_string()
        } else {
            (*region).to_string()
        };
        let name = parts
            .iter()
            .position(|p| *p == "backup-vault")
            .and_then(|k| parts.get(k + 1))?;
        self.res
            .iter()
            .position(|r| {
                r.type_name == "AWS::Backup::BackupVault"
                    && r.properties["BackupVaultName"].as_str() == Some(name)
                    && self.arts[r.stack].env.region == region
            })
            .map(|v| (v, region))
    }

    /// References to other stacks that no specific edge above drew.
    fn cross_stack_references(&mut self) {
        if self.crossing.is_empty() {
            return;
        }
        let connected: BTreeSet<(&End, &End)> =
            self.edges.iter().map(|e| (&e.from, &e.to)).collect();
        let mut uses: Vec<(usize, usize, String)> = Vec::new();
        for (i, named, imports) in &self.crossing {
            let (i, stack) = (*i, self.res[*i].stack);
            let mut values: Vec<Value> = named
                .iter()
                .map(|n| serde_json::json!({ "Ref": n }))
                .collect();
            if *imports {
                collect_imports(self.res[i].properties, &mut values);
            }
            for v in values {
                for t in self.resolve(stack, &v) {
                    if !connected.contains(&(&End::Res(i), &End::Res(t.res))) {
                        uses.push((i, t.res, with_via("", t.via.as_deref())));
                    }
                }
            }
        }
        drop(connected);
        for (from, to, label) in uses {
            self.add(End::Res(from), End::Res(to), EdgeKind::Uses, label);
        }
    }

    /// The resources `value` refers to from stack `stack`: `Ref`,
    /// `Fn::GetAtt`, `Fn::Sub` variables, parameters filled in from another
    /// stack's output (`khs:parameter-sources`) and `Fn::ImportValue`.
    fn resolve(&self, stack: usize, value: &Value) -> Vec<Target> {
        if value.is_null() {
            return Vec::new();
        }
        // The common case: one `Ref` or `Fn::GetAtt` of a resource of this stack.
        if let Some(r) = single_ref(value).and_then(|id| self.by_id(stack, id)) {
            return vec![Target { res: r, via: None }];
        }
        let mut out = Vec::new();
        self.resolve_into(stack, value, None, &mut out, 0);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn resolve_into(
        &self,
        stack: usize,
        value: &Value,
        via: Option<&str>,
        out: &mut Vec<Target>,
        depth: usize,
    ) {
        if depth > 4 {
            return;
        }
        let mut ids = Vec::new();
        let has_import = collect_ids(value, &mut ids);
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            if let Some(r) = self.by_id(stack, id) {
                out.push(Target {
                    res: r,
                    via: via.map(str::to_string),
                });
            } else if let Some(source) = self.arts[stack]
                .template
                .metadata
                .get(PARAMETER_SOURCES_KEY)
                .and_then(|s| s.get(id))
            {
                let (Some(other), Some(output)) =
                    (source["Stack"].as_str(), source["Output"].as_str())
                else {
                    continue;
                };
                let region = source["Region"].as_str();
                let Some(o) = self
                    .arts
                    .iter()
                    .position(|a| a.name == other && region.is_none_or(|r| a.env.region == r))
                else {
                    continue;
                };
                if let Some(out_value) = self.arts[o].template.outputs.get(output) {
                    let v = serde_json::to_value(&out_value.value).unwrap_or(Value::Null);
                    let label = self.crossing(stack, o);
                    self.resolve_into(o, &v, Some(&label), out, depth + 1);
                }
            }
        }
        let mut imports = Vec::new();
        if has_import {
            collect_imports(value, &mut imports);
        }
        for name in imports.iter().filter_map(|v| v["Fn::ImportValue"].as_str()) {
            for (o, a) in self.arts.iter().enumerate() {
                for out_value in a.template.outputs.values() {
                    let export = out_value
                        .export
                        .as_ref()
                        .and_then(|e| serde_json::to_value(&e.name).ok());
                    if export.as_ref().and_then(Value::as_str) == Some(name) {
                        let v = serde_json::to_value(&out_value.value).unwrap_or(Value::Null);
                        let label = format!("import {name}");
                        self.resolve_into(o, &v, Some(&label), out, depth + 1);
                    }
                }
            }
        }
    }

    /// How a reference from stack `from` to stack `to` is labelled.
    fn crossing(&self, from: usize, to: usize) -> String {
        let (a, b) = (&self.arts[from], &self.arts[to]);
        if a.env.region == b.env.region {
            format!("from {}", b.name)
        } else {
            format!("from {}, {}", b.name, b.env.region)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

fn with_via(label: &str, via: Option<&str>) -> String {
    match via {
        Some(v) if label.is_empty() => format!("({v})"),
        Some(v) => format!("{label} ({v})"),
        None => label.to_string(),
    }
}

fn listener_label(props: &Value) -> String {
    let protocol = props["Protocol"].as_str().unwrap_or("");
    match props["Port"].as_u64() {
        Some(p) => format!("{protocol}/{p}"),
        None => protocol.to_string(),
    }
}

/// `tcp/443`, `tcp/1024-65535`, `all traffic`, `icmp`.
fn port_label(rule: &Value) -> String {
    let number = |v: &Value| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let protocol = match &rule["IpProtocol"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let protocol = match protocol.as_str() {
        "-1" => return "all traffic".to_string(),
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        "1" => "icmp".to_string(),
        other => other.to_lowercase(),
    };
    if protocol == "icmp" || protocol == "icmpv6" {
        return protocol;
    }
    match (number(&rule["FromPort"]), number(&rule["ToPort"])) {
        (Some(a), Some(b)) if a == b => format!("{protocol}/{a}"),
        (Some(0), Some(65535)) | (Some(-1), _) => format!("{protocol}/all"),
        (Some(a), Some(b)) => format!("{protocol}/{a}-{b}"),
        _ => protocol,
    }
}

/// The items of a list, or the value itself when it is not one.
fn items(v: &Value) -> impl Iterator<Item = &Value> {
    let (list, one) = match v {
        Value::Array(a) => (a.as_slice(), None),
        Value::Null => (&[][..], None),
        other => (&[][..], Some(other)),
    };
    list.iter().chain(one)
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    items(v).filter_map(Value::as_str)
}

/// The logical ids (resources or parameters) a value names through `Ref`,
/// `Fn::GetAtt` or `Fn::Sub`; pseudo parameters (`AWS::…`) are left out.
/// Returns whether the value holds an `Fn::ImportValue`.
pub(crate) fn collect_ids<'v>(v: &'v Value, out: &mut Vec<&'v str>) -> bool {
    match v {
        Value::Object(m) => {
            let mut entries = m.iter();
            if let (Some((key, inner)), None) = (entries.next(), entries.next()) {
                // One key: maybe an intrinsic function (one lookup, not one per name).
                match (key.as_str(), inner) {
                    ("Ref", Value::String(id)) => {
                        if !id.starts_with("AWS::") {
                            out.push(id);
                        }
                        return false;
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if let Some(Value::String(id)) = a.first() {
                            out.push(id);
                        }
                        return false;
                    }
                    ("Fn::GetAtt", Value::String(s)) => {
                        out.push(s.split('.').next().unwrap_or(s));
                        return false;
                    }
                    ("Fn::Sub", Value::String(s)) => {
                        sub_ids(s, &[], out);
                        return false;
                    }
                    ("Fn::Sub", Value::Array(a)) => {
                        let vars: Vec<&str> = a
                            .get(1)
                            .and_then(Value::as_object)
                            .map(|o| o.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        if let Some(Value::String(s)) = a.first() {
                            sub_ids(s, &vars, out);
                        }
                        return a.get(1).is_some_and(|vals| collect_ids(vals, out));
                    }
                    ("Fn::ImportValue", inner) => {
                        let _ = collect_ids(inner, out);
                        return true;
                    }
                    (_, inner) => return collect_ids(inner, out),
                }
            }
            let mut import = false;
            for x in m.values() {
                import |= collect_ids(x, out);
            }
            import
        }
        Value::Array(a) => {
            let mut import = false;
            for x in a {
                import |= collect_ids(x, out);
            }
            import
        }
        _ => false,
    }
}

/// The id of a value that is one `Ref` (not of a pseudo parameter) or one
/// `Fn::GetAtt`: what [`collect_ids`] finds in it, without a list.
fn single_ref(v: &Value) -> Option<&str> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    match m.iter().next()? {
        (k, Value::String(id)) if k == "Ref" && !id.starts_with("AWS::") => Some(id),
        (k, Value::Array(a)) if k == "Fn::GetAtt" => a.first()?.as_str(),
        (k, Value::String(s)) if k == "Fn::GetAtt" => s.split('.').next(),
        _ => None,
    }
}

/// `${Id}` and `${Id.Attr}` in `Fn::Sub` text, without the variables of
/// the second argument, pseudo parameters and `${!literal}`.
fn sub_ids<'v>(s: &'v str, vars: &[&str], out: &mut Vec<&'v str>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let token = &after[..end];
        let id = token.split('.').next().unwrap_or(token);
        if !token.starts_with('!') && !id.contains("::") && !vars.contains(&id) && !id.is_empty() {
            out.push(id);
        }
        rest = &after[end + 1..];
    }
}

/// Every `{"Fn::ImportValue": …}` inside a value.
fn collect_imports(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.len() == 1 && m.contains_key("Fn::ImportValue") {
                out.push(v.clone());
                return;
            }
            for x in m.values() {
                collect_imports(x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_imports(x, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_ref_getatt_and_sub_ids_but_not_pseudo_parameters() {
        let v = json!({
            "A": {"Ref": "Vpc"},
            "B": {"Fn::GetAtt": ["Bucket", "Arn"]},
            "C": {"Fn::GetAtt": "Key.Arn"},
            "D": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Logs}/${Trail.Arn}/${!Literal}"},
            "E": {"Fn::Sub": ["${X}-${Secret}", {"X": {"Ref": "Topic"}}]},
            "F": {"Ref": "AWS::Region"}
        });
        let mut ids = Vec::new();
        let imports = collect_ids(&v, &mut ids);
        ids.sort_unstable();
        ids.dedup();
        assert!(!imports);
        assert_eq!(
            ids,
            ["Bucket", "Key", "Logs", "Secret", "Topic", "Trail", "Vpc"]
        );
    }

    #[test]
    fn port_labels_name_protocol_and_ports() {
        assert_eq!(
            port_label(&json!({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432})),
            "tcp/5432"
        );
        assert_eq!(
            port_label(&json!({"IpProtocol": "tcp", "FromPort": 1024, "ToPort": 65535})),
            "tcp/1024-65535"
        );
        assert_eq!(port_label(&json!({"IpProtocol": "-1"})), "all traffic");
        assert_eq!(
            port_label(&json!({"IpProtocol": 6, "FromPort": "443", "ToPort": "443"})),
            "tcp/443"
        );
        assert_eq!(
            port_label(&json!({"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1})),
            "icmp"
        );
    }
}
