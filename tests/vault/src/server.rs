//! `TestVault`: a TLS server on 127.0.0.1 running on its own thread and tokio runtime, so plain
//! `#[test]` functions and async tests alike can use it. Dropping it stops the server.

use crate::identity::{ClientAuth, Identity};
use crate::log::{CredentialKind, RequestRecord, RouteKind};
use crate::routes::{self, Incoming, Outcome, State};
use crate::store::{CertificateOptions, CertificateVersion, KeyVersion, Store, new_version};
use crate::{Fault, VaultConfig, VaultError, hosts, tls};
use akv_test_pki::{Chain, KeySpec, TestKey};
use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BODY: usize = 1 << 20;

/// A running test vault. See the crate docs.
pub struct TestVault {
    url: String,
    port: u16,
    state: Arc<Mutex<State>>,
    config: VaultConfig,
    federated_token_file: PathBuf,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _names: hosts::NamesGuard,
    // Last: dropped after the server stopped and the federated token file is gone.
    _ca_file: tls::CaFileGuard,
}

impl std::fmt::Debug for TestVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestVault")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestVault {
    /// Starts a vault with [`VaultConfig::default`] and no keys.
    pub fn start() -> Result<TestVault, VaultError> {
        TestVault::start_with(VaultConfig::default())
    }

    pub fn start_with(config: VaultConfig) -> Result<TestVault, VaultError> {
        let mut names = vec![config.host.clone(), hosts::LOGIN_HOST.to_string()];
        names.extend(config.extra_dns_names.iter().cloned());
        let tls_config = tls::server_config(&names, config.tls_key)?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let url = format!("https://{}:{port}", config.host);
        let authority = format!("https://{}:{port}", hosts::LOGIN_HOST);
        let names = hosts::claim(&names)?;

        let ttl = time::Duration::try_from(config.token_ttl).unwrap_or(time::Duration::HOUR);
        let mut identity = Identity::new(
            config.tenant_id.clone(),
            config.challenge_resource.clone(),
            authority,
            ttl,
            config.managed_identity_header.clone(),
        );
        identity.mi_client_ids = config.managed_identity_client_ids.clone();
        for (id, auth) in &config.clients {
            identity.register(id, auth.clone());
        }
        let state = Arc::new(Mutex::new(State {
            store: Store {
                base: url.clone(),
                ..Store::default()
            },
            identity,
            faults: Default::default(),
            log: Vec::new(),
        }));

        let ca_file = tls::hold_ca_file()?;
        // A per-vault federated token file, for WorkloadIdentityCredential's AZURE_FEDERATED_TOKEN_FILE.
        let ca_dir = tls::test_ca()?
            .file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let federated_token_file = ca_dir.join(format!("federated-token-{port}"));
        std::fs::write(&federated_token_file, crate::DEFAULT_FEDERATED_TOKEN)?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("akv-test-vault")
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let serve_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("akv-test-vault".into())
            .spawn(move || {
                runtime.block_on(serve(listener, tls_config, serve_state, shutdown_rx));
            })?;
        Ok(TestVault {
            url,
            port,
            state,
            config,
            federated_token_file,
            shutdown,
            thread: Some(thread),
            _names: names,
            _ca_file: ca_file,
        })
    }

    /// `https://notation-akv-test.vault.azure.net:PORT` (no trailing slash; the host is
    /// [`VaultConfig::host`]): the vault URL, reached through [`hosts`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `https://login.microsoftonline.com:PORT`: the Entra authority host (`AZURE_AUTHORITY_HOST`).
    pub fn authority_url(&self) -> String {
        format!("https://{}:{}", hosts::LOGIN_HOST, self.port)
    }

    /// `127.0.0.1:PORT`, where the vault listens: what an in-process client resolves the vault's
    /// names to (`reqwest::ClientBuilder::resolve`).
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// PEM of the process-wide TLS CA that issued the vault's server certificate.
    pub fn ca_pem(&self) -> &'static str {
        // The CA exists: start() created it.
        tls::test_ca().map(|ca| ca.pem.as_str()).unwrap_or_default()
    }

    /// The CA PEM file to give clients as `SSL_CERT_FILE`. It exists while any vault of this
    /// process is alive (a killed `akv-test-vault` binary leaves its directory behind).
    pub fn ca_file(&self) -> &'static Path {
        tls::test_ca()
            .map(|ca| ca.file.as_path())
            .unwrap_or(Path::new(""))
    }

    /// File holding [`crate::DEFAULT_FEDERATED_TOKEN`] (`AZURE_FEDERATED_TOKEN_FILE`).
    pub fn federated_token_file(&self) -> &Path {
        &self.federated_token_file
    }

    /// Entra token endpoint for the configured tenant.
    pub fn token_endpoint(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_url(),
            self.config.tenant_id
        )
    }

    /// The managed-identity endpoint (`IDENTITY_ENDPOINT`): on loopback, as on Azure hosts.
    pub fn managed_identity_endpoint(&self) -> String {
        format!("https://127.0.0.1:{}/msi/token", self.port)
    }

    /// Environment variables that make a child process's credential of this kind use this vault
    /// (the default clients of [`VaultConfig::default`]), plus `SSL_CERT_FILE` and the proxy
    /// that resolves the vault's names (`HTTPS_PROXY`, `NO_PROXY`; see [`hosts`]). Every harness
    /// that runs a plugin against the vault takes its environment from here.
    pub fn credential_env(&self, kind: CredentialKind) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "SSL_CERT_FILE".to_string(),
                self.ca_file().display().to_string(),
            ),
            (
                "HTTPS_PROXY".to_string(),
                hosts::proxy_url().unwrap_or_default(),
            ),
            ("NO_PROXY".to_string(), hosts::NO_PROXY.to_string()),
            ("AZURE_AUTHORITY_HOST".to_string(), self.authority_url()),
            ("AZURE_TENANT_ID".to_string(), self.config.tenant_id.clone()),
        ];
        let mut add = |k: &str, v: String| env.push((k.to_string(), v));
        match kind {
            CredentialKind::ClientSecret => {
                add("AZURE_CLIENT_ID", crate::DEFAULT_CLIENT_ID.into());
                add("AZURE_CLIENT_SECRET", crate::DEFAULT_CLIENT_SECRET.into());
            }
            CredentialKind::FederatedToken => {
                add("AZURE_CLIENT_ID", crate::DEFAULT_WORKLOAD_CLIENT_ID.into());
                add(
                    "AZURE_FEDERATED_TOKEN_FILE",
                    self.federated_token_file.display().to_string(),
                );
            }
            CredentialKind::ManagedIdentity => {
                add("IDENTITY_ENDPOINT", self.managed_identity_endpoint());
                add(
                    "IDENTITY_HEADER",
                    self.config.managed_identity_header.clone(),
                );
            }
            // Certificates are registered per test with `register_client`.
            CredentialKind::ClientCertificate => {}
        }
        env
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- identity

    /// Registers (or replaces) an Entra client.
    pub fn register_client(&self, client_id: &str, auth: ClientAuth) {
        self.state().identity.register(client_id, auth);
    }

    /// Every access token the vault's identity endpoints issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state().identity.issued()
    }

    /// Makes every token issued so far expired (requests with them get 401).
    pub fn expire_tokens(&self) {
        self.state().identity.expire_all();
    }

    // ---- keys

    /// Creates a new version of key `name` with a fresh key of `spec` (key `name` may not exist yet).
    pub fn create_key(&self, name: &str, spec: KeySpec) -> Result<KeyVersion, VaultError> {
        let key = TestKey::generate(spec)?;
        Ok(self.import_key(name, key))
    }

    /// Adds a new version of key `name` holding `key`.
    pub fn import_key(&self, name: &str, key: TestKey) -> KeyVersion {
        self.state().store.add_key(name, key, false, new_version())
    }

    /// A new latest version of an existing key, same spec, new key material.
    pub fn rotate_key(&self, name: &str) -> Result<KeyVersion, VaultError> {
        let spec = self
            .state()
            .store
            .key(name, None)
            .map(|e| e.key.spec())
            .map_err(|_| VaultError::NotFound(format!("key {name}")))?;
        self.create_key(name, spec)
    }

    pub fn set_key_enabled(
        &self,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<(), VaultError> {
        let mut st = self.state();
        let e = st
            .store
            .key_mut(name, version)
            .ok_or_else(|| VaultError::NotFound(format!("key {name}/{version}")))?;
        e.attributes.enabled = enabled;
        Ok(())
    }

    // ---- certificates and secrets

    /// Adds a certificate version (and key and secret versions of the same name and version).
    pub fn add_certificate(
        &self,
        name: &str,
        chain: &Chain,
        options: CertificateOptions,
    ) -> Result<CertificateVersion, VaultError> {
        Ok(self.state().store.add_certificate(name, chain, &options)?)
    }

    /// Enables or disables a certificate version and its secret (the key is left as it is).
    pub fn set_certificate_enabled(
        &self,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<(), VaultError> {
        let mut st = self.state();
        let c = st
            .store
            .certificate_mut(name, version)
            .ok_or_else(|| VaultError::NotFound(format!("certificate {name}/{version}")))?;
        c.attributes.enabled = enabled;
        if let Some(s) = st.store.secret_mut(name, version) {
            s.attributes.enabled = enabled;
        }
        Ok(())
    }

    /// Adds a plain secret version with any content type; returns its id.
    pub fn set_secret(&self, name: &str, value: &str, content_type: &str) -> String {
        self.state().store.add_secret(
            name,
            value.into(),
            content_type,
            None,
            new_version(),
            (None, None),
        )
    }

    // ---- faults and log

    pub fn inject(&self, fault: Fault) {
        self.state().faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().log.clone()
    }

    /// How many requests of this kind were answered (any status).
    pub fn count(&self, route: RouteKind) -> usize {
        self.state().log.iter().filter(|r| r.route == route).count()
    }

    pub fn clear_requests(&self) {
        self.state().log.clear();
    }
}

impl Drop for TestVault {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.federated_token_file);
    }
}

