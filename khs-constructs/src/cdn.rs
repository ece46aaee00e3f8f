//! [`Cdn`]: the frontend bucket behind a CloudFront distribution, with the
//! API load balancer as a second origin.
//!
//! What a `Cdn` emits:
//! - a [`Bucket`] (`<id>/Bucket`, secure defaults: versioned, SSE-S3, no
//!   public access, TLS only) whose policy lets only this distribution read
//!   objects, through an `AWS::CloudFront::OriginAccessControl`;
//! - `AWS::CloudFront::CachePolicy` `StaticAssets` for the long-cache
//!   patterns (`*.js`: default = max = one year, gzip and brotli);
//! - with an [`ApiOrigin`]: `AWS::CloudFront::CachePolicy` `Api` (min 0,
//!   default 0, max 300 s; `Authorization`, `Accept`, `Content-Type`, every
//!   query string and the cookies `session` and `auth-token` in the cache
//!   key) and `AWS::CloudFront::OriginRequestPolicy` `ApiOriginRequest`
//!   (`CloudFront-Viewer-Country`, `CloudFront-Is-Mobile-Viewer`, `Host`,
//!   every query string, the two cookies), and, when
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

use crate::cfn::attributes::*;
use crate::cfn::cloudfront::cache_policy::CachePolicyConfigRequired;
use crate::cfn::cloudfront::distribution::CacheBehaviorRequired;
use crate::cfn::cloudfront::distribution::OriginRequired;
use crate::cfn::cloudfront::origin_access_control::OriginAccessControlConfigRequired;
use crate::cfn::cloudfront::response_headers_policy::XssProtectionRequired;
use std::collections::BTreeSet;

use crate::cfn;
use crate::cfn::cloudfront::cache_policy as cp;
use crate::cfn::cloudfront::distribution as d;
use crate::cfn::cloudfront::origin_request_policy as orp;
use crate::cfn::cloudfront::response_headers_policy as rhp;
use crate::connections::Connections;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::{List, Value};
use crate::dns::CertificateRef;
use crate::storage::{
    Bucket, BucketEncryption, BucketGrant, BucketProps, BucketRef, ObjectOwnership,
};
use crate::waf::{CLOUDFRONT_REGION, WafScope, WebAclRef};

/// One year in seconds: the seed's TTL for `*.js`.
pub const ONE_YEAR_SECONDS: u32 = 31_536_000;
/// The seed's maximum TTL of API responses, in seconds.
pub const DEFAULT_API_MAX_TTL_SECONDS: u32 = 300;
/// Two years in seconds: the default HSTS max-age.
pub const DEFAULT_HSTS_MAX_AGE_SECONDS: u32 = 63_072_000;
/// The id of CloudFront's managed `CachingOptimized` cache policy.
pub const CACHING_OPTIMIZED_POLICY_ID: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// The id of CloudFront's managed `CachingDisabled` cache policy.
pub const CACHING_DISABLED_POLICY_ID: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// The name of the CloudFront origin-facing managed prefix list.
pub const CLOUDFRONT_PREFIX_LIST_NAME: &str = "com.amazonaws.global.cloudfront.origin-facing";
/// The most headers (and, separately, cookies) a cache or origin request
/// policy can list.
pub const MAX_POLICY_NAMES: usize = 10;

/// The id of the CloudFront origin-facing managed prefix list
/// (`com.amazonaws.global.cloudfront.origin-facing`) per region.
///
/// CloudFormation cannot look a prefix list up by name, and the ids differ
/// per region, so they are kept here. Add a region after checking its id
/// with `aws ec2 describe-managed-prefix-lists --region <r> --filters
/// Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`.
pub const CLOUDFRONT_PREFIX_LISTS: [(&str, &str); 10] = [
    ("ap-northeast-1", "pl-58a04531"),
    ("ap-southeast-1", "pl-31a34658"),
    ("ap-southeast-2", "pl-b8a742d1"),
    ("eu-central-1", "pl-a3a144ca"),
    ("eu-west-1", "pl-4fa04526"),
    ("eu-west-2", "pl-93a247fa"),
    ("us-east-1", "pl-3b927c52"),
    ("us-east-2", "pl-b6a144df"),
    ("us-west-1", "pl-4ea04527"),
    ("us-west-2", "pl-82a045eb"),
];

