//! The alert topics (SNS, KMS) alarms and budgets notify.

use crate::cfn;
use crate::cfn::attributes::*;
use crate::cfn::kms::alias::AliasRequired;
use crate::cfn::sns::subscription::SubscriptionRequired;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Pseudo;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, Scope};
use crate::core::value::Value;
use crate::messaging::import::TopicRef;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, Principal};

use super::*;

// ---------------------------------------------------------------------------
// Alert topics
// ---------------------------------------------------------------------------

/// The props of [`AlertTopics`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlertTopicsProps {
    /// E-mail addresses subscribed to the critical topic (each must confirm
    /// the subscription from the message SNS sends).
    ///
    /// Default: - none.
    pub critical_emails: Vec<String>,
    /// E-mail addresses subscribed to the warning topic.
    ///
    /// Default: - none.
    pub warning_emails: Vec<String>,
    /// Prefix of the topic names (`<prefix>-alerts-critical`,
    /// `<prefix>-alerts-warning`) and of the key alias
    /// (`alias/<prefix>-alerts`).
    ///
    /// Default: - the stack name.
    pub name_prefix: Option<String>,
    /// Let AWS Budgets publish to the topics (and use the key).
    ///
    /// Default: `true`.
    pub allow_budgets: bool,
}

impl Default for AlertTopicsProps {
    fn default() -> Self {
        AlertTopicsProps {
            critical_emails: Vec::new(),
            warning_emails: Vec::new(),
            name_prefix: None,
            allow_budgets: true,
        }
    }
}

/// The `alerts-critical` and `alerts-warning` SNS topics.
///
/// Emits: an `AWS::KMS::Key` (rotation on; its policy lets the account
/// administer it and CloudWatch and Budgets encrypt for the topics) with an
/// `AWS::KMS::Alias`, two `AWS::SNS::Topic`s encrypted with it, an
/// `AWS::SNS::TopicPolicy` per topic (publish allowed to
/// `cloudwatch.amazonaws.com` and `budgets.amazonaws.com` from this account
/// only; publishing without TLS denied), and an `AWS::SNS::Subscription` per
/// e-mail address.
#[derive(Debug, Clone)]
pub struct AlertTopics {
    key: Handle<cfn::kms::Key>,
    critical: TopicRef,
    warning: TopicRef,
}

/// A customer managed key policy: the account administers the key (through
/// IAM), and `services` may use it to encrypt and decrypt messages or data
/// they write for this account.
pub(crate) fn key_policy(services: &[&str], sid: &str) -> PolicyDocument {
    let mut doc = PolicyDocument::new([PolicyStatement::allow(["kms:*"], ["*"])
        .with_sid("AccountAdministersKeyThroughIam")
        .with_principal(Principal::account_root())]);
    for svc in services {
        doc.push(
            PolicyStatement::allow(["kms:Decrypt", "kms:GenerateDataKey*"], ["*"])
                .with_sid(format!("{sid}{}", service_sid(svc)))
                .with_principal(Principal::service(*svc)),
        );
    }
    doc
}

