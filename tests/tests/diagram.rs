//! The architecture diagram of the KHS app, derived from its synthesized
//! templates: the chain internet → CDN → load balancer → service → database
//! and cache with its ports, the other edges, the committed files, and an
//! SVG that a real renderer draws.

use khs_constructs::diagram::{self, Detail, Diagram, EdgeKind, INTERNET, INTERNET_OUTBOUND};
use khs_constructs::prelude::StackArtifact;

const TITLE: &str = "KHS CRM architecture";

fn artifacts() -> Vec<StackArtifact> {
    khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes")
}

fn has(d: &Diagram, from: &str, to: &str, label: &str) -> bool {
    d.labels(from, to).contains(&label)
}

#[test]
fn the_khs_chain_comes_out_with_its_ports() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Resources);
    for stack in ["khs-crm-prod", "khs-crm-staging"] {
        let cdn = format!("{stack}/Frontend/Distribution");
        let lb = format!("{stack}/ApiService/LoadBalancer");
        let service = format!("{stack}/ApiService/Service");
        let db = format!("{stack}/Database/Instance");
        let cache = format!("{stack}/Cache/ReplicationGroup");
        assert!(
            has(&d, INTERNET, &cdn, "https/443"),
            "{:?}",
            d.labels(INTERNET, &cdn)
        );
        // The origin behaviour and the security-group rule that lets only
        // CloudFront's origin-facing addresses in.
        assert!(
            has(&d, &cdn, &lb, "/api/* https/443"),
            "{:?}",
            d.labels(&cdn, &lb)
        );
        assert!(has(&d, &cdn, &lb, "tcp/443"), "{:?}", d.labels(&cdn, &lb));
        assert!(
            has(&d, &lb, &service, "tcp/3001"),
            "{:?}",
            d.labels(&lb, &service)
        );
        assert!(
            has(&d, &service, &db, "tcp/5432"),
            "{:?}",
            d.labels(&service, &db)
        );
        assert!(
            has(&d, &service, &cache, "tcp/6379"),
            "{:?}",
            d.labels(&service, &cache)
        );
        // The load balancer is internet-facing, but no rule lets the
        // internet reach it: only CloudFront does.
        assert!(
            d.labels(INTERNET, &lb).is_empty(),
            "{:?}",
            d.labels(INTERNET, &lb)
        );
        assert!(
            d.edges().all(|e| e.to != INTERNET),
            "the internet is only a source"
        );
        // The tasks reach AWS APIs over HTTPS (through the NAT gateways).
        assert!(has(&d, &service, INTERNET_OUTBOUND, "tcp/443"));
        // Listener → target group → service.
        let tg = format!("{stack}/ApiService/TargetGroup");
        assert!(has(&d, &lb, &tg, "HTTPS/443"), "{:?}", d.labels(&lb, &tg));
        assert!(
            has(&d, &tg, &service, "port 3001"),
            "{:?}",
            d.labels(&tg, &service)
        );
        // DNS alias to the distribution.
        let alias: Vec<&diagram::Edge> = d
            .edges()
            .filter(|e| e.to == cdn && e.kind == EdgeKind::Alias)
            .collect();
        assert_eq!(alias.len(), 2, "an A and an AAAA alias: {alias:?}");
    }
}

#[test]
fn constructs_are_boxes_with_the_connections_inside_listed() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Constructs);
    let api = d.node("khs-crm-prod/ApiService").expect("ApiService box");
    assert!(
        api.notes
            .iter()
            .any(|n| n == "LoadBalancer → Service: tcp/3001"),
        "{:?}",
        api.notes
    );
    assert!(has(
        &d,
        "khs-crm-prod/Frontend",
        "khs-crm-prod/ApiService",
        "tcp/443"
    ));
    assert!(has(
        &d,
        "khs-crm-prod/ApiService",
        "khs-crm-prod/Database",
        "tcp/5432"
    ));
    assert!(has(
        &d,
        "khs-crm-prod/ApiService",
        "khs-crm-prod/Cache",
        "tcp/6379"
    ));
    // Connection resources created at the stack root are edges, not boxes.
    assert!(
        d.nodes()
            .all(|n| !n.key.contains("SecurityGroupIngressFrom")),
        "a security-group rule became a box"
    );
    assert!(d.nodes().all(|n| n.type_name.is_none()));
}

