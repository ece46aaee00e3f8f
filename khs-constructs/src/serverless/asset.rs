//! File assets, synthesis side: deterministic packing, content-hash names
//! and the asset manifest written beside the templates.
//!
//! [`pack`] zips a file (one entry, its file name) or a directory (every
//! regular file below it, by relative path with `/` separators) so that the
//! same content gives the same bytes whatever the file times, the order the
//! file system lists entries in, the user or the machine: entries sorted by
//! path, every time stamp 1980-01-01 00:00:00 (the zip epoch), permissions
//! `0644` (`0755` for files with an execute bit), no directory entries, no
//! extra fields, Deflate at level 6. The asset's id is the SHA-256 of those
//! bytes; the template expects it as the object `<hash>.zip` in the
//! staging bucket [`ASSET_BUCKET`] of the stack's account and region.
//!
//! After synthesis, [`write_assets`] writes, for each stack with assets,
//! `asset.<hash>.zip` and `<stack>.assets.json` into the output folder (the
//! manifest format is documented on [`AssetManifest`]). The deploy client
//! uploads every listed file to `bucket`/`key` before it creates the change
//! set, skipping keys that are already there.

#[cfg(feature = "assets")]
use std::io::Write;
use std::path::Path;
#[cfg(feature = "assets")]
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
#[cfg(feature = "assets")]
use sha2::{Digest, Sha256};

use crate::core::app::StackArtifact;
use crate::core::asset::FileAsset;
use crate::core::error::{Error, Result};

/// The staging bucket assets are published to, as a `Fn::Sub` template:
/// one per account and region, made by `khs bootstrap`.
pub const ASSET_BUCKET: &str = "khs-assets-${AWS::AccountId}-${AWS::Region}";

/// The packaging of zipped assets.
pub const ZIP_PACKAGING: &str = "zip";

/// The version of the manifest format.
pub const MANIFEST_VERSION: u32 = 1;

/// A packed asset: its bytes and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedAsset {
    /// The zip bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lowercase hex.
    pub hash: String,
}

impl PackedAsset {
    /// The object key the template expects: `<hash>.zip`.
    pub fn object_key(&self) -> String {
        format!("{}.zip", self.hash)
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(feature = "assets")]
/// Every regular file below `dir`, as (relative path with `/`, absolute path).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io_error(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .map_err(|e| io_error(&path, e))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        } else {
            return Err(io_error(
                &path,
                "is a symbolic link or special file; assets pack regular files and directories only (copy the target in)",
            ));
        }
    }
    Ok(())
}

#[cfg(all(unix, feature = "assets"))]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(all(not(unix), feature = "assets"))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// Packs `source` (a file or a directory) into deterministic zip bytes.
///
/// Needs the `assets` feature (on by default); without it this returns an
/// error saying so.
#[cfg(feature = "assets")]
pub fn pack(source: &Path) -> Result<PackedAsset> {
    let meta = std::fs::metadata(source).map_err(|e| io_error(source, e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        walk(source, source, &mut files)?;
        if files.is_empty() {
            return Err(io_error(
                source,
                "is an empty directory; an asset needs at least one file",
            ));
        }
    } else {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| io_error(source, "has no file name"))?;
        files.push((name, source.to_path_buf()));
    }
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, path) in &files {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(if is_executable(&meta) { 0o755 } else { 0o644 })
            .large_file(false);
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        zip.start_file(name.as_str(), options)
            .map_err(|e| io_error(path, e))?;
        zip.write_all(&bytes).map_err(|e| io_error(path, e))?;
    }
    let bytes = zip.finish().map_err(|e| io_error(source, e))?.into_inner();
    let hash = sha256_hex(&bytes);
    Ok(PackedAsset { bytes, hash })
}

/// The SHA-256 of `bytes` in lowercase hex: an asset's id.
#[cfg(feature = "assets")]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Packs `source`: without the `assets` feature, an error that says how to
/// turn it on.
#[cfg(not(feature = "assets"))]
pub fn pack(source: &Path) -> Result<PackedAsset> {
    Err(io_error(
        source,
        "needs the `assets` feature of khs-constructs to be zipped (on by default, turned off \
         in this build): add `features = [\"assets\"]` to its dependency",
    ))
}

