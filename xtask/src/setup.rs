//! `cargo xtask setup`: everything the notebooks need, idempotent and resumable.
//!
//! 1. tools: cargo (we run under it) and Python 3.9 or newer;
//! 2. a Python environment: the active conda environment if it already has Jupyter
//!    (built from `environment.yml`), otherwise a project-local `.venv/`;
//! 3. the pinned Python packages of `xtask/requirements.txt`;
//! 4. the course's build of `evcxr_jupyter` (the pinned release with the course's
//!    patch, see `kernel.rs`), installed once per user with `cargo install` into
//!    cargo's own bin folder, so other clones and CI runs reuse it;
//! 5. `rust-src` (evcxr uses it for completions; optional);
//! 6. the `rust` kernelspec, written into the Python environment (not into the
//!    user's global Jupyter folders), pointing at that evcxr_jupyter;
//! 7. JupyterLab settings for the course, in the environment's `overrides.json`:
//!    no "get notified about Jupyter news?" pop-up over the first notebook.
//!
//! Each step first checks whether it is already done, so a second run only looks.

use crate::util::{Progress, Result, captured, output, run, write_json};
use crate::{flags, kernel};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The first line of every notebook's setup cell: evcxr's compilation cache (MiB),
/// so a crate compiled once is reused by later kernels.
pub const CACHE_LINE: &str = ":cache 2000";

/// Flags for headless Chromium on a machine with no display and a closed network.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Where the course's Python and kernel live.
pub struct Env {
    /// The Python that has Jupyter and nbclient.
    pub python: PathBuf,
}

impl flags::Setup {
    pub fn run(self, root: &Path) -> Result<()> {
        setup(root).map(|_| ())
    }
}

