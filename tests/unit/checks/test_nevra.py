"""The NEVRA gate (one NEVRA, one build): each RPM of this release compared by name with what the
previous release's repository packages carry — the same bytes or the same build signed anew pass,
other bytes are an error naming the component to bump, and anything that cannot be compared is a
warning, never a silent pass. The previous repository packages' file lists (``rpm -qp``) are
given; the RPMs are files shaped as rpm writes them (lead, signature header, then the build)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import CheckContext, NevraCheck, Predecessor, nevra
from pmrepo.checks.base import Findings
from pmrepo.layout import Output
from pmrepo.records import BuildRecord, RpmInfo
from pmrepo.rpmfile import unsigned_digest

RELEASE = manifest.load(DEMO)  # demo-repo-1.0-1
PREVIOUS = manifest.load(DEMO.parent / "release-0.9.toml")  # demo-repo-0.9-1
EL7 = RELEASE.dists["el7"]
MAIN, DEBUG, SRC = (PREVIOUS.repo(k).rpm_dir for k in ("main", "debuginfo", "src"))
PLUGIN = "demo-plugin-0.5-1.el7.x86_64.rpm"  # the same NEVRA in 0.9-1 and 1.0-1
TOOLS = "demo-tools-2.0-1.el7.noarch.rpm"
PLUGIN_DEBUG = "demo-plugin-debuginfo-0.5-1.el7.x86_64.rpm"
TOOLS_SRC = "demo-tools-2.0-1.el7.src.rpm"


def rpm_bytes(build: bytes, signed: bool = False, key: bytes = b"k1") -> bytes:
    """An RPM file: the lead, a signature header (an RSA signature tag when ``signed``), the build."""
    tags = (1000, 267) if signed else (1000,)
    store = key.ljust(8, b"\0")
    sig = b"\x8e\xad\xe8\x01" + b"\0" * 4 + struct.pack(">II", len(tags), len(store))
    sig += b"".join(struct.pack(">IIII", t, 0, 0, 0) for t in tags) + store
    head = b"\xed\xab\xee\xdb" + b"\0" * 92 + sig
    return head + b"\0" * (-len(head) % 8) + build


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Published:
    """The previous release's output for el7: its repository packages (the files they carry are
    what ``packaged_files`` answers) and optionally its build.json."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.output = Output(root / PREVIOUS.release_id / "el7")
        self.output.root.mkdir(parents=True)
        self.repo_rpms = tuple(self.output.root / n for n in PREVIOUS.repo_rpm_names(PREVIOUS.dists["el7"]))
        self.files: dict[str, tuple[str, str]] = {
            "/etc/yum.repos.d/pmrepo-demo.repo": ("demo-repo", "0" * 64),  # not under an rpm/ directory
            MAIN: ("demo-repo", ""),  # the directory itself
        }
        self.asked: list[list[Path]] = []
        monkeypatch.setattr(nevra, "packaged_files", self.packaged_files)

    def packaged_files(self, rpms: Sequence[Path], log: Path | None = None) -> dict[str, tuple[str, str]]:
        self.asked.append(list(rpms))
        return dict(self.files)

    def carry(self, rpm_dir: str, name: str, data: bytes, package: str = "demo-repo") -> None:
        self.files[f"{rpm_dir}/{name}"] = (package, sha(data))

    def record(self, rpms: dict[str, RpmInfo], signed: bool) -> None:
        BuildRecord("el7", PREVIOUS.release_id, {}, {}, rpms=rpms, signed=signed).write(self.output.build_json)

    def predecessor(self) -> Predecessor:
        return Predecessor(PREVIOUS, self.output, self.repo_rpms)


def ours(tmp_path: Path, **files: bytes) -> tuple[Path, ...]:
    """This release's RPMs: file name -> bytes, written under ``tmp_path/new``."""
    out = []
    for name, data in files.items():
        path = tmp_path / "new" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out.append(path)
    return tuple(out)


def run(tmp_path: Path, rpms: tuple[Path, ...], prev: Predecessor | None, repo_rpms: tuple[Path, ...] = ()) -> Findings:
    ctx = CheckContext(
        release=RELEASE, dist=EL7, report_dir=tmp_path / "reports", rpms=rpms + repo_rpms, repo_rpms=repo_rpms
    )
    return NevraCheck((lambda d: prev) if prev is not None else None).run(ctx)


