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
    /// The last certificate operation per name (create, then merge for an `Unknown` issuer).
    pub pending: BTreeMap<String, PendingOperation>,
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

/// A certificate operation (`/certificates/{name}/pending`): the last create of a name.
pub(crate) struct PendingOperation {
    pub version: String,
    pub issuer: String,
    pub csr: Option<Vec<u8>>,
    /// Set once the version exists (self-signed at once, `Unknown` after a merge).
    pub completed: bool,
    /// Until merged: the new key and the policy it was made for.
    pub awaiting: Option<(TestKey, Value)>,
    pub request_id: String,
}

/// Validity of a DER certificate as unix seconds, and its public key bits.
fn leaf_facts(der: &[u8]) -> Option<(i64, i64, Vec<u8>)> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let validity = &cert.tbs_certificate.validity;
    Some((
        validity.not_before.to_unix_duration().as_secs() as i64,
        validity.not_after.to_unix_duration().as_secs() as i64,
        cert.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec(),
    ))
}

fn public_key_bits(key: &TestKey) -> Option<Vec<u8>> {
    use der::Decode;
    let spki = key.spki_der().ok()?;
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&spki).ok()?;
    Some(spki.subject_public_key.raw_bytes().to_vec())
}

impl Store {
    /// Stores a certificate version issued for `key` (`certs` leaf first) like AKV does after
    /// issuance or a merge: key, PEM secret and certificate of the same name and version.
    fn add_issued(
        &mut self,
        name: &str,
        version: &str,
        key: TestKey,
        certs: &[Vec<u8>],
        mut policy: Value,
    ) -> Result<(), Reply> {
        let (nbf, exp, _) = certs.first().and_then(|d| leaf_facts(d)).ok_or_else(|| {
            Reply::akv_error(
                400,
                "BadParameter",
                "Property x5c has no valid certificate.",
            )
        })?;
        let validity = (Some(nbf), Some(exp));
        let kv = self.add_key(name, key, true, version.to_string());
        if let Some(k) = self.key_mut(name, version) {
            (k.attributes.nbf, k.attributes.exp) = validity;
        }
        let content_type = policy["secret_props"]["contentType"]
            .as_str()
            .unwrap_or("application/x-pem-file")
            .to_string();
        let value =
            if content_type == SecretFormat::Pkcs12.content_type() {
                STANDARD.encode(akv_test_pki::pkcs12::build(certs, None).map_err(|e| {
                    Reply::akv_error(500, "InternalError", &format!("PKCS#12: {e}"))
                })?)
            } else {
                certs.iter().map(|d| pem_cert(d)).collect()
            };
        self.add_secret(
            name,
            value,
            &content_type,
            Some(kv.kid),
            version.to_string(),
            validity,
        );
        let base_id = format!("{}/certificates/{name}", self.base);
        policy["id"] = format!("{base_id}/policy").into();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        policy["attributes"] = json!({"enabled": true, "created": now, "updated": now});
        self.certificates
            .entry(name.into())
            .or_default()
            .push(CertEntry {
                version: version.to_string(),
                leaf_der: certs[0].clone(),
                attributes: Attributes::now(validity.0, validity.1),
                policy,
            });
        Ok(())
    }

    fn operation_json(&self, name: &str, op: &PendingOperation) -> Value {
        let mut v = json!({
            "id": format!("{}/certificates/{name}/pending", self.base),
            "issuer": {"name": op.issuer},
            "cancellation_requested": false,
            "status": if op.completed { "completed" } else { "inProgress" },
            "status_details": if op.completed {
                "".to_string()
            } else if op.csr.is_some() {
                "Pending certificate created. Please Perform Merge to complete the request.".to_string()
            } else {
                "The certificate is being issued.".to_string()
            },
            "request_id": op.request_id,
        });
        if let Some(csr) = &op.csr {
            v["csr"] = STANDARD.encode(csr).into();
        }
        if op.completed {
            v["target"] = self.cert_id(name, &op.version).into();
        }
        v
    }

