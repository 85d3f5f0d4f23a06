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
        let repository = registry.repository(repo);
        // A relative file name: oras refuses absolute paths without --disable-path-validation.
        let output = self.oras_ok(&[
            "push",
            "--plain-http",
            "--format",
            "json",
            &format!("{repository}:{tag}"),
            &format!("{file}:{TEST_FILE_MEDIA_TYPE}"),
        ])?;
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
