"""What ``pmrepo upstream`` reports (pmrepo.upstream.report) from the checks' answers: statuses, the
``--set`` values per dist, a table of at most 100 columns, the three exit statuses, the JSON, the
files kept in the upstream directory, and what ``new-release --from-upstream`` takes or refuses
(the checks themselves stood in for: tests/unit/upstream/test_check.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE as DEMO
from pmrepo.layout import Layout
from pmrepo.options import Options
from pmrepo.progress import Console
from pmrepo.upstream import report
from pmrepo.upstream.check import EXIT_FAILED, EXIT_NEWER, EXIT_NOTHING_NEW, Check, UpstreamError
from pmrepo.upstream.report import exit_status, render, report_table, set_values, to_json


def _checks() -> tuple[Check, ...]:
    """Answers for the demo with demo-plugin split per dist."""
    rel = manifest.load(DEMO)
    up = manifest.Upstream("git", "https://example.invalid/x")
    comps = {c.name: dataclasses.replace(c, upstream=up) for c in rel.components}
    p6 = dataclasses.replace(comps["demo-plugin"], dists=("el6",), split=True)
    p7 = dataclasses.replace(comps["demo-plugin"], dists=("el7",), version="0.6", split=True)
    untracked = dataclasses.replace(comps["demo-extras"], upstream=None)
    return (
        Check(comps["libdemo"], "1.3"),
        Check(comps["demod"], problem="x (tags {version}): cannot be reached"),
        Check(p6, "0.7"),
        Check(p7, "0.6"),
        Check(comps["demo-tools"], "1.9"),
        Check(comps["demo-units"], "1.1-rc1"),
        Check(untracked),
    )


def test_statuses_set_values_per_dist_and_exit_statuses() -> None:
    checks = _checks()
    assert [c.status for c in checks] == ["newer", "failed", "newer", "current", "ahead", "newer", "untracked"]
    # one value per component; per dist where its entries move apart; no value for a non-rpm version
    assert set_values(checks) == ["libdemo=1.3-1", "el6:demo-plugin=0.7-1"]
    both = (dataclasses.replace(checks[2], newest="0.7"), dataclasses.replace(checks[3], newest="0.7"))
    assert set_values(both) == ["demo-plugin=0.7-1"]
    assert exit_status(checks) == EXIT_FAILED
    assert exit_status([c for c in checks if c.status != "failed"]) == EXIT_NEWER
    assert exit_status([checks[3], checks[4], checks[6]]) == EXIT_NOTHING_NEW
    assert (EXIT_NOTHING_NEW, EXIT_NEWER, EXIT_FAILED) == (0, 3, 4)


def test_report_fits_100_columns_one_line_per_failure_and_json() -> None:
    checks = _checks()
    long = dataclasses.replace(
        checks[0].component, name="a-component-with-a-very-long-name-indeed", version="1.2.3.4.5.6.7.8.9.10.11"
    )
    text = render((*checks, Check(long, "99.99.99.99.99.99.99.99")))
    assert max(len(line) for line in report_table(checks).splitlines()) <= 100
    table_lines = text.split("\n\n")[0].splitlines()
    assert max(len(line) for line in table_lines) <= 100 and len(table_lines) == 2 + 8
    assert [line for line in table_lines if line.startswith("demo-plugin")] == [
        line for line in table_lines if "demo-plugin" in line
    ] and sum("demo-plugin" in x for x in table_lines) == 2
    assert "could not check 1 upstream(s):\n  demod: x (tags {version}): cannot be reached" in text
    assert "newer, but not an rpm version (give --set by hand):\n  demo-units: 1.1-rc1" in text
    assert "  --set libdemo=1.3-1 --set el6:demo-plugin=0.7-1" in text
    assert text.splitlines()[-1].endswith("could not check (exit 4)")
    data = to_json(manifest.load(DEMO), checks)
    assert data["exit_status"] == 4 and data["status"] == "could not check"
    assert [(c["entry"], c["dists"], c["status"]) for c in data["components"]][2:4] == [
        ("demo-plugin.el6", ["el6"], "newer"),
        ("demo-plugin.el7", ["el7"], "current"),
    ]
    assert data["set"] == ["libdemo=1.3-1", "el6:demo-plugin=0.7-1"]


def test_nothing_newer_says_so_and_counts_what_was_checked() -> None:
    checks = _checks()
    quiet = (checks[3], checks[4], checks[6])  # current, ahead, untracked
    text = render(quiet)
    assert "new-release arguments for what is newer:\n  (none: nothing is newer)" in text
    assert text.splitlines()[-1] == (
        "summary: 2 upstream(s) checked: 1 up to date, 1 shipped newer; 1 entry not tracked — nothing new (exit 0)"
    )
    assert "could not check" not in text.split("summary:")[0]
    two_untracked = (*quiet, dataclasses.replace(checks[6]))
    assert "; 2 entries not tracked — " in render(two_untracked)


def test_json_redacts_the_location_and_names_git_tags_only_for_git() -> None:
    rel = manifest.load(DEMO)
    pypi = manifest.Upstream("pypi", "crmsh")
    git = manifest.Upstream("git", "https://user:token@example.invalid/x.git", "v{version}", "", "1", False)
    comps = [dataclasses.replace(rel.component("libdemo"), upstream=up) for up in (pypi, git)]
    data = to_json(rel, [Check(comps[0], "1.2"), Check(comps[1], "1.3", found=4, prereleases_skipped=1)])
    assert data["components"][0]["upstream"] == {
        "kind": "pypi",
        "location": "crmsh",
        "tag": None,
        "series": None,
        "prereleases": False,
    }
    second = data["components"][1]
    assert (
        second["upstream"]["location"] == "https://***@example.invalid/x.git"
        and second["upstream"]["tag"] == "v{version}"
    )
    assert (second["status"], second["found"], second["prereleases_skipped"]) == ("newer", 4, 1)
    assert data["status"] == "newer versions" and data["exit_status"] == EXIT_NEWER
    # two entries of one component, one of them newer: a value per dist of the newer one
    assert data["set"] == ["el6:libdemo=1.3-1", "el7:libdemo=1.3-1"]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The checks stood in for by ``_checks()``; the timeouts they were asked with."""
    asked: list[float] = []

    def fake(rel: manifest.Release, layout: Layout, console: object, timeout: float) -> tuple[Check, ...]:
        asked.append(timeout)
        return _checks()

    monkeypatch.setattr(report, "check", fake)
    said: list[str] = []  # the process-wide console would hold on to another test's captured stdout
    monkeypatch.setattr(report, "default_console", lambda: Console(sink=said.append, live=False))
    return asked


