//! Runs one job of a GitHub workflow on this machine, as a GitHub runner would: the `run:` steps
//! exactly as written (bash with `-euo pipefail`, stricter than GitHub's `-eo pipefail`, so an
//! unset variable fails here too; in the checkout, with the workflow's, the job's and
//! the step's `env:`, `GITHUB_ENV`, `GITHUB_OUTPUT`, `RUNNER_TEMP`), and each `uses:` step by an
//! emulation of that action that the caller supplies, because an action runs JavaScript from
//! GitHub that this machine does not have.
//!
//! What differs from GitHub is explicit and checked: the caller names the values that stand in
//! for cloud ones (text rewrites such as the registry host, and `env:` overrides such as a
//! checksum), the `vars.*` of the repository, and the ids of the few `run:` steps it replaces
//! (e.g. `az acr login`, for a local registry without login). A step the runner cannot account
//! for (an action without emulation, an expression it does not know) fails the test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use notation_akv_e2e::NotationEnv;
use serde_json::Value;

/// What a job ran, step by step.
#[derive(Debug, Default)]
pub struct JobRun {
    pub steps: Vec<StepRun>,
}

#[derive(Debug)]
pub struct StepRun {
    pub name: String,
    pub how: How,
    /// Whether it succeeded (a skipped step counts as success).
    pub ok: bool,
    pub output: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum How {
    /// A `run:` step, executed as written.
    Ran,
    /// A `uses:` step, through its emulation.
    Emulated,
    /// A `run:` step the caller replaced, with the reason.
    Replaced(String),
    /// Not run: an earlier step failed (or it runs only on failure).
    Skipped,
}

impl JobRun {
    /// Whether every step succeeded (the job's result on GitHub).
    pub fn success(&self) -> bool {
        self.steps.iter().all(|step| step.ok)
    }

    /// The first failed step.
    pub fn failed_step(&self) -> Option<&StepRun> {
        self.steps.iter().find(|step| !step.ok)
    }

    /// The run of the step named `name`.
    pub fn step(&self, name: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|step| step.name == name)
            .unwrap_or_else(|| panic!("no step {name:?} in {self:#?}"))
    }
}

/// One `uses:` step as its emulation sees it.
#[derive(Debug)]
pub struct ActionCall<'a> {
    /// `owner/repo[/path]` without the `@ref`.
    pub action: &'a str,
    /// The `with:` inputs, expressions evaluated and rewrites applied.
    pub inputs: BTreeMap<String, String>,
}

/// What an emulation did: `Err` fails the step like a failing action.
pub type ActionResult = Result<ActionDone, String>;

#[derive(Debug, Default)]
pub struct ActionDone {
    pub outputs: BTreeMap<String, String>,
    pub log: String,
}

/// The runner machine: a fresh notation home and the stand-ins the caller chose.
pub struct Runner<'a> {
    pub env: &'a NotationEnv,
    /// `(cloud text, local text)`, applied to `env:` values, `with:` inputs and `run:` scripts.
    pub rewrites: Vec<(String, String)>,
    /// Workflow or job `env:` keys whose value is replaced outright.
    pub env_overrides: BTreeMap<String, String>,
    /// The repository's `vars.*`.
    pub vars: BTreeMap<String, String>,
    /// `(step id, why)`: `run:` steps not run here.
    pub replaced_steps: Vec<(String, String)>,
    /// The emulation of each action used.
    pub actions: &'a dyn Fn(&ActionCall, &Shell) -> ActionResult,
    /// `github.sha`.
    pub sha: String,
}

/// Runs a bash script the way a `run:` step runs, for emulations that shell out too.
pub struct Shell<'a> {
    env: &'a NotationEnv,
    prologue: String,
}

impl Shell<'_> {
    /// Runs `script` with the step's environment; returns (success, stdout + stderr).
    pub fn run(&self, script: &str, extra: &BTreeMap<String, String>) -> (bool, String) {
        let mut full = self.prologue.clone();
        for (key, value) in extra {
            full.push_str(&format!("export {key}={}\n", quote(value)));
        }
        full.push_str(script);
        let out = self
            .env
            .shell(&full)
            .unwrap_or_else(|e| panic!("running a step: {e}"));
        (
            out.success(),
            format!("{}{}", out.stdout, out.stderr)
                .trim_end()
                .to_string(),
        )
    }
}

