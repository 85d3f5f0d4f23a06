//! The signer's cache under load and on hostile or broken disks, through the built binary:
//! 64 concurrent signings (describe-key then generate-signature, as notation runs them) from one
//! empty cache, the same while entries are being damaged and expiring, and cache directories
//! that are read-only, full (ENOSPC), another user's, or hold another user's entries. Every
//! command still signs; the cache never costs more vault requests than running without it.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::{CertificateOptions, CertificateVersion, RouteKind, shared_with_fixtures};
use serde_json::{Value, json};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

mod common;

use common::protocol::{Plugin, assert_verifies, count};

const RUNS: usize = 64;

/// Private copies (so counts are this test's) and the four ids the runs mix: versioned and
/// versionless, `/keys/` and `/certificates/`, RSA and EC.
struct Ids {
    names: Vec<String>,
    ids: Vec<String>,
}

fn ids(prefix: &str) -> Ids {
    let s = shared_with_fixtures();
    let copy = |fixture: String, name: &str| -> CertificateVersion {
        s.vault
            .add_certificate(
                name,
                &s.fixtures.get(&fixture).chain,
                CertificateOptions::default(),
            )
            .unwrap()
    };
    let ec = format!("{prefix}-ec");
    let rsa = format!("{prefix}-rsa");
    let ec_version = copy(names::ca_issued(KeySpec::Ec256), &ec);
    copy(names::self_signed(KeySpec::Rsa3072), &rsa);
    let url = s.vault.url();
    Ids {
        ids: vec![
            ec_version.id.clone(),
            format!("{url}/certificates/{ec}"),
            format!("{url}/keys/{rsa}"),
            format!("{url}/certificates/{rsa}/"),
        ],
        names: vec![ec, rsa],
    }
}

/// Authenticated vault requests (token requests excluded) for `names`.
fn vault_requests(names: &[String]) -> usize {
    [
        RouteKind::GetCertificate,
        RouteKind::GetSecret,
        RouteKind::GetKey,
        RouteKind::Sign,
        RouteKind::ListCertificateVersions,
        RouteKind::Other,
    ]
    .iter()
    .map(|route| {
        names
            .iter()
            .map(|n| count(&format!("/{n}"), *route, true))
            .sum::<usize>()
    })
    .sum()
}

fn chain_len(id: &str) -> usize {
    if id.contains("-rsa") { 1 } else { 3 }
}

/// describe-key + generate-signature for `ids[i % 4]`, `RUNS` at once from `plugin`'s home.
fn sign_concurrently(plugin: &Plugin, ids: &[String]) -> Vec<Result<Value, Value>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RUNS)
            .map(|i| {
                let id = &ids[i % ids.len()];
                scope.spawn(move || plugin.describe_and_sign(id, json!({})))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn assert_all_signed(ids: &[String], runs: &[Result<Value, Value>]) {
    for (i, run) in runs.iter().enumerate() {
        let id = &ids[i % ids.len()];
        match run {
            Ok(response) => assert_verifies(response, chain_len(id)),
            Err(e) => panic!("run {i} ({id}) failed: {e}"),
        }
    }
}

/// Every file in the cache is a complete 0600 entry of ours; no temporary file is left.
fn assert_cache_intact(dir: &Path) {
    let mut entries = 0;
    for item in std::fs::read_dir(dir).unwrap() {
        let item = item.unwrap();
        let name = item.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary file left behind: {name}");
        let metadata = item.metadata().unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "{name}");
        let entry: Value = serde_json::from_slice(&std::fs::read(item.path()).unwrap())
            .unwrap_or_else(|e| panic!("corrupt entry {name}: {e}"));
        assert!(entry["digest"].is_string(), "{name}");
        entries += 1;
    }
    assert!(entries > 0, "the runs cached nothing");
}

#[test]
fn sixty_four_concurrent_signings_share_one_empty_cache() {
    let ids = ids("conc64");
    // What one cold run of each id costs, measured alone with its own empty cache.
    let mut cold = Vec::new();
    for id in &ids.ids {
        let before = vault_requests(&ids.names);
        Plugin::new().describe_and_sign(id, json!({})).unwrap();
        cold.push(vault_requests(&ids.names) - before);
    }
    let budget: usize = (0..RUNS).map(|i| cold[i % cold.len()]).sum();

    let plugin = Plugin::new();
    let before = vault_requests(&ids.names);
    let runs = sign_concurrently(&plugin, &ids.ids);
    let used = vault_requests(&ids.names) - before;
    assert_all_signed(&ids.ids, &runs);
    assert!(
        used <= budget,
        "{used} vault requests for {RUNS} concurrent runs; {RUNS} cold runs need {budget}"
    );
    assert_cache_intact(&plugin.cache_dir());
    assert!(
        !plugin.log().contains("ignored"),
        "a run found a damaged entry:\n{}",
        plugin.log()
    );
    // The shared cache answers alone afterwards: one sign request per run.
    for id in &ids.ids {
        let before = vault_requests(&ids.names);
        plugin.describe_and_sign(id, json!({})).unwrap();
        assert_eq!(vault_requests(&ids.names) - before, 1, "warm {id}");
    }
}

#[test]
fn concurrent_signings_survive_entries_being_damaged_and_expiring() {
    let ids = ids("conc64-churn");
    // Versionless entries live one second, so they expire and are rewritten during the runs.
    let plugin = Plugin::new().set("NOTATION_AKV_CACHE_TTL", "1s");
    plugin.describe_and_sign(&ids.ids[0], json!({})).unwrap();
    let dir = plugin.cache_dir();
    let stop = AtomicBool::new(false);
    let runs = std::thread::scope(|scope| {
        // A vandal truncates, garbles and removes entries while the runs read and write them.
        scope.spawn(|| {
            let mut round = 0u32;
            while !stop.load(Ordering::Relaxed) {
                for item in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = item.path();
                    if item.file_name().to_string_lossy().starts_with('.') {
                        continue;
                    }
                    let _ = match round % 3 {
                        0 => std::fs::write(&path, b"{\"format\":1,"),
                        1 => std::fs::write(&path, b"\0\0\0garbage"),
                        _ => std::fs::remove_file(&path),
                    };
                }
                round += 1;
                std::thread::sleep(std::time::Duration::from_millis(15));
            }
        });
        let runs = sign_concurrently(&plugin, &ids.ids);
        stop.store(true, Ordering::Relaxed);
        runs
    });
    assert_all_signed(&ids.ids, &runs);
    assert!(
        plugin.log().contains("ignored"),
        "the damaged entries were noticed"
    );
}

