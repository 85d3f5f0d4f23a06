//! `SIGNATURE_VERIFIER.TRUSTED_IDENTITY`: does the trust policy's `trustedIdentities` accept this
//! signer?
//!
//! Declaring the capability switches notation's own identity check off, so every form notation
//! knows is implemented here with its exact semantics, plus two of ours:
//!
//! | entry | matches when |
//! |---|---|
//! | `*` (alone) | always (notation-go) |
//! | `x509.subject: <RFC 4514 DN>` | the DN is a subset of the leaf subject, with notation-go's parsing and rendering quirks (the x509 crate's [`name`](notation_akv_x509::name) module) |
//! | `x509.sha256:<64 hex>` | the SHA-256 of the leaf, **or of any CA certificate the leaf chains up to** in the signature's chain (each link's signature verified here), so a policy can pin an issuing CA as well as a single leaf |
//! | `akv.key:<https://vault/keys/name[/version]>` | the signer's key-id attribute ([`AKV_KEY_ID`]) names the same vault and key, and the same version when the entry has one |
//!
//! A signature whose [`AKV_KEY_ID`] attribute is present but not a key URL fails, whatever the
//! policy: the plugin tells notation it processed that attribute.
//!
//! Several entries: any match passes. An entry that cannot be parsed (unknown prefix, bad DN, bad
//! fingerprint, not a key URL) fails the check even when another entry matches: a policy that is
//! partly unreadable does not say what its author meant, and notation itself refuses trust policies
//! with a malformed `x509.subject`.

use notation_akv_keyvault::{ObjectId, ObjectKind};
use notation_akv_protocol::attributes::AKV_KEY_ID;
use notation_akv_x509::Certificate;
use notation_akv_x509::name::{DistinguishedName, is_subset, parse_distinguished_name};
use notation_akv_x509::signed_data::Sha1;

use crate::config::value;

/// Prefix of SHA-256 certificate pins.
pub const SHA256_PREFIX: &str = "x509.sha256";
/// Prefix of Azure Key Vault key pins.
pub const AKV_KEY_PREFIX: &str = "akv.key";
/// notation's subject identities.
pub const SUBJECT_PREFIX: &str = "x509.subject";

/// One parsed `trustedIdentities` entry.
#[derive(Clone, Debug)]
pub enum Identity {
    Any,
    Subject(DistinguishedName),
    Sha256(String),
    AkvKey(ObjectId),
}

/// An entry that could not be parsed, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub entry: String,
    pub reason: String,
}

/// Parses one entry.
pub fn parse(entry: &str) -> Result<Identity, String> {
    if entry == "*" {
        return Ok(Identity::Any);
    }
    let Some((prefix, value)) = entry.split_once(':') else {
        return Err("it is neither \"*\" nor \"<prefix>:<value>\"".into());
    };
    match prefix {
        SUBJECT_PREFIX => {
            if value.trim().is_empty() {
                return Err("the distinguished name is empty".into());
            }
            parse_distinguished_name(value)
                .map(Identity::Subject)
                .map_err(|e| e.to_string())
        }
        SHA256_PREFIX => value::sha256_hex(value).map(Identity::Sha256),
        AKV_KEY_PREFIX => {
            let id = ObjectId::parse(value.trim()).map_err(|e| e.to_string())?;
            if id.kind() != ObjectKind::Key {
                return Err(format!(
                    "{AKV_KEY_PREFIX}: needs a key URL (…/keys/<name>[/<version>]), not a {} URL",
                    id.kind().collection()
                ));
            }
            Ok(Identity::AkvKey(id))
        }
        other => Err(format!(
            "unknown prefix {other:?}; this verifier understands *, {SUBJECT_PREFIX}:, {SHA256_PREFIX}: and {AKV_KEY_PREFIX}:"
        )),
    }
}

/// The signer's key as recorded in the signature's [`AKV_KEY_ID`] attribute.
#[derive(Clone, Debug)]
pub enum SignerKey {
    /// The signature has no such attribute (for example a RAW signature made by notation).
    Absent,
    Present(ObjectId),
    /// The attribute is there but is not a key URL; the reason says why.
    Malformed(String),
}

