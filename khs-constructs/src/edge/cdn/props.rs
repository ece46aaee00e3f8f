//! The props of a [`Cdn`](super::Cdn): price class, SPA fallback, security headers, the API origin and its cache.

use crate::edge::waf::WebAclRef;
use crate::network::connections::Connections;
use crate::network::dns::CertificateRef;
use crate::storage::bucket::{BucketProps, BucketRef};

/// One year in seconds: the cache TTL of fingerprinted static assets (`*.js`).
pub const ONE_YEAR_SECONDS: u32 = 31_536_000;
/// The default maximum TTL of API responses, in seconds (five minutes).
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

/// Which viewer cookies reach the API and key its cached responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cookies {
    /// None: the API sees no cookies.
    None,
    /// Every cookie.
    All,
    /// Only these (CloudFront's whitelist; at most 10 in a cache policy).
    Only(Vec<String>),
}

impl Cookies {
    /// Whether no cookie is forwarded.
    pub fn is_none(&self) -> bool {
        matches!(self, Cookies::None) || matches!(self, Cookies::Only(v) if v.is_empty())
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
    /// Default: [`Cookies::All`] (whatever session cookie the API uses
    /// reaches it; name them with [`Cookies::Only`] to cache better).
    pub cookies: Cookies,
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
            cookies: Cookies::All,
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
    /// The load balancer (its DNS name is the origin's domain): of the app
    /// or imported ([`crate::compute::LoadBalancer::import`]).
    pub load_balancer: crate::compute::import::LoadBalancerEndpoint,
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
    /// balancer's certificate against the site's name (`app.example.org`)
    /// rather than the load balancer's DNS name, which its certificate does
    /// not cover.
    ///
    /// Default: `true`.
    pub forward_host_header: bool,
    /// Caching and forwarding.
    ///
    /// Default: [`ApiCache::default`].
    pub cache: ApiCache,
}

impl ApiOrigin {
    /// The load balancer as API origin, every other field at its default.
    pub fn new(load_balancer: impl Into<crate::compute::import::LoadBalancerEndpoint>) -> Self {
        ApiOrigin {
            load_balancer: load_balancer.into(),
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
    /// ([`ObjectOwnership::BucketOwnerPreferred`](crate::storage::ObjectOwnership::BucketOwnerPreferred)) and SSE-S3 encryption,
    /// as CloudFront standard logs are delivered with an ACL grant.
    pub bucket: BucketRef,
    /// The key prefix (ends with `/`).
    pub prefix: String,
}

/// Props of a [`Cdn`](super::Cdn).
#[derive(Debug, Clone, PartialEq)]
pub struct CdnProps {
    /// The frontend bucket.
    ///
    /// Default: [`BucketProps::default`] (generated name, versioned,
    /// SSE-S3, retained).
    pub bucket: BucketProps,
    /// Alternate domain names (`app.example.org`); each needs
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
    /// Default: [`PriceClass::All`] (every edge location, CloudFront's
    /// default).
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
    /// Default: - none (a service worker such as `/sw.js` belongs here, so
    /// it updates promptly).
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
            price_class: PriceClass::All,
            long_cache_patterns: vec!["*.js".to_string()],
            long_cache_seconds: ONE_YEAR_SECONDS,
            no_cache_paths: Vec::new(),
            default_root_object: "index.html".to_string(),
            spa_fallback: SpaFallback::RewriteRoutes,
            security_headers: SecurityHeaders::default(),
            comment: None,
        }
    }
}
