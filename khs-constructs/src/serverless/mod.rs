//! Serverless compute and data: [`function::Function`] (Lambda),
//! [`table::Table`] (DynamoDB), the [`grant`]s that connect them to other
//! constructs with least privilege, and the [`asset`] packing that ships
//! local code.

pub mod asset;
pub mod function;
pub mod grant;
pub mod table;
