//! The frontend of every stage: CloudFront's certificate and web ACL live in
//! us-east-1, parameters filled from other stacks point at real outputs, and
//! the seed's CDN and WAF figures are in the templates.

use khs_constructs::edge::parameter_sources;
use khs_constructs::prelude::StackArtifact;

fn artifacts() -> Vec<StackArtifact> {
    khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes")
}

fn resources_of<'a>(
    a: &'a StackArtifact,
    type_name: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    a.template
        .resources
        .values()
        .filter(move |r| r.type_name == type_name)
        .map(|r| &*r.properties)
}

#[test]
fn every_parameter_source_is_an_output_of_a_stack_deployed_first() {
    let all = artifacts();
    for a in &all {
        for (param, source) in parameter_sources(&a.template) {
            assert!(
                a.template.parameters.contains_key(&param),
                "{}: khs:parameter-sources names {param}, which is not a parameter",
                a.name
            );
            let from = all
                .iter()
                .find(|s| s.name == source.stack)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {param} comes from missing stack {}",
                        a.name, source.stack
                    )
                });
            assert_eq!(from.env.region, source.region, "{}: {param}", a.name);
            assert!(
                from.template.outputs.contains_key(&source.output),
                "{}: {param} comes from {}.{}, which is not an output",
                a.name,
                source.stack,
                source.output
            );
            assert!(
                a.depends_on.contains(&source.stack),
                "{} must depend on {} to read its outputs",
                a.name,
                source.stack
            );
        }
    }
}

#[test]
fn cloudfront_certificates_and_web_acls_are_in_us_east_1() {
    let all = artifacts();
    let mut distributions = 0;
    for a in &all {
        for t in ["AWS::WAFv2::WebACL", "AWS::WAFv2::IPSet"] {
            for p in resources_of(a, t) {
                if p["Scope"] == "CLOUDFRONT" {
                    assert_eq!(
                        a.env.region, "us-east-1",
                        "{}: {t} with scope CLOUDFRONT",
                        a.name
                    );
                }
            }
        }
        for d in resources_of(a, "AWS::CloudFront::Distribution") {
            distributions += 1;
            let cfg = &d["DistributionConfig"];
            let cert = &cfg["ViewerCertificate"]["AcmCertificateArn"];
            let acl = &cfg["WebACLId"];
            if a.env.region == "us-east-1" {
                assert!(
                    cert.get("Ref").is_some(),
                    "{}: certificate in the stack",
                    a.name
                );
            } else {
                let sources = parameter_sources(&a.template);
                for v in [cert, acl] {
                    let name = v["Ref"].as_str().expect("a parameter reference");
                    assert_eq!(sources[name].region, "us-east-1", "{}: {name}", a.name);
                }
            }
        }
    }
    assert_eq!(distributions, 2, "one distribution per stage");
}

#[test]
fn production_has_the_seed_cdn_and_waf_figures() {
    let all = artifacts();
    let prod = all
        .iter()
        .find(|a| a.name == "khs-crm-prod")
        .expect("production");
    let dist = resources_of(prod, "AWS::CloudFront::Distribution")
        .next()
        .expect("a distribution");
    let cfg = &dist["DistributionConfig"];
    assert_eq!(cfg["Aliases"], serde_json::json!(["app.khscrm.com"]));
    assert_eq!(cfg["HttpVersion"], "http2and3");
    assert_eq!(
        cfg["ViewerCertificate"]["MinimumProtocolVersion"],
        "TLSv1.2_2021"
    );
    // The seed's "Custom Error Pages" for the single-page app: its routes
    // are served index.html by a viewer-request function on the bucket's
    // behaviour only, so API errors and WAF blocks reach clients unchanged
    // (distribution-wide error responses would rewrite them too).
    assert!(cfg.get("CustomErrorResponses").is_none(), "{cfg}");
    assert_eq!(
        cfg["DefaultCacheBehavior"]["FunctionAssociations"][0]["EventType"],
        "viewer-request"
    );
    let api = cfg["CacheBehaviors"]
        .as_array()
        .expect("behaviours")
        .iter()
        .find(|b| b["PathPattern"] == "/api/*")
        .expect("the API behaviour");
    assert!(api.get("FunctionAssociations").is_none(), "{api}");
    assert_eq!(resources_of(prod, "AWS::CloudFront::Function").count(), 1);
    let one_year = resources_of(prod, "AWS::CloudFront::CachePolicy")
        .map(|p| &p["CachePolicyConfig"])
        .any(|c| c["DefaultTTL"] == 31_536_000.0 && c["MaxTTL"] == 31_536_000.0);
    assert!(one_year, "*.js cached one year");
    let acl = resources_of(prod, "AWS::WAFv2::WebACL")
        .next()
        .expect("a web ACL");
    let rules = acl["Rules"].as_array().expect("rules");
    let rate = rules
        .iter()
        .find_map(|r| r["Statement"].get("RateBasedStatement"))
        .expect("a rate rule");
    assert_eq!(rate["Limit"], 2000);
    assert_eq!(rate["EvaluationWindowSec"], 300);
    for group in [
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ] {
        assert!(
            rules.iter().any(|r| r["Name"] == group),
            "production web ACL lacks {group}"
        );
    }
    let lifecycle = resources_of(prod, "AWS::S3::Bucket")
        .filter_map(|b| b.get("LifecycleConfiguration"))
        .flat_map(|l| l["Rules"].as_array().cloned().unwrap_or_default())
        .any(|r| {
            r["ExpirationInDays"] == 365
                && r["Transitions"]
                    == serde_json::json!([
                        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                        {"StorageClass": "GLACIER", "TransitionInDays": 90}
                    ])
        });
    assert!(
        lifecycle,
        "the seed's lifecycle: IA 30, Glacier 90, deleted after 365"
    );
}
