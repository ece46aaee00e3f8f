//! Rules on VPCs, security groups, load balancers, CloudFront, WAF and
//! certificates.

use serde_json::Value as Json;

use super::{fails, items, number, text};
use crate::core::rules::{Rule, Severity, Subject, Verdict, lookup};

const SG_INGRESS: &[&str] = &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"];
const DISTRIBUTION: &[&str] = &["AWS::CloudFront::Distribution"];
const LOAD_BALANCER: &[&str] = &["AWS::ElasticLoadBalancingV2::LoadBalancer"];

pub(super) const RULES: &[Rule] = &[
    Rule {
        id: "vpc-flow-logs",
        severity: Severity::Warning,
        summary: "VPCs have flow logs",
        rationale: "Flow logs record accepted and rejected traffic, for incident response and for tuning security groups.",
        fix: "add an AWS::EC2::FlowLog with ResourceId referring to the VPC",
        resource_types: &["AWS::EC2::VPC"],
        checkov: &[],
        aws_solutions: &["AwsSolutions-VPC7"],
        check: vpc_flow_logs,
    },
    Rule {
        id: "vpc-network-acls",
        severity: Severity::Warning,
        summary: "Network ACLs are reviewed (AWS Solutions prefers security groups alone)",
        rationale: "Stateless network ACLs are easy to get wrong and hard to debug; AWS Solutions asks for security groups as the only layer unless NACLs are a requirement.",
        fix: "rely on security groups, or acknowledge the ACLs with the requirement they meet",
        resource_types: &["AWS::EC2::NetworkAcl", "AWS::EC2::NetworkAclEntry"],
        checkov: &[],
        aws_solutions: &["AwsSolutions-VPC3"],
        check: network_acl,
    },
    Rule {
        id: "sg-open-admin-ports",
        severity: Severity::Error,
        summary: "No security group opens SSH (22) or RDP (3389) to the internet",
        rationale: "Administrative ports open to 0.0.0.0/0 are scanned and brute-forced within minutes.",
        fix: "restrict the rule to known addresses or use Session Manager instead of SSH/RDP",
        resource_types: SG_INGRESS,
        checkov: &["CKV_AWS_24", "CKV_AWS_25"],
        aws_solutions: &[],
        check: sg_admin_ports,
    },
    Rule {
        id: "sg-open-http",
        severity: Severity::Warning,
        summary: "No security group opens plain HTTP (80) to the internet",
        rationale: "Plain HTTP from anywhere invites unencrypted traffic; serve HTTPS and redirect at CloudFront or the load balancer.",
        fix: "open 443 only, or restrict port 80 to known sources",
        resource_types: SG_INGRESS,
        checkov: &["CKV_AWS_260"],
        aws_solutions: &[],
        check: sg_http,
    },
    Rule {
        id: "sg-open-ingress",
        severity: Severity::Warning,
        summary: "Security groups admit no traffic from 0.0.0.0/0 or ::/0",
        rationale: "Open ingress exposes whatever listens on the port to the whole internet; a public load balancer behind CloudFront can take CloudFront's prefix list instead.",
        fix: "restrict the source to a prefix list, a security group or known addresses",
        resource_types: SG_INGRESS,
        checkov: &[],
        aws_solutions: &["AwsSolutions-EC23"],
        check: sg_open,
    },
    Rule {
        id: "sg-rule-description",
        severity: Severity::Warning,
        summary: "Security groups and their rules have descriptions",
        rationale: "A description says why a port is open, so a reviewer can tell a needed rule from a forgotten one.",
        fix: "set GroupDescription and a Description on every rule",
        resource_types: &[
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
        ],
        checkov: &["CKV_AWS_23"],
        aws_solutions: &["AwsSolutions-EC27"],
        check: sg_description,
    },
    Rule {
        id: "elb-access-logs",
        severity: Severity::Warning,
        summary: "Load balancers write access logs",
        rationale: "Access logs record every request with client address, latency and status, for incident response.",
        fix: "set the load balancer attributes access_logs.s3.enabled = true and access_logs.s3.bucket",
        resource_types: LOAD_BALANCER,
        checkov: &["CKV_AWS_91"],
        aws_solutions: &["AwsSolutions-ELB2"],
        check: elb_access_logs,
    },
    Rule {
        id: "elb-drop-invalid-headers",
        severity: Severity::Warning,
        summary: "Application load balancers drop invalid HTTP headers",
        rationale: "Dropping malformed headers closes a request-smuggling vector.",
        fix: "set the attribute routing.http.drop_invalid_header_fields.enabled = true",
        resource_types: LOAD_BALANCER,
        checkov: &["CKV_AWS_131"],
        aws_solutions: &[],
        check: elb_drop_headers,
    },
    Rule {
        id: "elb-deletion-protection",
        severity: Severity::Warning,
        summary: "Load balancers have deletion protection",
        rationale: "A deleted load balancer takes its DNS name with it; every alias and client must be updated.",
        fix: "set the attribute deletion_protection.enabled = true",
        resource_types: LOAD_BALANCER,
        checkov: &[],
        aws_solutions: &[],
        check: elb_deletion_protection,
    },
    Rule {
        id: "elb-listener-tls",
        severity: Severity::Error,
        summary: "Listeners use HTTPS/TLS with a TLS 1.2+ policy, or redirect to HTTPS",
        rationale: "Plain HTTP or TLS 1.0/1.1 exposes requests and credentials on the wire.",
        fix: "use Protocol HTTPS with SslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06, or make an HTTP listener redirect to HTTPS",
        resource_types: &["AWS::ElasticLoadBalancingV2::Listener"],
        checkov: &["CKV_AWS_2", "CKV_AWS_103"],
        aws_solutions: &[],
        check: listener_tls,
    },
    Rule {
        id: "cloudfront-viewer-https",
        severity: Severity::Error,
        summary: "CloudFront serves viewers over HTTPS only",
        rationale: "allow-all lets viewers fetch content and send cookies over plain HTTP.",
        fix: "set ViewerProtocolPolicy to redirect-to-https or https-only on every cache behavior",
        resource_types: DISTRIBUTION,
        checkov: &["CKV_AWS_34"],
        aws_solutions: &[],
        check: cf_viewer_https,
    },
    Rule {
        id: "cloudfront-viewer-tls",
        severity: Severity::Warning,
        summary: "CloudFront uses a certificate of your own with TLS 1.2 or later",
        rationale: "The default *.cloudfront.net certificate allows TLS 1.0; a custom certificate with MinimumProtocolVersion TLSv1.2_2021 does not.",
        fix: "set ViewerCertificate with AcmCertificateArn, SslSupportMethod sni-only and MinimumProtocolVersion TLSv1.2_2021",
        resource_types: DISTRIBUTION,
        checkov: &["CKV_AWS_174"],
        aws_solutions: &["AwsSolutions-CFR4"],
        check: cf_viewer_tls,
    },
    Rule {
        id: "cloudfront-origin-tls",
        severity: Severity::Error,
        summary: "CloudFront reaches custom origins over HTTPS with TLS 1.2",
        rationale: "Between CloudFront and the origin, http-only or SSLv3/TLS 1.0 exposes requests on the wire.",
        fix: "set OriginProtocolPolicy https-only and OriginSSLProtocols [TLSv1.2]",
        resource_types: DISTRIBUTION,
        checkov: &["CKV2_AWS_72"],
        aws_solutions: &["AwsSolutions-CFR5"],
        check: cf_origin_tls,
    },
    Rule {
        id: "cloudfront-s3-origin-access",
        severity: Severity::Error,
        summary: "CloudFront reads S3 origins through an origin access control",
        rationale: "With an origin access control (or identity) the bucket stays private and only the distribution can read it.",
        fix: "set OriginAccessControlId on the S3 origin (and a bucket policy for cloudfront.amazonaws.com)",
        resource_types: DISTRIBUTION,
        checkov: &[],
        aws_solutions: &["AwsSolutions-CFR6", "AwsSolutions-CFR7"],
        check: cf_s3_origin,
    },
    Rule {
        id: "cloudfront-access-logs",
        severity: Severity::Warning,
        summary: "CloudFront writes access logs",
        rationale: "Access logs record every viewer request, for incident response and abuse analysis.",
        fix: "set Logging.Bucket",
        resource_types: DISTRIBUTION,
        checkov: &["CKV_AWS_86"],
        aws_solutions: &["AwsSolutions-CFR3"],
        check: cf_logging,
    },
    Rule {
        id: "cloudfront-waf",
        severity: Severity::Warning,
        summary: "CloudFront is protected by a web ACL",
        rationale: "AWS WAF blocks common exploits, bad inputs and floods before they reach the origin.",
        fix: "set WebACLId to a WAFv2 web ACL of scope CLOUDFRONT",
        resource_types: DISTRIBUTION,
        checkov: &["CKV_AWS_68"],
        aws_solutions: &["AwsSolutions-CFR2"],
        check: cf_waf,
    },
    Rule {
        id: "cloudfront-geo-restriction",
        severity: Severity::Warning,
        summary: "CloudFront restricts viewers by country where the audience is known",
        rationale: "Serving only the countries of the audience shrinks the attack surface.",
        fix: "set Restrictions.GeoRestriction (whitelist or blacklist), or acknowledge where countries are restricted elsewhere",
        resource_types: DISTRIBUTION,
        checkov: &[],
        aws_solutions: &["AwsSolutions-CFR1"],
        check: cf_geo,
    },
    Rule {
        id: "waf-known-bad-inputs",
        severity: Severity::Warning,
        summary: "Web ACLs include the known-bad-inputs managed rule group",
        rationale: "AWSManagedRulesKnownBadInputsRuleSet blocks request patterns of known exploits such as Log4Shell (CVE-2021-44228).",
        fix: "add a rule with ManagedRuleGroupStatement AWS/AWSManagedRulesKnownBadInputsRuleSet",
        resource_types: &["AWS::WAFv2::WebACL"],
        checkov: &["CKV_AWS_192"],
        aws_solutions: &[],
        check: waf_bad_inputs,
    },
    Rule {
        id: "acm-no-wildcard",
        severity: Severity::Warning,
        summary: "Certificates name their domains, not a wildcard",
        rationale: "A wildcard certificate's key, once leaked, serves every subdomain.",
        fix: "list the domain names in DomainName and SubjectAlternativeNames",
        resource_types: &["AWS::CertificateManager::Certificate"],
        checkov: &["CKV2_AWS_71"],
        aws_solutions: &[],
        check: acm_wildcard,
    },
];

