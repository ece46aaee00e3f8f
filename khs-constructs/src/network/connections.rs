//! Typed security-group wiring.
//!
//! A construct that can be reached over the network (a [`Database`], a
//! [`Cache`], an [`ApiService`]'s service and load balancer) owns a security
//! group and exposes it with its default port as [`Connections`]. Traffic is
//! opened from one construct to another, never from a CIDR:
//!
//! ```ignore
//! database.connections().allow_default_port_from(&mut stack, service.connections())?;
//! ```
//!
//! writes an `AWS::EC2::SecurityGroupIngress` on the database's group whose
//! source is the service's group (`SourceSecurityGroupId`), and, because the
//! service's group restricts its egress, the matching
//! `AWS::EC2::SecurityGroupEgress` on the service's group
//! (`DestinationSecurityGroupId`).
//!
//! Groups made with [`Connections::new_security_group`] and
//! [`Egress::Restricted`] have no allow-all egress rule: CloudFormation adds
//! one to every group whose `SecurityGroupEgress` is empty, so the group
//! carries one placeholder rule that matches no traffic (ICMP type 252 code
//! 86 to `255.255.255.255/32`), and every real egress rule is a separate
//! resource. Nothing here opens a port to `0.0.0.0/0` for ingress except
//! `Connections::allow_listener_from_internet` (crate-private), which only the public load
//! balancer of an [`ApiService`] calls for its listener ports.
//!
//! [`Database`]: crate::data::database::Database
//! [`Cache`]: crate::data::cache::Cache
//! [`ApiService`]: crate::compute::api_service::ApiService

use crate::cfn::attributes::*;
use crate::cfn::ec2::security_group_egress::SecurityGroupEgressRequired;
use std::fmt;

use crate::cfn::ec2::{SecurityGroup, SecurityGroupEgress, SecurityGroupIngress, security_group};
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;

/// The IP protocol of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A port or port range of one protocol. Build with [`Port::tcp`] or
/// [`Port::tcp_range`]; the range is checked (`from ≤ to`, both in
/// `0..=65535`) when a rule is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Port {
    /// The protocol.
    pub protocol: Protocol,
    /// The first port.
    pub from: i64,
    /// The last port (equal to `from` for one port).
    pub to: i64,
}

impl Port {
    /// One TCP port.
    pub const fn tcp(port: u16) -> Self {
        Port {
            protocol: Protocol::Tcp,
            from: port as i64,
            to: port as i64,
        }
    }

    /// A TCP port range (inclusive).
    pub const fn tcp_range(from: i64, to: i64) -> Self {
        Port {
            protocol: Protocol::Tcp,
            from,
            to,
        }
    }

    /// Checks the range; `path` and `prop` name the caller in the error.
    pub fn validate(&self, path: impl fmt::Display, prop: &str) -> Result<()> {
        if !(0..=65535).contains(&self.from) || !(0..=65535).contains(&self.to) {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!("must be ports in 0..=65535, got {}", self),
            ));
        }
        if self.from > self.to {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!(
                    "must have from_port <= to_port, got {}..{}; swap them",
                    self.from, self.to
                ),
            ));
        }
        Ok(())
    }

    fn id_suffix(&self) -> String {
        let p = match self.protocol {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
        };
        if self.from == self.to {
            format!("{p}{}", self.from)
        } else {
            format!("{p}{}To{}", self.from, self.to)
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}/{}", self.protocol.as_str(), self.from)
        } else {
            write!(f, "{}/{}-{}", self.protocol.as_str(), self.from, self.to)
        }
    }
}

/// Whether a new security group may send anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Egress {
    /// No egress except the rules added with [`Connections::allow_from`]
    /// (for the source side) and [`Connections::allow_to_cidr`].
    Restricted,
    /// CloudFormation's default allow-all egress rule.
    AllowAll,
}

/// The security group behind a [`Connections`]: one this app creates, or
/// one that exists already and that this app never modifies.
#[derive(Debug, Clone, PartialEq)]
enum Group {
    Owned(Handle<SecurityGroup>),
    Imported(Value<String>),
}

