//! The disk cache of OCSP responses and CRLs.
//!
//! Entries are the objects exactly as fetched plus the URL they came from; they are re-verified
//! (signature and times) every time they are loaded, so a tampered or stale file is never trusted,
//! only ignored and replaced. Writes go to a unique temporary file that is renamed over the entry,
//! so concurrent processes see the old or the new entry, never a torn one. Directories are 0700
//! and files 0600: a CRL is public, but which certificates a host checks is not.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::Digest as _;

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
    root: PathBuf,
}

/// One loaded entry.
pub(crate) struct Entry {
    pub origin: String,
    pub der: Vec<u8>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Cache {
    pub(crate) fn open(root: &Path) -> Result<Self, CacheError> {
        for kind in [Kind::Ocsp, Kind::Crl] {
            let dir = root.join(kind.dir());
            create_private_dir(&dir).map_err(|source| CacheError {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, kind: Kind, key: &[u8]) -> PathBuf {
        let hash = sha2::Sha256::digest(key);
        let name: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        self.root.join(kind.dir()).join(name)
    }

    /// The entry under `key`, or `None` when absent or unreadable (a corrupt file is a miss).
    pub(crate) fn get(&self, kind: Kind, key: &[u8]) -> Option<Entry> {
        let bytes = std::fs::read(self.path(kind, key)).ok()?;
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
        let target = self.path(kind, key);
        let dir = target.parent().unwrap_or(&self.root);
        let temp = dir.join(format!(
            ".tmp-{}-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let origin = origin.replace('\n', " ");
        let result = (|| {
            let mut file = create_private_file(&temp)?;
            file.write_all(MAGIC)?;
            file.write_all(origin.as_bytes())?;
            file.write_all(b"\n")?;
            file.write_all(der)?;
            file.sync_all()?;
            std::fs::rename(&temp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
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

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // An existing directory keeps whatever mode it had; tighten ours.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