def test_the_same_bytes_pass_and_a_new_nevra_is_not_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pub = Published(tmp_path / "out", monkeypatch)
    plugin, debug, src = rpm_bytes(b"plugin"), rpm_bytes(b"plugin-debug"), rpm_bytes(b"tools-src")
    pub.carry(MAIN, PLUGIN, plugin)
    pub.carry(DEBUG, PLUGIN_DEBUG, debug, "demo-repo-debuginfo")
    pub.carry(SRC, TOOLS_SRC, src, "demo-repo-src")
    mine = ours(tmp_path, **{PLUGIN: plugin, PLUGIN_DEBUG: debug, TOOLS_SRC: src, "demod-1.0-3.el7.x86_64.rpm": b"x"})
    repo = ours(tmp_path, **{RELEASE.repo_rpm_name(EL7): b"repo package"})
    found = run(tmp_path, mine, pub.predecessor(), repo)
    assert found.passed and found.findings == []
    assert found.items == [p.name for p in mine]  # this release's repo packages are not compared
    assert found.note == "NEVRA: 3 package(s) also in demo-repo-0.9-1, the same builds"
    assert pub.asked == [list(pub.repo_rpms)]


def test_other_bytes_under_one_nevra_name_the_component_to_bump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = Published(tmp_path / "out", monkeypatch)
    theirs, debug = rpm_bytes(b"tools 2.0 as 0.9-1 built it"), rpm_bytes(b"plugin-debug")
    pub.carry(MAIN, TOOLS, theirs)
    pub.carry(DEBUG, PLUGIN_DEBUG, debug, "demo-repo-debuginfo")
    mine = ours(tmp_path, **{TOOLS: rpm_bytes(b"tools 2.0 built again"), PLUGIN_DEBUG: rpm_bytes(b"other debug")})
    found = run(tmp_path, mine, pub.predecessor())
    assert not found.passed and found.note == ""
    assert [(f.file, f.check, f.id) for f in found.errors] == [
        (TOOLS, "NEVRA", "nevra.rebuilt"),
        (PLUGIN_DEBUG, "NEVRA", "nevra.rebuilt"),
    ]
    where = f"demo-repo-0.9-1 published it in demo-repo-0.9-1.el7.x86_64.rpm ({MAIN}/{TOOLS})"
    assert found.errors[0].message == (
        f"{mine[0]} has other bytes than {TOOLS} as {where} (sha256 {sha(mine[0].read_bytes())[:16]}… ≠ "
        f"{sha(theirs)[:16]}…): one NEVRA, two builds — fix: bump components.demo-tools.release in release.toml "
        "(it is a new build), or reuse the build: leave the entry as release-0.9.toml has it, and its RPMs are "
        "taken from demo-repo-0.9-1's output (pmrepo.schedule.reuse)"
    )
    assert "demo-repo-debuginfo-0.9-1.el7.x86_64.rpm (" in found.errors[1].message  # the package that carries it
    assert "fix: bump components.demo-plugin.release" in found.errors[1].message  # a debuginfo package's component


def test_the_same_build_signed_anew_passes_by_its_recorded_unsigned_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = Published(tmp_path / "out", monkeypatch)
    theirs = rpm_bytes(b"plugin build", signed=True, key=b"old key")
    pub.carry(MAIN, PLUGIN, theirs)
    (mine,) = ours(tmp_path, **{PLUGIN: rpm_bytes(b"plugin build", signed=True, key=b"new key")})
    assert sha(mine.read_bytes()) != sha(theirs)
    pub.record({PLUGIN: RpmInfo(sha(theirs), unsigned_digest(mine))}, signed=True)
    found = run(tmp_path, (mine,), pub.predecessor())
    assert found.passed and found.findings == [] and found.note.startswith("NEVRA: 1 package(s) also in")
    pub.record({PLUGIN: RpmInfo(sha(theirs), "another build's digest")}, signed=True)
    assert [f.id for f in run(tmp_path, (mine,), pub.predecessor()).errors] == ["nevra.rebuilt"]


