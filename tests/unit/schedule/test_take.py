"""``pmrepo.schedule.take``: a build taken from the previous release's output only when every file is
what it published — its repository packages as build.json records them, each RPM the file the package's
header, build.json and primary.xml name, its header the NEVRA its name says — and refused in one line
that says how to restore it otherwise. The tools that read RPMs (``rpm -K``, rpm2archive, ``rpm -qp``)
and primary.xml are replaced by stand-ins that answer what a real output would."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pmrepo import manifest
from pmrepo.checks.integrity import IndexEntry
from pmrepo.checks.nevra import Predecessor
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.layout import Output
from pmrepo.records import BuildRecord, FileInfo, RpmInfo
from pmrepo.schedule import take
from pmrepo.schedule.reuse import Reuse, TakenRpm
from pmrepo.schedule.take import REUSE_LOG, ReuseError, Taker

PREV = "demo-repo-0.9-1"
REPO_PKG = f"{PREV}.el7.x86_64.rpm"
RPM_DIR = "/opt/pmrepo-demo/demo/rpm"
FILES = {"libdemo-0.9-1.el7.src.rpm": b"srpm\n", "libdemo-0.9-1.el7.x86_64.rpm": b"rpm\n"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Output09:
    """The previous release's output for el7, and what the stand-ins answer about it."""

    tmp: Path
    prev: Predecessor
    payload: dict[str, bytes] = field(default_factory=lambda: dict(FILES))  # what the repo package unpacks to
    index: dict[str, str] = field(default_factory=lambda: {n: _sha(d) for n, d in FILES.items()})  # primary.xml
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    rpm_k: list[list[Path]] = field(default_factory=list)
    unpacked: int = 0

    def taker(self) -> Taker:
        return Taker(self.prev, self.tmp / "scratch", self.tmp / "reuse.log")

    def job(self, **sha: str) -> Reuse:
        def rpm(name: str) -> TakenRpm:
            return TakenRpm(name, REPO_PKG, f"{RPM_DIR}/{name}", sha.get(name, _sha(FILES[name])))

        return Reuse("libdemo", "el7", PREV, rpm("libdemo-0.9-1.el7.src.rpm"), (rpm("libdemo-0.9-1.el7.x86_64.rpm"),))


