"""One NEVRA, one set of bits across the release line: where each component's build
first appeared.

A component entry for one dist that is *unchanged* from the release it ``follows``
is the same build: the same NEVRA must carry the same bytes in every release that
ships it (rpm and yum take a NEVRA to name one package; Koji refuses to build an
NVR twice). Its %changelog date, default change text and SOURCE_DATE_EPOCH
therefore come from its :class:`~pmrepo.render.specs.Origin`, the release where that
NEVRA first appeared, found by walking ``follows`` back (each predecessor loaded
by ``manifest.load``, which confines its own ``follows`` and refuses a cycle).

Unchanged means the same :func:`identity`: the same version and release, the spec
template's text as rendered for the dist (everything the template uses: summary,
change text, the release values it reads, its includes), the sources (a URL's
sha256, a project tree's packed content), the patches' content and the dist's
macros. The build's dependencies are not part of it: a component rebuilt against
a changed dependency keeps its date, and the NEVRA gate (``checks.nevra``) tells
whether its bytes are still the same.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .. import manifest
from ..errors import PmrepoError
from ..fsutil import sha256_file
from ..manifest import Component, Release
from ..sources.tree import pack_tree
from . import specs
from .specs import Origin

# what both sides of a comparison render with: the text then differs only where the entries do
_NEUTRAL = Origin("-", "-", dt.date(1970, 1, 2))
MAX_DEPTH = 1000  # releases walked back at most (the loader refuses a longer follows chain's cycle)

Key = tuple[str, str]  # (component name, dist)


def predecessors(release: Release) -> Iterator[Release]:
    """The releases ``release`` follows, nearest first, as far as each loads."""
    current = release
    for _ in range(MAX_DEPTH):
        path = current.follows_path()
        if path is None or not path.is_file():
            return
        try:
            current = manifest.load(path)
        except PmrepoError:  # an old manifest this pmrepo no longer reads: the walk ends there
            return
        yield current


class _Identities:
    """``identity`` of entries, with each project tree packed once."""

    def __init__(self) -> None:
        self.trees: dict[Path, str] = {}
        # (release file, dist, entry key) -> its spec rendered with the neutral origin (None: it does not render)
        self.texts: dict[tuple[Path, str, str], str | None] = {}

    def prime(self, rel: Release, dist: str, comps: list[Component]) -> None:
        """Render the specs of ``comps`` for ``dist`` in one batch (one render child, not one
        each); when the batch fails, each on its own, so one bad template spoils only itself."""
        todo = [c for c in comps if (rel.path, dist, c.key) not in self.texts]
        if not todo:
            return
        try:
            texts: list[str | None] = list(specs.render_components(rel, rel.dists[dist], todo, [_NEUTRAL] * len(todo)))
        except (PmrepoError, OSError):
            texts = [self._render(rel, dist, c) for c in todo]
        for comp, text in zip(todo, texts, strict=True):
            self.texts[(rel.path, dist, comp.key)] = text

    def _render(self, rel: Release, dist: str, comp: Component) -> str | None:
        try:
            return specs.render_component(rel, rel.dists[dist], comp, _NEUTRAL)
        except (PmrepoError, OSError):
            return None

    def text(self, rel: Release, comp: Component, dist: str) -> str | None:
        key = (rel.path, dist, comp.key)
        if key not in self.texts:
            self.texts[key] = self._render(rel, dist, comp)
        return self.texts[key]

    def tree(self, path: Path, top: str) -> str:
        key = path.resolve()
        if key not in self.trees:
            with tempfile.TemporaryDirectory(prefix="pmrepo-lineage-") as tmp:
                out = Path(tmp) / "tree.tar.gz"
                pack_tree(path, top, out, 0)
                self.trees[key] = sha256_file(out)
        return self.trees[key]

    def identity(self, rel: Release, comp: Component, dist: str) -> str | None:
        """What makes ``comp``'s build for ``dist`` (None: not comparable — an unpinned URL,
        a spec that does not render)."""
        srcs: list[list[str]] = []
        for s in comp.sources:
            if s.path is not None and s.path.is_dir():
                srcs.append(["tree", s.filename, self.tree(s.path, f"{comp.name}-{comp.version}")])
            elif s.path is not None:
                srcs.append(["file", s.filename, sha256_file(s.path)])
            elif s.sha256 is not None:
                srcs.append(["url", s.filename, s.sha256])
            else:
                return None
        text = self.text(rel, comp, dist)
        if text is None:
            return None
        try:
            patches = [[p.name, sha256_file(p)] for p in comp.patches]
        except OSError:
            return None
        data = [comp.vr, text, srcs, patches, rel.dists[dist].rpm_defines()]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def origins(
    release: Release,
    dists: Iterable[str] | None = None,
    watch: Callable[[str], contextlib.AbstractContextManager[None]] | None = None,
) -> dict[Key, Origin]:
    """(component, dist) -> the release where that entry's NEVRA first appeared (``release``
    itself for a new or changed one). ``watch(label)`` surrounds the look at each predecessor
    (``Console.watch``: a long one is reported)."""
    current = {(c.name, d): c for d in (dists or release.dists) for c in release.components_for(d)}
    out = {key: Origin.of(release) for key in current}
    ids = _Identities()
    pending: dict[Key, str | None] = dict.fromkeys(current)  # unchanged so far -> identity (computed when needed)
    for prev in predecessors(release) if release.follows else ():
        still: dict[Key, str | None] = {}
        with (watch or (lambda label: contextlib.nullcontext()))(f"component origins: {prev.path.name}"):
            for d in sorted({d for _, d in pending}):  # each side's specs in one render batch per dist
                same = [(current[k], prev.component_for(k[0], d)) for k in pending if k[1] == d]
                pairs = [(c, o) for c, o in same if o is not None and o.vr == c.vr and d in prev.dists]
                ids.prime(release, d, [c for c, _ in pairs])
                ids.prime(prev, d, [o for _, o in pairs])
            for key, mine in pending.items():
                (name, d), comp = key, current[key]
                old = prev.component_for(name, d)
                if old is None or old.vr != comp.vr or d not in prev.dists or prev.dists[d].tag != release.dists[d].tag:
                    continue  # another NEVRA (or none) there: this entry's walk ends
                mine = mine or ids.identity(release, comp, d)
                if mine is not None and ids.identity(prev, old, d) == mine:
                    still[key] = mine
                    out[key] = Origin.of(prev)
        if not still:
            break
        pending = still
    return out
