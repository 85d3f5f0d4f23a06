//! Malformed input at the process boundary, through both built binaries and every command they
//! take: truncated and invalid JSON, wrong types, missing and null fields, oversized fields and
//! requests (the runner's `MAX_REQUEST_BYTES`), invalid base64, a wrong `contractVersion`, bad
//! arguments, non-UTF-8 and empty stdin, and stdout closed early.
//!
//! Every run must end within its deadline with exit 1, nothing on stdout, and the error JSON of
//! `spec/schemas/error.schema.json` on stderr, never a panic. The error JSON of the whole corpus
//! is one insta snapshot (`snapshots/malformed_input__corpus.snap`), so every message is reviewed.

use notation_akv_e2e::locate::{repo_root, workspace_binary};
use notation_akv_e2e::process::{Output, run_with_input};
use notation_akv_protocol::runner::MAX_REQUEST_BYTES;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARIES: [&str; 2] = ["notation-akv", "notation-akv-verifier"];
const REQUESTS: [&str; 4] = [
    "describe-key",
    "generate-signature",
    "generate-envelope",
    "verify-signature",
];
/// Per run; the slowest case (a 32 MiB request in a debug build) takes well under a second.
const DEADLINE: Duration = Duration::from_secs(20);

/// One malformed invocation.
struct Case {
    name: String,
    args: Vec<OsString>,
    stdin: Vec<u8>,
    /// The `errorCode` the case must get.
    code: &'static str,
}

fn case(name: impl Into<String>, command: &str, stdin: impl Into<Vec<u8>>) -> Case {
    Case {
        name: name.into(),
        args: vec![command.into()],
        stdin: stdin.into(),
        code: "VALIDATION_ERROR",
    }
}

/// A request notation 1.3.2 sent (`spec/examples`), with a key id that is not a vault URL so
/// that no case can reach the network even if it parsed.
fn example(command: &str) -> Map<String, Value> {
    let file = match command {
        "generate-signature" => "generate-signature.jws.request.json",
        "generate-envelope" => "generate-envelope.jws.request.json",
        other => &format!("{other}.request.json"),
    };
    let path = repo_root().join("spec/examples").join(file);
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    if value.get("keyId").is_some() {
        value["keyId"] = json!("not-a-key-id");
    }
    value.as_object().unwrap().clone()
}

fn with(command: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let mut request = example(command);
    edit(&mut request);
    serde_json::to_vec(&request).unwrap()
}

/// The field of `command` that carries base64 and one that must be a string.
fn b64_field(command: &str) -> &'static str {
    match command {
        "verify-signature" => "signature",
        "describe-key" => "pluginConfig",
        _ => "payload",
    }
}

