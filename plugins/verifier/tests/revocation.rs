//! `SIGNATURE_VERIFIER.REVOCATION_CHECK` through the built binary against real OCSP responders and
//! CRL servers on 127.0.0.1 (`akv-test-responders`): verdicts, the reasons users read, timeouts,
//! the disk cache across processes and the offline bundle with the network cut.

mod common;

use serde_json::json;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::http::{Faults, unreachable_url};
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use akv_test_responders::sign::{Key, KeySpec};
use common::*;

/// root → intermediate → leaf, the leaf and intermediate answered by one OCSP responder.
struct OcspChain {
    root: TestCa,
    intermediate: TestCa,
    leaf: Vec<u8>,
    leaf_serial: Vec<u8>,
    responder: OcspResponder,
}

impl OcspChain {
    fn new(world: &World) -> OcspChain {
        let responder = world.ocsp();
        let root = TestCa::root("revocation root").unwrap();
        let intermediate = root
            .intermediate(
                "revocation intermediate",
                &CertOptions::ocsp(responder.url()),
            )
            .unwrap();
        let leaf = intermediate
            .issue("revocation leaf", &CertOptions::ocsp(responder.url()))
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&intermediate).unwrap();
        responder.set_status(intermediate.serial(), Status::Good);
        responder.set_status(&leaf.serial, Status::Good);
        OcspChain {
            leaf: leaf.der,
            leaf_serial: leaf.serial,
            root,
            intermediate,
            responder,
        }
    }

    fn der(&self) -> Vec<Vec<u8>> {
        der_chain(self.leaf.clone(), &self.intermediate, &self.root)
    }

    fn request(&self) -> Request {
        revocation_request(self.der())
    }
}

/// leaf → intermediate → root as DER, the order a request carries them.
fn der_chain(leaf: Vec<u8>, intermediate: &TestCa, root: &TestCa) -> Vec<Vec<u8>> {
    vec![leaf, intermediate.der().to_vec(), root.der().to_vec()]
}

/// A request for `chain` asking only for the revocation capability.
fn revocation_request(chain: Vec<Vec<u8>>) -> Request {
    Request::new(chain).capabilities(&[REVOCATION])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn good_chain_passes_and_the_log_names_each_source() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    let sandbox = Sandbox::new();
    let log = sandbox.log_path();
    let run = sandbox.verify(
        &chain
            .request()
            .config("log_file", log.to_str().unwrap())
            .json(),
    );
    assert_eq!(run.result(REVOCATION), (true, String::new()));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("revocation leaf"), "{text}");
    assert!(
        text.contains(&format!("OCSP {}", chain.responder.url())),
        "{text}"
    );
    assert_eq!(
        chain.responder.requests(),
        2,
        "one request per non-root certificate"
    );
}

#[test]
fn revoked_leaf_names_certificate_source_reason_and_time() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    chain.responder.set_status(
        &chain.leaf_serial,
        Status::revoked(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Some(Reason::KeyCompromise),
        ),
    );
    let run = Sandbox::new().verify(&chain.request().json());
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    for expected in [
        "revoked:",
        "revocation leaf",
        &hex(&chain.leaf_serial).to_ascii_lowercase(),
        "keyCompromise",
        "2023-11-14T22:13:20Z",
        &chain.responder.url(),
    ] {
        assert!(
            reason
                .to_ascii_lowercase()
                .contains(&expected.to_ascii_lowercase()),
            "missing {expected:?} in {reason}"
        );
    }
    assert!(
        !reason.contains("revocation intermediate"),
        "only culprits: {reason}"
    );
}

