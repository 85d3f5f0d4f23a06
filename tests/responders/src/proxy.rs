//! A forward proxy for plain http (absolute-form requests), counting what passes through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::FixtureError;
use crate::http::read_request;

/// A running proxy; stops when dropped.
pub struct ForwardProxy {
    addr: std::net::SocketAddr,
    forwarded: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ForwardProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardProxy")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ForwardProxy {
    pub async fn start() -> Result<Self, FixtureError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let forwarded = Arc::new(AtomicU64::new(0));
        let task = {
            let forwarded = forwarded.clone();
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    // Head and body are separate writes: no Nagle wait for a delayed ACK.
                    let _ = client.set_nodelay(true);
                    let forwarded = forwarded.clone();
                    tokio::spawn(async move {
                        let Some(req) = read_request(&mut client).await else {
                            return;
                        };
                        // Only absolute-form http targets are proxied (no CONNECT).
                        let Some(rest) = req.target.strip_prefix("http://") else {
                            let _ = client
                                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                            return;
                        };
                        let (host, path) = match rest.find('/') {
                            Some(i) => (&rest[..i], &rest[i..]),
                            None => (rest, "/"),
                        };
                        let Ok(mut upstream) = TcpStream::connect(host).await else {
                            let _ = client
                                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                            return;
                        };
                        let _ = upstream.set_nodelay(true);
                        forwarded.fetch_add(1, Ordering::SeqCst);
                        let mut head = format!("{} {path} HTTP/1.1\r\n", req.method);
                        for (k, v) in &req.headers {
                            if !k.eq_ignore_ascii_case("proxy-connection")
                                && !k.eq_ignore_ascii_case("connection")
                            {
                                head.push_str(&format!("{k}: {v}\r\n"));
                            }
                        }
                        head.push_str("Connection: close\r\n\r\n");
                        if upstream.write_all(head.as_bytes()).await.is_err()
                            || upstream.write_all(&req.body).await.is_err()
                        {
                            return;
                        }
                        let mut response = Vec::new();
                        if upstream.read_to_end(&mut response).await.is_ok() {
                            let _ = client.write_all(&response).await;
                            let _ = client.shutdown().await;
                        }
                    });
                }
            })
        };
        Ok(Self {
            addr,
            forwarded,
            task,
        })
    }

    /// `http://127.0.0.1:port` for `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded upstream.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }
}
