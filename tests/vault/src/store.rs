//! Keys, certificates and secrets, versioned like AKV, and their JSON bundles.
//!
//! A certificate version `v` of `c1` creates key `c1/v` and secret `c1/v` (AKV's `kid`/`sid`).
//! The latest version of anything is the most recently created one, enabled or not.

use crate::crypto;
use crate::reply::Reply;
use akv_test_pki::{BundleOrder, Chain, KeySpec, TestKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Content type of a certificate's secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SecretFormat {
    /// `application/x-pem-file`: PEM certificates, leaf first.
    #[default]
    Pem,
    /// `application/x-pkcs12`: base64 PFX with an empty password.
    Pkcs12,
}

impl SecretFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            SecretFormat::Pem => "application/x-pem-file",
            SecretFormat::Pkcs12 => "application/x-pkcs12",
        }
    }
}

/// How [`crate::TestVault::add_certificate`] stores a chain.
#[derive(Clone, Debug, Default)]
pub struct CertificateOptions {
    pub secret_format: SecretFormat,
    /// Put the leaf's private key in the secret (AKV `exportable: true`).
    pub include_private_key: bool,
    /// Serve only the leaf in the secret (a CA-issued certificate whose chain was never merged).
    pub leaf_only: bool,
    /// Serve the leaf and intermediate without the root (a partial chain, completed by `ca_certs`).
    pub without_root: bool,
    /// Order of the certificates in the secret: AKV-generated secrets are leaf first; an
    /// imported PEM or PKCS#12 keeps whatever order it was imported in.
    pub secret_order: BundleOrder,
    /// Bind the certificate to this key instead of the leaf's own (a certificate whose key is
    /// not the signing key).
    pub signing_key: Option<TestKey>,
}

/// Ids of one key version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyVersion {
    pub name: String,
    pub version: String,
    /// `https://127.0.0.1:PORT/keys/{name}/{version}`
    pub kid: String,
}

/// Ids of one certificate version (and its key and secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateVersion {
    pub name: String,
    pub version: String,
    pub id: String,
    pub kid: String,
    pub sid: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Attributes {
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub created: i64,
}

