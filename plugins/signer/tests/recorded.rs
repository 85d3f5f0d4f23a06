//! Error responses and 401 challenges recorded from the live Azure Key Vault and Managed HSM
//! (`tests/fixtures/akv-recorded`, sources in its README), served verbatim by the test vault to
//! the built `notation-akv`, and the protocol error each one becomes.

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::{
    CertificateOptions, CredentialKind, Fault, FaultAction, RecordedResponse, RouteKind, TestVault,
    VaultConfig,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;

use common::protocol::{Plugin, code, message};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/akv-recorded")
        .join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

/// The item of `errors_real_bodies.json` with this id.
fn error_item(id: &str) -> Value {
    let all = fixture("errors_real_bodies.json");
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no recorded item {id}"))
        .clone()
}

/// AKV's compact error body in the service's member order (code, message, innererror), the
/// bytes the service sent; callers check the length against the recorded `Content-Length`.
fn akv_body(body: &Value) -> Vec<u8> {
    let e = &body["error"];
    let mut text = format!(
        "{{\"error\":{{\"code\":{},\"message\":{}",
        e["code"], e["message"]
    );
    if let Some(inner) = e.get("innererror") {
        text.push_str(&format!(",\"innererror\":{{\"code\":{}}}", inner["code"]));
    }
    text.push_str("}}");
    text.into_bytes()
}

const JSON: &str = "application/json; charset=utf-8";

fn response(status: u16, content_type: &str, body: Vec<u8>) -> RecordedResponse {
    RecordedResponse {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    }
}

/// A recorded test-proxy entry (`StatusCode`, `ResponseHeaders`, `ResponseBody`): status, the
/// headers that matter to a client, and the body, whose length is the recorded one.
fn recorded_entry(item: &Value) -> RecordedResponse {
    let headers = &item["ResponseHeaders"];
    let body = akv_body(&item["ResponseBody"]);
    assert_eq!(
        body.len().to_string(),
        headers["Content-Length"].as_str().unwrap(),
        "{}: body bytes",
        item["id"]
    );
    let mut r = response(
        item["StatusCode"].as_u64().unwrap() as u16,
        headers["Content-Type"].as_str().unwrap(),
        body,
    );
    for (name, value) in headers.as_object().unwrap() {
        if name.starts_with("x-ms-keyvault") || name == "Cache-Control" {
            r.headers
                .push((name.clone(), value.as_str().unwrap().into()));
        }
    }
    r
}

/// A vault of this test's own with one self-signed EC P-256 certificate, and the plugin pointed
/// at it (client-secret credential).
struct Setup {
    vault: TestVault,
    plugin: Plugin,
    name: &'static str,
    id: String,
    /// The key id (`/keys/…`) of the certificate, and a `ca_certs` file holding its chain.
    kid: String,
    chain_file: std::path::PathBuf,
    at: std::cell::Cell<At>,
}

fn setup_with(config: VaultConfig, kind: CredentialKind) -> Setup {
    let vault = TestVault::start_with(config).unwrap();
    let chain = ChainBuilder::self_signed(KeySpec::Ec256).build().unwrap();
    let name = "recorded";
    let version = vault
        .add_certificate(name, &chain, CertificateOptions::default())
        .unwrap();
    // Not `Plugin::new()`: that environment is the shared vault's, which loads every fixture.
    let home = tempfile::tempdir().unwrap();
    let chain_file = home.path().join("chain.pem");
    std::fs::write(
        &chain_file,
        chain.pem_bundle(akv_test_pki::BundleOrder::LeafFirst),
    )
    .unwrap();
    let mut env = vault.credential_env(kind);
    env.extend([
        ("HOME".to_string(), home.path().display().to_string()),
        ("NOTATION_AKV_TIMEOUT".into(), "5s".into()),
        (
            "NOTATION_AKV_LOG_FILE".into(),
            home.path().join("akv.log").display().to_string(),
        ),
    ]);
    let plugin = Plugin::with_env(home, env);
    Setup {
        vault,
        plugin,
        name,
        id: version.id,
        kid: version.kid,
        chain_file,
        at: std::cell::Cell::new(At::Sign),
    }
}

fn setup() -> Setup {
    setup_with(VaultConfig::default(), CredentialKind::ClientSecret)
}

/// Where a recorded answer is served: which request of a `/certificates/` id sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    Certificate,
    Secret,
    Sign,
}

