//! Security building blocks: IAM policies, KMS keys, secrets, and the account baseline.

pub mod baseline;
pub mod iam;
pub mod kms;
pub mod secrets;

pub use baseline::*;
pub use iam::*;
pub use kms::*;
pub use secrets::*;
