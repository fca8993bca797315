"""pmrepo.run: one wrapper for every external command; its bounds (timeout, max_output)."""

from __future__ import annotations

from pathlib import Path

from pmrepo.run import run


def test_output_within_the_bound_is_all_there(tmp_path: Path) -> None:
    res = run(["sh", "-c", "printf 'a%.0s' $(seq 1000); exit 3"], check=False, max_output=5000,
              log_file=tmp_path / "log")
    assert res.returncode == 3 and res.output == "a" * 1000 and res.killed is None
    assert "# exit: 3" in (tmp_path / "log").read_text()


def test_a_command_past_max_output_is_killed_with_its_children() -> None:
    res = run(["sh", "-c", "yes pmrepo & wait"], check=False, max_output=100_000, timeout=60)
    assert res.killed == "output" and res.returncode == -9
    assert res.output.startswith("pmrepo\n") and "more than 100000 bytes of output" in res.output
    assert len(res.output) < 100_200


def test_a_bounded_command_past_its_timeout_is_killed_with_its_children() -> None:
    res = run(["sh", "-c", "echo started; sleep 60 & wait"], check=False, max_output=1000, timeout=1)
    assert res.killed == "timeout" and res.returncode == -9 and res.output.startswith("started\n")
    res = run(["sh", "-c", "sleep 60"], check=False, timeout=1)  # the unbounded path says the same
    assert res.killed == "timeout" and res.returncode == -9