/// One entry of an [`AssetManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// SHA-256 of the file, lowercase hex.
    pub hash: String,
    /// `zip`.
    pub packaging: String,
    /// The file or directory it was packed from.
    pub source: String,
    /// The packed file, relative to the manifest's folder
    /// (`asset.<hash>.zip`).
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// The bucket it goes to, as a `Fn::Sub` template over
    /// `${AWS::AccountId}` and `${AWS::Region}` ([`ASSET_BUCKET`]).
    pub bucket: String,
    /// The object key the template expects (`<hash>.zip`).
    pub key: String,
}

/// `<stack>.assets.json`: what the deploy client publishes before it
/// deploys the stack's template.
///
/// ```json
/// {
///   "version": 1,
///   "stack": "queue-worker",
///   "account": null,
///   "region": "us-east-1",
///   "assets": [{
///     "hash": "9f…", "packaging": "zip", "source": "examples/queue_worker",
///     "file": "asset.9f….zip", "size": 412,
///     "bucket": "khs-assets-${AWS::AccountId}-${AWS::Region}",
///     "key": "9f….zip"
///   }]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetManifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The stack name.
    pub stack: String,
    /// The stack's account, when fixed.
    pub account: Option<String>,
    /// The stack's region.
    pub region: String,
    /// The assets, by hash.
    pub assets: Vec<ManifestEntry>,
}

impl AssetManifest {
    /// The manifest's file name: `<stack>.assets.json`.
    pub fn file_name(stack: &str) -> String {
        format!("{stack}.assets.json")
    }

    /// Reads `dir/<stack>.assets.json`; `None` when there is none (the
    /// stack has no assets).
    pub fn read(dir: &Path, stack: &str) -> Result<Option<AssetManifest>> {
        let path = dir.join(AssetManifest::file_name(stack));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        };
        let manifest: AssetManifest = serde_json::from_str(&text).map_err(|e| {
            io_error(
                &path,
                format!("is not an asset manifest of version {MANIFEST_VERSION}: {e}"),
            )
        })?;
        if manifest.version != MANIFEST_VERSION {
            return Err(io_error(
                &path,
                format!(
                    "is an asset manifest of version {}, this library reads version \
                     {MANIFEST_VERSION}; synthesize again",
                    manifest.version
                ),
            ));
        }
        Ok(Some(manifest))
    }
}

fn pack_checked(asset: &FileAsset) -> Result<PackedAsset> {
    let packed = pack(&asset.source)?;
    if packed.hash != asset.hash {
        return Err(io_error(
            &asset.source,
            format!(
                "changed since synthesis (hash {} then, {} now); synthesize again",
                asset.hash, packed.hash
            ),
        ));
    }
    Ok(packed)
}

