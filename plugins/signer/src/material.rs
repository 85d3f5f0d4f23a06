//! Signing material: the key to sign with, its key spec and the certificate chain.
//!
//! Resolution is the expensive part of a command (vault round trips), so its result is cached on
//! disk (public data only) and reused by generate-signature right after describe-key, and by
//! later signatures. Sources:
//!
//! | id | chain source | vault calls (cold) | chain |
//! |---|---|---|---|
//! | certificates or keys | secret (default) | secrets/get (certificates/get only if the secret has no `kid`) | the secret's PEM or PKCS#12 |
//! | certificates or keys | `ca_certs` | certificates/get | vault leaf + bundle of issuers |
//! | certificates or keys | `self_signed` | certificates/get | vault leaf |
//! | keys without a certificate (404 above), Managed HSM keys | `ca_certs` (required) | keys/get | bundle, whose leaf must hold the vault key |
//!
//! A `/keys/{name}[/{version}]` id means the certificate of the same name and version, as it
//! does to azure-kv: AKV names a certificate's key and secret after it. Only a 404 from that
//! certificate route (a key created on its own) or a Managed HSM (keys only) sends a key id to
//! the key route.
//!
//! The key version is pinned: from the certificate's (or secret's) `kid`, so key and certificate
//! always match, or from the key's own `kid`. Whatever the source (cache included), the chain is
//! checked against the Notary Project rules at the current time before it is used.

use crate::config::ChainSource;
use crate::error::SignError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use notation_akv_keyvault::cache::{Cache, CacheKey};
use notation_akv_keyvault::id::{ObjectId, ObjectKind, parts_of};
use notation_akv_keyvault::{PublicKey, RequestLog, SecretInfo, VaultClient, VaultError};
use notation_akv_protocol::KeySpec;
use notation_akv_x509::{Certificate, Jwk, build_chain, key_spec, matches_jwk, parse_bundle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// What signing needs; everything in it is public.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub key_spec: KeySpec,
    pub key_name: String,
    pub key_version: String,
    /// DER certificates as standard base64, leaf first.
    pub chain: Vec<String>,
    /// The revision of the chain rules ([`CHAIN_RULES`]) the chain passed before it was cached;
    /// 0 for material not yet checked (and for entries written before this field existed).
    #[serde(default)]
    pub accepted_under: u32,
}

/// The revision of the checks [`check_chain`] applies. Cached material accepted under this
/// revision is re-checked only for what changes with time (validity periods); raise it when the
/// rules change, so every cached chain is checked in full once more.
pub const CHAIN_RULES: u32 = 1;

impl Material {
    /// The same key and chain, whatever has been checked of them.
    pub fn same_as(&self, other: &Material) -> bool {
        self.key_spec == other.key_spec
            && self.key_name == other.key_name
            && self.key_version == other.key_version
            && self.chain == other.chain
    }

    pub fn chain_der(&self) -> Result<Vec<Vec<u8>>, SignError> {
        self.chain
            .iter()
            .map(|c| {
                STANDARD
                    .decode(c)
                    .map_err(|e| SignError::Certificate(format!("cached chain is not base64: {e}")))
            })
            .collect()
    }

    pub fn certificates(&self) -> Result<Vec<Certificate>, SignError> {
        self.chain_der()?
            .iter()
            .map(|der| {
                Certificate::from_der(der).map_err(|e| SignError::Certificate(e.to_string()))
            })
            .collect()
    }
}

/// The inputs of one resolution.
pub struct Resolver<'a> {
    pub id: &'a ObjectId,
    pub source: &'a ChainSource,
    pub vault: &'a VaultClient,
    pub cache: Option<&'a Cache>,
    pub log: &'a RequestLog,
}

/// Where resolved material came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Cache,
    Vault,
}

