//! DNS and certificates: [`HostedZone`], [`Certificate`] and [`DnsRecord`].
//!
//! What they emit:
//! - [`HostedZone::new`]: one `AWS::Route53::HostedZone` (use
//!   [`HostedZoneRef::from_id`] instead for a zone that exists already, the
//!   usual case for a registered domain);
//! - [`Certificate`]: one `AWS::CertificateManager::Certificate` validated
//!   by DNS, ACM writing the validation records into the hosted zone;
//! - [`DnsRecord`]: one `AWS::Route53::RecordSet`, either an alias (to a
//!   CloudFront distribution, for example) or plain values with a TTL. A
//!   record with neither cannot be built: [`RecordTarget`] is one or the
//!   other, and [`RecordValues`] holds at least one value.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::network::dns::{Certificate, CertificateProps, HostedZoneRef};
//!
//! let mut stack = Stack::new("edge", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org").unwrap();
//! let cert = Certificate::new(&mut stack, "Certificate",
//!     CertificateProps::new("app.example.org", zone)).unwrap();
//! assert_eq!(cert.reference().region(), "us-east-1");
//! ```

use crate::cfn::attributes::*;
use crate::cfn::route53::record_set::AliasTargetRequired;
use crate::cfn::route53::record_set::RecordSetRequired;
use std::collections::BTreeSet;

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;

/// The hosted zone id Route 53 uses for every CloudFront alias target.
pub const CLOUDFRONT_HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";
/// The default TTL of value records, in seconds.
pub const DEFAULT_TTL_SECONDS: u32 = 300;

/// Checks a DNS name: labels of 1 to 63 letters, digits and `-` (not at
/// either end), at most 253 characters, optionally a leading `*.` when
/// `wildcard` is allowed. No trailing dot.
fn check_domain(path: &ConstructPath, prop: &str, name: &str, wildcard: bool) -> Result<()> {
    let body = match name.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        _ => name,
    };
    let labels: Vec<&str> = body.split('.').collect();
    let ok = !name.is_empty()
        && name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && name == name.to_ascii_lowercase();
    if !ok {
        let wild = if wildcard {
            ", optionally starting with \"*.\""
        } else {
            ""
        };
        return Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must be a lowercase domain name such as \"app.example.com\" (labels of letters, digits and '-', no trailing dot{wild}), got {name:?}"
            ),
        ));
    }
    Ok(())
}

/// Whether `name` is `zone` or below it.
fn in_zone(name: &str, zone: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// Whether a certificate for `cert_name` covers the host `host`.
pub(crate) fn covers(cert_name: &str, host: &str) -> bool {
    match cert_name.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && first != "*" && rest == parent),
        None => cert_name == host,
    }
}

/// A typed reference to a Route 53 public hosted zone.
#[derive(Debug, Clone, PartialEq)]
pub struct HostedZoneRef {
    id: Value<String>,
    zone_name: String,
}

impl HostedZoneRef {
    /// A zone that exists already, by id (`Z…`, from the Route 53 console
    /// or `aws route53 list-hosted-zones`) and domain (`example.org`).
    pub fn from_id(id: &str, zone_name: &str) -> Result<HostedZoneRef> {
        let ok_id = id.starts_with('Z')
            && (2..=32).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ok_id {
            return Err(Error::invalid_prop(
                format!("hosted zone {zone_name}"),
                "id",
                format!(
                    "must be a Route 53 hosted zone id (Z followed by up to 31 uppercase letters and digits, without \"/hostedzone/\"), got {id:?}"
                ),
            ));
        }
        let path = ConstructPath::root("hosted-zone");
        check_domain(&path, "zone_name", zone_name, false).map_err(|_| {
            Error::invalid_prop(
                format!("hosted zone {id}"),
                "zone_name",
                format!(
                    "must be a lowercase domain name such as \"example.org\", got {zone_name:?}"
                ),
            )
        })?;
        Ok(HostedZoneRef {
            id: id.into(),
            zone_name: zone_name.to_string(),
        })
    }

    /// The zone id.
    pub fn id(&self) -> &Value<String> {
        &self.id
    }

    /// The zone's domain (`example.org`).
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }
}

/// Props of a [`HostedZone`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedZoneProps {
    /// The domain (`example.org`).
    pub zone_name: String,
    /// A comment.
    ///
    /// Default: - none.
    pub comment: Option<String>,
}

/// A new public hosted zone. Delegate the domain to its name servers
/// ([`HostedZone::name_servers`]) at the registrar, or certificates
/// validated in it never issue.
#[derive(Debug)]
pub struct HostedZone {
    zone: Handle<cfn::route53::HostedZone>,
    zone_name: String,
}

