use std::process::ExitCode;

fn main() -> ExitCode {
    // notation passes exactly one protocol command; the admin commands have their own names.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(code) = notation_akv_admin::main(&args, notation_akv::doctor::main) {
        return code;
    }
    notation_akv_protocol::runner::main(&notation_akv::Signer::default())
}
