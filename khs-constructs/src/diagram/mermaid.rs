//! Mermaid flowchart text: one `subgraph` per stack (and per construct with
//! [`Detail::Resources`]), one line per node and per arrow, in key order, so
//! that a change of architecture is a readable diff of lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Detail, Diagram, Node, SVG_FILE};

/// Mermaid ids for stacks, construct groups and node keys: the name with
/// every character other than ASCII letters and digits replaced by `_`
/// (after `s_`, `g_` or `n_`), made unique with a numeric suffix in that
/// order (stacks in synthesis order, then groups and nodes by key).
pub(crate) struct Ids<'d> {
    /// By position in [`Diagram::stacks`].
    stacks: Vec<String>,
    groups: BTreeMap<&'d str, String>,
    nodes: BTreeMap<&'d str, String>,
}

impl<'d> Ids<'d> {
    pub fn new(d: &'d Diagram) -> Ids<'d> {
        let mut used = BTreeSet::new();
        let mut unique = |prefix: &str, body: &str| -> String {
            let mut base = String::with_capacity(prefix.len() + body.len());
            base.push_str(prefix);
            base.extend(
                body.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            );
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}_{n}");
                n += 1;
            }
            id
        };
        let stacks = d.stacks.iter().map(|s| unique("s_", &s.name)).collect();
        let constructs: BTreeSet<&str> = d
            .nodes
            .values()
            .filter_map(|n| n.construct.as_deref())
            .collect();
        let groups = constructs
            .into_iter()
            .map(|c| (c, unique("g_", c)))
            .collect();
        let nodes = d
            .nodes
            .keys()
            .map(|k| (k.as_str(), unique("n_", k)))
            .collect();
        Ids {
            stacks,
            groups,
            nodes,
        }
    }

    fn stack(&self, i: usize) -> &str {
        self.stacks.get(i).map_or("s_unknown", String::as_str)
    }

    fn group(&self, construct: &str) -> &str {
        self.groups
            .get(construct)
            .map_or("g_unknown", String::as_str)
    }

    pub fn get(&self, key: &str) -> &str {
        self.nodes.get(key).map_or("n_unknown", String::as_str)
    }
}

/// Appends `s` escaped for inside `"…"` of a Mermaid label.
fn esc_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find(['&', '"', '<', '>']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "#amp;",
            b'"' => "#quot;",
            b'<' => "#lt;",
            _ => "#gt;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// The lines of a node's box.
pub(crate) fn node_lines(n: &Node, detail: Detail) -> Vec<String> {
    let mut lines = Vec::with_capacity(2 + n.notes.len());
    for_each_line(n, detail, |l| lines.push(l.to_string()));
    lines
}

/// Calls `f` with each line of a node's box, in order.
fn for_each_line(n: &Node, detail: Detail, mut f: impl FnMut(&str)) {
    f(&n.label);
    match (detail, &n.type_name) {
        (Detail::Resources, Some(t)) => f(t.trim_start_matches("AWS::")),
        _ if n.stack.is_some() => {
            let s = if n.resources == 1 { "" } else { "s" };
            f(&format!("{} resource{s}", n.resources));
        }
        _ => {}
    }
    for note in &n.notes {
        f(note);
    }
}

/// Appends a node's line: `id["label<br/>…"]`, or `id(("…"))` outside the app.
fn node_line(out: &mut String, indent: &str, n: &Node, ids: &Ids<'_>, detail: Detail) {
    let external = n.stack.is_none();
    out.push_str(indent);
    out.push_str(ids.get(&n.key));
    out.push_str(if external { "((\"" } else { "[\"" });
    let mut first = true;
    for_each_line(n, detail, |l| {
        if !first {
            out.push_str("<br/>");
        }
        first = false;
        esc_into(out, l);
    });
    out.push_str(if external { "\"))\n" } else { "\"]\n" });
}

pub(crate) fn render(d: &Diagram) -> String {
    let mut out = String::with_capacity(8 * 1024);
    render_into(d, &mut out);
    out
}

fn render_into(d: &Diagram, out: &mut String) {
    let ids = Ids::new(d);
    out.push_str("flowchart LR\n");
    for n in d.nodes.values().filter(|n| n.stack.is_none()) {
        node_line(out, "  ", n, &ids, d.detail);
    }
    for (k, s) in d.stacks.iter().enumerate() {
        let mut groups: BTreeMap<Option<&str>, Vec<&Node>> = BTreeMap::new();
        for n in d
            .nodes
            .values()
            .filter(|n| n.stack.as_deref() == Some(s.name.as_str()))
        {
            groups.entry(n.construct.as_deref()).or_default().push(n);
        }
        if groups.is_empty() {
            continue;
        }
        out.push_str("  subgraph ");
        out.push_str(ids.stack(k));
        out.push_str("[\"");
        esc_into(out, &s.name);
        out.push_str(" · ");
        esc_into(out, &s.region);
        let _ = writeln!(out, " · {} resources\"]", s.resources);
        for (group, members) in groups {
            let indent = match group {
                Some(g) => {
                    let label = g.rsplit('/').next().unwrap_or(g);
                    out.push_str("    subgraph ");
                    out.push_str(ids.group(g));
                    out.push_str("[\"");
                    esc_into(out, label);
                    out.push_str("\"]\n");
                    "      "
                }
                None => "    ",
            };
            for n in members {
                node_line(out, indent, n, &ids, d.detail);
            }
            if group.is_some() {
                out.push_str("    end\n");
            }
        }
        out.push_str("  end\n");
    }
    for (from, to, flow, label) in d.arrows() {
        out.push_str("  ");
        out.push_str(ids.get(from));
        out.push_str(if flow { " -->" } else { " -.->" });
        if !label.is_empty() {
            out.push_str("|\"");
            esc_into(out, &label);
            out.push_str("\"|");
        }
        out.push(' ');
        out.push_str(ids.get(to));
        out.push('\n');
    }
}

pub(crate) fn markdown(d: &Diagram, title: &str) -> String {
    let resources: usize = d.stacks.iter().map(|s| s.resources).sum();
    let (boxes, other) = match d.detail {
        Detail::Constructs => (
            "Each box is a construct (the first segment of its resources' construct paths), \
             with its number of resources and the connections inside it.",
            "`synth --diagram-detail resources` draws every resource.",
        ),
        Detail::Resources => (
            "Each box is a resource, inside the box of its construct.",
            "`synth` without `--diagram-detail` draws one box per construct.",
        ),
    };
    let mut out = format!(
        "# {title}\n\
         \n\
         <!-- Generated by `cargo run --bin synth` from the synthesized templates; do not edit. -->\n\
         \n\
         {} stacks, {resources} resources. {boxes} {other} Solid arrows carry traffic \
         (security-group rules with their ports, load-balancer listeners and targets, CDN \
         viewers and origins, DNS aliases); dotted arrows are uses (certificates, web ACLs, \
         values from other stacks), alarm actions, IAM grants and backups. \
         The same diagram as a picture: [{SVG_FILE}]({SVG_FILE}).\n\
         \n\
         ```mermaid\n",
        d.stacks.len(),
    );
    render_into(d, &mut out);
    out.push_str("```\n");
    out
}