impl SignerKey {
    pub fn from_attribute(value: Option<&serde_json::Value>) -> Self {
        let Some(value) = value else {
            return SignerKey::Absent;
        };
        let Some(text) = value.as_str() else {
            return SignerKey::Malformed(format!("{AKV_KEY_ID} must be a string, not {value}"));
        };
        match ObjectId::parse(text) {
            Ok(id) if id.kind() == ObjectKind::Key => SignerKey::Present(id),
            Ok(_) => SignerKey::Malformed(format!("{AKV_KEY_ID} {text:?} is not a key URL")),
            Err(e) => SignerKey::Malformed(format!("{AKV_KEY_ID}: {e}")),
        }
    }
}

/// Whether the key pin `wanted` accepts the key that signed.
fn key_matches(wanted: &ObjectId, signer: &ObjectId) -> bool {
    // Key Vault host names and object names are case-insensitive; versions are hex ids.
    wanted.vault().eq_ignore_ascii_case(&signer.vault())
        && wanted.name().eq_ignore_ascii_case(signer.name())
        && match wanted.version() {
            None => true,
            Some(v) => signer.version().is_some_and(|s| s.eq_ignore_ascii_case(v)),
        }
}

/// Index of the certificate the pin names, if the leaf provably chains up to it.
fn pinned_position(chain: &[Certificate], fingerprint: &str) -> Result<Option<usize>, String> {
    let Some(position) = chain
        .iter()
        .position(|c| c.sha256_fingerprint() == fingerprint)
    else {
        return Ok(None);
    };
    // Under `audit` notation may hand over a chain it did not trust; check each link ourselves so
    // that a pinned CA certificate merely appended to the chain does not count.
    for i in 0..position {
        chain[i]
            .verify_signed_by(&chain[i + 1], Sha1::Reject)
            .map_err(|e| {
                format!(
                    "x509.sha256:{fingerprint} names chain certificate #{position}, but certificate #{i} \"{}\" is not signed by certificate #{} \"{}\": {e}",
                    chain[i].subject(),
                    i + 1,
                    chain[i + 1].subject()
                )
            })?;
    }
    Ok(Some(position))
}

