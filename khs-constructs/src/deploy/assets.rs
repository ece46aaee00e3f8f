//! Asset publishing, the decisions: which file goes to which bucket and
//! key, checked against the bootstrap stack, and what a diff says about a
//! function whose code changes. Plain code over the asset manifest
//! ([`AssetManifest`], written by
//! [`crate::serverless::asset::write_assets`]); the engine does the I/O.

use std::path::{Path, PathBuf};

use super::bootstrap::{BootstrapInfo, resolve_pseudo};
use super::diff::{Action, TemplateDiff};
use crate::serverless::asset::{AssetManifest, ZIP_PACKAGING};

/// One asset to publish: a file of the manifest's folder and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// SHA-256 of the file, lowercase hex.
    pub hash: String,
    /// The packed file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// What it was packed from.
    pub source: String,
    /// The bucket (resolved for the account and region).
    pub bucket: String,
    /// The object key.
    pub key: String,
}

impl Upload {
    /// The first 12 characters of the hash, for output lines.
    pub fn short_hash(&self) -> &str {
        short_hash(&self.hash)
    }
}

/// The first 12 characters of a hash.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// `617 B`, `12.4 KiB`, `3.1 MiB`.
pub fn human_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / (KIB * KIB))
    }
}

/// The uploads of `manifest` (read from `dir`) for stack `stack` deployed
/// in `region` of the bootstrapped account `boot`. Refuses, in one sentence
/// that starts with the stack name, a manifest of another stack, a stack
/// fixed to another account than the credentials', another packaging, or
/// a bucket that is not the bootstrap's.
pub fn uploads(
    manifest: &AssetManifest,
    dir: &Path,
    stack: &str,
    region: &str,
    boot: &BootstrapInfo,
) -> Result<Vec<Upload>, String> {
    if manifest.stack != stack {
        return Err(format!(
            "{stack}: the asset manifest in {} is for stack {:?}; synthesize again",
            dir.display(),
            manifest.stack
        ));
    }
    if let Some(account) = &manifest.account {
        if *account != boot.account {
            return Err(format!(
                "{stack}: the stack is for account {account}, but the credentials are for \
                 account {} (the bootstrap stack's); log in to {account} (--profile)",
                boot.account
            ));
        }
    }
    let mut out = Vec::new();
    for a in &manifest.assets {
        if a.packaging != ZIP_PACKAGING {
            return Err(format!(
                "{stack}: asset {} has packaging {:?}; this client publishes {ZIP_PACKAGING:?} \
                 only",
                short_hash(&a.hash),
                a.packaging
            ));
        }
        let bucket = resolve_pseudo(&a.bucket, &boot.account, region);
        if bucket != boot.bucket {
            return Err(format!(
                "{stack}: asset {} goes to bucket {bucket}, but the bootstrap stack of {region} \
                 made {}; run `bootstrap` again, or synthesize with this library's asset bucket",
                short_hash(&a.hash),
                boot.bucket
            ));
        }
        out.push(Upload {
            hash: a.hash.clone(),
            path: dir.join(&a.file),
            size: a.size,
            source: a.source.clone(),
            bucket,
            key: a.key.clone(),
        });
    }
    Ok(out)
}

/// Reads an upload's file and checks that its bytes are the ones the
/// template names (their SHA-256 is the asset's hash).
#[cfg(feature = "assets")]
pub fn read_checked(stack: &str, u: &Upload) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(&u.path).map_err(|e| {
        format!(
            "{stack}: cannot read asset {} ({}): {e}; synthesize again",
            u.short_hash(),
            u.path.display()
        )
    })?;
    let hash = crate::serverless::asset::sha256_hex(&bytes);
    if hash != u.hash {
        return Err(format!(
            "{stack}: asset file {} has hash {} but the template expects {}; synthesize again",
            u.path.display(),
            short_hash(&hash),
            u.short_hash()
        ));
    }
    Ok(bytes)
}

