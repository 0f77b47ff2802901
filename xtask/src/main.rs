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
//! - `kernel-bench` what a learner waits for in the kernel (cells, `:dep`, Tab).
//! - `room`     JupyterHub for a workshop: one account and copy per learner.
//! - `room-bench` how many learners one server holds, measured.
//!
//! The notebook runner itself is Python (`xtask/harness/nbrun.py`), because
//! nbclient, the headless Jupyter client, is a Python library: it speaks the same
//! protocol to the kernel that JupyterLab does.
//!
//! # Layout
//!
//! One file per command (`kernel-bench` is `kernel_bench.rs`), each implementing
//! `run` on its arguments' struct from `flags.rs`; this file only dispatches.
//! Adding a command: its `cmd` in `flags.rs`, its file, a `mod` line and a
//! dispatch line here, and a line in the list above and in the README's table
//! (a test below checks the last three). What commands share:
//!
//! - `flags`     every command's arguments, declared once.
//! - `util`      the repository's root, progress lines, running cargo and Python.
//! - `notebooks` which notebooks a command works on.
//! - `kernel`    the course's build of evcxr_jupyter (used by `setup`, `test`).
//! - `cross`     clippy for macOS and Windows (used by `test`).
//! - `browser`   the browser check (used by `test`).

use std::process::ExitCode;

mod browser;
mod cross;
mod flags;
mod handouts;
mod kernel;
mod kernel_bench;
mod lab;
mod measured;
mod notebooks;
mod pins;
mod reset;
mod room;
mod room_bench;
mod setup;
mod strip;
mod test;
mod util;
mod warm;

fn main() -> ExitCode {
    if std::env::args_os().len() <= 1 {
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
    let root = util::project_root();
    use flags::XtaskCmd;
    let outcome = match flags.subcommand {
        XtaskCmd::Setup(cmd) => cmd.run(&root),
        XtaskCmd::Lab(cmd) => cmd.run(&root),
        XtaskCmd::Test(cmd) => cmd.run(&root),
        XtaskCmd::Warm(cmd) => cmd.run(&root),
        XtaskCmd::Handouts(cmd) => cmd.run(&root),
        XtaskCmd::Strip(cmd) => cmd.run(&root),
        XtaskCmd::Reset(cmd) => cmd.run(&root),
        XtaskCmd::Pins(cmd) => cmd.run(&root),
        XtaskCmd::Room(cmd) => cmd.run(&root),
        XtaskCmd::RoomBench(cmd) => cmd.run(&root),
        XtaskCmd::Measured(cmd) => cmd.run(&root),
        XtaskCmd::KernelBench(cmd) => cmd.run(&root),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    /// The commands: the `cmd`s one level inside `cmd xtask` in flags.rs.
    fn commands() -> Vec<&'static str> {
        let commands: Vec<&str> = include_str!("flags.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("        cmd "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(commands.len() >= 10, "{commands:?}");
        commands
    }

    #[test]
    fn every_command_is_in_the_readme_and_this_files_docs() {
        let readme =
            fs::read_to_string(crate::util::test_root().join("README.md")).unwrap();
        let docs: String = include_str!("main.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        for cmd in commands() {
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
    fn every_command_has_its_own_file_and_dispatch_line() {
        let main = include_str!("main.rs");
        let src = crate::util::test_root().join("xtask/src");
        for cmd in commands() {
            let module = cmd.replace('-', "_");
            assert!(
                src.join(format!("{module}.rs")).is_file(),
                "`{cmd}` needs its own file, xtask/src/{module}.rs"
            );
            assert!(
                main.contains(&format!("\nmod {module};")),
                "main.rs lacks `mod {module};`"
            );
        }
    }
}
