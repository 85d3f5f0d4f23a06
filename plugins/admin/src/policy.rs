//! `notation-akv policy`: AKV certificate policies that yield Notary-compliant certificates.
//!
//! The generator writes the JSON `az keyvault certificate create -p @policy.json` takes; the
//! linter (`--check`) reads the same format (camelCase, as `az` prints it, or the SDKs'
//! snake_case names) and names each field that would make the vault issue a certificate notation
//! rejects, or that notation's trust policy cannot name. The rules are the Notary Project
//! certificate requirements the x509 crate enforces on real chains (rule ids in brackets), seen
//! from the policy side, plus two operational ones: non-exportable keys and auto-renewal.

use crate::{Output, UsageError, parse_options};
use serde::Serialize;
use serde_json::Value;

/// The code-signing EKU, the one Notary signing certificates should carry.
pub const CODE_SIGNING_EKU: &str = "1.3.6.1.5.5.7.3.3";
/// Extended key usages notation rejects in a signing certificate, with their names.
const FORBIDDEN_EKUS: &[(&str, &str)] = &[
    ("1.3.6.1.5.5.7.3.1", "serverAuth"),
    ("1.3.6.1.5.5.7.3.2", "clientAuth"),
    ("1.3.6.1.5.5.7.3.4", "emailProtection"),
    ("1.3.6.1.5.5.7.3.8", "timeStamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSPSigning"),
];
const ANY_EKU: &str = "2.5.29.37.0";
/// Key usages notation rejects in a signing certificate.
const FORBIDDEN_KEY_USAGES: &[&str] = &[
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];
const RSA_SIZES: &[u64] = &[2048, 3072, 4096];
const CURVES: &[&str] = &["P-256", "P-384", "P-521"];
/// Subject attributes notation's `x509.subject:` trusted identities must contain.
const REQUIRED_SUBJECT: &[&str] = &["C", "ST", "O"];
const RENEW_AT_PERCENT: u8 = 80;
const MAX_VALIDITY_MONTHS: u32 = 1200;