impl HostedZone {
    /// Adds a hosted zone under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: HostedZoneProps) -> Result<HostedZone> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        check_domain(me.path(), "zone_name", &props.zone_name, false)?;
        let zone = me.add(
            "Zone",
            cfn::route53::HostedZone {
                name: Some(props.zone_name.as_str().into()),
                hosted_zone_config: props.comment.as_deref().map(|c| {
                    cfn::route53::hosted_zone::HostedZoneConfig {
                        comment: Some(c.into()),
                    }
                }),
                ..cfn::route53::HostedZone::new()
            },
        )?;
        Ok(HostedZone {
            zone,
            zone_name: props.zone_name,
        })
    }

    /// The `AWS::Route53::HostedZone` resource.
    pub fn zone(&self) -> &Handle<cfn::route53::HostedZone> {
        &self.zone
    }

    /// The name servers to delegate to.
    pub fn name_servers(&self) -> crate::core::value::List<String> {
        self.zone.attr_name_servers()
    }

    /// A reference for other constructs.
    pub fn reference(&self) -> HostedZoneRef {
        HostedZoneRef {
            id: self.zone.ref_(),
            zone_name: self.zone_name.clone(),
        }
    }
}

/// Props of a [`Certificate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateProps {
    /// The main name (`app.example.org`; `*.example.org` for a wildcard).
    pub domain_name: String,
    /// More names on the same certificate.
    ///
    /// Default: - none.
    pub subject_alternative_names: Vec<String>,
    /// The zone holding every name; ACM writes the validation records there.
    pub hosted_zone: HostedZoneRef,
}

impl CertificateProps {
    /// Props for a certificate for `domain_name` validated in `hosted_zone`.
    pub fn new(domain_name: impl Into<String>, hosted_zone: HostedZoneRef) -> Self {
        CertificateProps {
            domain_name: domain_name.into(),
            subject_alternative_names: Vec::new(),
            hosted_zone,
        }
    }
}

/// A typed reference to an ACM certificate: its ARN, region and names, so
/// that users (CloudFront) can check region and coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateRef {
    arn: Value<String>,
    region: String,
    names: Vec<String>,
}

impl CertificateRef {
    /// A reference to an existing certificate (made outside this app) by
    /// ARN, region and the names it covers.
    pub fn from_arn(
        arn: impl Into<Value<String>>,
        region: impl Into<String>,
        names: Vec<String>,
    ) -> Self {
        CertificateRef {
            arn: arn.into(),
            region: region.into(),
            names,
        }
    }

    /// The ARN.
    pub fn arn(&self) -> &Value<String> {
        &self.arn
    }

    /// The region of the certificate.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The names it covers.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether it covers `host` (exactly or through a wildcard).
    pub fn covers(&self, host: &str) -> bool {
        self.names.iter().any(|n| covers(n, host))
    }
}

/// An ACM certificate validated by DNS.
#[derive(Debug)]
pub struct Certificate {
    certificate: Handle<cfn::certificatemanager::Certificate>,
    reference: CertificateRef,
}

impl Certificate {
    /// Adds a certificate under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: CertificateProps) -> Result<Certificate> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        let mut names = vec![props.domain_name.clone()];
        names.extend(props.subject_alternative_names.iter().cloned());
        let mut seen = BTreeSet::new();
        for (i, n) in names.iter().enumerate() {
            let prop = if i == 0 {
                "domain_name"
            } else {
                "subject_alternative_names"
            };
            check_domain(&path, prop, n, true)?;
            if !seen.insert(n.as_str()) {
                return Err(Error::invalid_prop(
                    &path,
                    prop,
                    format!("must name each domain once, got {n:?} twice"),
                ));
            }
            if !in_zone(n, props.hosted_zone.zone_name()) {
                return Err(Error::invalid_prop(
                    &path,
                    prop,
                    format!(
                        "must lie in the hosted zone {} for DNS validation, got {n:?}",
                        props.hosted_zone.zone_name()
                    ),
                ));
            }
        }
        let validation: Vec<_> = names
            .iter()
            .map(
                |n| cfn::certificatemanager::certificate::DomainValidationOption {
                    domain_name: Some(n.as_str().into()),
                    hosted_zone_id: Some(props.hosted_zone.id().clone()),
                    ..cfn::certificatemanager::certificate::DomainValidationOption::new()
                },
            )
            .collect();
        let certificate = me.add(
            "Certificate",
            cfn::certificatemanager::Certificate {
                subject_alternative_names: (!props.subject_alternative_names.is_empty())
                    .then(|| props.subject_alternative_names.clone().into()),
                validation_method: Some("DNS".into()),
                domain_validation_options: Some(validation),
                ..cfn::certificatemanager::Certificate::new(props.domain_name.as_str())
            },
        )?;
        let reference = CertificateRef {
            arn: certificate.ref_(),
            region,
            names,
        };
        Ok(Certificate {
            certificate,
            reference,
        })
    }

    /// The `AWS::CertificateManager::Certificate` resource.
    pub fn certificate(&self) -> &Handle<cfn::certificatemanager::Certificate> {
        &self.certificate
    }

    /// The certificate ARN (`Ref`).
    pub fn arn(&self) -> Value<String> {
        self.certificate.ref_()
    }

    /// A reference for [`crate::edge::cdn::CdnProps::certificate`].
    pub fn reference(&self) -> CertificateRef {
        self.reference.clone()
    }
}

