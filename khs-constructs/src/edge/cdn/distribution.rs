//! [`Cdn`](super::Cdn): the bucket, the policies, the origin access control and the distribution.

use super::*;
use crate::cfn;
use crate::cfn::attributes::*;
use crate::cfn::cloudfront::cache_policy as cp;
use crate::cfn::cloudfront::cache_policy::CachePolicyConfigRequired;
use crate::cfn::cloudfront::distribution as d;
use crate::cfn::cloudfront::distribution::CacheBehaviorRequired;
use crate::cfn::cloudfront::distribution::OriginRequired;
use crate::cfn::cloudfront::origin_access_control::OriginAccessControlConfigRequired;
use crate::cfn::cloudfront::origin_request_policy as orp;
use crate::cfn::cloudfront::response_headers_policy as rhp;
use crate::cfn::cloudfront::response_headers_policy::XssProtectionRequired;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;
use crate::storage::bucket::{Bucket, BucketGrant};

/// The frontend distribution. See the module documentation.
#[derive(Debug)]
pub struct Cdn {
    bucket: Bucket,
    distribution: Handle<cfn::cloudfront::Distribution>,
    origin_access_control: Handle<cfn::cloudfront::OriginAccessControl>,
}

pub(crate) const S3_ORIGIN: &str = "frontend";
pub(crate) const API_ORIGIN: &str = "api";

impl Cdn {
    /// Adds the bucket and the distribution under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: CdnProps) -> Result<Cdn> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate(&path, &props, &region)?;

        let mut bucket = Bucket::new(&mut me, "Bucket", props.bucket.clone())?;
        let oac = origin_access_control(&mut me, &path)?;
        let static_policy = static_assets_policy(&mut me, &path, &props)?;
        let headers_policy = security_headers_policy(&mut me, &path, &props.security_headers)?;
        let mut origins = vec![d::Origin {
            origin_access_control_id: Some(oac.attr_id()),
            s3_origin_config: Some(d::S3OriginConfig {
                origin_access_identity: Some("".into()),
                ..d::S3OriginConfig::new()
            }),
            ..d::Origin::new(OriginRequired {
                domain_name: bucket.reference().regional_domain_name(),
                id: S3_ORIGIN.into(),
            })
        }];
        let mut behaviors = Vec::new();
        for p in &props.no_cache_paths {
            behaviors.push(d::CacheBehavior {
                cache_policy_id: Some(CACHING_DISABLED_POLICY_ID.into()),
                response_headers_policy_id: Some(headers_policy.attr_id()),
                compress: Some(true.into()),
                allowed_methods: Some(vec!["GET", "HEAD"].into()),
                ..d::CacheBehavior::new(CacheBehaviorRequired {
                    path_pattern: p.as_str().into(),
                    target_origin_id: S3_ORIGIN.into(),
                    viewer_protocol_policy: "redirect-to-https".into(),
                })
            });
        }
        if let Some(api) = &props.api {
            let (origin, behavior) = api_origin(&mut me, &path, &region, api, &headers_policy)?;
            origins.push(origin);
            behaviors.push(behavior);
        }
        for p in &props.long_cache_patterns {
            behaviors.push(d::CacheBehavior {
                cache_policy_id: Some(static_policy.attr_id()),
                response_headers_policy_id: Some(headers_policy.attr_id()),
                compress: Some(true.into()),
                allowed_methods: Some(vec!["GET", "HEAD"].into()),
                ..d::CacheBehavior::new(CacheBehaviorRequired {
                    path_pattern: p.as_str().into(),
                    target_origin_id: S3_ORIGIN.into(),
                    viewer_protocol_policy: "redirect-to-https".into(),
                })
            });
        }

