//! Installing plugins the way users do: `notation plugin install --file`.
//!
//! notation accepts a bare executable only when it is named `notation-<name>` and has the user-x
//! bit, so a binary under another name is first copied under the right one.

use std::fs;
use std::path::Path;

use crate::env::NotationEnv;
use crate::error::{HarnessError, Result};
use crate::process::Output;

impl NotationEnv {
    /// `notation plugin install --file <binary>`; the file must be named `notation-<name>`.
    pub fn install_plugin(&self, binary: &Path) -> Result<Output> {
        let mut args = vec![
            "plugin".as_ref(),
            "install".as_ref(),
            "--file".as_ref(),
            binary.as_os_str(),
        ];
        // Re-installing the same version is refused without --force; tests want the fresh binary.
        args.push("--force".as_ref());
        self.notation_ok(&args)
    }

    /// Copies `binary` to `notation-<name>` in a staging folder, then installs that file.
    pub fn install_plugin_as(&self, binary: &Path, name: &str) -> Result<Output> {
        let staging = self.root().join("staging").join(name);
        fs::create_dir_all(&staging).map_err(HarnessError::io("create", &staging))?;
        let staged = staging.join(format!("notation-{name}"));
        fs::copy(binary, &staged).map_err(HarnessError::io("copy plugin to", &staged))?;
        self.install_plugin(&staged)
    }

    /// Installs `binary` as plugin `name` behind a wrapper that keeps the last request of each
    /// command in `<capture>/<command>.json`, byte for byte as notation sent it, then runs the real
    /// plugin on it. Used to capture `spec/examples/` from our own plugins.
    pub fn install_recording_plugin(
        &self,
        binary: &Path,
        name: &str,
        capture: &Path,
    ) -> Result<Output> {
        fs::create_dir_all(capture).map_err(HarnessError::io("create", capture))?;
        let script = format!(
            "#!/bin/sh\ncat > '{dir}/'\"$1\".json\nexec '{bin}' \"$1\" < '{dir}/'\"$1\".json\n",
            dir = capture.display(),
            bin = binary.display()
        );
        let wrapper = self.write_file(&format!("{name}-recording-wrapper.sh"), script)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755))
                .map_err(HarnessError::io("chmod", &wrapper))?;
        }
        self.install_plugin_as(&wrapper, name)
    }

    /// `notation plugin ls` output.
    pub fn plugin_list(&self) -> Result<Output> {
        self.notation_ok(&["plugin", "ls"])
    }
}
