"""The handouts check proves print layout: cropped pictures and clipped code fail it.

Exports the fixtures in fixtures/handouts/ the way handouts.py does, with and
without its print styles, and runs check_handouts.py on them in headless Chromium
(Debian's chromium and chromedriver, Selenium: what `cargo xtask handouts`
installs). The wide fixture (a 1,600-px picture, a 200-character code line and a
200-character output line) must fail without the print styles and pass with them
(nbconvert already wraps output, without a mark: the picture and the code fail); a
picture whose text would print too small must fail either way; printed to PDF,
the wide fixture's code line must be all there, with a continuation mark.

    python xtask/harness/test_check_handouts.py
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "handouts"
sys.path.insert(0, str(HERE))

import check_handouts  # noqa: E402
import handouts  # noqa: E402


def export(fixture: str, out: Path, print_styles: bool) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(FIXTURES / f"{fixture}.ipynb", as_version=4)
    out.mkdir(parents=True, exist_ok=True)
    page = out / f"{fixture}.html"
    page.write_text(handouts.page_html(HTMLExporter(), nb, print_styles), encoding="utf-8")
    return page


def run_check(out: Path) -> tuple[str, int]:
    proc = subprocess.run([sys.executable, str(HERE / "check_handouts.py"), str(out)],
                          capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr, proc.returncode


def chromium() -> str | None:
    return check_handouts.which("chromium", "chromium-browser", "google-chrome")


def fixture_code_line() -> str:
    import nbformat

    nb = nbformat.read(FIXTURES / "wide.ipynb", as_version=4)
    return nb.cells[1].source.splitlines()[0]


class PrintLayoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        missing = [name for name, found in [
            ("chromium", chromium()), ("chromedriver", check_handouts.which("chromedriver"))]
            if not found]
        try:
            import selenium  # noqa: F401
        except ImportError:
            missing.append("selenium (xtask/requirements-handouts.txt)")
        if missing:
            raise RuntimeError(f"the print layout check needs {', '.join(missing)}: "
                               "`cargo xtask handouts` installs them")

    def test_fixture_is_what_it_says(self) -> None:
        self.assertEqual(len(fixture_code_line()), 200)
        text = (FIXTURES / "wide.ipynb").read_text(encoding="utf-8")
        self.assertIn('width=\\"1600\\"', text)

    def test_wide_content_fails_without_print_styles(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            export("wide", Path(tmp), print_styles=False)
            said, code = run_check(Path(tmp))
        self.assertEqual(code, 1, said)
        self.assertIn("FAIL wide.html", said)
        self.assertRegex(said, r"a picture 1600 px wide reaches \d+ px across a page whose "
                               r"content is 740 px wide: it is cut at the margin in cell 2")
        self.assertRegex(said, r"a code block is \d+ px wide in a \d+ px box")
        self.assertIn("wide-print.png", said)
        self.assertIn("handouts: 0 passed, 1 failed", said)

    def test_wide_content_passes_with_print_styles(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            export("wide", Path(tmp), print_styles=True)
            said, code = run_check(Path(tmp))
        self.assertEqual(code, 0, said)
        self.assertIn("ok   wide.html", said)
        self.assertIn("handouts: 1 passed, 0 failed", said)

    def test_text_too_small_once_shrunk_fails_even_with_print_styles(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            export("tiny_text", Path(tmp), print_styles=True)
            said, code = run_check(Path(tmp))
        self.assertEqual(code, 1, said)
        self.assertRegex(said, r"prints its 12 px text at [0-5]\.\d px, under the 8 px "
                               r"minimum: draw it narrower")

    def test_continuation_marks_that_would_not_match_fail(self) -> None:
        # One taller glyph in a wrapped line makes one printed line taller than the
        # others: the column of marks beside it would no longer match its lines.
        line = "let a = 1; " * 30
        page = ('<html><head><meta charset="utf-8"></head><body><pre>'
                f'{line}<span style="font-size:30px">TALL</span>{line}\n</pre></body></html>')
        # A line that wraps with fewer marks than continuations.
        unmarked = re.sub(r' data-marks="[^"]*"', "", handouts.printable(
            f'<html><head></head><body><pre>{line}\n</pre></body></html>'))
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "drift.html").write_text(handouts.printable(page), encoding="utf-8")
            (Path(tmp) / "unmarked.html").write_text(unmarked, encoding="utf-8")
            said, code = run_check(Path(tmp))
        self.assertEqual(code, 1, said)
        self.assertIn("drift.html: on paper: a wrapped line is", said)
        self.assertIn("its continuation marks would not line up", said)
        self.assertRegex(said, r"unmarked.html: on paper: a line printed with [3-9] "
                               r"continuations has only 0 continuation marks")

    def test_printed_code_line_is_all_there_with_a_continuation_mark(self) -> None:
        if not shutil.which("pdftotext"):
            self.skipTest("pdftotext (poppler-utils) is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            page = export("wide", Path(tmp), print_styles=True)
            pdf = Path(tmp) / "wide.pdf"
            subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                            page.as_uri()], capture_output=True, timeout=120, check=True)
            self.assertEqual(check_handouts.check_pdf(pdf), [])
            text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"],
                                  capture_output=True, text=True, check=True).stdout
        self.assertIn("\u21aa", text, "no continuation mark in the printed page")
        squeeze = lambda s: re.sub(r"[\s\u21aa]+", "", s)  # noqa: E731
        self.assertIn(squeeze(fixture_code_line()), squeeze(text))
        self.assertIn("0123456789" * 20, squeeze(text))
        self.assertIn("1600 px: the right end", text)


class PrintableTest(unittest.TestCase):
    """No browser: the line spans keep the text and the tags balanced."""

    def test_lines_keep_the_text_and_close_their_tags(self) -> None:
        inner = ('<span></span><span class="k">fn</span> main() {<span class="w">\n    </span>'
                 'let s = <span class="s">&quot;two\nlines &lt;b&gt;&quot;</span>;\n}\n')
        out = handouts.printable_pre(inner)
        strip = lambda s: html.unescape(re.sub(r"<[^>]*>", "", s))  # noqa: E731
        self.assertEqual(strip(out), strip(inner))
        self.assertEqual(out.count('<span class="pl"'), 4)
        self.assertIn('<span class="pl" style="--ind:4ch">', out)
        opened = len(re.findall(r"<span\b", out))
        self.assertEqual(opened, out.count("</span>"))
        # The string's second line reopens its highlighting.
        self.assertIn('<span class="pl"><span class="s">lines &lt;b&gt;&quot;</span>', out)

    def test_page_gets_the_style_once_and_pre_outside_body_is_left(self) -> None:
        page = "<html><head><title>t</title></head><body><pre>a\nb</pre></body></html>"
        out = handouts.printable(page)
        self.assertEqual(out.count('id="handout-print"'), 1)
        self.assertLess(out.index("handout-print"), out.index("</head>"))
        self.assertIn('<pre><span class="pl">a\n</span><span class="pl">b</span></pre>', out)

    def test_only_lines_that_can_wrap_carry_marks_enough_for_a_narrow_page(self) -> None:
        self.assertEqual(handouts.marks_for("x" * handouts.NARROWEST_COLS, 0), 0)
        # 200 columns, 4 indented: continuations hold 60 - 6 = 54 columns at the least;
        # if every break wasted half of one, 200 columns need 8 of them; one spare.
        self.assertEqual(handouts.marks_for("    " + "x" * 196, 4), 9)
        out = handouts.printable_pre("short\n    " + "word " * 20 + "\n")
        self.assertEqual(out.count("data-marks"), 1)
        self.assertIn('data-marks="&#8618;&#10;&#8618;', out)

    def test_newline_right_after_pre_stays_there(self) -> None:
        # HTML drops it there; inside a line span it would add a line on screen.
        out = handouts.printable("<body><pre>\n</pre><pre>\nab\n</pre></body>")
        self.assertIn('<pre>\n<span class="pl"></span></pre>', out)
        self.assertIn('<pre>\n<span class="pl">ab\n</span></pre>', out)

    def test_pdf_on_another_page_size_is_named(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            a4 = Path(tmp) / "course.pdf"
            a4.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page /MediaBox [0 0 595 842] >>\n")
            problems = check_handouts.check_pdf(a4)
        self.assertEqual(len(problems), 1)
        self.assertIn("course.pdf has pages of 595 x 842 pt", problems[0])
        self.assertIn("612 x 792 pt", problems[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