/// The security group of a reachable construct, with its default port.
///
/// # Imported groups are never modified
///
/// The connections of an imported resource ([`Connections::import`], and
/// the imports `Database::import`, `Cache::import`,
/// `LoadBalancer::import` built on it) hold the group's id only. No rule
/// is ever written on such a group unless asked for by name:
///
/// - [`Connections::allow_from`] (and `allow_default_port_from`) on an
///   imported group is an error that names the group and the two ways on;
/// - [`Connections::allow_to`] (and `allow_default_port_to`) from the
///   app's own group to an imported one writes the egress rule on the
///   app's group only (the imported group's owner admits the app's group,
///   or the traffic is refused at the imported side: the library cannot
///   see its rules);
/// - [`Connections::allow_from_on_imported_group`] writes the ingress rule
///   on the imported group anyway, with a reason that becomes the rule's
///   description (for a group the team owns but manages elsewhere);
/// - an imported group as the *source* of [`Connections::allow_from`]
///   gets no egress rule (its egress is its owner's).
#[derive(Debug, Clone, PartialEq)]
pub struct Connections {
    security_group: Group,
    default_port: Option<Port>,
    path: ConstructPath,
    egress: Egress,
}

impl Connections {
    /// Wraps an existing security group. `path` is the construct that owns it
    /// (used in errors and in the ids of rules); `egress` says whether the
    /// group was made without the allow-all egress rule.
    pub fn new(
        security_group: Handle<SecurityGroup>,
        default_port: Option<Port>,
        path: ConstructPath,
        egress: Egress,
    ) -> Self {
        Connections {
            security_group: Group::Owned(security_group),
            default_port,
            path,
            egress,
        }
    }

    /// The connections of a security group that exists already (`sg-…`, or
    /// a value such as `scope.import_external("shared:DbSg")?`), for the
    /// imported construct at `path`. The group is never modified (see the
    /// type's docs). A literal id must look like `sg-` and hex digits, the
    /// default port must be a port (`0..=65535`).
    pub fn import(
        path: ConstructPath,
        group_id: impl Into<Value<String>>,
        default_port: Option<Port>,
    ) -> Result<Self> {
        let group_id = group_id.into();
        crate::network::vpc::import::check_id(&path, "security_group_id", &group_id, "sg-")?;
        if let Some(p) = default_port {
            p.validate(&path, "port")?;
        }
        Ok(Connections {
            security_group: Group::Imported(group_id),
            default_port,
            path,
            // Not known; never used to write rules on the group.
            egress: Egress::AllowAll,
        })
    }

    /// Creates a security group `id` in `scope` on `vpc_id` and wraps it.
    /// With [`Egress::Restricted`] the group gets the placeholder egress rule
    /// that replaces CloudFormation's allow-all rule (see the module docs).
    pub fn new_security_group(
        scope: &mut Scope<'_>,
        id: &str,
        vpc_id: Value<String>,
        description: &str,
        default_port: Option<Port>,
        egress: Egress,
    ) -> Result<Self> {
        if let Some(p) = default_port {
            p.validate(scope.path(), "default_port")?;
        }
        let egress_rules = match egress {
            Egress::AllowAll => None,
            Egress::Restricted => Some(vec![security_group::Egress {
                cidr_ip: Some("255.255.255.255/32".into()),
                description: Some("no egress: placeholder that matches no traffic".into()),
                from_port: Some(252.into()),
                to_port: Some(86.into()),
                ..security_group::Egress::new("icmp")
            }]),
        };
        let sg = scope.add(
            id,
            SecurityGroup {
                vpc_id: Some(vpc_id),
                security_group_egress: egress_rules,
                ..SecurityGroup::new(description)
            },
        )?;
        let path = scope.path().child(id)?;
        Ok(Connections::new(sg, default_port, path, egress))
    }

    /// The security group resource; `None` for an imported group.
    pub fn security_group(&self) -> Option<&Handle<SecurityGroup>> {
        match &self.security_group {
            Group::Owned(h) => Some(h),
            Group::Imported(_) => None,
        }
    }

