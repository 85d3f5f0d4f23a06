//! Every Notary key spec (RSA-2048/3072/4096, EC P-256/384/521) as the key of the root, the
//! intermediate and the leaf: OCSP responses and CRLs signed by issuers of that spec (with the
//! hash the key size implies) give the right verdicts, so the engine verifies each signature
//! algorithm; delegated OCSP responders with RSA-3072 and EC P-521 keys are accepted.
//!
//! Keys are `Key::cached`, one per role and spec, so a test makes each RSA key once.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{Behaviour, OcspResponder, Signer, Status};
use akv_test_responders::pki::{CertOptions, Issued, TestCa};
use akv_test_responders::sign::{Key, KeySpec};
use common::*;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use notation_akv_revocation::{CertStatus, RevocationReason, Source, Verdict};

const ROOT_SLOT: u32 = 1;
const INTERMEDIATE_SLOT: u32 = 2;
const LEAF_SLOT: u32 = 3;
const RESPONDER_SLOT: u32 = 4;

/// The signature algorithm a key of `spec` must sign with (stated here, not taken from the fixture
/// code, so a fixture that signs everything with SHA-256 fails).
fn expected_algorithm(spec: KeySpec) -> ObjectIdentifier {
    match spec {
        KeySpec::Rsa2048 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        KeySpec::Rsa3072 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        KeySpec::Rsa4096 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
        KeySpec::Ec256 => rfc5912::ECDSA_WITH_SHA_256,
        KeySpec::Ec384 => rfc5912::ECDSA_WITH_SHA_384,
        KeySpec::Ec521 => rfc5912::ECDSA_WITH_SHA_512,
    }
}

fn cached(spec: KeySpec, slot: u32) -> Arc<Key> {
    Arc::new(Key::cached(spec, slot).expect("test key"))
}

/// A certificate of `spec`'s cached key for `slot`, with `opts`' pointers.
fn with_key(spec: KeySpec, slot: u32, opts: CertOptions) -> CertOptions {
    CertOptions {
        key: Some(cached(spec, slot)),
        ..opts
    }
}

/// root → intermediate of one spec, served by one OCSP responder and one CRL file server.
struct Pki {
    spec: KeySpec,
    responder: OcspResponder,
    files: FileServer,
    root: TestCa,
    inter: TestCa,
}

impl Pki {
    /// The intermediate is answered by OCSP (responses signed by the root).
    async fn new(spec: KeySpec) -> Pki {
        let responder = OcspResponder::start(&[], None).await.unwrap();
        let files = FileServer::start(None).await.unwrap();
        let root = TestCa::root_with_key(
            &format!("{spec} Root"),
            Key::cached(spec, ROOT_SLOT).unwrap(),
        )
        .unwrap();
        let inter = root
            .intermediate(
                &format!("{spec} Intermediate"),
                &with_key(spec, INTERMEDIATE_SLOT, CertOptions::ocsp(responder.url())),
            )
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&inter).unwrap();
        responder.set_status(inter.serial(), Status::Good);
        Pki {
            spec,
            responder,
            files,
            root,
            inter,
        }
    }

    /// A leaf of this spec issued by `ca`.
    fn leaf(&self, ca: &TestCa, cn: &str, opts: CertOptions) -> Issued {
        ca.issue(
            &format!("{} {cn}", self.spec),
            &with_key(self.spec, LEAF_SLOT, opts),
        )
        .unwrap()
    }

    fn chain(&self, ca: &TestCa, leaf: &Issued) -> Vec<Vec<u8>> {
        vec![
            leaf.der.clone(),
            ca.der().to_vec(),
            self.root.der().to_vec(),
        ]
    }
}

fn crl_algorithm(crl: &[u8]) -> ObjectIdentifier {
    x509_cert::crl::CertificateList::from_der(crl)
        .unwrap()
        .signature_algorithm
        .oid
}