/// The record types [`DnsRecord`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name (values only).
    Cname,
    /// Text.
    Txt,
    /// Mail exchanger.
    Mx,
}

impl RecordType {
    fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
            RecordType::Mx => "MX",
        }
    }
}

/// An alias target: an AWS resource Route 53 resolves itself.
#[derive(Debug, Clone, PartialEq)]
pub enum AliasTarget {
    /// A CloudFront distribution.
    CloudFront(Handle<cfn::cloudfront::Distribution>),
    /// An Application Load Balancer (its DNS name and canonical hosted
    /// zone; build it with [`AliasTarget::load_balancer`]). Route 53
    /// evaluates the load balancer's target health.
    LoadBalancer {
        /// The load balancer's DNS name.
        dns_name: Value<String>,
        /// The load balancer's canonical hosted zone id.
        hosted_zone_id: Value<String>,
    },
}

impl AliasTarget {
    /// An alias to a [`LoadBalancer`](crate::compute::LoadBalancer) (of the
    /// app or imported) or an [`ApiService`](crate::compute::ApiService)'s.
    pub fn load_balancer(
        load_balancer: impl Into<crate::compute::import::LoadBalancerEndpoint>,
    ) -> Self {
        let lb = load_balancer.into();
        AliasTarget::LoadBalancer {
            dns_name: lb.dns_name,
            hosted_zone_id: lb.hosted_zone_id,
        }
    }
}

/// At least one record value. Values may be intrinsics (an attribute of
/// another resource, such as an Elastic IP's address).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordValues {
    /// The first value.
    pub first: Value<String>,
    /// More values.
    pub rest: Vec<Value<String>>,
}

impl RecordValues {
    /// One value.
    pub fn one(value: impl Into<Value<String>>) -> Self {
        RecordValues {
            first: value.into(),
            rest: Vec::new(),
        }
    }
}

/// What a record answers with: an alias or values, never neither.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordTarget {
    /// An alias (no TTL: Route 53 uses the target's).
    Alias(AliasTarget),
    /// Values with a TTL.
    Values {
        /// The values.
        values: RecordValues,
        /// Seconds resolvers may cache the answer.
        ttl_seconds: u32,
    },
}

/// Props of a [`DnsRecord`].
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRecordProps {
    /// The zone.
    pub zone: HostedZoneRef,
    /// The full name (`app.example.org`), in the zone.
    pub name: String,
    /// The type.
    pub record_type: RecordType,
    /// The answer.
    pub target: RecordTarget,
}

/// One Route 53 record set.
#[derive(Debug)]
pub struct DnsRecord {
    record: Handle<cfn::route53::RecordSet>,
}

