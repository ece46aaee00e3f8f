//! Drift: resources changed outside CloudFormation, as drift detection
//! reports them, and what a deployment would do to them. Rendering only;
//! the engine runs the detection through the port.

use serde_json::Value;

use super::diff::{Action, TemplateDiff, construct_path};
use super::engine::Sink;
use super::port::{PropertyDrift, ResourceDrift};

/// The drifted resources of one stack (`MODIFIED` and `DELETED` only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DriftReport {
    /// The drifted resources.
    pub drifted: Vec<ResourceDrift>,
}

/// `/Properties/Tags/0/Value` → `Tags.0.Value`.
pub fn property_name(pointer: &str) -> String {
    pointer
        .strip_prefix("/Properties/")
        .unwrap_or(pointer.trim_start_matches('/'))
        .replace('/', ".")
}

fn values(p: &PropertyDrift) -> String {
    match p.difference.as_str() {
        "ADD" => format!(
            "{} added outside CloudFormation ({})",
            property_name(&p.path),
            p.actual
        ),
        "REMOVE" => format!(
            "{} removed outside CloudFormation (template: {})",
            property_name(&p.path),
            p.expected
        ),
        _ => format!(
            "{}: template {}, actual {}",
            property_name(&p.path),
            p.expected,
            p.actual
        ),
    }
}

/// `drift STACK`: every drifted resource with its construct path (from the
/// deployed template) and property differences.
pub fn render(ui: &mut dyn Sink, stack: &str, report: &DriftReport, deployed: Option<&Value>) {
    if report.drifted.is_empty() {
        ui.line(&format!(
            "{stack}: no drift: every checked resource matches the deployed template."
        ));
        return;
    }
    ui.line(&format!(
        "{stack}: {} resource(s) differ from the deployed template:",
        report.drifted.len()
    ));
    for r in &report.drifted {
        let path = deployed
            .and_then(|t| t.get("Resources"))
            .and_then(|res| res.get(&r.logical_id))
            .and_then(construct_path)
            .map(|p| format!("  {p}"))
            .unwrap_or_default();
        ui.line(&format!(
            "  {} {} ({}){path}",
            r.status, r.logical_id, r.resource_type
        ));
        if r.status == "DELETED" {
            ui.line("      deleted outside CloudFormation");
        }
        for p in &r.properties {
            ui.line(&format!("      {}", values(p)));
        }
    }
}

/// Before a diff or deployment: per drifted resource, what the deployment
/// would do to it.
pub fn against_diff(ui: &mut dyn Sink, report: &DriftReport, diff: &TemplateDiff) {
    for r in &report.drifted {
        let change = diff.resource(&r.logical_id);
        let line = match (r.status.as_str(), change.map(|c| c.action)) {
            ("DELETED", Some(Action::Remove)) => format!(
                "drift: {} was deleted outside CloudFormation; this deployment removes it from \
                 the stack as well",
                r.logical_id
            ),
            ("DELETED", _) => format!(
                "drift: {} ({}) was deleted outside CloudFormation; CloudFormation still \
                 believes it exists, so an update of it or of what refers to it fails: re-create \
                 it by hand or remove it from the code",
                r.logical_id, r.resource_type
            ),
            (_, Some(Action::Modify)) => {
                let props: Vec<String> = r
                    .properties
                    .iter()
                    .map(|p| {
                        format!(
                            "{} back to {} (now {})",
                            property_name(&p.path),
                            p.expected,
                            p.actual
                        )
                    })
                    .collect();
                format!(
                    "drift: this deployment updates {} ({}), which was changed outside \
                     CloudFormation: it would set {}",
                    r.logical_id,
                    r.resource_type,
                    if props.is_empty() {
                        "its properties back to the template".to_string()
                    } else {
                        props.join(", ")
                    }
                )
            }
            (_, Some(Action::Remove)) => format!(
                "drift: {} was changed outside CloudFormation; this deployment removes it",
                r.logical_id
            ),
            _ => {
                let props: Vec<String> = r.properties.iter().map(values).collect();
                format!(
                    "drift: {} ({}) differs from its template ({}); this deployment does not \
                     update it, so the drift stays",
                    r.logical_id,
                    r.resource_type,
                    props.join("; ")
                )
            }
        };
        ui.line(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_pointers_read_as_property_paths() {
        assert_eq!(
            property_name("/Properties/RetentionInDays"),
            "RetentionInDays"
        );
        assert_eq!(property_name("/Properties/Tags/0/Value"), "Tags.0.Value");
    }
}
