"""The release page in a real browser: headless Chromium, driven by selenium.

The demo's and the real release's pages (the real one from its manifests
alone) are rendered at a desktop (1024 px) and a phone (390 px) width; every
assertion reads the *rendered* page: nothing wider than the viewport, every
command/file box visible and its text inside it (wrapped, or scrolling inside
the box), every link resolving, tables with borders and right-aligned sizes,
no network access. A full-page screenshot of each is kept in
``test-output/release-page/``.

Run as a script to check pages built elsewhere (e.g. an older version):
``PYTHONPATH=. python3 tests/integration/test_release_page.py PAGE.html...`` prints the problems.
"""
from __future__ import annotations

import base64
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pmrepo import manifest
from pmrepo.notes.render import html_pages, markdown_to_html, render_notes

ROOT = Path(__file__).resolve().parents[2]

ARTIFACTS = ROOT / "test-output" / "release-page"
REAL = ROOT / "releases" / "1.1.14-1.1.toml"
# PMREPO_BROWSER: a Chromium-based browser that is not a snap (GitHub's runners: google-chrome with
# the matching chromedriver; Ubuntu's own chromium is a snap that cannot read pages outside $HOME)
BROWSER_ENV = "PMREPO_BROWSER"
CHROMIUM = os.environ.get(BROWSER_ENV) or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTHS = (1024, 390)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")

# What the page looks like to a reader, measured in the browser.
PROBE = r"""
const iw = window.innerWidth;
const scope = document.querySelector('.pmrepo-notes') || document;  // a site's own page around a fragment is not ours
const out = {innerWidth: iw, scrollWidth: document.documentElement.scrollWidth,
             resources: performance.getEntriesByType('resource').map(e => e.name),
             boxes: [], links: [], tables: [], wide: []};
const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const ox = getComputedStyle(p).overflowX; if (ox === 'auto' || ox === 'scroll') return true; } return false; };
for (const pre of scope.querySelectorAll('pre')) {
  const r = pre.getBoundingClientRect(), cs = getComputedStyle(pre);
  out.boxes.push({text: pre.textContent.trim().slice(0, 70), width: r.width, height: r.height, left: r.left,
                  right: r.right, scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth,
                  overflowX: cs.overflowX, visibility: cs.visibility, display: cs.display,
                  background: cs.backgroundColor});
}
for (const a of scope.querySelectorAll('a[href]')) {
  const href = a.getAttribute('href');
  out.links.push({href: href, url: a.href, text: a.textContent.trim().slice(0, 50),
                  anchor: href.startsWith('#') ? !!document.getElementById(decodeURIComponent(href.slice(1))) : null});
}
for (const t of scope.querySelectorAll('table')) {
  const heads = [...t.querySelectorAll('thead th')].map(th => th.textContent.trim());
  const rows = [...t.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(td => {
      const cs = getComputedStyle(td);
      return {text: td.textContent.trim(), align: cs.textAlign,
              border: cs.borderTopWidth + ' ' + cs.borderTopStyle}; }));
  out.tables.push({heads: heads, rows: rows});
}
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.right > iw + 0.5 && !scrolls(el)) out.wide.push(el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60));
}
return out;
"""


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Python module selenium is missing — run `make setup` (requirements.txt)"
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{path} is missing — run `make setup` (Debian package {pkg})"
    return None