/// `cloudwatch.amazonaws.com` → `Cloudwatch`.
pub(crate) fn service_sid(service: &str) -> String {
    let name = service.split('.').next().unwrap_or(service);
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// One alert topic with its policy and e-mail subscriptions.
pub(crate) fn add_topic(
    me: &mut Scope<'_>,
    key: &Handle<cfn::kms::Key>,
    services: &[&str],
    (tid, suffix, display): (&str, &str, &str),
    prefix: &str,
    emails: &[String],
) -> Result<Handle<cfn::sns::Topic>> {
    let topic = me.add(
        tid,
        cfn::sns::Topic {
            topic_name: Some(format!("{prefix}-alerts-{suffix}").into()),
            display_name: Some(display.into()),
            kms_master_key_id: Some(key.attr_arn()),
            ..cfn::sns::Topic::new()
        },
    )?;
    let mut doc = PolicyDocument::default();
    for svc in services {
        doc.push(
            PolicyStatement::allow(["sns:Publish"], [topic.ref_()])
                .with_sid(format!("{}Publish", service_sid(svc)))
                .with_principal(Principal::service(*svc))
                .with_condition(Condition::new(
                    "StringEquals",
                    "aws:SourceAccount",
                    Pseudo::AccountId,
                )),
        );
    }
    doc.push(
        PolicyStatement::deny(["sns:Publish"], [topic.ref_()])
            .with_sid("DenyPublishWithoutTls")
            .with_principal(Principal::Any)
            .with_condition(Condition::new("Bool", "aws:SecureTransport", "false")),
    );
    me.add(
        &format!("{tid}Policy"),
        cfn::sns::TopicPolicy::new(doc.to_json(), Value::Literal(vec![topic.ref_()])),
    )?;
    for (i, e) in emails.iter().enumerate() {
        me.add(
            &format!("{tid}Email{}", i + 1),
            cfn::sns::Subscription {
                endpoint: Some(e.as_str().into()),
                ..cfn::sns::Subscription::new(SubscriptionRequired {
                    topic_arn: topic.ref_(),
                    protocol: "email".into(),
                })
            },
        )?;
    }
    Ok(topic)
}

pub(crate) fn check_email(path: &ConstructPath, prop: &str, e: &str) -> Result<()> {
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_prop(
            path,
            prop,
            format!("must be an e-mail address such as \"ops@example.com\", got {e:?}"),
        ))
    }
}

impl AlertTopics {
    /// Adds the topics at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: AlertTopicsProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        for (prop, list) in [
            ("critical_emails", &props.critical_emails),
            ("warning_emails", &props.warning_emails),
        ] {
            for (i, e) in list.iter().enumerate() {
                check_email(&path, &format!("{prop}[{i}]"), e)?;
            }
        }
        let prefix = props.name_prefix.clone().unwrap_or(stack_name);
        if prefix.is_empty()
            || prefix.len() > 200
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::invalid_prop(
                &path,
                "name_prefix",
                format!("must be 1..=200 ASCII letters, digits, '-' or '_', got {prefix:?}"),
            ));
        }
        let mut services = vec!["cloudwatch.amazonaws.com"];
        if props.allow_budgets {
            services.push("budgets.amazonaws.com");
        }
        let key = me.add(
            "Key",
            cfn::kms::Key {
                description: Some(format!("Encrypts the {prefix} alert topics").into()),
                enable_key_rotation: Some(true.into()),
                key_policy: Some(key_policy(&services, "ServiceEncrypts").to_json()),
                ..cfn::kms::Key::new()
            },
        )?;
        me.add(
            "KeyAlias",
            cfn::kms::Alias::new(AliasRequired {
                alias_name: format!("alias/{prefix}-alerts").into(),
                target_key_id: key.ref_(),
            }),
        )?;
        let critical = add_topic(
            &mut me,
            &key,
            &services,
            ("Critical", "critical", "Critical alerts"),
            &prefix,
            &props.critical_emails,
        )?;
        let warning = add_topic(
            &mut me,
            &key,
            &services,
            ("Warning", "warning", "Warnings"),
            &prefix,
            &props.warning_emails,
        )?;
        Ok(AlertTopics {
            critical: TopicRef::from_handle(&critical, path.child("Critical")?, None),
            warning: TopicRef::from_handle(&warning, path.child("Warning")?, None),
            key,
        })
    }

    /// The critical topic.
    pub fn critical(&self) -> &TopicRef {
        &self.critical
    }

    /// The warning topic.
    pub fn warning(&self) -> &TopicRef {
        &self.warning
    }

    /// The topic for a severity.
    pub fn topic(&self, severity: Severity) -> &TopicRef {
        match severity {
            Severity::Critical => &self.critical,
            Severity::Warning => &self.warning,
        }
    }

    /// The key encrypting both topics.
    pub fn key(&self) -> &Handle<cfn::kms::Key> {
        &self.key
    }
}