impl Resolver<'_> {
    /// The cache entry's key; a `ca_certs` bundle contributes its digest, so editing the bundle
    /// invalidates entries built from it.
    pub fn cache_key(&self, bundle: Option<&[u8]>) -> CacheKey {
        let variant = match self.source {
            ChainSource::Secret => "secret".to_string(),
            ChainSource::SelfSigned => "self_signed".to_string(),
            ChainSource::CaCerts(_) => {
                let digest = Sha256::digest(bundle.unwrap_or_default());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("ca_certs:{hex}")
            }
        };
        CacheKey {
            vault: self.id.vault(),
            collection: self.id.kind().collection().to_string(),
            name: self.id.name().to_string(),
            version: self.id.version().map(str::to_string),
            variant,
        }
    }

    /// Cached material if there is valid material, else from the vault (and then cached).
    pub async fn resolve(&self) -> Result<(Material, Origin, CacheKey), SignError> {
        let bundle = self.read_bundle()?;
        let key = self.cache_key(bundle.as_deref());
        if let Some(cache) = self.cache
            && let Some(mut material) = cache.get::<Material>(&key)
        {
            let chain = material.certificates()?;
            if material.accepted_under == CHAIN_RULES {
                recheck_chain(&chain)?;
            } else {
                // Written before these rules: checked in full, then marked, if the entry
                // never expires (rewriting a versionless one would extend its lifetime).
                check_chain(&chain, material.key_spec)?;
                if key.version.is_some() {
                    material.accepted_under = CHAIN_RULES;
                    cache.put(&key, &material);
                }
            }
            return Ok((material, Origin::Cache, key));
        }
        let mut material = self.fetch(bundle.as_deref()).await?;
        check_chain(&material.certificates()?, material.key_spec)?;
        material.accepted_under = CHAIN_RULES;
        if let Some(cache) = self.cache {
            cache.put(&key, &material);
        }
        Ok((material, Origin::Vault, key))
    }

    /// The `ca_certs` bundle's bytes, when that is the chain source.
    pub fn read_bundle(&self) -> Result<Option<Vec<u8>>, SignError> {
        match self.source {
            ChainSource::CaCerts(path) => Ok(Some(std::fs::read(path).map_err(|e| {
                SignError::Certificate(format!(
                    "cannot read ca_certs {}: {e}; give the path of a PEM or DER bundle with the issuing CAs \
                     (a relative path is relative to the directory notation runs in)",
                    path.display()
                ))
            })?)),
            _ => Ok(None),
        }
    }

    /// The material straight from the vault, neither cached nor checked against the Notary
    /// rules (`notation-akv doctor` reports those itself).
    ///
    /// A `/keys/` id on a Key Vault resolves exactly like the `/certificates/` id of the same
    /// name and version (AKV gives a certificate's key and secret its name and version, which is
    /// how azure-kv reads both forms). Only when that certificate does not exist (a bare key) or
    /// the vault is a Managed HSM does the key route apply: leaf and issuers from `ca_certs`.
    pub async fn fetch(&self, bundle: Option<&[u8]>) -> Result<Material, SignError> {
        let id = self.id;
        if id.kind() == ObjectKind::Key && id.is_managed_hsm() {
            return self.bare_key(bundle, None).await;
        }
        match self.certificate_material(bundle).await {
            Err(SignError::Vault(e)) if id.kind() == ObjectKind::Key && e.status() == Some(404) => {
                match self.source {
                    ChainSource::CaCerts(_) => self.bare_key(bundle, Some(&e)).await,
                    _ => Err(SignError::NoCertificate(format!(
                        "{}. If {:?} is a key without a certificate, give its certificate chain (the key's \
                         certificate and its CAs, any order) with ca_certs=<bundle.pem>; otherwise check the \
                         name and version in --id",
                        no_certificate(id, &e),
                        id.name()
                    ))),
                }
            }
            other => other,
        }
    }

    /// The certificate of the id's name and version, with the chain from the configured source.
    async fn certificate_material(&self, bundle: Option<&[u8]>) -> Result<Material, SignError> {
        let id = self.id;
        if let ChainSource::Secret = self.source {
            let secret = self.vault.get_secret(id.name(), id.version()).await?;
            let certificates = self.secret_certificates(&secret)?;
            let (chain, kid) = match &secret.kid {
                Some(kid) => (
                    build_chain(certificates, None).map_err(|e| self.secret_chain_error(e))?,
                    kid.clone(),
                ),
                None => {
                    // A secret that is not AKV-managed names no key: ask the certificate.
                    let (leaf, kid) = self.vault_leaf().await?;
                    (
                        build_chain(certificates, Some(&leaf))
                            .map_err(|e| self.secret_chain_error(e))?,
                        kid,
                    )
                }
            };
            return material(&chain, &kid, id);
        }
        let (leaf, kid) = self.vault_leaf().await?;
        let chain = match self.source {
            ChainSource::CaCerts(path) => {
                let bundle = self.bundle_certificates(path, bundle)?;
                build_chain(bundle, Some(&leaf)).map_err(|e| {
                    SignError::Certificate(format!("ca_certs {}: {e}", path.display()))
                })?
            }
            _ => {
                // self_signed (the secret source was handled above).
                if !leaf.is_self_issued() {
                    return Err(SignError::Certificate(format!(
                        "self_signed=true, but certificate {} was issued by \"{}\": remove self_signed and \
                         give the issuers with ca_certs=<bundle.pem> (or let the plugin read the chain from the secret)",
                        leaf.reference(),
                        leaf.issuer()
                    )));
                }
                vec![leaf]
            }
        };
        material(&chain, &kid, id)
    }

    /// The vault certificate (`cer`) and the key id (`kid`) it names.
    async fn vault_leaf(&self) -> Result<(Certificate, String), SignError> {
        let id = self.id;
        let cert = self.vault.get_certificate(id.name(), id.version()).await?;
        let leaf = leaf_of(&cert.der)?;
        let kid = cert.kid.ok_or_else(|| {
            SignError::Certificate(format!("certificate {} has no kid", id.name()))
        })?;
        Ok((leaf, kid))
    }

    /// A key with no certificate in the vault (every Managed HSM key): the leaf and its issuers
    /// come from `ca_certs`, and the leaf must hold the vault key. `missing` is the 404 that
    /// showed there is no certificate of that name.
    async fn bare_key(
        &self,
        bundle: Option<&[u8]>,
        missing: Option<&VaultError>,
    ) -> Result<Material, SignError> {
        let id = self.id;
        let ChainSource::CaCerts(path) = self.source else {
            return Err(SignError::Certificate(
                "a Managed HSM holds keys only, so it has no certificate chain: give the key's certificate \
                 and its CAs (any order) with ca_certs=<bundle.pem>"
                    .into(),
            ));
        };
        let context = missing
            .map(|e| {
                format!(
                    "{}, so {:?} is taken as a key without a certificate; ",
                    no_certificate(id, e),
                    id.name()
                )
            })
            .unwrap_or_default();
        let bundle = self.bundle_certificates(path, bundle)?;
        let chain = build_chain(bundle, None).map_err(|e| {
            SignError::Certificate(format!("{context}ca_certs {}: {e}", path.display()))
        })?;
        let key = self.vault.get_key(id.name(), id.version()).await?;
        let leaf = chain
            .first()
            .ok_or_else(|| SignError::Certificate("ca_certs holds no certificate".into()))?;
        if !matches_jwk(leaf.public_key(), &jwk(&key.key)).map_err(|e| {
            SignError::Certificate(format!("leaf certificate {}: {e}", leaf.reference()))
        })? {
            return Err(SignError::Certificate(format!(
                "{context}the leaf certificate {} in ca_certs does not hold the public key of vault key {}; \
                 put the certificate issued for that key in the bundle, with its CAs",
                leaf.reference(),
                key.kid
            )));
        }
        material(&chain, &key.kid, id)
    }

    /// The certificates of the `ca_certs` bundle read by [`Self::read_bundle`].
    fn bundle_certificates(
        &self,
        path: &std::path::Path,
        bundle: Option<&[u8]>,
    ) -> Result<Vec<Certificate>, SignError> {
        parse_bundle(bundle.unwrap_or_default())
            .map(|b| b.certificates)
            .map_err(|e| {
                SignError::Certificate(format!(
                    "ca_certs {}: {e}; it must hold the issuing CAs as PEM or DER certificates",
                    path.display()
                ))
            })
    }

    /// Certificates from a secret value; a private key in it is discarded, never kept or logged.
    fn secret_certificates(&self, secret: &SecretInfo) -> Result<Vec<Certificate>, SignError> {
        let name = self.id.name();
        let content_type = secret.content_type.as_deref().unwrap_or("");
        let (certificates, had_key) = match content_type {
            "application/x-pkcs12" => {
                pkcs12_certificates(secret.value.as_str()).map_err(|e| {
                    SignError::Certificate(format!(
                        "cannot read the certificate chain from secret {name} (content type application/x-pkcs12, \
                         empty password): {e}. Re-import the certificate as PEM (application/x-pem-file), \
                         or give the chain with ca_certs=<bundle.pem>"
                    ))
                })?
            }
            "application/x-pem-file" | "" => {
                let bundle = parse_bundle(secret.value.as_bytes())
                    .map_err(|e| SignError::Certificate(format!("secret {name}: {e}")))?;
                (bundle.certificates, bundle.had_private_key)
            }
            other => {
                return Err(SignError::Certificate(format!(
                    "secret {name} has content type {other:?}; only application/x-pem-file and \
                     application/x-pkcs12 hold certificate chains. Use ca_certs=<bundle.pem> or self_signed=true instead"
                )));
            }
        };
        if had_key {
            self.log.note(&format!(
                "WARNING: the secret of certificate {name} contains its private key, so the key is exportable \
                 (policy key_props.exportable=true). The plugin discarded it; consider a non-exportable policy"
            ));
        }
        Ok(certificates)
    }

    fn secret_chain_error(&self, e: notation_akv_x509::ChainError) -> SignError {
        SignError::Certificate(format!(
            "the chain in the secret of certificate {} is not usable: {e}. If the vault holds only the leaf, \
             give the issuers with ca_certs=<bundle.pem> (or self_signed=true for a self-signed certificate)",
            self.id.name()
        ))
    }
}

