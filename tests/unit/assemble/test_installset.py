"""The expected install set (pmrepo.assemble.installset) on hand-made dependencies: the metapackage's
Requires resolved over the shipped packages' Requires/Provides, what is left to the base
repositories, and rpmspec's query lines read. (From the real specs and RPMs:
tests/integration/test_installset.py.)"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pmrepo import manifest
from pmrepo.assemble import installset
from pmrepo.assemble.installset import SEP, Deps, InstallSet
from pmrepo.defaults import DEMO_RELEASE


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO_RELEASE)


def deps(**table: tuple[list[str], list[str]]) -> dict[str, Deps]:
    """name -> (requires, provides) as installset reads them (each package provides its name)."""
    return {
        name.replace("_", "-"): Deps(name.replace("_", "-"), tuple(r), (name.replace("_", "-"), *p))
        for name, (r, p) in table.items()
    }


def resolve(demo: manifest.Release, table: Mapping[str, Deps], dist: str = "el7") -> InstallSet:
    return installset.resolve(demo, demo.dists[dist], table, "rendered specs")


def test_the_metapackage_s_requires_and_what_they_require_come_in(demo: manifest.Release) -> None:
    table = deps(
        demod=(["libdemo.so.1()(64bit)", "bash"], []),
        libdemo=(["glibc"], ["libdemo.so.1()(64bit)"]),
        demo_plugin=(["demo-extras"], []),
        demo_tools=([], []),
        demo_units=(["systemd"], []),
        libdemo_devel=(["libdemo"], []),
        demo_extras=([], []),
    )
    got = resolve(demo, table)
    assert got.packages == ("demo-all", "libdemo", "demod", "demo-plugin", "demo-tools", "demo-units", "demo-extras")
    assert got.why == {
        "libdemo": "demo-all",
        "demod": "demo-all",
        "demo-plugin": "demo-all",
        "demo-tools": "demo-all",
        "demo-units": "demo-all",
        "demo-extras": "demo-plugin",
    }
    assert got.from_base == ("bash", "glibc", "systemd")  # provided by no package of the release
    assert "libdemo-devel" not in got and "demod-devel" not in got  # nothing requires them
    assert got.source == "rendered specs" and "demo-all" in got


def test_without_the_requirement_the_package_stays_out(demo: manifest.Release) -> None:
    table = deps(
        demod=([], []),
        libdemo=([], []),
        demo_plugin=([], []),
        demo_tools=([], []),
        demo_units=([], []),
        demo_extras=([], []),
    )
    assert "demo-extras" not in resolve(demo, table)  # require = "none" and nothing requires it


def test_a_dist_without_the_component_never_brings_it(demo: manifest.Release) -> None:
    table = deps(demo_tools=(["demo-units"], []), demo_units=([], []))
    got = resolve(demo, table, "el6")
    assert "demo-units" not in got.packages and "demo-units" in got.from_base  # el6 ships no demo-units


def test_a_capability_goes_to_the_package_named_after_it_else_the_first_in_manifest_order(
    demo: manifest.Release,
) -> None:
    table = deps(
        demod=(["demo-api", "demo-extras"], []),
        libdemo=([], []),
        libdemo_devel=([], ["demo-api"]),
        demo_plugin=([], []),
        demo_tools=([], []),
        demo_units=([], []),
        demo_extras=([], ["demo-api"]),
        demod_devel=([], ["demo-extras"]),
    )
    got = resolve(demo, table)
    assert got.why["libdemo-devel"] == "demod"  # demo-api: libdemo-devel comes before demo-extras
    assert got.why["demo-extras"] == "demod"  # demo-extras: its own package, not demod-devel before it
    assert "demod-devel" not in got


def test_a_package_already_in_satisfies_a_later_requirement(demo: manifest.Release) -> None:
    table = deps(
        demod=(["libdemo-api"], []),
        libdemo=([], ["libdemo-api"]),
        demo_plugin=([], []),
        demo_tools=([], []),
        demo_units=([], []),
        libdemo_devel=([], ["libdemo-api"]),
    )
    got = resolve(demo, table)
    assert got.packages.count("libdemo") == 1 and "libdemo-devel" not in got


def test_a_package_with_no_known_dependencies_provides_its_name(demo: manifest.Release) -> None:
    got = resolve(demo, {})
    assert got.packages == ("demo-all", "libdemo", "demod", "demo-plugin", "demo-tools", "demo-units")
    assert got.from_base == ()


def test_rpmspec_lines_are_read_names_only_rpmlib_dropped() -> None:
    lines = [
        f"libdemo{SEP}glibc >= 2.12,rpmlib(CompressedFileNames) <= 3.0.4-1,/bin/sh,{SEP}libdemo = 1.2-1,"
        "libdemo.so.1()(64bit),",
        f"demod{SEP}{SEP}",
        "warning: a line of rpmspec that is no query answer",
        f"broken{SEP}only two fields",
    ]
    got = installset._parse(lines)
    assert set(got) == {"libdemo", "demod"}
    assert got["libdemo"] == Deps("libdemo", ("/bin/sh", "glibc"), ("libdemo", "libdemo.so.1()(64bit)"))
    assert got["demod"] == Deps("demod", (), ("demod",))


def test_files_of_an_rpm_are_provides_and_no_rpms_no_query() -> None:
    d = installset._deps("x", ["y > 1", " ", "rpmlib(PayloadIsXz) <= 5.2-1"], ["x = 1-1"], ["/usr/bin/x", ""])
    assert d == Deps("x", ("y",), ("/usr/bin/x", "x"))
    assert installset.deps_from_rpms([]) == {}  # rpm -qp is not run for an empty list
