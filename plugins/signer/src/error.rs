//! The signer's failures and their protocol codes.

use notation_akv_keyvault::VaultError;
use notation_akv_keyvault::id::IdError;
use notation_akv_keyvault::settings::SettingsError;
use notation_akv_protocol::reference::ErrorDoc;
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

/// The signer's own failures, one entry per kind [`SignError::doc`] returns; vault failures are
/// the Key Vault crate's [`Failure`](notation_akv_keyvault::error::Failure) catalogue.
pub const ERRORS: &[ErrorDoc] = &[
    CONFIG,
    ID,
    REQUEST,
    CERTIFICATE,
    NO_CERTIFICATE,
    VERIFICATION,
    TIMESTAMP_TIMEOUT,
    TIMESTAMP_TRANSPORT,
    TIMESTAMP_REJECTED,
    TIMESTAMP_INVALID,
    TIMESTAMP_UNTRUSTED,
    INTERNAL,
];

const CONFIG: ErrorDoc = ErrorDoc {
    name: "bad plugin config",
    code: ErrorCode::ValidationError,
    cause: "an unknown key (the message suggests the closest one), a malformed value, or keys that conflict (self_signed with ca_certs, timestamp_url without envelope mode, …), from --plugin-config or NOTATION_AKV_<KEY>",
    fix: "correct the key or value the message names (see Configuration keys)",
};
const ID: ErrorDoc = ErrorDoc {
    name: "bad key id",
    code: ErrorCode::ValidationError,
    cause: "--id is not https://{vault}/certificates/{name}[/{version}] or https://{vault}/keys/{name}[/{version}] on a Key Vault or Managed HSM host",
    fix: "pass the certificate's id or its kid (az keyvault certificate show --query kid -o tsv)",
};
const REQUEST: ErrorDoc = ErrorDoc {
    name: "request does not fit the key",
    code: ErrorCode::ValidationError,
    cause: "the request contradicts the key: a hash or key spec other than the key's, an envelope type or payload notation would not send, generate-envelope without verification_plugin, or the key spec changed between describe-key and signing",
    fix: "sign again with notation; after a key rotation to another type, sign once more",
};
const CERTIFICATE: ErrorDoc = ErrorDoc {
    name: "unusable certificate chain",
    code: ErrorCode::ValidationError,
    cause: "the ca_certs bundle or the secret cannot be read, the chain is incomplete or broken, a certificate violates a Notary Project rule (the message gives the rule and which AKV policy field to change), self_signed=true for an issued certificate, or the certificate does not hold the vault key",
    fix: "complete the chain with ca_certs, or fix the certificate policy as the message says (notation-akv doctor shows every rule)",
};
const NO_CERTIFICATE: ErrorDoc = ErrorDoc {
    name: "key without a certificate",
    code: ErrorCode::ValidationError,
    cause: "a /keys/ id whose certificate of the same name does not exist (the vault answered 404), and no ca_certs",
    fix: "give the key's certificate and its CAs with ca_certs=<bundle.pem>, or check the name and version in --id",
};
const VERIFICATION: ErrorDoc = ErrorDoc {
    name: "signature does not verify",
    code: ErrorCode::Generic,
    cause: "the vault's signature does not verify with the leaf certificate's key (the certificate and the key do not match)",
    fix: "check that the certificate in the chain belongs to the vault key that signs",
};
const TIMESTAMP_TIMEOUT: ErrorDoc = ErrorDoc {
    name: "timestamp deadline",
    code: ErrorCode::Timeout,
    cause: "envelope mode: the TSA did not answer within what was left of timeout",
    fix: "check the network path to timestamp_url, or raise timeout",
};
const TIMESTAMP_TRANSPORT: ErrorDoc = ErrorDoc {
    name: "timestamp authority unreachable",
    code: ErrorCode::Generic,
    cause: "envelope mode: the connection to timestamp_url failed, or it answered with an HTTP error or an oversized body",
    fix: "check timestamp_url and the proxy settings",
};
const TIMESTAMP_REJECTED: ErrorDoc = ErrorDoc {
    name: "timestamp refused",
    code: ErrorCode::Generic,
    cause: "envelope mode: the TSA answered without granting a timestamp",
    fix: "check the TSA's status and that it accepts the signature's hash algorithm",
};
const TIMESTAMP_INVALID: ErrorDoc = ErrorDoc {
    name: "timestamp unusable",
    code: ErrorCode::Generic,
    cause: "envelope mode: the answer is malformed, or its imprint or nonce is not the request's",
    fix: "check that timestamp_url is an RFC 3161 endpoint",
};
const TIMESTAMP_UNTRUSTED: ErrorDoc = ErrorDoc {
    name: "timestamp untrusted",
    code: ErrorCode::Generic,
    cause: "envelope mode: the token's signature, its TSA chain to timestamp_root_cert, the timeStamping EKU, or genTime within the signing chain's validity does not hold",
    fix: "set timestamp_root_cert to the root of this TSA; check the signing certificate's validity",
};
const INTERNAL: ErrorDoc = ErrorDoc {
    name: "internal",
    code: ErrorCode::Generic,
    cause: "the runtime or the HTTP client could not start",
    fix: "report it with the message",
};

