//! The signer's fault matrix through the real notation CLI: every way the vault, the network or
//! the vault's material can fail, injected into the TLS test vault (or the environment), each
//! ending with the right protocol code (read from the plugin run alone with the same
//! environment) and a message that names the fix (what notation prints), within the configured
//! deadline plus one second. The table is also `docs/fault-matrix.md`: this test fails when a
//! row of one is missing from the other.

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{
    CertificateOptions, Fault, FaultAction, RecordedResponse, shared_with_fixtures,
};
use notation_akv_e2e::doc_table;
use notation_akv_e2e::locate::workspace_binary;
use std::time::{Duration, Instant};

mod signer_support;

use signer_support::World;

const TIMEOUT_SECS: u64 = 3;

/// One row: what goes wrong, how the test makes it happen, and what the user gets.
struct Row {
    symptom: &'static str,
    code: &'static str,
    /// A fragment of the message notation prints: what it names and how to fix it.
    fix: &'static str,
    setup: Setup,
}

enum Setup {
    /// A fault on the vault for requests to `object` ("sign", "secret", "certificate", "key",
    /// "token") of a fresh copy of a fixture.
    Vault(&'static str, &'static str, FaultAction),
    /// A fixture of the shared vault signed as it is.
    Material(&'static str),
    /// An environment variable set for this row only (id of a fresh copy).
    Env(&'static str, EnvValue),
    /// A key id naming a vault that cannot be reached.
    Id(fn(&str) -> String),
}

enum EnvValue {
    /// A CA file holding another CA than the vault's.
    ForeignCa,
}

fn html(status: u16, body: &str) -> FaultAction {
    FaultAction::Respond(RecordedResponse {
        status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: body.as_bytes().to_vec(),
    })
}

fn rows() -> Vec<Row> {
    use Setup::*;
    let s = |status, code, msg| FaultAction::status(status, code, msg);
    vec![
        Row {
            symptom: "401: the vault rejects the token",
            code: "ACCESS_DENIED",
            fix: "rejected the credential",
            setup: Vault("POST", "sign", s(401, "Unauthorized", "token rejected")),
        },
        Row {
            symptom: "403 access policy on keys/sign",
            code: "ACCESS_DENIED",
            fix: "Key Vault Crypto User",
            setup: Vault("POST", "sign", s(403, "Forbidden", "no keys sign permission")),
        },
        Row {
            symptom: "403 access policy on secrets/get",
            code: "ACCESS_DENIED",
            fix: "Key Vault Secrets User",
            setup: Vault("GET", "secret", s(403, "Forbidden", "no secrets get permission")),
        },
        Row {
            symptom: "403 access policy on certificates/get (`self_signed`)",
            code: "ACCESS_DENIED",
            fix: "Key Vault Certificate User",
            setup: Vault(
                "GET",
                "certificate",
                s(403, "Forbidden", "no certificates get permission"),
            ),
        },
        Row {
            symptom: "403 RBAC (`ForbiddenByRbac`) on keys/sign",
            code: "ACCESS_DENIED",
            fix: "Key Vault Crypto User",
            setup: Vault(
                "POST",
                "sign",
                FaultAction::Respond(RecordedResponse {
                    status: 403,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: br#"{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.","innererror":{"code":"ForbiddenByRbac"}}}"#.to_vec(),
                }),
            ),
        },
        Row {
            symptom: "403 from a firewall or proxy, as text/html",
            code: "ACCESS_DENIED",
            fix: "text/html",
            setup: Vault("GET", "secret", html(403, "<html><body>Forbidden</body></html>")),
        },
        Row {
            symptom: "404 on the secret",
            code: "VALIDATION_ERROR",
            fix: "was not found",
            setup: Vault("GET", "secret", s(404, "SecretNotFound", "not found")),
        },
        Row {
            symptom: "404 on the certificate (`self_signed`)",
            code: "VALIDATION_ERROR",
            fix: "was not found",
            setup: Vault("GET", "certificate", s(404, "CertificateNotFound", "not found")),
        },
        Row {
            symptom: "404 on the key at signing",
            code: "VALIDATION_ERROR",
            fix: "was not found",
            setup: Vault("POST", "sign", s(404, "KeyNotFound", "not found")),
        },
        Row {
            symptom: "429 with Retry-After beyond the deadline",
            code: "THROTTLED",
            fix: "throttled",
            setup: Vault("POST", "sign", FaultAction::throttled(60)),
        },
        Row {
            symptom: "429 without Retry-After",
            code: "THROTTLED",
            fix: "throttled",
            setup: Vault("POST", "sign", s(429, "Throttled", "slow down")),
        },
        Row {
            symptom: "500 from the vault",
            code: "ERROR",
            fix: "HTTP 500",
            setup: Vault("POST", "sign", s(500, "InternalError", "boom")),
        },
        Row {
            symptom: "503 from the vault",
            code: "ERROR",
            fix: "HTTP 503",
            setup: Vault("POST", "sign", s(503, "ServiceUnavailable", "try later")),
        },
        Row {
            symptom: "connection reset in the middle of a body",
            code: "ERROR",
            fix: "connection to Azure Key Vault failed",
            setup: Vault("POST", "sign", FaultAction::DropConnection),
        },
        Row {
            symptom: "truncated JSON body",
            code: "ERROR",
            fix: "connection to Azure Key Vault failed",
            setup: Vault("GET", "secret", FaultAction::TruncateBody),
        },
        Row {
            symptom: "vault slower than the deadline",
            code: "TIMEOUT",
            fix: "within the 3s deadline",
            setup: Vault("POST", "sign", FaultAction::Delay(Duration::from_secs(20))),
        },
        Row {
            symptom: "token endpoint slower than the deadline",
            code: "TIMEOUT",
            fix: "within the 3s deadline",
            setup: Vault("POST", "token", FaultAction::Delay(Duration::from_secs(20))),
        },
        Row {
            symptom: "TLS: the vault's certificate is from an unknown CA",
            code: "ERROR",
            fix: "SSL_CERT_FILE",
            setup: Env("SSL_CERT_FILE", EnvValue::ForeignCa),
        },
        Row {
            symptom: "connection refused",
            code: "ERROR",
            fix: "check the host and port in --id",
            setup: Id(|id| {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                let after_host = id.splitn(4, '/').nth(3).unwrap();
                format!("https://127.0.0.1:{port}/{after_host}")
            }),
        },
        Row {
            symptom: "DNS: the vault name does not resolve",
            code: "ERROR",
            fix: "does not resolve",
            setup: Id(|id| {
                let after_host = id.splitn(4, '/').nth(3).unwrap();
                format!("https://notation-akv-nonexistent.vault.azure.net/{after_host}")
            }),
        },
        Row {
            symptom: "disabled key",
            code: "ACCESS_DENIED",
            fix: "disabled",
            setup: Material(names::DISABLED_KEY),
        },
        Row {
            symptom: "expired certificate",
            code: "VALIDATION_ERROR",
            fix: "[validity.expired]",
            setup: Material(names::EXPIRED),
        },
        Row {
            symptom: "certificate whose key is not the signing key",
            code: "ERROR",
            fix: "does not belong to this key",
            setup: Material(names::WRONG_KEY),
        },
        Row {
            symptom: "non-compliant certificate (AKV's default policy)",
            code: "VALIDATION_ERROR",
            fix: "[leaf.key-usage.forbidden]",
            setup: Material(names::AKV_DEFAULT_POLICY),
        },
    ]
}

/// The protocol code the plugin gives for describe-key then generate-signature of `id`, run
/// alone with notation's environment for the plugin.
fn plugin_code(world: &World, id: &str, config: &[&str]) -> String {
    let binary = workspace_binary("notation-akv").unwrap();
    let config_json: serde_json::Map<String, serde_json::Value> = config
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), serde_json::Value::String(v.into()))
        })
        .collect();
    let describe =
        serde_json::json!({"contractVersion":"1.0","keyId":id,"pluginConfig":config_json});
    let sign = serde_json::json!({"contractVersion":"1.0","keyId":id,"keySpec":"EC-256",
        "hashAlgorithm":"SHA-256","payload":"e30=","pluginConfig":config_json});
    let describe_file = world
        .env
        .write_file("describe.json", describe.to_string())
        .unwrap();
    let sign_file = world.env.write_file("sign.json", sign.to_string()).unwrap();
    let script = format!(
        "if '{b}' describe-key < '{d}' >out.json 2>err.json; then '{b}' generate-signature < '{s}' >out.json 2>err.json || true; fi; cat err.json",
        b = binary.display(),
        d = describe_file.display(),
        s = sign_file.display()
    );
    let out = world.env.shell(&script).unwrap();
    let stdout = out.stdout.clone();
    let error: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        let out = std::fs::read_to_string(world.env.work_dir().join("out.json"));
        panic!("{id}: no error JSON on stderr: {stdout:?}; stdout {out:?}")
    });
    error["errorCode"].as_str().unwrap_or_default().to_string()
}