/// The CloudFront origin-facing prefix list id of `region`, if known.
pub fn cloudfront_prefix_list(region: &str) -> Option<&'static str> {
    CLOUDFRONT_PREFIX_LISTS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, id)| *id)
}

/// Which edge locations serve the distribution (and what it costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum PriceClass {
    /// North America and Europe (cheapest).
    #[serde(rename = "PriceClass_100")]
    PriceClass100,
    /// Adds Asia, the Middle East and Africa.
    #[serde(rename = "PriceClass_200")]
    PriceClass200,
    /// Every edge location.
    #[serde(rename = "PriceClass_All")]
    All,
}

/// How the single-page app's routes (deep links such as `/customers/42`)
/// reach `/<default_root_object>`.
///
/// CloudFront applies custom error responses to the whole distribution, so
/// the error-response variants also rewrite API answers (a 404 from
/// `/api/*` becomes the app's HTML with 200) and, for 403, the requests the
/// WAF blocks. [`SpaFallback::RewriteRoutes`] avoids that: a CloudFront
/// Function on the default behaviour (the bucket) only, run on the viewer
/// request, serves `index.html` for paths without a file extension; the API
/// behaviour and every error status are left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaFallback {
    /// No fallback: deep links answer S3's error.
    Off,
    /// An `AWS::CloudFront::Function` (`cloudfront-js-2.0`, viewer request,
    /// default behaviour only) rewrites paths whose last segment has no `.`
    /// to `/<default_root_object>`. Missing files keep their 404 (CloudFront
    /// may `s3:ListBucket`), API errors and WAF blocks reach the client
    /// unchanged. No custom error responses.
    RewriteRoutes,
    /// 404 only; CloudFront may also list the bucket (missing keys → 404).
    NotFound,
    /// 403 and 404 (the seed); WAF blocks and API 403s become the app's
    /// `index.html` too.
    ForbiddenAndNotFound,
}

/// `X-Frame-Options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOptions {
    /// `DENY`: never framed.
    Deny,
    /// `SAMEORIGIN`: framed by the same origin only.
    SameOrigin,
}

/// The security headers added to every response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security` max-age.
    ///
    /// Default: [`DEFAULT_HSTS_MAX_AGE_SECONDS`] (two years).
    pub hsts_max_age_seconds: u32,
    /// HSTS `includeSubDomains`.
    ///
    /// Default: `true`.
    pub hsts_include_subdomains: bool,
    /// HSTS `preload` (a commitment: browsers hard-code the domain).
    ///
    /// Default: `false`.
    pub hsts_preload: bool,
    /// `X-Frame-Options`.
    ///
    /// Default: [`FrameOptions::Deny`].
    pub frame_options: FrameOptions,
    /// `Referrer-Policy`.
    ///
    /// Default: `strict-origin-when-cross-origin`.
    pub referrer_policy: String,
    /// `Content-Security-Policy`.
    ///
    /// Default: - none (a policy must be written for the app's own
    /// scripts and API calls, or it breaks the site).
    pub content_security_policy: Option<String>,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        SecurityHeaders {
            hsts_max_age_seconds: DEFAULT_HSTS_MAX_AGE_SECONDS,
            hsts_include_subdomains: true,
            hsts_preload: false,
            frame_options: FrameOptions::Deny,
            referrer_policy: "strict-origin-when-cross-origin".to_string(),
            content_security_policy: None,
        }
    }
}