impl Attributes {
    fn now(nbf: Option<i64>, exp: Option<i64>) -> Attributes {
        Attributes {
            enabled: true,
            nbf,
            exp,
            created: time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    fn to_json(&self) -> Value {
        let mut a = json!({
            "enabled": self.enabled,
            "created": self.created,
            "updated": self.created,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        });
        if let Some(nbf) = self.nbf {
            a["nbf"] = nbf.into();
        }
        if let Some(exp) = self.exp {
            a["exp"] = exp.into();
        }
        a
    }
}

pub(crate) struct KeyEntry {
    pub version: String,
    pub key: TestKey,
    pub attributes: Attributes,
    pub managed: bool,
}

pub(crate) struct CertEntry {
    pub version: String,
    pub leaf_der: Vec<u8>,
    pub attributes: Attributes,
    pub policy: Value,
}

pub(crate) struct SecretEntry {
    pub version: String,
    pub value: String,
    pub content_type: String,
    pub kid: Option<String>,
    pub attributes: Attributes,
}

/// Every object of the vault. `base` is the vault URL without a trailing slash.
#[derive(Default)]
pub(crate) struct Store {
    pub base: String,
    pub keys: BTreeMap<String, Vec<KeyEntry>>,
    pub certificates: BTreeMap<String, Vec<CertEntry>>,
    pub secrets: BTreeMap<String, Vec<SecretEntry>>,
}

/// A lookup result: the entry, or the 404 AKV would send.
pub(crate) type Found<'a, T> = Result<&'a T, Reply>;

fn pick<'a, T>(
    versions: Option<&'a Vec<T>>,
    version: Option<&str>,
    ver: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    let versions = versions?;
    match version {
        None => versions.last(),
        Some(v) => versions.iter().find(|e| ver(e) == v),
    }
}

fn not_found(kind: &str, code: &str, name: &str, version: Option<&str>) -> Reply {
    let id = match version {
        Some(v) => format!("{name}/{v}"),
        None => name.to_string(),
    };
    Reply::akv_error(
        404,
        code,
        &format!(
            "A {kind} with (name/id) {id} was not found in this key vault. If you recently deleted this {kind} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

/// 32 lowercase hex characters, like AKV versions.
pub(crate) fn new_version() -> String {
    let mut b = [0u8; 16];
    // A failed RNG would only make versions collide; tests would notice.
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Store {
    pub fn kid(&self, name: &str, version: &str) -> String {
        format!("{}/keys/{name}/{version}", self.base)
    }

    fn cert_id(&self, name: &str, version: &str) -> String {
        format!("{}/certificates/{name}/{version}", self.base)
    }

    fn sid(&self, name: &str, version: &str) -> String {
        format!("{}/secrets/{name}/{version}", self.base)
    }

    pub fn add_key(
        &mut self,
        name: &str,
        key: TestKey,
        managed: bool,
        version: String,
    ) -> KeyVersion {
        let kid = self.kid(name, &version);
        self.keys.entry(name.into()).or_default().push(KeyEntry {
            version: version.clone(),
            key,
            attributes: Attributes::now(None, None),
            managed,
        });
        KeyVersion {
            name: name.into(),
            version,
            kid,
        }
    }

    pub fn key(&self, name: &str, version: Option<&str>) -> Found<'_, KeyEntry> {
        pick(self.keys.get(name), version, |e| &e.version)
            .ok_or_else(|| not_found("key", "KeyNotFound", name, version))
    }

    pub fn key_mut(&mut self, name: &str, version: &str) -> Option<&mut KeyEntry> {
        self.keys
            .get_mut(name)?
            .iter_mut()
            .find(|e| e.version == version)
    }

    pub fn certificate(&self, name: &str, version: Option<&str>) -> Found<'_, CertEntry> {
        pick(self.certificates.get(name), version, |e| &e.version)
            .ok_or_else(|| not_found("certificate", "CertificateNotFound", name, version))
    }

    pub fn certificate_mut(&mut self, name: &str, version: &str) -> Option<&mut CertEntry> {
        self.certificates
            .get_mut(name)?
            .iter_mut()
            .find(|e| e.version == version)
    }

    pub fn secret(&self, name: &str, version: Option<&str>) -> Found<'_, SecretEntry> {
        pick(self.secrets.get(name), version, |e| &e.version)
            .ok_or_else(|| not_found("secret", "SecretNotFound", name, version))
    }

    pub fn secret_mut(&mut self, name: &str, version: &str) -> Option<&mut SecretEntry> {
        self.secrets
            .get_mut(name)?
            .iter_mut()
            .find(|e| e.version == version)
    }

    pub fn add_secret(
        &mut self,
        name: &str,
        value: String,
        content_type: &str,
        kid: Option<String>,
        version: String,
        validity: (Option<i64>, Option<i64>),
    ) -> String {
        let sid = self.sid(name, &version);
        self.secrets
            .entry(name.into())
            .or_default()
            .push(SecretEntry {
                version,
                value,
                content_type: content_type.into(),
                kid,
                attributes: Attributes::now(validity.0, validity.1),
            });
        sid
    }

    /// Adds a certificate version with its key and secret versions.
    pub fn add_certificate(
        &mut self,
        name: &str,
        chain: &Chain,
        options: &CertificateOptions,
    ) -> Result<CertificateVersion, akv_test_pki::PkiError> {
        let version = new_version();
        let leaf = chain.leaf();
        let validity = (
            Some(leaf.not_before().unix_timestamp()),
            Some(leaf.not_after().unix_timestamp()),
        );
        let mut certs: Vec<Vec<u8>> = chain.der_chain();
        if options.leaf_only {
            certs.truncate(1);
        } else if options.without_root && certs.len() > 1 {
            certs.pop();
        }
        match options.secret_order {
            BundleOrder::LeafFirst => {}
            BundleOrder::RootFirst => certs.reverse(),
            BundleOrder::Scrambled => certs.rotate_left(1),
        }
        let key_for_secret = options.include_private_key.then(|| leaf.key().pkcs8_der());
        let value = match options.secret_format {
            SecretFormat::Pem => {
                let mut pem: String = certs.iter().map(|d| pem_cert(d)).collect();
                if options.include_private_key {
                    pem.push_str(&leaf.key().pkcs8_pem());
                }
                pem
            }
            SecretFormat::Pkcs12 => {
                STANDARD.encode(akv_test_pki::pkcs12::build(&certs, key_for_secret)?)
            }
        };
        let signing_key = options
            .signing_key
            .clone()
            .unwrap_or_else(|| leaf.key().clone());
        let kv = self.add_key(name, signing_key, true, version.clone());
        // Like AKV, a certificate's key carries the certificate's validity (shown, not enforced).
        if let Some(k) = self.key_mut(name, &version) {
            (k.attributes.nbf, k.attributes.exp) = validity;
        }
        let sid = self.add_secret(
            name,
            value,
            options.secret_format.content_type(),
            Some(kv.kid.clone()),
            version.clone(),
            validity,
        );
        let id = self.cert_id(name, &version);
        let policy = policy_json(&id, chain, options);
        self.certificates
            .entry(name.into())
            .or_default()
            .push(CertEntry {
                version: version.clone(),
                leaf_der: leaf.der().to_vec(),
                attributes: Attributes::now(validity.0, validity.1),
                policy,
            });
        Ok(CertificateVersion {
            name: name.into(),
            version,
            id,
            kid: kv.kid,
            sid,
        })
    }

    pub fn key_bundle(&self, name: &str, e: &KeyEntry) -> Value {
        let kid = self.kid(name, &e.version);
        let mut b = json!({
            "key": crypto::jwk(&e.key, &kid).unwrap_or(Value::Null),
            "attributes": e.attributes.to_json(),
            "tags": {},
        });
        if e.managed {
            b["managed"] = true.into();
        }
        b
    }

    pub fn certificate_bundle(&self, name: &str, e: &CertEntry, with_policy: bool) -> Value {
        let mut b = json!({
            "id": self.cert_id(name, &e.version),
            "kid": self.kid(name, &e.version),
            "sid": self.sid(name, &e.version),
            "x5t": crypto::x5t(&e.leaf_der),
            "cer": STANDARD.encode(&e.leaf_der),
            "attributes": e.attributes.to_json(),
            "tags": {},
        });
        if with_policy {
            b["policy"] = e.policy.clone();
        }
        b
    }

    pub fn certificate_versions(&self, name: &str) -> Value {
        let items: Vec<Value> = self
            .certificates
            .get(name)
            .into_iter()
            .flatten()
            .map(|e| {
                json!({
                    "id": self.cert_id(name, &e.version),
                    "x5t": crypto::x5t(&e.leaf_der),
                    "attributes": e.attributes.to_json(),
                    "tags": {},
                })
            })
            .collect();
        json!({"value": items, "nextLink": null})
    }

    pub fn secret_bundle(&self, name: &str, e: &SecretEntry) -> Value {
        let mut b = json!({
            "value": e.value,
            "contentType": e.content_type,
            "id": self.sid(name, &e.version),
            "attributes": e.attributes.to_json(),
            "tags": {},
        });
        if let Some(kid) = &e.kid {
            b["kid"] = kid.clone().into();
            b["managed"] = true.into();
        }
        b
    }
}

fn pem_cert(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// An AKV certificate policy that describes the leaf as it was made, so a non-compliant fixture
/// shows AKV's default EKUs and key usage just as a real vault would.
fn policy_json(cert_id: &str, chain: &Chain, options: &CertificateOptions) -> Value {
    let spec = chain.spec();
    let key_props = if spec.is_rsa() {
        json!({"exportable": options.include_private_key, "kty": "RSA", "key_size": spec.bits(), "reuse_key": false})
    } else {
        let crv = match spec {
            KeySpec::Ec256 => "P-256",
            KeySpec::Ec384 => "P-384",
            _ => "P-521",
        };
        json!({"exportable": options.include_private_key, "kty": "EC", "key_size": spec.bits(), "crv": crv, "reuse_key": false})
    };
    let leaf = chain.leaf();
    let subject = leaf.subject();
    json!({
        "id": format!("{}/policy", cert_id.rsplit_once('/').map(|(p, _)| p).unwrap_or(cert_id)),
        "key_props": key_props,
        "secret_props": {"contentType": options.secret_format.content_type()},
        "x509_props": {
            "subject": format!("CN={}, O={}, L={}, ST={}, C={}", subject.common_name, subject.organization,
                subject.locality.as_deref().unwrap_or(""), subject.state, subject.country),
            "ekus": chain.eku().oids(),
            "key_usage": chain.key_usage().akv_names(),
            "validity_months": 12,
            "basic_constraints": {"ca": false},
        },
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": if chain.is_self_signed() { "Self" } else { "Unknown" }},
        "attributes": {"enabled": true, "created": leaf.not_before().unix_timestamp(), "updated": leaf.not_before().unix_timestamp()},
    })
}
