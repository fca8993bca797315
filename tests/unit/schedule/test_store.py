"""``pmrepo.schedule.store``: whole entries by rename, each RPM's sha256 recorded and checked again on
reuse, a damaged entry discarded with one line. ``rpm -K`` is replaced where an entry is read back (the
files are no RPMs)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from pmrepo.builders import BuildOutput
from pmrepo.checks import integrity
from pmrepo.errors import PmrepoError
from pmrepo.schedule.store import Store

# -- the store -------------------------------------------------------------------------------------


def _built(staging: Path, *names: str) -> BuildOutput:
    for n in names:
        (staging / n).write_bytes(f"{n}\n".encode())
    (staging / "build.log").write_text("log\n")
    return BuildOutput(staging / names[0], tuple(staging / n for n in names[1:]), (staging / "build.log",))


def test_a_committed_entry_records_every_rpm_and_reads_back(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    assert staging == tmp_path / "store" / ".tmp" / "el7" / "a" and list(staging.iterdir()) == []
    out = store.commit(staging, "el7", "a", "k1", {"seconds": 2.5}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    entry = tmp_path / "store" / "el7" / "a" / "k1"
    assert out == BuildOutput(entry / "a.src.rpm", (entry / "a.x86_64.rpm",), (entry / "build.log",))
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["rpms"] == {n: hashlib.sha256(f"{n}\n".encode()).hexdigest() for n in ("a.src.rpm", "a.x86_64.rpm")}
    assert (meta["srpm"], meta["binary"], meta["logs"], meta["seconds"]) == (
        "a.src.rpm",
        ["a.x86_64.rpm"],
        ["build.log"],
        2.5,
    )
    assert not staging.exists()
    assert store.lookup("el7", "a", "k1") == out
    assert digests_ok == [[entry / "a.src.rpm", entry / "a.x86_64.rpm"]]
    assert store.lookup("el7", "a", "other-key") is None


def test_a_forced_rebuild_replaces_the_entry(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    store = Store(tmp_path / "store")
    first = store.staging("el7", "a")
    store.commit(first, "el7", "a", "k1", {}, _built(first, "a.src.rpm", "old.x86_64.rpm"))
    second = store.staging("el7", "a")
    out = store.commit(second, "el7", "a", "k1", {}, _built(second, "a.src.rpm", "new.x86_64.rpm"))
    assert [p.name for p in out.rpms] == ["new.x86_64.rpm"]
    assert sorted(p.name for p in out.srpm.parent.iterdir()) == [
        "a.src.rpm",
        "build.log",
        "meta.json",
        "new.x86_64.rpm",
    ]
    assert not (tmp_path / "store" / ".tmp" / "replaced" / "el7" / "a").exists()


def test_a_builder_output_outside_its_directory_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    (tmp_path / "elsewhere.rpm").write_bytes(b"x")
    out = BuildOutput(tmp_path / "elsewhere.rpm", (), ())
    with pytest.raises(PmrepoError, match=r"^a \(el7\): the builder returned .*elsewhere\.rpm, outside its output"):
        store.commit(staging, "el7", "a", "k1", {}, out)
    assert not (tmp_path / "store" / "el7").exists()


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("changed", r"a\.x86_64\.rpm has sha256 [0-9a-f]{16}…, meta\.json records [0-9a-f]{16}…"),
        ("removed", r"a\.x86_64\.rpm is missing"),
        ("added", r"extra\.rpm is not recorded in meta\.json"),
        ("no meta", r"meta\.json is missing or unreadable"),
        ("no checksums", r"meta\.json records no RPM checksums"),
        ("no srpm", r"meta\.json does not say which RPM is the SRPM and which are binary"),
    ],
)
def test_a_damaged_entry_is_discarded_with_one_line(
    tmp_path: Path, digests_ok: list[list[Path]], damage: str, problem: str
) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    out = store.commit(staging, "el7", "a", "k1", {}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    entry = out.srpm.parent
    meta = json.loads((entry / "meta.json").read_text())
    if damage == "changed":
        (entry / "a.x86_64.rpm").write_bytes(b"tampered\n")
    elif damage == "removed":
        (entry / "a.x86_64.rpm").unlink()
    elif damage == "added":
        (entry / "extra.rpm").write_bytes(b"x")
    elif damage == "no meta":
        (entry / "meta.json").unlink()
    else:
        meta.pop("rpms" if damage == "no checksums" else "srpm")
        (entry / "meta.json").write_text(json.dumps(meta))
    said: list[str] = []
    assert store.lookup("el7", "a", "k1", said.append) is None
    assert not entry.exists()
    (line,) = said
    assert line.startswith("build store: ") and line.endswith(f": entry {entry} discarded, rebuilding a (el7)")
    assert re.search(problem, line)


def test_an_entry_rpm_k_refuses_is_discarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    out = store.commit(staging, "el7", "a", "k1", {}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    monkeypatch.setattr(integrity, "rpm_digests", lambda rpms, **kw: {out.rpms[0]: "digests NOT OK"})
    said: list[str] = []
    assert store.lookup("el7", "a", "k1", said.append) is None
    assert said == [
        f"build store: {out.rpms[0]}: digests NOT OK: entry {out.srpm.parent} discarded, rebuilding a (el7)"
    ]


def test_the_newest_stored_build_says_how_long_it_took(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.last_seconds("el7", "a") is None
    for key, seconds, mtime in (("old", 50.0, 1000), ("new", 0.01, 2000), ("bad", "x", 500)):
        meta = tmp_path / "store" / "el7" / "a" / key / "meta.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"seconds": seconds}))
        os.utime(meta, (mtime, mtime))
    assert store.last_seconds("el7", "a") == 0.1  # at least 0.1 s
    (tmp_path / "store" / "el7" / "a" / "new" / "meta.json").write_text("{not json")
    assert store.last_seconds("el7", "a") is None
