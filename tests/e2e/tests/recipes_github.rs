//! The GitHub Actions recipes of `deploy/github-actions/`: linted (actionlint, `zizmor
//! --offline`), checked against the code (every plugin name, config key, verifier variable and
//! release archive they name exists), and run here. The signing job runs with the TLS test vault
//! standing in for Key Vault, the local registry for ACR, the archives of `bash install.sh --dist`
//! served over https for the release downloads and the real notation 1.3.2; then the
//! verification job accepts the image it signed and fails for an unsigned one.
//!
//! How a job runs here, and what stands in for what, is in `github_runner`; the emulations of
//! the actions are below.

mod github_runner;
mod recipes_support;
mod release_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_responders::pki::pem_block;
use akv_test_vault::{CertificateOptions, CredentialKind, TestVault};
use github_runner::{ActionCall, ActionDone, ActionResult, How, JobRun, Runner, Shell};
use notation_akv_e2e::{NotationEnv, Registry};
use recipes_support::*;
use release_support::{VERSION, archive, dist_dir, https_file_server, lint_workflow, sha256_hex};
use serde_json::Value;

const SIGN: &str = "sign-and-push.yml";
const VERIFY: &str = "verify-base-image.yml";

fn workflow(name: &str) -> Value {
    yaml(&deploy_dir("github-actions").join(name))
}

/// Every `run:` script and `with:` value of a workflow, and its `env:` keys and values.
fn texts(workflow: &Value) -> Vec<String> {
    fn env(texts: &mut Vec<String>, scope: &Value) {
        for (key, value) in scope.as_object().into_iter().flatten() {
            texts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
        }
    }
    let mut texts = Vec::new();
    env(&mut texts, &workflow["env"]);
    for job in workflow["jobs"].as_object().unwrap().values() {
        env(&mut texts, &job["env"]);
        for step in job["steps"].as_array().unwrap() {
            env(&mut texts, &step["env"]);
            env(&mut texts, &step["with"]);
            if let Some(script) = step["run"].as_str() {
                texts.push(script.to_string());
            }
        }
    }
    texts
}

fn steps<'a>(workflow: &'a Value, job: &str) -> &'a [Value] {
    workflow["jobs"][job]["steps"].as_array().unwrap()
}

fn step_using<'a>(workflow: &'a Value, job: &str, action: &str) -> &'a Value {
    steps(workflow, job)
        .iter()
        .find(|step| {
            step["uses"]
                .as_str()
                .is_some_and(|uses| uses.starts_with(&format!("{action}@")))
        })
        .unwrap_or_else(|| panic!("job {job} has no {action} step"))
}

#[test]
fn the_recipes_pass_actionlint_and_zizmor() {
    for name in [SIGN, VERIFY] {
        lint_workflow(&deploy_dir("github-actions").join(name));
    }
}

