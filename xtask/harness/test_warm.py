"""The warm-up notebook `cargo xtask warm` writes is one nbrun.py runs as it is.

Checks, without a kernel, that warm.py writes valid nbformat 4 with one code cell
per source, quotes and all, the `rust` kernel and the long cell timeout, and
nothing nbrun.py would reject in a source notebook.

    python xtask/harness/test_warm.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import nbrun  # noqa: E402
import warm  # noqa: E402

SOURCES = [
    ":cache 2000",
    ':dep helpers = { path = "../helpers" }',
    ':dep tokio = { version = "=1.54.1", features = ["full"] }',
]


class WarmUpNotebook(unittest.TestCase):
    def test_the_written_notebook_is_a_clean_source_notebook(self) -> None:
        import nbformat

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ".warm-up.ipynb"
            proc = subprocess.run([sys.executable, str(HERE / "warm.py"), str(path),
                                   *SOURCES], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        self.assertEqual([c.source for c in nb.cells], SOURCES)
        self.assertEqual({c.cell_type for c in nb.cells}, {"code"})
        self.assertEqual(nb.metadata.kernelspec.name, nbrun.KERNEL_NAME)
        self.assertEqual(nb.metadata.course.cell_timeout, warm.CELL_TIMEOUT)
        self.assertEqual(nbrun.source_problems(nb), [])

    def test_without_sources_it_says_how_to_call_it(self) -> None:
        proc = subprocess.run([sys.executable, str(HERE / "warm.py")],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("the following arguments are required: notebook, sources",
                      proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
