//! The checked-in JSON Schemas under `spec/schemas/` must be what the wire types generate.
//! Regenerate: `UPDATE_SCHEMAS=1 cargo test -p notation-akv-protocol --test schemas`

use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/schemas")
}

#[test]
fn checked_in_schemas_match_the_wire_types() {
    let dir = schema_dir();
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    let generated = notation_akv_protocol::schema::all();
    for (name, schema) in &generated {
        let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.to_string());
        }
    }
    // No orphans: every file in the folder is one we generate.
    let known: Vec<&str> = generated.iter().map(|(n, _)| *n).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".schema.json") && !known.contains(&name.as_str()) {
            stale.push(format!("{name} (no longer generated)"));
        }
    }
    assert!(
        stale.is_empty(),
        "spec/schemas is out of date: {stale:?}\nregenerate with: UPDATE_SCHEMAS=1 cargo test -p notation-akv-protocol --test schemas"
    );
}
