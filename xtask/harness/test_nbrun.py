"""The notebook harness is tested too: every way a notebook can go wrong must fail it.

Runs nbrun.py on the fixtures (each in a real evcxr kernel) and checks that each
failure names the notebook, the cell and the reason, that a clean notebook passes,
and that no kernel process outlives a timed-out notebook.

    python xtask/harness/test_nbrun.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"

# fixture -> (should pass, [(cell number or None for the notebook, words the reason
# must contain)])
EXPECTED = {
    "clean": (True, []),
    "raises_expected": (True, []),
    "compile_error": (False, [(3, "error")]),
    "failing_assert": (False, [(3, "panic"), (3, "arithmetic is broken: 3")]),
    "hang": (False, [(2, "timed out after 8 s")]),
    # Which cell runs past the notebook's budget depends on the kernel's start-up time:
    # test_a_notebook_past_its_budget_stops_there checks the words on any cell.
    "slow_notebook": (False, []),
    "committed_outputs": (False, [(2, "carries outputs"), (2, "execution count")]),
    "raises_nothing": (False, [(2, "raises-exception but raised nothing")]),
    "shows_unit": (False, [(2, "shows a stray `()`")]),
    "raises_other": (False, [(2, "should raise 'E0499', but raised error"),
                             (3, "does not say what it raises"),
                             (4, "should raise 'no reactor running', but raised panic: "
                                 "something else broke")]),
    # A late panic is the fault of the cell that started its thread, not of the cell
    # it shows under (the harness knows each thread's OS id and where it started).
    "late_panic": (False, [(3, "panicked after the cell ended, seen under cell 4"),
                           (3, "late panic from a thread the cell did not")]),
    "late_panic_last": (False, [(3, "panicked after the cell ended, after the last cell"),
                                (3, "late panic after the last cell")]),
}


def run_harness(notebooks: list[str]) -> tuple[str, int, list[dict]]:
    """Runs nbrun.py on notebooks; returns its output, exit code and JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        proc = subprocess.run(
            [sys.executable, str(HERE / "nbrun.py"), "--report", str(report), *notebooks],
            capture_output=True, text=True, timeout=600)
        return proc.stdout + proc.stderr, proc.returncode, json.loads(report.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes; /proc tells them apart on Linux.
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        return stat.read_text().split(") ")[-1][:1] != "Z"
    return True


class HarnessTest(unittest.TestCase):
    report: list[dict]
    stdout: str
    code: int

    @classmethod
    def setUpClass(cls) -> None:
        notebooks = [str(FIXTURES / f"{name}.ipynb") for name in EXPECTED]
        cls.stdout, cls.code, cls.report = run_harness(notebooks)

    def result(self, name: str) -> dict:
        for r in self.report:
            if Path(r["path"]).stem == name:
                return r
        self.fail(f"{name} missing from the report:\n{self.stdout}")

    def test_exit_code_and_summary(self) -> None:
        failing = sum(1 for ok, _ in EXPECTED.values() if not ok)
        passing = len(EXPECTED) - failing
        self.assertEqual(self.code, 1, self.stdout)
        self.assertIn(f"notebooks: {passing} passed, {failing} failed", self.stdout)

    def test_each_fixture(self) -> None:
        for name, (should_pass, reasons) in EXPECTED.items():
            with self.subTest(fixture=name):
                r = self.result(name)
                self.assertEqual(r["passed"], should_pass, r["problems"])
                for cell, words in reasons:
                    where = "notebook" if cell is None else f"cell {cell}"
                    lines = [line for line in self.stdout.splitlines()
                             if f"{name}.ipynb: {where}:" in line and words in line]
                    self.assertTrue(lines, f"no line naming {name}.ipynb, {where} and "
                                           f"{words!r} in:\n{self.stdout}")

    def test_failing_assert_stops_nothing_else(self) -> None:
        # The panic in cell 3 is reported once, and cell 4 (which is fine) is not blamed.
        problems = self.result("failing_assert")["problems"]
        self.assertEqual(len(problems), 1, problems)

    def test_a_notebook_past_its_budget_stops_there(self) -> None:
        problems = self.result("slow_notebook")["problems"]
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("ran past the notebook's 20 s", problems[0])

    def test_no_kernel_outlives_a_timeout(self) -> None:
        pid = self.result("hang")["kernel_pid"]
        self.assertIsNotNone(pid, "the harness did not record the kernel's pid")
        self.assertFalse(alive(pid), f"kernel process {pid} is still running")
        # Its whole process group (evcxr's runtime child included) is gone too.
        if Path("/proc").exists():
            left = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
                    and alive(int(p.name)) and self._pgid(int(p.name)) == pid]
            self.assertEqual(left, [], f"processes of the kernel's group survive: {left}")

    def test_missing_kernel_is_a_failure_naming_the_fix(self) -> None:
        sys.path.insert(0, str(HERE))
        import nbrun
        r = nbrun.run_notebook(FIXTURES / "clean.ipynb", None, kernel_name="no-such-kernel")
        self.assertFalse(r.passed)
        text = " ".join(str(p) for p in r.problems)
        self.assertIn("no `no-such-kernel` Jupyter kernel", text)
        self.assertIn("cargo xtask setup", text)

    def test_a_kernel_that_is_not_the_course_build_is_a_failure(self) -> None:
        sys.path.insert(0, str(HERE))
        import nbrun
        r = nbrun.run_notebook(FIXTURES / "clean.ipynb", None, expect_kernel="0.0.0+not-this")
        self.assertFalse(r.passed)
        text = " ".join(str(p) for p in r.problems)
        self.assertIn("not the course's build 0.0.0+not-this", text)
        self.assertIn("cargo xtask setup", text)

    def test_a_failed_assert_is_an_error_with_its_message(self) -> None:
        # The course's kernel reports a panic in the cell's own thread as an error
        # output (ename "panic"), so JupyterLab shows it red and Run All stops.
        sys.path.insert(0, str(HERE))
        import nbformat
        import nbrun
        with tempfile.TemporaryDirectory() as tmp:
            nbrun.run_notebook(FIXTURES / "failing_assert.ipynb", Path(tmp))
            nb = nbformat.read(Path(tmp) / "failing_assert.ipynb", as_version=4)
        errors = [o for o in nb.cells[2].outputs if o.output_type == "error"]
        self.assertEqual([e.ename for e in errors], ["panic"], nb.cells[2].outputs)
        self.assertEqual(errors[0].evalue, "arithmetic is broken: 3")

    @staticmethod
    def _pgid(pid: int) -> int | None:
        try:
            return os.getpgid(pid)
        except (ProcessLookupError, PermissionError):
            return None


