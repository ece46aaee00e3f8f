//! Messaging and events: [`queue::Queue`] (SQS), [`topic::Topic`] (SNS),
//! [`event_rule::EventRule`] (EventBridge rules) and
//! [`schedule::Schedule`] (EventBridge Scheduler); [`import::TopicRef`],
//! what constructs that notify a topic take (imported with
//! [`topic::Topic::import`]).

pub mod event_rule;
pub mod import;
pub mod queue;
pub mod schedule;
pub mod topic;