/// "the vault has no certificate named …": what the 404 of the certificate route said.
fn no_certificate(id: &ObjectId, e: &VaultError) -> String {
    let code = e.azure_code().map(|c| format!(" {c}")).unwrap_or_default();
    let lookup = e.operation().map_or("the lookup", |o| o.permission());
    let version = id
        .version()
        .map(|v| format!(" version {v}"))
        .unwrap_or_default();
    format!(
        "vault {} has no certificate named {:?}{version} for key id {} ({lookup} answered HTTP 404{code}); \
         a /keys/ id signs with the certificate of the same name and version, as azure-kv does",
        id.vault(),
        id.name(),
        id.as_str(),
    )
}

fn leaf_of(der: &[u8]) -> Result<Certificate, SignError> {
    Certificate::from_der(der)
        .map_err(|e| SignError::Certificate(format!("the vault's certificate (cer): {e}")))
}

fn material(chain: &[Certificate], kid: &str, id: &ObjectId) -> Result<Material, SignError> {
    let (collection, key_name, version) = parts_of(kid).ok_or_else(|| {
        SignError::Certificate(format!("the vault returned a malformed key id {kid:?}"))
    })?;
    let Some(key_version) = version.filter(|_| collection == "keys") else {
        return Err(SignError::Certificate(format!(
            "the vault returned key id {kid:?} without a key version"
        )));
    };
    if id.kind() == ObjectKind::Key && id.version().is_some_and(|v| v != key_version) {
        return Err(SignError::Certificate(format!(
            "asked for key version {} but the vault returned {kid}",
            id.version().unwrap_or_default()
        )));
    }
    let leaf = chain
        .first()
        .ok_or_else(|| SignError::Certificate("the certificate chain is empty".into()))?;
    let key_spec = key_spec(leaf.public_key()).map_err(|e| {
        SignError::Certificate(format!("leaf certificate {}: {e}", leaf.reference()))
    })?;
    Ok(Material {
        key_spec,
        key_name,
        key_version,
        chain: chain.iter().map(|c| STANDARD.encode(c.der())).collect(),
        accepted_under: 0,
    })
}

