//! The shapes of the project's reference tables: configuration keys, environment variables and
//! the error catalogue.
//!
//! Each crate keeps its own table in these shapes beside the code that reads the key or raises
//! the error (the Key Vault crate its settings and HTTP failures, each plugin its keys and typed
//! errors). The same rows print `--help`, name the valid keys in validation messages and make up
//! [`REFERENCE_PATH`], which a test renders from the tables and compares with the committed file,
//! so the document cannot drift from the code.

use crate::ErrorCode;

/// Where the reference lives in the repository.
pub const REFERENCE_PATH: &str = "docs/reference.md";

/// The reference's address for people (`--help` prints it): `<repository>/blob/main/<path>`.
pub fn reference_url(repository: &str) -> String {
    format!(
        "{}/blob/main/{REFERENCE_PATH}",
        repository.trim_end_matches('/')
    )
}

/// One plugin config key (`--plugin-config key=value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: &'static str,
    /// The values it takes (`true | false`, `duration`, `path`, `URL`, a list of words).
    pub value: &'static str,
    /// The value in effect when the key is unset.
    pub default: &'static str,
    /// A value as a user would type it.
    pub example: &'static str,
    /// What it does, one sentence for `--help` and errors.
    pub description: &'static str,
}

impl ConfigKey {
    /// The key's line in `--help`: what it does, its values and its default (without the
    /// reference's markdown).
    pub fn help_line(&self) -> String {
        format!(
            "{} ({}; default: {})",
            self.description,
            self.value.replace('`', ""),
            self.default
        )
    }

    /// The environment-variable form under `prefix` (`NOTATION_AKV_` + `TIMEOUT`).
    pub fn env_var(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.name.to_ascii_uppercase())
    }
}

/// An environment variable that is not the form of a config key (credentials, switches, paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub description: &'static str,
}

/// One entry of an error catalogue: a failure users can meet, its code, why it happens and what
/// to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorDoc {
    /// A short name of the failure (unique within its catalogue).
    pub name: &'static str,
    pub code: ErrorCode,
    pub cause: &'static str,
    pub fix: &'static str,
}

/// The failures of the protocol runner itself, before a plugin sees the request; the runner
/// raises each with its entry's code.
pub const REQUEST_ERRORS: &[ErrorDoc] = &[
    UNKNOWN_COMMAND,
    UNREADABLE_REQUEST,
    UNSUPPORTED_CONTRACT,
    NOT_IMPLEMENTED,
    INTERNAL_ERROR,
];

pub const UNKNOWN_COMMAND: ErrorDoc = ErrorDoc {
    name: "unknown command",
    code: ErrorCode::ValidationError,
    cause: "the binary was run with no argument, several, or a command it does not know",
    fix: "run it through notation, or with --help or --version",
};

pub const UNREADABLE_REQUEST: ErrorDoc = ErrorDoc {
    name: "unreadable request",
    code: ErrorCode::ValidationError,
    cause: "stdin is empty, too large, not JSON, not an object, or misses a field the command needs",
    fix: "send the request notation sends (spec/README.md lists the fields)",
};

pub const UNSUPPORTED_CONTRACT: ErrorDoc = ErrorDoc {
    name: "unsupported contract version",
    code: ErrorCode::UnsupportedContractVersion,
    cause: "the request's contractVersion is not 1.0",
    fix: "use a notation release that speaks contract 1.0 (notation 1.x)",
};

pub const NOT_IMPLEMENTED: ErrorDoc = ErrorDoc {
    name: "command not implemented",
    code: ErrorCode::ValidationError,
    cause: "the command belongs to a capability this plugin does not advertise (e.g. verify-signature sent to the signer)",
    fix: "check which plugin the key or the signature names",
};

pub const INTERNAL_ERROR: ErrorDoc = ErrorDoc {
    name: "internal error",
    code: ErrorCode::Generic,
    cause: "a bug: the plugin panicked; the message says where",
    fix: "report it with the message and, if set, the log file",
};