/// The outcome of the identity check: `Ok(description of the match)` or `Err(reason)`.
pub fn evaluate(
    entries: &[String],
    chain: &[Certificate],
    signer_key: &SignerKey,
) -> Result<String, String> {
    let Some(leaf) = chain.first() else {
        return Err("the signature has no certificate".into());
    };
    let mut identities = Vec::new();
    let mut malformed = Vec::new();
    for entry in entries {
        match parse(entry) {
            Ok(identity) => identities.push((entry, identity)),
            Err(reason) => malformed.push(Malformed {
                entry: entry.clone(),
                reason,
            }),
        }
    }
    if identities.iter().any(|(_, i)| matches!(i, Identity::Any)) && entries.len() > 1 {
        malformed.push(Malformed {
            entry: "*".into(),
            reason: "\"*\" must be the only trusted identity of a policy statement".into(),
        });
    }
    if !malformed.is_empty() {
        let list: Vec<String> = malformed
            .iter()
            .map(|m| format!("{:?}: {}", m.entry, m.reason))
            .collect();
        return Err(format!(
            "the trust policy has malformed trusted identities: {}",
            list.join("; ")
        ));
    }
    if entries.is_empty() {
        return Err("the trust policy lists no trusted identities".into());
    }
    // The attribute is listed as processed, so a value we cannot read must not pass silently.
    if let SignerKey::Malformed(reason) = signer_key {
        return Err(format!(
            "the signature's key-id attribute is malformed: {reason}"
        ));
    }

    // Computed once, only when a subject entry needs it; its failure is a reason, not a crash.
    let leaf_subject = leaf.subject();
    let mut subject_error = None;
    let mut parsed_subject = None;
    let mut link_errors = Vec::new();
    for (entry, identity) in &identities {
        let matched = match identity {
            Identity::Any => true,
            Identity::Subject(dn) => {
                if parsed_subject.is_none() && subject_error.is_none() {
                    match parse_distinguished_name(&leaf_subject) {
                        Ok(parsed) => parsed_subject = Some(parsed),
                        Err(e) => subject_error = Some(e.to_string()),
                    }
                }
                parsed_subject.as_ref().is_some_and(|s| is_subset(dn, s))
            }
            Identity::Sha256(fingerprint) => match pinned_position(chain, fingerprint) {
                Ok(found) => found.is_some(),
                Err(e) => {
                    link_errors.push(e);
                    false
                }
            },
            Identity::AkvKey(wanted) => {
                matches!(signer_key, SignerKey::Present(signer) if key_matches(wanted, signer))
            }
        };
        if matched {
            return Ok(format!("trusted identity {entry:?} matched"));
        }
    }

    let key = match signer_key {
        SignerKey::Absent => format!("no {AKV_KEY_ID} attribute"),
        SignerKey::Present(id) => format!("key {id}"),
        SignerKey::Malformed(reason) => reason.clone(),
    };
    let mut reason = format!(
        "signing certificate \"{leaf_subject}\" (sha256 {}, {key}) matches none of the trusted identities {entries:?}",
        leaf.sha256_fingerprint()
    );
    if let Some(e) = subject_error {
        reason.push_str(&format!("; the leaf subject cannot be compared: {e}"));
    }
    for e in link_errors {
        reason.push_str("; ");
        reason.push_str(&e);
    }
    Err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_each_form() {
        assert!(matches!(parse("*"), Ok(Identity::Any)));
        assert!(matches!(
            parse("x509.subject: C=US, ST=WA, O=acme"),
            Ok(Identity::Subject(_))
        ));
        let fp = "0A".repeat(32);
        assert!(
            matches!(parse(&format!("x509.sha256:{fp}")), Ok(Identity::Sha256(h)) if h == fp.to_ascii_lowercase())
        );
        assert!(matches!(
            parse("akv.key:https://myvault.vault.azure.net/keys/signer"),
            Ok(Identity::AkvKey(_))
        ));
    }

    #[test]
    fn malformed_entries_say_why() {
        let cases = [
            ("x509.subject: CN=only", "'C'"),
            ("x509.sha256:abc", "64 hexadecimal digits"),
            (
                "akv.key:https://myvault.vault.azure.net/certificates/c",
                "needs a key URL",
            ),
            ("akv.key:http://myvault.vault.azure.net/keys/k", "https"),
            ("spiffe:foo", "unknown prefix \"spiffe\""),
            ("nocolon", "neither"),
        ];
        for (entry, expected) in cases {
            let err = parse(entry).unwrap_err();
            assert!(err.contains(expected), "{entry}: {err}");
        }
    }

    #[test]
    fn key_pins_compare_vault_name_and_optional_version() {
        let signer =
            ObjectId::parse("https://MyVault.vault.azure.net/keys/Signer/0123abcd").unwrap();
        let yes = [
            "https://myvault.vault.azure.net/keys/signer",
            "https://myvault.vault.azure.net/keys/signer/0123ABCD",
        ];
        let no = [
            "https://other.vault.azure.net/keys/signer",
            "https://myvault.vault.azure.net/keys/signer2",
            "https://myvault.vault.azure.net/keys/signer/ffff",
        ];
        for id in yes {
            assert!(key_matches(&ObjectId::parse(id).unwrap(), &signer), "{id}");
        }
        for id in no {
            assert!(!key_matches(&ObjectId::parse(id).unwrap(), &signer), "{id}");
        }
        let versionless = ObjectId::parse("https://myvault.vault.azure.net/keys/signer").unwrap();
        let pinned = ObjectId::parse("https://myvault.vault.azure.net/keys/signer/01").unwrap();
        assert!(!key_matches(&pinned, &versionless));
    }

    #[test]
    fn signer_key_attribute_forms() {
        assert!(matches!(SignerKey::from_attribute(None), SignerKey::Absent));
        let id = serde_json::json!("https://v.vault.azure.net/keys/k/1");
        assert!(matches!(
            SignerKey::from_attribute(Some(&id)),
            SignerKey::Present(_)
        ));
        for bad in [serde_json::json!(7), serde_json::json!("not a url")] {
            assert!(matches!(
                SignerKey::from_attribute(Some(&bad)),
                SignerKey::Malformed(_)
            ));
        }
    }
}