/// How API responses are cached and what reaches the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCache {
    /// Minimum TTL, seconds.
    ///
    /// Default: `0`.
    pub min_ttl_seconds: u32,
    /// TTL when the API sends no `Cache-Control`, seconds.
    ///
    /// Default: `0` (not cached unless the API says so).
    pub default_ttl_seconds: u32,
    /// Maximum TTL, seconds.
    ///
    /// Default: [`DEFAULT_API_MAX_TTL_SECONDS`] (300).
    pub max_ttl_seconds: u32,
    /// Headers in the cache key (and forwarded).
    ///
    /// Default: `Authorization`, `Accept`, `Content-Type`.
    pub cache_key_headers: Vec<String>,
    /// Cookies in the cache key and forwarded (so a cached response never
    /// crosses sessions).
    ///
    /// Default: `session`, `auth-token`.
    pub cookies: Vec<String>,
    /// Headers forwarded but not in the cache key (CloudFront viewer
    /// headers).
    ///
    /// Default: `CloudFront-Viewer-Country`, `CloudFront-Is-Mobile-Viewer`.
    pub origin_headers: Vec<String>,
}

impl Default for ApiCache {
    fn default() -> Self {
        ApiCache {
            min_ttl_seconds: 0,
            default_ttl_seconds: 0,
            max_ttl_seconds: DEFAULT_API_MAX_TTL_SECONDS,
            cache_key_headers: vec![
                "Authorization".to_string(),
                "Accept".to_string(),
                "Content-Type".to_string(),
            ],
            cookies: vec!["session".to_string(), "auth-token".to_string()],
            origin_headers: vec![
                "CloudFront-Viewer-Country".to_string(),
                "CloudFront-Is-Mobile-Viewer".to_string(),
            ],
        }
    }
}

/// The API load balancer as the distribution's second origin.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOrigin {
    /// The load balancer (its DNS name is the origin's domain).
    pub load_balancer: Handle<cfn::elasticloadbalancingv2::LoadBalancer>,
    /// The load balancer's security group: when set, the `Cdn` opens
    /// `https_port` to the CloudFront origin-facing prefix list on it. The
    /// group must not also be open to `0.0.0.0/0`, or the restriction is
    /// moot.
    ///
    /// Default: - no rule is added (restrict the load balancer yourself).
    pub restrict_to_cloudfront: Option<Connections>,
    /// The path pattern routed to the API.
    ///
    /// Default: `/api/*`.
    pub path_pattern: String,
    /// The load balancer's HTTPS listener port (CloudFront speaks HTTPS
    /// only to the origin, TLS 1.2).
    ///
    /// Default: `443`.
    pub https_port: u16,
    /// Forward the viewer's `Host` header: CloudFront then checks the load
    /// balancer's certificate against the site's name (`app.khscrm.com`)
    /// rather than the load balancer's DNS name, which its certificate does
    /// not cover.
    ///
    /// Default: `true`.
    pub forward_host_header: bool,
    /// Caching and forwarding.
    ///
    /// Default: [`ApiCache::default`] (the seed's values).
    pub cache: ApiCache,
}

impl ApiOrigin {
    /// The load balancer as API origin, every other field at its default.
    pub fn new(load_balancer: Handle<cfn::elasticloadbalancingv2::LoadBalancer>) -> Self {
        ApiOrigin {
            load_balancer,
            restrict_to_cloudfront: None,
            path_pattern: "/api/*".to_string(),
            https_port: 443,
            forward_host_header: true,
            cache: ApiCache::default(),
        }
    }
}

/// Standard (legacy) access logs of the distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct CdnAccessLogs {
    /// The bucket; it must have ACLs enabled
    /// ([`ObjectOwnership::BucketOwnerPreferred`]) and SSE-S3 encryption,
    /// as CloudFront standard logs are delivered with an ACL grant.
    pub bucket: BucketRef,
    /// The key prefix (ends with `/`).
    pub prefix: String,
}

