//! Proves the harness on notation's own local-key flow: an artifact pushed with oras to the test
//! registry is signed with `notation cert generate-test`'s key and verified under a strict policy.

use notation_akv_e2e::{NotationEnv, Registry, trust_policy};

#[test]
fn local_key_sign_then_verify_passes_and_unsigned_artifact_fails() {
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let key = env.generate_test_key("e2e.example", true).unwrap();
    let signed = env
        .push_artifact(&registry, "demo", "signed", b"hello")
        .unwrap();
    let unsigned = env
        .push_artifact(&registry, "demo", "unsigned", b"other")
        .unwrap();
    assert_ne!(signed.digest, unsigned.digest);

    let sign = env.notation_ok(&["sign", &signed.by_digest()]).unwrap();
    assert!(
        sign.stdout
            .contains(&format!("Successfully signed {}", signed.by_digest())),
        "{sign:?}"
    );
    let list = env.notation_ok(&["ls", &signed.by_digest()]).unwrap();
    assert!(
        list.stdout
            .contains("application/vnd.cncf.notary.signature"),
        "{list:?}"
    );

    env.import_trust_policy(&trust_policy(
        &registry.repository("demo"),
        &key.name,
        &["*"],
    ))
    .unwrap();
    let verify = env.notation_ok(&["verify", &signed.by_digest()]).unwrap();
    assert!(
        verify.stdout.contains(&format!(
            "Successfully verified signature for {}",
            signed.by_digest()
        )),
        "{verify:?}"
    );

    let rejected = env.notation(&["verify", &unsigned.by_digest()]).unwrap();
    assert!(
        !rejected.success(),
        "unsigned artifact verified: {rejected:?}"
    );
    assert!(
        rejected.stderr.contains("no signature is associated"),
        "{rejected:?}"
    );
}
