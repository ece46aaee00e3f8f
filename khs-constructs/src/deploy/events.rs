//! Following a deployment: stack events printed once each, resources done
//! out of the total, and the outcome with the first failure's reason and
//! what to do next. Offline (the client feeds it `DescribeStackEvents`
//! pages), so the failure paths are tested on recorded events.

use std::collections::BTreeSet;

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// The event id.
    pub id: String,
    /// RFC 3339 time.
    pub timestamp: String,
    /// The logical id (the stack name for stack events).
    pub logical_id: String,
    /// The type (`AWS::CloudFormation::Stack` for the stack itself).
    pub resource_type: String,
    /// `CREATE_COMPLETE`, …
    pub status: String,
    /// Why.
    pub reason: Option<String>,
}

impl StackEvent {
    /// Whether the event is about the stack itself.
    pub fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }

    /// One line: time, logical id, type, status, reason.
    pub fn line(&self) -> String {
        format!(
            "{}  {:<40} {:<36} {}{}",
            self.timestamp.get(11..19).unwrap_or(&self.timestamp),
            self.logical_id,
            self.resource_type,
            self.status,
            self.reason
                .as_deref()
                .map(|r| format!("  {r}"))
                .unwrap_or_default()
        )
    }
}

/// Whether a stack status is final (nothing is running).
pub fn is_terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") || status == "REVIEW_IN_PROGRESS"
}

/// Whether a final stack status means the operation failed.
pub fn is_failure(status: &str) -> bool {
    status.contains("ROLLBACK") || status.ends_with("_FAILED")
}

/// The state of one followed operation.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    seen: BTreeSet<String>,
    done: BTreeSet<String>,
    first_failure: Option<StackEvent>,
}

/// How a followed operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether it failed.
    pub failed: bool,
    /// For a failure: the first failing event's resource, status and reason.
    pub error: Option<String>,
    /// The final status and what to do next.
    pub lines: Vec<String>,
}

impl Tracker {
    /// A tracker that ignores the events in `seen` (those of earlier operations).
    pub fn new(seen: BTreeSet<String>) -> Self {
        Tracker {
            seen,
            ..Tracker::default()
        }
    }

    /// Takes a page of events (newest first, as the API returns them) and
    /// returns the lines of the events not seen before, oldest first.
    pub fn observe(&mut self, newest_first: &[StackEvent]) -> Vec<String> {
        let mut lines = Vec::new();
        for e in newest_first.iter().rev() {
            if !self.seen.insert(e.id.clone()) {
                continue;
            }
            lines.push(e.line());
            if e.status.ends_with("_FAILED") && self.first_failure.is_none() {
                self.first_failure = Some(e.clone());
            }
            if !e.is_stack()
                && (e.status.ends_with("_COMPLETE")
                    || e.status.ends_with("_FAILED")
                    || e.status == "DELETE_SKIPPED")
            {
                self.done.insert(e.logical_id.clone());
            }
        }
        lines
    }

    /// Resources that reached a final state.
    pub fn done(&self) -> u64 {
        self.done.len() as u64
    }

    /// The outcome once the stack reached `status` (a final one).
    pub fn outcome(&self, stack: &str, status: &str, status_reason: Option<&str>) -> Outcome {
        if !is_failure(status) {
            return Outcome {
                failed: false,
                error: None,
                lines: vec![format!("{stack}: {status}")],
            };
        }
        let reason = self
            .first_failure
            .as_ref()
            .map(|e| {
                format!(
                    "{} ({}): {}",
                    e.logical_id,
                    e.status,
                    e.reason.as_deref().unwrap_or("no reason given")
                )
            })
            .or_else(|| status_reason.map(str::to_string))
            .unwrap_or_else(|| "no failure reason in the events".to_string());
        let mut lines = vec![format!("{stack}: final status {status}")];
        match status {
            "UPDATE_ROLLBACK_FAILED" => lines.push(rollback_failed_guidance(stack)),
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => lines.push(format!(
                "{stack}: the stack was never created; delete it with `destroy {stack}` before \
                 deploying again."
            )),
            "UPDATE_ROLLBACK_COMPLETE" => lines.push(format!(
                "{stack}: CloudFormation rolled back to the previous state; fix the cause and \
                 deploy again."
            )),
            "DELETE_FAILED" => lines.push(format!(
                "{stack}: some resources could not be deleted (see above); fix them (for example \
                 empty a bucket) and run `destroy {stack}` again."
            )),
            _ => {}
        }
        Outcome {
            failed: true,
            error: Some(format!("{stack}: deployment failed: {reason}")),
            lines,
        }
    }
}

