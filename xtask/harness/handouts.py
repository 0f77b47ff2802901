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

Every page carries print styles (PRINT_CSS): on paper, pictures shrink to the
page's width, code and output wrap with a mark at each continuation, and nothing
sits in a scroll area. check_handouts.py proves it in Chromium's print layout.
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


# The page the PDFs are printed on. `chromium --print-to-pdf` uses US Letter whatever
# the locale (measured with Chromium 148 under LANG=de_DE and en_GB: 612 x 792 pt), with
# 1 cm margins, which PRINT_CSS also states so that a teacher's own Ctrl+P gets them.
# check_handouts.py lays pages out at this content width and checks the PDFs' size.
PAGE_PT = (612, 792)
MARGIN_CM = 1.0
CONTENT_WIDTH_PX = int(PAGE_PT[0] * 96 / 72 - 2 * MARGIN_CM * 96 / 2.54)  # 740 CSS px
# Smallest text a shrunk picture may print with: 8 CSS px is 6 pt. A timeline's 12 px
# labels therefore allow it down to 2/3 of its size (an 840-px timeline prints at
# about 0.8 of it: the page's content is 740 px, less the cell's padding).
MIN_TEXT_PX = 8.0

PRINT_CSS = """
@page { margin: %(margin)gcm; }
@media print {
  /* The prompt column (In [7]:) takes a tenth of the page: paper gets the code. */
  :root { --jp-cell-prompt-width: 0px; }
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  /* Nothing in a scroll area: on paper a scroll bar hides what is past it. */
  .jp-Notebook, .jp-Cell, .jp-Cell-inputWrapper, .jp-Cell-outputWrapper,
  .jp-InputArea, .jp-InputArea-editor, .cm-editor, .highlight, .jp-OutputArea,
  .jp-OutputArea-child, .jp-OutputArea-output, .jp-RenderedHTMLCommon, pre {
    overflow: visible !important;
    min-width: 0 !important;
  }
  .jp-OutputArea-child { display: block !important; }
  .jp-OutputArea-output { display: block !important; width: auto !important; }
  /* Pictures shrink to the page's width, keeping their aspect ratio. */
  img, svg:not(svg svg), canvas, video {
    max-width: 100%% !important;
    height: auto !important;
  }
  /* An SVG without a viewBox does not shrink, it crops (a table's bar would lose
     its end and look shorter than it is): it keeps its size. */
  svg[width]:not([viewBox]):not(svg svg) {
    max-width: none !important;
  }
  table { max-width: 100%%; }
  td, th { overflow-wrap: anywhere; }
  /* Code and output wrap: at a space when there is one, else anywhere. */
  pre {
    white-space: pre-wrap !important;
    overflow-wrap: anywhere !important;
    word-break: normal !important;
    line-height: var(--jp-code-line-height, 1.3);
  }
  /* Each source line is a block (printable_pre puts it in a span.pl); its
     continuations are indented under the code, with a mark to their left. The
     marks (data-marks, one per line of text) are a column starting at the block's
     second line and clipped to the block's height: a mark for every printed line
     the browser actually made, wherever it broke the line. */
  pre .pl {
    display: block;
    position: relative;
    padding-left: calc(var(--ind, 0ch) + 2ch);
    text-indent: calc(-1 * (var(--ind, 0ch) + 2ch));
    break-inside: avoid;
  }
  pre .pl[data-marks]::after {
    content: attr(data-marks);
    white-space: pre;
    position: absolute;
    left: var(--ind, 0ch);
    top: 1lh;
    bottom: 0;
    width: 2ch;
    overflow: hidden;
    text-indent: 0;
    color: #777;
    font-weight: normal;
    font-style: normal;
  }
}
""" % {"margin": MARGIN_CM}

PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.S | re.I)
TAG = re.compile(r"(<[^>]*>)")
TAG_NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)")
VOID = {"br", "img", "wbr", "hr", "input"}
# Continuations are indented as deep as their line, up to this many columns: a deeply
# indented line's continuations keep most of the width.
MAX_INDENT = 24
# The fewest columns a printed line of code is assumed to hold (a Letter page holds
# about 100 at the notebooks' 13 px). A line no longer never wraps and gets no marks;
# a longer one gets enough for lines this narrow even if every break wastes half a
# line. check_handouts.py fails a line that printed more continuations than marks.
NARROWEST_COLS = 60
MARK = "&#8618;"  # the arrow ↪, as an entity: the page's charset cannot garble it


