//! `EncryptionKey`: a customer managed KMS key with yearly rotation.
//!
//! Emits one `AWS::KMS::Key` (symmetric, `EnableKeyRotation: true`,
//! `DeletionPolicy`/`UpdateReplacePolicy` `Retain`) whose key policy gives
//! the stack's account full control of the key (so IAM policies decide who
//! uses it and the key can never become unmanageable), plus, optionally,
//! the CloudWatch Logs service of the stack's region (for encrypted log
//! groups, limited by an encryption-context condition to the account's log
//! groups), and an optional `AWS::KMS::Alias`.
//!
//! Why customer managed keys rather than the AWS managed `aws/rds`,
//! `aws/secretsmanager`… keys: their policies can be read and narrowed,
//! their use is logged per key in CloudTrail, they can be shared with the
//! rotation function and the ECS execution role explicitly (`kms:Decrypt`
//! on exactly this key), and snapshots encrypted with them can be copied to
//! another account for disaster recovery. The cost is 1 USD per key and
//! month.

use crate::cfn::attributes::*;
use crate::cfn::kms::alias::AliasRequired;
use crate::cfn::kms::{Alias, Key};
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::security::iam::{Condition, PolicyDocument, PolicyStatement, Principal};

/// Props of an [`EncryptionKey`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EncryptionKeyProps {
    /// The key's description.
    ///
    /// Default: - "Encryption key for `<construct path>`".
    pub description: Option<String>,
    /// An alias without the `alias/` prefix (`khs-crm-prod/database`).
    ///
    /// Default: - no alias.
    pub alias: Option<String>,
    /// Let CloudWatch Logs in the stack's region use the key for the
    /// account's log groups.
    ///
    /// Default: `false`.
    pub allow_cloudwatch_logs: bool,
}

/// A customer managed KMS key with rotation enabled. Cheap to clone (a
/// handle).
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptionKey {
    key: Option<Handle<Key>>,
    arn: Value<String>,
    path: ConstructPath,
}

impl EncryptionKey {
    /// Creates the key `id` in `scope`.
    pub fn new(scope: &mut impl AsScope, id: &str, props: EncryptionKeyProps) -> Result<Self> {
        let mut s = scope.as_scope();
        let path = s.path().child(id)?;
        let mut policy = PolicyDocument::new([PolicyStatement::allow(["kms:*"], ["*"])
            .with_sid("AccountAdministersKey")
            .with_principal(Principal::account_root())]);
        if props.allow_cloudwatch_logs {
            policy.push(
                PolicyStatement::allow(
                    [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    ["*"],
                )
                .with_sid("CloudWatchLogsUsesKey")
                .with_principal(Principal::Service(
                    Intrinsic::sub("logs.${AWS::Region}.amazonaws.com").into(),
                ))
                .with_condition(Condition::new(
                    "ArnLike",
                    "kms:EncryptionContext:aws:logs:arn",
                    Value::from(Intrinsic::sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
                    )),
                )),
            );
        }
        if let Some(alias) = &props.alias {
            let ok = !alias.is_empty()
                && alias.len() <= 250
                && !alias.starts_with("alias/")
                && !alias.starts_with("aws/")
                && alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
            if !ok {
                return Err(Error::invalid_prop(
                    &path,
                    "alias",
                    format!(
                        "must be 1..=250 of A-Z a-z 0-9 / _ -, without the \"alias/\" prefix and not starting with \"aws/\", got {alias:?}"
                    ),
                ));
            }
        }
        let description = props
            .description
            .unwrap_or_else(|| format!("Encryption key for {}", path.ids().join("/")));
        let key = s.add(
            id,
            Key {
                description: Some(description.into()),
                enable_key_rotation: Some(true.into()),
                key_policy: Some(policy.to_json()),
                ..Key::new()
            },
        )?;
        if let Some(alias) = props.alias {
            s.add(
                &format!("{id}Alias"),
                Alias::new(AliasRequired {
                    alias_name: format!("alias/{alias}").into(),
                    target_key_id: key.ref_(),
                }),
            )?;
        }
        Ok(EncryptionKey {
            arn: key.attr_arn(),
            key: Some(key),
            path,
        })
    }

    /// A key that exists already, by ARN
    /// (`arn:aws:kms:<region>:<account>:key/<id>`, in the stack's region, or
    /// a value such as an import): nothing is added to the stack, its policy
    /// is never modified (it must let the account's IAM policies use it, as
    /// the keys this library creates do), and grants name its ARN.
    pub fn import(
        scope: &mut impl AsScope,
        id: &str,
        arn: impl Into<Value<String>>,
    ) -> Result<EncryptionKey> {
        let mut parent = scope.as_scope();
        let me = parent.child(id)?;
        let path = me.path().clone();
        let arn = arn.into();
        crate::network::vpc::import::check_arn(
            &path,
            "arn",
            &arn,
            &crate::network::vpc::import::KEY_ARN,
            me.env(),
        )?;
        Ok(EncryptionKey {
            key: None,
            arn: crate::network::vpc::import::portable_arn(arn),
            path,
        })
    }

    /// The key resource; `None` for an imported key.
    pub fn handle(&self) -> Option<&Handle<Key>> {
        self.key.as_ref()
    }

    /// Whether the key exists outside the app ([`EncryptionKey::import`]).
    pub fn is_imported(&self) -> bool {
        self.key.is_none()
    }

    /// The key ARN.
    pub fn arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The key id (`Ref`; the ARN of an imported key, which KMS accepts
    /// wherever a key id is asked for).
    pub fn key_id(&self) -> Value<String> {
        match &self.key {
            Some(k) => k.ref_(),
            None => self.arn.clone(),
        }
    }

    /// The construct path of the key.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// A statement allowing `kms:Decrypt` on this key, only when called
    /// through `service` (`secretsmanager`, `logs`, …) in the stack's
    /// region.
    pub fn grant_decrypt_via(&self, service: &str) -> PolicyStatement {
        PolicyStatement::allow(["kms:Decrypt"], [self.arn()]).with_condition(Condition::new(
            "StringEquals",
            "kms:ViaService",
            Value::from(Intrinsic::sub(format!(
                "{service}.${{AWS::Region}}.amazonaws.com"
            ))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn creates_a_rotating_key_with_an_account_policy() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let key = EncryptionKey::new(
            &mut stack,
            "Key",
            EncryptionKeyProps {
                alias: Some("khs/data".into()),
                allow_cloudwatch_logs: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(key.handle().unwrap().logical_id().as_str(), "Key");
        let t = stack.synth().unwrap();
        let r = &t.resources["Key"];
        assert_eq!(r.properties["EnableKeyRotation"], true);
        assert_eq!(r.deletion_policy, Some(DeletionPolicy::Retain));
        assert_eq!(
            r.properties["KeyPolicy"]["Statement"][1]["Principal"]["Service"],
            serde_json::json!({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"})
        );
        assert_eq!(
            t.resources["KeyAlias"].properties["AliasName"],
            "alias/khs/data"
        );
    }

    #[test]
    fn fails_when_an_alias_has_the_prefix() {
        let mut stack = Stack::new("s", StackProps::new(Environment::region("us-east-1"))).unwrap();
        let e = EncryptionKey::new(
            &mut stack,
            "Key",
            EncryptionKeyProps {
                alias: Some("alias/x".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s/Key: alias must be"), "{e}");
    }
}