/// What to do with a stack in `UPDATE_ROLLBACK_FAILED`.
pub fn rollback_failed_guidance(stack: &str) -> String {
    format!(
        "{stack} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back the failed update. \
         Fix the cause shown in the events (often a resource changed or deleted outside \
         CloudFormation), then run `aws cloudformation continue-update-rollback --stack-name \
         {stack}` (add `--resources-to-skip <LogicalId>` for resources that cannot be restored), \
         follow it with `watch {stack}`, and deploy again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(
        id: &str,
        t: &str,
        logical: &str,
        ty: &str,
        status: &str,
        reason: Option<&str>,
    ) -> StackEvent {
        StackEvent {
            id: id.to_string(),
            timestamp: format!("2026-11-25T15:{t}Z"),
            logical_id: logical.to_string(),
            resource_type: ty.to_string(),
            status: status.to_string(),
            reason: reason.map(str::to_string),
        }
    }

    /// An update that fails and cannot roll back, as DescribeStackEvents
    /// returns it page by page (newest first).
    fn failed_update() -> (Vec<StackEvent>, Vec<StackEvent>) {
        let first = vec![
            ev(
                "5",
                "00:05",
                "DatabaseInstance",
                "AWS::RDS::DBInstance",
                "UPDATE_IN_PROGRESS",
                None,
            ),
            ev(
                "4",
                "00:04",
                "ApiService",
                "AWS::ECS::Service",
                "UPDATE_COMPLETE",
                None,
            ),
            ev(
                "3",
                "00:02",
                "ApiService",
                "AWS::ECS::Service",
                "UPDATE_IN_PROGRESS",
                None,
            ),
            ev(
                "2",
                "00:01",
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            ev(
                "1",
                "00:00",
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                None,
            ),
        ];
        let second = vec![
            ev(
                "10",
                "09:00",
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_FAILED",
                Some("The following resource(s) failed to update: [ApiService]."),
            ),
            ev(
                "9",
                "08:00",
                "ApiService",
                "AWS::ECS::Service",
                "UPDATE_FAILED",
                Some("Resource handler returned message: \"Service was not ACTIVE\""),
            ),
            ev(
                "8",
                "07:00",
                "app",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [DatabaseInstance]."),
            ),
            ev(
                "7",
                "06:00",
                "DatabaseInstance",
                "AWS::RDS::DBInstance",
                "UPDATE_FAILED",
                Some("Invalid storage size for engine name postgres and storage type gp3: 10"),
            ),
            ev(
                "6",
                "05:30",
                "ApiService",
                "AWS::ECS::Service",
                "UPDATE_COMPLETE",
                None,
            ),
            ev(
                "5",
                "00:05",
                "DatabaseInstance",
                "AWS::RDS::DBInstance",
                "UPDATE_IN_PROGRESS",
                None,
            ),
        ];
        (first, second)
    }

    #[test]
    fn prints_each_new_event_once_in_order_and_counts_resources() {
        let (first, second) = failed_update();
        let mut t = Tracker::new(["1".to_string()].into());
        let lines = t.observe(&first);
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("15:00:01  app"));
        assert!(lines[0].ends_with("UPDATE_IN_PROGRESS  User Initiated"));
        assert_eq!(t.done(), 1);
        let lines = t.observe(&second);
        assert_eq!(lines.len(), 5, "event 5 is printed once only");
        assert!(lines[0].contains("ApiService"));
        assert_eq!(t.done(), 2);
    }

    #[test]
    fn failure_shows_the_first_failing_reason_and_rollback_guidance() {
        let (first, second) = failed_update();
        let mut t = Tracker::new(BTreeSet::new());
        t.observe(&first);
        t.observe(&second);
        let o = t.outcome("app", "UPDATE_ROLLBACK_FAILED", None);
        assert!(o.failed);
        assert_eq!(
            o.error.as_deref(),
            Some(
                "app: deployment failed: DatabaseInstance (UPDATE_FAILED): Invalid storage size for engine name postgres and storage type gp3: 10"
            )
        );
        assert_eq!(o.lines[0], "app: final status UPDATE_ROLLBACK_FAILED");
        assert!(o.lines[1].contains("continue-update-rollback --stack-name app"));
        assert!(o.lines[1].contains("--resources-to-skip"));
    }

    #[test]
    fn failed_creation_says_to_delete_first() {
        let events = vec![
            ev(
                "3",
                "00:03",
                "app",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_COMPLETE",
                None,
            ),
            ev(
                "2",
                "00:02",
                "Bucket",
                "AWS::S3::Bucket",
                "CREATE_FAILED",
                Some("khs-assets already exists"),
            ),
            ev(
                "1",
                "00:01",
                "app",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                None,
            ),
        ];
        let mut t = Tracker::new(BTreeSet::new());
        t.observe(&events);
        let o = t.outcome("app", "ROLLBACK_COMPLETE", None);
        assert!(
            o.error
                .unwrap_or_default()
                .contains("Bucket (CREATE_FAILED): khs-assets already exists")
        );
        assert!(o.lines[1].contains("destroy app"));
    }

    #[test]
    fn success_and_statuses() {
        let t = Tracker::new(BTreeSet::new());
        let o = t.outcome("app", "UPDATE_COMPLETE", None);
        assert!(!o.failed && o.error.is_none());
        assert_eq!(o.lines, ["app: UPDATE_COMPLETE"]);
        assert!(
            is_terminal("REVIEW_IN_PROGRESS")
                && !is_terminal("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        );
        assert!(is_failure("UPDATE_ROLLBACK_COMPLETE") && !is_failure("DELETE_COMPLETE"));
        // Without failing events, the stack's own reason is used.
        let o = t.outcome("app", "DELETE_FAILED", Some("bucket not empty"));
        assert!(o.error.unwrap_or_default().ends_with("bucket not empty"));
    }
}
