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

/// The key column of the first table after `heading` in `text`: the names in backticks, a cell
/// like "`akv_client_id`, `akv_tenant_id`" giving several.
fn table_keys(text: &str, heading: &str) -> Vec<String> {
    let section = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"))
        .1;
    section
        .lines()
        .skip_while(|l| !l.starts_with("| key |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| {
            let cell = l.split('|').nth(1).unwrap_or_default();
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The hand-written key tables of README.md and spec/README.md name exactly the keys the code
/// reads, so they cannot lose or invent one.
#[test]
fn the_other_key_tables_name_the_same_keys() {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let signer = sorted(
        notation_akv::config::valid_keys()
            .into_iter()
            .map(str::to_string)
            .collect(),
    );
    let verifier = sorted(
        notation_akv_verifier::config::KEYS
            .iter()
            .map(|k| k.name.to_string())
            .collect(),
    );
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let spec = std::fs::read_to_string(repo_root().join("spec/README.md")).unwrap();
    for (file, text, heading, keys) in [
        ("README.md", &readme, "**Configuration.**", &signer),
        ("spec/README.md", &spec, "## Signer configuration", &signer),
        (
            "spec/README.md",
            &spec,
            "## Verifier configuration",
            &verifier,
        ),
    ] {
        assert_eq!(
            &sorted(table_keys(text, heading)),
            keys,
            "{file}, table after {heading:?}"
        );
    }
}