#[test]
fn revoked_intermediate_by_crl() {
    let world = World::new();
    let files = world.files();
    let crl_url = files.url("/root.crl");
    let root = TestCa::root("crl root").unwrap();
    let intermediate = root
        .intermediate("crl intermediate", &CertOptions::crl(&crl_url))
        .unwrap();
    let leaf_crl = files.url("/intermediate.crl");
    let leaf = intermediate
        .issue("crl leaf", &CertOptions::crl(&leaf_crl))
        .unwrap();
    files.files.put(
        "/root.crl",
        CrlBuilder::default()
            .revoke(Entry::new(
                intermediate.serial(),
                Some(Reason::CaCompromise),
            ))
            .sign(&root)
            .unwrap(),
    );
    files.files.put(
        "/intermediate.crl",
        CrlBuilder::default().sign(&intermediate).unwrap(),
    );
    let run = Sandbox::new()
        .verify(&revocation_request(der_chain(leaf.der, &intermediate, &root)).json());
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("crl intermediate"), "{reason}");
    assert!(reason.contains("cACompromise"), "{reason}");
    assert!(reason.contains(&crl_url), "{reason}");
    assert!(!reason.contains("crl leaf"), "{reason}");
}

#[test]
fn unknown_status_fails_with_the_responders_answer() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    chain
        .responder
        .set_status(&chain.leaf_serial, Status::Unknown);
    let (success, reason) = Sandbox::new()
        .verify(&chain.request().json())
        .result(REVOCATION);
    assert!(!success);
    assert!(
        reason.starts_with("revocation status is unknown"),
        "{reason}"
    );
    assert!(reason.contains("status unknown"), "{reason}");
}

#[test]
fn unreachable_responder_is_a_failed_result_not_an_exit_code() {
    let root = TestCa::root("unreachable root").unwrap();
    let url = unreachable_url("/ocsp").unwrap();
    let intermediate = root
        .intermediate("unreachable int", &CertOptions::default())
        .unwrap();
    let leaf = intermediate
        .issue("unreachable leaf", &CertOptions::ocsp(&url))
        .unwrap();
    let run = Sandbox::new()
        .verify(&revocation_request(der_chain(leaf.der, &intermediate, &root)).json());
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("cannot reach"), "{reason}");
    assert!(reason.contains(&url), "{reason}");
}

#[test]
fn slow_responder_hits_the_configured_timeout() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    chain.responder.server.set_faults(Faults {
        delay: Some(Duration::from_secs(20)),
        ..Faults::default()
    });
    let run = Sandbox::new().verify(&chain.request().config("ocsp_timeout", "300ms").json());
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("timed out after 0.3s"), "{reason}");
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn the_cache_answers_after_a_restart_and_survives_corruption() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    let sandbox = Sandbox::new();
    assert!(sandbox.verify(&chain.request().json()).result(REVOCATION).0);
    let after_cold = chain.responder.requests();
    assert_eq!(after_cold, 2);

    // A new process: every answer comes from the cache.
    assert!(sandbox.verify(&chain.request().json()).result(REVOCATION).0);
    assert_eq!(
        chain.responder.requests(),
        after_cold,
        "warm run used the network"
    );

    // Corrupt every cache file: the verifier neither trusts nor chokes on them.
    let cache = sandbox.path().join("cache/notation-akv/revocation");
    let mut corrupted = 0;
    for entry in walk(&cache) {
        std::fs::write(&entry, b"\x30\x03garbage").unwrap();
        corrupted += 1;
    }
    assert!(
        corrupted >= 2,
        "expected cache files under {}",
        cache.display()
    );
    assert!(sandbox.verify(&chain.request().json()).result(REVOCATION).0);
    assert_eq!(
        chain.responder.requests(),
        after_cold + 2,
        "refetched once each"
    );

    // The cache can be switched off.
    assert!(
        sandbox
            .verify(&chain.request().config("cache", "false").json())
            .result(REVOCATION)
            .0
    );
    assert_eq!(chain.responder.requests(), after_cold + 4);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn offline_bundle_answers_with_the_network_cut() {
    let root = TestCa::root("bundle root").unwrap();
    let dead_root_crl = unreachable_url("/root.crl").unwrap();
    let dead_int_crl = unreachable_url("/int.crl").unwrap();
    let intermediate = root
        .intermediate("bundle intermediate", &CertOptions::crl(&dead_root_crl))
        .unwrap();
    let leaf = intermediate
        .issue("bundle leaf", &CertOptions::crl(&dead_int_crl))
        .unwrap();
    let chain = der_chain(leaf.der.clone(), &intermediate, &root);
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("root.crl"),
        CrlBuilder::default().sign(&root).unwrap(),
    )
    .unwrap();
    std::fs::write(
        bundle.join("intermediate.crl"),
        CrlBuilder::default().sign(&intermediate).unwrap(),
    )
    .unwrap();

    let offline = |request: Request| {
        request
            .capabilities(&[REVOCATION])
            .config("offline_bundle", bundle.to_str().unwrap())
            .config("offline_mode", "only")
    };
    let run = sandbox.verify(&offline(Request::new(chain.clone())).json());
    assert_eq!(run.result(REVOCATION), (true, String::new()));

    // Without the bundle the same chain cannot be checked.
    let (success, reason) = sandbox
        .verify(&revocation_request(chain.clone()).json())
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("cannot reach"), "{reason}");

    // A revocation in the bundle is honoured.
    std::fs::write(
        bundle.join("intermediate.crl"),
        CrlBuilder {
            number: 2,
            ..CrlBuilder::default()
        }
        .revoke(Entry::new(&leaf.serial, Some(Reason::Superseded)))
        .sign(&intermediate)
        .unwrap(),
    )
    .unwrap();
    let (success, reason) = sandbox
        .verify(&offline(Request::new(chain)).json())
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("superseded"), "{reason}");
    assert!(reason.contains("offline bundle"), "{reason}");
}

