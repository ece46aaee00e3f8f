//! The contract between the core and the typed resource layer (`khs_constructs::cfn`, the `khs-cfn` crate):
//! the [`Resource`] trait, per-type metadata ([`ResourceSpec`]) and typed
//! [`Handle`]s to resources in a stack.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::error::Result;
use super::intrinsic::Intrinsic;
use super::logical_id::LogicalId;
use super::path::ConstructPath;
use super::value::Value;

/// A CloudFormation resource type with typed properties.
///
/// Implemented by every generated type in `khs_constructs::cfn` and by
/// `khs_constructs::cfn::RawResource` (the escape hatch). `Serialize` writes the
/// `Properties` object.
pub trait Resource: Serialize {
    /// The CloudFormation type name, e.g. `AWS::EC2::VPC`.
    fn type_name(&self) -> &str;

    /// Metadata about the type, when it is known (always for generated types).
    fn spec(&self) -> Option<&'static ResourceSpec>;

    /// Checks the resource before it is added at `path`. Generated types
    /// accept everything their types allow; the escape hatch checks its type
    /// name here.
    fn validate(&self, path: &ConstructPath) -> Result<()> {
        let _ = path;
        Ok(())
    }

    /// Checks the serialized `Properties` against the constraints of the
    /// type's registry schema (allowed values, patterns, ranges, lengths,
    /// required properties). Generated types and the escape hatch check
    /// them here; the default accepts everything.
    fn validate_properties(
        &self,
        path: &ConstructPath,
        properties: &serde_json::Value,
    ) -> Result<()> {
        let _ = (path, properties);
        Ok(())
    }
}

/// How a resource type carries tags, which decides how stack tags are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagStyle {
    /// Not taggable (or not through CloudFormation).
    None,
    /// `Tags: [{"Key": k, "Value": v}, …]`.
    KeyValueList,
    /// `Tags: {k: v, …}`.
    Map,
}

/// Metadata about one CloudFormation resource type, taken from its registry
/// schema by the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSpec {
    /// `AWS::EC2::Subnet`.
    pub type_name: &'static str,
    /// Every top-level property, with its metadata.
    pub properties: &'static [PropertySpec],
    /// Create-only property paths as in the schema (`/properties/CidrBlock`,
    /// `/properties/VpcConfig/SubnetIds`): changing one replaces the resource.
    pub create_only: &'static [&'static str],
    /// Conditionally create-only property paths (the schema's
    /// `conditionalCreateOnlyProperties`): changing one replaces the resource
    /// in some cases only, which CloudFormation decides at deploy time
    /// (`Replacement: Conditional`).
    pub conditional_create_only: &'static [&'static str],
    /// Attributes readable with `Fn::GetAtt` (`Endpoint.Address`).
    pub attributes: &'static [&'static str],
    /// How the type carries tags.
    pub tags: TagStyle,
    /// The property that holds the tags (`Tags`, `BackupVaultTags`,
    /// `HostedZoneTags`, …; the schema's `tagging.tagProperty`), empty when
    /// [`ResourceSpec::tags`] is [`TagStyle::None`].
    pub tag_property: &'static str,
    /// Whether the type holds data that a replacement or deletion would lose
    /// (cfn-lint's list of stateful types plus the schema's own hints).
    pub stateful: bool,
    /// The AWS documentation page of the type.
    pub docs_url: &'static str,
}

/// Metadata about one top-level property of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertySpec {
    /// The property name on the wire (`CidrBlock`).
    pub name: &'static str,
    /// Whether the schema requires it.
    pub required: bool,
    /// Whether changing it replaces the resource (create-only).
    pub replaces: bool,
}

impl ResourceSpec {
    /// The metadata of a top-level property.
    pub fn property(&self, name: &str) -> Option<&'static PropertySpec> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Whether changing the property at `path` (dotted or slash-separated,
    /// without the `/properties` prefix: `CidrBlock`, `VpcConfig.SubnetIds`)
    /// replaces the resource: true when the path or one of its parents is
    /// create-only.
    pub fn replaces_on_change(&self, path: &str) -> bool {
        covers_path(self.create_only, path)
    }

    /// Whether changing the property at `path` may replace the resource
    /// (true when [`ResourceSpec::replaces_on_change`] is, or when the path
    /// or one of its parents is conditionally create-only).
    pub fn may_replace_on_change(&self, path: &str) -> bool {
        self.replaces_on_change(path) || covers_path(self.conditional_create_only, path)
    }
}

/// Whether one of the schema paths (`/properties/VpcConfig/SubnetIds`) is
/// `path` (`VpcConfig.SubnetIds.0`) or one of its parents.
fn covers_path(schema_paths: &[&str], path: &str) -> bool {
    let parts: Vec<&str> = path
        .split(['.', '/'])
        .filter(|p| !p.is_empty() && p.parse::<usize>().is_err() && *p != "*")
        .collect();
    schema_paths.iter().any(|co| {
        let co_parts: Vec<&str> = co
            .trim_start_matches("/properties/")
            .split('/')
            .filter(|p| *p != "*")
            .collect();
        co_parts.len() <= parts.len() && co_parts.iter().zip(&parts).all(|(a, b)| a == b)
    })
}

