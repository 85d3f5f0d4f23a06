//! The Notation plugin protocol, contract 1.0, as notation-go actually speaks it.
//!
//! Both plugins link this crate. It owns:
//! - the wire types of the five commands ([`metadata`], [`describe_key`], [`generate_signature`],
//!   [`generate_envelope`], [`verify_signature`]) and the error JSON ([`error`]);
//! - the encoding rules notation-go uses, which differ from the spec text in places: byte fields are
//!   padded standard base64 ([`b64`]); unknown request fields are ignored (no type here denies
//!   them); `null` is accepted where Go sends a nil slice or map; `expiry` may be Go's zero time
//!   and any UTC offset; empty maps are omitted;
//! - the [`runner`]: the only code that reads stdin and writes stdout/stderr;
//! - [`reference`](mod@reference): the shapes of the reference tables (config keys, environment variables, error
//!   catalogues) that each crate fills in and `docs/reference.md` is rendered from;
//! - [`schema`]: JSON Schemas generated from these types (checked in under `spec/schemas/`).
//!
//! Requests implement `Deserialize` leniently (as Go does) and responses serialize exactly what
//! notation expects; both directions derive `JsonSchema`.

pub mod algorithm;
pub mod attributes;
pub mod b64;
pub mod describe_key;
pub mod error;
pub mod generate_envelope;
pub mod generate_signature;
pub mod log;
pub mod metadata;
pub mod reference;
pub mod runner;
pub mod schema;
pub mod verify_signature;

pub use algorithm::{Capability, HashAlgorithm, KeySpec, SigningAlgorithm};
pub use describe_key::{DescribeKeyRequest, DescribeKeyResponse};
pub use error::{ErrorCode, PluginError};
pub use generate_envelope::{GenerateEnvelopeRequest, GenerateEnvelopeResponse};
pub use generate_signature::{GenerateSignatureRequest, GenerateSignatureResponse};
pub use metadata::{CONTRACT_VERSION, GetMetadataRequest, GetMetadataResponse};
pub use runner::{Command, Output, Plugin};
pub use verify_signature::{
    CriticalAttributes, Signature, TrustPolicy, VerificationResult, VerifySignatureRequest,
    VerifySignatureResponse,
};
