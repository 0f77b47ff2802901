//! `cargo xtask handouts`: the executed notebooks as HTML pages, an index and two
//! PDFs (the course, and the solutions for the teacher) in `handouts/`, every
//! page then opened in headless Chromium. `--reuse` takes the notebooks the last
//! `cargo xtask test` executed instead of running them again.

use crate::notebooks::notebooks;
use crate::util::{Progress, Result, python, run};
use crate::{flags, setup};
use std::path::{Path, PathBuf};
use std::process::Command;

impl flags::Handouts {
    pub fn run(self, root: &Path) -> Result<()> {
        let reuse = self.reuse;
        let env = setup::setup(root)?;
        let browser = setup::handout_tools(root, &env.python)?;
        let out = root.join("handouts");
        let executed = if reuse {
            root.join("target/notebooks-executed")
        } else {
            out.join(".executed")
        };
        let in_folder = |folder: &str| -> Result<Vec<PathBuf>> {
            let folder = root.join(folder);
            Ok(notebooks(root)?
                .into_iter()
                .filter(|p| p.parent() == Some(&folder))
                .collect())
        };
        let top = in_folder("notebooks")?;
        let solutions = in_folder("notebooks/solutions")?;
        let nbrun = root.join("xtask/harness/nbrun.py");
        let mut p = Progress::new(4);
        // A failing notebook still gets its handout (its output shows the failure),
        // but the command reports it at the end.
        let ran =
            p.step_returning("execute the notebooks and the solutions", || {
                if reuse {
                    if !executed.is_dir() {
                        return Err(
                            "nothing to reuse: run `cargo xtask test` first".into(),
                        );
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
                let said = format!(
                    "{} notebooks, {} solutions",
                    top.len(),
                    solutions.len()
                );
                Ok((outcome, said))
            })?;
        p.step("HTML pages and the index", || {
            run(python(&env)
                .current_dir(root)
                .arg(root.join("xtask/harness/handouts.py"))
                .arg(root)
                .arg(&executed)
                .arg(&out))?;
            Ok(format!("{}", out.join("index.html").display()))
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
            Ok(made.join(", "))
        })?;
        p.step("open every page in headless Chromium", || {
            run(python(&env)
                .current_dir(root)
                .arg(root.join("xtask/harness/check_handouts.py"))
                .arg(&out))?;
            Ok(format!(
                "screenshots in {}",
                out.join("screenshots").display()
            ))
        })?;
        ran.map_err(|e| format!("handouts written, but a notebook failed: {e}"))
    }
}
