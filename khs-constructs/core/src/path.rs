//! Construct paths: `stack/Construct/Child`.

use std::fmt;

use super::error::{Error, Result};

/// The maximum length of one construct id.
pub const MAX_CONSTRUCT_ID_LEN: usize = 128;

/// The path of a construct inside an app: the stack name followed by the ids
/// of the constructs that contain it, e.g. `khs-crm-prod/Network/Vpc`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConstructPath {
    parts: Vec<String>,
}

impl ConstructPath {
    /// The root path of a stack.
    pub fn root(stack: &str) -> Self {
        ConstructPath {
            parts: vec![stack.to_string()],
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
        let mut parts = self.parts.clone();
        parts.push(id.to_string());
        Ok(ConstructPath { parts })
    }

    /// The stack name (the first part).
    pub fn stack(&self) -> &str {
        &self.parts[0]
    }

    /// The ids below the stack.
    pub fn ids(&self) -> &[String] {
        &self.parts[1..]
    }

    /// The last id (the stack name for a root path).
    pub fn id(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or_default()
    }
}

impl fmt::Display for ConstructPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("/"))
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
