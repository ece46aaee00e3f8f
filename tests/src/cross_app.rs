//! The small app the cross-stack deploy tests drive against moto: a
//! producer stack whose topic's name a consumer in the same region reads
//! (an export and `Fn::ImportValue`, written by the library) and a stack in
//! another region reads too (a parameter the deploy client fills). The
//! `Unused` variant drops one of the consumer's two uses (it still depends
//! on the producer), which must deploy without the deadly embrace.

use khs_constructs::cfn::sns::Topic;
use khs_constructs::prelude::*;

/// The producer, in us-east-1.
pub const PRODUCER: &str = "xs-producer";
/// The consumer in the same region.
pub const CONSUMER: &str = "xs-consumer";
/// The consumer in us-west-2.
pub const REMOTE: &str = "xs-remote";
/// The export the library writes for the topic's name.
pub const EXPORT: &str = "xs-producer:AlertsTopic:TopicName";

/// Which version of the app to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossVariant {
    /// The consumer's topic takes the producer topic's name.
    Used,
    /// The consumer no longer uses it (it still uses the audit topic's).
    Unused,
}

impl CrossVariant {
    /// `used` or `unused`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "used" => Some(CrossVariant::Used),
            "unused" => Some(CrossVariant::Unused),
            _ => None,
        }
    }
}

/// The app: producer, consumer, remote consumer.
pub fn app(variant: CrossVariant) -> Result<App> {
    let mut producer = Stack::new(PRODUCER, StackProps::new(Environment::region("us-east-1")))?;
    let topic = producer
        .as_scope()
        .child("Alerts")?
        .add("Topic", Topic::default())?;
    let audit = producer
        .as_scope()
        .child("Audit")?
        .add("Topic", Topic::default())?;

    let mut consumer = Stack::new(CONSUMER, StackProps::new(Environment::region("us-east-1")))?;
    let display_name = match variant {
        CrossVariant::Used => Some(topic.get_att::<String>("TopicName")),
        CrossVariant::Unused => None,
    };
    consumer.as_scope().add(
        "Mirror",
        Topic {
            display_name,
            ..Topic::default()
        },
    )?;
    // A use that stays: the consumer keeps depending on the producer, so
    // the producer deploys first in both variants (where the embrace bites).
    consumer.as_scope().add(
        "AuditMirror",
        Topic {
            display_name: Some(audit.get_att::<String>("TopicName")),
            ..Topic::default()
        },
    )?;

    let mut remote = Stack::new(REMOTE, StackProps::new(Environment::region("us-west-2")))?;
    remote.as_scope().add(
        "Mirror",
        Topic {
            display_name: Some(topic.get_att::<String>("TopicName")),
            ..Topic::default()
        },
    )?;

    let mut app = App::new();
    app.add_stack(consumer)?;
    app.add_stack(remote)?;
    app.add_stack(producer)?;
    Ok(app)
}
