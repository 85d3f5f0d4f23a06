//! A plugin's diagnostics file.
//!
//! notation reads stdout as the response and, after a failure, stderr as the error JSON, so a
//! plugin has nowhere to print diagnostics; they go to a file the user names instead. Both plugins
//! write it through [`LogFile`]: appended, created owner-only (0600 on Unix), one timestamped line
//! per event, tagged with the plugin and process so concurrent runs can be told apart. Writing
//! never fails a command. What goes into a line is the caller's responsibility: never a token, a
//! secret value or a private key.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An open diagnostics file.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    tag: String,
    file: Mutex<File>,
}

impl LogFile {
    /// Opens `path` for appending (creating it owner-only); `tag` names the writer in each line.
    pub fn open(path: &Path, tag: &str) -> std::io::Result<LogFile> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        Ok(LogFile {
            path: path.to_path_buf(),
            tag: format!("{tag}[{}]", std::process::id()),
            file: Mutex::new(options.open(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `lines` with one write, each on its own line (control characters become spaces, so
    /// one event stays one line).
    pub fn write_lines<S: AsRef<str>>(&self, lines: &[S]) -> std::io::Result<()> {
        let stamp = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut text = String::new();
        for line in lines {
            let single: String = line
                .as_ref()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            text.push_str(&format!("{stamp} {} {single}\n", self.tag));
        }
        match self.file.lock() {
            Ok(mut file) => file.write_all(text.as_bytes()),
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_tagged_and_single() {
        let dir = std::env::temp_dir().join(format!("notation-akv-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.log");
        let _ = std::fs::remove_file(&path);
        let log = LogFile::open(&path, "akv").unwrap();
        log.write_lines(&["one", "two\nhalves"]).unwrap();
        LogFile::open(&path, "akv")
            .unwrap()
            .write_lines(&["three"])
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].ends_with(&format!("akv[{}] one", std::process::id())));
        assert!(lines[1].ends_with("two halves"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
