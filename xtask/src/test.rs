//! `cargo xtask test`: the one test command. fmt, clippy (for this machine and for
//! macOS and Windows), unit and doc tests, the kernel patch, the harness's own
//! tests, the output stress test and the browser checks, then every notebook in a
//! fresh kernel. `test <pattern>...` runs only the matching notebooks, nothing else.

use crate::notebooks::{matching, notebooks, relative};
use crate::setup::{self, Env};
use crate::util::{Progress, Result, cargo, python, run};
use crate::{browser, cross, flags, kernel};
use std::fs;
use std::path::Path;
use std::time::Instant;

/// The harness's own tests (`xtask/harness/`), run by the full test.
const HARNESS_TESTS: &[&str] = &[
    "test_nbrun.py",
    "test_handouts.py",
    "test_lab.py",
    "test_cheats.py",
    "test_figures_off.py",
    "test_warm.py",
];

/// `cargo clippy` for this machine, every warning an error.
const CLIPPY: &[&str] = &[
    "clippy",
    "--workspace",
    "--all-targets",
    "--quiet",
    "--",
    "-D",
    "warnings",
];

impl flags::Test {
    pub fn run(self, root: &Path) -> Result<()> {
        let patterns = &self.patterns;
        let start = Instant::now();
        let env = setup::setup(root)?;
        let nbs = matching(root, notebooks(root)?, patterns)?;
        // What could not run here: said in the last line, never silently green.
        let mut skipped: Vec<&str> = Vec::new();
        let full = patterns.is_empty();
        if full {
            checks(root, &env, &mut skipped)?;
        } else {
            println!("test {}: only the matching notebooks", patterns.join(" "));
        }
        println!(
            "notebooks: {} to run, each in a fresh `rust` kernel",
            nbs.len()
        );
        let mut cmd = python(&env);
        cmd.current_dir(root)
            .arg(root.join("xtask/harness/nbrun.py"))
            .arg("--save-dir")
            .arg(root.join("target/notebooks-executed"));
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
}

/// The full test's nine numbered steps before the notebooks; what could not run
/// on this machine is added to `skipped`.
fn checks(root: &Path, env: &Env, skipped: &mut Vec<&str>) -> Result<()> {
    let harness = root.join("xtask/harness");
    let cargo_in_root = |args: &[&str]| run(cargo().current_dir(root).args(args));
    let python_script =
        |name: &str| run(python(env).current_dir(root).arg(harness.join(name)));
    let mut p = Progress::new(9);
    p.step("cargo fmt --check", || {
        cargo_in_root(&["fmt", "--all", "--check"]).map(|()| "formatted".into())
    })?;
    p.step("cargo clippy -D warnings", || {
        cargo_in_root(CLIPPY).map(|()| "no warnings".into())
    })?;
    p.step("cargo clippy for macOS and Windows", || {
        let said = cross::clippy_other_targets(root)?;
        if said.contains("SKIPPED") {
            skipped.push("clippy skipped a target (see its step)");
        }
        Ok(said)
    })?;
    p.step("cargo test --workspace (unit and doc tests)", || {
        cargo_in_root(&["test", "--workspace", "--quiet"]).map(|()| "passed".into())
    })?;
    p.step("the course's kernel patch still applies", || {
        kernel::check_patch(root)
    })?;
    p.step(
        "harness tests: fixtures, handouts, lab, exercise cheats, figures off, \
         warm-up notebook",
        || {
            HARNESS_TESTS.iter().try_for_each(|t| python_script(t))?;
            Ok("passed".into())
        },
    )?;
    p.step(
        "kernel output stress test (nothing printed arrives late)",
        || {
            python_script("output_stress.py")?;
            Ok("every line arrived before its cell's idle".into())
        },
    )?;
    p.step(
        "browser checks: handouts in print, notebooks in JupyterLab",
        || match browser::check(root, env)? {
            Some(said) => Ok(said),
            None => {
                skipped.push("the browser check did not run (see its step)");
                Ok("DID NOT RUN".into())
            }
        },
    )?;
    p.step(
        "workshop room: two learners log in, each in their own account",
        || {
            // test_room.py exits 3 when it cannot run here (it needs root).
            let status = python(env)
                .current_dir(root)
                .arg(harness.join("test_room.py"))
                .status()
                .map_err(|e| format!("could not start test_room.py: {e}"))?;
            match status.code() {
                Some(0) => Ok("log-in, isolation and tear-down checked".into()),
                Some(3) => {
                    skipped.push("the room test did not run (see its step)");
                    Ok("DID NOT RUN".into())
                }
                _ => Err(format!("the room test failed ({status})")),
            }
        },
    )
}
