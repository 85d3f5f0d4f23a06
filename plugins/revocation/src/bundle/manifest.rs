//! `manifest.json`: what each bundle file covers, where it came from, until when it is good, and
//! its SHA-256, plus the chains the bundle was fetched for (so `bundle check` can re-verify them
//! without being told).
//!
//! ```json
//! {
//!   "format": "notation-akv-revocation-bundle/1",
//!   "generated": "2026-12-01T09:00:00Z",
//!   "chains": [{ "name": "signer.pem", "certificates": ["<base64 DER, leaf first>", "…"] }],
//!   "files": [{
//!     "file": "ocsp-3f2a…9c.ocsp", "kind": "ocsp",
//!     "covers": "certificate \"CN=leaf,…\" (serial 1a2b…)", "issuer": "CN=intermediate,…",
//!     "serial": "1a2b…", "url": "http://ocsp.example/",
//!     "this_update": "2026-12-01T08:59:00Z", "next_update": "2026-12-02T08:59:00Z",
//!     "expires": "2026-12-02T08:59:00Z", "sha256": "<64 hex>", "size": 1234
//!   }]
//! }
//! ```
//!
//! `kind` is `ocsp`, `crl` or `delta-crl`; `next_update` is null for an OCSP response without one
//! (then `expires` is thisUpdate + `ocsp_max_age`). Times are RFC 3339 UTC.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The manifest's file name inside the bundle folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The `format` value this version writes and reads.
pub const FORMAT: &str = "notation-akv-revocation-bundle/1";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub generated: String,
    pub chains: Vec<ManifestChain>,
    pub files: Vec<ManifestFile>,
}

/// A chain the bundle was fetched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestChain {
    /// Where it came from: a PEM file name or an artifact reference.
    pub name: String,
    /// Standard base64 DER, leaf first, root last.
    pub certificates: Vec<String>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub file: String,
    pub kind: String,
    pub covers: String,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    pub url: String,
    pub this_update: String,
    pub next_update: Option<String>,
    pub expires: Option<String>,
    pub sha256: String,
    pub size: u64,
}

/// Why the manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{MANIFEST_FILE} cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("{MANIFEST_FILE} is not a bundle manifest (corrupt or truncated?): {0}")]
    Json(#[from] serde_json::Error),
    #[error("{MANIFEST_FILE} has format {0:?}; this version reads {FORMAT:?}")]
    Format(String),
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest, ManifestError> {
        let bytes = std::fs::read(dir.join(MANIFEST_FILE))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)?;
        if manifest.format != FORMAT {
            return Err(ManifestError::Format(manifest.format));
        }
        Ok(manifest)
    }

    /// The entry for `file` (a name inside the bundle folder).
    pub fn file(&self, file: &str) -> Option<&ManifestFile> {
        self.files.iter().find(|f| f.file == file)
    }
}

impl ManifestFile {
    /// `Err(why)` when `bytes` are not what the manifest recorded.
    pub fn check_integrity(&self, bytes: &[u8]) -> Result<(), String> {
        if bytes.len() as u64 != self.size {
            return Err(format!(
                "{} bytes where {MANIFEST_FILE} records {} (truncated or corrupt); not used",
                bytes.len(),
                self.size
            ));
        }
        let actual = sha256_hex(bytes);
        if !actual.eq_ignore_ascii_case(&self.sha256) {
            return Err(format!(
                "SHA-256 {actual} differs from {} in {MANIFEST_FILE} (corrupt); not used",
                self.sha256
            ));
        }
        Ok(())
    }

    /// `expires` as a time, when recorded and well formed.
    pub fn expires_at(&self) -> Option<SystemTime> {
        parse_time(self.expires.as_deref()?)
    }
}

/// Refuses manifest entries that would reach outside the bundle folder.
pub(crate) fn safe_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name == MANIFEST_FILE
    {
        return Err(format!(
            "{MANIFEST_FILE} lists {name:?}, which is not a plain file name of the bundle; ignored"
        ));
    }
    Ok(())
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 3339 UTC.
pub fn format_time(t: SystemTime) -> String {
    crate::result::rfc3339(t)
}

/// Parses an RFC 3339 time.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}
