//! File assets against moto_server on 127.0.0.1: `bootstrap`, then a
//! stack with a function from a local directory, a queue and a table
//! (`tests/src/assets_app.rs`, run through its binary `khs-test-assets`
//! exactly as a user runs an app's binary), then a code change that
//! updates only the function. moto's Lambda reads the code from its own S3
//! at CreateFunction/UpdateFunctionCode, so a function that deploys proves
//! the asset was uploaded where the template says.
//!
//! Run with `cargo test -p khs-tests --features deploy --test deploy_assets`.

use std::path::{Path, PathBuf};
use std::process::Command;

use khs_constructs::serverless::asset::pack;
use khs_tests::assets_app::{FUNCTION, STACK};
use khs_tests::cli_run::{Run, expect_code, expect_out, run};
use khs_tests::moto::MotoServer;

const BUCKET: &str = "khs-assets-123456789012-us-east-1";

fn khs(moto: &MotoServer, handler: &Path, args: &[&str]) -> Run {
    let handler = handler.display().to_string();
    run(
        env!("CARGO_BIN_EXE_khs-test-assets"),
        moto,
        &[("KHS_TEST_HANDLER", handler.as_str())],
        args,
    )
}

/// A handler directory whose `index.py` returns `n`.
struct Handler(PathBuf);

