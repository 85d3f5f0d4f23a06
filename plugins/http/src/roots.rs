//! The system's TLS trust anchors on Linux and the BSDs, read once per process and fast.
//!
//! There, reqwest's platform verifier loads the roots through `rustls-native-certs`: the files
//! named by `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set, otherwise OpenSSL's usual places
//! (`openssl-probe`): on Debian the bundle `/etc/ssl/certs/ca-certificates.crt` *and* every file
//! in `/etc/ssl/certs`, so each of the ~140 roots is decoded twice, by a general PEM parser. That
//! was about 17.5 million instructions, two thirds of a warm `generate-signature`, in every
//! process that connects anywhere.
//!
//! This module reads the same places in the same precedence, in two stages:
//!
//! 1. [`RootLocations::file_anchors`]: the bundle file. It scans only for `CERTIFICATE` sections,
//!    decodes them with the `base64` crate and keeps what webpki accepts as a trust anchor, parsed
//!    once into the form rustls verifies against (as the platform verifier does, a root it cannot
//!    parse is skipped, not fatal).
//! 2. [`RootLocations::directory_anchors`]: the directories, minus the sections the bundle already
//!    had (skipped before decoding: on Debian the directory holds the bundle's roots as single
//!    files). OpenSSL itself treats a certificate directory as a place to *look up* an issuer
//!    when its bundle has none; [`crate::tls`] does the same: it reads the directories only
//!    when a server's chain does not verify against the bundle alone, so the usual process
//!    never reads them, and the roots trusted in the end are the same union as before.
//!
//! Both stages are kept for the process ([`system_roots`]), so the vault, token, OCSP, CRL and
//! timestamp clients share one load.

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, TrustAnchor};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// Where the roots come from: the environment's choice, else OpenSSL's usual places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootLocations {
    pub file: Option<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

/// Trust anchors read from one stage, with what identifies the sections they came from.
#[derive(Debug, Default)]
pub struct Anchors {
    pub anchors: Vec<TrustAnchor<'static>>,
    seen: Seen,
}

/// What a later stage skips: the sections (by length and last 64 base64 characters, the end
/// of the signature, before decoding) and the certificates (by length and last 32 bytes) seen
/// so far. Cheaper than hashing whole certificates; a collision could only leave a root out
/// (fail closed), never add one.
#[derive(Debug, Default, Clone)]
struct Seen {
    sections: HashSet<(usize, Vec<u8>)>,
    certificates: HashSet<(usize, Vec<u8>)>,
}

impl Seen {
    fn first_section(&mut self, section: &[u8]) -> bool {
        let tail = &section[section.len().saturating_sub(64)..];
        self.sections.insert((section.len(), tail.to_vec()))
    }

    fn first_certificate(&mut self, der: &[u8]) -> bool {
        let tail = &der[der.len().saturating_sub(32)..];
        self.certificates.insert((der.len(), tail.to_vec()))
    }
}