fn vpc_flow_logs(s: &Subject<'_>) -> Verdict {
    let logged = s.resources_of_type("AWS::EC2::FlowLog").any(|(_, f)| {
        ["ResourceId", "ResourceIds"]
            .iter()
            .filter_map(|k| f.properties.member(k))
            .any(|v| s.is_referenced_in(v))
    });
    fails(!logged, || {
        "no AWS::EC2::FlowLog of the template logs this VPC".to_string()
    })
}

fn network_acl(s: &Subject<'_>) -> Verdict {
    Some(format!("{} is a network ACL resource", s.type_name()))
}

/// The ingress rules of a security group (inline) or the rule itself.
fn ingress_rules<'a>(s: &Subject<'a>) -> Vec<&'a Json> {
    if s.type_name() == "AWS::EC2::SecurityGroup" {
        items(s.prop("SecurityGroupIngress"))
    } else {
        vec![&s.resource.properties]
    }
}

fn open_to_world(rule: &Json) -> bool {
    rule.get("CidrIp").and_then(Json::as_str) == Some("0.0.0.0/0")
        || rule.get("CidrIpv6").and_then(Json::as_str) == Some("::/0")
}

fn covers_port(rule: &Json, port: f64) -> bool {
    let proto = rule
        .get("IpProtocol")
        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
        .unwrap_or_default();
    if proto == "-1" || proto == "all" {
        return true;
    }
    if proto != "tcp" && proto != "6" {
        return false;
    }
    let from = rule.get("FromPort").and_then(number).unwrap_or(0.0);
    let to = rule.get("ToPort").and_then(number).unwrap_or(65535.0);
    (from == -1.0 && to == -1.0) || (from <= port && port <= to)
}

