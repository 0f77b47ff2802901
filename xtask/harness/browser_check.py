"""Run notebooks in JupyterLab in headless Chromium, the way a learner does, and judge them.

`cargo xtask test` calls this (xtask/src/browser.rs) with the Python of the project's
environment. It is also usable directly, from anywhere:

    python xtask/harness/browser_check.py --chromium /usr/bin/chromium 00-start-here.ipynb
    python xtask/harness/browser_check.py --fixture xtask/harness/fixtures/failing_assert.ipynb

What it does:
1. starts `cargo xtask lab --no-browser --expose-app` (the learner's own command) on a
   free port, serving a fresh copy of the notebooks in target/browser-check/notebooks/
   (plus each `--fixture` notebook, e.g. one that must fail), and waits for the
   address lab prints;
2. opens each notebook named (a path inside notebooks/, or a fixture's file name) at
   /lab/tree/<name> in Debian's Chromium driven by ChromeDriver (never downloaded),
   waits for its `rust` kernel, and runs JupyterLab's own "Run All" command;
3. fails the notebook when a code cell never ran; a cell shows an error or a panic
   without the `raises-exception` tag, or has the tag and raised nothing (the same
   judgement as nbrun.py); a timeline picture is laid out with no width or height; a
   notification about Jupyter news is on screen (setup turns that pop-up off); or the
   kernel is not the course's build (`--expect-kernel`, default $COURSE_EXPECT_KERNEL);
4. saves a screenshot per notebook in target/browser-check/<stem>.png (the last
   picture and the cells above it), the executed copy in target/browser-check/notebooks/
   and JupyterLab's log in target/browser-check/lab.log;
5. stops lab and every process under it (Jupyter, the evcxr kernels), also on failure.

It prints one line per notebook with the seconds "Run All" took, its problems, then
`browser check: N passed, N failed`; the exit status is 0 only if all passed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
# One judgement of a cell's outputs for the whole course: the notebook harness's.
from nbrun import KERNEL_NAME, Problem, judge_cell, summarise  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1400,1600"]

LAB_PATIENCE = 180       # the first `cargo xtask lab` may compile xtask first
KERNEL_PATIENCE = 180    # evcxr starts in seconds; this only bounds a broken start
NOTEBOOK_PATIENCE = 900  # a first `:dep tokio` compiles into evcxr's cache for minutes
POLL = 0.5
# "Run All" stopped (a cell failed) once nothing is queued and the kernel has been idle
# this long: between two queued cells the kernel is never idle for more than a moment.
SETTLE = 3.0


@dataclass
class Lab:
    proc: subprocess.Popen
    port: int
    token: str
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}?token={self.token}"


@dataclass
class Outcome:
    name: str
    seconds: float = 0.0
    cells: int = 0
    pictures: int = 0
    problems: list[Problem] = field(default_factory=list)


# --- JupyterLab, started as a learner starts it --------------------------------------

def free_port() -> int:
    """A port nothing listens on: the OS picks one, we let go of it for lab."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exclusive(out: Path, patience: float = 1800):
    """Waits until no other browser check uses target/browser-check/ (two at once would
    delete each other's notebooks); the lock goes when this process ends."""
    out.mkdir(parents=True, exist_ok=True)
    lock = open(out / ".lock", "w")
    deadline, told = time.monotonic() + patience, False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"another browser check held {out} for {patience:.0f} s")
            if not told:
                print("browser check: waiting for another browser check to finish",
                      flush=True)
                told = True
            time.sleep(1)


def prepare(out: Path, fixtures: list[Path]) -> Path:
    """A fresh folder for lab to serve, so every run starts from the course's versions."""
    served = out / "notebooks"
    shutil.rmtree(served, ignore_errors=True)
    shutil.rmtree(out / "workspaces", ignore_errors=True)
    served.mkdir(parents=True)
    # Notebooks say `:dep helpers = { path = "../helpers" }` (exercises: ../../): in
    # my-notebooks/ that is the repository's helpers/. Here it must be too; evcxr
    # resolves the path with canonicalize(), so a symbolic link is enough.
    link = out / "helpers"
    if not link.exists():
        link.unlink(missing_ok=True)  # a dangling link from a moved checkout
        link.symlink_to(os.path.relpath(ROOT / "helpers", out))
    for fixture in fixtures:
        shutil.copy(fixture, served / fixture.name)
    return served