/// Sets up what is missing, step by step; every other command calls it first.
pub fn setup(root: &Path) -> Result<Env> {
    let start = Instant::now();
    let mut changed = false;
    let mut p = Progress::new(7);

    let system_python = p.step_returning("tools: cargo and Python 3", || {
        let py = find_python().ok_or_else(python_missing)?;
        let version = output(Command::new(&py[0]).args(&py[1..]).arg("--version"))
            .unwrap_or_default();
        Ok((py, version.trim().to_string()))
    })?;

    let (prefix, python) = p.step_returning("Python environment", || {
        if let Some(found) = conda_env() {
            return Ok((found, "using the active conda environment".into()));
        }
        let venv = root.join(".venv");
        let python = venv_python(&venv);
        if python.exists() {
            return Ok(((venv, python), "already there (.venv/)".into()));
        }
        changed = true;
        run(Command::new(&system_python[0])
            .args(&system_python[1..])
            .args(["-m", "venv"])
            .arg(&venv))
        .map_err(|e| {
            format!(
                "{e}\nPython could not make a virtual environment. On Debian or \
                 Ubuntu: `sudo apt install python3-venv`, then run setup again."
            )
        })?;
        Ok(((venv, python), "created .venv/".into()))
    })?;

    p.step("Python packages (xtask/requirements.txt)", || {
        let reqs = root.join("xtask/requirements.txt");
        let wanted = fs::read_to_string(&reqs)
            .map_err(|e| format!("{}: {e}", reqs.display()))?;
        let stamp = prefix.join(".course-requirements.txt");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return Ok("already installed".into());
        }
        if is_conda(&prefix) && has_jupyter(&python) {
            // The conda environment was built from environment.yml, which carries
            // the same pins; a test keeps the two files in agreement.
            return Ok("provided by the conda environment".into());
        }
        changed = true;
        pip_install(&python, &reqs)?;
        fs::write(&stamp, &wanted).map_err(|e| e.to_string())?;
        Ok("installed".into())
    })?;

    let wanted = kernel::kernel_version();
    let evcxr = p.step_returning(&format!("evcxr_jupyter {wanted} (the course's kernel)"), || {
        let bin = cargo_bin().join(exe("evcxr_jupyter"));
        let found = kernel::installed_version(&bin);
        if found.as_deref() == Some(wanted.as_str()) {
            return Ok((bin, format!("already installed in {}", cargo_bin().display())));
        }
        if bin.exists() {
            println!(
                "      {} is {}: replacing it with the course's build",
                bin.display(),
                found.map_or("an evcxr_jupyter without the course's patch".into(), |v| {
                    format!("version {v}")
                })
            );
        }
        changed = true;
        println!(
            "      patching and building evcxr_jupyter: about {:.0} minutes on an idle \
             2-core machine, more on a busy one (cargo's log: target/kernel/install.log)",
            crate::measured::Measured::built_in().kernel_build_minutes
        );
        kernel::install(root)?;
        match kernel::installed_version(&bin) {
            Some(v) if v == wanted => Ok((bin, "installed".into())),
            other => Err(format!(
                "installed evcxr_jupyter, but {} reports version {other:?}, not {wanted}",
                bin.display()
            )),
        }
    })?;

    p.step("rust-src (completions in the kernel)", || {
        let installed = output(Command::new("rustup").args([
            "component",
            "list",
            "--installed",
        ]));
        match installed {
            None => Ok("rustup not found: skipped (optional)".into()),
            Some(list) if list.lines().any(|l| l.starts_with("rust-src")) => {
                Ok("already installed".into())
            }
            Some(_) => {
                changed = true;
                match run(Command::new("rustup").args([
                    "component",
                    "add",
                    "rust-src",
                ])) {
                    Ok(()) => Ok("added".into()),
                    Err(e) => Ok(format!("could not add ({e}); optional, skipped")),
                }
            }
        }
    })?;

    p.step("`rust` kernelspec in the Python environment", || {
        let data = prefix.join("share").join("jupyter");
        let spec = data.join("kernels").join("rust").join("kernel.json");
        let current: serde_json::Value = fs::read_to_string(&spec)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if current["argv"][0].as_str() == Some(&*evcxr.to_string_lossy())
            && current["env"] == kernel_env()
            && spec.with_file_name("version.txt").exists()
        {
            return Ok(format!("already points at {}", evcxr.display()));
        }
        changed = true;
        // evcxr writes its kernelspec under $JUPYTER_PATH when that is set.
        captured(
            Command::new(&evcxr)
                .arg("--install")
                .env("JUPYTER_PATH", &data),
            "",
        )?;
        let text = fs::read_to_string(&spec)
            .map_err(|e| format!("{}: {e}", spec.display()))?;
        let mut written: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", spec.display()))?;
        written["env"] = kernel_env();
        write_json(&spec, &written)?;
        Ok(format!("written to {}", spec.display()))
    })?;

    p.step("JupyterLab settings (no news pop-up)", || {
        let file = prefix.join("share/jupyter/lab/settings/overrides.json");
        let text = fs::read_to_string(&file).unwrap_or_else(|_| "{}".into());
        let mut settings: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| {
                format!("{}: not JSON ({e}); fix or remove it", file.display())
            })?;
        let wanted =
            serde_json::json!({"fetchNews": "false", "checkForUpdates": false});
        let key = "@jupyterlab/apputils-extension:notification";
        let current = &settings[key];
        if wanted
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| &current[k] == v)
        {
            return Ok("already set".into());
        }
        changed = true;
        let entry = settings
            .as_object_mut()
            .ok_or_else(|| format!("{}: not a JSON object", file.display()))?
            .entry(key)
            .or_insert_with(|| serde_json::json!({}));
        for (k, v) in wanted.as_object().unwrap() {
            entry[k] = v.clone();
        }
        write_json(&file, &settings)?;
        Ok(format!("written to {}", file.display()))
    })?;

    let secs = start.elapsed().as_secs_f64();
    if changed {
        println!("setup: done in {secs:.1} s");
    } else {
        println!("setup: nothing to do, everything is in place ({secs:.1} s)");
    }
    Ok(Env { python })
}

/// The kernel's environment, in its kernelspec: a panic shows its message, not
/// a backtrace of the kernel's generated code (even when the learner's shell sets
/// `RUST_BACKTRACE=1`); `:env RUST_BACKTRACE=1` then `:restart` in a notebook
/// brings backtraces back (the course's kernel build respects the variable).
fn kernel_env() -> serde_json::Value {
    serde_json::json!({"RUST_BACKTRACE": "0"})
}

