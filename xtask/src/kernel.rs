//! The course's build of the Jupyter kernel: `evcxr_jupyter` from crates.io with
//! one reviewable patch applied, `xtask/kernel/evcxr-<version>-course.patch`.
//!
//! Why a patch: evcxr_jupyter 0.22 can report a cell done before all of its output
//! has been sent, and Jupyter clients stop listening at that moment, so the last
//! lines of a cell, or a failed `assert!`'s message, can be lost
//! (evcxr/evcxr#353). It also reports a panic with status "ok", so JupyterLab's
//! "Run All" runs on past a failed `assert!`. The patch fixes both; its header
//! says how.
//!
//! How it is built: cargo fetches the crates' sources (`cargo metadata` of a
//! throw-away package that depends on the pinned version, so registries, mirrors
//! and an offline cache work as they do for any build), they are copied to
//! `target/kernel/src/`, `git apply` patches them, and `cargo install --locked`
//! builds the result with the lock file the release shipped.

use crate::util::{Result, captured, cargo, output, show};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The evcxr_jupyter release the course builds on.
pub const EVCXR_VERSION: &str = "0.22.0";

/// Which revision of the course's patch; the patched kernel reports
/// `EVCXR_VERSION+PATCH_TAG` as its version. Bump it with every patch change, so
/// `setup` rebuilds the kernel.
pub const PATCH_TAG: &str = "course.5";

/// The version the course's kernel reports (`evcxr_jupyter --version`, and
/// `implementation_version` in Jupyter's kernel info).
pub fn kernel_version() -> String {
    format!("{EVCXR_VERSION}+{PATCH_TAG}")
}

/// The patch file for [`EVCXR_VERSION`].
pub fn patch_file(root: &Path) -> PathBuf {
    root.join(format!("xtask/kernel/evcxr-{EVCXR_VERSION}-course.patch"))
}

/// What an installed `evcxr_jupyter` says its version is (`None` for a build
/// without `--version`, such as an unpatched one).
pub fn installed_version(bin: &Path) -> Option<String> {
    let said = output(Command::new(bin).arg("--version"))?;
    said.trim()
        .strip_prefix("evcxr_jupyter ")
        .map(str::to_string)
}

