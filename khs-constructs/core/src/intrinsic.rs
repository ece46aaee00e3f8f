//! CloudFormation intrinsic functions and pseudo parameters as types.
//!
//! An [`Intrinsic`] serializes to exactly the JSON CloudFormation expects
//! (`{"Ref": …}`, `{"Fn::GetAtt": [id, attr]}`, …). Arguments are [`Expr`]s:
//! a JSON literal or another intrinsic. Typed code rarely builds these by
//! hand: resource [`Handle`](super::resource::Handle)s hand out typed
//! `Ref`/`GetAtt` values, and [`Value`](super::value::Value) wraps a literal or
//! an intrinsic for each property.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// An untyped expression: a JSON literal or an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal JSON value.
    Json(serde_json::Value),
    /// An intrinsic function.
    Fn(Box<Intrinsic>),
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Json(v) => v.serialize(s),
            Expr::Fn(f) => f.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Expr::Json)
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Json(serde_json::Value::String(s.to_string()))
    }
}
impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Json(serde_json::Value::String(s))
    }
}
impl From<i64> for Expr {
    fn from(n: i64) -> Self {
        Expr::Json(n.into())
    }
}
impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr::Json(b.into())
    }
}
impl From<serde_json::Value> for Expr {
    fn from(v: serde_json::Value) -> Self {
        Expr::Json(v)
    }
}
impl From<Intrinsic> for Expr {
    fn from(f: Intrinsic) -> Self {
        Expr::Fn(Box::new(f))
    }
}
impl From<Pseudo> for Expr {
    fn from(p: Pseudo) -> Self {
        Intrinsic::from(p).into()
    }
}
impl From<Vec<Expr>> for Expr {
    fn from(items: Vec<Expr>) -> Self {
        // A list of expressions is itself an expression; serialize it as JSON.
        match serde_json::to_value(&items) {
            Ok(v) => Expr::Json(v),
            Err(_) => Expr::Json(serde_json::Value::Null),
        }
    }
}

/// CloudFormation pseudo parameters, used with `Ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pseudo {
    /// `AWS::AccountId`
    AccountId,
    /// `AWS::Region`
    Region,
    /// `AWS::StackName`
    StackName,
    /// `AWS::StackId`
    StackId,
    /// `AWS::Partition`
    Partition,
    /// `AWS::URLSuffix`
    UrlSuffix,
    /// `AWS::NoValue` (removes the property it stands in)
    NoValue,
    /// `AWS::NotificationARNs`
    NotificationArns,
}

impl Pseudo {
    /// The name used in `Ref`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
        }
    }

    /// Every pseudo parameter.
    pub const ALL: [Pseudo; 8] = [
        Pseudo::AccountId,
        Pseudo::Region,
        Pseudo::StackName,
        Pseudo::StackId,
        Pseudo::Partition,
        Pseudo::UrlSuffix,
        Pseudo::NoValue,
        Pseudo::NotificationArns,
    ];

    /// Whether `name` is a pseudo parameter name.
    pub fn is_pseudo(name: &str) -> bool {
        Self::ALL.iter().any(|p| p.name() == name)
    }
}

impl From<Pseudo> for Intrinsic {
    fn from(p: Pseudo) -> Self {
        Intrinsic::Ref(p.name().to_string())
    }
}

/// A CloudFormation intrinsic function.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Intrinsic {
    /// `{"Ref": name}`: a resource, parameter or pseudo parameter.
    Ref(String),
    /// `{"Fn::GetAtt": [logical_id, attribute]}`.
    GetAtt {
        /// The resource.
        logical_id: String,
        /// The attribute (`Endpoint.Address`).
        attribute: String,
    },
    /// `{"Fn::Sub": template}` or `{"Fn::Sub": [template, {vars}]}`.
    Sub {
        /// The string with `${Name}` placeholders.
        template: String,
        /// Values for placeholders that are not resources or parameters.
        vars: BTreeMap<String, Expr>,
    },
    /// `{"Fn::Join": [delimiter, [values]]}`.
    Join {
        /// The delimiter.
        delimiter: String,
        /// The values (or one list-valued expression).
        values: Vec<Expr>,
    },
    /// `{"Fn::Select": [index, list]}`.
    Select {
        /// The zero-based index.
        index: u32,
        /// A list-valued expression.
        list: Expr,
    },
    /// `{"Fn::Split": [delimiter, source]}`.
    Split {
        /// The delimiter.
        delimiter: String,
        /// The string to split.
        source: Expr,
    },
    /// `{"Fn::GetAZs": region}` (`""` for the stack's region).
    GetAzs(Expr),
    /// `{"Fn::Cidr": [ip_block, count, cidr_bits]}`.
    Cidr {
        /// The CIDR block to divide.
        ip_block: Expr,
        /// How many CIDRs to generate (1..=256).
        count: u32,
        /// The number of host bits of each (e.g. 8 for a /24 in IPv4).
        cidr_bits: u32,
    },
    /// `{"Fn::ImportValue": name}`.
    ImportValue(Expr),
    /// `{"Fn::If": [condition, then, else]}`.
    If {
        /// The condition's logical name.
        condition: String,
        /// The value when true.
        then: Expr,
        /// The value when false.
        otherwise: Expr,
    },
    /// `{"Fn::Equals": [a, b]}` (in conditions).
    Equals(Expr, Expr),
    /// `{"Fn::Not": [condition]}`.
    Not(Expr),
    /// `{"Fn::And": [conditions]}`.
    And(Vec<Expr>),
    /// `{"Fn::Or": [conditions]}`.
    Or(Vec<Expr>),
    /// `{"Condition": name}` inside condition functions.
    Condition(String),
    /// `{"Fn::FindInMap": [map, top, second]}`.
    FindInMap(String, Expr, Expr),
    /// `{"Fn::Base64": value}`.
    Base64(Expr),
}

