//! `cargo xtask room-bench --learners N`: N simulated learners log in to a room
//! together (the hub's log-in page, their servers' REST and websocket API, as a
//! browser does) and run a notebook's cells; `xtask/harness/room.py bench` does it
//! and prints each learner's waits and peak memory.

use crate::flags;
use crate::setup;
use crate::util::{Result, python, run};
use std::path::Path;

impl flags::RoomBench {
    pub fn run(self, root: &Path) -> Result<()> {
        let env = setup::setup(root)?;
        let mut cmd = python(&env);
        cmd.current_dir(root)
            .arg(root.join("xtask/harness/room.py"))
            .args(["bench", "--learners", &self.learners.to_string()]);
        if self.no_seed {
            cmd.arg("--no-seed");
        }
        if let Some(n) = self.notebook {
            cmd.args(["--notebook", &n]);
        }
        run(&mut cmd)
    }
}
