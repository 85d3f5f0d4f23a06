//! The static release binaries in a root filesystem like Ratify's `gcr.io/distroless/static:nonroot`:
//! no libc or any other shared library, only `/etc/ssl/certs/ca-certificates.crt`, `/etc/passwd`
//! with `nonroot` (65532), `/etc/hosts`, `/etc/nsswitch.conf` (`hosts: files dns`, as distroless
//! ships it), `/etc/resolv.conf` and a writable `/tmp`; everything else is read-only, `HOME` too.
//! The plugins run there through `chroot --userspec=65532:65532` (the test needs root, as CI has).
//!
//! Checked: `get-plugin-metadata` of both; the signer's `describe-key` and `generate-signature`
//! against the TLS test vault (its CA only in the root's system bundle, no `SSL_CERT_FILE`); the
//! verifier's revocation check with OCSP by a name from `/etc/hosts` and CRLs by a name that only
//! the DNS server in `/etc/resolv.conf` knows (dnsmasq on 127.0.0.1:53): glibc's resolver inside a
//! static binary. The caches cannot be created (HOME is not writable, or unset): the commands still
//! succeed and their logs say so. `/etc/passwd` gives nonroot a writable home that nothing may
//! touch: the plugins never ask getpwuid for a home directory.
//!
//! And the verifier as the Ratify guide (`deploy/ratify/`) sets it up: downloaded by Ratify into
//! a flat plugin directory (owned by 65532, mode 0700), a request without plugin config, the
//! guide's variables or its config file at the path the guide mounts it.

mod recipes_support;
mod release_support;
mod verifier_support;

use std::fs;
use std::net::UdpSocket;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use akv_test_pki::KeySpec;
use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use akv_test_vault::fixtures::names;
use akv_test_vault::{CredentialKind, LOGIN_HOST, VAULT_HOST, shared_with_fixtures};
use base64::Engine as _;
use notation_akv_e2e::locate;
use notation_akv_e2e::process::run_with_input;
use release_support::*;
use serde_json::{Value, json};

const NONROOT: u32 = 65532;
/// Resolved through `/etc/hosts` in the root.
const HOSTS_NAME: &str = "ocsp.hosts.akv-test";
/// Resolved only by the DNS server the root's `/etc/resolv.conf` names.
const DNS_NAME: &str = "crl.dns.akv-test";

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// A system tool from PATH or the sbin directories (chroot, dnsmasq).
fn system_tool(name: &str) -> PathBuf {
    locate::tool(name)
        .ok()
        .or_else(|| {
            ["/usr/sbin", "/sbin"]
                .iter()
                .map(|dir| Path::new(dir).join(name))
                .find(|path| path.is_file())
        })
        .unwrap_or_else(|| panic!("{name} not found: run `bash tests/provision.sh` (as root)"))
}

/// The distroless-like root, built in a temporary directory.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(ca_bundle: &str) -> Root {
        let dir = tempfile::Builder::new()
            .prefix("notation-akv-distroless")
            .tempdir()
            .unwrap();
        let root = Root { dir };
        for (path, contents) in [
            ("etc/ssl/certs/ca-certificates.crt", ca_bundle.to_string()),
            (
                "etc/passwd",
                "root:x:0:0:root:/root:/sbin/nologin\n\
                 nonroot:x:65532:65532:nonroot:/passwd-home:/sbin/nologin\n"
                    .into(),
            ),
            ("etc/group", "root:x:0:\nnonroot:x:65532:\n".into()),
            (
                "etc/hosts",
                format!(
                    "127.0.0.1\tlocalhost\n127.0.0.1\t{HOSTS_NAME}\n127.0.0.1\t{VAULT_HOST} {LOGIN_HOST}\n"
                ),
            ),
            ("etc/nsswitch.conf", "hosts: files dns\n".into()),
            ("etc/resolv.conf", "nameserver 127.0.0.1\n".into()),
        ] {
            let file = root.path(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, contents).unwrap();
        }
        for dir in ["home/nonroot", "plugins", "passwd-home", "tmp"] {
            fs::create_dir_all(root.path(dir)).unwrap();
        }
        fs::set_permissions(root.path("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
        // Writable only by nonroot, and it must stay empty.
        chown(root.path("passwd-home"), Some(NONROOT), Some(NONROOT)).unwrap();
        fs::set_permissions(root.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        root
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside)
    }

    /// Runs `/plugins/notation-<plugin> <command>` inside the root as 65532 with exactly `env`.
    fn run(&self, plugin: &str, command: &str, env: &[(&str, String)], request: &Value) -> Value {
        let mut chroot = Command::new(system_tool("chroot"));
        chroot
            .arg(format!("--userspec={NONROOT}:{NONROOT}"))
            .arg(self.dir.path())
            .arg(format!("/plugins/notation-{plugin}"))
            .arg(command)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)));
        let out = run_with_input(
            chroot,
            Some(request.to_string().as_bytes()),
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(
            out.success(),
            "{plugin} {command} in the root exited {}\nstdout: {}\nstderr: {}\nlogs: {}",
            out.status,
            out.stdout,
            out.stderr,
            self.logs()
        );
        assert!(out.stderr.is_empty(), "stderr on success: {}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{plugin} {command}: not one JSON response ({e}): {}",
                out.stdout
            )
        })
    }

    fn log(&self, name: &str) -> String {
        fs::read_to_string(self.path("tmp").join(name)).unwrap_or_default()
    }

    fn logs(&self) -> String {
        format!(
            "akv.log:\n{}\nverifier.log:\n{}",
            self.log("akv.log"),
            self.log("verifier.log")
        )
    }
}

