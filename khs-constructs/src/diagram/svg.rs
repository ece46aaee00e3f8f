//! The SVG picture, laid out by the `layout-rs` crate (a Sugiyama-style
//! layered layout in Rust: no Graphviz, no browser).
//!
//! `layout-rs` has no nested clusters, so a box's stack is its colour and
//! the second line of its text; external nodes (the internet) are circles.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use std::collections::{BTreeMap, BTreeSet};

use super::mermaid::node_lines;
use super::{Detail, Diagram};

/// One font size for everything: `layout-rs` keeps a style per size in a
/// hash map, and one entry keeps the output byte-identical.
const FONT_SIZE: usize = 14;

/// Fill colours of the stacks, in synthesis order (repeating after eight).
const STACK_FILLS: [u32; 8] = [
    0xdbeafeff, 0xdcfce7ff, 0xfef3c7ff, 0xfce7f3ff, 0xede9feff, 0xe0f2feff, 0xfee2e2ff, 0xf1f5f9ff,
];

pub(crate) fn render(d: &Diagram) -> String {
    let orientation = Orientation::LeftToRight;
    let mut vg = VisualGraph::new(orientation);
    let fills: BTreeMap<&str, u32> = d
        .stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), STACK_FILLS[i % STACK_FILLS.len()]))
        .collect();
    let arrows = d.arrows();
    let connected: BTreeSet<&str> = arrows.iter().flat_map(|(f, t, _, _)| [*f, *t]).collect();
    let mut handles = BTreeMap::new();
    // One legend box per stack: its name, region and the boxes without
    // arrows (a layered layout would put them all in the first layer).
    for s in &d.stacks {
        let loose: Vec<&str> = d
            .nodes
            .values()
            .filter(|n| n.stack.as_deref() == Some(s.name.as_str()))
            .filter(|n| !connected.contains(n.key.as_str()))
            .map(|n| n.label.as_str())
            .collect();
        let mut lines = vec![
            format!("stack {}", s.name),
            format!("{}, {} resources", s.region, s.resources),
        ];
        if d.detail == Detail::Resources && !loose.is_empty() {
            lines.push(format!("and {} resources without arrows", loose.len()));
        } else if !loose.is_empty() {
            lines.push("also:".to_string());
            for chunk in loose.chunks(3) {
                lines.push(chunk.join(", "));
            }
        }
        let fill = fills.get(s.name.as_str()).copied().unwrap_or(0xffffffff);
        vg.add_node(element(
            ShapeKind::new_box(&lines.join("\n")),
            &lines,
            fill,
            0,
            orientation,
        ));
    }
    for n in d
        .nodes
        .values()
        .filter(|n| connected.contains(n.key.as_str()))
    {
        let mut lines = node_lines(n, d.detail);
        if let (Some(c), Detail::Resources) = (&n.construct, d.detail) {
            lines.insert(1, format!("in {}", c.rsplit('/').next().unwrap_or(c)));
        }
        let text = lines.join("\n");
        let fill = n
            .stack
            .as_deref()
            .and_then(|s| fills.get(s))
            .copied()
            .unwrap_or(0xffffffff);
        let shape = if n.stack.is_none() {
            ShapeKind::new_circle(&text)
        } else {
            ShapeKind::new_box(&text)
        };
        let rounded = if n.stack.is_some() { 6 } else { 0 };
        let h = vg.add_node(element(shape, &lines, fill, rounded, orientation));
        handles.insert(n.key.as_str(), h);
    }
    for (from, to, flow, label) in &arrows {
        let (Some(&a), Some(&b)) = (handles.get(*from), handles.get(*to)) else {
            continue;
        };
        let flow = *flow;
        let look = StyleAttr::new(
            Color::new(if flow { 0x1e293bff } else { 0x64748bff }),
            if flow { 2 } else { 1 },
            None,
            0,
            FONT_SIZE,
        );
        let style = if flow {
            LineStyleKind::Normal
        } else {
            LineStyleKind::Dashed
        };
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            style,
            label,
            &look,
            &None,
            &None,
        );
        vg.add_edge(arrow, a, b);
    }
    let mut svg = SVGWriter::new();
    if vg.num_nodes() > 0 {
        vg.do_it(false, false, false, &mut svg);
    }
    // layout-rs writes `Times, serif`; a sans-serif face reads better in
    // boxes and is on every system.
    svg.finalize().replace(
        "font-family: Times, serif;",
        "font-family: Helvetica, Arial, sans-serif;",
    )
}

/// A box sized for its text: `layout-rs` would size it at one font size
/// per character, about twice the width the text takes.
fn element(
    shape: ShapeKind,
    lines: &[String],
    fill: u32,
    rounded: usize,
    orientation: Orientation,
) -> Element {
    let font = FONT_SIZE as f64;
    let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let circle = matches!(shape, ShapeKind::Circle(_));
    let mut size = Point::new(
        chars * font * 0.62 + 24.0,
        lines.len() as f64 * font * 1.25 + 16.0,
    );
    if circle {
        size = Point::new(size.x.max(size.y) + 10.0, size.x.max(size.y) + 10.0);
    }
    let look = StyleAttr::new(
        Color::new(0x334155ff),
        1,
        Some(Color::new(fill)),
        rounded,
        FONT_SIZE,
    );
    Element::create(shape, look, orientation, size)
}
