//! Request dispatch: route, authenticate, inject faults, answer, record.

use crate::faults::{FaultAction, segments};
use crate::identity::{Identity, TokenProblem};
use crate::log::{RequestRecord, RouteKind, TokenOwner};
use crate::reply::Reply;
use crate::store::Store;
use crate::{crypto, faults::Faults};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use std::sync::Mutex;

/// Everything behind the vault's lock.
pub(crate) struct State {
    pub store: Store,
    pub identity: Identity,
    pub faults: Faults,
    pub log: Vec<RequestRecord>,
}

pub(crate) struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub identity_header: Option<String>,
    pub body: Vec<u8>,
}

pub(crate) enum Outcome {
    Reply(Reply),
    /// Full `Content-Length`, half the body, then close.
    Truncate(Reply),
    /// Close without answering.
    Drop,
}

enum Route {
    EntraToken {
        tenant: String,
    },
    ManagedIdentityToken,
    GetKey {
        name: String,
        version: Option<String>,
    },
    Sign {
        name: String,
        version: Option<String>,
    },
    GetCertificate {
        name: String,
        version: Option<String>,
    },
    ListCertificateVersions {
        name: String,
    },
    GetSecret {
        name: String,
        version: Option<String>,
    },
    CreateCertificate {
        name: String,
    },
    GetCertificateOperation {
        name: String,
    },
    MergeCertificate {
        name: String,
    },
    UpdateCertificate {
        name: String,
        version: Option<String>,
    },
    GetCertificatePolicy {
        name: String,
    },
    Other,
}

impl Route {
    fn parse(method: &str, path: &str) -> Route {
        let s: Vec<&str> = segments(path).collect();
        let own = |x: &str| x.to_string();
        match (method, s.as_slice()) {
            ("POST", [tenant, "oauth2", "v2.0", "token"]) => Route::EntraToken {
                tenant: own(tenant),
            },
            ("GET", ["msi", "token"]) => Route::ManagedIdentityToken,
            ("GET", ["keys", n]) => Route::GetKey {
                name: own(n),
                version: None,
            },
            ("GET", ["keys", n, v]) => Route::GetKey {
                name: own(n),
                version: Some(own(v)),
            },
            ("POST", ["keys", n, "sign"]) => Route::Sign {
                name: own(n),
                version: None,
            },
            ("POST", ["keys", n, v, "sign"]) => Route::Sign {
                name: own(n),
                version: Some(own(v)),
            },
            ("POST", ["certificates", n, "create"]) => Route::CreateCertificate { name: own(n) },
            ("GET", ["certificates", n, "pending"]) => {
                Route::GetCertificateOperation { name: own(n) }
            }
            ("POST", ["certificates", n, "pending", "merge"]) => {
                Route::MergeCertificate { name: own(n) }
            }
            ("GET", ["certificates", n, "policy"]) => Route::GetCertificatePolicy { name: own(n) },
            ("PATCH", ["certificates", n]) => Route::UpdateCertificate {
                name: own(n),
                version: None,
            },
            ("PATCH", ["certificates", n, v]) => Route::UpdateCertificate {
                name: own(n),
                version: Some(own(v)),
            },
            ("GET", ["certificates", n, "versions"]) => {
                Route::ListCertificateVersions { name: own(n) }
            }
            ("GET", ["certificates", n]) => Route::GetCertificate {
                name: own(n),
                version: None,
            },
            ("GET", ["certificates", n, v]) => Route::GetCertificate {
                name: own(n),
                version: Some(own(v)),
            },
            ("GET", ["secrets", n]) => Route::GetSecret {
                name: own(n),
                version: None,
            },
            ("GET", ["secrets", n, v]) => Route::GetSecret {
                name: own(n),
                version: Some(own(v)),
            },
            _ => Route::Other,
        }
    }