#[test]
fn alarms_grants_backups_and_other_stacks_are_edges() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Constructs);
    assert!(has(
        &d,
        "khs-crm-prod/Monitoring",
        "khs-crm-prod/Alerts",
        "alarm"
    ));
    assert!(has(
        &d,
        "khs-crm-prod/ApiService",
        "khs-crm-prod/JwtSecret",
        "grant secretsmanager"
    ));
    assert!(has(
        &d,
        "khs-crm-prod/Backup",
        "khs-crm-prod/Database",
        "backs up"
    ));
    // The daily copy to the disaster-recovery vault in another region.
    assert!(has(
        &d,
        "khs-crm-prod/Backup",
        "khs-crm-prod-backup-dr/DrVault",
        "copies to us-west-2"
    ));
    // Staging's CloudFront uses the certificate and web ACL of its
    // us-east-1 edge stack, through parameters the deploy client fills in.
    let labels = d.labels("khs-crm-staging/Frontend", "khs-crm-staging-edge/Edge");
    assert!(
        labels.contains(&"web ACL (from khs-crm-staging-edge, us-east-1)")
            && labels.contains(&"TLS certificate (from khs-crm-staging-edge, us-east-1)"),
        "{labels:?}"
    );
}

#[test]
fn the_mermaid_text_is_what_it_was() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Constructs);
    insta::assert_snapshot!("architecture_constructs", d.to_mermaid());
}

#[test]
fn output_is_byte_identical_across_runs() {
    for detail in [Detail::Constructs, Detail::Resources] {
        let a = Diagram::from_artifacts(&artifacts(), detail);
        let b = Diagram::from_artifacts(&artifacts(), detail);
        assert!(a.to_mermaid() == b.to_mermaid(), "{detail} Mermaid differs");
        assert!(a.to_svg() == b.to_svg(), "{detail} SVG differs");
    }
}

/// The diagram reads what the reference check of synthesis recorded
/// (`StackArtifact::references`); an artifact without it (made by hand)
/// gets the same diagram from the references computed on the spot.
#[test]
fn recorded_references_draw_what_computed_ones_do() {
    let recorded = artifacts();
    let mut bare = recorded.clone();
    for a in &mut bare {
        assert!(
            a.references.fits(&a.template),
            "{}: references not recorded",
            a.name
        );
        assert_eq!(
            a.references,
            khs_constructs::core::validate::References::of(&a.template),
            "{}",
            a.name
        );
        a.references = Default::default();
    }
    for detail in [Detail::Constructs, Detail::Resources] {
        let a = Diagram::from_artifacts(&recorded, detail);
        let b = Diagram::from_artifacts(&bare, detail);
        assert!(a.edges().count() > 50, "{detail}: too few edges to compare");
        assert!(a == b, "{detail}: the diagrams differ");
    }
}

#[test]
fn synth_out_holds_the_current_diagram() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Constructs);
    let problems = diagram::check(&d, TITLE, &khs_tests::synth_out());
    assert!(
        problems.is_empty(),
        "{problems:?}; run `cargo run --bin synth` and commit synth-out/"
    );
}

/// Renders an SVG with resvg (fonts from the system) and returns the
/// picture and how many of its pixels are not background.
fn render(svg: &str) -> (resvg::tiny_skia::Pixmap, usize) {
    let mut options = resvg::usvg::Options::default();
    let db = options.fontdb_mut();
    db.load_system_fonts();
    // Helvetica and Arial are seldom installed on Linux; any sans-serif face
    // that is (DejaVu on this image) stands in for them.
    let sans = db
        .faces()
        .flat_map(|f| f.families.iter().map(|(name, _)| name.clone()))
        .find(|name| name.contains("Sans"));
    if let Some(sans) = sans {
        db.set_sans_serif_family(sans);
    }
    let tree = resvg::usvg::Tree::from_str(svg, &options).expect("the SVG parses");
    let size = tree.size();
    assert!(size.width() > 100.0 && size.height() > 100.0, "{size:?}");
    // At most 2400 pixels wide: enough to read, and quick to draw.
    let scale = (2400.0 / size.width()).min(1.0);
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).expect("a pixmap");
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let drawn = pixmap
        .pixels()
        .iter()
        .filter(|p| (p.red(), p.green(), p.blue()) != (255, 255, 255))
        .count();
    (pixmap, drawn)
}

#[test]
fn the_svg_renders_to_pixels() {
    let d = Diagram::from_artifacts(&artifacts(), Detail::Constructs);
    let svg = d.to_svg();
    let (pixmap, drawn) = render(&svg);
    let total = (pixmap.width() * pixmap.height()) as usize;
    // Boxes, arrows and text cover a good part of the picture, not all.
    assert!(drawn * 100 > total, "only {drawn} of {total} pixels drawn");
    assert!(drawn < total, "every pixel is drawn");
    for text in ["ApiService", "Database", "tcp/5432", "Internet"] {
        assert!(svg.contains(text), "the SVG lacks {text:?}");
    }
    let png = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("architecture.png");
    pixmap.save_png(&png).expect("PNG written");
}