def test_a_signed_file_without_a_trusted_unsigned_digest_is_not_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded digest counts only where build.json's sha256 is the published file's."""
    pub = Published(tmp_path / "out", monkeypatch)
    theirs = rpm_bytes(b"plugin build", signed=True)
    pub.carry(MAIN, PLUGIN, theirs)
    (mine,) = ours(tmp_path, **{PLUGIN: rpm_bytes(b"plugin build", signed=True, key=b"k2")})
    pub.record({PLUGIN: RpmInfo("f" * 64, unsigned_digest(mine))}, signed=True)  # recorded for another file
    found = run(tmp_path, (mine,), pub.predecessor())
    assert found.passed and found.errors == []
    assert [(f.file, f.id, f.severity.value) for f in found.warnings] == [(PLUGIN, "nevra.not-compared", "W")]
    assert found.warnings[0].message.startswith(
        f"not compared: signed, and {pub.output.build_json} records no unsigned digest of it (demo-repo-0.9-1 "
    )
    assert found.note == "NEVRA: 0 package(s) also in demo-repo-0.9-1, the same builds (1 not compared)"


def test_unsigned_files_that_differ_are_other_builds_whatever_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = Published(tmp_path / "out", monkeypatch)
    pub.carry(MAIN, PLUGIN, rpm_bytes(b"one build"))
    (mine,) = ours(tmp_path, **{PLUGIN: rpm_bytes(b"another build")})
    assert [f.id for f in run(tmp_path, (mine,), pub.predecessor()).errors] == ["nevra.rebuilt"]  # no build.json
    pub.output.build_json.write_text("{not json")  # an unreadable record is no record
    assert [f.id for f in run(tmp_path, (mine,), pub.predecessor()).errors] == ["nevra.rebuilt"]
    (bogus,) = ours(tmp_path / "b", **{PLUGIN: b"not an rpm file"})  # no unsigned digest to take
    pub.record({}, signed=True)
    assert [f.id for f in run(tmp_path, (bogus,), pub.predecessor()).errors] == ["nevra.rebuilt"]


def test_only_rpms_directly_in_a_repository_directory_are_published_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = Published(tmp_path / "out", monkeypatch)
    pub.carry(MAIN + "/old", PLUGIN, b"in a subdirectory")  # not the repository's rpm/
    pub.carry("/opt/elsewhere/rpm", TOOLS, b"another directory")
    pub.files[f"{MAIN}/{TOOLS_SRC}"] = ("demo-repo", "")  # no digest: not a regular file
    mine = ours(tmp_path, **{PLUGIN: b"p", TOOLS: b"t", TOOLS_SRC: b"s"})
    found = run(tmp_path, mine, pub.predecessor())
    assert found.passed and found.findings == []
    assert found.note == "NEVRA: 0 package(s) also in demo-repo-0.9-1, the same builds"


def test_nothing_located_is_a_warning_never_a_silent_pass(tmp_path: Path) -> None:
    (mine,) = ours(tmp_path, **{PLUGIN: b"p"})
    found = run(tmp_path, (mine,), None)
    why = "no previous release was located (no release, or no way to find its output)"
    assert found.passed and found.note == f"NEVRA: not compared: {why}"
    assert [(f.file, f.check, f.message, f.id) for f in found.warnings] == [
        (str(RELEASE.path), "previous release", f"not compared: {why}", "nevra.not-compared")
    ]
    no_release = CheckContext(release=None, dist=EL7, report_dir=tmp_path, rpms=(mine,))
    found = NevraCheck(lambda d: Predecessor(why_none="unused")).run(no_release)
    assert found.warnings[0].file == "el7" and found.note == f"NEVRA: not compared: {why}"


def test_a_predecessor_that_is_missing_is_a_warning_with_its_reason(tmp_path: Path) -> None:
    (mine,) = ours(tmp_path, **{PLUGIN: b"p"})
    missing = "demo-repo-0.9-1 is not in /x (no demo-repo-0.9-1.el7.x86_64.rpm) — fix: pass --upgrade-from DIR"
    found = run(tmp_path, (mine,), Predecessor(PREVIOUS, Output(tmp_path / "x"), missing=missing))
    assert found.passed and found.note == f"NEVRA: not compared: {missing}"
    assert [f.message for f in found.warnings] == [f"not compared: {missing}"]


def test_the_first_release_has_nothing_to_compare_with(tmp_path: Path) -> None:
    (mine,) = ours(tmp_path, **{PLUGIN: b"p"})
    found = run(tmp_path, (mine,), Predecessor(why_none="release.follows is not set: the first release"))
    assert found.passed and found.findings == [] and found.items == []
    assert found.note == "NEVRA: nothing to compare with (release.follows is not set: the first release)"


def test_the_gate_is_required() -> None:
    assert (NevraCheck.id, NevraCheck.name, NevraCheck.required) == ("nevra", "NEVRA gate", True)
