//! Private on-disk cache directories, shared by both plugins' caches.
//!
//! notation starts a plugin process for every command, so both plugins keep what they fetched on
//! disk: the signer its public chains and key specs (`notation-akv-keyvault`), the verifier its
//! OCSP responses and CRLs (`notation-akv-revocation`). Those caches decide *what* an entry means
//! and when it is stale; this crate decides *whether a file may be read at all* and keeps the
//! directory bounded. The rules:
//!
//! - **Trust.** A directory or entry is read only when it belongs to the process's effective user
//!   and nobody else may read or write it (directory 0700, entries 0600) and the entry is a
//!   regular file no larger than the cache's per-entry bound. Anything else is a [`Refusal`]: the
//!   caller logs it and fetches afresh, as for a missing entry. Another user who can write to the
//!   directory could otherwise plant entries.
//! - **Atomic writes.** An entry is written to a unique temporary file in the same directory
//!   (`create_new`, mode 0600), synced and renamed over the entry, so concurrent processes see
//!   the old or the new entry, never a torn one.
//! - **Never fatal.** Creating, writing and pruning return errors for the caller to log and
//!   ignore: an unwritable, full (ENOSPC) or read-only cache only costs a fetch next time.
//! - **Bounded.** After each write the directory is pruned ([`CacheDir::prune`]): temporary files
//!   left by a killed process, entries not rewritten within [`Limits::max_age`], files that are not
//!   ours, and then the oldest entries until both [`Limits::max_entries`] and
//!   [`Limits::max_total_bytes`] hold. Writes happen only after a cache miss (a network fetch),
//!   so the scan's cost is paid beside a round trip, never on the warm path.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Temporary files older than this were left by a process that died mid-write.
const TEMP_GRACE: Duration = Duration::from_secs(600);
const TEMP_SUFFIX: &str = ".tmp";

/// The bounds of one cache directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Larger entries are refused on read and never written.
    pub max_entry_bytes: u64,
    /// Pruning removes the oldest entries until the directory holds at most this many bytes.
    pub max_total_bytes: u64,
    /// … and at most this many entries.
    pub max_entries: usize,
    /// Entries not (re)written within this time are removed by pruning.
    pub max_age: Duration,
}

/// Why an entry (or its directory) is not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A directory, symlink, device or other non-regular file under the entry's name.
    NotRegularFile,
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    /// Owned by another user than the process's effective user.
    ForeignOwner {
        what: &'static str,
        uid: u32,
    },
    /// Group or others may read or write it.
    LoosePermissions {
        what: &'static str,
        mode: u32,
    },
    Unreadable(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotRegularFile => f.write_str("not a regular file"),
            Refusal::TooLarge { bytes, limit } => {
                write!(f, "{bytes} bytes, more than the {limit}-byte bound")
            }
            Refusal::ForeignOwner { what, uid } => write!(
                f,
                "the {what} is owned by uid {uid}, not by this user; it is not trusted"
            ),
            Refusal::LoosePermissions { what, mode } => write!(
                f,
                "the {what} has mode {mode:04o}, readable or writable by others; it is not trusted"
            ),
            Refusal::Unreadable(reason) => write!(f, "unreadable: {reason}"),
        }
    }
}

/// What one pruning pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub temporary: usize,
    pub expired: usize,
    pub foreign: usize,
    pub over_bound: usize,
}

impl Pruned {
    pub fn total(&self) -> usize {
        self.temporary + self.expired + self.foreign + self.over_bound
    }
}

/// One private cache directory. Creating the value touches no disk.
#[derive(Clone, Debug)]
pub struct CacheDir {
    path: PathBuf,
    limits: Limits,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl CacheDir {
    pub fn new(path: impl Into<PathBuf>, limits: Limits) -> CacheDir {
        CacheDir {
            path: path.into(),
            limits,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The bytes of entry `name`: `Ok(None)` when there is none (nor a directory), `Err` when a
    /// file is there but must not be trusted.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Refusal> {
        let path = self.path.join(name);
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Refusal::Unreadable(e.to_string())),
        };
        if !metadata.is_file() {
            return Err(Refusal::NotRegularFile);
        }
        if metadata.len() > self.limits.max_entry_bytes {
            return Err(Refusal::TooLarge {
                bytes: metadata.len(),
                limit: self.limits.max_entry_bytes,
            });
        }
        let directory = std::fs::metadata(&self.path)
            .map_err(|e| Refusal::Unreadable(format!("cache directory: {e}")))?;
        trust::check(&directory, "cache directory")?;
        trust::check(&metadata, "cache entry")?;
        let bytes = std::fs::read(&path).map_err(|e| Refusal::Unreadable(e.to_string()))?;
        if bytes.len() as u64 > self.limits.max_entry_bytes {
            // Grew between the check and the read.
            return Err(Refusal::TooLarge {
                bytes: bytes.len() as u64,
                limit: self.limits.max_entry_bytes,
            });
        }
        Ok(Some(bytes))
    }

