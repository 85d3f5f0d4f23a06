//! One process, one command: the loop both plugin binaries share.
//!
//! notation runs `notation-<name> <command>` with the request as JSON on stdin. On success the whole
//! stdout must be exactly one JSON value and the exit code 0; on failure the error JSON goes to
//! stderr with exit code 1 (stderr is read only then). The runner is the only code that touches
//! the three streams, so nothing a plugin does can put a stray byte on stdout.

use crate::error::PluginError;
use crate::metadata::{CONTRACT_VERSION, GetMetadataRequest, GetMetadataResponse};
use crate::reference::{
    INTERNAL_ERROR, NOT_IMPLEMENTED, UNKNOWN_COMMAND, UNREADABLE_REQUEST, UNSUPPORTED_CONTRACT,
};
use crate::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

/// Requests larger than this are refused; real ones are a few KiB (a chain, a payload digest).
pub const MAX_REQUEST_BYTES: u64 = 32 * 1024 * 1024;

/// The plugin commands of contract 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    GetPluginMetadata,
    DescribeKey,
    GenerateSignature,
    GenerateEnvelope,
    VerifySignature,
}

impl Command {
    pub const ALL: [Command; 5] = [
        Command::GetPluginMetadata,
        Command::DescribeKey,
        Command::GenerateSignature,
        Command::GenerateEnvelope,
        Command::VerifySignature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Command::GetPluginMetadata => "get-plugin-metadata",
            Command::DescribeKey => "describe-key",
            Command::GenerateSignature => "generate-signature",
            Command::GenerateEnvelope => "generate-envelope",
            Command::VerifySignature => "verify-signature",
        }
    }

    pub fn parse(text: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether notation sends this command to a plugin with `capabilities`.
    pub fn serves(self, capabilities: &[Capability]) -> bool {
        capabilities.iter().any(|c| match self {
            Command::GetPluginMetadata => true,
            Command::DescribeKey | Command::GenerateSignature => {
                *c == Capability::SignatureGeneratorRaw
            }
            Command::GenerateEnvelope => *c == Capability::SignatureGeneratorEnvelope,
            Command::VerifySignature => matches!(
                c,
                Capability::TrustedIdentityVerifier | Capability::RevocationCheckVerifier
            ),
        })
    }
}

/// What a plugin implements. Commands it does not implement keep the default, which answers with
/// a clear error; their capability must not be advertised in [`Plugin::metadata`].
pub trait Plugin {
    /// Static metadata: no network, no disk. `pluginConfig` may switch capabilities.
    fn metadata(&self, request: &GetMetadataRequest) -> GetMetadataResponse;

    /// Extra text for `--help` (configuration keys, examples).
    fn help(&self) -> &str {
        ""
    }

    fn describe_key(
        &self,
        _request: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, PluginError> {
        Err(not_supported(Command::DescribeKey))
    }

    fn generate_signature(
        &self,
        _request: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        Err(not_supported(Command::GenerateSignature))
    }

    fn generate_envelope(
        &self,
        _request: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        Err(not_supported(Command::GenerateEnvelope))
    }

    fn verify_signature(
        &self,
        _request: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        Err(not_supported(Command::VerifySignature))
    }
}

fn not_supported(command: Command) -> PluginError {
    PluginError::new(
        NOT_IMPLEMENTED.code,
        format!(
            "this plugin does not implement {}; it is not among the capabilities it advertises",
            command.as_str()
        ),
    )
}

/// What the process writes and how it exits.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: u8,
}

/// Runs the real process: `std::env::args`, stdin, stdout, stderr.
pub fn main<P: Plugin>(plugin: &P) -> ExitCode {
    // The default hook prints to stderr, which notation parses as the error JSON; panics are
    // caught and reported by `run` instead.
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut output = run(plugin, &args, &mut std::io::stdin().lock());
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(&output.stdout)
        .and_then(|()| stdout.flush())
    {
        // Closed early (the reader is gone): a response that did not arrive is a failure, said
        // where notation reads failures.
        output = unwritten(e);
    }
    let _ = std::io::stderr().write_all(&output.stderr);
    ExitCode::from(output.exit_code)
}

