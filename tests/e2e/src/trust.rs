//! Signing keys and trust configuration for baseline flows: notation's own test key, trust
//! stores and trust policies, all through the CLI.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::env::NotationEnv;
use crate::error::{HarnessError, Result};
use crate::process::Output;

/// A key pair made by `notation cert generate-test`.
#[derive(Debug, Clone)]
pub struct TestKey {
    /// The key name (also the certificate's CN and the trust store name).
    pub name: String,
    /// PKCS#8 PEM private key, `<config>/localkeys/<name>.key`.
    pub key_path: PathBuf,
    /// PEM self-signed certificate, `<config>/localkeys/<name>.crt`.
    pub cert_path: PathBuf,
}

impl NotationEnv {
    /// `notation cert generate-test [--default] <name>`: an RSA-2048 key and self-signed
    /// certificate, added to the trust store `ca:<name>`.
    pub fn generate_test_key(&self, name: &str, default: bool) -> Result<TestKey> {
        let mut args = vec!["cert", "generate-test"];
        if default {
            args.push("--default");
        }
        args.push(name);
        self.notation_ok(&args)?;
        let dir = self.config_dir().join("localkeys");
        let key = TestKey {
            name: name.to_owned(),
            key_path: dir.join(format!("{name}.key")),
            cert_path: dir.join(format!("{name}.crt")),
        };
        for path in [&key.key_path, &key.cert_path] {
            if !path.is_file() {
                return Err(HarnessError::UnexpectedOutput {
                    command: format!("notation cert generate-test {name}"),
                    reason: format!("{} was not created", path.display()),
                    output: String::new(),
                });
            }
        }
        Ok(key)
    }

    /// `notation cert add --type ca --store <store> <cert>`.
    pub fn add_ca_cert(&self, store: &str, cert: &Path) -> Result<Output> {
        self.notation_ok(&[
            "cert".as_ref(),
            "add".as_ref(),
            "--type".as_ref(),
            "ca".as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            cert.as_os_str(),
        ])
    }

    /// Writes `policy` to a file and runs `notation policy import --force` on it.
    pub fn import_trust_policy(&self, policy: &serde_json::Value) -> Result<Output> {
        let path = self.write_file("trustpolicy.json", policy.to_string())?;
        self.notation_ok(&[
            "policy".as_ref(),
            "import".as_ref(),
            "--force".as_ref(),
            path.as_os_str(),
        ])
    }
}

/// A one-statement OCI trust policy: `strict` verification of `scope` against `ca:<store>`,
/// trusting `identities` (e.g. `["*"]` or `["x509.subject: C=US, ST=WA, O=acme"]`).
pub fn trust_policy(scope: &str, store: &str, identities: &[&str]) -> serde_json::Value {
    json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "e2e",
            "registryScopes": [scope],
            "signatureVerification": { "level": "strict" },
            "trustStores": [format!("ca:{store}")],
            "trustedIdentities": identities,
        }]
    })
}
