//! Azure Key Vault access for notation-akv, shared by the signer and the verifier.
//!
//! - [`id`]: the `--id` forms (keys, certificates; public and sovereign clouds; Managed HSM);
//! - [`cloud`]: clouds recognised from the vault host and their Entra authorities;
//! - [`settings`]: config keys and their `NOTATION_AKV_*` environment equivalents;
//! - [`credential`]: our ordered credential chain over `azure_identity` 1.x;
//! - [`client_certificate`]: certificate client assertions without OpenSSL;
//! - [`transport`]: the shared HTTP client (TLS roots, timeouts) and the per-exchange log policy;
//! - [`deadline`]: one total deadline per command and bounded, `Retry-After`-aware retries;
//! - [`error`]: vault failures mapped to the protocol's error codes with permission hints;
//! - [`client`]: the four operations (get certificate, get secret, get key, sign) over the SDK;
//! - [`certificates`]: the key administrator's certificate operations (create, pending, merge,
//!   enable/disable, versions, policy), for `notation-akv certificate`;
//! - [`cache`]: the on-disk cache of public material (chains, key specs, resolved versions);
//! - [`preauth`]: reuse of a vault's auth-challenge scope across processes (saves a round trip);
//! - [`log`]: the optional request log, with nothing secret in it.
//!
//! Nothing here prints: the plugins' stdout and stderr belong to the protocol.

pub mod cache;
pub mod certificates;
pub mod client;
pub mod client_certificate;
pub mod cloud;
pub mod credential;
pub mod deadline;
pub mod error;
pub mod id;
pub mod log;
pub mod preauth;
pub mod settings;
pub mod transport;

pub use client::{CertificateInfo, Curve, KeyInfo, PublicKey, SecretInfo, Signed, VaultClient};
pub use cloud::Cloud;
pub use deadline::Deadline;
pub use error::{Operation, VaultError};
pub use id::{ObjectId, ObjectKind};
pub use log::RequestLog;
pub use settings::{ConfigReader, VaultSettings};
