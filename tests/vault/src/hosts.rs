//! How clients reach the test vault under Azure host names.
//!
//! A vault is served on `127.0.0.1`, but the plugins must meet it as a real Key Vault: the Azure
//! SDK checks that the resource named in the vault's 401 challenge is the vault host's domain
//! (`https://vault.azure.net` for `*.vault.azure.net`), and the plugins keep that check on with
//! no way to turn it off. So every vault is named [`VAULT_HOST`] (or [`crate::VaultConfig::host`])
//! and its token endpoint [`LOGIN_HOST`], the default Entra authority; the server certificate
//! names both, and key ids read `https://notation-akv-test.vault.azure.net:<port>/keys/…`.
//!
//! Those names resolve to 127.0.0.1 through an HTTP `CONNECT` proxy on 127.0.0.1 (one per
//! process, [`proxy_url`]): a child process gets it as `HTTPS_PROXY`, with `NO_PROXY` for
//! loopback addresses ([`crate::TestVault::credential_env`]), so the plugins, notation and any
//! tool in between run unchanged, as any user, with no extra process. The proxy tunnels bytes
//! only: TLS runs end to end between the client and the vault, under the vault's name (SNI and
//! certificate check), exactly as it would to Azure. It knows only the names of the vaults alive
//! in this process; any other host gets `502 Bad Gateway`, as from a proxy that cannot resolve it.
//! In-process clients resolve the names with `reqwest::ClientBuilder::resolve` instead
//! ([`crate::TestVault::socket_addr`]).
//!
//! What the proxy does not exercise is the plugin's own name lookup; two tests do that through
//! `/etc/hosts` (`plugins/signer/tests/vault_host_names.rs` in a private mount namespace,
//! `tests/e2e/tests/release_chroot.rs` in a chroot).

use crate::VaultError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The host name every test vault is reached under by default.
pub const VAULT_HOST: &str = "notation-akv-test.vault.azure.net";
/// The token endpoint's host: Entra's public-cloud authority, as in production.
pub const LOGIN_HOST: &str = "login.microsoftonline.com";
/// `NO_PROXY` for the children: loopback servers (registries, responders, the managed-identity
/// endpoint) are reached directly.
pub const NO_PROXY: &str = "127.0.0.1,localhost,::1";

const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEADER: usize = 8 * 1024;

/// Names the proxy resolves, each with how many live vaults claim it.
static NAMES: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

/// Makes `names` resolve to 127.0.0.1 through the proxy for as long as the returned guard lives.
pub(crate) fn claim(names: &[String]) -> Result<NamesGuard, VaultError> {
    proxy_addr()?;
    let mut table = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let table = table.get_or_insert_with(HashMap::new);
    for name in names {
        *table.entry(name.to_ascii_lowercase()).or_default() += 1;
    }
    Ok(NamesGuard(names.to_vec()))
}

/// Keeps a vault's names resolvable.
#[derive(Debug)]
pub(crate) struct NamesGuard(Vec<String>);

impl Drop for NamesGuard {
    fn drop(&mut self) {
        let mut table = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(table) = table.as_mut() {
            for name in &self.0 {
                let name = name.to_ascii_lowercase();
                if let Some(n) = table.get_mut(&name) {
                    *n -= 1;
                    if *n == 0 {
                        table.remove(&name);
                    }
                }
            }
        }
    }
}

fn known(host: &str) -> bool {
    let table = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    table
        .as_ref()
        .is_some_and(|t| t.contains_key(&host.to_ascii_lowercase()))
}

/// `http://127.0.0.1:PORT`, the process's proxy (`HTTPS_PROXY` for child processes).
pub fn proxy_url() -> Result<String, VaultError> {
    Ok(format!("http://{}", proxy_addr()?))
}

fn proxy_addr() -> Result<SocketAddr, VaultError> {
    static PROXY: OnceLock<Result<SocketAddr, String>> = OnceLock::new();
    PROXY
        .get_or_init(|| start().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| VaultError::Io(std::io::Error::other(format!("the vault proxy: {e}"))))
}

fn start() -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("akv-test-vault-proxy")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("akv-test-vault-proxy".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(tunnel(stream));
                }
            })
        })?;
    Ok(addr)
}

/// One `CONNECT host:port`: to 127.0.0.1:port when `host` is a live vault's name, else 502.
async fn tunnel(mut client: TcpStream) {
    let _ = client.set_nodelay(true);
    let Ok(Some((head, rest))) = tokio::time::timeout(HEADER_TIMEOUT, read_head(&mut client))
        .await
        .map(Result::ok)
        .map(Option::flatten)
    else {
        return;
    };
    let target = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("CONNECT "))
        .and_then(|line| line.split(' ').next())
        .and_then(|authority| authority.rsplit_once(':'))
        .and_then(|(host, port)| Some((host.to_string(), port.parse::<u16>().ok()?)));
    let upstream = match &target {
        Some((host, port)) if known(host) => TcpStream::connect(("127.0.0.1", *port)).await.ok(),
        _ => None,
    };
    let Some(mut upstream) = upstream else {
        let body = match target {
            Some((host, _)) => format!("akv-test-vault proxy: cannot resolve {host}\n"),
            None => "akv-test-vault proxy: only CONNECT host:port is supported\n".into(),
        };
        let _ = client
            .write_all(
                format!(
                    "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        return;
    };
    let _ = upstream.set_nodelay(true);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// The request head (up to the blank line) and any bytes read past it.
async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok(Some((String::from_utf8_lossy(&buf).into_owned(), rest)));
        }
        if buf.len() > MAX_HEADER {
            return Ok(None);
        }
    }
}