/// A key id of 1 MiB (and no pluginConfig, so the id is the first thing checked).
fn huge_key_id(command: &str) -> Vec<u8> {
    with(command, |r| {
        r.remove("pluginConfig");
        r.insert("keyId".into(), json!("k".repeat(1 << 20)));
    })
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// The corpus: per request command, then for the process as a whole.
fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for command in REQUESTS {
        let valid = serde_json::to_vec(&example(command)).unwrap();
        let mut add = |name: &str, stdin: Vec<u8>| {
            cases.push(case(format!("{command}/{name}"), command, stdin));
        };
        add("empty stdin", Vec::new());
        add("whitespace only", b" \n\t\r\n".to_vec());
        add("truncated at half", valid[..valid.len() / 2].to_vec());
        add("truncated by one byte", valid[..valid.len() - 1].to_vec());
        add("not JSON", b"{not json".to_vec());
        add("trailing garbage", [valid.as_slice(), b"}{"].concat());
        add(
            "two JSON values",
            [valid.as_slice(), b"\n", valid.as_slice()].concat(),
        );
        add("JSON array", b"[1,2]".to_vec());
        add("JSON string", b"\"describe-key\"".to_vec());
        add("JSON null", b"null".to_vec());
        add("non-UTF-8 bytes", b"\xff\xfe\x00{\x80}".to_vec());
        add(
            "UTF-8 byte order mark",
            [b"\xef\xbb\xbf".as_slice(), &valid].concat(),
        );
        add(
            "lone surrogate escape",
            br#"{"contractVersion":"1.0","keyId":"\ud800"}"#.to_vec(),
        );
        add(
            "nested 100000 deep",
            format!(r#"{{"contractVersion":"1.0","keyId":{}}}"#, nested(100_000)).into_bytes(),
        );
        add(
            "no contractVersion",
            with(command, |r| drop(r.remove("contractVersion"))),
        );
        add(
            "contractVersion null",
            with(command, |r| {
                drop(r.insert("contractVersion".into(), Value::Null))
            }),
        );
        add(
            "contractVersion a number",
            with(command, |r| {
                drop(r.insert("contractVersion".into(), json!(1.0)))
            }),
        );
        let required = if command == "verify-signature" {
            "signature"
        } else {
            "keyId"
        };
        add(
            &format!("{required} missing"),
            with(command, |r| drop(r.remove(required))),
        );
        add(
            &format!("{required} null"),
            with(command, |r| drop(r.insert(required.into(), Value::Null))),
        );
        add(
            &format!("{required} a number"),
            with(command, |r| drop(r.insert(required.into(), json!(7)))),
        );
        add(
            "pluginConfig an array",
            with(command, |r| {
                drop(r.insert("pluginConfig".into(), json!(["a=b"])))
            }),
        );
        add(
            "pluginConfig value a number",
            with(command, |r| {
                drop(r.insert("pluginConfig".into(), json!({"a": 1})))
            }),
        );
        match b64_field(command) {
            "payload" => {
                add(
                    "payload not base64",
                    with(command, |r| {
                        drop(r.insert("payload".into(), json!("!!not base64!!")))
                    }),
                );
                add(
                    "payload unpadded base64",
                    with(command, |r| {
                        drop(r.insert("payload".into(), json!("YWJj ZA")))
                    }),
                );
                add(
                    "payload url-safe base64",
                    with(command, |r| drop(r.insert("payload".into(), json!("-_-_")))),
                );
                add("keyId of 1 MiB", huge_key_id(command));
            }
            "signature" => {
                let chain =
                    |value: Value| with(command, |r| r["signature"]["certificateChain"] = value);
                add("certificate not base64", chain(json!(["!!not base64!!"])));
                add(
                    "certificate not DER",
                    chain(json!(["bm90IGEgY2VydGlmaWNhdGU="])),
                );
                add(
                    "certificate of 1 MiB of zeros",
                    chain(json!([base64_zeros(1 << 20)])),
                );
                add("certificateChain empty", chain(json!([])));
                add("certificateChain null", chain(Value::Null));
                add(
                    "trustPolicy missing",
                    with(command, |r| drop(r.remove("trustPolicy"))),
                );
            }
            _ => {
                add("keyId of 1 MiB", huge_key_id(command));
            }
        }
        let mut oversized = b"{\"contractVersion\":\"1.0\",\"keyId\":\"".to_vec();
        oversized.resize(MAX_REQUEST_BYTES as usize + 1, b'k');
        add("request one byte over the size bound", oversized);
    }
    // get-plugin-metadata: `{}` and empty stdin are valid; these are not.
    for (name, stdin) in [
        ("not JSON", b"{not json".to_vec()),
        ("JSON array", b"[]".to_vec()),
        ("non-UTF-8 bytes", b"\xff\xfe".to_vec()),
        ("pluginConfig an array", br#"{"pluginConfig":[]}"#.to_vec()),
        (
            "pluginConfig value null",
            br#"{"pluginConfig":{"a":null}}"#.to_vec(),
        ),
        (
            "request one byte over the size bound",
            vec![b' '; MAX_REQUEST_BYTES as usize + 1],
        ),
    ] {
        cases.push(case(
            format!("get-plugin-metadata/{name}"),
            "get-plugin-metadata",
            stdin,
        ));
    }
    let mut version = case(
        "describe-key/contractVersion 2.0",
        "describe-key",
        with("describe-key", |r| {
            drop(r.insert("contractVersion".into(), json!("2.0")))
        }),
    );
    version.code = "UNSUPPORTED_CONTRACT_VERSION";
    cases.push(version);
    for command in [
        "generate-signature",
        "generate-envelope",
        "verify-signature",
    ] {
        let mut version = case(
            format!("{command}/contractVersion 1.1"),
            command,
            with(command, |r| {
                drop(r.insert("contractVersion".into(), json!("1.1")))
            }),
        );
        version.code = "UNSUPPORTED_CONTRACT_VERSION";
        cases.push(version);
    }
    // The command line.
    let args = |name: &str, args: Vec<OsString>| Case {
        name: format!("args/{name}"),
        args,
        stdin: b"{}".to_vec(),
        code: "VALIDATION_ERROR",
    };
    cases.push(args("no argument", vec![]));
    cases.push(args(
        "two arguments",
        vec!["describe-key".into(), "verify-signature".into()],
    ));
    cases.push(args("unknown command", vec!["sign".into()]));
    cases.push(args("command in capitals", vec!["DESCRIBE-KEY".into()]));
    cases.push(args("empty argument", vec!["".into()]));
    cases.push(args(
        "non-UTF-8 argument",
        vec![OsString::from_vec(b"describe-key\xff".to_vec())],
    ));
    cases
}

fn base64_zeros(len: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(vec![0u8; len])
}

/// A private environment: no inherited variables, HOME and XDG folders in `home`.
fn command(binary: &Path, args: &[OsString], home: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(args).env_clear();
    for (name, dir) in [
        ("HOME", ""),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ] {
        cmd.env(name, home.join(dir));
    }
    cmd
}

/// The error JSON of a failed run, after checking the stream contract.
fn error_of(out: &Output, what: &str, code: &str) -> Value {
    assert_eq!(out.code(), Some(1), "{what}: {out:?}");
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout must stay empty: {out:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{what}: {out:?}");
    let body: Value = serde_json::from_str(&out.stderr)
        .unwrap_or_else(|e| panic!("{what}: stderr is not the error JSON ({e}): {out:?}"));
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("spec/schemas/error.schema.json")).unwrap(),
    )
    .unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}: {body}");
    assert_eq!(body["errorCode"], code, "{what}: {body}");
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: empty message");
    assert!(
        !message.starts_with("internal error"),
        "{what}: a panic was caught: {message}"
    );
    body
}

