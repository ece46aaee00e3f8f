//! Stacks: one CloudFormation template each, deployed to one environment.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{Error, Result};
use super::logical_id::LogicalId;
use super::path::ConstructPath;
use super::regions::REGIONS;
use super::resource::{ResourceSpec, TagStyle};
use super::rules::{AckTarget, Acknowledgement};
use super::scope::ResourceOptions;
use super::template::{DeletionPolicy, JsonText, Output, Parameter, ResourceEntry, Template};
use super::validate;

/// The metadata key holding each resource's construct path.
pub const PATH_METADATA_KEY: &str = "khs:path";

/// The metadata key naming a resource's previous logical id, written by
/// [`Stack::declare_moved`] and read by the deploy client.
pub const MOVED_FROM_METADATA_KEY: &str = "khs:moved-from";

/// Where a stack is deployed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Environment {
    /// The AWS account id (12 digits).
    ///
    /// Default: - the account of the credentials used to deploy.
    pub account: Option<String>,
    /// The region, e.g. `us-east-1`.
    pub region: String,
}

impl Environment {
    /// An environment in `region`, account taken from the credentials.
    pub fn region(region: impl Into<String>) -> Self {
        Environment {
            account: None,
            region: region.into(),
        }
    }

    /// An environment in an explicit account and region.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Environment {
            account: Some(account.into()),
            region: region.into(),
        }
    }
}

/// Checks an environment: the region is one the registry knows, the
/// account (when given) is 12 digits.
fn check_environment(stack: &str, env: &Environment) -> Result<()> {
    let region = env.region.as_str();
    if region.is_empty() {
        return Err(Error::invalid_prop(
            stack,
            "env.region",
            "must name a region such as \"us-east-1\", got an empty string",
        ));
    }
    if REGIONS.binary_search(&region).is_err() {
        let mut close: Vec<(f64, &str)> = REGIONS
            .iter()
            .map(|r| (strsim::jaro_winkler(r, region), *r))
            .filter(|(score, _)| *score > 0.85)
            .collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let hint = match close.first() {
            Some((_, r)) => format!("; did you mean {r:?}?"),
            None => String::new(),
        };
        return Err(Error::invalid_prop(
            stack,
            "env.region",
            format!(
                "is {region:?}, which is not an AWS region{hint} (known regions: {})",
                REGIONS.join(", ")
            ),
        ));
    }
    if let Some(account) = &env.account
        && (account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(Error::invalid_prop(
            stack,
            "env.account",
            format!(
                "is {account:?}; an AWS account id is exactly 12 digits (keep leading zeros: \"012345678901\")"
            ),
        ));
    }
    Ok(())
}

/// The settings of a [`Stack`].
#[derive(Debug, Clone, PartialEq)]
pub struct StackProps {
    /// Account and region.
    pub env: Environment,
    /// The template description.
    ///
    /// Default: - none.
    pub description: Option<String>,
    /// Tags applied to every taggable resource of the stack (a tag set on a
    /// resource itself wins) and to the stack at deploy time.
    ///
    /// Default: - none.
    pub tags: BTreeMap<String, String>,
    /// Refuse `DeleteStack` until protection is turned off.
    ///
    /// Default: `false`.
    pub termination_protection: bool,
}

impl StackProps {
    /// Props for a stack in `env`, with every other field at its default.
    pub fn new(env: Environment) -> Self {
        StackProps {
            env,
            description: None,
            tags: BTreeMap::new(),
            termination_protection: false,
        }
    }
}

#[derive(Debug, Clone)]
struct ResourceInfo {
    path: ConstructPath,
    spec: Option<&'static ResourceSpec>,
}

/// A stack: a named set of constructs that synthesizes to one template.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The root path: the stack's name, as a shared string (scopes and
    /// handles clone it).
    root: ConstructPath,
    props: StackProps,
    template: Template,
    /// Every path registered, for duplicates (never iterated).
    paths: std::collections::HashSet<ConstructPath>,
    ids: BTreeMap<String, ConstructPath>,
    resources: BTreeMap<String, ResourceInfo>,
    dependencies: BTreeSet<String>,
    acknowledgements: Vec<Acknowledgement>,
    assets: BTreeMap<String, super::asset::FileAsset>,
    /// The logical ids of the resources whose properties refer to another
    /// stack (found while their references were made local): the only ones
    /// synthesis walks for references between stacks.
    foreign_holders: BTreeSet<String>,
}

