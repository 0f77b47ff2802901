"""What a learner's browser does in a room, and how many learners a room holds.

`cargo xtask room-bench --learners N` (room.py bench) logs N simulated learners in
through the hub's log-in page, starts their servers, opens a notebook's kernel
through the server's REST and websocket API (as JupyterLab does) and runs the
notebook's cells, then prints each learner's waits and peak memory. test_room.py
uses the same `Browser` and `run_cells`.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import pwd
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from room import (ROOM, ROOT, RoomError, _no_verify, ensure_account, prepare, remove_account,
                  say, start_hub, write_cards)


# ---------------------------------------------------------------- a learner's browser

@dataclass
class CellRun:
    seconds: float
    ok: bool
    text: str


@dataclass
class Browser:
    """What a learner's browser does: log in, wait for the server, open a notebook's
    kernel and run cells, over the same HTTP and websocket API JupyterLab uses."""
    base: str
    name: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=_no_verify()))

    def cookie(self, name: str, path_prefix: str = "/") -> str | None:
        found = [c for c in self.jar if c.name == name and c.path.startswith(path_prefix)]
        found.sort(key=lambda c: len(c.path), reverse=True)
        return found[0].value if found else None

    def get(self, path: str, timeout: float = 30) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as r:
                return r.status, r.geturl(), r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.geturl(), e.read().decode(errors="replace")

    def send(self, method: str, path: str, body: dict | None, xsrf: str | None,
             form: bool = False, timeout: float = 60) -> tuple[int, str]:
        data = None
        headers = {"Referer": self.base + path}
        if form:
            data = urllib.parse.urlencode(body or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if xsrf:
            headers["X-XSRFToken"] = xsrf
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def log_in(self, password: str) -> bool:
        self.get("/hub/login")
        xsrf = self.cookie("_xsrf", "/hub")
        status, _ = self.send("POST", "/hub/login?next=",
                              {"username": self.name, "password": password, "_xsrf": xsrf},
                              None, form=True)
        # The hub answers a good log-in with its login cookie (and a redirect on
        # to the server, which `wait_for_server` follows), a bad one with 403.
        return status != 403 and any(c.name == "jupyterhub-hub-login" for c in self.jar)

    def wait_for_server(self, timeout: float = 180) -> None:
        """Asks the hub to start the server (as the home page does), then follows the
        redirects until the learner's JupyterLab answers."""
        self.get("/hub/spawn")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, url, _ = self.get(f"/user/{self.name}/lab")
            if status == 200 and f"/user/{self.name}/lab" in url:
                return
            time.sleep(0.5)
        raise RoomError(f"{self.name}'s server was not ready within {timeout:.0f} s")

    def open_notebook(self, path: str) -> str:
        xsrf = self.cookie("_xsrf", f"/user/{self.name}")
        status, body = self.send("POST", f"/user/{self.name}/api/sessions",
                                 {"path": path, "type": "notebook", "name": path,
                                  "kernel": {"name": "rust"}}, xsrf)
        if status >= 300:
            raise RoomError(f"{self.name}: could not open a kernel ({status}): {body[:200]}")
        return json.loads(body)["kernel"]["id"]

    def cookies_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@dataclass
class Cell:
    code: str
    raises: bool = False  # tagged raises-exception: its error is expected