class ExerciseTest(unittest.TestCase):
    """Exercises must fail exactly at their check cell; solutions must pass."""

    stdout: str
    report: list[dict]

    @classmethod
    def setUpClass(cls) -> None:
        notebooks = sorted(str(p) for p in (FIXTURES / "exercises").glob("*.ipynb"))
        notebooks += sorted(str(p) for p in (FIXTURES / "solutions").glob("*.ipynb"))
        cls.stdout, _, cls.report = run_harness(notebooks)

    def find(self, side: str, name: str) -> list[dict]:
        return [r for r in self.report
                if Path(r["path"]).parent.name == side and Path(r["path"]).stem == name]

    def test_untouched_exercise_fails_at_its_check_with_its_message(self) -> None:
        [r] = self.find("exercises", "fails_at_check")
        self.assertTrue(r["passed"], r["problems"])
        self.assertIn("fails at its check (cell 3) as intended", r["note"])
        self.assertIn("answer is 0, expected 42: still TODO", r["note"])
        self.assertIn("fails at its check (cell 3) as intended", self.stdout)

    def test_an_exercise_that_passes_its_check_is_a_failure(self) -> None:
        [r] = self.find("exercises", "already_solved")
        self.assertFalse(r["passed"])
        self.assertIn("cell 3: the untouched exercise passes its own check", " ".join(r["problems"]))

    def test_an_exercise_failing_before_its_check_is_a_failure(self) -> None:
        [r] = self.find("exercises", "fails_early")
        self.assertFalse(r["passed"])
        self.assertIn("cell 2: panic", " ".join(r["problems"]))

    def test_a_check_that_does_not_compile_is_a_failure(self) -> None:
        [r] = self.find("exercises", "check_does_not_compile")
        self.assertFalse(r["passed"])
        self.assertIn("cell 3: the exercise-check cell must fail an assert!, not error",
                      " ".join(r["problems"]))

    def test_solutions_pass_their_checks(self) -> None:
        for name in ("fails_at_check", "already_solved", "fails_early", "check_does_not_compile"):
            with self.subTest(solution=name):
                [r] = self.find("solutions", name)
                self.assertTrue(r["passed"], r["problems"])

    def test_every_exercise_has_a_solution(self) -> None:
        self.assertIn("no_solution.ipynb: notebook: no solutions/no_solution.ipynb to mirror it",
                      self.stdout)
        self.assertTrue(any(not r["passed"] and "no solutions/no_solution.ipynb" in p
                            for r in self.report for p in r["problems"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
