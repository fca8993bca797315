"""``pmrepo upstream``'s checks (pmrepo.upstream.check): statuses in rpm's order, where an upstream
is in words, the nvchecker configuration written privately, each kind of answer read, progress as
answers arrive and the result in manifest order — and nvchecker itself dispatching to pmrepo's page
source against a loopback server (milliseconds; git upstreams: tests/integration/test_upstream.py)."""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nvchecker.api import GetVersionError

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import ManifestError, UsageError
from pmrepo.layout import Layout
from pmrepo.progress import Console
from pmrepo.upstream import check
from pmrepo.upstream.check import Check, UpstreamError

from ..loopback import serve

GIT = manifest.Upstream("git", "https://user:pw@example.invalid/demo.git", "v{version}", "", "1", False)
PYPI = manifest.Upstream("pypi", "demo-tools")
PAGE = manifest.Upstream("page", "https://example.invalid/files/", regex=r"libdemo-([\d.]+)\.tar\.gz")


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO_RELEASE)


def tracked(demo: manifest.Release, **ups: manifest.Upstream) -> manifest.Release:
    """The demo with ``upstream`` set on the named components (by key) and on no other."""
    comps = tuple(dataclasses.replace(c, upstream=ups.get(c.key.replace("-", "_"))) for c in demo.components)
    return dataclasses.replace(demo, components=comps)


def test_status_follows_rpm_s_version_order(demo: manifest.Release) -> None:
    lib = dataclasses.replace(demo.component("libdemo"), upstream=GIT, version="1.9")
    assert [Check(lib, v).status for v in ("1.10", "1.9", "1.9.0", "1.8.99")] == ["newer", "current", "newer", "ahead"]
    assert Check(lib).status == "failed" and Check(lib, "2.0", problem="x").status == "failed"
    assert Check(dataclasses.replace(lib, upstream=None), "2.0").status == "untracked"


def test_where_an_upstream_is_in_words_without_credentials() -> None:
    assert check.describe(GIT) == "https://***@example.invalid/demo.git (tags v{version})"
    assert check.describe(PYPI) == "PyPI demo-tools"
    assert check.describe(PAGE) == "https://example.invalid/files/"


def test_one_configuration_entry_per_kind(
    demo: manifest.Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMREPO_PYPI_URL", "http://127.0.0.1:9/pypi/")
    lib = demo.component("libdemo")
    log = tmp_path / "libdemo.log"
    assert check.config_entry(dataclasses.replace(lib, upstream=GIT), 5.0, log) == {
        "source": "pmrepo_git",
        "timeout": 5.0,
        "git": GIT.location,
        "log": str(log),
        "tag": "v{version}",
        "prereleases": False,
        "series": "1",
    }
    assert check.config_entry(dataclasses.replace(lib, upstream=PYPI), 5.0, log) == {
        "source": "pmrepo_pypi",
        "timeout": 5.0,
        "url": "http://127.0.0.1:9/pypi/demo-tools/json",
        "pypi": "demo-tools",
        "tag": "{version}",
        "prereleases": False,
    }
    assert check.config_entry(dataclasses.replace(lib, upstream=PAGE), 5.0, log) == {
        "source": "pmrepo_page",
        "timeout": 5.0,
        "url": PAGE.location,
        "regex": PAGE.regex,
        "tag": "{version}",
        "prereleases": False,
    }


def test_the_configuration_is_written_privately_with_the_tracked_entries_only(
    demo: manifest.Release, tmp_path: Path
) -> None:
    rel = tracked(demo, libdemo=GIT, demo_tools=PYPI)
    layout = Layout(rel.release_id, tmp_path / "repo", tmp_path / "work")
    path = check.write_config(rel, layout, 12.0)
    assert path == layout.upstream_config and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(layout.upstream.stat().st_mode) == 0o700 and layout.upstream_logs.is_dir()
    data = tomllib.loads(path.read_text())
    assert data["__config__"] == {"max_concurrency": check.MAX_CONCURRENCY}
    assert sorted(data) == ["__config__", "demo-tools", "libdemo"]
    assert data["libdemo"]["log"] == str(layout.upstream_log("libdemo")) and data["demo-tools"]["timeout"] == 12.0


def test_an_upstream_directory_that_is_not_private_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "upstream")
    with pytest.raises(UpstreamError) as err:
        check.private_dir(tmp_path / "upstream")
    assert str(err.value) == (
        f"{tmp_path / 'upstream'}: is a symlink or not a directory — fix: remove it; pmrepo "
        "upstream creates it with mode 0700"
    )
    assert err.value.exit_code == check.EXIT_FAILED


