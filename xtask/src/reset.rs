//! `cargo xtask reset <pattern>...`: the course's version of notebooks back in the
//! learner's copy, `my-notebooks/`; the learner's own goes to
//! `my-notebooks/.backup/` first (see `lab.rs` for how the copy is kept).

use crate::flags;
use crate::lab::{MY_NOTEBOOKS, course_files, reset_one};
use crate::notebooks::matching;
use crate::util::Result;
use std::path::Path;

impl flags::Reset {
    pub fn run(self, root: &Path) -> Result<()> {
        if self.patterns.is_empty() {
            return Err(
                "say which notebooks to reset, e.g. `cargo xtask reset 03`".into()
            );
        }
        let course = root.join("notebooks");
        let mine = root.join(MY_NOTEBOOKS);
        let files = course_files(&course)?;
        let chosen = matching(&course, files, &self.patterns)?;
        for file in chosen {
            let rel = file.strip_prefix(&course).unwrap_or(&file);
            match reset_one(&course, &mine, rel)? {
                Some(backup) => println!(
                    "reset {}: your copy is in {}",
                    rel.display(),
                    backup.display()
                ),
                None => {
                    println!("reset {}: already the course's version", rel.display())
                }
            }
        }
        Ok(())
    }
}
