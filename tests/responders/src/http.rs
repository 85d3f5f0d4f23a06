//! A small HTTP/1.1 server on 127.0.0.1 (plain or TLS), one request per connection, with faults
//! applied before the handler and counters of what clients sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::FixtureError;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Request target as sent (origin form, or absolute form through a proxy).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target, without query.
    pub fn path(&self) -> &str {
        let t = self.target.as_str();
        let t = t
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(t);
        t.split('?').next().unwrap_or(t)
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub location: Option<String>,
}

impl Reply {
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type: content_type.into(),
            body,
            location: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            content_type: "text/plain".into(),
            body: format!("status {status}\n").into_bytes(),
            location: None,
        }
    }
}

/// Faults applied to every request before the handler runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Wait this long before answering (a slow server).
    pub delay: Option<Duration>,
    /// Answer with this HTTP status instead of calling the handler.
    pub status: Option<u16>,
    /// Answer 200 with these bytes instead of calling the handler.
    pub body: Option<Vec<u8>>,
    /// The content type of `body` (`application/octet-stream` when `None`).
    pub content_type: Option<String>,
    /// Answer `302 Found` with this `Location` instead of calling the handler.
    pub redirect: Option<String>,
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

#[derive(Debug, Default)]
struct Counters {
    total: AtomicU64,
    gets: AtomicU64,
    posts: AtomicU64,
    by_path: Mutex<HashMap<String, u64>>,
}

/// A running server; stops when dropped.
pub struct Server {
    addr: std::net::SocketAddr,
    tls: bool,
    counters: Arc<Counters>,
    faults: Arc<Mutex<Faults>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Starts serving `handler` on a free port of 127.0.0.1; TLS when `tls` is given.
    pub async fn start(
        handler: Handler,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Result<Self, FixtureError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let faults = Arc::new(Mutex::new(Faults::default()));
        let acceptor = tls.clone().map(TlsAcceptor::from);
        let task = {
            let (counters, faults) = (counters.clone(), faults.clone());
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    // The head and the body are separate writes (and TLS records): with Nagle on,
                    // the body would wait for the client's delayed ACK (40 ms on Linux).
                    let _ = stream.set_nodelay(true);
                    let (handler, counters, faults) =
                        (handler.clone(), counters.clone(), faults.clone());
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            Some(a) => {
                                if let Ok(tls) = a.accept(stream).await {
                                    serve(tls, handler, counters, faults).await;
                                }
                            }
                            None => serve(stream, handler, counters, faults).await,
                        }
                    });
                }
            })
        };
        Ok(Self {
            addr,
            tls: tls.is_some(),
            counters,
            faults,
            task,
        })
    }

    /// `http(s)://127.0.0.1:port` + `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Requests received (complete request heads).
    pub fn requests(&self) -> u64 {
        self.counters.total.load(Ordering::SeqCst)
    }

    pub fn gets(&self) -> u64 {
        self.counters.gets.load(Ordering::SeqCst)
    }

    pub fn posts(&self) -> u64 {
        self.counters.posts.load(Ordering::SeqCst)
    }

    /// Requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> u64 {
        let map = self
            .counters
            .by_path
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.get(path).copied().unwrap_or(0)
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: Handler,
    counters: Arc<Counters>,
    faults: Arc<Mutex<Faults>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    counters.total.fetch_add(1, Ordering::SeqCst);
    match request.method.as_str() {
        "GET" => counters.gets.fetch_add(1, Ordering::SeqCst),
        "POST" => counters.posts.fetch_add(1, Ordering::SeqCst),
        _ => 0,
    };
    *counters
        .by_path
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(request.path().to_string())
        .or_default() += 1;
    let faults = faults.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    let reply = match (faults.status, faults.body, faults.redirect) {
        (Some(status), _, _) => Reply::status(status),
        (None, Some(body), _) => Reply::ok(
            faults
                .content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
            body,
        ),
        (None, None, Some(location)) => Reply {
            location: Some(location),
            ..Reply::status(302)
        },
        (None, None, None) => handler(&request),
    };
    let _ = write_reply(&mut stream, &reply).await;
}

/// Reads one request head and its Content-Length body; `None` on EOF or garbage.
pub(crate) async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

async fn write_reply<S: AsyncWrite + Unpin>(stream: &mut S, reply: &Reply) -> std::io::Result<()> {
    let location = reply
        .location
        .as_ref()
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{location}Connection: close\r\n\r\n",
        reply.status,
        if reply.status == 200 { "OK" } else { "Status" },
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&reply.body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// A URL on 127.0.0.1 where nothing listens (the port was bound, then released).
pub fn unreachable_url(path: &str) -> Result<String, FixtureError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}{path}"))
}

/// Serves files from an in-memory map (CRLs, certificates); unknown paths get 404.
#[derive(Debug, Clone, Default)]
pub struct Files {
    map: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Files {
    pub fn put(&self, path: &str, bytes: Vec<u8>) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string(), bytes);
    }

    pub fn remove(&self, path: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
    }

    pub fn handler(&self) -> Handler {
        let map = self.map.clone();
        Arc::new(move |req: &Request| {
            let map = map.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(req.path()) {
                Some(bytes) if req.method == "GET" => {
                    Reply::ok("application/pkix-crl", bytes.clone())
                }
                Some(_) => Reply::status(405),
                None => Reply::status(404),
            }
        })
    }
}

/// A running file server.
pub struct FileServer {
    pub files: Files,
    pub server: Server,
}

impl std::fmt::Debug for FileServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileServer")
            .field("server", &self.server)
            .finish()
    }
}

impl FileServer {
    pub async fn start(
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Result<Self, FixtureError> {
        let files = Files::default();
        let server = Server::start(files.handler(), tls).await?;
        Ok(Self { files, server })
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }
}