/// Writes the assets of every artifact into `dir`: `asset.<hash>.zip`
/// (unless a file with the same bytes is there) and `<stack>.assets.json`
/// for each stack that has assets; removes the manifests of stacks that
/// have none and the `asset.*.zip` files no stack needs any more. Returns
/// the manifests written.
pub fn write_assets(artifacts: &[StackArtifact], dir: &Path) -> Result<Vec<AssetManifest>> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let mut out = Vec::new();
    for a in artifacts {
        let manifest_path = dir.join(AssetManifest::file_name(&a.name));
        if a.assets.is_empty() {
            if manifest_path.exists() {
                std::fs::remove_file(&manifest_path).map_err(|e| io_error(&manifest_path, e))?;
            }
            continue;
        }
        let mut entries = Vec::new();
        for asset in &a.assets {
            let packed = pack_checked(asset)?;
            let file = format!("asset.{}.zip", packed.hash);
            let path = dir.join(&file);
            let same = std::fs::read(&path).is_ok_and(|old| old == packed.bytes);
            if !same {
                std::fs::write(&path, &packed.bytes).map_err(|e| io_error(&path, e))?;
            }
            entries.push(ManifestEntry {
                hash: packed.hash.clone(),
                packaging: asset.packaging.clone(),
                source: asset.source.display().to_string(),
                file,
                size: packed.bytes.len() as u64,
                bucket: ASSET_BUCKET.to_string(),
                key: asset.object_key.clone(),
            });
        }
        let manifest = AssetManifest {
            version: MANIFEST_VERSION,
            stack: a.name.clone(),
            account: a.env.account.clone(),
            region: a.env.region.clone(),
            assets: entries,
        };
        let json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| io_error(&manifest_path, e))?
            + "\n";
        std::fs::write(&manifest_path, json).map_err(|e| io_error(&manifest_path, e))?;
        out.push(manifest);
    }
    let keep: std::collections::BTreeSet<String> = out
        .iter()
        .flat_map(|m| m.assets.iter().map(|a| a.file.clone()))
        .collect();
    for entry in std::fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("asset.") && name.ends_with(".zip") && !keep.contains(&name) {
            std::fs::remove_file(entry.path()).map_err(|e| io_error(&entry.path(), e))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[cfg(feature = "assets")]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("khs-asset-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_same_tree_packs_to_the_same_bytes_whatever_the_order_and_times() {
        let a = scratch("a");
        std::fs::create_dir_all(a.join("lib")).unwrap();
        std::fs::write(a.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        std::fs::write(a.join("lib/util.py"), "X = 1\n").unwrap();
        std::fs::write(a.join("z.txt"), "last\n").unwrap();
        // The same tree, files created in the reverse order, a second later.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = scratch("b");
        std::fs::write(b.join("z.txt"), "last\n").unwrap();
        std::fs::create_dir_all(b.join("lib")).unwrap();
        std::fs::write(b.join("lib/util.py"), "X = 1\n").unwrap();
        std::fs::write(b.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        let pa = pack(&a).unwrap();
        let pb = pack(&b).unwrap();
        assert_eq!(pa.bytes, pb.bytes);
        assert_eq!(pa.hash, pb.hash);
        assert_eq!(pa.hash.len(), 64);
        assert_eq!(pa.object_key(), format!("{}.zip", pa.hash));
        // The entries are sorted, with `/` separators and the zip epoch.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pa.bytes.clone())).unwrap();
        let names: Vec<String> = archive.file_names().map(str::to_string).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.contains(&"lib/util.py".to_string()), "{names:?}");
        let f = archive.by_name("index.py").unwrap();
        assert_eq!(f.last_modified(), Some(zip::DateTime::default()));
        assert_eq!(f.unix_mode(), Some(0o100644));
        drop(f);
        // A change of content changes the hash.
        std::fs::write(b.join("z.txt"), "changed\n").unwrap();
        assert_ne!(pack(&b).unwrap().hash, pa.hash);
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }

    #[test]
    fn a_single_file_packs_under_its_name() {
        let d = scratch("file");
        std::fs::write(d.join("main.py"), "print(1)\n").unwrap();
        let p = pack(&d.join("main.py")).unwrap();
        let archive = zip::ZipArchive::new(std::io::Cursor::new(p.bytes)).unwrap();
        assert_eq!(archive.file_names().collect::<Vec<_>>(), ["main.py"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn manifests_written_are_read_back_and_stale_ones_are_removed() {
        use crate::core::app::App;
        use crate::core::scope::AsScope;
        use crate::core::stack::{Environment, Stack, StackProps};
        let d = scratch("manifest");
        let src = d.join("handler");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        let packed = pack(&src).unwrap();
        let mut stack =
            Stack::new("worker", StackProps::new(Environment::region("eu-west-1"))).unwrap();
        stack.as_scope().add_file_asset(FileAsset {
            hash: packed.hash.clone(),
            source: src.clone(),
            packaging: ZIP_PACKAGING.to_string(),
            object_key: packed.object_key(),
        });
        let mut app = App::new();
        app.add_stack(stack).unwrap();
        let artifacts = app.synth().unwrap();
        let out = d.join("out");
        let written = write_assets(&artifacts, &out).unwrap();
        let read = AssetManifest::read(&out, "worker").unwrap().unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0], read);
        assert_eq!(read.region, "eu-west-1");
        assert_eq!(read.assets[0].key, packed.object_key());
        assert_eq!(
            std::fs::read(out.join(&read.assets[0].file)).unwrap(),
            packed.bytes
        );
        assert_eq!(AssetManifest::read(&out, "other").unwrap(), None);
        std::fs::write(out.join("worker.assets.json"), "{\"version\": 9}").unwrap();
        let e = AssetManifest::read(&out, "worker").unwrap_err().to_string();
        assert!(e.contains("is not an asset manifest of version 1"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn fails_when_the_source_is_missing_or_empty() {
        let d = scratch("empty");
        let e = pack(&d).unwrap_err().to_string();
        assert!(e.contains("is an empty directory"), "{e}");
        let e = pack(&d.join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
