use std::process::ExitCode;

fn main() -> ExitCode {
    notation_akv_protocol::runner::main(&notation_akv::Signer::default())
}
