//! Skipping the auth-challenge round trip in every new process.
//!
//! The Key Vault SDK learns the token scope from a 401 challenge: each client's first request
//! goes out without a token (body withheld), the vault answers 401 with
//! `WWW-Authenticate: Bearer authorization=…, resource=…`, and the SDK retries with a token. A
//! plugin process lives for one command, so every command paid that extra round trip.
//!
//! [`PreAuthorizePolicy`] runs after the SDK's authorization policy. It remembers (in the public
//! disk cache, keyed by vault host) the scope of a challenge that passed the same host check the
//! SDK applies, and when a later process sends its first, token-less request to that vault, it
//! adds the token for the remembered scope and restores the withheld body, so the request
//! succeeds at once. If the vault still answers 401 (a changed scope), the SDK's own challenge
//! handling takes over as before. Tokens are never stored: only the scope URL is.

use crate::cache::{Cache, CacheKey};
use crate::log::RequestLog;
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Body, Context, Request, StatusCode};
use std::sync::{Arc, Mutex, OnceLock};

/// Adds a token for a remembered challenge scope to the SDK's token-less first request.
#[derive(Debug)]
pub struct PreAuthorizePolicy {
    vault: String,
    credential: Arc<dyn TokenCredential>,
    cache: OnceLock<Cache>,
    scope: Mutex<Option<String>>,
    log: RequestLog,
}

impl PreAuthorizePolicy {
    pub fn new(
        vault: String,
        credential: Arc<dyn TokenCredential>,
        log: RequestLog,
    ) -> Arc<PreAuthorizePolicy> {
        Arc::new(PreAuthorizePolicy {
            vault,
            credential,
            cache: OnceLock::new(),
            scope: Mutex::new(None),
            log,
        })
    }

    /// Where scopes persist between processes; without it the policy only observes.
    pub fn persist_in(&self, cache: Cache) {
        let _ = self.cache.set(cache);
    }

    fn key(&self) -> CacheKey {
        CacheKey {
            vault: self.vault.clone(),
            collection: "challenge".into(),
            name: "scope".into(),
            version: Some("1".into()),
            variant: String::new(),
        }
    }

    fn remembered(&self) -> Option<String> {
        if let Some(scope) = self.scope.lock().ok()?.clone() {
            return Some(scope);
        }
        let scope: String = self.cache.get()?.get(&self.key())?;
        // A scope read from disk is re-checked: the cache is not trusted blindly.
        let scope = Some(scope).filter(|s| self.acceptable(s))?;
        if let Ok(mut memory) = self.scope.lock() {
            *memory = Some(scope.clone());
        }
        Some(scope)
    }

    fn learn(&self, challenge: &str) {
        let Some(scope) = scope_of(challenge).filter(|s| self.acceptable(s)) else {
            return;
        };
        if let Ok(mut memory) = self.scope.lock() {
            *memory = Some(scope.clone());
        }
        if let Some(cache) = self.cache.get() {
            cache.put(&self.key(), &scope);
        }
    }

    /// The SDK's rule: the vault host must be a subdomain of the scope's host.
    fn acceptable(&self, scope: &str) -> bool {
        let Some(scope_host) = url::Url::parse(scope)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        else {
            return false;
        };
        let vault_host = self.vault.split(':').next().unwrap_or_default();
        vault_host.ends_with(&format!(".{scope_host}"))
    }
}

#[async_trait::async_trait]
impl Policy for PreAuthorizePolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let token_less = request.headers().get_optional_str(&AUTHORIZATION).is_none();
        if token_less && let Some(scope) = self.remembered() {
            match self.credential.get_token(&[scope.as_str()], None).await {
                Ok(token) => {
                    request
                        .insert_header(AUTHORIZATION, format!("Bearer {}", token.token.secret()));
                    // The SDK withheld the body until authenticated; it kept it in the context.
                    if let Some(body) = ctx.value::<Body>()
                        && let Some(len) = body.len()
                    {
                        request.set_body(body.clone());
                        request.insert_header(CONTENT_LENGTH, len.to_string());
                        request.insert_header(CONTENT_TYPE, "application/json");
                    }
                }
                // Let the SDK's challenge path report credential problems the usual way.
                Err(_) => self
                    .log
                    .note("no token for the remembered scope; using the vault's challenge"),
            }
        }
        let response = next[0].send(ctx, request, &next[1..]).await?;
        if token_less
            && response.status() == StatusCode::Unauthorized
            && let Some(challenge) = response.headers().get_optional_str(&WWW_AUTHENTICATE)
        {
            self.learn(challenge);
        }
        Ok(response)
    }
}

/// The scope a challenge names: `scope="…"` as is, or `resource="…"` + `/.default`.
fn scope_of(challenge: &str) -> Option<String> {
    let value = |name: &str| {
        let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
        let end = challenge[start..].find('"')? + start;
        Some(challenge[start..end].to_string())
    };
    value("scope").or_else(|| value("resource").map(|r| format!("{r}/.default")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct NoCredential;

    #[async_trait::async_trait]
    impl TokenCredential for NoCredential {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "none",
            ))
        }
    }

    fn policy(vault: &str) -> Arc<PreAuthorizePolicy> {
        PreAuthorizePolicy::new(vault.into(), Arc::new(NoCredential), RequestLog::disabled())
    }

    #[test]
    fn challenges_parse_like_the_sdk() {
        assert_eq!(
            scope_of(
                r#"Bearer authorization="https://login/t", resource="https://vault.azure.net""#
            ),
            Some("https://vault.azure.net/.default".into())
        );
        assert_eq!(
            scope_of(r#"Bearer scope="https://vault.azure.net/.default", authorization="x""#),
            Some("https://vault.azure.net/.default".into())
        );
        assert_eq!(scope_of("Bearer realm=\"x\""), None);
    }

    #[test]
    fn only_scopes_matching_the_vault_host_are_remembered() {
        let p = policy("v.vault.azure.net");
        p.learn(r#"Bearer resource="https://vault.azure.net""#);
        assert_eq!(
            p.remembered().as_deref(),
            Some("https://vault.azure.net/.default")
        );
        let evil = policy("v.vault.azure.net");
        evil.learn(r#"Bearer resource="https://attacker.example""#);
        assert_eq!(evil.remembered(), None);
        let local = policy("127.0.0.1:8443");
        local.learn(r#"Bearer resource="https://vault.azure.net""#);
        assert_eq!(local.remembered(), None, "the SDK's check applies");
    }

    #[test]
    fn scopes_persist_across_processes() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::settings::CacheSettings {
            enabled: true,
            versionless_ttl: std::time::Duration::from_secs(60),
            dir: Some(dir.path().join("c")),
        };
        let first = policy("v.vault.azure.net");
        first.persist_in(Cache::open(&settings, RequestLog::disabled()).unwrap());
        first.learn(r#"Bearer resource="https://vault.azure.net""#);
        let second = policy("v.vault.azure.net");
        second.persist_in(Cache::open(&settings, RequestLog::disabled()).unwrap());
        assert_eq!(
            second.remembered().as_deref(),
            Some("https://vault.azure.net/.default")
        );
        let other_vault = policy("w.vault.azure.net");
        other_vault.persist_in(Cache::open(&settings, RequestLog::disabled()).unwrap());
        assert_eq!(other_vault.remembered(), None);
    }
}