impl SignError {
    /// The entry that documents this error: its code, causes and fix.
    pub fn doc(&self) -> ErrorDoc {
        use notation_akv_timestamp::TimestampError as T;
        match self {
            SignError::Config(_) => CONFIG,
            SignError::Id(_) => ID,
            SignError::Request(_) => REQUEST,
            SignError::Vault(e) => e.failure().doc(),
            SignError::Certificate(_) => CERTIFICATE,
            SignError::NoCertificate(_) => NO_CERTIFICATE,
            SignError::Verification(_) => VERIFICATION,
            SignError::Timestamp(T::Timeout { .. }) => TIMESTAMP_TIMEOUT,
            SignError::Timestamp(T::Transport { .. }) => TIMESTAMP_TRANSPORT,
            SignError::Timestamp(T::Rejected { .. }) => TIMESTAMP_REJECTED,
            SignError::Timestamp(T::Invalid { .. }) => TIMESTAMP_INVALID,
            SignError::Timestamp(T::Untrusted { .. }) => TIMESTAMP_UNTRUSTED,
            SignError::Internal(_) => INTERNAL,
        }
    }
}

/// The one place a signer error gets its code: the vault's own mapping, else the entry's.
impl From<SignError> for PluginError {
    fn from(error: SignError) -> PluginError {
        match error {
            SignError::Vault(e) => e.to_plugin_error(),
            other => PluginError::new(other.doc().code, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notation_akv_keyvault::error::Failure;
    use notation_akv_timestamp::TimestampError as T;

    /// One error of every kind. The match stops compiling when a variant is added: give it an
    /// entry in `doc` and an example here.
    fn examples() -> Vec<SignError> {
        let tsa =
            |f: fn(String, String) -> T| SignError::Timestamp(f("http://t".into(), "x".into()));
        let all = vec![
            SignError::Config(SettingsError("x".into())),
            SignError::Id(IdError {
                id: "x".into(),
                reason: "y".into(),
            }),
            SignError::Request("x".into()),
            SignError::Certificate("x".into()),
            SignError::NoCertificate("x".into()),
            SignError::Verification("x".into()),
            SignError::Timestamp(T::Timeout {
                url: "http://t".into(),
                after: std::time::Duration::from_secs(1),
            }),
            tsa(|url, detail| T::Transport { url, detail }),
            tsa(|url, detail| T::Rejected { url, detail }),
            tsa(|url, detail| T::Invalid { url, detail }),
            tsa(|url, detail| T::Untrusted { url, detail }),
            SignError::Internal("x".into()),
            SignError::from(VaultError::Credential {
                message: "x".into(),
            }),
        ];
        for e in &all {
            match e {
                SignError::Config(_)
                | SignError::Id(_)
                | SignError::Request(_)
                | SignError::Vault(_)
                | SignError::Certificate(_)
                | SignError::NoCertificate(_)
                | SignError::Verification(_)
                | SignError::Timestamp(_)
                | SignError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_error_has_a_catalogued_entry_with_its_code() {
        let mut own = Vec::new();
        for error in examples() {
            let doc = error.doc();
            let vault = Failure::ALL.iter().any(|f| f.doc() == doc);
            assert!(vault || ERRORS.contains(&doc), "{error:?}");
            if !vault {
                own.push(doc.name);
            }
            assert_eq!(
                PluginError::from(error).error_code,
                doc.code,
                "{}",
                doc.name
            );
        }
        let catalogued: Vec<&str> = ERRORS.iter().map(|d| d.name).collect();
        assert_eq!(own, catalogued, "ERRORS lists each kind once, in order");
    }
}