async def run_cells(browser: Browser, kernel_id: str, cells: list[Cell],
                    cell_timeout: float = 300) -> list[CellRun]:
    """Run `cells` one after the other over the kernel's websocket, as JupyterLab
    does (a cell tagged raises-exception is sent with stop_on_error false, so the
    kernel does not drop the cells after it); a cell is done at its
    `execute_reply` and `idle`. A cell's run is ok when it raised exactly when it
    was expected to."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    ws_base = browser.base.replace("http", "ws", 1)
    session = uuid.uuid4().hex
    url = (f"{ws_base}/user/{browser.name}/api/kernels/{kernel_id}/channels"
           f"?session_id={session}")
    # A room starting many kernels at once is slow to answer: wait as a browser would.
    conn = await websocket_connect(HTTPRequest(
        url, headers={"Cookie": browser.cookies_header()}, validate_cert=False,
        connect_timeout=cell_timeout, request_timeout=cell_timeout))
    runs = []
    try:
        for cell in cells:
            msg_id = uuid.uuid4().hex
            await conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request",
                           "username": browser.name, "session": session,
                           "date": "", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": cell.code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False,
                            "stop_on_error": not cell.raises},
            }))
            start = time.monotonic()
            text, ok, replied, idle = [], True, False, False
            while not (replied and idle):
                left = cell_timeout - (time.monotonic() - start)
                if left <= 0:
                    raise RoomError(f"{browser.name}: a cell ran past {cell_timeout:.0f} s")
                raw = await asyncio.wait_for(conn.read_message(), left)
                if raw is None:
                    raise RoomError(f"{browser.name}: the kernel's websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    text.append(content["text"])
                    if "panicked at" in content["text"]:
                        ok = False
                elif kind == "error":
                    ok = False
                    text.append(f"{content.get('ename')}: {content.get('evalue')}")
                elif kind == "execute_reply":
                    replied = True
                    ok = ok and content.get("status") == "ok"
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
            runs.append(CellRun(time.monotonic() - start, ok != cell.raises,
                                "".join(text)))
    finally:
        conn.close()
    return runs


def code_cells(notebook: Path) -> list[Cell]:
    nb = json.loads(notebook.read_text())
    return [Cell("".join(c["source"]),
                 "raises-exception" in c.get("metadata", {}).get("tags", []))
            for c in nb["cells"] if c["cell_type"] == "code"]


# ---------------------------------------------------------------- memory of a learner

class MemoryWatch:
    """Samples the resident memory of every process each account owns (/proc), and
    keeps each account's peak."""

    def __init__(self, names: list[str], every: float = 0.25):
        self.uids = {pwd.getpwnam(n).pw_uid: n for n in names}
        self.peak = {n: 0 for n in names}
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _sample(self) -> dict[str, int]:
        now = {n: 0 for n in self.peak}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    uid = rss = None
                    for line in f:
                        if line.startswith("Uid:"):
                            uid = int(line.split()[1])
                        elif line.startswith("VmRSS:"):
                            rss = int(line.split()[1]) * 1024
            except OSError:
                continue
            if uid in self.uids and rss:
                now[self.uids[uid]] += rss
        return now

    def _watch(self) -> None:
        while not self.stopped.wait(self.every):
            for name, rss in self._sample().items():
                self.peak[name] = max(self.peak[name], rss)

    def stop(self) -> dict[str, int]:
        self.stopped.set()
        self.thread.join()
        return self.peak


# ---------------------------------------------------------------- the bench