/// These tests need root (mounts, chown); CI runs as root. They fail rather than skip elsewhere.
fn needs_root(why: &str) {
    assert_eq!(rustix::process::geteuid().as_raw(), 0, "{why}: run as root");
}

#[test]
fn read_only_and_full_cache_filesystems_never_fail_a_command() {
    needs_root("mounting a tmpfs needs root");
    let ids = ids("cache-fs");
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
        let plugin = Plugin::new();
        let cache = plugin.cache_dir();
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
        let plugin = plugin.in_mount_namespace(&format!("CACHE={}; {setup}", cache.display()));
        for id in &ids.ids {
            let response = plugin
                .describe_and_sign(id, json!({}))
                .unwrap_or_else(|e| panic!("{case} cache, {id}: {e}"));
            assert_verifies(&response, chain_len(id));
        }
        assert!(
            plugin.log().contains("cache write"),
            "{case}: the failed writes are logged:\n{}",
            plugin.log()
        );
    }
}

#[test]
fn another_users_cache_entries_and_directory_are_not_trusted() {
    needs_root("giving files to another user needs root");
    let ids = ids("cache-owner");
    let id = &ids.ids[0];
    let plugin = Plugin::new();
    plugin.describe_and_sign(id, json!({})).unwrap();
    let cache = plugin.cache_dir();
    let nobody = Some(rustix::fs::Uid::from_raw(65534));
    for item in std::fs::read_dir(&cache).unwrap() {
        rustix::fs::chown(item.unwrap().path(), nobody, None).unwrap();
    }
    // Entries another user planted are refused (and replaced by fetched ones).
    let before = vault_requests(&ids.names);
    plugin.describe_and_sign(id, json!({})).unwrap();
    assert!(
        vault_requests(&ids.names) - before > 1,
        "the entries were used"
    );
    assert!(
        plugin.log().contains("owned by uid 65534"),
        "{}",
        plugin.log()
    );
    for item in std::fs::read_dir(&cache).unwrap() {
        assert_eq!(
            item.unwrap().metadata().unwrap().uid(),
            0,
            "rebuilt as ours"
        );
    }

    // A cache directory of another user is neither read nor written; signing goes on.
    rustix::fs::chown(&cache, nobody, None).unwrap();
    let before = vault_requests(&ids.names);
    plugin.describe_and_sign(id, json!({})).unwrap();
    assert!(
        vault_requests(&ids.names) - before > 1,
        "the directory was used"
    );
    let log = plugin.log();
    assert!(
        log.contains("cache directory is owned by uid 65534"),
        "{log}"
    );
    assert!(log.contains("cache write"), "{log}");
}
