//! Per-environment credentials: which profile or role deploys the stacks of
//! each account, from `.khs/environments.toml` in the repository and the
//! `--profile-for` / `--role-for` flags (which win).
//!
//! ```toml
//! # .khs/environments.toml
//! [accounts."111111111111"]
//! profile = "prod-deploy"          # a profile of ~/.aws/config
//!
//! [accounts."222222222222"]
//! role_arn = "arn:aws:iam::222222222222:role/khs-deploy"
//! external_id = "khs-ci"           # optional
//! source_profile = "ci"            # optional: who assumes the role
//! ```
//!
//! A stack whose environment names no account, and an account the file
//! does not list, use the default credentials (`--profile`, else the
//! SDK's chain). Before deploying, the client checks that the credentials
//! chosen for an account are that account's (STS `GetCallerIdentity`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// Where the environments file is looked for (relative to the working
/// directory: run `khs` from the repository root).
pub const ENVIRONMENTS_FILE: &str = ".khs/environments.toml";

/// How the stacks of one account are deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCredentials {
    /// A named profile of `~/.aws/config` (SSO, keys, a role of its own).
    Profile(String),
    /// A role to assume (STS `AssumeRole`).
    Role {
        /// The role's ARN.
        role_arn: String,
        /// The external id the role's trust policy requires.
        ///
        /// Default: - none.
        external_id: Option<String>,
        /// The profile whose credentials assume the role.
        ///
        /// Default: - the default credentials (`--profile`, else the
        /// SDK's chain).
        source_profile: Option<String>,
    },
}

impl AccountCredentials {
    /// In words, for messages: `profile prod-deploy`, `role arn:…`.
    pub fn describe(&self) -> String {
        match self {
            AccountCredentials::Profile(p) => format!("profile {p}"),
            AccountCredentials::Role {
                role_arn,
                source_profile,
                ..
            } => match source_profile {
                Some(p) => format!("role {role_arn} assumed with profile {p}"),
                None => format!("role {role_arn}"),
            },
        }
    }
}

/// The credentials of each account of an app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environments {
    accounts: BTreeMap<String, AccountCredentials>,
    /// Where each entry comes from (the file, a flag), for messages.
    origins: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    accounts: BTreeMap<String, EntryShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryShape {
    profile: Option<String>,
    role_arn: Option<String>,
    external_id: Option<String>,
    source_profile: Option<String>,
}

fn check_account(origin: &str, account: &str) -> Result<(), String> {
    if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{origin}: account {account:?} is not an AWS account id (exactly 12 digits, leading \
             zeros kept)"
        ))
    }
}

/// Checks a role ARN (`arn:aws:iam::ACCOUNT:role/NAME`, any partition)
/// and that it is in `account`.
fn check_role(origin: &str, account: &str, arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let shape_ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if !shape_ok {
        return Err(format!(
            "{origin}: role {arn:?} for account {account} is not an IAM role ARN \
             (arn:aws:iam::{account}:role/NAME)"
        ));
    }
    if parts[4] != account {
        return Err(format!(
            "{origin}: role {arn} is in account {}, not {account}; the role that deploys an \
             account's stacks must be in that account",
            parts[4]
        ));
    }
    Ok(())
}

