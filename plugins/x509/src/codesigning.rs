//! Notary Project requirements for a code-signing chain (signature specification, "Certificate
//! Requirements"; notation-core-go `x509.ValidateCodeSigningCertChain`).
//!
//! Unlike notation, which stops at the first problem, [`validate_code_signing_chain`] reports every
//! violation, each with a stable rule id, the certificate, what was found and how to fix it. A few
//! spec rules are not enforced by notation itself (anyExtendedKeyUsage in the leaf, a non-critical
//! CA basicConstraints); they are reported with [`Rule::enforced_by_notation`] `false` so callers can
//! warn instead of fail.

use std::fmt;
use std::time::SystemTime;

use const_oid::AssociatedOid;
use const_oid::db::rfc5280::{
    ANY_EXTENDED_KEY_USAGE, ID_KP_CLIENT_AUTH, ID_KP_EMAIL_PROTECTION, ID_KP_OCSP_SIGNING,
    ID_KP_SERVER_AUTH, ID_KP_TIME_STAMPING,
};
use der::Decode;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use crate::cert::{CertRef, Certificate};
use crate::key::key_spec;
use crate::signed_data::{self, Sha1};

/// The requirement a [`Violation`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    ChainEmpty,
    ChainNotIssuedByNext,
    ChainSelfSignedNotRoot,
    ChainRootNotSelfSigned,
    SignatureSha1,
    ValidityNotYetValid,
    ValidityExpired,
    ExtensionMalformed,
    LeafBasicConstraintsCa,
    LeafKeyUsageMissing,
    LeafKeyUsageNotCritical,
    LeafKeyUsageNoDigitalSignature,
    LeafKeyUsageForbidden,
    LeafEkuForbidden,
    LeafEkuAny,
    LeafKeyUnsupported,
    CaBasicConstraintsNotCa,
    CaBasicConstraintsNotCritical,
    CaPathLenExceeded,
    CaKeyUsageMissing,
    CaKeyUsageNotCritical,
    CaKeyUsageNoCertSign,
}

impl Rule {
    /// Stable identifier, e.g. `leaf.key-usage.forbidden`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ChainEmpty => "chain.empty",
            Rule::ChainNotIssuedByNext => "chain.not-issued-by-next",
            Rule::ChainSelfSignedNotRoot => "chain.self-signed-not-root",
            Rule::ChainRootNotSelfSigned => "chain.root-not-self-signed",
            Rule::SignatureSha1 => "signature.sha1",
            Rule::ValidityNotYetValid => "validity.not-yet-valid",
            Rule::ValidityExpired => "validity.expired",
            Rule::ExtensionMalformed => "extension.malformed",
            Rule::LeafBasicConstraintsCa => "leaf.basic-constraints.ca",
            Rule::LeafKeyUsageMissing => "leaf.key-usage.missing",
            Rule::LeafKeyUsageNotCritical => "leaf.key-usage.not-critical",
            Rule::LeafKeyUsageNoDigitalSignature => "leaf.key-usage.no-digital-signature",
            Rule::LeafKeyUsageForbidden => "leaf.key-usage.forbidden",
            Rule::LeafEkuForbidden => "leaf.eku.forbidden",
            Rule::LeafEkuAny => "leaf.eku.any",
            Rule::LeafKeyUnsupported => "leaf.key.unsupported",
            Rule::CaBasicConstraintsNotCa => "ca.basic-constraints.not-ca",
            Rule::CaBasicConstraintsNotCritical => "ca.basic-constraints.not-critical",
            Rule::CaPathLenExceeded => "ca.path-len.exceeded",
            Rule::CaKeyUsageMissing => "ca.key-usage.missing",
            Rule::CaKeyUsageNotCritical => "ca.key-usage.not-critical",
            Rule::CaKeyUsageNoCertSign => "ca.key-usage.no-cert-sign",
        }
    }

    /// Whether notation (notation-core-go) rejects a chain for this; `false` for rules only the
    /// specification states.
    pub fn enforced_by_notation(self) -> bool {
        !matches!(self, Rule::LeafEkuAny | Rule::CaBasicConstraintsNotCritical)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One broken requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    /// The certificate concerned; `None` only for [`Rule::ChainEmpty`].
    pub certificate: Option<CertRef>,
    /// What is wrong, e.g. `key usage has keyEncipherment`.
    pub found: String,
    /// What to change.
    pub fix: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.certificate {
            Some(c) => write!(
                f,
                "[{}] certificate {c}: {}. Fix: {}",
                self.rule, self.found, self.fix
            ),
            None => write!(f, "[{}] {}. Fix: {}", self.rule, self.found, self.fix),
        }
    }
}