def start_lab(served: Path, out: Path, patience: float) -> Lab:
    """Runs `cargo xtask lab` and waits for the address it prints once the port answers."""
    port = free_port()
    log = out / "lab.log"
    env = dict(os.environ)
    # Lab's layout (open tabs) lives in a workspace file, by default in the user's
    # ~/.jupyter: keep ours apart so the check neither reads nor changes a learner's.
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(out / "workspaces")
    cmd = ["cargo", "xtask", "lab", "--no-browser", "--port", str(port),
           "--dir", str(served), "--expose-app"]
    # Its own session: one os.killpg reaches lab (cargo execs it) and Jupyter. Kernels
    # get sessions of their own from jupyter_client; stop_lab finds them by parentage.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    lab = Lab(proc, port, "", log)
    wanted = re.compile(rf"^http://127\.0\.0\.1:{port}/lab\?token=(\w+)$")
    found = threading.Event()

    def drain():
        # Keep reading to the end: a full pipe would block Jupyter's logging.
        with open(log, "w", encoding="utf-8") as f:
            for line in proc.stdout:
                f.write(line)
                f.flush()
                m = wanted.match(line.strip())
                if m and not found.is_set():
                    lab.token = m.group(1)
                    found.set()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + patience
    while not found.wait(0.5):
        if proc.poll() is not None:
            raise RuntimeError(f"`{' '.join(cmd)}` exited ({proc.returncode}) before it "
                               f"printed its address:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"`cargo xtask lab` printed no address within "
                               f"{patience:.0f} s:\n{tail(log)}")
    return lab