def marks_for(text: str, indent: int) -> int:
    """How many continuation marks a line of code may need in print (one spare)."""
    if len(text) <= NARROWEST_COLS:
        return 0
    continuation = NARROWEST_COLS - indent - 2
    return 1 + -(-2 * len(text) // continuation)


def _line_span(pieces: list[str]) -> str:
    text = html.unescape(TAG.sub("", "".join(pieces))).rstrip("\r\n")
    indent = min(len(text) - len(text.lstrip(" ")), MAX_INDENT)
    attrs = f' style="--ind:{indent}ch"' if indent else ""
    marks = marks_for(text, indent)
    if marks:
        attrs += f' data-marks="{"&#10;".join([MARK] * marks)}"'
    return f'<span class="pl"{attrs}>' + "".join(pieces) + "</span>"


def printable_pre(inner: str) -> str:
    """Puts each line of a <pre>'s (already escaped, maybe highlighted) content in a
    span.pl of its own, closing and reopening the inline tags a line break falls
    inside, so that PRINT_CSS can mark where a printed line continues. The text, its
    newlines included, is unchanged: copying from the page gives the same code."""
    lines, line, stack = [], [], []
    for token in TAG.split(inner):
        if not token:
            continue
        if token.startswith("<"):
            m = TAG_NAME.match(token)
            line.append(token)
            if not m or token.endswith("/>") or m.group(2).lower() in VOID:
                continue
            if m.group(1):
                for i in range(len(stack) - 1, -1, -1):
                    if TAG_NAME.match(stack[i]).group(2).lower() == m.group(2).lower():
                        del stack[i]
                        break
            else:
                stack.append(token)
            continue
        parts = token.split("\n")
        for part in parts[:-1]:
            line.append(part + "\n")
            line.extend(f"</{TAG_NAME.match(t).group(2)}>" for t in reversed(stack))
            lines.append(line)
            line = list(stack)
        line.append(parts[-1])
    if TAG.sub("", "".join(line)):
        lines.append(line)
    elif lines:
        # After the last newline only tags (reopened and closed again): they are
        # balanced and empty, so they can end the last line.
        lines[-1].extend(line)
    else:
        lines.append(line)
    return "".join(_line_span(pieces) for pieces in lines)


def pre_lines(m: re.Match) -> str:
    # HTML drops one newline right after <pre>: it must stay there, not go in a line.
    start, inner, end = m.groups()
    first = re.match(r"\r?\n", inner)
    lead = first.group(0) if first else ""
    return start + lead + printable_pre(inner[len(lead):]) + end


def printable(page: str) -> str:
    """The page with the print styles, and its <pre> lines ready for them."""
    head, sep, body = page.partition("<body")
    if not sep:
        head, body = "", page
    body = PRE.sub(pre_lines, body)
    style = f'<style id="handout-print">{PRINT_CSS}</style>\n'
    if "</head>" in head:
        head = head.replace("</head>", style + "</head>", 1)
    else:
        head = style + head
    return head + sep + body


def page_html(exporter, nb, print_styles: bool = True) -> str:
    """One notebook as a page that opens with no network (and prints well)."""
    body, _ = exporter.from_notebook_node(nb)
    body = offline(body)
    return printable(body) if print_styles else body


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
        page = out / f"{path.stem}.html"
        page.write_text(page_html(exporter, nb), encoding="utf-8")
        rows.append((page, title_of(nb, path.stem), minutes_of(nb)))
        if whole is None:
            whole = copy.deepcopy(nb)
        else:
            whole.cells.extend(copy.deepcopy(nb.cells))
        print(f"wrote {page}")
    if whole is not None:
        (out / combined).write_text(page_html(exporter, whole), encoding="utf-8")
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
    (out / "course.html").write_text(page_html(exporter, whole), encoding="utf-8")

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
    if len(sys.argv) != 4 or sys.argv[1] in ("-h", "--help"):
        print("usage: python xtask/harness/handouts.py ROOT EXECUTED_DIR OUT_DIR",
              file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
