"""``pin``: the sha256 of every unpinned URL source downloaded and recorded (trust on first use)."""

from __future__ import annotations

from pathlib import Path

from .. import manifest
from ..manifest import Release, redact_url
from ..progress import Console
from . import fetch as sources


def pin_sources(release: Release, cache: Path, console: Console) -> None:
    """Record the sha256 of every unpinned URL source of ``release`` (trust on first use)."""
    rel = release
    todo = sources.unpinned(rel)
    if not todo:
        console.say(f"{rel.path}: every source is pinned")
        return
    console.say(
        f"pinning {len(todo)} source(s) by TRUST ON FIRST USE: the sha256 recorded is whatever the "
        "server sends now; compare it with upstream's published checksums before you release."
    )
    with console.step(f"download {len(todo)} source(s)"):
        pinned = sources.pin(rel, sources.Fetcher(cache, say=console.say))
    for comp, url, digest in pinned:
        console.say(f"  {comp}: {redact_url(url)}\n    sha256 = {digest}")
    manifest.load(rel.path)
