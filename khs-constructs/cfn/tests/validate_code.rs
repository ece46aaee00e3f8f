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
fn the_data_fingerprint_is_that_of_the_data() {
    // Written by the generator, computed again here the same way.
    assert!(validate::data_fingerprint_is_current());
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
fn code_that_does_not_fit_the_data_is_not_used() {
    if std::env::var_os(UPDATE).is_some() {
        return;
    }
    let committed = validate::committed_code();
    let data = validate::schema("AWS::SQS::Queue").expect("data");
    // The text's length as generated: compact JSON.
    let len = serde_json::to_string(&data).expect("json").len();
    assert!(validate::code_fits(committed, "AWS::SQS::Queue", len));
    assert!(!validate::code_fits(committed, "Custom::Thing", len));
    // A text of another length: the data changed since the file was written.
    assert!(!validate::code_fits(committed, "AWS::SQS::Queue", len + 1));
    // A file written from other data (its fingerprint, after the magic).
    let mut other = committed.to_vec();
    other[b"KHSV1".len()] ^= 1;
    let other: &'static [u8] = Box::leak(other.into_boxed_slice());
    assert!(!validate::code_fits(other, "AWS::SQS::Queue", len));
}
