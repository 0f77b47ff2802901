//! `cargo clippy` for the macOS and Windows targets, run on Linux.
//!
//! Learners run the course on macOS and Windows too, and `helpers` (and this
//! tool) have code that only those platforms compile: the
//! `#[cfg(target_os = "macos")]` calls into libSystem, the "not available"
//! fallbacks for Windows. A Linux build never type-checks those branches, so
//! they could stop compiling, or gain warnings, and nobody would know until a
//! learner's first `:dep helpers` failed. Linting for the other targets here
//! catches that in every `cargo xtask test`.
//!
//! This needs only each target's standard library (`rustup target add`), no
//! linker or SDK: clippy type-checks and never links. `--all-targets` is fine
//! for the same reason (tests and benches are checked, not run), and build
//! scripts and proc macros are built for the host, as in any cross build.

use crate::util::{Result, cargo, output, run};
use std::path::Path;
use std::process::Command;

/// What learners use besides Linux: Apple silicon Macs (Intel Macs compile the
/// same `target_os = "macos"` code) and 64-bit Windows.
pub const TARGETS: [&str; 2] = ["aarch64-apple-darwin", "x86_64-pc-windows-msvc"];

/// Lints the workspace for each of [`TARGETS`], adding a target with rustup if
/// it is missing. A target that cannot be added is skipped with one printed
/// line and named in the summary. Lint or compile errors fail the step, after
/// every target had its turn (a Windows error and a macOS one are unrelated).
pub fn clippy_other_targets(root: &Path) -> Result<String> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"]));
    let (mut linted, mut skipped, mut failed) = (vec![], vec![], vec![]);
    for target in TARGETS {
        if let Err(why) = ensure_target(target, installed.as_deref()) {
            println!("clippy for {target}: skipped, {why}");
            skipped.push(target);
        } else if clippy(root, target).is_ok() {
            linted.push(target);
        } else {
            failed.push(target);
        }
    }
    if !failed.is_empty() {
        let failed = failed.join(" and ");
        return Err(format!("clippy for {failed} found problems (see above)"));
    }
    Ok(summary(&linted, &skipped))
}

/// Makes sure rustup has `target`'s standard library, adding it if needed.
fn ensure_target(target: &str, installed: Option<&str>) -> Result<()> {
    let Some(installed) = installed else {
        return Err(
            "rustup is not available (`rustup target list --installed` failed)"
                .into(),
        );
    };
    if installed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    println!("clippy for {target}: adding the target (once) with rustup");
    let out = Command::new("rustup")
        .args(["target", "add", target])
        .output();
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "rustup could not add the target: {}",
            first_error(&String::from_utf8_lossy(&out.stderr))
        )),
        Err(e) => Err(format!("rustup could not add the target: {e}")),
    }
}

/// The line of rustup's error output that says why, for a one-line message.
fn first_error(stderr: &str) -> &str {
    let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    let last = lines.clone().next_back().unwrap_or("no reason given");
    let error = lines.find_map(|l| l.strip_prefix("error:"));
    error.map_or(last, str::trim)
}

/// `cargo clippy` for one target; its findings go straight to the terminal.
fn clippy(root: &Path, target: &str) -> Result<()> {
    run(cargo().current_dir(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--target",
        target,
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))
}

/// `a, b: no warnings`, and which targets were skipped, so that a skip shows in
/// the step's line.
fn summary(linted: &[&str], skipped: &[&str]) -> String {
    let mut parts = Vec::new();
    if !linted.is_empty() {
        parts.push(format!("{}: no warnings", linted.join(", ")));
    }
    if !skipped.is_empty() {
        parts.push(format!("SKIPPED {} (see above)", skipped.join(", ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_linted_and_skipped_targets() {
        let [mac, win] = TARGETS;
        assert_eq!(
            summary(&[mac, win], &[]),
            "aarch64-apple-darwin, x86_64-pc-windows-msvc: no warnings"
        );
        assert_eq!(
            summary(&[mac], &[win]),
            "aarch64-apple-darwin: no warnings; \
             SKIPPED x86_64-pc-windows-msvc (see above)"
        );
        assert_eq!(
            summary(&[], &[mac]),
            "SKIPPED aarch64-apple-darwin (see above)"
        );
    }

    #[test]
    fn a_missing_rustup_skips_and_says_why_in_one_line() {
        let why = ensure_target("aarch64-apple-darwin", None).unwrap_err();
        assert!(why.contains("rustup") && !why.contains('\n'), "{why}");
    }

    #[test]
    fn rustups_error_line_is_the_reason() {
        let stderr = "info: downloading component 'rust-std'\n\
                      error: could not download file from 'https://x': timed out\n\
                      info: caused by ...\n";
        assert!(first_error(stderr).starts_with("could not download"));
        assert_eq!(first_error("\nonly this\n\n"), "only this");
        assert_eq!(first_error(""), "no reason given");
    }
}
