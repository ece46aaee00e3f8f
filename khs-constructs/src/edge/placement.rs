//! [`Edge`]: the resources CloudFront needs in us-east-1 (the viewer
//! certificate and the `CLOUDFRONT` web ACL), placed there whatever the
//! region of the stage.
//!
//! - When the main stack is in us-east-1, `Edge` adds a [`Certificate`] and a
//!   [`Waf`] to it under `<id>/Certificate` and `<id>/Waf`, and hands out
//!   direct references.
//! - Otherwise it makes a second stack, `<main>-edge` in us-east-1 (same
//!   account and tags), adds them there, and hands out references to them
//!   that the main stack uses like any handle of another stack:
//!   [`App::synth`](crate::core::app::App::synth) gives the edge stack one
//!   output per ARN and the main stack one `String` parameter per ARN that
//!   the deploy client fills from that output (template metadata
//!   `khs:parameter-sources`), and deploys the edge stack first:
//!
//!   ```json
//!   {"KhsCrmStagingEdgeEdgeCertificateCertificate": {"Stack": "khs-crm-staging-edge", "Region": "us-east-1", "Output": "ExportEdgeCertificateCertificate"}}
//!   ```
//!
//!   CloudFormation exports, `Fn::ImportValue` and SSM dynamic references
//!   only work within one region, hence parameters filled at deploy time
//!   (see [`parameter_sources`] and `khs_constructs::core::references`).
//!   The edge stack must be added to the app: [`Edge::take_stack`];
//!   forgetting it fails synthesis, naming the edge stack.
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::network::dns::{CertificateProps, HostedZoneRef};
//! use khs_constructs::edge::placement::{Edge, EdgeProps};
//! use khs_constructs::edge::waf::WafProps;
//!
//! let mut app = App::new();
//! let mut main = Stack::new("khs-crm-staging", StackProps::new(Environment::region("us-west-2"))).unwrap();
//! let zone = HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "example.org").unwrap();
//! let mut edge = Edge::new(&mut main, "Edge", EdgeProps {
//!     certificate: Some(CertificateProps::new("staging.example.org", zone)),
//!     waf: Some(WafProps::default()),
//!     stack_name: None,
//!     regional_certificate: false,
//! }).unwrap();
//! assert!(edge.certificate().is_some());
//! let edge_stack = edge.take_stack().unwrap();
//! assert_eq!(edge_stack.env().region, "us-east-1");
//! app.add_stack(edge_stack).unwrap();
//! app.add_stack(main).unwrap();
//! assert_eq!(app.synth().unwrap().len(), 2);
//! ```

use std::collections::BTreeMap;

use crate::core::error::{Error, Result};
use crate::core::scope::AsScope;
use crate::core::stack::{Environment, Stack, StackProps};
use crate::core::template::Template;
use crate::edge::waf::{CLOUDFRONT_REGION, Waf, WafProps, WafScope, WebAclRef};
use crate::network::dns::{Certificate, CertificateProps, CertificateRef};

/// The template metadata key listing parameters filled from other stacks'
/// outputs.
pub use crate::core::references::PARAMETER_SOURCES_KEY;

/// Props of an [`Edge`].
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeProps {
    /// The viewer certificate of the distribution.
    ///
    /// Default: - no certificate.
    pub certificate: Option<CertificateProps>,
    /// The distribution's web ACL (its scope must be `CLOUDFRONT`).
    ///
    /// Default: - no web ACL.
    pub waf: Option<WafProps>,
    /// The name of the us-east-1 stack when one is needed.
    ///
    /// Default: - `<main stack name>-edge`.
    pub stack_name: Option<String>,
    /// Also provide a certificate for the same names in the main stack's
    /// region (for the load balancer's HTTPS listener behind CloudFront):
    /// the viewer certificate itself when the main stack is in us-east-1,
    /// else a second certificate `<id>/RegionalCertificate` in the main
    /// stack. Needs `certificate`.
    ///
    /// Default: `false`.
    pub regional_certificate: bool,
}

/// Where a parameter's value comes from: an output of another stack.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterSource {
    /// The stack holding the output.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// The output's logical id.
    pub output: String,
}

