//! One fuzz target per parser that reads outside input, each a `fn(&[u8])` over the product's own
//! public entry points.
//!
//! The same functions run in two places:
//! - `fuzz/` (cargo-fuzz, nightly, libFuzzer): `fuzz/fuzz_targets/<name>.rs` calls [`run`] with
//!   the target's name; `fuzz/run.sh` runs them all for a given time;
//! - `tests/replay.rs` (stable, the default test run): every committed seed
//!   (`fuzz/seeds/<name>/`) and every input that once crashed (`fuzz/regressions/<name>/`) goes
//!   through the same function, so a fixed crash stays fixed.
//!
//! A target fails (panics) when the product panics, and also when it breaks a contract the
//! target can check cheaply: the runner's error JSON on stderr with exit 1 and nothing on stdout,
//! for instance. Inputs are whatever bytes a peer could send: a request on stdin, a vault
//! response body, a certificate, an OCSP response, a file in a cache or bundle folder.
//!
//! Targets that need a chain, a TSA root or a bundle read them from `fuzz/fixture/` (written by
//! `akv-fuzz-seeds`, with the seeds that match them), so seeds reach the deep checks.

mod envelope;
mod fixture;
mod keyvault;
mod protocol;
mod revocation;
mod settings;
mod timestamp;
mod x509;

/// A target: any bytes in, a panic on a failure.
pub type Target = fn(&[u8]);

/// Every target, by name (the file names under `fuzz/fuzz_targets/` and `fuzz/seeds/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("describe_key_request", protocol::describe_key),
    ("generate_signature_request", protocol::generate_signature),
    ("generate_envelope_request", protocol::generate_envelope),
    ("verify_signature_request", protocol::verify_signature),
    ("plugin_metadata_request", protocol::metadata),
    ("key_id", keyvault::key_id),
    ("jwk", keyvault::jwk),
    ("sign_response", keyvault::sign_response),
    ("signer_cache_entry", keyvault::cache_entry),
    ("signer_config", settings::signer_config),
    ("verifier_config_values", settings::verifier_config_values),
    ("verifier_config_file", settings::verifier_config_file),
    ("certificate_bundle", x509::certificate_bundle),
    ("pkcs12", x509::pkcs12),
    ("certificate_chain", x509::certificate_chain),
    ("distinguished_name", x509::distinguished_name),
    ("ocsp_response", revocation::ocsp_response),
    ("crl", revocation::crl),
    ("revocation_cache_entry", revocation::cache_entry),
    ("revocation_bundle_manifest", revocation::bundle_manifest),
    ("timestamp_reply", timestamp::reply),
    ("jws_envelope", envelope::jws),
    ("cose_envelope", envelope::cose),
];

/// Runs target `name` on `data`; panics on an unknown name.
pub fn run(name: &str, data: &[u8]) {
    let target = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name:?}"));
    (target.1)(data)
}

/// Where `fuzz/` is (seeds, regressions, fixture), from this crate's source folder.
pub fn fuzz_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}