impl DnsRecord {
    /// Adds a record under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: DnsRecordProps) -> Result<DnsRecord> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        check_domain(&path, "name", &props.name, true)?;
        if !in_zone(&props.name, props.zone.zone_name()) {
            return Err(Error::invalid_prop(
                &path,
                "name",
                format!(
                    "must lie in the hosted zone {}, got {:?}",
                    props.zone.zone_name(),
                    props.name
                ),
            ));
        }
        let base = cfn::route53::RecordSet {
            hosted_zone_id: Some(props.zone.id().clone()),
            ..cfn::route53::RecordSet::new(RecordSetRequired {
                type_: props.record_type.as_str().into(),
                name: props.name.as_str().into(),
            })
        };
        let resource = match props.target {
            RecordTarget::Alias(target) => {
                if props.record_type == RecordType::Cname
                    || props.record_type == RecordType::Txt
                    || props.record_type == RecordType::Mx
                {
                    return Err(Error::invalid_prop(
                        &path,
                        "record_type",
                        format!(
                            "must be A or AAAA for an alias, got {}",
                            props.record_type.as_str()
                        ),
                    ));
                }
                let alias = match target {
                    AliasTarget::CloudFront(dist) => cfn::route53::record_set::AliasTarget {
                        evaluate_target_health: Some(false.into()),
                        ..cfn::route53::record_set::AliasTarget::new(AliasTargetRequired {
                            dns_name: dist.attr_domain_name(),
                            hosted_zone_id: CLOUDFRONT_HOSTED_ZONE_ID.into(),
                        })
                    },
                    AliasTarget::LoadBalancer {
                        dns_name,
                        hosted_zone_id,
                    } => cfn::route53::record_set::AliasTarget {
                        evaluate_target_health: Some(true.into()),
                        ..cfn::route53::record_set::AliasTarget::new(AliasTargetRequired {
                            dns_name,
                            hosted_zone_id,
                        })
                    },
                };
                cfn::route53::RecordSet {
                    alias_target: Some(alias),
                    ..base
                }
            }
            RecordTarget::Values {
                values,
                ttl_seconds,
            } => {
                let mut all = vec![values.first];
                all.extend(values.rest);
                if all
                    .iter()
                    .any(|v| matches!(v, Value::Literal(s) if s.is_empty()))
                {
                    return Err(Error::invalid_prop(
                        &path,
                        "target.values",
                        "must not contain empty values, got an empty string",
                    ));
                }
                if props.record_type == RecordType::Cname && all.len() > 1 {
                    return Err(Error::invalid_prop(
                        &path,
                        "target.values",
                        format!("must hold one value for a CNAME, got {}", all.len()),
                    ));
                }
                cfn::route53::RecordSet {
                    resource_records: Some(Value::Literal(all)),
                    ttl: Some(ttl_seconds.to_string().into()),
                    ..base
                }
            }
        };
        let record = me.add("Record", resource)?;
        Ok(DnsRecord { record })
    }

    /// The `AWS::Route53::RecordSet` resource.
    pub fn record(&self) -> &Handle<cfn::route53::RecordSet> {
        &self.record
    }
}

