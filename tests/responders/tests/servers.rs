//! The servers themselves, spoken to with raw HTTP/1.1 so they do not depend on any client.

use std::time::{Duration, Instant};

use akv_test_responders::http::{Faults, FileServer, unreachable_url};
use akv_test_responders::proxy::ForwardProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn file_server_serves_counts_and_injects_faults() {
    let files = FileServer::start(None).await.unwrap();
    files.files.put("/a.crl", b"CRL".to_vec());
    let addr = files.server.addr();
    let ok = raw(addr, "GET /a.crl HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        ok.starts_with("HTTP/1.1 200 OK\r\n") && ok.ends_with("\r\n\r\nCRL"),
        "{ok}"
    );
    let missing = raw(addr, "GET /b.crl HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert_eq!(files.server.requests(), 2);
    assert_eq!(files.server.requests_to("/a.crl"), 1);
    assert_eq!(files.server.gets(), 2);

    files.server.set_faults(Faults {
        status: Some(503),
        ..Faults::default()
    });
    assert!(
        raw(addr, "GET /a.crl HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 503")
    );

    files.server.set_faults(Faults {
        delay: Some(Duration::from_millis(300)),
        ..Faults::default()
    });
    let started = Instant::now();
    raw(addr, "GET /a.crl HTTP/1.1\r\n\r\n").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn unreachable_url_refuses_connections() {
    let url = unreachable_url("/x").unwrap();
    let addr = url.trim_start_matches("http://").trim_end_matches("/x");
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn proxy_forwards_absolute_form_requests() {
    let files = FileServer::start(None).await.unwrap();
    files.files.put("/a.crl", b"CRL".to_vec());
    let proxy = ForwardProxy::start().await.unwrap();
    let proxy_addr = proxy.url().trim_start_matches("http://").parse().unwrap();
    let request = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", files.url("/a.crl"));
    let reply = raw(proxy_addr, &request).await;
    assert!(reply.ends_with("CRL"), "{reply}");
    assert_eq!(proxy.forwarded(), 1);
    assert_eq!(files.server.requests_to("/a.crl"), 1);
}
