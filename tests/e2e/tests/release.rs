//! The release as users get it: the archives `bash install.sh --dist` writes (named as azure-kv
//! names its assets, byte-reproducible, with a checksums file), the static Linux binaries they
//! carry, installing them with the real `notation plugin install --file` and `--url …
//! --sha256sum` from a local TLS file server, then signing and verifying with the installed
//! plugins; and the verifier shipped to Ratify as a single-file OCI artifact.
//!
//! The static binaries in a distroless-like root are tested in `release_chroot.rs`; the README's
//! first command from a clean clone in `first_run.rs`.

mod release_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use akv_test_responders::pki::pem_block;
use notation_akv_e2e::demo::DemoWorld;
use notation_akv_e2e::locate::repo_root;
use notation_akv_e2e::{NotationEnv, Registry};
use release_support::*;

const MINUTE: Duration = Duration::from_secs(60);

/// `tar -tvzf` lines of an archive: (mode, owner, name).
fn tar_listing(archive: &Path) -> Vec<(String, String, String)> {
    let mut tar = Command::new("tar");
    tar.arg("--numeric-owner").arg("-tvzf").arg(archive);
    run_ok(tar, MINUTE)
        .stdout
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (
                words[0].to_string(),
                words[1].to_string(),
                words.last().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn archives_are_named_like_azure_kv_hold_the_plugin_and_license_and_reproduce() {
    let mut expected_sums = Vec::new();
    for plugin in PLUGINS {
        let archive = archive(plugin);
        assert_eq!(
            tar_listing(&archive),
            [
                (
                    "-rwxr-xr-x".to_string(),
                    "0/0".to_string(),
                    format!("notation-{plugin}")
                ),
                ("-rw-r--r--".into(), "0/0".into(), "LICENSE".into()),
            ],
            "{}",
            archive.display()
        );
        let name = archive.file_name().unwrap().to_str().unwrap().to_string();
        expected_sums.push(format!("{}  {name}\n", sha256_hex(&archive)));
    }
    // sha256sum's lines, in the byte order of the names.
    expected_sums.sort_by(|a, b| {
        a.split_once("  ")
            .unwrap()
            .1
            .cmp(b.split_once("  ").unwrap().1)
    });
    let expected_sums = expected_sums.concat();
    let sums = std::fs::read_to_string(checksums_file()).expect("the checksums file");
    assert_eq!(sums, expected_sums, "sha256sum of every asset");

    // Two runs write byte-identical files. They package the binaries the archives hold
    // (`--prebuilt`), so no cargo runs: first_run.rs may be building in the same target directory
    // at the same time. The Windows assets are zips of notation-<name>.exe and LICENSE, from the
    // same binaries under that name.
    let scratch = tempfile::tempdir().unwrap();
    let binaries = scratch.path().join("binaries");
    for plugin in PLUGINS {
        let binary = extract(&archive(plugin), plugin, &binaries);
        std::fs::copy(&binary, binaries.join(format!("notation-{plugin}.exe"))).unwrap();
    }
    for (target, platform) in [
        ("x86_64-unknown-linux-gnu", "linux_amd64"),
        ("x86_64-pc-windows-msvc", "windows_amd64"),
    ] {
        let runs: Vec<_> = (0..2)
            .map(|round| {
                let out = scratch.path().join(format!("{platform}-{round}"));
                let args = [
                    "--dist",
                    "--target",
                    target,
                    "--prebuilt",
                    binaries.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ];
                run_ok(install_sh(&repo_root(), &args), MINUTE);
                out
            })
            .collect();
        let files = |dir: &Path| {
            let mut names: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        let ext = if platform.starts_with("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        assert_eq!(
            files(&runs[0]),
            [
                format!("notation-akv-verifier_{VERSION}_{platform}.{ext}"),
                format!("notation-akv_{VERSION}_checksums.txt"),
                format!("notation-akv_{VERSION}_{platform}.{ext}"),
            ]
        );
        for name in files(&runs[0]) {
            let first = std::fs::read(runs[0].join(&name)).unwrap();
            let second = std::fs::read(runs[1].join(&name)).unwrap();
            assert!(first == second, "{name} differs between two runs");
        }
        if ext == "zip" {
            let mut unzip = Command::new("unzip");
            unzip
                .arg("-Z1")
                .arg(runs[0].join(format!("notation-akv_{VERSION}_{platform}.zip")));
            assert_eq!(run_ok(unzip, MINUTE).stdout, "notation-akv.exe\nLICENSE\n");
        }
    }
}

#[test]
fn the_linux_binaries_are_static() {
    let dir = tempfile::tempdir().unwrap();
    for plugin in PLUGINS {
        let binary = extract(&archive(plugin), plugin, dir.path());
        let mut file = Command::new("file");
        file.arg("--brief").arg(&binary);
        let what = run_ok(file, MINUTE).stdout;
        assert!(
            what.contains("static-pie linked") || what.contains("statically linked"),
            "notation-{plugin} is not static: {what}"
        );
        assert!(!what.contains("interpreter"), "{what}");
    }
}

/// install.sh packs the relative relocations (DT_RELR) of a native build on glibc 2.36 or later,
/// whose static start-up code applies them, and never elsewhere (an older start-up would leave
/// them unapplied); `release_chroot.rs` starts the binaries.
#[test]
fn the_linux_binaries_pack_their_relocations_only_where_glibc_applies_them() {
    let mut getconf = Command::new("getconf");
    getconf.arg("GNU_LIBC_VERSION");
    let glibc = run_ok(getconf, MINUTE).stdout;
    let (major, minor) = glibc
        .trim()
        .trim_start_matches("glibc ")
        .split_once('.')
        .map(|(a, b)| (a.parse::<u32>().unwrap(), b.parse::<u32>().unwrap()))
        .unwrap_or_else(|| panic!("getconf GNU_LIBC_VERSION: {glibc:?}"));
    let packs = (major, minor) >= (2, 36);
    let dir = tempfile::tempdir().unwrap();
    for plugin in PLUGINS {
        let binary = extract(&archive(plugin), plugin, dir.path());
        let mut readelf = Command::new("readelf");
        readelf.args(["--section-headers", "--wide"]).arg(&binary);
        let sections = run_ok(readelf, MINUTE).stdout;
        assert_eq!(
            sections.contains(".relr.dyn"),
            packs,
            "notation-{plugin} on glibc {major}.{minor}:\n{sections}"
        );
    }
}

/// Installs `archive` with `notation plugin install <how…>`; returns the output (any exit).
fn install(env: &NotationEnv, how: &[&str]) -> notation_akv_e2e::Output {
    let mut args = vec!["plugin", "install"];
    args.extend_from_slice(how);
    env.notation(&args).unwrap()
}

#[test]
fn archives_install_with_file_and_url_then_sign_and_verify() {
    let mut progress = Vec::new();
    let mut world = DemoWorld::start(&mut progress).unwrap();

    // The signer from its archive on disk.
    let signer = archive("akv");
    let signer_path = signer.to_str().unwrap();
    let out = install(world.env(), &["--file", signer_path]);
    assert!(
        out.success()
            && out.stdout.contains(&format!(
                "Successfully installed plugin akv, version {VERSION}"
            )),
        "{out:?}"
    );
    let again = install(world.env(), &["--file", signer_path]);
    assert!(
        !again.success(),
        "the same version again needs --force: {again:?}"
    );
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert!(install(world.env(), &["--file", signer_path, "--force"]).success());
    let installed = world.env().plugins_dir().join("akv");
    let unpacked = extract(&signer, "akv", &world.env().root().join("unpacked"));
    assert!(
        std::fs::read(installed.join("notation-akv")).unwrap() == std::fs::read(unpacked).unwrap(),
        "the installed plugin is the archive's binary"
    );

    // The verifier from an https URL, as from a release page; notation takes the server's CA
    // from SSL_CERT_FILE, which must keep the vault's CA for the signer too.
    let (tls, _runtime, server) = https_file_server();
    let verifier = archive("akv-verifier");
    let name = verifier.file_name().unwrap().to_str().unwrap().to_string();
    server
        .files
        .put(&format!("/{name}"), std::fs::read(&verifier).unwrap());
    let bundle = format!(
        "{}{}",
        world.vault().ca_pem(),
        pem_block("CERTIFICATE", &tls.ca_der())
    );
    let bundle = world.env().write_file("ca-bundle.pem", bundle).unwrap();
    world.env_mut().set_env("SSL_CERT_FILE", &bundle);
    let url = server.url(&format!("/{name}"));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let sha = sha256_hex(&verifier);

    let wrong = "0".repeat(64);
    let refused = install(world.env(), &["--url", &url, "--sha256sum", &wrong]);
    assert!(
        !refused.success(),
        "a wrong checksum must be refused: {refused:?}"
    );
    assert!(
        refused.stderr.to_lowercase().contains("sha256") || refused.stderr.contains("checksum"),
        "{}",
        refused.stderr
    );
    assert!(!world.env().plugins_dir().join("akv-verifier").exists());

    let out = install(world.env(), &["--url", &url, "--sha256sum", &sha]);
    assert!(
        out.success()
            && out.stdout.contains(&format!(
                "Successfully installed plugin akv-verifier, version {VERSION}"
            )),
        "{out:?}"
    );
    let again = install(world.env(), &["--url", &url, "--sha256sum", &sha]);
    assert!(
        !again.success() && again.stderr.contains("already exists"),
        "{again:?}"
    );
    assert!(
        install(
            world.env(),
            &["--url", &url, "--sha256sum", &sha, "--force"]
        )
        .success()
    );

    // The installed pair signs (RAW and envelope) and verifies.
    world
        .sign_and_verify(&mut progress)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&progress)));
    let progress = String::from_utf8(progress).unwrap();
    assert!(progress.contains("(RAW, JWS)"), "{progress}");
    assert!(progress.contains("(akv-verifier: identity"), "{progress}");
    drop(server);
}

