//! A monthly AWS cost budget with notifications.
//!
//! [`Budget`] emits one `AWS::Budgets::Budget`: a monthly `COST` budget in
//! USD with a notification when actual spend passes a share of the limit
//! (80 % by default) and, optionally, when the
//! forecast passes it. Notifications go to an SNS topic (whose policy and
//! key must let `budgets.amazonaws.com` publish, as
//! [`AlertTopics`](crate::ops::monitoring::AlertTopics) does) and/or e-mail.
//!
//! Cost allocation tags: the budget can be limited to resources carrying
//! given tags (`Environment=production`). AWS only accounts costs by a tag
//! after the tag has been *activated* as a cost allocation tag in the
//! Billing console (or with `aws ce update-cost-allocation-tags-status`);
//! CloudFormation cannot do this. Until then a tag-filtered budget reads 0.

use crate::cfn::budgets::budget::BudgetDataRequired;
use std::collections::BTreeMap;

use crate::cfn;
use crate::cfn::budgets::budget as l1;
use crate::core::error::{Error, Result};
use crate::core::resource::{Handle, Tag};
use crate::core::scope::AsScope;
use crate::core::value::Value;

/// The props of a [`Budget`].
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetProps {
    /// The monthly limit in USD.
    pub limit_usd: f64,
    /// The topic notified (at most one; its policy must allow
    /// `budgets.amazonaws.com` to publish).
    ///
    /// Default: - no topic; then `emails` must not be empty.
    pub topic: Option<crate::messaging::import::TopicRef>,
    /// E-mail addresses notified directly (at most 10).
    ///
    /// Default: - none.
    pub emails: Vec<String>,
    /// Notify when actual spend passes this percentage of the limit.
    ///
    /// Default: 80.
    pub actual_threshold_percent: f64,
    /// Notify when forecasted spend passes this percentage of the limit.
    ///
    /// Default: `Some(100.0)`.
    pub forecasted_threshold_percent: Option<f64>,
    /// Count only costs of resources carrying any of these tag pairs (cost
    /// allocation tags, which must be activated in Billing first).
    ///
    /// Default: - every cost of the account.
    pub cost_filter_tags: BTreeMap<String, String>,
    /// The budget name (unique per account).
    ///
    /// Default: - `<stack name>-monthly`.
    pub budget_name: Option<String>,
}

impl BudgetProps {
    /// A monthly budget of `limit_usd` notifying `topic` at 80 % actual and
    /// 100 % forecasted spend.
    pub fn new(limit_usd: f64, topic: &crate::messaging::import::TopicRef) -> Self {
        BudgetProps {
            limit_usd,
            topic: Some(topic.clone()),
            emails: Vec::new(),
            actual_threshold_percent: 80.0,
            forecasted_threshold_percent: Some(100.0),
            cost_filter_tags: BTreeMap::new(),
            budget_name: None,
        }
    }
}

/// AWS Budgets' limit on e-mail subscribers per notification.
pub const MAX_EMAIL_SUBSCRIBERS: usize = 10;

/// A monthly cost budget. Emits one `AWS::Budgets::Budget`, tagged with
/// the stack's tags.
#[derive(Debug, Clone)]
pub struct Budget {
    handle: Handle<cfn::budgets::Budget>,
}

