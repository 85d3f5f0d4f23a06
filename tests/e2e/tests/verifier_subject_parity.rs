//! `x509.subject` parity: the same trusted identities judged by the real notation 1.3.2 CLI
//! (native identity check, local-key signatures) and by our verifier through the protocol.
//!
//! Each row signs an artifact with a leaf of the given subject, imports a strict trust policy naming
//! the identity, and runs `notation verify`; then sends the same chain and identity to
//! `notation-akv-verifier verify-signature` with `SIGNATURE_VERIFIER.TRUSTED_IDENTITY`. The two
//! verdicts must agree on every row. A policy notation refuses to import counts as "rejected".

mod verifier_support;

use notation_akv_e2e::{NotationEnv, Registry, trust_policy};
use rcgen::DnType;
use verifier_support::*;

struct Leaf {
    name: &'static str,
    subject: Vec<(DnType, &'static str)>,
}

fn email() -> DnType {
    DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1])
}

fn leaves() -> Vec<Leaf> {
    use DnType::*;
    vec![
        Leaf {
            name: "plain",
            subject: vec![
                (CountryName, "US"),
                (StateOrProvinceName, "WA"),
                (LocalityName, "Seattle"),
                (OrganizationName, "acme"),
                (CommonName, "signer"),
            ],
        },
        Leaf {
            name: "comma",
            subject: vec![
                (CountryName, "US"),
                (StateOrProvinceName, "WA"),
                (OrganizationName, "acme, inc"),
                (CommonName, "signer"),
            ],
        },
        Leaf {
            name: "email",
            subject: vec![
                (CountryName, "US"),
                (StateOrProvinceName, "WA"),
                (OrganizationName, "acme"),
                (CommonName, "signer"),
                (email(), "signer@acme.example"),
            ],
        },
        Leaf {
            name: "ou",
            subject: vec![
                (CountryName, "US"),
                (StateOrProvinceName, "WA"),
                (OrganizationName, "acme"),
                (OrganizationalUnitName, "eng"),
                (CommonName, "signer"),
            ],
        },
    ]
}

/// (leaf name, trusted identity)
const CASES: &[(&str, &str)] = &[
    ("plain", "x509.subject: C=US, ST=WA, O=acme"),
    ("plain", "x509.subject: C=US, S=WA, O=acme"),
    (
        "plain",
        "x509.subject: C=US,ST=WA,O=acme,L=Seattle,CN=signer",
    ),
    (
        "plain",
        "x509.subject: C=US, ST=WA, L=Seattle, O=acme, CN=signer",
    ),
    ("plain", "x509.subject: C=US, ST=WA, O=acme, CN=other"),
    ("plain", "x509.subject: C=US, ST=WA, O=ACME"),
    ("plain", "x509.subject: C = US , ST = WA , O = acme"),
    ("plain", "x509.subject: C=US, ST=WA, O=\"acme\""),
    ("plain", "x509.subject: CN=signer"),
    ("plain", "x509.subject: C=US, ST=WA, O=acme, O=acme"),
    ("plain", "x509.subject: C=US+ST=WA, O=acme"),
    ("plain", "x509.subject: C=US, ST=WA, O=#0c0461636d65"),
    ("plain", "*"),
    ("comma", "x509.subject: C=US, ST=WA, O=acme\\, inc"),
    ("comma", "x509.subject: C=US, ST=WA, O=acme"),
    ("comma", "x509.subject: C=US, ST=WA, O=acme\\2c inc"),
    ("email", "x509.subject: C=US, ST=WA, O=acme"),
    ("email", "*"),
    ("ou", "x509.subject: C=US, ST=WA, O=acme, OU=eng"),
    ("ou", "x509.subject: C=US, ST=WA, O=acme, OU=ops"),
];

#[test]
fn x509_subject_verdicts_match_notation() {
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let ca = test_ca();
    let verifier_home = tempfile::tempdir().unwrap();
    let verifier_env = verifier_env(verifier_home.path());
    let mut rows = Vec::new();
    let mut disagreements = Vec::new();
    let mut store_added = false;

    for leaf in leaves() {
        let signer = local_signer(&env, leaf.name, &leaf.subject, &ca);
        if !store_added {
            env.add_ca_cert("parity", &signer.root_pem_path).unwrap();
            store_added = true;
        }
        let artifact = env
            .push_artifact(&registry, "parity", leaf.name, leaf.name.as_bytes())
            .unwrap();
        env.notation_ok(&["sign", "--key", &signer.name, &artifact.by_digest()])
            .unwrap();

        for (_, identity) in CASES.iter().filter(|(name, _)| *name == leaf.name) {
            let policy = trust_policy(&registry.repository("parity"), "parity", &[identity]);
            let path = env
                .write_file("trustpolicy.json", policy.to_string())
                .unwrap();
            let import = env
                .notation(&["policy", "import", "--force", path.to_str().unwrap()])
                .unwrap();
            let notation = if import.success() {
                let verify = env
                    .notation(&["verify", "-v", &artifact.by_digest()])
                    .unwrap();
                if verify.success() {
                    "pass"
                } else {
                    // A failure must be the identity (authenticity) check, not a broken setup.
                    assert!(
                        verify.stderr.contains("authenticity validation failed"),
                        "{}: {identity}: {}",
                        leaf.name,
                        verify.stderr
                    );
                    "fail"
                }
            } else {
                "rejected"
            };
            let ours = verify(
                &request(&signer.chain, &[identity], &[IDENTITY]),
                IDENTITY,
                &verifier_env,
            );
            let ours_text = if ours.success { "pass" } else { "fail" };
            let agree = (notation == "pass") == ours.success;
            rows.push(format!(
                "| {} | `{identity}` | {notation} | {ours_text} | {} |",
                leaf.name,
                if agree { "same" } else { "DIFFERENT" }
            ));
            if !agree {
                disagreements.push(format!(
                    "{}: {identity}: notation {notation}, ours {ours_text} ({})",
                    leaf.name, ours.reason
                ));
            }
        }
    }
    println!("| leaf | trusted identity | notation 1.3.2 | akv-verifier | verdict |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
    assert_eq!(rows.len(), CASES.len());
    assert!(
        disagreements.is_empty(),
        "verdicts differ:\n{}",
        disagreements.join("\n")
    );
}