class Browser:
    """One headless Chromium (fresh profile, no network services) for the module."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="pmrepo-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}", "--window-size=1024,900"):
            opts.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def render(self, page: Path, width: int, screenshot: Path | None = None) -> dict[str, Any]:
        d = self.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        d.get(page.resolve().as_uri())
        d.execute_script("return document.fonts.ready.then(() => true)")
        facts = d.execute_script(PROBE)
        if screenshot is not None:
            shot = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        return facts


def problems(facts: dict[str, Any], page: Path, width: int) -> list[str]:
    """What a reader of ``page`` at ``width`` px would find wrong (empty: fine)."""
    out: list[str] = []
    if facts["innerWidth"] != width:
        out.append(f"viewport is {facts['innerWidth']} px, not {width}")
    if facts["scrollWidth"] > facts["innerWidth"]:
        out.append(f"page is {facts['scrollWidth']} px wide in a {facts['innerWidth']} px viewport "
                   f"(first too wide: {facts['wide'][:3]})")
    if facts["resources"]:
        out.append(f"loads from elsewhere: {facts['resources'][:3]}")
    if not facts["boxes"]:
        out.append("no command/file boxes at all")
    for box in facts["boxes"]:
        out += _box_problems(box, facts["innerWidth"])
    for link in facts["links"]:
        out += _link_problems(link)
    for table in facts["tables"]:
        out += _table_problems(table)
    return out


def _box_problems(box: dict[str, Any], inner_width: float) -> list[str]:
    out = []
    where = f"box {box['text']!r}"
    if box["display"] == "none" or box["visibility"] != "visible" or box["width"] <= 0 or box["height"] <= 0:
        out.append(f"{where} is not visible")
    elif box["left"] < 0 or box["right"] > inner_width + 0.5:
        out.append(f"{where} reaches past the viewport ({box['left']:.0f}..{box['right']:.0f} px)")
    if box["scrollWidth"] > box["clientWidth"] + 1 and box["overflowX"] not in ("auto", "scroll"):
        out.append(f"{where}: text is cut off ({box['scrollWidth']} px in {box['clientWidth']} px, no scrolling)")
    if box["background"] in ("rgba(0, 0, 0, 0)", "transparent"):
        out.append(f"{where} is not set apart from the text (no background)")
    return out


def _link_problems(link: dict[str, Any]) -> list[str]:
    href = link["href"]
    if href.startswith("#"):
        if not link["anchor"]:
            return [f"link {link['text']!r} -> {href}: no such anchor"]
    elif link["url"].startswith("file:"):
        from urllib.parse import unquote, urlsplit
        target = Path(unquote(urlsplit(link["url"]).path))
        if not target.exists():
            return [f"link {link['text']!r} -> {href}: {target} does not exist"]
    elif not link["url"].startswith(("https://", "http://")):
        return [f"link {link['text']!r} -> {href}: not a web address"]
    return []


def _table_problems(table: dict[str, Any]) -> list[str]:
    out = []
    for row in table["rows"]:
        for cell in row:
            if not cell["border"].startswith(("1px", "0.")) or cell["border"].endswith("none"):
                out.append(f"table cell {cell['text'][:30]!r} has no border ({cell['border']})")
                break
    sizes = [i for i, h in enumerate(table["heads"]) if "size" in h.lower() or "サイズ" in h]
    for i in sizes:
        for row in table["rows"]:
            if i < len(row) and row[i]["align"] != "right":
                out.append(f"size {row[i]['text']!r} is aligned {row[i]['align']}, not right")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    reason = browser_missing()
    if reason and os.environ.get(BROWSER_ENV):
        pytest.fail(f"{BROWSER_ENV} names a browser, but {reason}")  # asked for: no skip
    if reason:
        pytest.skip(reason)
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(demo_build, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """RELEASE-NOTES.{ja,en}.html of the demo (from its build) and of the real release (manifests only)."""
    base = tmp_path_factory.mktemp("pages")
    out: dict[str, Path] = {}
    demo = demo_build.release
    for p in render_notes(demo, base / "demo", repo_dir=demo_build.outdir):
        out[f"demo-{p.name}"] = p
    for p in render_notes(manifest.load(REAL), base / "real", repo_dir=None):
        out[f"real-{p.name}"] = p
    return out


CASES = [(rel, lang, width) for rel in ("demo", "real") for lang in ("ja", "en") for width in WIDTHS]


@pytest.mark.parametrize("rel,lang,width", CASES, ids=[f"{r}-{lang}-{w}px" for r, lang, w in CASES])
def test_page_reads_well_in_chromium(browser: Browser, pages: dict[str, Path], rel: str, lang: str, width: int) -> None:
    page = pages[f"{rel}-RELEASE-NOTES.{lang}.html"]
    shot = ARTIFACTS / f"{rel}-{lang}-{width}px.png"
    shot.unlink(missing_ok=True)
    facts = browser.render(page, width, screenshot=shot)
    assert problems(facts, page, width) == []
    assert shot.is_file() and shot.stat().st_size > 10_000  # the artifact: a real picture of the page
    # the exclude= line (the longest command) is in a box, whole
    exclude = [b for b in facts["boxes"] if b["text"].startswith("exclude=")]
    assert len(exclude) == 1 and exclude[0]["right"] <= width
    # a table of contents whose every entry leads to its section
    toc = [ln for ln in facts["links"] if ln["href"].startswith("#sec-")]
    assert len(toc) >= 8 and all(ln["anchor"] for ln in toc)
    # the download table: borders, sizes right-aligned (checked in problems()), one row per repo package
    downloads = [t for t in facts["tables"] if len(t["heads"]) == 3]
    assert len(downloads) == 2 and all(len(t["rows"]) == 3 for t in downloads)


@pytest.mark.parametrize("width", WIDTHS)
def test_fragment_pastes_into_a_site(browser: Browser, pages: dict[str, Path], tmp_path: Path, width: int) -> None:
    """The fragment has no <html> wrapper, carries its one stylesheet, and styles only itself."""
    fragment = pages["real-RELEASE-NOTES.en.fragment.html"].read_text()
    assert "<html" not in fragment and "<body" not in fragment and "<head" not in fragment
    assert fragment.count("<style>") == 1 and "<link" not in fragment and "<script" not in fragment
    site = tmp_path / "site.html"
    site.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>site</title></head><body>"
                    "<header><pre id='site-pre'>the site's own preformatted text</pre></header>"
                    f"<main>{fragment}</main></body></html>")
    facts = browser.render(site, width, screenshot=ARTIFACTS / f"fragment-en-{width}px.png")
    assert problems(facts, site, width) == []
    white = browser.driver.execute_script("return getComputedStyle(document.getElementById('site-pre')).whiteSpace")
    assert white == "pre"  # the site's own <pre> is untouched by the fragment's stylesheet


def test_warnings_stand_out(browser: Browser, tmp_path: Path) -> None:
    """A "> [!WARNING]" block (upgrade warnings, known issues) is a coloured box with its title; a
    long unbreakable command inside it still fits a phone."""
    md = ("# demo 1.0-1 release notes\n\n## Upgrade\n\n> [!WARNING]\n> Update the configuration before the "
          "upgrade:\n>\n> ```\n> " + "x" * 300 + "\n> ```\n\n## Next\n\nText.\n")
    page, _ = html_pages(md, "en")
    path = tmp_path / "warning.html"
    path.write_text(page)
    facts = browser.render(path, 390, screenshot=ARTIFACTS / "warning-en-390px.png")
    assert problems(facts, path, 390) == []
    style = browser.driver.execute_script(
        "const b = document.querySelector('blockquote.admonition.warning'); if (!b) return null;"
        "const cs = getComputedStyle(b); return [cs.backgroundColor, cs.borderLeftWidth,"
        " b.querySelector('.admonition-title').textContent, getComputedStyle(document.body).backgroundColor];")
    assert style is not None
    background, border, title, page_bg = style
    assert background != page_bg and float(border.rstrip("px")) >= 4 and title == "Warning"


def test_bare_html_overflows(browser: Browser, tmp_path: Path) -> None:
    """The check can fail: the page as it was (markdown-it's HTML, no stylesheet) runs off a phone."""
    md = markdown_to_html("# t\n\n## Preparation\n\n```\nexclude=" + " ".join(f"component{i}*" for i in range(12))
                          + "\n```\n", "en")
    bare = tmp_path / "bare.html"
    bare.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>{md.heading}"
                    f"{md.body}</body></html>")
    found = problems(browser.render(bare, 390), bare, 390)
    assert any("px wide in a 390 px viewport" in p for p in found), found
    assert any("not set apart" in p for p in found), found


def main(argv: list[str]) -> int:  # pragma: no cover - a tool for checking other pages
    reason = browser_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    b = Browser()
    bad = 0
    try:
        for arg in argv:
            for width in WIDTHS:
                found = problems(b.render(Path(arg), width), Path(arg), width)
                bad += len(found)
                print(f"{arg} @ {width}px: {'ok' if not found else f'{len(found)} problem(s)'}")
                for p in found:
                    print(f"  {p}")
    finally:
        b.close()
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
