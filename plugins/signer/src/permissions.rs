//! Which vault calls each key id form and chain source makes, and the permissions they need.
//!
//! [`ROUTES`] is the permission matrix: for every id form and chain source, the vault operations
//! a cold `notation sign` makes (a warm one only signs), hence the access-policy permissions and
//! RBAC roles the identity needs. It follows [`material`](crate::material)'s resolution, it prints
//! the permissions of `--help` and the reference, and [`reads`] gives `doctor` the reads of one
//! configuration. The signer's tests sign through each route against the test vault and compare
//! the requests it saw with this table.

use crate::config::ChainSource;
use notation_akv_keyvault::error::MANAGED_HSM_CRYPTO_USER;
use notation_akv_keyvault::{ObjectId, ObjectKind, Operation};

/// The forms a key id takes, as resolution tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdForm {
    /// `…/certificates/{name}[/{version}]`, or `…/keys/{name}[/{version}]` of a key with a
    /// certificate of the same name (AKV names a certificate's key after it).
    Certificate,
    /// `…/keys/{name}[/{version}]` of a key created on its own: the certificate lookup answers 404.
    KeyWithoutCertificate,
    /// `https://{hsm}.managedhsm.azure.net/keys/{name}[/{version}]`: keys only.
    ManagedHsmKey,
}

impl IdForm {
    pub fn describe(self) -> &'static str {
        match self {
            IdForm::Certificate => "`/certificates/` id, or `/keys/` id of a certificate's key",
            IdForm::KeyWithoutCertificate => "`/keys/` id of a key without a certificate",
            IdForm::ManagedHsmKey => "Managed HSM key (`*.managedhsm.azure.net/keys/`)",
        }
    }
}

/// The chain sources of [`ChainSource`], without their data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chain {
    Secret,
    CaCerts,
    SelfSigned,
}

impl Chain {
    pub fn of(source: &ChainSource) -> Chain {
        match source {
            ChainSource::Secret => Chain::Secret,
            ChainSource::CaCerts(_) => Chain::CaCerts,
            ChainSource::SelfSigned => Chain::SelfSigned,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Chain::Secret => "the certificate's secret (default)",
            Chain::CaCerts => "`ca_certs`",
            Chain::SelfSigned => "`self_signed=true`",
        }
    }
}

/// One cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub id: IdForm,
    pub chain: Chain,
    /// The operations of a cold sign, in order, `Sign` last; empty when the combination is
    /// refused before signing (`refusal` says why).
    pub operations: &'static [Operation],
    /// Operations that answer 404 by design (the lookup that finds no certificate): the identity
    /// still needs their permission, or the vault answers 403 instead.
    pub expected_404: &'static [Operation],
    pub refusal: Option<&'static str>,
}

const NEEDS_CA_CERTS: &str = "VALIDATION_ERROR: the chain must come from ca_certs";

/// The permission matrix.
pub const ROUTES: &[Route] = &[
    Route {
        id: IdForm::Certificate,
        chain: Chain::Secret,
        operations: &[Operation::GetSecret, Operation::Sign],
        expected_404: &[],
        refusal: None,
    },
    Route {
        id: IdForm::Certificate,
        chain: Chain::CaCerts,
        operations: &[Operation::GetCertificate, Operation::Sign],
        expected_404: &[],
        refusal: None,
    },
    Route {
        id: IdForm::Certificate,
        chain: Chain::SelfSigned,
        operations: &[Operation::GetCertificate, Operation::Sign],
        expected_404: &[],
        refusal: None,
    },
    Route {
        id: IdForm::KeyWithoutCertificate,
        chain: Chain::CaCerts,
        operations: &[
            Operation::GetCertificate,
            Operation::GetKey,
            Operation::Sign,
        ],
        expected_404: &[Operation::GetCertificate],
        refusal: None,
    },
    Route {
        id: IdForm::KeyWithoutCertificate,
        chain: Chain::Secret,
        operations: &[],
        expected_404: &[],
        refusal: Some(NEEDS_CA_CERTS),
    },
    Route {
        id: IdForm::KeyWithoutCertificate,
        chain: Chain::SelfSigned,
        operations: &[],
        expected_404: &[],
        refusal: Some(NEEDS_CA_CERTS),
    },
    Route {
        id: IdForm::ManagedHsmKey,
        chain: Chain::CaCerts,
        operations: &[Operation::GetKey, Operation::Sign],
        expected_404: &[],
        refusal: None,
    },
    Route {
        id: IdForm::ManagedHsmKey,
        chain: Chain::Secret,
        operations: &[],
        expected_404: &[],
        refusal: Some(NEEDS_CA_CERTS),
    },
    Route {
        id: IdForm::ManagedHsmKey,
        chain: Chain::SelfSigned,
        operations: &[],
        expected_404: &[],
        refusal: Some(NEEDS_CA_CERTS),
    },
];