#[test]
fn every_action_is_pinned_by_commit_with_least_privilege_and_no_expression_in_run() {
    for name in [SIGN, VERIFY] {
        let workflow = workflow(name);
        assert_eq!(
            workflow["permissions"],
            serde_json::json!({}),
            "{name}: no token permission by default"
        );
        let text = std::fs::read_to_string(deploy_dir("github-actions").join(name)).unwrap();
        for (job_name, job) in workflow["jobs"].as_object().unwrap() {
            let permissions = job["permissions"].as_object().unwrap();
            for (scope, level) in permissions {
                let allowed = match scope.as_str() {
                    "contents" => level == "read",
                    "id-token" => level == "write",
                    _ => false,
                };
                assert!(allowed, "{name} {job_name}: permission {scope}: {level}");
            }
            for step in job["steps"].as_array().unwrap() {
                if let Some(uses) = step["uses"].as_str() {
                    let (_, sha) = uses.split_once('@').unwrap();
                    assert!(
                        sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                        "{name}: {uses} is not pinned by commit"
                    );
                    let line = text.lines().find(|line| line.contains(uses)).unwrap();
                    assert!(line.contains(" # v"), "{name}: {line}: say the version");
                    if uses.starts_with("Azure/login@") {
                        assert_eq!(job["permissions"]["id-token"], "write", "{name} {job_name}");
                        assert!(
                            step["with"]["creds"].is_null()
                                && step["with"]["client-id"].is_string(),
                            "{name}: Azure/login with OIDC (client-id), no stored secret"
                        );
                    }
                }
                if let Some(script) = step["run"].as_str() {
                    assert!(
                        !script.contains("${{"),
                        "{name}: expression in run: {script}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_name_the_recipes_use_exists_in_the_code_and_the_release() {
    let sign = workflow(SIGN);
    let verify = workflow(VERIFY);
    let dist = dist_archive_names(&dist_dir());

    // The signing step: our plugin, its archive, keys the signer accepts, by digest.
    let step = step_using(
        &sign,
        "build-and-sign",
        "notaryproject/notation-action/sign",
    );
    let with = &step["with"];
    assert_eq!(with["plugin_name"], plugin_name("notation-akv"));
    let config = with["plugin_config"].as_str().unwrap();
    let keys = signer_keys();
    for line in config.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line.split_once('=').expect("key=value");
        assert!(
            keys.contains(key),
            "plugin_config key {key} unknown to notation-akv: {keys:?}"
        );
        if key == "verification_plugin" {
            assert_eq!(value, plugin_name("notation-akv-verifier"));
        }
        if key == "verification_plugin_min_version" {
            assert_eq!(value, VERSION);
        }
    }
    assert!(
        with["target_artifact_reference"]
            .as_str()
            .unwrap()
            .ends_with("@${{ steps.build.outputs.digest }}"),
        "sign by digest"
    );
    assert!(
        with["key_id"].as_str().unwrap().contains("env.AKV_KEY_ID")
            && sign["env"]["AKV_KEY_ID"]
                .as_str()
                .unwrap()
                .contains(".vault.azure.net/keys/"),
        "key_id is the certificate's kid"
    );

    // Archive names: as install.sh --dist writes them, at the workspace version.
    for workflow in [&sign, &verify] {
        assert_eq!(workflow["env"]["PLUGIN_VERSION"], VERSION);
        let mut named = BTreeSet::new();
        for text in texts(workflow) {
            let text = text
                .replace("${{ env.PLUGIN_VERSION }}", VERSION)
                .replace("${PLUGIN_VERSION}", VERSION)
                .replace("$PLUGIN_VERSION", VERSION);
            named.extend(archive_names_in(&text));
        }
        for name in &named {
            if name.starts_with("notation-akv") {
                assert!(
                    dist.contains(name),
                    "{name} is not a release asset: {dist:?}"
                );
            }
        }
        assert!(
            named.iter().any(|n| n.starts_with("notation-akv")),
            "{named:?}"
        );
    }

    // Every NOTATION_AKV_* name is a setting the plugins read: the verifier refuses an unknown
    // NOTATION_AKV_VERIFIER_* variable, so a recipe's own variable must not look like one.
    let mut variables = BTreeSet::new();
    for workflow in [&sign, &verify] {
        for text in texts(workflow) {
            variables.extend(notation_akv_variables_in(&text));
        }
    }
    assert!(!variables.is_empty());
    for name in &variables {
        assert!(
            is_verifier_variable(name) || is_signer_variable(name),
            "{name} is not a setting of either plugin"
        );
    }

    // The build needs the verification, and builds on the image verified.
    assert_eq!(verify["jobs"]["build"]["needs"], "verify-base-image");
    let build = steps(&verify, "build").last().unwrap()["run"]
        .as_str()
        .unwrap();
    assert!(build.contains("docker build") && build.contains("BASE_IMAGE=$BASE_IMAGE"));
    assert!(
        verify["env"]["BASE_IMAGE"]
            .as_str()
            .unwrap()
            .contains("@sha256:")
    );

    // The trust policy in the repository covers the base image, with the store the script fills.
    let notation = deploy_dir("github-actions").join("notation");
    let policy = json(&notation.join("trustpolicy.json"));
    let statement = &policy["trustPolicies"][0];
    let base = verify["env"]["BASE_IMAGE"].as_str().unwrap();
    assert_eq!(
        statement["registryScopes"][0],
        base.split_once('@').unwrap().0
    );
    assert_eq!(statement["trustStores"][0], "ca:akv-signing");
    assert!(notation.join("truststore/x509/ca/akv-signing").is_dir());
    let identity = statement["trustedIdentities"][0].as_str().unwrap();
    let signer_key = sign["env"]["AKV_KEY_ID"].as_str().unwrap();
    let pin = identity.strip_prefix("akv.key:").expect("an akv.key: pin");
    assert!(
        signer_key.starts_with(&format!("{pin}/")),
        "{pin} pins {signer_key}"
    );
}

/// The actions the recipes use, emulated here.
struct Emulations<'a> {
    registry: &'a Registry,
    env: &'a NotationEnv,
    /// The root CA the checkout puts into the repository's trust store folder.
    root_pem: String,
    /// Applied to the files the checkout copies (the trust policy).
    rewrites: Vec<(String, String)>,
}

impl Emulations<'_> {
    fn call(&self, call: &ActionCall, shell: &Shell) -> ActionResult {
        let input = |name: &str| call.inputs.get(name).cloned().unwrap_or_default();
        match call.action {
            // The repository's files the recipes read: the notation folder, as a user copies it.
            "actions/checkout" => {
                let from = deploy_dir("github-actions").join("notation");
                let to = self.env.work_dir().join(".github/notation");
                copy_tree(&from, &to, &self.rewrites);
                let store = to.join("truststore/x509/ca/akv-signing");
                std::fs::write(store.join("akv-root.pem"), &self.root_pem).unwrap();
                Ok(ActionDone::default())
            }
            // The test vault's client credential (in the environment) stands in for the session.
            "Azure/login" => {
                for name in ["client-id", "tenant-id", "subscription-id"] {
                    if input(name).is_empty() {
                        return Err(format!("Azure/login without {name}"));
                    }
                }
                Ok(ActionDone::default())
            }
            "docker/setup-buildx-action" => Ok(ActionDone::default()),
            // An image (config and one layer) pushed with oras; the action's `digest` output.
            "docker/build-push-action" => {
                let tag_ref = input("tags");
                let prefix = format!("{}/", self.registry.host());
                let (repo, tag) = tag_ref
                    .strip_prefix(&prefix)
                    .and_then(|r| r.rsplit_once(':'))
                    .ok_or_else(|| format!("tags {tag_ref:?} not in the local registry"))?;
                if input("push") != "true" {
                    return Err("push: true expected".into());
                }
                self.env
                    .write_file(
                        "config.json",
                        r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#,
                    )
                    .unwrap();
                self.env
                    .write_file("layer.tar", format!("base image built at {tag}"))
                    .unwrap();
                let artifact = self
                    .env
                    .push_files(
                        self.registry,
                        repo,
                        tag,
                        &[
                            "--config",
                            "config.json:application/vnd.oci.image.config.v1+json",
                        ],
                        &["layer.tar:application/vnd.oci.image.layer.v1.tar"],
                    )
                    .map_err(|e| e.to_string())?;
                Ok(ActionDone {
                    log: format!("pushed {}", artifact.by_digest()),
                    outputs: BTreeMap::from([("digest".to_string(), artifact.digest)]),
                })
            }
            // notation 1.3.2 from tools/ is on PATH; the inputs must name that release.
            "notaryproject/notation-action/setup" => {
                let url = input("url");
                let checksum = input("checksum");
                if !url.ends_with("/v1.3.2/notation_1.3.2_linux_amd64.tar.gz")
                    || checksum.len() != 64
                {
                    return Err(format!("setup: url {url}, checksum {checksum}"));
                }
                let (ok, log) = shell.run("notation version", &BTreeMap::new());
                if ok && log.contains("1.3.2") {
                    Ok(ActionDone {
                        log,
                        ..ActionDone::default()
                    })
                } else {
                    Err(log)
                }
            }
            "notaryproject/notation-action/sign" => {
                let mut extra: BTreeMap<String, String> = call
                    .inputs
                    .iter()
                    .map(|(k, v)| (format!("INPUT_{}", k.to_ascii_uppercase()), v.clone()))
                    .collect();
                // Azure/login's session is the CLI credential; here the test vault's client
                // credential in the environment is what signs.
                let config = input("plugin_config")
                    .replace("credential_type=azurecli", "credential_type=environment");
                extra.insert("INPUT_PLUGIN_CONFIG".into(), config);
                let (ok, log) = shell.run(NOTATION_ACTION_SIGN, &extra);
                if ok {
                    Ok(ActionDone {
                        log,
                        ..ActionDone::default()
                    })
                } else {
                    Err(log)
                }
            }
            other => panic!("no emulation of {other} (add one, or do not use it)"),
        }
    }
}

/// What notation-action/sign v1.2.2 does (`src/sign.ts`), for notation >= 1.1: skip the plugin
/// install when `$XDG_CONFIG_HOME/notation/plugins/<name>/notation-<name>` exists, else
/// `notation plugin install --url --sha256sum`; then `notation sign` of each reference with
/// `--signature-format`, `--id`, `--plugin` and one `--plugin-config=` per non-empty line.
const NOTATION_ACTION_SIGN: &str = r#"
binary="${XDG_CONFIG_HOME:-$HOME/.config}/notation/plugins/$INPUT_PLUGIN_NAME/notation-$INPUT_PLUGIN_NAME"
if [[ -e $binary ]]; then
  echo "plugin $INPUT_PLUGIN_NAME is already installed"
else
  notation plugin install --url "$INPUT_PLUGIN_URL" --sha256sum "${INPUT_PLUGIN_CHECKSUM,,}"
fi
notation plugin ls
args=(sign --signature-format "$INPUT_SIGNATURE_FORMAT" --id "$INPUT_KEY_ID" --plugin "$INPUT_PLUGIN_NAME")
while IFS= read -r line; do
  line="${line#"${line%%[![:space:]]*}"}"; line="${line%"${line##*[![:space:]]}"}"
  [[ -n $line ]] && args+=("--plugin-config=$line")
done <<<"$INPUT_PLUGIN_CONFIG"
while IFS= read -r ref; do
  ref="${ref//[[:space:]]/}"
  [[ -n $ref ]] && notation "${args[@]}" "$ref"
done <<<"$INPUT_TARGET_ARTIFACT_REFERENCE"
"#;

fn copy_tree(from: &Path, to: &Path, rewrites: &[(String, String)]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, rewrites);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let text = rewrites
                .iter()
                .fold(text, |text, (cloud, local)| text.replace(cloud, local));
            std::fs::write(target, text).unwrap();
        }
    }
}