/// `notation-akv policy …`.
pub fn main(args: &[String]) -> Result<Output, UsageError> {
    let valued: Vec<&str> = GENERATOR_OPTIONS
        .iter()
        .copied()
        .chain(["--check"])
        .collect();
    let options = parse_options(args, &valued, &["--force"])?;
    if let Some((_, Some(path))) = options.iter().find(|(n, _)| n == "--check") {
        if options.len() > 1 {
            return Err(UsageError("--check takes no other option".into()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
        let problems = check(&text);
        return Ok(Output {
            stdout: check_report(path, &problems),
            stderr: String::new(),
            exit_code: u8::from(problems.iter().any(|p| p.severity == Severity::Error)),
        });
    }
    let request = request_from(options)?;
    let (policy, warnings) = generate(&request)?;
    let mut stdout = serde_json::to_string_pretty(&policy)
        .map_err(|e| UsageError(format!("cannot write the policy: {e}")))?;
    stdout.push('\n');
    Ok(Output {
        stdout,
        stderr: warnings.iter().map(|w| format!("warning: {w}\n")).collect(),
        exit_code: 0,
    })
}

/// The generator's inputs from `policy`'s options (also `certificate create`'s).
pub fn request(args: &[String]) -> Result<Request, UsageError> {
    request_from(parse_options(args, GENERATOR_OPTIONS, &["--force"])?)
}

/// The generator's options (`policy` and `certificate create`).
pub const GENERATOR_OPTIONS: &[&str] = &[
    "--key-type",
    "--key-size",
    "--curve",
    "--subject",
    "--validity-months",
    "--issuer",
    "--exportable",
];

fn request_from(options: Vec<(String, Option<String>)>) -> Result<Request, UsageError> {
    let mut request = Request::default();
    for (name, value) in options {
        let value = value.unwrap_or_default();
        match name.as_str() {
            "--key-type" => request.key_type = Some(value),
            "--key-size" => {
                request.key_size = Some(value.parse().map_err(|_| {
                    UsageError(format!(
                        "--key-size {value:?} is not a number (2048, 3072 or 4096)"
                    ))
                })?)
            }
            "--curve" => request.curve = Some(value),
            "--subject" => request.subject = Some(value),
            "--validity-months" => {
                request.validity_months = Some(value.parse().map_err(|_| {
                    UsageError(format!(
                        "--validity-months {value:?} is not a whole number of months"
                    ))
                })?)
            }
            "--issuer" => request.issuer = Some(value),
            "--exportable" => {
                request.exportable = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(UsageError(format!("--exportable {value:?}: true or false"))),
                }
            }
            _ => request.force = true,
        }
    }
    Ok(request)
}

/// The generator's inputs, as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub key_type: Option<String>,
    pub key_size: Option<u64>,
    pub curve: Option<String>,
    pub subject: Option<String>,
    pub validity_months: Option<u32>,
    pub issuer: Option<String>,
    pub exportable: bool,
    /// Allows an exportable key (with a warning).
    pub force: bool,
}

/// An AKV certificate policy (only the fields the generator sets), in `az`'s JSON form.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub key_properties: KeyProperties,
    pub secret_properties: SecretProperties,
    pub x509_certificate_properties: X509Properties,
    pub lifetime_actions: Vec<LifetimeAction>,
    pub issuer_parameters: IssuerParameters,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyProperties {
    pub key_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    pub exportable: bool,
    pub reuse_key: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretProperties {
    pub content_type: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Properties {
    pub subject: String,
    pub ekus: Vec<&'static str>,
    pub key_usage: Vec<&'static str>,
    pub validity_in_months: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct LifetimeAction {
    pub trigger: Trigger,
    pub action: Action,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub lifetime_percentage: u8,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub action_type: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct IssuerParameters {
    pub name: String,
}

/// A compliant policy for `request`, with warnings for the person running it; refuses what
/// would give a certificate notation rejects.
pub fn generate(request: &Request) -> Result<(Policy, Vec<String>), UsageError> {
    let mut warnings = Vec::new();
    let key_type = request
        .key_type
        .clone()
        .unwrap_or_else(|| if request.curve.is_some() { "EC" } else { "RSA" }.to_string());
    let (key_size, curve) = match key_type.as_str() {
        "RSA" | "RSA-HSM" => {
            if let Some(curve) = &request.curve {
                return Err(UsageError(format!(
                    "--curve {curve} is for EC keys; drop it, or use --key-type EC"
                )));
            }
            let size = request.key_size.unwrap_or(3072);
            if !RSA_SIZES.contains(&size) {
                return Err(UsageError(format!(
                    "RSA-{size} is not a Notary Project key size: use --key-size 2048, 3072 or 4096"
                )));
            }
            (Some(size), None)
        }
        "EC" | "EC-HSM" => {
            if let Some(size) = request.key_size {
                return Err(UsageError(format!(
                    "--key-size {size} is for RSA keys; EC keys take --curve P-256, P-384 or P-521"
                )));
            }
            let curve = request.curve.clone().unwrap_or_else(|| "P-256".into());
            if !CURVES.contains(&curve.as_str()) {
                return Err(UsageError(format!(
                    "curve {curve} is not a Notary Project curve (P-256K/secp256k1 is not allowed): use \
                     --curve P-256, P-384 or P-521"
                )));
            }
            (None, Some(curve))
        }
        other => {
            return Err(UsageError(format!(
                "--key-type {other}: RSA or EC (RSA-HSM, EC-HSM for HSM-protected keys)"
            )));
        }
    };
    let subject = request.subject.as_deref().ok_or_else(|| {
        UsageError(
            "--subject is required, e.g. --subject \"CN=signer,O=Contoso,ST=WA,C=US\": notation's trust policy \
             names signers by C, ST and O"
                .into(),
        )
    })?;
    if let Some(problem) = subject_problem(subject) {
        return Err(UsageError(format!("--subject {subject:?}: {problem}")));
    }
    let validity = request.validity_months.unwrap_or(12);
    if validity == 0 || validity > MAX_VALIDITY_MONTHS {
        return Err(UsageError(format!(
            "--validity-months {validity}: between 1 and {MAX_VALIDITY_MONTHS}"
        )));
    }
    if request.exportable {
        if !request.force {
            return Err(UsageError(
                "--exportable true puts the private key in the certificate's secret, where anyone with \
                 secrets/get can download it; signing does not need it. Leave it false, or add --force to \
                 accept the risk"
                    .into(),
            ));
        }
        warnings.push(
            "the key is exportable: anyone with secrets/get on the vault can download the private key \
             (notation-akv discards it, but cannot protect it)"
                .to_string(),
        );
    }
    let issuer = request.issuer.clone().unwrap_or_else(|| "Self".into());
    // AKV can renew only what it can have issued; an Unknown issuer's certificate is merged by hand.
    let action_type = if issuer.eq_ignore_ascii_case("Unknown") {
        warnings.push(
            "issuer Unknown: the vault creates a CSR and cannot renew by itself, so the lifetime action \
             e-mails the certificate contacts instead of renewing"
                .to_string(),
        );
        "EmailContacts"
    } else {
        "AutoRenew"
    };
    if issuer == "Self" {
        warnings.push(
            "issuer Self: a self-signed certificate; verifiers trust this very certificate (notation cert add)"
                .to_string(),
        );
    }
    Ok((
        Policy {
            key_properties: KeyProperties {
                key_type,
                key_size,
                curve,
                exportable: request.exportable,
                reuse_key: false,
            },
            secret_properties: SecretProperties {
                content_type: "application/x-pem-file",
            },
            x509_certificate_properties: X509Properties {
                subject: subject.to_string(),
                ekus: vec![CODE_SIGNING_EKU],
                key_usage: vec!["digitalSignature"],
                validity_in_months: validity,
            },
            lifetime_actions: vec![LifetimeAction {
                trigger: Trigger {
                    lifetime_percentage: RENEW_AT_PERCENT,
                },
                action: Action { action_type },
            }],
            issuer_parameters: IssuerParameters { name: issuer },
        },
        warnings,
    ))
}

/// What is wrong with a subject DN for Notary use, if anything.
fn subject_problem(subject: &str) -> Option<String> {
    let mut seen = Vec::new();
    for part in subject.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            return Some(format!("{:?} is not ATTRIBUTE=value", part.trim()));
        };
        let (key, value) = (key.trim().to_ascii_uppercase(), value.trim());
        if value.is_empty() {
            return Some(format!("{key} is empty"));
        }
        if key == "C" && !(value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic())) {
            return Some(format!("C={value} is not a two-letter country code"));
        }
        if seen.contains(&key) && REQUIRED_SUBJECT.contains(&key.as_str()) {
            return Some(format!("{key} appears twice"));
        }
        seen.push(key);
    }
    let missing: Vec<&str> = REQUIRED_SUBJECT
        .iter()
        .filter(|k| !seen.iter().any(|s| s == *k))
        .copied()
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "missing {}: notation's trust policy identities (x509.subject:…) must contain C, ST and O, \
             e.g. \"CN=signer,O=Contoso,ST=WA,C=US\"",
            missing.join(", ")
        )
    })
}

