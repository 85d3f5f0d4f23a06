//! End-to-end harness: the real notation CLI, an OCI registry and the test vault
