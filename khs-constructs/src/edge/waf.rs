//! [`Waf`]: a WAFv2 web ACL with typed rules.
//!
//! What a `Waf` emits:
//! - one `AWS::WAFv2::WebACL` (scope `CLOUDFRONT` by default, default action
//!   allow) with one rule per [`WafRule`], each with CloudWatch metrics and
//!   sampled requests on, metric name = rule name;
//! - one `AWS::WAFv2::IPSet` per IP version used by a
//!   [`WafRuleKind::IpDeny`] rule (an IPv4 set, possibly empty, when the rule
//!   lists no address).
//!
//! The defaults ([`WafProps::default`], [`WafRule::recommended`]): an IP
//! deny list, a rate limit of 2000 requests per 5 minutes per IP, and the
//! AWS managed rule groups for common attacks (XSS, path traversal, LFI),
//! known bad inputs and SQL injection. No geo rule unless one is added
//! ([`WafRuleKind::GeoAllow`]).
//!
//! A web ACL with scope `CLOUDFRONT` must be created in us-east-1: a stack
//! in another region is an error. Use [`crate::edge::placement::Edge`] to place it in a
//! us-east-1 stack for a stage that runs elsewhere.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::edge::waf::{Waf, WafProps};
//!
//! let mut stack = Stack::new("edge", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let waf = Waf::new(&mut stack, "Waf", WafProps::default()).unwrap();
//! assert_eq!(waf.web_acl().logical_id().as_str(), "WafWebAcl");
//! ```

use crate::cfn::attributes::*;
use crate::cfn::wafv2::web_acl::ManagedRuleGroupStatementRequired;
use crate::cfn::wafv2::web_acl::VisibilityConfigRequired;
use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::cfn;
use crate::cfn::wafv2::web_acl as w;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;

/// Country codes of [`WafRuleKind::GeoAllow`] (ISO 3166 alpha-2, as the
/// generated layer spells them: `CountryCodes::Us`).
pub use crate::cfn::wafv2::web_acl::CountryCodes;

/// The region where `CLOUDFRONT` web ACLs (and CloudFront certificates) live.
pub const CLOUDFRONT_REGION: &str = "us-east-1";
/// The smallest rate limit WAF accepts (requests per evaluation window).
pub const MIN_RATE_LIMIT: u32 = 10;
/// The largest rate limit WAF accepts.
pub const MAX_RATE_LIMIT: u32 = 2_000_000_000;
/// The evaluation windows WAF offers for rate-based rules, in seconds.
pub const RATE_WINDOWS_SECONDS: [u32; 4] = [60, 120, 300, 600];
/// The default rate limit: 2000 requests per 5 minutes per IP.
pub const DEFAULT_RATE_LIMIT: u32 = 2000;
/// The default rate-limit window, in seconds.
pub const DEFAULT_RATE_WINDOW_SECONDS: u32 = 300;

/// Where the web ACL is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WafScope {
    /// In front of CloudFront distributions (must be in us-east-1).
    CloudFront,
    /// In front of regional resources (ALB, API Gateway, …).
    Regional,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum WafRuleKind {
    /// Block an IP that sends more than `limit` requests in
    /// `window_seconds`.
    RateLimit {
        /// Requests per window (10 to 2,000,000,000).
        limit: u32,
        /// The window: 60, 120, 300 or 600 seconds.
        window_seconds: u32,
    },
    /// Block every request that does not come from one of `countries`.
    GeoAllow {
        /// The allowed countries (at least one).
        countries: Vec<CountryCodes>,
    },
    /// Block requests from these CIDRs (`203.0.113.0/24`, `2001:db8::/32`).
    IpDeny {
        /// The CIDRs; may be empty (the set exists and can be filled later).
        addresses: Vec<String>,
    },
    /// A managed rule group, its own actions applied.
    Managed {
        /// The vendor (`AWS`).
        vendor: String,
        /// The group name (`AWSManagedRulesCommonRuleSet`).
        name: String,
        /// Rules of the group to count instead of applying.
        ///
        /// Default: - none.
        count_only: Vec<String>,
    },
}

