//! The KHS stacks under the built-in rule packs: no finding is left
//! unresolved, no acknowledgement is stale, and every acknowledged finding
//! (construct path, rule, reason) is listed in a reviewed snapshot, so an
//! acknowledgement cannot appear or change without a diff a reviewer reads.

#[test]
fn every_stack_is_clean_under_the_built_in_rules() {
    let artifacts = khs_app::app()
        .expect("app builds")
        .synth()
        .expect("no error-level finding is left unacknowledged");
    for a in &artifacts {
        let open: Vec<String> = a.rules.findings.iter().map(ToString::to_string).collect();
        assert!(
            open.is_empty(),
            "{}: unresolved findings:\n{}",
            a.name,
            open.join("\n")
        );
        let stale: Vec<String> = a.rules.stale.iter().map(ToString::to_string).collect();
        assert!(
            stale.is_empty(),
            "{}: stale acknowledgements:\n{}",
            a.name,
            stale.join("\n")
        );
    }
}

#[test]
fn acknowledged_findings_match_the_reviewed_list() {
    let artifacts = khs_app::app().expect("app builds").synth().expect("synth");
    for a in &artifacts {
        let mut lines: Vec<String> = a
            .rules
            .acknowledged
            .iter()
            .map(|f| format!("{} {}: {}", f.finding.path, f.finding.rule_id, f.reason))
            .collect();
        lines.sort();
        insta::assert_snapshot!(format!("acknowledged__{}", a.name), lines.join("\n"));
    }
}