const AKV_KEY_USAGE_FIX: &str = "issue the signing certificate with a critical keyUsage of digitalSignature only; for an Azure Key Vault certificate set the policy's x509_props.key_usage to [\"digitalSignature\"] (JSON: x509CertificateProperties.keyUsage) and create a new certificate version";
const AKV_EKU_FIX: &str = "issue the signing certificate without these extended key usages (code signing, 1.3.6.1.5.5.7.3.3, is the one to use); for an Azure Key Vault certificate set the policy's x509_props.ekus to [\"1.3.6.1.5.5.7.3.3\"] (JSON: x509CertificateProperties.ekus) and create a new certificate version";

/// Checks an ordered chain (leaf first, root last, or a single self-signed leaf) against the
/// Notary Project rules. `at`: the time every certificate must be valid at; `None` skips the
/// validity checks, as notation does when it validates structure before revocation checking.
///
/// Returns every violation, leaf first; an empty list means the chain is acceptable.
pub fn validate_code_signing_chain(
    chain: &[Certificate],
    at: Option<SystemTime>,
) -> Vec<Violation> {
    let mut out = Violations(Vec::new());
    let Some(last) = chain.len().checked_sub(1) else {
        out.0.push(Violation {
            rule: Rule::ChainEmpty,
            certificate: None,
            found: "the certificate chain is empty".into(),
            fix: "provide the signing certificate and its issuers up to the root".into(),
        });
        return out.0;
    };
    for (i, cert) in chain.iter().enumerate() {
        check_structure(&mut out, chain, i, last);
        if signed_data::is_sha1(&cert.x509().signature_algorithm) {
            out.push(
                Rule::SignatureSha1,
                cert,
                format!(
                    "the certificate is signed with {}",
                    signed_data::algorithm_name(&cert.x509().signature_algorithm)
                ),
                "reissue it with a SHA-256 or stronger signature",
            );
        }
        if let Some(at) = at {
            check_validity(&mut out, cert, at);
        }
        if i == 0 {
            check_leaf(&mut out, cert);
        } else {
            check_ca(&mut out, cert, i - 1);
        }
    }
    out.0
}

/// Re-checks at `at` a chain that [`validate_code_signing_chain`] accepted earlier, byte for byte
/// the same (the signer's cache holds only chains it accepted before writing them): only the
/// validity periods, because every other rule (structure, signatures, key usages, algorithms)
/// is a property of the bytes and cannot change. This skips the chain's signature verifications,
/// the larger part of a warm signing process's own work.
pub fn revalidate_accepted_chain(chain: &[Certificate], at: SystemTime) -> Vec<Violation> {
    let mut out = Violations(Vec::new());
    for cert in chain {
        check_validity(&mut out, cert, at);
    }
    out.0
}

struct Violations(Vec<Violation>);

impl Violations {
    fn push(
        &mut self,
        rule: Rule,
        cert: &Certificate,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(Violation {
            rule,
            certificate: Some(cert.reference()),
            found: found.into(),
            fix: fix.into(),
        });
    }
}

fn check_structure(out: &mut Violations, chain: &[Certificate], i: usize, last: usize) {
    let cert = &chain[i];
    if i == last {
        let self_signed = if cert.is_self_issued() {
            cert.verify_signed_by(cert, Sha1::Allow)
                .map_err(|e| e.to_string())
        } else {
            Err(format!("its issuer is \"{}\"", cert.issuer()))
        };
        if let Err(why) = self_signed {
            let (found, fix) = if last == 0 {
                (
                    format!("the only certificate is not self-signed: {why}"),
                    "add the issuing CA certificates up to the root (ca_certs), or use a self-signed certificate",
                )
            } else {
                (
                    format!("the last certificate is not a self-signed root: {why}"),
                    "end the chain with the self-signed root certificate",
                )
            };
            out.push(Rule::ChainRootNotSelfSigned, cert, found, fix);
        }
        return;
    }
    if cert.is_self_issued() && cert.verify_signed_by(cert, Sha1::Allow).is_ok() {
        let which = if i == 0 { "leaf" } else { "intermediate" };
        out.push(
            Rule::ChainSelfSignedNotRoot,
            cert,
            format!("the {which} certificate is self-signed but is not the last in the chain"),
            "remove the certificates after it, or use a CA-issued certificate",
        );
        return;
    }
    let parent = &chain[i + 1];
    let issued = if !cert.names_issuer(parent) {
        Err(format!(
            "its issuer is \"{}\" but the next certificate is \"{}\"",
            cert.issuer(),
            parent.subject()
        ))
    } else {
        cert.verify_signed_by(parent, Sha1::Allow).map_err(|e| {
            format!(
                "the next certificate \"{}\" did not sign it: {e}",
                parent.subject()
            )
        })
    };
    if let Err(found) = issued {
        out.push(
            Rule::ChainNotIssuedByNext,
            cert,
            found,
            "order the chain leaf first, each certificate followed by its issuer",
        );
    }
}

