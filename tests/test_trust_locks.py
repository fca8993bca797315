"""`plan` and `sources` write only the work directory: they run while another
run holds the output directory's lock (issue 18 item 10). Failed before issue 18."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pmrepo.lock import WorkdirLock
from pmrepo.pipeline import Options, Pipeline
from synthetic import make_release


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
