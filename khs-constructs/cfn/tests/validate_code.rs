//! `src/validate_code.bin`, the validation data in the form the checks read
//! (see `src/validate/code.rs`), is what the JSON data of
//! `validate_data.rs` compiles to, and decodes to what it encodes.
//!
//! `cargo run -p xtask -- codegen` rewrites the file through this test
//! (`KHS_UPDATE_VALIDATE_CODE=1`); so can you, after editing the validator's
//! compiled form:
//!
//! ```text
//! KHS_UPDATE_VALIDATE_CODE=1 cargo test -p khs-cfn --test validate_code
//! ```

use khs_cfn::validate;

/// The environment variable that makes the test write the file instead of
/// failing when it is out of date.
const UPDATE: &str = "KHS_UPDATE_VALIDATE_CODE";

#[test]
fn committed_code_is_what_the_data_compiles_to() {
    let fresh = validate::code_from_data();
    if fresh == validate::committed_code() {
        return;
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/validate_code.bin");
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(&file, &fresh).expect("writes validate_code.bin");
        eprintln!(
            "wrote {} ({} bytes); rebuild to use it",
            file.display(),
            fresh.len()
        );
        return;
    }
    panic!(
        "{} ({} bytes) is not what validate_data.rs compiles to ({} bytes); run \
         `{UPDATE}=1 cargo test -p khs-cfn --test validate_code` (or `cargo run -p xtask -- codegen`) \
         and commit the file",
        file.display(),
        validate::committed_code().len(),
        fresh.len()
    );
}

#[test]
fn committed_code_decodes_to_what_it_encodes() {
    if std::env::var_os(UPDATE).is_some() {
        // The file is being rewritten; this build holds the old one.
        return;
    }
    assert_eq!(validate::code_that_does_not_reencode(), None);
}

#[test]
fn an_entry_that_does_not_fit_the_data_is_not_used() {
    if std::env::var_os(UPDATE).is_some() {
        return;
    }
    let data = validate::schema("AWS::SQS::Queue").expect("data");
    // The text's length as generated: compact JSON.
    let len = serde_json::to_string(&data).expect("json").len();
    assert!(validate::committed_code_fits("AWS::SQS::Queue", len));
    // Data regenerated without the file: the type is compiled from its text.
    assert!(!validate::committed_code_fits("AWS::SQS::Queue", len + 1));
    assert!(!validate::committed_code_fits("Custom::Thing", len));
}