/// Checks the chain against the Notary Project rules now, reporting every violation with its
/// rule id and fix.
pub fn check_chain(chain: &[Certificate], spec: KeySpec) -> Result<(), SignError> {
    refuse(notation_akv_x509::validate_code_signing_chain(
        chain,
        Some(SystemTime::now()),
    ))?;
    let leaf_spec = chain
        .first()
        .map(|leaf| key_spec(leaf.public_key()))
        .transpose()
        .map_err(|e| SignError::Certificate(e.to_string()))?;
    if leaf_spec != Some(spec) {
        return Err(SignError::Certificate(
            "cached key spec does not match the leaf certificate".into(),
        ));
    }
    Ok(())
}

/// Re-checks now a cached chain that [`check_chain`] accepted under [`CHAIN_RULES`]: only what
/// changes with time (see `revalidate_accepted_chain`).
fn recheck_chain(chain: &[Certificate]) -> Result<(), SignError> {
    refuse(notation_akv_x509::revalidate_accepted_chain(
        chain,
        SystemTime::now(),
    ))
}

fn refuse(violations: Vec<notation_akv_x509::Violation>) -> Result<(), SignError> {
    if violations.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
    Err(SignError::Certificate(format!(
        "the certificate chain does not meet the Notary Project requirements, so notation would reject \
         the signature: {}",
        list.join("; ")
    )))
}