/// CloudFormation's stack name limit.
pub const MAX_STACK_NAME_LEN: usize = 128;

impl Stack {
    /// A new, empty stack. Names are CloudFormation stack names: a letter,
    /// then letters, digits and hyphens, at most 128 characters
    /// (kebab-case by convention: `khs-crm-prod`).
    pub fn new(name: &str, props: StackProps) -> Result<Self> {
        let reason = if name.is_empty() {
            Some("it must not be empty".to_string())
        } else if name.len() > MAX_STACK_NAME_LEN {
            Some(format!(
                "it is {} characters, at most {MAX_STACK_NAME_LEN} are allowed",
                name.len()
            ))
        } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            Some("it must start with a letter".to_string())
        } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Some("only ASCII letters, digits and '-' are allowed".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::InvalidStackName {
                name: name.to_string(),
                reason,
            });
        }
        check_environment(name, &props.env)?;
        let template = Template {
            description: props.description.clone(),
            ..Template::default()
        };
        Ok(Stack {
            root: ConstructPath::root(name),
            props,
            template,
            paths: std::collections::HashSet::new(),
            ids: BTreeMap::new(),
            resources: BTreeMap::new(),
            dependencies: BTreeSet::new(),
            acknowledgements: Vec::new(),
            assets: BTreeMap::new(),
            foreign_holders: BTreeSet::new(),
        })
    }

    /// The file assets the stack's template needs published, by hash.
    pub fn assets(&self) -> &BTreeMap<String, super::asset::FileAsset> {
        &self.assets
    }

    /// Records a file asset (once per hash: two functions sharing one
    /// code directory publish it once).
    pub(crate) fn add_asset(&mut self, asset: super::asset::FileAsset) {
        self.assets.entry(asset.hash.clone()).or_insert(asset);
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        self.root.stack()
    }

    /// The root path of the stack's construct tree.
    pub(crate) fn root_path(&self) -> &ConstructPath {
        &self.root
    }

    /// Account and region.
    pub fn env(&self) -> &Environment {
        &self.props.env
    }

    /// The stack's props.
    pub fn props(&self) -> &StackProps {
        &self.props
    }

    /// Names of stacks that must be deployed before this one.
    pub fn dependencies(&self) -> &BTreeSet<String> {
        &self.dependencies
    }

    /// Declares that `other` must be deployed before this stack (for example
    /// because this stack imports one of its exports).
    pub fn add_dependency(&mut self, other: &str) {
        self.dependencies.insert(other.to_string());
    }

    /// Acknowledges the findings of rule `rule_id` on every resource of the
    /// stack, for `reason` (at least a sentence; see
    /// [`crate::rules`]). Prefer acknowledging on the construct or the
    /// resource the finding is about.
    pub fn acknowledge(&mut self, rule_id: &str, reason: &str) -> Result<()> {
        let root = self.name().to_string();
        self.add_acknowledgement(AckTarget::Path(root.clone()), &root, rule_id, reason)
    }

    /// Acknowledges the findings of rule `rule_id` on every resource at or
    /// below the construct at `path`, relative to the stack (`"Database"`,
    /// `"Network/FlowLogs"`): for constructs built already.
    pub fn acknowledge_under(&mut self, path: &str, rule_id: &str, reason: &str) -> Result<()> {
        let full = format!("{}/{}", self.name(), path.trim_matches('/'));
        self.add_acknowledgement(AckTarget::Path(full.clone()), &full, rule_id, reason)
    }

    /// The acknowledgements declared so far.
    pub fn acknowledgements(&self) -> &[Acknowledgement] {
        &self.acknowledgements
    }

    pub(crate) fn add_acknowledgement(
        &mut self,
        target: AckTarget,
        declared_at: &str,
        rule_id: &str,
        reason: &str,
    ) -> Result<()> {
        let declared_at = match &target {
            AckTarget::Resource(id) => self
                .path_of(id)
                .map_or_else(|| format!("{}/{id}", self.name()), ToString::to_string),
            AckTarget::Path(_) => declared_at.to_string(),
        };
        let ack = Acknowledgement::new(target, &declared_at, rule_id, reason)?;
        self.acknowledgements.push(ack);
        Ok(())
    }

    /// The construct path of a resource, by logical id.
    pub fn path_of(&self, logical_id: &str) -> Option<&ConstructPath> {
        self.resources.get(logical_id).map(|r| &r.path)
    }

    /// The template as built so far (stack tags are merged into each
    /// resource as it is added), before validation and the references
    /// between stacks; see [`Stack::synth`] for the final one.
    pub fn template(&self) -> &Template {
        &self.template
    }

    pub(crate) fn register_path(&mut self, path: &ConstructPath) -> Result<()> {
        if !self.paths.insert(path.clone()) {
            return Err(Error::DuplicateConstruct {
                path: path.to_string(),
            });
        }
        Ok(())
    }

    fn claim_id(&mut self, path: &ConstructPath, id: &LogicalId) -> Result<()> {
        if let Some(other) = self.ids.get(id.as_str()) {
            return Err(Error::LogicalIdCollision {
                path: path.to_string(),
                logical_id: id.to_string(),
                other: other.to_string(),
            });
        }
        self.ids.insert(id.to_string(), path.clone());
        Ok(())
    }

    pub(crate) fn add_resource(
        &mut self,
        path: &ConstructPath,
        type_name: &str,
        spec: Option<&'static ResourceSpec>,
        properties: serde_json::Value,
        refers_to_other_stacks: bool,
        options: ResourceOptions,
    ) -> Result<LogicalId> {
        let logical_id = match &options.logical_id {
            Some(id) => LogicalId::new(path, id)?,
            None => LogicalId::from_path(path)?,
        };
        self.register_path(path)?;
        self.claim_id(path, &logical_id)?;
        let stateful = spec.is_some_and(|s| s.stateful);
        let deletion_policy = options
            .deletion_policy
            .or(stateful.then_some(DeletionPolicy::Retain));
        let update_replace_policy = options
            .update_replace_policy
            .or(deletion_policy.filter(|_| stateful));
        let mut depends_on: Vec<String> =
            options.depends_on.iter().map(|d| d.to_string()).collect();
        depends_on.sort();
        depends_on.dedup();
        let mut properties = properties;
        if !self.props.tags.is_empty() {
            let (style, property) = spec.map_or((TagStyle::None, ""), |s| (s.tags, s.tag_property));
            apply_tags(&mut properties, style, property, &self.props.tags);
        }
        let entry = ResourceEntry {
            type_name: type_name.to_string(),
            condition: options.condition,
            depends_on,
            deletion_policy,
            update_replace_policy,
            metadata: Some(path_metadata(path)),
            // Held as text from here on: the tree is dropped.
            properties: JsonText::from_value(&properties),
        };
        self.template
            .resources
            .insert(logical_id.to_string(), entry);
        self.resources.insert(
            logical_id.to_string(),
            ResourceInfo {
                path: path.clone(),
                spec,
            },
        );
        if refers_to_other_stacks {
            self.hold_foreign(&logical_id);
        }
        Ok(logical_id)
    }

    /// Records that the resource `logical_id` refers to another stack.
    pub(crate) fn hold_foreign(&mut self, logical_id: &LogicalId) {
        self.foreign_holders.insert(logical_id.to_string());
    }

    /// The resources that refer to another stack, by logical id, sorted.
    pub(crate) fn foreign_holders(&self) -> &BTreeSet<String> {
        &self.foreign_holders
    }

    pub(crate) fn add_dependency_of(&mut self, resource: &LogicalId, on: &LogicalId) -> Result<()> {
        let stack = self.root.stack();
        let missing = |id: &LogicalId| Error::InvalidProp {
            path: format!("{stack}/{id}"),
            prop: "depends_on".to_string(),
            message: "no such resource in this stack".to_string(),
        };
        if !self.template.resources.contains_key(on.as_str()) {
            return Err(missing(on));
        }
        let entry = self
            .template
            .resources
            .get_mut(resource.as_str())
            .ok_or_else(|| missing(resource))?;
        entry.depends_on.push(on.to_string());
        entry.depends_on.sort();
        entry.depends_on.dedup();
        Ok(())
    }

    pub(crate) fn override_property(
        &mut self,
        logical_id: &LogicalId,
        property: &str,
        value: serde_json::Value,
    ) -> Result<()> {
        let info = self.resources.get(logical_id.as_str()).cloned();
        let path = info
            .as_ref()
            .map(|i| i.path.to_string())
            .unwrap_or_else(|| format!("{}/{logical_id}", self.name()));
        let bad = |reason: String| Error::InvalidOverride {
            path: path.clone(),
            property: property.to_string(),
            reason,
        };
        let entry = self
            .template
            .resources
            .get_mut(logical_id.as_str())
            .ok_or_else(|| bad("no such resource in this stack".to_string()))?;
        let segments: Vec<&str> = property.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(bad(
                "empty path segment; write paths like \"A.B.0.C\"".to_string()
            ));
        }
        let spec = info.and_then(|i| i.spec);
        if let Some(spec) = spec {
            let first = segments[0];
            if spec.property(first).is_none() {
                let mut close: Vec<&str> = spec
                    .properties
                    .iter()
                    .map(|p| p.name)
                    .filter(|n| strsim::jaro_winkler(n, first) > 0.8)
                    .collect();
                close.sort();
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", close.join(" or "))
                };
                return Err(bad(format!(
                    "{} has no property {first:?}{hint}",
                    spec.type_name
                )));
            }
        }
        let tags = &self.props.tags;
        let (style, tag_property) = spec.map_or((TagStyle::None, ""), |s| (s.tags, s.tag_property));
        entry.properties.try_modify(|properties| {
            set_at(properties, &segments, value, &bad)?;
            // The stack tags, merged in when the resource was added, stay
            // merged into what the override wrote.
            if !tags.is_empty() {
                apply_tags(properties, style, tag_property, tags);
            }
            Ok(())
        })
    }

    pub(crate) fn add_output(&mut self, path: &ConstructPath, output: Output) -> Result<LogicalId> {
        self.register_path(path)?;
        let id = LogicalId::from_path(path)?;
        if self.template.outputs.contains_key(id.as_str()) {
            return Err(Error::LogicalIdCollision {
                path: path.to_string(),
                logical_id: id.to_string(),
                other: "another output".to_string(),
            });
        }
        self.template.outputs.insert(id.to_string(), output);
        Ok(id)
    }

    pub(crate) fn add_parameter(
        &mut self,
        scope: &ConstructPath,
        name: &str,
        parameter: Parameter,
    ) -> Result<LogicalId> {
        let path = scope.child(name)?;
        let id = LogicalId::new(&path, name)?;
        self.register_path(&path)?;
        self.claim_id(&path, &id)?;
        self.template.parameters.insert(id.to_string(), parameter);
        Ok(id)
    }

    /// Adds a template transform (macro) once; order of first use is kept.
    pub(crate) fn add_transform(&mut self, name: &str) {
        if !self.template.transform.iter().any(|t| t == name) {
            self.template.transform.push(name.to_string());
        }
    }

    /// Sets a template-level `Metadata` entry (for tools that read the
    /// template, such as the deploy client reading
    /// `khs:parameter-sources`). A later call with the same key replaces
    /// the value.
    pub fn set_metadata(&mut self, key: &str, value: serde_json::Value) {
        self.template.metadata.insert(key.to_string(), value);
    }

    /// Declares that a resource was renamed or moved in code, like
    /// Terraform's `moved` blocks: `resource` (its construct path, with or
    /// without the stack name, or its logical id) was deployed as
    /// `old_logical_id`. The deploy client then renames the deployed
    /// resource with a CloudFormation stack refactor before the change set,
    /// so it keeps its physical identity and its data instead of being
    /// replaced. Call it after creating the construct:
    /// `stack.declare_moved("MainDatabase/Instance", "DatabaseInstance")?`.
    /// A resource moved from another stack of the app (same account and
    /// region) names it: `"khs-crm-data/DatabaseInstance"`.
    /// Keep the declaration until every environment has been deployed.
    pub fn declare_moved(&mut self, resource: &str, old_logical_id: &str) -> Result<()> {
        let name = self.name().to_string();
        let full = format!("{name}/{resource}");
        let id = if self.template.resources.contains_key(resource) {
            Some(resource.to_string())
        } else {
            self.resources
                .iter()
                .find(|(_, r)| {
                    let p = r.path.to_string();
                    p == resource || p == full
                })
                .map(|(id, _)| id.clone())
        };
        let Some(id) = id else {
            return Err(Error::invalid_prop(
                &name,
                "declare_moved",
                format!(
                    "no resource at {resource:?} (a construct path such as \
                     \"Database/Instance\" or a logical id of this stack); declare the move \
                     after creating the construct"
                ),
            ));
        };
        // `other-stack/OldId` names a resource of another stack of the app.
        let (old_stack, old_id) = match old_logical_id.split_once('/') {
            Some((s, i)) if s != name => (Some(s), i),
            Some((_, i)) => (None, i),
            None => (None, old_logical_id),
        };
        let id_ok = !old_id.is_empty()
            && old_id.len() <= 255
            && old_id.chars().all(|c| c.is_ascii_alphanumeric());
        let stack_ok = old_stack.is_none_or(|s| {
            !s.is_empty()
                && s.len() <= MAX_STACK_NAME_LEN
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        let free =
            old_stack.is_some() || (old_id != id && !self.template.resources.contains_key(old_id));
        if !id_ok || !stack_ok || !free {
            return Err(Error::invalid_prop(
                format!("{name}/{resource}"),
                "declare_moved",
                format!(
                    "the previous logical id must be an alphanumeric id no resource of the \
                     stack has now, or `other-stack/LogicalId` for a resource moved from \
                     another stack, got {old_logical_id:?}"
                ),
            ));
        }
        let recorded = match old_stack {
            Some(s) => format!("{s}/{old_id}"),
            None => old_id.to_string(),
        };
        if let Some(entry) = self.template.resources.get_mut(&id) {
            entry
                .metadata
                .get_or_insert_with(JsonText::default)
                .modify(|metadata| {
                    if let Some(m) = metadata.as_object_mut() {
                        m.insert(
                            MOVED_FROM_METADATA_KEY.to_string(),
                            serde_json::Value::String(recorded),
                        );
                    }
                });
        }
        Ok(())
    }

    /// The final template: stack tags applied to every taggable resource
    /// (as each was added), then validated (references resolve,
    /// CloudFormation quotas hold).
    /// Rule packs run in [`App::synth`](super::app::App::synth), which also
    /// writes the metadata of acknowledged findings.
    pub fn synth(&self) -> Result<Template> {
        self.synth_rewritten(|t| super::references::reject_foreign(self, t))
    }

    /// [`Stack::synth`] with `rewrite` run on the template before
    /// validation: [`App::synth`](super::app::App::synth) writes the
    /// exports, imports and parameters of references between stacks there
    /// (see [`crate::references`]).
    pub(crate) fn synth_rewritten(
        &self,
        rewrite: impl FnOnce(&mut Template) -> Result<()>,
    ) -> Result<Template> {
        let mut template = self.template.clone();
        rewrite(&mut template)?;
        self.finish(template)
    }

    /// Takes the template as built so far out of the stack (leaving an
    /// empty one), for [`Stack::finish`]: synthesis that consumes the app
    /// moves each template instead of copying it.
    pub(crate) fn take_template(&mut self) -> Template {
        std::mem::take(&mut self.template)
    }

    /// Validates `template` (this stack's template as built): the work of
    /// [`Stack::synth`] on a template that is already a copy. The
    /// references are checked against the names each resource's
    /// properties recorded when they were written (see
    /// [`JsonText`]): no property is parsed again.
    pub(crate) fn finish(&self, template: Template) -> Result<Template> {
        self.finish_recorded(template).map(|(t, _)| t)
    }

    /// [`Stack::finish`], also returning what each resource refers to, as
    /// the reference check recorded it.
    pub(crate) fn finish_recorded(
        &self,
        template: Template,
    ) -> Result<(Template, validate::References)> {
        let references = validate::template_references(self.name(), &template)?;
        Ok((template, references))
    }
}

/// A resource's metadata: `{"khs:path": path}`, written straight to text.
fn path_metadata(path: &ConstructPath) -> JsonText {
    #[derive(serde::Serialize)]
    struct PathMetadata<'a> {
        #[serde(rename = "khs:path")]
        path: &'a str,
    }
    JsonText::of(&PathMetadata {
        path: path.as_str(),
    })
    .unwrap_or_else(|| serde_json::json!({ PATH_METADATA_KEY: path.to_string() }).into())
}

