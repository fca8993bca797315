"""``pin``: the sha256 of every unpinned URL source downloaded and recorded in the manifest
(trust on first use), through tomlkit so that its comments and layout stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import InlineTable

from .. import manifest
from ..errors import SourceError
from ..fsutil import read_regular, write_atomic
from ..manifest import Component, Release, Source, redact_url
from ..progress import Console
from .fetch import Fetcher, check_archive


def unpinned(release: Release) -> list[tuple[Component, Source]]:
    return [(c, s) for c in release.components for s in c.sources if not s.pinned]


def pin(release: Release, fetcher: Fetcher) -> list[tuple[str, str, str]]:
    """Download every unpinned URL source and record its sha256 in the manifest.

    Trust on first use: the checksum is whatever the server sends now. Returns
    (component, url, sha256) for every source pinned. The manifest is rewritten
    atomically, through tomlkit (its comments and layout stay as they are);
    already pinned sources are left alone.
    """
    pinned: list[tuple[str, str, str]] = []
    sizes: dict[str, int] = {}
    for comp, src in unpinned(release):
        assert src.url is not None
        tmp, digest = fetcher.download(src.url)
        try:
            check_archive(tmp, src.filename, src.url)
        except SourceError:
            tmp.unlink(missing_ok=True)
            raise
        sizes[src.url] = tmp.stat().st_size
        target = fetcher.cached(digest)
        tmp.replace(target)
        pinned.append((comp.name, src.url, digest))
    if pinned:
        text = read_regular(release.path).decode()
        write_atomic(release.path, record_pins(text, release.path, pinned, sizes))
    return pinned


def record_pins(text: str, path: Path, pins: list[tuple[str, str, str]], sizes: dict[str, int] | None = None) -> str:
    """``text`` (a manifest) with ``sha256 = digest`` (and ``size``, when known) added to each
    (component, url, digest)'s source; everything else — comments, order, inline or expanded
    tables — is kept. A source written as a bare URL string becomes ``{ url = …, sha256 = … }``."""
    doc = tomlkit.parse(text)
    comps = doc.get("components", [])
    done: set[tuple[str, str]] = set()
    for name, url, digest in pins:
        if (name, url) in done:  # one URL in several per-dist entries: pinned in all of them at once
            continue
        done.add((name, url))
        where = f"{path}: components.{name}.sources"
        entries = [c for c in comps if c.get("name") == name]
        if not entries:
            raise SourceError(f"{where}: no [[components]] entry named {name} — fix: reload the manifest and pin again")
        per_entry = []
        for comp in entries:
            srcs = comp.get("sources", [])
            for i, entry in enumerate(srcs):  # a bare URL string becomes a table that can hold the digest
                if isinstance(entry, str) and str(entry) == url:
                    table = tomlkit.inline_table()
                    table.append("url", url)
                    srcs[i] = table
            per_entry.append([s for s in srcs if isinstance(s, dict) and s.get("url") == url and "sha256" not in s])
        if not any(per_entry) or any(len(srcs) > 1 for srcs in per_entry):
            n = max(len(srcs) for srcs in per_entry)
            raise SourceError(f'{where}: {n} unpinned sources with url = "{redact_url(url)}" — fix: list each URL once')
        for srcs in per_entry:
            if srcs:
                _add_key(srcs[0], "sha256", digest)
                if sizes and url in sizes:
                    _add_key(srcs[0], "size", sizes[url])
    return tomlkit.dumps(doc)


def _add_key(table: Any, key: str, value: str | int) -> None:
    """Add ``key`` at the end of a table; an inline table keeps its spacing (``{ url = "…", sha256 = "…" }``).
    A key already there (a ``size`` written by hand, or by an older ``new-release``) gets the new value."""
    if key in table:
        table[key] = value
        return
    if not isinstance(table, InlineTable):
        table[key] = value
        return
    body = table.value.body  # tomlkit appends after the closing space: move that space behind the new key
    trailing: list[Any] = []
    while body and body[-1][0] is None:
        trailing.insert(0, body.pop())
    item = tomlkit.item(value)
    item.trivia.indent = " "
    table.append(key, item)
    body.extend(trailing)


def pin_sources(release: Release, cache: Path, console: Console) -> None:
    """Record the sha256 of every unpinned URL source of ``release`` (trust on first use)."""
    rel = release
    todo = unpinned(rel)
    if not todo:
        console.say(f"{rel.path}: every source is pinned")
        return
    console.say(
        f"pinning {len(todo)} source(s) by TRUST ON FIRST USE: the sha256 recorded is whatever the "
        "server sends now; compare it with upstream's published checksums before you release."
    )
    with console.step(f"download {len(todo)} source(s)"):
        pinned = pin(rel, Fetcher(cache, say=console.say))
    for comp, url, digest in pinned:
        console.say(f"  {comp}: {redact_url(url)}\n    sha256 = {digest}")
    manifest.load(rel.path)
