//! Construct paths: `stack/Construct/Child`.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use super::error::{Error, Result};

/// The maximum length of one construct id.
pub const MAX_CONSTRUCT_ID_LEN: usize = 128;

/// The path of a construct inside an app: the stack name followed by the ids
/// of the constructs that contain it, e.g. `khs-crm-prod/Network/Vpc`.
///
/// The path is kept as one shared string, so cloning it (every resource's
/// path is held by the stack in three places) copies nothing. Paths order as
/// their lists of ids do (`s/A` < `s/A/B` < `s/A-x`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConstructPath {
    /// `stack/Id/Id`: ids never contain `/`, nor do stack names.
    text: Arc<str>,
    /// The length of the stack name at the start of `text`.
    stack_len: usize,
}

impl ConstructPath {
    /// The root path of a stack.
    pub fn root(stack: &str) -> Self {
        ConstructPath {
            text: Arc::from(stack),
            stack_len: stack.len(),
        }
    }

    /// A child of this path. The id is validated: not empty, no `/`, at most
    /// [`MAX_CONSTRUCT_ID_LEN`] characters.
    pub fn child(&self, id: &str) -> Result<Self> {
        let reason = if id.is_empty() {
            Some("ids must not be empty".to_string())
        } else if id.contains('/') {
            Some("ids must not contain '/'".to_string())
        } else if id.chars().count() > MAX_CONSTRUCT_ID_LEN {
            Some(format!("ids are at most {MAX_CONSTRUCT_ID_LEN} characters"))
        } else if !id.chars().any(|c| c.is_ascii_alphanumeric()) {
            Some("ids need at least one ASCII letter or digit".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::InvalidConstructId {
                path: self.to_string(),
                id: id.to_string(),
                reason,
            });
        }
        let mut text = String::with_capacity(self.text.len() + 1 + id.len());
        text.push_str(&self.text);
        text.push('/');
        text.push_str(id);
        Ok(ConstructPath {
            text: Arc::from(text),
            stack_len: self.stack_len,
        })
    }

    /// The stack name (the first part).
    pub fn stack(&self) -> &str {
        &self.text[..self.stack_len]
    }

    /// The ids below the stack, outermost first.
    pub fn ids(&self) -> Vec<&str> {
        self.ids_iter().collect()
    }

    /// The ids below the stack, outermost first, without collecting them.
    pub fn ids_iter(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.text[self.stack_len..]
            .split('/')
            .filter(|id| !id.is_empty())
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &ConstructPath) -> bool {
        self.text.len() >= other.text.len()
            && self.text.starts_with(&*other.text)
            && (self.text.len() == other.text.len()
                || self.text.as_bytes()[other.text.len()] == b'/')
    }

    /// The letters and digits of the ids below `scope`'s ids, joined (all
    /// the ids when they do not start with `scope`'s; the stacks are not
    /// compared): a short, readable name for the ids of what a construct
    /// adds on another's behalf (`AppDbIngress` rather than the whole path).
    pub fn short_name_below(&self, scope: &ConstructPath) -> String {
        let ids = &self.text[self.stack_len..];
        let scope_ids = &scope.text[scope.stack_len..];
        let below = match ids.strip_prefix(scope_ids) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => ids,
        };
        below.chars().filter(char::is_ascii_alphanumeric).collect()
    }

    /// The last id (the stack name for a root path).
    pub fn id(&self) -> &str {
        self.text.rsplit('/').next().unwrap_or_default()
    }

    /// The path as text, `stack/Id/Id` (what [`fmt::Display`] writes).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The stack name as a shared string: no copy for a root path.
    pub(crate) fn shared_stack(&self) -> Arc<str> {
        if self.text.len() == self.stack_len {
            Arc::clone(&self.text)
        } else {
            Arc::from(self.stack())
        }
    }
}

impl PartialOrd for ConstructPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConstructPath {
    fn cmp(&self, other: &Self) -> Ordering {
        // As the lists of parts compare: byte by byte, with the separator
        // below every other byte (a part that is a prefix of another sorts
        // first), and a path that ends below one that goes on.
        let (a, b) = (self.text.as_bytes(), other.text.as_bytes());
        let key = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
        match a.iter().zip(b).position(|(x, y)| x != y) {
            Some(i) => key(a[i]).cmp(&key(b[i])),
            None => a.len().cmp(&b.len()),
        }
    }
}

impl fmt::Display for ConstructPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_slashes() {
        let p = ConstructPath::root("s")
            .child("A")
            .unwrap()
            .child("B")
            .unwrap();
        assert_eq!(p.to_string(), "s/A/B");
        assert_eq!(p.ids(), ["A", "B"]);
        assert_eq!(p.id(), "B");
        assert_eq!(p.stack(), "s");
        assert_eq!(ConstructPath::root("s").ids(), Vec::<&str>::new());
        assert_eq!(ConstructPath::root("s").id(), "s");
    }

    #[test]
    fn orders_by_ids_not_by_text() {
        let root = ConstructPath::root("s");
        let a = root.child("A").unwrap();
        let ab = a.child("B").unwrap();
        let a_x = root.child("A-x").unwrap();
        // As lists of ids: ["A"] < ["A", "B"] < ["A-x"]; as text "s/A-x"
        // would sort before "s/A/B".
        let mut v = vec![a_x.clone(), ab.clone(), a.clone()];
        v.sort();
        assert_eq!(v, [a.clone(), ab.clone(), a_x.clone()]);
        assert!(ab.starts_with(&a) && a.starts_with(&a) && !a_x.starts_with(&a));
        // The same order as the lists of parts, for many shapes.
        let names = ["A", "A-x", "Ab", "a", "B", "A0", "-A", "A~"];
        let mut paths = vec![root.clone()];
        for x in names {
            let p = root.child(x).unwrap();
            for y in names {
                paths.push(p.child(y).unwrap());
            }
            paths.push(p);
        }
        let parts = |p: &ConstructPath| -> Vec<String> {
            std::iter::once(p.stack())
                .chain(p.ids_iter())
                .map(str::to_string)
                .collect()
        };
        for x in &paths {
            for y in &paths {
                assert_eq!(x.cmp(y), parts(x).cmp(&parts(y)), "{x} against {y}");
            }
        }
        assert_eq!(ab.short_name_below(&a), "B");
        assert_eq!(a_x.short_name_below(&a), "Ax");
        let other_stack = ConstructPath::root("t").child("A").unwrap();
        assert_eq!(ab.short_name_below(&other_stack), "B", "ids only");
        assert_eq!(ab.short_name_below(&root), "AB");
    }

    #[test]
    fn fails_when_id_has_slash_or_is_empty() {
        let root = ConstructPath::root("s");
        let e = root.child("a/b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s: invalid construct id \"a/b\": ids must not contain '/'"
        );
        assert!(root.child("").is_err());
        assert!(root.child("--").is_err());
    }
}
