//! The core of khs-constructs: template model, intrinsic functions, values,
//! construct paths, logical IDs, stacks and apps, errors and validation.
//!
//! The core knows nothing about constructs or about particular AWS resource
//! types beyond the [`resource::ResourceSpec`] metadata that the generated
//! typed layer (the `khs-cfn` crate, `khs_constructs::cfn`) supplies. Users
//! normally reach it as `khs_constructs::core`.

pub mod app;
pub mod asset;
pub mod error;
pub mod intrinsic;
pub mod json_scan;
pub mod json_text;
pub mod logical_id;
pub mod parallel;
pub mod path;
pub mod references;
pub mod regions;
pub mod resource;
pub mod rules;
pub mod scope;
pub mod stack;
pub mod template;
pub mod timings;
pub mod validate;
pub mod value;

pub use error::{Error, Result};
