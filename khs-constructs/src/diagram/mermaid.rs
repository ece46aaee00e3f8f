//! Mermaid flowchart text: one `subgraph` per stack (and per construct with
//! [`Detail::Resources`]), one line per node and per arrow, in key order, so
//! that a change of architecture is a readable diff of lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Detail, Diagram, Node, SVG_FILE};

/// Mermaid ids for node keys, stacks and construct groups: the key with
/// every character other than ASCII letters and digits replaced by `_`,
/// made unique with a numeric suffix.
pub(crate) struct Ids {
    ids: BTreeMap<String, String>,
}

impl Ids {
    pub fn new(d: &Diagram) -> Ids {
        let mut keys: Vec<String> = Vec::new();
        keys.extend(d.stacks.iter().map(|s| format!("stack:{}", s.name)));
        keys.extend(
            d.nodes
                .values()
                .filter_map(|n| n.construct.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|c| format!("group:{c}")),
        );
        keys.extend(d.nodes.keys().cloned());
        let mut used = BTreeSet::new();
        let mut ids = BTreeMap::new();
        for k in keys {
            let (prefix, body) = if let Some(s) = k.strip_prefix("stack:") {
                ("s_", s)
            } else if let Some(g) = k.strip_prefix("group:") {
                ("g_", g)
            } else {
                ("n_", k.as_str())
            };
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
            ids.insert(k, id);
        }
        Ids { ids }
    }

    pub fn get(&self, key: &str) -> &str {
        self.ids.get(key).map_or("n_unknown", String::as_str)
    }
}

/// Text for inside `"…"` of a Mermaid label.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("#amp;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The lines of a node's box.
pub(crate) fn node_lines(n: &Node, detail: Detail) -> Vec<String> {
    let mut lines = vec![n.label.clone()];
    match (detail, &n.type_name) {
        (Detail::Resources, Some(t)) => {
            lines.push(t.trim_start_matches("AWS::").to_string());
        }
        _ if n.stack.is_some() => {
            let s = if n.resources == 1 { "" } else { "s" };
            lines.push(format!("{} resource{s}", n.resources));
        }
        _ => {}
    }
    lines.extend(n.notes.iter().cloned());
    lines
}

fn node_line(n: &Node, ids: &Ids, detail: Detail) -> String {
    let text: Vec<String> = node_lines(n, detail).iter().map(|l| esc(l)).collect();
    let text = text.join("<br/>");
    let id = ids.get(&n.key);
    if n.stack.is_none() {
        format!("{id}((\"{text}\"))")
    } else {
        format!("{id}[\"{text}\"]")
    }
}

pub(crate) fn render(d: &Diagram) -> String {
    let ids = Ids::new(d);
    let mut out = String::from("flowchart LR\n");
    for n in d.nodes.values().filter(|n| n.stack.is_none()) {
        let _ = writeln!(out, "  {}", node_line(n, &ids, d.detail));
    }
    for s in &d.stacks {
        let in_stack: Vec<&Node> = d
            .nodes
            .values()
            .filter(|n| n.stack.as_deref() == Some(s.name.as_str()))
            .collect();
        if in_stack.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  subgraph {}[\"{} · {} · {} resources\"]",
            ids.get(&format!("stack:{}", s.name)),
            esc(&s.name),
            esc(&s.region),
            s.resources
        );
        let mut groups: BTreeMap<Option<&str>, Vec<&Node>> = BTreeMap::new();
        for n in in_stack {
            groups.entry(n.construct.as_deref()).or_default().push(n);
        }
        for (group, members) in groups {
            let indent = match group {
                Some(g) => {
                    let label = g.rsplit('/').next().unwrap_or(g);
                    let _ = writeln!(
                        out,
                        "    subgraph {}[\"{}\"]",
                        ids.get(&format!("group:{g}")),
                        esc(label)
                    );
                    "      "
                }
                None => "    ",
            };
            for n in members {
                let _ = writeln!(out, "{indent}{}", node_line(n, &ids, d.detail));
            }
            if group.is_some() {
                out.push_str("    end\n");
            }
        }
        out.push_str("  end\n");
    }
    for (from, to, flow, label) in d.arrows() {
        let arrow = if flow { "-->" } else { "-.->" };
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", esc(&label))
        };
        let _ = writeln!(out, "  {} {arrow}{label} {}", ids.get(from), ids.get(to));
    }
    out
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
    format!(
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
         ```mermaid\n\
         {}\
         ```\n",
        d.stacks.len(),
        render(d)
    )
}
