//! The offline bundle: a folder of CRLs (`*.crl`, DER or PEM) and OCSP responses (`*.ocsp`,
//! `*.der`) for hosts that cannot reach the CA.
//!
//! Two kinds of folder are read:
//!
//! - **with `manifest.json`** (written by `notation-akv-verifier bundle fetch`, see
//!   [`manifest`]): only the files the manifest lists are used, and only when their SHA-256 and
//!   size match it, so a truncated or corrupted copy is reported and never used. The manifest is
//!   the commit point of a refresh: it is renamed into place after the files it names, so a
//!   reader sees the old set or the new one;
//! - **without a manifest** (copied in by hand): every `*.crl`, `*.ocsp` and `*.der` file.
//!
//! Either way files are matched to a certificate by issuer name (CRLs) or serial and CertID
//! (OCSP) and then verified exactly like fetched ones (signature, issuer, freshness): the
//! manifest adds integrity, never trust. [`write`](mod@write) produces such folders.

pub mod manifest;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use x509_cert::Certificate;

use crate::crl::Crl;
use crate::extensions;
use crate::ocsp;
pub use manifest::{MANIFEST_FILE, Manifest, ManifestChain, ManifestFile};

/// Why the bundle folder cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("offline bundle {path}: {source}")]
pub struct BundleError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// What a fetched object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchedKind {
    Ocsp,
    Crl,
    DeltaCrl,
}

impl FetchedKind {
    /// The manifest's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchedKind::Ocsp => "ocsp",
            FetchedKind::Crl => "crl",
            FetchedKind::DeltaCrl => "delta-crl",
        }
    }
}

/// An OCSP response or CRL that passed verification, with what the manifest says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub kind: FetchedKind,
    /// Where it came from (the responder URL for OCSP).
    pub url: String,
    pub der: Vec<u8>,
    /// The certificate an OCSP response answers for, or the issuer whose certificates a CRL covers.
    pub covers: String,
    /// Subject of the issuing CA.
    pub issuer: String,
    /// Serial (hex) of the certificate an OCSP response answers for.
    pub serial: Option<String>,
    pub this_update: SystemTime,
    /// As stated in the object; `None` for an OCSP response without one.
    pub next_update: Option<SystemTime>,
    /// When verification stops accepting it (nextUpdate, or thisUpdate + `ocsp_max_age`).
    pub expires: Option<SystemTime>,
}

impl Fetched {
    pub(crate) fn describe(
        kind: FetchedKind,
        url: &str,
        der: Vec<u8>,
        cert: &Certificate,
        issuer: &Certificate,
        rules: &ocsp::Rules<'_>,
    ) -> Self {
        let issuer_name = extensions::subject(issuer);
        let (covers, serial, this_update, next_update) = match kind {
            FetchedKind::Ocsp => {
                let serial = extensions::serial_hex(cert.tbs_certificate.serial_number.as_bytes());
                let (this, next) =
                    ocsp::validity(&der, cert, issuer).unwrap_or((SystemTime::UNIX_EPOCH, None));
                (
                    format!(
                        "certificate \"{}\" (serial {serial})",
                        extensions::subject(cert)
                    ),
                    Some(serial),
                    this,
                    next,
                )
            }
            FetchedKind::Crl | FetchedKind::DeltaCrl => {
                let (this, next) = Crl::parse(&der)
                    .map(|c| {
                        (
                            c.list.tbs_cert_list.this_update.to_system_time(),
                            c.next_update(),
                        )
                    })
                    .unwrap_or((SystemTime::UNIX_EPOCH, None));
                (
                    format!("certificates issued by \"{issuer_name}\""),
                    None,
                    this,
                    next,
                )
            }
        };
        let expires = next_update.or_else(|| rules.max_age.map(|age| this_update + age));
        Fetched {
            kind,
            url: url.to_string(),
            der,
            covers,
            issuer: issuer_name,
            serial,
            this_update,
            next_update,
            expires,
        }
    }
}

pub(crate) struct Bundle {
    crls: Vec<(PathBuf, Crl)>,
    /// (file, serials it answers for, DER response)
    ocsp: Vec<(PathBuf, Vec<Vec<u8>>, Vec<u8>)>,
    /// Files that were not usable, with why; reported, not fatal.
    pub skipped: Vec<(PathBuf, String)>,
}