/// One rule of the web ACL.
#[derive(Debug, Clone, PartialEq)]
pub struct WafRule {
    /// The rule name, also its metric name (letters, digits, `_`, `-`;
    /// 1 to 128 characters; unique in the ACL).
    pub name: String,
    /// Evaluation order, lowest first (unique in the ACL).
    pub priority: u32,
    /// What the rule does.
    pub kind: WafRuleKind,
}

impl WafRule {
    /// A rule.
    pub fn new(name: impl Into<String>, priority: u32, kind: WafRuleKind) -> Self {
        WafRule {
            name: name.into(),
            priority,
            kind,
        }
    }

    /// An AWS managed rule group (vendor `AWS`) with every rule applied.
    pub fn aws_managed(name: &str, priority: u32) -> Self {
        WafRule::new(
            name,
            priority,
            WafRuleKind::Managed {
                vendor: "AWS".to_string(),
                name: name.to_string(),
                count_only: Vec::new(),
            },
        )
    }

    /// The recommended rules, priorities 0 to 4: `IpDenyList` (`deny`),
    /// `RateLimit` (2000 per 300 s per IP), `AWSManagedRulesCommonRuleSet`
    /// (XSS, LFI, path traversal, …), `AWSManagedRulesKnownBadInputsRuleSet`,
    /// `AWSManagedRulesSQLiRuleSet`.
    pub fn recommended(deny: Vec<String>) -> Vec<WafRule> {
        vec![
            WafRule::new("IpDenyList", 0, WafRuleKind::IpDeny { addresses: deny }),
            WafRule::new(
                "RateLimit",
                1,
                WafRuleKind::RateLimit {
                    limit: DEFAULT_RATE_LIMIT,
                    window_seconds: DEFAULT_RATE_WINDOW_SECONDS,
                },
            ),
            WafRule::aws_managed("AWSManagedRulesCommonRuleSet", 2),
            WafRule::aws_managed("AWSManagedRulesKnownBadInputsRuleSet", 3),
            WafRule::aws_managed("AWSManagedRulesSQLiRuleSet", 4),
        ]
    }
}

/// Props of a [`Waf`].
#[derive(Debug, Clone, PartialEq)]
pub struct WafProps {
    /// Where the ACL is used.
    ///
    /// Default: [`WafScope::CloudFront`].
    pub scope: WafScope,
    /// The ACL's metric name (`[A-Za-z0-9_#:./-]`, 1 to 128 characters).
    ///
    /// Default: - the construct id.
    pub metric_name: Option<String>,
    /// The rules.
    ///
    /// Default: [`WafRule::recommended`] with an empty deny list.
    pub rules: Vec<WafRule>,
    /// Block requests no rule matched (instead of allowing them).
    ///
    /// Default: `false` (allow).
    pub block_by_default: bool,
}

impl Default for WafProps {
    fn default() -> Self {
        WafProps {
            scope: WafScope::CloudFront,
            metric_name: None,
            rules: WafRule::recommended(Vec::new()),
            block_by_default: false,
        }
    }
}

/// A typed reference to a web ACL, for [`crate::edge::cdn::CdnProps::web_acl`].
#[derive(Debug, Clone, PartialEq)]
pub struct WebAclRef {
    arn: Value<String>,
    scope: WafScope,
}

impl WebAclRef {
    /// A reference to an existing web ACL by ARN (from another stack or
    /// made outside CloudFormation).
    pub fn from_arn(arn: impl Into<Value<String>>, scope: WafScope) -> Self {
        WebAclRef {
            arn: arn.into(),
            scope,
        }
    }

    /// The ARN.
    pub fn arn(&self) -> &Value<String> {
        &self.arn
    }

    /// The scope.
    pub fn scope(&self) -> WafScope {
        self.scope
    }
}

/// A WAFv2 web ACL. See the module documentation for what it emits.
#[derive(Debug)]
pub struct Waf {
    web_acl: Handle<cfn::wafv2::WebAcl>,
    ip_sets: Vec<Handle<cfn::wafv2::IpSet>>,
    scope: WafScope,
}

fn is_entity_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_metric_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_#:.-/".contains(c))
        && s != "All"
        && s != "Default_Action"
}