/// OCSP good, OCSP revoked and CRL revoked leaves, and a CRL-revoked intermediate, all of `spec`.
async fn verdicts_for(spec: KeySpec) {
    let pki = Pki::new(spec).await;
    let algorithm = expected_algorithm(spec);
    for (what, cert) in [("root", &pki.root), ("intermediate", &pki.inter)] {
        assert_eq!(cert.key().spec(), spec, "{what} key");
        assert_eq!(
            cert.cert().unwrap().signature_algorithm.oid,
            expected_algorithm(spec),
            "{what} certificate signed by a {spec} key"
        );
    }
    let checker = checker(config());
    let ocsp = Source::Ocsp {
        url: pki.responder.url(),
    };

    // OCSP good: the leaf's answer is signed by the intermediate, the intermediate's by the root.
    let good = pki.leaf(
        &pki.inter,
        "Good Leaf",
        CertOptions::ocsp(pki.responder.url()),
    );
    pki.responder.set_status(&good.serial, Status::Good);
    let result = check(&checker, &pki.chain(&pki.inter, &good)).await;
    assert_eq!(result.verdict, Verdict::Ok, "{spec}: {result}");
    for cert in &result.certificates {
        assert_eq!(cert.status, CertStatus::Good, "{spec}: {result}");
        assert_eq!(cert.source.as_ref(), Some(&ocsp), "{spec}: {result}");
    }

    // OCSP revoked.
    let revoked_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ocsp_revoked = pki.leaf(
        &pki.inter,
        "OCSP-Revoked Leaf",
        CertOptions::ocsp(pki.responder.url()),
    );
    pki.responder.set_status(
        &ocsp_revoked.serial,
        Status::revoked(revoked_at, Some(Reason::KeyCompromise)),
    );
    let result = check(&checker, &pki.chain(&pki.inter, &ocsp_revoked)).await;
    assert_eq!(result.verdict, Verdict::Revoked, "{spec}: {result}");
    assert_eq!(
        result.certificates[0].status,
        CertStatus::Revoked {
            reason: Some(RevocationReason::KeyCompromise),
            time: revoked_at
        },
        "{spec}: {result}"
    );
    assert_eq!(result.certificates[0].source.as_ref(), Some(&ocsp));
    assert!(is_good(&result, 1), "{spec}: {result}");

    // CRL revoked: the intermediate signs the leaf's CRL.
    let crl_url = pki.files.url("/inter.crl");
    let crl_revoked = pki.leaf(&pki.inter, "CRL-Revoked Leaf", CertOptions::crl(&crl_url));
    let crl = CrlBuilder::default()
        .revoke(Entry::new(&crl_revoked.serial, Some(Reason::Superseded)))
        .sign(&pki.inter)
        .unwrap();
    assert_eq!(crl_algorithm(&crl), algorithm, "{spec}: intermediate CRL");
    pki.files.files.put("/inter.crl", crl);
    let result = check(&checker, &pki.chain(&pki.inter, &crl_revoked)).await;
    assert_eq!(result.verdict, Verdict::Revoked, "{spec}: {result}");
    assert!(
        matches!(
            result.certificates[0].status,
            CertStatus::Revoked {
                reason: Some(RevocationReason::Superseded),
                ..
            }
        ),
        "{spec}: {result}"
    );
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Crl {
            url: crl_url,
            delta_url: None
        })
    );

    // CRL-revoked intermediate: the root signs its CRL. Same key as the first intermediate, another
    // name, so the responder tells them apart.
    let root_crl_url = pki.files.url("/root.crl");
    let revoked_inter = pki
        .root
        .intermediate(
            &format!("{spec} Revoked Intermediate"),
            &with_key(spec, INTERMEDIATE_SLOT, CertOptions::crl(&root_crl_url)),
        )
        .unwrap();
    pki.responder.add_ca(&revoked_inter).unwrap();
    let leaf = pki.leaf(
        &revoked_inter,
        "Leaf Under Revoked Intermediate",
        CertOptions::ocsp(pki.responder.url()),
    );
    pki.responder.set_status(&leaf.serial, Status::Good);
    let crl = CrlBuilder::default()
        .revoke(Entry::new(
            revoked_inter.serial(),
            Some(Reason::CaCompromise),
        ))
        .sign(&pki.root)
        .unwrap();
    assert_eq!(crl_algorithm(&crl), algorithm, "{spec}: root CRL");
    pki.files.files.put("/root.crl", crl);
    let result = check(&checker, &pki.chain(&revoked_inter, &leaf)).await;
    assert_eq!(result.verdict, Verdict::Revoked, "{spec}: {result}");
    assert!(is_good(&result, 0), "{spec}: {result}");
    assert!(
        matches!(
            result.certificates[1].status,
            CertStatus::Revoked {
                reason: Some(RevocationReason::CaCompromise),
                ..
            }
        ),
        "{spec}: {result}"
    );
    assert_eq!(
        result.certificates[1].source,
        Some(Source::Crl {
            url: root_crl_url,
            delta_url: None
        })
    );
}

