//! What the vault saw: one record per HTTP request, for tests to assert on.
//!
//! Records hold no secrets: whether a bearer token was presented and who obtained it, never the token.

use serde::Serialize;

/// What a request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteKind {
    /// Entra token endpoint or managed-identity endpoint.
    Token,
    GetKey,
    Sign,
    GetCertificate,
    ListCertificateVersions,
    GetSecret,
    /// `POST /certificates/{name}/create` (certificates/create).
    CreateCertificate,
    /// `GET /certificates/{name}/pending` (certificates/get).
    GetCertificateOperation,
    /// `POST /certificates/{name}/pending/merge` (certificates/create).
    MergeCertificate,
    /// `PATCH /certificates/{name}/{version}` (certificates/update).
    UpdateCertificate,
    /// `GET /certificates/{name}/policy` (certificates/get).
    GetCertificatePolicy,
    /// Anything the vault does not serve.
    Other,
}

/// How a client obtained its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// `client_secret` form field (`ClientSecretCredential`).
    ClientSecret,
    /// JWT assertion signed with a registered certificate (`ClientCertificateCredential`).
    ClientCertificate,
    /// Federated token as the assertion (`WorkloadIdentityCredential`, `ClientAssertionCredential`).
    FederatedToken,
    /// App Service style managed-identity endpoint (`ManagedIdentityCredential`).
    ManagedIdentity,
}

/// The client behind a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenOwner {
    pub kind: CredentialKind,
    /// Entra client id, or the managed identity's client id (`"system"` when system-assigned).
    pub client_id: String,
}

/// One HTTP request as the vault answered it.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// 0 when the connection was dropped or the body truncated on purpose.
    pub status: u16,
    /// An `Authorization: Bearer …` header was present (valid or not).
    pub bearer: bool,
    /// Who obtained the presented token (vault routes) or the issued one (token routes).
    pub owner: Option<TokenOwner>,
    pub route: RouteKind,
}
