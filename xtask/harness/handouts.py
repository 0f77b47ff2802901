"""Turn notebooks into handouts a teacher can print.

    python xtask/harness/handouts.py ROOT EXECUTED_DIR OUT_DIR

EXECUTED_DIR holds executed copies (nbrun.py --save-dir) of notebooks/*.ipynb in
its top level and of notebooks/solutions/*.ipynb under solutions/, and status.json,
whether each passed in the run that wrote it. Only copies of notebooks that are
still in the course and passed become handouts; the others are named as left out.
Writes:

- OUT/NN-*.html          each course notebook with its outputs and pictures
- OUT/exercises/*.html   each exercise as the learner gets it (no solution, no output)
- OUT/course.html        the course and its exercises in one page (printed to PDF)
- OUT/index.html         the course map with minutes, linking all of the above
- OUT/teacher/*.html, OUT/teacher/solutions.html   the solutions, executed

`cargo xtask handouts` runs the notebooks first, then this, then prints the two
one-page files to PDF with headless Chromium and checks every page in it.
"""

from __future__ import annotations

import copy
import html
import re
import sys
from pathlib import Path


# nbconvert's template loads require.js and MathJax from a CDN. The handouts use
# neither (no widgets, no maths) and must open with no network: drop them.
EXTERNAL_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>', re.S)


def offline(body: str) -> str:
    return EXTERNAL_SCRIPT.sub("", body)


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def minutes_of(nb) -> int | None:
    return nb.metadata.get("course", {}).get("minutes")


def export(exporter, nbs: list[tuple[Path, object]], out: Path, combined: str) -> list[tuple]:
    """Writes one page per notebook and one page with all of them; returns the index rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows, whole = [], None
    for path, nb in nbs:
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{path.stem}.html"
        page.write_text(offline(body), encoding="utf-8")
        rows.append((page, title_of(nb, path.stem), minutes_of(nb)))
        if whole is None:
            whole = copy.deepcopy(nb)
        else:
            whole.cells.extend(copy.deepcopy(nb.cells))
        print(f"wrote {page}")
    if whole is not None:
        body, _ = exporter.from_notebook_node(whole)
        (out / combined).write_text(offline(body), encoding="utf-8")
    return rows


def link_list(rows: list[tuple], base: Path) -> str:
    items = []
    for page, title, minutes in rows:
        href = html.escape(page.relative_to(base).as_posix())
        extra = f" &middot; {int(minutes)} min" if minutes else ""
        items.append(f'<li><a href="{href}">{html.escape(title)}</a>{extra}</li>')
    return "<ol>" + "\n".join(items) + "</ol>"


def usable(root: Path, executed: Path, folder: str) -> tuple[list[Path], list[str]]:
    """The executed copies in executed/folder that may become handouts, and why
    each other one may not."""
    import json

    try:
        status = json.loads((executed / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = {}
    keep, left_out = [], []
    for p in sorted((executed / folder).glob("*.ipynb")):
        if p.name.startswith("."):
            continue
        name = f"{folder}/{p.name}" if folder else p.name
        if not (root / "notebooks" / name).exists():
            left_out.append(f"{name} (no longer in notebooks/)")
        elif status.get(name) != "passed":
            why = "failed" if status.get(name) == "failed" else "no record that it passed"
            left_out.append(f"{name} ({why} in the run that executed it)")
        else:
            keep.append(p)
    return keep, left_out


def main(root: Path, executed: Path, out: Path) -> int:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    read = lambda p: (p, nbformat.read(p, as_version=4))  # noqa: E731
    course_paths, left_out = usable(root, executed, "")
    solution_paths, left_solutions = usable(root, executed, "solutions")
    for why in left_out + left_solutions:
        print(f"left out of the handouts: {why}")
    course = [read(p) for p in course_paths]
    if not course:
        print(f"no executed notebook in {executed} passed: nothing to hand out", file=sys.stderr)
        return 1
    exercises = [read(p) for p in sorted((root / "notebooks" / "exercises").glob("*.ipynb"))]
    solutions = [read(p) for p in solution_paths]

    course_rows = export(exporter, course, out, "course-only.html")
    exercise_rows = export(exporter, exercises, out / "exercises", "all.html")
    solution_rows = export(exporter, solutions, out / "teacher", "solutions.html")
    # One printable page: the notebooks, then the exercises (never the solutions).
    whole = copy.deepcopy(course[0][1])
    for _, nb in course[1:] + exercises:
        whole.cells.extend(copy.deepcopy(nb.cells))
    body, _ = exporter.from_notebook_node(whole)
    (out / "course.html").write_text(offline(body), encoding="utf-8")

    total = sum(m for _, _, m in course_rows if m)
    (out / "index.html").write_text(
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<title>Rust concurrency, hands-on</title>"
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}</style>"
        "<h1>Rust concurrency, hands-on</h1>"
        f"<h2>The notebooks ({total} minutes)</h2>" + link_list(course_rows, out)
        + "<h2>Exercises</h2>" + (link_list(exercise_rows, out) if exercise_rows else "<p>none yet</p>")
        + '<p><a href="course.pdf">The course and its exercises as one PDF</a></p>'
        + ("<h2>For the teacher</h2>" + link_list(solution_rows, out)
           + '<p><a href="teacher/solutions.pdf">All solutions as one PDF</a></p>'
           if solution_rows else "")
        + "</html>", encoding="utf-8")
    print(f"wrote {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
