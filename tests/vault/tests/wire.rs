//! The vault's wire formats (snapshots), authentication failures, fault injection and counters.

mod common;

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::{CredentialKind, Fault, FaultAction, RouteKind, TestVault, VaultConfig};
use azure_core::credentials::TokenCredential;
use azure_security_keyvault_certificates::models::CertificateClientGetCertificateOptions;
use azure_security_keyvault_keys::KeyClientOptions;
use azure_security_keyvault_keys::models::{
    KeyClientSignOptions, SignParameters, SignatureAlgorithm,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const API: &str = "api-version=2025-07-01";

/// A plain HTTPS client trusting the vault CA and resolving its names.
fn http(vault: &TestVault) -> reqwest::Client {
    common::http_builder(vault)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn token(vault: &TestVault, scope: &str) -> String {
    common::secret_credential(vault)
        .get_token(&[scope], None)
        .await
        .unwrap()
        .token
        .secret()
        .to_string()
}

/// Replaces what changes between runs: the vault URL, versions, times and key material.
fn normalize(v: &Value, vault: &TestVault) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("created" | "updated" | "nbf" | "exp", Value::Number(_)) => {
                            json!("<unix time>")
                        }
                        ("expires_on" | "timestamp", _) => json!("<time>"),
                        ("access_token", _) => json!("<token>"),
                        // DER lengths vary with ECDSA signatures; only say what it is.
                        ("cer", _) => json!("<base64 DER certificate>"),
                        ("value", Value::String(s)) if s.starts_with("-----BEGIN") => {
                            json!(format!(
                                "<PEM: {} certificates, {} private keys>",
                                s.matches("BEGIN CERTIFICATE").count(),
                                s.matches("BEGIN PRIVATE KEY").count()
                            ))
                        }
                        ("value" | "n" | "x" | "y" | "x5t", Value::String(s)) => {
                            json!(format!("<{} base64url chars>", s.len()))
                        }
                        _ => normalize(v, vault),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| normalize(v, vault)).collect()),
        Value::String(s) => {
            let s = s.replace(vault.url(), "https://VAULT");
            // 32-hex version ids
            let s = s
                .split('/')
                .map(|seg| {
                    if seg.len() == 32 && seg.chars().all(|c| c.is_ascii_hexdigit()) {
                        "VERSION"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            json!(s)
        }
        other => other.clone(),
    }
}

async fn body_json(rsp: reqwest::Response) -> Value {
    serde_json::from_slice(&rsp.bytes().await.unwrap()).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client.get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let rsp = req.send().await.unwrap();
    let status = rsp.status().as_u16();
    let headers = rsp.headers().clone();
    (status, headers, body_json(rsp).await)
}

#[tokio::test]
async fn unauthenticated_requests_get_the_key_vault_challenge() {
    let vault = TestVault::start().unwrap();
    let http = http(&vault);
    let (status, headers, body) =
        get_json(&http, &format!("{}/keys/k?{API}", vault.url()), None).await;
    assert_eq!(status, 401);
    assert_eq!(
        headers["www-authenticate"].to_str().unwrap(),
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"https://vault.azure.net\"",
            vault.authority_url(),
            vault.config().tenant_id
        )
    );
    assert_eq!(headers["x-ms-request-id"].len(), 32);
    insta::assert_json_snapshot!("challenge_body", body);

    // Missing api-version is refused before anything else.
    let (status, _, body) = get_json(&http, &format!("{}/keys/k", vault.url()), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "BadParameter");

    // Expired, unknown and wrong-audience tokens are 401 too.
    let good = token(&vault, "https://vault.azure.net/.default").await;
    vault.create_key("k", KeySpec::Ec256).unwrap();
    let url = format!("{}/keys/k?{API}", vault.url());
    assert_eq!(get_json(&http, &url, Some(&good)).await.0, 200);
    assert_eq!(get_json(&http, &url, Some("made-up")).await.0, 401);
    let other = token(&vault, "https://storage.azure.com/.default").await;
    let (status, _, body) = get_json(&http, &url, Some(&other)).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("AKV10022"),
        "{body}"
    );
    vault.expire_tokens();
    let (status, _, body) = get_json(&http, &url, Some(&good)).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn wire_formats() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let http = http(&vault);
    let t = token(&vault, "https://vault.azure.net/.default").await;
    let get = |path: String| {
        let http = http.clone();
        let t = t.clone();
        let url = format!("{}{path}?{API}", vault.url());
        async move { get_json(&http, &url, Some(&t)).await }
    };

    let ec = &fixtures.get(&names::ca_issued(KeySpec::Ec256)).version;
    let (s, _, key) = get(format!("/keys/{}/{}", ec.name, ec.version)).await;
    assert_eq!(s, 200);
    insta::assert_json_snapshot!("key_ec_256", normalize(&key, &vault));
    let rsa = &fixtures.get(&names::self_signed(KeySpec::Rsa2048)).version;
    let (_, _, key) = get(format!("/keys/{}", rsa.name)).await;
    insta::assert_json_snapshot!("key_rsa_2048", normalize(&key, &vault));

    let (_, _, cert) = get(format!("/certificates/{}", ec.name)).await;
    insta::assert_json_snapshot!("certificate_latest", normalize(&cert, &vault));
    let (_, _, cert) = get(format!(
        "/certificates/{}/{}",
        names::AKV_DEFAULT_POLICY,
        ""
    ))
    .await;
    insta::assert_json_snapshot!(
        "certificate_akv_default_policy",
        normalize(&cert["policy"], &vault)
    );
    let (_, _, list) = get(format!("/certificates/{}/versions", names::ROTATED)).await;
    insta::assert_json_snapshot!("certificate_versions", normalize(&list, &vault));
    let (_, _, secret) = get(format!("/secrets/{}/{}", ec.name, ec.version)).await;
    insta::assert_json_snapshot!("secret_pem", normalize(&secret, &vault));
    let (s, _, missing) = get("/certificates/nope".into()).await;
    assert_eq!(s, 404);
    insta::assert_json_snapshot!("certificate_not_found", missing);

    let sign = http
        .post(format!(
            "{}/keys/{}/{}/sign?{API}",
            vault.url(),
            ec.name,
            ec.version
        ))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(
            json!({"alg": "ES256", "value": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sign.status().as_u16(), 200);
    insta::assert_json_snapshot!("sign_es256", normalize(&body_json(sign).await, &vault));

    let token_rsp = http
        .post(vault.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", akv_test_vault::DEFAULT_CLIENT_ID),
            ("client_secret", akv_test_vault::DEFAULT_CLIENT_SECRET),
            ("scope", "https://vault.azure.net/.default"),
        ]))
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "entra_token",
        normalize(&body_json(token_rsp).await, &vault)
    );
    let unknown = http
        .post(vault.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
            ("scope", "https://vault.azure.net/.default"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 400);
    insta::assert_json_snapshot!(
        "entra_unknown_client",
        normalize(&body_json(unknown).await, &vault)
    );

    let mi = http
        .get(format!(
            "{}?api-version=2019-08-01&resource=https://vault.azure.net",
            vault.managed_identity_endpoint()
        ))
        .header("x-identity-header", &vault.config().managed_identity_header)
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "managed_identity_token",
        normalize(&body_json(mi).await, &vault)
    );
}

