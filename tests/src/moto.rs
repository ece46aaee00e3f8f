//! A `moto_server` on a free loopback port for the deploy tests: started on
//! demand, reset between tests, killed on drop.
//!
//! It runs `tests/moto/khs_moto_server.py`, moto's own server with four
//! fixes where moto 5.2.5's CloudFormation departs from AWS's (tagged KMS
//! keys, `Ref` to a DB parameter group, route tables on DeleteStack, outputs
//! after ExecuteChangeSet; the script says why each is needed). The Python is `$KHS_MOTO_PYTHON`, else
//! `.venv/bin/python` at the workspace root, else `python3` on `PATH`; it
//! must import `moto`. Without one the tests fail with a message saying how
//! to install it. Only 127.0.0.1 is ever used.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto_server.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    /// Closing it (on drop, or when the test process dies) stops moto.
    lifeline: Option<ChildStdin>,
    /// The port on 127.0.0.1.
    pub port: u16,
}

/// The launcher script: moto's server with the fixes described in it.
pub fn launcher() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("moto/khs_moto_server.py")
}

/// The Python that runs moto, or why there is none.
pub fn find_moto_python() -> Result<PathBuf, String> {
    let install = "install it with `python3 -m venv .venv && .venv/bin/pip install -r \
                   requirements-dev.txt` at the workspace root (scripts/test.sh does this)";
    let candidate = if let Ok(p) = std::env::var("KHS_MOTO_PYTHON") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(format!("KHS_MOTO_PYTHON={} is not a file", p.display()));
        }
        p
    } else {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
        if venv.is_file() {
            venv
        } else {
            PathBuf::from("python3")
        }
    };
    let has_moto = Command::new(&candidate)
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if has_moto {
        Ok(candidate)
    } else {
        Err(format!(
            "{} cannot import moto.server: set KHS_MOTO_PYTHON to a Python with \
             `moto[server]`, or {install}",
            candidate.display()
        ))
    }
}

impl MotoServer {
    /// Starts moto_server on a free port and waits until it answers.
    /// Requested ACM certificates are issued at once
    /// (`MOTO_ACM_VALIDATION_WAIT=0`), as after their DNS validation.
    pub fn start() -> Result<MotoServer, String> {
        MotoServer::start_with(&[("MOTO_ACM_VALIDATION_WAIT", "0")])
    }

    /// Starts moto_server with these environment variables (moto's
    /// settings, such as `MOTO_ACM_VALIDATION_WAIT`).
    pub fn start_with(env: &[(&str, &str)]) -> Result<MotoServer, String> {
        let python = find_moto_python()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
            .port();
        // A shell watchdog: moto runs until the shell's stdin closes, which
        // also happens when the test process is killed, so no server outlives
        // its test.
        let mut child = Command::new("sh")
            .args([
                "-c",
                "\"$0\" \"$1\" -H 127.0.0.1 -p \"$2\" >/dev/null 2>&1 & pid=$!; read _; kill $pid; wait $pid",
            ])
            .arg(&python)
            .arg(launcher())
            .arg(port.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let lifeline = child.stdin.take();
        let server = MotoServer {
            child,
            lifeline,
            port,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if server.request("GET", "/moto-api/", None, &[]).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "{} {} did not answer on 127.0.0.1:{port} within 30 s",
            python.display(),
            launcher().display()
        ))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Wipes every resource (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), String> {
        self.request("POST", "/moto-api/reset", Some(""), &[])
            .map(|_| ())
    }

    /// An unsigned query-API call (EC2, RDS, …): moto only reads the service
    /// and region from the credential scope of the Authorization header.
    pub fn query(&self, service: &str, action: &str, version: &str) -> Result<String, String> {
        self.query_in("us-east-1", service, action, version)
    }

    /// [`MotoServer::query`] in another region.
    pub fn query_in(
        &self,
        region: &str,
        service: &str,
        action: &str,
        version: &str,
    ) -> Result<String, String> {
        let auth = auth_header_in(region, service);
        self.request(
            "GET",
            &format!("/?Action={action}&Version={version}"),
            None,
            &[("Authorization", auth.as_str())],
        )
    }

    /// An unsigned JSON-API call (ECS, …) with `X-Amz-Target`.
    pub fn json(&self, service: &str, target: &str, body: &str) -> Result<String, String> {
        let auth = auth_header(service);
        self.request(
            "POST",
            "/",
            Some(body),
            &[
                ("Authorization", auth.as_str()),
                ("X-Amz-Target", target),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
        )
    }

    /// An unsigned S3 call (`GET /` lists buckets, `PUT /name` creates one).
    pub fn s3(&self, method: &str, path: &str) -> Result<String, String> {
        let auth = auth_header("s3");
        let body = (method == "PUT").then_some("");
        self.request(method, path, body, &[("Authorization", auth.as_str())])
    }

    /// One HTTP/1.1 request; returns the body of a 2xx answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<String, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        req.push_str(body.unwrap_or_default());
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&resp).into_owned();
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        if (200..300).contains(&status) {
            Ok(body.to_string())
        } else {
            Err(format!("{method} {path}: HTTP {status}: {body}"))
        }
    }
}

fn auth_header(service: &str) -> String {
    auth_header_in("us-east-1", service)
}

fn auth_header_in(region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.child.wait();
    }
}
