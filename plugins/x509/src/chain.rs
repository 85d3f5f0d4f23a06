//! Ordering an unordered bag of certificates (PEM bundle, PKCS #12 contents, Azure Key Vault secret,
//! `ca_certs` file) into the leaf → root chain notation expects.
//!
//! A certificate's issuer is a certificate whose subject equals its issuer name *and* whose key
//! verifies its signature, so same-named CAs with different keys are told apart. SHA-1 signatures
//! are accepted here so that a SHA-1 chain is ordered and then reported precisely by
//! [`crate::codesigning`] instead of failing as "issuer missing".

use crate::cert::Certificate;
use crate::key::SignatureError;
use crate::signed_data::Sha1;

/// Why a bag of certificates does not form exactly one chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("no certificates were given")]
    Empty,
    #[error("certificate \"{subject}\" appears more than once in the bundle; remove the duplicate")]
    Duplicate { subject: String },
    #[error(
        "the issuer of \"{subject}\" (\"{issuer}\") is not in the bundle; add it to ca_certs (the chain must end with a self-signed root)"
    )]
    MissingIssuer { subject: String, issuer: String },
    #[error(
        "\"{issuer}\" has the right name to have issued \"{subject}\" but its key does not verify that certificate's signature: {reason}"
    )]
    IssuerSignatureInvalid {
        subject: String,
        issuer: String,
        reason: SignatureError,
    },
    #[error(
        "\"{subject}\" names itself as issuer but its signature does not verify with its own key: {reason}"
    )]
    RootSignatureInvalid {
        subject: String,
        reason: SignatureError,
    },
    #[error(
        "found several leaf certificates or unreferenced intermediate CAs: {}; the bundle must hold one chain",
        quote_all(.subjects)
    )]
    SeveralLeaves { subjects: Vec<String> },
    #[error(
        "\"{subject}\" has several possible issuers in the bundle: {}; keep only one",
        quote_all(.issuers)
    )]
    SeveralIssuers {
        subject: String,
        issuers: Vec<String>,
    },
    #[error("the certificates issue each other in a loop: {}", quote_all(.subjects))]
    Loop { subjects: Vec<String> },
    #[error(
        "certificates unrelated to the chain of \"{leaf}\" are in the bundle: {}; remove them",
        quote_all(.subjects)
    )]
    Unrelated { leaf: String, subjects: Vec<String> },
}

fn quote_all(subjects: &[String]) -> String {
    subjects
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Orders `certificates` into leaf → … → root.
///
/// `leaf` pins the leaf (for example the certificate Azure Key Vault returns for the key); it may
/// or may not also be in `certificates`. Without it the leaf is the one certificate no other
/// certificate names as its issuer. A single self-signed certificate is a valid chain. Every certificate given must be used.
pub fn build_chain(
    certificates: Vec<Certificate>,
    leaf: Option<&Certificate>,
) -> Result<Vec<Certificate>, ChainError> {
    let mut bag = certificates;
    if let Some(leaf) = leaf
        && !bag.contains(leaf)
    {
        bag.insert(0, leaf.clone());
    }
    if bag.is_empty() {
        return Err(ChainError::Empty);
    }
    for (i, cert) in bag.iter().enumerate() {
        if bag[..i].contains(cert) {
            return Err(ChainError::Duplicate {
                subject: cert.subject(),
            });
        }
    }

    let graph = Graph::new(&bag);
    let leaf_index = match leaf {
        Some(leaf) => bag.iter().position(|c| c == leaf).unwrap_or(0),
        None => {
            let leaves: Vec<usize> = (0..bag.len())
                .filter(|&i| !graph.is_named_as_issuer(i))
                .collect();
            match leaves.as_slice() {
                [one] => *one,
                [] => {
                    return Err(ChainError::Loop {
                        subjects: bag.iter().map(Certificate::subject).collect(),
                    });
                }
                many => {
                    return Err(ChainError::SeveralLeaves {
                        subjects: many.iter().map(|&i| bag[i].subject()).collect(),
                    });
                }
            }
        }
    };

    let mut path = vec![leaf_index];
    let mut current = leaf_index;
    while !graph.self_signed[current] {
        let cert = &bag[current];
        let next = match graph.issuers[current].as_slice() {
            [one] => *one,
            [] => return Err(graph.missing_issuer_error(current)),
            many => {
                return Err(ChainError::SeveralIssuers {
                    subject: cert.subject(),
                    issuers: many.iter().map(|&i| bag[i].subject()).collect(),
                });
            }
        };
        if path.contains(&next) {
            return Err(ChainError::Loop {
                subjects: path.iter().map(|&i| bag[i].subject()).collect(),
            });
        }
        path.push(next);
        current = next;
    }

    let unused: Vec<String> = (0..bag.len())
        .filter(|i| !path.contains(i))
        .map(|i| bag[i].subject())
        .collect();
    if !unused.is_empty() {
        return Err(ChainError::Unrelated {
            leaf: bag[leaf_index].subject(),
            subjects: unused,
        });
    }

    let mut slots: Vec<Option<Certificate>> = bag.into_iter().map(Some).collect();
    Ok(path.iter().filter_map(|&i| slots[i].take()).collect())
}

/// Who issued whom in a bag.
struct Graph<'a> {
    bag: &'a [Certificate],
    /// `issuers[i]`: certificates (≠ i) whose subject is i's issuer and whose key verifies i.
    issuers: Vec<Vec<usize>>,
    self_signed: Vec<bool>,
}

impl<'a> Graph<'a> {
    fn new(bag: &'a [Certificate]) -> Self {
        let issuers = bag
            .iter()
            .enumerate()
            .map(|(i, cert)| {
                (0..bag.len())
                    .filter(|&j| {
                        j != i
                            && cert.names_issuer(&bag[j])
                            && cert.verify_signed_by(&bag[j], Sha1::Allow).is_ok()
                    })
                    .collect()
            })
            .collect();
        let self_signed = bag
            .iter()
            .map(|c| c.is_self_issued() && c.verify_signed_by(c, Sha1::Allow).is_ok())
            .collect();
        Self {
            bag,
            issuers,
            self_signed,
        }
    }

    /// Whether another certificate names `i` as its issuer. Names, not signatures, decide what
    /// can be a leaf, so a same-named CA with the wrong key is reported as the broken link rather
    /// than as a second leaf.
    fn is_named_as_issuer(&self, i: usize) -> bool {
        self.bag
            .iter()
            .enumerate()
            .any(|(j, c)| j != i && c.names_issuer(&self.bag[i]))
    }

    /// The most helpful error for a certificate without a verified issuer.
    fn missing_issuer_error(&self, i: usize) -> ChainError {
        let cert = &self.bag[i];
        let named = self
            .bag
            .iter()
            .enumerate()
            .find(|&(j, c)| j != i && cert.names_issuer(c));
        if let Some((_, candidate)) = named
            && let Err(reason) = cert.verify_signed_by(candidate, Sha1::Allow)
        {
            return ChainError::IssuerSignatureInvalid {
                subject: cert.subject(),
                issuer: candidate.subject(),
                reason,
            };
        }
        if cert.is_self_issued()
            && let Err(reason) = cert.verify_signed_by(cert, Sha1::Allow)
        {
            return ChainError::RootSignatureInvalid {
                subject: cert.subject(),
                reason,
            };
        }
        ChainError::MissingIssuer {
            subject: cert.subject(),
            issuer: cert.issuer(),
        }
    }
}