fn sign_request() -> (SignParameters, Option<KeyClientSignOptions<'static>>) {
    (
        SignParameters {
            algorithm: Some(SignatureAlgorithm::Es256),
            value: Some(vec![7; 32]),
        },
        None,
    )
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after_and_counted() {
    let vault = TestVault::start().unwrap();
    vault.create_key("k", KeySpec::Ec256).unwrap();
    vault.inject(Fault::on("POST", "/keys/*/sign", FaultAction::throttled(1)).times(1));
    let client = common::key_client(&vault);
    let started = Instant::now();
    let (p, o) = sign_request();
    client.sign("k", p.try_into().unwrap(), o).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let statuses: Vec<u16> = vault
        .requests()
        .iter()
        .filter(|r| r.route == RouteKind::Sign)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![401, 429, 200]);
    assert_eq!(vault.count(RouteKind::Sign), 3);
    assert_eq!(vault.count(RouteKind::Token), 1);
    assert_eq!(vault.count(RouteKind::GetCertificate), 0);
    let first = &vault.requests()[0];
    assert!(!first.bearer && first.owner.is_none());
    assert_eq!(first.method, "POST");
    assert!(first.query.as_deref().unwrap().contains("api-version="));
}

#[tokio::test]
async fn a_dropped_connection_is_retried_or_reported() {
    let vault = TestVault::start().unwrap();
    vault.create_key("k", KeySpec::Ec256).unwrap();
    vault.inject(Fault::on("POST", "/keys/**", FaultAction::DropConnection).times(1));
    let client = common::key_client(&vault);
    let (p, o) = sign_request();
    client.sign("k", p.try_into().unwrap(), o).await.unwrap();
    let statuses: Vec<u16> = vault
        .requests()
        .iter()
        .filter(|r| r.route == RouteKind::Sign)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![401, 0, 200], "dropped once, then served");

    // Without retries the SDK reports the broken connection.
    vault.inject(Fault::on("POST", "/keys/**", FaultAction::DropConnection));
    let credential = common::secret_credential(&vault);
    let client =
        common::key_client_with(&vault, credential, common::options_without_retries(&vault));
    let (p, o) = sign_request();
    let err = client
        .sign("k", p.try_into().unwrap(), o)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            azure_core::error::ErrorKind::Io | azure_core::error::ErrorKind::Connection
        ),
        "{err}"
    );
}

