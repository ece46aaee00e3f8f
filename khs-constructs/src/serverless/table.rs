//! [`Table`]: a DynamoDB table with a typed key schema and secure defaults.
//!
//! What a `Table` emits:
//! - one `AWS::DynamoDB::Table`: the key schema and attribute definitions
//!   from [`TableProps::partition_key`], [`TableProps::sort_key`] and the
//!   keys of the [`GlobalSecondaryIndex`]es; on-demand billing unless
//!   [`Billing::Provisioned`]; point-in-time recovery on; encrypted with a
//!   customer managed key (`<id>Key` unless one is given); deletion
//!   protection on; TTL and a stream if asked; `DeletionPolicy` and
//!   `UpdateReplacePolicy` `Retain`;
//! - with provisioned billing, per table and per index, an
//!   `AWS::ApplicationAutoScaling::ScalableTarget` and a target-tracking
//!   `ScalingPolicy` for reads and for writes (when `max > min`).
//!
//! Access goes through grants ([`Table::grant_read_data`],
//! [`Table::grant_write_data`], [`Table::grant_read_write`],
//! [`Table::grant_stream_read`]); a function processes the stream with
//! [`crate::serverless::function::Function::add_table_stream_source`].
//!
//! ```
//! use khs_constructs::prelude::*;
//!
//! let mut stack = Stack::new("demo", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let orders = Table::new(&mut stack, "Orders", TableProps {
//!     sort_key: Some(Attribute::number("createdAt")),
//!     ttl_attribute: Some("expiresAt".into()),
//!     ..TableProps::new(Attribute::string("customerId"))
//! }).unwrap();
//! assert_eq!(orders.handle().logical_id().as_str(), "OrdersTable");
//! ```

use std::collections::BTreeMap;

use crate::cfn::applicationautoscaling::scalable_target::{
    ScalableDimension, ScalableTargetRequired, ServiceNamespace,
};
use crate::cfn::applicationautoscaling::scaling_policy::{
    PolicyType, PredefinedMetricSpecification,
    PredefinedMetricSpecificationPredefinedMetricType as Predefined,
    TargetTrackingScalingPolicyConfiguration,
};
use crate::cfn::applicationautoscaling::{ScalableTarget, ScalingPolicy};
use crate::cfn::attributes::*;
use crate::cfn::dynamodb::Table as CfnTable;
use crate::cfn::dynamodb::table as t;
use crate::cfn::iam::Policy as CfnPolicy;
use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::resource::Handle;
use crate::core::scope::{AsScope, ResourceOptions, Scope};
use crate::core::template::DeletionPolicy;
use crate::core::value::Value;
use crate::iam::PolicyStatement;
use crate::kms::{EncryptionKey, EncryptionKeyProps};
use crate::serverless::grant::{Grantee, KEY_READ, grant, key_statement};

/// The most global secondary indexes a table can have.
pub const MAX_GLOBAL_SECONDARY_INDEXES: usize = 20;

/// The item actions of [`Table::grant_read_data`].
pub const READ_DATA_ACTIONS: [&str; 6] = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
/// The item actions of [`Table::grant_write_data`].
pub const WRITE_DATA_ACTIONS: [&str; 5] = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];
/// The key actions of the read grants (through DynamoDB only), as the CDK
/// grants them.
pub const KEY_READ_ACTIONS: [&str; 2] = ["kms:Decrypt", "kms:DescribeKey"];
/// The key actions of the write grants (through DynamoDB only), as the
/// CDK grants them and as DynamoDB's key policy example lists them.
pub const KEY_WRITE_ACTIONS: [&str; 5] = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
];
/// The stream actions of [`Table::grant_stream_read`] (on the stream ARN).
pub const STREAM_READ_ACTIONS: [&str; 3] = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    /// `S`: a string.
    String,
    /// `N`: a number.
    Number,
    /// `B`: binary.
    Binary,
}

impl AttributeType {
    fn cfn(self) -> t::AttributeType {
        match self {
            AttributeType::String => t::AttributeType::S,
            AttributeType::Number => t::AttributeType::N,
            AttributeType::Binary => t::AttributeType::B,
        }
    }
}