#[test]
fn a_missing_offline_bundle_is_reported() {
    let chain = akv_test_pki::ChainBuilder::new(akv_test_pki::KeySpec::Ec256)
        .build()
        .unwrap();
    let (success, reason) = Sandbox::new()
        .verify(
            &revocation_request(chain.der_chain())
                .config("offline_bundle", "/nonexistent/bundle")
                .json(),
        )
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("/nonexistent/bundle"), "{reason}");
}

#[test]
fn https_responder_trusted_through_tls_ca_file() {
    let world = World::new();
    let tls = akv_test_responders::tls::TlsIdentity::new().unwrap();
    let responder = world
        .runtime
        .block_on(OcspResponder::start(&[], Some(tls.server_config())))
        .unwrap();
    assert!(responder.url().starts_with("https://"));
    let root = TestCa::root("https root").unwrap();
    let intermediate = root
        .intermediate("https intermediate", &CertOptions::default())
        .unwrap();
    let leaf = intermediate
        .issue("https leaf", &CertOptions::ocsp(responder.url()))
        .unwrap();
    responder.add_ca(&intermediate).unwrap();
    responder.set_status(&leaf.serial, Status::Good);
    let chain = der_chain(leaf.der, &intermediate, &root);
    let sandbox = Sandbox::new();
    let ca_file = sandbox.path().join("tls-ca.der");
    std::fs::write(&ca_file, tls.ca_der()).unwrap();

    // Without the CA the TLS handshake fails and the status is unknown.
    let (success, reason) = sandbox
        .verify(&revocation_request(chain.clone()).json())
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains(&responder.url()), "{reason}");

    let run = sandbox.verify(
        &revocation_request(chain)
            .config("tls_ca_file", ca_file.to_str().unwrap())
            .json(),
    );
    assert_eq!(run.result(REVOCATION), (true, String::new()));
}

#[test]
fn responses_without_next_update_follow_ocsp_max_age() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    chain
        .responder
        .set_behaviour(akv_test_responders::ocsp::Behaviour {
            validity: None,
            ..akv_test_responders::ocsp::Behaviour::default()
        });
    let sandbox = Sandbox::new();
    let fresh = chain.request().config("cache", "false");
    assert_eq!(
        sandbox.verify(&fresh.json()).result(REVOCATION),
        (true, String::new())
    );
    // notation's behaviour: such responses are expired.
    let (success, reason) = sandbox
        .verify(&fresh.config("ocsp_max_age", "0").json())
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("no nextUpdate"), "{reason}");
}

