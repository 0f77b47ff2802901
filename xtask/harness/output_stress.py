"""Does every line a cell prints reach the client before the cell is done?

    cargo xtask kernel-bench output [--cells N] [--busy]
    python xtask/harness/output_stress.py [--cells N] [--busy] [--report-only]

A Jupyter client (JupyterLab, nbclient) stops listening to a cell when the kernel
says `idle` for it, so a line that arrives after that is lost to the learner.
evcxr_jupyter 0.22 could send `idle` first (evcxr/evcxr#353); the course's kernel
build waits for the cell's output (xtask/kernel/). This runs, in one fresh kernel,
N cells of each kind:

- ending in `eprintln!` (the last stderr line is the one at risk);
- ending in `println!`;
- failing an `assert!` (its message is on stderr; the course's build also replies
  with status "error" and the message as the error's value);

and counts, per kind, the expected lines that arrived after their cell's `idle`
(it keeps reading while the next cells run, and for 2 s after the last) and those
that never arrived. `--busy` keeps the other cores busy meanwhile. Exit status 1
when any line was late or lost, or a failed assert! was not an error reply,
unless `--report-only` (to measure a kernel without the course's patch).
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cell:
    kind: str
    index: int
    code: str
    stream: str  # where the expected line goes
    expected: str
    idle: bool = False
    before: bool = False  # expected line seen before idle
    after: bool = False  # ... or only after it
    reply_status: str | None = None
    error_value: str | None = None
    texts: list[str] = field(default_factory=list)


def cells(n: int) -> list[Cell]:
    out = []
    for i in range(n):
        out.append(Cell("eprintln!", i, f'println!("stress {i}: start");\n'
                                        f'eprintln!("stress-err {i}");',
                        "stderr", f"stress-err {i}"))
        out.append(Cell("println!", i, f'eprintln!("stress {i}: start");\n'
                                       f'println!("stress-out {i}");',
                        "stdout", f"stress-out {i}"))
        out.append(Cell("failing assert!", i, f'assert!({i} < 0, "stress-assert {i}");',
                        "stderr", f"stress-assert {i}"))
    return out


def busy_cores() -> list[subprocess.Popen]:
    n = max(1, (os.cpu_count() or 2) - 1)
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def run(n: int) -> tuple[list[Cell], str]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="rust", cwd=str(ROOT / "notebooks"))
    todo = cells(n)
    by_id: dict[str, Cell] = {}
    try:
        def reply_to(msg_id: str) -> dict:
            while True:  # replies to requests before this one may still be queued
                reply = kc.get_shell_msg(timeout=60)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply["content"]

        version = reply_to(kc.kernel_info()).get("implementation_version", "")

        def read(msg) -> None:
            cell = by_id.get(msg.get("parent_header", {}).get("msg_id"))
            if cell is None:
                return
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                cell.idle = True
            elif kind == "stream" and content.get("name") == cell.stream:
                if cell.expected in content.get("text", ""):
                    if cell.idle:
                        cell.after = True
                    else:
                        cell.before = True

        for cell in todo:
            # stop_on_error=False: the next cell follows a failed assert! within
            # milliseconds, and the course's kernel aborts requests queued behind an
            # error (as "Run All" needs); this test is about output, not that.
            msg_id = kc.execute(cell.code, store_history=False, stop_on_error=False)
            by_id[msg_id] = cell
            while not cell.idle:
                read(kc.get_iopub_msg(timeout=120))
            reply = reply_to(msg_id)
            cell.reply_status = reply.get("status")
            cell.error_value = reply.get("evalue")
        # Lines still on their way after the last cell's idle.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                read(kc.get_iopub_msg(timeout=max(0.01, end - time.monotonic())))
            except queue.Empty:
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return todo, version


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=40, help="cells of each kind (40)")
    ap.add_argument("--busy", action="store_true", help="keep the other cores busy")
    ap.add_argument("--report-only", action="store_true",
                    help="print the figures, never fail (to measure another kernel)")
    args = ap.parse_args(argv)

    spinners = busy_cores() if args.busy else []
    start = time.monotonic()
    try:
        done, version = run(args.cells)
    finally:
        for p in spinners:
            p.kill()
    took = time.monotonic() - start
    load = f", {len(spinners)} other core(s) kept busy" if spinners else ""
    print(f"output stress: evcxr_jupyter {version or '?'}, {args.cells} cells of each kind"
          f"{load}, {took:.0f} s")
    bad = 0
    for kind in ("eprintln!", "println!", "failing assert!"):
        mine = [c for c in done if c.kind == kind]
        late = sum(c.after and not c.before for c in mine)
        lost = sum(not c.after and not c.before for c in mine)
        line = (f"  {len(mine)} cells ending in {kind}: {late} lines arrived after idle,"
                f" {lost} under a later cell or never")
        if kind == "failing assert!":
            errors = sum(c.reply_status == "error" and c.expected == c.error_value
                         for c in mine)
            line += f"; {errors}/{len(mine)} replied \"error\" with the message"
            bad += len(mine) - errors
        print(line)
        bad += late + lost
    print(f"kernel: output_late_or_lost={bad}")
    if bad and not args.report_only:
        print("output stress: FAILED: a Jupyter client would have missed output"
              " (is the kernel the course's build? run `cargo xtask setup`)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