    fn kind(&self) -> RouteKind {
        match self {
            Route::EntraToken { .. } | Route::ManagedIdentityToken => RouteKind::Token,
            Route::GetKey { .. } => RouteKind::GetKey,
            Route::Sign { .. } => RouteKind::Sign,
            Route::GetCertificate { .. } => RouteKind::GetCertificate,
            Route::ListCertificateVersions { .. } => RouteKind::ListCertificateVersions,
            Route::GetSecret { .. } => RouteKind::GetSecret,
            Route::CreateCertificate { .. } => RouteKind::CreateCertificate,
            Route::GetCertificateOperation { .. } => RouteKind::GetCertificateOperation,
            Route::MergeCertificate { .. } => RouteKind::MergeCertificate,
            Route::UpdateCertificate { .. } => RouteKind::UpdateCertificate,
            Route::GetCertificatePolicy { .. } => RouteKind::GetCertificatePolicy,
            Route::Other => RouteKind::Other,
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent maps behind; keep serving.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers one request.
pub(crate) async fn handle(state: &Mutex<State>, req: Incoming) -> Outcome {
    let route = Route::parse(&req.method, &req.path);
    let kind = route.kind();
    let bearer = req
        .authorization
        .as_deref()
        .is_some_and(|h| h.starts_with("Bearer "));

    // Authenticate vault routes first: faults are for requests that would otherwise be served.
    let mut owner = None;
    if !matches!(kind, RouteKind::Token | RouteKind::Other) {
        let mut st = lock(state);
        let has_api_version = req.query.as_deref().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "api-version")
        });
        let early = if !has_api_version {
            Some(Reply::akv_error(
                400,
                "BadParameter",
                "The request URI contains an invalid or missing api-version query parameter.",
            ))
        } else {
            match st.identity.check(req.authorization.as_deref()) {
                Ok(o) => {
                    owner = Some(o);
                    None
                }
                Err(problem) => Some(match st.faults.take_challenge(&req.method, &req.path) {
                    Some(recorded) => Reply::verbatim(&recorded),
                    None => challenge(&st.identity, problem),
                }),
            }
        };
        if let Some(reply) = early {
            drop(st);
            return finish(state, &req, kind, bearer, None, Outcome::Reply(reply));
        }
    }

    let action = lock(state).faults.take(&req.method, &req.path);
    let outcome = match action {
        Some(FaultAction::DropConnection) => Outcome::Drop,
        Some(FaultAction::Respond(recorded) | FaultAction::Challenge(recorded)) => {
            Outcome::Reply(Reply::verbatim(&recorded))
        }
        Some(FaultAction::Status {
            status,
            code,
            message,
            retry_after,
        }) => {
            let mut r = Reply::akv_error(status, &code, &message);
            if let Some(secs) = retry_after {
                r = r.with_header("retry-after", secs.to_string());
            }
            Outcome::Reply(r)
        }
        Some(FaultAction::TruncateBody) => {
            let (r, o) = serve(state, &route, &req);
            owner = owner.or(o);
            Outcome::Truncate(r)
        }
        Some(FaultAction::Delay(d)) => {
            tokio::time::sleep(d).await;
            let (r, o) = serve(state, &route, &req);
            owner = owner.or(o);
            Outcome::Reply(r)
        }
        None => {
            let (r, o) = serve(state, &route, &req);
            owner = owner.or(o);
            Outcome::Reply(r)
        }
    };
    finish(state, &req, kind, bearer, owner, outcome)
}

fn finish(
    state: &Mutex<State>,
    req: &Incoming,
    route: RouteKind,
    bearer: bool,
    owner: Option<TokenOwner>,
    outcome: Outcome,
) -> Outcome {
    let status = match &outcome {
        Outcome::Reply(r) => r.status,
        Outcome::Truncate(_) | Outcome::Drop => 0,
    };
    lock(state).log.push(RequestRecord {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status,
        bearer,
        owner,
        route,
    });
    outcome
}

