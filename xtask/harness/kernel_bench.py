"""What `helpers` costs inside the real evcxr kernel (a benchmark, not a test).

    cargo xtask kernel-bench        # or: python xtask/harness/kernel_bench.py
    cargo xtask kernel-bench deps   # first :dep of tokio + futures + smol, fresh kernel
    cargo xtask kernel-bench output [--busy]   # is any cell output late? (output_stress.py)

Measures, each in a fresh `rust` kernel started in notebooks/ (so `../helpers`
resolves as in the course):
- `:dep helpers` with evcxr's cache off, i.e. compiled from source ("cold");
- `:dep helpers` again in a new kernel with the cache on ("cached");
- every notebook's setup cell (`:cache`, `:dep helpers`, `use helpers::prelude::*`)
  in three fresh kernels with a warm cache: what a learner waits for first (issue
  #11's budget: 3 s);
- the median of 10 trivial cells with and without helpers loaded;
- a cell that builds a two-worker tokio runtime and awaits one spawned task (the
  typical cell of 05-09; issue #11's budget: 1 s), median of 5, crates loaded;
- a Tab completion (`std::collections::Hash|`): the first in a kernel (rust-analyzer
  loads then) and the median of 5 after it.

Budget (issue #2): cold <= 5 s on a 2-core machine; trivial cell with helpers
<= 1.1x the same cell without. Prints one line per figure and a summary line
`kernel: dep_cold_s=<f> dep_cached_s=<f> setup_cell_s=<f> cell_ms=<f> cell_helpers_ms=<f>
ratio=<f> runtime_cell_s=<f> complete_first_ms=<f> complete_ms=<f>`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = "let x = 40 + 2;\nx"


class Kernel:
    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel
        self.km, self.kc = start_new_kernel(kernel_name="rust", cwd=str(ROOT / "notebooks"))

    def run(self, code: str, timeout: float = 300) -> float:
        """Runs one cell; returns its wall time in seconds, failing on an error."""
        start = time.monotonic()
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=self._hook)
        took = time.monotonic() - start
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed: {code!r}: {reply['content']}")
        return took

    @staticmethod
    def _hook(msg) -> None:
        if msg["msg_type"] == "stream" and "panicked" in msg["content"].get("text", ""):
            raise RuntimeError(msg["content"]["text"])

    def complete(self, code: str, timeout: float = 120) -> float:
        """One Tab completion at the end of `code`; its wall time in seconds."""
        start = time.monotonic()
        msg_id = self.kc.complete(code, len(code))
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        took = time.monotonic() - start
        if not reply["content"].get("matches"):
            raise RuntimeError(f"no completion for {code!r}: {reply['content']}")
        return took

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


# The first code cell of every notebook, as the notebooks have it.
SETUP_CELL = ':cache 2000\n:dep helpers = { path = "../helpers" }\nuse helpers::prelude::*;'


# The typical cell of 05-09: a runtime built inside the cell, one task awaited.
RUNTIME_CELL = """{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2).enable_all().build().unwrap();
    let n = rt.block_on(async { tokio::spawn(async { 40 + 2 }).await.unwrap() });
    assert_eq!(n, 42);
}"""


def median_cell(kernel: Kernel, n: int = 10) -> float:
    kernel.run(TRIVIAL)  # the first run after a :dep pays for loading it
    return statistics.median(kernel.run(TRIVIAL) for _ in range(n))


# The pinned lines every notebook uses (one list: xtask/crates.txt).
DEPS = [line.strip() for line in (ROOT / "xtask/crates.txt").read_text().splitlines()
        if line.startswith(":dep ")]


def first_dep() -> int:
    """Times the notebooks' first `:dep` cell in a fresh kernel (run before and after
    `cargo xtask warm` to see what the cache saves)."""
    k = Kernel()
    try:
        k.run(":cache 2000")
        k.run(':dep helpers = { path = "../helpers" }')
        took = k.run("\n".join(DEPS), timeout=900)
    finally:
        k.close()
    print(f"first `:dep` of tokio + futures + smol in a fresh kernel: {took:.1f} s")
    print(f"kernel: first_dep_s={took:.1f}")
    return 0


def main() -> int:
    if sys.argv[1:] == ["deps"]:
        return first_dep()
    if sys.argv[1:2] == ["output"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import output_stress
        return output_stress.main(sys.argv[2:])
    k = Kernel()
    try:
        k.run(":cache 0")
        cold = k.run(':dep helpers = { path = "../helpers" }')
        print(f"`:dep helpers`, cache off (cold): {cold:.2f} s")
    finally:
        k.close()

    k = Kernel()
    try:
        k.run(":cache 2000")
        k.run(':dep helpers = { path = "../helpers" }')  # fills the cache
    finally:
        k.close()
    k = Kernel()
    try:
        k.run(":cache 2000")
        cached = k.run(':dep helpers = { path = "../helpers" }')
        print(f"`:dep helpers`, cache on, second kernel: {cached:.2f} s")
        k.run("use helpers::prelude::*;")
        with_helpers = median_cell(k)
    finally:
        k.close()

    setup_cells = []
    for _ in range(3):
        k = Kernel()
        try:
            setup_cells.append(k.run(SETUP_CELL))
        finally:
            k.close()
    setup_cell = statistics.median(setup_cells)
    print(f"a notebook's setup cell, fresh kernel, warm cache: median {setup_cell:.2f} s of "
          + ", ".join(f"{s:.2f}" for s in setup_cells))

    k = Kernel()
    try:
        without = median_cell(k)
    finally:
        k.close()
    ratio = with_helpers / without
    print(f"trivial cell, median of 10: {without * 1000:.0f} ms without helpers, "
          f"{with_helpers * 1000:.0f} ms with helpers ({ratio:.2f}x)")

    k = Kernel()
    try:
        k.run(SETUP_CELL)
        k.run("\n".join(DEPS), timeout=900)
        k.run(RUNTIME_CELL)  # the first pays for loading the crates
        runtime = statistics.median(k.run(RUNTIME_CELL) for _ in range(5))
        first_completion = k.complete("std::collections::Hash")
        completion = statistics.median(k.complete("std::collections::Hash") for _ in range(5))
    finally:
        k.close()
    print(f"a cell that builds a tokio runtime and awaits a task, median of 5: {runtime:.2f} s")
    print(f"Tab completion: first {first_completion * 1000:.0f} ms, then median of 5 "
          f"{completion * 1000:.0f} ms")
    print(f"kernel: dep_cold_s={cold:.2f} dep_cached_s={cached:.2f} setup_cell_s={setup_cell:.2f} "
          f"cell_ms={without * 1000:.0f} cell_helpers_ms={with_helpers * 1000:.0f} ratio={ratio:.2f} "
          f"runtime_cell_s={runtime:.2f} complete_first_ms={first_completion * 1000:.0f} "
          f"complete_ms={completion * 1000:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
