//! Renders the project's reference (`docs/reference.md`) from the tables the code itself runs on.
//!
//! Nothing here is written by hand but the headings and the sentences that join the tables: every
//! row comes from a product table ([`ConfigKey`] rows of each plugin and of the Key Vault crate,
//! [`EnvVar`] rows, the error catalogues whose entries decide the codes notation receives, and the
//! signer's permission matrix). `tests/reference.rs` renders it and fails when the committed file
//! differs, in either direction; `UPDATE_REFERENCE=1 cargo test -p notation-akv-docs` rewrites it.

use notation_akv::permissions::{self, ROUTES};
use notation_akv_keyvault::error::Failure;
use notation_akv_protocol::ErrorCode;
use notation_akv_protocol::reference::{ConfigKey, EnvVar, ErrorDoc, REQUEST_ERRORS};

/// The whole reference, as committed.
pub fn reference() -> String {
    let mut md = String::new();
    md.push_str(
        "# notation-akv reference\n\n\
         Every configuration key, environment variable, error and permission of both plugins. \
         This file is generated from the code's own tables (`docs/src/lib.rs`); a test fails when it \
         differs from them. Regenerate it with `UPDATE_REFERENCE=1 cargo test -p notation-akv-docs`.\n\n\
         - [Signer: `notation-akv` (plugin `akv`)](#signer-notation-akv-plugin-akv)\n\
         - [Verifier: `notation-akv-verifier` (plugin `akv-verifier`)](#verifier-notation-akv-verifier-plugin-akv-verifier)\n\
         - [Errors of both plugins](#errors-of-both-plugins)\n\n",
    );
    signer(&mut md);
    verifier(&mut md);
    common_errors(&mut md);
    md
}

fn signer(md: &mut String) {
    use notation_akv_keyvault::settings::{ENV_PREFIX, ENVIRONMENT};
    md.push_str("## Signer: `notation-akv` (plugin `akv`)\n\n### Configuration keys\n\n");
    md.push_str(&format!(
        "Pass a key with `notation sign --plugin-config key=value` (or store it with `notation key add \
         --plugin-config`), or set the environment variable `{ENV_PREFIX}<KEY>`; the plugin config wins. \
         Empty environment values count as unset. An unknown key or a bad value is a `VALIDATION_ERROR` \
         naming the valid keys.\n\n"
    ));
    keys(md, notation_akv::config::all_keys(), ENV_PREFIX);
    md.push_str("### Environment variables\n\n");
    env_vars(md, ENVIRONMENT);
    md.push_str("### Permissions\n\n");
    md.push_str(
        "The vault operations of a cold `notation sign` (a warm one, within `cache_ttl` or with a \
         versioned id, only signs), and what the identity needs for them: the access-policy \
         permissions (`az keyvault set-policy --name <vault> …`) or the built-in RBAC roles.\n\n\
         | key id | chain source | vault operations | access policy | RBAC roles |\n|---|---|---|---|---|\n",
    );
    for route in ROUTES {
        let (operations, policy, roles) = match route.refusal {
            Some(refusal) => (refusal.to_string(), "—".into(), "—".into()),
            None => {
                let operations: Vec<String> = route
                    .operations
                    .iter()
                    .map(|op| {
                        let note = if route.expected_404.contains(op) {
                            " (answers 404)"
                        } else {
                            ""
                        };
                        format!("`{}`{note}", op.permission())
                    })
                    .collect();
                let policy = if route.id == permissions::IdForm::ManagedHsmKey {
                    "none: a Managed HSM has no access policies".to_string()
                } else {
                    format!("`{}`", route.access_policy())
                };
                (
                    operations.join(", "),
                    policy,
                    route.rbac_roles().join(" + "),
                )
            }
        };
        md.push_str(&row(&[
            route.id.describe(),
            route.chain.describe(),
            &operations,
            &policy,
            &roles,
        ]));
    }
    md.push_str(&format!(
        "\nThe lookup that answers 404 still needs its permission: without it the vault answers 403 \
         (`ACCESS_DENIED`). Also: {}.\n\n",
        permissions::SECRET_WITHOUT_KID
    ));
    md.push_str(
        "### Errors\n\nVault failures (`errorMetadata` carries `httpStatus`, `azureErrorCode`, \
         `azureInnerErrorCode` and `requestId` when the vault answered):\n\n",
    );
    let vault: Vec<ErrorDoc> = Failure::ALL.iter().map(|f| f.doc()).collect();
    errors(md, &vault);
    md.push_str("The signer's own failures:\n\n");
    errors(md, notation_akv::error::ERRORS);
}

