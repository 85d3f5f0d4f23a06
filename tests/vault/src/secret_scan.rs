//! Proof that no secret reached a file: the values a plugin run must never write (access tokens
//! the vault issued, the client secret, the federated token, private keys found in secrets and
//! client certificates) searched byte for byte in every file under a directory.
//!
//! Binary values are searched raw, as standard and URL-safe base64 at each of the three byte
//! alignments (a key inside a PKCS#12 secret is base64-encoded at some offset), and as hex, each
//! as a 24-character chunk from the middle so line wrapping or a partial dump still matches.

use crate::TestVault;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::path::{Path, PathBuf};

/// What must not appear, each with a label for the report.
#[derive(Default, Debug)]
pub struct Needles(Vec<(String, Vec<u8>)>);

const CHUNK: usize = 24;

impl Needles {
    /// The client secret, the federated token and every access token `vault` issued so far.
    pub fn of_vault(vault: &TestVault) -> Needles {
        let mut needles = Needles::default();
        needles.text("client secret", crate::DEFAULT_CLIENT_SECRET);
        let federated = std::fs::read_to_string(vault.federated_token_file())
            .expect("the vault's federated token file");
        needles.text("federated token", federated.trim());
        for token in vault.issued_tokens() {
            needles.text("access token", &token);
        }
        needles
    }

    pub fn text(&mut self, label: &str, value: &str) {
        assert!(value.len() >= 8, "{label}: too short to search for");
        self.0.push((label.to_string(), value.as_bytes().to_vec()));
    }

    /// `bytes` raw and in the encodings a log or cache could hold them.
    pub fn binary(&mut self, label: &str, bytes: &[u8]) {
        assert!(bytes.len() >= 3 * CHUNK, "{label}: too short to search for");
        self.0.push((format!("{label} (raw)"), bytes.to_vec()));
        for offset in 0..3 {
            for (encoding, text) in [
                ("base64", STANDARD.encode(&bytes[offset..])),
                ("base64url", URL_SAFE_NO_PAD.encode(&bytes[offset..])),
            ] {
                let middle = text.len() / 2 / 4 * 4;
                self.0.push((
                    format!("{label} ({encoding}, offset {offset})"),
                    text.as_bytes()[middle..middle + CHUNK].to_vec(),
                ));
            }
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let middle = hex.len() / 2;
        self.0.push((
            format!("{label} (hex)"),
            hex.as_bytes()[middle..middle + CHUNK].to_vec(),
        ));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a scan read and found.
#[derive(Debug)]
pub struct ScanReport {
    pub files: Vec<PathBuf>,
    /// `path: label` for every needle found.
    pub hits: Vec<String>,
}

/// Searches every regular file under `dir` (recursively, symlinks not followed).
pub fn scan(dir: &Path, needles: &Needles) -> ScanReport {
    let mut report = ScanReport {
        files: Vec::new(),
        hits: Vec::new(),
    };
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                for (label, needle) in &needles.0 {
                    if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                        report.hits.push(format!("{}: {label}", path.display()));
                    }
                }
                report.files.push(path);
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_encoding_and_nothing_else() {
        let key: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37)).collect();
        let mut needles = Needles::default();
        needles.binary("key", &key);
        needles.text("token", "akv-test.secret-token-value");
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, content: &[u8]| std::fs::write(dir.path().join(name), content);
        write("clean.log", b"nothing to see").unwrap();
        write("raw.bin", &[b"prefix".as_slice(), &key].concat()).unwrap();
        let wrapped = STANDARD.encode([&[1u8][..], &key].concat());
        write("pem.txt", wrapped.as_bytes()).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        write(
            "sub/log",
            b"Authorization: Bearer akv-test.secret-token-value",
        )
        .unwrap();
        let report = scan(dir.path(), &needles);
        assert_eq!(report.files.len(), 4);
        let mut hit_files: Vec<&str> = report
            .hits
            .iter()
            .map(|h| h.rsplit('/').next().unwrap().split(':').next().unwrap())
            .collect();
        hit_files.sort();
        hit_files.dedup();
        assert_eq!(
            hit_files,
            ["log", "pem.txt", "raw.bin"],
            "{:?}",
            report.hits
        );
    }
}