/// Props of a [`Cdn`].
#[derive(Debug, Clone, PartialEq)]
pub struct CdnProps {
    /// The frontend bucket.
    ///
    /// Default: [`BucketProps::default`] (generated name, versioned,
    /// SSE-S3, retained).
    pub bucket: BucketProps,
    /// Alternate domain names (`app.khscrm.com`); each needs
    /// [`CdnProps::certificate`] to cover it.
    ///
    /// Default: - none (only the `*.cloudfront.net` name).
    pub aliases: Vec<String>,
    /// The viewer certificate: an ACM certificate in us-east-1.
    ///
    /// Default: - the default CloudFront certificate (no aliases allowed).
    pub certificate: Option<CertificateRef>,
    /// The API origin.
    ///
    /// Default: - no API origin.
    pub api: Option<ApiOrigin>,
    /// A WAF web ACL with scope `CLOUDFRONT`.
    ///
    /// Default: - no web ACL.
    pub web_acl: Option<WebAclRef>,
    /// Standard access logs.
    ///
    /// Default: - no access logs.
    pub access_logs: Option<CdnAccessLogs>,
    /// The price class.
    ///
    /// Default: [`PriceClass::PriceClass100`] (North America and Europe:
    /// KHS CRM's users are in the US, Canada and Mexico).
    pub price_class: PriceClass,
    /// Path patterns of versioned assets cached for
    /// [`CdnProps::long_cache_seconds`].
    ///
    /// Default: `*.js`.
    pub long_cache_patterns: Vec<String>,
    /// Default and maximum TTL of the long-cache patterns.
    ///
    /// Default: [`ONE_YEAR_SECONDS`].
    pub long_cache_seconds: u32,
    /// Paths never cached at the edge.
    ///
    /// Default: `/sw.js` (the service worker must update promptly).
    pub no_cache_paths: Vec<String>,
    /// The object served for `/`.
    ///
    /// Default: `index.html`.
    pub default_root_object: String,
    /// Which errors are answered with `/<default_root_object>` and 200, so
    /// the single-page app's router handles deep links. CloudFront applies
    /// custom error responses to every behaviour and to WAF blocks too: see
    /// [`SpaFallback`].
    ///
    /// Default: [`SpaFallback::RewriteRoutes`].
    pub spa_fallback: SpaFallback,
    /// Security headers.
    ///
    /// Default: [`SecurityHeaders::default`].
    pub security_headers: SecurityHeaders,
    /// The distribution's comment.
    ///
    /// Default: - the construct path.
    pub comment: Option<String>,
}

impl Default for CdnProps {
    fn default() -> Self {
        CdnProps {
            bucket: BucketProps::default(),
            aliases: Vec::new(),
            certificate: None,
            api: None,
            web_acl: None,
            access_logs: None,
            price_class: PriceClass::PriceClass100,
            long_cache_patterns: vec!["*.js".to_string()],
            long_cache_seconds: ONE_YEAR_SECONDS,
            no_cache_paths: vec!["/sw.js".to_string()],
            default_root_object: "index.html".to_string(),
            spa_fallback: SpaFallback::RewriteRoutes,
            security_headers: SecurityHeaders::default(),
            comment: None,
        }
    }
}

/// The frontend distribution. See the module documentation.
#[derive(Debug)]
pub struct Cdn {
    bucket: Bucket,
    distribution: Handle<cfn::cloudfront::Distribution>,
    origin_access_control: Handle<cfn::cloudfront::OriginAccessControl>,
}

fn check_pattern(path: &ConstructPath, prop: &str, p: &str) -> Result<()> {
    let ok = !p.is_empty()
        && p.len() <= 255
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.*$/~\"'@:+&?".contains(c));
    if !ok {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must be a CloudFront path pattern (1 to 255 of A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + & ?), got {p:?}"
            ),
        ));
    }
    Ok(())
}