def tail(log: Path, lines: int = 25) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it, read from /proc before anything is killed
    (a kernel whose Jupyter died is re-parented and could no longer be found)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def api(lab: Lab, method: str, path: str):
    """One call to Jupyter's REST API, with the token lab printed."""
    req = urllib.request.Request(f"http://127.0.0.1:{lab.port}{path}", method=method,
                                 headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


def shutdown_kernels(lab: Lab) -> None:
    """Asks Jupyter to stop its kernels, as the Kernel menu does: a clean exit first."""
    try:
        for kernel in api(lab, "GET", "/api/kernels"):
            api(lab, "DELETE", f"/api/kernels/{kernel['id']}")
    except (OSError, ValueError):
        pass  # Jupyter is gone or stuck: the signals below still stop everything


def stop_lab(lab: Lab) -> list[str]:
    """Stops lab and everything it started; returns what survived (should be nothing)."""
    if lab.token and lab.proc.poll() is None:
        shutdown_kernels(lab)
    tree = process_tree(lab.proc.pid)
    # Jupyter first: lab waits for it, reaps it and exits by itself. Killing all at once
    # would orphan Jupyter, and an orphan's exit can linger as a zombie in `ps`.
    send(reversed(tree[1:]), signal.SIGTERM)
    try:
        lab.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    groups = set()
    for pid in tree:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    groups.discard(os.getpgid(0))  # never the group this script (and its caller) is in
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            try:
                os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        send(tree, sig)  # a process that left its group still belongs to the run
        if gone(lab, tree, 5):
            return []
    return [f"{pid} {command_line(pid)}" for pid in tree if alive(pid)]


def send(pids, sig) -> None:
    for pid in pids:
        try:
            if alive(pid):
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def gone(lab: Lab, pids: list[int], patience: float) -> bool:
    """Waits until none of `pids` runs; lab itself is our child, reaped here."""
    deadline = time.monotonic() + patience
    while True:
        lab.proc.poll()
        if not any(alive(p) for p in pids):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace")[:120]


# --- Chromium -------------------------------------------------------------------------

def browser(chromium: str, chromedriver: str, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    # A headless window never has the focus, and JupyterLab's "current notebook" (the
    # one Run All runs) follows the focus: behave like a window a learner clicked into.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
    return driver


# The scripts below read JupyterLab 4's own objects through `window.jupyterapp`
# (`--expose-app`): the notebook panel the URL opened, its session's kernel, and each
# cell's model, which is what the learner's screen is drawn from.

# Which notebook is in front, and its kernel's state. The panel is kept in a global
# so later scripts judge this notebook even if another widget takes the focus.
OPENED = """
const app = window.jupyterapp;
if (!app || !app.shell) return {state: 'JupyterLab not loaded'};
const w = app.shell.currentWidget;
const dialog = document.querySelector('.jp-Dialog');
const says = dialog ? dialog.innerText.replace(/\\s+/g, ' ').slice(0, 200) : null;
if (!w || !w.context || w.context.path !== arguments[0])
  return {state: 'opening ' + (w && w.context ? w.context.path : 'nothing'), dialog: says};
window.__coursePanel = w;
const sc = w.sessionContext;
const k = sc.session && sc.session.kernel;
return {state: k ? k.status : 'no kernel', kernel: k ? k.name : null,
        ready: w.context.isReady && sc.isReady, dialog: says};
"""

# The version the kernel reports in its kernel info (the course's build says
# 0.22.0+course.N), as JupyterLab received it.
KERNEL_VERSION = """
const done = arguments[arguments.length - 1];
window.__coursePanel.sessionContext.session.kernel.info
  .then(i => done(i.implementation_version || null), e => done(null));
"""

# Run All, through the command the Run menu and the toolbar use. Not awaited here: it
# settles only when the last cell has run (PROGRESS follows it), and it rejects when a
# cell fails, which the cells' own outputs then say better.
RUN_ALL = """
const app = window.jupyterapp, w = window.__coursePanel;
app.shell.activateById(w.id);
app.commands.execute('notebook:run-all-cells').catch(() => {});
"""

# Cheap enough to ask twice a second while the cells run.
PROGRESS = """
const w = window.__coursePanel;
const k = w.sessionContext.session && w.sessionContext.session.kernel;
const code = w.content.widgets.filter(c => c.model.type === 'code');
return {kernel: k ? k.status : 'no kernel', cells: code.length,
        counted: code.filter(c => c.model.executionCount != null).length,
        running: code.filter(c => c.model.executionState === 'running').length};
"""

# Every cell as nbformat would store it (so nbrun's judgement applies unchanged),
# without the pictures' bytes: only which MIME types an output carries.
CELLS = """
const text = t => Array.isArray(t) ? t.join('') : (t || '');
return window.__coursePanel.content.widgets.map(c => {
  const m = c.model;
  const cell = {cell_type: m.type, source: m.sharedModel.getSource(),
                metadata: {tags: m.getMetadata('tags') || [],
                           course: m.getMetadata('course') || {}}};
  if (m.type !== 'code') return cell;
  cell.execution_count = m.executionCount;
  cell.outputs = m.outputs.toJSON().map(o => ({
    output_type: o.output_type, name: o.name, text: text(o.text),
    ename: o.ename, evalue: o.evalue, traceback: o.traceback || [],
    mimes: o.data ? Object.keys(o.data) : []}));
  return cell;
});
"""

# The pictures of cell i as laid out on screen. JupyterLab draws an image/svg+xml
# output as an <img> with a data: URI (an inline <svg> only inside HTML output), so
# both count; an <img> also has to be decoded. The cell is scrolled into view first:
# out of view, the notebook's `content-visibility` windowing may skip its layout.
PICTURES = """
const cell = window.__coursePanel.content.widgets[arguments[0]];
cell.node.scrollIntoView({block: 'center'});
const found = [];
let svgAreas = 0;
for (const area of cell.node.querySelectorAll('.jp-OutputArea-output')) {
  const svgMime = area.getAttribute('data-mime-type') === 'image/svg+xml';
  const els = Array.from(area.querySelectorAll(svgMime ? 'img, svg' : 'svg'))
    .filter(el => !(el.parentElement && el.parentElement.closest('svg')));
  if (svgMime && els.length) svgAreas += 1;
  for (const el of els) {
    const r = el.getBoundingClientRect();
    const decoded = el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0);
    found.push({tag: el.tagName.toLowerCase(), w: r.width, h: r.height, decoded: decoded});
  }
}
return {svgAreas: svgAreas, found: found};
"""

# Toasts on screen (react-toastify, as JupyterLab's Notification uses).
TOASTS = """
return Array.from(document.querySelectorAll('.Toastify__toast'))
  .map(t => t.innerText.replace(/\\s+/g, ' ').trim());
"""

# Keep the executed copy (a learner's Ctrl-S; it also lets the page go without a
# "leave this page?" prompt) and stop the kernel, so the next notebook has both cores.
FINISH = """
const done = arguments[arguments.length - 1], w = window.__coursePanel;
(async () => {
  if (!w || w.isDisposed) return;
  await w.context.save();
  await w.sessionContext.shutdown();
})().then(() => done(null), e => done(String(e)));
"""


def leave(driver, lab: Lab) -> None:
    """Leaves the page and forgets its layout. JupyterLab reopens the tabs of its last
    layout on the next page load, and a reopened notebook starts a kernel of its own."""
    try:
        driver.execute_async_script(FINISH)
    except Exception:
        pass  # a broken page: stop_lab still stops its kernel
    try:
        driver.get("about:blank")
        api(lab, "DELETE", "/lab/api/workspaces/default")
    except Exception:
        pass  # a hung page or no layout saved yet: the next notebook still loads


def wait_for_kernel(driver, name: str, patience: float) -> tuple[dict, float]:
    """Waits until the URL's notebook is in front with its kernel idle."""
    start = time.monotonic()
    last: dict = {}
    while time.monotonic() - start < patience:
        try:
            last = driver.execute_script(OPENED, name) or {}
        except Exception as e:  # the page is still loading its scripts
            last = {"state": f"page not ready ({type(e).__name__})"}
        if last.get("ready") and last.get("state") == "idle":
            return last, time.monotonic() - start
        # ("unknown" is only a kernel whose connection is still being made)
        if last.get("state") == "dead" or last.get("dialog"):
            break
        time.sleep(POLL)
    raise RuntimeError(f"kernel not ready after {time.monotonic() - start:.0f} s: "
                       f"{last.get('state')}" +
                       (f"; a dialog says: {last['dialog']}" if last.get("dialog") else ""))


def run_all(driver, name: str, patience: float) -> tuple[float, dict, bool]:
    """Clicks Run All and waits until every code cell ran, or the run stopped."""
    driver.execute_script(RUN_ALL)
    start = time.monotonic()
    idle_since: float | None = None
    next_report = start + 60
    while True:
        now = time.monotonic()
        p = driver.execute_script(PROGRESS)
        if p["kernel"] in ("dead", "no kernel"):
            return now - start, p, False
        quiet = p["kernel"] == "idle" and p["running"] == 0
        if not quiet:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        if quiet and p["counted"] == p["cells"]:
            return now - start, p, False
        if quiet and now - idle_since >= SETTLE:
            return idle_since - start, p, False
        if now - start > patience:
            return now - start, p, True
        if now >= next_report:  # a first `:dep tokio` is slow: show it is not stuck
            print(f"browser: {name}: {p['counted']}/{p['cells']} code cells done after "
                  f"{now - start:.0f} s (kernel {p['kernel']})", flush=True)
            next_report += 60
        time.sleep(POLL)


def cell_problems(cells: list[dict]) -> list[Problem]:
    """nbrun's judgement for cells that ran; one line for the cells Run All never reached."""
    import nbformat

    problems: list[Problem] = []
    stopped_at: Problem | None = None
    never: list[int] = []
    for i, raw in enumerate(cells, start=1):
        if raw["cell_type"] != "code":
            continue
        cell = nbformat.from_dict(raw)
        if cell.execution_count is None and not cell.outputs:
            never.append(i)
            continue
        found = judge_cell(i, cell)
        problems.extend(found)
        # Run All stops at an error, except in a cell tagged raises-exception.
        if found and not never and "raises-exception" not in cell.metadata.tags:
            stopped_at = found[0]
    if never:
        first, rest = never[0], len(never) - 1
        more = (f" (nor did {rest} code cell{'s' if rest != 1 else ''} after it)"
                if rest else "")
        why = (f"Run All stopped at cell {stopped_at.cell}: {stopped_at.reason}"
               if stopped_at and stopped_at.cell < first else "Run All stopped before it")
        problems.append(Problem(first, f"never ran{more}; {why}"))
    return sorted(problems, key=lambda p: p.cell or 0)


def picture_problems(driver, cells: list[dict]) -> tuple[list[Problem], int, int | None]:
    """Pictures with no width or height; also how many were drawn, and the last cell
    with one (for the screenshot)."""
    problems, count, last = [], 0, None
    for i, cell in enumerate(cells):
        outputs = cell.get("outputs") or []
        svg_outputs = sum("image/svg+xml" in o["mimes"] for o in outputs)
        html = any("text/html" in o["mimes"] for o in outputs)
        if not svg_outputs and not html:
            continue
        drawn = driver.execute_script(PICTURES, i)
        if svg_outputs > drawn["svgAreas"]:
            problems.append(Problem(i + 1, f"{svg_outputs} SVG output(s) in the notebook, "
                                           f"{drawn['svgAreas']} drawn in the page"))
        drawn = drawn["found"]
        for d in drawn:
            if d["w"] <= 0 or d["h"] <= 0 or not d["decoded"]:
                problems.append(Problem(i + 1, f"a picture ({d['tag']}) is laid out "
                                               f"{d['w']:.0f}x{d['h']:.0f} px"
                                               f"{'' if d['decoded'] else ', not decoded'}"))
        if drawn:
            count, last = count + len(drawn), i
    return problems, count, last


def news_problems(driver) -> list[Problem]:
    """The course's setup turns the "Jupyter news?" pop-up off: check it really is."""
    return [Problem(None, f"a notification about news is on screen: {t[:150]!r}")
            for t in driver.execute_script(TOASTS) if "news" in t.lower()]


def screenshot(driver, path: Path, cell: int | None) -> None:
    """Cell `cell` (0-based; None: the last) at the bottom of the viewport, with the
    cells above it and their execution counts in view."""
    driver.execute_script("""
      const ws = window.__coursePanel.content.widgets;
      const i = arguments[0] === null ? ws.length - 1 : arguments[0];
      ws[i].node.scrollIntoView({block: 'end'});""", cell)
    time.sleep(0.5)  # let the scroll settle and images paint
    driver.save_screenshot(str(path))


# Lines a learner is told to look for, which once went missing in the UI: the last
# line of a cell can arrive after the kernel says the cell is done (evcxr/evcxr#353),
# and JupyterLab stops listening at that moment. The course's kernel build waits.
EXPECTED_TEXT = {
    # the last lines of its "What we measured" cell, printed last
    "01-sequential.ipynb": ["- threads used:", "- waiting:"],
}


def expected_text_problems(name: str, cells: list[dict]) -> list[Problem]:
    shown = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))
    return [Problem(None, f"the UI never showed {text!r}, which the notebook tells the"
                          " learner to look for (output lost at the end of a cell?)")
            for text in EXPECTED_TEXT.get(Path(name).name, []) if text not in shown]