/// A secret that is not AKV-managed names no key: the certificate is read too (`certificates/get`).
pub const SECRET_WITHOUT_KID: &str = "a secret without a kid, imported outside AKV's certificate management, also needs certificates/get";

impl Route {
    /// The cell for an id form and chain source.
    pub fn find(id: IdForm, chain: Chain) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.id == id && r.chain == chain)
            .unwrap_or(&ROUTES[0])
    }

    /// `--key-permissions sign get --certificate-permissions get`: one flag per object, in the
    /// order the operations are made.
    pub fn access_policy(&self) -> String {
        let mut flags: Vec<(&str, Vec<&str>)> = Vec::new();
        for op in self.operations {
            let (flag, permission) = op
                .access_policy()
                .split_once(' ')
                .unwrap_or((op.access_policy(), ""));
            match flags.iter_mut().find(|(f, _)| *f == flag) {
                Some((_, permissions)) => permissions.push(permission),
                None => flags.push((flag, vec![permission])),
            }
        }
        flags
            .iter()
            .map(|(flag, permissions)| format!("{flag} {}", permissions.join(" ")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The built-in roles, each once. A Managed HSM has no access policies and its own local
    /// RBAC roles.
    pub fn rbac_roles(&self) -> Vec<&'static str> {
        let mut roles = Vec::new();
        for op in self.operations {
            let role = if self.id == IdForm::ManagedHsmKey {
                MANAGED_HSM_CRYPTO_USER
            } else {
                op.rbac_role()
            };
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles
    }
}

/// The reads (every operation but `Sign`) a cold sign makes for this id and chain source, before
/// the vault has said whether a `/keys/` id has a certificate: a key id on a Key Vault is first
/// read as the certificate of its name.
pub fn reads(id: &ObjectId, source: &ChainSource) -> Vec<Operation> {
    let form = if id.kind() == ObjectKind::Key && id.is_managed_hsm() {
        IdForm::ManagedHsmKey
    } else {
        IdForm::Certificate
    };
    Route::find(form, Chain::of(source))
        .operations
        .iter()
        .copied()
        .filter(|op| *op != Operation::Sign)
        .collect()
}

/// The permissions paragraph of `--help`, from [`ROUTES`].
pub fn help_text() -> String {
    let mut text = String::from("\nPermissions for a cold sign (a warm one only signs):\n");
    for route in ROUTES.iter().filter(|r| r.refusal.is_none()) {
        let policy = if route.id == IdForm::ManagedHsmKey {
            "no access policies on a Managed HSM".to_string()
        } else {
            route.access_policy()
        };
        text.push_str(&format!(
            "  {} + {}:\n      {}; RBAC: {}\n",
            route.id.describe().replace('`', ""),
            route.chain.describe().replace('`', ""),
            policy,
            route.rbac_roles().join(" + ")
        ));
    }
    text.push_str(&format!("  ({SECRET_WITHOUT_KID})\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_form_and_chain_source_has_one_cell() {
        for id in [
            IdForm::Certificate,
            IdForm::KeyWithoutCertificate,
            IdForm::ManagedHsmKey,
        ] {
            for chain in [Chain::Secret, Chain::CaCerts, Chain::SelfSigned] {
                let cells = ROUTES
                    .iter()
                    .filter(|r| r.id == id && r.chain == chain)
                    .count();
                assert_eq!(cells, 1, "{id:?} × {chain:?}");
            }
        }
        for route in ROUTES {
            assert_eq!(
                route.refusal.is_some(),
                route.operations.is_empty(),
                "{route:?}"
            );
            if !route.operations.is_empty() {
                assert_eq!(route.operations.last(), Some(&Operation::Sign));
            }
        }
    }

    #[test]
    fn permissions_merge_per_object() {
        let bare = Route::find(IdForm::KeyWithoutCertificate, Chain::CaCerts);
        assert_eq!(
            bare.access_policy(),
            "--certificate-permissions get --key-permissions get sign"
        );
        assert_eq!(
            bare.rbac_roles(),
            ["Key Vault Certificate User", "Key Vault Crypto User"]
        );
        let hsm = Route::find(IdForm::ManagedHsmKey, Chain::CaCerts);
        assert_eq!(hsm.rbac_roles(), [MANAGED_HSM_CRYPTO_USER]);
        let id = ObjectId::parse("https://v.vault.azure.net/keys/k").unwrap();
        assert_eq!(reads(&id, &ChainSource::Secret), [Operation::GetSecret]);
        let id = ObjectId::parse("https://h.managedhsm.azure.net/keys/k").unwrap();
        assert_eq!(
            reads(&id, &ChainSource::CaCerts("b.pem".into())),
            [Operation::GetKey]
        );
    }
}
