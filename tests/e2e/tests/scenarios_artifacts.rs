//! The artifact kinds users sign with akv, through the real notation 1.3.2 and oras CLIs against
//! the local registry: a container image (OCI image manifest with an image config and several
//! layers), an SPDX SBOM attached to it with `oras attach` and found through the referrers (tag
//! schema on distribution 2.8), a Helm chart (Helm's config and chart media types, a real chart
//! tarball made here), and an AI model (a small weights file as an OCI artifact of the model
//! artifact type). Each is signed in RAW mode and in envelope mode (the signature naming
//! akv-verifier, which then runs on verify), verified by tag and digest, and then tampered with:
//! re-pushing changed content under the same tag, and moving the tag to another artifact, each
//! makes `notation verify` of the tag fail.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::shared_with_fixtures;
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{Artifact, trust_policy};

mod signer_support;

use signer_support::{STORE, World};

const REPO: &str = "kinds";

/// How one artifact kind is made and pushed.
struct Kind {
    tag: &'static str,
    /// oras options (config, artifact type) and files (`name:mediaType`) in the work directory.
    options: Vec<String>,
    files: Vec<String>,
}

fn world() -> World {
    let mut w = World::new();
    w.env.set_env(
        "NOTATION_AKV_VERIFIER_LOG_FILE",
        w.env.root().join("verifier.log"),
    );
    w.env
        .install_plugin(&workspace_binary("notation-akv-verifier").unwrap())
        .unwrap();
    w.trust(&names::ca_issued(KeySpec::Ec256));
    w.env
        .import_trust_policy(&trust_policy(&w.registry.repository(REPO), STORE, &["*"]))
        .unwrap();
    w
}

/// Runs a bash script in the work directory (tar, gzip): the files a kind is made of.
fn make(w: &World, script: &str) {
    let out = w.env.shell(script).unwrap();
    assert!(out.success(), "{out:?}");
}

/// A two-layer image with its image config.
fn image(w: &World, variant: &str) -> Kind {
    make(
        w,
        &format!(
            "mkdir -p rootfs-{variant}/bin rootfs-{variant}/etc
             printf '#!/bin/sh\\necho hello {variant}\\n' > rootfs-{variant}/bin/hello
             printf 'app=1\\n' > rootfs-{variant}/etc/app.conf
             tar -C rootfs-{variant} -cf - bin | gzip -n > layer1-{variant}.tar.gz
             tar -C rootfs-{variant} -cf - etc | gzip -n > layer2-{variant}.tar.gz"
        ),
    );
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/hello"]},
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    w.env
        .write_file(&format!("image-config-{variant}.json"), config.to_string())
        .unwrap();
    let layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    Kind {
        tag: "image",
        options: vec![
            "--config".into(),
            format!("image-config-{variant}.json:application/vnd.oci.image.config.v1+json"),
        ],
        files: vec![
            format!("layer1-{variant}.tar.gz:{layer}"),
            format!("layer2-{variant}.tar.gz:{layer}"),
        ],
    }
}

/// A Helm chart: a real `helm package`-shaped tarball and Helm's chart config.
fn helm_chart(w: &World, variant: &str) -> Kind {
    make(
        w,
        &format!(
            "mkdir -p chart-{variant}/mychart/templates
             printf 'apiVersion: v2\\nname: mychart\\nversion: 0.1.0\\nappVersion: \"{variant}\"\\n' > chart-{variant}/mychart/Chart.yaml
             printf 'replicaCount: 1\\nimage: localhost/app:{variant}\\n' > chart-{variant}/mychart/values.yaml
             printf 'apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: {{{{ .Chart.Name }}}}\\n' > chart-{variant}/mychart/templates/deployment.yaml
             tar -C chart-{variant} -cf - mychart | gzip -n > mychart-0.1.0-{variant}.tgz"
        ),
    );
    let config = serde_json::json!({"name": "mychart", "version": "0.1.0", "apiVersion": "v2", "appVersion": variant});
    w.env
        .write_file(&format!("chart-config-{variant}.json"), config.to_string())
        .unwrap();
    Kind {
        tag: "chart",
        options: vec![
            "--config".into(),
            format!("chart-config-{variant}.json:application/vnd.cncf.helm.config.v1+json"),
        ],
        files: vec![format!(
            "mychart-0.1.0-{variant}.tgz:application/vnd.cncf.helm.chart.content.v1.tar+gzip"
        )],
    }
}