/// dnsmasq answering `DNS_NAME` with 127.0.0.1 on 127.0.0.1:53, and nothing else; killed on drop.
struct Dns {
    child: Child,
}

impl Dns {
    fn start(dir: &Path) -> Dns {
        // Port 53 must be free before, and taken once dnsmasq listens.
        let probe = || UdpSocket::bind("127.0.0.1:53");
        assert!(
            probe().is_ok(),
            "127.0.0.1:53 is already in use; the DNS part of this test needs it"
        );
        let child = Command::new(system_tool("dnsmasq"))
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--port=53",
                "--user=root",
                "--group=root",
                "--log-facility=-",
            ])
            .arg(format!("--address=/{DNS_NAME}/127.0.0.1"))
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let mut dns = Dns { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while probe().is_ok() {
            if let Ok(Some(status)) = dns.child.try_wait() {
                panic!("dnsmasq exited with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not listen on 127.0.0.1:53"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        dns
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://<name>:<port><path>` for a server listening on 127.0.0.1:<port>.
fn by_name(url: &str, name: &str) -> String {
    url.replacen("127.0.0.1", name, 1)
}

#[test]
fn static_binaries_work_in_a_distroless_like_root_as_nonroot() {
    assert!(
        is_root(),
        "this test enters a chroot and must run as root (CI does); it is never skipped"
    );
    let vault = &shared_with_fixtures().vault;
    let root = Root::new(vault.ca_pem());
    for plugin in PLUGINS {
        let binary = extract(&archive(plugin), plugin, &root.path("plugins"));
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::remove_file(root.path("plugins/LICENSE")).unwrap();

    // Metadata: no network, no disk, no HOME at all.
    for plugin in PLUGINS {
        let metadata = root.run(
            plugin,
            "get-plugin-metadata",
            &[],
            &json!({"contractVersion": "1.0"}),
        );
        assert_eq!(metadata["name"], plugin);
        assert_eq!(metadata["version"], VERSION);
    }

    // The signer against the TLS test vault, trusted through the root's system bundle only and
    // reached under its Key Vault host names through the root's /etc/hosts (not the proxy).
    let fixture = &shared_with_fixtures()
        .fixtures
        .get(&names::ca_issued(KeySpec::Ec256))
        .version;
    let mut signer_env: Vec<(&str, String)> = vault
        .credential_env(CredentialKind::ClientSecret)
        .into_iter()
        .filter(|(k, _)| !["SSL_CERT_FILE", "HTTPS_PROXY", "NO_PROXY"].contains(&k.as_str()))
        .map(|(k, v)| (&*k.leak(), v))
        .collect();
    signer_env.push(("NOTATION_AKV_LOG_FILE", "/tmp/akv.log".into()));
    let with_home = |env: &[(&'static str, String)]| {
        let mut env = env.to_vec();
        env.push(("HOME", "/home/nonroot".into()));
        env
    };
    let described = root.run(
        "akv",
        "describe-key",
        &with_home(&signer_env),
        &json!({"contractVersion": "1.0", "keyId": fixture.id, "pluginConfig": {}}),
    );
    assert_eq!(described["keyId"], fixture.id.as_str());
    assert_eq!(described["keySpec"], "EC-256");
    let payload =
        base64::engine::general_purpose::STANDARD.encode(b"payload signed inside the root");
    let request = json!({
        "contractVersion": "1.0",
        "keyId": fixture.id,
        "keySpec": "EC-256",
        "hashAlgorithm": "SHA-256",
        "payload": payload,
        "pluginConfig": {},
    });
    for env in [with_home(&signer_env), signer_env.clone()] {
        let signed = root.run("akv", "generate-signature", &env, &request);
        assert_eq!(signed["signingAlgorithm"], "ECDSA-SHA-256", "{signed}");
        assert_eq!(
            signed["certificateChain"].as_array().unwrap().len(),
            3,
            "{signed}"
        );
    }
    let akv_log = root.log("akv.log");
    assert!(
        akv_log.contains("cache write in /home/nonroot/.cache/notation-akv failed"),
        "the uncreatable cache is logged: {akv_log}"
    );

    // The verifier: OCSP by a name from /etc/hosts, CRL by a name only DNS knows.
    let dns = Dns::start(root.dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let ocsp = runtime.block_on(OcspResponder::start(&[], None)).unwrap();
    let files = runtime.block_on(FileServer::start(None)).unwrap();
    let ca = TestCa::root("akv-test distroless root").unwrap();
    let crl_url = by_name(&files.url("/intermediate.crl"), DNS_NAME);
    let ocsp_url = by_name(&ocsp.url(), HOSTS_NAME);
    let intermediate = ca
        .intermediate(
            "akv-test distroless intermediate",
            &CertOptions::crl(crl_url.clone()),
        )
        .unwrap();
    let leaf = intermediate
        .issue(
            "akv-test distroless leaf",
            &CertOptions::ocsp(ocsp_url.clone()),
        )
        .unwrap();
    ocsp.add_ca(&intermediate).unwrap();
    ocsp.set_status(&leaf.serial, Status::Good);
    files.files.put(
        "/intermediate.crl",
        CrlBuilder::default().sign(&ca).unwrap(),
    );
    let request = verifier_support::request(
        &[
            leaf.der.clone(),
            intermediate.der().to_vec(),
            ca.der().to_vec(),
        ],
        &["*"],
        &[verifier_support::REVOCATION],
    );
    let verifier_env = vec![(
        "NOTATION_AKV_VERIFIER_LOG_FILE",
        "/tmp/verifier.log".to_string(),
    )];
    for env in [with_home(&verifier_env), verifier_env.clone()] {
        let verified = root.run("akv-verifier", "verify-signature", &env, &request);
        let result = &verified["verificationResults"]["SIGNATURE_VERIFIER.REVOCATION_CHECK"];
        assert_eq!(result["success"], true, "{verified}\n{}", root.logs());
    }
    assert!(ocsp.requests() >= 2, "OCSP asked by host name ({ocsp_url})");
    assert!(
        files.server.requests_to("/intermediate.crl") >= 2,
        "CRL fetched by DNS name ({crl_url})"
    );
    let verifier_log = root.log("verifier.log");
    assert!(
        verifier_log.contains("revocation cache unusable, checking without it"),
        "the uncreatable cache is logged: {verifier_log}"
    );
    drop(dns);

    // Nothing looked up the passwd home directory.
    let touched: Vec<_> = fs::read_dir(root.path("passwd-home")).unwrap().collect();
    assert!(touched.is_empty(), "the passwd home was used: {touched:?}");
}

#[test]
fn the_verifier_runs_there_as_the_ratify_guide_sets_it_up() {
    assert!(
        is_root(),
        "this test enters a chroot and must run as root (CI does); it is never skipped"
    );
    let root = Root::new("");
    // As Ratify's plugin download writes it: its own user, 0700, no other file.
    let binary = extract(
        &archive("akv-verifier"),
        "akv-verifier",
        &root.path("plugins"),
    );
    fs::remove_file(root.path("plugins/LICENSE")).unwrap();
    chown(&binary, Some(NONROOT), Some(NONROOT)).unwrap();
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o700)).unwrap();

    let (request, signing_key) = recipes_support::ratify_guide_request();
    let identity = |response: &Value| {
        response["verificationResults"]["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"]["success"]
            .as_bool()
            .unwrap()
    };
    let home = ("HOME", "/home/nonroot".to_string());

    // The guide's variables (Helm `env`), paths as written.
    let mut from_env = vec![home.clone()];
    for (name, value) in
        recipes_support::env_list(&recipes_support::doc("values-envelope.yaml")["env"])
    {
        from_env.push((&*name.leak(), value));
    }
    let response = root.run("akv-verifier", "verify-signature", &from_env, &request);
    assert!(identity(&response), "{response}");
    let mut other = request.clone();
    other["trustPolicy"]["trustedIdentities"] = json!([format!("akv.key:{signing_key}-other")]);
    let response = root.run("akv-verifier", "verify-signature", &from_env, &other);
    assert!(!identity(&response), "{response}");

    // The guide's config file, where its patch mounts it.
    let (file, path) = recipes_support::config_file();
    let inside = root.path(path.trim_start_matches('/'));
    fs::create_dir_all(inside.parent().unwrap()).unwrap();
    fs::write(&inside, file.to_string()).unwrap();
    let from_file = [
        home,
        (notation_akv_verifier::config::CONFIG_FILE_ENV, path.clone()),
    ];
    let response = root.run("akv-verifier", "verify-signature", &from_file, &request);
    assert!(identity(&response), "{response}");

    // Nothing written outside /tmp: the home stays as it was.
    assert_eq!(fs::read_dir(root.path("home/nonroot")).unwrap().count(), 0);
}
