"""The release page's HTML from the Markdown: table of contents, warning blocks, ★, tables, the fragment."""
from __future__ import annotations

from pmrepo.notes.render import html_pages, markdown_to_html

MD = """# demo 1.0-1 release notes

## Download

| File | Size (bytes) | SHA256 |
| --- | ---: | --- |
| a.rpm | 123 | `abc` |

## Upgrade

### RHEL 7 (el7)

> [!WARNING]
> Change `mcastport` **before** the upgrade.

> [!NOTE]

> a plain quote

- ★ **demo-1.0-1.el7**
"""


def test_toc_ids_and_nesting() -> None:
    parts = markdown_to_html(MD, "en")
    assert [(e.id, e.title) for e in parts.toc] == [("sec-1", "Download"), ("sec-2", "Upgrade")]
    assert [(c.id, c.title) for c in parts.toc[1].children] == [("sec-2-1", "RHEL 7 (el7)")]
    assert '<h2 id="sec-1">Download</h2>' in parts.body and '<h3 id="sec-2-1">' in parts.body
    assert parts.heading.startswith("<h1>") and "<h1>" not in parts.body


def test_warning_blocks() -> None:
    body = markdown_to_html(MD, "ja").body
    assert '<blockquote class="admonition warning">\n<p class="admonition-title">警告</p>' in body
    assert "[!WARNING]" not in body and "<code>mcastport</code> <strong>before</strong>" in body
    assert '<blockquote class="admonition note">\n<p class="admonition-title">注記</p>\n</blockquote>' in body
    assert "<blockquote>\n<p>a plain quote</p>" in body  # no marker: a plain quote


def test_star_table_and_escaping() -> None:
    body = markdown_to_html(MD + "\n<script>alert(1)</script>\n", "en").body
    assert '<span class="star">★</span> <strong>demo-1.0-1.el7</strong>' in body
    assert '<div class="table-scroll">\n<table>' in body and '<td style="text-align:right">123</td>' in body
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_page_and_fragment() -> None:
    page, fragment = html_pages(MD, "en")
    assert page.startswith("<!DOCTYPE html>") and page.count("<style>") == 1 and 'name="viewport"' in page
    assert "<html" not in fragment and fragment.count("<style>") == 1 and '<div class="pmrepo-notes"' in fragment
    assert '<a href="#sec-2-1">RHEL 7 (el7)</a>' in page and '<a href="#sec-2-1">RHEL 7 (el7)</a>' in fragment
    assert "<link" not in page + fragment and "http" not in page.split("<body>")[0].split("<style>")[0]
    # every rule of the stylesheet is scoped to the fragment's root, so pasting it styles nothing else
    css = fragment.split("<style>")[1].split("</style>")[0]
    selectors = [block.rsplit("{", 1)[0].split("{")[-1].split("*/")[-1].strip() for block in css.split("}")
                 if "{" in block]
    assert len(selectors) > 20
    for sel in selectors:
        assert all(part.strip().startswith(".pmrepo-notes") for part in sel.split(",") if part.strip()), sel
