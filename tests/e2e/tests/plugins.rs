//! Our two plugins, installed the way users install them (`notation plugin install --file`), are
//! accepted by notation 1.3.2 and listed with their name, version and capabilities.

use notation_akv_e2e::NotationEnv;
use notation_akv_e2e::locate::workspace_binary;

/// The workspace version, which both plugins report.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `notation plugin ls` row of `name`, split into whitespace-separated words.
fn listed_row(list: &str, name: &str) -> Vec<String> {
    list.lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} not listed:\n{list}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn install_and_check(name: &str, capabilities: &str) {
    let env = NotationEnv::new().unwrap();
    let binary = workspace_binary(&format!("notation-{name}")).unwrap();
    let installed = env.install_plugin(&binary).unwrap();
    assert!(
        installed.stdout.contains(&format!(
            "Successfully installed plugin {name}, version {VERSION}"
        )),
        "{installed:?}"
    );
    assert!(
        env.plugins_dir()
            .join(name)
            .join(format!("notation-{name}"))
            .is_file()
    );

    let list = env.plugin_list().unwrap();
    let row = listed_row(&list.stdout, name).join(" ");
    // NAME DESCRIPTION VERSION CAPABILITIES ERROR
    assert!(
        row.ends_with(&format!(" {VERSION} {capabilities} <nil>")),
        "unexpected row {row:?}"
    );

    // Installing again is idempotent (same version, --force).
    let again = env.install_plugin(&binary).unwrap();
    assert!(
        again.stdout.contains(&format!("plugin {name}")),
        "{again:?}"
    );
    assert_eq!(
        listed_row(&env.plugin_list().unwrap().stdout, name).join(" "),
        row
    );
}

#[test]
fn signer_plugin_installs_and_lists_as_akv() {
    install_and_check("akv", "[SIGNATURE_GENERATOR.RAW]");
}

#[test]
fn verifier_plugin_installs_and_lists_as_akv_verifier() {
    install_and_check(
        "akv-verifier",
        "[SIGNATURE_VERIFIER.TRUSTED_IDENTITY SIGNATURE_VERIFIER.REVOCATION_CHECK]",
    );
}
