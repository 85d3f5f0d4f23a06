//! The first-run demo (`bash install.sh` ends with it): proves on this machine that the two
//! installed plugins work as a pair, against local stand-ins for Azure.
//!
//! It starts the TLS test vault (in process, one EC P-256 certificate with a root → intermediate
//! → leaf chain) and a registry on 127.0.0.1, pushes two small artifacts with oras, signs the
//! first with `notation sign --plugin akv` in RAW mode (notation builds the JWS envelope and checks
//! identity and revocation itself) and the second in envelope mode (the envelope names
//! `akv-verifier`), then verifies both with `notation verify` under a strict trust policy: the
//! first with an `x509.subject:` identity, the second with an `akv.key:` identity that only
//! `akv-verifier` can evaluate. Each step prints one line a person can read.
//!
//! Everything happens in a throwaway [`NotationEnv`] (its own notation config, plugin directory,
//! trust store and policy), so the user's own notation setup is never read or changed. The vault,
//! the registry and the temporary files go away when [`run`] returns, on success and on failure;
//! `install.sh` runs the demo in its own process group and directory so Ctrl-C cleans up too.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::{CertificateOptions, CredentialKind, TestVault};
use serde_json::json;

use crate::{Artifact, NotationEnv, Registry};

/// The plugin binaries the demo installs into its throwaway notation home.
#[derive(Debug, Clone)]
pub struct DemoPlugins {
    /// `notation-akv`.
    pub signer: PathBuf,
    /// `notation-akv-verifier`.
    pub verifier: PathBuf,
}

/// Why the demo stopped.
#[derive(Debug)]
pub struct DemoError {
    step: &'static str,
    detail: String,
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.step, self.detail)
    }
}

impl std::error::Error for DemoError {}

fn at<E: fmt::Display>(step: &'static str) -> impl FnOnce(E) -> DemoError {
    move |e| DemoError {
        step,
        detail: e.to_string(),
    }
}

const CERTIFICATE: &str = "demo-signer";
const STORE: &str = "akv-demo";

/// Runs the demo, writing its progress lines to `out`.
pub fn run(plugins: &DemoPlugins, out: &mut impl Write) -> Result<(), DemoError> {
    let world = DemoWorld::start(out)?;
    for binary in [&plugins.signer, &plugins.verifier] {
        world
            .env()
            .install_plugin(binary)
            .map_err(at("notation plugin install --file"))?;
    }
    say(
        out,
        format!(
            "installed akv and akv-verifier into a throwaway notation home ({})",
            world.env().config_dir().display()
        ),
    );
    world.sign_and_verify(out)?;
    say(
        out,
        "both signatures verified; the vault, the registry and the notation home are removed"
            .into(),
    );
    say(out, "with a real vault:".into());
    for line in real_vault_commands() {
        say(out, format!("  {line}"));
    }
    Ok(())
}

/// One progress line; a closed stdout must not abort the demo half-way (the exit status tells).
fn say(out: &mut impl Write, line: String) {
    let _ = writeln!(out, "demo: {line}");
    let _ = out.flush();
}

/// The test vault with the demo certificate, a throwaway notation home pointed at it (trusting
/// the certificate's root, with the demo's trust policy) and a registry. Dropping it stops and
/// removes everything.
#[derive(Debug)]
pub struct DemoWorld {
    // Field order is drop order: the registry and the notation home go before the vault.
    registry: Registry,
    env: NotationEnv,
    vault: TestVault,
    key_id: String,
    kid: String,
    subject: String,
    pin: String,
    verifier_log: PathBuf,
}