/// 401 with the challenge the Key Vault SDKs parse (`authorization` + `resource`).
fn challenge(identity: &Identity, problem: TokenProblem) -> Reply {
    let message = match problem {
        TokenProblem::Missing => "AKV10000: Request is missing a Bearer or PoP token.".to_string(),
        TokenProblem::Unknown => {
            "AKV10032: Invalid token: it was not issued by this vault's identity endpoint."
                .to_string()
        }
        TokenProblem::Expired => "AKV10013: Token has expired.".to_string(),
        TokenProblem::WrongAudience(found) => format!(
            "AKV10022: Invalid audience. Expected {}, found: {found}.",
            identity.resource
        ),
    };
    Reply::akv_error(401, "Unauthorized", &message).with_header(
        "www-authenticate",
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            identity.authority, identity.tenant, identity.resource
        ),
    )
}

/// The normal answer for an authenticated request (or a token request).
fn serve(state: &Mutex<State>, route: &Route, req: &Incoming) -> (Reply, Option<TokenOwner>) {
    let mut st = lock(state);
    let st = &mut *st;
    let reply = match route {
        Route::EntraToken { tenant } => {
            let endpoint = format!("{}/{tenant}/oauth2/v2.0/token", st.identity.authority);
            return st.identity.entra_token(tenant, &req.body, &endpoint);
        }
        Route::ManagedIdentityToken => {
            return st
                .identity
                .managed_identity_token(req.query.as_deref(), req.identity_header.as_deref());
        }
        Route::GetKey { name, version } => match st.store.key(name, version.as_deref()) {
            Ok(e) => Reply::json(200, &st.store.key_bundle(name, e)),
            Err(r) => r,
        },
        Route::Sign { name, version } => sign(&st.store, name, version.as_deref(), &req.body),
        Route::GetCertificate { name, version } => {
            match st.store.certificate(name, version.as_deref()) {
                Ok(e) => Reply::json(
                    200,
                    &st.store.certificate_bundle(name, e, version.is_none()),
                ),
                Err(r) => r,
            }
        }
        Route::ListCertificateVersions { name } => {
            Reply::json(200, &st.store.certificate_versions(name))
        }
        Route::GetSecret { name, version } => match st.store.secret(name, version.as_deref()) {
            Ok(e) if !e.attributes.enabled => Reply::akv_error_inner(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                "SecretDisabled",
            ),
            Ok(e) => Reply::json(200, &st.store.secret_bundle(name, e)),
            Err(r) => r,
        },
        Route::CreateCertificate { name } => st.store.create_certificate(name, &req.body),
        Route::GetCertificateOperation { name } => st.store.certificate_operation(name),
        Route::MergeCertificate { name } => st.store.merge_certificate(name, &req.body),
        Route::UpdateCertificate { name, version } => {
            st.store
                .update_certificate(name, version.as_deref(), &req.body)
        }
        Route::GetCertificatePolicy { name } => st.store.certificate_policy(name),
        Route::Other => Reply::akv_error(
            404,
            "NotFound",
            &format!("The test vault does not serve {} {}.", req.method, req.path),
        ),
    };
    (reply, None)
}

#[derive(serde::Deserialize)]
struct SignRequest {
    alg: String,
    value: String,
}

fn sign(store: &Store, name: &str, version: Option<&str>, body: &[u8]) -> Reply {
    let entry = match store.key(name, version) {
        Ok(e) => e,
        Err(r) => return r,
    };
    if !entry.attributes.enabled {
        return Reply::akv_error_inner(
            403,
            "Forbidden",
            "Operation sign is not allowed on a disabled key.",
            "KeyDisabled",
        );
    }
    let Ok(request) = serde_json::from_slice::<SignRequest>(body) else {
        return Reply::akv_error(
            400,
            "BadParameter",
            "Property 'alg' and 'value' are required in the request body.",
        );
    };
    let Ok(digest) = URL_SAFE_NO_PAD.decode(request.value.trim_end_matches('=')) else {
        return Reply::akv_error(
            400,
            "BadParameter",
            "Property 'value' is not valid base64url.",
        );
    };
    match crypto::sign(&entry.key, &request.alg, &digest) {
        Ok(sig) => Reply::json(
            200,
            &json!({"kid": store.kid(name, &entry.version), "value": URL_SAFE_NO_PAD.encode(sig)}),
        ),
        Err(e) => Reply::akv_error(400, "BadParameter", &e.to_string()),
    }
}
