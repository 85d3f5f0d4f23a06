//! Shared set-up: a root → intermediate → leaf chain whose certificates point at real responders.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, Issued, TestCa};
use notation_akv_revocation::{
    CertStatus, ChainResult, Problem, ProxyConfig, RevocationChecker, RevocationConfig, Source,
};

/// A configuration that ignores the machine's proxy variables and has short deadlines.
pub fn config() -> RevocationConfig {
    RevocationConfig {
        ocsp_timeout: Duration::from_secs(3),
        crl_timeout: Duration::from_secs(3),
        proxy: ProxyConfig::default(),
        ..RevocationConfig::default()
    }
}

pub fn checker(config: RevocationConfig) -> RevocationChecker {
    RevocationChecker::new(config).expect("checker")
}

pub struct OcspChain {
    pub responder: OcspResponder,
    pub root: TestCa,
    pub inter: TestCa,
    pub leaf: Issued,
}

impl OcspChain {
    /// Leaf and intermediate name the responder; both are good.
    pub async fn new() -> Self {
        let responder = OcspResponder::start(&[], None).await.unwrap();
        Self::with(
            responder,
            |r| CertOptions::ocsp(r.url()),
            |r| CertOptions::ocsp(r.url()),
        )
        .await
    }

    pub async fn with(
        responder: OcspResponder,
        inter_opts: impl Fn(&OcspResponder) -> CertOptions,
        leaf_opts: impl Fn(&OcspResponder) -> CertOptions,
    ) -> Self {
        let root = TestCa::root("Revocation Test Root").unwrap();
        let inter = root
            .intermediate("Revocation Test Intermediate", &inter_opts(&responder))
            .unwrap();
        let leaf = inter
            .issue("Revocation Test Leaf", &leaf_opts(&responder))
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&inter).unwrap();
        responder.set_status(&leaf.serial, Status::Good);
        responder.set_status(inter.serial(), Status::Good);
        Self {
            responder,
            root,
            inter,
            leaf,
        }
    }

    pub fn chain(&self) -> Vec<Vec<u8>> {
        der_chain(&self.leaf, &self.inter, &self.root)
    }

    /// Checks [`OcspChain::chain`] now with [`config`].
    pub async fn check(&self) -> ChainResult {
        check(&checker(config()), &self.chain()).await
    }
}

pub struct CrlChain {
    pub files: FileServer,
    pub root: TestCa,
    pub inter: TestCa,
    pub leaf: Issued,
}

impl CrlChain {
    /// Leaf at `/inter.crl`, intermediate at `/root.crl`; both CRLs published empty.
    pub async fn new() -> Self {
        Self::with_leaf(|_| CertOptions::default()).await
    }

    /// As [`CrlChain::new`] with extra leaf options (the CDP is always set).
    pub async fn with_leaf(extra: impl Fn(&FileServer) -> CertOptions) -> Self {
        let files = FileServer::start(None).await.unwrap();
        let root = TestCa::root("CRL Test Root").unwrap();
        let inter = root
            .intermediate(
                "CRL Test Intermediate",
                &CertOptions::crl(files.url("/root.crl")),
            )
            .unwrap();
        let mut opts = extra(&files);
        opts.crl_urls.push(files.url("/inter.crl"));
        let leaf = inter.issue("CRL Test Leaf", &opts).unwrap();
        let empty = CrlBuilder::default();
        files.files.put("/root.crl", empty.sign(&root).unwrap());
        files.files.put("/inter.crl", empty.sign(&inter).unwrap());
        Self {
            files,
            root,
            inter,
            leaf,
        }
    }

    pub fn chain(&self) -> Vec<Vec<u8>> {
        der_chain(&self.leaf, &self.inter, &self.root)
    }

    /// Checks [`CrlChain::chain`] now with [`config`].
    pub async fn check(&self) -> ChainResult {
        check(&checker(config()), &self.chain()).await
    }

    /// Serves `crl`, signed by the intermediate (the leaf's issuer), at `path`.
    pub fn publish(&self, path: &str, crl: &CrlBuilder) {
        self.files.files.put(path, crl.sign(&self.inter).unwrap());
    }
}

/// leaf → intermediate → root as DER, the order the checker takes them.
fn der_chain(leaf: &Issued, inter: &TestCa, root: &TestCa) -> Vec<Vec<u8>> {
    vec![leaf.der.clone(), inter.der().to_vec(), root.der().to_vec()]
}

pub async fn check(checker: &RevocationChecker, chain: &[Vec<u8>]) -> ChainResult {
    checker
        .check(chain, SystemTime::now())
        .await
        .expect("chain")
}

/// The problems of an unknown certificate (panics with the result otherwise).
pub fn problems(result: &ChainResult, index: usize) -> Vec<(Source, Problem)> {
    match &result.certificates[index].status {
        CertStatus::Unknown { problems } => problems.clone(),
        other => panic!("certificate #{index} is {other:?}, expected unknown: {result}"),
    }
}

pub fn is_good(result: &ChainResult, index: usize) -> bool {
    result.certificates[index].status == CertStatus::Good
}