impl Environments {
    /// No entries: every stack uses the default credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the text of an environments file (`origin` names it in
    /// messages).
    pub fn parse(origin: &str, text: &str) -> Result<Self, String> {
        let shape: FileShape = toml::from_str(text).map_err(|e| {
            format!(
                "{origin}: {}",
                e.to_string().lines().collect::<Vec<_>>().join(" ")
            )
        })?;
        let mut out = Environments::new();
        for (account, e) in shape.accounts {
            check_account(origin, &account)?;
            let creds = match (e.profile, e.role_arn) {
                (Some(p), None) => {
                    if e.external_id.is_some() || e.source_profile.is_some() {
                        return Err(format!(
                            "{origin}: account {account}: external_id and source_profile go \
                             with role_arn, not with profile"
                        ));
                    }
                    AccountCredentials::Profile(p)
                }
                (None, Some(role_arn)) => {
                    check_role(origin, &account, &role_arn)?;
                    AccountCredentials::Role {
                        role_arn,
                        external_id: e.external_id,
                        source_profile: e.source_profile,
                    }
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "{origin}: account {account} has both profile and role_arn; give one"
                    ));
                }
                (None, None) => {
                    return Err(format!(
                        "{origin}: account {account} has neither profile nor role_arn; give one \
                         (or remove the entry to use the default credentials)"
                    ));
                }
            };
            out.origins.insert(account.clone(), origin.to_string());
            out.accounts.insert(account, creds);
        }
        Ok(out)
    }

    /// Reads `path`, or [`ENVIRONMENTS_FILE`] when `None` (no file there:
    /// no entries).
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (Path::new(ENVIRONMENTS_FILE).to_path_buf(), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path.display().to_string(), &text),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Self::new()),
            Err(e) => Err(format!("{}: cannot be read: {e}", path.display())),
        }
    }

    /// Applies `--profile-for ACCOUNT=PROFILE`.
    pub fn set_profile(&mut self, assignment: &str) -> Result<(), String> {
        let (account, profile) = split("--profile-for", "PROFILE", assignment)?;
        self.origins
            .insert(account.clone(), "--profile-for".to_string());
        self.accounts
            .insert(account, AccountCredentials::Profile(profile));
        Ok(())
    }

    /// Applies `--role-for ACCOUNT=ARN` (an external id of the file's
    /// entry for the account is kept).
    pub fn set_role(&mut self, assignment: &str) -> Result<(), String> {
        let (account, role_arn) = split("--role-for", "ARN", assignment)?;
        check_role("--role-for", &account, &role_arn)?;
        let (external_id, source_profile) = match self.accounts.get(&account) {
            Some(AccountCredentials::Role {
                external_id,
                source_profile,
                ..
            }) => (external_id.clone(), source_profile.clone()),
            _ => (None, None),
        };
        self.origins
            .insert(account.clone(), "--role-for".to_string());
        self.accounts.insert(
            account,
            AccountCredentials::Role {
                role_arn,
                external_id,
                source_profile,
            },
        );
        Ok(())
    }

    /// The credentials of `account`; `None`: the default credentials.
    pub fn for_account(&self, account: Option<&str>) -> Option<&AccountCredentials> {
        account.and_then(|a| self.accounts.get(a))
    }

    /// Where the entry of `account` comes from (a file's path, a flag).
    pub fn origin(&self, account: &str) -> Option<&str> {
        self.origins.get(account).map(String::as_str)
    }

    /// Whether no account has an entry.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