fn binaries() -> Vec<(&'static str, PathBuf)> {
    BINARIES
        .iter()
        .map(|name| (*name, workspace_binary(name).unwrap()))
        .collect()
}

#[test]
fn every_malformed_invocation_gets_the_error_json_and_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let cases = corpus();
    let distinct: std::collections::BTreeSet<&str> =
        cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(distinct.len(), cases.len(), "case names are unique");
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut snapshot: BTreeMap<String, Value> = BTreeMap::new();
    for case in &cases {
        let mut answers = BTreeMap::new();
        for (name, binary) in binaries() {
            let what = format!("{name} {}", case.name);
            let started = Instant::now();
            let out = run_with_input(
                command(&binary, &case.args, home.path()),
                Some(&case.stdin),
                DEADLINE,
            )
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(started.elapsed() < DEADLINE, "{what}");
            answers.insert(name, error_of(&out, &what, case.code));
        }
        // One entry when both binaries say the same, else one per binary.
        let mut values: Vec<&Value> = answers.values().collect();
        values.dedup();
        let entry = match values.as_slice() {
            [one] => (*one).clone(),
            _ => json!(answers),
        };
        snapshot.insert(case.name.clone(), entry);
    }
    insta::assert_json_snapshot!("corpus", snapshot);
}

/// notation went away before reading the response: the run still ends, without a panic, with
/// the error JSON on stderr and exit 1; an error response (nothing for stdout) is unaffected.
#[test]
fn stdout_closed_early() {
    let home = tempfile::tempdir().unwrap();
    for (name, binary) in binaries() {
        for (args, stdin, expected) in [
            (["get-plugin-metadata"], b"{}".as_slice(), "ERROR"),
            (
                ["describe-key"],
                b"{not json".as_slice(),
                "VALIDATION_ERROR",
            ),
        ] {
            let what = format!("{name} {args:?} with stdout closed");
            let mut child = command(&binary, &args.map(OsString::from), home.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stdout.take());
            {
                use std::io::Write as _;
                let mut pipe = child.stdin.take().unwrap();
                let _ = pipe.write_all(stdin);
            }
            let deadline = Instant::now() + DEADLINE;
            while child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "{what}: no exit");
                std::thread::sleep(Duration::from_millis(10));
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            let body: Value = serde_json::from_str(&stderr)
                .unwrap_or_else(|e| panic!("{what}: not the error JSON ({e}): {stderr}"));
            assert_eq!(body["errorCode"], expected, "{what}: {body}");
        }
    }
}
