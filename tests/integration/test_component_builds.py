"""Spec development on any host (issue 9): ``build.py build --component NAME``
builds NAME and its chain only; ``--host-buildrequires`` (rpmbuild) takes
BuildRequires the host cannot show as provided by its own packages, marks
the result not shippable (build.json, summary) and publish refuses it;
``plan``/``check`` list the BuildRequires this host lacks.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic import make_release, needs_rpmbuild

from pmrepo.errors import PublishError
from pmrepo.publish.upload import refuse_unshippable
from pmrepo.records import BuildRecord

ROOT = Path(__file__).resolve().parents[2]
MISSING = "pmrepo-no-such-devel"



def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def _built(work: Path) -> set[str]:
    return {p.parent.parent.name for p in (work / "store" / "el7").glob("*/*/meta.json")}


@needs_rpmbuild
def test_build_component_builds_it_and_its_chain(tmp_path: Path) -> None:
    rel = make_release(tmp_path / "rel", {"base": [], "mid": ["base"], "top": ["mid"], "other": []})
    work = tmp_path / "w"
    proc = _cli("build", "--release", str(rel), "--workdir", str(work), "--component", "mid")
    assert proc.returncode == 0, proc.stderr
    assert _built(work) == {"base", "mid"}
    # repeatable: adds `other`; the chain already built is reused
    proc = _cli("build", "--release", str(rel), "--workdir", str(work), "--component", "mid", "--component", "other")
    assert proc.returncode == 0, proc.stderr
    assert _built(work) == {"base", "mid", "other"}
    assert "reused" in proc.stdout and "top" not in proc.stdout.split("building")[-1]


def test_build_component_unknown_name_is_one_line(tmp_path: Path) -> None:
    rel = make_release(tmp_path / "rel", {"base": []})
    proc = _cli("build", "--release", str(rel), "--workdir", str(tmp_path / "w"), "--component", "nope")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--component nope: no such component" in lines[0] and "base" in lines[0]


@needs_rpmbuild
def test_host_buildrequires_builds_but_is_not_shippable(tmp_path: Path) -> None:
    rel = make_release(tmp_path / "rel", {"base": [], "user": ["base"]}, extra_br={"user": [MISSING]})
    work, out = tmp_path / "w", tmp_path / "o"
    common = ["--release", str(rel), "--workdir", str(work), "--outdir", str(out)]
    # without the option: refused before building, in one line naming the option
    proc = _cli("build", *common)
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    assert MISSING in proc.stderr and "--host-buildrequires" in proc.stderr
    # plan lists what the host lacks, with and without the option
    proc = _cli("plan", *common)
    assert proc.returncode == 0, proc.stderr
    assert f"BuildRequires this host lacks for backend rpmbuild (1): {MISSING}" in proc.stdout
    proc = _cli("check", "--release", str(rel), "--host-buildrequires")
    assert proc.returncode == 0, proc.stderr
    assert f"(1): {MISSING}" in proc.stdout and "NOT shippable" in proc.stdout
    # with it: builds, says NOT SHIPPABLE, build.json records it, publish refuses
    proc = _cli("all", *common, "--host-buildrequires", "--no-gates", "--no-install-check")
    assert proc.returncode == 0, proc.stderr
    assert "NOT SHIPPABLE: built with --host-buildrequires" in proc.stdout and MISSING in proc.stdout
    assert "el7: NOT SHIPPABLE" in proc.stdout and "publish refuses it" in proc.stdout
    meta = json.loads(next(out.glob("*/el7/build.json")).read_text())
    assert meta["shippable"] is False and MISSING in meta["not_shippable"]
    (tmp_path / "mirror").mkdir()
    proc = _cli("publish", *common, "--target", str(tmp_path / "mirror"), "--allow-unchecked")
    assert proc.returncode != 0 and "not shippable" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not any((tmp_path / "mirror").iterdir())
    # a normal rebuild (the BuildRequires dropped) is shippable again and replaces it
    rel.parent.joinpath("specs", "user.spec.j2").write_text(
        rel.parent.joinpath("specs", "user.spec.j2").read_text().replace(f"BuildRequires:  {MISSING}\n", ""))
    proc = _cli("all", *common, "--no-gates", "--no-install-check")
    assert proc.returncode == 0, proc.stderr
    assert "NOT SHIPPABLE" not in proc.stdout
    assert json.loads(next(out.glob("*/el7/build.json")).read_text())["shippable"] is True


def test_host_buildrequires_is_for_rpmbuild_only(tmp_path: Path) -> None:
    rel = make_release(tmp_path / "rel", {"base": []})
    proc = _cli("build", "--release", str(rel), "--workdir", str(tmp_path / "w"), "--backend", "mock",
                "--host-buildrequires")
    assert proc.returncode != 0 and "--host-buildrequires is for the rpmbuild backend" in proc.stderr


def _record(dist: str, **kw: object) -> BuildRecord:
    return BuildRecord(dist=dist, release="r-1-1", packages={"a": "1-1"}, files={}, **kw)  # type: ignore[arg-type]


def test_publish_refuses_an_unshippable_build_record(tmp_path: Path) -> None:
    (tmp_path / "el6").mkdir()
    _record("el6", shippable=True).write(tmp_path / "el6" / "build.json")
    refuse_unshippable(tmp_path)  # shippable: nothing to refuse
    (tmp_path / "el7").mkdir()
    _record("el7", shippable=False, not_shippable="because").write(tmp_path / "el7" / "build.json")
    with pytest.raises(PublishError, match=r"el7/build\.json: not shippable \(because\)"):
        refuse_unshippable(tmp_path)
    (tmp_path / "el7" / "build.json").write_text(json.dumps({"shippable": False}))  # no record pmrepo wrote
    with pytest.raises(PublishError, match=r"el7/build\.json: unreadable build record"):
        refuse_unshippable(tmp_path)
