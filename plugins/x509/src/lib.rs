//! Notary Project X.509 rules shared by the signer and the verifier.
//!
//! This crate is the one place where certificates are interpreted, so the signer's pre-flight
//! checks and the verifier's checks cannot drift apart:
//!
//! | module | concept |
//! |---|---|
//! | [`cert`] | parsing DER/PEM bundles (private-key blocks detected, never kept), fingerprints, names, validity |
//! | [`key`] | key specs, "is this certificate's key the vault key" (JWK), plugin signature verification as notation does it, and of a digest as the vault signs it |
//! | [`signed_data`] | signatures inside X.509 structures: certificates, CRLs, OCSP responses (SHA-1 only on request) |
//! | `verify` | the one place a signature is checked: ring, and RustCrypto's curves for what ring lacks (P-521) |
//! | [`chain`] | ordering an unordered bag of certificates into leaf → root |
//! | [`codesigning`] | the Notary Project certificate requirements, all violations with rule ids and fixes |
//! | [`name`] | `x509.subject` trusted identities with notation-go's exact DN semantics |
//!
//! Nothing here does I/O or panics on bad input.
//!
//! # Typical use
//!
//! Signer, before returning a signature to notation:
//! 1. [`parse_bundle`] the Key Vault secret or `ca_certs` file (warn when
//!    [`Bundle::had_private_key`]), then [`build_chain`] with the Key Vault certificate as the leaf;
//! 2. [`matches_jwk`]: the leaf key is the vault key;
//! 3. [`validate_code_signing_chain`] at the current time, failing on violations whose
//!    [`Rule::enforced_by_notation`] is true and warning about the others;
//! 4. [`verify_plugin_signature`] on the vault's signature, so a wrong PSS salt or a DER ECDSA
//!    signature is caught here instead of as notation's "generated signature failed verification".
//!
//! Verifier: [`validate_code_signing_chain`] with `None` (structure only) before revocation checks,
//! [`verify_signed_data`] for OCSP responses ([`Sha1::Allow`]) and CRLs ([`Sha1::Reject`]), and
//! [`verify_x509_trusted_identities`] for `x509.subject:` identities. The table
//! `tests/trusted_identity_cases.json` records notation-go's outcomes for those identities and can
//! be replayed against notation itself.

pub mod cert;
pub mod chain;
pub mod codesigning;
mod hex;
pub mod key;
pub mod name;
pub mod signed_data;
mod verify;

pub use cert::{Bundle, CertError, CertRef, Certificate, parse_bundle};
pub use chain::{ChainError, build_chain};
pub use codesigning::{Rule, Violation, revalidate_accepted_chain, validate_code_signing_chain};
pub use key::{Jwk, KeyError, SignatureError, key_spec, matches_jwk, verify_plugin_signature};
pub use name::{
    DistinguishedName, IdentityError, NameError, is_subset, parse_distinguished_name,
    verify_x509_trusted_identities,
};
pub use signed_data::{Sha1, verify_signed_data};
