//! Prints revocation-check time cold (empty cache) and warm (a new checker on the same cache, as
//! a new plugin process would be), and the network requests made when warm (goal: 0), against
//! real responders on 127.0.0.1.
//!
//! `cargo run -p notation-akv-revocation --example bench [--release] [-- ROUNDS]`

use std::time::{Duration, Instant, SystemTime};

use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use notation_akv_revocation::{ProxyConfig, RevocationChecker, RevocationConfig, Verdict};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let responder = OcspResponder::start(&[], None).await?;
    let files = FileServer::start(None).await?;
    let root = TestCa::root("Bench Root")?;
    let inter = root.intermediate(
        "Bench Intermediate",
        &CertOptions::crl(files.url("/root.crl")),
    )?;
    let leaf = inter.issue("Bench Leaf", &CertOptions::ocsp(responder.url()))?;
    responder.add_ca(&inter)?;
    responder.set_status(&leaf.serial, Status::Good);
    files
        .files
        .put("/root.crl", CrlBuilder::default().sign(&root)?);
    let chain = vec![leaf.der.clone(), inter.der().to_vec(), root.der().to_vec()];

    let cache = std::env::temp_dir().join(format!("revocation-bench-{}", std::process::id()));
    let config = RevocationConfig {
        cache_dir: Some(cache.clone()),
        proxy: ProxyConfig::default(),
        ..RevocationConfig::default()
    };
    let served = || responder.requests() + files.server.requests();

    let mut cold = Vec::new();
    let mut cold_requests = 0;
    for _ in 0..rounds {
        let _ = std::fs::remove_dir_all(&cache);
        let started = Instant::now();
        let checker = RevocationChecker::new(config.clone())?;
        let result = checker.check(&chain, SystemTime::now()).await?;
        cold.push(started.elapsed());
        assert_eq!(result.verdict, Verdict::Ok, "{result}");
        cold_requests = checker.network_requests();
    }

    let before = served();
    let mut warm = Vec::new();
    let mut warm_requests = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let checker = RevocationChecker::new(config.clone())?;
        let result = checker.check(&chain, SystemTime::now()).await?;
        warm.push(started.elapsed());
        assert_eq!(result.verdict, Verdict::Ok, "{result}");
        warm_requests += checker.network_requests();
    }
    let served_warm = served() - before;
    let _ = std::fs::remove_dir_all(&cache);

    println!(
        "chain: leaf (OCSP) -> intermediate (CRL) -> root; {rounds} rounds, new checker each round"
    );
    println!(
        "cold: median {:>8.2} ms, {cold_requests} network requests per check",
        ms(median(&mut cold))
    );
    println!(
        "warm: median {:>8.2} ms, {warm_requests} network requests in {rounds} checks (responders served {served_warm})",
        ms(median(&mut warm))
    );
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
