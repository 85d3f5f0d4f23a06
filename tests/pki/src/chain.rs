//! A generated chain and its certificates, with the encodings tests need (DER, PEM, bundles, PFX).

use crate::profile::{Eku, LeafKeyUsage, Subject};
use crate::{PkiError, TestKey, pkcs12};
use notation_akv_protocol::KeySpec;
use time::OffsetDateTime;

/// One certificate with its private key.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    pub(crate) der: Vec<u8>,
    pub(crate) key: TestKey,
    pub(crate) serial: Vec<u8>,
    pub(crate) subject: Subject,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
}

impl IssuedCert {
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn pem(&self) -> String {
        crate::pem_encode("CERTIFICATE", &self.der)
    }

    /// The certificate's private key (CA keys sign CRLs and OCSP responses).
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// Serial number, big-endian, as encoded (positive, no sign byte needed).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// This certificate as an rcgen issuer, to sign CRLs or more certificates with it.
    pub fn rcgen_issuer(&self) -> Result<rcgen::Issuer<'static, rcgen::KeyPair>, PkiError> {
        rcgen::Issuer::from_ca_cert_pem(&self.pem(), self.key.key_pair()?).map_err(PkiError::from)
    }
}

/// Order of certificates in a PEM bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BundleOrder {
    /// leaf, intermediate, root (what AKV returns for certificates it generated).
    #[default]
    LeafFirst,
    /// root, intermediate, leaf.
    RootFirst,
    /// intermediate, leaf, root: neither order, for chain-building tests.
    Scrambled,
}

/// A leaf and, unless self-signed, the intermediate and root that issued it.
#[derive(Clone, Debug)]
pub struct Chain {
    pub(crate) spec: KeySpec,
    pub(crate) leaf: IssuedCert,
    pub(crate) intermediate: Option<IssuedCert>,
    pub(crate) root: Option<IssuedCert>,
    pub(crate) eku: Eku,
    pub(crate) key_usage: LeafKeyUsage,
}

impl Chain {
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    pub fn leaf(&self) -> &IssuedCert {
        &self.leaf
    }

    pub fn intermediate(&self) -> Option<&IssuedCert> {
        self.intermediate.as_ref()
    }

    pub fn root(&self) -> Option<&IssuedCert> {
        self.root.as_ref()
    }

    /// The certificate whose key signed the leaf (the leaf itself when self-signed).
    pub fn leaf_issuer(&self) -> &IssuedCert {
        self.intermediate.as_ref().unwrap_or(&self.leaf)
    }

    pub fn is_self_signed(&self) -> bool {
        self.root.is_none()
    }

    pub fn eku(&self) -> Eku {
        self.eku
    }

    pub fn key_usage(&self) -> LeafKeyUsage {
        self.key_usage
    }

    /// Whether the leaf meets the Notary Project rules (EKU and key usage; validity aside).
    pub fn is_notary_compliant(&self) -> bool {
        self.eku != Eku::ServerClientAuth && self.key_usage == LeafKeyUsage::DigitalSignature
    }

    /// Leaf first, ending at the root (notation's `certificateChain` order).
    pub fn certs(&self) -> Vec<&IssuedCert> {
        [
            Some(&self.leaf),
            self.intermediate.as_ref(),
            self.root.as_ref(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// DER of every certificate, leaf first.
    pub fn der_chain(&self) -> Vec<Vec<u8>> {
        self.certs().into_iter().map(|c| c.der.clone()).collect()
    }

    /// Concatenated PEM certificates in the given order.
    pub fn pem_bundle(&self, order: BundleOrder) -> String {
        let mut certs = self.certs();
        match order {
            BundleOrder::LeafFirst => {}
            BundleOrder::RootFirst => certs.reverse(),
            BundleOrder::Scrambled => certs.rotate_left(1),
        }
        certs.iter().map(|c| c.pem()).collect()
    }

    /// The issuers (intermediate and root) without the leaf, as PEM in `order`: what a
    /// `ca_certs` bundle holds.
    pub fn issuers_pem(&self, order: BundleOrder) -> String {
        let leaf = self.leaf.pem();
        self.pem_bundle(order)
            .split_inclusive("-----END CERTIFICATE-----\n")
            .filter(|pem| *pem != leaf)
            .collect()
    }

    /// PKCS#12 with an empty password (as AKV serves `application/x-pkcs12` secrets), holding the
    /// whole chain and, if asked, the leaf's private key (AKV's "exportable" certificates).
    pub fn pkcs12(&self, include_private_key: bool) -> Result<Vec<u8>, PkiError> {
        let ders = self.der_chain();
        let key = include_private_key.then(|| self.leaf.key.pkcs8_der());
        pkcs12::build(&ders, key)
    }
}
