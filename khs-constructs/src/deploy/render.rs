//! Rendering: the lines the engine prints for a diff, a change-set plan,
//! the guard's verdict, the forecast and drift. Pure functions of the
//! engine's data, writing to a [`Sink`].

use std::collections::BTreeMap;

use serde_json::Value;

use super::changeset::{PlannedChange, Source};
use super::diff::{Action, ChangeScope, Replacement, TemplateDiff, short};
use super::engine::Sink;
use super::forecast::ForecastFinding;
use super::guard::Verdict;
use super::port::StackInfo;

/// Change-set rows of additions listed one by one; more are summarized by type.
const MAX_LISTED_ADDS: usize = 40;

/// The template diff: one line per resource, one per changed path.
pub fn diff(ui: &mut dyn Sink, diff: &TemplateDiff) {
    if diff.is_empty() {
        ui.line("No differences.");
        return;
    }
    for m in &diff.moved {
        let line = if m.to.contains('/') {
            format!("> {:<36} moved to {}", m.from, m.to)
        } else if m.from.contains('/') {
            format!("> {:<36} moved from {}", m.to, m.from)
        } else {
            format!("> {:<36} renamed from {}", m.to, m.from)
        };
        ui.line(&format!(
            "{line} (declared with khs:moved-from; a stack refactor keeps the resource)"
        ));
    }
    let (a, m, r) = diff.counts();
    ui.line(&format!(
        "Resources: {a} to add, {m} to modify, {r} to remove"
    ));
    for d in &diff.resources {
        let tag = match (d.action, d.replacement) {
            (Action::Modify, Replacement::Yes) => "  [REPLACE]",
            (Action::Modify, Replacement::Conditional) => "  [MAY REPLACE]",
            _ => "",
        };
        let stateful = if d.stateful { "  (stateful)" } else { "" };
        let path = d
            .construct_path
            .as_deref()
            .map(|p| format!("  {p}"))
            .unwrap_or_default();
        ui.line(&format!(
            "{} {:<36} {}{tag}{stateful}{path}",
            d.action.marker(),
            d.logical_id,
            d.type_name
        ));
        for c in &d.changes {
            let label = match c.scope {
                ChangeScope::Properties => c.path.clone(),
                _ => format!("[{}]", c.path),
            };
            let compound = |v: &Option<Value>| {
                v.as_ref()
                    .is_some_and(|v| (v.is_object() || v.is_array()) && v.to_string().len() > 60)
            };
            let multiline = c.before != c.after
                && (compound(&c.before) || compound(&c.after))
                && c.before
                    .as_ref()
                    .is_none_or(|v| v.is_object() || v.is_array())
                && c.after
                    .as_ref()
                    .is_none_or(|v| v.is_object() || v.is_array());
            let mut line = if c.before == c.after {
                format!("    ~ {label}: {}", short(c.after.as_ref()))
            } else if multiline {
                format!("    ~ {label}:")
            } else {
                format!(
                    "    ~ {label}: {} -> {}",
                    short(c.before.as_ref()),
                    short(c.after.as_ref())
                )
            };
            if let Some(b) = &c.because {
                line.push_str(&format!(" (value changes: {b})"));
            }
            match c.replacement {
                Replacement::Yes => line.push_str("  replaces (create-only property)"),
                Replacement::Conditional => line
                    .push_str("  may replace (conditionally create-only; the change set decides)"),
                Replacement::No => {}
            }
            ui.line(&line);
            if multiline {
                let pretty = |v: &Option<Value>| {
                    v.as_ref()
                        .and_then(|v| serde_json::to_string_pretty(v).ok())
                        .map(|s| s + "\n")
                        .unwrap_or_default()
                };
                let (bs, as_) = (pretty(&c.before), pretty(&c.after));
                let td = similar::TextDiff::from_lines(&bs, &as_);
                for change in td.iter_all_changes() {
                    let sign = match change.tag() {
                        similar::ChangeTag::Delete => "-",
                        similar::ChangeTag::Insert => "+",
                        similar::ChangeTag::Equal => " ",
                    };
                    ui.line(&format!("        {sign} {}", change.value().trim_end()));
                }
            }
        }
    }
    for e in &diff.entries {
        let name = if e.name.is_empty() {
            String::new()
        } else {
            format!(" {}", e.name)
        };
        ui.line(&format!("{} {}{name}", e.action.marker(), e.section));
    }
}

