//! `notation-akv`: the Notation signing plugin for Azure Key Vault (plugin name `akv`).
//!
//! The binary is a thin shell over [`Signer`], which implements the protocol crate's
//! [`Plugin`] trait with `SIGNATURE_GENERATOR.RAW` by default: notation builds
//! the JWS/COSE envelope (and timestamps it); the plugin describes the key and signs digests.
//! With the plugin config `verification_plugin=<name>` it advertises
//! `SIGNATURE_GENERATOR.ENVELOPE` instead (notation would prefer RAW if both were listed) and
//! builds the envelope itself, naming that verification plugin ([`envelope`]).
//!
//! - [`config`]: plugin config keys (azure-kv's plus ours) and their environment variables;
//! - [`session`]: per-command setup (id, log, vault client, cache, runtime);
//! - [`material`]: key spec + chain + pinned key version, from the cache or the vault, checked
//!   against the Notary Project certificate rules;
//! - [`permissions`]: the permission matrix: the vault calls of each id form and chain source,
//!   with the access-policy permissions and RBAC roles they need;
//! - `pfx`: certificates from a PKCS#12 secret, with either encoding of the empty password;
//! - [`sign`]: hashing, vault signing and local verification;
//! - [`envelope`]: generate-envelope, on top of [`sign`] and the `notation-akv-envelope` crate, with
//!   RFC 3161 timestamps from `notation-akv-timestamp` when `timestamp_url` is set;
//! - [`error`]: failures → protocol codes.
//! - [`doctor`]: `notation-akv doctor`, which runs the code paths above step by step; the
//!   binary hands it to the key administrator's commands of the `notation-akv-admin` crate, which
//!   run only when the first argument names one, so notation's protocol commands are untouched.
//!
//! Vault round trips per `notation sign`: cold ≤ 2 (chain source + sign), warm 1 (sign), plus
//! token acquisition; `get-plugin-metadata` touches neither network nor disk.

pub mod config;
pub mod doctor;
pub mod envelope;
pub mod error;
pub mod material;
pub mod permissions;
pub mod pfx;
pub mod session;
pub mod sign;

use error::SignError;
use notation_akv_protocol::{
    Capability, DescribeKeyRequest, DescribeKeyResponse, GenerateEnvelopeRequest,
    GenerateEnvelopeResponse, GenerateSignatureRequest, GenerateSignatureResponse,
    GetMetadataRequest, GetMetadataResponse, Plugin, PluginError,
};
use session::{Env, Session, block_on};
use std::sync::{Arc, OnceLock};

/// The plugin name: notation requires it to equal the executable's `notation-` suffix.
pub const PLUGIN_NAME: &str = "akv";

/// The signing plugin.
pub struct Signer {
    env: Arc<Env>,
    help: OnceLock<String>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Default for Signer {
    fn default() -> Self {
        Signer::with_env(Arc::new(notation_akv_keyvault::settings::process_env))
    }
}

impl Signer {
    /// A signer reading environment variables through `env` (tests inject a fixed map).
    pub fn with_env(env: Arc<Env>) -> Signer {
        Signer {
            env,
            help: OnceLock::new(),
        }
    }

    fn run<T>(
        &self,
        command: &'static str,
        key_id: &str,
        plugin_config: &std::collections::BTreeMap<String, String>,
        work: impl AsyncFnOnce(&Session) -> Result<T, SignError>,
    ) -> Result<T, PluginError> {
        let result = (|| {
            let session = Session::open(command, key_id, plugin_config, self.env.as_ref())?;
            let result = block_on(work(&session))?;
            session.finish(&result);
            result
        })();
        result.map_err(PluginError::from)
    }
}

impl Plugin for Signer {
    fn metadata(&self, request: &GetMetadataRequest) -> GetMetadataResponse {
        // notation sends the sign-time plugin config here; it uses RAW whenever RAW is listed, so
        // envelope mode lists ENVELOPE alone.
        let capability = if config::envelope_mode(&request.plugin_config, self.env.as_ref()) {
            Capability::SignatureGeneratorEnvelope
        } else {
            Capability::SignatureGeneratorRaw
        };
        GetMetadataResponse::new(
            PLUGIN_NAME,
            "Sign artifacts and blobs with Azure Key Vault keys and certificates",
            env!("CARGO_PKG_VERSION"),
            "https://github.com/notation-akv/notation-akv",
            vec![capability],
        )
    }

    fn help(&self) -> &str {
        self.help
            .get_or_init(|| format!("{}{}", config::help_text(), notation_akv_admin::HELP))
    }

    fn describe_key(
        &self,
        request: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, PluginError> {
        self.run(
            "describe-key",
            &request.key_id,
            &request.plugin_config,
            async |session| {
                let (material, _, _) = session.material().await?;
                Ok(DescribeKeyResponse {
                    key_id: request.key_id.clone(),
                    key_spec: material.key_spec,
                })
            },
        )
    }

    fn generate_signature(
        &self,
        request: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        self.run(
            "generate-signature",
            &request.key_id,
            &request.plugin_config,
            async |session| sign::generate_signature(session, &request).await,
        )
    }

    fn generate_envelope(
        &self,
        request: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        self.run(
            "generate-envelope",
            &request.key_id,
            &request.plugin_config,
            async |session| envelope::generate_envelope(session, &request).await,
        )
    }
}
