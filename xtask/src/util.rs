//! What every command uses: the repository's root, numbered progress lines, and
//! running other programs (cargo, the environment's Python) with errors that name
//! what failed.

use crate::kernel;
use crate::setup::Env;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Every command's outcome: the error is the message printed after `error: `.
pub type Result<T> = std::result::Result<T, String>;

/// The repository's top folder (where the workspace `Cargo.toml` is).
pub fn project_root() -> PathBuf {
    let manifest = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env::current_dir().expect("a current directory"));
    manifest
        .ancestors()
        .find(|p| p.join("notebooks").is_dir() && p.join("Cargo.toml").is_file())
        .unwrap_or(&manifest)
        .to_path_buf()
}

/// The repository xtask was compiled in, for tests (whatever folder they run in).
#[cfg(test)]
pub fn test_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is inside the repository")
        .to_path_buf()
}

/// Numbered progress lines with elapsed times: `[2/5] cargo clippy ... ok (3.1 s)`.
pub struct Progress {
    total: usize,
    done: usize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress { total, done: 0 }
    }

    /// Runs one step; its closure says what it did (shown after the title).
    pub fn step(
        &mut self,
        title: &str,
        f: impl FnOnce() -> Result<String>,
    ) -> Result<()> {
        self.step_returning(title, || f().map(|said| ((), said)))
    }

    /// Runs one step that finds or makes something later steps use; its closure
    /// returns that and what it did.
    pub fn step_returning<T>(
        &mut self,
        title: &str,
        f: impl FnOnce() -> Result<(T, String)>,
    ) -> Result<T> {
        self.done += 1;
        println!("[{}/{}] {title} ...", self.done, self.total);
        let start = Instant::now();
        let (value, said) = f()?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "[{}/{}] {title}: {said} ({secs:.1} s)",
            self.done, self.total
        );
        Ok(value)
    }
}

/// Runs a command with inherited output; an error names the command.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = show(cmd);
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs a command and returns its stdout, or None if it could not run or failed.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command and returns its stdout; an error names the command and what it
/// said on stderr, after `why` (what its failure means for the learner).
pub fn captured(cmd: &mut Command, why: &str) -> Result<Vec<u8>> {
    let shown = show(cmd);
    let out = cmd
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "`{shown}` failed{why}:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Writes `value` as pretty JSON with a final newline, making its folder.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let pretty = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    fs::write(path, pretty + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// A command as a learner would type it, for messages.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The cargo that runs us (`$CARGO`), or the one on the PATH.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command for the environment's Python, with what `cargo run` added to the
/// environment removed (the kernel it starts compiles code with cargo too), and
/// the kernel version the harness must find (`COURSE_EXPECT_KERNEL`).
pub fn python(env: &Env) -> Command {
    let mut cmd = Command::new(&env.python);
    cmd.env("COURSE_EXPECT_KERNEL", kernel::kernel_version());
    for (key, _) in env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_BIN_")
            || matches!(
                k.as_ref(),
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_CRATE_NAME"
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}