impl Setup {
    fn serve(&self, at: At, recorded: RecordedResponse) {
        let (method, pattern) = match at {
            At::Certificate => ("GET", format!("/certificates/{}/**", self.name)),
            At::Secret => ("GET", format!("/secrets/{}/**", self.name)),
            At::Sign => ("POST", format!("/keys/{}/*/sign", self.name)),
        };
        self.at.set(at);
        self.vault.clear_faults();
        self.vault
            .inject(Fault::on(method, &pattern, FaultAction::Respond(recorded)));
    }

    /// The protocol error, with the parts that change per run (vault port, request id) replaced.
    fn error(&self) -> Value {
        // The certificate itself is read only when the secret is not (self_signed or ca_certs).
        let config = match self.at.get() {
            At::Certificate => json!({"self_signed": "true"}),
            At::Secret | At::Sign => json!({}),
        };
        let err = self
            .plugin
            .describe_and_sign(&self.id, config)
            .expect_err("the recorded error must fail the signing");
        let host = self.vault.url().trim_start_matches("https://").to_string();
        let version = self.id.rsplit('/').next().unwrap();
        let mut text = err
            .to_string()
            .replace(&host, "[vault]")
            .replace(version, "[version]");
        if let Some(id) = err["errorMetadata"]["requestId"].as_str() {
            text = text.replace(id, "[request-id]");
        }
        serde_json::from_str(&text).unwrap()
    }
}

#[test]
fn recorded_403s_are_access_denied_naming_the_permission_and_the_role() {
    let s = setup();
    let rbac = error_item("403-RBAC secrets getSecret (compact JSON body)");
    let rbac_pretty =
        error_item("403-RBAC-ForbiddenByRbac (full JSON, pretty-printed by the author's tooling)");
    let policy_2019 = error_item("403-old-format-ForbiddenByPolicy (2019, service 1.1.0.878)");
    let access_denied =
        error_item("403-access-policy-secrets-get with innererror AccessDenied (newer) ");
    // 308 bytes, not the recorded 355: the JS recorder replaced the client id, tenant and
    // vault name in the message with shorter placeholders.
    let policy_2019_body = akv_body(&policy_2019["body"]);
    let cases = [
        (
            "rbac-secrets",
            At::Secret,
            response(403, JSON, rbac["body_text"].as_str().unwrap().into()),
            ["secrets/get", "Key Vault Secrets User"],
        ),
        (
            "rbac-certificates",
            At::Certificate,
            response(403, JSON, akv_body(&rbac_pretty["body"])),
            ["certificates/get", "Key Vault Certificate User"],
        ),
        (
            "policy-2019-sign",
            At::Sign,
            response(403, JSON, policy_2019_body),
            ["keys/sign", "Key Vault Crypto User"],
        ),
        (
            "access-denied-secrets",
            At::Secret,
            response(
                403,
                JSON,
                access_denied["body_text"].as_str().unwrap().into(),
            ),
            ["--secret-permissions get", "Key Vault Secrets User"],
        ),
    ];
    for (label, at, recorded, texts) in cases {
        s.serve(at, recorded);
        let err = s.error();
        assert_eq!(code(&err), "ACCESS_DENIED", "{label}: {err}");
        for t in texts {
            assert!(message(&err).contains(t), "{label}: {t}: {err}");
        }
        insta::assert_json_snapshot!(label, err);
    }
}

#[test]
fn network_rule_403s_say_the_network_is_refused_not_the_permission() {
    let s = setup();
    let item = error_item("403-network (firewall / private link)");
    for (label, at, body) in [
        ("firewall", At::Sign, &item["bodies_text"][0]),
        ("private-link", At::Certificate, &item["bodies_text"][1]),
    ] {
        s.serve(at, response(403, JSON, body.as_str().unwrap().into()));
        let err = s.error();
        assert_eq!(code(&err), "ACCESS_DENIED", "{label}: {err}");
        assert!(message(&err).contains("network"), "{label}: {err}");
        assert!(!message(&err).contains("is disabled;"), "{label}: {err}");
        insta::assert_json_snapshot!(label, err);
    }
}

