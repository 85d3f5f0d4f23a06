//! Getting OCSP responses and CRLs: http and https with a deadline per fetch, size limits and
//! explicit proxies, plus `file://` reads. Every outcome is a [`Problem`] a user can act on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::config::{ProxyConfig, RevocationConfig};
use crate::result::Problem;

/// Why the HTTP client could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    #[error("invalid proxy URL {url}: {detail}")]
    Proxy { url: String, detail: String },
    #[error("invalid extra TLS root certificate: {0}")]
    TlsRoot(String),
}

/// Which schemes may be used, and whether the network may be used at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub http: bool,
    pub https: bool,
    pub file: bool,
    pub offline: bool,
}

pub(crate) struct Fetcher {
    /// Built on first network use: building it loads the platform's trust store, which costs
    /// more than a whole check answered from the cache or the bundle.
    client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    proxies: Vec<reqwest::Proxy>,
    roots: notation_akv_http::ExtraRoots,
    policy: Policy,
    requests: AtomicU64,
}

impl Fetcher {
    pub(crate) fn new(config: &RevocationConfig, offline: bool) -> Result<Self, FetchSetupError> {
        let roots = notation_akv_http::ExtraRoots::from_der(&config.extra_tls_roots)
            .map_err(FetchSetupError::TlsRoot)?;
        Ok(Self {
            client: std::sync::OnceLock::new(),
            proxies: proxies(&config.proxy)?,
            roots,
            policy: Policy {
                http: config.allow_http,
                https: config.allow_https,
                file: config.allow_file,
                offline,
            },
            requests: AtomicU64::new(0),
        })
    }

    fn client(&self, url: &str) -> Result<&reqwest::Client, Problem> {
        self.client
            .get_or_init(|| {
                let policy = self.policy;
                // Redirects obey the same scheme rules as the certificate's URLs.
                let redirects = reqwest::redirect::Policy::custom(move |attempt| {
                    let allowed = match attempt.url().scheme() {
                        "http" => policy.http,
                        "https" => policy.https,
                        _ => false,
                    };
                    if attempt.previous().len() > 3 {
                        attempt.error("more than 3 redirects")
                    } else if !allowed {
                        let message = format!("redirect to a disallowed URL {}", attempt.url());
                        attempt.error(message)
                    } else {
                        attempt.follow()
                    }
                });
                let mut builder = notation_akv_http::client_builder_with(&self.roots)
                    .no_proxy()
                    .redirect(redirects)
                    .user_agent(concat!(
                        "notation-akv-revocation/",
                        env!("CARGO_PKG_VERSION")
                    ));
                for p in &self.proxies {
                    builder = builder.proxy(p.clone());
                }
                builder.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Problem::Unreachable {
                url: url.to_string(),
                detail: format!("cannot build the HTTP client: {e}"),
            })
    }

    /// Network requests sent so far (http and https; file reads are not counted).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GET an http(s) URL or read a `file://` URL.
    pub(crate) async fn get(
        &self,
        url: &str,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, Problem> {
        let parsed = self.allowed(url)?;
        if parsed.scheme() == "file" {
            return read_file(&parsed, url, limit).await;
        }
        let request = self.client(url)?.get(parsed);
        self.send(url, request, timeout, limit).await
    }

    /// POST `body` to an http(s) URL.
    pub(crate) async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, Problem> {
        let parsed = self.allowed(url)?;
        if parsed.scheme() == "file" {
            return Err(Problem::SchemeNotAllowed {
                url: url.to_string(),
                scheme: "file".into(),
            });
        }
        let request = self
            .client(url)?
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(url, request, timeout, limit).await
    }

    fn allowed(&self, url: &str) -> Result<url::Url, Problem> {
        let parsed = url::Url::parse(url).map_err(|e| Problem::Malformed {
            what: "URL",
            detail: format!("{url}: {e}"),
        })?;
        let scheme = parsed.scheme();
        let ok = match scheme {
            "http" => self.policy.http,
            "https" => self.policy.https,
            "file" => self.policy.file,
            _ => false,
        };
        if !ok {
            return Err(Problem::SchemeNotAllowed {
                url: url.to_string(),
                scheme: scheme.to_string(),
            });
        }
        if self.policy.offline && scheme != "file" {
            return Err(Problem::Offline);
        }
        Ok(parsed)
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, Problem> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let timed_out = || Problem::Timeout {
            url: url.to_string(),
            after: timeout,
        };
        // One deadline over connect, headers and body: a trickling server cannot hold us longer.
        let exchange = async {
            let mut response = request
                .send()
                .await
                .map_err(|e| classify(url, timeout, &e))?;
            let status = response.status();
            if status != reqwest::StatusCode::OK {
                return Err(Problem::HttpStatus {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            let too_large = || Problem::TooLarge {
                url: url.to_string(),
                limit,
            };
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| classify(url, timeout, &e))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(timed_out()))
    }
}

fn classify(url: &str, timeout: Duration, e: &reqwest::Error) -> Problem {
    if e.is_timeout() {
        return Problem::Timeout {
            url: url.to_string(),
            after: timeout,
        };
    }
    // The innermost cause says what went wrong (connection refused, certificate unknown, …).
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    Problem::Unreachable {
        url: url.to_string(),
        detail,
    }
}

async fn read_file(parsed: &url::Url, url: &str, limit: usize) -> Result<Vec<u8>, Problem> {
    let path = parsed.to_file_path().map_err(|_| Problem::Malformed {
        what: "file URL",
        detail: url.to_string(),
    })?;
    let file_problem = |e: std::io::Error| Problem::File {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let meta = tokio::fs::metadata(&path).await.map_err(file_problem)?;
    if meta.len() > limit as u64 {
        return Err(Problem::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    tokio::fs::read(&path).await.map_err(file_problem)
}

fn proxies(config: &ProxyConfig) -> Result<Vec<reqwest::Proxy>, FetchSetupError> {
    let no_proxy = config
        .no_proxy
        .as_deref()
        .and_then(reqwest::NoProxy::from_string);
    let mut out = Vec::new();
    for (url, https) in [(&config.http, false), (&config.https, true)] {
        if let Some(url) = url {
            let made = if https {
                reqwest::Proxy::https(url.as_str())
            } else {
                reqwest::Proxy::http(url.as_str())
            };
            let proxy = made.map_err(|e| FetchSetupError::Proxy {
                url: redact(url),
                detail: e.to_string(),
            })?;
            out.push(proxy.no_proxy(no_proxy.clone()));
        }
    }
    Ok(out)
}

/// A proxy URL without its credentials, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(unparsable proxy URL)".into(),
    }
}