def bench(args) -> int:
    shared = prepare()
    names = [f"bench{i:02d}" for i in range(1, args.learners + 1)]
    state = ROOM / "bench-hub"
    shutil.rmtree(state, ignore_errors=True)
    notebook = next((ROOT / "notebooks").glob(f"{args.notebook}*.ipynb"), None)
    if notebook is None:
        raise RoomError(f"no notebook matches {args.notebook!r}")
    cells = code_cells(notebook)
    hub = None
    try:
        for name in names:
            home, _ = ensure_account(name, shared)
            if args.no_seed:
                shutil.rmtree(home / ".cache" / "evcxr", ignore_errors=True)
        state.mkdir(parents=True)
        os.chmod(state, 0o700)
        cards = write_cards(state, names, state / "cards.txt")
        hub = start_hub(shared, state, names, names[0], cull_after_s=0, quiet=True)
        watch = MemoryWatch(names)
        say(f"{len(names)} learners log in together and run {notebook.name} "
            f"({len(cells)} code cells){' without the warmed cache' if args.no_seed else ''}")

        async def learner(name: str) -> dict:
            try:
                return await learner_steps(name)
            except (RoomError, OSError, asyncio.TimeoutError) as e:
                return {"learner": name, "error": f"{type(e).__name__}: {e}"}

        async def learner_steps(name: str) -> dict:
            b = Browser(hub.url, name)
            t0 = time.monotonic()
            ok = await asyncio.to_thread(b.log_in, cards[name])
            if not ok:
                raise RoomError(f"{name} could not log in")
            await asyncio.to_thread(b.wait_for_server)
            kernel = await asyncio.to_thread(b.open_notebook, notebook.name)
            ready = time.monotonic() - t0
            runs = await run_cells(b, kernel, cells)
            return {"learner": name, "ready_s": ready,
                    "cells_s": [r.seconds for r in runs],
                    "failed_cells": [i + 1 for i, r in enumerate(runs) if not r.ok],
                    "failures": {i + 1: r.text[-400:] for i, r in enumerate(runs)
                                 if not r.ok}}

        async def everyone():
            return await asyncio.gather(*(learner(n) for n in names))

        results = asyncio.run(everyone())
        peak = watch.stop()
        for r in results:
            r["peak_rss_mib"] = peak[r["learner"]] / 2**20
        done = [r for r in results if "error" not in r]
        if not done:
            for r in results:
                say(f"{r['learner']}: {r['error']}")
            raise RoomError("no learner got through the notebook")
        all_cells = sorted(s for r in done for s in r["cells_s"])
        report = {
            "learners": len(names), "notebook": notebook.name, "seeded": not args.no_seed,
            "cores": os.cpu_count(), "per_learner": results,
            "cell_p50_s": pct(all_cells, 50), "cell_p95_s": pct(all_cells, 95),
            "first_cell_p50_s": pct(sorted(r["cells_s"][0] for r in done), 50),
            "ready_p50_s": pct(sorted(r["ready_s"] for r in done), 50),
            "learners_failed": len(results) - len(done),
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in results),
        }
        print_report(report)
        if report["learners_failed"]:
            say(f"{report['learners_failed']} learner(s) did not get through (above)")
        out = ROOT / "target" / f"room-bench-{len(names)}{'-noseed' if args.no_seed else ''}.json"
        out.write_text(json.dumps(report, indent=1))
        say(f"written to {out.relative_to(ROOT)}")
        return 0
    finally:
        if hub:
            hub.stop()
        for name in names:
            remove_account(name)
        if (state / "jupyterhub.log").exists():
            shutil.copy2(state / "jupyterhub.log", ROOT / "target" / "room-bench-hub.log")
        shutil.rmtree(state, ignore_errors=True)


def pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def print_report(r: dict) -> None:
    print(f"\n{r['learners']} learner(s), {r['notebook']}, "
          f"{'warmed cache' if r['seeded'] else 'no warmed cache'}, {r['cores']} cores")
    print(f"{'learner':<10}{'ready s':>9}{'1st cell s':>12}{'cells p50 s':>13}"
          f"{'slowest s':>11}{'peak MiB':>10}  failed cells")
    for x in r["per_learner"]:
        if "error" in x:
            print(f"{x['learner']:<10} did not get through: {x['error']}")
            continue
        c = sorted(x["cells_s"])
        print(f"{x['learner']:<10}{x['ready_s']:>9.1f}{x['cells_s'][0]:>12.1f}"
              f"{pct(c, 50):>13.2f}{c[-1]:>11.1f}{x['peak_rss_mib']:>10.0f}  "
              f"{', '.join(map(str, x['failed_cells'])) or '-'}")
    print(f"all cells: p50 {r['cell_p50_s']:.2f} s, p95 {r['cell_p95_s']:.2f} s; "
          f"first cell p50 {r['first_cell_p50_s']:.1f} s; ready p50 {r['ready_p50_s']:.1f} s;"
          f" peak memory per learner up to {r['peak_rss_mib_max']:.0f} MiB\n", flush=True)
