//! The permission matrix (`notation_akv::permissions::ROUTES`, which `--help` and
//! docs/reference.md print) is what the signer does: for every id form and chain source the test
//! vault can host, a cold sign makes exactly the cell's vault operations, in order, and the
//! refused cells fail with `VALIDATION_ERROR` before anything is signed. (Managed HSM ids are told
//! apart by their host, `*.managedhsm.azure.net`, which a loopback vault cannot have; the
//! `permissions` unit tests cover that cell's reads.)

use akv_test_pki::{BundleOrder, ChainBuilder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{CertificateOptions, RouteKind, shared_with_fixtures};
use notation_akv::permissions::{Chain, IdForm, ROUTES, Route};
use notation_akv_keyvault::Operation;
use serde_json::{Value, json};

mod common;

use common::protocol::{Plugin, code};

fn operation(route: RouteKind) -> Option<Operation> {
    match route {
        RouteKind::GetKey => Some(Operation::GetKey),
        RouteKind::Sign => Some(Operation::Sign),
        RouteKind::GetCertificate => Some(Operation::GetCertificate),
        RouteKind::GetSecret => Some(Operation::GetSecret),
        RouteKind::Token | RouteKind::ListCertificateVersions | RouteKind::Other => None,
        RouteKind::CreateCertificate
        | RouteKind::GetCertificateOperation
        | RouteKind::MergeCertificate
        | RouteKind::UpdateCertificate
        | RouteKind::GetCertificatePolicy => {
            panic!("signing made an administrator's call: {route:?}")
        }
    }
}

/// The authenticated vault operations on object `name` since request `from`, each once in the
/// order first made, with whether it answered 404.
fn operations_on(name: &str, from: usize) -> Vec<(Operation, bool)> {
    let mut seen: Vec<(Operation, bool)> = Vec::new();
    let part = format!("/{name}");
    for r in shared_with_fixtures()
        .vault
        .requests()
        .into_iter()
        .skip(from)
    {
        let ends = r.path.split_once(&part).map(|(_, rest)| rest);
        if !r.bearer || !matches!(ends, Some(rest) if rest.is_empty() || rest.starts_with('/')) {
            continue;
        }
        if let Some(op) = operation(r.route)
            && !seen.iter().any(|(o, _)| *o == op)
        {
            seen.push((op, r.status == 404));
        }
    }
    seen
}

/// A fresh object for the cell, its key ids, and the plugin config of its chain source.
fn setup(route: &Route, name: &str, plugin: &Plugin) -> (Vec<String>, Value) {
    let s = shared_with_fixtures();
    let vault = s.vault.url();
    let bundle = |pem: String| {
        let path = plugin.home.path().join(format!("{name}.pem"));
        std::fs::write(&path, pem).unwrap();
        json!({"ca_certs": path.display().to_string()})
    };
    match route.id {
        IdForm::Certificate => {
            let fixture = match route.chain {
                Chain::SelfSigned => names::self_signed(KeySpec::Ec256),
                _ => names::ca_issued(KeySpec::Ec256),
            };
            let chain = &s.fixtures.get(&fixture).chain;
            let version = s
                .vault
                .add_certificate(name, chain, CertificateOptions::default())
                .unwrap();
            let config = match route.chain {
                Chain::Secret => json!({}),
                Chain::SelfSigned => json!({"self_signed": "true"}),
                Chain::CaCerts => bundle(chain.issuers_pem(BundleOrder::LeafFirst)),
            };
            let ids = vec![version.id.clone(), format!("{vault}/keys/{name}")];
            (ids, config)
        }
        IdForm::KeyWithoutCertificate => {
            let chain = ChainBuilder::new(KeySpec::Ec256)
                .key_slot(22)
                .common_name("akv-test permissions")
                .build()
                .unwrap();
            let key = s.vault.import_key(name, chain.leaf().key().clone());
            let config = match route.chain {
                Chain::Secret => json!({}),
                Chain::SelfSigned => json!({"self_signed": "true"}),
                Chain::CaCerts => bundle(chain.pem_bundle(BundleOrder::Scrambled)),
            };
            (vec![key.kid], config)
        }
        IdForm::ManagedHsmKey => unreachable!("filtered out"),
    }
}

#[test]
fn every_cell_of_the_permission_matrix_is_what_a_cold_sign_does() {
    let mut checked = 0;
    for (n, route) in ROUTES
        .iter()
        .filter(|r| r.id != IdForm::ManagedHsmKey)
        .enumerate()
    {
        let name = format!("perm-{n}-{:?}-{:?}", route.id, route.chain).to_ascii_lowercase();
        let plugin = Plugin::new();
        let (ids, config) = setup(route, &name, &plugin);
        for id in ids {
            // A fresh home each time: a cold cache.
            let plugin = Plugin::new();
            let from = shared_with_fixtures().vault.requests().len();
            let outcome = plugin.describe_and_sign(&id, config.clone());
            let done = operations_on(&name, from);
            match route.refusal {
                None => {
                    outcome.unwrap_or_else(|e| panic!("{route:?} {id}: {e}"));
                    let expected: Vec<(Operation, bool)> = route
                        .operations
                        .iter()
                        .map(|op| (*op, route.expected_404.contains(op)))
                        .collect();
                    assert_eq!(done, expected, "{route:?} with {id}");
                }
                Some(_) => {
                    let err = outcome.expect_err(&format!("{route:?} {id} is refused"));
                    assert_eq!(code(&err), "VALIDATION_ERROR", "{err}");
                    assert!(
                        !done.iter().any(|(op, _)| *op == Operation::Sign),
                        "{route:?}: nothing is signed: {done:?}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 9,
        "3 certificate cells × 2 id forms + 3 bare-key cells"
    );
}