/// The change set merged with the prediction.
pub fn plan(ui: &mut dyn Sink, name: &str, planned: &[PlannedChange]) {
    ui.line(&format!(
        "Change set for {name}: {} resource change(s)",
        planned.len()
    ));
    ui.line(&format!(
        "  {:<7} {:<36} {:<40} {}",
        "Action", "LogicalId", "Type", "Replacement"
    ));
    // A long list of additions (a new stack) is summarized by type.
    let adds: Vec<&PlannedChange> = planned.iter().filter(|p| p.action == Action::Add).collect();
    let summarize = adds.len() > MAX_LISTED_ADDS;
    if summarize {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &adds {
            *by_type.entry(p.type_name.as_str()).or_default() += 1;
        }
        let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} x{n}")).collect();
        ui.line(&format!(
            "  Add     {} resources: {}",
            adds.len(),
            types.join(", ")
        ));
    }
    for p in planned {
        if summarize && p.action == Action::Add {
            continue;
        }
        let action = match p.action {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
        };
        let repl = match (p.action, p.replacement) {
            (Action::Modify, r) => {
                let word = match r {
                    Replacement::Yes => "True",
                    Replacement::Conditional => "Conditional",
                    Replacement::No => "False",
                };
                if p.replacement_confirmed || r == Replacement::No {
                    word.to_string()
                } else if p.source == Source::Predicted {
                    format!("{word} (predicted; not in the change set)")
                } else {
                    format!("{word} (predicted; the change set does not say)")
                }
            }
            _ => "-".to_string(),
        };
        let stateful = if p.stateful { "  stateful" } else { "" };
        ui.line(&format!(
            "  {action:<7} {:<36} {:<40} {repl}{stateful}",
            p.logical_id, p.type_name
        ));
        let causes = p
            .causes
            .iter()
            .filter(|c| p.replacement.may_replace() && c.replacement.may_replace());
        for c in causes {
            let verb = if c.replacement == Replacement::Yes {
                "replaced"
            } else {
                "may be replaced"
            };
            ui.line(&format!(
                "          {verb} because {} changes{}",
                c.property,
                c.causing_entity
                    .as_deref()
                    .map(|e| format!(" (caused by {e})"))
                    .unwrap_or_default()
            ));
        }
    }
}

/// What the guard would say (diff and `--changeset`).
pub fn guard_preview(ui: &mut dyn Sink, name: &str, verdict: &Verdict) {
    if !verdict.refused.is_empty() {
        ui.line("Deploying this would be refused by the data-loss guard:");
        for f in &verdict.refused {
            ui.line(&format!("  {}", f.describe(name)));
        }
        let ids: Vec<&str> = verdict
            .refused
            .iter()
            .map(|f| f.logical_id.as_str())
            .collect();
        ui.line(&format!(
            "  (override: --allow-replace {})",
            ids.join(" --allow-replace ")
        ));
    }
    for r in &verdict.renames {
        ui.line(&format!("note: {}", r.describe()));
    }
    security(ui, verdict);
}

/// A stack's outputs, one `Key = Value` line each.
pub fn outputs(ui: &mut dyn Sink, info: &StackInfo) {
    for (k, v) in &info.outputs {
        ui.line(&format!("    {k} = {v}"));
    }
}

/// The security-broadening changes of a verdict.
pub fn security(ui: &mut dyn Sink, verdict: &Verdict) {
    if !verdict.security.is_empty() {
        ui.line("Security-broadening changes:");
        for s in &verdict.security {
            ui.line(&format!(
                "  {} ({}): {}",
                s.logical_id, s.type_name, s.description
            ));
        }
    }
}

/// The forecast's findings, one line each.
pub fn forecast(ui: &mut dyn Sink, stack: &str, findings: &[ForecastFinding]) {
    for f in findings {
        ui.line(&f.describe(stack));
    }
}
