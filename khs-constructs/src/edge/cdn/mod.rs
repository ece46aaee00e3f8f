//! [`Cdn`]: the frontend bucket behind a CloudFront distribution, with the
//! API load balancer as a second origin.
//!
//! What a `Cdn` emits:
//! - a [`Bucket`](crate::storage::Bucket) (`<id>/Bucket`, secure defaults: versioned, SSE-S3, no
//!   public access, TLS only) whose policy lets only this distribution read
//!   objects, through an `AWS::CloudFront::OriginAccessControl`;
//! - `AWS::CloudFront::CachePolicy` `StaticAssets` for the long-cache
//!   patterns (`*.js`: default = max = one year, gzip and brotli);
//! - with an [`ApiOrigin`]: `AWS::CloudFront::CachePolicy` `Api` (min 0,
//!   default 0, max 300 s; `Authorization`, `Accept`, `Content-Type`, every
//!   query string and every cookie in the cache key, or the cookies named
//!   with [`Cookies::Only`]) and `AWS::CloudFront::OriginRequestPolicy`
//!   `ApiOriginRequest` (`CloudFront-Viewer-Country`,
//!   `CloudFront-Is-Mobile-Viewer`, `Host`, every query string, the same
//!   cookies), and, when
//!   [`ApiOrigin::restrict_to_cloudfront`] is set, an
//!   `AWS::EC2::SecurityGroupIngress` on the load balancer's group from the
//!   CloudFront origin-facing managed prefix list of the stack's region;
//! - `AWS::CloudFront::ResponseHeadersPolicy` `SecurityHeaders` (HSTS,
//!   `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy`,
//!   `X-XSS-Protection`, an optional `Content-Security-Policy`);
//! - the `AWS::CloudFront::Distribution`: HTTP/2 and HTTP/3, IPv6,
//!   compression, viewer HTTPS (redirect for the site, HTTPS only for the
//!   API), TLS 1.2+ (`TLSv1.2_2021`) with the ACM certificate and the
//!   aliases, `index.html` as root object, standard access logs, the price
//!   class and the WAF web ACL;
//! - the single-page app's routes ([`SpaFallback`]): by default an
//!   `AWS::CloudFront::Function` `SpaRoutes` on the viewer request of the
//!   default behaviour that serves `index.html` for paths without a file
//!   extension (API answers and WAF blocks are never rewritten); or
//!   distribution-wide custom error responses.
//!
//! Behaviours, in CloudFront's order (first match wins): every
//! [`CdnProps::no_cache_paths`] (`/sw.js`, managed `CachingDisabled`
//! policy), the API path (`/api/*`), every
//! [`CdnProps::long_cache_patterns`] (`*.js`), then the default (the bucket,
//! managed `CachingOptimized` policy, which follows the objects'
//! `Cache-Control`).

mod checks;
mod distribution;
mod props;

