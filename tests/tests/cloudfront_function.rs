//! The SPA route function of the committed production template, run with
//! Node.js (which implements the JavaScript that `cloudfront-js-2.0` runs):
//! app routes are served `index.html`, files and the root pass as CloudFront
//! expects. Needs `node` on `PATH` (these machines have it).

use std::io::Write;
use std::process::{Command, Stdio};

use khs_tests::synth_out;

fn function_code(stack: &str) -> String {
    let path = synth_out().join(format!("{stack}.template.json"));
    let text = std::fs::read_to_string(&path).expect("read the template");
    let t: serde_json::Value = serde_json::from_str(&text).expect("template JSON");
    let functions: Vec<&serde_json::Value> = t["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == "AWS::CloudFront::Function")
        .collect();
    assert_eq!(functions.len(), 1, "one route function in {stack}");
    functions[0]["Properties"]["FunctionCode"]
        .as_str()
        .expect("inline code")
        .to_string()
}

/// Runs `handler` on a viewer request for each uri; returns the uris after.
fn run(code: &str, uris: &[&str]) -> Vec<String> {
    let script = format!(
        "{code}\nconst uris = {};\nconsole.log(JSON.stringify(uris.map(u => handler({{request: {{uri: u, method: 'GET', headers: {{}}, querystring: {{}}}}}}).uri)));\n",
        serde_json::to_string(uris).expect("json")
    );
    let mut child = Command::new("node")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node on PATH (Node.js runs the CloudFront function under test)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("uris as JSON")
}

#[test]
fn app_routes_get_index_html_and_files_pass_through() {
    for stack in ["khs-crm-prod", "khs-crm-staging"] {
        let code = function_code(stack);
        let cases = [
            ("/", "/index.html"),
            ("/customers", "/index.html"),
            ("/customers/42/edit", "/index.html"),
            ("/settings/", "/index.html"),
            ("/assets/app.3f2c1e0.js", "/assets/app.3f2c1e0.js"),
            ("/favicon.ico", "/favicon.ico"),
            ("/sw.js", "/sw.js"),
            (
                "/.well-known/assetlinks.json",
                "/.well-known/assetlinks.json",
            ),
        ];
        let uris: Vec<&str> = cases.iter().map(|(u, _)| *u).collect();
        let got = run(&code, &uris);
        for ((uri, want), got) in cases.iter().zip(&got) {
            assert_eq!(got, want, "{stack}: {uri}");
        }
    }
}