fn sg_admin_ports(s: &Subject<'_>) -> Verdict {
    let ports: Vec<String> = ingress_rules(s)
        .into_iter()
        .filter(|r| open_to_world(r))
        .flat_map(|r| {
            [22.0, 3389.0]
                .into_iter()
                .filter(move |p| covers_port(r, *p))
        })
        .map(|p| p.to_string())
        .collect();
    fails(!ports.is_empty(), || {
        format!("port {} is open to the internet", ports.join(" and "))
    })
}

fn sg_http(s: &Subject<'_>) -> Verdict {
    let open = ingress_rules(s)
        .into_iter()
        .any(|r| open_to_world(r) && covers_port(r, 80.0));
    fails(open, || "port 80 is open to the internet".to_string())
}

fn sg_open(s: &Subject<'_>) -> Verdict {
    let open = ingress_rules(s)
        .into_iter()
        .filter(|r| open_to_world(r))
        .count();
    fails(open > 0, || {
        format!("{open} ingress rule(s) admit 0.0.0.0/0 or ::/0")
    })
}

fn described(v: &Json, key: &str) -> bool {
    v.get(key)
        .and_then(Json::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

/// Whether property `key` of the subject is a non-blank string.
fn described_prop(s: &Subject<'_>, key: &str) -> bool {
    s.prop(key)
        .and_then(Json::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

fn sg_description(s: &Subject<'_>) -> Verdict {
    if s.type_name() != "AWS::EC2::SecurityGroup" {
        return fails(!described_prop(s, "Description"), || {
            "the rule has no Description".to_string()
        });
    }
    if !described_prop(s, "GroupDescription") {
        return Some("GroupDescription is empty".to_string());
    }
    let bare = ["SecurityGroupIngress", "SecurityGroupEgress"]
        .iter()
        .flat_map(|k| items(s.prop(k)))
        .filter(|r| !described(r, "Description"))
        .count();
    fails(bare > 0, || {
        format!("{bare} inline rule(s) have no Description")
    })
}

fn lb_attribute<'a>(s: &Subject<'a>, key: &str) -> Option<&'a Json> {
    items(s.prop("LoadBalancerAttributes"))
        .into_iter()
        .find(|a| a.get("Key").and_then(Json::as_str) == Some(key))
        .and_then(|a| a.get("Value"))
}

fn lb_flag(s: &Subject<'_>, key: &str) -> bool {
    lb_attribute(s, key).is_some_and(crate::core::rules::is_true)
}

fn elb_access_logs(s: &Subject<'_>) -> Verdict {
    fails(!lb_flag(s, "access_logs.s3.enabled"), || {
        "the attribute access_logs.s3.enabled is not true".to_string()
    })
}

fn elb_drop_headers(s: &Subject<'_>) -> Verdict {
    let kind = s
        .prop("Type")
        .and_then(Json::as_str)
        .unwrap_or("application");
    if kind != "application" {
        return None;
    }
    fails(
        !lb_flag(s, "routing.http.drop_invalid_header_fields.enabled"),
        || "the attribute routing.http.drop_invalid_header_fields.enabled is not true".to_string(),
    )
}

fn elb_deletion_protection(s: &Subject<'_>) -> Verdict {
    fails(!lb_flag(s, "deletion_protection.enabled"), || {
        "the attribute deletion_protection.enabled is not true".to_string()
    })
}

fn listener_tls(s: &Subject<'_>) -> Verdict {
    let protocol = s
        .prop("Protocol")
        .and_then(Json::as_str)
        .unwrap_or_default();
    match protocol {
        "HTTPS" | "TLS" => {
            let policy = s.prop("SslPolicy").and_then(Json::as_str).unwrap_or("");
            let modern = ["TLS13", "TLS-1-2", "FS-1-2"]
                .iter()
                .any(|p| policy.contains(p));
            fails(!modern, || {
                if policy.is_empty() {
                    "SslPolicy is not set (the default policy allows TLS 1.0)".to_string()
                } else {
                    format!("SslPolicy {policy} allows TLS older than 1.2")
                }
            })
        }
        "HTTP" => {
            let actions = items(s.prop("DefaultActions"));
            let redirects = !actions.is_empty()
                && actions.iter().all(|a| {
                    a.get("Type").and_then(Json::as_str) == Some("redirect")
                        && lookup(a, "RedirectConfig.Protocol").and_then(Json::as_str)
                            == Some("HTTPS")
                });
            fails(!redirects, || {
                "the HTTP listener does not redirect to HTTPS".to_string()
            })
        }
        _ => None,
    }
}

fn behaviors<'a>(s: &Subject<'a>) -> Vec<&'a Json> {
    let mut out: Vec<&Json> = s
        .prop("DistributionConfig.DefaultCacheBehavior")
        .into_iter()
        .collect();
    out.extend(items(s.prop("DistributionConfig.CacheBehaviors")));
    out
}

