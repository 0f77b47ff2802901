"""Open every handout page in headless Chromium, as a reader would, and check it.

    python xtask/harness/check_handouts.py handouts/

For each HTML page: it loads with no console errors, every timeline picture
(inline SVG) is present and laid out with a non-zero size, and a screenshot is
saved to handouts/screenshots/. Then the page is laid out as it prints (print
media, at the PDF page's content width, handouts.CONTENT_WIDTH_PX): every picture
must fit inside that width with its text still legible (handouts.MIN_TEXT_PX), no
code or output block may be wider than its box, and nothing may hide behind a
scroll area; a page that fails gets a screenshot of the first problem in print
layout (screenshots/NAME-print.png). The PDFs beside the pages must be on the page
size the check assumes. Uses Debian's chromium and chromedriver through Selenium
(no browser download: both paths are given explicitly).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handouts import CONTENT_WIDTH_PX, MARGIN_CM, MIN_TEXT_PX, PAGE_PT  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1100,1400", "--hide-scrollbars"]


def which(*names: str) -> str | None:
    for name in names:
        for d in os.environ.get("PATH", "").split(os.pathsep):
            p = Path(d) / name
            if p.exists():
                return str(p)
    return None


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = which("chromium", "chromium-browser", "google-chrome") or ""
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=which("chromedriver") or "chromedriver")
    return webdriver.Chrome(options=opts, service=service)


# nbconvert shows an image/svg+xml output (a timeline) as an <img> with a data URI
# inside a container marked with the MIME type; inline <svg> is counted too.
SVG_SIZES = """
return Array.from(document.querySelectorAll('[data-mime-type="image/svg+xml"]'))
  .map(box => box.querySelector('img, svg'))
  .map(el => {
    if (!el) return [0, 0];
    const r = el.getBoundingClientRect();
    const decoded = el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0);
    return decoded ? [r.width, r.height] : [0, 0];
  });
"""


# The page laid out for print: what in it would be cut off, hidden or too small on
# paper. Returns [problem, ...]; each names the cell (and, in a page of several
# notebooks, the notebook) so that the author can find it.
PRINT_PROBLEMS = r"""
const W = arguments[0], MIN_TEXT = arguments[1], SLACK = 1;
const problems = [];
const cells = Array.from(document.querySelectorAll('.jp-Cell'));
const headings = Array.from(document.querySelectorAll('h1'));
function where(el) {
  const cell = el.closest('.jp-Cell');
  if (!cell) return 'the page';
  let title = '';
  for (const h of headings) {
    if (h.compareDocumentPosition(cell) & Node.DOCUMENT_POSITION_FOLLOWING) {
      title = h.textContent.replace(/\u00b6/g, '').trim();
    }
  }
  const code = cell.querySelector('.jp-InputArea-editor');
  const first = code ? code.textContent.trim().split('\n')[0].slice(0, 50) : '';
  return 'cell ' + (cells.indexOf(cell) + 1) + (title ? ' of "' + title.slice(0, 60) + '"' : '')
    + (first ? ' (' + first + ')' : '');
}
function px(x) { return Math.round(x) + ' px'; }
function report(el, text) { problems.push({text: text + ' in ' + where(el), el: el}); }
function svgFontSizes(markup) {
  // In the picture's own units (px); em and % of SVG's default 16 px.
  const per = {'': 1, px: 1, pt: 4 / 3, em: 16, rem: 16, '%': 0.16};
  const sizes = [];
  const re = /font-size\s*[=:]\s*["']?\s*([0-9.]+)\s*(px|pt|em|rem|%)?/g;
  let m;
  while ((m = re.exec(markup)) !== null) sizes.push(parseFloat(m[1]) * per[m[2] || '']);
  if (!sizes.length && /<text\b/.test(markup)) sizes.push(16);  // SVG's default
  return sizes;
}
function smallestText(el, r) {
  // [font size as drawn, as printed] of the smallest text in a picture, or null.
  if (el.tagName === 'IMG') {
    const src = el.getAttribute('src') || '';
    const m = /^data:image\/svg\+xml(;base64)?,(.*)$/s.exec(src);
    if (!m || !el.naturalWidth) return null;
    let markup;
    try { markup = m[1] ? atob(m[2]) : decodeURIComponent(m[2]); } catch (e) { return null; }
    const sizes = svgFontSizes(markup);
    if (!sizes.length) return null;
    const least = Math.min(...sizes);
    const vb = /<svg\b[^>]*\sviewBox\s*=\s*["']\s*[-0-9.e]+[\s,]+[-0-9.e]+[\s,]+([0-9.e]+)/i
      .exec(markup);
    const units = vb ? parseFloat(vb[1]) : el.naturalWidth;
    return [least, least * r.width / units];
  }
  if (el.tagName.toLowerCase() === 'svg') {
    let best = null;
    for (const t of el.querySelectorAll('text')) {
      const ctm = t.getScreenCTM();
      if (!ctm) continue;
      const drawn = parseFloat(getComputedStyle(t).fontSize);
      const printed = drawn * Math.hypot(ctm.a, ctm.b);
      if (best === null || printed < best[1]) best = [drawn, printed];
    }
    return best;
  }
  return null;
}
const pictures = Array.from(
  document.querySelectorAll('img, svg, canvas, video, object, embed, iframe'))
  .filter(el => !el.ownerSVGElement);
for (const el of pictures) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.left < -SLACK || r.right > W + SLACK) {
    report(el, 'a picture ' + px(r.width) + ' wide reaches ' + px(r.right)
      + ' across a page whose content is ' + px(W) + ' wide: it is cut at the margin');
    continue;
  }
  if (el.tagName.toLowerCase() === 'svg' && el.getAttribute('width')) {
    const vb = el.viewBox && el.viewBox.baseVal;
    const drawn = el.width.baseVal.value;
    if ((!vb || !vb.width) && r.width < drawn - SLACK) {
      report(el, 'a picture drawn ' + px(drawn) + ' wide has no viewBox, so fitting it into '
        + px(r.width) + ' crops it instead of shrinking it');
      continue;
    }
  }
  const text = smallestText(el, r);
  if (text && text[1] < MIN_TEXT - 0.05) {
    report(el, 'a picture shrunk to ' + px(r.width) + ' prints its ' + (+text[0].toFixed(1))
      + ' px text at ' + text[1].toFixed(1) + ' px, under the ' + MIN_TEXT
      + ' px minimum: draw it narrower');
  }
}
const blocks = new Set(document.querySelectorAll(
  'pre, .highlight, .jp-InputArea-editor, .jp-OutputArea-output, .jp-RenderedHTMLCommon table'));
