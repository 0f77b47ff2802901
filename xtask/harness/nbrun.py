"""Run the course's notebooks in a fresh evcxr kernel and judge them strictly.

`cargo xtask test` calls this with the Python of the project's environment. It is
also usable directly:

    python xtask/harness/nbrun.py [--save-dir DIR] NOTEBOOK...
    python xtask/harness/nbrun.py --clean NOTEBOOK...   # strip outputs in place

A notebook fails when:
- it is not valid nbformat 4, or its kernel is not `rust`;
- the source carries outputs, execution counts or machine-specific metadata;
- a cell reports an error: compile errors do, and so does a panic in the cell's own
  thread (a failed `assert!`) with the course's kernel build (xtask/kernel/);
- a panic in any other thread shows on stderr, even one that comes after its cell:
  a thread the cell left running, say (seen in the next cell's output, or in a
  last marker cell the harness runs after the notebook's cells). Such a late panic
  is reported against the cell that started its thread where that is known (Linux:
  the panic names its OS thread, and the harness notes after each cell which threads
  the kernel's processes run), else against the cell it showed under, or the end;
- the kernel is not the course's build (`--expect-kernel VERSION`): only that build
  sends all of a cell's output before it says the cell is done (evcxr/evcxr#353), so
  with another one a failed `assert!` could pass unseen;
- a cell tagged `raises-exception` does NOT raise or panic, raises something else than
  its cell metadata `{"course": {"raises": "..."}}` says (words of the error or panic
  message, or an error code such as `E0499`), or does not say what it raises: any
  error would otherwise keep such a cell green, even one it was not written for;
- a cell shows a stray `()` (its last statement is a block without a `;`);
- a cell runs past its timeout (default 120 s; notebook metadata
  `{"course": {"cell_timeout": 30}}` lowers it), or the notebook as a whole past its
  own (default 600 s; `"notebook_timeout"`), so many slow cells cannot add up to a
  stuck run. The kernel's whole process group (its id read when the kernel started)
  is then killed, so no evcxr process outlives its notebook.

It prints one line per notebook with its wall time, then `N passed, N failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CELL_TIMEOUT = 120
DEFAULT_NOTEBOOK_TIMEOUT = 600
KERNEL_NAME = "rust"

# Cell metadata a source notebook may carry. Anything else (execution timings,
# "collapsed", "scrolled", ids of a particular machine) is noise in a diff.
# "course" carries the course's own cell metadata: {"raises": "E0499"} says what a
# cell tagged raises-exception must raise.
ALLOWED_CELL_METADATA = {"tags", "editable", "deletable", "slideshow", "jupyter", "course"}
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "course"}
ALLOWED_LANGUAGE_INFO = {"name", "file_extension", "mimetype", "pygment_lexer",
                         "codemirror_mode"}

# How evcxr reports a panic: the panic hook's message on stderr.
PANIC_RE = re.compile(r"panicked at|^thread '[^']*' panicked", re.MULTILINE)
# The panic hook names the thread's OS id: "thread 'name' (12345) panicked at".
PANIC_TID_RE = re.compile(r"^thread '[^']*' \((\d+)\) panicked", re.MULTILINE)
# evcxr's runtime process dying (abort, segfault, stack overflow) is a failure too.
CRASH_RE = re.compile(r"Child process terminated|Subprocess terminated", re.IGNORECASE)

# In notebooks/exercises/, the cell that checks the learner's work.
CHECK_TAG = "exercise-check"

SETUP_HINT = "run `cargo xtask setup` (it installs evcxr_jupyter and the `rust` kernelspec)"


@dataclass
class Problem:
    cell: int | None  # 1-based cell number as a learner counts them, None = whole notebook
    reason: str

    def __str__(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "notebook"
        return f"{where}: {self.reason}"


@dataclass
class Result:
    path: Path
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    kernel_pid: int | None = None
    kernel_pgid: int | None = None
    note: str = ""
    # (cell number, wall seconds) for each code cell run, as the client saw it.
    cells: list[tuple[int, float]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:60]
    return "(empty)"


def tags_of(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def source_problems(nb) -> list[Problem]:
    """Checks that a source notebook is clean: no outputs, counts or machine metadata."""
    problems = []
    meta = nb.get("metadata", {})
    kernel = meta.get("kernelspec", {}).get("name")
    if kernel != KERNEL_NAME:
        problems.append(Problem(None, f"kernelspec is {kernel!r}, expected {KERNEL_NAME!r}"))
    extra = set(meta) - ALLOWED_NOTEBOOK_METADATA
    if extra:
        problems.append(Problem(None, f"machine-specific notebook metadata {sorted(extra)}"
                                      " (run nbrun.py --clean)"))
    lang_extra = set(meta.get("language_info", {})) - ALLOWED_LANGUAGE_INFO
    if lang_extra:
        problems.append(Problem(None, f"language_info carries {sorted(lang_extra)}"
                                      " (run nbrun.py --clean)"))
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            if cell.get("outputs"):
                problems.append(Problem(i, "source notebook carries outputs"
                                           " (run nbrun.py --clean)"))
            if cell.get("execution_count") is not None:
                problems.append(Problem(i, "source notebook carries an execution count"
                                           " (run nbrun.py --clean)"))
        extra = set(cell.get("metadata", {})) - ALLOWED_CELL_METADATA
        if extra:
            problems.append(Problem(i, f"machine-specific cell metadata {sorted(extra)}"
                                       " (run nbrun.py --clean)"))
    return problems


def clean(nb) -> None:
    """Strips what `source_problems` rejects, in place."""
    meta = nb.metadata
    for key in list(meta):
        if key not in ALLOWED_NOTEBOOK_METADATA:
            del meta[key]
    for key in list(meta.get("language_info", {})):
        if key not in ALLOWED_LANGUAGE_INFO:
            del meta["language_info"][key]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in list(cell.get("metadata", {})):
            if key not in ALLOWED_CELL_METADATA:
                del cell.metadata[key]


def output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")]
                         + list(output.get("traceback", [])))
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data, dict) else ""


ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def summarise(text: str, limit: int = 300) -> str:
    text = ANSI_RE.sub("", text).strip()
    # A panic's backtrace says nothing a learner needs in a one-line summary.
    text = re.split(r"\nstack backtrace:|\nnote: run with `RUST_BACKTRACE", text)[0]
    lines = [line for line in text.splitlines() if line.strip()]
    short = " | ".join(lines[:4])
    return short if len(short) <= limit else short[: limit - 1] + "…"


def stderr_of(cell) -> str:
    # A panic's lines can arrive in several stderr chunks: judge them together.
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")


def without_panics_of(stderr: str, tids: set[int]) -> str:
    """`stderr` less the panic messages of threads `tids` (each up to the next blank
    line or the next panic), so they are not blamed on the cell they showed under."""
    kept, skipping = [], False
    for line in stderr.splitlines(keepends=True):
        m = PANIC_TID_RE.match(line)
        if m:
            skipping = int(m.group(1)) in tids
        elif not line.strip():
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def raised_of(cell, foreign: set[int] = frozenset()) -> str | None:
    """What a cell that ran raised: an error, a panic or a crash, or None. Panics of
    the threads in `foreign` (started by earlier cells) do not count."""
    raised = None
    outputs = cell.get("outputs", [])
    stderr = without_panics_of(stderr_of(cell), set(foreign))
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors and errors[0].get("ename") == "panic":
        # The course's kernel reports a panic in the cell's own thread as an error.
        raised = f"panic: {summarise(errors[0].get('evalue', ''))}"
    elif errors:
        raised = f"error: {summarise(output_text(errors[0]))}"
    elif (m := PANIC_RE.search(stderr)) is not None:
        line_start = stderr.rfind("\n", 0, m.start()) + 1
        raised = f"panic: {summarise(stderr[line_start:])}"
    elif CRASH_RE.search(stderr):
        raised = f"kernel process crashed: {summarise(stderr)}"
    return raised


def expected_raise(cell) -> str | None:
    """What a cell tagged raises-exception says it raises (cell metadata course.raises)."""
    said = cell.get("metadata", {}).get("course", {}).get("raises")
    return said if isinstance(said, str) and said.strip() else None


def shows_unit(cell) -> bool:
    """Whether the cell's value was `()`: evcxr then prints a stray `()` under it."""
    return any(o.get("output_type") == "execute_result"
               and "".join(o.get("data", {}).get("text/plain", "")).strip() == "()"
               for o in cell.get("outputs", []))