/// A file to read and what the manifest (if any) says it must be.
struct Candidate {
    path: PathBuf,
    is_crl: bool,
    expected: Option<ManifestFile>,
}

impl Bundle {
    pub(crate) fn load(dir: &Path) -> Result<Self, BundleError> {
        let err = |source| BundleError {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let mut bundle = Bundle {
            crls: Vec::new(),
            ocsp: Vec::new(),
            skipped: Vec::new(),
        };
        let manifest_path = dir.join(MANIFEST_FILE);
        let candidates = if manifest_path.is_file() {
            match Manifest::read(dir) {
                Ok(manifest) => bundle.listed(dir, &paths, manifest),
                Err(e) => {
                    // A manifest that cannot be read vouches for nothing: use no file.
                    bundle.skipped.push((
                        manifest_path,
                        format!("{e}; no file of this bundle is used until it is rewritten"),
                    ));
                    Vec::new()
                }
            }
        } else {
            paths
                .into_iter()
                .filter_map(|path| {
                    let ext = path
                        .extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase)?;
                    matches!(ext.as_str(), "crl" | "ocsp" | "der").then(|| Candidate {
                        is_crl: ext == "crl",
                        path,
                        expected: None,
                    })
                })
                .collect()
        };
        for candidate in candidates {
            bundle.add(candidate);
        }
        Ok(bundle)
    }

    /// The manifest's files, in its order; files it does not list are reported.
    fn listed(&mut self, dir: &Path, paths: &[PathBuf], manifest: Manifest) -> Vec<Candidate> {
        for path in paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name != MANIFEST_FILE
                && !name.starts_with('.')
                && !manifest.files.iter().any(|f| f.file == name)
            {
                self.skipped
                    .push((path.clone(), format!("not listed in {MANIFEST_FILE}")));
            }
        }
        manifest
            .files
            .into_iter()
            .filter_map(|file| match manifest::safe_name(&file.file) {
                Ok(()) => Some(Candidate {
                    path: dir.join(&file.file),
                    is_crl: file.kind != FetchedKind::Ocsp.as_str(),
                    expected: Some(file),
                }),
                Err(why) => {
                    self.skipped.push((dir.join(MANIFEST_FILE), why));
                    None
                }
            })
            .collect()
    }

    fn add(&mut self, candidate: Candidate) {
        let Candidate {
            path,
            is_crl,
            expected,
        } = candidate;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                self.skipped.push((path, e.to_string()));
                return;
            }
        };
        if let Some(expected) = &expected
            && let Err(why) = expected.check_integrity(&bytes)
        {
            self.skipped.push((path, why));
            return;
        }
        if is_crl {
            match Crl::parse(&bytes) {
                Ok(crl) => self.crls.push((path, crl)),
                Err(e) => self.skipped.push((path, e.to_string())),
            }
        } else {
            let serials = ocsp::serials_in(&bytes);
            if serials.is_empty() {
                self.skipped
                    .push((path, "not a successful basic OCSP response".into()));
            } else {
                self.ocsp.push((path, serials, bytes));
            }
        }
    }

    /// OCSP responses that mention `cert`'s serial (the caller verifies the rest).
    pub(crate) fn ocsp_for<'a>(
        &'a self,
        cert: &'a Certificate,
    ) -> impl Iterator<Item = (&'a Path, &'a [u8])> + 'a {
        let serial = extensions::normalized_uint(cert.tbs_certificate.serial_number.as_bytes());
        self.ocsp
            .iter()
            .filter(move |(_, serials, _)| serials.iter().any(|s| s == serial))
            .map(|(p, _, der)| (p.as_path(), der.as_slice()))
    }

    /// CRLs (base and delta) whose issuer name is `issuer`'s subject.
    pub(crate) fn crls_for<'a>(
        &'a self,
        issuer: &'a Certificate,
    ) -> impl Iterator<Item = (&'a Path, &'a Crl)> + 'a {
        self.crls
            .iter()
            .filter(move |(_, crl)| crl.issued_by(issuer))
            .map(|(p, c)| (p.as_path(), c))
    }
}