    /// `POST /certificates/{name}/create`: a new version from `body.policy` (or, without one,
    /// the policy of the latest version), answered 202 with the operation.
    pub fn create_certificate(&mut self, name: &str, body: &[u8]) -> Reply {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let policy = match body.get("policy").filter(|p| p.is_object()) {
            Some(p) => p.clone(),
            None => match self.certificate(name, None) {
                Ok(e) => e.policy.clone(),
                Err(_) => {
                    return Reply::akv_error(
                        400,
                        "BadParameter",
                        "Property policy is required for a new certificate.",
                    );
                }
            },
        };
        let bad = |e: crate::issuance::PolicyError| Reply::akv_error(400, "BadParameter", &e.0);
        let request = match crate::issuance::Request::from_policy(&policy) {
            Ok(r) => r,
            Err(e) => return bad(e),
        };
        let key = match request.key() {
            Ok(k) => k,
            Err(e) => return bad(e),
        };
        let version = new_version();
        let mut op = PendingOperation {
            version: version.clone(),
            issuer: request.issuer.clone(),
            csr: None,
            completed: false,
            awaiting: None,
            request_id: new_version(),
        };
        match request.issuer.to_ascii_lowercase().as_str() {
            "self" => {
                let der = match request.self_signed(&key) {
                    Ok(d) => d,
                    Err(e) => return bad(e),
                };
                if let Err(r) = self.add_issued(name, &version, key, &[der], policy) {
                    return r;
                }
                op.completed = true;
            }
            "unknown" => {
                op.csr = match request.csr(&key) {
                    Ok(c) => Some(c),
                    Err(e) => return bad(e),
                };
                op.awaiting = Some((key, policy));
            }
            other => {
                return Reply::akv_error(
                    400,
                    "BadParameter",
                    &format!(
                        "Issuer {other} is not registered in this vault (the test vault issues with Self and Unknown only)."
                    ),
                );
            }
        }
        // AKV answers the create before issuing: the first answer is always in progress.
        let mut first = self.operation_json(name, &op);
        first["status"] = "inProgress".into();
        if let Some(t) = first.as_object_mut() {
            t.remove("target");
        }
        self.pending.insert(name.to_string(), op);
        Reply::json(202, &first)
    }

    /// `GET /certificates/{name}/pending`.
    pub fn certificate_operation(&self, name: &str) -> Reply {
        match self.pending.get(name) {
            Some(op) => Reply::json(200, &self.operation_json(name, op)),
            None => Reply::akv_error(
                404,
                "PendingCertificateNotFound",
                &format!("Pending certificate not found: {name}"),
            ),
        }
    }

    /// `POST /certificates/{name}/pending/merge`: `{"x5c": [base64 DER, leaf first]}`, whose leaf
    /// must hold the pending key; answered 201 with the certificate bundle.
    pub fn merge_certificate(&mut self, name: &str, body: &[u8]) -> Reply {
        let Some(op) = self.pending.get(name).filter(|op| op.awaiting.is_some()) else {
            return Reply::akv_error(
                404,
                "PendingCertificateNotFound",
                &format!("Pending certificate not found: {name}"),
            );
        };
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let certs: Option<Vec<Vec<u8>>> = body["x5c"].as_array().map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().and_then(|s| STANDARD.decode(s).ok()))
                .collect()
        });
        let Some(certs) = certs.filter(|c| !c.is_empty()) else {
            return Reply::akv_error(400, "BadParameter", "Property x5c is required.");
        };
        let Some((_, _, leaf_key)) = leaf_facts(&certs[0]) else {
            return Reply::akv_error(
                400,
                "BadParameter",
                "Property x5c has no valid certificate.",
            );
        };
        let (key, policy) = op.awaiting.clone().unwrap_or_else(|| unreachable!());
        if public_key_bits(&key).as_deref() != Some(leaf_key.as_slice()) {
            return Reply::akv_error(
                400,
                "BadParameter",
                "Public key from x5c does not match the public key of the pending certificate.",
            );
        }
        let version = op.version.clone();
        if let Err(r) = self.add_issued(name, &version, key, &certs, policy) {
            return r;
        }
        if let Some(op) = self.pending.get_mut(name) {
            op.completed = true;
            op.awaiting = None;
        }
        match self.certificate(name, Some(&version)) {
            Ok(e) => Reply::json(201, &self.certificate_bundle(name, e, false)),
            Err(r) => r,
        }
    }

    /// `PATCH /certificates/{name}[/{version}]`: `attributes.enabled` (also applied to the
    /// version's key and secret, as AKV does), answered 200 with the bundle.
    pub fn update_certificate(&mut self, name: &str, version: Option<&str>, body: &[u8]) -> Reply {
        let version = match self.certificate(name, version) {
            Ok(e) => e.version.clone(),
            Err(r) => return r,
        };
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if let Some(enabled) = body["attributes"]["enabled"].as_bool() {
            if let Some(c) = self.certificate_mut(name, &version) {
                c.attributes.enabled = enabled;
            }
            if let Some(k) = self.key_mut(name, &version) {
                k.attributes.enabled = enabled;
            }
            if let Some(s) = self.secret_mut(name, &version) {
                s.attributes.enabled = enabled;
            }
        }
        match self.certificate(name, Some(&version)) {
            Ok(e) => Reply::json(200, &self.certificate_bundle(name, e, false)),
            Err(r) => r,
        }
    }

    /// `GET /certificates/{name}/policy`: the policy of the latest version.
    pub fn certificate_policy(&self, name: &str) -> Reply {
        match self.certificate(name, None) {
            Ok(e) => Reply::json(200, &e.policy),
            Err(r) => r,
        }
    }
}