/// The error output for a response that could not be written to stdout.
fn unwritten(error: std::io::Error) -> Output {
    Output {
        stdout: Vec::new(),
        stderr: to_json(&PluginError::generic(format!(
            "the response could not be written to stdout ({error}); notation reads it from this \
             process's standard output, which was closed before the response was complete"
        ))),
        exit_code: 1,
    }
}

/// Runs one invocation against in-memory streams (the testable core of [`main`]).
pub fn run<P: Plugin>(plugin: &P, args: &[OsString], stdin: &mut dyn Read) -> Output {
    let first = args.first().and_then(|a| a.to_str());
    match first {
        Some("--help" | "-h" | "help") => return human(help_text(plugin)),
        Some("--version" | "-V" | "version") => {
            let meta = plugin.metadata(&GetMetadataRequest::default());
            return human(format!("{} {}\n", meta.name, meta.version));
        }
        _ => {}
    }
    let result = match (first, args.len()) {
        (Some(name), 1) => match Command::parse(name) {
            Some(command) => catch_unwind(AssertUnwindSafe(|| dispatch(plugin, command, stdin)))
                .unwrap_or_else(|panic| Err(panic_error(panic))),
            None => Err(PluginError::new(
                UNKNOWN_COMMAND.code,
                format!(
                    "unknown command {name:?}; expected one of: {} (or --help)",
                    command_list()
                ),
            )),
        },
        (None, 1) => Err(PluginError::new(
            UNKNOWN_COMMAND.code,
            format!(
                "the command {:?} is not UTF-8 text; expected one of: {} (or --help)",
                args[0],
                command_list()
            ),
        )),
        _ => Err(PluginError::new(
            UNKNOWN_COMMAND.code,
            format!(
                "expected exactly one argument, the command: {} (or --help)",
                command_list()
            ),
        )),
    };
    match result {
        Ok(stdout) => Output {
            stdout,
            stderr: Vec::new(),
            exit_code: 0,
        },
        Err(error) => Output {
            stdout: Vec::new(),
            stderr: to_json(&error),
            exit_code: 1,
        },
    }
}

fn dispatch<P: Plugin>(
    plugin: &P,
    command: Command,
    stdin: &mut dyn Read,
) -> Result<Vec<u8>, PluginError> {
    let raw = read_request(stdin)?;
    match command {
        Command::GetPluginMetadata => {
            // `plugin install` and `plugin list` send `{}`; people may send nothing at all.
            let request: GetMetadataRequest = if raw.iter().all(u8::is_ascii_whitespace) {
                GetMetadataRequest::default()
            } else {
                parse(&raw, None)?
            };
            Ok(to_json(&plugin.metadata(&request)))
        }
        Command::DescribeKey => respond(plugin.describe_key(parse(&raw, Some(command))?)),
        Command::GenerateSignature => {
            respond(plugin.generate_signature(parse(&raw, Some(command))?))
        }
        Command::GenerateEnvelope => respond(plugin.generate_envelope(parse(&raw, Some(command))?)),
        Command::VerifySignature => {
            let request: VerifySignatureRequest = parse(&raw, Some(command))?;
            request.validate()?;
            respond(plugin.verify_signature(request))
        }
    }
}

fn respond<T: Serialize>(result: Result<T, PluginError>) -> Result<Vec<u8>, PluginError> {
    result.map(|response| to_json(&response))
}

