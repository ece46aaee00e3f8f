//! [`AssetStore`] over `aws-sdk-s3`: the S3 half of the SDK client
//! ([`super::client::Client`]), for publishing file assets.

use aws_sdk_s3::error::ProvideErrorMetadata;

use super::client::Client;
use super::port::{DeployError, Existence};
use super::s3_port::AssetStore;

fn s3_error<E, R>(
    stack: &str,
    operation: &'static str,
    bucket: &str,
    key: &str,
    err: aws_sdk_s3::error::SdkError<E, R>,
) -> DeployError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let message = match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
    };
    DeployError::Api {
        stack: stack.to_string(),
        operation,
        message: format!("{message} (s3://{bucket}/{key})"),
        source: Box::new(err),
    }
}

impl AssetStore for Client {
    async fn object_exists(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Existence, DeployError> {
        match self.s3().head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(Existence::Exists),
            Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
                Some(404) => Ok(Existence::Missing),
                // Without s3:ListBucket, S3 answers 403 for a missing key.
                Some(403) => Ok(Existence::Unknown(
                    "HeadObject: 403 Forbidden (no s3:ListBucket or s3:GetObject)".to_string(),
                )),
                _ => Err(s3_error(stack, "HeadObject (asset)", bucket, key, e)),
            },
        }
    }

    async fn put_object(
        &self,
        stack: &str,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<(), DeployError> {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/zip")
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .map_err(|e| s3_error(stack, "PutObject (asset)", bucket, key, e))?;
        Ok(())
    }
}