/// The resource's own `{"Key", "Value"}` tags merged with the stack tags,
/// sorted by key; a resource's tag wins over a stack tag with the same key,
/// and items without a string `Key` are dropped. The resource's items are
/// moved, not copied.
fn merge_tag_list(
    own: Vec<serde_json::Value>,
    tags: &BTreeMap<String, String>,
) -> Vec<serde_json::Value> {
    let mut keyed: Vec<(String, serde_json::Value)> = Vec::with_capacity(own.len());
    for item in own {
        if let Some(k) = item.get("Key").and_then(|k| k.as_str()) {
            keyed.push((k.to_string(), item));
        }
    }
    // A later item with the same key wins, as it did in a map.
    keyed.reverse();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|later, earlier| later.0 == earlier.0);
    let mut out = Vec::with_capacity(keyed.len() + tags.len());
    let mut own = keyed.into_iter().peekable();
    for (k, v) in tags {
        while let Some(item) = own.next_if(|(ok, _)| ok.as_str() < k.as_str()) {
            out.push(item.1);
        }
        match own.next_if(|(ok, _)| ok == k) {
            Some(item) => out.push(item.1),
            None => {
                let mut tag = serde_json::Map::new();
                tag.insert("Key".to_string(), serde_json::Value::String(k.clone()));
                tag.insert("Value".to_string(), serde_json::Value::String(v.clone()));
                out.push(serde_json::Value::Object(tag));
            }
        }
    }
    out.extend(own.map(|item| item.1));
    out
}