def late_panics(cell, owners: dict[int, int], seen_under: str) -> list[Problem]:
    """The panics under `cell` from threads that earlier cells started, each
    reported against the cell that started it."""
    problems = []
    for m in PANIC_TID_RE.finditer(stderr_of(cell)):
        tid = int(m.group(1))
        if tid in owners:
            rest = stderr_of(cell)[m.start():]
            problems.append(Problem(owners[tid], (
                f"a thread it started (OS thread {tid}) panicked after the cell ended,"
                f" {seen_under}: {summarise(rest)}")))
    return problems


def kernel_threads(pid: int | None) -> set[int]:
    """The OS thread ids of the threads the kernel's processes (it and every process
    below it) started, less each process's main thread: a cell runs on the main
    thread of evcxr's runtime process, so a panic there is the cell's own. Empty
    where there is no /proc: late panics are then blamed where they show."""
    if pid is None or not os.path.isdir("/proc"):
        return set()
    tids: set[int] = set()
    for p in [pid, *descendants(pid)]:
        try:
            tids.update(int(t) for t in os.listdir(f"/proc/{p}/task") if int(t) != p)
        except OSError:
            pass
    return tids


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # The command may hold spaces and parentheses: split after the last ')'.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def judge_cell(index: int, cell, foreign: set[int] = frozenset()) -> list[Problem]:
    """Reads a cell's outputs after it ran and says what went wrong, if anything;
    panics of the threads in `foreign` belong to earlier cells (see late_panics)."""
    if shows_unit(cell):
        return [Problem(index, "shows a stray `()`: its last statement (an `if`, a `match`,"
                               " a block) needs a `;`  [" + first_line(cell.source) + "]")]
    raised = raised_of(cell, foreign)
    expects = "raises-exception" in tags_of(cell)
    if not expects:
        return [] if raised is None else [Problem(index, f"{raised}  [{first_line(cell.source)}]")]
    if raised is None:
        return [Problem(index, "tagged raises-exception but raised nothing and did not panic")]
    expected = expected_raise(cell)
    if expected is None:
        return [Problem(index, "tagged raises-exception but does not say what it raises "
                               '(cell metadata {"course": {"raises": "..."}})')]
    everything = ANSI_RE.sub("", "\n".join(output_text(o) for o in cell.get("outputs", [])))
    if expected not in everything:
        return [Problem(index, f"should raise {expected!r}, but raised {raised}")]
    return []