def test_each_kind_of_answer_is_read(demo: manifest.Release) -> None:
    lib = dataclasses.replace(demo.component("libdemo"), upstream=GIT)
    got = check._answer(lib, GetVersionError("cannot be reached: host not found"))
    assert got.problem == "https://***@example.invalid/demo.git (tags v{version}): cannot be reached: host not found"
    got = check._answer(lib, RuntimeError("first line\nsecond line"))
    assert got.problem == "https://***@example.invalid/demo.git (tags v{version}): cannot be checked: first line"
    assert check._answer(lib, RuntimeError()).problem.endswith("cannot be checked: RuntimeError")  # type: ignore[union-attr]
    got = check._answer(lib, ["v1.1", "v1.3-rc1", "v1.2", "v2.0", "x"])
    assert (got.newest, got.problem, got.found, got.prereleases_skipped) == ("1.2", None, 5, 1)
    assert check._answer(lib, "v1.0").newest == "1.0"  # one answer, not a list
    none = check._answer(lib, ["x"])
    assert none.newest is None and none.problem is not None and none.problem.startswith(check.describe(GIT) + ": ")


def fake_nvchecker(answers: dict[str, Any]) -> Callable[[Path, Callable[[str, Any], None]], None]:
    def run(config: Path, on_result: Callable[[str, Any], None]) -> None:
        assert config.is_file()
        for name, answer in answers.items():
            on_result(name, answer)

    return run


def test_progress_as_answers_arrive_and_the_result_in_manifest_order(
    demo: manifest.Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = tracked(demo, libdemo=GIT, demod=GIT, demo_tools=GIT)
    monkeypatch.setattr(
        check,
        "run_nvchecker",
        fake_nvchecker({"demo-tools": ["v1.0"], "libdemo": ["v1.2"], "demod": GetVersionError("has no tags")}),
    )
    lines: list[str] = []
    got = check.check(
        rel,
        Layout(rel.release_id, tmp_path / "repo", tmp_path / "work"),
        Console(sink=lines.append, live=False),
        timeout=4,
    )
    assert [c.component.key for c in got] == [c.key for c in rel.components]
    status = {c.component.key: c.status for c in got}
    assert status == {
        "libdemo": "current",
        "demod": "failed",
        "demo-plugin": "untracked",
        "demo-tools": "ahead",
        "demo-units": "untracked",
        "demo-extras": "untracked",
    }
    progress = [line.split("] ", 2)[-1] for line in lines if "] [" in line]
    assert progress == [
        "demo-tools: 1.0 (shipped 2.0 is newer)",
        "libdemo: 1.2 (shipped)",
        f"demod: could not check ({check.describe(GIT)}: has no tags)",
    ]
    assert [line.split("] [")[1].split("]")[0] for line in lines if "] [" in line] == [" 1/3", " 2/3", " 3/3"]


def test_nothing_to_check_or_no_time_to_check_it_is_refused(demo: manifest.Release, tmp_path: Path) -> None:
    layout = Layout(demo.release_id, tmp_path / "repo", tmp_path / "work")
    with pytest.raises(UsageError, match=r"^--timeout 0: must be more than 0 seconds — fix: e\.g\. --timeout 30$"):
        check.check(tracked(demo, libdemo=GIT), layout, Console(sink=lambda s: None), timeout=0)
    with pytest.raises(ManifestError) as err:
        check.check(tracked(demo), layout, Console(sink=lambda s: None))
    assert "no component has an upstream" in str(err.value) and "\n" not in str(err.value)
    assert not layout.upstream.exists()  # refused before anything was written


def test_nvchecker_dispatches_to_pmrepo_s_page_source(demo: manifest.Release, tmp_path: Path) -> None:
    page = b'<a href="libdemo-1.2.tar.gz">x</a> <a href="libdemo-1.10.tar.gz">y</a> libdemo-1.9.tar.gz'
    with serve({"/files/": page}) as srv:
        up = dataclasses.replace(PAGE, location=srv.url + "/files/")
        rel = tracked(demo, libdemo=up, demod=dataclasses.replace(up, location=srv.url + "/gone/"))
        got = check.check(
            rel,
            Layout(rel.release_id, tmp_path / "repo", tmp_path / "work"),
            Console(sink=lambda s: None, live=False),
            timeout=5,
        )
    by = {c.component.key: c for c in got}
    assert (by["libdemo"].newest, by["libdemo"].found, by["libdemo"].status) == ("1.10", 3, "newer")
    assert by["demod"].problem == f"{srv.url}/gone/: cannot be read: HTTP 404 Not Found"


def test_a_configuration_nvchecker_cannot_load_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "nvchecker.toml"
    bad.write_text("[x\n")
    with pytest.raises(
        UpstreamError,
        match=r"nvchecker\.toml: nvchecker cannot load it \(.*\) — fix: remove it and "
        "rerun$",
    ):
        check.run_nvchecker(bad, lambda name, answer: None)
