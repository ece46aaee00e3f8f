//! Scopes: where constructs add their children and resources.
//!
//! A [`Scope`] is a place in a stack's construct tree. Constructs take
//! `&mut impl AsScope` (a [`Stack`] or another `Scope`), open a child scope
//! with their own id, and add resources to it:
//!
//! ```
//! use khs_core::scope::AsScope;
//! use khs_core::stack::{Environment, Stack, StackProps};
//! use khs_cfn::sns::Topic;
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let mut root = stack.as_scope();
//! let mut alerts = root.child("Alerts").unwrap();
//! let topic = alerts.add("Topic", Topic::default()).unwrap();
//! assert_eq!(topic.logical_id().as_str(), "AlertsTopic");
//! ```

use super::error::{Error, Result};
use super::intrinsic::Intrinsic;
use super::logical_id::LogicalId;
use super::path::ConstructPath;
use super::resource::{Handle, Resource};
use super::stack::{Environment, Stack};
use super::template::{DeletionPolicy, Output, Parameter};
use super::timings::{AddPhase, add_time};
use super::value::Value;

/// Anything constructs can be added to: a [`Stack`] (its root) or a [`Scope`].
pub trait AsScope {
    /// A scope at this place of the tree.
    fn as_scope(&mut self) -> Scope<'_>;
}

impl AsScope for Stack {
    fn as_scope(&mut self) -> Scope<'_> {
        let path = self.root_path().clone();
        Scope { stack: self, path }
    }
}

impl AsScope for Scope<'_> {
    fn as_scope(&mut self) -> Scope<'_> {
        Scope {
            stack: &mut *self.stack,
            path: self.path.clone(),
        }
    }
}

/// Options for one resource beyond its properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceOptions {
    /// Resources that must be created before this one.
    ///
    /// Default: - none beyond what `Ref`/`GetAtt` imply.
    pub depends_on: Vec<LogicalId>,
    /// What happens to the physical resource when it leaves the template.
    ///
    /// Default: - `Retain` for stateful types (databases, caches, buckets,
    /// secrets, keys, log groups, vaults), CloudFormation's own default
    /// otherwise.
    pub deletion_policy: Option<DeletionPolicy>,
    /// What happens to the old physical resource when an update replaces it.
    ///
    /// Default: - the deletion policy for stateful types, CloudFormation's
    /// default otherwise.
    pub update_replace_policy: Option<DeletionPolicy>,
    /// A template condition under which the resource exists.
    ///
    /// Default: - always created.
    pub condition: Option<String>,
    /// An explicit logical id instead of the one derived from the path (use
    /// it to keep an existing resource when a construct is renamed).
    ///
    /// Default: - derived from the construct path.
    pub logical_id: Option<String>,
}

impl ResourceOptions {
    /// Options with `DeletionPolicy` and `UpdateReplacePolicy` both set.
    pub fn policy(policy: DeletionPolicy) -> Self {
        ResourceOptions {
            deletion_policy: Some(policy),
            update_replace_policy: Some(policy),
            ..Self::default()
        }
    }

    /// The same options, depending on `handle`'s resource too.
    pub fn depends_on<R>(mut self, handle: &Handle<R>) -> Self {
        self.depends_on.push(handle.logical_id().clone());
        self
    }
}

/// A place in a stack's construct tree.
pub struct Scope<'a> {
    stack: &'a mut Stack,
    path: ConstructPath,
}

