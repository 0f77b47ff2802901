//! `cargo xtask room`: the course served to a workshop room by JupyterHub on this
//! machine, and `room --remove-accounts`. The work is `xtask/harness/room.py`
//! (Python, like JupyterHub and its configuration); this translates the flags and
//! makes sure the course itself is set up first. Its decisions (log-in, isolation,
//! the shared warmed cache, idle servers, addresses) are in that file's docs and in
//! the teacher's guide.

use crate::flags;
use crate::setup;
use crate::util::{Result, python, run};
use std::path::Path;

impl flags::Room {
    pub fn run(self, root: &Path) -> Result<()> {
        let script = root.join("xtask/harness/room.py");
        if self.remove_accounts {
            let env = setup::setup(root)?;
            return run(python(&env).arg(&script).arg("remove-accounts"));
        }
        let learners = self.learners.ok_or(
            "room: which learners? `--learners FILE`, a text file with one name per line",
        )?;
        let env = setup::setup(root)?;
        let mut cmd = python(&env);
        cmd.current_dir(root)
            .arg(&script)
            .arg("serve")
            .arg("--learners")
            .arg(learners);
        if let Some(t) = self.teacher {
            cmd.args(["--teacher", &t]);
        }
        if let Some(a) = self.address {
            cmd.args(["--address", &a]);
        }
        if let Some(p) = self.port {
            cmd.args(["--port", &p.to_string()]);
        }
        if let Some(m) = self.cull_after_minutes {
            cmd.args(["--cull-after-minutes", &m.to_string()]);
        }
        if let Some(c) = self.ssl_cert {
            cmd.arg("--ssl-cert").arg(c);
        }
        if let Some(k) = self.ssl_key {
            cmd.arg("--ssl-key").arg(k);
        }
        run(&mut cmd)
    }
}
