//! The Notation plugin protocol, contract 1.0, as notation-go actually speaks it.
//!
//! Both plugins link this crate: it owns the wire types, the error JSON and its codes, and the
//! runner that turns one process invocation (command in argv, request on stdin) into exactly one
//! response on stdout or one error on stderr.

pub mod algorithm;

pub use algorithm::{Capability, HashAlgorithm, KeySpec, SigningAlgorithm};
