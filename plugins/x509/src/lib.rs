//! Notary Project X.509 rules shared by the signer and the verifier.
//!
//! This crate is the one place where certificates are interpreted, so the signer's pre-flight
//! checks and the verifier's checks cannot drift apart:
//!
//! | module | concept |
//! |---|---|
//! | [`cert`] | parsing DER/PEM bundles (private-key blocks detected, never kept), fingerprints, names, validity |
//! | [`key`] | key specs, "is this certificate's key the vault key" (JWK), plugin signature verification as notation does it |
//! | [`signed_data`] | signatures inside X.509 structures: certificates, CRLs, OCSP responses (SHA-1 only on request) |
//! | [`chain`] | ordering an unordered bag of certificates into leaf → root |
//! | [`codesigning`] | the Notary Project certificate requirements, all violations with rule ids and fixes |
//! | [`name`] | `x509.subject` trusted identities with notation-go's exact DN semantics |
//!
//! All signature verification uses aws-lc-rs. Nothing here does I/O or panics on bad input.

pub mod cert;
pub mod chain;
pub mod codesigning;
mod hex;
pub mod key;
pub mod name;
pub mod signed_data;

pub use cert::{Bundle, CertError, CertRef, Certificate, parse_bundle};
pub use chain::{ChainError, build_chain};
pub use codesigning::{Rule, Violation, validate_code_signing_chain};
pub use key::{Jwk, KeyError, SignatureError, key_spec, matches_jwk, verify_plugin_signature};
pub use name::{
    DistinguishedName, IdentityError, NameError, is_subset, parse_distinguished_name,
    verify_x509_trusted_identities,
};
pub use signed_data::{Sha1, verify_signed_data};
