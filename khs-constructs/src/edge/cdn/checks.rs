//! The checks of [`CdnProps`](super::CdnProps) and the naming helpers of the distribution.

use std::collections::BTreeSet;

use super::*;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::value::{List, Value};
use crate::edge::waf::{CLOUDFRONT_REGION, WafScope};
use crate::storage::bucket::{BucketEncryption, ObjectOwnership};

pub(crate) fn check_pattern(path: &ConstructPath, prop: &str, p: &str) -> Result<()> {
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

pub(crate) fn check_names(path: &ConstructPath, prop: &str, names: &[String]) -> Result<()> {
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
pub(crate) fn validate(path: &ConstructPath, props: &CdnProps, region: &str) -> Result<()> {
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
                        "must be an ACM certificate in {CLOUDFRONT_REGION} (CloudFront reads certificates only there), got one in {}; create it through khs_constructs::edge::placement::Edge",
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
        if logs.bucket.is_imported() {
            return Err(Error::invalid_prop(
                path,
                "access_logs.bucket",
                format!(
                    "is the imported bucket {}, which this app never modifies, and CloudFront standard logs add an ACL grant to their bucket; its owner must enable ACLs (BucketOwnerPreferred) and grant the awslogsdelivery account FULL_CONTROL in the bucket ACL, or log to a Bucket of the app with ObjectOwnership::BucketOwnerPreferred",
                    logs.bucket.path()
                ),
            ));
        }
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
        if c.max_ttl_seconds == 0 && (!c.cache_key_headers.is_empty() || !c.cookies.is_none()) {
            return Err(Error::invalid_prop(
                path,
                "api.cache.max_ttl_seconds",
                "must be above 0 when headers or cookies are in the cache key (CloudFront refuses a cache key on a policy that never caches), got 0",
            ));
        }
        check_names(path, "api.cache.cache_key_headers", &c.cache_key_headers)?;
        if let Cookies::Only(names) = &c.cookies {
            check_names(path, "api.cache.cookies", names)?;
        }
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
pub(crate) fn spa_routes_code(root: &str) -> String {
    format!(
        "function handler(event) {{\n  var request = event.request;\n  var last = request.uri.split('/').pop();\n  if (last.indexOf('.') === -1) {{\n    request.uri = '/{root}';\n  }}\n  return request;\n}}\n"
    )
}

pub(crate) fn policy_name(path: &ConstructPath, suffix: &str, max: usize) -> String {
    let mut parts = vec![path.stack().to_string()];
    parts.extend(path.ids_iter().map(str::to_string));
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

pub(crate) fn list(names: &[String]) -> List<String> {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<&str>>()
        .into()
}

pub(crate) fn f(seconds: u32) -> Value<f64> {
    Value::Literal(f64::from(seconds))
}