#[tokio::test]
async fn truncated_bodies_delays_and_error_statuses() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let f = &fixtures.get(&names::ca_issued(KeySpec::Ec256)).version;
    let client = common::certificate_client_with(&vault, common::options_without_retries(&vault));
    let get = || {
        client.get_certificate(
            &f.name,
            Some(CertificateClientGetCertificateOptions {
                certificate_version: Some(f.version.clone()),
                ..Default::default()
            }),
        )
    };
    // Warm up the challenge and token so faults hit the real request.
    get().await.unwrap();

    vault.inject(Fault::on("GET", "/certificates/*/*", FaultAction::TruncateBody).times(1));
    let truncated = match get().await {
        Err(e) => Err(e),
        Ok(r) => r.into_model(),
    };
    assert!(truncated.is_err(), "a truncated body must not parse");
    assert_eq!(vault.requests().last().unwrap().status, 0);

    vault.inject(
        Fault::on(
            "GET",
            "/certificates/**",
            FaultAction::Delay(Duration::from_millis(400)),
        )
        .times(1),
    );
    let started = Instant::now();
    get().await.unwrap().into_model().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));

    vault.inject(
        Fault::on(
            "*",
            "/certificates/**",
            FaultAction::status(503, "ServiceUnavailable", "try later"),
        )
        .times(1),
    );
    let err = get().await.unwrap_err();
    assert_eq!(err.http_status().map(u16::from), Some(503));
    get().await.unwrap();
    assert_eq!(vault.count(RouteKind::GetCertificate), 6);
}

/// Env-driven credentials, as a plugin process would use them: the test re-runs itself as a
/// child with the vault's environment, so `SSL_CERT_FILE` and the credential variables are set
/// before anything reads them (setting them in-process would need `unsafe`).
#[tokio::test]
async fn env_configured_credentials_in_a_child_process() {
    if let Ok(kind) = std::env::var("AKV_TEST_VAULT_CHILD") {
        return child(&kind).await;
    }
    let vault = TestVault::start_with(VaultConfig {
        managed_identity_client_ids: vec!["mi-user-assigned".into()],
        ..VaultConfig::default()
    })
    .unwrap();
    let key = vault.create_key("env", KeySpec::Ec256).unwrap();
    for (kind, label) in [
        (CredentialKind::ManagedIdentity, "managed-identity"),
        (CredentialKind::FederatedToken, "workload-identity"),
        (CredentialKind::ClientSecret, "client-secret"),
    ] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "env_configured_credentials_in_a_child_process",
                "--exact",
                "--nocapture",
            ])
            .envs(vault.credential_env(kind))
            .env("AKV_TEST_VAULT_CHILD", label)
            .env("AKV_TEST_VAULT_URL", vault.url())
            .env("AKV_TEST_VAULT_KID", &key.kid)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let signed_by: Vec<_> = vault
            .requests()
            .into_iter()
            .filter(|r| r.route == RouteKind::Sign && r.status == 200)
            .filter_map(|r| r.owner)
            .collect();
        assert_eq!(signed_by.last().map(|o| o.kind), Some(kind), "{label}");
    }
}

/// The child side: only environment variables and the default transport.
async fn child(kind: &str) {
    // The SDK's default transport takes rustls' process default (it brings no provider).
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let env = |k: &str| std::env::var(k).unwrap();
    let credential: std::sync::Arc<dyn TokenCredential> = match kind {
        "managed-identity" => azure_identity::ManagedIdentityCredential::new(None).unwrap(),
        "workload-identity" => azure_identity::WorkloadIdentityCredential::new(None).unwrap(),
        _ => azure_identity::ClientSecretCredential::new(
            &env("AZURE_TENANT_ID"),
            env("AZURE_CLIENT_ID"),
            env("AZURE_CLIENT_SECRET").into(),
            None,
        )
        .unwrap(),
    };
    let client = azure_security_keyvault_keys::KeyClient::new(
        &env("AKV_TEST_VAULT_URL"),
        credential,
        Some(KeyClientOptions::default()),
    )
    .unwrap();
    let kid = env("AKV_TEST_VAULT_KID");
    let version = kid.rsplit('/').next().unwrap().to_string();
    let (p, _) = sign_request();
    let options = KeyClientSignOptions {
        key_version: Some(version),
        ..Default::default()
    };
    let result = client
        .sign("env", p.try_into().unwrap(), Some(options))
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(result.kid.as_deref(), Some(kid.as_str()));
}
