//! `notation-akv-verifier`: the Notation verification plugin (plugin name `akv-verifier`).
//!
//! The binary is a thin shell over [`Verifier`], which implements the protocol crate's
//! [`Plugin`](notation_akv_protocol::Plugin) trait.

use notation_akv_protocol::{Capability, GetMetadataRequest, GetMetadataResponse, Plugin};

/// The plugin name: notation requires it to equal the executable's `notation-` suffix.
pub const PLUGIN_NAME: &str = "akv-verifier";

/// The verification plugin.
#[derive(Debug, Default)]
pub struct Verifier;

impl Plugin for Verifier {
    fn metadata(&self, _request: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse::new(
            PLUGIN_NAME,
            "Verify trusted identity and revocation (OCSP, CRL, Azure Key Vault status) of Notary Project signatures",
            env!("CARGO_PKG_VERSION"),
            "https://github.com/notation-akv/notation-akv",
            vec![
                Capability::TrustedIdentityVerifier,
                Capability::RevocationCheckVerifier,
            ],
        )
    }
}
