"""Pipeline-level rows of issue 18 item 10: `plan` and `sources` write only the
work directory, so they run while another run holds the output directory's
lock; `--upgrade-from` is checked before anything is built. Each failed before
issue 18."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from synthetic import make_release

from pmrepo.lock import WorkdirLock
from pmrepo.pipeline.orchestrator import Options, Pipeline


@pytest.mark.parametrize("cmd", ["plan", "sources"])
def test_plan_and_sources_do_not_take_the_output_lock(tmp_path: Path, cmd: str) -> None:
    if cmd == "plan" and shutil.which("rpmspec") is None:
        pytest.skip("plan needs rpmspec (`make setup` installs rpm)")
    path = make_release(tmp_path / "rel", {"a": []})
    lines: list[str] = []
    pipe = Pipeline(Options(release=path, workdir=tmp_path / "work", outdir=tmp_path / "out"), say=lines.append)
    with WorkdirLock(tmp_path / "out", "output directory"):  # another run is assembling outputs
        getattr(pipe, f"run_{cmd}")()
    assert any(ln.startswith(("a:", "== el7")) for ln in lines), lines
    assert not (tmp_path / "out" / "synth-repo-1.0-1").exists()


@pytest.mark.parametrize("case", ["no follows", "previous packages missing"])
def test_upgrade_from_is_checked_before_anything_is_built(tmp_path: Path, case: str) -> None:
    from pmrepo.errors import GateError

    path = make_release(tmp_path / "rel", {"a": []})
    if case == "previous packages missing":
        text = path.read_text()
        (tmp_path / "rel" / "older.toml").write_text(text.replace('version = "1.0"', 'version = "0.9"', 1))
        path.write_text(text.replace("date = 2026-01-01", 'date = 2026-01-01\nfollows = "older.toml"', 1))
    opts = Options(release=path, workdir=tmp_path / "work", outdir=tmp_path / "out", container="podman",
                   upgrade_from=tmp_path / "previous-out")
    pipe = Pipeline(opts, say=lambda s: None)
    problems = [e for e in pipe.preflight_problems() if isinstance(e, GateError)]
    expected = "release.follows is not set" if case == "no follows" else "repository packages are not there"
    assert len(problems) == 1 and expected in str(problems[0]) and "— fix:" in str(problems[0])
    assert not (tmp_path / "work").exists()