fn apply_tags(
    properties: &mut serde_json::Value,
    style: TagStyle,
    property: &str,
    tags: &BTreeMap<String, String>,
) {
    if style == TagStyle::None {
        return;
    }
    if !properties.is_object() {
        *properties = serde_json::json!({});
    }
    let Some(props) = properties.as_object_mut() else {
        return;
    };
    match style {
        TagStyle::None => {}
        TagStyle::KeyValueList => {
            let list = props
                .entry(property)
                .or_insert_with(|| serde_json::json!([]));
            if let Some(items) = list.as_array_mut() {
                *items = merge_tag_list(std::mem::take(items), tags);
            }
        }
        TagStyle::Map => {
            let map = props
                .entry(property)
                .or_insert_with(|| serde_json::json!({}));
            if let Some(m) = map.as_object_mut() {
                for (k, v) in tags {
                    m.entry(k.clone()).or_insert_with(|| serde_json::json!(v));
                }
            }
        }
    }
}

/// Sets the value at `segments` (a dotted property path split at the
/// dots) below `properties`, making the objects on the way.
fn set_at(
    properties: &mut serde_json::Value,
    segments: &[&str],
    value: serde_json::Value,
    bad: &dyn Fn(String) -> Error,
) -> Result<()> {
    if !properties.is_object() {
        *properties = serde_json::json!({});
    }
    let mut cur = properties;
    let mut value = Some(value);
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if let Ok(idx) = seg.parse::<usize>() {
            let arr = cur.as_array_mut().ok_or_else(|| {
                bad(format!(
                    "segment {seg:?} indexes something that is not a list"
                ))
            })?;
            let len = arr.len();
            let slot = arr.get_mut(idx).ok_or_else(|| {
                bad(format!(
                    "index {idx} is out of range (the list has {len} items)"
                ))
            })?;
            if last {
                *slot = value.take().unwrap_or_default();
                return Ok(());
            }
            cur = slot;
        } else {
            let obj = cur.as_object_mut().ok_or_else(|| {
                bad(format!(
                    "segment {seg:?} is below something that is not an object"
                ))
            })?;
            if last {
                obj.insert((*seg).to_string(), value.take().unwrap_or_default());
                return Ok(());
            }
            cur = obj
                .entry((*seg).to_string())
                .or_insert_with(|| serde_json::json!({}));
        }
    }
    Ok(())
}