@pytest.fixture
def out09(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Output09:
    release = manifest.load(DEMO_RELEASE.with_name("release-0.9.toml"))
    out = Output(tmp_path / "prev" / PREV / "el7")
    out.root.mkdir(parents=True)
    repo_rpm = out.root / REPO_PKG
    repo_rpm.write_bytes(b"the repository package\n")
    record = BuildRecord(
        "el7",
        PREV,
        {},
        {REPO_PKG: FileInfo(repo_rpm.stat().st_size, _sha(repo_rpm.read_bytes()))},
        rpms={n: RpmInfo(_sha(d), "u") for n, d in FILES.items()},
    )
    record.write(out.build_json)
    state = Output09(tmp_path, Predecessor(release, out, (repo_rpm,)))
    state.headers = {
        "libdemo-0.9-1.el7.src.rpm": {"NAME": "libdemo", "VR": "0.9-1.el7", "ARCH": "src", "SOURCERPM": ""},
        "libdemo-0.9-1.el7.x86_64.rpm": {
            "NAME": "libdemo",
            "VR": "0.9-1.el7",
            "ARCH": "x86_64",
            "SOURCERPM": "libdemo-0.9-1.el7.src.rpm",
        },
    }

    def rpm_digests(rpms: list[Path], **kw: Any) -> dict[Path, str]:
        state.rpm_k.append(list(rpms))
        return {}

    def unpack_payload(rpm: Path, dest: Path, log: Path | None) -> str | None:
        state.unpacked += 1
        rpms = dest / RPM_DIR.lstrip("/")
        (rpms.parent / "repodata").mkdir(parents=True)
        rpms.mkdir()
        for name, data in state.payload.items():
            (rpms / name).write_bytes(data)
        return None

    def index_entries(root: Path) -> dict[str, IndexEntry]:
        return {f"rpm/{n}": IndexEntry(n, "sha256", sha, None) for n, sha in state.index.items()}

    def query(paths: list[Path], scalars: dict[str, str], **kw: Any) -> list[dict[str, list[str]]]:
        return [{k: [v] for k, v in state.headers[p.name].items()} for p in paths]

    monkeypatch.setattr(take, "rpm_digests", rpm_digests)
    monkeypatch.setattr(take, "unpack_payload", unpack_payload)
    monkeypatch.setattr(take, "index_entries", index_entries)
    monkeypatch.setattr(take, "query", query)
    return state


def _refused(taker: Taker, job: Reuse, dest: Path, problem: str) -> str:
    dest.mkdir(exist_ok=True)
    with pytest.raises(ReuseError) as info:
        taker.take(job, dest)
    message = str(info.value)
    assert message.startswith(f"not reused from {PREV}: ") and "\n" not in message
    assert problem in message, message
    assert taker.prev.output is not None
    assert message.endswith(
        f"— fix: restore {taker.prev.output.root} as {PREV} published it (from its mirror), or pass "
        "--upgrade-from the output root of a copy that verifies (what does not verify is neither taken nor built)"
    )
    assert not any(dest.glob("*.rpm"))
    return message


def test_verified_rpms_are_copied_with_where_they_came_from(tmp_path: Path, out09: Output09) -> None:
    taker, dest = out09.taker(), tmp_path / "staging"
    dest.mkdir()
    out = taker.take(out09.job(), dest)
    assert out.srpm == dest / "libdemo-0.9-1.el7.src.rpm" and out.rpms == (dest / "libdemo-0.9-1.el7.x86_64.rpm",)
    assert out.logs == (dest / REUSE_LOG,) and out.rpms[0].read_bytes() == b"rpm\n"
    assert (dest / REUSE_LOG).read_text().splitlines()[0] == (
        f"libdemo-0.9-1.el7.src.rpm: taken from {PREV}'s {REPO_PKG} ({RPM_DIR}/libdemo-0.9-1.el7.src.rpm), "
        f"sha256 {_sha(FILES['libdemo-0.9-1.el7.src.rpm'])}"
    )
    assert out09.rpm_k[0] == [out09.prev.repo_rpms[0]] and len(out09.rpm_k) == 2  # the package, then the job's RPMs
    second = tmp_path / "again"
    second.mkdir()
    taker.take(out09.job(), second)
    assert out09.unpacked == 1  # the repository packages are opened once per dist
    taker.close()
    assert not (tmp_path / "scratch").exists()


def test_a_repository_package_build_json_does_not_record_is_refused(tmp_path: Path, out09: Output09) -> None:
    assert out09.prev.output is not None
    record = BuildRecord.read(out09.prev.output.build_json)
    BuildRecord(record.dist, record.release, {}, {}).write(out09.prev.output.build_json)
    _refused(out09.taker(), out09.job(), tmp_path / "d", f"{REPO_PKG} is not recorded in")


def test_a_changed_repository_package_is_refused_and_stays_refused(tmp_path: Path, out09: Output09) -> None:
    out09.prev.repo_rpms[0].write_bytes(b"something else\n")
    taker = out09.taker()
    first = _refused(taker, out09.job(), tmp_path / "d", f"{REPO_PKG} has sha256 ")
    assert _refused(taker, out09.job(), tmp_path / "d", "") == first and out09.unpacked == 0


def test_an_unreadable_build_json_is_refused(tmp_path: Path, out09: Output09) -> None:
    assert out09.prev.output is not None
    out09.prev.output.build_json.write_text("{not json")
    _refused(out09.taker(), out09.job(), tmp_path / "d", str(out09.prev.output.build_json))


def test_a_signed_output_needs_exactly_one_public_key(tmp_path: Path, out09: Output09) -> None:
    assert out09.prev.output is not None
    record = BuildRecord.read(out09.prev.output.build_json)
    BuildRecord(record.dist, record.release, {}, record.files, signed=True, rpms=record.rpms).write(
        out09.prev.output.build_json
    )
    _refused(out09.taker(), out09.job(), tmp_path / "d", "was signed, and holds 0 public keys, not 1")


def test_an_rpm_that_is_not_what_the_header_records_is_refused(tmp_path: Path, out09: Output09) -> None:
    job = out09.job(**{"libdemo-0.9-1.el7.x86_64.rpm": "f" * 64})
    _refused(out09.taker(), job, tmp_path / "d", "its repository package's header records ffffffffffffffff…")


def test_an_rpm_build_json_does_not_record_is_refused(tmp_path: Path, out09: Output09) -> None:
    assert out09.prev.output is not None
    record = BuildRecord.read(out09.prev.output.build_json)
    rpms = {n: RpmInfo("0" * 64, "u") for n in FILES}
    BuildRecord(record.dist, record.release, {}, record.files, rpms=rpms).write(out09.prev.output.build_json)
    _refused(out09.taker(), out09.job(), tmp_path / "d", "build.json records 0000000000000000…")


def test_an_rpm_primary_xml_does_not_list_is_refused(tmp_path: Path, out09: Output09) -> None:
    del out09.index["libdemo-0.9-1.el7.x86_64.rpm"]
    _refused(out09.taker(), out09.job(), tmp_path / "d", "its repository's primary.xml does not list it")


def test_a_path_outside_the_package_tree_is_refused(tmp_path: Path, out09: Output09) -> None:
    job = out09.job()
    bad = Reuse(job.component, job.dist, job.release_id, TakenRpm(job.srpm.name, REPO_PKG, "/../../etc/x", "0"), ())
    _refused(out09.taker(), bad, tmp_path / "d", f"{REPO_PKG} names '/../../etc/x', a path outside its tree")


def test_an_rpm_whose_header_is_another_package_is_refused(tmp_path: Path, out09: Output09) -> None:
    out09.headers["libdemo-0.9-1.el7.x86_64.rpm"]["VR"] = "0.9-2.el7"
    _refused(out09.taker(), out09.job(), tmp_path / "d", "its header says it is libdemo-0.9-2.el7.x86_64.rpm")


def test_a_binary_rpm_built_from_another_srpm_is_refused(tmp_path: Path, out09: Output09) -> None:
    out09.headers["libdemo-0.9-1.el7.x86_64.rpm"]["SOURCERPM"] = "evil-1-1.src.rpm"
    _refused(
        out09.taker(), out09.job(), tmp_path / "d", "was built from evil-1-1.src.rpm, not libdemo-0.9-1.el7.src.rpm"
    )
