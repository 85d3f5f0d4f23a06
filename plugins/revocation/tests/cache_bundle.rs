//! The disk cache across "restarts" (new checker instances) and the offline bundle.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::ocsp::{Behaviour, Status};
use common::*;
use notation_akv_revocation::{
    BundleConfig, BundleMode, CertStatus, FetchedKind, Manifest, Problem, RevocationChecker,
    RevocationConfig, Source, Verdict, write_bundle,
};

fn cached(dir: &Path) -> RevocationConfig {
    RevocationConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..config()
    }
}

fn cache_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for sub in ["ocsp", "crl"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out
}

#[tokio::test]
async fn ocsp_cache_hit_after_restart_makes_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    let first = checker(cached(dir.path()));
    assert_eq!(check(&first, &c.chain()).await.verdict, Verdict::Ok);
    assert_eq!(c.responder.requests(), 2);
    drop(first);

    let second = checker(cached(dir.path()));
    let result = check(&second, &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        c.responder.requests(),
        2,
        "warm run must not touch the network"
    );
    assert_eq!(second.network_requests(), 0);
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Cache {
            origin: Box::new(Source::Ocsp {
                url: c.responder.url()
            })
        })
    );
}

#[tokio::test]
async fn crl_cache_hit_after_restart_makes_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let c = CrlChain::new().await;
    check(&checker(cached(dir.path())), &c.chain()).await;
    assert_eq!(c.files.server.requests(), 2);
    let result = check(&checker(cached(dir.path())), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok);
    assert_eq!(c.files.server.requests(), 2);
    assert!(matches!(
        result.certificates[1].source,
        Some(Source::Cache { .. })
    ));
}

#[tokio::test]
async fn cache_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    check(&checker(cached(dir.path())), &c.chain()).await;
    for sub in ["ocsp", "crl"] {
        let mode = std::fs::metadata(dir.path().join(sub))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{sub}");
    }
    let files = cache_files(dir.path());
    assert_eq!(files.len(), 2);
    for f in files {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", f.display());
    }
}

#[tokio::test]
async fn corrupt_cache_file_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    check(&checker(cached(dir.path())), &c.chain()).await;
    for f in cache_files(dir.path()) {
        std::fs::write(
            &f,
            b"notation-akv-revocation-cache-v1\nhttp://x\n\x30\x03garbage",
        )
        .unwrap();
    }
    let result = check(&checker(cached(dir.path())), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(c.responder.requests(), 4, "corrupt entries are misses");
    let third = checker(cached(dir.path()));
    check(&third, &c.chain()).await;
    assert_eq!(third.network_requests(), 0, "the entries were rewritten");
}

#[tokio::test]
async fn cached_response_is_reverified_and_expires() {
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    c.responder.set_behaviour(Behaviour {
        validity: Some(Duration::from_secs(3600)),
        ..Behaviour::default()
    });
    check(&checker(cached(dir.path())), &c.chain()).await;
    // Two hours later the cached responses are past nextUpdate (and the skew): refetched.
    let later = SystemTime::now() + Duration::from_secs(7200);
    let result = checker(cached(dir.path()))
        .check(&c.chain(), later)
        .await
        .unwrap();
    assert_eq!(c.responder.requests(), 4);
    // The responder's fresh answer is also only valid for an hour from now: stale at `later`.
    assert!(
        matches!(problems(&result, 0)[0].1, Problem::Stale { .. }),
        "{result}"
    );
}

#[tokio::test]
async fn revoked_answers_are_cached_too() {
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    c.responder.set_status(
        &c.leaf.serial,
        Status::revoked(
            SystemTime::now() - Duration::from_secs(5),
            Some(Reason::KeyCompromise),
        ),
    );
    check(&checker(cached(dir.path())), &c.chain()).await;
    let warm = checker(cached(dir.path()));
    assert_eq!(check(&warm, &c.chain()).await.verdict, Verdict::Revoked);
    assert_eq!(warm.network_requests(), 0);
}

#[tokio::test]
async fn concurrent_checkers_share_one_cache() {
    let dir = tempfile::tempdir().unwrap();
    let c = OcspChain::new().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (cfg, chain) = (cached(dir.path()), c.chain());
        tasks.spawn(async move { check(&checker(cfg), &chain).await.verdict });
    }
    while let Some(v) = tasks.join_next().await {
        assert_eq!(v.unwrap(), Verdict::Ok);
    }
    assert_eq!(
        cache_files(dir.path()).len(),
        2,
        "no temporary files left behind"
    );
    let warm = checker(cached(dir.path()));
    check(&warm, &c.chain()).await;
    assert_eq!(warm.network_requests(), 0);
}

