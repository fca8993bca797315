"""``pmrepo.builders.rpmbuild``: what the host backend decides — which BuildRequires the host can show
it has, what ``--host-buildrequires`` assumes and marks unshippable, the build key's backend part, where
the dependency root is overlaid and when it is not (with the reason in the log) — and the command line
of a binary build (rpmbuild and rpm2archive replaced by stand-ins that leave what a run would)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.builders import base, rpmbuild
from pmrepo.builders.base import MACROS_FILE, BuildRequest
from pmrepo.builders.rpmbuild import RpmbuildBuilder
from pmrepo.errors import BuildError
from pmrepo.manifest import Dist
from pmrepo.run import Result
from pmrepo.sandbox import Sandbox

EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")


def _result(argv: Sequence[str], code: int = 0) -> Result:
    return Result([str(a) for a in argv], code, "", None)


def _request(tmp_path: Path, deps: tuple[Path, ...] = ()) -> BuildRequest:
    outdir = tmp_path / "out"
    outdir.mkdir(exist_ok=True)
    return BuildRequest("a", EL7, tmp_path / "a.spec", tmp_path / "sources", deps, outdir, 1_700_000_000)


# -- what the host provides ----------------------------------------------------------------


def test_the_host_has_a_path_that_exists_or_a_command_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/sh" if name == "sh" else None)
    (tmp_path / "header.h").write_text("")
    b = RpmbuildBuilder()
    assert b.host_has(str(tmp_path / "header.h")) and b.host_has("sh")
    assert not b.host_has(str(tmp_path / "missing.h")) and not b.host_has("libfoo-devel")  # no rpm to ask


def test_the_host_rpmdb_is_asked_for_a_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[str]] = []

    def fake_run(argv: Sequence[str], **kw: Any) -> Result:
        asked.append([str(a) for a in argv])
        return _result(argv, 0 if argv[-1] == "pkgconfig(glib-2.0)" else 1)

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/rpm" if name == "rpm" else None)
    monkeypatch.setattr(rpmbuild, "run", fake_run)
    b = RpmbuildBuilder()
    assert b.host_has("pkgconfig(glib-2.0)") and not b.host_has("libqb-devel")
    assert asked == [
        ["rpm", "-q", "--whatprovides", "pkgconfig(glib-2.0)"],
        ["rpm", "-q", "--whatprovides", "libqb-devel"],
    ]


def test_without_host_buildrequires_a_missing_capability_cannot_be_provided(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RpmbuildBuilder, "host_has", lambda self, cap: cap == "gcc")
    b = RpmbuildBuilder()
    assert b.can_provide("gcc") and not b.can_provide("libqb-devel") and b.lacks("libqb-devel")
    assert b.shippable and b.unshippable_reason() == "" and b.assumed == set()
    assert "--backend mock" in b.remedy and "--host-buildrequires" in b.remedy


def test_host_buildrequires_assumes_what_is_missing_and_is_not_shippable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RpmbuildBuilder, "host_has", lambda self, cap: cap == "gcc")
    b = RpmbuildBuilder(host_buildrequires=True)
    assert not b.shippable
    assert b.unshippable_reason().endswith("packages, unverified")  # nothing assumed yet
    for cap in ("libqb-devel", "gcc", "corosynclib-devel"):
        assert b.can_provide(cap)
    assert b.lacks("libqb-devel") and not b.lacks("gcc")  # plan/check still say what the host lacks
    assert b.assumed == {"libqb-devel", "corosynclib-devel"}
    assert b.unshippable_reason() == (
        "built with --host-buildrequires: BuildRequires taken as provided by this host's own packages, "
        "unverified: corosynclib-devel, libqb-devel"
    )


# -- the namespace and the build key ----------------------------------------------------------


def test_no_namespace_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert not rpmbuild.namespace_available()


@pytest.mark.parametrize(
    "namespace, available, used", [(None, True, True), (None, False, False), (False, True, False), (True, False, False)]
)
def test_the_namespace_option(
    monkeypatch: pytest.MonkeyPatch, namespace: bool | None, available: bool, used: bool
) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: available)
    assert RpmbuildBuilder(namespace=namespace).uses_namespace() is used


def test_the_build_key_part_says_how_dependencies_are_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    macros = MACROS_FILE.read_text()
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: True)
    assert RpmbuildBuilder().config_id(EL7) == f"rpmbuild;root=overlay;sandbox=1;{macros}"
    assert RpmbuildBuilder(namespace=False).config_id(EL7) == f"rpmbuild;root=search-paths;sandbox=1;{macros}"
    host = RpmbuildBuilder(host_buildrequires=True).config_id(EL7)
    assert host == f"rpmbuild;root=overlay;host-buildrequires;sandbox=1;{macros}"


# -- the overlay ------------------------------------------------------------------------------


def _dep_root(tmp_path: Path, *dirs: str) -> Path:
    root = tmp_path / "top" / "BUILD" / ".pmrepo-deps"
    for d in dirs:
        (root / d).mkdir(parents=True)
    return root


def test_without_a_namespace_the_log_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: False)
    req, root = _request(tmp_path), _dep_root(tmp_path, "usr")
    assert RpmbuildBuilder()._overlay(req, root, tmp_path / "top") == {}
    assert RpmbuildBuilder(namespace=False)._overlay(req, root, tmp_path / "top") == {}
    assert req.log.read_text().splitlines() == [
        "pmrepo: dependency root reachable through search paths only: no mount namespace here "
        "(needs root, unshare and overlayfs)",
        "pmrepo: dependency root reachable through search paths only: disabled by the backend option namespace=False",
    ]


def test_the_overlay_covers_the_dependency_roots_system_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: True)
    req, root = _request(tmp_path), _dep_root(tmp_path, "usr", "etc")  # no var/ in it: not overlaid
    got = RpmbuildBuilder()._overlay(req, root, tmp_path / "top")
    ovl = req.outdir / ".pmrepo-overlay"
    assert got == {"PMREPO_DEPS": str(root.resolve()), "PMREPO_OVL": str(ovl.resolve()), "PMREPO_DIRS": "usr etc"}
    assert ovl.is_dir() and not req.log.exists()


def test_a_system_directory_holding_the_builds_own_tree_is_not_overlaid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: True)
    req, root = _request(tmp_path), _dep_root(tmp_path, "usr", "var")
    top = Path("/var/tmp/pmrepo-build-test/el7/a/rpmbuild")  # where BUILD_TREES puts it by default
    got = RpmbuildBuilder()._overlay(req, root, top)
    assert got["PMREPO_DIRS"] == "usr"
    assert req.log.read_text() == f"pmrepo: not overlaying /var: the build's own directory {top} is under it\n"


def test_a_path_overlayfs_options_cannot_carry_falls_back_to_search_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: True)
    req, root = _request(tmp_path), _dep_root(tmp_path / "a,lowerdir=x", "usr")
    assert RpmbuildBuilder()._overlay(req, root, tmp_path / "top") == {}
    assert "has characters overlayfs options cannot carry" in req.log.read_text()
    assert not (req.outdir / ".pmrepo-overlay").exists()


def test_no_system_directory_in_the_dependency_root_is_no_overlay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: True)
    req, root = _request(tmp_path), _dep_root(tmp_path, "opt")
    assert RpmbuildBuilder()._overlay(req, root, tmp_path / "top") == {}


# -- a binary build, with stand-ins for rpmbuild and rpm2archive ---------------------------------


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeTools:
    """``run`` for a binary build: rpm2archive writes ``<rpm>.tgz``; rpmbuild leaves ``rpms`` in RPMS/."""

    def __init__(self, rpms: Sequence[str]) -> None:
        self.rpms = rpms
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.deps_seen: list[str] = []

    def __call__(self, argv: Sequence[str], **kw: Any) -> Result:
        argv = [str(a) for a in argv]
        self.calls.append((argv, dict(kw.get("env") or {})))
        if argv[0] == "rpm2archive":
            rpm = Path(argv[1])
            payload = {"./usr/include/dep.h": b"int dep(void);\n", "./usr/lib64/libdep.so.1": b"ELF"}
            (Path(kw["cwd"]) / f"{rpm.name}.tgz").write_bytes(_tgz(payload))
            return _result(argv)
        top = next(Path(v.partition(" ")[2]) for v in argv if v.startswith("_topdir "))
        deps = top / "BUILD" / ".pmrepo-deps"
        self.deps_seen = sorted(str(p.relative_to(deps)) for p in deps.rglob("*") if p.is_file())
        (top / "RPMS" / "x86_64").mkdir(parents=True)
        for name in self.rpms:
            (top / "RPMS" / "x86_64" / name).write_bytes(b"rpm\n")
        return _result(argv)


def _binary_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rpms: Sequence[str], deps: tuple[Path, ...] = ()
) -> tuple[FakeTools, BuildRequest]:
    fake = FakeTools(rpms)
    monkeypatch.setattr(rpmbuild, "run", fake)
    monkeypatch.setattr(base, "BUILD_TREES", tmp_path / "trees")
    monkeypatch.setattr(Sandbox, "for_tree", classmethod(lambda cls, top: Sandbox(top, None)))
    monkeypatch.setattr(rpmbuild, "namespace_available", lambda: False)
    req = _request(tmp_path, deps)
    (tmp_path / "a-1-1.el7.src.rpm").write_bytes(b"srpm\n")
    return fake, req


def test_a_binary_build_rebuilds_the_srpm_with_the_tools_macros(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, req = _binary_build(tmp_path, monkeypatch, ["a-1-1.el7.x86_64.rpm", "a-devel-1-1.el7.x86_64.rpm"])
    out = RpmbuildBuilder().build_binary(req, tmp_path / "a-1-1.el7.src.rpm")
    top = tmp_path / "trees" / "el7" / "a" / "rpmbuild"
    assert out.srpm == tmp_path / "a-1-1.el7.src.rpm" and out.logs == (req.log,)
    assert [p.name for p in out.rpms] == ["a-1-1.el7.x86_64.rpm", "a-devel-1-1.el7.x86_64.rpm"]
    assert all(p.parent == req.outdir and p.read_bytes() == b"rpm\n" for p in out.rpms)
    ((argv, _),) = fake.calls
    tail = argv[argv.index("rpmbuild") :]
    assert tail[:5] == ["rpmbuild", "--rebuild", "--nodeps", "--load", str(top / MACROS_FILE.name)]
    assert tail[-1] == str(top / "a-1-1.el7.src.rpm") and f"_topdir {top}" in tail and "dist .el7" in tail
    env = argv[: argv.index("rpmbuild")]
    assert "SOURCE_DATE_EPOCH=1700000000" in env and not any(v.startswith("CPATH=") for v in env)
    assert not top.exists()


def test_dependencies_are_unpacked_and_reached_through_search_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = tmp_path / "dep-1-1.el7.x86_64.rpm"
    dep.write_bytes(b"dep rpm\n")
    fake, req = _binary_build(tmp_path, monkeypatch, ["a-1-1.el7.x86_64.rpm"], (dep,))
    RpmbuildBuilder().build_binary(req, tmp_path / "a-1-1.el7.src.rpm")
    unpack = tmp_path / "trees" / "el7" / "a" / "rpmbuild" / "BUILD" / ".pmrepo-unpack"
    assert fake.calls[0][0] == ["rpm2archive", str(unpack / dep.name)]  # a copy, in pmrepo's own directory
    assert fake.deps_seen == ["usr/include/dep.h", "usr/lib64/libdep.so.1"]
    argv = fake.calls[-1][0]
    root = tmp_path / "trees" / "el7" / "a" / "rpmbuild" / "BUILD" / ".pmrepo-deps"
    env = dict(v.split("=", 1) for v in argv[2 : argv.index("rpmbuild")])
    assert env["CPATH"] == str(root / "usr/include")
    assert env["LIBRARY_PATH"] == env["LD_LIBRARY_PATH"] == f"{root / 'usr/lib64'}:{root / 'usr/lib'}"
    assert env["PKG_CONFIG_PATH"] == f"{root / 'usr/lib64/pkgconfig'}:{root / 'usr/lib/pkgconfig'}"
    assert env["PATH"].startswith(f"{root / 'usr/bin'}:{root / 'usr/sbin'}:")
    assert "search paths only" in req.log.read_text()  # no namespace here: the log says so
    assert dep.read_bytes() == b"dep rpm\n" and not (root.parent / ".pmrepo-unpack").exists()


def test_a_build_that_leaves_no_rpm_is_a_build_error_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, req = _binary_build(tmp_path, monkeypatch, [])
    with pytest.raises(BuildError, match=r"^a \(el7\): rpmbuild produced no RPMs$") as info:
        RpmbuildBuilder().build_binary(req, tmp_path / "a-1-1.el7.src.rpm")
    assert info.value.log == req.log
    assert not (tmp_path / "trees" / "el7" / "a" / "rpmbuild").exists()