    /// Whether the group exists outside the app ([`Connections::import`]);
    /// no rule is then written on it unless asked for by name.
    pub fn is_imported(&self) -> bool {
        matches!(self.security_group, Group::Imported(_))
    }

    /// The group id (`Fn::GetAtt GroupId`, or the imported id).
    pub fn security_group_id(&self) -> Value<String> {
        match &self.security_group {
            Group::Owned(h) => h.attr_group_id(),
            Group::Imported(id) => id.clone(),
        }
    }

    /// The error for a rule that would modify an imported group.
    pub(crate) fn refuse_imported(&self, prop: &str, what: &str, hint: &str) -> Result<()> {
        if !self.is_imported() {
            return Ok(());
        }
        let id = match &self.security_group_id() {
            Value::Literal(s) => format!(" {s}"),
            _ => String::new(),
        };
        Err(Error::invalid_prop(
            &self.path,
            prop,
            format!(
                "is the imported security group{id}, which this app never modifies, so {what} cannot add a rule to it; {hint}"
            ),
        ))
    }

    /// The port clients use by default (5432 for PostgreSQL, 6379 for Redis).
    pub fn default_port(&self) -> Option<Port> {
        self.default_port
    }

    /// The construct that owns the group.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// Whether the group's egress is restricted.
    pub fn egress(&self) -> Egress {
        self.egress
    }

    /// Lets `source` reach this construct on `port`: an ingress rule on this
    /// group from `source`'s group, and, when `source` restricts egress, the
    /// egress rule on `source`'s group to this one. The rules are added to
    /// `scope` with ids derived from both construct paths.
    pub fn allow_from(
        &self,
        scope: &mut impl AsScope,
        source: &Connections,
        port: Port,
    ) -> Result<()> {
        self.refuse_imported(
            "security_group",
            "allow_from",
            "reach it with `allow_to` from your own group (an egress rule there only; the group's owner admits your group), or call `allow_from_on_imported_group` with a reason to add the ingress rule anyway",
        )?;
        self.write_rules(scope, source, port, None)
    }

    /// Writes the ingress on this group from `source` (`description`, or
    /// the default one) and the egress on `source`'s group when it is the
    /// app's own and restricted.
    fn write_rules(
        &self,
        scope: &mut impl AsScope,
        source: &Connections,
        port: Port,
        description: Option<&str>,
    ) -> Result<()> {
        port.validate(&self.path, "port")?;
        if self.security_group == source.security_group {
            return Err(Error::invalid_prop(
                &self.path,
                "source",
                format!(
                    "must be another construct's security group, got {}'s own group (a self-referencing rule lets every member reach every other; constructs here have none)",
                    source.path
                ),
            ));
        }
        let mut s = scope.as_scope();
        let target = self.path.short_name_below(s.path());
        let from = source.path.short_name_below(s.path());
        let suffix = port.id_suffix();
        s.add(
            &format!("{target}IngressFrom{from}{suffix}"),
            SecurityGroupIngress {
                group_id: Some(self.security_group_id()),
                source_security_group_id: Some(source.security_group_id()),
                from_port: Some(port.from.into()),
                to_port: Some(port.to.into()),
                description: Some(
                    description
                        .map_or_else(|| format!("from {} on {port}", source.path), str::to_string)
                        .into(),
                ),
                ..SecurityGroupIngress::new(port.protocol.as_str())
            },
        )?;
        if source.egress == Egress::Restricted && !source.is_imported() {
            source.write_egress(
                &mut s,
                &format!("{from}EgressTo{target}{suffix}"),
                self,
                port,
                format!("to {} on {port}", self.path),
            )?;
        }
        Ok(())
    }