/// Builds and installs the patched kernel into cargo's bin folder.
///
/// Cargo's own output (about 400 `Compiling` lines) goes to
/// `target/kernel/install.log`; the learner sees one line every few seconds
/// (crates compiled out of the total, time so far), and on failure the log's
/// path and its last lines.
pub fn install(root: &Path) -> Result<()> {
    let src = patched_sources(root)?;
    let total = crates_to_build(&src);
    let log_path = root.join("target/kernel/install.log");
    let mut log = fs::File::create(&log_path)
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut cmd = cargo();
    cmd.args([
        "install", "--locked", "--force", "--color", "never", "--path",
    ])
    .arg(&src)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let shown = show(&cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    // Cargo writes its progress to stderr; stdout stays (almost) empty, and
    // is drained on its own thread so that the child never blocks on it.
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = BufReader::new(stdout).read_to_string(&mut rest);
        rest
    });
    let start = Instant::now();
    let mut progress = Progress::new(total);
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut tail: Vec<String> = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        let _ = writeln!(log, "{line}");
        if let Some(said) = progress.saw(&line, start.elapsed()) {
            println!("      {said}");
        }
        tail.push(line);
        if tail.len() > 30 {
            tail.remove(0);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{shown}`: {e}"))?;
    let _ = writeln!(log, "{}", drain.join().unwrap_or_default());
    if status.success() {
        println!("      {}", progress.done(start.elapsed()));
        // For `cargo xtask measured` (xtask/measured.json).
        let secs = format!("{:.0}\n", start.elapsed().as_secs_f64());
        let _ = fs::write(root.join("target/kernel/install-seconds"), secs);
        Ok(())
    } else {
        Err(format!(
            "`{shown}` failed ({status}); its last lines:\n{}\nThe whole log: {}",
            tail.join("\n"),
            log_path.display()
        ))
    }
}

/// How many packages `cargo install` will compile for the kernel: the distinct
/// packages of `cargo tree` for this machine (`None` if it cannot tell).
fn crates_to_build(src: &Path) -> Option<usize> {
    let tree = output(
        cargo()
            .args([
                "tree",
                "--locked",
                "--prefix",
                "none",
                "--edges",
                "normal,build",
            ])
            .current_dir(src),
    )?;
    let mut names: Vec<&str> = tree
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim())
        .filter(|l| !l.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    Some(names.len())
}

/// Turns cargo's `Compiling ...` lines into a short line every few seconds.
struct Progress {
    total: Option<usize>,
    compiled: usize,
    last_said: Option<Duration>,
}

impl Progress {
    /// How often a line is printed at most.
    const EVERY: Duration = Duration::from_secs(5);

    fn new(total: Option<usize>) -> Progress {
        Progress {
            total,
            compiled: 0,
            last_said: None,
        }
    }

    /// Counts one line of cargo's output; returns a line to print when it is time.
    fn saw(&mut self, line: &str, elapsed: Duration) -> Option<String> {
        if !line.trim_start().starts_with("Compiling ") {
            return None;
        }
        self.compiled += 1;
        let due = self
            .last_said
            .is_none_or(|last| elapsed >= last + Self::EVERY);
        due.then(|| {
            self.last_said = Some(elapsed);
            self.line(elapsed)
        })
    }

    fn line(&self, elapsed: Duration) -> String {
        let of = match self.total {
            // A crate the tree did not predict must not print "301 of 300".
            Some(total) => {
                format!("{}/{} crates", self.compiled, total.max(self.compiled))
            }
            None => format!("{} crates", self.compiled),
        };
        format!("building the kernel: {of}, {}", clock(elapsed))
    }

    fn done(&self, elapsed: Duration) -> String {
        format!(
            "built the kernel: {} crates in {}",
            self.compiled,
            clock(elapsed)
        )
    }
}

/// `7 s`, `2 min 05 s`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// Proves the patch still applies to the pinned release (for `cargo xtask test`).
pub fn check_patch(root: &Path) -> Result<String> {
    patched_sources(root)?;
    Ok(format!(
        "{} applies to evcxr_jupyter {EVCXR_VERSION}",
        relative_name(&patch_file(root))
    ))
}

fn relative_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Fresh copies of the two crates' sources with the patch applied; returns the
/// evcxr_jupyter folder. Fails, naming the patch, when it no longer applies.
fn patched_sources(root: &Path) -> Result<PathBuf> {
    let patch = patch_file(root);
    if !patch.is_file() {
        return Err(format!(
            "{} is missing: the course has no patch for evcxr_jupyter {EVCXR_VERSION}",
            patch.display()
        ));
    }
    let (jupyter, evcxr) = upstream_sources(root)?;
    let dir = root.join("target/kernel/src");
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for from in [&jupyter, &evcxr] {
        let name = from
            .file_name()
            .ok_or("a crate source without a folder name")?;
        copy_dir(from, &dir.join(name))?;
    }
    // Inside the course's own repository `git apply` would take the patch's paths
    // as relative to the repository and silently skip them: stop it looking.
    let mut cmd = Command::new("git");
    cmd.args(["apply", "--whitespace=nowarn"])
        .arg(&patch)
        .current_dir(&dir)
        .env("GIT_CEILING_DIRECTORIES", root.join("target/kernel"));
    captured(&mut cmd, "").map_err(|e| {
        format!(
            "{} no longer applies to evcxr_jupyter {EVCXR_VERSION} (or git is \
             missing: the kernel is patched with git):\n{e}\n\
             Rebase the patch on the new sources (see its header), or pin the \
             version it was made for in xtask/src/kernel.rs.",
            patch.display()
        )
    })?;
    let built = dir.join(format!("evcxr_jupyter-{EVCXR_VERSION}"));
    let manifest = fs::read_to_string(built.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains(&format!("version = \"{}\"", kernel_version())) {
        return Err(format!(
            "{} applied, but evcxr_jupyter's Cargo.toml does not say version {}: \
             bump PATCH_TAG in xtask/src/kernel.rs and the patch together",
            patch.display(),
            kernel_version()
        ));
    }
    Ok(built)
}

/// The registry sources of evcxr_jupyter and evcxr at [`EVCXR_VERSION`], as
/// cargo downloaded them.
fn upstream_sources(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let probe = root.join("target/kernel/probe");
    fs::create_dir_all(probe.join("src"))
        .map_err(|e| format!("{}: {e}", probe.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask setup`: only so that cargo fetches the kernel's sources.\n\
         [package]\nname = \"course-kernel-sources\"\nversion = \"0.0.0\"\n\
         edition = \"2021\"\npublish = false\n\n\
         [dependencies]\nevcxr_jupyter = \"={EVCXR_VERSION}\"\n\n[workspace]\n"
    );
    let write = |p: PathBuf, s: &str| {
        fs::write(&p, s).map_err(|e| format!("{}: {e}", p.display()))
    };
    write(probe.join("Cargo.toml"), &manifest)?;
    write(probe.join("src/lib.rs"), "")?;
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(probe.join("Cargo.toml"));
    let shown = show(&cmd);
    let why = format!(" (cargo could not fetch evcxr_jupyter {EVCXR_VERSION})");
    let stdout = captured(&mut cmd, &why)?;
    let meta: serde_json::Value = serde_json::from_slice(&stdout)
        .map_err(|e| format!("`{shown}` printed something that is not JSON: {e}"))?;
    let folder = |name: &str| -> Result<PathBuf> {
        meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == name && p["version"] == EVCXR_VERSION)
            .and_then(|p| p["manifest_path"].as_str())
            .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
            .ok_or_else(|| format!("`{shown}` does not list {name} {EVCXR_VERSION}"))
    };
    Ok((folder("evcxr_jupyter")?, folder("evcxr")?))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries =
        fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_root;

    #[test]
    fn progress_is_one_line_every_few_seconds_out_of_the_total() {
        let mut p = Progress::new(Some(3));
        let at = Duration::from_secs;
        assert_eq!(
            p.saw("   Downloaded foo v1.0.0", at(0)),
            None,
            "only Compiling counts"
        );
        assert_eq!(
            p.saw("   Compiling libc v0.2.1", at(1)).as_deref(),
            Some("building the kernel: 1/3 crates, 1 s"),
            "the first crate says so at once"
        );
        assert_eq!(p.saw("   Compiling syn v2.0.0", at(3)), None, "too soon");
        assert_eq!(
            p.saw("   Compiling serde v1.0.0", at(6)).as_deref(),
            Some("building the kernel: 3/3 crates, 6 s")
        );
        assert_eq!(
            p.saw("   Compiling evcxr v0.22.0", at(125)).as_deref(),
            Some("building the kernel: 4/4 crates, 2 min 05 s"),
            "never more done than the total"
        );
        assert_eq!(p.done(at(130)), "built the kernel: 4 crates in 2 min 10 s");
        let mut unknown = Progress::new(None);
        assert_eq!(
            unknown.saw("Compiling a v1", at(0)).as_deref(),
            Some("building the kernel: 1 crates, 0 s")
        );
    }

    #[test]
    fn the_patch_names_its_upstream_issue_and_sets_the_version_setup_expects() {
        let patch = fs::read_to_string(patch_file(&test_root())).unwrap();
        assert!(patch.contains("https://github.com/evcxr/evcxr/issues/353"));
        assert!(
            patch.contains(&format!("+version = \"{}\"", kernel_version())),
            "the patch must set evcxr_jupyter's version to {}",
            kernel_version()
        );
        for file in ["evcxr-", "evcxr_jupyter-"] {
            assert!(
                patch.contains(&format!("a/{file}{EVCXR_VERSION}/")),
                "the patch must be made against {file}{EVCXR_VERSION}"
            );
        }
    }
}