/// Certificates in a base64 PKCS#12 with the empty password, and whether it held a private key
/// (which is never decrypted here, or dropped at once).
fn pkcs12_certificates(value: &str) -> Result<(Vec<Certificate>, bool), String> {
    let der = STANDARD
        .decode(value.trim())
        .map_err(|e| format!("the value is not base64: {e}"))?;
    let found = crate::pfx::certificates(&der)?;
    let certificates = found
        .certificates
        .iter()
        .map(|der| Certificate::from_der(der).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err("the PKCS#12 holds no certificate".into());
    }
    Ok((certificates, found.had_private_key))
}

/// The vault key in the x509 crate's JWK form, to compare with a certificate's key
/// ([`matches_jwk`]).
pub fn jwk(key: &PublicKey) -> Jwk {
    let b64 = |b: &[u8]| Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b));
    match key {
        PublicKey::Rsa { n, e } => Jwk {
            kty: "RSA".into(),
            n: b64(n),
            e: b64(e),
            ..Default::default()
        },
        PublicKey::Ec { curve, x, y } => Jwk {
            kty: "EC".into(),
            crv: Some(
                match curve {
                    notation_akv_keyvault::Curve::P256 => "P-256",
                    notation_akv_keyvault::Curve::P384 => "P-384",
                    notation_akv_keyvault::Curve::P521 => "P-521",
                    notation_akv_keyvault::Curve::Other(c) => c.as_str(),
                }
                .to_string(),
            ),
            x: b64(x),
            y: b64(y),
            ..Default::default()
        },
        PublicKey::Unsupported(kty) => Jwk {
            kty: kty.clone(),
            ..Default::default()
        },
    }
}