    /// Writes the egress rule `id` on this group to `target`'s group.
    fn write_egress(
        &self,
        s: &mut Scope<'_>,
        id: &str,
        target: &Connections,
        port: Port,
        description: String,
    ) -> Result<()> {
        s.add(
            id,
            SecurityGroupEgress {
                destination_security_group_id: Some(target.security_group_id()),
                from_port: Some(port.from.into()),
                to_port: Some(port.to.into()),
                description: Some(description.into()),
                ..SecurityGroupEgress::new(SecurityGroupEgressRequired {
                    ip_protocol: port.protocol.as_str().into(),
                    group_id: self.security_group_id(),
                })
            },
        )?;
        Ok(())
    }

    /// [`Connections::allow_from`] on this construct's default port; an error
    /// when it has none.
    pub fn allow_default_port_from(
        &self,
        scope: &mut impl AsScope,
        source: &Connections,
    ) -> Result<()> {
        let port = self.default_port.ok_or_else(|| {
            Error::invalid_prop(
                &self.path,
                "default_port",
                "is not set, so allow_default_port_from cannot choose a port; call allow_from with a port",
            )
        })?;
        self.allow_from(scope, source, port)
    }

    /// Lets this construct reach `target` on `port`. For a target the app
    /// owns this is `target.allow_from(scope, self, port)`. For an imported
    /// target only the egress rule on this group is written (none when this
    /// group's egress is not restricted): the imported group is never
    /// modified, so its owner must admit this group. An error when both
    /// groups are imported (nothing could be written).
    pub fn allow_to(
        &self,
        scope: &mut impl AsScope,
        target: &Connections,
        port: Port,
    ) -> Result<()> {
        if !target.is_imported() {
            return target.allow_from(scope, self, port);
        }
        port.validate(&target.path, "port")?;
        if self.is_imported() {
            return Err(Error::invalid_prop(
                &self.path,
                "security_group",
                format!(
                    "is imported like the target {}'s, so allow_to has no group of this app to write the egress rule on; connect the two groups where they are managed",
                    target.path
                ),
            ));
        }
        if self.egress == Egress::AllowAll {
            return Ok(());
        }
        let mut s = scope.as_scope();
        let to = target.path.short_name_below(s.path());
        let from = self.path.short_name_below(s.path());
        self.write_egress(
            &mut s,
            &format!("{from}EgressTo{to}{}", port.id_suffix()),
            target,
            port,
            format!("to {} (imported) on {port}", target.path),
        )
    }

    /// [`Connections::allow_to`] on `target`'s default port; an error when
    /// it has none.
    pub fn allow_default_port_to(
        &self,
        scope: &mut impl AsScope,
        target: &Connections,
    ) -> Result<()> {
        let port = target.default_port.ok_or_else(|| {
            Error::invalid_prop(
                &target.path,
                "default_port",
                "is not set, so allow_default_port_to cannot choose a port; call allow_to with a port",
            )
        })?;
        self.allow_to(scope, target, port)
    }

