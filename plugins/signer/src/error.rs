//! The signer's failures and their protocol codes.

use notation_akv_keyvault::VaultError;
use notation_akv_keyvault::id::IdError;
use notation_akv_keyvault::settings::SettingsError;
use notation_akv_protocol::{ErrorCode, PluginError};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Bad plugin config (unknown key, bad value, conflicting keys).
    #[error("{0}")]
    Config(#[from] SettingsError),
    #[error("{0}")]
    Id(#[from] IdError),
    /// The request contradicts itself or the key (hash vs key spec, key spec changed).
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Vault(Box<VaultError>),
    /// The certificate material is unusable (bundle unreadable, chain broken, rules violated,
    /// certificate not for this key). Always says what to fix.
    #[error("{0}")]
    Certificate(String),
    /// A `/keys/` id whose certificate of the same name does not exist (the vault answered 404),
    /// with no `ca_certs` to take the chain from.
    #[error("{0}")]
    NoCertificate(String),
    /// The vault's signature does not verify with the leaf certificate.
    #[error("{0}")]
    Verification(String),
    /// Envelope mode could not get a trustworthy RFC 3161 timestamp (deadline: `TIMEOUT`).
    #[error("{0}")]
    Timestamp(#[from] notation_akv_timestamp::TimestampError),
    /// The runtime or HTTP client could not start.
    #[error("{0}")]
    Internal(String),
}

impl From<VaultError> for SignError {
    fn from(error: VaultError) -> SignError {
        SignError::Vault(Box::new(error))
    }
}

impl From<SignError> for PluginError {
    fn from(error: SignError) -> PluginError {
        match error {
            SignError::Vault(e) => e.to_plugin_error(),
            SignError::Timestamp(notation_akv_timestamp::TimestampError::Timeout { .. }) => {
                PluginError::new(ErrorCode::Timeout, error.to_string())
            }
            SignError::Config(_)
            | SignError::Id(_)
            | SignError::Request(_)
            | SignError::Certificate(_)
            | SignError::NoCertificate(_) => PluginError::validation(error.to_string()),
            SignError::Verification(_) | SignError::Timestamp(_) | SignError::Internal(_) => {
                PluginError::new(ErrorCode::Generic, error.to_string())
            }
        }
    }
}
