"""`python3 -m bench.schedule --json` in simulated time: the replay of the real scheduler on the real
release's plan (rpmspec, offline) and on the bench's DAG prints the cases the issue asks for.
It asserts the shape and what must hold of any schedule, not a speed (targets live in bench/)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from synthetic import needs_rpmbuild

pytest.importorskip("ortools", reason="ortools (requirements-test.txt) is not installed: `make setup` installs it")


@needs_rpmbuild
def test_the_replay_prints_every_case_as_json(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.schedule", "--json", "--mode", "sim", "--slots", "2,4", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cases = json.loads(proc.stdout)["cases"]
    keys = {(c["dag"], c["slots"], c["history"], c["weights"]) for c in cases}
    assert keys == {(d, s, h, w) for d, w in (("real", True), ("real", False), ("bench", True))
                    for s in (2, 4) for h in (False, True)}
    for c in cases:
        assert {"scheduler_over_optimal", "optimal_over_bound", "simulated_over_optimal"} <= set(c)
        assert c["optimal_proven"] and c["optimal_over_bound"] >= 1 - 1e-6  # the bound is a lower bound
        assert c["scheduler_over_optimal"] >= 1 - 1e-3  # no schedule beats the optimum
    real = {c["slots"]: c for c in cases if c["dag"] == "real" and c["weights"]}
    # the real plan: 28 jobs; the el6 chain libqb -> corosync -> pacemaker -> pm_extras is the critical path
    assert real[4]["bound_seconds"] == pytest.approx(17.8 + 46.8 + 108.4 + 13.1)
    assert real[2]["bound_seconds"] == pytest.approx(569.5 / 2)
