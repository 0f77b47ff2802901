//! `cargo xtask lab`: JupyterLab on the learner's own copy of the notebooks, and
//! how that copy is kept (which `cargo xtask reset`, in `reset.rs`, also uses).
//!
//! A learner who runs a notebook and saves it (Ctrl-S, or JupyterLab's autosave)
//! writes outputs into the file. If that file were the course's source, `test`
//! would refuse it, `strip` would wipe the learner's work and `git pull` would
//! conflict with it. So `lab` serves `my-notebooks/` (git-ignored), a copy of
//! `notebooks/` made on first start and brought up to date on every start:
//!
//! - a notebook the course added (or the learner deleted) is copied in;
//! - a notebook the learner never changed follows the course's updates;
//! - a notebook the learner changed is never touched; if the course changed it
//!   too, `lab` says so and `cargo xtask reset <name>` takes the course's version
//!   (the learner's copy goes to `my-notebooks/.backup/` first).
//!
//! What "never changed" means is kept exactly: `my-notebooks/.course/` holds the
//! course's version of each file as it was last copied, and a notebook is the
//! learner's own as soon as its cells' sources differ from that one's. Outputs,
//! execution counts and metadata do not count: opening a notebook makes the kernel
//! add `language_info.version`, running it adds outputs, and autosave writes
//! both; such a copy still follows the course (running it makes its outputs
//! again). Other files (the teacher's guide) are compared byte for byte.

use crate::notebooks::files_under;
use crate::util::{Result, python};
use crate::{flags, setup};
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The learner's copy, beside `notebooks/` so that `../helpers` resolves alike.
pub const MY_NOTEBOOKS: &str = "my-notebooks";
/// The course's versions as last copied (the base that tells edits apart).
const BASE: &str = ".course";
/// Where `reset` keeps the learner's copy it replaces.
const BACKUP: &str = ".backup";

