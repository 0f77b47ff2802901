"""`cargo xtask lab` serves JupyterLab and prints the address to open, as root too.

Starts `cargo xtask lab` exactly as a learner does (on a free port, without opening
a browser, on a copy of the notebooks under a temporary folder), reads the address
it prints on a line of its own, fetches JupyterLab's page and its API with that
token (and is refused without it), checks the learner's copy was made, then stops
it and everything it started.

    python xtask/harness/test_lab.py
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """`cargo xtask lab` in its own process group, with its printed address."""

    def __init__(self, copy_dir: Path, patience: float = 300) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            ["cargo", "xtask", "lab", "--no-browser", "--port", str(port),
             "--dir", str(copy_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        self.lines: list[str] = []
        found: list[re.Match] = []
        ready = threading.Event()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                if (m := URL_LINE.match(line.strip())) and not found:
                    found.append(m)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(patience)
        if not found:
            self.stop()
            raise AssertionError("lab printed no address line; it said:\n"
                                 + "\n".join(self.lines))
        self.url = found[0].group(0)
        self.port, self.token = int(found[0].group(1)), found[0].group(2)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class LabTest(unittest.TestCase):
    def test_lab_serves_the_learners_copy_and_prints_its_address(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "my-notebooks"
            lab = Lab(copy)
            try:
                base = f"http://127.0.0.1:{lab.port}"
                self.assertEqual(status(lab.url), 200, "the printed address opens JupyterLab")
                self.assertEqual(status(f"{base}/api/contents/00-start-here.ipynb"
                                        f"?token={lab.token}&content=0"), 200,
                                 "the learner's copy holds the course's notebooks")
                self.assertEqual(status(f"{base}/api/contents"), 403,
                                 "without the token, the API refuses")
                self.assertTrue((copy / "00-start-here.ipynb").is_file())
                self.assertTrue((copy / "exercises").is_dir())
                if hasattr(os, "geteuid") and os.geteuid() == 0:
                    self.assertTrue(any("--allow-root" in line for line in lab.lines),
                                    "as root, lab says why it passes --allow-root")
            finally:
                lab.stop()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and status_or_none(lab.url) is not None:
                time.sleep(0.5)
            self.assertIsNone(status_or_none(lab.url), "JupyterLab still answers after stop")


def status_or_none(url: str) -> int | None:
    try:
        return status(url)
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


if __name__ == "__main__":
    unittest.main(verbosity=2)
