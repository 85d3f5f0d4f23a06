//! Interop: a CA run by the machine's `openssl` (`openssl ca -revoke`, `-gencrl`, `openssl ocsp
//! -index … -respout`) whose CRLs and OCSP responses this crate must parse and verify. Everything
//! is generated at run time in a temporary folder; openssl never binds a port.

mod common;

use std::path::Path;
use std::process::Command;

use akv_test_responders::http::{Faults, FileServer};
use akv_test_responders::ocsp::{Behaviour, OcspResponder};
use common::*;
use notation_akv_revocation::{CertStatus, ChainResult, RevocationReason, Source, Verdict};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed for the interop tests");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    let (_, der) = der::pem::decode_vec(pem).unwrap();
    der
}

/// `openssl ecparam` writes a new P-256 private key to `out` in `dir`.
fn generate_p256_key(dir: &Path, out: &str) {
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            out,
        ],
    );
}

struct OpensslCa {
    dir: tempfile::TempDir,
}

impl OpensslCa {
    fn new(crl_url: &str, ocsp_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        generate_p256_key(d, "ca.key");
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-sha256",
                "-days",
                "30",
                "-subj",
                "/C=US/ST=WA/O=Interop/CN=OpenSSL Interop CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "ca.pem",
            ],
        );
        std::fs::write(
            d.join("leaf.cnf"),
            format!(
                "[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=codeSigning\ncrlDistributionPoints=URI:{crl_url}\n\
                 authorityInfoAccess=OCSP;URI:{ocsp_url}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca=CA_default\n[CA_default]\ndatabase=index.txt\ncrlnumber=crlnumber\n\
             certificate=ca.pem\nprivate_key=ca.key\ndefault_md=sha256\ndefault_crl_days=1\n\
             crl_extensions=crl_ext\n[crl_ext]\nauthorityKeyIdentifier=keyid:always\n",
        )
        .unwrap();
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("crlnumber"), "1000\n").unwrap();
        for (name, serial) in [("good", "0x1001"), ("revoked", "0x1002")] {
            generate_p256_key(d, &format!("{name}.key"));
            openssl(
                d,
                &[
                    "req",
                    "-new",
                    "-key",
                    &format!("{name}.key"),
                    "-subj",
                    &format!("/C=US/ST=WA/O=Interop/CN={name} leaf"),
                    "-out",
                    &format!("{name}.csr"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    serial,
                    "-days",
                    "10",
                    "-sha256",
                    "-extfile",
                    "leaf.cnf",
                    "-extensions",
                    "v3",
                    "-out",
                    &format!("{name}.pem"),
                ],
            );
        }
        openssl(d, &["ca", "-config", "ca.cnf", "-valid", "good.pem"]);
        openssl(
            d,
            &[
                "ca",
                "-config",
                "ca.cnf",
                "-revoke",
                "revoked.pem",
                "-crl_reason",
                "keyCompromise",
            ],
        );
        openssl(d, &["ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl"]);
        for name in ["good", "revoked"] {
            openssl(
                d,
                &[
                    "ocsp",
                    "-index",
                    "index.txt",
                    "-rsigner",
                    "ca.pem",
                    "-rkey",
                    "ca.key",
                    "-CA",
                    "ca.pem",
                    "-issuer",
                    "ca.pem",
                    "-cert",
                    &format!("{name}.pem"),
                    "-ndays",
                    "1",
                    "-respout",
                    &format!("{name}.ocsp"),
                ],
            );
        }
        Self { dir }
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }

    fn chain(&self, leaf: &str) -> Vec<Vec<u8>> {
        vec![
            pem_to_der(&self.read(&format!("{leaf}.pem"))),
            pem_to_der(&self.read("ca.pem")),
        ]
    }
}

/// openssl revoked the leaf with `-crl_reason keyCompromise`; both its OCSP answer and its CRL
/// must say so.
fn leaf_revoked_for_key_compromise(result: &ChainResult) -> bool {
    matches!(
        result.certificates[0].status,
        CertStatus::Revoked {
            reason: Some(RevocationReason::KeyCompromise),
            ..
        }
    )
}

#[tokio::test]
async fn openssl_ocsp_responses_and_crl_verify() {
    let files = FileServer::start(None).await.unwrap();
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let crl_url = files.url("/openssl.crl");
    let ca = OpensslCa::new(&crl_url, &responder.url());
    files.files.put("/openssl.crl", ca.read("ca.crl"));

    responder.set_behaviour(Behaviour {
        canned: Some(ca.read("good.ocsp")),
        ..Behaviour::default()
    });
    let result = check(&checker(config()), &ca.chain("good")).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Ocsp {
            url: responder.url()
        })
    );

    responder.set_behaviour(Behaviour {
        canned: Some(ca.read("revoked.ocsp")),
        ..Behaviour::default()
    });
    let result = check(&checker(config()), &ca.chain("revoked")).await;
    assert!(leaf_revoked_for_key_compromise(&result), "{result}");

    // The responder fails: the openssl CRL (PEM) decides.
    responder.server.set_faults(Faults {
        status: Some(500),
        ..Faults::default()
    });
    let result = check(&checker(config()), &ca.chain("revoked")).await;
    assert!(leaf_revoked_for_key_compromise(&result), "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Crl {
            url: crl_url.clone(),
            delta_url: None
        })
    );
    let result = check(&checker(config()), &ca.chain("good")).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
}

#[tokio::test]
async fn openssl_responses_in_an_offline_bundle() {
    let ca = OpensslCa::new("http://127.0.0.1:9/never.crl", "http://127.0.0.1:9/never");
    let bundle = tempfile::tempdir().unwrap();
    std::fs::write(bundle.path().join("revoked.der"), ca.read("revoked.ocsp")).unwrap();
    std::fs::write(bundle.path().join("good.ocsp"), ca.read("good.ocsp")).unwrap();
    let cfg = notation_akv_revocation::RevocationConfig {
        bundle: Some(notation_akv_revocation::BundleConfig {
            dir: bundle.path().to_path_buf(),
            mode: notation_akv_revocation::BundleMode::Only,
        }),
        ..config()
    };
    let offline = checker(cfg);
    assert_eq!(
        check(&offline, &ca.chain("good")).await.verdict,
        Verdict::Ok
    );
    assert_eq!(
        check(&offline, &ca.chain("revoked")).await.verdict,
        Verdict::Revoked
    );
    assert_eq!(offline.network_requests(), 0);
}