#[test]
fn an_html_403_is_access_denied_not_a_parse_error() {
    let s = setup();
    let item = error_item("403-non-JSON (text/html) from the vault front end");
    assert!(
        item["text"]
            .as_str()
            .unwrap()
            .contains("Content-Type:text/html")
    );
    // The log excerpt records status and headers, not the 1233-byte body: any HTML page will do.
    let page = b"<!DOCTYPE html><html><head><title>403 - Forbidden</title></head>\
        <body><h1>403 - Forbidden: Access is denied.</h1></body></html>"
        .to_vec();
    s.serve(At::Certificate, response(403, "text/html", page));
    let err = s.error();
    assert_eq!(code(&err), "ACCESS_DENIED", "{err}");
    assert!(message(&err).contains("certificates/get"), "{err}");
    insta::assert_json_snapshot!(err);
}

#[test]
fn the_recorded_disabled_secret_403_names_the_disabled_object() {
    let s = setup();
    let item = error_item("403-disabled-secret");
    s.serve(At::Secret, recorded_entry(&item));
    let err = s.error();
    assert_eq!(code(&err), "ACCESS_DENIED", "{err}");
    assert!(message(&err).contains("disabled"), "{err}");
    insta::assert_json_snapshot!(err);
}

#[test]
fn the_recorded_404s_and_400_are_validation_errors_naming_the_object() {
    let s = setup();
    let key_404 = error_item("404-KeyNotFound-2024");
    let cpp = error_item("404-CertificateNotFound/KeyNotFound/SecretNotFound-2021");
    let cpp_body = |i: usize| {
        let b = &cpp["bodies"][i];
        let body = akv_body(&b["body"]);
        assert_eq!(
            body.len().to_string(),
            b["Content-Length"].as_str().unwrap()
        );
        response(404, JSON, body)
    };
    let bad = error_item("400-BadParameter-certificate-policy");
    let cases = [
        (
            "key-not-found",
            At::Sign,
            recorded_entry(&key_404),
            "key \"recorded\"",
        ),
        (
            "certificate-not-found",
            At::Certificate,
            cpp_body(0),
            "certificate \"recorded\"",
        ),
        (
            "secret-not-found",
            At::Secret,
            cpp_body(4),
            "certificate \"recorded\"",
        ),
        (
            "bad-parameter",
            At::Sign,
            recorded_entry(&bad),
            "key \"recorded\"",
        ),
    ];
    for (label, at, recorded, object) in cases {
        s.serve(at, recorded);
        let err = s.error();
        assert_eq!(code(&err), "VALIDATION_ERROR", "{label}: {err}");
        assert!(message(&err).contains(object), "{label}: {err}");
        insta::assert_json_snapshot!(label, err);
    }
}

#[test]
fn the_recorded_429_without_retry_after_is_throttled_after_bounded_retries() {
    let s = setup();
    let item = error_item("429-Throttled (vault, keys sign)");
    let text = item["text"].as_str().unwrap();
    assert!(!text.to_ascii_lowercase().contains("retry-after"));
    let body = text
        .lines()
        .find(|l| l.starts_with("{\"error\""))
        .unwrap()
        .as_bytes()
        .to_vec();
    assert_eq!(body.len(), 146, "recorded Content-Length");
    s.serve(At::Sign, response(429, JSON, body));
    let started = Instant::now();
    let err = s.error();
    let took = started.elapsed();
    assert_eq!(code(&err), "THROTTLED", "{err}");
    let signs = s
        .vault
        .requests()
        .iter()
        .filter(|r| r.route == RouteKind::Sign && r.bearer)
        .count();
    assert!(signs >= 2, "retried: {signs}");
    assert!(
        took < Duration::from_secs(5 + 5),
        "within the deadline: {took:?}"
    );
    insta::assert_json_snapshot!(err);
}

