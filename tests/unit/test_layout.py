"""pmrepo.layout: the one owner of the work and output trees: every path of a release, a dist and
an output directory, the user's cache, and where a name from outside may lead (``inside``)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from pmrepo import layout
from pmrepo.layout import DistLayout, Layout, Output, inside, safe_relative


def test_the_cache_directory_follows_the_override_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PMREPO_CACHE_DIR", str(tmp_path / "mine"))
    assert layout.timings_file() == tmp_path / "mine" / "timings.json"
    monkeypatch.delenv("PMREPO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert layout.user_cache() == tmp_path / "xdg" / "pmrepo"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/not/allowed")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert layout.user_cache() == tmp_path / "home" / ".cache" / "pmrepo"


def test_inside_keeps_names_in_the_root(tmp_path: Path) -> None:
    (tmp_path / "repodata").mkdir()
    assert inside(tmp_path, "repodata/x.xml.gz") == tmp_path / "repodata" / "x.xml.gz"
    assert inside(tmp_path, "./repodata//x") == tmp_path / "repodata" / "x"
    for bad in ("/etc/shadow", "../x", "repodata/../../x", "a\\b", "", "."):
        assert inside(tmp_path, bad) is None, bad
    os.symlink("/etc", tmp_path / "out")
    os.symlink("loop", tmp_path / "loop")
    assert inside(tmp_path, "out/shadow") is None and inside(tmp_path, "loop/x") is None
    os.symlink("repodata", tmp_path / "in")
    assert inside(tmp_path, "in/x") == tmp_path / "in" / "x"  # a link that stays inside is the tree's own


def test_safe_relative_normalises_or_refuses() -> None:
    assert safe_relative("a//./b/") == PurePosixPath("a/b")
    assert safe_relative("/abs/x") == PurePosixPath("abs/x")  # made relative here; inside() refuses it
    for bad in ("", ".", "/", "a/../b", "..", "a\\b"):
        assert safe_relative(bad) is None, bad


def test_file_names_of_a_release() -> None:
    assert layout.rpm_file_name("pacemaker-repo", "1.1.14-1.1.el7", "x86_64") == (
        "pacemaker-repo-1.1.14-1.1.el7.x86_64.rpm"
    )
    assert layout.public_key_name("linux-ha-ja-pacemaker") == "RPM-GPG-KEY-linux-ha-ja-pacemaker"
    assert layout.sbom_name("r-1-1", "el6") == "r-1-1.el6.spdx.json"
    assert layout.provenance_name("r-1-1", "el6") == "r-1-1.el6.provenance.json"
    tree = Path("/t")
    assert (layout.repo_rpm_dir(tree), layout.repodata_dir(tree), layout.repomd_xml(tree)) == (
        Path("/t/rpm"),
        Path("/t/repodata"),
        Path("/t/repodata/repomd.xml"),
    )
    assert layout.run_logs(tree) == Path("/t/logs") and layout.mock_state_dir(tree) == Path("/t/mock")
    assert layout.mock_reference_venv(tree) == Path("/t/tools/mock-6.7")


def test_a_release_layout_in_the_work_and_output_trees() -> None:
    lay = Layout("r-1-1", Path("/o"), Path("/w"))
    assert (lay.cache, lay.specinfo_cache, lay.template_cache, lay.store) == (
        Path("/w/cache"),
        Path("/w/cache/specinfo"),
        Path("/w/cache/templates"),
        Path("/w/store"),
    )
    assert (lay.mock_state, lay.log("sign.log"), lay.staging) == (
        Path("/w/mock"),
        Path("/w/logs/sign.log"),
        Path("/o/.staging"),
    )
    assert (lay.work, lay.release_logs, lay.sources("libqb")) == (
        Path("/w/r-1-1"),
        Path("/w/r-1-1/logs"),
        Path("/w/r-1-1/sources/libqb"),
    )
    assert (lay.upstream_config, lay.upstream_log("pacemaker"), lay.upstream_report("json")) == (
        Path("/w/r-1-1/upstream/nvchecker.toml"),
        Path("/w/r-1-1/upstream/logs/pacemaker.log"),
        Path("/w/r-1-1/upstream/upstream.json"),
    )
    assert (lay.release_out, lay.sums_file) == (Path("/o/r-1-1"), Path("/o/r-1-1/SHA256SUMS"))


def test_a_dist_layout() -> None:
    d = Layout("r-1-1", Path("/o"), Path("/w")).dist("el7")
    work = Path("/w/r-1-1/el7")
    assert (d.work, d.specs, d.spec("libqb"), d.spec("x.repo")) == (
        work,
        work / "specs",
        work / "specs/libqb.spec",
        work / "specs/x.repo",
    )
    assert d.trees() == {"main": work / "tree", "debuginfo": work / "debuginfo-tree", "src": work / "src-tree"}
    assert d.assembled() == (work / "tree", work / "debuginfo-tree", work / "src-tree", work / "gates")
    assert (d.comps_xml, d.rpmbuild_top("meta"), d.public_key("rid"), d.reuse_scratch, d.log("a.log")) == (
        work / "comps.xml",
        work / "meta-top",
        work / "RPM-GPG-KEY-rid",
        work / "reuse",
        work / "logs/a.log",
    )
    out = d.output
    assert out == Output(Path("/o/r-1-1/el7"))
    assert (out.build_json, out.installed_json, out.check_results) == (
        Path("/o/r-1-1/el7/build.json"),
        Path("/o/r-1-1/el7/installed.json"),
        Path("/o/r-1-1/el7/gates/results.json"),
    )
    assert d.tree_sbom(d.tree) == work / "tree/r-1-1.el7.spdx.json"
    assert (d.sbom(out), d.provenance(out)) == (
        out.root / "r-1-1.el7.spdx.json",
        out.root / "r-1-1.el7.provenance.json",
    )


def test_a_layout_without_a_work_directory_refuses_work_paths() -> None:
    lay = Layout("r-1-1", Path("/o"))
    assert lay.release_out == Path("/o/r-1-1") and lay.dist("el6").output.root == Path("/o/r-1-1/el6")
    with pytest.raises(ValueError, match="this layout has no work directory"):
        _ = lay.store
    d = lay.dist("el6")
    assert d.work_root is None
    with pytest.raises(ValueError, match=r"^/o/r-1-1/el6: this layout has no work directory$"):
        _ = d.specs


def test_a_staging_output_is_fresh_and_outside_the_release(tmp_path: Path) -> None:
    d = Layout("r-1-1", tmp_path / "o", tmp_path / "w").dist("el7")
    a, b = d.new_staging(), d.new_staging()
    assert a != b and a.root.parent == b.root.parent == tmp_path / "o" / ".staging"
    assert a.root.name.startswith("r-1-1-el7-") and (a.root.stat().st_mode & 0o777) == 0o755
    assert not a.root.is_relative_to(tmp_path / "o" / "r-1-1")  # never checksummed or published
    (a.root / "b.rpm").write_text("")
    (a.root / "a.rpm").write_text("")
    (a.root / "build.json").write_text("{}")
    assert [p.name for p in a.rpms()] == ["a.rpm", "b.rpm"]


def test_a_dist_layout_is_a_frozen_value() -> None:
    d = Layout("r", Path("/o"), Path("/w")).dist("el7")
    assert d == DistLayout(Path("/w/r/el7"), Output(Path("/o/r/el7")), Path("/o/.staging"), "el7", "r")
    with pytest.raises(AttributeError):
        d.dist = "el6"  # type: ignore[misc]
