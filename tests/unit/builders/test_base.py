"""``pmrepo.builders.base``: the private build trees (``private_dir``, ``fixed_topdir``), the macro set
every build defines, the Builder defaults, and the SRPM step's command line and result check (rpmbuild
replaced by a stand-in that writes what a run would leave)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.builders import base
from pmrepo.builders.base import Builder, BuildOutput, BuildRequest, rpm_macro_defines
from pmrepo.errors import BuildError
from pmrepo.manifest import Dist
from pmrepo.manifest import fields as manifest_fields
from pmrepo.run import Result
from pmrepo.sandbox import Sandbox

EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")
EL6 = Dist("el6", ".el6", 6, {"_hardened_build": "1"}, (), {}, "centos:6")


@pytest.fixture
def trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "trees"
    monkeypatch.setattr(base, "BUILD_TREES", path)
    return path


# -- the build trees --------------------------------------------------------------------


def _other_uid() -> int:
    import pwd

    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


@pytest.mark.parametrize("fault", ["owned by another user", "world-writable", "symlinked top", "symlinked lock"])
def test_build_tree_that_another_user_could_touch_is_refused(
    tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trees = tmp_path / "trees"
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    if fault == "symlinked top":
        real = tmp_path / "elsewhere"
        real.mkdir(mode=0o700)
        trees.symlink_to(real)
    else:
        trees.mkdir(mode=0o700)
    if fault == "owned by another user":
        if os.geteuid() != 0:
            pytest.skip("chown to another user needs root (this case is what a root build meets)")
        os.chown(trees, _other_uid(), -1)
    elif fault == "world-writable":
        trees.chmod(0o777)
    elif fault == "symlinked lock":
        (trees / "el7" / "a").mkdir(parents=True, mode=0o700)
        (trees / "el7" / "a" / ".srpm.lock").symlink_to(victim)
    monkeypatch.setattr(base, "BUILD_TREES", trees)
    with pytest.raises(BuildError) as info, base.fixed_topdir("el7", "a", "srpm"):
        pass
    line = str(info.value)
    assert "\n" not in line and "— fix:" in line and str(trees) in line
    assert victim.read_text() == "precious\n"


def test_build_tree_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "BUILD_TREES", tmp_path / "new" / "trees")
    with base.fixed_topdir("el7", "a", "srpm") as top:
        assert top.is_dir()
    for d in (tmp_path / "new" / "trees", tmp_path / "new" / "trees" / "el7", tmp_path / "new" / "trees" / "el7" / "a"):
        assert d.stat().st_mode & 0o777 == 0o700, d
    lock = tmp_path / "new" / "trees" / "el7" / "a" / ".srpm.lock"
    assert lock.stat().st_mode & 0o777 == 0o600


def test_a_build_tree_directory_that_cannot_be_made_names_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    with pytest.raises(BuildError) as info:
        base.private_dir(blocker / "trees")
    assert str(info.value).startswith(f"{blocker / 'trees'}: the build tree directory cannot be created")
    assert "fix: set PMREPO_BUILD_TREES to a directory of your own" in str(info.value)


def test_the_topdir_is_fixed_per_job_empty_and_removed_afterwards(trees: Path) -> None:
    leftover = trees / "el7" / "pacemaker" / "rpmbuild" / "BUILD" / "killed-run.o"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("what a killed run left\n")
    with base.fixed_topdir("el7", "pacemaker", "rpmbuild") as top:
        assert top == trees / "el7" / "pacemaker" / "rpmbuild"
        assert list(top.iterdir()) == []  # the killed run's files are gone
        (top / "SPECS").mkdir()
    assert not top.exists()
    assert (trees / "el7" / "pacemaker" / ".rpmbuild.lock").is_file()


def test_the_topdir_is_removed_when_the_build_fails(trees: Path) -> None:
    def build() -> None:
        with base.fixed_topdir("el7", "a", "srpm") as top:
            (top / "half-written").write_text("x")
            raise RuntimeError("the build broke")

    with pytest.raises(RuntimeError, match="the build broke"):
        build()
    assert not (trees / "el7" / "a" / "srpm").exists()


@pytest.mark.parametrize(
    "names", [("", "a", "srpm"), ("el7", "../a", "srpm"), ("el7", "a", ".hidden"), ("e/l", "a", "x")]
)
def test_a_name_that_is_no_plain_path_component_is_refused(trees: Path, names: tuple[str, str, str]) -> None:
    with pytest.raises(BuildError, match=r"^internal: '.*' is not a plain path component$"), base.fixed_topdir(*names):
        pass
    assert not trees.exists()  # refused before anything is made


# -- the macros --------------------------------------------------------------------------


def test_every_macro_the_builders_define_is_tool_owned() -> None:
    dist = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")
    assert set(rpm_macro_defines(dist, 0)) - {"el7"} <= manifest_fields.TOOL_MACROS


def test_the_macros_are_the_dists_plus_what_el6s_rpm_reads() -> None:
    got = rpm_macro_defines(EL6, 1_700_000_000)
    assert got["dist"] == ".el6" and got["rhel"] == "6" and got["el6"] == "1" and got["_hardened_build"] == "1"
    assert got["_binary_payload"] == got["_source_payload"] == "w9.gzdio"  # gzip: rpm 4.8 has no zstd
    assert got["_binary_filedigest_algorithm"] == got["_source_filedigest_algorithm"] == "8"  # sha256
    assert got["_rpmformat"] == "4" and got["_buildhost"] == "pmrepo.build"
    assert got["use_source_date_epoch_as_buildtime"] == got["clamp_mtime_to_source_date_epoch"] == "1"
    assert rpm_macro_defines(EL6, 0) == got  # the epoch reaches the build through the environment, not a macro


def test_a_dist_macro_cannot_replace_the_tools_payload_choice() -> None:
    sneaky = Dist("el7", ".el7", 7, {"_binary_payload": "w19.zstdio"}, (), {}, "centos:7")
    assert rpm_macro_defines(sneaky, 0)["_binary_payload"] == "w9.gzdio"


# -- the Builder defaults ----------------------------------------------------------------


class Recording(Builder):
    """A backend whose steps only record that they ran."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def config_id(self, dist: Dist) -> str:
        return f"recording;{dist.name}"

    def build_srpm(self, req: BuildRequest) -> Path:
        self.calls.append("srpm")
        return req.outdir / "a-1-1.el7.src.rpm"

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        self.calls.append(f"binary {srpm.name}")
        return BuildOutput(srpm, (req.outdir / "a-1-1.el7.x86_64.rpm",), (req.log,))


