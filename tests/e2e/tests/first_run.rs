//! The README's first command, as a new user runs it: from a clean clone (the committed tree plus
//! the working tree's changes, nothing untracked-and-ignored such as `target/` or `tools/`), with
//! notation not on PATH and a throwaway HOME. It must provision notation, build, install both
//! plugins where notation looks (`XDG_CONFIG_HOME`), end with two verified signatures, and leave
//! nothing running.
//!
//! Cost: the clone shares this run's cargo target directory and the provisioned `tools/` (no
//! download when it is cached). cargo names a workspace's crates by their path relative to the
//! workspace root and decides what to rebuild from file modification times, so the clone's files
//! keep the repository's times where their contents are the same ([`keep_repository_times`]):
//! what this run already built (the release binaries of `install.sh --dist`, the debug demo) is
//! not built a second time, and a file the clone lacks or holds differently is rebuilt from the
//! clone's contents.

mod release_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use notation_akv_e2e::locate::{self, repo_root};
use release_support::*;

/// The first command line of the README's Install section (without its comment).
fn readme_first_command() -> String {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let install = readme
        .split_once("## Install")
        .expect("README has an Install section")
        .1;
    let block = install
        .split_once("```sh\n")
        .expect("the Install section starts with a sh block")
        .1;
    let line = block.lines().next().unwrap();
    line.split_once('#')
        .map_or(line, |(cmd, _)| cmd)
        .trim()
        .to_string()
}

/// `git clone` of the repository, then the working tree's uncommitted and untracked changes.
fn clean_clone(into: &Path) -> PathBuf {
    let repo = repo_root();
    let clone = into.join("notation-akv");
    let mut git = Command::new("git");
    git.args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&repo)
        .arg(&clone);
    run_ok(git, Duration::from_secs(120));
    let mut diff = Command::new("git");
    diff.arg("-C").arg(&repo).args(["diff", "HEAD", "--binary"]);
    let diff = run_ok(diff, Duration::from_secs(60)).stdout;
    if !diff.is_empty() {
        let patch = into.join("working-tree.patch");
        fs::write(&patch, diff).unwrap();
        let mut apply = Command::new("git");
        apply
            .arg("-C")
            .arg(&clone)
            .args(["apply", "--binary"])
            .arg(&patch);
        run_ok(apply, Duration::from_secs(60));
    }
    let mut untracked = Command::new("git");
    untracked
        .arg("-C")
        .arg(&repo)
        .args(["ls-files", "--others", "--exclude-standard"]);
    for file in run_ok(untracked, Duration::from_secs(60)).stdout.lines() {
        let to = clone.join(file);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo.join(file), &to).unwrap();
    }
    clone
}

/// Gives each file of the clone whose contents equal the repository's file the repository file's
/// modification time, so cargo sees what this run built from those contents as up to date.
fn keep_repository_times(repo: &Path, clone: &Path) {
    let mut dirs = vec![PathBuf::new()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(clone.join(&dir)).unwrap() {
            let entry = entry.unwrap();
            let relative = dir.join(entry.file_name());
            let kind = entry.file_type().unwrap();
            if kind.is_dir() && relative != Path::new(".git") {
                dirs.push(relative);
            } else if kind.is_file() {
                let original = repo.join(&relative);
                let same = fs::read(&original).is_ok_and(|bytes| {
                    fs::read(clone.join(&relative)).is_ok_and(|copy| copy == bytes)
                });
                if same {
                    let modified = fs::metadata(&original).unwrap().modified().unwrap();
                    fs::File::options()
                        .write(true)
                        .open(clone.join(&relative))
                        .unwrap()
                        .set_modified(modified)
                        .unwrap();
                }
            }
        }
    }
}

/// PATH without any directory that holds notation or oras.
fn path_without_notation() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("notation").exists() && !dir.join("oras").exists())
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

