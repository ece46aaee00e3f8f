//! CloudWatch dashboards built from typed widgets.

use std::collections::BTreeMap;

use crate::cfn;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::{Expr, Intrinsic};
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;

use super::*;

// ---------------------------------------------------------------------------
// Dashboards
// ---------------------------------------------------------------------------

/// A line graph of one or more metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphWidget {
    /// The title.
    pub title: String,
    /// The metrics drawn (each with its own statistic and period).
    pub metrics: Vec<Metric>,
    /// Width in grid columns (the grid is 24 wide).
    ///
    /// Default: 12.
    pub width: u32,
    /// Height in grid rows.
    ///
    /// Default: 6.
    pub height: u32,
    /// Stack the series.
    ///
    /// Default: `false`.
    pub stacked: bool,
}

impl GraphWidget {
    /// A half-width graph of `metrics`.
    pub fn new(title: impl Into<String>, metrics: Vec<Metric>) -> Self {
        GraphWidget {
            title: title.into(),
            metrics,
            width: 12,
            height: 6,
            stacked: false,
        }
    }
}

/// A Markdown text widget.
#[derive(Debug, Clone, PartialEq)]
pub struct TextWidget {
    /// The Markdown text.
    pub markdown: String,
    /// Width in grid columns (the grid is 24 wide).
    ///
    /// Default: 24.
    pub width: u32,
    /// Height in grid rows.
    ///
    /// Default: 2.
    pub height: u32,
}

impl TextWidget {
    /// A full-width, two-row text widget.
    pub fn new(markdown: impl Into<String>) -> Self {
        TextWidget {
            markdown: markdown.into(),
            width: 24,
            height: 2,
        }
    }
}

/// One dashboard widget. Widgets are laid out left to right in the order
/// given, wrapping at the grid's 24 columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Widget {
    /// A graph.
    Graph(GraphWidget),
    /// Text.
    Text(TextWidget),
}

/// The width of the dashboard grid.
pub const GRID_WIDTH: u32 = 24;

/// Escapes `${` in literal text for `Fn::Sub`.
pub(crate) fn sub_escape(s: &str) -> String {
    s.replace("${", "${!")
}