impl DemoWorld {
    /// Starts the vault and the registry and prepares the notation home (no plugin installed).
    pub fn start(out: &mut impl Write) -> Result<DemoWorld, DemoError> {
        let vault = TestVault::start().map_err(at("starting the test vault"))?;
        let chain = ChainBuilder::new(KeySpec::Ec256)
            .common_name("notation-akv demo signer")
            .build()
            .map_err(at("making the demo certificate chain"))?;
        let cert = vault
            .add_certificate(CERTIFICATE, &chain, CertificateOptions::default())
            .map_err(at("adding the demo certificate to the vault"))?;
        let key_url = cert
            .kid
            .rsplit_once('/')
            .map(|(url, _)| url.to_owned())
            .unwrap_or_else(|| cert.kid.clone());
        say(
            out,
            format!(
                "test vault {} on 127.0.0.1 (TLS, its name resolved by a local proxy), certificate {CERTIFICATE}: EC P-256, root -> intermediate -> leaf",
                vault.url()
            ),
        );

        let mut env = NotationEnv::new().map_err(at("creating the throwaway notation home"))?;
        for (key, value) in vault.credential_env(CredentialKind::ClientSecret) {
            env.set_env(key, value);
        }
        let verifier_log = env.root().join("akv-verifier.log");
        env.set_env("NOTATION_AKV_VERIFIER_LOG_FILE", &verifier_log);

        let registry = Registry::start().map_err(at("starting the registry"))?;
        say(
            out,
            format!(
                "registry on 127.0.0.1:{} (docker-registry)",
                registry.port()
            ),
        );

        let root = chain.root().unwrap_or_else(|| chain.leaf());
        let root_file = env
            .write_file("demo-root.pem", root.pem())
            .map_err(at("writing the demo root certificate"))?;
        env.add_ca_cert(STORE, &root_file)
            .map_err(at("notation cert add"))?;
        let subject = format!("x509.subject: {}", chain.leaf().subject().to_dn_string());
        let pin = format!("akv.key:{key_url}");
        env.import_trust_policy(&json!({
            "version": "1.0",
            "trustPolicies": [
                statement("raw", &registry.repository("demo/raw"), &subject),
                statement("envelope", &registry.repository("demo/envelope"), &pin),
            ]
        }))
        .map_err(at("notation policy import"))?;
        Ok(DemoWorld {
            registry,
            env,
            vault,
            key_id: cert.id,
            kid: cert.kid,
            subject,
            pin,
            verifier_log,
        })
    }

    /// The throwaway notation home (install the plugins into it before [`Self::sign_and_verify`]).
    pub fn env(&self) -> &NotationEnv {
        &self.env
    }

    /// The same, to add variables (e.g. a CA bundle for an https plugin download).
    pub fn env_mut(&mut self) -> &mut NotationEnv {
        &mut self.env
    }

    /// The test vault.
    pub fn vault(&self) -> &TestVault {
        &self.vault
    }

    /// Pushes two artifacts, signs one in RAW and one in envelope mode with the installed `akv`,
    /// and verifies both (the second through the installed `akv-verifier`).
    pub fn sign_and_verify(&self, out: &mut impl Write) -> Result<(), DemoError> {
        let (env, registry) = (&self.env, &self.registry);
        let raw = push(env, registry, "demo/raw", "signed in RAW mode")?;
        say(out, format!("pushed {} (oras)", raw.by_digest()));
        let envelope = push(env, registry, "demo/envelope", "signed in envelope mode")?;
        say(out, format!("pushed {} (oras)", envelope.by_digest()));

        sign(env, &self.key_id, &raw, &[])?;
        say(
            out,
            format!(
                "signed {} (RAW, JWS) with {} via plugin akv",
                raw.by_digest(),
                self.kid
            ),
        );
        sign(
            env,
            &self.key_id,
            &envelope,
            &["--plugin-config", "verification_plugin=akv-verifier"],
        )?;
        say(
            out,
            format!(
                "signed {} (envelope, JWS, names akv-verifier) with {}",
                envelope.by_digest(),
                self.kid
            ),
        );

        verify(env, &raw)?;
        say(
            out,
            format!(
                "verified {} (notation: trust store ca:{STORE}, identity {}, revocation by notation)",
                raw.by_digest(),
                self.subject
            ),
        );
        verify(env, &envelope)?;
        let log = std::fs::read_to_string(&self.verifier_log).unwrap_or_default();
        let Some(matched) = last_value(&log, "trusted identity: ") else {
            return Err(DemoError {
                step: "notation verify",
                detail: format!("akv-verifier logged no matched identity:\n{log}"),
            });
        };
        say(
            out,
            format!(
                "verified {} (akv-verifier: identity {}, revocation {})",
                envelope.by_digest(),
                matched_identity(matched),
                revocation_summary(&log),
            ),
        );
        if !matched.contains(&self.pin) {
            return Err(DemoError {
                step: "notation verify",
                detail: format!("akv-verifier matched {matched}, not {}", self.pin),
            });
        }
        Ok(())
    }
}

fn statement(name: &str, scope: &str, identity: &str) -> serde_json::Value {
    json!({
        "name": name,
        "registryScopes": [scope],
        "signatureVerification": { "level": "strict" },
        "trustStores": [format!("ca:{STORE}")],
        "trustedIdentities": [identity],
    })
}