        let viewer_certificate = viewer_certificate(&props);
        let custom_error_responses = custom_error_responses(&props);
        let route_function = spa_route_function(&mut me, &path, &props)?;
        let price_class = match props.price_class {
            PriceClass::PriceClass100 => d::PriceClass::PriceClass100,
            PriceClass::PriceClass200 => d::PriceClass::PriceClass200,
            PriceClass::All => d::PriceClass::PriceClassAll,
        };
        let config = d::DistributionConfig {
            comment: Some(
                props
                    .comment
                    .clone()
                    .unwrap_or_else(|| path.to_string())
                    .into(),
            ),
            aliases: (!props.aliases.is_empty()).then(|| list(&props.aliases)),
            origins: Some(origins),
            cache_behaviors: (!behaviors.is_empty()).then_some(behaviors),
            custom_error_responses,
            default_root_object: Some(props.default_root_object.as_str().into()),
            http_version: Some(d::HttpVersion::Http2and3.into()),
            ipv6_enabled: Some(true.into()),
            price_class: Some(price_class.into()),
            viewer_certificate: Some(viewer_certificate),
            web_acl_id: props.web_acl.as_ref().map(|a| a.arn().clone()),
            logging: props.access_logs.as_ref().map(|l| d::Logging {
                bucket: Some(l.bucket.domain_name()),
                prefix: Some(l.prefix.as_str().into()),
                include_cookies: Some(false.into()),
            }),
            ..d::DistributionConfig::new(
                d::DefaultCacheBehavior {
                    cache_policy_id: Some(CACHING_OPTIMIZED_POLICY_ID.into()),
                    response_headers_policy_id: Some(headers_policy.attr_id()),
                    compress: Some(true.into()),
                    allowed_methods: Some(vec!["GET", "HEAD"].into()),
                    function_associations: route_function.as_ref().map(|f| {
                        vec![d::FunctionAssociation {
                            event_type: Some("viewer-request".into()),
                            function_arn: Some(f.attr_function_metadata_function_arn()),
                        }]
                    }),
                    ..d::DefaultCacheBehavior::new(
                        S3_ORIGIN,
                        d::ViewerProtocolPolicy::RedirectToHttps,
                    )
                },
                true,
            )
        };
        let distribution = me.add("Distribution", cfn::cloudfront::Distribution::new(config))?;
        bucket.add_grant(
            &mut me,
            BucketGrant::CloudFrontRead {
                distribution: distribution.clone(),
                list: matches!(
                    props.spa_fallback,
                    SpaFallback::NotFound | SpaFallback::RewriteRoutes
                ),
            },
        )?;
        Ok(Cdn {
            bucket,
            distribution,
            origin_access_control: oac,
        })
    }

    /// The frontend bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The `AWS::CloudFront::Distribution` resource.
    pub fn distribution(&self) -> &Handle<cfn::cloudfront::Distribution> {
        &self.distribution
    }

    /// The origin access control.
    pub fn origin_access_control(&self) -> &Handle<cfn::cloudfront::OriginAccessControl> {
        &self.origin_access_control
    }

    /// The distribution's domain (`d111111abcdef8.cloudfront.net`).
    pub fn domain_name(&self) -> Value<String> {
        self.distribution.attr_domain_name()
    }

    /// The distribution id (for invalidations).
    pub fn distribution_id(&self) -> Value<String> {
        self.distribution.attr_id()
    }
}

/// The origin access control CloudFront signs its bucket requests with.
fn origin_access_control(
    me: &mut Scope<'_>,
    path: &ConstructPath,
) -> Result<Handle<cfn::cloudfront::OriginAccessControl>> {
    me.add(
        "OriginAccessControl",
        cfn::cloudfront::OriginAccessControl::new(
            cfn::cloudfront::origin_access_control::OriginAccessControlConfig {
                description: Some(format!("{path}: CloudFront reads the frontend bucket").into()),
                ..cfn::cloudfront::origin_access_control::OriginAccessControlConfig::new(
                    OriginAccessControlConfigRequired {
                        name: policy_name(path, "oac", 64).into(),
                        origin_access_control_origin_type: "s3".into(),
                        signing_behavior: "always".into(),
                        signing_protocol: "sigv4".into(),
                    },
                )
            },
        ),
    )
}

/// The cache policy of the long-cache (versioned asset) patterns.
fn static_assets_policy(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    props: &CdnProps,
) -> Result<Handle<cfn::cloudfront::CachePolicy>> {
    me.add(
        "StaticAssetsCachePolicy",
        cfn::cloudfront::CachePolicy::new(cp::CachePolicyConfig {
            comment: Some(format!("versioned assets cached {} s", props.long_cache_seconds).into()),
            ..cp::CachePolicyConfig::new(CachePolicyConfigRequired {
                default_ttl: f(props.long_cache_seconds),
                max_ttl: f(props.long_cache_seconds),
                min_ttl: f(0),
                name: policy_name(path, "static", 128).into(),
                parameters_in_cache_key_and_forwarded_to_origin:
                    cp::ParametersInCacheKeyAndForwardedToOrigin {
                        enable_accept_encoding_brotli: Some(true.into()),
                        ..cp::ParametersInCacheKeyAndForwardedToOrigin::new(
                            cp::CookiesConfig::new("none"),
                            true,
                            cp::HeadersConfig::new("none"),
                            cp::QueryStringsConfig::new("none"),
                        )
                    },
            })
        }),
    )
}

