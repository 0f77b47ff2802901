//! `cargo xtask <command>`: the course's own commands, written in Rust so they are
//! the same on Linux, macOS and Windows.
//!
//! - `setup`    Python environment, evcxr_jupyter, the `rust` kernelspec. Idempotent.
//! - `lab`      `setup` if needed, then JupyterLab on `notebooks/` (localhost, token on).
//! - `test`     fmt, clippy, unit and doc tests, the harness's own tests, then every
//!   notebook in a fresh kernel. `test <pattern>` runs only matching notebooks.
//! - `warm`     pre-builds every crate the notebooks `:dep` into evcxr's cache.
//! - `handouts` executed notebooks as HTML, an index and one PDF, in `handouts/`.
//! - `strip`    removes outputs and execution counts from the source notebooks.
//! - `reset`    the course's version of notebooks back in `my-notebooks/`.
//! - `pins`     rewrites every notebook's `:dep` lines from `xtask/crates.txt`.
//! - `measured` copies the last measured times into `xtask/measured.json` and texts.
//! - `kernel-bench` what helpers, a setup cell and a trivial cell cost in the kernel.
//!
//! The notebook runner itself is Python (`xtask/harness/nbrun.py`), because
//! nbclient, the headless Jupyter client, is a Python library: it speaks the same
//! protocol to the kernel that JupyterLab does.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod browser;
mod cross;
mod flags;
mod kernel;
mod lab;
mod measured;
mod pins;
mod setup;