/// A key attribute: a name and a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name (1..=255 characters).
    pub name: String,
    /// Its type.
    pub type_: AttributeType,
}

impl Attribute {
    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::String,
        }
    }
    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::Number,
        }
    }
    /// A binary attribute.
    pub fn binary(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::Binary,
        }
    }
}

/// Provisioned capacity of one dimension (reads or writes), scaled by
/// target tracking between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// The lowest (and initial) capacity units (at least 1).
    pub min: u32,
    /// The highest capacity units (`min` for no autoscaling).
    pub max: u32,
    /// The consumed/provisioned ratio to keep (20..=90 %).
    pub target_utilization_percent: u32,
}

impl Capacity {
    /// `min..=max` units at 70 % target utilization.
    pub fn scaled(min: u32, max: u32) -> Self {
        Capacity {
            min,
            max,
            target_utilization_percent: 70,
        }
    }
    /// A fixed number of units (no autoscaling).
    pub fn fixed(units: u32) -> Self {
        Capacity {
            min: units,
            max: units,
            target_utilization_percent: 70,
        }
    }
}

/// How the table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// Pay per request; no capacity to plan.
    OnDemand,
    /// Provisioned capacity with autoscaling; the indexes get the same
    /// capacity settings as the table.
    Provisioned {
        /// Read capacity.
        read: Capacity,
        /// Write capacity.
        write: Capacity,
    },
}

/// What the table's stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamView {
    /// Only the key attributes of the modified item.
    KeysOnly,
    /// The item as it is after the change.
    NewImage,
    /// The item as it was before the change.
    OldImage,
    /// Both images.
    NewAndOldImages,
}

/// Which attributes an index projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// The key attributes only.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSecondaryIndex {
    /// The index name (3..=255 of A-Z a-z 0-9 _ - .).
    pub name: String,
    /// The index's partition key.
    pub partition_key: Attribute,
    /// The index's sort key.
    ///
    /// Default: - none.
    pub sort_key: Option<Attribute>,
    /// The attributes it projects.
    ///
    /// Default: [`Projection::All`].
    pub projection: Projection,
}

impl GlobalSecondaryIndex {
    /// An index on `partition_key` projecting every attribute.
    pub fn new(name: impl Into<String>, partition_key: Attribute) -> Self {
        GlobalSecondaryIndex {
            name: name.into(),
            partition_key,
            sort_key: None,
            projection: Projection::All,
        }
    }
}

/// Props of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableProps {
    /// The partition (hash) key.
    pub partition_key: Attribute,
    /// The sort (range) key.
    ///
    /// Default: - none.
    pub sort_key: Option<Attribute>,
    /// The table name.
    ///
    /// Default: - generated by CloudFormation (renaming is then never a
    /// replacement).
    pub name: Option<String>,
    /// Billing mode.
    ///
    /// Default: [`Billing::OnDemand`].
    pub billing: Billing,
    /// The key encrypting the table.
    ///
    /// Default: - a new customer managed key `<id>Key` with rotation.
    pub encryption_key: Option<EncryptionKey>,
    /// Continuous backups for 35 days (restore to any second).
    ///
    /// Default: `true`.
    pub point_in_time_recovery: bool,
    /// Refuse `DeleteTable` until this is switched off.
    ///
    /// Default: `true`.
    pub deletion_protection: bool,
    /// The number attribute holding each item's expiry (epoch seconds).
    ///
    /// Default: - no TTL.
    pub ttl_attribute: Option<String>,
    /// A stream of item changes.
    ///
    /// Default: - no stream.
    pub stream: Option<StreamView>,
    /// Global secondary indexes (at most 20).
    ///
    /// Default: - none.
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// What happens to the table when it leaves the stack or is replaced.
    ///
    /// Default: [`DeletionPolicy::Retain`].
    pub removal_policy: DeletionPolicy,
}

