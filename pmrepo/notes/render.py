"""Release notes (Japanese first, then English; Markdown and HTML) rendered
from what ``notes_collect`` computes out of the release manifest, its
predecessor's manifest and the build results (its docstring: the inputs and
the rules of the version list).

Each language gets a Markdown page (``templates/notes/release-notes.<lang>.md.j2``),
the HTML page made from it and an HTML fragment for pasting into a site, with
one stylesheet (``release-notes.css``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jinja2
from markupsafe import Markup

from ..errors import NotesError
from ..fsutil import write_atomic
from ..manifest import Release
from ..progress import Say
from ..render.environment import ENV, Escaped, md_document, md_escape
from ..render.environment import TEMPLATES as TEMPLATE_ROOT
from .collect import LANGS, Notes, collect

if TYPE_CHECKING:
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

TEMPLATES = TEMPLATE_ROOT / "notes"


# -- rendering -------------------------------------------------------------------


ADMONITIONS = {  # "> [!KIND]" blocks in the Markdown: kind -> title per language
    "NOTE": {"ja": "注記", "en": "Note"},
    "TIP": {"ja": "ヒント", "en": "Tip"},
    "IMPORTANT": {"ja": "重要", "en": "Important"},
    "WARNING": {"ja": "警告", "en": "Warning"},
    "CAUTION": {"ja": "注意", "en": "Caution"},
}
TOC_TITLE = {"ja": "目次", "en": "Contents"}
CSS_FILE = TEMPLATES / "release-notes.css"


@dataclass(frozen=True)
class TocEntry:
    id: str
    title: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True)
class HtmlParts:
    heading: str  # the page's <h1>
    toc: tuple[TocEntry, ...]  # its sections (h2) and their subsections (h3)
    body: str  # everything after the <h1>


def _admonition(tokens: list[Token], i: int, lang: str) -> None:
    """``tokens[i]`` opens a blockquote: when its first paragraph starts with
    ``[!WARNING]`` (or another of ADMONITIONS), mark it up as that block."""
    from markdown_it.token import Token

    if i + 2 >= len(tokens) or tokens[i + 1].type != "paragraph_open" or tokens[i + 2].type != "inline":
        return
    inline = tokens[i + 2]
    head = inline.content.split("\n", 1)[0].strip()
    kind = head[2:-1].upper() if head.startswith("[!") and head.endswith("]") else ""
    if kind not in ADMONITIONS:
        return
    tokens[i].attrSet("class", f"admonition {kind.lower()}")
    children = list(inline.children or [])
    if children and children[0].type == "text" and children[0].content.strip() == head:
        children = children[1:]
        if children and children[0].type in ("softbreak", "hardbreak"):
            children = children[1:]
    inline.children = children
    inline.content = inline.content.split("\n", 1)[1] if "\n" in inline.content else ""
    title = Token("html_block", "", 0)
    title.content = f'<p class="admonition-title">{ADMONITIONS[kind][lang]}</p>\n'
    tokens.insert(i + 1, title)
    if not children:  # the marker was the whole first paragraph
        del tokens[i + 2 : i + 5]


def _flatten_heading(tokens: list[Token], i: int) -> None:
    """A heading inside a list item or a block quote (where only manifest text goes) is a
    paragraph showing its marker: the page's sections and their table of contents are the
    template's and the authors' top-level headings only."""
    from markdown_it.token import Token

    opening, inline, closing = tokens[i], tokens[i + 1], tokens[i + 2]
    if opening.markup.startswith("#"):
        marker = Token("text", "", 0)
        marker.content = opening.markup + " "
        inline.children = [marker, *(inline.children or [])]
    opening.type, opening.tag, opening.markup = "paragraph_open", "p", ""
    closing.type, closing.tag, closing.markup = "paragraph_close", "p", ""


def bullets(items: tuple[str, ...] | list[str], depth: int = 0) -> str:
    """Markdown bullets; an item indented by 2·n spaces is n levels deeper
    than the list; an item's further lines continue it. Each item's text is
    escaped (render.md_escape: no HTML, image or heading of its own) before it
    is indented, so its lines are judged as the item's own."""
    lines = []
    for item in items:
        level = depth + (len(item) - len(item.lstrip(" "))) // 2
        pad = "  " * level
        body = md_escape(item.strip()).replace("\n", "\n" + pad + "  ")
        lines.append(f"{pad}- {body}")
    return Escaped("\n".join(lines))


def entry(head: str, items: tuple[str, ...]) -> str:
    """``- head: item`` for one plain item, else ``- head`` with the items as sub-bullets."""
    head = md_escape(head)
    if not items:
        return Escaped(f"- {head}")
    if len(items) == 1 and not items[0].startswith(" "):
        return Escaped(f"- {head}: " + md_escape(items[0].strip()).replace("\n", "\n  "))
    return Escaped(f"- {head}\n" + bullets(items, 1))


def _quote(text: str) -> str:
    """A Markdown block quote."""
    return "\n".join(("> " + ln).rstrip() for ln in text.splitlines())


# the notes templates' filters, on the one environment (pmrepo.render.environment.ENV)
ENV.filters.update(bullets=bullets, entry=entry, quote=_quote, md_document=md_document)


