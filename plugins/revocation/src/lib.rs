//! OCSP and CRL revocation checking with a disk cache and offline bundles, for the
//! `akv-verifier` Notation plugin.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo(chain: Vec<Vec<u8>>) -> Result<(), Box<dyn std::error::Error>> {
//! use notation_akv_revocation::{RevocationChecker, RevocationConfig, Verdict};
//! let checker = RevocationChecker::new(RevocationConfig::default())?;
//! let result = checker.check(&chain, std::time::SystemTime::now()).await?;
//! if result.verdict != Verdict::Ok {
//!     eprintln!("{result}"); // names each certificate, its source and every failed attempt
//! }
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! For each non-root certificate of a leaf→root chain, concurrently, against its issuer:
//!
//! 1. the offline bundle ([`BundleConfig`]) when configured: OCSP responses matched by CertID,
//!    else the newest valid base CRL of the issuer plus the newest valid delta (a folder with a
//!    [`bundle::manifest`] only offers the files it lists with matching SHA-256);
//! 2. OCSP when the certificate names responders: the cache, then each responder in order (GET
//!    for short requests, POST otherwise); good, revoked and "unknown" answers end the loop;
//! 3. CRL when OCSP is absent or gave no definitive answer and the certificate has distribution
//!    points: every point, each base CRL with its delta;
//! 4. otherwise the certificate is non-revokable.
//!
//! [`RevocationChecker::collector`] and [`RevocationChecker::collect`] run steps 2 and 3 for
//! every source a certificate names and keep what passed, and [`write_bundle`] turns that into a
//! bundle folder: the material for air-gapped hosts comes out of the same code that will judge it.
//!
//! Responses from the network, the cache and the bundle go through the same checks
//! (`ocsp::verify`, `Crl::validate`), so the cache and the bundle are
//! optimisations and conveniences, never a way around verification.
//!
//! The verdict is notation's: revoked if any certificate is revoked, ok if all are good or
//! non-revokable, else unknown. Any revocation counts, whatever its date, unless the signature
//! has an authentic signing time ([`RevocationConfig::signing_time`], `notary.x509.signingAuthority`
//! only; notation passes none for `notary.x509`): then, as in notation, a revocation whose
//! invalidityDate (a CRL entry's extension or an OCSP SingleResponse's singleExtensions) is later
//! than the signing time does not revoke the signature.
//!
//! # Where this is better than notation-core-go (v1.3 `revocation/`)
//!
//! | | notation-core-go | here | why |
//! |---|---|---|---|
//! | schemes | http only | http, https, and `file://` CRLs | many CAs publish over https; air-gapped sites mount CRLs |
//! | timeouts | fixed 2 s OCSP, 5 s CRL | configurable per fetch, reported with the URL | notation#976 |
//! | OCSP nonce | never | optional, checked when sent | replay protection where responders support it |
//! | CertID hash | SHA-1 | SHA-1 or SHA-256 | responders that drop SHA-1 |
//! | no nextUpdate | always expired | accepted within a max age | RFC 6960 allows it; some responders omit it |
//! | clock skew | none | bounded skew on thisUpdate/nextUpdate | small clock drift should not fail verification |
//! | CertID match | serial only | issuer name hash, key hash and serial | a response for another issuer's serial is refused |
//! | delegated responder | signed by issuer + signature | also OCSPSigning EKU, validity, and its own revocation via CRL unless id-pkix-ocsp-nocheck | RFC 6960 §4.2.2.2 |
//! | FreshestCRL | only in the base CRL | base CRL, else the certificate | RFC 5280 allows either |
//! | critical entry extensions | only the matching entry | any entry makes the CRL unusable | RFC 5280 §5.3 |
//! | cache | CRLs only, trusted as stored | OCSP responses and CRLs, re-verified on load, atomic 0600 files | a tampered or torn cache file cannot change an answer |
//! | offline | none | bundle folder, `prefer` or `only` | air-gapped clusters |
//! | proxies | Go's env handling | `HTTP(S)_PROXY`/`NO_PROXY`, explicit in the config | testable, and the precedence is ours |
//! | results | error strings | typed status, source (URL, cache, bundle file), reason code and time, every failed attempt | users can act on a precise reason |
//! | redirects | followed anywhere | at most 3, only to allowed schemes | `allow_https = false` cannot be bypassed by a 302 |
//! | start-up | HTTP client built eagerly | built on first network use | a check answered from the cache takes well under a millisecond |
//!
//! Deliberate differences that can turn notation's answer into "unknown": CRLs signed with SHA-1
//! are refused (Go's `CheckSignatureFrom` accepts them; a SHA-1 collision could hide a
//! revocation), a CRL or OCSP response whose thisUpdate is beyond the clock skew in the future is
//! refused, and any critical extension we do not understand in any CRL entry makes the CRL
//! unusable. OCSP responses may still be SHA-1 signed (most responders' default).
//!
//! Limits: a delegated responder of an OCSP response taken from the offline bundle is not itself
//! checked for revocation (the operator chose the file); the cache keeps one file per issuer and
//! serial (OCSP) or URL (CRL), overwritten when refreshed, and is never pruned.
//!
//! Kept exactly as notation: the method order and OCSP→CRL fallback, the responder loop, GET when
//! the escaped request is under 255 characters, HTTP 200 required, all CDPs consulted with the first
//! failure giving unknown, delta number > base and indicator ≤ base, certificateHold revoking
//! unless a later removeFromCRL entry exists, nextUpdate required on CRLs, indirect CRLs refused.
//!
//! # Modules
//!
//! [`result`] (what is reported), [`config`] (knobs), `fetch` (http/https/file with deadlines and
//! proxies), `ocsp` (requests and response verification), `crl` (CRL validation and lookup),
//! `cache` (disk cache), [`bundle`] (offline folder: reader, [`bundle::manifest`], [`bundle::write`]), `signed` (exact TBS bytes; signatures are
//! checked by `notation-akv-x509`), `extensions` (AIA, CDP, FreshestCRL, EKU), `checker` (the
//! engine).

pub mod bundle;
mod cache;
mod checker;
pub mod config;
mod crl;
mod extensions;
mod fetch;
mod ocsp;
pub mod result;
mod signed;

pub use bundle::write::{WriteReport, write_bundle};
pub use bundle::{BundleError, Fetched, FetchedKind, Manifest, ManifestChain, ManifestFile};
pub use cache::CacheError;
pub use checker::{
    ChainError, Collected, CollectedCert, RevocationChecker, SetupError, SourceAnswer,
};
pub use config::{BundleConfig, BundleMode, CertIdHash, ProxyConfig, RevocationConfig};
pub use fetch::FetchSetupError;
pub use result::{CertResult, CertStatus, ChainResult, Problem, RevocationReason, Source, Verdict};