    /// Creates the directory (0700) when absent and tightens one of ours that others can reach;
    /// an error when it cannot be made private (another user's, read-only, not a directory).
    pub fn create(&self) -> std::io::Result<()> {
        trust::create_private_dir(&self.path)
    }

    /// Writes entry `name` atomically, then prunes the directory. Creates the directory (0700)
    /// when absent and tightens one of ours that others can reach; refuses one owned by another
    /// user.
    pub fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.len() as u64 > self.limits.max_entry_bytes {
            return Err(std::io::Error::other(format!(
                "entry of {} bytes exceeds the {}-byte bound",
                bytes.len(),
                self.limits.max_entry_bytes
            )));
        }
        trust::create_private_dir(&self.path)?;
        let temp = self.path.join(format!(
            ".{name}.{}.{}.{}{TEMP_SUFFIX}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        ));
        let result = (|| {
            let mut file = trust::create_private_file(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&temp, self.path.join(name))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
            return result;
        }
        self.prune().map(|_| ())
    }

    /// Removes entry `name` (after its content was contradicted or found damaged).
    pub fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.path.join(name));
    }

    /// One pruning pass (see the crate doc). Entries vanishing underneath (another process
    /// pruning at the same time) are not errors.
    pub fn prune(&self) -> std::io::Result<Pruned> {
        let now = SystemTime::now();
        let age = |m: &std::fs::Metadata| {
            m.modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default()
        };
        let mut pruned = Pruned::default();
        let mut kept: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for item in std::fs::read_dir(&self.path)? {
            let Ok(item) = item else { continue };
            let Ok(metadata) = item.metadata() else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let path = item.path();
            let name = item.file_name();
            let name = name.to_string_lossy();
            let counter = if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                if age(&metadata) < TEMP_GRACE {
                    continue; // another process is writing it
                }
                &mut pruned.temporary
            } else if trust::check(&metadata, "cache entry").is_err() {
                &mut pruned.foreign
            } else if age(&metadata) > self.limits.max_age {
                &mut pruned.expired
            } else {
                kept.push((
                    metadata.modified().unwrap_or(UNIX_EPOCH),
                    metadata.len(),
                    path,
                ));
                continue;
            };
            if remove(&path) {
                *counter += 1;
            }
        }
        kept.sort();
        let mut count = kept.len();
        let mut total: u64 = kept.iter().map(|(_, len, _)| len).sum();
        for (_, len, path) in kept {
            if count <= self.limits.max_entries && total <= self.limits.max_total_bytes {
                break;
            }
            if remove(&path) {
                pruned.over_bound += 1;
            }
            count -= 1;
            total = total.saturating_sub(len);
        }
        Ok(pruned)
    }
}

fn remove(path: &Path) -> bool {
    // Another process may have pruned it first: only our own removals are counted.
    std::fs::remove_file(path).is_ok()
}

#[cfg(unix)]
mod trust {
    use super::Refusal;
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
    use std::path::Path;

    pub(crate) fn check(metadata: &std::fs::Metadata, what: &'static str) -> Result<(), Refusal> {
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(Refusal::ForeignOwner {
                what,
                uid: metadata.uid(),
            });
        }
        let mode = metadata.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Refusal::LoosePermissions { what, mode });
        }
        Ok(())
    }

    pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        match std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            Ok(()) => {}
            Err(e) if dir.is_dir() => drop(e),
            Err(e) => return Err(e),
        }
        let metadata = std::fs::metadata(dir)?;
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is owned by uid {}, not by this user (uid {me})",
                    dir.display(),
                    metadata.uid()
                ),
            ));
        }
        if metadata.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    pub(crate) fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    }
}

#[cfg(not(unix))]
mod trust {
    use super::Refusal;
    use std::path::Path;

    pub(crate) fn check(_: &std::fs::Metadata, _: &'static str) -> Result<(), Refusal> {
        Ok(())
    }

    pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    pub(crate) fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const LIMITS: Limits = Limits {
        max_entry_bytes: 1024,
        max_total_bytes: 4096,
        max_entries: 8,
        max_age: Duration::from_secs(3600),
    };

