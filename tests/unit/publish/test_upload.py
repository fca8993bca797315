"""Publishing a release directory (pmrepo.publish.upload) against a mirror kept in memory: the plan
from read-only checks, each step and what a failure at it leaves (nothing under the final name, no
staging directory), the local checks before any of it, and what ``vouch`` refuses in build.json and
results.json. (Real directory, rsync and WebDAV mirrors: tests/integration/test_publish.py.)"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo import checksums
from pmrepo.errors import PublishError
from pmrepo.publish import upload
from pmrepo.publish.mirrors import Target
from pmrepo.publish.upload import Action
from pmrepo.records import BuildRecord, CheckResult, CheckResults, FileInfo

RID = "demo-repo-1.0-1"
RPM = "demo-repo-1.0-1.el7.x86_64.rpm"
KEY = "k" * 64


class MemoryMirror(Target):
    """A mirror root in memory: entry -> {relative name: bytes}; ``fail``: an operation that fails."""

    display = "mem://mirror/"

    def __init__(
        self,
        entries: Mapping[str, dict[str, bytes]] | None = None,
        *,
        reuse_staging: bool = False,
        atomic_exchange: bool = False,
        fail: str = "",
        corrupt: str = "",
    ) -> None:
        self.entries = dict(entries or {})
        self.reuse_staging, self.atomic_exchange = reuse_staging, atomic_exchange
        self.fail, self.corrupt = fail, corrupt
        self.ops: list[tuple[str, ...]] = []
        self.closed = False

    def _op(self, *op: str) -> None:
        self.ops.append(op)
        if op[0] == self.fail or ":".join(op) == self.fail:
            raise PublishError(f"{op[0]} failed on the mirror")

    def list_root(self) -> set[str]:
        return set(self.entries)

    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        self._op("upload", staging)
        self.entries[staging] = {f: (source_dir / f).read_bytes() + (b"x" if f == self.corrupt else b"") for f in files}

    def hashes(self, staging: str, files: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
        self._op("hashes", staging)
        stored = self.entries[staging]
        return {f: hashlib.sha256(stored[f]).hexdigest() for f in files if f in stored}

    def rename(self, src: str, dst: str) -> None:
        self._op("rename", src, dst)
        assert dst not in self.entries
        self.entries[dst] = self.entries.pop(src)

    def exchange(self, a: str, b: str) -> None:
        self._op("exchange", a, b)
        self.entries[a], self.entries[b] = self.entries[b], self.entries[a]

    def remove(self, name: str) -> None:
        self._op("remove", name)
        self.entries.pop(name, None)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def source(tmp_path: Path) -> Path:
    d = tmp_path / "repo" / RID
    (d / "el7").mkdir(parents=True)
    (d / "el7" / RPM).write_bytes(b"the repo package")
    (d / "RELEASE-NOTES.en.md").write_text("# notes\n")
    checksums.write_sha256sums(d)
    return d


def publish_to(mirror: MemoryMirror, source: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> upload.PublishResult:
    monkeypatch.setattr(upload, "make_target", lambda url, log=None, allow_insecure_auth=False: mirror)
    lines: list[str] = []
    result = upload.publish(source, "mem://mirror/", RID, echo=lines.append, **kw)
    assert lines[: len(result.plan)] == [("[dry-run] would " if result.dry_run else "") + p for p in result.plan]
    return result


# -- the plan ----------------------------------------------------------------------------------------


def test_a_new_release_is_uploaded_verified_and_moved() -> None:
    actions, exists, staging = upload.plan_actions(MemoryMirror({"other-1.0-1": {}}), RID, ["a", "b"], 7, False)
    assert not exists and staging.startswith(f".staging-{RID}-") and len(staging) == len(f".staging-{RID}-") + 12
    assert actions == [
        Action("upload", staging, files=("a", "b"), size=7),
        Action("verify", staging, files=("a", "b")),
        Action("move", staging, dest=RID),
    ]


def test_a_published_release_is_refused_unless_forced() -> None:
    mirror = MemoryMirror({RID: {}})
    with pytest.raises(PublishError) as err:
        upload.plan_actions(mirror, RID, ["a"], 1, False)
    assert str(err.value) == (
        f"release {RID} is already published at mem://mirror/{RID}/ — fix: bump the release, "
        "or pass --replace (build.py publish) to replace it"
    )
    actions, exists, staging = upload.plan_actions(mirror, RID, ["a"], 1, True)
    assert exists and actions[-1] == Action("swap", staging, dest=RID)
    mirror.atomic_exchange = True
    assert upload.plan_actions(mirror, RID, ["a"], 1, True)[0][-1].op == "exchange"


def test_leftovers_of_this_release_are_removed_and_no_other_s() -> None:
    token, other = "0123456789ab", "fedcba987654"
    entries: dict[str, dict[str, bytes]] = {
        f".staging-{RID}-{token}": {},
        f".staging-{RID}-{other}": {},
        f".old-{RID}-{token}": {},
        f".staging-demo-repo-1.0-10-{token}": {},
        f".old-{RID}0-{token}": {},
    }
    actions, _, staging = upload.plan_actions(MemoryMirror(entries), RID, ["a"], 1, False)
    assert [(a.op, a.name) for a in actions if a.op.startswith("remove")] == [
        ("remove", f".staging-{RID}-{token}"),
        ("remove", f".staging-{RID}-{other}"),
        ("remove-old", f".old-{RID}-{token}"),
    ]
    actions, _, staging = upload.plan_actions(MemoryMirror(entries, reuse_staging=True), RID, ["a"], 1, False)
    assert staging == f".staging-{RID}-{token}"  # rsync resumes into the first, removes the rest
    assert [a.name for a in actions if a.op == "remove"] == [f".staging-{RID}-{other}"]


def test_each_step_says_what_it_does_under_the_root() -> None:
    r = "mem://m/"
    assert [
        a.describe(r)
        for a in (
            Action("remove", ".s"),
            Action("upload", ".s", files=("a", "b"), size=9),
            Action("verify", ".s", files=("a",)),
            Action("check", ".s"),
            Action("move", ".s", dest="x"),
            Action("swap", ".s", dest="x"),
            Action("exchange", ".s", dest="x"),
            Action("remove-old", ".o"),
        )
    ] == [
        "remove stale mem://m/.s",
        "upload 2 files (9 bytes) to mem://m/.s/",
        "verify sha256 of 1 files in mem://m/.s/ against SHA256SUMS",
        "verify the release in mem://m/.s/ (signatures, repodata, SBOM, provenance)",
        "move mem://m/.s/ to mem://m/x/",
        "replace mem://m/x/ with mem://m/.s/ (old release moved aside, then deleted)",
        "replace mem://m/x/ with mem://m/.s/ in one atomic exchange (the old release is deleted afterwards)",
        "remove-old mem://m/.o",
    ]


# -- publish -----------------------------------------------------------------------------------------


def test_publish_puts_every_file_under_the_release_s_name(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = MemoryMirror()
    result = publish_to(mirror, source, monkeypatch)
    assert set(mirror.entries) == {RID} and mirror.closed
    assert mirror.entries[RID] == {
        "SHA256SUMS": (source / "SHA256SUMS").read_bytes(),
        f"el7/{RPM}": b"the repo package",
        "RELEASE-NOTES.en.md": b"# notes\n",
    }
    assert (result.url, result.replaced, result.files, result.dry_run) == (f"mem://mirror/{RID}/", False, 3, False)
    assert [op[0] for op in mirror.ops] == ["upload", "hashes", "rename"]


def test_a_dry_run_changes_nothing(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = MemoryMirror({RID: {"old": b""}})
    result = publish_to(mirror, source, monkeypatch, dry_run=True, force=True)
    assert result.dry_run and result.replaced and mirror.ops == [] and mirror.entries == {RID: {"old": b""}}
    assert result.plan[-1].startswith(f"replace mem://mirror/{RID}/ with mem://mirror/.staging-{RID}-")


def test_a_file_that_differs_on_the_mirror_stops_before_the_switch(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = MemoryMirror(corrupt=f"el7/{RPM}")
    with pytest.raises(PublishError, match=rf"/el7/{RPM}: sha256 \w{{16}}… on the mirror differs from SHA256SUMS "):
        publish_to(mirror, source, monkeypatch)
    assert mirror.entries == {}  # the staging directory removed again, nothing under the release's name


def test_the_release_check_runs_after_the_sha256_and_stops_the_switch(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = MemoryMirror()
    seen: list[tuple[str, set[str]]] = []

    def check(target: Target, staging: str) -> None:
        seen.append((staging, set(mirror.entries)))
        raise PublishError("verification of the upload failed")

    with pytest.raises(PublishError, match="verification of the upload failed"):
        publish_to(mirror, source, monkeypatch, check=check)
    assert seen and seen[0][1] == {seen[0][0]} and [op[0] for op in mirror.ops] == ["upload", "hashes", "remove"]
    assert mirror.entries == {}


def test_a_failed_switch_puts_the_old_release_back(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = MemoryMirror({RID: {"old": b"1"}})
    mirror.fail = "rename"
    with pytest.raises(PublishError):
        publish_to(mirror, source, monkeypatch, force=True)
    assert mirror.entries[RID] == {"old": b"1"}  # the first rename (aside) failed: nothing moved

    class SecondRenameFails(MemoryMirror):
        def rename(self, src: str, dst: str) -> None:
            if src.startswith(".staging-"):
                raise PublishError("rename failed on the mirror")
            super().rename(src, dst)

    mirror2 = SecondRenameFails({RID: {"old": b"1"}})
    with pytest.raises(PublishError, match="rename failed"):
        publish_to(mirror2, source, monkeypatch, force=True)
    assert mirror2.entries[RID] == {"old": b"1"}  # moved aside, then back
    assert [op[0] for op in mirror2.ops].count("rename") == 2


def test_a_forced_exchange_deletes_the_old_release_afterwards(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = MemoryMirror({RID: {"old": b"1"}}, atomic_exchange=True)
    assert publish_to(mirror, source, monkeypatch, force=True).replaced
    assert set(mirror.entries) == {RID} and "old" not in mirror.entries[RID]
    assert [op[0] for op in mirror.ops] == ["upload", "hashes", "exchange", "remove"]


@pytest.mark.parametrize("rid", ["", "../x", "-rf", "a b"])
def test_a_release_id_that_is_no_plain_name_is_refused(source: Path, rid: str) -> None:
    with pytest.raises(PublishError, match="is not a plain name — fix: use <name>-<version>-<release>"):
        upload.publish(source, "/nonexistent", rid)


def test_the_release_directory_is_checked_against_its_sums(source: Path, tmp_path: Path) -> None:
    (source / "stray.txt").write_text("x")
    with pytest.raises(PublishError) as err:
        upload.publish(source, str(tmp_path / "no-mirror"), RID)
    assert (
        str(err.value)
        == f"{source / 'stray.txt'}: not listed in SHA256SUMS — fix: regenerate SHA256SUMS or remove the file"
    )
    (source / "SHA256SUMS").unlink()
    with pytest.raises(PublishError, match=r"SHA256SUMS: missing — fix: write checksums first"):
        upload.publish(source, str(tmp_path / "no-mirror"), RID)


def test_a_missing_release_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no such release directory — fix: build the release first"):
        upload.publish(tmp_path / "nothing", str(tmp_path / "no-mirror"), RID)


# -- the build's records -----------------------------------------------------------------------------


def record(source: Path, dist: str = "el7", **kw: Any) -> BuildRecord:
    rpm = source / dist / RPM
    files = {RPM: FileInfo(rpm.stat().st_size, checksums.sha256_file(rpm))} if rpm.exists() else {}
    rec = BuildRecord(
        dist=dist,
        release=RID,
        packages={},
        files=files,
        release_key=KEY,
        manifest="release.toml",
        **kw,
    )
    rec.write(source / dist / "build.json")
    return rec


def results(source: Path, *items: CheckResult, dist: str = "el7") -> None:
    path = source / dist / "gates" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    CheckResults(dist, {r.check: r for r in items}).write(path)


def test_an_unshippable_dist_never_reaches_the_mirror(source: Path) -> None:
    upload.refuse_unshippable(source)  # no build.json: nothing to refuse
    record(source, shippable=False, not_shippable="BuildRequires assumed from the build host")
    with pytest.raises(PublishError) as err:
        upload.refuse_unshippable(source)
    assert str(err.value).startswith(
        f"{source / 'el7' / 'build.json'}: not shippable (BuildRequires assumed from "
        "the build host) — fix: rebuild with --backend mock"
    )
    (source / "el7" / "build.json").write_text("{")
    with pytest.raises(PublishError, match="unreadable build record — fix: rebuild the release"):
        upload.refuse_unshippable(source)


PASSED = CheckResult(
    "digest", "digest gate", "gates", passed=True, report="digest.txt", command="all", at="2026-12-01T10:00:00Z"
)


def vouch(source: Path, **kw: Any) -> dict[str, list[str]]:
    return upload.vouch(
        source,
        KEY,
        Path("release.toml"),
        ["el6", "el7"],
        required=["el7"],
        **kw,
    )


def test_vouch_passes_the_outputs_this_manifest_built_and_checked(source: Path) -> None:
    record(source)
    results(source, PASSED)
    assert vouch(source) == {}
    assert vouch(source, required_checks={"digest": "gates"}) == {}


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("stray", "el6x: not a dist of release.toml (dists: el6, el7) — fix: remove it, it is left over"),
        ("no-record", "build.json: missing or unreadable — fix: rebuild with `./build.py all --release release.toml`"),
        (
            "other-key",
            "el7: built from release.toml with a different content than release.toml (release key qqqqqqqqqqqq… ≠ kkkk",
        ),
        ("unrecorded", "el7/extra-1-1.el7.noarch.rpm: not recorded in {rec} — fix: remove it or rebuild"),
        ("missing", f"el7/{RPM}: recorded in {{rec}} but missing"),
        ("changed", f"el7/{RPM}: sha256 "),
    ],
)
def test_vouch_refuses_what_this_manifest_did_not_build(source: Path, fault: str, message: str) -> None:
    if fault != "no-record":
        record(source)
        results(source, PASSED)
    rec = source / "el7" / "build.json"
    if fault == "stray":
        (source / "el6x").mkdir()
    elif fault == "other-key":
        dataclasses.replace(BuildRecord.read(rec), release_key="q" * 64).write(rec)
    elif fault == "unrecorded":
        (source / "el7" / "extra-1-1.el7.noarch.rpm").write_bytes(b"")
    elif fault == "missing":
        (source / "el7" / RPM).unlink()
    elif fault == "changed":
        (source / "el7" / RPM).write_bytes(b"another package")
    with pytest.raises(PublishError) as err:
        vouch(source)
    assert message.format(rec=rec) in str(err.value) and "\n" not in str(err.value)


def test_vouch_refuses_a_failed_latest_check_naming_its_report(source: Path) -> None:
    record(source)
    failed = CheckResult(
        "rpmlint",
        "rpmlint gate",
        "gates",
        passed=False,
        report="rpmlint.txt",
        command="gate",
        at="2026-12-02T09:00:00Z",
        note="x" * 300,
    )
    results(source, PASSED, failed)
    with pytest.raises(PublishError) as err:
        vouch(source)
    text = str(err.value)
    assert text.startswith(
        f"{source / 'el7' / 'gates' / 'rpmlint.txt'}: the latest rpmlint gate (gate at "
        "2026-12-02T09:00:00Z) FAILED: " + "x" * 159 + "… — fix: correct what it reports"
    )


def test_vouch_refuses_a_missing_required_check_unless_allowed(source: Path) -> None:
    record(source)
    results(source, PASSED)
    required = {"digest": "gates", "install": "fresh-root install"}
    with pytest.raises(PublishError, match=r"el7: built without fresh-root install \(no passing result in .*results"):
        vouch(source, required_checks=required)
    assert vouch(source, required_checks=required, allow_unchecked=True) == {"el7": ["fresh-root install"]}
    (source / "el7" / "gates" / "results.json").unlink()  # an output of a pmrepo before results.json
    record(source, unchecked=("gates",))
    assert vouch(source, allow_unchecked=True) == {"el7": ["gates"]}


def test_preflight_says_what_the_mirror_lacks_in_one_line(tmp_path: Path) -> None:
    assert upload.preflight(str(tmp_path / "none"), RID) == [
        f"mirror root {tmp_path / 'none'} does not exist — fix: create it (or mount it) or check the publish target"
    ]
    (tmp_path / "m" / RID).mkdir(parents=True)
    assert upload.preflight(str(tmp_path / "m"), RID) == [
        f"release {RID} is already published at {tmp_path / 'm'}/{RID}/ — fix: pass --replace to replace it, "
        "or publish a new release"
    ]
    assert upload.preflight(str(tmp_path / "m"), RID, replace=True) == []
    assert upload.preflight("gopher://x/", RID) == [
        "unsupported publish target scheme 'gopher://' — fix: use a path, file://, ssh://, rsync:// or http(s)://"
    ]
