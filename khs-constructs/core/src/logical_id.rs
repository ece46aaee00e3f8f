//! Logical IDs derived from construct paths.
//!
//! A logical ID is the construct path below the stack with every id turned to
//! PascalCase and stripped of anything but ASCII letters and digits:
//! `khs-crm-prod/Network/PublicSubnet1/RouteTable` gives
//! `NetworkPublicSubnet1RouteTable`. Ids depend only on the path, so adding or
//! removing unrelated constructs never changes them; renaming a construct
//! does (and replaces its resources), which is why construct ids are public
//! API. Unlike the AWS CDK no hash is appended: ids stay readable in diffs and
//! consoles, and the rare case where two paths sanitize to the same id is a
//! synthesis error ([`crate::Error::LogicalIdCollision`]) rather than a silent
//! rename.

use std::fmt;

use super::error::{Error, Result};
use super::path::ConstructPath;

/// CloudFormation's limit on a logical ID's length.
pub const MAX_LOGICAL_ID_LEN: usize = 255;

/// A CloudFormation logical ID: ASCII alphanumeric, 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct LogicalId(String);

impl LogicalId {
    /// Validates an explicit logical ID (an override).
    pub fn new(path: &ConstructPath, id: &str) -> Result<Self> {
        Self::checked(path, id.to_string())
    }

    /// `id` as a logical id, or the error naming `path` and what is wrong.
    fn checked(path: &ConstructPath, id: String) -> Result<Self> {
        let reason = if id.is_empty() {
            Some("it must not be empty".to_string())
        } else if id.len() > MAX_LOGICAL_ID_LEN {
            Some(format!(
                "it is {} characters, at most {MAX_LOGICAL_ID_LEN} are allowed",
                id.len()
            ))
        } else if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some("only ASCII letters and digits are allowed".to_string())
        } else if id.starts_with("AWS") {
            Some("ids starting with \"AWS\" are reserved for pseudo parameters".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidLogicalId {
                path: path.to_string(),
                logical_id: id,
                reason,
            }),
            None => Ok(LogicalId(id)),
        }
    }

    /// Derives the logical ID of a construct path (see the module docs).
    pub fn from_path(path: &ConstructPath) -> Result<Self> {
        let ids = path.as_str().len().saturating_sub(path.stack().len());
        let mut out = String::with_capacity(ids + 1);
        for id in path.ids_iter() {
            push_pascal(&mut out, id);
        }
        if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            out.insert(0, 'R');
        }
        Self::checked(path, out)
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Appends `api-service_v2` as `ApiServiceV2`.
fn push_pascal(out: &mut String, id: &str) {
    let mut upper = true;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LogicalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(ids: &[&str]) -> ConstructPath {
        let mut p = ConstructPath::root("stack");
        for id in ids {
            p = p.child(id).unwrap();
        }
        p
    }

    #[test]
    fn derives_pascal_case_from_the_path() {
        let id =
            LogicalId::from_path(&path(&["Network", "public-subnet_1", "RouteTable"])).unwrap();
        assert_eq!(id.as_str(), "NetworkPublicSubnet1RouteTable");
    }

    #[test]
    fn prefixes_ids_starting_with_a_digit() {
        assert_eq!(
            LogicalId::from_path(&path(&["1st"])).unwrap().as_str(),
            "R1st"
        );
    }

    #[test]
    fn fails_when_override_is_not_alphanumeric() {
        let e = LogicalId::new(&path(&["Db"]), "My-Db").unwrap_err();
        assert_eq!(
            e.to_string(),
            "stack/Db: invalid logical id \"My-Db\": only ASCII letters and digits are allowed"
        );
        assert!(LogicalId::new(&path(&["Db"]), &"A".repeat(256)).is_err());
        assert!(LogicalId::new(&path(&["Db"]), "AWSThing").is_err());
    }
}