impl RootLocations {
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` (a `:`-separated list) when either is set; otherwise
    /// what `openssl-probe` finds.
    pub fn from_env_or_probe() -> RootLocations {
        let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
            .map(|dirs| {
                std::env::split_paths(&dirs)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if file.is_some() || !dirs.is_empty() {
            return RootLocations { file, dirs };
        }
        let probed = openssl_probe::probe();
        RootLocations {
            file: probed.cert_file,
            dirs: probed.cert_dir,
        }
    }

    /// Stage 1: every distinct trust anchor of the bundle file (none when there is no file or
    /// it cannot be read).
    pub fn file_anchors(&self) -> Anchors {
        let mut stage = Anchors::default();
        if let Some(file) = &self.file
            && let Ok(text) = std::fs::read(file)
        {
            stage.add_text(&text);
        }
        stage
    }

    /// Stage 2: the trust anchors of the directories, in order, that `before` does not hold.
    /// Unreadable files are skipped; a file reached by several links (`openssl rehash` makes
    /// hash-named links) is read once.
    pub fn directory_anchors(&self, before: &Anchors) -> Anchors {
        let mut stage = Anchors {
            anchors: Vec::new(),
            seen: before.seen.clone(),
        };
        let mut seen_files = SeenFiles::default();
        if let Some(file) = &self.file {
            seen_files.first_time(file);
        }
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.is_file()
                    && seen_files.first_time(&path)
                    && let Ok(text) = std::fs::read(&path)
                {
                    stage.add_text(&text);
                }
            }
        }
        stage
    }
}

impl Anchors {
    fn add_text(&mut self, text: &[u8]) {
        let mut scratch = Vec::new();
        for section in pem_sections(text) {
            if !self.seen.first_section(section) {
                continue;
            }
            let Some(der) = decode_section(section, &mut scratch) else {
                continue;
            };
            if let Ok(anchor) =
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                && self.seen.first_certificate(&der)
            {
                self.anchors.push(anchor.to_owned());
            }
        }
    }
}

/// The process's system roots (see the module doc): stage 1 on first use, stage 2 on first
/// [`SystemRoots::directories`] call.
pub fn system_roots() -> &'static SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS.get_or_init(|| SystemRoots::read(RootLocations::from_env_or_probe()))
}

/// The two stages of the process's roots.
#[derive(Debug)]
pub struct SystemRoots {
    locations: RootLocations,
    file: Anchors,
    directories: OnceLock<Vec<TrustAnchor<'static>>>,
}

impl SystemRoots {
    /// Reads stage 1 now; stage 2 waits for [`SystemRoots::directories`].
    pub fn read(locations: RootLocations) -> SystemRoots {
        let file = locations.file_anchors();
        SystemRoots {
            locations,
            file,
            directories: OnceLock::new(),
        }
    }

    /// The bundle file's anchors.
    pub fn file(&self) -> &[TrustAnchor<'static>] {
        &self.file.anchors
    }

    /// The directories' anchors that the bundle does not hold, read on the first call.
    pub fn directories(&self) -> &[TrustAnchor<'static>] {
        self.directories
            .get_or_init(|| self.locations.directory_anchors(&self.file).anchors)
    }
}

/// Each file once, however many links lead to it (`openssl rehash` makes hash-named links).
#[derive(Default)]
struct SeenFiles(HashSet<(u64, u64)>);

impl SeenFiles {
    #[cfg(unix)]
    fn first_time(&mut self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        match std::fs::metadata(path) {
            Ok(m) => self.0.insert((m.dev(), m.ino())),
            Err(_) => false,
        }
    }

    #[cfg(not(unix))]
    fn first_time(&mut self, path: &Path) -> bool {
        path.exists()
    }
}

/// The base64 text between each `BEGIN CERTIFICATE` and its `END` line.
fn pem_sections(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = find(rest, BEGIN)?;
        let after = &rest[start + BEGIN.len()..];
        let end = find(after, END)?;
        rest = &after[end + END.len()..];
        Some(&after[..end])
    })
}

/// Decodes one section: its lines, trimmed and joined in `scratch`, in one base64 call; when a
/// line holds whitespace inside, the section with all whitespace removed.
fn decode_section(section: &[u8], scratch: &mut Vec<u8>) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::STANDARD;
    scratch.clear();
    for line in section.split(|b| *b == b'\n') {
        scratch.extend_from_slice(line.trim_ascii());
    }
    if let Ok(der) = engine.decode(&scratch) {
        return Some(der);
    }
    scratch.retain(|b| !b.is_ascii_whitespace());
    engine.decode(&scratch).ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DER of every well-formed `CERTIFICATE` PEM section in `text`, as stage 1 decodes them.
    fn pem_certificates(text: &[u8]) -> Vec<Vec<u8>> {
        let mut scratch = Vec::new();
        pem_sections(text)
            .filter_map(|section| decode_section(section, &mut scratch))
            .collect()
    }

    impl RootLocations {
        /// Both stages, file first, then the directories in order.
        fn load(&self) -> Vec<TrustAnchor<'static>> {
            let file = self.file_anchors();
            let dirs = self.directory_anchors(&file);
            file.anchors.into_iter().chain(dirs.anchors).collect()
        }
    }

    fn system_bundle() -> Vec<u8> {
        std::fs::read("/etc/ssl/certs/ca-certificates.crt")
            .expect("the ca-certificates bundle (Debian's ca-certificates package)")
    }

    #[test]
    fn reads_the_same_roots_as_rustls_native_certs() {
        let bundle = system_bundle();
        let ours = pem_certificates(&bundle);
        let theirs: Vec<Vec<u8>> = rustls::pki_types::pem::PemObject::pem_slice_iter(&bundle)
            .map(|c: Result<CertificateDer<'static>, _>| c.unwrap().to_vec())
            .collect();
        assert!(ours.len() > 100, "{} roots", ours.len());
        assert_eq!(ours, theirs);
    }

    #[test]
    fn the_bundle_and_the_directory_give_each_root_once() {
        let both = RootLocations {
            file: Some("/etc/ssl/certs/ca-certificates.crt".into()),
            dirs: vec!["/etc/ssl/certs".into()],
        }
        .load();
        let bundle = RootLocations {
            file: Some("/etc/ssl/certs/ca-certificates.crt".into()),
            dirs: vec![],
        }
        .load();
        assert!(bundle.len() > 100);
        // The directory holds the bundle's roots as single files (plus local additions such as
        // a snakeoil certificate): the bundle's roots come first, then only what the directory
        // adds.
        let key = |a: &TrustAnchor<'_>| (a.subject.to_vec(), a.subject_public_key_info.to_vec());
        assert_eq!(&both[..bundle.len()], &bundle[..]);
        let in_bundle: HashSet<_> = bundle.iter().map(key).collect();
        assert!(
            both[bundle.len()..]
                .iter()
                .all(|a| !in_bundle.contains(&key(a)))
        );
        assert!(both.len() < bundle.len() + 10, "{} roots", both.len());
    }

    #[test]
    fn other_sections_and_damage_are_skipped() {
        let bundle = system_bundle();
        let first = pem_certificates(&bundle).remove(0);
        let pem = |body: &str| {
            format!(
                "{}\n{body}\n{}\n",
                "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
            )
        };
        let good = base64::engine::general_purpose::STANDARD.encode(&first);
        // The same certificate wrapped at 70 columns, and with a space inside a line.
        let wrapped_70: String = good
            .as_bytes()
            .chunks(70)
            .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
            .collect();
        let text = format!(
            "# comment\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{}{}{}{}{}",
            pem("!!!not base64!!!"),
            pem(&good),
            pem(&wrapped_70),
            pem(&format!("{} {}", &good[..10], &good[10..])),
            "-----BEGIN CERTIFICATE-----\ntruncated"
        );
        assert_eq!(
            pem_certificates(text.as_bytes()),
            vec![first.clone(), first.clone(), first]
        );
    }
}
