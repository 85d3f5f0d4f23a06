//! The on-disk cache of public vault material.
//!
//! notation starts the plugin twice per signature (describe-key, then generate-signature), and
//! every signature again. Fetching the certificate chain each time would double the vault round
//! trips, so the public chain and key spec are kept on disk, keyed by vault, object kind, name,
//! version and chain source:
//! - an entry for a versioned id never changes (vault versions are immutable);
//! - an entry for a versionless id lives for `cache_ttl` (default 60 s) so rotation is picked up;
//! - nothing secret is stored: callers put only certificates, key specs and version ids here.
//!
//! Robustness: the directory rules (entries owned by this user, 0600 in a 0700 directory, atomic
//! writes, pruning to a bound) are `notation_akv_cachedir`'s. On top, a read checks the format,
//! that the entry belongs to the key asked for, and a SHA-256 digest over its content; anything
//! off (truncation, edits, a file copied under another name, another user's file) makes the entry
//! count as absent, and it is rebuilt. The signer also verifies every signature against the
//! cached leaf before returning it, so even a consistent-looking forged entry cannot yield a
//! signature that does not match its chain.

use crate::log::RequestLog;
use crate::settings::CacheSettings;
use notation_akv_cachedir::{CacheDir, Limits};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FORMAT: u32 = 1;
/// A chain is a few KiB: 1 MiB per entry is far more than any vault certificate chain, and the
/// directory stays under 16 MiB / 1024 entries. Entries not rewritten for 30 days are pruned (a
/// versioned entry is then fetched again once).
pub const LIMITS: Limits = Limits {
    max_entry_bytes: 1024 * 1024,
    max_total_bytes: 16 * 1024 * 1024,
    max_entries: 1024,
    max_age: Duration::from_secs(30 * 24 * 3600),
};
/// Tolerated clock skew for entries "from the future".
const SKEW: u64 = 60;

/// What an entry is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// Host\[:port\] of the vault.
    pub vault: String,
    /// `keys` or `certificates`.
    pub collection: String,
    pub name: String,
    /// `None` for a versionless id: such entries expire after the configured lifetime.
    pub version: Option<String>,
    /// What else shaped the entry (the chain source, a bundle digest); part of the identity.
    pub variant: String,
}

impl CacheKey {
    fn canonical(&self) -> String {
        format!(
            "v{FORMAT}|{}|{}|{}|{}|{}",
            self.vault,
            self.collection,
            self.name,
            self.version.as_deref().unwrap_or("-"),
            self.variant
        )
    }

    fn file_name(&self) -> String {
        format!("{}.json", hex(&Sha256::digest(self.canonical().as_bytes())))
    }
}

/// An open cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: CacheDir,
    versionless_ttl: Duration,
    log: RequestLog,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    format: u32,
    key: String,
    created: u64,
    payload: serde_json::Value,
    digest: String,
}

