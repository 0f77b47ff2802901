//! `cargo xtask kernel-bench [cells|deps|slow-cells|output]`: what the kernel costs, measured
//! in the real kernel by `xtask/harness/kernel_bench.py` (this only translates
//! the flags into its arguments).

use crate::flags::{self, KernelBenchCmd};
use crate::setup;
use crate::util::{Result, python, run};
use std::path::Path;

impl flags::KernelBench {
    pub fn run(self, root: &Path) -> Result<()> {
        let args = match self.subcommand {
            KernelBenchCmd::Cells(_) => vec![],
            KernelBenchCmd::Deps(_) => vec!["deps".to_string()],
            KernelBenchCmd::SlowCells(_) => vec!["slow-cells".to_string()],
            KernelBenchCmd::Output(o) => {
                let mut args = vec!["output".to_string()];
                if o.busy {
                    args.push("--busy".into());
                }
                if let Some(n) = o.cells {
                    args.extend(["--cells".into(), n.to_string()]);
                }
                args
            }
        };
        let env = setup::setup(root)?;
        run(python(&env)
            .current_dir(root)
            .arg(root.join("xtask/harness/kernel_bench.py"))
            .args(args))
    }
}
