"""`new-release` at the edges the mutation run found unguarded (issue 33): refusals of a value just
at the limit, what it reports and leaves to do, the layout it writes, a string source before a table
source, three dists. Through ``derive`` (what the command does), not its helpers."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.errors import UsageError
from pmrepo.manifest.next_release import derive, parse_set

from .test_next_release import SHA, SMALL


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
    (("2.1~rc1", "1", "2017-03-01", []), "--to 2.1~rc1-1: invalid version '2.1~rc1'"),
    (("2.1", "1-1", "2017-03-01", []), "--to 2.1-1-1: invalid release '1-1'"),
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
    small.write_text(SMALL.replace('name = "pcs"\n',
                                   'name = "pcs"\nknown_issues = { ja = ["既知"], en = ["known"] }\n'))
    res = derive(small, "2.1", "1", "2017-03-01", [])
    assert any(t.startswith("review the known issues carried over from 2.0-1") for t in res.todo), res.todo


def test_a_split_leaves_one_blank_line_between_the_entries(small: Path) -> None:
    text = derive(small, "2.1", "1", "2017-03-01", ["el7:fence-agents=4.0.25-1"]).path.read_text()
    assert "\n\n\n" not in text and text.count("\n\n[[components]]\n") == 3, text


def test_a_table_source_after_a_plain_url_string_is_rewritten(small: Path) -> None:
    small.write_text(SMALL.replace(
        PCS_SRC,
        'sources = ["https://example.org/helper.txt", '
        f'{{ url = "https://example.org/pcs-0.9.143.tar.gz", sha256 = "{SHA}" }}]'))
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


# -- after issue 26's rewriting (versionurl): the walk over a component's sources -----------------

PCS_SRC = ('sources = [{ url = "https://example.org/v0.9.143.tar.gz", filename = "pcs-0.9.143.tar.gz", '
           f'sha256 = "{SHA}" }}]')


def _pcs_sources(small: Path, sources: str) -> None:
    assert PCS_SRC in SMALL
    small.write_text(SMALL.replace(PCS_SRC, f"sources = [{sources}]"))


def test_every_source_after_a_path_or_a_plain_string_is_rewritten(small: Path) -> None:
    (small.parent / "extra").mkdir()
    _pcs_sources(small, '{ path = "extra", filename = "extra.tar.gz" }, "https://example.org/pcs-0.9.143.tar.gz", '
                        f'{{ url = "https://example.org/pcs-doc-0.9.143.tar.gz", sha256 = "{SHA}" }}')
    pcs = manifest.load(derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"]).path).component("pcs")
    assert [s.url for s in pcs.sources] == [None, "https://example.org/pcs-0.9.150.tar.gz",
                                            "https://example.org/pcs-doc-0.9.150.tar.gz"]
    assert pcs.sources[2].sha256 is None


def test_no_versioned_source_names_the_first_unversioned_url(small: Path) -> None:
    _pcs_sources(small, '"https://example.org/a.txt", "https://example.org/b.txt"')
    msg = _refused(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"], match="components.pcs.sources[0]")
    assert "no version 0.9.143 in the path of https://example.org/a.txt" in msg


def test_a_rewritten_inline_source_reads_as_written(small: Path) -> None:
    text = derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"]).path.read_text()
    # (the spaces before filename are as tomlkit leaves them; the table stays one inline table, closed at once)
    assert re.search(r'sources = \[\{ url = "https://example.org/v0\.9\.150\.tar\.gz", '
                     r'+filename = "pcs-0\.9\.150\.tar\.gz" \}\]\n', text), text


def test_an_output_elsewhere_gets_an_example_beside_the_manifest(small: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    msg = _refused(small, "2.1", "1", "2017-03-01", [], tmp_path / "elsewhere" / "next.toml", match="--output")
    assert f"e.g. --output {small.parent / 'next.toml'}" in msg
    msg = _refused(small, "2.1", "1", "2017-03-01", [], tmp_path / "elsewhere" / "next.txt", match="--output")
    assert f"e.g. --output {small.parent / '2.1-1.toml'}" in msg


def test_a_derived_text_that_does_not_load_is_never_written(tmp_path: Path) -> None:
    from pmrepo.manifest.next_release import _write_checked

    target = tmp_path / "2.1-1.toml"
    with pytest.raises(UsageError, match=r"pmrepo wrote invalid TOML for 2\.1-1\.toml .* report this as a bug"):
        _write_checked(target, "[release\n")
    with pytest.raises(UsageError, match=r"2\.1-1\.toml as derived is invalid \(.*2\.1-1\.toml: release"):
        _write_checked(target, '[release]\nversion = "2.1"\n')
    assert list(tmp_path.iterdir()) == []


def test_a_set_component_loses_its_change_texts(small: Path) -> None:
    derived = derive(small, "2.1", "1", "2017-03-01", ["fence-agents=4.0.25-1"])
    fa = manifest.load(derived.path).component("fence-agents")
    assert fa.changes == "" and not fa.change_notes and not fa.upgrade_warnings


def test_a_source_written_as_a_table_loses_its_pin(small: Path) -> None:
    """`[[components.sources]]` tables (not inline): the sha256 and size keys are deleted in place."""
    small.write_text(SMALL.replace(PCS_SRC, "") + '[[components.sources]]\nurl = "https://example.org/pcs-0.9.143.tar.gz"\n'
                     f'sha256 = "{SHA}"\nsize = 12\n')
    res = derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"])
    (src,) = manifest.load(res.path).component("pcs").sources
    assert (src.url, src.sha256, src.size) == ("https://example.org/pcs-0.9.150.tar.gz", None, None)
    assert "sha256" not in res.path.read_text().split("[[components.sources]]")[1]


def test_a_target_that_appears_while_writing_is_refused(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.manifest import next_release as newrelease

    def link(src: str, dst: str) -> None:
        Path(dst).write_text("someone else's")
        raise FileExistsError(dst)

    monkeypatch.setattr(newrelease.os, "link", link)
    with pytest.raises(UsageError, match=r"2\.1-1\.toml: already exists"):
        derive(small, "2.1", "1", "2017-03-01", [])
    assert (small.parent / "2.1-1.toml").read_text() == "someone else's"


def test_garbage_collection_is_back_on_after_a_derive(small: Path) -> None:
    import gc

    assert gc.isenabled()
    derive(small, "2.1", "1", "2017-03-01", [])
    assert gc.isenabled()
