//! Certificates made by the OpenSSL CLI parse, verify and pass (or fail) the rules as expected.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use notation_akv_protocol::KeySpec;
use notation_akv_x509::signed_data::{Sha1, verify_signed_data};
use notation_akv_x509::{
    Certificate, Rule, SignatureError, build_chain, key_spec, parse_bundle,
    validate_code_signing_chain,
};

const LEAF_EXT: &str =
    "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nbasicConstraints=CA:FALSE\n";
const CA_EXT: &str = "keyUsage=critical,keyCertSign,cRLSign\nbasicConstraints=critical,CA:TRUE\n";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// A config whose `[ext]` section is `ext`, so OpenSSL adds nothing of its own.
    fn config(&self, name: &str, ext: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(
            &p,
            format!("[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n[ext]\n{ext}"),
        )
        .unwrap();
        p
    }
}

fn openssl(args: &[&str], paths: &[&Path]) {
    let mut cmd = Command::new("openssl");
    cmd.args(args);
    for p in paths {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req -x509` self-signed certificate with only the extensions of `ext`.
fn self_signed(dir: &Dir, name: &str, newkey: &[&str], sign: &[&str], ext: &str) -> Certificate {
    let cfg = dir.config(&format!("{name}.cnf"), ext);
    let key = dir.path(&format!("{name}.key"));
    let crt = dir.path(&format!("{name}.pem"));
    let subj = format!("/C=US/ST=WA/O=Contoso/CN={name}");
    let mut args = vec![
        "req",
        "-x509",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &subj,
        "-extensions",
        "ext",
    ];
    args.extend_from_slice(newkey);
    args.extend_from_slice(sign);
    let mut cmd = Command::new("openssl");
    cmd.args(&args)
        .arg("-config")
        .arg(&cfg)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    one(&crt)
}

fn one(path: &Path) -> Certificate {
    let mut b = parse_bundle(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(b.certificates.len(), 1);
    b.certificates.remove(0)
}

fn self_check(c: &Certificate, sha1: Sha1) -> Result<(), SignatureError> {
    c.verify_signed_by(c, sha1)
}

fn rules(chain: &[Certificate]) -> Vec<Rule> {
    validate_code_signing_chain(chain, Some(SystemTime::now()))
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

#[test]
fn rsa_pkcs1_sha256_certificate() {
    let dir = Dir::new();
    let c = self_signed(
        &dir,
        "rsa",
        &["-newkey", "rsa:2048"],
        &["-sha256"],
        LEAF_EXT,
    );
    assert_eq!(key_spec(c.public_key()), Ok(KeySpec::Rsa2048));
    assert_eq!(self_check(&c, Sha1::Reject), Ok(()));
    assert_eq!(c.subject(), "CN=rsa,O=Contoso,ST=WA,C=US");
    assert_eq!(rules(&[c]), []);
}

#[test]
fn ecdsa_certificates_with_each_curve() {
    let dir = Dir::new();
    for (curve, hash, spec) in [
        ("P-256", "-sha256", KeySpec::Ec256),
        ("P-384", "-sha384", KeySpec::Ec384),
        ("P-521", "-sha512", KeySpec::Ec521),
    ] {
        let opt = format!("ec_paramgen_curve:{curve}");
        let c = self_signed(
            &dir,
            curve,
            &["-newkey", "ec", "-pkeyopt", &opt],
            &[hash],
            LEAF_EXT,
        );
        assert_eq!(key_spec(c.public_key()), Ok(spec));
        assert_eq!(self_check(&c, Sha1::Reject), Ok(()), "{curve}");
        assert_eq!(rules(&[c]), [], "{curve}");
    }
    // Hash and curve need not pair up in certificate signatures (Go accepts any combination).
    for (curve, hash) in [
        ("P-521", "-sha256"),
        ("P-521", "-sha384"),
        ("P-256", "-sha512"),
        ("P-384", "-sha512"),
        ("P-384", "-sha256"),
    ] {
        let mixed = self_signed(
            &dir,
            &format!("mixed{curve}{hash}"),
            &[
                "-newkey",
                "ec",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{curve}"),
            ],
            &[hash],
            LEAF_EXT,
        );
        assert_eq!(self_check(&mixed, Sha1::Reject), Ok(()), "{curve} {hash}");
        let x = mixed.x509();
        let mut tbs = der::Encode::to_der(&x.tbs_certificate).unwrap();
        let last = tbs.len() - 1;
        tbs[last] ^= 1;
        let sig = x.signature.as_bytes().unwrap();
        assert_eq!(
            verify_signed_data(
                mixed.public_key(),
                &x.signature_algorithm,
                &tbs,
                sig,
                Sha1::Reject
            ),
            Err(SignatureError::Invalid),
            "{curve} {hash}: tampered"
        );
    }
}

#[test]
fn rsa_pss_certificates_need_salt_equal_to_hash_length() {
    let dir = Dir::new();
    let good = self_signed(
        &dir,
        "pss",
        &["-newkey", "rsa:3072"],
        &[
            "-sha384",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ],
        LEAF_EXT,
    );
    assert_eq!(self_check(&good, Sha1::Reject), Ok(()));
    assert_eq!(rules(&[good]), []);

    let odd = self_signed(
        &dir,
        "pss20",
        &["-newkey", "rsa:2048"],
        &[
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:20",
        ],
        LEAF_EXT,
    );
    assert!(
        matches!(self_check(&odd, Sha1::Reject), Err(SignatureError::MalformedParameters(m)) if m.contains("salt length 20"))
    );
    assert_eq!(rules(&[odd]), [Rule::ChainRootNotSelfSigned]);
}

#[test]
fn sha1_signatures_only_where_allowed() {
    let dir = Dir::new();
    let rsa = self_signed(
        &dir,
        "sha1rsa",
        &["-newkey", "rsa:2048"],
        &["-sha1"],
        LEAF_EXT,
    );
    // On P-384 and P-521 a SHA-1 digest is shorter than half the curve order: checked all the same.
    let ec: Vec<Certificate> = ["P-256", "P-384", "P-521"]
        .iter()
        .map(|curve| {
            self_signed(
                &dir,
                &format!("sha1ec{curve}"),
                &[
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{curve}"),
                ],
                &["-sha1"],
                LEAF_EXT,
            )
        })
        .collect();
    for c in std::iter::once(rsa).chain(ec) {
        assert!(matches!(
            self_check(&c, Sha1::Reject),
            Err(SignatureError::Sha1NotAllowed(_))
        ));
        // What an OCSP response check does.
        let x = c.x509();
        let tbs = der::Encode::to_der(&x.tbs_certificate).unwrap();
        let sig = x.signature.as_bytes().unwrap();
        assert_eq!(
            verify_signed_data(
                c.public_key(),
                &x.signature_algorithm,
                &tbs,
                sig,
                Sha1::Allow
            ),
            Ok(())
        );
        let mut tampered = tbs.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            verify_signed_data(
                c.public_key(),
                &x.signature_algorithm,
                &tampered,
                sig,
                Sha1::Allow
            ),
            Err(SignatureError::Invalid)
        );
        let v = validate_code_signing_chain(std::slice::from_ref(&c), Some(SystemTime::now()));
        assert_eq!(
            v.iter().map(|v| v.rule).collect::<Vec<_>>(),
            [Rule::SignatureSha1]
        );
        assert!(v[0].found.to_lowercase().contains("sha1"), "{}", v[0].found);
    }
}

#[test]
fn openssl_ca_and_leaf_chain() {
    let dir = Dir::new();
    let root = self_signed(&dir, "root", &["-newkey", "rsa:3072"], &["-sha384"], CA_EXT);
    let leaf_key = dir.path("leaf.key");
    let csr = dir.path("leaf.csr");
    let leaf_pem = dir.path("leaf.pem");
    let ext = dir.path("leaf.ext");
    std::fs::write(&ext, LEAF_EXT).unwrap();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ],
        &[&leaf_key],
    );
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req",
        "-new",
        "-subj",
        "/C=US/ST=WA/O=Contoso/CN=leaf",
        "-key",
    ])
    .arg(&leaf_key)
    .arg("-out")
    .arg(&csr);
    assert!(cmd.output().unwrap().status.success());
    let mut cmd = Command::new("openssl");
    cmd.args([
        "x509",
        "-req",
        "-days",
        "1",
        "-sha384",
        "-set_serial",
        "0x1234",
        "-in",
    ])
    .arg(&csr)
    .arg("-CA")
    .arg(dir.path("root.pem"))
    .arg("-CAkey")
    .arg(dir.path("root.key"))
    .arg("-extfile")
    .arg(&ext)
    .arg("-out")
    .arg(&leaf_pem);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leaf = one(&leaf_pem);
    assert_eq!(leaf.serial_hex(), "1234");
    assert_eq!(leaf.verify_signed_by(&root, Sha1::Reject), Ok(()));
    let chain = build_chain(vec![root.clone(), leaf.clone()], None).unwrap();
    assert_eq!(chain, [leaf, root]);
    assert_eq!(rules(&chain), []);
}

#[test]
fn signature_algorithm_and_key_type_must_agree() {
    let dir = Dir::new();
    let rsa = self_signed(
        &dir,
        "rsa",
        &["-newkey", "rsa:2048"],
        &["-sha256"],
        LEAF_EXT,
    );
    let ec = self_signed(
        &dir,
        "ec",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &["-sha256"],
        LEAF_EXT,
    );
    assert!(matches!(
        rsa.verify_signed_by(&ec, Sha1::Reject),
        Err(SignatureError::WrongKeyType { .. })
    ));
    assert!(matches!(
        ec.verify_signed_by(&rsa, Sha1::Reject),
        Err(SignatureError::WrongKeyType { .. })
    ));
    let weak = self_signed(
        &dir,
        "weak",
        &["-newkey", "rsa:1024"],
        &["-sha256"],
        LEAF_EXT,
    );
    assert!(
        matches!(self_check(&weak, Sha1::Reject), Err(SignatureError::UnsupportedAlgorithm(m)) if m.contains("RSA-1024"))
    );
}