impl TableProps {
    /// Props with a partition key and every other field at its default.
    pub fn new(partition_key: Attribute) -> Self {
        TableProps {
            partition_key,
            sort_key: None,
            name: None,
            billing: Billing::OnDemand,
            encryption_key: None,
            point_in_time_recovery: true,
            deletion_protection: true,
            ttl_attribute: None,
            stream: None,
            global_secondary_indexes: Vec::new(),
            removal_policy: DeletionPolicy::Retain,
        }
    }
}

/// A DynamoDB table. Cheap to clone (handles).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    table: Handle<CfnTable>,
    key: EncryptionKey,
    path: ConstructPath,
    has_indexes: bool,
    has_stream: bool,
}

fn check_name(path: &ConstructPath, prop: &str, name: &str) -> Result<()> {
    let ok = (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if !ok {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!("must be 3..=255 of A-Z a-z 0-9 _ - ., got {name:?}"),
        ));
    }
    Ok(())
}

fn check_capacity(path: &ConstructPath, prop: &str, c: Capacity) -> Result<()> {
    if c.min == 0 || c.max < c.min {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "must have 1 <= min <= max, got min {} and max {}",
                c.min, c.max
            ),
        ));
    }
    if !(20..=90).contains(&c.target_utilization_percent) {
        return Err(Error::invalid_prop(
            path,
            prop,
            format!(
                "target_utilization_percent must be 20..=90, got {}",
                c.target_utilization_percent
            ),
        ));
    }
    Ok(())
}

/// Collects attribute definitions; one name has one type.
fn define(
    path: &ConstructPath,
    defs: &mut BTreeMap<String, AttributeType>,
    a: &Attribute,
    what: &str,
) -> Result<()> {
    if a.name.is_empty() || a.name.len() > 255 {
        return Err(Error::invalid_prop(
            path,
            what,
            format!("must have a name of 1..=255 characters, got {:?}", a.name),
        ));
    }
    match defs.get(&a.name) {
        Some(t) if *t != a.type_ => Err(Error::invalid_prop(
            path,
            what,
            format!(
                "declares {:?} as {:?}, but another key declares it as {:?}; one attribute has one type",
                a.name, a.type_, t
            ),
        )),
        _ => {
            defs.insert(a.name.clone(), a.type_);
            Ok(())
        }
    }
}

fn key_schema(pk: &Attribute, sk: Option<&Attribute>) -> Vec<serde_json::Value> {
    let mut v = vec![serde_json::json!({"AttributeName": pk.name, "KeyType": "HASH"})];
    if let Some(sk) = sk {
        v.push(serde_json::json!({"AttributeName": sk.name, "KeyType": "RANGE"}));
    }
    v
}

fn throughput(billing: Billing) -> Option<t::ProvisionedThroughput> {
    match billing {
        Billing::OnDemand => None,
        Billing::Provisioned { read, write } => Some(t::ProvisionedThroughput::new(
            t::ProvisionedThroughputRequired {
                read_capacity_units: i64::from(read.min).into(),
                write_capacity_units: i64::from(write.min).into(),
            },
        )),
    }
}