fn cf_viewer_https(s: &Subject<'_>) -> Verdict {
    let open = behaviors(s)
        .into_iter()
        .filter(|b| b.get("ViewerProtocolPolicy").and_then(Json::as_str) == Some("allow-all"))
        .count();
    fails(open > 0, || {
        format!("{open} cache behavior(s) have ViewerProtocolPolicy allow-all")
    })
}

fn cf_viewer_tls(s: &Subject<'_>) -> Verdict {
    let cert = s.prop("DistributionConfig.ViewerCertificate");
    let default_cert = cert.is_none_or(|c| {
        c.get("CloudFrontDefaultCertificate")
            .is_some_and(crate::core::rules::is_true)
    });
    if default_cert {
        return Some("the distribution uses the default CloudFront certificate".to_string());
    }
    let version = cert
        .and_then(|c| c.get("MinimumProtocolVersion"))
        .and_then(Json::as_str)
        .unwrap_or("TLSv1");
    fails(!version.starts_with("TLSv1.2"), || {
        format!("MinimumProtocolVersion {version} is older than TLSv1.2")
    })
}

fn origins<'a>(s: &Subject<'a>) -> Vec<&'a Json> {
    items(s.prop("DistributionConfig.Origins"))
}

fn cf_origin_tls(s: &Subject<'_>) -> Verdict {
    let bad: Vec<String> = origins(s)
        .into_iter()
        .filter_map(|o| {
            let c = o.get("CustomOriginConfig")?;
            let policy = c.get("OriginProtocolPolicy").and_then(Json::as_str);
            let old = items(c.get("OriginSSLProtocols"))
                .iter()
                .any(|p| matches!(p.as_str(), Some("SSLv3" | "TLSv1" | "TLSv1.1")));
            let id = o
                .get("Id")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string();
            (policy != Some("https-only") || old).then_some(id)
        })
        .collect();
    fails(!bad.is_empty(), || {
        format!(
            "origin(s) {} are not reached over https-only with TLS 1.2",
            bad.join(", ")
        )
    })
}

