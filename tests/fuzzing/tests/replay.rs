//! Every committed seed (`fuzz/seeds/<target>/`) and every input that once made a target fail
//! (`fuzz/regressions/<target>/`) through the same target functions cargo-fuzz runs, on the
//! stable toolchain in the default test run: a fixed crash stays fixed.

use akv_fuzz_targets::{TARGETS, fuzz_dir};
use std::path::Path;
use std::time::{Duration, Instant};

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn every_target_has_seeds_and_a_cargo_fuzz_binary() {
    for (name, _) in TARGETS {
        assert!(
            !inputs(&fuzz_dir().join("seeds").join(name)).is_empty(),
            "fuzz/seeds/{name}/ is empty; run `cargo run -p akv-fuzz-targets --bin akv-fuzz-seeds`"
        );
        let binary = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&binary)
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        assert!(
            text.contains(&format!("run({name:?}, data)")),
            "{} does not run target {name}",
            binary.display()
        );
    }
}

#[test]
fn seeds_and_regressions_replay_without_a_failure() {
    for (name, target) in TARGETS {
        for folder in ["seeds", "regressions"] {
            for input in inputs(&fuzz_dir().join(folder).join(name)) {
                let bytes = std::fs::read(&input).unwrap();
                let started = Instant::now();
                let outcome = std::panic::catch_unwind(|| target(&bytes));
                assert!(
                    outcome.is_ok(),
                    "target {name} failed on {} (see the panic above)",
                    input.display()
                );
                // libFuzzer's -timeout=10 flags a hang; a debug build gets the same bound.
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "target {name} took {:?} on {}",
                    started.elapsed(),
                    input.display()
                );
            }
        }
    }
}