#[tokio::test]
async fn rsa_2048_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Rsa2048).await;
}

#[tokio::test]
async fn rsa_3072_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Rsa3072).await;
}

#[tokio::test]
async fn rsa_4096_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Rsa4096).await;
}

#[tokio::test]
async fn ec_256_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Ec256).await;
}

#[tokio::test]
async fn ec_384_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Ec384).await;
}

#[tokio::test]
async fn ec_521_chain_good_ocsp_revoked_crl_revoked() {
    verdicts_for(KeySpec::Ec521).await;
}

/// CAs of `ca_spec` delegate OCSP signing to a responder certificate with a `responder_spec` key;
/// the intermediate is checked by the root's CRL, so the whole chain has an answer.
async fn delegated_responder(ca_spec: KeySpec, responder_spec: KeySpec) {
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let files = FileServer::start(None).await.unwrap();
    let root = TestCa::root_with_key(
        &format!("{ca_spec} Delegating Root"),
        Key::cached(ca_spec, ROOT_SLOT).unwrap(),
    )
    .unwrap();
    let root_crl_url = files.url("/root.crl");
    let inter = root
        .intermediate(
            &format!("{ca_spec} Delegating Intermediate"),
            &with_key(ca_spec, INTERMEDIATE_SLOT, CertOptions::crl(&root_crl_url)),
        )
        .unwrap();
    files
        .files
        .put("/root.crl", CrlBuilder::default().sign(&root).unwrap());
    responder.add_ca(&inter).unwrap();
    let responder_cert = inter
        .issue(
            &format!("{responder_spec} Delegated OCSP Responder"),
            &with_key(
                responder_spec,
                RESPONDER_SLOT,
                CertOptions {
                    ocsp_signing: true,
                    ocsp_nocheck: true,
                    ..CertOptions::default()
                },
            ),
        )
        .unwrap();
    assert_eq!(
        responder_cert.key.signature_algorithm().oid,
        expected_algorithm(responder_spec)
    );
    responder.set_behaviour(Behaviour {
        signer: Signer::Delegated {
            cert_der: responder_cert.der.clone(),
            key: Arc::new(responder_cert.key),
        },
        ..Behaviour::default()
    });
    let checker = checker(config());
    let chain = |leaf: &Issued| vec![leaf.der.clone(), inter.der().to_vec(), root.der().to_vec()];
    let leaf_opts = || with_key(ca_spec, LEAF_SLOT, CertOptions::ocsp(responder.url()));

    let good = inter.issue("Delegated Good Leaf", &leaf_opts()).unwrap();
    responder.set_status(&good.serial, Status::Good);
    let result = check(&checker, &chain(&good)).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Ocsp {
            url: responder.url()
        })
    );

    let revoked = inter.issue("Delegated Revoked Leaf", &leaf_opts()).unwrap();
    responder.set_status(
        &revoked.serial,
        Status::revoked(
            SystemTime::now() - Duration::from_secs(60),
            Some(Reason::CessationOfOperation),
        ),
    );
    let result = check(&checker, &chain(&revoked)).await;
    assert_eq!(result.verdict, Verdict::Revoked, "{result}");
    assert!(
        matches!(
            result.certificates[0].status,
            CertStatus::Revoked {
                reason: Some(RevocationReason::CessationOfOperation),
                ..
            }
        ),
        "{result}"
    );
}

#[tokio::test]
async fn delegated_rsa_3072_responder_under_ec_521_cas() {
    delegated_responder(KeySpec::Ec521, KeySpec::Rsa3072).await;
}

#[tokio::test]
async fn delegated_ec_521_responder_under_rsa_3072_cas() {
    delegated_responder(KeySpec::Rsa3072, KeySpec::Ec521).await;
}