const CONCURRENT: usize = 64;

/// `CONCURRENT` verify-signature runs of `body` at once from `sandbox`.
fn verify_concurrently(sandbox: &Sandbox, body: &[u8]) -> Vec<Run> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONCURRENT)
            .map(|_| scope.spawn(|| sandbox.run("verify-signature", body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every file in the revocation cache is a complete entry of ours (0600); no temporary file.
fn assert_revocation_cache_intact(dir: &Path) {
    let mut entries = 0;
    for kind in ["ocsp", "crl"] {
        for item in std::fs::read_dir(dir.join(kind)).unwrap() {
            let item = item.unwrap();
            let name = item.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.'), "temporary file left: {name}");
            assert_eq!(item.metadata().unwrap().permissions().mode() & 0o777, 0o600);
            let bytes = std::fs::read(item.path()).unwrap();
            assert!(
                bytes.starts_with(b"notation-akv-revocation-cache-v1\n"),
                "{name} is not a whole entry"
            );
            entries += 1;
        }
    }
    assert!(entries > 0, "nothing was cached");
}

#[test]
fn sixty_four_concurrent_verifications_share_one_cache_safely() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    let body = serde_json::to_vec(&chain.request().json()).unwrap();
    let before = chain.responder.requests();
    assert!(
        Sandbox::new()
            .run("verify-signature", &body)
            .result(REVOCATION)
            .0
    );
    let cold = chain.responder.requests() - before;

    let sandbox = Sandbox::new();
    let before = chain.responder.requests();
    let runs = verify_concurrently(&sandbox, &body);
    for run in &runs {
        assert_eq!(run.result(REVOCATION), (true, String::new()));
    }
    let used = chain.responder.requests() - before;
    assert!(
        used <= cold * CONCURRENT as u64,
        "{used} OCSP requests; {CONCURRENT} cold runs need {}",
        cold * CONCURRENT as u64
    );
    assert_revocation_cache_intact(&sandbox.revocation_cache());
    // Afterwards the shared cache answers alone.
    let before = chain.responder.requests();
    assert!(sandbox.verify(&chain.request().json()).result(REVOCATION).0);
    assert_eq!(chain.responder.requests(), before);
}

#[test]
fn concurrent_verifications_survive_entries_being_damaged() {
    let world = World::new();
    let chain = OcspChain::new(&world);
    let body = serde_json::to_vec(&chain.request().json()).unwrap();
    let sandbox = Sandbox::new();
    assert!(sandbox.run("verify-signature", &body).result(REVOCATION).0);
    let dir = sandbox.revocation_cache().join("ocsp");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let runs = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut round = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for item in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    if item.file_name().to_string_lossy().starts_with('.') {
                        continue;
                    }
                    let _ = match round % 3 {
                        0 => std::fs::write(item.path(), b"notation-akv-revocation-cache-v1\n"),
                        1 => std::fs::write(item.path(), b"garbage"),
                        _ => std::fs::remove_file(item.path()),
                    };
                }
                round += 1;
                std::thread::sleep(Duration::from_millis(15));
            }
        });
        let runs = verify_concurrently(&sandbox, &body);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        runs
    });
    for run in &runs {
        assert_eq!(run.result(REVOCATION), (true, String::new()));
    }
}

