//! `docs/reference.md` is exactly what the code's tables render, and README and both binaries'
//! `--help` point to it.

use notation_akv_protocol::reference::{REFERENCE_PATH, reference_url};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_committed_reference_is_what_the_code_renders() {
    let path = repo_root().join(REFERENCE_PATH);
    let rendered = notation_akv_docs::reference();
    if std::env::var_os("UPDATE_REFERENCE").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != rendered {
        let first = committed
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(rendered.lines().count()));
        panic!(
            "{REFERENCE_PATH} differs from the code's tables from line {}:\n  committed: {:?}\n  rendered:  {:?}\n\
             Regenerate it with UPDATE_REFERENCE=1 cargo test -p notation-akv-docs",
            first + 1,
            committed.lines().nth(first).unwrap_or("<end of file>"),
            rendered.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn readme_and_help_link_the_reference() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("]({REFERENCE_PATH})")),
        "README links {REFERENCE_PATH}"
    );
    let signer = notation_akv::Signer::default();
    let verifier = notation_akv_verifier::Verifier;
    for (name, help) in [
        ("notation-akv", help_of(&signer)),
        ("notation-akv-verifier", help_of(&verifier)),
    ] {
        let url = reference_url("https://github.com/notation-akv/notation-akv");
        assert!(help.contains(&url), "{name} --help names {url}:\n{help}");
    }
}

fn help_of<P: notation_akv_protocol::Plugin>(plugin: &P) -> String {
    let out = notation_akv_protocol::runner::run(plugin, &["--help".into()], &mut std::io::empty());
    assert_eq!(out.exit_code, 0);
    String::from_utf8(out.stdout).unwrap()
}