impl Runner<'_> {
    /// Runs job `job` of `workflow`.
    pub fn run_job(&self, workflow: &Value, job: &str) -> JobRun {
        let job_def = &workflow["jobs"][job];
        assert!(job_def.is_object(), "no job {job}");
        let runner_temp = self.env.root().join("runner-temp");
        std::fs::create_dir_all(&runner_temp).unwrap();
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for scope in [&workflow["env"], &job_def["env"]] {
            for (key, value) in scope.as_object().into_iter().flatten() {
                let value = match self.env_overrides.get(key) {
                    Some(local) => local.clone(),
                    None => self.rewrite(&self.eval(&scalar(value), &env, &outputs)),
                };
                env.insert(key.clone(), value);
            }
        }
        let mut run = JobRun::default();
        let mut failed = false;
        for (index, step) in job_def["steps"].as_array().unwrap().iter().enumerate() {
            let name = step["name"]
                .as_str()
                .map(str::to_string)
                .or_else(|| step["uses"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("step {index}"));
            let wanted = match step["if"].as_str() {
                None => !failed,
                Some("failure()") => failed,
                Some(other) => panic!("step {name}: condition {other:?} not supported here"),
            };
            if !wanted {
                run.steps.push(StepRun {
                    name,
                    how: How::Skipped,
                    ok: true,
                    output: String::new(),
                });
                continue;
            }
            let mut step_env = env.clone();
            for (key, value) in step["env"].as_object().into_iter().flatten() {
                let value = self.rewrite(&self.eval(&scalar(value), &env, &outputs));
                step_env.insert(key.clone(), value);
            }
            let files = StepFiles::new(&runner_temp, index);
            let shell = Shell {
                env: self.env,
                prologue: self.prologue(&step_env, &files, &runner_temp),
            };
            let id = step["id"].as_str().map(str::to_string);
            let (how, ok, output, step_outputs) = if let Some(script) = step["run"].as_str() {
                assert!(
                    !script.contains("${{"),
                    "step {name}: an expression inside run: (pass it through env:)"
                );
                if let Some((_, why)) = self
                    .replaced_steps
                    .iter()
                    .find(|(replaced, _)| Some(replaced) == id.as_ref())
                {
                    (How::Replaced(why.clone()), true, String::new(), None)
                } else {
                    let (ok, output) = shell.run(&self.rewrite(script), &BTreeMap::new());
                    (How::Ran, ok, output, Some(files.outputs()))
                }
            } else {
                let uses = step["uses"].as_str().unwrap_or_else(|| panic!("{name}"));
                let (action, _) = uses
                    .split_once('@')
                    .unwrap_or_else(|| panic!("{uses}: not pinned"));
                let inputs = step["with"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(key, value)| {
                        let value = self.rewrite(&self.eval(&scalar(value), &step_env, &outputs));
                        (key.clone(), value)
                    })
                    .collect();
                let call = ActionCall { action, inputs };
                match (self.actions)(&call, &shell) {
                    Ok(done) => (How::Emulated, true, done.log, Some(done.outputs)),
                    Err(why) => (How::Emulated, false, why, None),
                }
            };
            if ok {
                for (key, value) in files.env() {
                    env.insert(key, value);
                }
                if let (Some(id), Some(step_outputs)) = (&id, step_outputs) {
                    outputs.insert(id.clone(), step_outputs);
                }
            } else {
                failed = true;
            }
            run.steps.push(StepRun {
                name,
                how,
                ok,
                output,
            });
        }
        run
    }

    fn rewrite(&self, text: &str) -> String {
        self.rewrites
            .iter()
            .fold(text.to_string(), |text, (cloud, local)| {
                text.replace(cloud, local)
            })
    }

    /// Evaluates the `${{ … }}` expressions the recipes use: `env.*`, `vars.*`,
    /// `steps.<id>.outputs.<name>` and `github.sha`.
    fn eval(
        &self,
        text: &str,
        env: &BTreeMap<String, String>,
        outputs: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> String {
        let mut result = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            result.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .unwrap_or_else(|| panic!("unclosed expression in {text}"))
                + start;
            let expr = rest[start + 3..end].trim();
            let parts: Vec<&str> = expr.split('.').collect();
            let value = match parts.as_slice() {
                ["env", key] => env.get(*key).cloned(),
                ["vars", key] => self.vars.get(*key).cloned(),
                ["steps", id, "outputs", key] => {
                    outputs.get(*id).and_then(|o| o.get(*key)).cloned()
                }
                ["github", "sha"] => Some(self.sha.clone()),
                _ => panic!("expression {expr:?} is not supported here"),
            };
            result.push_str(&value.unwrap_or_else(|| panic!("{expr} has no value here")));
            rest = &rest[end + 2..];
        }
        result.push_str(rest);
        result
    }

    fn prologue(
        &self,
        env: &BTreeMap<String, String>,
        files: &StepFiles,
        runner_temp: &std::path::Path,
    ) -> String {
        // What the runner sets; NOTATION_CONFIG is the harness's, which a runner does not have.
        let mut prologue = String::from("unset NOTATION_CONFIG\n");
        let mut all = vec![
            ("GITHUB_ENV".to_string(), files.env.display().to_string()),
            (
                "GITHUB_OUTPUT".to_string(),
                files.output.display().to_string(),
            ),
            ("RUNNER_TEMP".to_string(), runner_temp.display().to_string()),
            (
                "GITHUB_WORKSPACE".to_string(),
                self.env.work_dir().display().to_string(),
            ),
            ("GITHUB_SHA".to_string(), self.sha.clone()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (key, value) in all {
            prologue.push_str(&format!("export {key}={}\n", quote(&value)));
        }
        prologue
    }
}

/// The `GITHUB_ENV` and `GITHUB_OUTPUT` files of one step.
struct StepFiles {
    env: PathBuf,
    output: PathBuf,
}

impl StepFiles {
    fn new(runner_temp: &std::path::Path, index: usize) -> Self {
        let files = StepFiles {
            env: runner_temp.join(format!("github-env-{index}")),
            output: runner_temp.join(format!("github-output-{index}")),
        };
        for file in [&files.env, &files.output] {
            std::fs::write(file, "").unwrap();
        }
        files
    }

    fn env(&self) -> BTreeMap<String, String> {
        read_pairs(&self.env)
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        read_pairs(&self.output)
    }
}

/// `KEY=value` lines (the multi-line `KEY<<EOF` form is not used by the recipes).
fn read_pairs(path: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            assert!(!line.contains("<<"), "multi-line {line:?} not supported");
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: {line:?}", path.display()));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// A YAML scalar as GitHub sees it (numbers and booleans as their text).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Single-quoted for bash.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
