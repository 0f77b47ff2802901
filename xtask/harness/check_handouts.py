"""Open every handout page in headless Chromium, as a reader would, and check it.

    python xtask/harness/check_handouts.py handouts/

For each HTML page: it loads with no console errors, every timeline picture
(inline SVG) is present and laid out with a non-zero size, and a screenshot is
saved to handouts/screenshots/. Uses Debian's chromium and chromedriver through
Selenium (no browser download: both paths are given explicitly).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
    failed = 0
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
    print(f"handouts: {len(pages) - failed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
