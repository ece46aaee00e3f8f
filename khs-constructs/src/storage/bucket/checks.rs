//! The checks of [`BucketProps`](super::BucketProps) against S3's rules.

use std::collections::BTreeSet;

use super::*;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;

/// S3's bucket name length limits.
pub(crate) const BUCKET_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=63;
/// Length of an AWS account id.
pub(crate) const ACCOUNT_ID_LEN: usize = 12;

/// Checks a (literal part of a) bucket name against S3's rules: lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit.
pub(crate) fn check_name_chars(path: &ConstructPath, name: &str, what: &str) -> Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ok_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok_chars || !ok_ends || name.contains("..") {
        return Err(Error::invalid_prop(
            path,
            "name",
            format!(
                "{what} must use only lowercase letters, digits, '-' and '.', start and end with a letter or digit, got {name:?}"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn validate_name(path: &ConstructPath, name: &BucketName, region: &str) -> Result<()> {
    match name {
        BucketName::Generated => Ok(()),
        BucketName::Fixed(n) => {
            check_name_chars(path, n, "a bucket name")?;
            if !BUCKET_NAME_LEN.contains(&n.len()) {
                return Err(Error::invalid_prop(
                    path,
                    "name",
                    format!("must be 3 to 63 characters, got {} ({n:?})", n.len()),
                ));
            }
            Ok(())
        }
        BucketName::UniquePerAccountRegion(prefix) => {
            check_name_chars(path, prefix, "the name prefix")?;
            let total = prefix.len() + 1 + ACCOUNT_ID_LEN + 1 + region.len();
            if total > *BUCKET_NAME_LEN.end() {
                let max = BUCKET_NAME_LEN.end() - (2 + ACCOUNT_ID_LEN + region.len());
                return Err(Error::invalid_prop(
                    path,
                    "name",
                    format!(
                        "prefix {prefix:?} makes a {total}-character name with the account id and {region}; S3 allows 63, so the prefix can have at most {max} characters"
                    ),
                ));
            }
            Ok(())
        }
    }
}

pub(crate) fn check_transitions(
    path: &ConstructPath,
    rule: &LifecycleRule,
    list: &[Transition],
    what: &str,
) -> Result<()> {
    let prop = format!("lifecycle_rules[{}].{what}", rule.id);
    let mut seen = BTreeSet::new();
    let mut prev: Option<&Transition> = None;
    for t in list {
        if !seen.insert(t.storage_class) {
            return Err(Error::invalid_prop(
                path,
                &prop,
                format!(
                    "must name each storage class once, got {} twice",
                    t.storage_class
                ),
            ));
        }
        if t.storage_class.is_infrequent_access() && t.after_days < MIN_INFREQUENT_ACCESS_DAYS {
            return Err(Error::invalid_prop(
                path,
                &prop,
                format!(
                    "must move objects to {} after at least {MIN_INFREQUENT_ACCESS_DAYS} days, got {}",
                    t.storage_class, t.after_days
                ),
            ));
        }
        if let Some(p) = prev {
            if t.after_days <= p.after_days {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must be in increasing days, got {} after {} days following {} after {} days",
                        t.storage_class, t.after_days, p.storage_class, p.after_days
                    ),
                ));
            }
            if t.storage_class.rank() <= p.storage_class.rank() {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must move objects to colder classes only (STANDARD_IA, INTELLIGENT_TIERING, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE), got {} after {}",
                        t.storage_class, p.storage_class
                    ),
                ));
            }
            if p.storage_class.is_infrequent_access()
                && t.after_days - p.after_days < MIN_INFREQUENT_ACCESS_DAYS
            {
                return Err(Error::invalid_prop(
                    path,
                    &prop,
                    format!(
                        "must keep objects {MIN_INFREQUENT_ACCESS_DAYS} days in {} before moving them on, got {} days before {}",
                        p.storage_class,
                        t.after_days - p.after_days,
                        t.storage_class
                    ),
                ));
            }
        }
        prev = Some(t);
    }
    Ok(())
}

pub(crate) fn check_expiration(
    path: &ConstructPath,
    rule: &LifecycleRule,
    transitions: &[Transition],
    expiration: Option<u32>,
    what: &str,
) -> Result<()> {
    let prop = format!("lifecycle_rules[{}].{what}", rule.id);
    let Some(days) = expiration else {
        return Ok(());
    };
    if days == 0 {
        return Err(Error::invalid_prop(
            path,
            &prop,
            "must be at least 1 day, got 0",
        ));
    }
    if let Some(t) = transitions.iter().find(|t| days <= t.after_days) {
        return Err(Error::invalid_prop(
            path,
            &prop,
            format!(
                "must be later than every transition, got {days} days, not after the transition to {} at {} days",
                t.storage_class, t.after_days
            ),
        ));
    }
    Ok(())
}

