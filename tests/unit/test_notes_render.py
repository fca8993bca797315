"""Release notes from the manifests alone: Markdown per language, HTML from the Markdown."""
from __future__ import annotations

import dataclasses

import pytest

from conftest import DEMO, ROOT
from pmrepo import manifest
from pmrepo.notes import collect, render_texts

REAL = ROOT / "releases" / "1.1.14-1.1.toml"


@pytest.fixture(scope="module")
def demo_pages() -> dict[str, str]:
    return render_texts(collect(manifest.load(DEMO), repo_dir=None))


def test_six_pages(demo_pages: dict[str, str]) -> None:
    assert sorted(demo_pages) == ["RELEASE-NOTES.en.fragment.html", "RELEASE-NOTES.en.html", "RELEASE-NOTES.en.md",
                                  "RELEASE-NOTES.ja.fragment.html", "RELEASE-NOTES.ja.html", "RELEASE-NOTES.ja.md"]
    rel = manifest.load(DEMO)
    for lang in ("en", "ja"):
        md = demo_pages[f"RELEASE-NOTES.{lang}.md"]
        assert md.startswith("# ") and rel.name in md.splitlines()[0] and rel.vr in md.splitlines()[0]
        assert all(c.name in md for c in rel.components)


def test_html_is_the_markdown_rendered(demo_pages: dict[str, str]) -> None:
    html = demo_pages["RELEASE-NOTES.en.html"]
    md = demo_pages["RELEASE-NOTES.en.md"]
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert md.splitlines()[0].lstrip("# ") in html.split("<title>")[1]
    assert "<h1>" in html and ("<table>" in html) == ("|---" in md.replace(" ", "") or "| ---" in md)
    assert "<h1>" in demo_pages["RELEASE-NOTES.ja.html"] and 'lang="ja"' in demo_pages["RELEASE-NOTES.ja.html"]


def test_manifest_text_is_escaped_never_html() -> None:
    rel = manifest.load(DEMO)
    comps = tuple(dataclasses.replace(c, changes="<script>alert(1)</script> & more") if c.name == "demod" else c
                  for c in rel.components)
    pages = render_texts(collect(dataclasses.replace(rel, components=comps), repo_dir=None))
    assert "<script>" not in pages["RELEASE-NOTES.en.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in pages["RELEASE-NOTES.en.html"]


def test_real_release_notes_mark_what_changed_since_1_1_13() -> None:
    if not REAL.is_file():
        pytest.fail(f"{REAL} is missing")
    pages = render_texts(collect(manifest.load(REAL), repo_dir=None))
    md = pages["RELEASE-NOTES.en.md"]
    assert "1.1.13-1.1" in md and "**pacemaker-1.1.14-1" in md  # bold: changed since the predecessor