fn check_validity(out: &mut Violations, cert: &Certificate, at: SystemTime) {
    let window = format!(
        "valid from {} to {}, checked at {}",
        show_time(cert.not_before()),
        show_time(cert.not_after()),
        show_time(at)
    );
    if at < cert.not_before() {
        out.push(
            Rule::ValidityNotYetValid,
            cert,
            format!("the certificate is not valid yet ({window})"),
            "wait until it is valid, or check the clock",
        );
    } else if at > cert.not_after() {
        out.push(
            Rule::ValidityExpired,
            cert,
            format!("the certificate has expired ({window})"),
            "renew the certificate (a new Azure Key Vault certificate version) and sign again",
        );
    }
}

fn show_time(t: SystemTime) -> String {
    der::DateTime::from_system_time(t)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| format!("{t:?}"))
}

/// An extension as (critical, value), `Err` with a message when it does not decode.
fn extension<T: AssociatedOid + for<'a> Decode<'a>>(
    cert: &Certificate,
) -> Result<Option<(bool, T)>, String> {
    let Some(exts) = cert.x509().tbs_certificate.extensions.as_ref() else {
        return Ok(None);
    };
    let Some(ext) = exts.iter().find(|e| e.extn_id == T::OID) else {
        return Ok(None);
    };
    T::from_der(ext.extn_value.as_bytes())
        .map(|v| Some((ext.critical, v)))
        .map_err(|e| format!("extension {} does not decode: {e}", T::OID))
}

fn report_malformed(out: &mut Violations, cert: &Certificate, why: String) {
    out.push(
        Rule::ExtensionMalformed,
        cert,
        why,
        "reissue the certificate with well-formed extensions",
    );
}

const LEAF_FORBIDDEN_KEY_USAGES: [(KeyUsages, &str); 7] = [
    (KeyUsages::KeyEncipherment, "keyEncipherment"),
    (KeyUsages::DataEncipherment, "dataEncipherment"),
    (KeyUsages::KeyAgreement, "keyAgreement"),
    (KeyUsages::KeyCertSign, "keyCertSign"),
    (KeyUsages::CRLSign, "cRLSign"),
    (KeyUsages::EncipherOnly, "encipherOnly"),
    (KeyUsages::DecipherOnly, "decipherOnly"),
];

