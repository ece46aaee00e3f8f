//! [`EventRule`]: an EventBridge rule sending matching events to targets.
//!
//! What an `EventRule` emits:
//! - one `AWS::Events::Rule` on the default (or a named) event bus with the
//!   [`EventPattern`] and one target per [`RuleTarget`];
//! - per function target, an `AWS::Lambda::Permission` letting
//!   `events.amazonaws.com` invoke it for this rule only (`SourceArn`);
//! - per queue target, an `AWS::SQS::QueuePolicy` letting EventBridge send
//!   to it for this rule only (`aws:SourceArn`). EventBridge cannot use a
//!   customer managed key whose policy does not admit it, so queue targets
//!   must use `QueueEncryption::SqsManaged` (checked).
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::messaging::event_rule::{EventPattern, EventRule, EventRuleProps, RuleTarget};
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let f = Function::new(&mut stack, "OnUpload", FunctionProps::new(
//!     Runtime::Python3_13, "index.handler", Code::inline("def handler(e, c):\n    pass\n"),
//! )).unwrap();
//! let rule = EventRule::new(&mut stack, "Uploads", EventRuleProps::new(
//!     EventPattern::new(["aws.s3"], ["Object Created"]),
//!     [RuleTarget::Function(f)],
//! )).unwrap();
//! assert_eq!(rule.handle().logical_id().as_str(), "UploadsRule");
//! ```

use crate::cfn::attributes::*;
use crate::cfn::events::Rule;
use crate::cfn::events::rule as er;
use crate::cfn::lambda::Permission;
use crate::cfn::lambda::permission::PermissionRequired;
use crate::cfn::sqs::QueuePolicy;
use crate::core::error::{Error, Result};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::iam::{Condition, PolicyDocument, PolicyStatement, Principal};
use crate::messaging::queue::Queue;
use crate::serverless::function::Function;

/// The most targets a rule can have.
pub const MAX_TARGETS: usize = 5;

/// Which events a rule matches: `source` and `detail-type` (any of the
/// values each), and optionally a `detail` pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    /// Event sources (`aws.s3`, `com.example.orders`).
    pub source: Vec<String>,
    /// Detail types (`Object Created`, `Order Placed`).
    pub detail_type: Vec<String>,
    /// A pattern on the `detail` object (EventBridge pattern syntax).
    ///
    /// Default: - any detail.
    pub detail: Option<serde_json::Value>,
}

impl EventPattern {
    /// A pattern on sources and detail types.
    pub fn new<S: Into<String>, D: Into<String>>(
        source: impl IntoIterator<Item = S>,
        detail_type: impl IntoIterator<Item = D>,
    ) -> Self {
        EventPattern {
            source: source.into_iter().map(Into::into).collect(),
            detail_type: detail_type.into_iter().map(Into::into).collect(),
            detail: None,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if !self.source.is_empty() {
            m.insert("source".into(), serde_json::json!(self.source));
        }
        if !self.detail_type.is_empty() {
            m.insert("detail-type".into(), serde_json::json!(self.detail_type));
        }
        if let Some(d) = &self.detail {
            m.insert("detail".into(), d.clone());
        }
        serde_json::Value::Object(m)
    }
}

/// Where a rule sends matching events.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleTarget {
    /// Invoke a function (asynchronously).
    Function(Function),
    /// Send to a queue (with `QueueEncryption::SqsManaged`).
    Queue(Queue),
}

/// Props of an [`EventRule`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventRuleProps {
    /// The events the rule matches.
    pub pattern: EventPattern,
    /// Where they go (1..=5 targets).
    pub targets: Vec<RuleTarget>,
    /// A description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// The event bus name.
    ///
    /// Default: - the account's default bus.
    pub event_bus_name: Option<String>,
    /// Whether the rule is enabled.
    ///
    /// Default: `true`.
    pub enabled: bool,
}

impl EventRuleProps {
    /// Props with a pattern and targets, enabled, on the default bus.
    pub fn new(pattern: EventPattern, targets: impl IntoIterator<Item = RuleTarget>) -> Self {
        EventRuleProps {
            pattern,
            targets: targets.into_iter().collect(),
            description: None,
            event_bus_name: None,
            enabled: true,
        }
    }
}

/// An EventBridge rule.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRule {
    rule: Handle<Rule>,
    path: ConstructPath,
}