pub(crate) fn validate_rules(path: &ConstructPath, props: &BucketProps) -> Result<()> {
    let mut ids = BTreeSet::new();
    for rule in &props.lifecycle_rules {
        if rule.id.is_empty() || rule.id.len() > 255 {
            return Err(Error::invalid_prop(
                path,
                "lifecycle_rules.id",
                format!(
                    "must be 1 to 255 characters, got {} ({:?})",
                    rule.id.len(),
                    rule.id
                ),
            ));
        }
        if !ids.insert(rule.id.as_str()) {
            return Err(Error::invalid_prop(
                path,
                "lifecycle_rules.id",
                format!("must be unique in the bucket, got {:?} twice", rule.id),
            ));
        }
        if !rule.has_action() {
            return Err(Error::invalid_prop(
                path,
                format!("lifecycle_rules[{}]", rule.id),
                "must have at least one action (a transition, an expiration or an abort of incomplete uploads), got none",
            ));
        }
        check_transitions(path, rule, &rule.transitions, "transitions")?;
        check_transitions(
            path,
            rule,
            &rule.noncurrent_transitions,
            "noncurrent_transitions",
        )?;
        check_expiration(
            path,
            rule,
            &rule.transitions,
            rule.expiration_days,
            "expiration_days",
        )?;
        check_expiration(
            path,
            rule,
            &rule.noncurrent_transitions,
            rule.noncurrent_expiration_days,
            "noncurrent_expiration_days",
        )?;
        if rule.abort_incomplete_multipart_upload_days == Some(0) {
            return Err(Error::invalid_prop(
                path,
                format!(
                    "lifecycle_rules[{}].abort_incomplete_multipart_upload_days",
                    rule.id
                ),
                "must be at least 1 day, got 0",
            ));
        }
        let noncurrent =
            !rule.noncurrent_transitions.is_empty() || rule.noncurrent_expiration_days.is_some();
        if noncurrent && !props.versioned {
            return Err(Error::invalid_prop(
                path,
                format!("lifecycle_rules[{}]", rule.id),
                "acts on noncurrent versions, which only a versioned bucket has; set versioned: true or drop the noncurrent actions",
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_prefix(
    path: &ConstructPath,
    prop: &str,
    prefix: &str,
    may_be_empty: bool,
) -> Result<()> {
    if prefix.starts_with('/') || (!prefix.is_empty() && !prefix.ends_with('/')) {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!("must end with '/' and not start with one, got {prefix:?}"),
        ));
    }
    if prefix.is_empty() && !may_be_empty {
        return Err(Error::invalid_prop(
            path,
            prop,
            "must not be empty (give the logs a folder such as \"s3-access/\"), got \"\"",
        ));
    }
    Ok(())
}

pub(crate) fn validate_grants(path: &ConstructPath, grants: &[BucketGrant]) -> Result<()> {
    for g in grants {
        match g {
            BucketGrant::CloudTrail { prefix, .. }
            | BucketGrant::Config { prefix }
            | BucketGrant::BackupReports { prefix }
            | BucketGrant::LoadBalancerLogs { prefix } => {
                check_prefix(path, "grants.prefix", prefix, true)?;
            }
            BucketGrant::ServerAccessLogs { prefix, .. } => {
                check_prefix(path, "grants.prefix", prefix, false)?;
            }
            BucketGrant::CloudFrontRead { .. } => {}
        }
    }
    Ok(())
}

/// Checks `props` for a bucket at `path` in `region`.
pub(crate) fn validate(path: &ConstructPath, props: &BucketProps, region: &str) -> Result<()> {
    validate_name(path, &props.name, region)?;
    validate_rules(path, props)?;
    if let Some(logs) = &props.server_access_logs {
        check_prefix(path, "server_access_logs.prefix", &logs.prefix, false)?;
    }
    validate_grants(path, &props.grants)?;
    Ok(())
}

pub(crate) fn check_access_log_target(path: &ConstructPath, logs: &ServerAccessLogs) -> Result<()> {
    check_prefix(path, "server_access_logs.prefix", &logs.prefix, false)?;
    let target = &logs.bucket;
    if target.is_imported() {
        return Err(Error::invalid_prop(
            path,
            "server_access_logs.bucket",
            format!(
                "is the imported bucket {}, which this app never modifies, so it cannot grant S3 server access logging; its owner must allow the principal logging.s3.amazonaws.com s3:PutObject on <bucket arn>/{}* (conditions aws:SourceAccount and aws:SourceArn), or log to a Bucket of the app with BucketGrant::ServerAccessLogs",
                target.path, logs.prefix
            ),
        ));
    }
    if target.kms_encrypted {
        return Err(Error::invalid_prop(
            path,
            "server_access_logs.bucket",
            format!(
                "must be encrypted with SSE-S3, as S3 server access logging cannot write to SSE-KMS buckets, got {} with SSE-KMS",
                target.path
            ),
        ));
    }
    if !target
        .access_log_prefixes
        .iter()
        .any(|p| logs.prefix.starts_with(p.as_str()))
    {
        let allowed = if target.access_log_prefixes.is_empty() {
            "none".to_string()
        } else {
            target.access_log_prefixes.join(", ")
        };
        return Err(Error::invalid_prop(
            path,
            "server_access_logs.prefix",
            format!(
                "must lie below a prefix that {} accepts server access logs under (add BucketGrant::ServerAccessLogs to it before taking the reference; accepted: {allowed}), got {:?}",
                target.path, logs.prefix
            ),
        ));
    }
    Ok(())
}
