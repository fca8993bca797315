"""`new-release` at the edges the mutation run found unguarded (issue 33): refusals of a value just
at the limit, what it reports and leaves to do, the layout it writes, a string source before a table
source, three dists. Through ``derive`` (what the command does), not its helpers."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_new_release import SHA, SMALL

from pmrepo import manifest
from pmrepo.errors import UsageError
from pmrepo.newrelease import derive, parse_set


@pytest.fixture
def small(tmp_path: Path) -> Path:
    for n in ("fence-agents", "pcs"):
        (tmp_path / f"{n}.spec.j2").write_text("Name: {{ name }}\n")
    path = tmp_path / "2.0-1.toml"
    path.write_text(SMALL)
    return path


def _refused(small: Path, *args: object, match: str) -> str:
    with pytest.raises(UsageError) as err:
        derive(small, *args)  # type: ignore[arg-type]
    msg = str(err.value)
    assert "\n" not in msg and match in msg and "— fix:" in msg, msg
    assert sorted(p.name for p in small.parent.glob("*.toml")) == ["2.0-1.toml"]  # nothing written
    return msg


@pytest.mark.parametrize("args,match", [
    (("2.0", "1", "2017-03-01", []), "does not sort after 2.0-1"),  # the same version-release
    (("2.1~rc1", "1", "2017-03-01", []), "--version: invalid value '2.1~rc1'"),
    (("2.1", "1-1", "2017-03-01", []), "--release: invalid value '1-1'"),
    (("2.1", "1", "yesterday", []), "--date: 'yesterday' is not a date"),
    (("2.1", "1", "2017-01-05", []), "--date: 2017-01-05 is before 2.0-1.toml's date 2017-01-06"),
    (("2.1", "1", "2017-03-01", ["pcs=0.9.150-1", "pcs=0.9.151-1"]), "--set pcs: given twice"),
    (("2.1", "1", "2017-03-01", ["pcs=0.9.143-1"]), "does not sort after 0.9.143-1 on el7"),
])
def test_refusals_at_the_edge(small: Path, args: tuple, match: str) -> None:
    _refused(small, *args, match=match)


def test_the_previous_releases_own_date_is_accepted(small: Path) -> None:
    assert manifest.load(derive(small, "2.0", "2", "2017-01-06", []).path).vr == "2.0-2"


@pytest.mark.parametrize("text", ["=1-1", "el7:=1-1", ":pcs=1-1", "pcs=1-", "pcs=-1", "pcs", "pcs=1", "pcs=1-1-1",
                                  "pcs=1^x-1"])
def test_parse_set_refuses_every_incomplete_form(text: str) -> None:
    with pytest.raises(UsageError, match=r"expected \[dist:\]name=version-release"):
        parse_set(text)


def test_a_setting_is_a_frozen_value() -> None:
    s = parse_set("pcs=1-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.version = "2"  # type: ignore[misc]


def test_what_it_reports_and_leaves_to_do(small: Path) -> None:
    res = derive(small, "2.1", "1", "2017-03-01", ["fence-agents=4.0.25-1"])
    assert res.todo[0].startswith("pin ") and res.todo[0].endswith(f"source(s): ./build.py pin --release {res.path}")
    assert not any("no --set given" in t for t in res.todo)
    assert not any("known issues" in t for t in res.todo)
    assert any("removed (https://example.org/fence-agents-4.0.25.tar.xz)" in c for c in res.changed), res.changed
    none = derive(small, "2.2", "1", "2017-03-01", [])
    assert none.todo[-1] == "no --set given: every component is unchanged"


def test_known_issues_of_a_component_are_to_review(small: Path) -> None:
    small.write_text(SMALL.replace('name = "pcs"\n', 'name = "pcs"\nknown_issues = { ja = ["既知"], en = ["known"] }\n'))
    res = derive(small, "2.1", "1", "2017-03-01", [])
    assert any(t.startswith("review the known issues carried over from 2.0-1") for t in res.todo), res.todo


def test_a_split_leaves_one_blank_line_between_the_entries(small: Path) -> None:
    text = derive(small, "2.1", "1", "2017-03-01", ["el7:fence-agents=4.0.25-1"]).path.read_text()
    assert "\n\n\n" not in text and text.count("\n\n[[components]]\n") == 3, text


def test_a_table_source_after_a_plain_url_string_is_rewritten(small: Path) -> None:
    small.write_text(SMALL.replace(
        f'sources = [{{ url = "https://example.org/v0.9.143.tar.gz", filename = "pcs-0.9.143.tar.gz", sha256 = "{SHA}" }}]',
        f'sources = ["https://example.org/helper.txt", {{ url = "https://example.org/pcs-0.9.143.tar.gz", sha256 = "{SHA}" }}]'))
    pcs = manifest.load(derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"]).path).component("pcs")
    assert [s.url for s in pcs.sources] == ["https://example.org/helper.txt", "https://example.org/pcs-0.9.150.tar.gz"]
    assert pcs.sources[1].sha256 is None


THREE = SMALL.replace("[dists.el7]\nrhel = 7\n", "[dists.el7]\nrhel = 7\n[dists.el8]\nrhel = 8\n").replace(
    "packages.el7 = [\"fence-agents-all\", \"fence-agents-common\"]",
    "packages.el7 = [\"fence-agents-all\", \"fence-agents-common\"]\npackages.el8 = [\"fence-agents-all\"]")


def test_a_split_of_the_middle_dist_keeps_the_entries_in_dist_order(small: Path) -> None:
    small.write_text(THREE)
    rel = manifest.load(derive(small, "2.1", "1", "2017-03-01", ["el7:fence-agents=4.0.25-1"]).path)
    assert [(c.dists, c.vr) for c in rel.entries("fence-agents")] == [(("el6", "el8"), "4.0.22-1"),
                                                                       (("el7",), "4.0.25-1")]
    first = manifest.load(derive(small, "2.1", "2", "2017-03-01", ["el6:fence-agents=4.0.25-1"]).path)
    assert [(c.dists, c.vr) for c in first.entries("fence-agents")] == [(("el6",), "4.0.25-1"),
                                                                         (("el7", "el8"), "4.0.22-1")]


def test_a_derived_manifest_that_does_not_load_is_refused_and_not_written(small: Path) -> None:
    """A date rpm cannot store passes the argument checks (it is after the previous one) but not the
    loader: the derived text is checked before it is written."""
    _refused(small, "2.1", "1", "2040-01-01", [], match="new-release")
