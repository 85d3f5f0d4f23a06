use std::process::ExitCode;

fn main() -> ExitCode {
    // notation passes exactly one protocol command; the operator commands have their own names.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(code) = notation_akv_verifier::admin::main(&args) {
        return code;
    }
    notation_akv_protocol::runner::main(&notation_akv_verifier::Verifier)
}