def test_the_command_prints_json_keeps_both_reports_and_exits_by_status(
    tmp_path: Path, answers: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    opts = Options(release=DEMO, workdir=tmp_path / "work", outdir=tmp_path / "repo", json=True, upstream_timeout=7.5)
    assert report.command(opts) == EXIT_FAILED and answers == [7.5]
    printed = json.loads(capsys.readouterr().out)
    layout = Layout(manifest.load(DEMO).release_id, tmp_path / "repo", tmp_path / "work")
    assert json.loads(layout.upstream_report("json").read_text()) == printed
    assert layout.upstream_report("txt").read_text() == render(_checks()) + "\n"


def test_from_upstream_refuses_when_an_upstream_could_not_be_checked(tmp_path: Path, answers: list[float]) -> None:
    with pytest.raises(UpstreamError) as err:
        report.proposed_sets(DEMO, tmp_path / "work", tmp_path / "repo", [])
    assert str(err.value) == (
        "new-release --from-upstream: 1 upstream(s) could not be checked (first: demod: x (tags "
        "{version}): cannot be reached) — fix: rerun where they can be reached, or give --set "
        "for demod"
    )
    assert err.value.exit_code == EXIT_FAILED


def test_from_upstream_takes_what_is_newer_and_the_user_s_set_wins(tmp_path: Path, answers: list[float]) -> None:
    got = report.proposed_sets(
        DEMO, tmp_path / "work", tmp_path / "repo", ["demod=1.1-1", "libdemo=1.2.1-1"], timeout=3.0
    )
    assert got == ["el6:demo-plugin=0.7-1"] and answers == [3.0]