/// The recorded 401 of a challenge item: `WWW-Authenticate` verbatim, the body (none for
/// Managed HSM) in AKV's bytes. One recording (Python, 2022) kept the `Content-Length` (97) but not
/// the body; it gets the body the service sent with that length in the same years.
fn challenge_response(item: &Value, all: &Value) -> RecordedResponse {
    let length = item["Content-Length"].as_str().unwrap();
    let body = match &item["body"] {
        Value::Object(_) => akv_body(&item["body"]),
        Value::Null if length != "0" => all["vault"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["Content-Length"] == length && i["body"].is_object())
            .map(|i| akv_body(&i["body"]))
            .unwrap(),
        _ => Vec::new(),
    };
    assert_eq!(
        body.len().to_string(),
        length,
        "{}: body bytes",
        item["source"]
    );
    let mut r = response(401, JSON, body);
    r.headers.push((
        "WWW-Authenticate".into(),
        item["WWW-Authenticate"].as_str().unwrap().into(),
    ));
    r
}

/// Every recorded challenge, vault (2019–2026: `login.windows.net`, then
/// `login.microsoftonline.com`) and Managed HSM (empty body), in place of the test vault's own:
/// the SDK path the plugin uses parses it, asks the configured credential for a token for the
/// challenge's resource (the test vault accepts only that audience, and a managed-identity token
/// request shows the resource), and signs. The authority named in a challenge (a real Entra
/// tenant) is never asked: tokens come from the configured authority and tenant only. The
/// Managed HSM challenges are met as on a Managed HSM: the vault is named
/// `notation-akv-test.managedhsm.azure.net` and signs a `/keys/` id with the chain from `ca_certs`.
#[test]
fn recorded_401_challenges_lead_to_a_token_for_their_resource() {
    let all = fixture("challenges_401.json");
    let mut cases: Vec<(&Value, &str)> = Vec::new();
    for item in all["vault"].as_array().unwrap() {
        cases.push((item, "https://vault.azure.net"));
    }
    for item in all["managed_hsm"].as_array().unwrap() {
        cases.push((item, "https://managedhsm.azure.net"));
    }
    assert_eq!(cases.len(), 10);
    for kind in [
        CredentialKind::ClientSecret,
        CredentialKind::ManagedIdentity,
    ] {
        for &(item, resource) in &cases {
            let header = item["WWW-Authenticate"].as_str().unwrap();
            assert!(
                header.contains(&format!("resource=\"{resource}\"")),
                "{header}"
            );
            assert!(!header.contains("scope="), "{header}");
            let hsm = resource.contains("managedhsm");
            let host = if hsm {
                "notation-akv-test.managedhsm.azure.net"
            } else {
                akv_test_vault::VAULT_HOST
            };
            let s = setup_with(
                VaultConfig {
                    challenge_resource: resource.into(),
                    host: host.into(),
                    ..VaultConfig::default()
                },
                kind,
            );
            // An unauthenticated request meets the recorded challenge instead of the vault's own
            // (a later run may pre-authenticate and never meet one).
            let recorded = challenge_response(item, &all);
            let read = if hsm {
                "/keys/recorded/*"
            } else {
                "/secrets/recorded/**"
            };
            for (method, path) in [("GET", read), ("POST", "/keys/recorded/*/sign")] {
                s.vault.inject(
                    Fault::on(method, path, FaultAction::Challenge(recorded.clone())).times(1),
                );
            }
            let what = format!("{kind:?} {}", item["source"]);
            let (id, config) = if hsm {
                (&s.kid, json!({"ca_certs": s.chain_file}))
            } else {
                (&s.id, json!({}))
            };
            s.plugin
                .describe_and_sign(id, config)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let log = s.vault.requests();
            let challenged: Vec<_> = log.iter().filter(|r| r.status == 401).collect();
            assert!(!challenged.is_empty(), "{what}: {log:?}");
            assert_eq!(
                log[0].status, 401,
                "{what}: the first request is challenged"
            );
            assert!(challenged.iter().all(|r| !r.bearer), "{what}");
            let tokens: Vec<_> = log.iter().filter(|r| r.route == RouteKind::Token).collect();
            assert!(!tokens.is_empty(), "{what}");
            let tenant = &s.vault.config().tenant_id;
            for t in &tokens {
                assert_eq!(t.status, 200, "{what}: {t:?}");
                match kind {
                    CredentialKind::ManagedIdentity => {
                        let query = t.query.as_deref().unwrap_or("");
                        let asked: Vec<_> = url::form_urlencoded::parse(query.as_bytes())
                            .filter(|(k, _)| k == "resource")
                            .map(|(_, v)| v.into_owned())
                            .collect();
                        assert_eq!(asked, [resource], "{what}: {t:?}");
                    }
                    _ => assert!(t.path.starts_with(&format!("/{tenant}/")), "{what}: {t:?}"),
                }
            }
            // Every authenticated request carried a token the vault took for its resource.
            assert!(
                log.iter()
                    .filter(|r| r.bearer)
                    .all(|r| r.status == 200 && r.owner.is_some()),
                "{what}: {log:?}"
            );
        }
    }
}