/// How bad a policy problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The vault would issue a certificate notation rejects (or cannot trust by name).
    Error,
    /// Works, but is risky or needs manual care.
    Warning,
}

/// One finding of `--check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The JSON path, e.g. `x509CertificateProperties.keyUsage`.
    pub field: String,
    pub found: String,
    pub fix: String,
}

/// Looks a field up under its camelCase or snake_case name.
fn field<'v>(object: &'v Value, names: &[&str]) -> Option<&'v Value> {
    names
        .iter()
        .find_map(|n| object.get(*n))
        .filter(|v| !v.is_null())
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Lints a policy; an empty list means the vault would issue a compliant certificate.
pub fn check(text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut error = |field: &str, found: String, fix: String| {
        problems.push(Problem {
            severity: Severity::Error,
            field: field.into(),
            found,
            fix,
        })
    };
    let policy: Value = match serde_json::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            error(
                "",
                "the file is JSON but not an object".into(),
                "give a certificate policy object".into(),
            );
            return problems;
        }
        Err(e) => {
            error(
                "",
                format!("not JSON: {e}"),
                "give the policy JSON (az keyvault certificate get-default-policy)".into(),
            );
            return problems;
        }
    };
    let empty = Value::Null;
    let key = field(&policy, &["keyProperties", "key_props", "key_properties"]).unwrap_or(&empty);
    let x509 = field(
        &policy,
        &[
            "x509CertificateProperties",
            "x509_props",
            "x509_certificate_properties",
        ],
    )
    .unwrap_or(&empty);
    let secret = field(
        &policy,
        &["secretProperties", "secret_props", "secret_properties"],
    )
    .unwrap_or(&empty);

    // Key.
    let key_type = field(key, &["keyType", "kty", "key_type"])
        .and_then(Value::as_str)
        .unwrap_or("RSA");
    match key_type {
        "RSA" | "RSA-HSM" => {
            let size = field(key, &["keySize", "key_size"])
                .and_then(Value::as_u64)
                .unwrap_or(2048);
            if !RSA_SIZES.contains(&size) {
                error(
                    "keyProperties.keySize",
                    format!("RSA-{size}"),
                    "set \"keySize\": 2048, 3072 or 4096 (the Notary Project key sizes)".into(),
                );
            }
        }
        "EC" | "EC-HSM" => {
            let curve = field(key, &["curve", "crv"])
                .and_then(Value::as_str)
                .unwrap_or("P-256");
            if !CURVES.contains(&curve) {
                error(
                    "keyProperties.curve",
                    format!("curve {curve}"),
                    "set \"curve\": \"P-256\", \"P-384\" or \"P-521\" (secp256k1 is not a Notary Project curve)".into(),
                );
            }
        }
        other => error(
            "keyProperties.keyType",
            format!("key type {other}"),
            "set \"keyType\": \"RSA\" or \"EC\" (or RSA-HSM, EC-HSM)".into(),
        ),
    }
    let mut warnings = Vec::new();
    if field(key, &["exportable"])
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        warnings.push(Problem {
            severity: Severity::Warning,
            field: "keyProperties.exportable".into(),
            found: "the private key is exportable: it is stored in the certificate's secret".into(),
            fix: "set \"exportable\": false; signing never needs the private key outside the vault"
                .into(),
        });
    }

    // Certificate.
    let usages = strings(field(x509, &["keyUsage", "key_usage"]));
    if !usages.iter().any(|u| u == "digitalSignature") {
        error(
            "x509CertificateProperties.keyUsage",
            "no digitalSignature [leaf.key-usage.no-digital-signature]".into(),
            "set \"keyUsage\": [\"digitalSignature\"]".into(),
        );
    }
    let forbidden: Vec<&String> = usages
        .iter()
        .filter(|u| FORBIDDEN_KEY_USAGES.contains(&u.as_str()))
        .collect();
    if !forbidden.is_empty() {
        error(
            "x509CertificateProperties.keyUsage",
            format!(
                "has {} [leaf.key-usage.forbidden]",
                forbidden
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "set \"keyUsage\": [\"digitalSignature\"]".into(),
        );
    }
    let ekus = strings(field(x509, &["ekus"]));
    let bad: Vec<String> = ekus
        .iter()
        .filter_map(|e| {
            FORBIDDEN_EKUS
                .iter()
                .find(|(oid, _)| oid == e)
                .map(|(oid, name)| format!("{name} ({oid})"))
        })
        .collect();
    if !bad.is_empty() {
        error(
            "x509CertificateProperties.ekus",
            format!("has {} [leaf.eku.forbidden]", bad.join(", ")),
            format!("set \"ekus\": [\"{CODE_SIGNING_EKU}\"] (code signing)"),
        );
    }
    if ekus.iter().any(|e| e == ANY_EKU) {
        warnings.push(Problem {
            severity: Severity::Warning,
            field: "x509CertificateProperties.ekus".into(),
            found: "has anyExtendedKeyUsage [leaf.eku.any]".into(),
            fix: format!("set \"ekus\": [\"{CODE_SIGNING_EKU}\"] (code signing)"),
        });
    } else if bad.is_empty() && !ekus.iter().any(|e| e == CODE_SIGNING_EKU) {
        warnings.push(Problem {
            severity: Severity::Warning,
            field: "x509CertificateProperties.ekus".into(),
            found: "no code-signing EKU".into(),
            fix: format!(
                "set \"ekus\": [\"{CODE_SIGNING_EKU}\"] so the certificate says what it is for"
            ),
        });
    }
    let subject = field(x509, &["subject"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(problem) = subject_problem(subject) {
        error(
            "x509CertificateProperties.subject",
            format!("{subject:?}: {problem}"),
            "set \"subject\" to a DN with C, ST and O, e.g. \"CN=signer,O=Contoso,ST=WA,C=US\""
                .into(),
        );
    }

    // Secret and renewal.
    let content_type = field(secret, &["contentType", "content_type"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if content_type != "application/x-pem-file" {
        warnings.push(Problem {
            severity: Severity::Warning,
            field: "secretProperties.contentType".into(),
            found: format!("{content_type:?}"),
            fix: "set \"contentType\": \"application/x-pem-file\": a PEM chain is readable by every Notary plugin and tool"
                .into(),
        });
    }
    let issuer = field(
        &policy,
        &["issuerParameters", "issuer_parameters", "issuer"],
    )
    .and_then(|i| field(i, &["name"]))
    .and_then(Value::as_str)
    .unwrap_or("Self");
    let renews = field(&policy, &["lifetimeActions", "lifetime_actions"])
        .and_then(Value::as_array)
        .is_some_and(|actions| {
            actions.iter().any(|a| {
                a.get("action")
                    .and_then(|a| field(a, &["actionType", "action_type"]))
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("AutoRenew"))
            })
        });
    if !renews && !issuer.eq_ignore_ascii_case("Unknown") {
        warnings.push(Problem {
            severity: Severity::Warning,
            field: "lifetimeActions".into(),
            found: "no AutoRenew action".into(),
            fix: format!(
                "add {{\"trigger\": {{\"lifetimePercentage\": {RENEW_AT_PERCENT}}}, \"action\": {{\"actionType\": \"AutoRenew\"}}}}"
            ),
        });
    }
    problems.extend(warnings);
    problems
}

/// The `--check` report as people read it.
pub fn check_report(path: &str, problems: &[Problem]) -> String {
    if problems.is_empty() {
        return format!(
            "{path}: no problems; certificates from this policy meet the Notary Project requirements\n"
        );
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let mut out = format!(
        "{path}: {errors} error(s), {} warning(s)\n",
        problems.len() - errors
    );
    for p in problems {
        let mark = match p.severity {
            Severity::Error => "✗",
            Severity::Warning => "!",
        };
        out.push_str(&format!(
            "{mark} {}: {}\n    Fix: {}\n",
            p.field, p.found, p.fix
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(subject: &str) -> Request {
        Request {
            subject: Some(subject.into()),
            ..Default::default()
        }
    }

    #[test]
    fn generated_policies_pass_the_linter() {
        for (key_type, size, curve) in [
            (None, None, None),
            (Some("RSA"), Some(2048), None),
            (Some("RSA-HSM"), Some(4096), None),
            (Some("EC"), None, Some("P-384")),
            (None, None, Some("P-521")),
        ] {
            let r = Request {
                key_type: key_type.map(str::to_string),
                key_size: size,
                curve: curve.map(str::to_string),
                ..request("CN=a,O=b,ST=c,C=US")
            };
            let (policy, _) = generate(&r).unwrap();
            let text = serde_json::to_string(&policy).unwrap();
            assert_eq!(check(&text), Vec::new(), "{text}");
        }
    }

    #[test]
    fn non_notary_requests_are_refused() {
        let cases = [
            (
                Request {
                    key_size: Some(1024),
                    ..request("CN=a,O=b,ST=c,C=US")
                },
                "RSA-1024",
            ),
            (
                Request {
                    curve: Some("P-256K".into()),
                    ..request("CN=a,O=b,ST=c,C=US")
                },
                "secp256k1",
            ),
            (
                Request {
                    exportable: true,
                    ..request("CN=a,O=b,ST=c,C=US")
                },
                "--force",
            ),
            (request("CN=a,O=b"), "missing C, ST"),
            (request("CN=a,O=b,ST=c,C=USA"), "two-letter"),
            (
                Request {
                    validity_months: Some(0),
                    ..request("CN=a,O=b,ST=c,C=US")
                },
                "between 1",
            ),
            (
                Request {
                    key_type: Some("oct".into()),
                    ..request("CN=a,O=b,ST=c,C=US")
                },
                "RSA or EC",
            ),
        ];
        for (r, why) in cases {
            let err = generate(&r).unwrap_err().0;
            assert!(err.contains(why), "{why}: {err}");
        }
        let (_, warnings) = generate(&Request {
            exportable: true,
            force: true,
            ..request("CN=a,O=b,ST=c,C=US")
        })
        .unwrap();
        assert!(warnings.iter().any(|w| w.contains("exportable")));
    }

    #[test]
    fn malformed_policies_are_problems_not_panics() {
        for text in ["", "[]", "{", "{\"keyProperties\": 5}", "null"] {
            assert!(!check(text).is_empty(), "{text}");
        }
    }
}
