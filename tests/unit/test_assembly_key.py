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
    return R2(**values, knob=knob)  # type: ignore[no-any-return]


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
