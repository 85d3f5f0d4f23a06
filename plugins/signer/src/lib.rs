//! `notation-akv`: the Notation signing plugin for Azure Key Vault (plugin name `akv`).
//!
//! The binary is a thin shell over [`Signer`], which implements the protocol crate's
//! [`Plugin`](notation_akv_protocol::Plugin) trait.

use notation_akv_protocol::{Capability, GetMetadataRequest, GetMetadataResponse, Plugin};

/// The plugin name: notation requires it to equal the executable's `notation-` suffix.
pub const PLUGIN_NAME: &str = "akv";

/// The signing plugin.
#[derive(Debug, Default)]
pub struct Signer;

impl Plugin for Signer {
    fn metadata(&self, _request: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse::new(
            PLUGIN_NAME,
            "Sign artifacts and blobs with Azure Key Vault keys and certificates",
            env!("CARGO_PKG_VERSION"),
            "https://github.com/notation-akv/notation-akv",
            vec![Capability::SignatureGeneratorRaw],
        )
    }
}