/// The parameters of `template` that must be filled from other stacks'
/// outputs at deploy time, by parameter name (empty when none).
pub fn parameter_sources(template: &Template) -> BTreeMap<String, ParameterSource> {
    template
        .metadata
        .get(PARAMETER_SOURCES_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// The certificate and web ACL of a distribution, in us-east-1.
#[derive(Debug)]
pub struct Edge {
    certificate: Option<CertificateRef>,
    regional_certificate: Option<CertificateRef>,
    web_acl: Option<WebAclRef>,
    stack: Option<Stack>,
}

impl Edge {
    /// Creates the edge resources for the distribution of `main`, in `main`
    /// itself when it is in us-east-1, else in a new us-east-1 stack (see
    /// the module documentation).
    pub fn new(main: &mut Stack, id: &str, props: EdgeProps) -> Result<Edge> {
        if props.regional_certificate && props.certificate.is_none() {
            return Err(Error::invalid_prop(
                format!("{}/{id}", main.name()),
                "regional_certificate",
                "needs certificate (the names to certify), got no certificate",
            ));
        }
        if let Some(waf) = &props.waf {
            if waf.scope != WafScope::CloudFront {
                return Err(Error::invalid_prop(
                    format!("{}/{id}", main.name()),
                    "waf.scope",
                    "must be CLOUDFRONT for the web acl of a distribution, got REGIONAL",
                ));
            }
        }
        let regional_props = props
            .regional_certificate
            .then(|| props.certificate.clone())
            .flatten();
        if main.env().region == CLOUDFRONT_REGION {
            let mut s = main.as_scope();
            let mut me = s.child(id)?;
            let certificate = props
                .certificate
                .map(|c| Certificate::new(&mut me, "Certificate", c).map(|c| c.reference()))
                .transpose()?;
            let web_acl = props
                .waf
                .map(|w| Waf::new(&mut me, "Waf", w).map(|w| w.reference()))
                .transpose()?;
            let regional_certificate = regional_props.and(certificate.clone());
            return Ok(Edge {
                certificate,
                regional_certificate,
                web_acl,
                stack: None,
            });
        }

        let name = props
            .stack_name
            .clone()
            .unwrap_or_else(|| format!("{}-edge", main.name()));
        let env = Environment {
            account: main.env().account.clone(),
            region: CLOUDFRONT_REGION.to_string(),
        };
        let mut edge = Stack::new(
            &name,
            StackProps {
                description: Some(format!(
                    "CloudFront certificate and web ACL for {} (CloudFront reads them only in {CLOUDFRONT_REGION})",
                    main.name()
                )),
                tags: main.props().tags.clone(),
                termination_protection: main.props().termination_protection,
                ..StackProps::new(env)
            },
        )?;
        // The certificate and the web ACL are used from the main stack like
        // any handle of another stack: `App::synth` gives the edge stack an
        // output per ARN and the main stack a parameter the deploy client
        // fills from it (exports do not cross regions), and orders the edge
        // stack first (see `khs_constructs::core::references`).
        let mut certificate = None;
        let mut regional_certificate = None;
        let mut web_acl = None;
        {
            let mut es = edge.as_scope();
            let mut me = es.child(id)?;
            if let Some(c) = regional_props {
                let mut main_scope = main.as_scope();
                let mut main_me = main_scope.child(id)?;
                regional_certificate =
                    Some(Certificate::new(&mut main_me, "RegionalCertificate", c)?.reference());
            }
            if let Some(c) = props.certificate {
                certificate = Some(Certificate::new(&mut me, "Certificate", c)?.reference());
            }
            if let Some(w) = props.waf {
                web_acl = Some(Waf::new(&mut me, "Waf", w)?.reference());
            }
        }
        Ok(Edge {
            certificate,
            regional_certificate,
            web_acl,
            stack: Some(edge),
        })
    }

    /// The certificate, usable in the main stack.
    pub fn certificate(&self) -> Option<&CertificateRef> {
        self.certificate.as_ref()
    }

    /// The certificate in the main stack's region (see
    /// [`EdgeProps::regional_certificate`]).
    pub fn regional_certificate(&self) -> Option<&CertificateRef> {
        self.regional_certificate.as_ref()
    }

    /// The web ACL, usable in the main stack.
    pub fn web_acl(&self) -> Option<&WebAclRef> {
        self.web_acl.as_ref()
    }

    /// Whether the resources live in a separate us-east-1 stack.
    pub fn is_split(&self) -> bool {
        self.stack.is_some()
    }

    /// The us-east-1 stack to add to the app, once (`None` when the main
    /// stack is in us-east-1 or the stack was taken already).
    pub fn take_stack(&mut self) -> Option<Stack> {
        self.stack.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::app::App;
    use crate::edge::cdn::{Cdn, CdnProps};
    use crate::network::dns::HostedZoneRef;

    fn props() -> EdgeProps {
        EdgeProps {
            certificate: Some(CertificateProps::new(
                "app.khscrm.com",
                HostedZoneRef::from_id("Z0123456789ABCDEFGHIJ", "khscrm.com").unwrap(),
            )),
            waf: Some(WafProps::default()),
            stack_name: None,
            regional_certificate: true,
        }
    }

    fn main(region: &str) -> Stack {
        Stack::new("khs-crm-x", StackProps::new(Environment::region(region))).unwrap()
    }

    fn cdn(main: &mut Stack, edge: &Edge) {
        Cdn::new(
            main,
            "Cdn",
            CdnProps {
                aliases: vec!["app.khscrm.com".into()],
                certificate: edge.certificate().cloned(),
                web_acl: edge.web_acl().cloned(),
                ..CdnProps::default()
            },
        )
        .unwrap();
    }

    #[test]
    fn stays_in_the_main_stack_in_us_east_1() {
        let mut m = main("us-east-1");
        let mut edge = Edge::new(&mut m, "Edge", props()).unwrap();
        assert!(!edge.is_split());
        assert!(edge.take_stack().is_none());
        assert_eq!(edge.regional_certificate(), edge.certificate());
        cdn(&mut m, &edge);
        let t = m.synth().unwrap();
        assert!(t.resources.contains_key("EdgeCertificateCertificate"));
        assert!(t.resources.contains_key("EdgeWafWebAcl"));
        assert!(t.parameters.is_empty());
        assert!(parameter_sources(&t).is_empty());
    }

    #[test]
    fn splits_into_a_us_east_1_stack_elsewhere() {
        let mut m = main("eu-west-1");
        let mut edge = Edge::new(&mut m, "Edge", props()).unwrap();
        assert!(edge.is_split());
        let regional = edge.regional_certificate().unwrap();
        assert_eq!(regional.region(), "eu-west-1");
        assert_eq!(
            regional.arn(),
            &crate::core::value::Value::from(crate::core::intrinsic::Intrinsic::ref_(
                "khs-crm-x/EdgeRegionalCertificateCertificate"
            ))
        );
        cdn(&mut m, &edge);
        let edge_stack = edge.take_stack().unwrap();
        assert_eq!(edge_stack.name(), "khs-crm-x-edge");
        assert_eq!(edge_stack.env().region, "us-east-1");
        let mut app = App::new();
        app.add_stack(m).unwrap();
        app.add_stack(edge_stack).unwrap();
        let out = app.synth().unwrap();
        assert_eq!(out[0].name, "khs-crm-x-edge", "edge deploys first");
        let e = &out[0].template;
        assert!(e.resources.contains_key("EdgeCertificateCertificate"));
        assert!(e.outputs.contains_key("ExportEdgeCertificateCertificate"));
        assert!(e.outputs.contains_key("ExportEdgeWafWebAclArn"));
        assert!(
            e.outputs.values().all(|o| o.export.is_none()),
            "no export across regions"
        );
        let m = &out[1];
        assert_eq!(m.depends_on, ["khs-crm-x-edge"]);
        assert!(!m.template.resources.contains_key("EdgeWafWebAcl"));
        let sources = parameter_sources(&m.template);
        assert_eq!(
            sources["KhsCrmXEdgeEdgeWafWebAclArn"],
            ParameterSource {
                stack: "khs-crm-x-edge".into(),
                region: "us-east-1".into(),
                output: "ExportEdgeWafWebAclArn".into()
            }
        );
        let cfg = serde_json::to_value(&m.template.resources["CdnDistribution"]).unwrap();
        assert_eq!(
            cfg["Properties"]["DistributionConfig"]["WebACLId"],
            serde_json::json!({"Ref": "KhsCrmXEdgeEdgeWafWebAclArn"})
        );
        assert_eq!(
            cfg["Properties"]["DistributionConfig"]["ViewerCertificate"]["AcmCertificateArn"],
            serde_json::json!({"Ref": "KhsCrmXEdgeEdgeCertificateCertificate"})
        );
    }

    #[test]
    fn fails_when_the_edge_stack_is_not_added_to_the_app() {
        let mut m = main("eu-west-1");
        let edge = Edge::new(&mut m, "Edge", props()).unwrap();
        cdn(&mut m, &edge);
        let mut app = App::new();
        app.add_stack(m).unwrap();
        let e = app.synth().unwrap_err().to_string();
        assert_eq!(
            e,
            "khs-crm-x/Cdn/Distribution: uses Ref of EdgeCertificateCertificate of stack \"khs-crm-x-edge\", which is not in the app (its stacks: khs-crm-x); add that stack to the App before synthesizing"
        );
    }

    #[test]
    fn fails_when_a_regional_certificate_has_no_names() {
        let mut m = main("eu-west-1");
        let e = Edge::new(
            &mut m,
            "Edge",
            EdgeProps {
                certificate: None,
                ..props()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs-crm-x/Edge: regional_certificate needs certificate (the names to certify), got no certificate"
        );
    }

    #[test]
    fn fails_when_the_waf_is_regional() {
        let mut m = main("eu-west-1");
        let e = Edge::new(
            &mut m,
            "Edge",
            EdgeProps {
                waf: Some(WafProps {
                    scope: WafScope::Regional,
                    ..WafProps::default()
                }),
                ..props()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "khs-crm-x/Edge: waf.scope must be CLOUDFRONT for the web acl of a distribution, got REGIONAL"
        );
    }
}
