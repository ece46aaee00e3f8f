//! Topics that exist already: [`Topic::import`], and [`TopicRef`], what
//! every construct that notifies a topic takes (alarms, budgets, health
//! check alarms).
//!
//! A [`Topic`] of the app, the alert topics of
//! [`AlertTopics`](crate::ops::monitoring::AlertTopics) and an imported
//! topic all give a `TopicRef` ([`Topic::reference`],
//! `AlertTopics::critical`, [`Topic::import`]). An imported topic is never
//! modified: no policy or subscription is written on it; its owner's topic
//! policy must let the notifying service (`cloudwatch.amazonaws.com`,
//! `budgets.amazonaws.com`) publish, and its key admit that service.
//!
//! ```
//! use khs_constructs::prelude::*;
//!
//! let mut stack = Stack::new("orders", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let pager = Topic::import(
//!     &mut stack,
//!     "Pager",
//!     "arn:aws:sns:us-east-1:123456789012:on-call",
//!     None,
//! ).unwrap();
//! assert!(pager.is_imported());
//! assert!(stack.template().resources.is_empty());
//! ```

use crate::cfn::iam::Policy as CfnPolicy;
use crate::cfn::sns::Topic as CfnTopic;
use crate::core::error::Result;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::network::vpc::import::{ArnRule, KEY_ARN, check_arn, portable_arn};
use crate::security::iam::PolicyStatement;
use crate::security::kms::EncryptionKey;
use crate::serverless::grant::{Grantee, KEY_WRITE, grant, key_statement};

use super::topic::Topic;

/// The ARN of an SNS topic (CloudWatch alarms and budgets notify topics of
/// their own region only).
const TOPIC_ARN: ArnRule<'static> = ArnRule {
    service: "sns",
    resource_prefix: "",
    example: "arn:aws:sns:us-east-1:123456789012:alerts",
    same_region: true,
    region_reason: "CloudWatch alarms and budgets notify topics of their own region",
    same_account: false,
};

/// A topic other constructs notify or publish to: one of the app's
/// ([`Topic::reference`], the alert topics) or one that exists already
/// ([`Topic::import`]). Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicRef {
    arn: Value<String>,
    path: ConstructPath,
    key: Option<EncryptionKey>,
    imported: bool,
}

impl TopicRef {
    /// A reference to a topic resource of the app (the alert topics).
    pub(crate) fn from_handle(
        topic: &Handle<CfnTopic>,
        path: ConstructPath,
        key: Option<EncryptionKey>,
    ) -> Self {
        TopicRef {
            arn: topic.ref_(),
            path,
            key,
            imported: false,
        }
    }

    /// The topic ARN.
    pub fn arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The construct path (of the topic, or of the import).
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// Whether the topic exists outside the app (nothing of it is in the
    /// stack and nothing of it is modified).
    pub fn is_imported(&self) -> bool {
        self.imported
    }

    /// The customer managed key encrypting messages, when known.
    pub fn encryption_key(&self) -> Option<&EncryptionKey> {
        self.key.as_ref()
    }

    /// Lets `grantee` publish: `sns:Publish` on the topic and, when its key
    /// is known, `kms:GenerateDataKey`, `kms:Decrypt` on that key through
    /// SNS. For an imported topic only the grantee's policy is written.
    pub fn grant_publish(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut statements = vec![PolicyStatement::allow(["sns:Publish"], [self.arn()])];
        if let Some(key) = &self.key {
            statements.push(key_statement(key, &KEY_WRITE, "sns"));
        }
        grant(scope, grantee, "Publish", &self.path, statements)
    }
}

impl From<&Topic> for TopicRef {
    fn from(topic: &Topic) -> Self {
        topic.reference()
    }
}

impl From<&TopicRef> for TopicRef {
    fn from(topic: &TopicRef) -> Self {
        topic.clone()
    }
}