/// An AI model: a small safetensors-style weights file (8-byte header length, JSON header, f32
/// data) pushed with the model artifact type.
fn model(w: &World, variant: &str) -> Kind {
    let header = serde_json::json!({
        "dense.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "__metadata__": {"variant": variant},
    })
    .to_string();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    for x in [0.5f32, -1.0, 2.0, 0.25] {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    w.env
        .write_file(&format!("model-{variant}.safetensors"), bytes)
        .unwrap();
    Kind {
        tag: "model",
        options: vec![
            "--artifact-type".into(),
            "application/vnd.cncf.model.manifest.v1+json".into(),
        ],
        files: vec![format!(
            "model-{variant}.safetensors:application/vnd.cncf.model.weight.v1.raw"
        )],
    }
}

fn push(w: &World, kind: &Kind, tag: &str) -> Artifact {
    let options: Vec<&str> = kind.options.iter().map(String::as_str).collect();
    let files: Vec<&str> = kind.files.iter().map(String::as_str).collect();
    w.env
        .push_files(&w.registry, REPO, tag, &options, &files)
        .unwrap()
}

/// RAW (notation builds the envelope) and envelope mode (the signature names akv-verifier).
const MODES: [(&str, &[&str]); 2] = [
    ("raw", &[]),
    ("envelope", &["verification_plugin=akv-verifier"]),
];

fn sign(w: &World, artifact: &Artifact, config: &[&str]) {
    let id = &shared_with_fixtures()
        .fixtures
        .get(&names::ca_issued(KeySpec::Ec256))
        .version
        .kid;
    w.sign(artifact, id, "jws", config);
}

fn verify(w: &World, reference: &str) -> bool {
    let out = w.env.notation(&["verify", reference]).unwrap();
    out.success() && out.stdout.contains("Successfully verified")
}

/// Signs `make`'s artifact in both modes, verifies it by digest and tag, then tampers with it.
fn sign_verify_tamper(make_kind: fn(&World, &str) -> Kind) {
    let w = world();
    for (mode, config) in MODES {
        let kind = make_kind(&w, mode);
        let tag = format!("{}-{mode}", kind.tag);
        let signed = push(&w, &kind, &tag);
        sign(&w, &signed, config);
        assert!(verify(&w, &signed.by_digest()), "{tag} by digest");
        assert!(verify(&w, &signed.by_tag()), "{tag} by tag");
        // A changed layer re-pushed under the same tag: the tag now names unsigned content.
        let changed = make_kind(&w, &format!("{mode}-changed"));
        let repushed = push(&w, &changed, &tag);
        assert_ne!(repushed.digest, signed.digest);
        assert!(
            !verify(&w, &signed.by_tag()),
            "{tag}: re-pushed content must not verify"
        );
        assert!(
            verify(&w, &signed.by_digest()),
            "the signed digest still verifies"
        );
        // The tag moved back to the signed artifact verifies; moved to another one it fails.
        w.env
            .oras_ok(&["tag", "--plain-http", &signed.by_digest(), &tag])
            .unwrap();
        assert!(
            verify(&w, &signed.by_tag()),
            "{tag} back on the signed digest"
        );
        w.env
            .oras_ok(&["tag", "--plain-http", &repushed.by_digest(), &tag])
            .unwrap();
        assert!(
            !verify(&w, &signed.by_tag()),
            "{tag} moved elsewhere must not verify"
        );
    }
    if MODES.iter().any(|(m, _)| *m == "envelope") {
        let log = signer_support::read_log(&w.env, "verifier.log");
        assert!(
            !log.is_empty(),
            "akv-verifier ran for the envelope-mode signatures"
        );
    }
}

#[test]
fn a_container_image_with_layers_and_config() {
    sign_verify_tamper(image);
}

#[test]
fn a_helm_chart_with_helms_media_types() {
    sign_verify_tamper(helm_chart);
}

#[test]
fn an_ai_model_artifact() {
    sign_verify_tamper(model);
}

#[test]
fn an_sbom_attached_to_an_image_is_signed_as_its_own_subject() {
    let w = world();
    for (mode, config) in MODES {
        let kind = image(&w, &format!("sbom-{mode}"));
        let subject = push(&w, &kind, &format!("with-sbom-{mode}"));
        let sbom = serde_json::json!({
            "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
            "name": format!("image-{mode}"), "documentNamespace": format!("https://example.test/spdx/{mode}"),
            "creationInfo": {"created": "2026-12-01T00:00:00Z", "creators": ["Tool: notation-akv-e2e"]},
            "packages": [{"name": "hello", "SPDXID": "SPDXRef-hello", "versionInfo": mode, "downloadLocation": "NOASSERTION"}],
        });
        let file = format!("sbom-{mode}.spdx.json");
        w.env.write_file(&file, sbom.to_string()).unwrap();
        let attached = w
            .env
            .attach_file(
                &subject,
                "application/spdx+json",
                &format!("{file}:application/spdx+json"),
            )
            .unwrap();
        // Found through the referrers of the image.
        let discovered = w
            .env
            .oras_ok(&[
                "discover",
                "--plain-http",
                "--format",
                "json",
                "--artifact-type",
                "application/spdx+json",
                &subject.by_digest(),
            ])
            .unwrap();
        assert!(
            discovered.stdout.contains(&attached.digest),
            "{}",
            discovered.stdout
        );
        // The SBOM is signed and verified as its own subject; the image itself is unsigned.
        sign(&w, &attached, config);
        assert!(verify(&w, &attached.by_digest()), "sbom ({mode})");
        assert!(
            !verify(&w, &subject.by_digest()),
            "the image was not signed"
        );
        // Another SBOM attached later is not covered by that signature.
        w.env
            .write_file(
                &format!("sbom-{mode}-2.spdx.json"),
                "{\"spdxVersion\":\"SPDX-2.3\"}",
            )
            .unwrap();
        let other = w
            .env
            .attach_file(
                &subject,
                "application/spdx+json",
                &format!("sbom-{mode}-2.spdx.json:application/spdx+json"),
            )
            .unwrap();
        assert!(
            !verify(&w, &other.by_digest()),
            "an unsigned SBOM must not verify"
        );
    }
}