impl flags::Lab {
    pub fn run(self, root: &Path) -> Result<()> {
        let env = setup::setup(root)?;
        let mine = self.dir.clone().unwrap_or_else(|| root.join(MY_NOTEBOOKS));
        let report = sync(&root.join("notebooks"), &mine)?;
        report.print(&mine);

        let port = match self.port {
            Some(p) => p,
            None => free_port(8888).ok_or("no free port from 8888 to 8987")?,
        };
        let token = token();
        let mut cmd = python(&env);
        cmd.current_dir(root)
            .args(["-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1"])
            .arg(format!("--ServerApp.port={port}"))
            .arg("--ServerApp.port_retries=0")
            .arg(format!("--ServerApp.root_dir={}", mine.display()))
            // In the environment, not the arguments: other users can read a command line.
            .env("JUPYTER_TOKEN", &token)
            // Open tabs are remembered per copy, not in the user's global ~/.jupyter.
            .env("JUPYTERLAB_WORKSPACES_DIR", mine.join(".workspaces"));
        if !mine.parent().is_some_and(|p| p.join("helpers").is_dir()) {
            println!(
                "lab: warning: {} has no helpers/ beside it, so the notebooks' \
             `:dep helpers = {{ path = \"../helpers\" }}` will not compile",
                mine.display()
            );
        }
        if self.no_browser {
            cmd.arg("--no-browser");
        }
        if self.expose_app {
            cmd.arg("--LabApp.expose_app_in_browser=True");
        }
        if is_root() {
            println!(
                "lab: running as root (a container?): passing --allow-root, without which \
             Jupyter refuses to start"
            );
            cmd.arg("--allow-root");
        }
        // Jupyter's own log goes to our stderr; the one line a learner needs is ours.
        cmd.stdout(Stdio::inherit()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not start JupyterLab: {e}"))?;
        let log = child.stderr.take().map(BufReader::new);
        let relay = std::thread::spawn(move || {
            for line in log
                .into_iter()
                .flat_map(|r| r.lines())
                .map_while(|l| l.ok())
            {
                eprintln!("{line}");
            }
        });
        let url = format!("http://127.0.0.1:{port}/lab?token={token}");
        if wait_for_port(port, Duration::from_secs(120), &mut child) {
            println!(
                "\nJupyterLab is ready. Open this address in your browser:\n\n{url}\n"
            );
            println!(
                "(your notebooks: {}; stop JupyterLab with Ctrl-C twice)",
                mine.display()
            );
        } else {
            println!(
                "lab: JupyterLab did not answer on port {port} within 120 s (its log is \
             above); if it starts later, the address is:\n\n{url}\n"
            );
        }
        let status = child.wait().map_err(|e| format!("JupyterLab: {e}"))?;
        let _ = relay.join();
        if status.success() {
            Ok(())
        } else {
            Err(format!("JupyterLab stopped ({status}); its log is above"))
        }
    }
}

/// Puts the course's version of `rel` in place; returns where the learner's copy
/// was saved, or `None` if it already was the course's version.
pub fn reset_one(course: &Path, mine: &Path, rel: &Path) -> Result<Option<PathBuf>> {
    let new = read(&course.join(rel))?;
    let cur = mine.join(rel);
    let mut backup = None;
    if cur.exists() {
        if read(&cur)? == new {
            write(&mine.join(BASE).join(rel), &new)?;
            return Ok(None);
        }
        let stem = rel.file_stem().unwrap_or_default().to_string_lossy();
        let ext = rel.extension().unwrap_or_default().to_string_lossy();
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let saved = mine
            .join(BACKUP)
            .join(rel.parent().unwrap_or(Path::new("")))
            .join(format!("{stem}-{secs}.{ext}"));
        write(&saved, &read(&cur)?)?;
        backup = Some(saved);
    }
    write(&cur, &new)?;
    write(&mine.join(BASE).join(rel), &new)?;
    Ok(backup)
}

/// What one [`sync`] did.
#[derive(Debug, Default, PartialEq)]
pub struct SyncReport {
    /// New to the learner (first start, a notebook the course added, or deleted).
    pub copied: Vec<PathBuf>,
    /// Unchanged by the learner, changed by the course: updated.
    pub updated: Vec<PathBuf>,
    /// Changed by the learner and by the course: left alone.
    pub diverged: Vec<PathBuf>,
}

impl SyncReport {
    fn print(&self, mine: &Path) {
        if !self.copied.is_empty() {
            println!(
                "lab: {} notebook(s) copied into {} (your own copies: save freely)",
                self.copied.len(),
                mine.display()
            );
        }
        for p in &self.updated {
            println!(
                "lab: {} follows the course's update (you had not changed it)",
                p.display()
            );
        }
        for p in &self.diverged {
            println!(
                "lab: the course updated {} but you changed your copy: kept yours; \
                 `cargo xtask reset {}` takes the course's version (yours is saved first)",
                p.display(),
                p.file_stem().unwrap_or_default().to_string_lossy()
            );
        }
    }
}

/// Brings the learner's copy `mine` up to date with the course's `course` folder
/// without ever overwriting a file the learner changed.
pub fn sync(course: &Path, mine: &Path) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    for file in course_files(course)? {
        let rel = file.strip_prefix(course).unwrap_or(&file).to_path_buf();
        let new = read(&file)?;
        let cur_path = mine.join(&rel);
        let base_path = mine.join(BASE).join(&rel);
        let base = fs::read(&base_path).ok();
        match fs::read(&cur_path).ok() {
            None => {
                write(&cur_path, &new)?;
                write(&base_path, &new)?;
                report.copied.push(rel);
            }
            Some(cur) if cur == new => {
                if base.as_deref() != Some(&new[..]) {
                    write(&base_path, &new)?;
                }
            }
            // The course did not change it since it was copied: nothing to do,
            // whatever the learner did (their outputs stay).
            Some(_) if base.as_deref() == Some(&new[..]) => {}
            Some(cur) if base.as_deref().is_some_and(|b| same_sources(b, &cur)) => {
                write(&cur_path, &new)?;
                write(&base_path, &new)?;
                report.updated.push(rel);
            }
            Some(_) => report.diverged.push(rel),
        }
    }
    Ok(report)
}

