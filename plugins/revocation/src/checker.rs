//! The engine: for each non-root certificate, the offline bundle, then OCSP (cache, responders),
//! then CRLs (cache, distribution points), with notation's method order and verdict.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::bundle::{Bundle, BundleError, Fetched, FetchedKind};
use crate::cache::{self, Cache, CacheError, Kind};
use crate::config::{BundleMode, CertIdHash, RevocationConfig};
use crate::crl::{self, Crl, CrlStatus};
use crate::extensions;
use crate::fetch::{FetchSetupError, Fetcher};
use crate::ocsp::{self, OcspStatus, Rules, Signer};
use crate::result::{CertResult, CertStatus, ChainResult, Problem, Source};

/// Why a [`RevocationChecker`] could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Fetch(#[from] FetchSetupError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// Why a chain could not be checked at all (as opposed to a status being unknown).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("the certificate chain is empty")]
    Empty,
    #[error("certificate #{index} is not valid DER X.509: {detail}")]
    Certificate { index: usize, detail: String },
    #[error("certificate #{index} is not issued by certificate #{}: the chain must run leaf to root", index + 1)]
    Order { index: usize },
}

/// Checks the revocation status of certificate chains. Create one per process (it holds the HTTP
/// connection pool, the cache handle and the parsed bundle) and call [`RevocationChecker::check`]
/// once per signature.
#[derive(Clone)]
pub struct RevocationChecker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RevocationChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationChecker")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: RevocationConfig,
    fetcher: Fetcher,
    cache: Option<Cache>,
    bundle: Option<Bundle>,
    /// Set by [`RevocationChecker::collect`]: every object fetched and verified is kept here.
    recorder: Option<Mutex<Vec<Fetched>>>,
}

/// A definitive answer, or the problems met while looking for one.
enum Outcome {
    Definitive(CertStatus, Source),
    Unknown(Vec<(Source, Problem)>),
}

impl RevocationChecker {
    /// Opens the cache (creating it owner-only) and reads the offline bundle.
    pub fn new(config: RevocationConfig) -> Result<Self, SetupError> {
        Self::build(config, false)
    }

    fn build(config: RevocationConfig, record: bool) -> Result<Self, SetupError> {
        let offline = config
            .bundle
            .as_ref()
            .is_some_and(|b| b.mode == BundleMode::Only);
        let fetcher = Fetcher::new(&config, offline)?;
        let cache = config.cache_dir.as_deref().map(Cache::open).transpose()?;
        let bundle = config
            .bundle
            .as_ref()
            .map(|b| Bundle::load(&b.dir))
            .transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                fetcher,
                cache,
                bundle,
                recorder: record.then(|| Mutex::new(Vec::new())),
            }),
        })
    }

    /// A checker that gathers material for an offline bundle: it always asks the network
    /// (no cache, no bundle) and keeps every OCSP response and CRL that passed verification.
    /// Use it with [`RevocationChecker::collect`].
    pub fn collector(config: RevocationConfig) -> Result<Self, SetupError> {
        Self::build(
            RevocationConfig {
                cache_dir: None,
                bundle: None,
                ..config
            },
            true,
        )
    }

    /// For every non-root certificate of `chain`, asks each OCSP responder it names *and* each
    /// CRL distribution point (with its delta), through the same fetch and verification code as
    /// [`RevocationChecker::check`], and returns what each source answered together with every
    /// verified object fetched so far by this checker (deduplicated). Only a checker made by
    /// [`RevocationChecker::collector`] keeps objects.
    pub async fn collect(
        &self,
        chain: &[impl AsRef<[u8]>],
        now: SystemTime,
    ) -> Result<Collected, ChainError> {
        let certs = parse_chain(chain)?;
        let mut answers = Vec::new();
        for (index, pair) in certs.windows(2).enumerate() {
            let (cert, issuer) = (&pair[0], &pair[1]);
            let mut sources = Vec::new();
            let ocsp_urls = extensions::ocsp_urls(cert);
            if !ocsp_urls.is_empty() {
                sources.push(answer(self.inner.ocsp(cert, issuer, &ocsp_urls, now).await));
            }
            let crl_urls = extensions::crl_urls(cert);
            if !crl_urls.is_empty() {
                sources.push(answer(self.inner.crl(cert, issuer, &crl_urls, now).await));
            }
            answers.push(CollectedCert {
                index,
                subject: extensions::subject(cert),
                serial: extensions::serial_hex(cert.tbs_certificate.serial_number.as_bytes()),
                sources,
            });
        }
        let mut objects: Vec<Fetched> = self
            .inner
            .recorder
            .as_ref()
            .map(|r| r.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        objects.retain(|o| seen.insert(o.der.clone()));
        Ok(Collected {
            certificates: answers,
            objects,
        })
    }

    /// Checks every non-root certificate of `chain` (DER, leaf first, root last) against its
    /// issuer, concurrently, at time `now`.
    pub async fn check(
        &self,
        chain: &[impl AsRef<[u8]>],
        now: SystemTime,
    ) -> Result<ChainResult, ChainError> {
        let certs = parse_chain(chain)?;
        let mut tasks = tokio::task::JoinSet::new();
        for (index, pair) in certs.windows(2).enumerate() {
            let inner = self.inner.clone();
            let (cert, issuer) = (pair[0].clone(), pair[1].clone());
            tasks.spawn(async move { inner.check_cert(index, &cert, &issuer, now).await });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                // A panicking check must not pass silently: re-raise it.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled only when the runtime shuts down; nothing is left to report.
                Err(_) => {}
            }
        }
        results.sort_by_key(|r| r.index);
        Ok(ChainResult::new(results))
    }

    /// http(s) requests sent by this checker so far (for benchmarks and tests).
    pub fn network_requests(&self) -> u64 {
        self.inner.fetcher.requests()
    }

    /// Bundle files that could not be used, with the reason.
    pub fn bundle_skipped(&self) -> &[(PathBuf, String)] {
        self.inner
            .bundle
            .as_ref()
            .map(|b| b.skipped.as_slice())
            .unwrap_or_default()
    }
}