fn parse_cidrs(path: &ConstructPath, rule: &str, addresses: &[String]) -> Result<Vec<IpNet>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for a in addresses {
        let net: IpNet = a.parse().map_err(|_| {
            Error::invalid_prop(
                path,
                format!("rules[{rule}].addresses"),
                format!("must be CIDRs such as \"203.0.113.0/24\" or \"2001:db8::/32\", got {a:?}"),
            )
        })?;
        if net.trunc() != net {
            return Err(Error::invalid_prop(
                path,
                format!("rules[{rule}].addresses"),
                format!(
                    "must be network addresses (no host bits set), got {a:?}; did you mean \"{}\"?",
                    net.trunc()
                ),
            ));
        }
        if !seen.insert(net) {
            return Err(Error::invalid_prop(
                path,
                format!("rules[{rule}].addresses"),
                format!("must list each CIDR once, got {a:?} twice"),
            ));
        }
        out.push(net);
    }
    Ok(out)
}

/// Checks `props` for a web ACL at `path` in `region`.
fn validate(path: &ConstructPath, props: &WafProps, region: &str) -> Result<()> {
    if props.scope == WafScope::CloudFront && region != CLOUDFRONT_REGION {
        return Err(Error::invalid_prop(
            path,
            "scope",
            format!(
                "CLOUDFRONT needs the stack in {CLOUDFRONT_REGION}, got a stack in {region}; create the Waf through khs_constructs::edge::placement::Edge, which places it in a {CLOUDFRONT_REGION} stack"
            ),
        ));
    }
    if let Some(m) = &props.metric_name {
        if !is_metric_name(m) {
            return Err(Error::invalid_prop(
                path,
                "metric_name",
                format!(
                    "must be 1 to 128 of A-Z a-z 0-9 _ # : . - / (and not \"All\" or \"Default_Action\"), got {m:?}"
                ),
            ));
        }
    }
    let mut names = BTreeSet::new();
    let mut priorities = std::collections::BTreeMap::new();
    for rule in &props.rules {
        if !is_entity_name(&rule.name) {
            return Err(Error::invalid_prop(
                path,
                "rules.name",
                format!(
                    "must be 1 to 128 letters, digits, '_' or '-', got {:?}",
                    rule.name
                ),
            ));
        }
        if !names.insert(rule.name.as_str()) {
            return Err(Error::invalid_prop(
                path,
                "rules.name",
                format!("must be unique in the web acl, got {:?} twice", rule.name),
            ));
        }
        if let Some(other) = priorities.insert(rule.priority, rule.name.as_str()) {
            return Err(Error::invalid_prop(
                path,
                format!("rules[{}].priority", rule.name),
                format!(
                    "must be unique in the web acl, got {} which rule {other} has already",
                    rule.priority
                ),
            ));
        }
        let prop = |p: &str| format!("rules[{}].{p}", rule.name);
        match &rule.kind {
            WafRuleKind::RateLimit {
                limit,
                window_seconds,
            } => {
                if !(MIN_RATE_LIMIT..=MAX_RATE_LIMIT).contains(limit) {
                    return Err(Error::invalid_prop(
                        path,
                        prop("limit"),
                        format!(
                            "must be {MIN_RATE_LIMIT} to {MAX_RATE_LIMIT} requests per window (the AWS WAF limits), got {limit}"
                        ),
                    ));
                }
                if !RATE_WINDOWS_SECONDS.contains(window_seconds) {
                    return Err(Error::invalid_prop(
                        path,
                        prop("window_seconds"),
                        format!("must be 60, 120, 300 or 600, got {window_seconds}"),
                    ));
                }
            }
            WafRuleKind::GeoAllow { countries } => {
                if countries.is_empty() {
                    return Err(Error::invalid_prop(
                        path,
                        prop("countries"),
                        "must list at least one country (an empty allow list blocks everyone), got none",
                    ));
                }
                let unique: BTreeSet<_> = countries.iter().collect();
                if unique.len() != countries.len() {
                    return Err(Error::invalid_prop(
                        path,
                        prop("countries"),
                        format!("must list each country once, got {countries:?}"),
                    ));
                }
            }
            WafRuleKind::IpDeny { addresses } => {
                parse_cidrs(path, &rule.name, addresses)?;
            }
            WafRuleKind::Managed { vendor, name, .. } => {
                if vendor.is_empty() || name.is_empty() {
                    return Err(Error::invalid_prop(
                        path,
                        prop("name"),
                        format!(
                            "needs a vendor and a group name, got vendor {vendor:?} and name {name:?}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn visibility(metric: &str) -> w::VisibilityConfig {
    w::VisibilityConfig::new(VisibilityConfigRequired {
        cloud_watch_metrics_enabled: true.into(),
        metric_name: metric.into(),
        sampled_requests_enabled: true.into(),
    })
}

fn block() -> w::RuleAction {
    w::RuleAction {
        block: Some(w::BlockAction::new()),
        ..w::RuleAction::new()
    }
}

/// A rule's statement and action (or override action, for managed groups).
type RuleParts = (
    w::Statement,
    Option<w::RuleAction>,
    Option<w::OverrideAction>,
);

/// The statement and action of one rule; IP sets it needs are added under
/// `me` and pushed to `ip_sets`.
fn rule_parts(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    rule: &WafRule,
    set_scope: cfn::wafv2::ip_set::Scope,
    ip_sets: &mut Vec<Handle<cfn::wafv2::IpSet>>,
) -> Result<RuleParts> {
    Ok(match &rule.kind {
        WafRuleKind::RateLimit {
            limit,
            window_seconds,
        } => (
            w::Statement {
                rate_based_statement: Some(Box::new(w::RateBasedStatement {
                    evaluation_window_sec: Some(i64::from(*window_seconds).into()),
                    ..w::RateBasedStatement::new(w::AggregateKeyType::Ip, i64::from(*limit))
                })),
                ..w::Statement::new()
            },
            Some(block()),
            None,
        ),
        WafRuleKind::GeoAllow { countries } => {
            let geo = w::Statement {
                geo_match_statement: Some(w::GeoMatchStatement {
                    country_codes: Some(Value::Literal(
                        countries.iter().map(|c| Value::Literal(*c)).collect(),
                    )),
                    ..w::GeoMatchStatement::new()
                }),
                ..w::Statement::new()
            };
            (
                w::Statement {
                    not_statement: Some(Box::new(w::NotStatement::new(geo))),
                    ..w::Statement::new()
                },
                Some(block()),
                None,
            )
        }
        WafRuleKind::IpDeny { addresses } => (
            ip_deny(me, path, &rule.name, addresses, set_scope, ip_sets)?,
            Some(block()),
            None,
        ),
        WafRuleKind::Managed {
            vendor,
            name,
            count_only,
        } => {
            let overrides: Vec<w::RuleActionOverride> = count_only
                .iter()
                .map(|r| {
                    w::RuleActionOverride::new(
                        w::RuleAction {
                            count: Some(w::CountAction::new()),
                            ..w::RuleAction::new()
                        },
                        r.as_str(),
                    )
                })
                .collect();
            (
                w::Statement {
                    managed_rule_group_statement: Some(Box::new(w::ManagedRuleGroupStatement {
                        rule_action_overrides: (!overrides.is_empty()).then_some(overrides),
                        ..w::ManagedRuleGroupStatement::new(ManagedRuleGroupStatementRequired {
                            name: name.as_str().into(),
                            vendor_name: vendor.as_str().into(),
                        })
                    })),
                    ..w::Statement::new()
                },
                None,
                Some(w::OverrideAction {
                    none: Some(serde_json::json!({})),
                    ..w::OverrideAction::new()
                }),
            )
        }
    })
}

/// An IP-deny rule's statement: one IP set per address family (IPv4, and
/// IPv6 when given), referenced alone or in an `OrStatement`.
fn ip_deny(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    rule: &str,
    addresses: &[String],
    set_scope: cfn::wafv2::ip_set::Scope,
    ip_sets: &mut Vec<Handle<cfn::wafv2::IpSet>>,
) -> Result<w::Statement> {
    let nets = parse_cidrs(path, rule, addresses)?;
    let v4: Vec<String> = nets
        .iter()
        .filter(|n| matches!(n, IpNet::V4(_)))
        .map(|n| n.to_string())
        .collect();
    let v6: Vec<String> = nets
        .iter()
        .filter(|n| matches!(n, IpNet::V6(_)))
        .map(|n| n.to_string())
        .collect();
    let mut refs = Vec::new();
    let versions = [
        ("V4", cfn::wafv2::ip_set::IpAddressVersion::Ipv4, v4),
        ("V6", cfn::wafv2::ip_set::IpAddressVersion::Ipv6, v6),
    ];
    for (i, (suffix, version, list)) in versions.into_iter().enumerate() {
        if list.is_empty() && !(i == 0 && nets.is_empty()) {
            continue;
        }
        let set = me.add(
            &format!("{rule}Ip{suffix}"),
            cfn::wafv2::IpSet {
                description: Some(format!("Addresses blocked by rule {rule}").into()),
                ..cfn::wafv2::IpSet::new(list, version, set_scope)
            },
        )?;
        refs.push(w::Statement {
            ip_set_reference_statement: Some(w::IpSetReferenceStatement::new(set.attr_arn())),
            ..w::Statement::new()
        });
        ip_sets.push(set);
    }
    Ok(if refs.len() == 1 {
        refs.remove(0)
    } else {
        w::Statement {
            or_statement: Some(Box::new(w::OrStatement::new(refs))),
            ..w::Statement::new()
        }
    })
}

impl Waf {
    /// Adds a web ACL under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: WafProps) -> Result<Waf> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate(&path, &props, &region)?;
        let (acl_scope, set_scope) = match props.scope {
            WafScope::CloudFront => (w::Scope::Cloudfront, cfn::wafv2::ip_set::Scope::Cloudfront),
            WafScope::Regional => (w::Scope::Regional, cfn::wafv2::ip_set::Scope::Regional),
        };

        let mut ip_sets = Vec::new();
        let mut rules = Vec::new();
        let mut sorted: Vec<&WafRule> = props.rules.iter().collect();
        sorted.sort_by_key(|r| r.priority);
        for rule in sorted {
            let (statement, action, override_action) =
                rule_parts(&mut me, &path, rule, set_scope, &mut ip_sets)?;
            rules.push(w::Rule {
                action,
                override_action,
                ..w::Rule::new(
                    rule.name.as_str(),
                    i64::from(rule.priority),
                    statement,
                    visibility(&rule.name),
                )
            });
        }

        let default_action = if props.block_by_default {
            w::DefaultAction {
                block: Some(w::BlockAction::new()),
                ..w::DefaultAction::new()
            }
        } else {
            w::DefaultAction {
                allow: Some(w::AllowAction::new()),
                ..w::DefaultAction::new()
            }
        };
        let metric = props.metric_name.clone().unwrap_or_else(|| id.to_string());
        if !is_metric_name(&metric) {
            return Err(Error::invalid_prop(
                &path,
                "metric_name",
                format!(
                    "defaults to the construct id, which is not a valid metric name ({metric:?}); set metric_name"
                ),
            ));
        }
        let web_acl = me.add(
            "WebAcl",
            cfn::wafv2::WebAcl {
                rules: Some(rules),
                ..cfn::wafv2::WebAcl::new(default_action, acl_scope, visibility(&metric))
            },
        )?;
        Ok(Waf {
            web_acl,
            ip_sets,
            scope: props.scope,
        })
    }

    /// The `AWS::WAFv2::WebACL` resource.
    pub fn web_acl(&self) -> &Handle<cfn::wafv2::WebAcl> {
        &self.web_acl
    }

    /// The IP sets of the deny rules.
    pub fn ip_sets(&self) -> &[Handle<cfn::wafv2::IpSet>] {
        &self.ip_sets
    }

    /// The web ACL's ARN (what CloudFront's `WebACLId` takes).
    pub fn arn(&self) -> Value<String> {
        self.web_acl.attr_arn()
    }

    /// A reference for [`crate::edge::cdn::CdnProps::web_acl`].
    pub fn reference(&self) -> WebAclRef {
        WebAclRef {
            arn: self.arn(),
            scope: self.scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::json;

    fn stack(region: &str) -> Stack {
        Stack::new("edge", StackProps::new(Environment::region(region))).unwrap()
    }

    fn err(props: WafProps) -> String {
        let mut s = stack("us-east-1");
        Waf::new(&mut s, "Waf", props).unwrap_err().to_string()
    }

    fn with_rules(rules: Vec<WafRule>) -> WafProps {
        WafProps {
            rules,
            ..WafProps::default()
        }
    }

    #[test]
    fn defaults_are_the_recommended_rules_without_geo() {
        let mut s = stack("us-east-1");
        let waf = Waf::new(&mut s, "Waf", WafProps::default()).unwrap();
        assert_eq!(waf.ip_sets().len(), 1);
        let r = serde_json::to_value(s.synth().unwrap().resources).unwrap();
        let acl = &r["WafWebAcl"]["Properties"];
        assert_eq!(acl["Scope"], "CLOUDFRONT");
        assert_eq!(acl["DefaultAction"], json!({"Allow": {}}));
        let rules = acl["Rules"].as_array().unwrap();
        let names: Vec<&str> = rules.iter().map(|r| r["Name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "IpDenyList",
                "RateLimit",
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesSQLiRuleSet"
            ]
        );
        for r in rules {
            assert_eq!(r["VisibilityConfig"]["CloudWatchMetricsEnabled"], true);
            assert_eq!(r["VisibilityConfig"]["SampledRequestsEnabled"], true);
            assert_eq!(r["VisibilityConfig"]["MetricName"], r["Name"]);
        }
        assert_eq!(
            rules[1]["Statement"]["RateBasedStatement"],
            json!({"AggregateKeyType": "IP", "Limit": 2000, "EvaluationWindowSec": 300})
        );
        assert!(
            !serde_json::to_string(&r)
                .unwrap()
                .contains("GeoMatchStatement")
        );
        assert_eq!(rules[2]["OverrideAction"], json!({"None": {}}));
        assert!(rules[2].get("Action").is_none());
        assert_eq!(
            rules[0]["Statement"]["IPSetReferenceStatement"]["Arn"],
            json!({"Fn::GetAtt": ["WafIpDenyListIpV4", "Arn"]})
        );
        assert_eq!(r["WafIpDenyListIpV4"]["Properties"]["Addresses"], json!([]));
    }

    #[test]
    fn ip_deny_splits_by_version() {
        let mut s = stack("us-east-1");
        let waf = Waf::new(
            &mut s,
            "Waf",
            with_rules(WafRule::recommended(vec![
                "203.0.113.0/24".into(),
                "2001:db8::/32".into(),
            ])),
        )
        .unwrap();
        assert_eq!(waf.ip_sets().len(), 2);
        let r = serde_json::to_value(s.synth().unwrap().resources).unwrap();
        assert_eq!(
            r["WafIpDenyListIpV6"]["Properties"]["IPAddressVersion"],
            "IPV6"
        );
        let st = &r["WafWebAcl"]["Properties"]["Rules"][0]["Statement"];
        assert_eq!(st["OrStatement"]["Statements"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn fails_when_cloudfront_scope_is_outside_us_east_1() {
        let mut s = stack("eu-west-1");
        let e = Waf::new(&mut s, "Waf", WafProps::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "edge/Waf: scope CLOUDFRONT needs the stack in us-east-1, got a stack in eu-west-1"
            ),
            "{e}"
        );
        let regional = Waf::new(
            &mut s,
            "Regional",
            WafProps {
                scope: WafScope::Regional,
                ..WafProps::default()
            },
        );
        assert!(regional.is_ok());
    }

    #[test]
    fn fails_when_rate_limit_is_below_the_minimum() {
        let e = err(with_rules(vec![WafRule::new(
            "Rate",
            0,
            WafRuleKind::RateLimit {
                limit: 9,
                window_seconds: 300,
            },
        )]));
        assert!(
            e.starts_with("edge/Waf: rules[Rate].limit must be 10 to 2000000000 requests per window (the AWS WAF limits), got 9"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_rate_window_is_not_offered() {
        let e = err(with_rules(vec![WafRule::new(
            "Rate",
            0,
            WafRuleKind::RateLimit {
                limit: 2000,
                window_seconds: 500,
            },
        )]));
        assert!(
            e.starts_with(
                "edge/Waf: rules[Rate].window_seconds must be 60, 120, 300 or 600, got 500"
            ),
            "{e}"
        );
    }

    #[test]
    fn fails_when_priorities_repeat() {
        let e = err(with_rules(vec![
            WafRule::aws_managed("AWSManagedRulesSQLiRuleSet", 1),
            WafRule::aws_managed("AWSManagedRulesCommonRuleSet", 1),
        ]));
        assert!(
            e.starts_with("edge/Waf: rules[AWSManagedRulesCommonRuleSet].priority must be unique in the web acl, got 1 which rule AWSManagedRulesSQLiRuleSet has already"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_rule_names_repeat_or_are_invalid() {
        let e = err(with_rules(vec![
            WafRule::aws_managed("AWSManagedRulesSQLiRuleSet", 1),
            WafRule::aws_managed("AWSManagedRulesSQLiRuleSet", 2),
        ]));
        assert!(
            e.starts_with("edge/Waf: rules.name must be unique in the web acl"),
            "{e}"
        );
        let e = err(with_rules(vec![WafRule::aws_managed("bad name", 1)]));
        assert!(
            e.starts_with("edge/Waf: rules.name must be 1 to 128 letters"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_metric_name_is_invalid() {
        let e = err(WafProps {
            metric_name: Some("web acl".into()),
            ..WafProps::default()
        });
        assert!(
            e.starts_with("edge/Waf: metric_name must be 1 to 128 of"),
            "{e}"
        );
        let e = err(WafProps {
            metric_name: Some("All".into()),
            ..WafProps::default()
        });
        assert!(e.starts_with("edge/Waf: metric_name must be"), "{e}");
    }

    #[test]
    fn fails_when_geo_allow_list_is_empty_or_repeats() {
        let e = err(with_rules(vec![WafRule::new(
            "Geo",
            0,
            WafRuleKind::GeoAllow { countries: vec![] },
        )]));
        assert!(
            e.starts_with("edge/Waf: rules[Geo].countries must list at least one country"),
            "{e}"
        );
        let e = err(with_rules(vec![WafRule::new(
            "Geo",
            0,
            WafRuleKind::GeoAllow {
                countries: vec![CountryCodes::Us, CountryCodes::Us],
            },
        )]));
        assert!(
            e.starts_with("edge/Waf: rules[Geo].countries must list each country once"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_a_cidr_is_malformed() {
        let e = err(with_rules(WafRule::recommended(vec![
            "10.0.0.300/8".into(),
        ])));
        assert!(
            e.starts_with("edge/Waf: rules[IpDenyList].addresses must be CIDRs"),
            "{e}"
        );
        let e = err(with_rules(WafRule::recommended(vec!["10.0.0.1/8".into()])));
        assert!(e.contains("must be network addresses (no host bits set), got \"10.0.0.1/8\"; did you mean \"10.0.0.0/8\"?"), "{e}");
        let e = err(with_rules(WafRule::recommended(vec![
            "10.0.0.0/8".into(),
            "10.0.0.0/8".into(),
        ])));
        assert!(e.contains("must list each CIDR once"), "{e}");
    }

    #[test]
    fn fails_when_a_managed_group_has_no_name() {
        let e = err(with_rules(vec![WafRule::new(
            "Group",
            0,
            WafRuleKind::Managed {
                vendor: "AWS".into(),
                name: String::new(),
                count_only: vec![],
            },
        )]));
        assert!(
            e.starts_with("edge/Waf: rules[Group].name needs a vendor and a group name"),
            "{e}"
        );
    }

    #[test]
    fn managed_rules_can_count_some_rules() {
        let mut s = stack("us-east-1");
        Waf::new(
            &mut s,
            "Waf",
            with_rules(vec![WafRule::new(
                "Common",
                0,
                WafRuleKind::Managed {
                    vendor: "AWS".into(),
                    name: "AWSManagedRulesCommonRuleSet".into(),
                    count_only: vec!["SizeRestrictions_BODY".into()],
                },
            )]),
        )
        .unwrap();
        let r = serde_json::to_value(s.synth().unwrap().resources).unwrap();
        assert_eq!(
            r["WafWebAcl"]["Properties"]["Rules"][0]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"],
            json!([{"ActionToUse": {"Count": {}}, "Name": "SizeRestrictions_BODY"}])
        );
    }
}
