"""Shared fixtures: the demo release built once per test session, for real."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE as DEMO
from pmrepo.pipeline.orchestrator import Options, Pipeline

# the checkout under test (build.py, releases/, Makefile, .github/); pmrepo itself is imported
# through pytest's `pythonpath` setting in pyproject.toml, or from an installed package
ROOT = Path(__file__).resolve().parent.parent


_SESSION_CACHE: list[Path] = []


#: what sudo sets (SUDO_UID, SUDO_GID, SUDO_USER, SUDO_COMMAND, SUDO_HOME…): the suite runs without them
SUDO_PREFIX = "SUDO_"


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture (the session's demo builds too): the session's own host-wide cache
    (the build time history), so the suite never writes to the user's real ~/.cache; and no
    variable of sudo's. Run through ``sudo`` (the GitHub test workflow), SUDO_UID would make the
    mock backend hand each job directory to that user, who cannot enter pytest's 0700 base
    directory, and the stand-in build as that user: every test sees the same host whoever ran
    the suite. The tests of the sudo case set SUDO_UID themselves (monkeypatch)."""
    _SESSION_CACHE.append(Path(tempfile.mkdtemp(prefix="pmrepo-test-cache-")))
    os.environ["PMREPO_CACHE_DIR"] = str(_SESSION_CACHE[0] / "pmrepo")
    for var in [v for v in os.environ if v.startswith(SUDO_PREFIX)]:
        del os.environ[var]


def pytest_unconfigure(config: pytest.Config) -> None:
    for path in _SESSION_CACHE:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty host-wide cache: one test's build times never order another's jobs."""
    path = tmp_path_factory.mktemp("user-cache") / "pmrepo"
    monkeypatch.setenv("PMREPO_CACHE_DIR", str(path))
    return path


@dataclass
class DemoBuild:
    release: manifest.Release
    workdir: Path
    outdir: Path
    outputs: dict[str, Path]
    log: list[str]

    def repo_rpm(self, dist: str, suffix: str = "") -> Path:
        kind = suffix.lstrip("-") or "main"
        return self.outputs[dist] / self.release.repo_rpm_name(self.release.dists[dist], kind)

    def repo_rpms(self, dist: str) -> list[Path]:
        """The three repository packages, main first."""
        return [self.repo_rpm(dist, suffix) for suffix in ("", "-debuginfo", "-src")]

    def tree(self, dist: str) -> Path:
        return self.workdir / self.release.release_id / dist / "tree"


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """`build.py demo` through the library: real rpmbuild, createrepo_c, dnf."""
    base = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    opts = Options(release=DEMO, workdir=base / "work", outdir=base / "repo")
    outputs = Pipeline(opts, say=lines.append).run_all()
    return DemoBuild(manifest.load(DEMO), opts.workdir, opts.outdir, outputs, lines)


@dataclass
class CliRun:
    """`build.py demo` as a user runs it: from another directory, CI=true, output lines timed as they arrive."""

    workdir: Path
    outdir: Path
    returncode: int
    lines: list[tuple[float, str]]  # (seconds since start, line)

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


@pytest.fixture(scope="session")
def demo_cli_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    import os
    import subprocess
    import time

    base = tmp_path_factory.mktemp("demo-cli")
    cwd = base / "elsewhere"
    cwd.mkdir()
    work, out = base / "w" / "work", base / "r" / "repo"
    env = dict(os.environ, CI="true")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "demo", "--workdir", str(work), "--outdir",
                             str(out)],
                            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    lines = [(time.monotonic() - t0, line.rstrip("\n")) for line in proc.stdout]
    return CliRun(work, out, proc.wait(timeout=600), lines)