impl Inner {
    async fn check_cert(
        &self,
        index: usize,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> CertResult {
        let (status, source) = self.status(cert, issuer, now).await;
        CertResult {
            index,
            subject: extensions::subject(cert),
            serial: extensions::serial_hex(cert.tbs_certificate.serial_number.as_bytes()),
            status,
            source,
        }
    }

    async fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> (CertStatus, Option<Source>) {
        let mut problems = Vec::new();
        if let Some(bundle) = &self.bundle {
            match self.bundle_answer(bundle, cert, issuer, now) {
                Outcome::Definitive(status, source) => return (status, Some(source)),
                Outcome::Unknown(p) => problems.extend(p),
            }
        }
        let ocsp_urls = extensions::ocsp_urls(cert);
        let crl_urls = extensions::crl_urls(cert);
        if !ocsp_urls.is_empty() {
            match self.ocsp(cert, issuer, &ocsp_urls, now).await {
                Outcome::Definitive(status, source) => return (status, Some(source)),
                Outcome::Unknown(p) => problems.extend(p),
            }
        }
        if !crl_urls.is_empty() {
            match self.crl(cert, issuer, &crl_urls, now).await {
                Outcome::Definitive(status, source) => return (status, Some(source)),
                Outcome::Unknown(p) => problems.extend(p),
            }
        }
        if problems.is_empty() {
            (CertStatus::NonRevokable, None)
        } else {
            (CertStatus::Unknown { problems }, None)
        }
    }

    fn rules(&self, now: SystemTime) -> Rules<'static> {
        Rules {
            now,
            skew: self.config.max_clock_skew,
            max_age: self.config.ocsp_max_age,
            nonce: None,
        }
    }