/// Read-only and full filesystems under the cache, a cache directory of another user, and
/// entries another user planted: every verification still answers, from the network.
#[test]
fn unusable_or_foreign_caches_never_fail_a_verification() {
    assert_eq!(
        rustix::process::geteuid().as_raw(),
        0,
        "mounts and chown need root: run as root (CI does)"
    );
    let world = World::new();
    let chain = OcspChain::new(&world);
    let request = chain.request().json();
    for (case, setup) in [
        (
            "read-only",
            "mount -t tmpfs -o size=1m,mode=0700 tmpfs \"$CACHE\"; mount -o remount,ro \"$CACHE\"",
        ),
        (
            "full",
            "mount -t tmpfs -o size=8k,mode=0700 tmpfs \"$CACHE\"; cat /dev/zero > \"$CACHE/fill\" 2>/dev/null || true",
        ),
    ] {
        let mut sandbox = Sandbox::new();
        let cache = sandbox.revocation_cache();
        std::fs::create_dir_all(&cache).unwrap();
        let setup = format!("CACHE={}; {setup}", cache.display());
        sandbox.in_mount_namespace(&setup);
        for _ in 0..2 {
            let before = chain.responder.requests();
            let run = sandbox.verify(&request);
            assert_eq!(run.result(REVOCATION), (true, String::new()), "{case}");
            assert!(
                chain.responder.requests() > before,
                "{case}: answered from the network"
            );
        }
    }

    let nobody = Some(rustix::fs::Uid::from_raw(65534));
    let sandbox = Sandbox::new();
    assert!(sandbox.verify(&request).result(REVOCATION).0);
    let cache = sandbox.revocation_cache();
    for item in std::fs::read_dir(cache.join("ocsp")).unwrap() {
        rustix::fs::chown(item.unwrap().path(), nobody, None).unwrap();
    }
    let before = chain.responder.requests();
    assert!(sandbox.verify(&request).result(REVOCATION).0);
    assert!(
        chain.responder.requests() > before,
        "another user's entry was read"
    );
    rustix::fs::chown(cache.join("ocsp"), nobody, None).unwrap();
    for _ in 0..2 {
        let before = chain.responder.requests();
        assert!(sandbox.verify(&request).result(REVOCATION).0);
        assert!(
            chain.responder.requests() > before,
            "another user's directory was used"
        );
    }
}

/// Every Notary key spec as root, intermediate and leaf key: a leaf revoked by OCSP (response
/// signed by the intermediate) and one revoked by CRL (signed by the intermediate) each fail with
/// a reason naming the certificate and where the answer came from.
#[test]
fn revoked_leaf_of_every_key_spec_names_certificate_and_source() {
    let world = World::new();
    let responder = world.ocsp();
    let files = world.files();
    for spec in KeySpec::ALL {
        // One cached key per role: each RSA key is made once in this process.
        let key = |slot: u32| Arc::new(Key::cached(spec, slot).unwrap());
        let root = TestCa::root_with_key(
            &format!("{spec} revocation root"),
            Key::cached(spec, 1).unwrap(),
        )
        .unwrap();
        let intermediate = root
            .intermediate(
                &format!("{spec} revocation intermediate"),
                &CertOptions {
                    key: Some(key(2)),
                    ..CertOptions::ocsp(responder.url())
                },
            )
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&intermediate).unwrap();
        responder.set_status(intermediate.serial(), Status::Good);
        let crl_path = format!("/{spec}.crl");
        let crl_url = files.url(&crl_path);
        let ocsp_leaf = intermediate
            .issue(
                &format!("{spec} ocsp-revoked leaf"),
                &CertOptions {
                    key: Some(key(3)),
                    ..CertOptions::ocsp(responder.url())
                },
            )
            .unwrap();
        responder.set_status(
            &ocsp_leaf.serial,
            Status::revoked(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                Some(Reason::KeyCompromise),
            ),
        );
        let crl_leaf = intermediate
            .issue(
                &format!("{spec} crl-revoked leaf"),
                &CertOptions {
                    key: Some(key(3)),
                    ..CertOptions::crl(&crl_url)
                },
            )
            .unwrap();
        files.files.put(
            &crl_path,
            CrlBuilder::default()
                .revoke(Entry::new(&crl_leaf.serial, Some(Reason::Superseded)))
                .sign(&intermediate)
                .unwrap(),
        );

        for (leaf, kind, source, reason_name) in [
            (
                &ocsp_leaf,
                "ocsp",
                format!("OCSP {}", responder.url()),
                "keyCompromise",
            ),
            (&crl_leaf, "crl", format!("CRL {crl_url}"), "superseded"),
        ] {
            let request = revocation_request(der_chain(leaf.der.clone(), &intermediate, &root));
            let (success, reason) = Sandbox::new().verify(&request.json()).result(REVOCATION);
            assert!(!success, "{spec}: {reason}");
            let lower = reason.to_ascii_lowercase();
            for expected in [
                "revoked:",
                &format!("CN={spec} {kind}-revoked leaf"),
                &hex(&leaf.serial),
                reason_name,
                &source,
            ] {
                assert!(
                    lower.contains(&expected.to_ascii_lowercase()),
                    "{spec}: missing {expected:?} in {reason}"
                );
            }
            assert!(
                !reason.contains("intermediate"),
                "{spec}: only the leaf is revoked: {reason}"
            );
        }
    }
}

