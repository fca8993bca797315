"""Small fakes the pipeline's unit tests share: a builder that answers from sets, a console that
collects its lines, the demo's build graph written by hand (no rpmspec)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pmrepo import manifest
from pmrepo.builders import Builder, BuildOutput, BuildRequest
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.manifest import Dist, Release
from pmrepo.progress import Console
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.plan import DistPlan

DEMO: Release = manifest.load(DEMO_RELEASE)

#: the demo's BuildRequires among its own components (as its specs say), the same on both dists
DEPS = {"libdemo": set(), "demod": {"libdemo"}, "demo-plugin": {"demod"}, "demo-tools": {"libdemo"}}


class FakeBuilder(Builder):
    """A backend that lacks exactly ``missing``; ``unshippable``: why its builds may not ship."""

    def __init__(self, name: str = "fake", missing: Iterable[str] = (), unshippable: str = "") -> None:
        self.name = name
        self.missing = set(missing)
        self.reason = unshippable
        self.remedy = "install it on the host"
        self.available_error: Exception | None = None
        self.dists_error: Exception | None = None
        self.checked_dists: list[str] = []

    def check_available(self) -> None:
        if self.available_error is not None:
            raise self.available_error

    def check_dists(self, dists: Iterable[Dist], manifest_path: Path | None = None) -> None:
        self.checked_dists = [d.name for d in dists]
        if self.dists_error is not None:
            raise self.dists_error

    def can_provide(self, capability: str) -> bool:
        return capability not in self.missing

    @property
    def shippable(self) -> bool:
        return not self.reason

    def unshippable_reason(self) -> str:
        return self.reason

    def config_id(self, dist: Dist) -> str:
        return f"fake-{dist.name}"

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        raise AssertionError("a unit test builds nothing")


def collecting() -> tuple[Console, list[str]]:
    lines: list[str] = []
    return Console(lines.append), lines


def demo_plan(dist: str, external: dict[str, tuple[str, ...]] | None = None) -> DistPlan:
    names = [c.name for c in DEMO.components_for(dist)]
    deps = {n: frozenset(DEPS.get(n, set())) for n in names}
    return DistPlan(DEMO.dists[dist], {}, BuildGraph(dist, deps, external or {}))