impl EventRule {
    /// Creates the rule `id` in `scope` with its targets and their
    /// permissions.
    pub fn new(scope: &mut impl AsScope, id: &str, props: EventRuleProps) -> Result<EventRule> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        if props.pattern.source.is_empty()
            && props.pattern.detail_type.is_empty()
            && props.pattern.detail.is_none()
        {
            return Err(Error::invalid_prop(
                &path,
                "pattern",
                "must match on at least one of source, detail_type and detail, got an empty pattern (which EventBridge refuses)",
            ));
        }
        if props.targets.is_empty() || props.targets.len() > MAX_TARGETS {
            return Err(Error::invalid_prop(
                &path,
                "targets",
                format!(
                    "must be 1..={MAX_TARGETS} targets, got {}",
                    props.targets.len()
                ),
            ));
        }
        for t in &props.targets {
            if let RuleTarget::Queue(q) = t
                && q.encryption_key().is_some()
            {
                return Err(Error::invalid_prop(
                    &path,
                    "targets",
                    format!(
                        "cannot send to {}, which is encrypted with a customer managed key whose policy does not admit EventBridge; give that queue QueueEncryption::SqsManaged",
                        q.path()
                    ),
                ));
            }
        }
        let targets = props
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let arn = match t {
                    RuleTarget::Function(f) => f.arn(),
                    RuleTarget::Queue(q) => q.arn(),
                };
                er::Target::new(er::TargetRequired {
                    arn,
                    id: format!("Target{i}").into(),
                })
            })
            .collect();
        let rule = me.add(
            "Rule",
            Rule {
                description: props.description.map(Into::into),
                event_bus_name: props.event_bus_name.map(Into::into),
                event_pattern: Some(props.pattern.to_json()),
                state: Some(
                    if props.enabled {
                        er::State::Enabled
                    } else {
                        er::State::Disabled
                    }
                    .into(),
                ),
                targets: Some(targets),
                ..Rule::new()
            },
        )?;
        for (i, t) in props.targets.iter().enumerate() {
            match t {
                RuleTarget::Function(f) => {
                    me.add(
                        &format!("Target{i}Permission"),
                        Permission {
                            source_arn: Some(rule.attr_arn()),
                            ..Permission::new(PermissionRequired {
                                function_name: f.arn(),
                                action: "lambda:InvokeFunction".into(),
                                principal: "events.amazonaws.com".into(),
                            })
                        },
                    )?;
                }
                RuleTarget::Queue(q) => {
                    let doc = PolicyDocument::new([PolicyStatement::allow(
                        ["sqs:SendMessage"],
                        [q.arn()],
                    )
                    .with_sid("RuleSends")
                    .with_principal(Principal::service("events.amazonaws.com"))
                    .with_condition(Condition::new(
                        "ArnEquals",
                        "aws:SourceArn",
                        rule.attr_arn(),
                    ))]);
                    me.add(
                        &format!("Target{i}QueuePolicy"),
                        QueuePolicy::new(doc.to_json(), Value::Literal(vec![q.url()])),
                    )?;
                }
            }
        }
        Ok(EventRule { rule, path })
    }

    /// The rule resource.
    pub fn handle(&self) -> &Handle<Rule> {
        &self.rule
    }

    /// The rule ARN.
    pub fn arn(&self) -> Value<String> {
        self.rule.attr_arn()
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::queue::{QueueEncryption, QueueProps};
    use crate::prelude::*;
    use serde_json::json;

    fn setup() -> (Stack, Function) {
        let mut st = Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let f = Function::new(
            &mut st,
            "Handler",
            FunctionProps::new(
                Runtime::Python3_13,
                "index.handler",
                Code::inline("x = 1\n"),
            ),
        )
        .unwrap();
        (st, f)
    }

    #[test]
    fn sends_matching_events_to_a_function_and_a_queue() {
        let (mut st, f) = setup();
        let q = Queue::new(
            &mut st,
            "Audit",
            QueueProps {
                encryption: QueueEncryption::SqsManaged,
                ..QueueProps::default()
            },
        )
        .unwrap();
        EventRule::new(
            &mut st,
            "Orders",
            EventRuleProps {
                description: Some("orders".into()),
                ..EventRuleProps::new(
                    EventPattern {
                        detail: Some(json!({"status": ["PLACED"]})),
                        ..EventPattern::new(["com.example.orders"], ["Order Changed"])
                    },
                    [RuleTarget::Function(f), RuleTarget::Queue(q)],
                )
            },
        )
        .unwrap();
        let t = st.synth().unwrap();
        let p = &t.resources["OrdersRule"].properties;
        assert_eq!(
            p["EventPattern"],
            json!({"source": ["com.example.orders"], "detail-type": ["Order Changed"], "detail": {"status": ["PLACED"]}})
        );
        assert_eq!(p["State"], "ENABLED");
        assert_eq!(
            p["Targets"][0],
            json!({"Arn": {"Fn::GetAtt": ["HandlerFunction", "Arn"]}, "Id": "Target0"})
        );
        let perm = &t.resources["OrdersTarget0Permission"].properties;
        assert_eq!(perm["Principal"], "events.amazonaws.com");
        assert_eq!(
            perm["SourceArn"],
            json!({"Fn::GetAtt": ["OrdersRule", "Arn"]})
        );
        let qp =
            &t.resources["OrdersTarget1QueuePolicy"].properties["PolicyDocument"]["Statement"][0];
        assert_eq!(
            qp["Condition"]["ArnEquals"]["aws:SourceArn"],
            json!({"Fn::GetAtt": ["OrdersRule", "Arn"]})
        );
    }

    #[test]
    fn fails_when_the_pattern_is_empty_or_there_is_no_target() {
        let (mut st, f) = setup();
        let e = EventRule::new(
            &mut st,
            "Empty",
            EventRuleProps::new(
                EventPattern::new::<&str, &str>([], []),
                [RuleTarget::Function(f)],
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/Empty: pattern must match on at least one"),
            "{e}"
        );
        let e = EventRule::new(
            &mut st,
            "None",
            EventRuleProps::new(EventPattern::new(["a"], ["b"]), []),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "khs/None: targets must be 1..=5 targets, got 0");
    }

    #[test]
    fn fails_when_a_queue_target_has_its_own_key() {
        let (mut st, _) = setup();
        let q = Queue::new(&mut st, "Audit", QueueProps::default()).unwrap();
        let e = EventRule::new(
            &mut st,
            "R",
            EventRuleProps::new(EventPattern::new(["a"], ["b"]), [RuleTarget::Queue(q)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs/R: targets cannot send to khs/Audit"),
            "{e}"
        );
    }
}