for (const el of document.querySelectorAll('body *')) {
  const ox = getComputedStyle(el).overflowX;
  if (ox !== 'visible') blocks.add(el);
}
for (const el of blocks) {
  if (el.scrollWidth > el.clientWidth + SLACK && el.clientWidth > 0) {
    const what = el.matches('pre, .highlight, .jp-InputArea-editor')
      ? (el.closest('.jp-OutputArea') ? 'an output block' : 'a code block')
      : el.matches('.jp-OutputArea-output') ? 'an output block' : 'a ' + el.tagName.toLowerCase();
    const how = getComputedStyle(el).overflowX === 'visible' ? 'runs past its edge'
      : 'hides the rest behind a scroll area';
    report(el, what + ' is ' + px(el.scrollWidth) + ' wide in a ' + px(el.clientWidth)
      + ' box: it ' + how);
  }
}
// A wrapped line's marks are one column of text, one per line-height: they sit on
// its continuations only if every printed line is one line-height tall.
// And there must be a mark for each continuation (handouts.py gives a line as many
// as it can need on a page at least NARROWEST_COLS wide).
for (const line of document.querySelectorAll('pre .pl')) {
  const h = line.getBoundingClientRect().height;
  const lh = parseFloat(getComputedStyle(line).lineHeight);
  if (!(lh > 0) || h < 1.5 * lh) continue;
  if (Math.abs(h / lh - Math.round(h / lh)) > 0.15) {
    report(line, 'a wrapped line is ' + h.toFixed(1) + ' px tall, not a whole number of '
      + lh.toFixed(1) + ' px lines: its continuation marks would not line up');
    continue;
  }
  const marks = (line.getAttribute('data-marks') || '').split('\u21aa').length - 1;
  const continued = Math.round(h / lh) - 1;
  if (continued > marks) {
    report(line, 'a line printed with ' + continued + ' continuations has only ' + marks
      + ' continuation marks');
  }
}
const page = document.documentElement.scrollWidth;
if (page > W + SLACK) {
  problems.push({text: 'the page is ' + px(page) + ' wide, its paper ' + px(W), el: null});
}
// Innermost first: a line too long makes its pre, its editor and its cell too wide;
// the pre is the one to name. Drop a problem whose element contains another's.
const kept = problems.filter(p => !p.el || !problems.some(
  q => q.el && q.el !== p.el && p.el.contains(q.el)));
