//! Extended attribute names in signature envelopes.
//!
//! notation-go runs a verification plugin only when the envelope carries the *critical* attribute
//! [`VERIFICATION_PLUGIN`]; a RAW signer cannot set it, only an envelope-building one. Attributes
//! this project defines live here so the signer that writes them and the verifier that lists them
//! in `processedAttributes` cannot disagree on a name.

/// Names the plugin notation must run to verify the signature (critical, string).
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
/// Lowest plugin version (SemVer) that may verify the signature (critical, string).
pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
/// The Azure Key Vault key (with version) that made the signature; the verifier pins identities
/// (`akv.key:`) and looks up AKV certificate status by it.
pub const AKV_KEY_ID: &str = "io.github.notation-akv.keyId";
