//! The S3 port of asset publishing: the two object operations the deploy
//! engine needs to publish file assets, as a trait.
//!
//! `deploy::client` implements it over `aws-sdk-s3` (in `deploy::s3`) and
//! `deploy::fake` in memory (both with the `deploy` feature). Every method
//! is one API call, so that the engine keeps every decision: whether to
//! upload, what to say, what to refuse.

use super::port::{DeployError, Existence};

/// The S3 object operations of asset publishing.
///
/// Errors name the stack whose assets are published and the operation.
#[allow(async_fn_in_trait)]
pub trait AssetStore {
    /// `HeadObject`: whether `bucket`/`key` exists. [`Existence::Unknown`]
    /// when S3 would not say (access denied without `s3:ListBucket`, for
    /// example); the engine then uploads, which is harmless for a key named
    /// by its content hash.
    async fn object_exists(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Existence, DeployError>;

    /// `PutObject` of `body` to `bucket`/`key`.
    async fn put_object(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<(), DeployError>;
}