    fn bundle_answer(
        &self,
        bundle: &Bundle,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Outcome {
        let mut problems = Vec::new();
        let source = |path: &std::path::Path| Source::Bundle {
            path: path.to_path_buf(),
        };
        for (path, der) in bundle.ocsp_for(cert) {
            match ocsp::verify(der, cert, issuer, &self.rules(now)) {
                Ok(v) => {
                    return Outcome::Definitive(
                        ocsp_status(v.status, self.config.signing_time),
                        source(path),
                    );
                }
                // The serial matched a certificate of another issuer.
                Err(Problem::CertIdMismatch) => {}
                Err(p) => problems.push((source(path), p)),
            }
        }
        let skew = self.config.max_clock_skew;
        let mut base: Option<(&std::path::Path, &Crl)> = None;
        let mut deltas = Vec::new();
        for (path, crl) in bundle.crls_for(issuer) {
            if let Err(p) = crl.validate(issuer, now, skew) {
                problems.push((source(path), p));
            } else if crl.is_delta() {
                deltas.push((path, crl));
            } else if base.is_none_or(|(_, b)| newer(crl, b)) {
                base = Some((path, crl));
            }
        }
        let Some((base_path, base)) = base else {
            return Outcome::Unknown(problems);
        };
        let delta = deltas
            .into_iter()
            .filter(|(_, d)| d.validate_delta_against(base).is_ok())
            .reduce(|a, b| if newer(b.1, a.1) { b } else { a });
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        match crl::lookup(serial, base, delta.map(|d| d.1), self.config.signing_time) {
            Ok(status) => Outcome::Definitive(crl_status(status), source(base_path)),
            Err(p) => {
                problems.push((source(base_path), p));
                Outcome::Unknown(problems)
            }
        }
    }

    async fn ocsp(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        urls: &[String],
        now: SystemTime,
    ) -> Outcome {
        let hash = self.config.cert_id_hash;
        let key = ocsp_cache_key(cert, issuer, hash);
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && let Some(entry) = cache.get(Kind::Ocsp, key)
            && let Ok(v) = ocsp::verify(&entry.der, cert, issuer, &self.rules(now))
            && self
                .responder_acceptable(&v.signer, issuer, now)
                .await
                .is_ok()
        {
            let origin = Box::new(Source::Ocsp { url: entry.origin });
            return Outcome::Definitive(
                ocsp_status(v.status, self.config.signing_time),
                Source::Cache { origin },
            );
        }

        let mut problems = Vec::new();
        let request = match ocsp::request(cert, issuer, hash, self.config.ocsp_nonce) {
            Ok(r) => r,
            Err(p) => {
                let first = Source::Ocsp {
                    url: urls.first().cloned().unwrap_or_default(),
                };
                return Outcome::Unknown(vec![(first, p)]);
            }
        };
        let rules = Rules {
            nonce: request.nonce.as_ref(),
            ..self.rules(now)
        };
        for url in urls {
            let source = Source::Ocsp { url: url.clone() };
            let (timeout, limit) = (
                self.config.ocsp_timeout,
                self.config.max_ocsp_response_bytes,
            );
            let body = match ocsp::get_url(url, &request.der, self.config.ocsp_get_limit) {
                Some(get) => self.fetcher.get(&get, timeout, limit).await,
                None => {
                    self.fetcher
                        .post(
                            url,
                            ocsp::REQUEST_CONTENT_TYPE,
                            request.der.clone(),
                            timeout,
                            limit,
                        )
                        .await
                }
            };
            // Report the responder URL, not the long GET URL, in problems.
            let body = body.map_err(|p| with_url(p, url));
            let verified =
                body.and_then(|b| ocsp::verify(&b, cert, issuer, &rules).map(|v| (v, b)));
            match verified {
                Ok((v, der)) => {
                    if let Err(p) = self.responder_acceptable(&v.signer, issuer, now).await {
                        problems.push((source, p));
                        continue;
                    }
                    if let (Some(cache), Some(key)) = (&self.cache, &key) {
                        let _ = cache.put(Kind::Ocsp, key, url, &der);
                    }
                    self.record(FetchedKind::Ocsp, url, der, cert, issuer, now);
                    return Outcome::Definitive(
                        ocsp_status(v.status, self.config.signing_time),
                        source,
                    );
                }
                // A definitive "unknown" from a responder: as notation, stop and fall back to CRL.
                Err(p @ Problem::OcspStatusUnknown) => {
                    problems.push((source, p));
                    break;
                }
                Err(p) => problems.push((source, p)),
            }
        }
        Outcome::Unknown(problems)
    }

    /// A delegated responder without id-pkix-ocsp-nocheck must itself not be revoked (RFC 6960
    /// §4.2.2.2.1). Its status is taken from its CRL distribution points only (no OCSP, so no
    /// loop); a responder certificate with no CDP is accepted, as notation accepts every responder.
    async fn responder_acceptable(
        &self,
        signer: &Signer,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Result<(), Problem> {
        let Signer::Delegated {
            cert,
            nocheck: false,
        } = signer
        else {
            return Ok(());
        };
        let urls = extensions::crl_urls(cert);
        if urls.is_empty() {
            return Ok(());
        }
        match Box::pin(self.crl(cert, issuer, &urls, now)).await {
            Outcome::Definitive(CertStatus::Good, _) => Ok(()),
            Outcome::Definitive(_, source) => Err(Problem::Responder(format!(
                "responder certificate \"{}\" is revoked ({source})",
                cert.tbs_certificate.subject
            ))),
            Outcome::Unknown(problems) => Err(Problem::Responder(format!(
                "revocation status of responder certificate \"{}\" is unknown: {}",
                cert.tbs_certificate.subject,
                problems
                    .iter()
                    .map(|(s, p)| format!("{s}: {p}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// notation's CRL rule: every distribution point is consulted; any failure makes the status
    /// unknown; any revocation wins.
    async fn crl(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        urls: &[String],
        now: SystemTime,
    ) -> Outcome {
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        let mut good_source = None;
        for url in urls {
            let fail = |p| Outcome::Unknown(vec![(crl_source(url, None), p)]);
            let (base, base_cached) = match self.load_crl(url, issuer, now).await {
                Ok(b) => b,
                Err(p) => return fail(p),
            };
            if base.is_delta() {
                return fail(Problem::Delta(
                    "the distribution point serves a delta CRL, not a base CRL".into(),
                ));
            }
            // FreshestCRL in the base CRL, else in the certificate (notation refuses the latter).
            let delta_urls =
                match extensions::freshest_urls(base.list.tbs_cert_list.crl_extensions.as_deref())
                    .and_then(|u| {
                        if u.is_empty() {
                            extensions::cert_freshest_urls(cert)
                        } else {
                            Ok(u)
                        }
                    }) {
                    Ok(u) => u,
                    Err(e) => {
                        return fail(Problem::Malformed {
                            what: "CRL",
                            detail: e,
                        });
                    }
                };
            let mut delta = None;
            let mut delta_problem = None;
            for delta_url in &delta_urls {
                match self.load_crl(delta_url, issuer, now).await {
                    Ok((d, cached)) => match d.validate_delta_against(&base) {
                        Ok(()) => {
                            delta = Some((delta_url.clone(), d, cached));
                            break;
                        }
                        Err(p) => delta_problem = Some((delta_url, p)),
                    },
                    Err(p) => delta_problem = Some((delta_url, p)),
                }
            }
            if delta.is_none()
                && let Some((delta_url, p)) = delta_problem
            {
                return Outcome::Unknown(vec![(crl_source(url, Some(delta_url)), p)]);
            }
            let delta_url = delta.as_ref().map(|(u, _, _)| u.as_str());
            let all_cached = base_cached && delta.as_ref().is_none_or(|(_, _, c)| *c);
            let mut source = crl_source(url, delta_url);
            if all_cached {
                source = Source::Cache {
                    origin: Box::new(source),
                };
            }
            match crl::lookup(
                serial,
                &base,
                delta.as_ref().map(|(_, d, _)| d),
                self.config.signing_time,
            ) {
                Ok(CrlStatus::Good) => {
                    good_source.get_or_insert(source);
                }
                Ok(revoked) => return Outcome::Definitive(crl_status(revoked), source),
                Err(p) => return Outcome::Unknown(vec![(source, p)]),
            }
        }
        match good_source {
            Some(source) => Outcome::Definitive(CertStatus::Good, source),
            None => Outcome::Unknown(Vec::new()),
        }
    }

    /// A validated CRL from the cache or `url`, and whether it came from the cache.
    async fn load_crl(
        &self,
        url: &str,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Result<(Crl, bool), Problem> {
        let skew = self.config.max_clock_skew;
        let key = url.as_bytes();
        if let Some(cache) = &self.cache
            && let Some(entry) = cache.get(Kind::Crl, key)
            && let Ok(crl) = Crl::parse(&entry.der)
            && crl.validate(issuer, now, skew).is_ok()
        {
            return Ok((crl, true));
        }
        let bytes = self
            .fetcher
            .get(url, self.config.crl_timeout, self.config.max_crl_bytes)
            .await?;
        let crl = Crl::parse(&bytes)?;
        crl.validate(issuer, now, skew)?;
        if let Some(cache) = &self.cache
            && !url.starts_with("file:")
        {
            let _ = cache.put(Kind::Crl, key, url, &crl.der);
        }
        let kind = if crl.is_delta() {
            FetchedKind::DeltaCrl
        } else {
            FetchedKind::Crl
        };
        self.record(kind, url, crl.der.clone(), issuer, issuer, now);
        Ok((crl, false))
    }

    /// Keeps a verified object when collecting for a bundle. `cert` is the certificate an OCSP
    /// response answers for (for CRLs, the issuer).
    fn record(
        &self,
        kind: FetchedKind,
        url: &str,
        der: Vec<u8>,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        let fetched = Fetched::describe(kind, url, der, cert, issuer, &self.rules(now));
        recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fetched);
    }
}

/// Parses a DER chain and checks that it runs leaf to root.
fn parse_chain(chain: &[impl AsRef<[u8]>]) -> Result<Vec<Certificate>, ChainError> {
    if chain.is_empty() {
        return Err(ChainError::Empty);
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der.as_ref()).map_err(|e| ChainError::Certificate {
                index,
                detail: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (index, pair) in certs.windows(2).enumerate() {
        if pair[0].tbs_certificate.issuer != pair[1].tbs_certificate.subject {
            return Err(ChainError::Order { index });
        }
    }
    Ok(certs)
}

/// What [`RevocationChecker::collect`] found for one chain.
#[derive(Debug, Clone)]
pub struct Collected {
    /// One entry per non-root certificate, leaf first.
    pub certificates: Vec<CollectedCert>,
    /// Every verified OCSP response and CRL fetched by the collector so far.
    pub objects: Vec<Fetched>,
}

/// The answers of each source a certificate names (OCSP, then CRL), as the engine judged them.
#[derive(Debug, Clone)]
pub struct CollectedCert {
    pub index: usize,
    pub subject: String,
    pub serial: String,
    /// One answer per kind of source the certificate names (OCSP, then CRL).
    pub sources: Vec<SourceAnswer>,
}

/// One source's answer: `Ok((status, source))` when definitive, else every problem met.
pub type SourceAnswer = Result<(CertStatus, Source), Vec<(Source, Problem)>>;

fn answer(outcome: Outcome) -> SourceAnswer {
    match outcome {
        Outcome::Definitive(status, source) => Ok((status, source)),
        Outcome::Unknown(problems) => Err(problems),
    }
}

fn crl_source(url: &str, delta: Option<&str>) -> Source {
    Source::Crl {
        url: url.to_string(),
        delta_url: delta.map(str::to_string),
    }
}

/// True when `a` has a greater cRLNumber than `b` (a CRL without a number counts as oldest).
fn newer(a: &Crl, b: &Crl) -> bool {
    match (&a.number, &b.number) {
        (Some(x), Some(y)) => crl::cmp_uint(x, y) == std::cmp::Ordering::Greater,
        (Some(_), None) => true,
        _ => false,
    }
}

fn ocsp_cache_key(cert: &Certificate, issuer: &Certificate, hash: CertIdHash) -> Option<Vec<u8>> {
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()?;
    let name = issuer.tbs_certificate.subject.to_der().ok()?;
    let hash = match hash {
        CertIdHash::Sha1 => "sha1",
        CertIdHash::Sha256 => "sha256",
    };
    Some(cache::ocsp_key(
        &spki,
        &name,
        extensions::normalized_uint(cert.tbs_certificate.serial_number.as_bytes()),
        hash,
    ))
}

/// Replaces a GET URL (which embeds the request) by the responder URL in a problem.
fn with_url(p: Problem, responder: &str) -> Problem {
    let url = responder.to_string();
    match p {
        Problem::Timeout { after, .. } => Problem::Timeout { url, after },
        Problem::Unreachable { detail, .. } => Problem::Unreachable { url, detail },
        Problem::HttpStatus { status, .. } => Problem::HttpStatus { url, status },
        Problem::TooLarge { limit, .. } => Problem::TooLarge { url, limit },
        Problem::SchemeNotAllowed { scheme, .. } => Problem::SchemeNotAllowed { url, scheme },
        other => other,
    }
}

/// With a known signing time, a revocation whose invalidity date is later than it does not
/// revoke the signature (the invalidityDate rule, as for CRL entries).
fn ocsp_status(s: OcspStatus, signing_time: Option<SystemTime>) -> CertStatus {
    match s {
        OcspStatus::Good => CertStatus::Good,
        OcspStatus::Revoked {
            invalid_from: Some(invalid_from),
            ..
        } if signing_time.is_some_and(|signed| signed < invalid_from) => CertStatus::Good,
        OcspStatus::Revoked { reason, time, .. } => CertStatus::Revoked { reason, time },
    }
}

fn crl_status(s: CrlStatus) -> CertStatus {
    match s {
        CrlStatus::Good => CertStatus::Good,
        CrlStatus::Revoked { reason, time } => CertStatus::Revoked { reason, time },
    }
}
