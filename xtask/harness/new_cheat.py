"""Write a cheat fixture for an exercise (see test_cheats.py for what a cheat is).

    python xtask/harness/new_cheat.py 01a hard-coded --cell 6 --source cheat.rs \\
        --cheat "types the nominal latencies instead of reading the spans" \\
        --caught-by "waiting is"

Copies notebooks/exercises/<01a...>.ipynb to xtask/harness/fixtures/cheats/
<exercise>--<slug>.ipynb, replaces cell N (1-based, as the harness counts) with the
file's text, tags it `cheat`, and records what the cheat does and which words of
the check's message must catch it. Repeat --cell/--source pairs for more cells.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exercise", help="the exercise's number, e.g. 01a")
    ap.add_argument("slug", help="a short name for the cheat, e.g. hard-coded")
    ap.add_argument("--cell", type=int, action="append", required=True)
    ap.add_argument("--source", type=Path, action="append", required=True)
    ap.add_argument("--cheat", required=True, help="what the shortcut does")
    ap.add_argument("--caught-by", required=True, help="words of the check's failure message")
    args = ap.parse_args(argv)
    if len(args.cell) != len(args.source):
        ap.error("give one --source per --cell")
    [exercise] = sorted((ROOT / "notebooks" / "exercises").glob(f"{args.exercise}-*.ipynb"))
    nb = json.loads(exercise.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            text = "".join(cell["source"])
            text = text.replace('path = "../../helpers"', 'path = "../../../../helpers"')
            cell["source"] = text.splitlines(keepends=True)
    for n, src in zip(args.cell, args.source):
        cell = nb["cells"][n - 1]
        if cell["cell_type"] != "code":
            ap.error(f"cell {n} of {exercise.name} is not a code cell")
        cell["source"] = src.read_text(encoding="utf-8").rstrip("\n").splitlines(keepends=True)
        cell.setdefault("metadata", {}).setdefault("tags", []).append("cheat")
    nb["metadata"].setdefault("course", {}).update(
        {"cheat": args.cheat, "caught_by": args.caught_by})
    out = HERE / "fixtures" / "cheats" / f"{exercise.stem}--{args.slug}.ipynb"
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