fn entry_digest(key: &str, created: u64, payload: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(key.as_bytes());
    hasher.update(b"\n");
    hasher.update(created.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(payload.to_string().as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Cache {
    /// The cache, or `None` when it is switched off or has no directory. Opening touches no disk.
    pub fn open(settings: &CacheSettings, log: RequestLog) -> Option<Cache> {
        if !settings.enabled {
            return None;
        }
        Some(Cache {
            dir: CacheDir::new(settings.dir.clone()?, LIMITS),
            versionless_ttl: settings.versionless_ttl,
            log,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The entry for `key`, if present, intact and fresh.
    pub fn get<T: DeserializeOwned>(&self, key: &CacheKey) -> Option<T> {
        if key.version.is_none() && self.versionless_ttl.is_zero() {
            return None;
        }
        let name = key.file_name();
        match self.read(&name, key) {
            Ok(Some(value)) => Some(value),
            Ok(None) => None,
            Err(reason) => {
                // Left in place: the fetch that follows replaces it atomically, and a file in
                // a directory that is not ours is not ours to delete.
                self.log.note(&format!(
                    "cache entry {} ignored: {reason}",
                    self.dir.path().join(&name).display()
                ));
                None
            }
        }
    }

    fn read<T: DeserializeOwned>(&self, name: &str, key: &CacheKey) -> Result<Option<T>, String> {
        let Some(bytes) = self.dir.read(name).map_err(|r| r.to_string())? else {
            return Ok(None);
        };
        let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| format!("corrupt ({e})"))?;
        let canonical = key.canonical();
        if entry.format != FORMAT {
            return Err(format!("format {} is not {FORMAT}", entry.format));
        }
        if entry.key != canonical {
            return Err("it belongs to another key".into());
        }
        if entry.digest != entry_digest(&entry.key, entry.created, &entry.payload) {
            return Err("digest mismatch (modified or damaged)".into());
        }
        let now = now();
        if entry.created > now + SKEW {
            return Err("created in the future".into());
        }
        if key.version.is_none()
            && now.saturating_sub(entry.created) >= self.versionless_ttl.as_secs()
        {
            // Expired, not damaged: it is simply replaced.
            return Ok(None);
        }
        serde_json::from_value(entry.payload)
            .map(Some)
            .map_err(|e| format!("unexpected content ({e})"))
    }

    /// Stores `value` for `key`. Failures are logged, never fatal: the cache is an optimisation.
    pub fn put<T: Serialize>(&self, key: &CacheKey, value: &T) {
        if key.version.is_none() && self.versionless_ttl.is_zero() {
            return;
        }
        if let Err(e) = self.write(key, value) {
            self.log.note(&format!(
                "cache write in {} failed: {e}",
                self.dir.path().display()
            ));
        }
    }

    fn write<T: Serialize>(&self, key: &CacheKey, value: &T) -> std::io::Result<()> {
        let payload = serde_json::to_value(value)?;
        let canonical = key.canonical();
        let created = now();
        let entry = Entry {
            format: FORMAT,
            digest: entry_digest(&canonical, created, &payload),
            key: canonical,
            created,
            payload,
        };
        self.dir
            .write(&key.file_name(), &serde_json::to_vec(&entry)?)
    }

    /// Drops the entry (after the vault contradicted it, e.g. a rotated or disabled version).
    pub fn remove(&self, key: &CacheKey) {
        self.dir.remove(&key.file_name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Material {
        spec: String,
        chain: Vec<String>,
    }

    fn material() -> Material {
        Material {
            spec: "EC-256".into(),
            chain: vec!["MIIB".into()],
        }
    }

    fn key(version: Option<&str>) -> CacheKey {
        CacheKey {
            vault: "v.vault.azure.net".into(),
            collection: "certificates".into(),
            name: "signer".into(),
            version: version.map(str::to_string),
            variant: "secret".into(),
        }
    }

    fn cache(dir: &Path, ttl: Duration) -> Cache {
        Cache::open(
            &CacheSettings {
                enabled: true,
                versionless_ttl: ttl,
                dir: Some(dir.join("cache")),
            },
            RequestLog::disabled(),
        )
        .unwrap()
    }

    #[test]
    fn round_trip_with_private_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let c = cache(tmp.path(), Duration::from_secs(60));
        assert_eq!(c.get::<Material>(&key(Some("1"))), None);
        c.put(&key(Some("1")), &material());
        assert_eq!(c.get::<Material>(&key(Some("1"))), Some(material()));
        assert_eq!(
            c.get::<Material>(&key(Some("2"))),
            None,
            "versions are separate"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir_mode = std::fs::metadata(c.dir()).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700);
            for entry in std::fs::read_dir(c.dir()).unwrap() {
                let mode = entry.unwrap().metadata().unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
        let names: Vec<_> = std::fs::read_dir(c.dir()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn tampered_or_corrupt_entries_are_ignored_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let c = cache(tmp.path(), Duration::from_secs(60));
        let k = key(Some("1"));
        c.put(&k, &material());
        let path = c.dir().join(k.file_name());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("EC-256", "EC-384")).unwrap();
        assert_eq!(c.get::<Material>(&k), None);
        c.put(&k, &material());
        assert_eq!(
            c.get::<Material>(&k),
            Some(material()),
            "a bad entry is replaced by the next write"
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(c.get::<Material>(&k), None);

        // An intact entry copied under another key's name is refused.
        c.put(&k, &material());
        let other = key(Some("2"));
        std::fs::copy(&path, c.dir().join(other.file_name())).unwrap();
        assert_eq!(c.get::<Material>(&other), None);
        assert_eq!(c.get::<Material>(&k), Some(material()));
    }

    #[cfg(unix)]
    #[test]
    fn entries_others_can_write_are_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let c = cache(tmp.path(), Duration::from_secs(60));
        let k = key(Some("1"));
        c.put(&k, &material());
        let path = c.dir().join(k.file_name());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(c.get::<Material>(&k), None);
    }

    #[test]
    fn versionless_entries_expire_and_zero_ttl_disables_them() {
        let tmp = tempfile::tempdir().unwrap();
        let c = cache(tmp.path(), Duration::from_secs(60));
        c.put(&key(None), &material());
        assert_eq!(c.get::<Material>(&key(None)), Some(material()));
        // Age the entry past its lifetime by rewriting `created` with a valid digest.
        let path = c.dir().join(key(None).file_name());
        let mut entry: Entry = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        entry.created -= 61;
        entry.digest = entry_digest(&entry.key, entry.created, &entry.payload);
        std::fs::write(&path, serde_json::to_vec(&entry).unwrap()).unwrap();
        assert_eq!(c.get::<Material>(&key(None)), None);

        let off = cache(tmp.path(), Duration::ZERO);
        off.put(&key(None), &material());
        assert_eq!(off.get::<Material>(&key(None)), None);
        off.put(&key(Some("1")), &material());
        assert_eq!(off.get::<Material>(&key(Some("1"))), Some(material()));
    }

    #[test]
    fn disabled_cache_does_not_open() {
        let settings = CacheSettings {
            enabled: false,
            versionless_ttl: Duration::from_secs(60),
            dir: Some(PathBuf::from("/nonexistent")),
        };
        assert!(Cache::open(&settings, RequestLog::disabled()).is_none());
    }
}