def process_group(pid: int | None) -> int | None:
    """The process group of the kernel, read while it runs (None where unknown)."""
    if pid is None or not hasattr(os, "getpgid"):
        return None
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def kill_group(pgid: int | None) -> None:
    """Makes sure no process of the kernel's session survives its notebook."""
    if pgid is None or not hasattr(os, "killpg") or pgid == os.getpgid(0):
        return  # never our own group
    try:
        os.killpg(pgid, signal.SIGKILL)  # jupyter_client starts kernels in a new session
    except (ProcessLookupError, PermissionError):
        pass


# Run after a notebook's last cell: anything a thread printed after its cell ended
# arrives before this cell's own lines (each stream is a pipe and keeps order).
DRAIN_MARK = "course-harness: all output is in"
DRAIN_SOURCE = f'eprintln!("{DRAIN_MARK}");\nprintln!("{DRAIN_MARK}");'


def kernel_version(client) -> str | None:
    """The `implementation_version` the running kernel reports in its kernel info."""
    from jupyter_core.utils import run_sync

    msg_id = client.kc.kernel_info()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = run_sync(client.kc.get_shell_msg)(timeout=30)
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return reply["content"].get("implementation_version")
    return None


def drain_problems(client, owners: dict[int, int]) -> list[Problem]:
    """Runs the marker cell after the last cell; a late panic there is a failure,
    reported against the cell that started its thread where that is known."""
    import nbformat

    cell = nbformat.v4.new_code_cell(DRAIN_SOURCE)
    # nbclient stores outputs into the notebook by index: lend it a slot, then
    # take the cell out again so the executed copy holds only the notebook's cells.
    client.nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    finally:
        client.nb.cells.pop()
    problems = late_panics(cell, owners, "after the last cell")
    raised = raised_of(cell, set(owners))
    streams = {o.get("name"): o.get("text", "") for o in cell.outputs
               if o.get("output_type") == "stream"}
    if raised is not None:
        problems.append(Problem(None, f"after the last cell: {raised} (a thread a cell"
                                      " left running?)"))
    for name in ("stdout", "stderr"):
        if DRAIN_MARK not in streams.get(name, ""):
            problems.append(Problem(None, f"the harness's marker never arrived on {name}:"
                                          " the kernel lost output"))
    return problems


