//! The built `notation-akv` run as a key administrator would (admin commands), in an isolated
//! HOME, with nothing secret allowed on its output.

use std::process::Command;

pub const BINARY: &str = env!("CARGO_BIN_EXE_notation-akv");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// One isolated environment (own HOME and cache) with the client-secret credential.
pub struct Admin {
    pub home: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Admin {
    pub fn new() -> Admin {
        let home = tempfile::tempdir().unwrap();
        let mut env = super::vault_env(home.path());
        env.push(("NOTATION_AKV_TIMEOUT".into(), "20s".into()));
        Admin { home, env }
    }

    pub fn set(mut self, key: &str, value: &str) -> Admin {
        super::set_var(&mut self.env, key, value);
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(BINARY)
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.home.path())
            .output()
            .expect("run notation-akv");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        };
        // Nothing secret, whatever the outcome.
        for secret in self
            .env
            .iter()
            .filter(|(k, _)| k == "AZURE_CLIENT_SECRET")
            .map(|(_, v)| v.as_str())
            .chain([
                akv_test_vault::DEFAULT_CLIENT_SECRET,
                "PRIVATE KEY",
                "Bearer ",
            ])
        {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret:?} printed by {args:?}:\n{}{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// The HOME and working directory of the commands.
    pub fn dir(&self) -> &std::path::Path {
        self.home.path()
    }
}
