//! `notation-akv-demo --signer <notation-akv> --verifier <notation-akv-verifier>`: the first-run
//! demo that `bash install.sh` ends with (see [`notation_akv_e2e::demo`]).

use std::process::ExitCode;

use notation_akv_e2e::demo;

fn main() -> ExitCode {
    let plugins = match demo::parse_args(std::env::args().skip(1)) {
        Ok(plugins) => plugins,
        Err(e) => {
            eprintln!("notation-akv-demo: {e}");
            return ExitCode::from(2);
        }
    };
    match demo::run(&plugins, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notation-akv-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
