//! End-to-end harness: the real notation CLI (1.3.2), oras and an OCI registry
//! (`docker-registry`, distribution 2.8), all provisioned by `tests/provision.sh`.
//!
//! Design:
//! - **Real components, never skipped.** [`locate`] finds notation/oras in `tools/bin` (then
//!   `PATH`) and the workspace's plugin binaries in the cargo target directory; a missing piece is
//!   an error that says how to get it.
//! - **One isolated world per test.** [`registry::Registry`] runs a registry on a free 127.0.0.1
//!   port with its own storage; [`env::NotationEnv`] gives notation and oras a private config,
//!   plugin directory, cache and home. Both clean up on drop.
//! - **Deadlines everywhere.** Every CLI run goes through [`process::run`] with a timeout.
//! - **Capture what notation really sends.** The [`recorder`] plugin logs each request verbatim
//!   and signs with a [`local_key::LocalKey`]; [`examples`] turns the captures into `spec/examples`.
//! - **The first run.** [`demo`] is what `bash install.sh` ends with: the two installed plugins
//!   sign and verify against the local test vault and registry (binary `notation-akv-demo`).

pub mod bench;
pub mod demo;
pub mod doc_table;
pub mod env;
pub mod error;
pub mod examples;
pub mod local_key;
pub mod locate;
pub mod oras;
pub mod plugin;
pub mod process;
pub mod recorder;
pub mod registry;
pub mod trust;

pub use env::NotationEnv;
pub use error::{HarnessError, Result};
pub use oras::Artifact;
pub use process::Output;
pub use registry::Registry;
pub use trust::{TestKey, trust_policy};
