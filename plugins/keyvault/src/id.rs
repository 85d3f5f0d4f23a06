//! Key Vault object identifiers as `notation --id` receives them.
//!
//! Accepted forms (the same as azure-kv, plus Managed HSM):
//! - `https://{vault-host}/keys/{name}[/{version}]`
//! - `https://{vault-host}/certificates/{name}[/{version}]` (not on Managed HSM, which has no
//!   certificates)
//!
//! A versionless id follows rotation: the version is resolved from the vault (and pinned through
//! the certificate's `kid` so key and certificate always match). The original text is kept so the
//! plugin can echo `keyId` byte for byte.

use crate::cloud::Cloud;
use std::fmt;
use url::Url;

/// The accepted forms, quoted in every parse error.
pub const ACCEPTED_FORMS: &str = "https://<vault-name>.vault.azure.net/certificates/<certificate-name>[/<version>] \
or https://<vault-name>.vault.azure.net/keys/<key-name>[/<version>] \
(sovereign clouds: vault.azure.cn, vault.usgovcloudapi.net; \
Managed HSM: https://<hsm-name>.managedhsm.azure.net/keys/<key-name>[/<version>])";

/// Which collection of the vault an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Key,
    Certificate,
}

impl ObjectKind {
    /// The path segment (`keys`, `certificates`).
    pub fn collection(self) -> &'static str {
        match self {
            ObjectKind::Key => "keys",
            ObjectKind::Certificate => "certificates",
        }
    }
}

/// A parsed `--id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectId {
    original: String,
    endpoint: Url,
    kind: ObjectKind,
    name: String,
    version: Option<String>,
    cloud: Cloud,
    managed_hsm: bool,
}

/// Why an id was rejected; the message always ends with the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key id {id:?}: {reason}. Accepted forms: {ACCEPTED_FORMS}")]
pub struct IdError {
    /// The id as given, shortened past 256 characters.
    pub id: String,
    pub reason: String,
}

