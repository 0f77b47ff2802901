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

mod setup;

use setup::Env;

type Result<T> = std::result::Result<T, String>;

const HELP: &str = "\
usage: cargo xtask <command>

  setup            install what the notebooks need (idempotent; safe to re-run)
  lab              start JupyterLab on notebooks/ (runs setup if needed)
  test [pattern]   the one test command: fmt, clippy, cargo test, harness tests,
                   then every notebook (or only those whose path contains pattern)
  warm             pre-build the notebooks' dependencies into evcxr's cache, so a
                   workshop room needs no network and first cells take seconds
  handouts         executed notebooks as HTML + one PDF, in handouts/
  handouts --reuse   the same from the notebooks the last `test` executed
  strip            remove outputs and execution counts from the source notebooks
  kernel-bench     what `:dep helpers` and a cell with helpers cost in the real kernel
  kernel-bench deps   how long the first `:dep` of tokio, futures and smol takes
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    let outcome = match args.first().map(String::as_str) {
        Some("setup") => setup::setup(&root).map(|_| ()),
        Some("lab") => lab(&root),
        Some("test") => test(&root, args.get(1).map(String::as_str)),
        Some("warm") => warm(&root),
        Some("handouts") => {
            handouts(&root, args.get(1).map(String::as_str) == Some("--reuse"))
        }
        Some("strip") => strip(&root),
        Some("kernel-bench") => kernel_bench(&root, &args[1..]),
        None | Some("help" | "-h" | "--help") => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{HELP}")),
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
/// environment removed (the kernel it starts compiles code with cargo too).
fn python(env: &Env) -> Command {
    let mut cmd = Command::new(&env.python);
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

fn test(root: &Path, pattern: Option<&str>) -> Result<()> {
    let start = Instant::now();
    let env = setup::setup(root)?;
    let nbs: Vec<PathBuf> = notebooks(root)?
        .into_iter()
        .filter(|p| {
            pattern
                .is_none_or(|pat| relative(root, p).to_string_lossy().contains(pat))
        })
        .collect();
    if nbs.is_empty() {
        return Err(format!(
            "no notebook under notebooks/ matches {:?}",
            pattern.unwrap_or("")
        ));
    }
    let harness = root.join("xtask/harness");
    if pattern.is_none() {
        let mut p = Progress::new(4);
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
        p.step("cargo test --workspace (unit and doc tests)", || {
            run(cargo()
                .current_dir(root)
                .args(["test", "--workspace", "--quiet"]))?;
            Ok(((), "passed".into()))
        })?;
        p.step("notebook harness tests (fixtures in a real kernel)", || {
            run(python(&env)
                .current_dir(root)
                .arg(harness.join("test_nbrun.py")))?;
            Ok(((), "passed".into()))
        })?;
    } else {
        println!(
            "test {:?}: only the matching notebooks",
            pattern.unwrap_or("")
        );
    }
    println!(
        "notebooks: {} to run, each in a fresh `rust` kernel",
        nbs.len()
    );
    let mut cmd = python(&env);
    cmd.current_dir(root)
        .arg(harness.join("nbrun.py"))
        .arg("--save-dir")
        .arg(root.join("target/notebooks-executed"))
        .args(nbs.iter().map(|p| relative(root, p)));
    let outcome = run(&mut cmd);
    println!(
        "test: {} after {:.0} s",
        if outcome.is_ok() {
            "all green"
        } else {
            "FAILED"
        },
        start.elapsed().as_secs_f64()
    );
    outcome.map_err(|_| "notebooks failed (see the lines above)".into())
}

fn lab(root: &Path) -> Result<()> {
    let env = setup::setup(root)?;
    println!(
        "starting JupyterLab on notebooks/ (localhost only; stop it with Ctrl-C)"
    );
    run(python(&env)
        .current_dir(root)
        .args(["-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1"])
        .arg(format!(
            "--ServerApp.root_dir={}",
            root.join("notebooks").display()
        )))
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

/// The distinct `:dep` lines of the course's notebooks, in first-seen order
/// (exercises and solutions use the same crates, one folder deeper).
fn dep_lines(root: &Path, env: &Env) -> Result<Vec<String>> {
    let top: Vec<PathBuf> = notebooks(root)?
        .into_iter()
        .filter(|p| p.parent() == Some(&root.join("notebooks")))
        .collect();
    let listed = output(
        python(env)
            .current_dir(root)
            .arg(root.join("xtask/harness/nbrun.py"))
            .arg("--list-deps")
            .args(&top),
    )
    .ok_or("could not read the notebooks' :dep lines")?;
    Ok(listed.lines().map(str::to_string).collect())
}

fn warm(root: &Path) -> Result<()> {
    let env = setup::setup(root)?;
    let deps = dep_lines(root, &env)?;
    if deps.is_empty() {
        return Err("no `:dep` line found in notebooks/".into());
    }
    println!("warm: building into evcxr's cache:");
    for d in &deps {
        println!("  {d}");
    }
    // The warm-up notebook sits in notebooks/ so that `path = "../helpers"` resolves
    // exactly as it does for the course's notebooks.
    let cells: Vec<String> = std::iter::once(setup::CACHE_LINE.to_string())
        .chain(deps.iter().cloned())
        .map(|src| {
            format!(
                r#"{{"cell_type":"code","execution_count":null,"metadata":{{}},"outputs":[],"source":[{}]}}"#,
                json_string(&src)
            )
        })
        .collect();
    let nb = format!(
        r#"{{"cells":[{}],"metadata":{{"kernelspec":{{"name":"rust","display_name":"Rust","language":"rust"}},"course":{{"cell_timeout":900}}}},"nbformat":4,"nbformat_minor":4}}"#,
        cells.join(",")
    );
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

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