/// The response headers policy with the security headers.
fn security_headers_policy(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    sh: &SecurityHeaders,
) -> Result<Handle<cfn::cloudfront::ResponseHeadersPolicy>> {
    me.add(
        "SecurityHeadersPolicy",
        cfn::cloudfront::ResponseHeadersPolicy::new(rhp::ResponseHeadersPolicyConfig {
            comment: Some("security headers".into()),
            security_headers_config: Some(rhp::SecurityHeadersConfig {
                strict_transport_security: Some(rhp::StrictTransportSecurity {
                    include_subdomains: Some(sh.hsts_include_subdomains.into()),
                    preload: Some(sh.hsts_preload.into()),
                    ..rhp::StrictTransportSecurity::new(i64::from(sh.hsts_max_age_seconds), true)
                }),
                content_type_options: Some(rhp::ContentTypeOptions::new(true)),
                frame_options: Some(rhp::FrameOptions::new(
                    match sh.frame_options {
                        FrameOptions::Deny => "DENY",
                        FrameOptions::SameOrigin => "SAMEORIGIN",
                    },
                    true,
                )),
                referrer_policy: Some(rhp::ReferrerPolicy::new(true, sh.referrer_policy.as_str())),
                xss_protection: Some(rhp::XssProtection {
                    mode_block: Some(true.into()),
                    ..rhp::XssProtection::new(XssProtectionRequired {
                        override_: true.into(),
                        protection: true.into(),
                    })
                }),
                content_security_policy: sh
                    .content_security_policy
                    .as_deref()
                    .map(|csp| rhp::ContentSecurityPolicy::new(csp, true)),
            }),
            ..rhp::ResponseHeadersPolicyConfig::new(policy_name(path, "security", 128))
        }),
    )
}

/// The API origin: its cache and origin request policies, the origin, its
/// behaviour, and (with `restrict_to_cloudfront`) the ingress from
/// CloudFront's origin-facing prefix list.
fn api_origin(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    region: &str,
    api: &ApiOrigin,
    headers_policy: &Handle<cfn::cloudfront::ResponseHeadersPolicy>,
) -> Result<(d::Origin, d::CacheBehavior)> {
    let c = &api.cache;
    let api_policy = me.add(
        "ApiCachePolicy",
        cfn::cloudfront::CachePolicy::new(cp::CachePolicyConfig {
            comment: Some("API responses: cached only when the API allows it".into()),
            ..cp::CachePolicyConfig::new(CachePolicyConfigRequired {
                default_ttl: f(c.default_ttl_seconds),
                max_ttl: f(c.max_ttl_seconds),
                min_ttl: f(c.min_ttl_seconds),
                name: policy_name(path, "api", 128).into(),
                parameters_in_cache_key_and_forwarded_to_origin:
                    cp::ParametersInCacheKeyAndForwardedToOrigin {
                        enable_accept_encoding_brotli: Some(true.into()),
                        ..cp::ParametersInCacheKeyAndForwardedToOrigin::new(
                            match &c.cookies {
                                c if c.is_none() => cp::CookiesConfig::new("none"),
                                Cookies::Only(names) => cp::CookiesConfig {
                                    cookies: Some(list(names)),
                                    ..cp::CookiesConfig::new("whitelist")
                                },
                                _ => cp::CookiesConfig::new("all"),
                            },
                            true,
                            if c.cache_key_headers.is_empty() {
                                cp::HeadersConfig::new("none")
                            } else {
                                cp::HeadersConfig {
                                    headers: Some(list(&c.cache_key_headers)),
                                    ..cp::HeadersConfig::new("whitelist")
                                }
                            },
                            cp::QueryStringsConfig::new("all"),
                        )
                    },
            })
        }),
    )?;
    let mut origin_headers = c.origin_headers.clone();
    if api.forward_host_header {
        origin_headers.push("Host".to_string());
    }
    let request_policy = me.add(
        "ApiOriginRequestPolicy",
        cfn::cloudfront::OriginRequestPolicy::new(orp::OriginRequestPolicyConfig {
            comment: Some("API requests: viewer headers, query strings, cookies".into()),
            ..orp::OriginRequestPolicyConfig::new(
                match &c.cookies {
                    c if c.is_none() => orp::CookiesConfig::new("none"),
                    Cookies::Only(names) => orp::CookiesConfig {
                        cookies: Some(list(names)),
                        ..orp::CookiesConfig::new("whitelist")
                    },
                    _ => orp::CookiesConfig::new("all"),
                },
                if origin_headers.is_empty() {
                    orp::HeadersConfig::new("none")
                } else {
                    orp::HeadersConfig {
                        headers: Some(list(&origin_headers)),
                        ..orp::HeadersConfig::new("whitelist")
                    }
                },
                policy_name(path, "api-request", 128),
                orp::QueryStringsConfig::new("all"),
            )
        }),
    )?;
    let origin = d::Origin {
        custom_origin_config: Some(d::CustomOriginConfig {
            https_port: Some(i64::from(api.https_port).into()),
            origin_ssl_protocols: Some(vec!["TLSv1.2"].into()),
            ..d::CustomOriginConfig::new("https-only")
        }),
        ..d::Origin::new(OriginRequired {
            domain_name: api.load_balancer.dns_name.clone(),
            id: API_ORIGIN.into(),
        })
    };
    let behavior = d::CacheBehavior {
        cache_policy_id: Some(api_policy.attr_id()),
        origin_request_policy_id: Some(request_policy.attr_id()),
        response_headers_policy_id: Some(headers_policy.attr_id()),
        compress: Some(true.into()),
        allowed_methods: Some(
            vec!["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"].into(),
        ),
        cached_methods: Some(vec!["GET", "HEAD"].into()),
        ..d::CacheBehavior::new(CacheBehaviorRequired {
            path_pattern: api.path_pattern.as_str().into(),
            target_origin_id: API_ORIGIN.into(),
            viewer_protocol_policy: "https-only".into(),
        })
    };
    if let Some(conn) = &api.restrict_to_cloudfront {
        conn.refuse_imported(
            "api.restrict_to_cloudfront",
            "restrict_to_cloudfront",
            "admit CloudFront's origin-facing prefix list where the group is managed, and leave restrict_to_cloudfront unset",
        )?;
        let pl = cloudfront_prefix_list(region).ok_or_else(|| {
            Error::invalid_prop(path, "api.restrict_to_cloudfront", "unknown region")
        })?;
        me.add(
            "ApiIngressFromCloudFront",
            cfn::ec2::SecurityGroupIngress {
                group_id: Some(conn.security_group_id()),
                source_prefix_list_id: Some(pl.into()),
                from_port: Some(i64::from(api.https_port).into()),
                to_port: Some(i64::from(api.https_port).into()),
                description: Some(
                    format!(
                        "CloudFront origin-facing addresses to HTTPS {}",
                        api.https_port
                    )
                    .into(),
                ),
                ..cfn::ec2::SecurityGroupIngress::new("tcp")
            },
        )?;
    }
    Ok((origin, behavior))
}