fn read_request(stdin: &mut dyn Read) -> Result<Vec<u8>, PluginError> {
    let mut raw = Vec::new();
    stdin
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| {
            PluginError::new(
                UNREADABLE_REQUEST.code,
                format!("cannot read the request from stdin: {e}"),
            )
        })?;
    if raw.len() as u64 > MAX_REQUEST_BYTES {
        return Err(PluginError::new(
            UNREADABLE_REQUEST.code,
            format!("the request on stdin is larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    Ok(raw)
}

/// Parses a request: malformed JSON or a missing field is `VALIDATION_ERROR`; for commands that
/// carry one, a `contractVersion` other than 1.0 is `UNSUPPORTED_CONTRACT_VERSION`, checked before
/// the typed parse so a request from a future contract gets the right code.
fn parse<T: DeserializeOwned>(raw: &[u8], command: Option<Command>) -> Result<T, PluginError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::new(
            UNREADABLE_REQUEST.code,
            "standard input is empty; notation sends the request as JSON on stdin",
        ));
    }
    if raw.starts_with(b"\xef\xbb\xbf") {
        return Err(PluginError::new(
            UNREADABLE_REQUEST.code,
            "the request starts with a UTF-8 byte order mark; send the JSON without one",
        ));
    }
    if let Err(e) = std::str::from_utf8(raw) {
        return Err(PluginError::new(
            UNREADABLE_REQUEST.code,
            format!(
                "the request is not UTF-8 text (invalid byte at offset {}); send it as UTF-8 JSON",
                e.valid_up_to()
            ),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(raw).map_err(|e| {
        PluginError::new(
            UNREADABLE_REQUEST.code,
            format!("the request is not valid JSON: {e}"),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(PluginError::new(
            UNREADABLE_REQUEST.code,
            "the request must be a JSON object",
        ));
    };
    if let Some(command) = command {
        match object.get("contractVersion").map(|v| (v.as_str(), v)) {
            Some((Some(CONTRACT_VERSION), _)) => {}
            Some((Some(other), _)) => {
                return Err(PluginError::new(
                    UNSUPPORTED_CONTRACT.code,
                    format!(
                        "contract version {other:?} is not supported; this plugin speaks {CONTRACT_VERSION}"
                    ),
                ));
            }
            Some((None, value)) if !value.is_null() => {
                return Err(PluginError::new(
                    UNREADABLE_REQUEST.code,
                    format!(
                        "{} request has contractVersion {value}, which is not a string; \
                     it must be \"{CONTRACT_VERSION}\"",
                        command.as_str()
                    ),
                ));
            }
            Some((None, _)) | None => {
                return Err(PluginError::new(
                    UNREADABLE_REQUEST.code,
                    format!(
                        "{} request has no contractVersion (expected \"{CONTRACT_VERSION}\")",
                        command.as_str()
                    ),
                ));
            }
        }
    }
    serde_json::from_value(value)
        .map_err(|e| PluginError::new(UNREADABLE_REQUEST.code, format!("malformed request: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs cannot fail; fall back to a fixed error rather than panic.
    serde_json::to_vec(value).unwrap_or_else(|_| {
        br#"{"errorCode":"ERROR","errorMessage":"failed to encode the response"}"#.to_vec()
    })
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> PluginError {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    PluginError::new(
        INTERNAL_ERROR.code,
        format!("internal error (this is a bug, please report it): {detail}"),
    )
}

fn human(text: String) -> Output {
    Output {
        stdout: text.into_bytes(),
        stderr: Vec::new(),
        exit_code: 0,
    }
}

fn command_list() -> String {
    Command::ALL.map(Command::as_str).join(", ")
}

fn help_text<P: Plugin>(plugin: &P) -> String {
    let meta = plugin.metadata(&GetMetadataRequest::default());
    let capabilities: Vec<&str> = meta.capabilities.iter().map(|c| c.as_str()).collect();
    let commands: Vec<&str> = Command::ALL
        .into_iter()
        .filter(|c| c.serves(&meta.capabilities))
        .map(Command::as_str)
        .collect();
    let mut text = format!(
        "notation-{name} {version}\n{description}\n\n\
         This is a Notation plugin (contract {contract}). notation runs it as\n  \
         notation-{name} <command>   with the JSON request on stdin\n\
         Commands: {commands}\nCapabilities: {caps}\n\n\
         Install it with:\n  notation plugin install --file notation-{name}\n\n\
         Options for people:\n  --help      this text\n  --version   print name and version\n",
        name = meta.name,
        version = meta.version,
        description = meta.description,
        contract = CONTRACT_VERSION,
        commands = commands.join(", "),
        caps = capabilities.join(", "),
    );
    let extra = plugin.help();
    if !extra.is_empty() {
        text.push('\n');
        text.push_str(extra.trim_end());
        text.push('\n');
    }
    text.push_str(&format!(
        "\nReference (every config key, environment variable, error code and permission): {}\nMore: {}\n",
        crate::reference::reference_url(&meta.url),
        meta.url
    ));
    text
}