def _request(tmp_path: Path, dist: Dist = EL7) -> BuildRequest:
    spec, sources, outdir = tmp_path / "a.spec", tmp_path / "sources", tmp_path / "out"
    spec.write_text("Name: a\n")
    sources.mkdir()
    outdir.mkdir()
    return BuildRequest("a", dist, spec, sources, (), outdir, 1_700_000_000)


def test_build_is_the_srpm_then_the_binaries_from_it(tmp_path: Path) -> None:
    b = Recording()
    req = _request(tmp_path)
    out = b.build(req)
    assert b.calls == ["srpm", "binary a-1-1.el7.src.rpm"]
    assert out.srpm == tmp_path / "out" / "a-1-1.el7.src.rpm" and out.logs == (tmp_path / "out" / "build.log",)
    assert req.log == req.outdir / "build.log"


def test_the_defaults_of_a_backend(tmp_path: Path) -> None:
    b = Recording()
    assert b.can_provide("libfoo-devel") and not b.lacks("libfoo-devel")
    assert b.shippable and b.unshippable_reason() == ""
    assert b.build_repositories(EL7) is None  # the host's packages
    b.check_dists([EL7, EL6], tmp_path / "release.toml")  # nothing to refuse by default
    assert [b.default_jobs(n) for n in (0, 1, 4)] == [1, 1, 4]
    b.finish(tmp_path / "logs")
    assert not (tmp_path / "logs").exists()


# -- the SRPM step -----------------------------------------------------------------------


class FakeRpmbuild:
    """``run`` for the SRPM step: records the command and leaves ``srpms`` in the tree's SRPMS/."""

    def __init__(self, srpms: Sequence[str]) -> None:
        self.srpms = srpms
        self.argv: list[str] = []
        self.sources: dict[str, tuple[bytes, int]] = {}

    def __call__(self, argv: Sequence[str], **kw: Any) -> Result:
        self.argv = [str(a) for a in argv]
        top = next(Path(v.partition(" ")[2]) for v in self.argv if v.startswith("_topdir "))
        for f in (top / "SOURCES").iterdir():
            self.sources[f.name] = (f.read_bytes(), int(f.stat().st_mtime))
        (top / "SRPMS").mkdir(exist_ok=True)
        for name in self.srpms:
            (top / "SRPMS" / name).write_bytes(b"srpm\n")
        return Result(self.argv, 0, "", kw.get("log_file"))


def _srpm_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trees: Path, srpms: Sequence[str]
) -> tuple[FakeRpmbuild, BuildRequest]:
    fake = FakeRpmbuild(srpms)
    monkeypatch.setattr(base, "run", fake)
    monkeypatch.setattr(Sandbox, "for_tree", classmethod(lambda cls, top: Sandbox(top, None)))
    req = _request(tmp_path)
    (req.sources / "a-1.tar.gz").write_bytes(b"tarball")
    return fake, req


def test_the_srpm_is_built_with_the_dists_macros_in_a_fixed_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trees: Path
) -> None:
    fake, req = _srpm_step(tmp_path, monkeypatch, trees, ["a-1-1.el7.src.rpm"])
    got = Builder.build_srpm(Recording(), req)
    assert got == req.outdir / "a-1-1.el7.src.rpm" and got.read_bytes() == b"srpm\n"
    top = trees / "el7" / "a" / "srpm"
    assert not top.exists()  # removed after the step
    argv = fake.argv
    assert argv[argv.index("rpmbuild") :][:3] == ["rpmbuild", "-bs", "--nodeps"]
    assert argv[-1] == str(top / "SPECS" / "a.spec")
    assert f"_topdir {top}" in argv and "dist .el7" in argv and "_source_payload w9.gzdio" in argv
    assert "SOURCE_DATE_EPOCH=1700000000" in argv[: argv.index("rpmbuild")]  # env -i …: a fresh environment
    assert fake.sources == {"a-1.tar.gz": (b"tarball", 1_700_000_000)}  # copied, dated SOURCE_DATE_EPOCH


@pytest.mark.parametrize("srpms", [[], ["a-1-1.el7.src.rpm", "b-1-1.el7.src.rpm"]])
def test_not_exactly_one_srpm_is_a_build_error_with_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trees: Path, srpms: list[str]
) -> None:
    _, req = _srpm_step(tmp_path, monkeypatch, trees, srpms)
    with pytest.raises(BuildError, match=rf"^a \(el7\): expected one SRPM, found {len(srpms)}$") as info:
        Builder.build_srpm(Recording(), req)
    assert info.value.log == req.outdir / "srpm.log"
    assert not (trees / "el7" / "a" / "srpm").exists()
