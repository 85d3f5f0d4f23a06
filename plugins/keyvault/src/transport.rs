//! The HTTP layer under every SDK client and credential of one command.
//!
//! One `reqwest` client is shared by the Key Vault clients and the credentials so a command
//! reuses its TLS connection. It is built on the first request ([`LazyHttpClient`]): building
//! it loads and parses the platform's root certificates, which a command answered from the cache
//! (a warm `describe-key`) never needs. TLS roots: with reqwest 0.13's `rustls` feature and no extra roots,
//! reqwest builds a `rustls-platform-verifier` verifier, which on Linux loads roots through
//! `rustls-native-certs`; that honours `SSL_CERT_FILE`/`SSL_CERT_DIR` (instead of the system
//! store), which is how the test vault's CA reaches the plugin. The builder comes from
//! `notation_akv_http` (TLS crypto provider, `TCP_NODELAY`). Timeouts are set from the
//! command's deadline; the SDK's own retry policy is switched off because [`crate::deadline`]
//! retries with the deadline in view.
//!
//! [`ExchangeLogPolicy`] sits after the SDK's authorization policy, so it sees each real
//! exchange, including the unauthenticated first request that fetches the auth challenge.

use crate::log::{Exchange, RequestLog};
use azure_core::http::headers::{AUTHORIZATION, HeaderName};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, Context, HttpClient, Request, RetryOptions, Transport,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");

/// Counts and logs every HTTP exchange.
#[derive(Debug, Default)]
pub struct ExchangeLogPolicy {
    log: RequestLog,
    count: AtomicUsize,
}

impl ExchangeLogPolicy {
    pub fn new(log: RequestLog) -> Arc<ExchangeLogPolicy> {
        Arc::new(ExchangeLogPolicy {
            log,
            count: AtomicUsize::new(0),
        })
    }

    /// HTTP exchanges so far (vault and token endpoints).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Policy for ExchangeLogPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        self.count.fetch_add(1, Ordering::SeqCst);
        let started = Instant::now();
        let unauthenticated = request.headers().get_optional_str(&AUTHORIZATION).is_none();
        let method = request.method().to_string();
        let host = request.url().host_str().unwrap_or_default().to_string();
        let host = match request.url().port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let path = request.url().path().to_string();
        let result = next[0].send(ctx, request, &next[1..]).await;
        let (status, request_id) = match &result {
            Ok(response) => (
                Some(u16::from(response.status())),
                response
                    .headers()
                    .get_optional_str(&REQUEST_ID)
                    .map(str::to_string),
            ),
            Err(_) => (None, None),
        };
        self.log.exchange(&Exchange {
            method: &method,
            host: &host,
            path: &path,
            status,
            duration: started.elapsed(),
            request_id: request_id.as_deref(),
            unauthenticated,
        });
        result
    }
}

/// The command's reqwest client, built on first use with the command's timeouts.
#[derive(Debug)]
pub struct LazyHttpClient {
    timeout: Duration,
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl LazyHttpClient {
    pub fn new(timeout: Duration) -> LazyHttpClient {
        LazyHttpClient {
            timeout,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> azure_core::Result<&reqwest::Client> {
        self.client
            .get_or_init(|| {
                notation_akv_http::client_builder()
                    .connect_timeout(self.timeout.min(Duration::from_secs(10)))
                    .timeout(self.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Other,
                    format!("cannot build the HTTP client: {e}"),
                )
            })
    }
}

#[async_trait::async_trait]
impl HttpClient for LazyHttpClient {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        self.client()?.execute_request(request).await
    }
}

/// Builds the shared client options: our transport with deadline-derived timeouts (the client
/// itself is built on the first request), the exchange log, and no SDK retries.
pub fn client_options(timeout: Duration, policy: Arc<ExchangeLogPolicy>) -> ClientOptions {
    let mut options = ClientOptions {
        transport: Some(Transport::new(Arc::new(LazyHttpClient::new(timeout)))),
        retry: RetryOptions::none(),
        ..Default::default()
    };
    options.per_try_policies.push(policy);
    options
}