    /// The explicit opt-in to modify an imported group: an ingress rule on
    /// this (imported) group from `source` on `port`, plus the egress rule
    /// on `source`'s group when it is restricted. `reason` says why this
    /// app may change a group it does not own; it becomes the rule's
    /// description (1..=255 of `a-z A-Z 0-9 . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *`
    /// and spaces). An error on a group of this app (use
    /// [`Connections::allow_from`]).
    pub fn allow_from_on_imported_group(
        &self,
        scope: &mut impl AsScope,
        source: &Connections,
        port: Port,
        reason: &str,
    ) -> Result<()> {
        if !self.is_imported() {
            return Err(Error::invalid_prop(
                &self.path,
                "security_group",
                "is this app's own group; call allow_from (allow_from_on_imported_group is only for imported groups)",
            ));
        }
        let ok = !reason.trim().is_empty()
            && reason.len() <= 255
            && reason
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c));
        if !ok {
            return Err(Error::invalid_prop(
                &self.path,
                "reason",
                format!(
                    "must say why this app may change the imported group: 1..=255 of a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{{}}!$*, got {reason:?}"
                ),
            ));
        }
        self.write_rules(scope, source, port, Some(reason))
    }

    /// Lets this construct send to an IPv4 CIDR on `port` (an egress rule;
    /// only meaningful when egress is restricted). Used for HTTPS to AWS
    /// APIs from private subnets (ECR, Secrets Manager, CloudWatch Logs,
    /// X-Ray), which have no fixed addresses.
    pub fn allow_to_cidr(
        &self,
        scope: &mut impl AsScope,
        id: &str,
        cidr: &str,
        port: Port,
        description: &str,
    ) -> Result<()> {
        port.validate(&self.path, "port")?;
        self.refuse_imported(
            "security_group",
            "allow_to_cidr",
            "add the egress rule where the group is managed",
        )?;
        if self.egress == Egress::AllowAll {
            return Ok(());
        }
        let mut s = scope.as_scope();
        s.add(
            &format!("{}Egress{id}", self.path.short_name_below(s.path())),
            SecurityGroupEgress {
                cidr_ip: Some(cidr.into()),
                from_port: Some(port.from.into()),
                to_port: Some(port.to.into()),
                description: Some(description.into()),
                ..SecurityGroupEgress::new(SecurityGroupEgressRequired {
                    ip_protocol: port.protocol.as_str().into(),
                    group_id: self.security_group_id(),
                })
            },
        )?;
        Ok(())
    }

    /// Opens a listener port of a public load balancer to the internet
    /// (`0.0.0.0/0`). Crate-private: the only ingress from anywhere that the
    /// library writes.
    pub(crate) fn allow_listener_from_internet(
        &self,
        scope: &mut Scope<'_>,
        port: Port,
    ) -> Result<()> {
        port.validate(&self.path, "listener_port")?;
        self.refuse_imported(
            "security_group",
            "allow_listener_from_internet",
            "open the listener where the group is managed",
        )?;
        scope.add(
            &format!(
                "{}IngressFromInternet{}",
                self.path.short_name_below(scope.path()),
                port.id_suffix()
            ),
            SecurityGroupIngress {
                group_id: Some(self.security_group_id()),
                cidr_ip: Some("0.0.0.0/0".into()),
                from_port: Some(port.from.into()),
                to_port: Some(port.to.into()),
                description: Some(format!("internet to listener {port}").into()),
                ..SecurityGroupIngress::new(port.protocol.as_str())
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use serde_json::json;

    fn two_groups(stack: &mut Stack) -> (Connections, Connections) {
        let mut s = stack.as_scope();
        let db = Connections::new_security_group(
            &mut s,
            "DbSg",
            "vpc-1".into(),
            "db",
            Some(Port::tcp(5432)),
            Egress::Restricted,
        )
        .unwrap();
        let svc = Connections::new_security_group(
            &mut s,
            "SvcSg",
            "vpc-1".into(),
            "svc",
            None,
            Egress::Restricted,
        )
        .unwrap();
        (db, svc)
    }

    #[test]
    fn fails_when_a_group_is_connected_to_itself() {
        let mut stack =
            Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, _) = two_groups(&mut stack);
        let e = db
            .allow_default_port_from(&mut stack, &db)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs/DbSg: source must be another construct's security group, got khs/DbSg's own group (a self-referencing rule lets every member reach every other; constructs here have none)"
        );
    }

    #[test]
    fn allow_from_writes_ingress_and_matching_egress_between_groups() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, svc) = two_groups(&mut stack);
        db.allow_default_port_from(&mut stack, &svc).unwrap();
        let t = stack.synth().unwrap();
        let ing = &t.resources["DbSgIngressFromSvcSgTcp5432"].properties;
        assert_eq!(
            ing["SourceSecurityGroupId"],
            json!({"Fn::GetAtt": ["SvcSg", "GroupId"]})
        );
        assert_eq!(ing["GroupId"], json!({"Fn::GetAtt": ["DbSg", "GroupId"]}));
        assert_eq!(
            (ing["FromPort"].clone(), ing["ToPort"].clone()),
            (json!(5432), json!(5432))
        );
        assert!(ing.get("CidrIp").is_none());
        let eg = &t.resources["SvcSgEgressToDbSgTcp5432"].properties;
        assert_eq!(eg["GroupId"], json!({"Fn::GetAtt": ["SvcSg", "GroupId"]}));
        assert_eq!(eg["IpProtocol"], "tcp");
        assert_eq!(
            eg["DestinationSecurityGroupId"],
            json!({"Fn::GetAtt": ["DbSg", "GroupId"]})
        );
        // Restricted groups carry only the placeholder egress rule.
        let sg = &t.resources["SvcSg"].properties["SecurityGroupEgress"];
        assert_eq!(sg[0]["CidrIp"], "255.255.255.255/32");
        assert_eq!(sg.as_array().unwrap().len(), 1);
    }

    #[test]
    fn fails_when_no_default_port_is_set() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, svc) = two_groups(&mut stack);
        let e = svc
            .allow_default_port_from(&mut stack, &db)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s/SvcSg: default_port is not set"), "{e}");
    }

    #[test]
    fn fails_when_a_rule_port_range_is_reversed() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, svc) = two_groups(&mut stack);
        let e = db
            .allow_from(&mut stack, &svc, Port::tcp_range(10, 1))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s/DbSg: port must have from_port <= to_port"),
            "{e}"
        );
    }

    #[test]
    fn ports_display_and_validate() {
        assert_eq!(Port::tcp(5432).to_string(), "tcp/5432");
        assert_eq!(Port::tcp_range(1000, 2000).to_string(), "tcp/1000-2000");
        Port::tcp_range(0, 65535).validate("s/X", "port").unwrap();
    }

    #[test]
    fn fails_when_from_port_exceeds_to_port() {
        let e = Port::tcp_range(6000, 5000)
            .validate("khs-crm-prod/Database", "port")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "khs-crm-prod/Database: port must have from_port <= to_port, got 6000..5000; swap them"
        );
    }

    #[test]
    fn fails_when_a_port_is_out_of_range() {
        let e = Port::tcp_range(1, 70000)
            .validate("khs-crm-prod/Cache", "port")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("khs-crm-prod/Cache: port must be ports in 0..=65535"),
            "{e}"
        );
    }

    fn imported(stack: &mut Stack) -> Connections {
        let path = stack.as_scope().path().child("SharedDb").unwrap();
        Connections::import(path, "sg-0123456789abcdef0", Some(Port::tcp(5432))).unwrap()
    }

    fn rules(t: &crate::core::template::Template) -> Vec<(String, String, serde_json::Value)> {
        t.resources
            .iter()
            .filter(|(_, r)| {
                r.type_name.starts_with("AWS::EC2::SecurityGroup")
                    && r.type_name != "AWS::EC2::SecurityGroup"
            })
            .map(|(id, r)| {
                (
                    id.to_string(),
                    r.type_name.clone(),
                    r.properties["GroupId"].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn fails_when_allow_from_would_write_on_an_imported_group() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (_, svc) = two_groups(&mut stack);
        let db = imported(&mut stack);
        assert!(db.is_imported() && db.security_group().is_none());
        let e = db
            .allow_default_port_from(&mut stack, &svc)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s/SharedDb: security_group is the imported security group sg-0123456789abcdef0, which this app never modifies, so allow_from cannot add a rule to it; reach it with `allow_to` from your own group (an egress rule there only; the group's owner admits your group), or call `allow_from_on_imported_group` with a reason to add the ingress rule anyway"
        );
        let e = db
            .allow_to_cidr(&mut stack, "Out", "10.0.0.0/8", Port::tcp(443), "out")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s/SharedDb: security_group is the imported security group sg-0123456789abcdef0, which this app never modifies, so allow_to_cidr"), "{e}");
        assert!(rules(&stack.synth().unwrap()).is_empty(), "nothing written");
    }

    #[test]
    fn allow_to_an_imported_group_writes_egress_on_the_own_group_only() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (_, svc) = two_groups(&mut stack);
        let db = imported(&mut stack);
        svc.allow_default_port_to(&mut stack, &db).unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            rules(&t),
            [(
                "SvcSgEgressToSharedDbTcp5432".to_string(),
                "AWS::EC2::SecurityGroupEgress".to_string(),
                json!({"Fn::GetAtt": ["SvcSg", "GroupId"]})
            )]
        );
        let eg = &t.resources["SvcSgEgressToSharedDbTcp5432"].properties;
        assert_eq!(eg["DestinationSecurityGroupId"], "sg-0123456789abcdef0");
        assert_eq!(
            (eg["FromPort"].clone(), eg["ToPort"].clone()),
            (json!(5432), json!(5432))
        );
    }

    #[test]
    fn allow_to_an_owned_group_is_allow_from() {
        let mut a = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, svc) = two_groups(&mut a);
        svc.allow_default_port_to(&mut a, &db).unwrap();
        let mut b = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db2, svc2) = two_groups(&mut b);
        db2.allow_default_port_from(&mut b, &svc2).unwrap();
        assert_eq!(a.synth().unwrap(), b.synth().unwrap());
    }

    #[test]
    fn an_imported_source_gets_no_egress_rule() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (db, _) = two_groups(&mut stack);
        let shared = imported(&mut stack);
        db.allow_from(&mut stack, &shared, Port::tcp(5432)).unwrap();
        let t = stack.synth().unwrap();
        assert_eq!(
            rules(&t),
            [(
                "DbSgIngressFromSharedDbTcp5432".to_string(),
                "AWS::EC2::SecurityGroupIngress".to_string(),
                json!({"Fn::GetAtt": ["DbSg", "GroupId"]})
            )]
        );
        assert_eq!(
            t.resources["DbSgIngressFromSharedDbTcp5432"].properties["SourceSecurityGroupId"],
            "sg-0123456789abcdef0"
        );
    }

    #[test]
    fn fails_when_both_groups_are_imported() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let a = imported(&mut stack);
        let path = stack.as_scope().path().child("Other").unwrap();
        let b = Connections::import(path, "sg-0fedcba9876543210", None).unwrap();
        let e = b
            .allow_to(&mut stack, &a, Port::tcp(5432))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s/Other: security_group is imported like the target s/SharedDb's, so allow_to has no group of this app to write the egress rule on; connect the two groups where they are managed"
        );
    }

    #[test]
    fn the_explicit_opt_in_writes_on_the_imported_group_with_its_reason() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let (own, svc) = two_groups(&mut stack);
        let db = imported(&mut stack);
        db.allow_from_on_imported_group(
            &mut stack,
            &svc,
            Port::tcp(5432),
            "team-owned group managed in the console (ticket OPS-12)",
        )
        .unwrap();
        let t = stack.synth().unwrap();
        let ing = &t.resources["SharedDbIngressFromSvcSgTcp5432"].properties;
        assert_eq!(ing["GroupId"], "sg-0123456789abcdef0");
        assert_eq!(
            ing["Description"],
            "team-owned group managed in the console (ticket OPS-12)"
        );
        assert!(t.resources.contains_key("SvcSgEgressToSharedDbTcp5432"));
        let e = own
            .allow_from_on_imported_group(&mut stack, &svc, Port::tcp(5432), "why")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s/DbSg: security_group is this app's own group; call allow_from (allow_from_on_imported_group is only for imported groups)"
        );
        let e = db
            .allow_from_on_imported_group(&mut stack, &svc, Port::tcp(5432), " ")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s/SharedDb: reason must say why this app may change the imported group: 1..=255 of a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, got \" \""
        );
    }

    #[test]
    fn fails_when_an_imported_group_id_or_port_is_malformed() {
        let path = ConstructPath::root("s").child("Db").unwrap();
        let e = Connections::import(path.clone(), "sg_123", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s/Db: security_group_id must be an id like \"sg-0123456789abcdef0\" (or a value such as an import), got \"sg_123\""
        );
        let e = Connections::import(path, "sg-0abc", Some(Port::tcp_range(5, 1)))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s/Db: port must have from_port <= to_port"),
            "{e}"
        );
    }
}
