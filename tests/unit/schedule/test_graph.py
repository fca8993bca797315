"""The build graph from BuildRequires and Provides (the specs' answers given as data)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.errors import GraphError
from pmrepo.render.specs import SpecInfo
from pmrepo.schedule.graph import build_graph


def info(name: str, packages: tuple[str, ...], brs: tuple[str, ...] = (), provides: dict | None = None) -> SpecInfo:
    return SpecInfo(path=Path(f"{name}.spec"), source_name=name, packages=packages, evr="1-1.el7",
                    arches=dict.fromkeys(packages, "x86_64"), provides=provides or {}, buildrequires=brs)


INFOS = {
    "libqb": info("libqb", ("libqb", "libqb-devel"), ("gcc",)),
    "corosync": info("corosync", ("corosync", "corosynclib-devel"), ("libqb-devel",)),
    "glue": info("glue", ("cluster-glue", "cluster-glue-libs-devel"), ("libqb-devel",)),
    "pacemaker": info("pacemaker", ("pacemaker", "pacemaker-libs-devel"),
                      ("corosynclib-devel", "cluster-glue-libs-devel", "pkgconfig(libqb)")),
    "pm_diskd": info("pm_diskd", ("pm_diskd",), ("pacemaker-libs-devel",)),
    "crmsh": info("crmsh", ("crmsh",), ("python-devel",)),
}
INFOS["libqb"].provides["libqb-devel"] = ("libqb-devel", "pkgconfig(libqb)")


def test_order_waves_and_closure() -> None:
    g = build_graph("el7", INFOS, external=lambda br: br in {"gcc", "python-devel"})
    assert g.waves() == [["crmsh", "libqb"], ["corosync", "glue"], ["pacemaker"], ["pm_diskd"]]
    order = g.order()
    assert order.index("libqb") < order.index("corosync") < order.index("pacemaker") < order.index("pm_diskd")
    assert g.deps["pacemaker"] == {"corosync", "glue", "libqb"}  # pkgconfig(libqb) is a Provide of libqb-devel
    assert g.closure("pm_diskd") == {"pacemaker", "corosync", "glue", "libqb"}
    assert g.external == {"libqb": ("gcc",), "corosync": (), "glue": (), "pacemaker": (), "pm_diskd": (),
                          "crmsh": ("python-devel",)}


def test_unsatisfiable_buildrequires_is_one_line_with_the_remedy() -> None:
    with pytest.raises(GraphError, match=r"crmsh \(el7\): BuildRequires 'python-devel' is built by no component.*"
                                         r"fix: use --backend mock"):
        build_graph("el7", INFOS, external=lambda br: br == "gcc", remedy="use --backend mock")


def test_cycle_is_named() -> None:
    infos = dict(INFOS, libqb=info("libqb", ("libqb", "libqb-devel"), ("pacemaker-libs-devel",)))
    with pytest.raises(GraphError, match=r"el7: BuildRequires cycle: .*libqb.*— fix: break the cycle"):
        build_graph("el7", infos, external=lambda br: True)


def test_own_subpackages_are_not_dependencies() -> None:
    g = build_graph("el6", {"a": info("a", ("a", "a-devel"), ("a-devel",))}, external=lambda br: False)
    assert g.deps["a"] == frozenset() and g.waves() == [["a"]]