impl Intrinsic {
    /// `Ref` to a logical name.
    pub fn ref_(name: impl Into<String>) -> Self {
        Intrinsic::Ref(name.into())
    }

    /// `Fn::GetAtt`.
    pub fn get_att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Self {
        Intrinsic::GetAtt {
            logical_id: logical_id.into(),
            attribute: attribute.into(),
        }
    }

    /// `Fn::Sub` without extra variables.
    pub fn sub(template: impl Into<String>) -> Self {
        Intrinsic::Sub {
            template: template.into(),
            vars: BTreeMap::new(),
        }
    }

    /// `Fn::Sub` with variables.
    pub fn sub_with<K: Into<String>, V: Into<Expr>>(
        template: impl Into<String>,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Intrinsic::Sub {
            template: template.into(),
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// `Fn::Join`.
    pub fn join(delimiter: impl Into<String>, values: impl IntoIterator<Item = Expr>) -> Self {
        Intrinsic::Join {
            delimiter: delimiter.into(),
            values: values.into_iter().collect(),
        }
    }

    /// `Fn::Select`.
    pub fn select(index: u32, list: impl Into<Expr>) -> Self {
        Intrinsic::Select {
            index,
            list: list.into(),
        }
    }

    /// `Fn::GetAZs` for the stack's own region.
    pub fn get_azs() -> Self {
        Intrinsic::GetAzs(Expr::from(""))
    }

    /// The expression as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn one<S: Serializer, T: Serialize + ?Sized>(
    s: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(key, value)?;
    m.end()
}

impl Serialize for Intrinsic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_json::json;
        match self {
            Intrinsic::Ref(n) => one(s, "Ref", n),
            Intrinsic::GetAtt {
                logical_id,
                attribute,
            } => one(s, "Fn::GetAtt", &[logical_id, attribute]),
            Intrinsic::Sub { template, vars } if vars.is_empty() => one(s, "Fn::Sub", template),
            Intrinsic::Sub { template, vars } => one(s, "Fn::Sub", &(template, vars)),
            Intrinsic::Join { delimiter, values } => {
                // A single list-valued function (e.g. GetAZs) is passed as-is.
                if let [Expr::Fn(f)] = values.as_slice() {
                    if matches!(
                        **f,
                        Intrinsic::GetAzs(_)
                            | Intrinsic::Split { .. }
                            | Intrinsic::Ref(_)
                            | Intrinsic::If { .. }
                    ) {
                        return one(s, "Fn::Join", &(delimiter, f));
                    }
                }
                one(s, "Fn::Join", &(delimiter, values))
            }
            Intrinsic::Select { index, list } => {
                one(s, "Fn::Select", &(json!(index.to_string()), list))
            }
            Intrinsic::Split { delimiter, source } => one(s, "Fn::Split", &(delimiter, source)),
            Intrinsic::GetAzs(region) => one(s, "Fn::GetAZs", region),
            Intrinsic::Cidr {
                ip_block,
                count,
                cidr_bits,
            } => one(
                s,
                "Fn::Cidr",
                &(
                    ip_block,
                    json!(count.to_string()),
                    json!(cidr_bits.to_string()),
                ),
            ),
            Intrinsic::ImportValue(v) => one(s, "Fn::ImportValue", v),
            Intrinsic::If {
                condition,
                then,
                otherwise,
            } => one(s, "Fn::If", &(condition, then, otherwise)),
            Intrinsic::Equals(a, b) => one(s, "Fn::Equals", &(a, b)),
            Intrinsic::Not(c) => one(s, "Fn::Not", &[c]),
            Intrinsic::And(c) => one(s, "Fn::And", c),
            Intrinsic::Or(c) => one(s, "Fn::Or", c),
            Intrinsic::Condition(n) => one(s, "Condition", n),
            Intrinsic::FindInMap(map, a, b) => one(s, "Fn::FindInMap", &(map, a, b)),
            Intrinsic::Base64(v) => one(s, "Fn::Base64", v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn j(i: Intrinsic) -> serde_json::Value {
        serde_json::to_value(i).unwrap()
    }

    #[test]
    fn every_function_serializes_as_cloudformation_expects() {
        assert_eq!(j(Intrinsic::ref_("Vpc")), json!({"Ref": "Vpc"}));
        assert_eq!(j(Pseudo::Region.into()), json!({"Ref": "AWS::Region"}));
        assert_eq!(
            j(Pseudo::AccountId.into()),
            json!({"Ref": "AWS::AccountId"})
        );
        assert_eq!(
            j(Pseudo::StackName.into()),
            json!({"Ref": "AWS::StackName"})
        );
        assert_eq!(
            j(Pseudo::Partition.into()),
            json!({"Ref": "AWS::Partition"})
        );
        assert_eq!(
            j(Pseudo::UrlSuffix.into()),
            json!({"Ref": "AWS::URLSuffix"})
        );
        assert_eq!(
            j(Intrinsic::get_att("Db", "Endpoint.Address")),
            json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        );
        assert_eq!(
            j(Intrinsic::sub("arn:${AWS::Partition}:s3:::b")),
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::b"})
        );
        assert_eq!(
            j(Intrinsic::sub_with(
                "${A}-x",
                [("A", Expr::from(Intrinsic::ref_("B")))]
            )),
            json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]})
        );
        assert_eq!(
            j(Intrinsic::join(
                ",",
                [Expr::from("a"), Intrinsic::ref_("B").into()]
            )),
            json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]})
        );
        assert_eq!(
            j(Intrinsic::join(",", [Intrinsic::get_azs().into()])),
            json!({"Fn::Join": [",", {"Fn::GetAZs": ""}]})
        );
        assert_eq!(
            j(Intrinsic::select(1, Intrinsic::get_azs())),
            json!({"Fn::Select": ["1", {"Fn::GetAZs": ""}]})
        );
        assert_eq!(
            j(Intrinsic::Split {
                delimiter: ",".into(),
                source: Intrinsic::ref_("P").into()
            }),
            json!({"Fn::Split": [",", {"Ref": "P"}]})
        );
        assert_eq!(
            j(Intrinsic::GetAzs(Pseudo::Region.into())),
            json!({"Fn::GetAZs": {"Ref": "AWS::Region"}})
        );
        assert_eq!(
            j(Intrinsic::Cidr {
                ip_block: "10.0.0.0/16".into(),
                count: 6,
                cidr_bits: 8
            }),
            json!({"Fn::Cidr": ["10.0.0.0/16", "6", "8"]})
        );
        assert_eq!(
            j(Intrinsic::ImportValue("x".into())),
            json!({"Fn::ImportValue": "x"})
        );
        assert_eq!(
            j(Intrinsic::If {
                condition: "IsProd".into(),
                then: 2.into(),
                otherwise: Pseudo::NoValue.into()
            }),
            json!({"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            j(Intrinsic::Equals(
                Intrinsic::ref_("Stage").into(),
                "prod".into()
            )),
            json!({"Fn::Equals": [{"Ref": "Stage"}, "prod"]})
        );
        assert_eq!(
            j(Intrinsic::Not(Intrinsic::Condition("A".into()).into())),
            json!({"Fn::Not": [{"Condition": "A"}]})
        );
        assert_eq!(
            j(Intrinsic::And(vec![true.into(), false.into()])),
            json!({"Fn::And": [true, false]})
        );
        assert_eq!(
            j(Intrinsic::Or(vec![true.into(), false.into()])),
            json!({"Fn::Or": [true, false]})
        );
        assert_eq!(
            j(Intrinsic::FindInMap("M".into(), "a".into(), "b".into())),
            json!({"Fn::FindInMap": ["M", "a", "b"]})
        );
        assert_eq!(
            j(Intrinsic::Base64("#!/bin/sh".into())),
            json!({"Fn::Base64": "#!/bin/sh"})
        );
    }

    #[test]
    fn knows_pseudo_parameter_names() {
        assert!(Pseudo::is_pseudo("AWS::Region"));
        assert!(!Pseudo::is_pseudo("Vpc"));
    }
}
