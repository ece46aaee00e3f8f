//! A static site at `www.example.org`: a private bucket behind CloudFront,
//! a WAF web ACL, the certificate and the DNS records. CloudFront reads its
//! certificate and web ACL in us-east-1, so the stack is there.
//!
//! ```text
//! cargo run -p khs-constructs --example static_site -- out/
//! ```
//!
//! writes `out/www-example-org.template.json`.

use std::process::ExitCode;

use khs_constructs::network::cloudfront_alias_records;
use khs_constructs::prelude::*;

/// The app: one stack, `www-example-org`.
pub fn app() -> Result<App> {
    let mut stack = Stack::new(
        "www-example-org",
        StackProps::new(Environment::region("us-east-1")),
    )?;
    let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org")?;
    let certificate = Certificate::new(
        &mut stack,
        "Certificate",
        CertificateProps::new("www.example.org", zone.clone()),
    )?;
    let waf = Waf::new(&mut stack, "Waf", WafProps::default())?;
    let site = Cdn::new(
        &mut stack,
        "Site",
        CdnProps {
            aliases: vec!["www.example.org".to_string()],
            certificate: Some(certificate.reference()),
            web_acl: Some(waf.reference()),
            ..CdnProps::default()
        },
    )?;
    cloudfront_alias_records(
        &mut stack,
        "Dns",
        &zone,
        "www.example.org",
        site.distribution(),
    )?;
    stack.as_scope().add_output(
        "BucketName",
        Output::new("Where the site's files go", site.bucket().name()),
    )?;

    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    khs_constructs::synth::main("static_site", app)
}
