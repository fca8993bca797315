"""Assembly.key is derived from the values that shape the packages, not a hand list:
a new Release field counts without touching assemble.py; the notes' texts do not."""
from __future__ import annotations

import dataclasses

from conftest import DEMO

from pmrepo import manifest
from pmrepo.assemble.assembly import _digest, package_shape


def _with_knob(rel: manifest.Release, knob: str) -> manifest.Release:
    R2 = dataclasses.make_dataclass("R2", [("knob", str, dataclasses.field(default="a"))],
                                    bases=(manifest.Release,), frozen=True)
    values = {f.name: getattr(rel, f.name) for f in dataclasses.fields(rel) if f.init}
    return R2(**values, knob=knob)


def test_a_new_release_field_changes_the_key() -> None:
    rel = manifest.load(DEMO)
    dist = rel.dists["el7"]
    a, b = _with_knob(rel, "a"), _with_knob(rel, "b")
    assert package_shape(a, dist)["knob"] == "a"
    assert _digest(package_shape(a, dist)) != _digest(package_shape(b, dist))
    assert _digest(package_shape(a, dist)) == _digest(package_shape(_with_knob(rel, "a"), dist))


def test_values_that_shape_packages_change_it_notes_do_not() -> None:
    rel = manifest.load(DEMO)
    dist = rel.dists["el7"]
    base = _digest(package_shape(rel, dist))
    assert _digest(package_shape(dataclasses.replace(rel, vendor="someone else"), dist)) != base
    assert _digest(package_shape(dataclasses.replace(rel, summary="other"), dist)) != base
    comp = dataclasses.replace(rel.components[0], version="9.9")
    assert _digest(package_shape(dataclasses.replace(rel, components=(comp, *rel.components[1:])), dist)) != base
    notes = dataclasses.replace(rel, change_notes=manifest.Text(en=("a new note",)),
                                components=(dataclasses.replace(rel.components[0],
                                                                known_issues=manifest.Text(en=("x",))),
                                            *rel.components[1:]))
    assert _digest(package_shape(notes, dist)) == base
    other = dataclasses.replace(rel, dists={**rel.dists, "el6": dataclasses.replace(rel.dists["el6"], image="x")})
    assert _digest(package_shape(other, dist)) == base  # another dist's value


def test_a_repository_value_changes_the_key() -> None:
    rel = manifest.load(DEMO)
    dist = rel.dists["el7"]
    base = _digest(package_shape(rel, dist))
    for kind, name, value in (("main", "prefix", "/opt/pmrepo-demo/moved"), ("debuginfo", "repo_file", "x.repo"),
                              ("src", "repo_name", "another name")):
        repos = tuple(dataclasses.replace(r, **{name: value}) if r.kind == kind else r for r in rel.repositories)
        moved = dataclasses.replace(rel, repositories=repos)
        assert getattr(moved.repo(kind), name) == value
        assert _digest(package_shape(moved, dist)) != base, (kind, name)


def test_build_json_versions_come_from_the_headers_not_the_file_names() -> None:
    import datetime as dt
    from pathlib import Path

    import pytest

    from pmrepo.assemble.assembly import shipped_versions
    from pmrepo.attest import sbom
    from pmrepo.errors import BuildError

    def rpm(file_name: str, name: str, version: str, release: str, repository: str = "main") -> sbom.Rpm:
        return sbom.Rpm(file_name, "0" * 64, name, version, release, "x86_64", "MIT", "", "", repository)

    content = sbom.DistContent(
        release_id="demo-1-1", dist="el7", vendor="v", license="MIT", date=dt.date(2026, 1, 1), repo_packages=(),
        rpms=(rpm("libdemo-1.0-1.el7.x86_64.rpm", "libdemo", "1.0", "1.el7"),
              # a name whose dashes do not split as name-version-release: the header says what it is
              rpm("demo-tools-2.0-3.el7.x86_64.rpm", "demo-tools", "2.0", "3.el7"),
              rpm("odd.rpm", "demo-extras", "4.1", "2.el7"),
              rpm("libdemo-debuginfo-1.0-1.el7.x86_64.rpm", "libdemo-debuginfo", "1.0", "1.el7", "debuginfo")),
        sources=())
    shipped = [Path("/t/demo-tools-2.0-3.el7.x86_64.rpm"), Path("/t/libdemo-1.0-1.el7.x86_64.rpm"), Path("/t/odd.rpm")]
    got = shipped_versions(content, shipped)
    assert got == {"demo-tools": "2.0-3.el7", "libdemo": "1.0-1.el7", "demo-extras": "4.1-2.el7"}
    assert list(got) == ["demo-tools", "libdemo", "demo-extras"]  # in the shipped order, as build.json had it
    with pytest.raises(BuildError, match=r"no header record of libdemo-debuginfo-1\.0-1\.el7\.x86_64\.rpm"):
        shipped_versions(content, [Path("/t/libdemo-debuginfo-1.0-1.el7.x86_64.rpm")])  # not in main
