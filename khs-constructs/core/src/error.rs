//! The library's one error type.
//!
//! Every variant names where the problem is (a construct path such as
//! `khs-crm-prod/Network/PublicSubnet1`, a stack name, or a settings file) and
//! says what was received and what is allowed, so that the message alone tells
//! the user what to change.

use std::fmt;

/// A `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or synthesizing an app.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A construct id is empty, contains `/`, or is too long.
    #[error("{path}: invalid construct id {id:?}: {reason}")]
    InvalidConstructId {
        /// Path of the scope the id was added to.
        path: String,
        /// The id as given.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two constructs were added with the same path.
    #[error(
        "{path}: a construct with this path already exists; give each construct in a scope its own id"
    )]
    DuplicateConstruct {
        /// The path used twice.
        path: String,
    },
    /// Two different construct paths map to the same logical ID.
    #[error(
        "{path}: logical id {logical_id:?} is already used by {other}; rename one of the constructs or override its logical id"
    )]
    LogicalIdCollision {
        /// The construct that was added second.
        path: String,
        /// The logical id both produce.
        logical_id: String,
        /// The construct that holds the id already.
        other: String,
    },
    /// A logical ID (derived or overridden) is not valid for CloudFormation.
    #[error("{path}: invalid logical id {logical_id:?}: {reason}")]
    InvalidLogicalId {
        /// The construct the id belongs to.
        path: String,
        /// The id.
        logical_id: String,
        /// What CloudFormation allows.
        reason: String,
    },
    /// A construct prop has a value that the construct or AWS does not accept.
    #[error("{path}: {prop} {message}")]
    InvalidProp {
        /// The construct path.
        path: String,
        /// The prop's name, as written in the props struct (`max_azs`).
        prop: String,
        /// What was received and what is allowed.
        message: String,
    },
    /// A subnet CIDR does not lie inside the VPC CIDR.
    #[error(
        "{path}: subnet cidr {subnet} is outside the vpc cidr {vpc}; choose a subnet inside {vpc}"
    )]
    SubnetOutsideVpc {
        /// The subnet's construct path.
        path: String,
        /// The subnet CIDR.
        subnet: String,
        /// The VPC CIDR.
        vpc: String,
    },
    /// Two subnet CIDRs overlap.
    #[error(
        "{path}: subnet cidr {subnet} overlaps {other} ({other_path}); subnets must not share addresses"
    )]
    OverlappingSubnets {
        /// The subnet's construct path.
        path: String,
        /// The subnet CIDR.
        subnet: String,
        /// The CIDR it overlaps.
        other: String,
        /// The construct path of the other subnet.
        other_path: String,
    },
    /// A `Ref`, `Fn::GetAtt`, `Fn::Sub` variable or `DependsOn` names something
    /// that is not in the template.
    #[error(
        "{stack}: resource {logical_id} refers to {target:?}, which is not a resource, parameter or pseudo parameter of this stack"
    )]
    DanglingReference {
        /// The stack name.
        stack: String,
        /// The logical id holding the reference (or `Outputs.<name>`).
        logical_id: String,
        /// What it refers to.
        target: String,
    },
    /// A resource type name is not a CloudFormation resource type.
    #[error("{path}: unknown resource type {type_name:?}{}", suggest(.suggestions))]
    UnknownResourceType {
        /// The construct path.
        path: String,
        /// The type name as given.
        type_name: String,
        /// Known type names close to it.
        suggestions: Vec<String>,
    },
    /// A resource property breaks a constraint of its type's registry schema
    /// (or of cfn-lint's extensions to it): an allowed value, a pattern, a
    /// range, a length, a required property.
    #[error("{path}: {type_name} property {property} {message}")]
    SchemaViolation {
        /// The resource's construct path.
        path: String,
        /// The resource type (`AWS::RDS::DBInstance`).
        type_name: String,
        /// Where in the properties (`EngineVersion`, `ContainerDefinitions.0.Cpu`).
        property: String,
        /// What was received and what is allowed.
        message: String,
    },
    /// A property override names a path that cannot be set.
    #[error("{path}: invalid property override {property:?}: {reason}")]
    InvalidOverride {
        /// The resource's construct path.
        path: String,
        /// The dotted property path.
        property: String,
        /// What is wrong.
        reason: String,
    },
    /// A CloudFormation quota would be exceeded.
    #[error("{stack}: {what} is {got}, CloudFormation allows at most {max}; split the stack")]
    LimitExceeded {
        /// The stack name.
        stack: String,
        /// What was counted.
        what: String,
        /// The count.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// Two stacks of an app have the same name.
    #[error("app: a stack named {name:?} exists already; stack names must be unique")]
    DuplicateStack {
        /// The name.
        name: String,
    },
    /// A stack name is not valid for CloudFormation.
    #[error("stack name {name:?} is invalid: {reason}")]
    InvalidStackName {
        /// The name.
        name: String,
        /// What CloudFormation allows.
        reason: String,
    },
    /// Two outputs in one region export the same name.
    #[error(
        "{stack}: output {output} exports {name:?}, which {other} exports too; export names are unique per account and region"
    )]
    DuplicateExport {
        /// The stack of the second export.
        stack: String,
        /// The output's logical id.
        output: String,
        /// The export name.
        name: String,
        /// `stack/output` holding it already.
        other: String,
    },
    /// A reference between stacks that CloudFormation would refuse at
    /// deploy time: an import nothing exports, an import across regions or
    /// accounts, a missing dependency, a cycle, an invalid export name (see
    /// `khs_core::references`).
    #[error("{path}: {message}")]
    Reference {
        /// The construct path or stack where the reference is.
        path: String,
        /// What is wrong, naming the other stack, and what to do.
        message: String,
    },
    /// Serializing the template failed (a bug: please report it).
    #[error("{stack}: could not serialize the template: {message}")]
    Serialization {
        /// The stack name.
        stack: String,
        /// The serializer's message.
        message: String,
    },
    /// Error-level rule findings that no acknowledgement accepts: each line
    /// starts with the resource's construct path.
    #[error("{}", lines(.findings))]
    RuleViolations {
        /// The findings.
        findings: Vec<super::rules::Finding>,
    },
    /// Reading or writing settings or templates failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        message: String,
    },
}

fn lines(findings: &[super::rules::Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(" or "))
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidProp`].
    pub fn invalid_prop(
        path: impl fmt::Display,
        prop: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::InvalidProp {
            path: path.to_string(),
            prop: prop.into(),
            message: message.into(),
        }
    }
}