fn cf_s3_origin(s: &Subject<'_>) -> Verdict {
    let bad: Vec<String> = origins(s)
        .into_iter()
        .filter(|o| {
            o.get("S3OriginConfig").is_some()
                || o.get("DomainName")
                    .and_then(text)
                    .is_some_and(|d| d.contains(".s3.") && !d.contains("s3-website"))
        })
        .filter(|o| {
            let oac = o.get("OriginAccessControlId").is_some_and(|v| !v.is_null());
            let oai = lookup(o, "S3OriginConfig.OriginAccessIdentity")
                .and_then(text)
                .is_some_and(|t| !t.is_empty());
            !(oac || oai)
        })
        .map(|o| {
            o.get("Id")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    fails(!bad.is_empty(), || {
        format!(
            "S3 origin(s) {} have no origin access control",
            bad.join(", ")
        )
    })
}

fn cf_logging(s: &Subject<'_>) -> Verdict {
    fails(
        s.prop("DistributionConfig.Logging.Bucket").is_none(),
        || "DistributionConfig.Logging is not set".to_string(),
    )
}

fn cf_waf(s: &Subject<'_>) -> Verdict {
    fails(s.prop("DistributionConfig.WebACLId").is_none(), || {
        "DistributionConfig.WebACLId is not set".to_string()
    })
}

fn cf_geo(s: &Subject<'_>) -> Verdict {
    let kind = s
        .prop("DistributionConfig.Restrictions.GeoRestriction.RestrictionType")
        .and_then(Json::as_str)
        .unwrap_or("none");
    fails(kind == "none", || {
        "the distribution has no geo restriction".to_string()
    })
}

fn waf_bad_inputs(s: &Subject<'_>) -> Verdict {
    let has = items(s.prop("Rules")).iter().any(|r| {
        lookup(r, "Statement.ManagedRuleGroupStatement.Name").and_then(Json::as_str)
            == Some("AWSManagedRulesKnownBadInputsRuleSet")
    });
    fails(!has, || {
        "no rule uses AWSManagedRulesKnownBadInputsRuleSet".to_string()
    })
}

fn acm_wildcard(s: &Subject<'_>) -> Verdict {
    let mut names: Vec<&Json> = s.prop("DomainName").into_iter().collect();
    names.extend(items(s.prop("SubjectAlternativeNames")));
    let wild: Vec<&str> = names
        .into_iter()
        .filter_map(text)
        .filter(|n| n.starts_with('*'))
        .collect();
    fails(!wild.is_empty(), || {
        format!("{} is a wildcard name", wild.join(", "))
    })
}
