//! `cargo xtask warm`: builds every crate the notebooks `:dep` into evcxr's cache,
//! so a workshop room needs no network and first cells take seconds.
//!
//! It runs a warm-up notebook in the real kernel: the setup cell's `:cache` line,
//! `:dep helpers` as the notebooks say it, then the pinned crates of
//! `xtask/crates.txt`. Python's nbformat writes that notebook
//! (`xtask/harness/warm.py`), nbrun.py runs it.

use crate::util::{Result, python, run};
use crate::{flags, pins, setup};
use std::fs;
use std::path::Path;
use std::time::Instant;

impl flags::Warm {
    pub fn run(self, root: &Path) -> Result<()> {
        let env = setup::setup(root)?;
        let deps = dep_lines(root)?;
        if deps.is_empty() {
            return Err("no `:dep` line found in notebooks/".into());
        }
        println!("warm: building into evcxr's cache:");
        for d in &deps {
            println!("  {d}");
        }
        // The warm-up notebook sits in notebooks/ so that `path = "../helpers"`
        // resolves exactly as it does for the course's notebooks.
        let path = root.join("notebooks/.warm-up.ipynb");
        let harness = root.join("xtask/harness");
        let start = Instant::now();
        let outcome = run(python(&env)
            .current_dir(root)
            .arg(harness.join("warm.py"))
            .arg(&path)
            .arg(setup::CACHE_LINE)
            .args(&deps))
        .and_then(|()| {
            run(python(&env)
                .current_dir(root)
                .arg(harness.join("nbrun.py"))
                .arg(&path))
        });
        let _ = fs::remove_file(&path);
        outcome?;
        println!(
            "warm: done in {:.1} s; the notebooks can now run with CARGO_NET_OFFLINE=true",
            start.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// What `warm` builds: `helpers` as the course's notebooks `:dep` it, then the
/// pinned crates of `xtask/crates.txt` (the lines every notebook uses).
fn dep_lines(root: &Path) -> Result<Vec<String>> {
    let mut deps = vec![r#":dep helpers = { path = "../helpers" }"#.to_string()];
    deps.extend(pins::pinned(root)?);
    Ok(deps)
}