impl Scope<'_> {
    /// This scope's path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The stack's environment (account and region).
    pub fn env(&self) -> &Environment {
        self.stack.env()
    }

    /// The stack's name.
    pub fn stack_name(&self) -> &str {
        self.stack.name()
    }

    /// Declares that this scope's stack is deployed after the stack named
    /// `other`: for references that are not exports (a deterministic ARN of
    /// a resource in another region's stack).
    pub fn add_stack_dependency(&mut self, other: &str) {
        self.stack.add_dependency(other);
    }

    /// The stack's tags. The core applies them at synth to every type whose
    /// tag property it knows (`Tags`); constructs copy them onto types that
    /// carry tags under another name (`BackupVaultTags`, `ResourceTags`).
    pub fn stack_tags(&self) -> &std::collections::BTreeMap<String, String> {
        &self.stack.props().tags
    }

    /// Opens a child scope for a construct with id `id`. Two children with
    /// the same id in one scope are an error.
    pub fn child(&mut self, id: &str) -> Result<Scope<'_>> {
        let path = self.path.child(id)?;
        self.stack.register_path(&path)?;
        Ok(Scope {
            stack: &mut *self.stack,
            path,
        })
    }

    /// Reopens the scope of a construct that exists already in this stack,
    /// to add what belongs to it after it was made (the target group a load
    /// balancer adds for a service). Nothing is registered: ids added below
    /// it are still checked for duplicates.
    pub fn reopen(&mut self, path: &ConstructPath) -> Result<Scope<'_>> {
        if path.stack() != self.stack.name() {
            return Err(Error::InvalidProp {
                path: path.to_string(),
                prop: "path".to_string(),
                message: format!(
                    "is in stack {:?}, not in {:?}; constructs of another stack cannot be extended",
                    path.stack(),
                    self.stack.name()
                ),
            });
        }
        Ok(Scope {
            stack: &mut *self.stack,
            path: path.clone(),
        })
    }

    /// Makes the resource `resource` depend on `on` (`DependsOn`), after
    /// both were added.
    pub fn add_dependency<R, S>(&mut self, resource: &Handle<R>, on: &Handle<S>) -> Result<()> {
        self.stack
            .add_dependency_of(resource.logical_id(), on.logical_id())
    }

    /// Acknowledges the findings of rule `rule_id` on every resource at or
    /// below this scope, for `reason`: at least a sentence a security
    /// reviewer would accept (an empty or one-word reason is an error naming
    /// this path). The acknowledgement is written into each resource's
    /// `Metadata` for cdk-nag and checkov; one that matches no finding is
    /// reported as stale (see [`crate::rules`]).
    pub fn acknowledge(&mut self, rule_id: &str, reason: &str) -> Result<()> {
        let path = self.path.to_string();
        self.stack.add_acknowledgement(
            super::rules::AckTarget::Path(path.clone()),
            &path,
            rule_id,
            reason,
        )
    }

    /// Acknowledges the findings of rule `rule_id` on one resource; see
    /// [`Scope::acknowledge`] and [`Handle::acknowledge`].
    pub fn acknowledge_resource<R>(
        &mut self,
        handle: &Handle<R>,
        rule_id: &str,
        reason: &str,
    ) -> Result<()> {
        let path = self.path.to_string();
        self.stack.add_acknowledgement(
            super::rules::AckTarget::Resource(handle.logical_id().to_string()),
            &path,
            rule_id,
            reason,
        )
    }

    /// Adds a resource with default options.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Result<Handle<R>> {
        self.add_with(id, resource, ResourceOptions::default())
    }

    /// Adds a resource with options (policies, dependencies, a fixed logical id).
    pub fn add_with<R: Resource>(
        &mut self,
        id: &str,
        resource: R,
        options: ResourceOptions,
    ) -> Result<Handle<R>> {
        let path = self.path.child(id)?;
        resource.validate(&path)?;
        let properties = add_time(AddPhase::Serialize, || serde_json::to_value(&resource))
            .map_err(|e| Error::Serialization {
                stack: self.stack.name().to_string(),
                message: format!("{path}: {e}"),
            })?;
        let (properties, foreign) = super::references::localize(self.stack.name(), properties);
        add_time(AddPhase::Validate, || {
            resource.validate_properties(&path, &properties)
        })?;
        let logical_id = self.stack.add_resource(
            &path,
            resource.type_name(),
            resource.spec(),
            properties,
            foreign,
            options,
        )?;
        Ok(Handle::in_shared_stack(
            self.stack.root_path().shared_stack(),
            logical_id,
        ))
    }

    /// Sets a property of an already added resource (an escape hatch for
    /// properties a construct does not expose). `property` is a dotted path
    /// below `Properties` (`LoggingConfiguration.DestinationBucketName`,
    /// list items by index). The first segment must be a property of the
    /// type when its schema is known. Paths index the properties as they
    /// are written (stack tags included: `Tags.0` is the first tag in key
    /// order), and stack tags are merged into what an override of the tags
    /// writes. A failed override changes nothing.
    pub fn override_property<R>(
        &mut self,
        handle: &Handle<R>,
        property: &str,
        value: serde_json::Value,
    ) -> Result<()> {
        let (value, foreign) = super::references::localize(self.stack.name(), value);
        self.stack
            .override_property(handle.logical_id(), property, value)?;
        if foreign {
            self.stack.hold_foreign(handle.logical_id());
        }
        Ok(())
    }

    /// Adds a stack output; its logical id derives from this scope's path
    /// and `id`.
    pub fn add_output(&mut self, id: &str, output: Output) -> Result<LogicalId> {
        let path = self.path.child(id)?;
        let output = super::references::localize_output(self.stack.name(), output);
        self.stack.add_output(&path, output)
    }

    /// The stack this scope adds to (for the modules of the core that add
    /// to a stack on behalf of a scope, such as [`crate::references`]).
    pub(crate) fn stack_mut(&mut self) -> &mut Stack {
        self.stack
    }

    /// Records a file asset that the stack's template expects published
    /// (see [`crate::asset`]).
    pub fn add_file_asset(&mut self, asset: super::asset::FileAsset) {
        self.stack.add_asset(asset);
    }

    /// Adds a transform (macro) to the stack's template, once
    /// (`AWS::SecretsManager-2020-07-23`). Deploying a template with a
    /// transform needs the `CAPABILITY_AUTO_EXPAND` capability.
    pub fn add_transform(&mut self, name: &str) {
        self.stack.add_transform(name);
    }

    /// Adds a template parameter named `name` (a logical id) and returns a
    /// `Ref` to it.
    pub fn add_parameter<T>(&mut self, name: &str, parameter: Parameter) -> Result<Value<T>> {
        let id = self.stack.add_parameter(&self.path, name, parameter)?;
        Ok(Intrinsic::ref_(id.as_str()).into())
    }
}
