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
/// ```
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
                    let mut close: Vec<&str> = spec
                        .properties
                        .iter()
                        .map(|p| p.name)
                        .filter(|p| strsim::jaro_winkler(p, name) > 0.8)
                        .collect();
                    close.sort_unstable();
                    let hint = if close.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean {}?", close.join(" or "))
                    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path() -> ConstructPath {
        ConstructPath::root("stack")
            .child("Thing")
            .expect("valid id")
    }

    #[test]
    fn fails_when_type_name_is_a_typo() {
        let r = RawResource::new("AWS::EC2::Subnett", json!({}));
        let err = r.validate(&path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("stack/Thing: unknown resource type"),
            "{msg}"
        );
        assert!(msg.contains("AWS::EC2::Subnet"), "{msg}");
        match err {
            Error::UnknownResourceType { suggestions, .. } => {
                assert_eq!(suggestions[0], "AWS::EC2::Subnet");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn fails_when_case_differs_and_suggests_the_right_case() {
        let r = RawResource::new("aws::ec2::vpc", json!({}));
        let err = r.validate(&path()).unwrap_err();
        assert!(
            err.to_string().contains("did you mean AWS::EC2::VPC?"),
            "{err}"
        );
    }

    #[test]
    fn fails_when_properties_are_not_an_object() {
        let r = RawResource::new("AWS::SQS::Queue", json!([1]));
        let err = r.validate(&path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stack/Thing: properties must be a JSON object, got an array"
        );
    }

    #[test]
    fn fails_when_a_property_is_not_in_the_schema() {
        let r = RawResource::new("AWS::EC2::Subnet", json!({"VpcId": "v", "CidrBlok": "x"}));
        let err = r.validate(&path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("stack/Thing: properties"), "{msg}");
        assert!(
            msg.contains("\"CidrBlok\"; did you mean CidrBlock"),
            "{msg}"
        );
    }

    #[test]
    fn accepts_known_and_custom_types() {
        for t in ["Custom::Seeder", "AWS::EC2::Subnet"] {
            RawResource::new(t, json!({"VpcId": "v"}))
                .validate(&path())
                .expect(t);
        }
        let r = RawResource::new("Custom::Seeder", json!({"A": 1}));
        assert_eq!(serde_json::to_value(&r).unwrap(), json!({"A": 1}));
        assert!(r.spec().is_none());
        // Every registry type has its metadata, whatever features are on.
        let queue = RawResource::new("AWS::SQS::Queue", json!({"FifoQueue": true}));
        queue.validate(&path()).expect("queue");
        assert!(queue.spec().is_some_and(|s| s.stateful));
    }
}