fn check_leaf(out: &mut Violations, cert: &Certificate) {
    match extension::<BasicConstraints>(cert) {
        Ok(Some((_, bc))) if bc.ca => out.push(
            Rule::LeafBasicConstraintsCa,
            cert,
            "basicConstraints has cA=true",
            "issue the signing certificate as an end-entity certificate (cA=false or no basicConstraints)",
        ),
        Ok(_) => {}
        Err(why) => report_malformed(out, cert, why),
    }

    match extension::<KeyUsage>(cert) {
        Ok(None) => out.push(
            Rule::LeafKeyUsageMissing,
            cert,
            "there is no keyUsage extension",
            AKV_KEY_USAGE_FIX,
        ),
        Ok(Some((critical, ku))) => {
            if !critical {
                out.push(
                    Rule::LeafKeyUsageNotCritical,
                    cert,
                    "the keyUsage extension is not critical",
                    AKV_KEY_USAGE_FIX,
                );
            }
            if !ku.digital_signature() {
                out.push(
                    Rule::LeafKeyUsageNoDigitalSignature,
                    cert,
                    "keyUsage does not include digitalSignature",
                    AKV_KEY_USAGE_FIX,
                );
            }
            let forbidden: Vec<&str> = LEAF_FORBIDDEN_KEY_USAGES
                .iter()
                .filter(|(bit, _)| ku.0.contains(*bit))
                .map(|(_, name)| *name)
                .collect();
            if !forbidden.is_empty() {
                out.push(
                    Rule::LeafKeyUsageForbidden,
                    cert,
                    format!("keyUsage includes {}", forbidden.join(", ")),
                    AKV_KEY_USAGE_FIX,
                );
            }
        }
        Err(why) => report_malformed(out, cert, why),
    }

    match extension::<ExtendedKeyUsage>(cert) {
        Ok(Some((_, eku))) => {
            let forbidden: Vec<&str> = eku
                .0
                .iter()
                .filter_map(|oid| match *oid {
                    o if o == ID_KP_SERVER_AUTH => Some("serverAuth"),
                    o if o == ID_KP_CLIENT_AUTH => Some("clientAuth"),
                    o if o == ID_KP_EMAIL_PROTECTION => Some("emailProtection"),
                    o if o == ID_KP_TIME_STAMPING => Some("timeStamping"),
                    o if o == ID_KP_OCSP_SIGNING => Some("OCSPSigning"),
                    _ => None,
                })
                .collect();
            if !forbidden.is_empty() {
                out.push(
                    Rule::LeafEkuForbidden,
                    cert,
                    format!("extendedKeyUsage includes {}", forbidden.join(", ")),
                    AKV_EKU_FIX,
                );
            }
            if eku.0.contains(&ANY_EXTENDED_KEY_USAGE) {
                out.push(
                    Rule::LeafEkuAny,
                    cert,
                    "extendedKeyUsage includes anyExtendedKeyUsage (the specification forbids it; notation accepts it)",
                    AKV_EKU_FIX,
                );
            }
        }
        Ok(None) => {}
        Err(why) => report_malformed(out, cert, why),
    }

    if let Err(e) = key_spec(cert.public_key()) {
        out.push(
            Rule::LeafKeyUnsupported,
            cert,
            e.to_string(),
            "use an RSA 2048/3072/4096 or EC P-256/P-384/P-521 key (Azure Key Vault: key_type RSA or EC with one of these sizes/curves)",
        );
    }
}

fn check_ca(out: &mut Violations, cert: &Certificate, expected_path_len: usize) {
    match extension::<BasicConstraints>(cert) {
        Ok(Some((critical, bc))) if bc.ca => {
            if !critical {
                out.push(
                    Rule::CaBasicConstraintsNotCritical,
                    cert,
                    "basicConstraints is not critical (the specification requires it; notation accepts it)",
                    "reissue the CA certificate with a critical basicConstraints extension",
                );
            }
            if let Some(max) = bc.path_len_constraint
                && usize::from(max) < expected_path_len
            {
                out.push(
                    Rule::CaPathLenExceeded,
                    cert,
                    format!(
                        "pathLenConstraint is {max} but {expected_path_len} CA certificate(s) follow it towards the leaf"
                    ),
                    "reissue the CA with a larger pathLenConstraint, or shorten the chain",
                );
            }
        }
        Ok(found) => out.push(
            Rule::CaBasicConstraintsNotCa,
            cert,
            if found.is_some() {
                "basicConstraints has cA=false"
            } else {
                "there is no basicConstraints extension"
            },
            "a CA certificate needs a critical basicConstraints extension with cA=true",
        ),
        Err(why) => report_malformed(out, cert, why),
    }

    let fix = "a CA certificate needs a critical keyUsage extension with keyCertSign";
    match extension::<KeyUsage>(cert) {
        Ok(None) => out.push(
            Rule::CaKeyUsageMissing,
            cert,
            "there is no keyUsage extension",
            fix,
        ),
        Ok(Some((critical, ku))) => {
            if !critical {
                out.push(
                    Rule::CaKeyUsageNotCritical,
                    cert,
                    "the keyUsage extension is not critical",
                    fix,
                );
            }
            if !ku.key_cert_sign() {
                out.push(
                    Rule::CaKeyUsageNoCertSign,
                    cert,
                    "keyUsage does not include keyCertSign",
                    fix,
                );
            }
        }
        Err(why) => report_malformed(out, cert, why),
    }
}
