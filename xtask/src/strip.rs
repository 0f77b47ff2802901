//! `cargo xtask strip`: removes outputs, execution counts and machine-specific
//! metadata from the course's source notebooks (`nbrun.py --clean`), which is
//! what `test` demands of them. The learner's `my-notebooks/` is never touched.

use crate::notebooks::notebooks;
use crate::util::{Result, python, run};
use crate::{flags, setup};
use std::path::Path;

impl flags::Strip {
    pub fn run(self, root: &Path) -> Result<()> {
        let env = setup::setup(root)?;
        run(python(&env)
            .current_dir(root)
            .arg(root.join("xtask/harness/nbrun.py"))
            .arg("--clean")
            .args(notebooks(root)?))
    }
}
