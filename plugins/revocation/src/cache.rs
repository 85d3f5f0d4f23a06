//! The disk cache of OCSP responses and CRLs.
//!
//! Entries are the objects exactly as fetched plus the URL they came from; they are re-verified
//! (signature and times) every time they are loaded, so a tampered or stale file is never trusted,
//! only ignored and replaced. The directory rules are `notation_akv_cachedir`'s: atomic writes
//! (concurrent processes see the old or the new entry, never a torn one), 0700 directories and
//! 0600 files owned by this user (a CRL is public, but which certificates a host checks is not;
//! another user's file is not read), and pruning after each write to [`LIMITS`] per kind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_akv_cachedir::{CacheDir, Limits};
use sha2::Digest as _;

/// Per kind (OCSP, CRL): a CRL of a large CA can be tens of MiB, so entries may be up to 64 MiB
/// and each directory keeps at most 256 MiB in 4096 entries. Entries not refreshed for 30 days
/// (long past any nextUpdate) are pruned.
pub const LIMITS: Limits = Limits {
    max_entry_bytes: 64 * 1024 * 1024,
    max_total_bytes: 256 * 1024 * 1024,
    max_entries: 4096,
    max_age: Duration::from_secs(30 * 24 * 3600),
};

/// File header: format tag, then the origin URL on one line, then the DER object.
const MAGIC: &[u8] = b"notation-akv-revocation-cache-v1\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ocsp,
    Crl,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Ocsp => "ocsp",
            Kind::Crl => "crl",
        }
    }
}

/// Why the cache directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cache directory {path}: {source}")]
pub struct CacheError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub(crate) struct Cache {
    ocsp: CacheDir,
    crl: CacheDir,
}

/// One loaded entry.
pub(crate) struct Entry {
    pub origin: String,
    pub der: Vec<u8>,
}

impl Cache {
    pub(crate) fn open(root: &Path) -> Result<Self, CacheError> {
        let cache = Self {
            ocsp: CacheDir::new(root.join(Kind::Ocsp.dir()), LIMITS),
            crl: CacheDir::new(root.join(Kind::Crl.dir()), LIMITS),
        };
        for dir in [&cache.ocsp, &cache.crl] {
            dir.create().map_err(|source| CacheError {
                path: dir.path().to_path_buf(),
                source,
            })?;
        }
        Ok(cache)
    }

    fn dir(&self, kind: Kind) -> &CacheDir {
        match kind {
            Kind::Ocsp => &self.ocsp,
            Kind::Crl => &self.crl,
        }
    }

    fn name(key: &[u8]) -> String {
        let hash = sha2::Sha256::digest(key);
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The entry under `key`, or `None` when absent, unreadable or not to be trusted (another
    /// user's file, loose permissions): such a file is a miss and is replaced.
    pub(crate) fn get(&self, kind: Kind, key: &[u8]) -> Option<Entry> {
        let bytes = self.dir(kind).read(&Self::name(key)).ok()??;
        let rest = bytes.strip_prefix(MAGIC)?;
        let newline = rest.iter().position(|b| *b == b'\n')?;
        let origin = std::str::from_utf8(&rest[..newline]).ok()?.to_string();
        Some(Entry {
            origin,
            der: rest[newline + 1..].to_vec(),
        })
    }

    /// Stores `der` under `key`. Failures are returned for the caller to ignore: a cache that
    /// cannot be written only costs a fetch next time.
    pub(crate) fn put(
        &self,
        kind: Kind,
        key: &[u8],
        origin: &str,
        der: &[u8],
    ) -> std::io::Result<()> {
        let origin = origin.replace('\n', " ");
        let mut bytes = Vec::with_capacity(MAGIC.len() + origin.len() + 1 + der.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(origin.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(der);
        self.dir(kind).write(&Self::name(key), &bytes)
    }
}

/// Cache key of an OCSP response: the issuer's key and name, the serial and the CertID hash.
pub(crate) fn ocsp_key(
    issuer_spki_der: &[u8],
    issuer_name_der: &[u8],
    serial: &[u8],
    hash: &str,
) -> Vec<u8> {
    let mut key = Vec::new();
    for part in [hash.as_bytes(), issuer_name_der, issuer_spki_der, serial] {
        key.extend_from_slice(&(part.len() as u64).to_be_bytes());
        key.extend_from_slice(part);
    }
    key
}
