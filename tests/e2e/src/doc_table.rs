//! A doc's markdown table kept in step with the cases a test runs: every case has a row that
//! starts with the cells the test knows, and the table has no other rows.

use std::path::Path;

/// The body rows (`| …`, without the header and separator) of the first table under the heading
/// line `heading`, up to the next heading of any level.
pub fn rows_under<'a>(doc: &'a str, heading: &str) -> Option<Vec<&'a str>> {
    let mut lines = doc.lines().skip_while(|l| l.trim_end() != heading);
    lines.next()?;
    let rows: Vec<&str> = lines
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("| "))
        .skip(1) // the header row
        .filter(|l| !l.starts_with("|---"))
        .collect();
    Some(rows)
}

/// Checks that the table under `heading` in the file at `path` has exactly one row starting with
/// each of `prefixes` and no other rows; the error names what differs.
pub fn check(path: &Path, heading: &str, prefixes: &[String]) -> Result<(), String> {
    let doc = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = rows_under(&doc, heading)
        .ok_or_else(|| format!("{} has no heading `{heading}`", path.display()))?;
    let missing: Vec<&String> = prefixes
        .iter()
        .filter(|p| !rows.iter().any(|r| r.starts_with(p.as_str())))
        .collect();
    let extra: Vec<&&str> = rows
        .iter()
        .filter(|r| !prefixes.iter().any(|p| r.starts_with(p.as_str())))
        .collect();
    if missing.is_empty() && extra.is_empty() && rows.len() == prefixes.len() {
        return Ok(());
    }
    Err(format!(
        "{} under `{heading}`: rows missing (starting with):\n{}\nrows the test does not run:\n{}",
        path.display(),
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        extra.iter().map(|s| **s).collect::<Vec<_>>().join("\n"),
    ))
}

/// [`check`] of `docs/<file>` in the repository, failing the test with what differs.
pub fn assert_matches(file: &str, heading: &str, prefixes: impl IntoIterator<Item = String>) {
    let path = crate::locate::repo_root().join("docs").join(file);
    let prefixes: Vec<String> = prefixes.into_iter().collect();
    if let Err(e) = check(&path, heading, &prefixes) {
        panic!("{e}");
    }
}