/// The `A` and `AAAA` alias records of `name` pointing at a CloudFront
/// distribution, under `scope/id/A` and `scope/id/Aaaa`.
pub fn cloudfront_alias_records(
    scope: &mut impl AsScope,
    id: &str,
    zone: &HostedZoneRef,
    name: &str,
    distribution: &Handle<cfn::cloudfront::Distribution>,
) -> Result<(DnsRecord, DnsRecord)> {
    let mut s = scope.as_scope();
    let mut me = s.child(id)?;
    let record = |t| DnsRecordProps {
        zone: zone.clone(),
        name: name.to_string(),
        record_type: t,
        target: RecordTarget::Alias(AliasTarget::CloudFront(distribution.clone())),
    };
    let a = DnsRecord::new(&mut me, "A", record(RecordType::A))?;
    let aaaa = DnsRecord::new(&mut me, "Aaaa", record(RecordType::Aaaa))?;
    Ok((a, aaaa))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::logical_id::LogicalId;
    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::json;

    fn stack() -> Stack {
        Stack::new("edge", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn zone() -> HostedZoneRef {
        HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "khscrm.com").unwrap()
    }

    fn dist() -> Handle<cfn::cloudfront::Distribution> {
        Handle::new(
            LogicalId::from_path(&ConstructPath::root("edge").child("Dist").unwrap()).unwrap(),
        )
    }

    fn resources(s: &Stack) -> serde_json::Value {
        serde_json::to_value(&s.template().resources).unwrap()
    }

    #[test]
    fn certificate_is_dns_validated_in_the_zone() {
        let mut s = stack();
        let c = Certificate::new(
            &mut s,
            "Cert",
            CertificateProps {
                subject_alternative_names: vec!["*.khscrm.com".into()],
                ..CertificateProps::new("app.khscrm.com", zone())
            },
        )
        .unwrap();
        assert!(c.reference().covers("app.khscrm.com"));
        assert!(c.reference().covers("api.khscrm.com"));
        assert!(!c.reference().covers("a.b.khscrm.com"));
        let r = resources(&s);
        assert_eq!(
            r["CertCertificate"]["Properties"],
            json!({
                "DomainName": "app.khscrm.com",
                "SubjectAlternativeNames": ["*.khscrm.com"],
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [
                    {"DomainName": "app.khscrm.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"},
                    {"DomainName": "*.khscrm.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}
                ]
            })
        );
    }

    #[test]
    fn alias_records_point_at_cloudfront() {
        let mut s = stack();
        cloudfront_alias_records(&mut s, "Dns", &zone(), "app.khscrm.com", &dist()).unwrap();
        let r = resources(&s);
        assert_eq!(
            r["DnsAaaaRecord"]["Properties"],
            json!({
                "Type": "AAAA",
                "Name": "app.khscrm.com",
                "HostedZoneId": "Z0123456789ABCDEFGHIJ",
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["Dist", "DomainName"]},
                    "HostedZoneId": "Z2FDTNDATAQYW2",
                    "EvaluateTargetHealth": false
                }
            })
        );
        assert_eq!(r["DnsARecord"]["Properties"]["Type"], "A");
    }

    #[test]
    fn value_records_have_a_ttl() {
        let mut s = stack();
        DnsRecord::new(
            &mut s,
            "Txt",
            DnsRecordProps {
                zone: zone(),
                name: "khscrm.com".into(),
                record_type: RecordType::Txt,
                target: RecordTarget::Values {
                    values: RecordValues::one("\"v=spf1 -all\""),
                    ttl_seconds: DEFAULT_TTL_SECONDS,
                },
            },
        )
        .unwrap();
        let r = resources(&s);
        assert_eq!(r["TxtRecord"]["Properties"]["TTL"], "300");
        assert_eq!(
            r["TxtRecord"]["Properties"]["ResourceRecords"],
            json!(["\"v=spf1 -all\""])
        );
    }

    #[test]
    fn hosted_zone_can_be_created() {
        let mut s = stack();
        let z = HostedZone::new(
            &mut s,
            "Zone",
            HostedZoneProps {
                zone_name: "khscrm.com".into(),
                comment: None,
            },
        )
        .unwrap();
        assert_eq!(
            z.reference().id(),
            &Value::from(crate::core::intrinsic::Intrinsic::ref_("edge/ZoneZone"))
        );
    }

    #[test]
    fn fails_when_a_certificate_name_is_outside_the_zone() {
        let mut s = stack();
        let e = Certificate::new(
            &mut s,
            "Cert",
            CertificateProps::new("app.example.com", zone()),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "edge/Cert: domain_name must lie in the hosted zone khscrm.com for DNS validation, got \"app.example.com\""
        );
    }

    #[test]
    fn fails_when_a_certificate_name_is_malformed_or_repeated() {
        let mut s = stack();
        let e = Certificate::new(
            &mut s,
            "A",
            CertificateProps::new("App.khscrm.com.", zone()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("edge/A: domain_name must be a lowercase domain name"),
            "{e}"
        );
        let e = Certificate::new(
            &mut s,
            "B",
            CertificateProps {
                subject_alternative_names: vec!["app.khscrm.com".into()],
                ..CertificateProps::new("app.khscrm.com", zone())
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("edge/B: subject_alternative_names must name each domain once"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_zone_id_is_malformed() {
        let e = HostedZoneRef::from_id("/hostedzone/Z123", "khscrm.com")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("hosted zone khscrm.com: id must be a Route 53 hosted zone id"),
            "{e}"
        );
        let e = HostedZoneRef::from_id("Z123", "KHS")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("hosted zone Z123: zone_name must be a lowercase domain name"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_record_is_outside_the_zone_or_malformed() {
        let mut s = stack();
        let e = cloudfront_alias_records(&mut s, "Dns", &zone(), "app.other.com", &dist())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "edge/Dns/A: name must lie in the hosted zone khscrm.com, got \"app.other.com\""
        );
        let e = DnsRecord::new(
            &mut s,
            "Cname",
            DnsRecordProps {
                zone: zone(),
                name: "www.khscrm.com".into(),
                record_type: RecordType::Cname,
                target: RecordTarget::Alias(AliasTarget::CloudFront(dist())),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("edge/Cname: record_type must be A or AAAA for an alias"),
            "{e}"
        );
        let e = DnsRecord::new(
            &mut s,
            "Two",
            DnsRecordProps {
                zone: zone(),
                name: "www.khscrm.com".into(),
                record_type: RecordType::Cname,
                target: RecordTarget::Values {
                    values: RecordValues {
                        first: "a.khscrm.com".into(),
                        rest: vec!["b.khscrm.com".into()],
                    },
                    ttl_seconds: 60,
                },
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("edge/Two: target.values must hold one value for a CNAME, got 2"),
            "{e}"
        );
    }
}
