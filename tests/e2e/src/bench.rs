//! What the benchmarks print (`cargo bench -p notation-akv --bench signer`,
//! `tests/bench-verifier.sh`): every figure as wall time *and* CPU time (user + sys), so noise on
//! a shared machine (wall time waiting for a core) cannot hide a change in the work done, plus
//! binary sizes and peak memory. They print; they assert nothing about speed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use akv_test_vault::{Measured, PluginRun, children_usage};

use crate::NotationEnv;

/// Wall and CPU samples of one measured operation.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Samples {
    pub fn push(&mut self, wall: Duration, cpu: Duration) {
        self.wall.push(wall);
        self.cpu.push(cpu);
    }

    pub fn push_run(&mut self, run: &PluginRun) {
        self.push(run.elapsed, run.cpu);
    }

    pub fn push_measured(&mut self, run: &Measured) {
        self.push(run.wall, run.cpu);
    }

    pub fn len(&self) -> usize {
        self.wall.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wall.is_empty()
    }

    /// Median wall time.
    pub fn wall(&self) -> Duration {
        quantile(&self.wall, 50)
    }

    /// Median CPU time.
    pub fn cpu(&self) -> Duration {
        quantile(&self.cpu, 50)
    }

    /// `wall median … p90 … | cpu median … p90 … (n=…)`.
    pub fn summary(&self) -> String {
        format!(
            "wall median {} p90 {} | cpu median {} p90 {} ms (n={})",
            ms(self.wall()),
            ms(quantile(&self.wall, 90)),
            ms(self.cpu()),
            ms(quantile(&self.cpu, 90)),
            self.len()
        )
    }
}

/// Milliseconds with one decimal, right-aligned in 6 columns.
pub fn ms(d: Duration) -> String {
    format!("{:6.1}", d.as_secs_f64() * 1000.0)
}

/// `a / b` of two durations, for ratios of medians.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn quantile(samples: &[Duration], percent: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[(n * percent / 100).min(n - 1)],
    }
}

/// `notation <args>` in `env`'s world, timed to the exit (not to the harness's 20 ms poll).
/// Panics with notation's stderr if it fails.
pub fn notation(env: &NotationEnv, args: &[&str]) -> Measured {
    let run = akv_test_vault::measure(&mut env.notation_command(args));
    assert!(
        run.output.status.success(),
        "notation {args:?}: {}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    run
}

/// `path: N bytes (M bytes stripped)` for a binary; the stripped size is what a release build
/// ships (`strip = "symbols"`).
pub fn binary_size(path: &Path) -> String {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let stripped = tempfile::NamedTempFile::new().ok().and_then(|out| {
        let ok = Command::new("strip")
            .arg("-o")
            .arg(out.path())
            .arg(path)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| std::fs::metadata(out.path()).map(|m| m.len()).ok())
            .flatten()
    });
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    match stripped {
        Some(s) => format!(
            "{}: {:.1} MiB as built, {:.1} MiB stripped",
            path.display(),
            mib(size),
            mib(s)
        ),
        None => format!(
            "{}: {:.1} MiB as built (strip(1) failed)",
            path.display(),
            mib(size)
        ),
    }
}

/// The largest peak RSS of any child reaped so far, in MiB: call it after the plugin rows and
/// before running notation (a Go program several times larger) to get the plugins' peak.
pub fn peak_rss_mib() -> f64 {
    children_usage().max_rss_kib as f64 / 1024.0
}

/// The builds of one binary to measure: the workspace's (`current`, labelled ""), then, when
/// `NOTATION_AKV_BENCH_BASELINE` names a folder holding an earlier build of `name`, that one
/// (labelled ` [baseline]`), so a single run prints before and after under the same load.
///
/// `NOTATION_AKV_BENCH_BUILD` names a folder whose `name` replaces the workspace's: cargo's bench
/// build is dynamically linked, while `install.sh` installs static binaries
/// (`target/<host triple>/release`), which start faster.
pub fn builds(current: PathBuf, name: &str) -> Vec<(&'static str, PathBuf)> {
    let current = match std::env::var_os("NOTATION_AKV_BENCH_BUILD") {
        Some(dir) => {
            let build = Path::new(&dir).join(name);
            assert!(
                build.is_file(),
                "NOTATION_AKV_BENCH_BUILD: no {} (run `bash install.sh --no-demo` or name the folder of the binaries to measure)",
                build.display()
            );
            build
        }
        None => current,
    };
    let mut builds = vec![("", current)];
    if let Some(dir) = std::env::var_os("NOTATION_AKV_BENCH_BASELINE") {
        let baseline = Path::new(&dir).join(name);
        assert!(
            baseline.is_file(),
            "NOTATION_AKV_BENCH_BASELINE: no {} (copy the earlier build's binaries there)",
            baseline.display()
        );
        builds.push((" [baseline]", baseline));
    }
    builds
}
