//! The browser check: the learner's real path, JupyterLab in headless Chromium.
//!
//! `xtask/harness/browser_check.py` starts `cargo xtask lab` exactly as a learner
//! does (on a free port, without opening a browser, on its own copy of the
//! notebooks under `target/`), opens notebooks in Debian's Chromium driven by
//! ChromeDriver, runs every cell through JupyterLab's own "Run All" command, and
//! fails on a cell that did not run, an error or a panic outside cells tagged
//! `raises-exception`, a picture laid out with no width, a line the notebook tells
//! the learner to look for that the UI never showed, a "Jupyter news" pop-up, or a
//! kernel that is not the course's build. Screenshots go to `target/browser-check/`;
//! `--fixture <notebook>` checks one more (e.g. one that must fail).
//!
//! The same Chromium first proves the handouts' print layout on fixtures
//! (`test_check_handouts.py`): a page with a 1,600-px picture and a 200-character
//! code line must fail without the print styles and pass with them.

use crate::setup::{self, Env};
use crate::util::{Result, python, run};
use std::path::Path;

/// The notebooks the check opens by default: the first one, the one whose last
/// line once went missing (evcxr/evcxr#353), the first async one, and the one whose
/// pictures and blocking demos are the heaviest.
pub const NOTEBOOKS: &[&str] = &[
    "00-start-here.ipynb",
    "01-sequential.ipynb",
    "04-futures-and-await.ipynb",
    "07-await-points-and-blocking.ipynb",
];

/// Runs the check; `Ok(None)` when it could not run here (no Chromium), with the
/// reason printed, so the caller counts it instead of passing it silently.
pub fn check(root: &Path, env: &Env) -> Result<Option<String>> {
    let script = root.join("xtask/harness/browser_check.py");
    let tools = match setup::handout_tools(root, &env.python) {
        Ok(tools) => tools,
        Err(why) => {
            println!("browser check: did not run: {why}");
            return Ok(None);
        }
    };
    run(python(env)
        .current_dir(root)
        .arg(root.join("xtask/harness/test_check_handouts.py")))?;
    run(python(env)
        .current_dir(root)
        .arg(&script)
        .arg("--chromium")
        .arg(&tools.chromium)
        .args(NOTEBOOKS))?;
    Ok(Some(format!(
        "handouts' print layout checked; {} notebooks ran in JupyterLab; \
         screenshots in target/browser-check/",
        NOTEBOOKS.len()
    )))
}