impl Table {
    /// Creates the table `id` in `scope` (and its key and scaling).
    pub fn new(scope: &mut impl AsScope, id: &str, props: TableProps) -> Result<Table> {
        let mut s = scope.as_scope();
        let mut me = s.child(id)?;
        let path = me.path().clone();
        let mut defs = BTreeMap::new();
        define(&path, &mut defs, &props.partition_key, "partition_key")?;
        if let Some(sk) = &props.sort_key {
            if sk.name == props.partition_key.name {
                return Err(Error::invalid_prop(
                    &path,
                    "sort_key",
                    format!(
                        "must differ from the partition key, got {:?} for both",
                        sk.name
                    ),
                ));
            }
            define(&path, &mut defs, sk, "sort_key")?;
        }
        if let Some(name) = &props.name {
            check_name(&path, "name", name)?;
        }
        if let Billing::Provisioned { read, write } = props.billing {
            check_capacity(&path, "billing.read", read)?;
            check_capacity(&path, "billing.write", write)?;
        }
        if props.global_secondary_indexes.len() > MAX_GLOBAL_SECONDARY_INDEXES {
            return Err(Error::invalid_prop(
                &path,
                "global_secondary_indexes",
                format!(
                    "must be at most {MAX_GLOBAL_SECONDARY_INDEXES}, got {}",
                    props.global_secondary_indexes.len()
                ),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut indexes = Vec::new();
        for gsi in &props.global_secondary_indexes {
            let prop = format!("global_secondary_indexes[{}]", gsi.name);
            check_name(&path, &prop, &gsi.name)?;
            if !names.insert(gsi.name.as_str()) {
                return Err(Error::invalid_prop(
                    &path,
                    "global_secondary_indexes",
                    format!("must have unique names, got {:?} twice", gsi.name),
                ));
            }
            define(&path, &mut defs, &gsi.partition_key, &prop)?;
            if let Some(sk) = &gsi.sort_key {
                define(&path, &mut defs, sk, &prop)?;
            }
            let projection = match &gsi.projection {
                Projection::All => t::Projection {
                    projection_type: Some(t::ProjectionType::All.into()),
                    ..t::Projection::new()
                },
                Projection::KeysOnly => t::Projection {
                    projection_type: Some(t::ProjectionType::KeysOnly.into()),
                    ..t::Projection::new()
                },
                Projection::Include(attrs) => t::Projection {
                    projection_type: Some(t::ProjectionType::Include.into()),
                    non_key_attributes: Some(Value::Literal(
                        attrs.iter().map(|a| Value::from(a.as_str())).collect(),
                    )),
                },
            };
            let schema: Vec<t::KeySchema> = key_schema(&gsi.partition_key, gsi.sort_key.as_ref())
                .into_iter()
                .map(|k| {
                    t::KeySchema::new(t::KeySchemaRequired {
                        attribute_name: k["AttributeName"].as_str().unwrap_or_default().into(),
                        key_type: k["KeyType"].as_str().unwrap_or_default().into(),
                    })
                })
                .collect();
            indexes.push(t::GlobalSecondaryIndex {
                provisioned_throughput: throughput(props.billing),
                ..t::GlobalSecondaryIndex::new(gsi.name.as_str(), schema, projection)
            });
        }
        if let Some(ttl) = &props.ttl_attribute
            && (ttl.is_empty() || ttl.len() > 255)
        {
            return Err(Error::invalid_prop(
                &path,
                "ttl_attribute",
                format!("must be 1..=255 characters, got {ttl:?}"),
            ));
        }
        let key = match props.encryption_key {
            Some(k) => k,
            None => EncryptionKey::new(
                &mut me,
                "Key",
                EncryptionKeyProps {
                    description: Some(format!("Encrypts the table {path}")),
                    ..Default::default()
                },
            )?,
        };
        let stream_view = props.stream.map(|v| match v {
            StreamView::KeysOnly => t::StreamViewType::KeysOnly,
            StreamView::NewImage => t::StreamViewType::NewImage,
            StreamView::OldImage => t::StreamViewType::OldImage,
            StreamView::NewAndOldImages => t::StreamViewType::NewAndOldImages,
        });
        let table = me.add_with(
            "Table",
            CfnTable {
                table_name: props.name.as_deref().map(Value::from),
                attribute_definitions: Some(
                    defs.iter()
                        .map(|(n, ty)| t::AttributeDefinition::new(n.as_str(), ty.cfn()))
                        .collect(),
                ),
                billing_mode: Some(
                    match props.billing {
                        Billing::OnDemand => t::BillingMode::PayPerRequest,
                        Billing::Provisioned { .. } => t::BillingMode::Provisioned,
                    }
                    .into(),
                ),
                provisioned_throughput: throughput(props.billing),
                point_in_time_recovery_specification: Some(t::PointInTimeRecoverySpecification {
                    point_in_time_recovery_enabled: Some(props.point_in_time_recovery.into()),
                    ..t::PointInTimeRecoverySpecification::new()
                }),
                sse_specification: Some(t::SseSpecification {
                    kms_master_key_id: Some(key.arn()),
                    sse_type: Some(t::SseType::Kms.into()),
                    ..t::SseSpecification::new(true)
                }),
                deletion_protection_enabled: Some(props.deletion_protection.into()),
                time_to_live_specification: props.ttl_attribute.as_ref().map(|a| {
                    t::TimeToLiveSpecification {
                        attribute_name: Some(a.as_str().into()),
                        ..t::TimeToLiveSpecification::new(true)
                    }
                }),
                stream_specification: stream_view.map(t::StreamSpecification::new),
                global_secondary_indexes: (!indexes.is_empty()).then_some(indexes),
                ..CfnTable::new(serde_json::Value::Array(key_schema(
                    &props.partition_key,
                    props.sort_key.as_ref(),
                )))
            },
            ResourceOptions::policy(props.removal_policy),
        )?;
        if let Billing::Provisioned { read, write } = props.billing {
            let table_id = format!("table/${{{}}}", table.logical_id());
            add_scaling(&mut me, "Table", &table_id, read, write, false)?;
            for gsi in &props.global_secondary_indexes {
                let id: String = gsi
                    .name
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                add_scaling(
                    &mut me,
                    &format!("Index{id}"),
                    &format!("{table_id}/index/{}", gsi.name),
                    read,
                    write,
                    true,
                )?;
            }
        }
        Ok(Table {
            table,
            key,
            path,
            has_indexes: !props.global_secondary_indexes.is_empty(),
            has_stream: props.stream.is_some(),
        })
    }

    /// The table resource.
    pub fn handle(&self) -> &Handle<CfnTable> {
        &self.table
    }

    /// The table name (`Ref`).
    pub fn name(&self) -> Value<String> {
        self.table.ref_()
    }

    /// The table ARN.
    pub fn arn(&self) -> Value<String> {
        self.table.attr_arn()
    }

    /// The stream ARN, if the table has a stream.
    pub fn stream_arn(&self) -> Option<Value<String>> {
        self.has_stream.then(|| self.table.attr_stream_arn())
    }

    /// The key encrypting the table.
    pub fn encryption_key(&self) -> &EncryptionKey {
        &self.key
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The table ARN and, when it has indexes, `<arn>/index/*`.
    fn data_arns(&self) -> Vec<Value<String>> {
        let mut v = vec![self.arn()];
        if self.has_indexes {
            v.push(Intrinsic::sub(format!("${{{}.Arn}}/index/*", self.table.logical_id())).into());
        }
        v
    }

    /// Lets `grantee` read items: [`READ_DATA_ACTIONS`] on the table (and
    /// its indexes), [`KEY_READ_ACTIONS`] on its key through DynamoDB.
    pub fn grant_read_data(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        grant(
            scope,
            grantee,
            "ReadData",
            &self.path,
            vec![
                PolicyStatement::allow(READ_DATA_ACTIONS, self.data_arns()),
                key_statement(&self.key, &KEY_READ_ACTIONS, "dynamodb"),
            ],
        )
    }

    /// Lets `grantee` write items: [`WRITE_DATA_ACTIONS`] on the table (and
    /// its indexes), [`KEY_WRITE_ACTIONS`] on its key through DynamoDB.
    pub fn grant_write_data(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        grant(
            scope,
            grantee,
            "WriteData",
            &self.path,
            vec![
                PolicyStatement::allow(WRITE_DATA_ACTIONS, self.data_arns()),
                key_statement(&self.key, &KEY_WRITE_ACTIONS, "dynamodb"),
            ],
        )
    }

    /// Lets `grantee` read and write items: both sets of actions in one
    /// policy.
    pub fn grant_read_write(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let mut actions: Vec<&str> = READ_DATA_ACTIONS.to_vec();
        actions.extend(
            WRITE_DATA_ACTIONS
                .iter()
                .filter(|a| !READ_DATA_ACTIONS.contains(a)),
        );
        actions.sort_unstable();
        grant(
            scope,
            grantee,
            "ReadWrite",
            &self.path,
            vec![
                PolicyStatement::allow(actions, self.data_arns()),
                key_statement(&self.key, &KEY_WRITE_ACTIONS, "dynamodb"),
            ],
        )
    }

    /// The statements of a stream reader: [`STREAM_READ_ACTIONS`] on the
    /// stream, `dynamodb:ListStreams` on `"*"` (it has no resource-level
    /// permissions: AWS authorizes it on `*` only) and `kms:Decrypt` on the
    /// key through DynamoDB. `None` without a stream.
    pub(crate) fn stream_statements(&self) -> Option<Vec<PolicyStatement>> {
        let stream = self.stream_arn()?;
        Some(vec![
            PolicyStatement::allow(STREAM_READ_ACTIONS, [stream]),
            PolicyStatement::allow(["dynamodb:ListStreams"], ["*"]),
            key_statement(&self.key, &KEY_READ, "dynamodb"),
        ])
    }

    /// Lets `grantee` read the table's stream (see the statements above).
    /// An error when the table has no stream.
    pub fn grant_stream_read(
        &self,
        scope: &mut impl AsScope,
        grantee: &dyn Grantee,
    ) -> Result<Handle<CfnPolicy>> {
        let st = self.stream_statements().ok_or_else(|| {
            Error::invalid_prop(
                &self.path,
                "stream",
                "is not set, so there is no stream to read; set TableProps::stream",
            )
        })?;
        grant(scope, grantee, "StreamRead", &self.path, st)
    }
}

fn add_scaling(
    me: &mut Scope<'_>,
    id: &str,
    resource_id: &str,
    read: Capacity,
    write: Capacity,
    index: bool,
) -> Result<()> {
    let dims = [
        (
            "Read",
            read,
            if index {
                ScalableDimension::DynamodbIndexReadCapacityUnits
            } else {
                ScalableDimension::DynamodbTableReadCapacityUnits
            },
            Predefined::DynamoDbReadCapacityUtilization,
        ),
        (
            "Write",
            write,
            if index {
                ScalableDimension::DynamodbIndexWriteCapacityUnits
            } else {
                ScalableDimension::DynamodbTableWriteCapacityUnits
            },
            Predefined::DynamoDbWriteCapacityUtilization,
        ),
    ];
    for (what, c, dimension, metric) in dims {
        if c.max == c.min {
            continue;
        }
        let target = me.add(
            &format!("{id}{what}Scaling"),
            ScalableTarget::new(ScalableTargetRequired {
                resource_id: Intrinsic::sub(resource_id).into(),
                service_namespace: ServiceNamespace::Dynamodb.into(),
                scalable_dimension: dimension.into(),
                min_capacity: i64::from(c.min).into(),
                max_capacity: i64::from(c.max).into(),
            }),
        )?;
        let name = format!("{}-{id}{what}", me.path().ids().join("-"));
        me.add(
            &format!("{id}{what}Tracking"),
            ScalingPolicy {
                scaling_target_id: Some(target.ref_()),
                target_tracking_scaling_policy_configuration: Some(
                    TargetTrackingScalingPolicyConfiguration {
                        predefined_metric_specification: Some(PredefinedMetricSpecification::new(
                            metric,
                        )),
                        ..TargetTrackingScalingPolicyConfiguration::new(f64::from(
                            c.target_utilization_percent,
                        ))
                    },
                ),
                ..ScalingPolicy::new(name, PolicyType::TargetTrackingScaling)
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use serde_json::json;

    fn stack() -> Stack {
        Stack::new("khs", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn err(props: TableProps) -> String {
        Table::new(&mut stack(), "Orders", props)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_are_on_demand_encrypted_recoverable_and_retained() {
        let mut st = stack();
        let table =
            Table::new(&mut st, "Orders", TableProps::new(Attribute::string("pk"))).unwrap();
        assert!(table.stream_arn().is_none());
        let t = st.synth().unwrap();
        let r = &t.resources["OrdersTable"];
        assert_eq!(r.deletion_policy, Some(DeletionPolicy::Retain));
        assert_eq!(r.update_replace_policy, Some(DeletionPolicy::Retain));
        let p = &r.properties;
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            p["KeySchema"],
            json!([{"AttributeName": "pk", "KeyType": "HASH"}])
        );
        assert_eq!(
            p["AttributeDefinitions"],
            json!([{"AttributeName": "pk", "AttributeType": "S"}])
        );
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
        assert_eq!(p["SSESpecification"]["SSEType"], "KMS");
        assert_eq!(
            p["SSESpecification"]["KMSMasterKeyId"],
            json!({"Fn::GetAtt": ["OrdersKey", "Arn"]})
        );
        assert_eq!(p["DeletionProtectionEnabled"], true);
        assert!(p.get("StreamSpecification").is_none());
        assert!(p.get("ProvisionedThroughput").is_none());
    }

    #[test]
    fn indexes_streams_ttl_and_provisioned_scaling() {
        let mut st = stack();
        let table = Table::new(
            &mut st,
            "Orders",
            TableProps {
                sort_key: Some(Attribute::number("createdAt")),
                billing: Billing::Provisioned {
                    read: Capacity::scaled(5, 50),
                    write: Capacity::fixed(5),
                },
                ttl_attribute: Some("expiresAt".into()),
                stream: Some(StreamView::NewAndOldImages),
                global_secondary_indexes: vec![GlobalSecondaryIndex {
                    projection: Projection::Include(vec!["total".into()]),
                    ..GlobalSecondaryIndex::new("byStatus", Attribute::string("status"))
                }],
                ..TableProps::new(Attribute::string("customerId"))
            },
        )
        .unwrap();
        assert!(table.stream_arn().is_some());
        let t = st.synth().unwrap();
        let p = &t.resources["OrdersTable"].properties;
        assert_eq!(p["BillingMode"], "PROVISIONED");
        assert_eq!(
            p["ProvisionedThroughput"],
            json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
        );
        assert_eq!(p["AttributeDefinitions"].as_array().unwrap().len(), 3);
        assert_eq!(
            p["TimeToLiveSpecification"],
            json!({"AttributeName": "expiresAt", "Enabled": true})
        );
        assert_eq!(
            p["StreamSpecification"]["StreamViewType"],
            "NEW_AND_OLD_IMAGES"
        );
        let gsi = &p["GlobalSecondaryIndexes"][0];
        assert_eq!(gsi["IndexName"], "byStatus");
        assert_eq!(
            gsi["Projection"],
            json!({"NonKeyAttributes": ["total"], "ProjectionType": "INCLUDE"})
        );
        assert_eq!(gsi["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
        let target = &t.resources["OrdersTableReadScaling"].properties;
        assert_eq!(
            target["ResourceId"],
            json!({"Fn::Sub": "table/${OrdersTable}"})
        );
        assert_eq!(
            target["ScalableDimension"],
            "dynamodb:table:ReadCapacityUnits"
        );
        assert_eq!(target["MaxCapacity"], 50);
        let idx = &t.resources["OrdersIndexbyStatusReadScaling"].properties;
        assert_eq!(
            idx["ResourceId"],
            json!({"Fn::Sub": "table/${OrdersTable}/index/byStatus"})
        );
        assert!(!t.resources.contains_key("OrdersTableWriteScaling"));
        let pol = &t.resources["OrdersTableReadTracking"].properties;
        assert_eq!(
            pol["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
            70.0
        );
    }

    #[test]
    fn read_write_grant_covers_the_indexes_and_the_key() {
        let mut st = stack();
        let table = Table::new(
            &mut st,
            "Orders",
            TableProps {
                global_secondary_indexes: vec![GlobalSecondaryIndex::new(
                    "byStatus",
                    Attribute::string("status"),
                )],
                stream: Some(StreamView::NewImage),
                ..TableProps::new(Attribute::string("pk"))
            },
        )
        .unwrap();
        let role = crate::iam::create_role(
            &mut st,
            "Api",
            crate::iam::RoleProps::new("lambda.amazonaws.com"),
        )
        .unwrap();
        let api = crate::serverless::grant::RoleGrantee::new(
            role,
            ConstructPath::root("khs").child("Api").unwrap(),
        );
        table.grant_read_write(&mut st, &api).unwrap();
        table.grant_stream_read(&mut st, &api).unwrap();
        let t = st.synth().unwrap();
        let s = &t.resources["ApiReadWriteOrders"].properties["PolicyDocument"]["Statement"];
        assert_eq!(s[0]["Action"].as_array().unwrap().len(), 10);
        assert_eq!(
            s[0]["Resource"],
            json!([{"Fn::GetAtt": ["OrdersTable", "Arn"]}, {"Fn::Sub": "${OrdersTable.Arn}/index/*"}])
        );
        let s = &t.resources["ApiStreamReadOrders"].properties["PolicyDocument"]["Statement"];
        assert_eq!(
            s[0]["Resource"],
            json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]})
        );
        assert_eq!(s[1]["Action"], "dynamodb:ListStreams");
        assert!(crate::iam::check_template(&serde_json::to_value(&t).unwrap()).is_empty());
    }

    #[test]
    fn fails_when_an_attribute_has_two_types() {
        let e = err(TableProps {
            global_secondary_indexes: vec![GlobalSecondaryIndex::new(
                "byPk",
                Attribute::number("pk"),
            )],
            ..TableProps::new(Attribute::string("pk"))
        });
        assert_eq!(
            e,
            "khs/Orders: global_secondary_indexes[byPk] declares \"pk\" as Number, but another key declares it as String; one attribute has one type"
        );
    }

    #[test]
    fn fails_when_the_sort_key_repeats_the_partition_key() {
        let e = err(TableProps {
            sort_key: Some(Attribute::string("pk")),
            ..TableProps::new(Attribute::string("pk"))
        });
        assert!(
            e.starts_with("khs/Orders: sort_key must differ from the partition key"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_capacity_is_zero_or_reversed() {
        let e = err(TableProps {
            billing: Billing::Provisioned {
                read: Capacity::scaled(10, 5),
                write: Capacity::fixed(1),
            },
            ..TableProps::new(Attribute::string("pk"))
        });
        assert_eq!(
            e,
            "khs/Orders: billing.read must have 1 <= min <= max, got min 10 and max 5"
        );
        let e = err(TableProps {
            billing: Billing::Provisioned {
                read: Capacity::fixed(1),
                write: Capacity {
                    min: 1,
                    max: 2,
                    target_utilization_percent: 95,
                },
            },
            ..TableProps::new(Attribute::string("pk"))
        });
        assert!(
            e.starts_with("khs/Orders: billing.write target_utilization_percent must be 20..=90"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_index_names_repeat_or_are_invalid() {
        let e = err(TableProps {
            global_secondary_indexes: vec![
                GlobalSecondaryIndex::new("byA", Attribute::string("a")),
                GlobalSecondaryIndex::new("byA", Attribute::string("b")),
            ],
            ..TableProps::new(Attribute::string("pk"))
        });
        assert!(
            e.starts_with("khs/Orders: global_secondary_indexes must have unique names"),
            "{e}"
        );
        let e = err(TableProps {
            global_secondary_indexes: vec![GlobalSecondaryIndex::new("x", Attribute::string("a"))],
            ..TableProps::new(Attribute::string("pk"))
        });
        assert!(
            e.starts_with("khs/Orders: global_secondary_indexes[x] must be 3..=255"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_there_are_more_than_twenty_indexes() {
        let e = err(TableProps {
            global_secondary_indexes: (0..21)
                .map(|i| GlobalSecondaryIndex::new(format!("index{i}"), Attribute::string("a")))
                .collect(),
            ..TableProps::new(Attribute::string("pk"))
        });
        assert_eq!(
            e,
            "khs/Orders: global_secondary_indexes must be at most 20, got 21"
        );
    }

    #[test]
    fn fails_when_a_stream_grant_has_no_stream() {
        let mut st = stack();
        let table =
            Table::new(&mut st, "Orders", TableProps::new(Attribute::string("pk"))).unwrap();
        let role = crate::iam::create_role(
            &mut st,
            "Api",
            crate::iam::RoleProps::new("lambda.amazonaws.com"),
        )
        .unwrap();
        let api = crate::serverless::grant::RoleGrantee::new(
            role,
            ConstructPath::root("khs").child("Api").unwrap(),
        );
        let e = table
            .grant_stream_read(&mut st, &api)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("khs/Orders: stream is not set"), "{e}");
    }
}