/// Processes whose command line mentions `dir` (what the run may have left behind).
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            entry.file_name().to_str()?.parse::<u32>().ok()?;
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then_some(cmdline)
        })
        .collect()
}

/// A user's machine with Rust: cargo's own home stays, everything else is fresh; notation is not
/// on PATH. The clone shares this run's target directory and provisioned tools.
struct User {
    home: PathBuf,
    tmp: PathBuf,
    clone: PathBuf,
}

impl User {
    /// `bash <args>` in the clone, with exactly the user's environment.
    fn command(&self, args: &[&str]) -> Command {
        let real_home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| real_home.join(".cargo"));
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| real_home.join(".rustup"));
        let path = format!(
            "{}:{}",
            cargo_home.join("bin").display(),
            path_without_notation()
        );
        let mut command = Command::new("bash");
        command
            .args(args)
            .current_dir(&self.clone)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("LANG", "C.UTF-8")
            .env("CARGO_HOME", cargo_home)
            .env("RUSTUP_HOME", rustup_home)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("NOTATION_AKV_TOOLS", locate::tools_dir());
        command
    }
}

#[test]
fn the_readme_first_command_signs_and_verifies_from_a_clean_clone() {
    let command = readme_first_command();
    assert_eq!(
        command, "bash install.sh",
        "the README's first command changed"
    );
    let dir = tempfile::Builder::new()
        .prefix("notation-akv-first-run")
        .tempdir()
        .unwrap();
    let clone = clean_clone(dir.path());
    assert!(!clone.join("target").exists() && !clone.join("tools").exists());
    keep_repository_times(&repo_root(), &clone);
    let home = dir.path().join("home");
    let tmp = dir.path().join("tmp");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&tmp).unwrap();

    let user = User {
        home: home.clone(),
        tmp: tmp.clone(),
        clone: clone.clone(),
    };
    let run = user.command(&["-c", &command]);
    let out = run_ok(run, Duration::from_secs(14 * 60));
    let all = format!("{}\n{}", out.stdout, out.stderr);

    assert!(
        out.stdout
            .contains("install: notation not found on PATH: provisioning notation 1.3.2"),
        "{all}"
    );
    let verified: Vec<&str> = out
        .stdout
        .lines()
        .filter(|line| line.starts_with("demo: verified "))
        .collect();
    assert_eq!(verified.len(), 2, "two verified signatures:\n{all}");
    assert!(verified[0].contains("(notation: "), "{all}");
    assert!(
        verified[1].contains("(akv-verifier: identity akv.key:"),
        "{all}"
    );
    assert!(out.stdout.contains("(RAW, JWS)"), "{all}");

    // Installed for this HOME (XDG_CONFIG_HOME defaults to ~/.config), listed by notation.
    let plugins = home.join(".config/notation/plugins");
    for plugin in PLUGINS {
        assert!(
            plugins
                .join(plugin)
                .join(format!("notation-{plugin}"))
                .is_file(),
            "{plugin} not installed under {}\n{all}",
            plugins.display()
        );
    }
    let mut ls = Command::new(locate::tools_dir().join("bin/notation"));
    ls.args(["plugin", "ls"]).env_clear().env("HOME", &home);
    let list = run_ok(ls, Duration::from_secs(60)).stdout;
    for plugin in PLUGINS {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(plugin)),
            "{list}"
        );
    }

    // Nothing left running, nothing left in the demo's temporary directory.
    assert!(
        processes_under(dir.path()).is_empty(),
        "{:?}",
        processes_under(dir.path())
    );
    let left: Vec<_> = fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");

    // Idempotent, and --uninstall removes both.
    run_ok(
        user.command(&["install.sh", "--no-demo"]),
        Duration::from_secs(5 * 60),
    );
    run_ok(
        user.command(&["install.sh", "--uninstall"]),
        Duration::from_secs(60),
    );
    for plugin in PLUGINS {
        assert!(!plugins.join(plugin).exists(), "{plugin} still installed");
    }
}