/// Builds a dashboard body: JSON text with `${Dn}` placeholders for the
/// intrinsic dimension values and `${AWS::Region}` for the region, wrapped in
/// `Fn::Sub`.
pub(crate) fn dashboard_body(
    path: &ConstructPath,
    start: &str,
    widgets: &[Widget],
) -> Result<Value<String>> {
    use serde_json::{Value as J, json};
    let mut vars: BTreeMap<String, Expr> = BTreeMap::new();
    let mut items = Vec::new();
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    for (i, w) in widgets.iter().enumerate() {
        let prop = format!("widgets[{i}]");
        let (width, height) = match w {
            Widget::Graph(g) => (g.width, g.height),
            Widget::Text(t) => (t.width, t.height),
        };
        if !(1..=GRID_WIDTH).contains(&width) {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.width"),
                format!("must be 1..={GRID_WIDTH} grid columns, got {width}"),
            ));
        }
        if !(1..=1000).contains(&height) {
            return Err(Error::invalid_prop(
                path,
                format!("{prop}.height"),
                format!("must be 1..=1000 grid rows, got {height}"),
            ));
        }
        if x + width > GRID_WIDTH {
            x = 0;
            y += row_height;
            row_height = 0;
        }
        let properties = match w {
            Widget::Text(t) => json!({"markdown": sub_escape(&t.markdown)}),
            Widget::Graph(g) => {
                if g.metrics.is_empty() {
                    return Err(Error::invalid_prop(
                        path,
                        format!("{prop}.metrics"),
                        "must list at least one metric, got none",
                    ));
                }
                let mut metrics = Vec::new();
                for (j, m) in g.metrics.iter().enumerate() {
                    m.validate(path, &format!("{prop}.metrics[{j}]"))?;
                    let mut row = vec![
                        J::from(sub_escape(&m.namespace)),
                        J::from(sub_escape(&m.name)),
                    ];
                    for (name, value) in &m.dimensions {
                        row.push(J::from(sub_escape(name)));
                        row.push(J::from(match value {
                            Value::Literal(s) => sub_escape(s),
                            Value::Fn(f) => {
                                let expr = Expr::Fn(f.clone());
                                let existing = vars
                                    .iter()
                                    .find(|(_, e)| **e == expr)
                                    .map(|(k, _)| k.clone());
                                let var = existing.unwrap_or_else(|| {
                                    let var = format!("D{}", vars.len());
                                    vars.insert(var.clone(), expr);
                                    var
                                });
                                format!("${{{var}}}")
                            }
                        }));
                    }
                    let mut opts = serde_json::Map::new();
                    opts.insert("stat".into(), J::from(m.statistic.name()));
                    opts.insert("period".into(), J::from(m.period_seconds));
                    if let Some(l) = &m.label {
                        opts.insert("label".into(), J::from(sub_escape(l)));
                    }
                    row.push(J::Object(opts));
                    metrics.push(J::Array(row));
                }
                json!({
                    "title": sub_escape(&g.title),
                    "view": "timeSeries",
                    "stacked": g.stacked,
                    "region": "${AWS::Region}",
                    "metrics": metrics,
                })
            }
        };
        let kind = match w {
            Widget::Graph(_) => "metric",
            Widget::Text(_) => "text",
        };
        items.push(json!({
            "type": kind, "x": x, "y": y, "width": width, "height": height,
            "properties": properties,
        }));
        x += width;
        row_height = row_height.max(height);
    }
    let body = json!({"start": sub_escape(start), "widgets": items});
    let text = serde_json::to_string(&body).map_err(|e| Error::Serialization {
        stack: path.stack().to_string(),
        message: format!("{path}: {e}"),
    })?;
    Ok(Intrinsic::Sub {
        template: text,
        vars,
    }
    .into())
}

/// The props of a [`Dashboard`].
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardProps {
    /// The dashboard name (unique per account; letters, digits, `-`, `_`).
    ///
    /// Default: - the stack name.
    pub dashboard_name: Option<String>,
    /// The widgets, laid out left to right, wrapping at 24 columns.
    pub widgets: Vec<Widget>,
    /// The time range shown when the dashboard opens (ISO 8601 duration,
    /// relative to now).
    ///
    /// Default: `"-PT3H"` (the last three hours).
    pub start: String,
}

impl DashboardProps {
    /// A dashboard of `widgets`, every other field at its default.
    pub fn new(widgets: Vec<Widget>) -> Self {
        DashboardProps {
            dashboard_name: None,
            widgets,
            start: "-PT3H".into(),
        }
    }
}

/// A CloudWatch dashboard. Emits one `AWS::CloudWatch::Dashboard` whose body
/// is generated from typed widgets.
#[derive(Debug, Clone)]
pub struct Dashboard {
    handle: Handle<cfn::cloudwatch::Dashboard>,
}

impl Dashboard {
    /// Adds a dashboard at `scope/id`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: DashboardProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let stack_name = s.stack_name().to_string();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let name = props.dashboard_name.clone().unwrap_or(stack_name);
        if name.is_empty()
            || name.len() > 255
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::invalid_prop(
                &path,
                "dashboard_name",
                format!("must be 1..=255 ASCII letters, digits, '-' or '_', got {name:?}"),
            ));
        }
        if props.widgets.is_empty() {
            return Err(Error::invalid_prop(
                &path,
                "widgets",
                "must list at least one widget, got none",
            ));
        }
        let body = dashboard_body(&path, &props.start, &props.widgets)?;
        let handle = me.add(
            "Resource",
            cfn::cloudwatch::Dashboard {
                dashboard_name: Some(name.into()),
                ..cfn::cloudwatch::Dashboard::new(body)
            },
        )?;
        Ok(Dashboard { handle })
    }

    /// The dashboard resource.
    pub fn handle(&self) -> &Handle<cfn::cloudwatch::Dashboard> {
        &self.handle
    }
}