    fn dir(tmp: &tempfile::TempDir) -> CacheDir {
        CacheDir::new(tmp.path().join("cache"), LIMITS)
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn age(path: &Path, by: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn writes_private_entries_atomically_and_reads_them_back() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = dir(&tmp);
        assert_eq!(cache.read("a").unwrap(), None, "absent, no directory yet");
        cache.write("a", b"one").unwrap();
        assert_eq!(cache.read("a").unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(mode(cache.path()), 0o700);
        assert_eq!(mode(&cache.path().join("a")), 0o600);
        cache.write("a", b"two").unwrap();
        assert_eq!(cache.read("a").unwrap().as_deref(), Some(&b"two"[..]));
        let names: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn loose_permissions_and_odd_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = dir(&tmp);
        cache.write("a", b"one").unwrap();
        let entry = cache.path().join("a");
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            cache.read("a"),
            Err(Refusal::LoosePermissions { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let refusal = cache.read("a").unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the cache directory has mode 0755, readable or writable by others; it is not trusted"
        );
        // Our own directory is tightened again by the next write.
        cache.write("b", b"two").unwrap();
        assert_eq!(mode(cache.path()), 0o700);
        assert!(cache.read("a").unwrap().is_some());

        std::fs::create_dir(cache.path().join("d")).unwrap();
        assert_eq!(cache.read("d"), Err(Refusal::NotRegularFile));
        std::os::unix::fs::symlink(&entry, cache.path().join("link")).unwrap();
        assert_eq!(cache.read("link"), Err(Refusal::NotRegularFile));
        std::fs::write(cache.path().join("big"), vec![0; 2048]).unwrap();
        std::fs::set_permissions(
            cache.path().join("big"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert!(matches!(
            cache.read("big"),
            Err(Refusal::TooLarge { bytes: 2048, .. })
        ));
        assert!(
            cache.write("big", &[0; 2048]).is_err(),
            "never written either"
        );
    }

    #[test]
    fn entries_of_another_user_are_refused_and_their_directory_is_not_written() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = dir(&tmp);
        cache.write("a", b"one").unwrap();
        assert_eq!(
            rustix::process::geteuid().as_raw(),
            0,
            "this test gives files away with chown, which needs root (CI runs as root)"
        );
        let entry = cache.path().join("a");
        rustix::fs::chown(&entry, Some(rustix::fs::Uid::from_raw(65534)), None).unwrap();
        assert_eq!(
            cache.read("a"),
            Err(Refusal::ForeignOwner {
                what: "cache entry",
                uid: 65534
            })
        );
        // Pruning removes what is not ours from our directory.
        cache.write("b", b"two").unwrap();
        assert!(!entry.exists());
        rustix::fs::chown(cache.path(), Some(rustix::fs::Uid::from_raw(65534)), None).unwrap();
        assert!(matches!(
            cache.read("b"),
            Err(Refusal::ForeignOwner {
                what: "cache directory",
                ..
            })
        ));
        let error = cache.write("c", b"three").unwrap_err();
        assert!(error.to_string().contains("owned by uid 65534"), "{error}");
    }

    #[test]
    fn pruning_removes_stale_temporaries_expired_entries_and_the_oldest_over_the_bounds() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = dir(&tmp);
        cache.write("fresh", b"x").unwrap();
        for name in ["old", "older"] {
            cache.write(name, b"x").unwrap();
        }
        age(&cache.path().join("old"), Duration::from_secs(7200));
        age(&cache.path().join("older"), Duration::from_secs(9000));
        let stale = cache.path().join(".fresh.1.2.3.tmp");
        let live = cache.path().join(".fresh.4.5.6.tmp");
        for temp in [&stale, &live] {
            std::fs::write(temp, b"partial").unwrap();
            std::fs::set_permissions(temp, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        age(&stale, Duration::from_secs(3600));
        let pruned = cache.prune().unwrap();
        assert_eq!(
            pruned,
            Pruned {
                temporary: 1,
                expired: 2,
                ..Pruned::default()
            }
        );
        assert!(
            live.exists(),
            "a temporary file being written is left alone"
        );
        assert!(cache.path().join("fresh").exists());

        // Over the entry count: the oldest go first, the newest stays.
        for i in 0..12 {
            cache.write(&format!("e{i}"), b"x").unwrap();
            age(
                &cache.path().join(format!("e{i}")),
                Duration::from_secs(100 - i),
            );
        }
        cache.prune().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        assert_eq!(names.len(), LIMITS.max_entries);
        assert!(names.contains(&"e11".to_string()) && !names.contains(&"e0".to_string()));

        // Over the byte bound.
        for i in 0..6 {
            cache.write(&format!("big{i}"), &[7; 1000]).unwrap();
        }
        let total: u64 = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= LIMITS.max_total_bytes, "{total} bytes kept");
        assert!(cache.read("big5").unwrap().is_some(), "the newest stays");
    }

    #[test]
    fn a_read_only_or_missing_parent_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let cache = CacheDir::new(file.join("cache"), LIMITS);
        assert!(cache.write("a", b"one").is_err());
        assert!(!matches!(cache.read("a"), Ok(Some(_))));
    }
}