/// The invalidityDate rule, as notation applies it: only a signingAuthority signature has an
/// authentic signing time, and only then does a revocation whose invalidity date is later than
/// that time leave the signature valid. A notary.x509 signature (every RAW signature) has none,
/// so every revocation counts. The same for a CRL entry's and an OCSP revocation's invalidityDate.
#[test]
fn invalidity_date_counts_only_with_an_authentic_signing_time() {
    let world = World::new();
    let invalid_from = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000); // 2025-06-15
    for via in ["CRL", "OCSP"] {
        let root = TestCa::root(&format!("{via} invalidity root")).unwrap();
        let intermediate = root
            .intermediate(
                &format!("{via} invalidity intermediate"),
                &CertOptions::default(),
            )
            .unwrap();
        let files = world.files();
        let responder = world.ocsp();
        let pointer = match via {
            "CRL" => CertOptions::crl(files.url("/invalidity.crl")),
            _ => CertOptions::ocsp(responder.url()),
        };
        let dated = intermediate
            .issue(&format!("{via} invalidity-dated leaf"), &pointer)
            .unwrap();
        let undated = intermediate
            .issue(&format!("{via} undated leaf"), &pointer)
            .unwrap();
        if via == "CRL" {
            files.files.put(
                "/invalidity.crl",
                CrlBuilder::default()
                    .revoke(
                        Entry::new(&dated.serial, Some(Reason::KeyCompromise))
                            .invalid_from(invalid_from),
                    )
                    .revoke(Entry::new(&undated.serial, Some(Reason::KeyCompromise)))
                    .sign(&intermediate)
                    .unwrap(),
            );
        } else {
            responder.add_ca(&intermediate).unwrap();
            let revoked_at = SystemTime::now() - Duration::from_secs(3600);
            responder.set_status(
                &dated.serial,
                Status::Revoked {
                    time: revoked_at,
                    reason: Some(Reason::KeyCompromise),
                    invalid_from: Some(invalid_from),
                },
            );
            responder.set_status(
                &undated.serial,
                Status::revoked(revoked_at, Some(Reason::KeyCompromise)),
            );
        }
        let sandbox = Sandbox::new();
        let verify = |leaf: &[u8], signing: Option<&str>| {
            let mut request = revocation_request(der_chain(leaf.to_vec(), &intermediate, &root))
                .config("cache", "false")
                .json();
            if let Some(time) = signing {
                let critical = &mut request["signature"]["criticalAttributes"];
                critical["signingScheme"] = json!("notary.x509.signingAuthority");
                critical["authenticSigningTime"] = json!(time);
            }
            sandbox.verify(&request).result(REVOCATION)
        };
        let before = Some("2025-01-01T00:00:00Z");
        let after = Some("2025-12-01T00:00:00Z");
        // Invalid only from after the signing time: the key was sound when it signed.
        assert_eq!(verify(&dated.der, before), (true, String::new()), "{via}");
        for (leaf, signing) in [
            (&dated.der, None),
            (&dated.der, after),
            (&undated.der, before),
            (&undated.der, None),
        ] {
            let (success, reason) = verify(leaf, signing);
            assert!(!success, "{via} {signing:?}");
            assert!(reason.contains("revoked"), "{via}: {reason}");
            assert!(reason.contains(via), "{via}: {reason}");
        }
    }
}
