//! Messaging and events: [`queue::Queue`] (SQS), [`topic::Topic`] (SNS),
//! [`event_rule::EventRule`] (EventBridge rules) and
//! [`schedule::Schedule`] (EventBridge Scheduler).

pub mod event_rule;
pub mod queue;
pub mod schedule;
pub mod topic;
