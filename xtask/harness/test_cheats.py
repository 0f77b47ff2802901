"""Exercise checks a learner cannot game: every cheat must fail its exercise's check.

A cheat is a copy of an exercise from notebooks/exercises/ in which the cells tagged
`cheat` are replaced by the cheapest shortcut a learner in a hurry might try
(hard-coding the answer, skipping the work, a thread where the lesson is a task,
half a fix). It lives in xtask/harness/fixtures/cheats/<exercise>--<cheat>.ipynb,
never beside the learner's exercises, with notebook metadata

    "course": {"cheat": "what the shortcut does", "caught_by": "words of the check's message"}

This test checks that each cheat still matches its exercise outside its cheat cells
(so cheats follow the exercises when they change), that every exercise has at least
one cheat, and runs them all: each must fail at its `exercise-check` cell, with a
message that contains its `caught_by` words (caught for the right reason).

    python xtask/harness/test_cheats.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHEATS = HERE / "fixtures" / "cheats"
EXERCISES = ROOT / "notebooks" / "exercises"
# The cheats sit deeper than the exercises: only the path to helpers differs.
HELPERS_DEP = re.compile(r':dep helpers = \{ path = "[./]*helpers" \}')


def source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def normalised(text: str) -> str:
    return HELPERS_DEP.sub(':dep helpers = { path = "helpers" }', text)


def cheats() -> list[Path]:
    return sorted(CHEATS.glob("*--*.ipynb"))


def exercise_of(cheat: Path) -> Path:
    return EXERCISES / (cheat.stem.split("--")[0] + ".ipynb")


class CheatShapeTest(unittest.TestCase):
    def test_every_exercise_has_a_cheat(self) -> None:
        covered = {exercise_of(c).name for c in cheats()}
        missing = sorted(p.name for p in EXERCISES.glob("*.ipynb") if p.name not in covered)
        self.assertEqual(missing, [], "exercises without a cheat among the fixtures")

    def test_a_cheat_changes_only_its_cheat_cells(self) -> None:
        for cheat in cheats():
            with self.subTest(cheat=cheat.name):
                ex = exercise_of(cheat)
                self.assertTrue(ex.exists(), f"{cheat.name}: no exercise {ex.name}")
                mine = json.loads(cheat.read_text(encoding="utf-8"))
                theirs = json.loads(ex.read_text(encoding="utf-8"))
                meta = mine["metadata"].get("course", {})
                self.assertTrue(meta.get("cheat") and meta.get("caught_by"),
                                f"{cheat.name}: metadata course.cheat and course.caught_by")
                self.assertEqual(len(mine["cells"]), len(theirs["cells"]),
                                 f"{cheat.name}: not the same cells as {ex.name}")
                changed = 0
                for i, (a, b) in enumerate(zip(mine["cells"], theirs["cells"]), start=1):
                    tags = a.get("metadata", {}).get("tags", [])
                    if "cheat" in tags:
                        self.assertNotIn("exercise-check", tags, f"cell {i}: the check itself")
                        self.assertNotEqual(source(a), source(b), f"cell {i}: cheats nothing")
                        changed += 1
                    else:
                        self.assertEqual(normalised(source(a)), normalised(source(b)),
                                         f"{cheat.name}, cell {i}: differs from {ex.name} but is"
                                         " not tagged cheat (did the exercise change?)")
                self.assertGreater(changed, 0, f"{cheat.name}: no cell tagged cheat")


class CheatRunTest(unittest.TestCase):
    def test_every_cheat_fails_at_its_check_for_its_reason(self) -> None:
        paths = cheats()
        # One kernel at a time: two at once can both `:dep` a crate at the same moment,
        # and evcxr takes cargo's "Blocking waiting for file lock on package cache"
        # for a failed compile (seen in a CI run).
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            proc = subprocess.run(
                [sys.executable, str(HERE / "nbrun.py"), "--report", str(report),
                 *map(str, paths)], capture_output=True, text=True, timeout=3600)
            results = {Path(r["path"]).name: r for r in json.loads(report.read_text())}
        out = proc.stdout + proc.stderr
        for cheat in paths:
            with self.subTest(cheat=cheat.name):
                r = results[cheat.name]
                meta = json.loads(cheat.read_text(encoding="utf-8"))["metadata"]["course"]
                self.assertTrue(r["passed"], f"{cheat.name} ({meta['cheat']}): "
                                             f"{r['problems']}\n{out[-3000:]}")
                self.assertIn("fails at its check", r["note"])
                self.assertIn(meta["caught_by"], r["note"],
                              f"{cheat.name} ({meta['cheat']}) failed its check, but not with"
                              f" the message that catches it: {r['note']}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
