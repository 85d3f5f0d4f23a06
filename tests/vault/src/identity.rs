//! Token endpoints for the real `azure_identity` 1.0 credentials, and bearer-token checks.
//!
//! Shapes, as read from azure_identity 1.0.0:
//! - Entra (`ClientSecretCredential`, `ClientCertificateCredential`, `ClientAssertionCredential`,
//!   `WorkloadIdentityCredential`): `POST {authority}/{tenant}/oauth2/v2.0/token`, form body with
//!   `grant_type=client_credentials`, `client_id`, `scope` and either `client_secret` or
//!   `client_assertion` + `client_assertion_type`. The authority comes from `AZURE_AUTHORITY_HOST`
//!   or `ClientOptions::cloud`; it must be https. No OpenID metadata or instance discovery is
//!   fetched. Answer: `{token_type, expires_in, ext_expires_in, access_token}`.
//! - Managed identity: only the App Service flavour can be pointed elsewhere (`IDENTITY_ENDPOINT`
//!   and `IDENTITY_HEADER`; IMDS is a fixed 169.254.169.254 URL):
//!   `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…[&client_id=…]`
//!   with header `x-identity-header`. Answer: `{access_token, expires_on: "<unix secs>", resource, token_type}`.
//!
//! Tokens are opaque random strings; only their owner, audience and expiry are kept.

use crate::log::{CredentialKind, TokenOwner};
use crate::reply::Reply;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a registered client proves itself.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret` must equal this.
    Secret(String),
    /// `client_assertion` must equal this federated token (the content of `AZURE_FEDERATED_TOKEN_FILE`).
    FederatedToken(String),
    /// `client_assertion` must be an RS256 JWT signed by this certificate's key (DER), with its `x5t`.
    Certificate(Vec<u8>),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets and federated tokens never reach logs.
        f.write_str(match self {
            ClientAuth::Secret(_) => "Secret(..)",
            ClientAuth::FederatedToken(_) => "FederatedToken(..)",
            ClientAuth::Certificate(_) => "Certificate(..)",
        })
    }
}

struct Grant {
    owner: TokenOwner,
    audience: String,
    expires: OffsetDateTime,
}

/// Why a bearer token was refused.
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
    WrongAudience(String),
}

pub(crate) struct Identity {
    pub tenant: String,
    pub token_ttl: Duration,
    pub resource: String,
    /// `https://login.microsoftonline.com:PORT`: the authority clients reach the token endpoint at.
    pub authority: String,
    pub mi_header: String,
    pub mi_client_ids: Vec<String>,
    clients: HashMap<String, ClientAuth>,
    tokens: HashMap<String, Grant>,
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

impl Identity {
    pub fn new(
        tenant: String,
        resource: String,
        authority: String,
        token_ttl: Duration,
        mi_header: String,
    ) -> Identity {
        Identity {
            tenant,
            token_ttl,
            resource,
            authority,
            mi_header,
            mi_client_ids: Vec::new(),
            clients: HashMap::new(),
            tokens: HashMap::new(),
        }
    }

    pub fn register(&mut self, client_id: &str, auth: ClientAuth) {
        self.clients.insert(client_id.into(), auth);
    }

    /// Every access token issued so far (for tests that prove none reaches a file).
    pub fn issued(&self) -> Vec<String> {
        self.tokens.keys().cloned().collect()
    }

    pub fn expire_all(&mut self) {
        let past = OffsetDateTime::now_utc() - Duration::seconds(1);
        for g in self.tokens.values_mut() {
            g.expires = past;
        }
    }

    fn issue(&mut self, owner: TokenOwner, audience: String) -> (String, OffsetDateTime) {
        let mut raw = [0u8; 32];
        // A failed RNG gives an all-zero token, which then collides and is caught by tests.
        let _ = aws_lc_rs::rand::fill(&mut raw);
        let token = format!("akv-test.{}", URL_SAFE_NO_PAD.encode(raw));
        let expires = OffsetDateTime::now_utc() + self.token_ttl;
        self.tokens.insert(
            token.clone(),
            Grant {
                owner,
                audience,
                expires,
            },
        );
        (token, expires)
    }

