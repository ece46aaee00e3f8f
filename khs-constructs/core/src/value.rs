//! Property values: a literal or an intrinsic function.

use serde::{Serialize, Serializer};

use super::intrinsic::{Expr, Intrinsic, Pseudo};

/// A property value of type `T`: a literal or an intrinsic function that
/// CloudFormation resolves at deploy time.
///
/// ```
/// use khs_core::{intrinsic::Intrinsic, value::Value};
/// let a: Value<String> = "10.0.0.0/16".into();
/// let b: Value<String> = Intrinsic::ref_("Param").into();
/// let c: Value<i64> = 3.into();
/// assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"Ref":"Param"}"#);
/// # let _ = (a, c);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value<T> {
    /// A literal value.
    Literal(T),
    /// An intrinsic function resolved by CloudFormation.
    Fn(Box<Intrinsic>),
}

/// A list property: a literal list of values, or one intrinsic that yields a
/// list (`Fn::GetAZs`, `Fn::Split`, a `List<…>` parameter).
pub type List<T> = Value<Vec<Value<T>>>;

impl<T> Value<T> {
    /// A literal.
    pub fn lit(v: impl Into<T>) -> Self {
        Value::Literal(v.into())
    }

    /// The literal, if this is one.
    pub fn as_literal(&self) -> Option<&T> {
        match self {
            Value::Literal(v) => Some(v),
            Value::Fn(_) => None,
        }
    }
}

impl<T: Serialize> Value<T> {
    /// This value as an untyped expression.
    pub fn to_expr(&self) -> Expr {
        match self {
            Value::Literal(v) => {
                Expr::Json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
            }
            Value::Fn(f) => Expr::Fn(f.clone()),
        }
    }
}

impl<T: Serialize> From<Value<T>> for Expr {
    fn from(v: Value<T>) -> Self {
        v.to_expr()
    }
}

impl<T: Serialize> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Literal(v) => v.serialize(s),
            Value::Fn(f) => f.serialize(s),
        }
    }
}

impl<T> From<Intrinsic> for Value<T> {
    fn from(f: Intrinsic) -> Self {
        Value::Fn(Box::new(f))
    }
}

impl<T> From<Pseudo> for Value<T> {
    fn from(p: Pseudo) -> Self {
        Value::Fn(Box::new(p.into()))
    }
}

impl From<&str> for Value<String> {
    fn from(s: &str) -> Self {
        Value::Literal(s.to_string())
    }
}
impl From<String> for Value<String> {
    fn from(s: String) -> Self {
        Value::Literal(s)
    }
}
impl From<&String> for Value<String> {
    fn from(s: &String) -> Self {
        Value::Literal(s.clone())
    }
}
macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Value<i64> {
            fn from(n: $t) -> Self { Value::Literal(i64::from(n)) }
        }
    )*};
}
int_from!(i64, i32, u32, u16, u8);
impl From<f64> for Value<f64> {
    fn from(n: f64) -> Self {
        Value::Literal(n)
    }
}
impl From<i32> for Value<f64> {
    fn from(n: i32) -> Self {
        Value::Literal(f64::from(n))
    }
}
impl From<bool> for Value<bool> {
    fn from(b: bool) -> Self {
        Value::Literal(b)
    }
}
impl From<serde_json::Value> for Value<serde_json::Value> {
    fn from(v: serde_json::Value) -> Self {
        Value::Literal(v)
    }
}
impl<T> From<Vec<Value<T>>> for List<T> {
    fn from(v: Vec<Value<T>>) -> Self {
        Value::Literal(v)
    }
}
impl From<Vec<&str>> for List<String> {
    fn from(v: Vec<&str>) -> Self {
        Value::Literal(v.into_iter().map(Value::from).collect())
    }
}
/// A list of literals (strings, numbers, the generated enums).
impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        Value::Literal(v.into_iter().map(Value::Literal).collect())
    }
}
impl<const N: usize> From<[&str; N]> for List<String> {
    fn from(v: [&str; N]) -> Self {
        Value::Literal(v.into_iter().map(Value::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_and_functions_serialize_transparently() {
        let v: Value<String> = "x".into();
        assert_eq!(serde_json::to_value(&v).unwrap(), json!("x"));
        let v: Value<i64> = 5u16.into();
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(5));
        let v: Value<bool> = Pseudo::NoValue.into();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"Ref": "AWS::NoValue"})
        );
        let l: List<String> = vec!["a", "b"].into();
        assert_eq!(serde_json::to_value(&l).unwrap(), json!(["a", "b"]));
        let l: List<String> = Intrinsic::get_azs().into();
        assert_eq!(serde_json::to_value(&l).unwrap(), json!({"Fn::GetAZs": ""}));
        assert_eq!(v.as_literal(), None);
    }
}