impl Handler {
    fn new(port: u16) -> Handler {
        let d = std::env::temp_dir().join(format!("khs-assets-test-{port}"));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("handler dir");
        Handler(d)
    }
    fn returns(&self, n: u32) -> String {
        std::fs::write(
            self.0.join("index.py"),
            format!("def handler(event, context):\n    return {n}\n"),
        )
        .expect("write the handler");
        pack(&self.0).expect("pack").hash
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An unsigned REST call to moto's Lambda.
fn lambda(m: &MotoServer, path: &str) -> serde_json::Value {
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, \
                SignedHeaders=host, Signature=0";
    let body = m
        .request("GET", path, None, &[("Authorization", auth)])
        .expect(path);
    serde_json::from_str(&body).expect("lambda json")
}

/// The stack's resources as (logical id, physical id), from
/// `DescribeStackResources`.
fn physical_ids(m: &MotoServer) -> Vec<(String, String)> {
    let xml = m
        .query(
            "cloudformation",
            &format!("DescribeStackResources&StackName={STACK}"),
            "2010-05-15",
        )
        .expect("DescribeStackResources");
    let field = |member: &str, tag: &str| -> String {
        member
            .split(&format!("<{tag}>"))
            .nth(1)
            .and_then(|s| s.split(&format!("</{tag}>")).next())
            .unwrap_or_default()
            .to_string()
    };
    let mut out: Vec<(String, String)> = xml
        .split("<member>")
        .skip(1)
        .map(|m| {
            (
                field(m, "LogicalResourceId"),
                field(m, "PhysicalResourceId"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Base64 of the SHA-256 given in hex (Lambda's `CodeSha256`).
fn code_sha256(hex: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The deployed function: (name, CodeSha256).
fn function(m: &MotoServer) -> (String, String) {
    let list = lambda(m, "/2015-03-31/functions/");
    let functions = list["Functions"].as_array().expect("Functions");
    assert_eq!(functions.len(), 1, "{list}");
    (
        functions[0]["FunctionName"]
            .as_str()
            .expect("name")
            .to_string(),
        functions[0]["CodeSha256"]
            .as_str()
            .expect("CodeSha256")
            .to_string(),
    )
}

#[test]
fn bootstraps_publishes_assets_and_updates_only_the_function_on_new_code() {
    let m = MotoServer::start()
        .map_err(|e| format!("the deploy tests need moto_server: {e}"))
        .expect("moto_server");
    m.reset().expect("reset moto");
    let handler = Handler::new(m.port);
    let h1 = handler.returns(1);

    // Not bootstrapped: refused before any change set, naming the command.
    let r = khs(&m, &handler.0, &["deploy", STACK]);
    expect_code(&r, 1);
    expect_out(&r, "us-east-1 of this account is not bootstrapped");
    expect_out(
        &r,
        "run `bootstrap` first (e.g. `khs bootstrap --region us-east-1`)",
    );
    assert!(
        !m.query("cloudformation", "ListStacks", "2010-05-15")
            .expect("ListStacks")
            .contains(STACK),
        "nothing may be created before the assets are published"
    );

    // Bootstrap, then bootstrap again: nothing changes.
    let r = khs(&m, &handler.0, &["bootstrap"]);
    expect_code(&r, 0);
    expect_out(&r, "Stack khs-bootstrap (us-east-1): create");
    expect_out(
        &r,
        &format!(
            "Bootstrapped us-east-1 (account 123456789012): assets go to s3://{BUCKET} \
             (bootstrap version 1)."
        ),
    );
    assert!(m.s3("GET", "/").expect("ListBuckets").contains(BUCKET));
    let r = khs(&m, &handler.0, &["bootstrap"]);
    expect_code(&r, 0);
    expect_out(&r, "khs-bootstrap: no changes.");
    // Other settings update the bucket in place (no replacement, no
    // refusal by the data-loss guard).
    let r = khs(
        &m,
        &handler.0,
        &["bootstrap", "--kms", "--noncurrent-version-days", "10"],
    );
    expect_code(&r, 0);
    expect_out(&r, "Modify  AssetsBucket");
    expect_out(&r, "khs-bootstrap: UPDATE_COMPLETE");
    assert!(m.s3("GET", "/").expect("ListBuckets").contains(BUCKET));

    // The first deployment uploads the asset, then creates the stack.
    let r = khs(&m, &handler.0, &["deploy", STACK]);
    expect_code(&r, 0);
    expect_out(&r, &format!("{STACK}: 1 asset(s) for s3://{BUCKET}"));
    expect_out(
        &r,
        &format!(
            "from {}: uploaded to s3://{BUCKET}/{h1}.zip",
            handler.0.display()
        ),
    );
    let upload = r.out.find("uploaded to s3://").expect("upload line");
    let create = r.out.find("Change set").unwrap_or(usize::MAX);
    assert!(upload < create, "upload after the change set:\n{}", r.out);
    expect_out(&r, &format!("{STACK}: CREATE_COMPLETE"));
    let objects = m
        .s3("GET", &format!("/{BUCKET}?list-type=2"))
        .expect("ListObjectsV2");
    assert!(
        objects.contains(&format!("<Key>{h1}.zip</Key>")),
        "{objects}"
    );
    let (name, sha) = function(&m);
    assert_eq!(sha, code_sha256(&h1), "the function runs the published zip");
    let before = physical_ids(&m);
    assert!(before.iter().any(|(id, _)| id == FUNCTION), "{before:?}");
    assert!(before.iter().any(|(id, _)| id == "JobsQueue"), "{before:?}");
    assert!(
        before.iter().any(|(id, _)| id == "ResultsTable"),
        "{before:?}"
    );

    // Deployed again unchanged: the key is there, nothing is uploaded.
    let r = khs(&m, &handler.0, &["deploy", STACK]);
    expect_code(&r, 0);
    expect_out(&r, "already published, skipped");
    expect_out(&r, &format!("{STACK}: no changes."));

    // New code: `diff` shows a change of the function's code, and only that.
    let h2 = handler.returns(2);
    assert_ne!(h1, h2);
    let r = khs(&m, &handler.0, &["diff", STACK]);
    expect_code(&r, 0);
    expect_out(&r, "Resources: 0 to add, 1 to modify, 0 to remove");
    expect_out(&r, &format!("~ {FUNCTION}"));
    expect_out(&r, "~ Code.S3Key:");
    expect_out(
        &r,
        &format!("note: {FUNCTION}: new code: asset {} (", &h2[..12]),
    );
    let modified: Vec<&str> = r.out.lines().filter(|l| l.starts_with("~ ")).collect();
    assert_eq!(modified.len(), 1, "{modified:?}");

    // Deployed: the new zip is uploaded; the function keeps its name and
    // runs the new code; the queue, the table and every other resource
    // keep their physical ids.
    let r = khs(&m, &handler.0, &["deploy", STACK]);
    expect_code(&r, 0);
    expect_out(&r, &format!("uploaded to s3://{BUCKET}/{h2}.zip"));
    expect_out(&r, &format!("{STACK}: UPDATE_COMPLETE"));
    let (name2, sha2) = function(&m);
    assert_eq!(name2, name, "the function is updated in place");
    assert_eq!(sha2, code_sha256(&h2));
    assert_eq!(physical_ids(&m), before);
}

#[test]
fn bootstrap_help_explains_what_it_creates() {
    // The app (which packs its handler) is built before the arguments are
    // parsed.
    let handler = Handler::new(0);
    handler.returns(1);
    let out = Command::new(env!("CARGO_BIN_EXE_khs-test-assets"))
        .args(["bootstrap", "--help"])
        .env("KHS_TEST_HANDLER", &handler.0)
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "khs-bootstrap",
        "khs-assets-<account>-<region>",
        "SSE-S3",
        "--kms",
        "versioned",
        "public access block",
        "TLS",
        "retained",
        "Running it again changes nothing",
        "--noncurrent-version-days",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}
