"""Write the notebook `cargo xtask warm` runs: one code cell per source given.

    python xtask/harness/warm.py NOTEBOOK SOURCE...

nbformat writes it, as Jupyter writes every notebook, so its JSON (quotes in a
`:dep` line, say) and its layout are nbformat's own, and nbrun.py accepts it like
any source notebook. `cargo xtask warm` puts it in notebooks/, so that a
`path = "../helpers"` resolves as it does for the course's notebooks, runs it
with nbrun.py and removes it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# A cold build of tokio and its friends on a busy 2-core machine takes minutes.
CELL_TIMEOUT = 900


def warm_up_notebook(sources: list[str]):
    """A clean source notebook for the `rust` kernel with one code cell per source."""
    from nbformat.v4 import new_code_cell, new_notebook

    return new_notebook(
        cells=[new_code_cell(source) for source in sources],
        metadata={
            "kernelspec": {"name": "rust", "display_name": "Rust", "language": "rust"},
            "course": {"cell_timeout": CELL_TIMEOUT},
        },
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", type=Path, help="where to write it")
    ap.add_argument("sources", nargs="+", help="each cell's source")
    args = ap.parse_args(argv)
    import nbformat

    nb = warm_up_notebook(args.sources)
    nbformat.validate(nb)
    nbformat.write(nb, args.notebook)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
