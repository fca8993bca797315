"""No command is silent for long at any manifest size (issue 20, item 4).

`check` and `plan` of a synthetic release whose every per-component step is made
slow (rendering, rpmspec parsing, loading the manifest): the output is read
with the time each line arrived. The test asserts no run time; it asserts that
no stretch between lines (nor before the first, nor after the last) is longer
than about two seconds, that every step says started/done and how far it is
(n/total), and that `check --workdir` reuses the specinfo cache: the second
`check` parses no spec.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from synthetic import make_release, needs_rpmbuild

from pmrepo import manifest
from pmrepo.pipeline import orchestrator as pipeline
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.render import specs

N = 12
SLOW = 0.3  # seconds per component in each slowed step: 12 x 0.3 = 3.6 s per step, > 2 s of silence before
MAX_GAP = 2.5  # the console reports silence after 1.5 s; a loaded machine gets 1 s of slack


class Clock:
    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self.t0 = time.monotonic()

    def say(self, text: str) -> None:
        now = time.monotonic()
        self.lines.extend((now, ln) for ln in text.splitlines())

    def gaps(self, end: float) -> list[tuple[float, str]]:
        """(seconds of silence, the line that ended it) for each stretch longer than MAX_GAP."""
        out, last = [], self.t0
        for t, ln in [*self.lines, (end, "(end)")]:
            if t - last > MAX_GAP:
                out.append((round(t - last, 1), ln))
            last = t
        return out


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"inspect": 0}
    real_inspect, real_render, real_load = specs.inspect, specs.render_components, manifest.load

    def slowed(fn: Callable, key: str | None = None) -> Callable:
        def wrapper(*a, **kw):
            if key:
                calls[key] += 1
            time.sleep(SLOW)
            return fn(*a, **kw)
        return wrapper

    monkeypatch.setattr(specs, "inspect", slowed(real_inspect, "inspect"))
    def slowed_each(*a, **kw):  # each spec of the batch, as it arrives
        for text in real_render(*a, **kw):
            time.sleep(SLOW)
            yield text

    monkeypatch.setattr(specs, "render_components", slowed_each)

    def slow_load(path, *a, **kw):
        time.sleep(N * SLOW)  # as a manifest of thousands of components takes
        return real_load(path, *a, **kw)

    monkeypatch.setattr(pipeline.manifest, "load", slow_load)
    return calls


def _run(command: str, path: Path, work: Path) -> Clock:
    clock = Clock()
    pipe = Pipeline(Options(release=path, workdir=work, outdir=work.parent / "out"), say=clock.say)
    getattr(pipe, f"run_{command}")()
    gaps = clock.gaps(time.monotonic())
    said = "\n".join(ln for _, ln in clock.lines)
    assert not gaps, f"{command}: silent for more than {MAX_GAP}s before: {gaps}\n{said}"
    return clock


@needs_rpmbuild
def test_check_and_plan_are_never_silent_and_check_reuses_the_cache(tmp_path: Path, slow: dict[str, int]) -> None:
    path = make_release(tmp_path / "rel", {f"c{i:02d}": ([f"c{i - 1:02d}"] if i else []) for i in range(N)})
    work = tmp_path / "work"
    first = [ln for _, ln in _run("check", path, work).lines]
    assert any("still running: load " in ln for ln in first), first  # loading the manifest, before any step
    for label in (f"render specs ({N} component specs for el7)", "parse specs (rpmspec, cache "):
        assert any(ln.startswith(label) and ln.endswith(": started") for ln in first), (label, first)
        assert any(ln.startswith(label) and ": done in " in ln for ln in first), (label, first)
    assert any(ln.startswith("  el7: specs rendered: ") for ln in first)  # how far, n/total
    assert any(ln.startswith("  el7: specs parsed: ") for ln in first)
    assert slow["inspect"] == N and len(list((work / "cache" / "specinfo").glob("*.json"))) == N

    # the cache of --workdir is reused: the second check parses no spec, and plan neither
    _run("check", path, work)
    assert slow["inspect"] == N
    plan = [ln for _, ln in _run("plan", path, work).lines]
    assert slow["inspect"] == N
    assert any(ln.startswith("render specs (") and ": started" in ln for ln in plan)
    assert any(ln.startswith("  wave ") for ln in plan)


def test_new_release_of_a_slow_manifest_is_never_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26: `new-release` on a large manifest (loading it, tomlkit's parse and dump, the check of the
    result: each made slow here as 50 MB make them) reports what it is doing at least every ~2 s."""
    import shutil

    import tomlkit
    from conftest import DEMO

    from pmrepo.manifest import next_release as newrelease
    from pmrepo.progress import Console

    shutil.copytree(DEMO.parent, tmp_path / "demo")
    real_load, real_parse, real_dumps = manifest.load, tomlkit.parse, tomlkit.dumps

    def slowed(fn: Callable) -> Callable:
        def wrapper(*a, **kw):
            time.sleep(MAX_GAP + 0.5)  # each step alone longer than the silence allowed
            return fn(*a, **kw)
        return wrapper

    monkeypatch.setattr(newrelease.manifest, "load", slowed(real_load))
    monkeypatch.setattr(newrelease.tomlkit, "parse", slowed(real_parse))
    monkeypatch.setattr(newrelease.tomlkit, "dumps", slowed(real_dumps))
    clock = Clock()
    newrelease.derive(tmp_path / "demo" / "release.toml", "1.1", "1", "2026-12-01", ["demo-tools=2.1-1"],
                      console=Console(clock.say))
    gaps = clock.gaps(time.monotonic())
    assert not gaps, gaps
    shown = [ln for _, ln in clock.lines]
    for label in ("load ", "read release.toml for editing", "write 1.1-1.toml", "check and write "):
        assert any(f"still running: {label}" in ln for ln in shown), (label, shown)