use setup::Env;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    if env::args_os().len() <= 1 {
        print!("{}", flags::Xtask::HELP);
        return ExitCode::SUCCESS;
    }
    let flags = match flags::Xtask::from_env() {
        Ok(flags) => flags,
        Err(e) if e.is_help() => {
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", flags::Xtask::HELP);
            return ExitCode::from(2);
        }
    };
    let root = project_root();
    use flags::{KernelBenchCmd, XtaskCmd};
    let outcome = match flags.subcommand {
        XtaskCmd::Setup(_) => setup::setup(&root).map(|_| ()),
        XtaskCmd::Lab(f) => lab::lab(&root, &f),
        XtaskCmd::Test(f) => test(&root, &f.patterns),
        XtaskCmd::Warm(_) => warm(&root),
        XtaskCmd::Handouts(f) => handouts(&root, f.reuse),
        XtaskCmd::Strip(_) => strip(&root),
        XtaskCmd::Reset(f) => lab::reset(&root, &f.patterns),
        XtaskCmd::Pins(_) => pins::rewrite(&root),
        XtaskCmd::Measured(_) => measured::update(&root),
        XtaskCmd::KernelBench(f) => match f.subcommand {
            KernelBenchCmd::Cells(_) => kernel_bench(&root, &[]),
            KernelBenchCmd::Deps(_) => kernel_bench(&root, &["deps".into()]),
            KernelBenchCmd::Output(o) => {
                let mut args = vec!["output".to_string()];
                if o.busy {
                    args.push("--busy".into());
                }
                if let Some(n) = o.cells {
                    args.extend(["--cells".into(), n.to_string()]);
                }
                kernel_bench(&root, &args)
            }
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository's top folder (where the workspace `Cargo.toml` is).
fn project_root() -> PathBuf {
    let manifest = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env::current_dir().expect("a current directory"));
    manifest
        .ancestors()
        .find(|p| p.join("notebooks").is_dir() && p.join("Cargo.toml").is_file())
        .unwrap_or(&manifest)
        .to_path_buf()
}

/// Numbered progress lines with elapsed times: `[2/5] cargo clippy ... ok (3.1 s)`.
pub(crate) struct Progress {
    total: usize,
    done: usize,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Progress {
        Progress { total, done: 0 }
    }

    /// Runs one step; its closure says what it did (shown after `ok`).
    pub(crate) fn step<T>(
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
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
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
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command and returns its stdout; an error names the command and what it
/// said on stderr, after `why` (what its failure means for the learner).
pub(crate) fn captured(cmd: &mut Command, why: &str) -> Result<Vec<u8>> {
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
pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let pretty = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    fs::write(path, pretty + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command for the environment's Python, with what `cargo run` added to the
/// environment removed (the kernel it starts compiles code with cargo too), and
/// the kernel version the harness must find (`COURSE_EXPECT_KERNEL`).
fn python(env: &Env) -> Command {
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

/// Every notebook under `notebooks/`, in reading order.
fn notebooks(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![root.join("notebooks")];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension() == Some(OsStr::new("ipynb")) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn relative<'a>(root: &Path, p: &'a Path) -> &'a Path {
    p.strip_prefix(root).unwrap_or(p)
}

/// The notebooks whose path (under the repository) contains one of `patterns`;
/// every pattern must match at least one, so a typo is an error, not a skip.
fn matching(
    root: &Path,
    all: Vec<PathBuf>,
    patterns: &[String],
) -> Result<Vec<PathBuf>> {
    let name = |p: &PathBuf| relative(root, p).to_string_lossy().replace('\\', "/");
    if let Some(unmatched) = patterns
        .iter()
        .find(|pat| !all.iter().any(|p| name(p).contains(pat.as_str())))
    {
        return Err(format!(
            "no notebook under notebooks/ matches {unmatched:?}"
        ));
    }
    Ok(all
        .into_iter()
        .filter(|p| {
            patterns.is_empty()
                || patterns.iter().any(|pat| name(p).contains(pat.as_str()))
        })
        .collect())
}

fn test(root: &Path, patterns: &[String]) -> Result<()> {
    let start = Instant::now();
    let env = setup::setup(root)?;
    let nbs = matching(root, notebooks(root)?, patterns)?;
    let harness = root.join("xtask/harness");
    // What could not run here: said in the last line, never silently green.
    let mut skipped: Vec<&str> = Vec::new();
    if patterns.is_empty() {
        let mut p = Progress::new(8);
        p.step("cargo fmt --check", || {
            run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))?;
            Ok(((), "formatted".into()))
        })?;
        p.step("cargo clippy -D warnings", || {
            run(cargo().current_dir(root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ]))?;
            Ok(((), "no warnings".into()))
        })?;
        p.step("cargo clippy for macOS and Windows", || {
            let said = cross::clippy_other_targets(root)?;
            if said.contains("SKIPPED") {
                skipped.push("clippy skipped a target (see its step)");
            }
            Ok(((), said))
        })?;
        p.step("cargo test --workspace (unit and doc tests)", || {
            run(cargo()
                .current_dir(root)
                .args(["test", "--workspace", "--quiet"]))?;
            Ok(((), "passed".into()))
        })?;
        p.step("the course's kernel patch still applies", || {
            Ok(((), kernel::check_patch(root)?))
        })?;
        p.step(
            "harness tests: fixtures, handouts, lab, exercise cheats, figures off",
            || {
                for tests in [
                    "test_nbrun.py",
                    "test_handouts.py",
                    "test_lab.py",
                    "test_cheats.py",
                    "test_figures_off.py",
                ] {
                    run(python(&env).current_dir(root).arg(harness.join(tests)))?;
                }
                Ok(((), "passed".into()))
            },
        )?;
        p.step(
            "kernel output stress test (nothing printed arrives late)",
            || {
                run(python(&env)
                    .current_dir(root)
                    .arg(harness.join("output_stress.py")))?;
                Ok(((), "every line arrived before its cell's idle".into()))
            },
        )?;
        p.step(
            "browser checks: handouts in print, notebooks in JupyterLab",
            || match browser::check(root, &env)? {
                Some(said) => Ok(((), said)),
                None => {
                    skipped.push("the browser check did not run (see its step)");
                    Ok(((), "DID NOT RUN".into()))
                }
            },
        )?;
    } else {
        println!("test {}: only the matching notebooks", patterns.join(" "));
    }
    println!(
        "notebooks: {} to run, each in a fresh `rust` kernel",
        nbs.len()
    );
    let mut cmd = python(&env);
    cmd.current_dir(root)
        .arg(harness.join("nbrun.py"))
        .arg("--save-dir")
        .arg(root.join("target/notebooks-executed"));
    let full = patterns.is_empty();
    if full {
        // Each notebook's time, for `cargo xtask measured`.
        cmd.arg("--report")
            .arg(root.join("target/notebooks-report.json"));
    }
    cmd.args(nbs.iter().map(|p| relative(root, p)));
    let outcome = run(&mut cmd);
    if full && outcome.is_ok() && skipped.is_empty() {
        let secs = format!("{:.0}\n", start.elapsed().as_secs_f64());
        fs::write(root.join("target/test-seconds"), secs)
            .map_err(|e| e.to_string())?;
    }
    let verdict = match &outcome {
        Err(_) => "FAILED".to_string(),
        Ok(()) if skipped.is_empty() => "all green".to_string(),
        Ok(()) => format!("green, but {}", skipped.join("; ")),
    };
    println!(
        "test: {verdict} after {:.0} s",
        start.elapsed().as_secs_f64()
    );
    outcome.map_err(|_| "notebooks failed (see the lines above)".into())
}

fn strip(root: &Path) -> Result<()> {
    let env = setup::setup(root)?;
    run(python(&env)
        .current_dir(root)
        .arg(root.join("xtask/harness/nbrun.py"))
        .arg("--clean")
        .args(notebooks(root)?))
}

fn kernel_bench(root: &Path, args: &[String]) -> Result<()> {
    let env = setup::setup(root)?;
    run(python(&env)
        .current_dir(root)
        .arg(root.join("xtask/harness/kernel_bench.py"))
        .args(args))
}

/// What `warm` builds: `helpers` as the course's notebooks `:dep` it, then the
/// pinned crates of `xtask/crates.txt` (the lines every notebook uses).
fn dep_lines(root: &Path) -> Result<Vec<String>> {
    let mut deps = vec![r#":dep helpers = { path = "../helpers" }"#.to_string()];
    deps.extend(pins::pinned(root)?);
    Ok(deps)
}

fn warm(root: &Path) -> Result<()> {
    let env = setup::setup(root)?;
    let deps = dep_lines(root)?;
    if deps.is_empty() {
        return Err("no `:dep` line found in notebooks/".into());
    }
    println!("warm: building into evcxr's cache:");
    for d in &deps {
        println!("  {d}");
    }
    // The warm-up notebook sits in notebooks/ so that `path = "../helpers"` resolves
    // exactly as it does for the course's notebooks.
    let cells: Vec<serde_json::Value> =
        std::iter::once(setup::CACHE_LINE.to_string())
            .chain(deps.iter().cloned())
            .map(|src| {
                serde_json::json!({"cell_type": "code", "execution_count": null,
                "metadata": {}, "outputs": [], "source": [src]})
            })
            .collect();
    let nb = serde_json::json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "rust", "display_name": "Rust", "language": "rust"},
            "course": {"cell_timeout": 900}
        },
        "nbformat": 4,
        "nbformat_minor": 4
    })
    .to_string();
    let path = root.join("notebooks/.warm-up.ipynb");
    fs::write(&path, nb).map_err(|e| format!("{}: {e}", path.display()))?;
    let start = Instant::now();
    let outcome = run(python(&env)
        .current_dir(root)
        .arg(root.join("xtask/harness/nbrun.py"))
        .arg(&path));
    let _ = fs::remove_file(&path);
    outcome?;
    println!(
        "warm: done in {:.1} s; the notebooks can now run with CARGO_NET_OFFLINE=true",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn handouts(root: &Path, reuse: bool) -> Result<()> {
    let env = setup::setup(root)?;
    let browser = setup::handout_tools(root, &env.python)?;
    let out = root.join("handouts");
    let executed = if reuse {
        root.join("target/notebooks-executed")
    } else {
        out.join(".executed")
    };
    let top: Vec<PathBuf> = notebooks(root)?
        .into_iter()
        .filter(|p| p.parent() == Some(&root.join("notebooks")))
        .collect();
    let solutions: Vec<PathBuf> = notebooks(root)?
        .into_iter()
        .filter(|p| p.parent() == Some(&root.join("notebooks/solutions")))
        .collect();
    let nbrun = root.join("xtask/harness/nbrun.py");
    let mut p = Progress::new(4);
    // A failing notebook still gets its handout (its output shows the failure),
    // but the command reports it at the end.
    let ran = p.step("execute the notebooks and the solutions", || {
        if reuse {
            if !executed.is_dir() {
                return Err("nothing to reuse: run `cargo xtask test` first".into());
            }
            let said = format!("reusing {}", executed.display());
            return Ok((Ok(()), said));
        }
        let mut outcome = run(python(&env)
            .current_dir(root)
            .arg(&nbrun)
            .arg("--save-dir")
            .arg(&executed)
            .args(&top));
        if !solutions.is_empty() {
            outcome = outcome.and(run(python(&env)
                .current_dir(root)
                .arg(&nbrun)
                .arg("--save-dir")
                .arg(&executed)
                .args(&solutions)));
        }
        let said = format!("{} notebooks, {} solutions", top.len(), solutions.len());
        Ok((outcome, said))
    })?;
    p.step("HTML pages and the index", || {
        run(python(&env)
            .current_dir(root)
            .arg(root.join("xtask/harness/handouts.py"))
            .arg(root)
            .arg(&executed)
            .arg(&out))?;
        Ok(((), format!("{}", out.join("index.html").display())))
    })?;
    p.step("PDFs (course, and solutions for the teacher)", || {
        let mut made = Vec::new();
        for (page, pdf) in [
            ("course.html", "course.pdf"),
            ("teacher/solutions.html", "teacher/solutions.pdf"),
        ] {
            if !out.join(page).exists() {
                continue;
            }
            run(Command::new(&browser.chromium)
                .args(setup::CHROMIUM_FLAGS)
                .arg(format!("--print-to-pdf={}", out.join(pdf).display()))
                .arg("--no-pdf-header-footer")
                .arg(format!("file://{}", out.join(page).display())))?;
            made.push(pdf);
        }
        Ok(((), made.join(", ")))
    })?;
    p.step("open every page in headless Chromium", || {
        run(python(&env)
            .current_dir(root)
            .arg(root.join("xtask/harness/check_handouts.py"))
            .arg(&out))?;
        Ok((
            (),
            format!("screenshots in {}", out.join("screenshots").display()),
        ))
    })?;
    ran.map_err(|e| format!("handouts written, but a notebook failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_the_readme_and_this_files_docs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let readme = fs::read_to_string(root.join("README.md")).unwrap();
        let docs: String = include_str!("main.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        // The commands are the `cmd`s one level inside `cmd xtask` in flags.rs.
        let commands: Vec<&str> = include_str!("flags.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("        cmd "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(commands.len() >= 10, "{commands:?}");
        for cmd in commands {
            assert!(
                readme.contains(&format!("`cargo xtask {cmd}")),
                "README.md's command table lacks `cargo xtask {cmd}`"
            );
            assert!(
                docs.contains(&format!("`{cmd}`")),
                "xtask/src/main.rs's docs lack `{cmd}`"
            );
        }
    }

    #[test]
    fn test_and_strip_never_see_the_learners_copy() {
        let root =
            env::temp_dir().join(format!("xtask-main-{}", std::process::id()));
        for dir in ["notebooks/exercises", "my-notebooks/exercises"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "notebooks/01-a.ipynb",
            "notebooks/exercises/01a-x.ipynb",
            "my-notebooks/01-a.ipynb",
            "my-notebooks/exercises/01a-x.ipynb",
        ] {
            fs::write(root.join(file), "{}").unwrap();
        }
        let found = notebooks(&root).unwrap();
        let _ = fs::remove_dir_all(&root);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|p| !p.starts_with(root.join("my-notebooks")))
        );
    }

    #[test]
    fn every_pattern_must_match_a_notebook() {
        let root = Path::new("/r");
        let all = vec![
            root.join("notebooks/02-a.ipynb"),
            root.join("notebooks/05-b.ipynb"),
        ];
        let both = matching(root, all.clone(), &["02".into(), "05".into()]).unwrap();
        assert_eq!(both.len(), 2);
        let err = matching(root, all, &["02".into(), "5x".into()]).unwrap_err();
        assert!(err.contains("\"5x\""), "{err}");
    }
}