/// A `{"Key": …, "Value": …}` tag, as most resource types take them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    /// The tag key.
    #[serde(rename = "Key")]
    pub key: String,
    /// The tag value.
    #[serde(rename = "Value")]
    pub value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A typed reference to a resource of type `R` in a stack.
///
/// Handles are how constructs and users point at resources: a
/// `Handle<cfn::ec2::Subnet>` cannot be passed where a
/// `Handle<cfn::ec2::SecurityGroup>` is wanted. The generated layer adds typed
/// accessors for each attribute (`handle.attr_vpc_id()`); [`Handle::ref_`] and
/// [`Handle::get_att`] are the untyped building blocks.
pub struct Handle<R> {
    logical_id: LogicalId,
    /// The stack holding the resource, when known (handles from
    /// [`Scope::add`](super::scope::Scope::add) always know it): its `Ref`
    /// and `GetAtt` then work in any stack of the app, see
    /// [`crate::references`].
    stack: Option<std::sync::Arc<str>>,
    _resource: PhantomData<fn() -> R>,
}

impl<R> Handle<R> {
    /// A handle to the resource with this logical id. Normally obtained from
    /// [`Scope::add`](super::scope::Scope::add).
    /// A handle that does not know its stack: its `Ref` and `GetAtt` only
    /// resolve in the stack that holds the resource.
    pub fn new(logical_id: LogicalId) -> Self {
        Handle {
            logical_id,
            stack: None,
            _resource: PhantomData,
        }
    }

    /// A handle to the resource `logical_id` of stack `stack`: usable in
    /// any stack of the app ([`App::synth`](super::app::App::synth) writes
    /// the export and import, or the parameter, that a use in another stack
    /// needs).
    pub fn in_stack(stack: &str, logical_id: LogicalId) -> Self {
        Handle {
            logical_id,
            stack: Some(std::sync::Arc::from(stack)),
            _resource: PhantomData,
        }
    }

    /// [`Handle::in_stack`] with the stack's name already shared.
    pub(crate) fn in_shared_stack(stack: std::sync::Arc<str>, logical_id: LogicalId) -> Self {
        Handle {
            logical_id,
            stack: Some(stack),
            _resource: PhantomData,
        }
    }

    /// The resource's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.logical_id
    }

    /// The name of the stack holding the resource, when the handle knows it.
    pub fn stack_name(&self) -> Option<&str> {
        self.stack.as_deref()
    }

    /// The name `Ref` and `GetAtt` carry: `stack/LogicalId` when the stack
    /// is known (made local or cross-stack when the value is added to a
    /// stack, see [`crate::references`]), else the logical id.
    fn target(&self) -> String {
        match &self.stack {
            Some(stack) => super::references::qualified(stack, self.logical_id.as_str()),
            None => self.logical_id.to_string(),
        }
    }

    /// `{"Ref": logical_id}`: what the type returns for `Ref` (usually its
    /// id or name; see the type's documentation).
    pub fn ref_(&self) -> Value<String> {
        Intrinsic::ref_(self.target()).into()
    }

    /// `{"Fn::GetAtt": [logical_id, attribute]}` as a typed value.
    pub fn get_att<T>(&self, attribute: &str) -> Value<T> {
        Intrinsic::get_att(self.target(), attribute).into()
    }

    /// Acknowledges the findings of rule `rule_id` on this resource, for
    /// `reason` (at least a sentence); `scope` is the stack (or a scope of
    /// it) holding the resource. See
    /// [`Scope::acknowledge`](super::scope::Scope::acknowledge).
    pub fn acknowledge(
        &self,
        scope: &mut impl super::scope::AsScope,
        rule_id: &str,
        reason: &str,
    ) -> Result<()> {
        scope.as_scope().acknowledge_resource(self, rule_id, reason)
    }
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Handle {
            logical_id: self.logical_id.clone(),
            stack: self.stack.clone(),
            _resource: PhantomData,
        }
    }
}

impl<R> PartialEq for Handle<R> {
    fn eq(&self, other: &Self) -> bool {
        self.logical_id == other.logical_id && self.stack == other.stack
    }
}

impl<R> fmt::Debug for Handle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.logical_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ResourceSpec = ResourceSpec {
        type_name: "AWS::Test::Thing",
        properties: &[],
        create_only: &["/properties/Name", "/properties/Config/Mode"],
        conditional_create_only: &["/properties/Zone"],
        attributes: &[],
        tags: TagStyle::None,
        tag_property: "",
        stateful: false,
        docs_url: "",
    };

    #[test]
    fn replaces_on_change_follows_create_only_paths() {
        assert!(SPEC.replaces_on_change("Name"));
        assert!(SPEC.replaces_on_change("Config.Mode"));
        assert!(SPEC.replaces_on_change("Config/Mode/0"));
        assert!(!SPEC.replaces_on_change("Config.Other"));
        assert!(!SPEC.replaces_on_change("Config"));
        assert!(!SPEC.replaces_on_change("Size"));
    }

    #[test]
    fn conditional_paths_may_replace() {
        assert!(SPEC.may_replace_on_change("Zone"));
        assert!(!SPEC.replaces_on_change("Zone"));
        assert!(SPEC.may_replace_on_change("Name"));
        assert!(!SPEC.may_replace_on_change("Size"));
    }
}