async fn serve(
    listener: std::net::TcpListener,
    tls_config: Arc<tokio_rustls::rustls::ServerConfig>,
    state: Arc<Mutex<State>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            a = listener.accept() => a,
        };
        let Ok((tcp, _)) = accepted else { continue };
        // Replies go out as several TLS records; with Nagle on, the second waits for the client's
        // delayed ACK (40 ms on Linux) and every exchange would look slow.
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { respond(&state, req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The service returns this error to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
struct DropConnection;

async fn respond(
    state: &Mutex<State>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<VaultBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Err(DropConnection),
    };
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_owned),
        authorization: header("authorization"),
        identity_header: header("x-identity-header"),
        body,
    };
    let (reply, truncate) = match routes::handle(state, incoming).await {
        Outcome::Drop => return Err(DropConnection),
        Outcome::Reply(r) => (r, false),
        Outcome::Truncate(r) => (r, true),
    };
    let len = reply.body.len() as u64;
    let mut data = Bytes::from(reply.body);
    if truncate {
        data.truncate(data.len() / 2);
    }
    let mut builder = hyper::Response::builder()
        .status(reply.status)
        .header("x-ms-request-id", new_version());
    for (k, v) in reply.headers {
        builder = builder.header(k, v);
    }
    builder
        .body(VaultBody {
            data: Some(data),
            fail: truncate,
            declared: len,
        })
        .map_err(|_| DropConnection)
}

/// A body that can stop short of its declared length (then errors, so hyper closes the connection).
struct VaultBody {
    data: Option<Bytes>,
    fail: bool,
    declared: u64,
}

impl Body for VaultBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(d) = self.data.take().filter(|d| !d.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if std::mem::take(&mut self.fail) {
            return Poll::Ready(Some(Err(std::io::Error::other(
                "body truncated on purpose",
            ))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(Bytes::is_empty) && !self.fail
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared)
    }
}