fn verifier(md: &mut String) {
    use notation_akv_verifier::config::{
        BAD_SHARED_SETTING, CONFIG_FILE_ENV, ENV_PREFIX, ENVIRONMENT, KEYS,
    };
    md.push_str(
        "## Verifier: `notation-akv-verifier` (plugin `akv-verifier`)\n\n### Configuration keys\n\n",
    );
    md.push_str(&format!(
        "For each key the first source that sets it wins: `notation verify --plugin-config key=value`, \
         then the environment variable `{ENV_PREFIX}<KEY>`, then the JSON config file (`{CONFIG_FILE_ENV}`, \
         else `$XDG_CONFIG_HOME/notation-akv/verifier.json`). Ratify, Kyverno and notation-action pass \
         no plugin config, so use the variables or the file there.\n\n"
    ));
    keys(md, KEYS.iter(), ENV_PREFIX);
    md.push_str("### Environment variables\n\n");
    env_vars(md, ENVIRONMENT);
    md.push_str("### Errors\n\n");
    errors(md, notation_akv_verifier::ERRORS);
    md.push_str(&format!(
        "Not an error code: {BAD_SHARED_SETTING}. Every requested check then fails with that reason \
         (`success: false`), and so does a network problem or an unknown revocation status, so the \
         trust policy level decides (`audit` only logs).\n\n"
    ));
}

fn common_errors(md: &mut String) {
    md.push_str("## Errors of both plugins\n\n### Error codes\n\n");
    md.push_str(
        "A failed command exits non-zero with `{\"errorCode\",\"errorMessage\",\"errorMetadata\"}` on \
         stderr. notation prints the message; the code reaches its debug log.\n\n\
         | `errorCode` | meaning |\n|---|---|\n",
    );
    for code in ErrorCode::ALL {
        md.push_str(&row(&[&format!("`{}`", code.as_str()), code.meaning()]));
    }
    md.push_str("\n### Requests\n\n");
    errors(md, REQUEST_ERRORS);
}

fn keys<'k>(md: &mut String, keys: impl Iterator<Item = &'k ConfigKey>, prefix: &str) {
    md.push_str(
        "| key | environment variable | value | default | example | meaning |\n|---|---|---|---|---|---|\n",
    );
    for key in keys {
        md.push_str(&row(&[
            &format!("`{}`", key.name),
            &format!("`{}`", key.env_var(prefix)),
            key.value,
            key.default,
            &format!("`{}`", key.example),
            key.description,
        ]));
    }
    md.push('\n');
}

fn env_vars(md: &mut String, vars: &[EnvVar]) {
    md.push_str("| variable | meaning |\n|---|---|\n");
    for var in vars {
        md.push_str(&row(&[&format!("`{}`", var.name), var.description]));
    }
    md.push('\n');
}

fn errors(md: &mut String, docs: &[ErrorDoc]) {
    md.push_str("| failure | `errorCode` | cause | fix |\n|---|---|---|---|\n");
    for doc in docs {
        md.push_str(&row(&[
            doc.name,
            &format!("`{}`", doc.code.as_str()),
            doc.cause,
            doc.fix,
        ]));
    }
    md.push('\n');
}

/// One table row: a `|` inside a cell is escaped, and so are `<` and `>` outside code spans
/// (`NOTATION_AKV_<KEY>` would otherwise render as an HTML tag).
fn row(cells: &[&str]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| escape(c)).collect();
    format!("| {} |\n", cells.join(" | "))
}

fn escape(cell: &str) -> String {
    let mut out = String::new();
    for (i, part) in cell.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let part = part.replace('|', "\\|");
        if i % 2 == 0 {
            out.push_str(&part.replace('<', "&lt;").replace('>', "&gt;"));
        } else {
            out.push_str(&part);
        }
    }
    out
}
