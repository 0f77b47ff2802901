"""Handouts are made only from the course as it is: notebooks that are still in
notebooks/ and passed in the run that executed them.

    python xtask/harness/test_handouts.py
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def notebook(title: str):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    nb.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    return nb


class HandoutsTest(unittest.TestCase):
    def test_only_notebooks_in_the_course_that_passed(self) -> None:
        import nbformat
        import handouts

        with tempfile.TemporaryDirectory() as tmp:
            root, executed, out = Path(tmp), Path(tmp) / "executed", Path(tmp) / "out"
            for name in ("01-kept", "02-failed", "03-never-run"):
                path = root / "notebooks" / f"{name}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook(name), path)
            for name in ("01-kept", "02-failed", "99-removed"):
                executed.mkdir(exist_ok=True)
                nbformat.write(notebook(name), executed / f"{name}.ipynb")
            # 03 has an executed copy but no record of a run that passed.
            nbformat.write(notebook("03-never-run"), executed / "03-never-run.ipynb")
            (executed / "status.json").write_text(json.dumps(
                {"01-kept.ipynb": "passed", "02-failed.ipynb": "failed",
                 "99-removed.ipynb": "passed"}))

            said = io.StringIO()
            with contextlib.redirect_stdout(said):
                code = handouts.main(root, executed, out)
            self.assertEqual(code, 0)
            index = (out / "index.html").read_text()
            course = (out / "course.html").read_text()
            self.assertIn("01-kept", index)
            for gone in ("02-failed", "03-never-run", "99-removed"):
                self.assertNotIn(gone, index)
                self.assertNotIn(gone, course)
                self.assertFalse((out / f"{gone}.html").exists())
            text = said.getvalue()
            self.assertIn("left out of the handouts: 02-failed.ipynb (failed", text)
            self.assertIn("99-removed.ipynb (no longer in notebooks/)", text)
            self.assertIn("03-never-run.ipynb (no record that it passed", text)

    def test_nbrun_records_what_passed_beside_the_copies(self) -> None:
        import nbrun

        with tempfile.TemporaryDirectory() as tmp:
            save = Path(tmp)
            ok = nbrun.Result(Path("notebooks/01-a.ipynb"))
            bad = nbrun.Result(Path("notebooks/solutions/02a-b.ipynb"),
                               problems=[nbrun.Problem(3, "panic")])
            nbrun.record_status(save, [ok, bad])
            # A later run of one notebook keeps the others' records.
            nbrun.record_status(save, [nbrun.Result(Path("notebooks/03-c.ipynb"))])
            status = json.loads((save / "status.json").read_text())
            self.assertEqual(status, {"01-a.ipynb": "passed", "03-c.ipynb": "passed",
                                      "solutions/02a-b.ipynb": "failed"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