def check_notebook(driver, lab: Lab, name: str, out: Path, patience: float,
                   expect_kernel: str | None) -> Outcome:
    outcome = Outcome(name)
    if not (out / "notebooks" / name).is_file():
        outcome.problems.append(Problem(None, f"no such notebook in {out / 'notebooks'}"))
        return outcome
    try:
        driver.get(lab.url(f"/lab/tree/{urllib.parse.quote(name)}"))
        opened, secs = wait_for_kernel(driver, name, KERNEL_PATIENCE)
        if opened.get("kernel") != KERNEL_NAME:
            outcome.problems.append(Problem(None, f"kernel is {opened.get('kernel')!r}, "
                                                  f"expected {KERNEL_NAME!r}"))
        version = driver.execute_async_script(KERNEL_VERSION)
        if expect_kernel and version != expect_kernel:
            outcome.problems.append(Problem(None, f"the kernel is evcxr_jupyter {version}, "
                                                  f"not the course's build {expect_kernel}"))
        print(f"browser: {name}: kernel idle after {secs:.0f} s, Run All", flush=True)
        outcome.seconds, progress, timed_out = run_all(driver, name, patience)
        if timed_out:
            outcome.problems.append(Problem(None, f"Run All not done after {patience:.0f} s "
                                                  f"({progress['counted']}/{progress['cells']}"
                                                  " code cells ran)"))
        elif progress["kernel"] != "idle":
            outcome.problems.append(Problem(None, f"the kernel is {progress['kernel']}"))
        cells = driver.execute_script(CELLS)
        outcome.cells = sum(c["cell_type"] == "code" for c in cells)
        outcome.problems += cell_problems(cells)
        outcome.problems += expected_text_problems(name, cells)
        pictures, outcome.pictures, last_picture = picture_problems(driver, cells)
        outcome.problems += pictures
        outcome.problems += news_problems(driver)
        # A failed notebook's picture shows its first failing cell; a passed one's,
        # its last picture.
        failing = [p.cell - 1 for p in outcome.problems if p.cell is not None]
        screenshot(driver, out / f"{Path(name).stem}.png",
                   min(failing) if failing else last_picture)
    except Exception as e:  # a broken page or kernel fails this notebook, not the run
        outcome.problems.append(Problem(None, f"{type(e).__name__}: {summarise(str(e))}"))
        try:
            driver.save_screenshot(str(out / f"{Path(name).stem}.png"))
        except Exception:
            pass
    leave(driver, lab)
    return outcome