fn check_names(path: &ConstructPath, prop: &str, names: &[String]) -> Result<()> {
    if names.len() > MAX_POLICY_NAMES {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must list at most {MAX_POLICY_NAMES} names (a CloudFront policy quota), got {}",
                names.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for n in names {
        if n.is_empty() || n.chars().any(|c| c.is_whitespace()) {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!("must hold non-empty names without spaces, got {n:?}"),
            ));
        }
        if !seen.insert(n.to_ascii_lowercase()) {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!("must list each name once, got {n:?} twice"),
            ));
        }
    }
    Ok(())
}

/// Checks `props` for a distribution at `path` in `region`.
fn validate(path: &ConstructPath, props: &CdnProps, region: &str) -> Result<()> {
    match (&props.certificate, props.aliases.is_empty()) {
        (None, false) => {
            return Err(Error::invalid_prop(
                path,
                "aliases",
                format!(
                    "need a certificate that covers them, got aliases {:?} and no certificate; set certificate (an ACM certificate in us-east-1)",
                    props.aliases
                ),
            ));
        }
        (Some(cert), _) => {
            if cert.region() != CLOUDFRONT_REGION {
                return Err(Error::invalid_prop(
                    path,
                    "certificate",
                    format!(
                        "must be an ACM certificate in {CLOUDFRONT_REGION} (CloudFront reads certificates only there), got one in {}; create it through khs_constructs::edge::Edge",
                        cert.region()
                    ),
                ));
            }
            for alias in &props.aliases {
                if !cert.covers(alias) {
                    return Err(Error::invalid_prop(
                        path,
                        "aliases",
                        format!(
                            "must be covered by the certificate (names {:?}), got {alias:?}",
                            cert.names()
                        ),
                    ));
                }
            }
        }
        (None, true) => {}
    }
    let mut seen = BTreeSet::new();
    for a in &props.aliases {
        if !seen.insert(a.as_str()) {
            return Err(Error::invalid_prop(
                path,
                "aliases",
                format!("must list each name once, got {a:?} twice"),
            ));
        }
    }
    if let Some(acl) = &props.web_acl {
        if acl.scope() != WafScope::CloudFront {
            return Err(Error::invalid_prop(
                path,
                "web_acl",
                "must have scope CLOUDFRONT, got a REGIONAL web acl",
            ));
        }
    }
    if let Some(logs) = &props.access_logs {
        if logs.bucket.object_ownership() != ObjectOwnership::BucketOwnerPreferred {
            return Err(Error::invalid_prop(
                path,
                "access_logs.bucket",
                format!(
                    "must have ACLs enabled (object_ownership: ObjectOwnership::BucketOwnerPreferred), as CloudFront standard logs are written with an ACL grant, got {} with ACLs disabled",
                    logs.bucket.path()
                ),
            ));
        }
        if logs.bucket.kms_encrypted() {
            return Err(Error::invalid_prop(
                path,
                "access_logs.bucket",
                format!(
                    "must use SSE-S3 encryption for CloudFront standard logs, got {} with SSE-KMS",
                    logs.bucket.path()
                ),
            ));
        }
        if logs.prefix.starts_with('/') || !logs.prefix.ends_with('/') {
            return Err(Error::invalid_prop(
                path,
                "access_logs.prefix",
                format!(
                    "must end with '/' and not start with one, got {:?}",
                    logs.prefix
                ),
            ));
        }
    }
    if let BucketEncryption::Kms { key: None } = props.bucket.encryption {
        return Err(Error::invalid_prop(
            path,
            "bucket.encryption",
            "must be SSE-S3 or SSE-KMS with a customer managed key whose policy lets CloudFront decrypt, got SSE-KMS with the AWS managed key aws/s3 (CloudFront cannot use it)",
        ));
    }
    if props.long_cache_seconds == 0 {
        return Err(Error::invalid_prop(
            path,
            "long_cache_seconds",
            "must be at least 1 second, got 0 (use no_cache_paths for paths that must not be cached)",
        ));
    }
    let root = &props.default_root_object;
    if root.is_empty() || root.starts_with('/') {
        return Err(Error::invalid_prop(
            path,
            "default_root_object",
            format!("must be an object key without a leading '/', got {root:?}"),
        ));
    }
    let sh = &props.security_headers;
    if sh.hsts_max_age_seconds == 0 {
        return Err(Error::invalid_prop(
            path,
            "security_headers.hsts_max_age_seconds",
            "must be at least 1 second, got 0",
        ));
    }
    let mut patterns: Vec<(&str, &str)> = Vec::new();
    for p in &props.no_cache_paths {
        patterns.push(("no_cache_paths", p));
    }
    for p in &props.long_cache_patterns {
        patterns.push(("long_cache_patterns", p));
    }
    if let Some(api) = &props.api {
        patterns.push(("api.path_pattern", &api.path_pattern));
        if api.https_port == 0 {
            return Err(Error::invalid_prop(
                path,
                "api.https_port",
                "must be 1 to 65535, got 0",
            ));
        }
        let c = &api.cache;
        if !(c.min_ttl_seconds <= c.default_ttl_seconds
            && c.default_ttl_seconds <= c.max_ttl_seconds)
        {
            return Err(Error::invalid_prop(
                path,
                "api.cache",
                format!(
                    "must have min_ttl_seconds <= default_ttl_seconds <= max_ttl_seconds, got {} / {} / {}",
                    c.min_ttl_seconds, c.default_ttl_seconds, c.max_ttl_seconds
                ),
            ));
        }
        if c.max_ttl_seconds == 0 && (!c.cache_key_headers.is_empty() || !c.cookies.is_empty()) {
            return Err(Error::invalid_prop(
                path,
                "api.cache.max_ttl_seconds",
                "must be above 0 when headers or cookies are in the cache key (CloudFront refuses a cache key on a policy that never caches), got 0",
            ));
        }
        check_names(path, "api.cache.cache_key_headers", &c.cache_key_headers)?;
        check_names(path, "api.cache.cookies", &c.cookies)?;
        let mut origin_headers = c.origin_headers.clone();
        if api.forward_host_header {
            origin_headers.push("Host".to_string());
        }
        check_names(path, "api.cache.origin_headers", &origin_headers)?;
        if let Some(h) = c
            .origin_headers
            .iter()
            .find(|h| h.eq_ignore_ascii_case("authorization"))
        {
            return Err(Error::invalid_prop(
                path,
                "api.cache.origin_headers",
                format!(
                    "must not hold {h:?} (CloudFront forwards Authorization only through the cache key: put it in cache_key_headers)"
                ),
            ));
        }
        if api.restrict_to_cloudfront.is_some() && cloudfront_prefix_list(region).is_none() {
            let known: Vec<&str> = CLOUDFRONT_PREFIX_LISTS.iter().map(|(r, _)| *r).collect();
            return Err(Error::invalid_prop(
                path,
                "api.restrict_to_cloudfront",
                format!(
                    "needs the id of the {CLOUDFRONT_PREFIX_LIST_NAME} prefix list in {region}, which the library does not know (known: {}); add it to cdn::CLOUDFRONT_PREFIX_LISTS",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (prop, p) in patterns {
        check_pattern(path, prop, p)?;
        if !seen.insert(p) {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!("must not repeat a path pattern another behaviour uses, got {p:?} twice"),
            ));
        }
    }
    Ok(())
}

/// A CloudFront resource name: `<stack>-<path ids>-<suffix>`, letters,
/// digits, `-` and `_`, at most `max` characters (the end is kept).
/// The viewer-request function of [`SpaFallback::RewriteRoutes`]: a path
/// whose last segment has no `.` (a route of the app, or `/`) is served
/// `/<root>`; files (`/assets/app.3f2c.js`, `/favicon.ico`) pass through.
fn spa_routes_code(root: &str) -> String {
    format!(
        "function handler(event) {{\n  var request = event.request;\n  var last = request.uri.split('/').pop();\n  if (last.indexOf('.') === -1) {{\n    request.uri = '/{root}';\n  }}\n  return request;\n}}\n"
    )
}

fn policy_name(path: &ConstructPath, suffix: &str, max: usize) -> String {
    let mut parts = vec![path.stack().to_string()];
    parts.extend(path.ids().iter().cloned());
    parts.push(suffix.to_string());
    let name: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.len() > max {
        name[name.len() - max..].to_string()
    } else {
        name
    }
}

fn list(names: &[String]) -> List<String> {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<&str>>()
        .into()
}

fn f(seconds: u32) -> Value<f64> {
    Value::Literal(f64::from(seconds))
}

const S3_ORIGIN: &str = "frontend";
const API_ORIGIN: &str = "api";

impl Cdn {
    /// Adds the bucket and the distribution under `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: CdnProps) -> Result<Cdn> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let region = me.env().region.clone();
        validate(&path, &props, &region)?;

        let mut bucket = Bucket::new(&mut me, "Bucket", props.bucket.clone())?;
        let oac = me.add(
            "OriginAccessControl",
            cfn::cloudfront::OriginAccessControl::new(
                cfn::cloudfront::origin_access_control::OriginAccessControlConfig {
                    description: Some(
                        format!("{path}: CloudFront reads the frontend bucket").into(),
                    ),
                    ..cfn::cloudfront::origin_access_control::OriginAccessControlConfig::new(
                        OriginAccessControlConfigRequired {
                            name: policy_name(&path, "oac", 64).into(),
                            origin_access_control_origin_type: "s3".into(),
                            signing_behavior: "always".into(),
                            signing_protocol: "sigv4".into(),
                        },
                    )
                },
            ),
        )?;

        let static_policy = me.add(
            "StaticAssetsCachePolicy",
            cfn::cloudfront::CachePolicy::new(cp::CachePolicyConfig {
                comment: Some(
                    format!("versioned assets cached {} s", props.long_cache_seconds).into(),
                ),
                ..cp::CachePolicyConfig::new(CachePolicyConfigRequired {
                    default_ttl: f(props.long_cache_seconds),
                    max_ttl: f(props.long_cache_seconds),
                    min_ttl: f(0),
                    name: policy_name(&path, "static", 128).into(),
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
        )?;

        let sh = &props.security_headers;
        let headers_policy = me.add(
            "SecurityHeadersPolicy",
            cfn::cloudfront::ResponseHeadersPolicy::new(rhp::ResponseHeadersPolicyConfig {
                comment: Some("security headers".into()),
                security_headers_config: Some(rhp::SecurityHeadersConfig {
                    strict_transport_security: Some(rhp::StrictTransportSecurity {
                        include_subdomains: Some(sh.hsts_include_subdomains.into()),
                        preload: Some(sh.hsts_preload.into()),
                        ..rhp::StrictTransportSecurity::new(
                            i64::from(sh.hsts_max_age_seconds),
                            true,
                        )
                    }),
                    content_type_options: Some(rhp::ContentTypeOptions::new(true)),
                    frame_options: Some(rhp::FrameOptions::new(
                        match sh.frame_options {
                            FrameOptions::Deny => "DENY",
                            FrameOptions::SameOrigin => "SAMEORIGIN",
                        },
                        true,
                    )),
                    referrer_policy: Some(rhp::ReferrerPolicy::new(
                        true,
                        sh.referrer_policy.as_str(),
                    )),
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
                ..rhp::ResponseHeadersPolicyConfig::new(policy_name(&path, "security", 128))
            }),
        )?;

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
            let c = &api.cache;
            let api_policy = me.add(
                "ApiCachePolicy",
                cfn::cloudfront::CachePolicy::new(cp::CachePolicyConfig {
                    comment: Some("API responses: cached only when the API allows it".into()),
                    ..cp::CachePolicyConfig::new(CachePolicyConfigRequired {
                        default_ttl: f(c.default_ttl_seconds),
                        max_ttl: f(c.max_ttl_seconds),
                        min_ttl: f(c.min_ttl_seconds),
                        name: policy_name(&path, "api", 128).into(),
                        parameters_in_cache_key_and_forwarded_to_origin:
                            cp::ParametersInCacheKeyAndForwardedToOrigin {
                                enable_accept_encoding_brotli: Some(true.into()),
                                ..cp::ParametersInCacheKeyAndForwardedToOrigin::new(
                                    if c.cookies.is_empty() {
                                        cp::CookiesConfig::new("none")
                                    } else {
                                        cp::CookiesConfig {
                                            cookies: Some(list(&c.cookies)),
                                            ..cp::CookiesConfig::new("whitelist")
                                        }
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
                    comment: Some(
                        "API requests: viewer headers, query strings, session cookies".into(),
                    ),
                    ..orp::OriginRequestPolicyConfig::new(
                        if c.cookies.is_empty() {
                            orp::CookiesConfig::new("none")
                        } else {
                            orp::CookiesConfig {
                                cookies: Some(list(&c.cookies)),
                                ..orp::CookiesConfig::new("whitelist")
                            }
                        },
                        if origin_headers.is_empty() {
                            orp::HeadersConfig::new("none")
                        } else {
                            orp::HeadersConfig {
                                headers: Some(list(&origin_headers)),
                                ..orp::HeadersConfig::new("whitelist")
                            }
                        },
                        policy_name(&path, "api-request", 128),
                        orp::QueryStringsConfig::new("all"),
                    )
                }),
            )?;
            origins.push(d::Origin {
                custom_origin_config: Some(d::CustomOriginConfig {
                    https_port: Some(i64::from(api.https_port).into()),
                    origin_ssl_protocols: Some(vec!["TLSv1.2"].into()),
                    ..d::CustomOriginConfig::new("https-only")
                }),
                ..d::Origin::new(OriginRequired {
                    domain_name: api.load_balancer.attr_dns_name(),
                    id: API_ORIGIN.into(),
                })
            });
            behaviors.push(d::CacheBehavior {
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
            });
            if let Some(conn) = &api.restrict_to_cloudfront {
                let pl = cloudfront_prefix_list(&region).ok_or_else(|| {
                    Error::invalid_prop(&path, "api.restrict_to_cloudfront", "unknown region")
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

        let viewer_certificate = match &props.certificate {
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
        };
        let error_page = format!("/{}", props.default_root_object);
        let codes: &[i64] = match props.spa_fallback {
            SpaFallback::Off | SpaFallback::RewriteRoutes => &[],
            SpaFallback::NotFound => &[404],
            SpaFallback::ForbiddenAndNotFound => &[403, 404],
        };
        let custom_error_responses = (!codes.is_empty()).then(|| {
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
        });
        let route_function = match props.spa_fallback {
            SpaFallback::RewriteRoutes => Some(me.add(
                "SpaRoutes",
                cfn::cloudfront::Function {
                    name: policy_name(&path, "spa-routes", 64).into(),
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
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::{Egress, Port};
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::dns::{Certificate, CertificateProps, HostedZoneRef};
    use crate::storage::BucketName;
    use crate::waf::{Waf, WafProps};
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
        let cdn = Cdn::new(&mut s, "Cdn", CdnProps::default()).unwrap();
        assert_eq!(cdn.distribution().logical_id().as_str(), "CdnDistribution");
        let r = resources(&s);
        let cfg = &r["CdnDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(cfg["HttpVersion"], "http2and3");
        assert_eq!(cfg["PriceClass"], "PriceClass_100");
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
        assert_eq!(
            req["CookiesConfig"],
            json!({"CookieBehavior": "whitelist", "Cookies": ["session", "auth-token"]})
        );
        assert_eq!(
            r["CdnApiIngressFromCloudFront"]["Properties"]["SourcePrefixListId"],
            "pl-3b927c52"
        );
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
                        cookies: vec!["session".into(), "session".into()],
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