impl ObjectId {
    /// Parses an id; whitespace around it is an error (notation compares ids byte for byte).
    pub fn parse(id: &str) -> Result<ObjectId, IdError> {
        let fail = |reason: &str| IdError {
            id: shown(id),
            reason: reason.to_string(),
        };
        if id.is_empty() {
            return Err(fail("it is empty"));
        }
        if id.trim() != id {
            return Err(fail("it has leading or trailing whitespace"));
        }
        let url = Url::parse(id).map_err(|e| fail(&format!("it is not a URL ({e})")))?;
        if url.scheme() != "https" {
            return Err(fail(&format!(
                "the scheme is {:?}; it must be https",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(fail("it must not contain credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(fail("it must not have a query or fragment"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| fail("it has no host"))?
            .to_ascii_lowercase();
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        // A single trailing slash (`…/keys/name/`) is tolerated as "no version", like azure-kv.
        let segments: Vec<&str> = match segments.split_last() {
            Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.to_vec(),
            _ => segments,
        };
        if !(2..=3).contains(&segments.len()) {
            return Err(fail(
                "the path must be /keys/<name>[/<version>] or /certificates/<name>[/<version>]",
            ));
        }
        let kind = match segments[0] {
            "keys" => ObjectKind::Key,
            "certificates" => ObjectKind::Certificate,
            "secrets" => {
                return Err(fail(
                    "secrets cannot sign; use the certificates/<name> id of the same object",
                ));
            }
            other => {
                return Err(fail(&format!(
                    "unsupported object type {other:?}; expected keys or certificates"
                )));
            }
        };
        let name = segments[1];
        if !valid_name(name) {
            return Err(fail(&format!(
                "object name {name:?} is not a Key Vault name (1-127 letters, digits and dashes)"
            )));
        }
        let version = match segments.get(2) {
            Some(v) if !v.is_empty() => {
                if !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(fail(&format!(
                        "version {v:?} is not a Key Vault version (letters and digits)"
                    )));
                }
                Some(v.to_string())
            }
            _ => None,
        };
        let managed_hsm = Cloud::is_managed_hsm_host(&host);
        if managed_hsm && kind == ObjectKind::Certificate {
            return Err(fail(
                "Managed HSM has no certificates; use the /keys/<name> id and give the certificate chain with ca_certs",
            ));
        }
        let mut endpoint = url.clone();
        endpoint.set_path("/");
        Ok(ObjectId {
            original: id.to_string(),
            cloud: Cloud::from_host(&host),
            endpoint,
            kind,
            name: name.to_string(),
            version,
            managed_hsm,
        })
    }

    /// The id exactly as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// `https://host[:port]/`: what the SDK clients are built with.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Host and port, lower-case: the vault part of cache keys and messages.
    pub fn vault(&self) -> String {
        match self.endpoint.port() {
            Some(port) => format!("{}:{port}", self.endpoint.host_str().unwrap_or_default()),
            None => self.endpoint.host_str().unwrap_or_default().to_string(),
        }
    }

    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub fn is_managed_hsm(&self) -> bool {
        self.managed_hsm
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Key Vault object names: 1-127 characters of `[0-9a-zA-Z-]`.
/// The id as an error message quotes it: whole up to 256 characters (real ids are under 200),
/// else its start and its length, so a runaway value cannot flood notation's output.
fn shown(id: &str) -> String {
    const MAX: usize = 256;
    match id.char_indices().nth(MAX) {
        None => id.to_string(),
        Some((end, _)) => format!("{}… ({} bytes in all)", &id[..end], id.len()),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The version at the end of an id the vault returned (`kid`, `sid`, `id`), if it has one.
pub fn version_of(returned_id: &str) -> Option<String> {
    let url = Url::parse(returned_id).ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [_, _, version] => Some((*version).to_string()),
        _ => None,
    }
}

/// The `(collection, name, version)` of an id the vault returned, e.g. a certificate's `kid`.
pub fn parts_of(returned_id: &str) -> Option<(String, String, Option<String>)> {
    let url = Url::parse(returned_id).ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [collection, name] => Some((collection.to_string(), name.to_string(), None)),
        [collection, name, version] => Some((
            collection.to_string(),
            name.to_string(),
            Some(version.to_string()),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_with_version() {
        let id = ObjectId::parse("https://myvault.vault.azure.net/certificates/signer/0123abcd")
            .unwrap();
        assert_eq!(id.kind(), ObjectKind::Certificate);
        assert_eq!(id.name(), "signer");
        assert_eq!(id.version(), Some("0123abcd"));
        assert_eq!(id.vault(), "myvault.vault.azure.net");
        assert_eq!(id.endpoint().as_str(), "https://myvault.vault.azure.net/");
        assert_eq!(id.cloud(), &Cloud::Public);
        assert!(!id.is_managed_hsm());
    }

    #[test]
    fn versionless_key_and_trailing_slash() {
        for text in [
            "https://myvault.vault.azure.net/keys/signer",
            "https://myvault.vault.azure.net/keys/signer/",
        ] {
            let id = ObjectId::parse(text).unwrap();
            assert_eq!(id.kind(), ObjectKind::Key);
            assert_eq!(id.version(), None);
            assert_eq!(id.as_str(), text, "the original text is kept for the echo");
        }
    }

    #[test]
    fn sovereign_clouds_and_managed_hsm() {
        let cases = [
            ("https://v.vault.azure.cn/keys/k", Cloud::China, false),
            (
                "https://v.vault.usgovcloudapi.net/keys/k",
                Cloud::UsGovernment,
                false,
            ),
            (
                "https://h.managedhsm.azure.net/keys/k/1",
                Cloud::Public,
                true,
            ),
            ("https://h.managedhsm.azure.cn/keys/k", Cloud::China, true),
            (
                "https://h.managedhsm.usgovcloudapi.net/keys/k",
                Cloud::UsGovernment,
                true,
            ),
        ];
        for (text, cloud, hsm) in cases {
            let id = ObjectId::parse(text).unwrap();
            assert_eq!(id.cloud(), &cloud, "{text}");
            assert_eq!(id.is_managed_hsm(), hsm, "{text}");
        }
    }

    #[test]
    fn test_vault_with_port_is_a_custom_cloud() {
        let id = ObjectId::parse("https://127.0.0.1:8443/certificates/c/v1").unwrap();
        assert_eq!(id.vault(), "127.0.0.1:8443");
        assert_eq!(id.endpoint().as_str(), "https://127.0.0.1:8443/");
        assert!(matches!(id.cloud(), Cloud::Custom));
    }

    #[test]
    fn malformed_ids_list_the_accepted_forms() {
        let cases = [
            ("", "empty"),
            (" https://v.vault.azure.net/keys/k", "whitespace"),
            ("http://v.vault.azure.net/keys/k", "must be https"),
            ("https://v.vault.azure.net/keys", "the path must be"),
            (
                "https://v.vault.azure.net/keys/k/v/extra",
                "the path must be",
            ),
            (
                "https://v.vault.azure.net/blobs/k",
                "unsupported object type",
            ),
            ("https://v.vault.azure.net/secrets/k", "secrets cannot sign"),
            ("https://v.vault.azure.net/keys/k_1", "not a Key Vault name"),
            (
                "https://v.vault.azure.net/keys/k/v-1",
                "not a Key Vault version",
            ),
            ("https://v.vault.azure.net/keys/k?x=1", "query"),
            (
                "https://h.managedhsm.azure.net/certificates/c",
                "Managed HSM has no certificates",
            ),
            ("myvault/keys/k", "not a URL"),
        ];
        for (text, reason) in cases {
            let err = ObjectId::parse(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
            assert!(
                err.contains("Accepted forms: https://<vault-name>"),
                "{err}"
            );
        }
    }

    #[test]
    fn returned_ids() {
        assert_eq!(
            version_of("https://v.vault.azure.net/keys/c1/40b8").as_deref(),
            Some("40b8")
        );
        assert_eq!(version_of("https://v.vault.azure.net/keys/c1"), None);
        assert_eq!(
            parts_of("https://v.vault.azure.net/keys/c1/40b8"),
            Some(("keys".into(), "c1".into(), Some("40b8".into())))
        );
    }
}
