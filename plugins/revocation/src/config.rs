//! The engine's knobs. Defaults are notation's where notation has one, and safer where it has none.

use std::path::PathBuf;
use std::time::Duration;

/// Hash used for the OCSP CertID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertIdHash {
    /// What notation and most responders use.
    #[default]
    Sha1,
    Sha256,
}

/// How the offline bundle combines with the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleMode {
    /// Use a bundle answer when there is one; otherwise go to the cache and network.
    Prefer,
    /// Never touch the network (air-gapped): the bundle (and `file://` CRLs) or nothing.
    Only,
}

/// A folder of CRLs (`*.crl`, DER or PEM) and OCSP responses (`*.ocsp`, `*.der`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleConfig {
    pub dir: PathBuf,
    pub mode: BundleMode,
}

/// Proxies for http and https fetches. Explicit rather than read by the HTTP library, so that the
/// precedence is ours and tests need not mutate the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    pub http: Option<String>,
    pub https: Option<String>,
    /// Comma-separated hosts, domains and CIDRs that bypass the proxy (curl's `NO_PROXY` syntax).
    pub no_proxy: Option<String>,
}

impl ProxyConfig {
    /// Reads `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` (upper case first, then lower case); empty
    /// values count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`ProxyConfig::from_env`] with another variable source.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let pick = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| get(n))
                .find(|v| !v.trim().is_empty())
        };
        Self {
            http: pick(&["HTTP_PROXY", "http_proxy"]),
            https: pick(&["HTTPS_PROXY", "https_proxy"]),
            no_proxy: pick(&["NO_PROXY", "no_proxy"]),
        }
    }
}

/// Everything the engine needs besides the chain and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationConfig {
    /// Deadline for one OCSP exchange (connect + request + response). notation: 2 s.
    pub ocsp_timeout: Duration,
    /// Deadline for one CRL download. notation: 5 s.
    pub crl_timeout: Duration,
    /// Send a random nonce and require the responder to echo it. Off by default: CDN-fronted
    /// responders serve pre-signed responses and ignore nonces. Answers reused from the cache or
    /// taken from the bundle carry no fresh nonce; turn the cache off for strict replay protection.
    pub ocsp_nonce: bool,
    pub cert_id_hash: CertIdHash,
    /// Requests whose URL-escaped base64 form is at least this long are POSTed, shorter ones use
    /// GET (cacheable by CDNs). notation: 255; 0 POSTs every request.
    pub ocsp_get_limit: usize,
    /// Tolerance for the responder's and CA's clocks on thisUpdate / nextUpdate.
    pub max_clock_skew: Duration,
    /// How long an OCSP response without nextUpdate stays usable after its thisUpdate. `None`
    /// refuses such responses (notation's behaviour).
    pub ocsp_max_age: Option<Duration>,
    /// Disk cache of OCSP responses and CRLs; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    pub bundle: Option<BundleConfig>,
    pub allow_http: bool,
    pub allow_https: bool,
    /// `file://` CRL distribution points (local reads, allowed even in [`BundleMode::Only`]).
    pub allow_file: bool,
    /// Defaults to the standard environment variables ([`ProxyConfig::from_env`]).
    pub proxy: ProxyConfig,
    /// Extra trust anchors (DER) for https responders, on top of the platform's.
    pub extra_tls_roots: Vec<Vec<u8>>,
    /// Largest OCSP response accepted (notation: 20 KiB, which a response carrying a delegated
    /// responder chain can exceed).
    pub max_ocsp_response_bytes: usize,
    /// Largest CRL accepted (notation: 32 MiB).
    pub max_crl_bytes: usize,
    /// The signature's authentic signing time, when it has one (the Notary Project's
    /// `notary.x509.signingAuthority` scheme). With it the invalidityDate rule applies, as in
    /// notation: a revocation whose invalidity date is later than the signing time does not
    /// revoke this signature (the key was still sound when it signed). `notary.x509`
    /// signatures, which include every RAW signature, have no authentic signing time: notation
    /// passes none, the RFC 3161 timestamp is not used for it, and every revocation counts.
    pub signing_time: Option<std::time::SystemTime>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            ocsp_timeout: Duration::from_secs(5),
            crl_timeout: Duration::from_secs(10),
            ocsp_nonce: false,
            cert_id_hash: CertIdHash::Sha1,
            ocsp_get_limit: 255,
            max_clock_skew: Duration::from_secs(5 * 60),
            ocsp_max_age: Some(Duration::from_secs(24 * 3600)),
            cache_dir: None,
            bundle: None,
            allow_http: true,
            allow_https: true,
            allow_file: true,
            proxy: ProxyConfig::from_env(),
            extra_tls_roots: Vec::new(),
            max_ocsp_response_bytes: 64 * 1024,
            max_crl_bytes: 32 * 1024 * 1024,
            signing_time: None,
        }
    }
}
