//! Putting artifacts into the registry with the real oras CLI.

use serde::Deserialize;

use crate::env::NotationEnv;
use crate::error::{HarnessError, Result};
use crate::registry::Registry;

/// An artifact pushed to the test registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// `localhost:PORT/<repository>`.
    pub repository: String,
    /// The tag it was pushed under.
    pub tag: String,
    /// The manifest digest, `sha256:…`.
    pub digest: String,
}

impl Artifact {
    /// `localhost:PORT/<repository>@sha256:…`, the reference notation should sign and verify.
    pub fn by_digest(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }

    /// `localhost:PORT/<repository>:<tag>`.
    pub fn by_tag(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }
}

#[derive(Deserialize)]
struct PushResult {
    digest: String,
}

/// The media type given to pushed test files.
pub const TEST_FILE_MEDIA_TYPE: &str = "application/vnd.notation-akv.test+text";

impl NotationEnv {
    /// `oras push --plain-http localhost:PORT/<repo>:<tag> <file>` with `contents` as the single
    /// layer; returns the manifest digest that oras reports.
    pub fn push_artifact(
        &self,
        registry: &Registry,
        repo: &str,
        tag: &str,
        contents: &[u8],
    ) -> Result<Artifact> {
        let file = format!("{tag}.txt");
        self.write_file(&file, contents)?;
        self.push_files(
            registry,
            repo,
            tag,
            &[],
            &[&format!("{file}:{TEST_FILE_MEDIA_TYPE}")],
        )
    }

    /// `oras push --plain-http [options] localhost:PORT/<repo>:<tag> <file:mediaType>…` for files
    /// already in the work directory (relative names), e.g. an image config and its layers;
    /// returns the manifest digest that oras reports.
    pub fn push_files(
        &self,
        registry: &Registry,
        repo: &str,
        tag: &str,
        options: &[&str],
        files: &[&str],
    ) -> Result<Artifact> {
        let repository = registry.repository(repo);
        let target = format!("{repository}:{tag}");
        let mut args = vec!["push", "--plain-http", "--format", "json"];
        args.extend_from_slice(options);
        args.push(&target);
        args.extend_from_slice(files);
        let output = self.oras_ok(&args)?;
        self.artifact_from(output, repository, tag)
    }

    /// `oras attach --plain-http --artifact-type <type> <subject> <file:mediaType>…`: a referrer
    /// of `subject` (an SBOM, say), found through the referrers tag schema on distribution 2.8.
    pub fn attach_file(
        &self,
        subject: &Artifact,
        artifact_type: &str,
        file: &str,
    ) -> Result<Artifact> {
        let output = self.oras_ok(&[
            "attach",
            "--plain-http",
            "--format",
            "json",
            "--artifact-type",
            artifact_type,
            &subject.by_digest(),
            file,
        ])?;
        self.artifact_from(output, subject.repository.clone(), "")
    }

    fn artifact_from(
        &self,
        output: crate::process::Output,
        repository: String,
        tag: &str,
    ) -> Result<Artifact> {
        let pushed: PushResult =
            serde_json::from_str(&output.stdout).map_err(|err| HarnessError::UnexpectedOutput {
                command: output.command.clone(),
                reason: format!("not the JSON push result ({err})"),
                output: output.stdout.clone(),
            })?;
        if !pushed.digest.starts_with("sha256:") {
            return Err(HarnessError::UnexpectedOutput {
                command: output.command,
                reason: format!("digest {:?} is not sha256", pushed.digest),
                output: output.stdout,
            });
        }
        Ok(Artifact {
            repository,
            tag: tag.to_owned(),
            digest: pushed.digest,
        })
    }
}