def run_notebook(path: Path, save_dir: Path | None, kernel_name: str = KERNEL_NAME,
                 expect_kernel: str | None = None) -> Result:
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    result = Result(path)
    start = time.monotonic()
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001 - any parse problem is a failure to report
        result.problems.append(Problem(None, f"not a valid nbformat 4 notebook: {e}"))
        return result
    if nb.nbformat != 4:
        result.problems.append(Problem(None, f"nbformat {nb.nbformat}, expected 4"))
    result.problems += source_problems(nb)
    if any(p.cell is None and "kernelspec" in p.reason for p in result.problems):
        return result

    # An untouched exercise must run cleanly up to its check cell, and fail there.
    # A cheat (fixtures/cheats/) is an exercise "solved" by a shortcut: it must fail
    # at the check exactly as an untouched exercise does.
    exercise = bool({"exercises", "cheats"} & set(path.resolve().parts))
    if exercise and not any(CHECK_TAG in tags_of(c) for c in nb.cells if c.cell_type == "code"):
        result.problems.append(Problem(None, f"an exercise needs a code cell tagged {CHECK_TAG}"))
    course = nb.metadata.get("course", {})
    timeout = int(course.get("cell_timeout", DEFAULT_CELL_TIMEOUT))
    budget = int(course.get("notebook_timeout", DEFAULT_NOTEBOOK_TIMEOUT))
    deadline = start + budget
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        startup_timeout=60,
        allow_errors=True,
        interrupt_on_timeout=False,  # interrupting evcxr kills it anyway; we stop cleanly
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    try:
        with client.setup_kernel():
            prov = getattr(client.km, "provisioner", None)
            result.kernel_pid = getattr(prov, "pid", None)
            result.kernel_pgid = process_group(result.kernel_pid)
            if expect_kernel is not None:
                found = kernel_version(client)
                if found != expect_kernel:
                    result.problems.append(Problem(None, (
                        f"the `{kernel_name}` kernel is evcxr_jupyter {found}, not the"
                        f" course's build {expect_kernel}: without it a cell's last lines"
                        f" and a failed assert! can be lost; {SETUP_HINT}")))
                    return result
            reached_end = True
            # Which cell each of the kernel's threads was first seen after (OS id ->
            # cell number): a panic that names one of them later is that cell's.
            owners: dict[int, int] = {}
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                is_check = exercise and CHECK_TAG in tags_of(cell)
                left = deadline - time.monotonic()
                # A cell gets its own timeout, or what is left of the notebook's.
                client.timeout = max(1, min(timeout, int(left)))
                try:
                    if left <= 0:
                        raise CellTimeoutError("no time left")
                    began = time.monotonic()
                    client.execute_cell(cell, i)
                    result.cells.append((i + 1, time.monotonic() - began))
                except CellTimeoutError:
                    why = (f"timed out after {timeout} s" if client.timeout == timeout and left > 0
                           else f"ran past the notebook's {budget} s")
                    result.problems.append(Problem(
                        i + 1, f"{why} (a hang, a deadlock or starvation?)"
                               f"  [{first_line(cell.source)}]"))
                    reached_end = False
                    break
                except DeadKernelError as e:
                    result.problems.append(Problem(i + 1, f"the kernel died: {e}"))
                    reached_end = False
                    break
                if is_check:
                    raised = raised_of(cell)
                    if raised is None:
                        result.problems.append(Problem(
                            i + 1, "the untouched exercise passes its own check: it ships"
                                   " already solved, or the check cannot fail"))
                    elif not raised.startswith("panic"):
                        # Only a failed assert! is the intended failure: a check that
                        # does not compile would "fail" whatever the learner writes.
                        result.problems.append(Problem(
                            i + 1, f"the exercise-check cell must fail an assert!, not {raised}"))
                    else:
                        result.note = f"fails at its check (cell {i + 1}) as intended: {raised}"
                    reached_end = False
                    break  # what follows the check is the learner's business
                result.problems += late_panics(cell, owners, f"seen under cell {i + 1}")
                result.problems += judge_cell(i + 1, cell, set(owners))
                alive = kernel_threads(result.kernel_pid)
                owners = {t: owners.get(t, i + 1) for t in alive}
            if reached_end:
                result.problems += drain_problems(client, owners)
    except NoSuchKernel:
        result.problems.append(Problem(None, f"no `{kernel_name}` Jupyter kernel: {SETUP_HINT}"))
    except Exception as e:  # noqa: BLE001 - report, never crash the whole run
        result.problems.append(Problem(None, f"could not run: {type(e).__name__}: {e}"))
    finally:
        kill_group(result.kernel_pgid)
    if exercise and not result.note and not result.problems:
        result.problems.append(Problem(None, "never reached its check cell"))
    result.seconds = time.monotonic() - start
    if save_dir is not None:
        # Exercises and their solutions share file names: keep them apart.
        side = path.resolve().parent.name
        target = save_dir / side if side in ("exercises", "solutions") else save_dir
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target / path.name)
    return result


