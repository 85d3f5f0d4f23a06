//! The offline bundle: a folder of CRLs (`*.crl`, DER or PEM) and OCSP responses (`*.ocsp`,
//! `*.der`) copied in by an operator, for hosts that cannot reach the CA. Files are matched to a
//! certificate by issuer name (CRLs) or serial and CertID (OCSP) and then verified exactly like
//! fetched ones, so a bundle can be refreshed by dropping newer files in.

use std::path::{Path, PathBuf};

use x509_cert::Certificate;

use crate::crl::Crl;
use crate::extensions;
use crate::ocsp;

/// Why the bundle folder cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("offline bundle {path}: {source}")]
pub struct BundleError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub(crate) struct Bundle {
    crls: Vec<(PathBuf, Crl)>,
    /// (file, serials it answers for, DER response)
    ocsp: Vec<(PathBuf, Vec<Vec<u8>>, Vec<u8>)>,
    /// Files that were not usable, with why; reported, not fatal.
    pub skipped: Vec<(PathBuf, String)>,
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
        for path in paths {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let Some(ext) = ext.filter(|e| matches!(e.as_str(), "crl" | "ocsp" | "der")) else {
                continue;
            };
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    bundle.skipped.push((path, e.to_string()));
                    continue;
                }
            };
            if ext == "crl" {
                match Crl::parse(&bytes) {
                    Ok(crl) => bundle.crls.push((path, crl)),
                    Err(e) => bundle.skipped.push((path, e.to_string())),
                }
            } else {
                let serials = ocsp::serials_in(&bytes);
                if serials.is_empty() {
                    bundle
                        .skipped
                        .push((path, "not a successful basic OCSP response".into()));
                } else {
                    bundle.ocsp.push((path, serials, bytes));
                }
            }
        }
        Ok(bundle)
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