fn push(
    env: &NotationEnv,
    registry: &Registry,
    repo: &str,
    text: &str,
) -> Result<Artifact, DemoError> {
    env.push_artifact(registry, repo, "v1", text.as_bytes())
        .map_err(at("oras push"))
}

fn sign(env: &NotationEnv, id: &str, artifact: &Artifact, extra: &[&str]) -> Result<(), DemoError> {
    let reference = artifact.by_digest();
    let mut args = vec!["sign", "--plugin", "akv", "--id", id];
    args.extend_from_slice(extra);
    args.push(&reference);
    env.notation_ok(&args).map_err(at("notation sign"))?;
    Ok(())
}

fn verify(env: &NotationEnv, artifact: &Artifact) -> Result<(), DemoError> {
    let out = env
        .notation_ok(&["verify", &artifact.by_digest()])
        .map_err(at("notation verify"))?;
    if out.stdout.contains("Successfully verified") {
        Ok(())
    } else {
        Err(DemoError {
            step: "notation verify",
            detail: format!("no success line in its output: {}", out.stdout),
        })
    }
}

/// The text after `prefix` on the last log line that has it.
fn last_value<'a>(log: &'a str, prefix: &str) -> Option<&'a str> {
    log.lines()
        .rev()
        .find_map(|line| line.split_once(prefix).map(|(_, rest)| rest.trim()))
}

/// The identity in the verifier's `trusted identity "<identity>" matched` line.
fn matched_identity(value: &str) -> &str {
    value.split('"').nth(1).unwrap_or(value)
}

/// The verifier's revocation lines of the last verification, shortened to one status per
/// certificate (`certificate #0 "<subject>" (serial …): <status>` becomes `#0 <status>`).
fn revocation_summary(log: &str) -> String {
    let mut last: Vec<String> = log
        .lines()
        .rev()
        .take_while(|line| !line.contains("verify-signature:"))
        .filter_map(|line| line.split_once("revocation: ").map(|(_, rest)| rest.trim()))
        .map(|entry| match entry.strip_prefix("certificate ") {
            Some(cert) => {
                let number = cert.split_whitespace().next().unwrap_or_default();
                let status = cert.rsplit_once("): ").map_or(cert, |(_, status)| status);
                format!("{number} {status}")
            }
            None => entry.to_string(),
        })
        .collect();
    if last.is_empty() {
        return "not reported (no verifier log)".into();
    }
    last.reverse();
    last.join(", ")
}

/// What to run against a real Azure Key Vault.
pub fn real_vault_commands() -> [&'static str; 4] {
    [
        "notation sign $IMAGE --plugin akv --id https://<vault>.vault.azure.net/certificates/<name>",
        "notation sign $IMAGE --plugin akv --id https://<vault>.vault.azure.net/certificates/<name> --plugin-config verification_plugin=akv-verifier",
        "trust policy: \"trustedIdentities\": [\"akv.key:https://<vault>.vault.azure.net/keys/<name>\"]",
        "notation verify $IMAGE",
    ]
}

/// `--signer PATH --verifier PATH` for the demo binary.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<DemoPlugins, String> {
    let (mut signer, mut verifier) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--signer" => &mut signer,
            "--verifier" => &mut verifier,
            other => return Err(format!("unknown argument {other}")),
        };
        *slot = Some(PathBuf::from(
            args.next().ok_or_else(|| format!("{arg} needs a path"))?,
        ));
    }
    let need = |path: Option<PathBuf>, flag: &str| {
        // notation runs in the throwaway home's work directory: the path must be absolute.
        path.and_then(|p| std::fs::canonicalize(p).ok())
            .filter(|p| p.is_file())
            .ok_or_else(|| format!("{flag} <path of an existing plugin binary> is required"))
    };
    Ok(DemoPlugins {
        signer: need(signer, "--signer")?,
        verifier: need(verifier, "--verifier")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revocation_summary_takes_the_last_verification_only() {
        let log = "verify-signature: leaf a\nrevocation: old\nverify-signature: leaf b\n\
                   trusted identity: \"akv.key:x\" matched\n\
                   revocation: certificate #0 \"CN=a, O=b\" (serial 01): good (OCSP)\n\
                   revocation: 0 network request(s)\n";
        assert_eq!(
            revocation_summary(log),
            "#0 good (OCSP), 0 network request(s)"
        );
        let matched = last_value(log, "trusted identity: ").unwrap();
        assert_eq!(matched_identity(matched), "akv.key:x");
        assert_eq!(revocation_summary(""), "not reported (no verifier log)");
    }
}