    /// Checks `Authorization: Bearer …` for a vault request.
    pub fn check(&self, authorization: Option<&str>) -> Result<TokenOwner, TokenProblem> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(TokenProblem::Missing)?;
        let grant = self.tokens.get(token.trim()).ok_or(TokenProblem::Unknown)?;
        if grant.expires <= OffsetDateTime::now_utc() {
            return Err(TokenProblem::Expired);
        }
        if grant.audience.trim_end_matches('/') != self.resource.trim_end_matches('/') {
            return Err(TokenProblem::WrongAudience(grant.audience.clone()));
        }
        Ok(grant.owner.clone())
    }

    /// `POST /{tenant}/oauth2/v2.0/token`. `endpoint` is this URL as clients see it (the JWT `aud`).
    pub fn entra_token(
        &mut self,
        tenant: &str,
        body: &[u8],
        endpoint: &str,
    ) -> (Reply, Option<TokenOwner>) {
        match self.entra_grant(tenant, body, endpoint) {
            Ok((owner, audience)) => {
                let (token, _) = self.issue(owner.clone(), audience);
                let ttl = self.token_ttl.whole_seconds();
                let reply = Reply::json(
                    200,
                    &json!({"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token}),
                );
                (reply, Some(owner))
            }
            Err(reply) => (reply, None),
        }
    }

    fn entra_grant(
        &self,
        tenant: &str,
        body: &[u8],
        endpoint: &str,
    ) -> Result<(TokenOwner, String), Reply> {
        if tenant != self.tenant {
            return Err(Reply::entra_error(
                400,
                "invalid_request",
                90002,
                &format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                ),
            ));
        }
        let f = form(body);
        if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return Err(Reply::entra_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            ));
        }
        let client_id = f.get("client_id").cloned().unwrap_or_default();
        let scope = f.get("scope").cloned().unwrap_or_default();
        let Some(audience) = scope.strip_suffix("/.default") else {
            return Err(Reply::entra_error(
                400,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        let Some(registered) = self.clients.get(&client_id) else {
            return Err(Reply::entra_error(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
                ),
            ));
        };
        let secret = f.get("client_secret");
        let assertion = f
            .get("client_assertion")
            .filter(|_| f.get("client_assertion_type").map(String::as_str) == Some(ASSERTION_TYPE));
        let kind = match (registered, secret, assertion) {
            (ClientAuth::Secret(want), Some(got), _) if want == got => CredentialKind::ClientSecret,
            (ClientAuth::Secret(_), Some(_), _) => {
                return Err(Reply::entra_error(
                    401,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                    ),
                ));
            }
            (ClientAuth::FederatedToken(want), _, Some(got)) if want == got => {
                CredentialKind::FederatedToken
            }
            (ClientAuth::FederatedToken(_), _, Some(_)) => {
                return Err(Reply::entra_error(
                    400,
                    "invalid_request",
                    70021,
                    "No matching federated identity record found for presented assertion.",
                ));
            }
            (ClientAuth::Certificate(cert), _, Some(jwt)) => {
                check_certificate_assertion(jwt, cert, &client_id, endpoint)?;
                CredentialKind::ClientCertificate
            }
            _ => {
                return Err(Reply::entra_error(
                    401,
                    "invalid_client",
                    7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                ));
            }
        };
        Ok((TokenOwner { kind, client_id }, audience.to_string()))
    }

    /// `GET /msi/token?api-version=2019-08-01&resource=…` (App Service managed identity).
    pub fn managed_identity_token(
        &mut self,
        query: Option<&str>,
        header: Option<&str>,
    ) -> (Reply, Option<TokenOwner>) {
        if header != Some(self.mi_header.as_str()) {
            let reply = Reply::json(
                401,
                &json!({"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER is missing or invalid."}),
            );
            return (reply, None);
        }
        let q = form(query.unwrap_or_default().as_bytes());
        let (Some(_), Some(resource)) = (q.get("api-version"), q.get("resource")) else {
            let reply = Reply::json(
                400,
                &json!({"error": "invalid_request", "error_description": "api-version and resource are required"}),
            );
            return (reply, None);
        };
        let client_id = match q.get("client_id") {
            None => "system".to_string(),
            Some(id) if self.mi_client_ids.contains(id) => id.clone(),
            Some(_) => {
                let reply = Reply::json(
                    400,
                    &json!({"error": "invalid_request", "error_description": "Identity not found"}),
                );
                return (reply, None);
            }
        };
        let owner = TokenOwner {
            kind: CredentialKind::ManagedIdentity,
            client_id,
        };
        let (token, expires) = self.issue(owner.clone(), resource.clone());
        let body: Value = json!({
            "access_token": token,
            "expires_on": expires.unix_timestamp().to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": owner.client_id,
        });
        (Reply::json(200, &body), Some(owner))
    }
}

/// Verifies a `ClientCertificateCredential` assertion: RS256 JWT, `x5t` of the registered
/// certificate, signature by its key, `aud` = the token endpoint, `iss` = `sub` = client id, unexpired.
fn check_certificate_assertion(
    jwt: &str,
    cert_der: &[u8],
    client_id: &str,
    endpoint: &str,
) -> Result<(), Reply> {
    let invalid = |what: &str| {
        Reply::entra_error(
            401,
            "invalid_client",
            700027,
            &format!("Client assertion failed signature validation. {what}"),
        )
    };
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("The assertion is not a compact JWS."));
    };
    let decode_json = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims), Ok(sig)) =
        (decode_json(h), decode_json(p), URL_SAFE_NO_PAD.decode(s))
    else {
        return Err(invalid("The assertion could not be decoded."));
    };
    // azure_identity 1.0 sends x5t as padded standard base64; RFC 7515 says base64url. Take both.
    let thumbprint = crate::crypto::sha1(cert_der);
    let x5t = header["x5t"].as_str().unwrap_or_default();
    let x5t_matches = URL_SAFE_NO_PAD.decode(x5t.trim_end_matches('=')).ok()
        == Some(thumbprint.clone())
        || base64::engine::general_purpose::STANDARD.decode(x5t).ok() == Some(thumbprint);
    if header["alg"] != "RS256" || !x5t_matches {
        return Err(invalid(
            "The certificate with the presented thumbprint is not registered on the application.",
        ));
    }
    let public_key = crate::crypto::rsa_public_key_of(cert_der)
        .ok_or_else(|| invalid("The registered certificate has no RSA key."))?;
    let signed = format!("{h}.{p}");
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(signed.as_bytes(), &sig)
    .map_err(|_| invalid("The signature does not verify."))?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp_ok = claims["exp"].as_i64().is_some_and(|exp| exp > now);
    if claims["aud"] != endpoint
        || claims["iss"] != client_id
        || claims["sub"] != client_id
        || !exp_ok
    {
        return Err(Reply::entra_error(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range, or its audience, issuer or subject is wrong.",
        ));
    }
    Ok(())
}
