//! The resource-level escape hatch: any CloudFormation type by name, with
//! JSON properties. (Hand-written; the rest of `cfn` is generated.)

use serde::{Serialize, Serializer};

use crate::registry;
use khs_core::error::{Error, Result};
use khs_core::path::ConstructPath;
use khs_core::resource::{Resource, ResourceSpec};

/// A resource of any type, with untyped properties: for custom resources,
/// for services whose cargo feature is off, or for a type newer than the
/// pinned registry. Every registry type also has a typed struct (enable its
/// service's feature), which is the better choice.
///
/// It is treated exactly like the typed struct of the same type: the same
/// registry metadata gives it stack tags, and the `DeletionPolicy` and
/// `UpdateReplacePolicy` of stateful types. It is checked when added to a
/// scope: the type name must be a CloudFormation type (a typo is an error
/// listing close matches), the properties must be a JSON object, and every
/// property name must exist in the schema.
///
/// ```ignore
/// // (run as a test in khs-constructs/cfn/tests/raw.rs)
/// use khs_cfn::RawResource;
/// use khs_core::scope::AsScope;
/// use khs_core::stack::{Environment, Stack, StackProps};
///
/// let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
/// let mut scope = stack.as_scope();
/// let queue = RawResource::new("AWS::SQS::Queue", serde_json::json!({"SqsManagedSseEnabled": true}));
/// scope.add("Queue", queue).unwrap();
///
/// let typo = RawResource::new("AWS::SQS::Queu", serde_json::json!({}));
/// let err = scope.add("Typo", typo).unwrap_err();
/// assert!(err.to_string().contains("did you mean AWS::SQS::Queue"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RawResource {
    /// The CloudFormation type name (`AWS::SQS::Queue`, `Custom::Thing`).
    pub type_name: String,
    /// The `Properties` object.
    pub properties: serde_json::Value,
}

impl RawResource {
    /// A resource of type `type_name` with these properties.
    pub fn new(type_name: impl Into<String>, properties: serde_json::Value) -> Self {
        RawResource {
            type_name: type_name.into(),
            properties,
        }
    }
}

impl Serialize for RawResource {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.properties.serialize(s)
    }
}

impl Resource for RawResource {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn spec(&self) -> Option<&'static ResourceSpec> {
        registry::spec(&self.type_name)
    }

    fn validate_properties(
        &self,
        path: &ConstructPath,
        properties: &serde_json::Value,
    ) -> Result<()> {
        crate::validate::properties(&self.type_name, properties, path)
    }

    fn validate(&self, path: &ConstructPath) -> Result<()> {
        if !registry::is_known(&self.type_name) {
            return Err(Error::UnknownResourceType {
                path: path.to_string(),
                type_name: self.type_name.clone(),
                suggestions: registry::suggest(&self.type_name),
            });
        }
        let Some(props) = self.properties.as_object() else {
            return Err(Error::invalid_prop(
                path,
                "properties",
                format!("must be a JSON object, got {}", json_kind(&self.properties)),
            ));
        };
        if let Some(spec) = self.spec() {
            for name in props.keys() {
                if spec.property(name).is_none() {
                    let hint = crate::validate::did_you_mean(&crate::validate::similar_names(
                        spec.properties.iter().map(|p| p.name),
                        name,
                    ));
                    return Err(Error::invalid_prop(
                        path,
                        "properties",
                        format!(
                            "must name properties of {}, got {name:?}{hint}",
                            spec.type_name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
