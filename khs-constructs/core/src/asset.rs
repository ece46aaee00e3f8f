//! File assets: local files a template needs published before it deploys
//! (the code of a Lambda function, for example).
//!
//! The core only records them: a construct that packs a file or directory
//! (see `khs_constructs::serverless::asset`) registers a [`FileAsset`] with
//! [`crate::scope::Scope::add_file_asset`]; [`crate::app::StackArtifact::assets`]
//! lists them after synthesis, and the asset manifest written beside the
//! templates tells the deploy client what to upload where.

use std::path::PathBuf;

/// One file asset of a stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileAsset {
    /// The SHA-256 of the published bytes, lowercase hex: the asset's id.
    pub hash: String,
    /// The file or directory it is packed from.
    pub source: PathBuf,
    /// How it is packed (`zip`: a deterministic zip of the file or of the
    /// directory's tree).
    pub packaging: String,
    /// The object key the template expects it under (`<hash>.zip`).
    pub object_key: String,
}