/// The viewer certificate: the ACM certificate (SNI, TLS 1.2+) or
/// CloudFront's default one.
fn viewer_certificate(props: &CdnProps) -> d::ViewerCertificate {
    match &props.certificate {
        Some(cert) => d::ViewerCertificate {
            acm_certificate_arn: Some(cert.arn().clone()),
            ssl_support_method: Some(d::SslSupportMethod::SniOnly.into()),
            minimum_protocol_version: Some(d::MinimumProtocolVersion::Tlsv1_2_2021.into()),
            ..d::ViewerCertificate::new()
        },
        None => d::ViewerCertificate {
            cloud_front_default_certificate: Some(true.into()),
            ..d::ViewerCertificate::new()
        },
    }
}

/// The distribution-wide error responses of the SPA fallbacks that use them.
fn custom_error_responses(props: &CdnProps) -> Option<Vec<d::CustomErrorResponse>> {
    let error_page = format!("/{}", props.default_root_object);
    let codes: &[i64] = match props.spa_fallback {
        SpaFallback::Off | SpaFallback::RewriteRoutes => &[],
        SpaFallback::NotFound => &[404],
        SpaFallback::ForbiddenAndNotFound => &[403, 404],
    };
    (!codes.is_empty()).then(|| {
        codes
            .iter()
            .copied()
            .map(|code| d::CustomErrorResponse {
                response_code: Some(200.into()),
                response_page_path: Some(error_page.as_str().into()),
                error_caching_min_ttl: Some(f(10)),
                ..d::CustomErrorResponse::new(code)
            })
            .collect::<Vec<_>>()
    })
}

/// The viewer-request function serving the SPA for routes (with
/// [`SpaFallback::RewriteRoutes`]).
fn spa_route_function(
    me: &mut Scope<'_>,
    path: &ConstructPath,
    props: &CdnProps,
) -> Result<Option<Handle<cfn::cloudfront::Function>>> {
    Ok(match props.spa_fallback {
        SpaFallback::RewriteRoutes => Some(me.add(
            "SpaRoutes",
            cfn::cloudfront::Function {
                name: policy_name(path, "spa-routes", 64).into(),
                function_code: spa_routes_code(&props.default_root_object).into(),
                function_config: cfn::cloudfront::function::FunctionConfig::new(
                    "Serves the single-page app for routes without a file extension",
                    cfn::cloudfront::function::Runtime::CloudfrontJs2_0,
                ),
                auto_publish: Some(true.into()),
                function_metadata: None,
                tags: None,
            },
        )?),
        _ => None,
    })
}