/// The course's notebooks and the teacher's guide: what a learner's copy holds.
pub fn course_files(course: &Path) -> Result<Vec<PathBuf>> {
    files_under(course, &["ipynb", "md"])
}

/// Whether two files hold the same work: for notebooks, the same cells with the
/// same sources; for anything else (or a notebook that is not JSON), the same bytes.
fn same_sources(a: &[u8], b: &[u8]) -> bool {
    fn cells(bytes: &[u8]) -> Option<Vec<(String, String)>> {
        let nb: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        nb["cells"]
            .as_array()?
            .iter()
            .map(|cell| {
                let source = match &cell["source"] {
                    serde_json::Value::Array(lines) => {
                        lines.iter().filter_map(|l| l.as_str()).collect()
                    }
                    other => other.as_str()?.to_string(),
                };
                Some((cell["cell_type"].as_str()?.to_string(), source))
            })
            .collect()
    }
    match (cells(a), cells(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn read(p: &Path) -> Result<Vec<u8>> {
    fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = p.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
}

/// The first port from `start` that nothing listens on, on 127.0.0.1.
pub fn free_port(start: u16) -> Option<u16> {
    (start..start.saturating_add(100)).find(|&p| {
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p))).is_ok()
    })
}

/// Waits until JupyterLab accepts connections; false if it exited or timed out.
fn wait_for_port(
    port: u16,
    patience: Duration,
    child: &mut std::process::Child,
) -> bool {
    let deadline = Instant::now() + patience;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A login token: 128 bits from the OS's random source, as std's hash maps seed
/// their keys from it (no dependency needed for one value).
fn token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    (0..2)
        .map(|i| {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(i);
            h.write_u128(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            format!("{:016x}", h.finish())
        })
        .collect()
}

/// Whether we run as root (Unix), where Jupyter wants `--allow-root`.
fn is_root() -> bool {
    cfg!(unix)
        && Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tmp(PathBuf);
    impl Tmp {
        fn new(name: &str) -> Tmp {
            let dir = std::env::temp_dir()
                .join(format!("xtask-lab-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Tmp(dir)
        }
    }
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn put(p: &Path, s: &str) {
        write(p, s.as_bytes()).unwrap();
    }
    fn get(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn a_learners_work_survives_a_course_update() {
        let t = Tmp::new("sync");
        let (course, mine) = (t.0.join("notebooks"), t.0.join("my-notebooks"));
        put(&course.join("01-a.ipynb"), "course v1 of 01");
        put(&course.join("02-b.ipynb"), "course v1 of 02");
        put(&course.join("exercises/01a-x.ipynb"), "exercise v1");
        put(
            &course.join(".ipynb_checkpoints/01-a.ipynb"),
            "never copied",
        );

        let first = sync(&course, &mine).unwrap();
        assert_eq!(first.copied.len(), 3, "{first:?}");
        assert!(!mine.join(".ipynb_checkpoints").exists());

        // The learner runs and saves 01; the course then updates 01 and 02 and
        // adds 03.
        put(&mine.join("01-a.ipynb"), "01 with the learner's outputs");
        put(&course.join("01-a.ipynb"), "course v2 of 01");
        put(&course.join("02-b.ipynb"), "course v2 of 02");
        put(&course.join("03-c.ipynb"), "course v1 of 03");

        let second = sync(&course, &mine).unwrap();
        assert_eq!(
            get(&mine.join("01-a.ipynb")),
            "01 with the learner's outputs"
        );
        assert_eq!(get(&mine.join("02-b.ipynb")), "course v2 of 02");
        assert_eq!(get(&mine.join("03-c.ipynb")), "course v1 of 03");
        assert_eq!(second.diverged, [PathBuf::from("01-a.ipynb")]);
        assert_eq!(second.updated, [PathBuf::from("02-b.ipynb")]);
        assert_eq!(second.copied, [PathBuf::from("03-c.ipynb")]);

        // Nothing changes on a third start.
        let third = sync(&course, &mine).unwrap();
        assert_eq!(third.copied.len() + third.updated.len(), 0, "{third:?}");
        assert_eq!(
            get(&mine.join("01-a.ipynb")),
            "01 with the learner's outputs"
        );

        // Reset takes the course's version and keeps the learner's in .backup/.
        let saved = reset_one(&course, &mine, Path::new("01-a.ipynb"))
            .unwrap()
            .expect("a backup of the learner's copy");
        assert_eq!(get(&saved), "01 with the learner's outputs");
        assert!(saved.starts_with(mine.join(".backup")));
        assert_eq!(get(&mine.join("01-a.ipynb")), "course v2 of 01");
        // ...and from then on 01 follows the course again.
        put(&course.join("01-a.ipynb"), "course v3 of 01");
        let fourth = sync(&course, &mine).unwrap();
        assert_eq!(fourth.updated, [PathBuf::from("01-a.ipynb")]);
        assert_eq!(
            reset_one(&course, &mine, Path::new("01-a.ipynb")).unwrap(),
            None
        );
    }

    #[test]
    fn a_notebook_only_run_and_saved_still_follows_the_course() {
        let t = Tmp::new("ran");
        let (course, mine) = (t.0.join("notebooks"), t.0.join("my-notebooks"));
        let nb = |src: &str, output: &str| {
            let version = if output.is_empty() {
                ""
            } else {
                r#", "version": """#
            };
            format!(
                r#"{{"cells": [{{"cell_type": "code", "source": ["{src}"], "outputs": [{output}]}}],
                   "metadata": {{"language_info": {{"name": "Rust"{version}}}}}}}"#
            )
        };
        put(&course.join("01-a.ipynb"), &nb("let x = 1;", ""));
        sync(&course, &mine).unwrap();
        // Opened, run and autosaved: outputs and language_info.version added.
        put(
            &mine.join("01-a.ipynb"),
            &nb("let x = 1;", r#"{"text": "1"}"#),
        );
        // The course unchanged: the learner's outputs stay.
        assert_eq!(sync(&course, &mine).unwrap(), SyncReport::default());
        assert_eq!(
            get(&mine.join("01-a.ipynb")),
            nb("let x = 1;", r#"{"text": "1"}"#)
        );
        put(&course.join("01-a.ipynb"), &nb("let x = 2;", ""));
        let report = sync(&course, &mine).unwrap();
        assert_eq!(report.updated, [PathBuf::from("01-a.ipynb")], "{report:?}");
        assert_eq!(get(&mine.join("01-a.ipynb")), nb("let x = 2;", ""));
        // An edited source is the learner's own.
        put(&mine.join("01-a.ipynb"), &nb("let x = 42;", ""));
        put(&course.join("01-a.ipynb"), &nb("let x = 3;", ""));
        let report = sync(&course, &mine).unwrap();
        assert_eq!(report.diverged, [PathBuf::from("01-a.ipynb")], "{report:?}");
        assert_eq!(get(&mine.join("01-a.ipynb")), nb("let x = 42;", ""));
    }

    #[test]
    fn an_edit_the_course_did_not_touch_is_not_reported() {
        let t = Tmp::new("quiet");
        let (course, mine) = (t.0.join("notebooks"), t.0.join("my-notebooks"));
        put(&course.join("01-a.ipynb"), "v1");
        sync(&course, &mine).unwrap();
        put(&mine.join("01-a.ipynb"), "mine");
        assert_eq!(sync(&course, &mine).unwrap(), SyncReport::default());
        assert_eq!(get(&mine.join("01-a.ipynb")), "mine");
    }

    #[test]
    fn free_port_skips_a_port_in_use() {
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        assert_ne!(free_port(port), Some(port));
    }
}