# --- the command ----------------------------------------------------------------------

def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*",
                    help="paths inside notebooks/, e.g. 00-start-here.ipynb")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver",
                    default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    ap.add_argument("--fixture", action="append", type=Path, default=[],
                    help="also serve this notebook (e.g. one that must fail) and check it")
    ap.add_argument("--timeout", type=float, default=NOTEBOOK_PATIENCE,
                    help="seconds Run All may take per notebook "
                         f"(default {NOTEBOOK_PATIENCE})")
    ap.add_argument("--expect-kernel", default=os.environ.get("COURSE_EXPECT_KERNEL"),
                    help="fail unless the kernel reports this version (default: "
                         "$COURSE_EXPECT_KERNEL, which `cargo xtask` sets)")
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    names = list(args.notebooks) + [f.name for f in args.fixture]
    if not names:
        print("browser check: name the notebooks to open (see --help)", file=sys.stderr)
        return 2
    for tool in (args.chromium, args.chromedriver):
        if not Path(tool).exists():
            print(f"browser check: {tool} not found (Debian: apt install chromium "
                  "chromium-driver)", file=sys.stderr)
            return 2
    out = ROOT / "target" / "browser-check"
    with exclusive(out):
        outcomes, survivors = check_all(args, names, out)
    for s in survivors:
        print(f"browser check: still running after lab was stopped: {s}", flush=True)
    failed = sum(bool(o.problems) for o in outcomes) + bool(survivors)
    passed = sum(not o.problems for o in outcomes)
    print(f"browser check: {passed} passed, {failed} failed "
          f"(screenshots in {out.relative_to(ROOT)}/)", flush=True)
    return 0 if failed == 0 and passed == len(names) else 1