#[test]
fn the_verifier_travels_to_ratify_as_a_single_file_oci_artifact() {
    let env = NotationEnv::new().unwrap();
    let registry = Registry::start().unwrap();
    let binary = extract(&archive("akv-verifier"), "akv-verifier", &env.work_dir());
    // As the README tells: from the directory of the binary, one file, pushed under its name.
    let reference = registry.repository("ratify/notation-akv-verifier") + ":" + VERSION;
    env.oras_ok(&["push", "--plain-http", &reference, "notation-akv-verifier"])
        .unwrap();

    // One layer, titled as the file Ratify writes into its plugin directory.
    let manifest = env
        .oras_ok(&["manifest", "fetch", "--plain-http", &reference])
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest.stdout).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "notation-akv-verifier"
    );
    assert_eq!(
        layers[0]["digest"],
        format!("sha256:{}", sha256_hex(&binary))
    );

    // Pulled back into a plugin directory, the file is the plugin and runs.
    let plugins = env.root().join("ratify-plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    env.oras_ok(&[
        "pull",
        "--plain-http",
        "-o",
        plugins.to_str().unwrap(),
        &reference,
    ])
    .unwrap();
    let pulled = plugins.join("notation-akv-verifier");
    assert!(std::fs::read(&pulled).unwrap() == std::fs::read(&binary).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pulled, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = akv_test_vault::run_plugin(
        &pulled,
        "get-plugin-metadata",
        &[],
        br#"{"contractVersion":"1.0"}"#,
        MINUTE,
    );
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(metadata["name"], "akv-verifier");
    assert_eq!(metadata["version"], VERSION);
}

#[test]
fn the_release_workflow_passes_actionlint_and_zizmor() {
    lint_workflow(&repo_root().join(".github/workflows/release.yml"));
}