def markdown_to_html(text: str, lang: str) -> HtmlParts:
    """The page's Markdown as HTML: ids on the h2/h3 headings (``sec-2``,
    ``sec-2-1``) and their table of contents, tables in a box that scrolls
    by itself, ★ marked up, ``> [!WARNING]`` blocks as warnings."""
    from markdown_it import MarkdownIt  # requirements.txt: markdown-it-py
    from markdown_it.renderer import RendererHTML

    # html=False: text from the manifest (changes, known issues) is escaped, never passed through as HTML;
    # no image rule: `![x](url)` is shown as "!" and a link, the page fetches nothing when opened
    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    tokens = md.parse(text)
    i = 0
    while i < len(tokens):
        if tokens[i].type == "blockquote_open":
            _admonition(tokens, i, lang)
        elif tokens[i].type == "heading_open" and tokens[i].level > 0:
            _flatten_heading(tokens, i)
        i += 1
    toc: list[TocEntry] = []
    subs: list[TocEntry] = []
    h2 = h3 = 0
    heading_end = 0
    for i, tok in enumerate(tokens):
        if tok.type == "heading_close" and tok.tag == "h1" and not heading_end:
            heading_end = i + 1
        if tok.type != "heading_open" or tok.tag not in ("h2", "h3"):
            continue
        title = tokens[i + 1].content
        if tok.tag == "h2":
            if toc:
                toc[-1] = TocEntry(toc[-1].id, toc[-1].title, tuple(subs))
            h2, h3, subs = h2 + 1, 0, []
            tok.attrSet("id", f"sec-{h2}")
            toc.append(TocEntry(f"sec-{h2}", title))
        else:
            h3 += 1
            tok.attrSet("id", f"sec-{h2}-{h3}")
            subs.append(TocEntry(f"sec-{h2}-{h3}", title))
    if toc:
        toc[-1] = TocEntry(toc[-1].id, toc[-1].title, tuple(subs))
    rules = cast("dict[str, Any]", cast(RendererHTML, md.renderer).rules)  # the HTML renderer's rule table
    rules["table_open"] = lambda *a: '<div class="table-scroll">\n<table>\n'
    rules["table_close"] = lambda *a: "</table>\n</div>\n"
    default_text = rules["text"]

    def text_rule(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """★ gets a class (the legend's colour); the rest as usual."""
        return str(default_text(tokens, idx, options, env)).replace("★", '<span class="star">★</span>')

    rules["text"] = text_rule
    heading = md.renderer.render(tokens[:heading_end], md.options, {})
    body = md.renderer.render(tokens[heading_end:], md.options, {})
    return HtmlParts(heading, tuple(toc), body)


def html_pages(md: str, lang: str) -> tuple[str, str]:
    """(the self-contained HTML page, the fragment for pasting) of one page's Markdown.
    Both carry the one stylesheet (``release-notes.css``, scoped to ``.pmrepo-notes``)."""
    title = md.splitlines()[0].lstrip("# ").strip() if md.strip() else ""
    css = Markup(CSS_FILE.read_text())
    parts = markdown_to_html(md, lang)
    content = Markup(
        ENV.get_template("notes/_content.html.j2").render(
            lang=lang, heading=Markup(parts.heading), toc=parts.toc, toc_title=TOC_TITLE[lang], body=Markup(parts.body)
        )
    )
    page = ENV.get_template("notes/release-notes.html.j2").render(lang=lang, title=title, css=css, content=content)
    fragment = ENV.get_template("notes/release-notes.fragment.html.j2").render(title=title, css=css, content=content)
    return page, fragment


PAGES_PER_LANG = 3  # Markdown, HTML page, HTML fragment


def render_texts(notes: Notes, done: Say | None = None) -> dict[str, str]:
    """File name -> text of every page: Markdown, the HTML page and the HTML
    fragment for pasting into a site, Japanese and English. ``done`` hears
    ``<page> (n/total)`` as each is made (a large manifest's pages take seconds)."""
    rel = notes.release
    out: dict[str, str] = {}
    total = PAGES_PER_LANG * len(LANGS)

    def made(*names: str) -> None:
        for n, name in enumerate(names, len(out) - len(names) + 1):
            if done is not None:
                done(f"{name} ({n}/{total})")

    try:
        for lang in LANGS:
            md = ENV.get_template(f"notes/release-notes.{lang}.md.j2").render(notes=notes, rel=rel, prev=notes.previous)
            out[f"RELEASE-NOTES.{lang}.md"] = md
            made(f"RELEASE-NOTES.{lang}.md")
            out[f"RELEASE-NOTES.{lang}.html"], out[f"RELEASE-NOTES.{lang}.fragment.html"] = html_pages(md, lang)
            made(f"RELEASE-NOTES.{lang}.html", f"RELEASE-NOTES.{lang}.fragment.html")
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or TEMPLATES
        line = getattr(exc, "lineno", None)
        raise NotesError(
            f"{where}{':' + str(line) if line else ''}: release notes template: {exc.message} — fix: "
            "correct the template"
        ) from None
    return out


def render_notes(release: Release, outdir: Path, *, repo_dir: Path | None, say: Say | None = None) -> list[Path]:
    """Write ``RELEASE-NOTES.{ja,en}.{md,html,fragment.html}`` for ``release`` into ``outdir``.

    ``repo_dir`` is the output root holding ``<release_id>/<dist>/build.json``
    (and ``installed.json``); ``None`` or a missing directory means "from the
    manifests alone". Returns the written paths, Japanese first.
    """
    texts = render_texts(collect(release, repo_dir=repo_dir), None if say is None else lambda p: say(f"  made {p}"))
    outdir = Path(outdir)
    paths = []
    for name, text in texts.items():
        write_atomic(outdir / name, text)
        paths.append(outdir / name)
    return paths
