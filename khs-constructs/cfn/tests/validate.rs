//! Schema-driven validation (`khs_cfn::validate`), on the cases and
//! on every type's data.

use khs_cfn::{registry, validate};
use khs_core::path::ConstructPath;
use serde_json::Value as Json;

use serde_json::json;

fn path() -> ConstructPath {
    ConstructPath::root("app").child("Thing").expect("id")
}

fn check(type_name: &str, props: Json) -> std::result::Result<(), String> {
    validate::properties(type_name, &props, &path()).map_err(|e| e.to_string())
}

#[test]
fn every_type_has_a_parsable_schema() {
    for spec in registry::specs() {
        let data = validate::schema(spec.type_name);
        assert!(data.is_some(), "{}", spec.type_name);
        // What synthesis checks against: the compiled form of the same data.
        assert_eq!(
            validate::compiles(spec.type_name),
            data.is_some_and(|d| d.get("s").is_some()),
            "{}",
            spec.type_name
        );
    }
    assert!(!validate::compiles("Custom::Thing"));
}

#[test]
fn fails_when_an_rds_engine_version_does_not_exist() {
    let err = check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "EngineVersion": "16.99", "DBInstanceClass": "db.t3.small"}),
    )
    .expect_err("16.99");
    assert!(
        err.starts_with("app/Thing: AWS::RDS::DBInstance property EngineVersion is \"16.99\", which is not an allowed value"),
        "{err}"
    );
    assert!(err.contains("16.1"), "{err}");
    check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "EngineVersion": "16.13", "DBInstanceClass": "db.t3.small"}),
    )
    .expect("16.13 exists");
}

#[test]
fn fails_when_an_instance_class_does_not_exist() {
    let err = check(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.huge"}),
    )
    .expect_err("db.t3.huge");
    assert!(err.contains("DBInstanceClass is \"db.t3.huge\""), "{err}");
    let err = check(
        "AWS::ElastiCache::ReplicationGroup",
        json!({"ReplicationGroupDescription": "x", "CacheNodeType": "cache.t3.nano"}),
    )
    .expect_err("cache.t3.nano");
    assert!(err.contains("CacheNodeType is \"cache.t3.nano\""), "{err}");
    assert!(err.contains("did you mean"), "{err}");
}

#[test]
fn intrinsics_are_never_judged() {
    check(
        "AWS::RDS::DBInstance",
        json!({"Engine": {"Ref": "Engine"}, "EngineVersion": "16.99", "DBInstanceClass": {"Ref": "Class"}}),
    )
    .expect("the engine is not known, so its versions are not either");
    check(
        "AWS::EC2::SecurityGroupIngress",
        json!({"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": {"Ref": "Port"}, "GroupId": {"Ref": "G"}, "CidrIp": "10.0.0.0/8"}),
    )
    .expect("intrinsic ports");
}

#[test]
fn fails_on_ranges_lengths_and_unknown_nested_properties() {
    let err = check(
        "AWS::EC2::SecurityGroupIngress",
        json!({"IpProtocol": "tcp", "FromPort": 70000, "ToPort": 70000, "GroupId": "sg-1", "CidrIp": "10.0.0.0/8"}),
    )
    .expect_err("port 70000");
    assert!(err.contains("70000"), "{err}");
    let long = "x".repeat(300);
    let err = check(
        "AWS::Route53::RecordSet",
        json!({"Name": "example.org.", "Type": "TXT", "TTL": "300", "HostedZoneId": "Z1", "ResourceRecords": [format!("\"{long}\"")]}),
    )
    .expect_err("long TXT");
    assert!(err.contains("ResourceRecords"), "{err}");
    let err = check(
        "AWS::Route53::RecordSet",
        json!({"Name": "example.org.", "Type": "A", "TTL": "300", "HostedZoneId": "Z1", "ResourceRecords": ["www.example.org"]}),
    )
    .expect_err("A record with a host name");
    assert!(err.contains("ResourceRecords.0"), "{err}");
}

#[test]
fn fails_when_a_fargate_task_size_is_not_a_fargate_size() {
    let err = check(
        "AWS::ECS::TaskDefinition",
        json!({"RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc", "Cpu": "300", "Memory": "100",
               "ContainerDefinitions": [{"Name": "app", "Image": "nginx"}]}),
    )
    .expect_err("cpu 300");
    assert!(err.contains("Cpu") || err.contains("Memory"), "{err}");
}

#[test]
fn custom_resources_pass() {
    check("Custom::Seeder", json!({"Anything": [1, 2]})).expect("custom");
}

/// Every `pattern` (and `patternProperties` name) of every type's data.
fn every_pattern() -> std::collections::BTreeSet<String> {
    fn walk(v: &Json, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Json::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("pattern", Json::String(p)) => {
                            out.insert(p.clone());
                        }
                        ("patternProperties", Json::Object(ps)) => {
                            out.extend(ps.keys().cloned());
                        }
                        _ => {}
                    }
                    walk(x, out);
                }
            }
            Json::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for spec in registry::specs() {
        if let Some(data) = validate::schema(spec.type_name) {
            walk(&data, &mut out);
        }
    }
    out
}

/// Texts to match: every ASCII character and a few others alone, runs of
/// one character at the lengths the patterns bound, and random strings
/// over the characters the pattern names and a few more.
fn texts_for(pattern: &str, seed: &mut u64) -> Vec<String> {
    let mut out = vec![String::new()];
    out.extend((0u8..128).map(|b| char::from(b).to_string()));
    out.extend(["é", "ü", "中", "😀", "\u{a0}", "\u{2028}"].map(String::from));
    let lengths = [
        2, 3, 11, 12, 13, 62, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1024, 1025,
    ];
    for c in ['a', 'Z', '0', '_', '-', '.', ':', '/', ' ', 'é', '\n'] {
        out.extend(lengths.iter().map(|n| c.to_string().repeat(*n)));
    }
    // The plain text of each alternative, alone and within others (for
    // unanchored patterns).
    for piece in pattern.split('|') {
        let plain: String = piece
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_:/.".contains(*c))
            .collect();
        out.extend([
            plain.clone(),
            format!("x{plain}"),
            format!("{plain}x"),
            format!(" {plain}\n"),
        ]);
    }
    let mut pool: Vec<char> = pattern.chars().filter(|c| c.is_ascii_graphic()).collect();
    pool.extend("aZ09_-.:/ é\n".chars());
    for _ in 0..200 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (*seed >> 33) % 24;
        let text: String = (0..len)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                pool[((*seed >> 33) % pool.len() as u64) as usize]
            })
            .collect();
        out.push(text);
    }
    out
}

#[test]
fn patterns_matched_without_a_regex_agree_with_regex_lite() {
    let patterns = every_pattern();
    let mut seed = 7u64;
    let mut simple = 0;
    for p in &patterns {
        let texts = texts_for(p, &mut seed);
        let Some(results) = validate::simple_pattern_matches(p, &texts) else {
            continue;
        };
        simple += 1;
        for (text, (ours, regex)) in texts.iter().zip(results) {
            assert_eq!(Some(ours), regex, "pattern {p} on {text:?}");
        }
    }
    // Two fifths of the data's patterns are simple (1,266 of 3,057 at
    // cfn-lint 1.58.0; the count guards the test against checking none).
    assert!(
        simple * 5 > patterns.len(),
        "{simple} of {}",
        patterns.len()
    );
}