window.__printProblems = kept.map(p => p.el);
return kept.map(p => p.text);
"""


def print_layout(driver, width: int):
    """Lays the loaded page out as Chromium prints it: print media, the viewport as
    wide as the PDF page's content."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": int(PAGE_PT[1] * 96 / 72 - 2 * MARGIN_CM * 96 / 2.54),
        "deviceScaleFactor": 1, "mobile": False})


def screen_layout(driver):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def check_print(driver, shots: Path, name: str) -> list[str]:
    """The loaded page, in print layout; a screenshot of the first problem if any."""
    print_layout(driver, CONTENT_WIDTH_PX)
    try:
        inner = driver.execute_script("return document.documentElement.clientWidth")
        if inner != CONTENT_WIDTH_PX:
            return [f"print layout: the page is {inner} px wide, not {CONTENT_WIDTH_PX} px"]
        found = driver.execute_script(PRINT_PROBLEMS, CONTENT_WIDTH_PX, MIN_TEXT_PX)
        problems = [f"on paper: {p}" for p in found[:MAX_SAID]]
        if len(found) > MAX_SAID:
            problems.append(f"on paper: and {len(found) - MAX_SAID} more")
        if found:
            driver.execute_script(
                "const el = window.__printProblems.find(e => e);"
                "if (el) el.scrollIntoView({block: 'start'});")
            shot = shots / f"{name}-print.png"
            driver.save_screenshot(str(shot))
            problems.append(f"print layout of the first problem: {shot}")
        return problems
    finally:
        screen_layout(driver)


MAX_SAID = 8
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]")


def check_pdf(pdf: Path) -> list[str]:
    """The PDF is printed on the page the print layout check assumes."""
    sizes = {(round(float(w)), round(float(h))) for w, h in MEDIA_BOX.findall(pdf.read_bytes())}
    if not sizes:
        return [f"no page size found in {pdf.name}: is it a PDF Chromium printed?"]
    if sizes != {PAGE_PT}:
        said = ", ".join(f"{w} x {h} pt" for w, h in sorted(sizes))
        return [f"{pdf.name} has pages of {said}; the print layout check assumes "
                f"{PAGE_PT[0]} x {PAGE_PT[1]} pt (handouts.PAGE_PT)"]
    return []


def check_page(driver, page: Path, shots: Path, name: str) -> list[str]:
    from selenium.webdriver.support.ui import WebDriverWait

    problems = []
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message', '')[:200]}")
    sizes = driver.execute_script(SVG_SIZES)
    expected = page.read_text(encoding="utf-8").count('data-mime-type="image/svg+xml"')
    if len(sizes) < expected:
        problems.append(f"{expected} timeline pictures in the page, {len(sizes)} laid out")
    empty = [i for i, (w, h) in enumerate(sizes) if w <= 0 or h <= 0]
    if empty:
        problems.append(f"pictures {empty} have zero size")
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1100, min(max(int(height), 800), 16000))
    shot = shots / f"{name}.png"
    driver.save_screenshot(str(shot))
    problems += check_print(driver, shots, name)
    print(f"{'ok  ' if not problems else 'FAIL'} {page.name}: {len(sizes)} pictures, "
          f"screenshot {shot}", flush=True)
    return problems


def main(out: Path) -> int:
    pages = sorted(p for p in out.rglob("*.html") if "screenshots" not in p.parts)
    if not pages:
        print(f"no handout pages under {out}: run `cargo xtask handouts` first", file=sys.stderr)
        return 1
    shots = out / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    failed, bad_pdfs = 0, 0
    for pdf in sorted(out.rglob("*.pdf")):
        problems = check_pdf(pdf)
        for p in problems:
            print(f"FAIL {pdf.relative_to(out)}: {p}", flush=True)
        bad_pdfs += bool(problems)
    driver = browser()
    try:
        for page in pages:
            # exercises/x.html and teacher/x.html share a stem: keep both shots.
            name = "-".join(page.relative_to(out).with_suffix("").parts)
            problems = check_page(driver, page, shots, name)
            for p in problems:
                print(f"     {page.name}: {p}", flush=True)
            failed += bool(problems)
    finally:
        driver.quit()
    print(f"handouts: {len(pages) - failed} passed, {failed} failed"
          + (f"; {bad_pdfs} PDF(s) on another page size" if bad_pdfs else ""), flush=True)
    return 0 if failed == 0 and bad_pdfs == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: python xtask/harness/check_handouts.py HANDOUTS_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
