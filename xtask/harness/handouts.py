"""Turn executed notebooks into handouts: one HTML page each, an index, one course page.

    python xtask/harness/handouts.py EXECUTED_DIR OUT_DIR

`cargo xtask handouts` runs the notebooks first (nbrun.py --save-dir), then this,
then prints `course.html` to `course.pdf` with headless Chromium.
"""

from __future__ import annotations

import copy
import html
import sys
from pathlib import Path


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def minutes_of(nb) -> str:
    minutes = nb.metadata.get("course", {}).get("minutes")
    return f"{minutes} min" if minutes else ""


def main(executed: Path, out: Path) -> int:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    course = None
    for path in sorted(executed.glob("*.ipynb")):
        if path.name.startswith("."):
            continue
        nb = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append((page.name, title_of(nb, path.stem), minutes_of(nb)))
        if course is None:
            course = copy.deepcopy(nb)
        else:
            course.cells.extend(copy.deepcopy(nb.cells))
        print(f"wrote {page}")
    if course is None:
        print(f"no executed notebooks in {executed}", file=sys.stderr)
        return 1
    body, _ = exporter.from_notebook_node(course)
    (out / "course.html").write_text(body, encoding="utf-8")
    rows = "\n".join(
        f'<li><a href="{html.escape(name)}">{html.escape(title)}</a>'
        f"{' &middot; ' + html.escape(minutes) if minutes else ''}</li>"
        for name, title, minutes in pages)
    (out / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Rust concurrency course</title>"
        "<h1>Rust concurrency, hands-on</h1><ol>" + rows + "</ol>"
        '<p><a href="course.pdf">The whole course as one PDF</a></p>', encoding="utf-8")
    print(f"wrote {out / 'index.html'} and {out / 'course.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