fn report(run: &JobRun) -> String {
    run.steps
        .iter()
        .map(|s| format!("--- {} ({:?}, ok={})\n{}\n", s.name, s.how, s.ok, s.output))
        .collect()
}

#[test]
fn the_sign_job_signs_and_the_verify_job_accepts_that_image_and_fails_for_an_unsigned_one() {
    let sign = workflow(SIGN);
    let verify = workflow(VERIFY);

    // Key Vault: the signing certificate, root -> intermediate -> leaf.
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .common_name("base-image-signer")
        .build()
        .unwrap();
    let cert = vault
        .add_certificate("base-image-signer", &chain, CertificateOptions::default())
        .unwrap();
    let key_url = cert.kid.rsplit_once('/').unwrap().0.to_string();
    let registry = Registry::start().unwrap();

    // The release downloads, over https.
    let (tls, _runtime, server) = https_file_server();
    let mut sums = BTreeMap::new();
    for plugin in ["akv", "akv-verifier"] {
        let path = archive(plugin);
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        server.files.put(
            &format!("/download/v{VERSION}/{name}"),
            std::fs::read(&path).unwrap(),
        );
        sums.insert(plugin, sha256_hex(&path));
    }
    let rewrites = vec![
        (
            "https://github.com/notation-akv/notation-akv/releases/download/".to_string(),
            server.url("/download/"),
        ),
        ("contoso.azurecr.io".to_string(), registry.host()),
        (
            "https://contoso-signing.vault.azure.net/keys/base-image-signer".to_string(),
            key_url.clone(),
        ),
    ];
    let vars: BTreeMap<String, String> = [
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_SUBSCRIPTION_ID",
    ]
    .into_iter()
    .map(|k| {
        (
            k.to_string(),
            "00000000-0000-0000-0000-000000000000".to_string(),
        )
    })
    .collect();
    let replaced = vec![(
        "acr-login".to_string(),
        "the local registry needs no login".to_string(),
    )];
    let runner_env = || {
        let mut env = NotationEnv::new().unwrap();
        for (key, value) in vault.credential_env(CredentialKind::ClientSecret) {
            env.set_env(key, value);
        }
        let bundle = format!(
            "{}{}",
            vault.ca_pem(),
            pem_block("CERTIFICATE", &tls.ca_der())
        );
        let bundle = env.write_file("ca-bundle.pem", bundle).unwrap();
        env.set_env("SSL_CERT_FILE", &bundle);
        env
    };
    let root_pem = chain.root().unwrap().pem();

    // One job on a fresh runner; returns what it ran and the runner's home.
    let run_job = |workflow: &Value, job: &str, overrides: &[(&str, &str)]| {
        let env = runner_env();
        let emulations = Emulations {
            registry: &registry,
            env: &env,
            root_pem: root_pem.clone(),
            rewrites: rewrites.clone(),
        };
        let call = |call: &ActionCall, shell: &Shell| emulations.call(call, shell);
        let runner = Runner {
            env: &env,
            rewrites: rewrites.clone(),
            env_overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            vars: vars.clone(),
            replaced_steps: replaced.clone(),
            actions: &call,
            sha: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        };
        let run = runner.run_job(workflow, job);
        drop(runner);
        (run, env)
    };

    // The signing job.
    let (run, _) = run_job(
        &sign,
        "build-and-sign",
        &[("AKV_KEY_ID", &cert.kid), ("SIGNER_SHA256", &sums["akv"])],
    );
    assert!(run.success(), "{}", report(&run));
    let pushed = run.step("Build and push").output.clone();
    let image = pushed.strip_prefix("pushed ").unwrap().to_string();
    let signed = run.step("Sign with Azure Key Vault");
    assert!(
        signed
            .output
            .contains(&format!("Successfully signed {image}")),
        "{}",
        report(&run)
    );
    assert!(
        signed.output.contains(&format!(
            "Successfully installed plugin akv, version {VERSION}"
        )),
        "{}",
        signed.output
    );
    assert_eq!(
        run.steps.iter().filter(|s| s.how == How::Ran).count(),
        1,
        "the fresh-home step ran as written: {}",
        report(&run)
    );

    // An image nobody signed, in the same repository.
    let unsigned = {
        let env = NotationEnv::new().unwrap();
        env.push_artifact(
            &registry,
            "base/runtime",
            "unsigned",
            b"unsigned base image",
        )
        .unwrap()
        .by_digest()
    };

    let verify_job = |base_image: &str| {
        let (run, env) = run_job(
            &verify,
            "verify-base-image",
            &[
                ("BASE_IMAGE", base_image),
                ("VERIFIER_SHA256", &sums["akv-verifier"]),
            ],
        );
        let log = std::fs::read_to_string(env.root().join("runner-temp/akv-verifier.log"))
            .unwrap_or_default();
        (run, log)
    };

    let (run, log) = verify_job(&image);
    assert!(run.success(), "{}", report(&run));
    let verified = run.step("Verify the base image");
    assert_eq!(verified.how, How::Ran);
    assert!(
        verified
            .output
            .contains(&format!("Successfully verified signature for {image}")),
        "{}",
        report(&run)
    );
    // akv-verifier decided, with the pin, and read the job's settings.
    assert!(
        log.contains("trusted identity") && log.contains(&format!("akv.key:{key_url}")),
        "{log}"
    );
    assert_eq!(run.step("The verifier's log").how, How::Skipped);

    let (run, _) = verify_job(&unsigned);
    assert!(
        !run.success(),
        "an unsigned base image must fail: {}",
        report(&run)
    );
    let failed = run.failed_step().unwrap();
    assert_eq!(failed.name, "Verify the base image", "{}", report(&run));
    assert!(
        failed.output.contains("no signature is associated"),
        "{}",
        failed.output
    );
    assert_eq!(run.step("The verifier's log").how, How::Ran);
    drop(server);
}
