//! `notation-recorder`: a Notation plugin that records what notation sends (see
//! `notation_akv_e2e::recorder`). Exit 0 with a JSON reply on stdout, or 1 with an error on stderr.

use std::io::{Read, Write};
use std::process::ExitCode;

use notation_akv_e2e::recorder::{self, Capture, PluginError, Settings};

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let mut request = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut request) {
        return fail(&PluginError {
            code: "VALIDATION_ERROR",
            message: format!("cannot read stdin: {err}"),
        });
    }
    let settings = Settings::from_env();
    if let Some(log) = &settings.log {
        let capture = Capture {
            command: command.clone(),
            request: request.clone(),
        };
        if let Err(err) = recorder::record(log, &capture) {
            return fail(&PluginError {
                code: "ERROR",
                message: format!("cannot append to {}: {err}", log.display()),
            });
        }
    }
    match recorder::respond(&command, &request, &settings) {
        Ok(reply) => {
            // stdout must hold the JSON reply and nothing else.
            if std::io::stdout().write_all(reply.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

fn fail(err: &PluginError) -> ExitCode {
    // Nothing else to do if stderr is gone: the exit code still reports the failure.
    let _ = std::io::stderr().write_all(err.to_json().as_bytes());
    ExitCode::FAILURE
}