#[test]
fn every_fault_ends_with_its_code_and_fix_within_the_deadline() {
    let mut world = World::new();
    world
        .env
        .set_env("NOTATION_AKV_TIMEOUT", format!("{TIMEOUT_SECS}s"));
    // No caching between rows: each row is a cold signing, as after a fault.
    world.env.set_env("NOTATION_AKV_CACHE", "false");
    let s = shared_with_fixtures();
    let base = names::self_signed(KeySpec::Ec256);
    let foreign_ca = world
        .env
        .write_file(
            "foreign-ca.pem",
            ChainBuilder::new(KeySpec::Ec256)
                .build()
                .unwrap()
                .root()
                .unwrap()
                .pem(),
        )
        .unwrap();
    let original_ca = s.vault.ca_file().display().to_string();
    let mut failures = Vec::new();
    for (i, row) in rows().into_iter().enumerate() {
        let name = format!("fault-{i}");
        let fresh = || {
            s.vault
                .add_certificate(
                    &name,
                    &s.fixtures.get(&base).chain,
                    CertificateOptions::default(),
                )
                .unwrap()
                .id
        };
        let mut config: Vec<&str> = Vec::new();
        let id = match &row.setup {
            Setup::Vault(method, object, action) => {
                let id = fresh();
                let pattern = match *object {
                    "sign" => format!("/keys/{name}/*/sign"),
                    "secret" => format!("/secrets/{name}/**"),
                    "certificate" => {
                        config.push("self_signed=true");
                        format!("/certificates/{name}/**")
                    }
                    "token" => "/*/oauth2/v2.0/token".to_string(),
                    other => panic!("unknown object {other}"),
                };
                s.vault.inject(Fault::on(method, &pattern, action.clone()));
                id
            }
            Setup::Material(fixture) => s.fixtures.get(fixture).version.id.clone(),
            Setup::Env(key, EnvValue::ForeignCa) => {
                world.env.set_env(key, &foreign_ca);
                fresh()
            }
            Setup::Id(make) => {
                // The plugin itself connects to (or looks up) the id's host: not the test proxy,
                // which resolves only the vault's names.
                let id = make(&fresh());
                let host = id.split('/').nth(2).unwrap().split(':').next().unwrap();
                world.env.set_env(
                    "NO_PROXY",
                    format!("{},{host}", akv_test_vault::hosts::NO_PROXY),
                );
                id
            }
        };
        let artifact = world.push(&name);
        let started = Instant::now();
        let printed = world.sign_fails(&artifact, &id, &config);
        let elapsed = started.elapsed();
        let code = plugin_code(&world, &id, &config);
        s.vault.clear_faults();
        world.env.set_env("SSL_CERT_FILE", &original_ca);
        world
            .env
            .set_env("NO_PROXY", akv_test_vault::hosts::NO_PROXY);
        if !printed.contains(row.fix) || code != row.code {
            failures.push(format!(
                "{}: code {code} (want {}), notation printed: {printed}",
                row.symptom, row.code
            ));
        }
        if elapsed > Duration::from_secs(TIMEOUT_SECS + 1) {
            failures.push(format!(
                "{}: notation sign took {elapsed:?}, over the {TIMEOUT_SECS}s deadline + 1s",
                row.symptom
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_docs_table_is_the_tested_matrix() {
    let rows = rows()
        .into_iter()
        .map(|row| format!("| {} | `{}` | {} |", row.symptom, row.code, row.fix));
    doc_table::assert_matches("fault-matrix.md", "# Signer fault matrix", rows);
}
