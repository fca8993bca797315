"""The build graph of one dist, computed from the specs themselves.

Each component's BuildRequires (rpmspec, with the dist's macros) is matched
against the Provides of every binary package the release builds for that
dist. What no component provides must come from outside: the caller decides
(``external``) whether the host or the build root can supply it.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import GraphError
from ..render.specs import SpecInfo


@dataclass(frozen=True)
class BuildGraph:
    dist: str
    deps: Mapping[str, frozenset[str]]  # component -> components it BuildRequires
    external: Mapping[str, tuple[str, ...]]  # component -> BuildRequires met from outside

    def order(self) -> list[str]:
        return [c for wave in self.waves() for c in wave]

    def waves(self) -> list[list[str]]:
        """Groups that can build in parallel: each wave needs only earlier ones."""
        ts = graphlib.TopologicalSorter(self.deps)
        ts.prepare()
        out: list[list[str]] = []
        while ts.is_active():
            ready = sorted(ts.get_ready())
            out.append(ready)
            ts.done(*ready)
        return out

    def closure(self, component: str) -> set[str]:
        """Every component ``component`` needs built first, transitively."""
        seen: set[str] = set()
        stack = list(self.deps[component])
        while stack:
            c = stack.pop()
            if c not in seen:
                seen.add(c)
                stack.extend(self.deps[c])
        return seen


def build_graph(
    dist: str, infos: Mapping[str, SpecInfo], external: Callable[[str], bool], remedy: str = ""
) -> BuildGraph:
    providers: dict[str, str] = {}
    for comp, info in infos.items():
        for pkg in info.packages:
            for cap in info.provides.get(pkg, (pkg,)):
                providers.setdefault(cap, comp)
    deps: dict[str, frozenset[str]] = {}
    ext: dict[str, tuple[str, ...]] = {}
    for comp, info in infos.items():
        mine: set[str] = set()
        outside: list[str] = []
        for br in info.buildrequires:
            owner = providers.get(br)
            if owner is not None and owner != comp:
                mine.add(owner)
            elif owner is None:
                if not external(br):
                    raise GraphError(
                        f"{comp} ({dist}): BuildRequires '{br}' is built by no component of this release "
                        f"and cannot be provided here — fix: "
                        f"{remedy or 'add the component that provides it, or install it on the build host'}"
                    )
                outside.append(br)
        deps[comp] = frozenset(mine)
        ext[comp] = tuple(outside)
    try:
        graphlib.TopologicalSorter(deps).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise GraphError(
            f"{dist}: BuildRequires cycle: {' -> '.join(cycle)} — fix: break the cycle in one of these specs"
        ) from None
    return BuildGraph(dist=dist, deps=deps, external=ext)