fn split(flag: &str, what: &str, assignment: &str) -> Result<(String, String), String> {
    let Some((account, value)) = assignment.split_once('=') else {
        return Err(format!(
            "{flag} {assignment:?}: expected ACCOUNT={what} (e.g. 111111111111=…)"
        ));
    };
    let (account, value) = (account.trim(), value.trim());
    check_account(flag, account)?;
    if value.is_empty() {
        return Err(format!("{flag} {assignment:?}: the {what} is empty"));
    }
    Ok((account.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[accounts."111111111111"]
profile = "prod-deploy"

[accounts."222222222222"]
role_arn = "arn:aws:iam::222222222222:role/khs-deploy"
external_id = "khs-ci"
"#;

    #[test]
    fn reads_profiles_and_roles_by_account() {
        let e = Environments::parse("f.toml", FILE).expect("parses");
        assert_eq!(
            e.for_account(Some("111111111111")),
            Some(&AccountCredentials::Profile("prod-deploy".to_string()))
        );
        assert_eq!(
            e.for_account(Some("222222222222")),
            Some(&AccountCredentials::Role {
                role_arn: "arn:aws:iam::222222222222:role/khs-deploy".to_string(),
                external_id: Some("khs-ci".to_string()),
                source_profile: None,
            })
        );
        assert_eq!(e.for_account(Some("333333333333")), None);
        assert_eq!(e.for_account(None), None);
        assert_eq!(e.origin("111111111111"), Some("f.toml"));
    }

    #[test]
    fn flags_override_the_file_and_keep_the_external_id() {
        let mut e = Environments::parse("f.toml", FILE).expect("parses");
        e.set_profile("222222222222=other").expect("profile");
        assert_eq!(
            e.for_account(Some("222222222222")).map(|c| c.describe()),
            Some("profile other".to_string())
        );
        let mut e = Environments::parse("f.toml", FILE).expect("parses");
        e.set_role("222222222222=arn:aws:iam::222222222222:role/other")
            .expect("role");
        assert_eq!(
            e.for_account(Some("222222222222")),
            Some(&AccountCredentials::Role {
                role_arn: "arn:aws:iam::222222222222:role/other".to_string(),
                external_id: Some("khs-ci".to_string()),
                source_profile: None,
            })
        );
        assert_eq!(e.origin("222222222222"), Some("--role-for"));
    }

    #[test]
    fn fails_when_an_entry_is_malformed() {
        let cases = [
            (
                "[accounts.\"12345\"]\nprofile = \"p\"\n",
                "f.toml: account \"12345\" is not an AWS account id (exactly 12 digits, leading zeros kept)",
            ),
            (
                "[accounts.\"111111111111\"]\nprofile = \"p\"\nrole_arn = \"arn:aws:iam::111111111111:role/r\"\n",
                "f.toml: account 111111111111 has both profile and role_arn; give one",
            ),
            (
                "[accounts.\"111111111111\"]\n",
                "f.toml: account 111111111111 has neither profile nor role_arn; give one (or remove the entry to use the default credentials)",
            ),
            (
                "[accounts.\"111111111111\"]\nrole_arn = \"arn:aws:iam::222222222222:role/r\"\n",
                "f.toml: role arn:aws:iam::222222222222:role/r is in account 222222222222, not 111111111111; the role that deploys an account's stacks must be in that account",
            ),
            (
                "[accounts.\"111111111111\"]\nrole_arn = \"khs-deploy\"\n",
                "f.toml: role \"khs-deploy\" for account 111111111111 is not an IAM role ARN (arn:aws:iam::111111111111:role/NAME)",
            ),
            (
                "[accounts.\"111111111111\"]\nprofile = \"p\"\nexternal_id = \"x\"\n",
                "f.toml: account 111111111111: external_id and source_profile go with role_arn, not with profile",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                Environments::parse("f.toml", text).err().as_deref(),
                Some(want),
                "{text}"
            );
        }
        let unknown = Environments::parse("f.toml", "[accounts.\"111111111111\"]\nrole = \"r\"\n")
            .err()
            .unwrap_or_default();
        assert!(
            unknown.starts_with("f.toml: ") && unknown.contains("unknown field `role`"),
            "{unknown}"
        );
    }

    #[test]
    fn fails_when_a_flag_is_malformed() {
        let mut e = Environments::new();
        assert_eq!(
            e.set_profile("prod").err().as_deref(),
            Some("--profile-for \"prod\": expected ACCOUNT=PROFILE (e.g. 111111111111=…)")
        );
        assert_eq!(
            e.set_role("111111111111=").err().as_deref(),
            Some("--role-for \"111111111111=\": the ARN is empty")
        );
        assert_eq!(
            e.set_profile("1111=prod").err().as_deref(),
            Some(
                "--profile-for: account \"1111\" is not an AWS account id (exactly 12 digits, leading zeros kept)"
            )
        );
        assert!(e.is_empty());
    }

    #[test]
    fn a_missing_default_file_means_no_entries_but_a_named_one_must_exist() {
        let missing = Path::new("/nonexistent/khs/environments.toml");
        let err = Environments::load(Some(missing)).err().unwrap_or_default();
        assert!(
            err.starts_with("/nonexistent/khs/environments.toml: cannot be read: "),
            "{err}"
        );
    }
}
