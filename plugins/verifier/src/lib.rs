//! Verifier plugin library.
