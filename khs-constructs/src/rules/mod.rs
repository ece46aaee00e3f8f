//! The built-in rule packs, run by an app given
//! `App::new().with_rule_packs(khs_constructs::rules::builtin())`.
//!
//! One pack, [`security`]: the AWS Solutions rules of cdk-nag and the checkov
//! CloudFormation checks that apply to the resource types this library
//! generates (encryption at rest and in transit, logging, IAM wildcards,
//! public access, backups, deletion protection, …). The rules look at AWS
//! resource types and property names only, never at construct modules, so
//! they check raw resources and imported templates alike. Every rule, its
//! rationale and its equivalents are listed in `docs/rules.md`.
//!
//! Severity: a rule is an [`Severity::Error`](crate::core::rules::Severity::Error) when it catches a secure
//! default turned off or data exposed (no encryption, public access,
//! plaintext transport, `*` principals); a
//! [`Severity::Warning`](crate::core::rules::Severity::Warning) when the
//! right answer depends on the workload (logging, Multi-AZ, rotation,
//! default ports, managed policies).

use serde_json::Value as Json;

use crate::core::rules::{Rule, RulePack, Verdict, lookup};

mod compute;
mod data;
mod network;
mod serverless;
mod storage;

/// The name of the [`security`] pack.
pub const SECURITY_PACK: &str = "security";

/// Every built-in pack.
pub fn builtin() -> Vec<RulePack> {
    vec![security()]
}

/// The security pack: the AWS Solutions rules and the checkov checks for
/// the types the library generates.
pub fn security() -> RulePack {
    let rules: Vec<Rule> = [
        storage::RULES,
        data::RULES,
        network::RULES,
        compute::RULES,
        serverless::RULES,
    ]
    .concat();
    RulePack::new(SECURITY_PACK, rules)
}

// --- helpers shared by the rules ------------------------------------------

/// `Some(message)` when `failed`.
pub(crate) fn fails(failed: bool, message: impl FnOnce() -> String) -> Verdict {
    failed.then(message)
}

/// The items of a list, or the value itself when it is not one (IAM allows
/// both for `Statement`, `Action`, `Resource`).
pub(crate) fn items(v: Option<&Json>) -> Vec<&Json> {
    match v {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(Json::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

/// A string value, or the template of an `Fn::Sub`.
pub(crate) fn text(v: &Json) -> Option<&str> {
    match v {
        Json::String(s) => Some(s),
        Json::Object(m) => match m.get("Fn::Sub") {
            Some(Json::String(s)) => Some(s),
            Some(Json::Array(a)) => a.first().and_then(Json::as_str),
            _ => None,
        },
        _ => None,
    }
}

/// A number, or a string holding one (CloudFormation accepts both).
pub(crate) fn number(v: &Json) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The statements of a policy document.
pub(crate) fn statements(doc: Option<&Json>) -> Vec<&Json> {
    items(doc.and_then(|d| d.get("Statement")))
}

/// Whether a statement allows.
pub(crate) fn allows(statement: &Json) -> bool {
    statement.get("Effect").and_then(Json::as_str) == Some("Allow")
}

/// Whether a statement's principal is everyone (`"*"` or `{"AWS": "*"}`).
pub(crate) fn principal_is_everyone(statement: &Json) -> bool {
    match statement.get("Principal") {
        Some(Json::String(s)) => s == "*",
        Some(Json::Object(m)) => items(m.get("AWS")).iter().any(|p| p.as_str() == Some("*")),
        _ => false,
    }
}

/// Whether `statement` denies requests without TLS
/// (`Deny` with `Bool: {aws:SecureTransport: false}`).
pub(crate) fn denies_insecure_transport(statement: &Json) -> bool {
    statement.get("Effect").and_then(Json::as_str) == Some("Deny")
        && lookup(statement, "Condition.Bool")
            .and_then(|b| b.get("aws:SecureTransport"))
            .is_some_and(|v| v == &Json::Bool(false) || v.as_str() == Some("false"))
}

#[cfg(test)]
mod tests;
