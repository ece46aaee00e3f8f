//! Object storage: S3 buckets with secure defaults ([`Bucket`]).

pub mod bucket;

pub use bucket::*;