/// Installs a requirements file into the environment of `python`.
fn pip_install(python: &Path, requirements: &Path) -> Result<()> {
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-r",
        ])
        .arg(requirements))
}

fn exe(name: &str) -> String {
    format!("{name}{}", env::consts::EXE_SUFFIX)
}

/// cargo's own bin folder, shared by every clone of the course.
fn cargo_bin() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn home() -> Option<PathBuf> {
    env::var_os("HOME")
        .or_else(|| env::var_os("USERPROFILE"))
        .map(PathBuf::from)
}

/// A Python 3.9+ launcher: `python3`, `python` or (on Windows) `py -3`.
fn find_python() -> Option<Vec<String>> {
    let candidates: &[&[&str]] = if cfg!(windows) {
        &[&["py", "-3"], &["python"], &["python3"]]
    } else {
        &[&["python3"], &["python"]]
    };
    candidates.iter().find_map(|c| {
        let ok = output(Command::new(c[0]).args(&c[1..]).args([
            "-c",
            "import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)",
        ]))
        .is_some();
        ok.then(|| c.iter().map(|s| s.to_string()).collect())
    })
}

fn python_missing() -> String {
    "Python 3.9 or newer was not found (tried python3, python). Install it: \
     Debian/Ubuntu `sudo apt install python3 python3-venv`, macOS `brew install \
     python`, Windows the installer from python.org (tick \"Add to PATH\"), or use \
     conda with `conda env create -f environment.yml`. Then run `cargo xtask setup` \
     again."
        .into()
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn is_conda(prefix: &Path) -> bool {
    prefix.join("conda-meta").is_dir()
}

fn has_jupyter(python: &Path) -> bool {
    output(Command::new(python).args(["-c", "import nbclient, jupyterlab"]))
        .is_some()
}

/// The active conda environment, if it already provides Jupyter.
fn conda_env() -> Option<(PathBuf, PathBuf)> {
    let prefix = PathBuf::from(env::var_os("CONDA_PREFIX")?);
    let python = if cfg!(windows) {
        prefix.join("python.exe")
    } else {
        prefix.join("bin").join("python")
    };
    (is_conda(&prefix) && has_jupyter(&python)).then_some((prefix, python))
}

/// What `cargo xtask handouts` needs beyond `setup`: Debian's Chromium and
/// ChromeDriver (never a browser download) and Selenium to drive them.
pub struct HandoutTools {
    /// The Chromium binary that prints the PDFs.
    pub chromium: PathBuf,
}

pub fn handout_tools(root: &Path, python: &Path) -> Result<HandoutTools> {
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| output(Command::new("which").arg(name)))
            .map(|p| PathBuf::from(p.trim()))
    };
    let browsers = ["chromium", "chromium-browser", "google-chrome"];
    if find(&browsers).is_none() || find(&["chromedriver"]).is_none() {
        let apt = Path::new("/usr/bin/apt-get").exists();
        let is_root =
            output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0");
        if !(apt && is_root) {
            return Err("handouts need Chromium and ChromeDriver: install them \
                        (Debian/Ubuntu: `sudo apt install chromium chromium-driver`; \
                        macOS: `brew install --cask chromium chromedriver`) and run again"
                .into());
        }
        println!(
            "handouts need Chromium: installing Debian's chromium and chromium-driver"
        );
        run(Command::new("apt-get").args(["update", "-q"]))?;
        run(Command::new("apt-get").args([
            "install",
            "-y",
            "-q",
            "chromium",
            "chromium-driver",
        ]))?;
    }
    let chromium =
        find(&browsers).ok_or("chromium is still missing after installing it")?;
    let reqs = root.join("xtask/requirements-handouts.txt");
    if output(Command::new(python).args(["-c", "import selenium"])).is_none() {
        pip_install(python, &reqs)?;
    }
    Ok(HandoutTools { chromium })
}
