//! `synth-out/` is what the code produces, and synthesis is deterministic.

use khs_constructs::prelude::App;

#[test]
fn synth_out_is_in_step_with_the_code() {
    let artifacts = khs_app::app()
        .expect("app builds")
        .synth()
        .expect("app synthesizes");
    let problems = App::check(&artifacts, &khs_tests::synth_out());
    assert!(
        problems.is_empty(),
        "synth-out/ is stale: {problems:?}; run `cargo run --bin synth` and commit synth-out/"
    );
}

#[test]
fn synthesis_is_byte_identical_across_runs() {
    let a = khs_app::app().expect("app builds").synth().expect("synth");
    let b = khs_app::app().expect("app builds").synth().expect("synth");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.name, y.name);
        assert!(x.json == y.json, "{} differs between two runs", x.name);
    }
}

#[test]
fn every_stack_has_the_production_figures_of_the_seed() {
    let artifacts = khs_app::app().expect("app builds").synth().expect("synth");
    let prod = artifacts
        .iter()
        .find(|a| a.name == "khs-crm-prod")
        .expect("production stack");
    let resources = &prod.template.resources;
    let cidrs: Vec<&str> = resources
        .values()
        .filter(|r| r.type_name == "AWS::EC2::Subnet")
        .filter_map(|r| r.properties["CidrBlock"].as_str())
        .collect();
    for want in [
        "10.0.1.0/24",
        "10.0.2.0/24",
        "10.0.3.0/24",
        "10.0.11.0/24",
        "10.0.12.0/24",
        "10.0.13.0/24",
    ] {
        assert!(
            cidrs.contains(&want),
            "production lacks subnet {want}: {cidrs:?}"
        );
    }
    let vpc = resources
        .values()
        .find(|r| r.type_name == "AWS::EC2::VPC")
        .expect("a VPC");
    assert_eq!(vpc.properties["CidrBlock"], "10.0.0.0/16");
    assert_eq!(prod.env.region, "us-east-1");
}

#[test]
fn synthesis_moving_the_templates_gives_what_synthesis_by_reference_gives() {
    let app = khs_app::app().expect("app builds");
    let by_reference = app.synth().expect("synth");
    let (moved, timings) = app.into_synth_timed().expect("into_synth");
    assert_eq!(moved, by_reference);
    // Every phase of a four-stack app takes measurable time.
    for (phase, took) in [
        ("finishing the templates", timings.stacks),
        ("the rules", timings.rules),
        ("writing the JSON", timings.serialize),
    ] {
        assert!(!took.is_zero(), "{phase} took no time");
    }
    let added = khs_constructs::core::timings::AddTimings::now();
    assert!(!added.serialize.is_zero() && !added.validate.is_zero());
}

#[test]
fn the_app_is_the_same_built_and_synthesized_on_one_thread_or_several() {
    let stages = khs_app::stages().expect("stages parse");
    let one = khs_app::app_on_threads(&stages, Some(1))
        .expect("app builds")
        .into_synth()
        .expect("synth");
    for threads in [2, 4] {
        let many = khs_app::app_on_threads(&stages, Some(threads))
            .expect("app builds")
            .into_synth()
            .expect("synth");
        assert_eq!(many, one, "{threads} threads");
    }
}

#[test]
fn the_stages_synthesized_as_independent_apps_give_the_app_s_templates() {
    // What the `synth` binary does (each stage an app of its own,
    // synthesized on the thread that built it) against one app of every
    // stack.
    let stages = khs_app::stages().expect("stages parse");
    let whole = khs_app::app_for(&stages)
        .expect("app builds")
        .into_synth()
        .expect("synth");
    for threads in [1, 2, 4] {
        let (artifacts, timings, building) =
            khs_app::synth_on_threads(&stages, Some(threads)).expect("synth");
        assert_eq!(artifacts, whole, "{threads} threads");
        assert!(!timings.rules.is_zero() && !building.is_zero());
    }
}