/// The recorded exchange's successful GET of this kind (`/secrets/`, `/certificates/`).
fn recorded_get(json: &str, kind: &str) -> Value {
    let v = fixture(json);
    v["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["RequestMethod"] == "GET"
                && e["StatusCode"] == 200
                && e["RequestUri"].as_str().unwrap().contains(kind)
                && e["ResponseBody"][if kind == "/secrets/" { "value" } else { "cer" }].is_string()
        })
        .unwrap_or_else(|| panic!("{json}: no {kind} GET"))["ResponseBody"]
        .clone()
}

/// The rule ids a message names (`[leaf.eku.forbidden]`), without the validity rules: the
/// recorded certificates expire, so those depend on the day the test runs.
fn rule_ids(message: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find('[') {
        let tail = &rest[start + 1..];
        let Some(end) = tail.find(']') else { break };
        let id = &tail[..end];
        if id.contains('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'-')
            && !id.starts_with("validity.")
        {
            ids.push(id.to_string());
        }
        rest = &tail[end..];
    }
    ids
}

/// The recorded secret and certificate bundles, served as the vault's answer, go through the
/// plugin's chain sources: the PKCS#12 and PEM secrets (key first, zero-length empty password)
/// and the bundles' `cer` parse, the private key in each secret is noticed and dropped, and the
/// certificate is refused with the Notary Project rules it breaks, never with a parse error.
#[test]
fn recorded_secrets_and_certificates_parse_and_are_refused_by_rule() {
    let s = setup();
    let mut report = Vec::new();
    for json in [
        "net2024_DownloadLatestCertificate_pkcs12.json",
        "net2024_ECDsa_P-384_pkcs12_signremote.json",
        "net2024_ECDsa_P-521_pem_signremote.json",
        "net2024aug_DownloadVersionedCertificate_pkcs12.json",
        "net2024aug_ValidateMergeCertificate_ca_issued_get.json",
        "rust2025_sign_jwt_with_ec_certificate.json",
    ] {
        let mut sources = vec![(At::Certificate, "/certificates/")];
        if !json.contains("ValidateMerge") && !json.starts_with("rust") {
            sources.push((At::Secret, "/secrets/"));
        }
        for (at, kind) in sources {
            let body = recorded_get(json, kind);
            s.serve(at, response(200, JSON, body.to_string().into_bytes()));
            let _ = std::fs::remove_file(s.plugin.home.path().join("akv.log"));
            let config = match at {
                At::Certificate => json!({"self_signed": "true"}),
                _ => json!({}),
            };
            let out = s.plugin.describe(&s.id, config);
            let err = &out.stderr;
            let what = format!("{json} {kind}");
            assert_eq!(code(err), "VALIDATION_ERROR", "{what}: {err}");
            if json.contains("ValidateMerge") {
                // CA-issued: with self_signed=true the issuer is named instead.
                assert!(
                    message(err).contains("self_signed=true, but certificate \"CN=Azure SDK\""),
                    "{what}: {err}"
                );
                report.push(format!("{what}: not self-signed, issuer named"));
                continue;
            }
            assert!(
                message(err).contains("does not meet the Notary Project requirements"),
                "{what}: {err}"
            );
            let ids = rule_ids(message(err));
            assert!(!ids.is_empty(), "{what}: {err}");
            if at == At::Secret {
                let log = s.plugin.log();
                assert!(log.contains("contains its private key"), "{what}: {log}");
                assert!(
                    !log.contains("PRIVATE KEY"),
                    "{what}: the key is not logged"
                );
            }
            report.push(format!("{what}: {}", ids.join(", ")));
        }
    }
    insta::assert_snapshot!(report.join("\n"));
}