def check_all(args, names: list[str], out: Path) -> tuple[list[Outcome], list[str]]:
    """One lab and one browser for all the notebooks; returns their outcomes and any
    process that survived stopping lab."""
    served = prepare(out, [f.resolve() for f in args.fixture])
    outcomes: list[Outcome] = []
    lab = None
    survivors: list[str] = []
    try:
        start = time.monotonic()
        lab = start_lab(served, out, LAB_PATIENCE)
        print(f"browser: JupyterLab answered on port {lab.port} after "
              f"{time.monotonic() - start:.0f} s (log: {lab.log})", flush=True)
        with tempfile.TemporaryDirectory(prefix="browser-check-") as profile:
            driver = browser(args.chromium, args.chromedriver, Path(profile))
            try:
                for name in names:
                    outcome = check_notebook(driver, lab, name, out, args.timeout,
                                             args.expect_kernel)
                    outcomes.append(outcome)
                    report(outcome)
            finally:
                driver.quit()
    except Exception as e:
        print(f"browser check: {e}", flush=True)
        outcomes.append(Outcome("(the run)", problems=[Problem(None, str(e))]))
    finally:
        if lab is not None:
            survivors = stop_lab(lab)
    return outcomes, survivors


def report(outcome: Outcome) -> None:
    verdict = "FAIL" if outcome.problems else "PASS"
    print(f"browser: {verdict} {outcome.name} ({outcome.seconds:.0f} s in the UI, "
          f"{outcome.cells} cells, {outcome.pictures} pictures)", flush=True)
    for p in outcome.problems:
        print(f"     {outcome.name} {p}", flush=True)


if __name__ == "__main__":
    # Stopped by its caller (a killed `cargo xtask test`): still run the `finally`
    # blocks that stop lab, its kernels and Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