STATUS_FILE = "status.json"


def saved_name(path: Path) -> str:
    """Where --save-dir keeps a notebook's executed copy, relative to that folder."""
    side = path.resolve().parent.name
    return f"{side}/{path.name}" if side in ("exercises", "solutions") else path.name


def record_status(save_dir: Path, results: list[Result]) -> None:
    """Keeps, beside the executed copies, whether each one passed in the run that
    wrote it (handouts are made only from notebooks that passed)."""
    file = save_dir / STATUS_FILE
    try:
        status = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = {}
    for r in results:
        status[saved_name(r.path)] = "passed" if r.passed else "failed"
    save_dir.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(status, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def mirror_problems(paths: list[Path]) -> list[tuple[Path, str]]:
    """Exercises and solutions mirror each other file for file."""
    problems = []
    for path in paths:
        parts = path.resolve().parts
        for mine, other in (("exercises", "solutions"), ("solutions", "exercises")):
            if mine in parts:
                twin = path.resolve().parent.parent / other / path.name
                if not twin.exists():
                    problems.append((path, f"no {other}/{path.name} to mirror it"))
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--save-dir", type=Path, help="write executed copies here")
    ap.add_argument("--clean", action="store_true", help="strip outputs in place, run nothing")
    ap.add_argument("--report", type=Path, help="write a JSON report here (for tests)")
    ap.add_argument("--expect-kernel", metavar="VERSION",
                    default=os.environ.get("COURSE_EXPECT_KERNEL"),
                    help="fail unless the kernel reports this implementation_version"
                         " (default: $COURSE_EXPECT_KERNEL, which `cargo xtask` sets)")
    ap.add_argument("--list-deps", action="store_true",
                    help="print the distinct `:dep` lines of the notebooks, run nothing")
    args = ap.parse_args(argv)

    if args.list_deps:
        seen: list[str] = []
        for path in args.notebooks:
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                src = cell["source"]
                for line in ("".join(src) if isinstance(src, list) else src).splitlines():
                    if line.startswith(":dep ") and line.strip() not in seen:
                        seen.append(line.strip())
        print("\n".join(seen))
        return 0

    if args.clean:
        import nbformat
        for path in args.notebooks:
            nb = nbformat.read(path, as_version=4)
            clean(nb)
            nbformat.write(nb, path)
            print(f"cleaned {path}")
        return 0

    results = [Result(path, problems=[Problem(None, reason)])
               for path, reason in mirror_problems(args.notebooks)]
    for r in results:
        print(f"FAIL {r.path}: {r.problems[0]}", flush=True)
    for path in args.notebooks:
        print(f"     {path} ...", flush=True)
        r = run_notebook(path, args.save_dir, expect_kernel=args.expect_kernel)
        results.append(r)
        status = "PASS" if r.passed else "FAIL"
        print(f"{status} {path}  ({r.seconds:.1f} s)", flush=True)
        if r.note and r.passed:
            print(f"     {path}: {r.note}", flush=True)
        for p in r.problems:
            print(f"     {path}: {p}", flush=True)
    if args.save_dir is not None:
        record_status(args.save_dir, results)
    if args.report:
        args.report.write_text(json.dumps([
            {"path": str(r.path), "passed": r.passed, "seconds": r.seconds,
             "kernel_pid": r.kernel_pid, "note": r.note,
             "cells": [{"cell": n, "seconds": round(s, 3)} for n, s in r.cells],
             "problems": [str(p) for p in r.problems]}
            for r in results], indent=1))
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    print(f"notebooks: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