impl Budget {
    /// Adds the budget at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: BudgetProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let tags: Vec<Tag> = s.stack_tags().iter().map(|(k, v)| Tag::new(k, v)).collect();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        if !(props.limit_usd.is_finite() && props.limit_usd > 0.0) {
            return Err(Error::invalid_prop(
                &path,
                "limit_usd",
                format!("must be a positive amount, got {}", props.limit_usd),
            ));
        }
        let mut thresholds = vec![("actual_threshold_percent", props.actual_threshold_percent)];
        if let Some(f) = props.forecasted_threshold_percent {
            thresholds.push(("forecasted_threshold_percent", f));
        }
        for (prop, t) in &thresholds {
            if !(t.is_finite() && *t >= 0.1 && *t <= 1_000_000_000.0) {
                return Err(Error::invalid_prop(
                    &path,
                    *prop,
                    format!("must be a percentage from 0.1 to 1000000000, got {t}"),
                ));
            }
        }
        if props.topic.is_none() && props.emails.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "topic",
                "or emails must be given: a notification needs at least one subscriber, got neither",
            ));
        }
        if props.emails.len() > MAX_EMAIL_SUBSCRIBERS {
            return Err(Error::invalid_prop(
                &path,
                "emails",
                format!(
                    "must list at most {MAX_EMAIL_SUBSCRIBERS} addresses, got {}",
                    props.emails.len()
                ),
            ));
        }
        for (i, e) in props.emails.iter().enumerate() {
            let ok = e
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(Error::invalid_prop(
                    &path,
                    format!("emails[{i}]"),
                    format!("must be an e-mail address such as \"ops@example.com\", got {e:?}"),
                ));
            }
        }
        let name = props
            .budget_name
            .clone()
            .unwrap_or_else(|| format!("{stack_name}-monthly"));
        if name.is_empty() || name.len() > 100 || name.contains(':') || name.contains('\\') {
            return Err(Error::invalid_prop(
                &path,
                "budget_name",
                format!("must be 1..=100 characters without ':' or '\\', got {name:?}"),
            ));
        }
        for (k, v) in &props.cost_filter_tags {
            if k.is_empty() || k.contains('$') || v.contains('$') {
                return Err(Error::invalid_prop(
                    &path,
                    "cost_filter_tags",
                    format!(
                        "keys must be non-empty and keys and values free of '$', got {k:?}={v:?}"
                    ),
                ));
            }
        }

        let mut subscribers: Vec<l1::Subscriber> = Vec::new();
        if let Some(t) = &props.topic {
            subscribers.push(l1::Subscriber {
                subscription_type: "SNS".into(),
                address: t.arn(),
            });
        }
        for e in &props.emails {
            subscribers.push(l1::Subscriber {
                subscription_type: "EMAIL".into(),
                address: e.as_str().into(),
            });
        }
        let notification = |kind: &str, percent: f64| l1::NotificationWithSubscribers {
            notification: l1::Notification {
                comparison_operator: "GREATER_THAN".into(),
                notification_type: kind.into(),
                threshold: percent.into(),
                threshold_type: Some("PERCENTAGE".into()),
            },
            subscribers: subscribers.clone(),
        };
        let mut notifications = vec![notification("ACTUAL", props.actual_threshold_percent)];
        if let Some(f) = props.forecasted_threshold_percent {
            notifications.push(notification("FORECASTED", f));
        }
        let cost_filters = (!props.cost_filter_tags.is_empty()).then(|| {
            let values: Vec<String> = props
                .cost_filter_tags
                .iter()
                .map(|(k, v)| format!("user:{k}${v}"))
                .collect();
            serde_json::json!({ "TagKeyValue": values })
        });
        let budget = cfn::budgets::Budget {
            notifications_with_subscribers: Some(notifications),
            resource_tags: (!tags.is_empty()).then_some(tags),
            ..cfn::budgets::Budget::new(l1::BudgetData {
                budget_name: Some(name.into()),
                budget_limit: Some(l1::Spend {
                    amount: props.limit_usd.into(),
                    unit: "USD".into(),
                }),
                cost_filters,
                ..l1::BudgetData::new(BudgetDataRequired {
                    budget_type: "COST".into(),
                    time_unit: "MONTHLY".into(),
                })
            })
        };
        let handle = me.add("Resource", budget)?;
        Ok(Budget { handle })
    }

    /// The budget resource.
    pub fn handle(&self) -> &Handle<cfn::budgets::Budget> {
        &self.handle
    }

    /// What `Ref` returns (the budget name).
    pub fn name(&self) -> Value<String> {
        self.handle.ref_()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::{Environment, Stack, StackProps};
    use crate::ops::monitoring::{AlertTopics, AlertTopicsProps};
    use serde_json::{Value as J, json};

    fn stack() -> Stack {
        let mut props = StackProps::new(Environment::region("us-east-1"));
        props.tags.insert("Environment".into(), "production".into());
        props.tags.insert("Project".into(), "khs-crm".into());
        Stack::new("khs-test", props).unwrap()
    }

    fn budget(props: impl FnOnce(BudgetProps) -> BudgetProps) -> Result<J> {
        let mut st = stack();
        let alerts = AlertTopics::new(&mut st, "Alerts", AlertTopicsProps::default())?;
        let p = props(BudgetProps::new(500.0, alerts.warning()));
        Budget::new(&mut st, "Budget", p)?;
        Ok(serde_json::to_value(st.synth()?).unwrap())
    }

    #[test]
    fn notifies_the_topic_at_80_percent_actual_and_100_forecasted() {
        let t = budget(|p| p).unwrap();
        let b = &t["Resources"]["BudgetResource"]["Properties"];
        assert_eq!(b["Budget"]["BudgetType"], "COST");
        assert_eq!(b["Budget"]["TimeUnit"], "MONTHLY");
        assert_eq!(b["Budget"]["BudgetName"], "khs-test-monthly");
        assert_eq!(
            b["Budget"]["BudgetLimit"],
            json!({"Amount": 500.0, "Unit": "USD"})
        );
        let n = b["NotificationsWithSubscribers"].as_array().unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(
            n[0]["Notification"],
            json!({"ComparisonOperator": "GREATER_THAN", "NotificationType": "ACTUAL",
                   "Threshold": 80.0, "ThresholdType": "PERCENTAGE"})
        );
        assert_eq!(n[1]["Notification"]["NotificationType"], "FORECASTED");
        assert_eq!(n[1]["Notification"]["Threshold"], 100.0);
        assert_eq!(
            n[0]["Subscribers"],
            json!([{"Address": {"Ref": "AlertsWarning"}, "SubscriptionType": "SNS"}])
        );
        // Budgets carry tags under ResourceTags, which the construct fills
        // from the stack's tags.
        assert_eq!(
            b["ResourceTags"],
            json!([{"Key": "Environment", "Value": "production"}, {"Key": "Project", "Value": "khs-crm"}])
        );
        assert!(b.get("Budget").unwrap().get("CostFilters").is_none());
    }

    #[test]
    fn filters_by_cost_allocation_tags_and_mails_directly() {
        let t = budget(|p| BudgetProps {
            cost_filter_tags: [("Environment".to_string(), "staging".to_string())].into(),
            emails: vec!["billing@example.com".into()],
            forecasted_threshold_percent: None,
            topic: None,
            ..p
        })
        .unwrap();
        let b = &t["Resources"]["BudgetResource"]["Properties"];
        assert_eq!(
            b["Budget"]["CostFilters"],
            json!({"TagKeyValue": ["user:Environment$staging"]})
        );
        let n = b["NotificationsWithSubscribers"].as_array().unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(
            n[0]["Subscribers"],
            json!([{"Address": "billing@example.com", "SubscriptionType": "EMAIL"}])
        );
    }

    fn err(props: impl FnOnce(BudgetProps) -> BudgetProps) -> String {
        budget(props).unwrap_err().to_string()
    }

    #[test]
    fn fails_when_limit_is_not_positive() {
        for l in [0.0, -1.0, f64::INFINITY] {
            let e = err(|p| BudgetProps { limit_usd: l, ..p });
            assert!(
                e.starts_with("khs-test/Budget: limit_usd must be a positive amount"),
                "{e}"
            );
        }
    }

    #[test]
    fn fails_when_a_threshold_is_out_of_range() {
        let e = err(|p| BudgetProps {
            actual_threshold_percent: 0.0,
            ..p
        });
        assert!(
            e.starts_with("khs-test/Budget: actual_threshold_percent"),
            "{e}"
        );
        let e = err(|p| BudgetProps {
            forecasted_threshold_percent: Some(f64::NAN),
            ..p
        });
        assert!(
            e.starts_with("khs-test/Budget: forecasted_threshold_percent"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_there_is_no_subscriber() {
        let e = err(|p| BudgetProps { topic: None, ..p });
        assert!(
            e.starts_with("khs-test/Budget: topic or emails must be given"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_emails_are_too_many_or_malformed() {
        let e = err(|p| BudgetProps {
            emails: (0..11).map(|i| format!("a{i}@example.com")).collect(),
            ..p
        });
        assert!(
            e.starts_with("khs-test/Budget: emails must list at most 10"),
            "{e}"
        );
        let e = err(|p| BudgetProps {
            emails: vec!["nobody".into()],
            ..p
        });
        assert!(
            e.starts_with("khs-test/Budget: emails[0] must be an e-mail"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_the_name_or_filter_is_invalid() {
        let e = err(|p| BudgetProps {
            budget_name: Some("a:b".into()),
            ..p
        });
        assert!(e.starts_with("khs-test/Budget: budget_name"), "{e}");
        let e = err(|p| BudgetProps {
            cost_filter_tags: [("Env$".to_string(), "x".to_string())].into(),
            ..p
        });
        assert!(e.starts_with("khs-test/Budget: cost_filter_tags"), "{e}");
    }
}
