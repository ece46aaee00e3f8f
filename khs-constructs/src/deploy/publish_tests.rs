//! Bootstrap and asset publishing, driven through the in-memory fake: a
//! function from a local directory, synthesized and packed by the library,
//! its manifest written as the CLI writes it.

// Test helpers fail the test with the transcript.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bootstrap::{BOOTSTRAP_STACK, BootstrapProps};
use super::engine::{Cancel, DeployOptions, DiffOptions, DriftMode, Engine, Failure, StackSpec};
use super::fake::{FakeCloud, Transcript};
use crate::prelude::*;
use crate::serverless::asset::write_assets;

const REGION: &str = "eu-west-1";
const STACK: &str = "worker";
const BUCKET: &str = "khs-assets-123456789012-eu-west-1";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A scratch folder with a handler directory `src/` and an output folder.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("khs-publish-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("src")).expect("scratch");
        Scratch(d)
    }
    fn code(&self, body: &str) {
        std::fs::write(self.0.join("src/index.py"), body).expect("write handler");
    }
    fn out(&self) -> PathBuf {
        self.0.join("out")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The stack's spec and its asset hash, with the manifest written to `out`.
fn synth(src: &Path, out: &Path) -> (StackSpec, String) {
    let mut stack = Stack::new(STACK, StackProps::new(Environment::region(REGION))).expect("stack");
    let f = Function::new(
        &mut stack,
        "Worker",
        FunctionProps::new(Runtime::Python3_13, "index.handler", Code::asset(src)),
    )
    .expect("function");
    let hash = f.asset().expect("an asset").hash.clone();
    let mut app = App::new();
    app.add_stack(stack).expect("app");
    let artifacts = app.synth().expect("synth");
    write_assets(&artifacts, out).expect("write assets");
    let template = serde_json::from_str(&artifacts[0].json).expect("json");
    (StackSpec::new(STACK, REGION, template), hash)
}

fn engine(cloud: &FakeCloud, spec: StackSpec, out: &Path) -> Engine<FakeCloud> {
    let mut e = Engine::new(vec![spec], cloud.clone(), Cancel::new()).with_asset_dir(out);
    e.poll = Duration::ZERO;
    e
}

fn opts() -> DeployOptions {
    DeployOptions {
        drift: DriftMode::Skip,
        ..DeployOptions::default()
    }
}

fn deploy(
    cloud: &FakeCloud,
    spec: StackSpec,
    out: &Path,
    o: DeployOptions,
) -> (Transcript, Result<(), Failure>) {
    let mut t = Transcript::default();
    let r = block_on(engine(cloud, spec, out).deploy(&mut t, &[], &o, &Default::default()));
    (t, r)
}

fn no_change_set_for_worker(cloud: &FakeCloud) -> bool {
    !cloud
        .calls_of("CreateChangeSet")
        .iter()
        .any(|c| c.starts_with("CreateChangeSet worker"))
}

fn bootstrap(cloud: &FakeCloud) -> (Transcript, Result<(), Failure>) {
    let mut t = Transcript::default();
    let spec = StackSpec::new("unused", REGION, serde_json::json!({}));
    let mut e = Engine::new(vec![spec], cloud.clone(), Cancel::new());
    e.poll = Duration::ZERO;
    let r = block_on(e.bootstrap(&mut t, &[REGION.to_string()], &BootstrapProps::default()));
    (t, r)
}

#[test]
fn fails_when_the_region_is_not_bootstrapped_and_names_the_command() {
    let s = Scratch::new("unbootstrapped");
    s.code("def handler(e, c):\n    return 1\n");
    let (spec, _) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    let (t, r) = deploy(&cloud, spec, &s.out(), opts());
    let Err(Failure::Message(m)) = r else {
        panic!("not refused: {r:?}\n{}", t.text());
    };
    assert_eq!(
        m,
        "worker: has file assets to publish, but eu-west-1 of this account is not bootstrapped \
         (no stack khs-bootstrap); run `bootstrap` first (e.g. `khs bootstrap --region \
         eu-west-1`), which creates the staging bucket assets are uploaded to"
    );
    assert!(
        cloud.calls_of("CreateChangeSet").is_empty(),
        "{:?}",
        cloud.operations()
    );
    assert!(cloud.calls_of("PutObject").is_empty());
}

#[test]
fn bootstrap_creates_the_stack_once_and_a_second_run_changes_nothing() {
    let cloud = FakeCloud::new();
    let (t, r) = bootstrap(&cloud);
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    let text = t.text();
    assert!(
        text.contains("Stack khs-bootstrap (eu-west-1): create"),
        "{text}"
    );
    assert!(text.contains("AssetsBucket"), "{text}");
    assert!(
        text.contains(
            "Bootstrapped eu-west-1 (account 123456789012): assets go to \
             s3://khs-assets-123456789012-eu-west-1 (bootstrap version 1)."
        ),
        "{text}"
    );
    let s = cloud
        .stack(REGION, BOOTSTRAP_STACK)
        .expect("bootstrap stack");
    assert_eq!(s.status, "CREATE_COMPLETE");
    let (t, r) = bootstrap(&cloud);
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    assert!(
        t.text().contains("khs-bootstrap: no changes."),
        "{}",
        t.text()
    );
    assert_eq!(cloud.calls_of("ExecuteChangeSet").len(), 1);
}

#[test]
fn deploy_uploads_missing_assets_before_the_change_set_and_skips_present_ones() {
    let s = Scratch::new("publish");
    s.code("def handler(e, c):\n    return 1\n");
    let (spec, hash) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    assert!(bootstrap(&cloud).1.is_ok());
    let (t, r) = deploy(&cloud, spec.clone(), &s.out(), opts());
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    let key = format!("{BUCKET}/{hash}.zip");
    let calls = cloud.world.borrow().calls.clone();
    let head = calls
        .iter()
        .position(|c| *c == format!("HeadObject worker {key}"))
        .expect("HeadObject first");
    let put = calls
        .iter()
        .position(|c| *c == format!("PutObject worker {key}"))
        .expect("then PutObject");
    let create = calls
        .iter()
        .position(|c| c.starts_with("CreateChangeSet worker"))
        .expect("then the change set");
    assert!(head < put && put < create, "{calls:?}");
    // The object holds the packed bytes the template names.
    let bytes = cloud
        .world
        .borrow()
        .objects
        .get(&key)
        .cloned()
        .expect("object");
    let file = std::fs::read(s.out().join(format!("asset.{hash}.zip"))).expect("zip");
    assert_eq!(bytes, file);
    let text = t.text();
    assert!(
        text.contains("worker: 1 asset(s) for s3://khs-assets-123456789012-eu-west-1"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  [1/1] asset {} (", &hash[..12]))
            && text.contains(&format!(": uploaded to s3://{key}")),
        "{text}"
    );
    assert!(
        text.contains("worker: assets published (1 uploaded, 0 already there)."),
        "{text}"
    );
    // Deployed again: the key is there, nothing is uploaded.
    let (t, r) = deploy(&cloud, spec, &s.out(), opts());
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    assert!(
        t.text().contains("already published, skipped"),
        "{}",
        t.text()
    );
    assert_eq!(cloud.calls_of("PutObject").len(), 1);
}

#[test]
fn a_code_change_is_a_new_key_shown_by_diff_and_published_by_deploy() {
    let s = Scratch::new("change");
    s.code("def handler(e, c):\n    return 1\n");
    let (v1, h1) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    assert!(bootstrap(&cloud).1.is_ok());
    assert!(deploy(&cloud, v1, &s.out(), opts()).1.is_ok());
    s.code("def handler(e, c):\n    return 2\n");
    let (v2, h2) = synth(&s.0.join("src"), &s.out());
    assert_ne!(h1, h2);
    let mut t = Transcript::default();
    let r = block_on(engine(&cloud, v2.clone(), &s.out()).diff(
        &mut t,
        STACK,
        &Default::default(),
        &DiffOptions {
            drift: DriftMode::Skip,
            ..DiffOptions::default()
        },
    ));
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    let text = t.text();
    assert!(
        text.contains("Resources: 0 to add, 1 to modify, 0 to remove"),
        "{text}"
    );
    assert!(text.contains("~ WorkerFunction"), "{text}");
    assert!(text.contains("~ Code.S3Key:"), "{text}");
    assert!(
        text.contains(&format!(
            "note: WorkerFunction: new code: asset {} (",
            &h2[..12]
        )),
        "{text}"
    );
    let (t, r) = deploy(&cloud, v2, &s.out(), opts());
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    assert!(
        cloud
            .world
            .borrow()
            .objects
            .contains_key(&format!("{BUCKET}/{h2}.zip"))
    );
    assert_eq!(cloud.calls_of("PutObject").len(), 2);
}

#[test]
fn a_dry_run_uploads_nothing_and_says_what_it_would_upload() {
    let s = Scratch::new("dry");
    s.code("def handler(e, c):\n    return 1\n");
    let (spec, hash) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    assert!(bootstrap(&cloud).1.is_ok());
    let (t, r) = deploy(
        &cloud,
        spec,
        &s.out(),
        DeployOptions {
            dry_run: true,
            ..opts()
        },
    );
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    assert!(
        t.text()
            .contains(&format!("would be uploaded to s3://{BUCKET}/{hash}.zip")),
        "{}",
        t.text()
    );
    assert!(cloud.calls_of("PutObject").is_empty());
}

#[test]
fn fails_when_the_upload_fails_or_the_file_changed() {
    let s = Scratch::new("fail");
    s.code("def handler(e, c):\n    return 1\n");
    let (spec, hash) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    assert!(bootstrap(&cloud).1.is_ok());
    cloud.world.borrow_mut().fail_next.insert(
        "PutObject".into(),
        "NoSuchBucket: The specified bucket does not exist".into(),
    );
    let (t, r) = deploy(&cloud, spec.clone(), &s.out(), opts());
    let Err(Failure::Message(m)) = r else {
        panic!("not failed: {r:?}\n{}", t.text());
    };
    assert!(
        m.starts_with("worker: PutObject failed: NoSuchBucket: The specified bucket does not exist; the staging bucket is made by `bootstrap`"),
        "{m}"
    );
    assert!(no_change_set_for_worker(&cloud), "{:?}", cloud.operations());
    // A zip that is not the one synthesized is refused before any upload.
    std::fs::write(s.out().join(format!("asset.{hash}.zip")), b"other bytes").expect("write");
    let (t, r) = deploy(&cloud, spec, &s.out(), opts());
    let Err(Failure::Message(m)) = r else {
        panic!("not failed: {r:?}\n{}", t.text());
    };
    assert!(m.contains("but the template expects"), "{m}");
    assert!(no_change_set_for_worker(&cloud), "{:?}", cloud.operations());
}

#[test]
fn fails_when_there_is_no_region_to_bootstrap() {
    let cloud = FakeCloud::new();
    let mut e = Engine::new(Vec::new(), cloud.clone(), Cancel::new());
    let mut t = Transcript::default();
    let r = block_on(e.bootstrap(&mut t, &[], &BootstrapProps::default()));
    let Err(Failure::Message(m)) = r else {
        panic!("not refused: {r:?}");
    };
    assert_eq!(
        m,
        "bootstrap: no region to bootstrap (the app has no stacks); pass --region REGION"
    );
    assert!(cloud.operations().is_empty());
}

#[test]
fn an_object_s3_will_not_describe_is_uploaded_anyway() {
    let s = Scratch::new("unknown");
    s.code("def handler(e, c):\n    return 1\n");
    let (spec, hash) = synth(&s.0.join("src"), &s.out());
    let cloud = FakeCloud::new();
    assert!(bootstrap(&cloud).1.is_ok());
    cloud.world.borrow_mut().objects_unreadable = true;
    let (t, r) = deploy(&cloud, spec, &s.out(), opts());
    assert!(r.is_ok(), "{r:?}\n{}", t.text());
    assert!(
        t.text().contains(&format!(
            "  [1/1] asset {}: cannot tell whether it is there (HeadObject: 403 Forbidden); \
             uploading",
            &hash[..12]
        )),
        "{}",
        t.text()
    );
    assert_eq!(cloud.calls_of("PutObject").len(), 1);
}