pub(crate) use checks::*;
pub use distribution::*;
pub use props::*;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cfn;

    use crate::core::resource::Handle;
    use crate::core::scope::AsScope;

    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::edge::waf::{Waf, WafProps};
    use crate::edge::waf::{WafScope, WebAclRef};
    use crate::network::connections::Connections;
    use crate::network::connections::{Egress, Port};
    use crate::network::dns::CertificateRef;
    use crate::network::dns::{Certificate, CertificateProps, HostedZoneRef};
    use crate::storage::bucket::BucketName;
    use crate::storage::bucket::{Bucket, BucketEncryption, BucketProps, ObjectOwnership};
    use serde_json::json;

    fn stack(region: &str) -> Stack {
        Stack::new("web", StackProps::new(Environment::region(region))).unwrap()
    }

    fn cert(s: &mut Stack) -> CertificateRef {
        let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "khscrm.com").unwrap();
        Certificate::new(s, "Cert", CertificateProps::new("app.khscrm.com", zone))
            .unwrap()
            .reference()
    }

    fn alb(
        s: &mut Stack,
    ) -> (
        Handle<cfn::elasticloadbalancingv2::LoadBalancer>,
        Connections,
    ) {
        let mut sc = s.as_scope();
        let sg = Connections::new_security_group(
            &mut sc,
            "AlbSg",
            "vpc-0123456789abcdef0".into(),
            "alb",
            Some(Port::tcp(443)),
            Egress::Restricted,
        )
        .unwrap();
        let lb = sc
            .add(
                "Alb",
                cfn::elasticloadbalancingv2::LoadBalancer {
                    security_groups: Some(vec![sg.security_group_id()].into()),
                    subnets: Some(vec!["subnet-1", "subnet-2"].into()),
                    ..cfn::elasticloadbalancingv2::LoadBalancer::new()
                },
            )
            .unwrap();
        (lb, sg)
    }

    fn err(region: &str, f: impl FnOnce(&mut Stack) -> CdnProps) -> String {
        let mut s = stack(region);
        let props = f(&mut s);
        Cdn::new(&mut s, "Cdn", props).unwrap_err().to_string()
    }

    fn resources(s: &Stack) -> serde_json::Value {
        serde_json::to_value(s.synth().unwrap().resources).unwrap()
    }

    #[test]
    fn defaults_serve_the_bucket_through_an_origin_access_control() {
        let mut s = stack("eu-west-1");
        let cdn = Cdn::new(
            &mut s,
            "Cdn",
            CdnProps {
                no_cache_paths: vec!["/sw.js".into()],
                ..CdnProps::default()
            },
        )
        .unwrap();
        assert_eq!(cdn.distribution().logical_id().as_str(), "CdnDistribution");
        let r = resources(&s);
        let cfg = &r["CdnDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(cfg["HttpVersion"], "http2and3");
        assert_eq!(cfg["PriceClass"], "PriceClass_All");
        assert_eq!(
            cfg["ViewerCertificate"],
            json!({"CloudFrontDefaultCertificate": true})
        );
        assert_eq!(
            cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
            "redirect-to-https"
        );
        assert_eq!(cfg["DefaultCacheBehavior"]["Compress"], true);
        assert_eq!(
            cfg["DefaultCacheBehavior"]["CachePolicyId"],
            CACHING_OPTIMIZED_POLICY_ID
        );
        let paths: Vec<&str> = cfg["CacheBehaviors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["PathPattern"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["/sw.js", "*.js"]);
        assert_eq!(
            cfg["CacheBehaviors"][0]["CachePolicyId"],
            CACHING_DISABLED_POLICY_ID
        );
        // Routes go to index.html through the viewer-request function on
        // the default behaviour only; no distribution-wide error responses.
        assert!(cfg.get("CustomErrorResponses").is_none());
        assert_eq!(
            cfg["DefaultCacheBehavior"]["FunctionAssociations"],
            json!([{"EventType": "viewer-request",
                    "FunctionARN": {"Fn::GetAtt": ["CdnSpaRoutes", "FunctionMetadata.FunctionARN"]}}])
        );
        assert!(
            cfg["CacheBehaviors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b.get("FunctionAssociations").is_none())
        );
        let f = &r["CdnSpaRoutes"]["Properties"];
        assert_eq!(f["Name"], "web-Cdn-spa-routes");
        assert_eq!(f["AutoPublish"], true);
        assert_eq!(f["FunctionConfig"]["Runtime"], "cloudfront-js-2.0");
        assert!(
            f["FunctionCode"]
                .as_str()
                .unwrap()
                .contains("request.uri = '/index.html'")
        );
        assert!(cfg.get("Aliases").is_none());
        assert!(cfg.get("WebACLId").is_none());
        let static_cfg = &r["CdnStaticAssetsCachePolicy"]["Properties"]["CachePolicyConfig"];
        assert_eq!(static_cfg["DefaultTTL"], json!(31_536_000.0));
        assert_eq!(static_cfg["MaxTTL"], json!(31_536_000.0));
        assert_eq!(static_cfg["Name"], "web-Cdn-static");
        let oac = &r["CdnOriginAccessControl"]["Properties"]["OriginAccessControlConfig"];
        assert_eq!(oac["SigningBehavior"], "always");
        assert_eq!(oac["OriginAccessControlOriginType"], "s3");
        let st = &r["CdnBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][1];
        assert_eq!(
            st["Principal"],
            json!({"Service": "cloudfront.amazonaws.com"})
        );
        assert_eq!(
            st["Condition"]["StringEquals"]["AWS:SourceArn"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${CdnDistribution}"})
        );
        let hsts = &r["CdnSecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
            ["StrictTransportSecurity"];
        assert_eq!(hsts["AccessControlMaxAgeSec"], 63_072_000);
    }

    #[test]
    fn api_origin_alias_waf_and_logs() {
        let mut s = stack("us-east-1");
        let cert = cert(&mut s);
        let waf = Waf::new(&mut s, "Waf", WafProps::default()).unwrap();
        let logs = Bucket::new(
            &mut s,
            "Logs",
            BucketProps {
                object_ownership: ObjectOwnership::BucketOwnerPreferred,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let (lb, sg) = alb(&mut s);
        Cdn::new(
            &mut s,
            "Cdn",
            CdnProps {
                bucket: BucketProps {
                    name: BucketName::unique("khs-crm-frontend-prod"),
                    ..BucketProps::default()
                },
                aliases: vec!["app.khscrm.com".into()],
                no_cache_paths: vec!["/sw.js".into()],
                certificate: Some(cert),
                api: Some(ApiOrigin {
                    restrict_to_cloudfront: Some(sg),
                    ..ApiOrigin::new(lb)
                }),
                web_acl: Some(waf.reference()),
                access_logs: Some(CdnAccessLogs {
                    bucket: logs.reference(),
                    prefix: "cloudfront/".into(),
                }),
                ..CdnProps::default()
            },
        )
        .unwrap();
        let r = resources(&s);
        let cfg = &r["CdnDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(cfg["Aliases"], json!(["app.khscrm.com"]));
        assert_eq!(
            cfg["ViewerCertificate"],
            json!({"AcmCertificateArn": {"Ref": "CertCertificate"}, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"})
        );
        assert_eq!(cfg["WebACLId"], json!({"Fn::GetAtt": ["WafWebAcl", "Arn"]}));
        assert_eq!(
            cfg["Logging"]["Bucket"],
            json!({"Fn::GetAtt": ["LogsBucket", "DomainName"]})
        );
        let api = &cfg["CacheBehaviors"][1];
        assert_eq!(api["PathPattern"], "/api/*");
        assert_eq!(api["ViewerProtocolPolicy"], "https-only");
        assert_eq!(api["AllowedMethods"].as_array().unwrap().len(), 7);
        assert_eq!(
            cfg["Origins"][1]["CustomOriginConfig"],
            json!({"HTTPSPort": 443, "OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]})
        );
        let cache = &r["CdnApiCachePolicy"]["Properties"]["CachePolicyConfig"];
        assert_eq!(cache["DefaultTTL"], json!(0.0));
        assert_eq!(cache["MaxTTL"], json!(300.0));
        let keys = &cache["ParametersInCacheKeyAndForwardedToOrigin"];
        assert_eq!(
            keys["HeadersConfig"],
            json!({"HeaderBehavior": "whitelist", "Headers": ["Authorization", "Accept", "Content-Type"]})
        );
        assert_eq!(
            keys["QueryStringsConfig"],
            json!({"QueryStringBehavior": "all"})
        );
        let req = &r["CdnApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"];
        assert_eq!(
            req["HeadersConfig"]["Headers"],
            json!([
                "CloudFront-Viewer-Country",
                "CloudFront-Is-Mobile-Viewer",
                "Host"
            ])
        );
        // By default every cookie reaches the API and keys the cache.
        assert_eq!(req["CookiesConfig"], json!({"CookieBehavior": "all"}));
        assert_eq!(keys["CookiesConfig"], json!({"CookieBehavior": "all"}));
        assert_eq!(
            r["CdnApiIngressFromCloudFront"]["Properties"]["SourcePrefixListId"],
            "pl-3b927c52"
        );
    }

    #[test]
    fn named_cookies_or_none_reach_the_api() {
        for (cookies, want) in [
            (
                Cookies::Only(vec!["session".into(), "auth-token".into()]),
                json!({"CookieBehavior": "whitelist", "Cookies": ["session", "auth-token"]}),
            ),
            (Cookies::None, json!({"CookieBehavior": "none"})),
        ] {
            let mut s = stack("us-east-1");
            let (lb, _) = alb(&mut s);
            Cdn::new(
                &mut s,
                "Cdn",
                CdnProps {
                    api: Some(ApiOrigin {
                        cache: ApiCache {
                            cookies,
                            ..ApiCache::default()
                        },
                        ..ApiOrigin::new(lb)
                    }),
                    ..CdnProps::default()
                },
            )
            .unwrap();
            let r = resources(&s);
            assert_eq!(
                r["CdnApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]["CookiesConfig"],
                want
            );
            assert_eq!(
                r["CdnApiCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
                    ["CookiesConfig"],
                want
            );
        }
    }

    #[test]
    fn error_response_fallbacks_rewrite_the_distribution_errors() {
        let mut s = stack("us-east-1");
        Cdn::new(
            &mut s,
            "Cdn",
            CdnProps {
                spa_fallback: SpaFallback::ForbiddenAndNotFound,
                ..CdnProps::default()
            },
        )
        .unwrap();
        let r = resources(&s);
        let cfg = &r["CdnDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(cfg["CustomErrorResponses"][0]["ErrorCode"], 403);
        assert_eq!(cfg["CustomErrorResponses"][1]["ErrorCode"], 404);
        assert_eq!(cfg["CustomErrorResponses"][1]["ResponseCode"], 200);
        assert_eq!(
            cfg["CustomErrorResponses"][1]["ResponsePagePath"],
            "/index.html"
        );
        assert!(r.get("CdnSpaRoutes").is_none());
        assert!(
            cfg["DefaultCacheBehavior"]
                .get("FunctionAssociations")
                .is_none()
        );
    }

    #[test]
    fn not_found_fallback_lets_cloudfront_list_the_bucket() {
        let mut s = stack("us-east-1");
        Cdn::new(
            &mut s,
            "Cdn",
            CdnProps {
                spa_fallback: SpaFallback::NotFound,
                ..CdnProps::default()
            },
        )
        .unwrap();
        let r = resources(&s);
        let cfg = &r["CdnDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(cfg["CustomErrorResponses"].as_array().unwrap().len(), 1);
        assert_eq!(cfg["CustomErrorResponses"][0]["ErrorCode"], 404);
        let st = &r["CdnBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][2];
        assert_eq!(st["Action"], "s3:ListBucket");
        assert_eq!(st["Resource"], json!({"Fn::Sub": "${CdnBucketBucket.Arn}"}));
        let mut s = stack("us-east-1");
        Cdn::new(
            &mut s,
            "Cdn",
            CdnProps {
                spa_fallback: SpaFallback::Off,
                ..CdnProps::default()
            },
        )
        .unwrap();
        let r = resources(&s);
        assert!(
            r["CdnDistribution"]["Properties"]["DistributionConfig"]
                .get("CustomErrorResponses")
                .is_none()
        );
    }

    #[test]
    fn knows_the_prefix_list_of_each_listed_region() {
        assert_eq!(cloudfront_prefix_list("us-east-1"), Some("pl-3b927c52"));
        assert_eq!(cloudfront_prefix_list("us-west-2"), Some("pl-82a045eb"));
        assert_eq!(cloudfront_prefix_list("mars-north-1"), None);
    }

    #[test]
    fn fails_when_an_alias_has_no_certificate() {
        let e = err("us-east-1", |_| CdnProps {
            aliases: vec!["app.khscrm.com".into()],
            ..CdnProps::default()
        });
        assert!(
            e.starts_with("web/Cdn: aliases need a certificate that covers them, got aliases [\"app.khscrm.com\"] and no certificate"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_certificate_does_not_cover_an_alias() {
        let e = err("us-east-1", |s| CdnProps {
            aliases: vec!["www.khscrm.com".into()],
            certificate: Some(cert(s)),
            ..CdnProps::default()
        });
        assert!(e.starts_with("web/Cdn: aliases must be covered by the certificate (names [\"app.khscrm.com\"]), got \"www.khscrm.com\""), "{e}");
    }

    #[test]
    fn fails_when_the_certificate_is_outside_us_east_1() {
        let e = err("eu-west-1", |s| CdnProps {
            aliases: vec!["app.khscrm.com".into()],
            certificate: Some(cert(s)),
            ..CdnProps::default()
        });
        assert!(
            e.starts_with("web/Cdn: certificate must be an ACM certificate in us-east-1"),
            "{e}"
        );
        assert!(e.contains("got one in eu-west-1"), "{e}");
    }

    #[test]
    fn fails_when_the_web_acl_is_regional() {
        let e = err("us-east-1", |_| CdnProps {
            web_acl: Some(WebAclRef::from_arn("arn:aws:wafv2:x", WafScope::Regional)),
            ..CdnProps::default()
        });
        assert_eq!(
            e,
            "web/Cdn: web_acl must have scope CLOUDFRONT, got a REGIONAL web acl"
        );
    }

    #[test]
    fn fails_when_the_log_bucket_has_acls_disabled() {
        let e = err("us-east-1", |s| {
            let logs = Bucket::new(s, "Logs", BucketProps::default()).unwrap();
            CdnProps {
                access_logs: Some(CdnAccessLogs {
                    bucket: logs.reference(),
                    prefix: "cloudfront/".into(),
                }),
                ..CdnProps::default()
            }
        });
        assert!(
            e.starts_with("web/Cdn: access_logs.bucket must have ACLs enabled"),
            "{e}"
        );
        assert!(e.contains("got web/Logs with ACLs disabled"), "{e}");
    }

    #[test]
    fn fails_when_the_log_bucket_is_imported() {
        let e = err("us-east-1", |s| {
            let logs = Bucket::import(
                s,
                "SharedLogs",
                crate::storage::BucketImport {
                    object_ownership: crate::storage::ObjectOwnership::BucketOwnerPreferred,
                    ..crate::storage::BucketImport::new("team-cdn-logs")
                },
            )
            .unwrap();
            CdnProps {
                access_logs: Some(CdnAccessLogs {
                    bucket: logs,
                    prefix: "cloudfront/".into(),
                }),
                ..CdnProps::default()
            }
        });
        assert_eq!(
            e,
            "web/Cdn: access_logs.bucket is the imported bucket web/SharedLogs, which this app never modifies, and CloudFront standard logs add an ACL grant to their bucket; its owner must enable ACLs (BucketOwnerPreferred) and grant the awslogsdelivery account FULL_CONTROL in the bucket ACL, or log to a Bucket of the app with ObjectOwnership::BucketOwnerPreferred"
        );
    }

    #[test]
    fn fails_when_the_log_prefix_is_malformed() {
        let e = err("us-east-1", |s| {
            let logs = Bucket::new(
                s,
                "Logs",
                BucketProps {
                    object_ownership: ObjectOwnership::BucketOwnerPreferred,
                    ..BucketProps::default()
                },
            )
            .unwrap();
            CdnProps {
                access_logs: Some(CdnAccessLogs {
                    bucket: logs.reference(),
                    prefix: "/cf".into(),
                }),
                ..CdnProps::default()
            }
        });
        assert!(
            e.starts_with("web/Cdn: access_logs.prefix must end with '/'"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_bucket_uses_the_aws_managed_kms_key() {
        let e = err("us-east-1", |_| CdnProps {
            bucket: BucketProps {
                encryption: BucketEncryption::Kms { key: None },
                ..BucketProps::default()
            },
            ..CdnProps::default()
        });
        assert!(
            e.starts_with(
                "web/Cdn: bucket.encryption must be SSE-S3 or SSE-KMS with a customer managed key"
            ),
            "{e}"
        );
    }

    #[test]
    fn fails_when_api_ttls_are_out_of_order() {
        let e = err("us-east-1", |s| {
            let (lb, _) = alb(s);
            CdnProps {
                api: Some(ApiOrigin {
                    cache: ApiCache {
                        default_ttl_seconds: 600,
                        ..ApiCache::default()
                    },
                    ..ApiOrigin::new(lb)
                }),
                ..CdnProps::default()
            }
        });
        assert!(e.starts_with("web/Cdn: api.cache must have min_ttl_seconds <= default_ttl_seconds <= max_ttl_seconds, got 0 / 600 / 300"), "{e}");
    }

    #[test]
    fn fails_when_authorization_is_an_origin_header() {
        let e = err("us-east-1", |s| {
            let (lb, _) = alb(s);
            CdnProps {
                api: Some(ApiOrigin {
                    cache: ApiCache {
                        origin_headers: vec!["Authorization".into()],
                        ..ApiCache::default()
                    },
                    ..ApiOrigin::new(lb)
                }),
                ..CdnProps::default()
            }
        });
        assert!(
            e.starts_with("web/Cdn: api.cache.origin_headers must not hold \"Authorization\""),
            "{e}"
        );
    }

    #[test]
    fn fails_when_too_many_headers_or_duplicates() {
        let e = err("us-east-1", |s| {
            let (lb, _) = alb(s);
            CdnProps {
                api: Some(ApiOrigin {
                    cache: ApiCache {
                        cache_key_headers: (0..11).map(|i| format!("X-H{i}")).collect(),
                        ..ApiCache::default()
                    },
                    ..ApiOrigin::new(lb)
                }),
                ..CdnProps::default()
            }
        });
        assert!(
            e.starts_with("web/Cdn: api.cache.cache_key_headers must list at most 10 names"),
            "{e}"
        );
        let e = err("us-east-1", |s| {
            let (lb, _) = alb(s);
            CdnProps {
                api: Some(ApiOrigin {
                    cache: ApiCache {
                        cookies: Cookies::Only(vec!["session".into(), "session".into()]),
                        ..ApiCache::default()
                    },
                    ..ApiOrigin::new(lb)
                }),
                ..CdnProps::default()
            }
        });
        assert!(
            e.starts_with("web/Cdn: api.cache.cookies must list each name once"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_region_has_no_known_prefix_list() {
        let e = err("af-south-1", |s| {
            let (lb, sg) = alb(s);
            CdnProps {
                api: Some(ApiOrigin {
                    restrict_to_cloudfront: Some(sg),
                    ..ApiOrigin::new(lb)
                }),
                ..CdnProps::default()
            }
        });
        assert!(e.starts_with("web/Cdn: api.restrict_to_cloudfront needs the id of the com.amazonaws.global.cloudfront.origin-facing prefix list in af-south-1"), "{e}");
    }

    #[test]
    fn fails_when_path_patterns_repeat_or_are_invalid() {
        let e = err("us-east-1", |_| CdnProps {
            long_cache_patterns: vec!["*.js".into(), "*.js".into()],
            ..CdnProps::default()
        });
        assert!(
            e.starts_with("web/Cdn: long_cache_patterns must not repeat a path pattern"),
            "{e}"
        );
        let e = err("us-east-1", |_| CdnProps {
            no_cache_paths: vec!["/a b".into()],
            ..CdnProps::default()
        });
        assert!(
            e.starts_with("web/Cdn: no_cache_paths must be a CloudFront path pattern"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_root_object_or_ttls_are_invalid() {
        let e = err("us-east-1", |_| CdnProps {
            default_root_object: "/index.html".into(),
            ..CdnProps::default()
        });
        assert!(
            e.starts_with(
                "web/Cdn: default_root_object must be an object key without a leading '/'"
            ),
            "{e}"
        );
        let e = err("us-east-1", |_| CdnProps {
            long_cache_seconds: 0,
            ..CdnProps::default()
        });
        assert!(
            e.starts_with("web/Cdn: long_cache_seconds must be at least 1 second, got 0"),
            "{e}"
        );
        let e = err("us-east-1", |_| CdnProps {
            security_headers: SecurityHeaders {
                hsts_max_age_seconds: 0,
                ..SecurityHeaders::default()
            },
            ..CdnProps::default()
        });
        assert!(
            e.starts_with(
                "web/Cdn: security_headers.hsts_max_age_seconds must be at least 1 second"
            ),
            "{e}"
        );
    }
}