impl Topic {
    /// A topic that exists already, by ARN
    /// (`arn:aws:sns:<region>:<account>:<name>`, in the stack's region, or a
    /// value such as an import), with the ARN of its customer managed key
    /// if it has one (publishers then get `kms:GenerateDataKey` on it).
    /// Nothing is added to the stack and the topic is never modified.
    pub fn import(
        scope: &mut impl AsScope,
        id: &str,
        arn: impl Into<Value<String>>,
        encryption_key_arn: Option<Value<String>>,
    ) -> Result<TopicRef> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        let arn = arn.into();
        check_arn(&path, "arn", &arn, &TOPIC_ARN, me.env())?;
        let key = match encryption_key_arn {
            Some(k) => {
                check_arn(&path, "encryption_key_arn", &k, &KEY_ARN, me.env())?;
                Some(EncryptionKey::import(&mut me, "Key", k)?)
            }
            None => None,
        };
        Ok(TopicRef {
            arn: portable_arn(arn),
            path,
            key,
            imported: true,
        })
    }

    /// The reference other constructs take (the same type as an import's).
    pub fn reference(&self) -> TopicRef {
        TopicRef {
            arn: self.arn(),
            path: self.path().clone(),
            key: Some(self.encryption_key().clone()),
            imported: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::monitoring::Metric;
    use crate::prelude::*;
    use crate::security::iam::{RoleProps, create_role};
    use crate::serverless::grant::RoleGrantee;
    use serde_json::json;

    const PAGER: &str = "arn:aws:sns:us-east-1:123456789012:on-call";

    fn stack() -> Stack {
        Stack::new("ops", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    #[test]
    fn alarms_and_budgets_notify_an_imported_topic() {
        let mut s = stack();
        let pager = Topic::import(&mut s, "Pager", PAGER, None).unwrap();
        assert!(pager.is_imported() && pager.encryption_key().is_none());
        Alarm::new(
            &mut s,
            "Busy",
            AlarmProps {
                notify: vec![pager.clone()],
                ..AlarmProps::new(
                    Metric::new("AWS/ECS", "CPUUtilization"),
                    ComparisonOperator::GreaterThan,
                    80.0,
                    3,
                )
            },
        )
        .unwrap();
        Budget::new(&mut s, "Budget", BudgetProps::new(100.0, &pager)).unwrap();
        let t = s.synth().unwrap();
        let arn = json!({"Fn::Sub": "arn:${AWS::Partition}:sns:us-east-1:123456789012:on-call"});
        assert_eq!(
            t.resources["BusyResource"].properties["AlarmActions"],
            json!([arn])
        );
        let budget = serde_json::to_string(&t.resources["BudgetResource"].properties).unwrap();
        assert!(
            budget.contains("arn:${AWS::Partition}:sns:us-east-1:123456789012:on-call"),
            "{budget}"
        );
        assert!(
            !t.resources
                .values()
                .any(|r| r.type_name.starts_with("AWS::SNS::")),
            "no topic, policy or subscription is written on an imported topic"
        );
    }

    #[test]
    fn publishing_to_an_imported_topic_grants_its_key_when_given() {
        let mut s = stack();
        let role = create_role(&mut s, "Worker", RoleProps::new("lambda.amazonaws.com")).unwrap();
        let worker = RoleGrantee::new(role, s.as_scope().path().child("Worker").unwrap());
        let events = Topic::import(
            &mut s,
            "Events",
            "arn:aws:sns:us-east-1:123456789012:events",
            Some(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
        )
        .unwrap();
        events.grant_publish(&mut s, &worker).unwrap();
        let t = s.synth().unwrap();
        let st = &t.resources["WorkerPublishEvents"].properties["PolicyDocument"]["Statement"];
        assert_eq!(st[0]["Action"], "sns:Publish");
        assert_eq!(
            st[1]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
        );
    }

    #[test]
    fn an_owned_topic_gives_the_same_reference_type() {
        let mut s = stack();
        let topic = Topic::new(&mut s, "Events", TopicProps::default()).unwrap();
        let r = TopicRef::from(&topic);
        assert!(!r.is_imported());
        assert_eq!(r.arn(), topic.arn());
        assert_eq!(r.encryption_key(), Some(topic.encryption_key()));
    }

    #[test]
    fn fails_when_a_topic_arn_is_malformed_or_in_another_region() {
        let e = Topic::import(&mut stack(), "Pager", "on-call", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "ops/Pager: arn must be an ARN like \"arn:aws:sns:us-east-1:123456789012:alerts\" (or a value such as an import), got \"on-call\""
        );
        let e = Topic::import(
            &mut stack(),
            "Pager",
            "arn:aws:sns:eu-west-1:123456789012:on-call",
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "ops/Pager: arn must be in the stack's region us-east-1 (CloudWatch alarms and budgets notify topics of their own region), got eu-west-1 in \"arn:aws:sns:eu-west-1:123456789012:on-call\""
        );
        let e = Topic::import(
            &mut stack(),
            "Pager",
            "arn:aws:sqs:us-east-1:123456789012:on-call",
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "ops/Pager: arn must be an ARN like \"arn:aws:sns:us-east-1:123456789012:alerts\" (service sns, a region, a 12-digit account), got \"arn:aws:sqs:us-east-1:123456789012:on-call\""
        );
    }
}
