//! Signer plugin library.
