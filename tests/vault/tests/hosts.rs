//! The proxy that resolves the vault's names: a tunnel to the vault for the names of a live
//! vault, `502 Bad Gateway` for any other host and once the vault is gone.

use akv_test_vault::{LOGIN_HOST, TestVault, VAULT_HOST, hosts};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `CONNECT authority` to the proxy and returns the status line of its answer.
fn connect(authority: &str) -> String {
    let proxy = hosts::proxy_url().unwrap();
    let mut stream = TcpStream::connect(proxy.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") && stream.read(&mut byte).unwrap() == 1 {
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().trim_end().to_string()
}

#[test]
fn only_the_names_of_live_vaults_are_tunnelled() {
    let vault = TestVault::start().unwrap();
    let port = vault.socket_addr().port();
    assert_eq!(
        vault.url(),
        format!("https://{VAULT_HOST}:{port}"),
        "the vault is named"
    );
    for name in [VAULT_HOST, LOGIN_HOST, &VAULT_HOST.to_ascii_uppercase()] {
        assert_eq!(
            connect(&format!("{name}:{port}")),
            "HTTP/1.1 200 Connection established",
            "{name}"
        );
    }
    assert_eq!(
        connect(&format!("other.vault.azure.net:{port}")),
        "HTTP/1.1 502 Bad Gateway"
    );
    drop(vault);
    assert_eq!(
        connect(&format!("{VAULT_HOST}:{port}")),
        "HTTP/1.1 502 Bad Gateway",
        "a stopped vault's name no longer resolves"
    );
}