fn bundle(dir: &Path, mode: BundleMode) -> RevocationConfig {
    RevocationConfig {
        bundle: Some(BundleConfig {
            dir: dir.to_path_buf(),
            mode,
        }),
        ..config()
    }
}

#[tokio::test]
async fn offline_bundle_only_never_touches_the_network() {
    let c = CrlChain::new().await;
    let dir = tempfile::tempdir().unwrap();
    let leaf_crl = CrlBuilder::default()
        .revoke(Entry::new(&c.leaf.serial, Some(Reason::KeyCompromise)))
        .sign(&c.inter)
        .unwrap();
    std::fs::write(dir.path().join("inter.crl"), &leaf_crl).unwrap();
    std::fs::write(
        dir.path().join("root.crl"),
        akv_test_responders::pki::pem_block(
            "X509 CRL",
            &CrlBuilder::default().sign(&c.root).unwrap(),
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let offline = checker(bundle(dir.path(), BundleMode::Only));
    let result = check(&offline, &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Revoked, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Bundle {
            path: dir.path().join("inter.crl")
        })
    );
    assert!(matches!(result.certificates[1].status, CertStatus::Good));
    assert_eq!(c.files.server.requests(), 0);
    assert_eq!(offline.network_requests(), 0);
}

#[tokio::test]
async fn offline_bundle_only_without_an_answer_is_unknown() {
    let c = OcspChain::new().await;
    let dir = tempfile::tempdir().unwrap();
    let result = check(&checker(bundle(dir.path(), BundleMode::Only)), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(problems(&result, 0)[0].1, Problem::Offline);
    assert_eq!(c.responder.requests(), 0);
}

#[tokio::test]
async fn offline_bundle_with_ocsp_responses() {
    let c = OcspChain::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Collect the responder's answers as an operator would (e.g. with `openssl ocsp -respout`).
    let fetch = checker(config());
    check(&fetch, &c.chain()).await;
    let cache = tempfile::tempdir().unwrap();
    check(&checker(cached(cache.path())), &c.chain()).await;
    for (i, f) in std::fs::read_dir(cache.path().join("ocsp"))
        .unwrap()
        .enumerate()
    {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        let der = bytes.splitn(3, |b| *b == b'\n').nth(2).unwrap().to_vec();
        std::fs::write(dir.path().join(format!("r{i}.ocsp")), der).unwrap();
    }
    let before = c.responder.requests();
    let result = check(&checker(bundle(dir.path(), BundleMode::Only)), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert!(matches!(
        result.certificates[0].source,
        Some(Source::Bundle { .. })
    ));
    assert_eq!(c.responder.requests(), before);
}

#[tokio::test]
async fn offline_bundle_prefer_falls_back_to_the_network() {
    let c = CrlChain::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("root.crl"),
        CrlBuilder::default().sign(&c.root).unwrap(),
    )
    .unwrap();
    let result = check(&checker(bundle(dir.path(), BundleMode::Prefer)), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert!(matches!(
        result.certificates[1].source,
        Some(Source::Bundle { .. })
    ));
    assert!(matches!(
        result.certificates[0].source,
        Some(Source::Crl { .. })
    ));
    assert_eq!(c.files.server.requests_to("/root.crl"), 0);
    assert_eq!(c.files.server.requests_to("/inter.crl"), 1);
}

#[tokio::test]
async fn stale_bundle_crl_is_reported_and_not_used() {
    let c = CrlChain::new().await;
    let dir = tempfile::tempdir().unwrap();
    let expired = CrlBuilder {
        this_update: SystemTime::now() - Duration::from_secs(3 * 86400),
        next_update: Some(SystemTime::now() - Duration::from_secs(86400)),
        ..CrlBuilder::default()
    };
    std::fs::write(
        dir.path().join("inter.crl"),
        expired.sign(&c.inter).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.crl"), b"not a CRL").unwrap();
    let offline = checker(bundle(dir.path(), BundleMode::Only));
    assert_eq!(offline.bundle_skipped().len(), 1);
    assert_eq!(offline.bundle_skipped()[0].0, dir.path().join("broken.crl"));
    let result = check(&offline, &c.chain()).await;
    let p = problems(&result, 0);
    assert!(
        p.iter()
            .any(|(s, p)| matches!(p, Problem::Stale { what: "CRL", .. })
                && *s
                    == Source::Bundle {
                        path: dir.path().join("inter.crl")
                    }),
        "{result}"
    );
}

#[test]
fn missing_bundle_folder_is_a_setup_error() {
    let err = notation_akv_revocation::RevocationChecker::new(bundle(
        Path::new("/nonexistent/bundle"),
        BundleMode::Only,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/bundle"), "{err}");
}

#[tokio::test]
async fn collected_objects_written_with_a_manifest_answer_offline_and_are_integrity_checked() {
    let c = OcspChain::new().await;
    let now = SystemTime::now();
    let collector = RevocationChecker::collector(config()).unwrap();
    let collected = collector.collect(&c.chain(), now).await.unwrap();
    assert_eq!(collected.certificates.len(), 2);
    for cert in &collected.certificates {
        assert!(
            matches!(
                cert.sources.as_slice(),
                [Ok((CertStatus::Good, Source::Ocsp { .. }))]
            ),
            "{cert:?}"
        );
    }
    assert_eq!(collected.objects.len(), 2);
    assert!(collected.objects.iter().all(|o| o.kind == FetchedKind::Ocsp
        && o.url == c.responder.url()
        && o.expires.is_some_and(|e| e > now)));

    let dir = tempfile::tempdir().unwrap();
    let chains = [("chain".to_string(), c.chain())];
    let report = write_bundle(dir.path(), &chains, &collected.objects, now).unwrap();
    assert_eq!((report.written.len(), report.pruned.len()), (2, 0));
    let manifest = Manifest::read(dir.path()).unwrap();
    assert_eq!(manifest.files.len(), 2);
    assert_eq!(manifest.chains.len(), 1);
    insta::assert_json_snapshot!("bundle_manifest_shape", manifest_shape(dir.path()));
    let again = write_bundle(dir.path(), &chains, &collected.objects, now).unwrap();
    assert_eq!((again.written.len(), again.unchanged.len()), (0, 2));

    let before = c.responder.requests();
    let offline = checker(bundle(dir.path(), BundleMode::Only));
    let result = check(&offline, &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert!(offline.bundle_skipped().is_empty());
    assert_eq!(c.responder.requests(), before);

    // A file the manifest does not list, and a listed file with other bytes of the same size.
    std::fs::write(dir.path().join("extra.ocsp"), b"dropped in").unwrap();
    let first = dir.path().join(&manifest.files[0].file);
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&first, &bytes).unwrap();
    let offline = checker(bundle(dir.path(), BundleMode::Only));
    let skipped: Vec<String> = offline
        .bundle_skipped()
        .iter()
        .map(|(p, why)| format!("{}: {why}", p.display()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("extra.ocsp") && s.contains("not listed"))
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.contains(&manifest.files[0].file) && s.contains("SHA-256"))
    );
    assert_eq!(check(&offline, &c.chain()).await.verdict, Verdict::Unknown);
}

/// `manifest.json` with the values that change from run to run replaced by what they are, so the
/// snapshot pins the format: keys, kinds, file naming, nulls.
fn manifest_shape(dir: &Path) -> serde_json::Value {
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let time = |v: &mut serde_json::Value| {
        if v.is_string() {
            *v = "<RFC 3339>".into();
        }
    };
    time(&mut json["generated"]);
    for chain in json["chains"].as_array_mut().unwrap() {
        chain["certificates"] = format!(
            "<{} base64 DER certificates>",
            chain["certificates"].as_array().unwrap().len()
        )
        .into();
    }
    let mut files = json["files"].as_array().unwrap().clone();
    for file in &mut files {
        let name = file["file"].as_str().unwrap().to_string();
        let (prefix, ext) = name.split_once('-').unwrap();
        file["file"] = format!("{prefix}-<32 hex>.{}", ext.rsplit('.').next().unwrap()).into();
        file["sha256"] = "<64 hex>".into();
        file["size"] = "<bytes>".into();
        file["url"] = "<responder URL>".into();
        file["serial"] = "<hex serial>".into();
        for key in ["this_update", "next_update", "expires"] {
            time(&mut file[key]);
        }
        let covers = file["covers"].as_str().unwrap();
        file["covers"] = covers[..covers.find(" (serial").unwrap_or(covers.len())].into();
    }
    files.sort_by_key(|f| f["covers"].to_string());
    json["files"] = files.into();
    json
}