/// One line per modified resource of `diff` whose code becomes an asset of
/// `manifest`: `<LogicalId>: new code: asset <hash> (<size>) from <source>`.
pub fn code_changes(diff: &TemplateDiff, manifest: &AssetManifest) -> Vec<String> {
    let mut out = Vec::new();
    for r in &diff.resources {
        if r.action != Action::Modify {
            continue;
        }
        for c in &r.changes {
            if !c.path.ends_with("S3Key") || c.before == c.after {
                continue;
            }
            let Some(key) = c.after.as_ref().and_then(|v| v.as_str()) else {
                continue;
            };
            if let Some(a) = manifest.assets.iter().find(|a| a.key == key) {
                out.push(format!(
                    "{}: new code: asset {} ({}) from {}",
                    r.logical_id,
                    short_hash(&a.hash),
                    human_size(a.size),
                    a.source
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serverless::asset::{ASSET_BUCKET, MANIFEST_VERSION, ManifestEntry};
    use serde_json::json;

    fn manifest(account: Option<&str>) -> AssetManifest {
        AssetManifest {
            version: MANIFEST_VERSION,
            stack: "worker".into(),
            account: account.map(str::to_string),
            region: "eu-west-1".into(),
            assets: vec![ManifestEntry {
                hash: "ab".repeat(32),
                packaging: "zip".into(),
                source: "/src/handler".into(),
                file: format!("asset.{}.zip", "ab".repeat(32)),
                size: 2048,
                bucket: ASSET_BUCKET.into(),
                key: format!("{}.zip", "ab".repeat(32)),
            }],
        }
    }

    fn boot() -> BootstrapInfo {
        BootstrapInfo {
            account: "123456789012".into(),
            bucket: "khs-assets-123456789012-eu-west-1".into(),
            version: 1,
        }
    }

    #[test]
    fn uploads_go_to_the_bootstrap_bucket_under_the_hash() {
        let u = uploads(
            &manifest(None),
            Path::new("/out"),
            "worker",
            "eu-west-1",
            &boot(),
        )
        .unwrap();
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].bucket, "khs-assets-123456789012-eu-west-1");
        assert_eq!(u[0].key, format!("{}.zip", "ab".repeat(32)));
        assert_eq!(
            u[0].path,
            Path::new("/out").join(format!("asset.{}.zip", "ab".repeat(32)))
        );
        assert_eq!(u[0].short_hash(), "abababababab");
        assert_eq!(human_size(617), "617 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn fails_when_the_account_region_or_stack_do_not_match() {
        let e = uploads(
            &manifest(Some("999999999999")),
            Path::new("/out"),
            "worker",
            "eu-west-1",
            &boot(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "worker: the stack is for account 999999999999, but the credentials are for \
             account 123456789012 (the bootstrap stack's); log in to 999999999999 (--profile)"
        );
        let e = uploads(
            &manifest(None),
            Path::new("/out"),
            "worker",
            "us-east-1",
            &boot(),
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "worker: asset abababababab goes to bucket khs-assets-123456789012-us-east-1, \
                 but the bootstrap stack of us-east-1 made khs-assets-123456789012-eu-west-1"
            ),
            "{e}"
        );
        let e = uploads(
            &manifest(None),
            Path::new("/out"),
            "other",
            "eu-west-1",
            &boot(),
        )
        .unwrap_err();
        assert!(
            e.starts_with("other: the asset manifest in /out is for stack \"worker\""),
            "{e}"
        );
    }

    #[test]
    #[cfg(feature = "assets")]
    fn fails_when_the_file_is_not_the_one_synthesized() {
        let dir = std::env::temp_dir().join(format!("khs-publish-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("asset.zip");
        std::fs::write(&path, b"bytes").unwrap();
        let hash = crate::serverless::asset::sha256_hex(b"bytes");
        let mut u = Upload {
            hash,
            path: path.clone(),
            size: 5,
            source: "/src".into(),
            bucket: "b".into(),
            key: "k".into(),
        };
        assert_eq!(read_checked("worker", &u).unwrap(), b"bytes");
        u.hash = "00".repeat(32);
        let e = read_checked("worker", &u).unwrap_err();
        assert!(e.starts_with("worker: asset file "), "{e}");
        assert!(
            e.ends_with("but the template expects 000000000000; synthesize again"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
        let e = read_checked("worker", &u).unwrap_err();
        assert!(
            e.starts_with("worker: cannot read asset 000000000000"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_new_asset_key_is_named_as_new_code() {
        let m = manifest(None);
        let code = |key: &str| {
            json!({"Resources": {"WorkerFunction": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": {"Fn::Sub": ASSET_BUCKET}, "S3Key": key}}}}})
        };
        let old = code("old.zip");
        let new = code(&m.assets[0].key);
        let d = super::super::diff::diff_templates(Some(&old), &new, &Default::default());
        assert_eq!(
            code_changes(&d, &m),
            ["WorkerFunction: new code: asset abababababab (2.0 KiB) from /src/handler"]
        );
        let same = super::super::diff::diff_templates(Some(&new), &new, &Default::default());
        assert!(code_changes(&same, &m).is_empty());
    }
}
