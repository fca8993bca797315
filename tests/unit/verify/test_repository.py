"""verify's checks of one repository (pmrepo.verify.repository) on hand-made repositories: repodata
against the files, the SBOM at the root against the RPMs, files that are not regular, the
repomd.xml signature's refusals before gpg runs; rpm's digest check and header reader are stood in
for (they run for real in tests/integration/test_release_verify.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.attest import sbom
from pmrepo.progress import Console
from pmrepo.verify import repository
from pmrepo.verify.report import OK, SKIP, Context, Report

from ..assemble.test_repository import DEMOD, LIBDEMO, Nevra, rpm_file, write_repo

HOLDER = "demo-repo-1.0-1.el7.x86_64.rpm"
DOC = "demo-repo-1.0-1.el7.spdx.json"


def write_sbom(root: Path, listed: dict[str, str], srpm_files: dict[str, dict[str, str]] | None = None) -> Path:
    """The SBOM at the root of a repository whose package ``HOLDER`` contains ``listed`` {RPM: sha256}."""
    rpms = [
        sbom.Rpm(
            name,
            digest,
            name.split("-")[0],
            "1",
            "1.el7",
            "src" if name.endswith(".src.rpm") else "x86_64",
            "MIT",
            "",
            "",
            "main",
        )
        for name, digest in listed.items()
    ]
    sources = [
        sbom.SourceFile(s, f, d, "1", None, "file") for s, files in (srpm_files or {}).items() for f, d in files.items()
    ]
    repo = sbom.RepoPackage("main", HOLDER, "demo-repo", "1.0-1.el7", "x86_64", None)
    content = sbom.DistContent(
        "demo-repo-1.0-1", "el7", "pmrepo", "MIT", dt.date(2026, 11, 24), (repo,), tuple(rpms), tuple(sources)
    )
    return sbom.write(root / DOC, content)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make(root: Path, packages: Sequence[Nevra] = (LIBDEMO, DEMOD), **kw: Any) -> Path:
    write_repo(root, packages, **kw)
    write_sbom(root, {rpm_file(p): digest(root / "rpm" / rpm_file(p)) for p in packages})
    return root


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setattr(repository, "rpm_digests", lambda batch, log=None: {})  # rpm -K: every digest intact
    return Context(Report(lambda s: None), Console(sink=lambda s: None, live=False), tmp_path / "scratch")


def failures(ctx: Context) -> list[str]:
    return [f"{f.subject}: {f.check}: {f.detail}" for f in ctx.report.failed]


def test_a_repository_as_built_passes(tmp_path: Path, ctx: Context) -> None:
    view = repository.check_repository(make(tmp_path / "r"), "r", ctx)
    assert failures(ctx) == [] and view is not None and view.problems == ()
    by = {(f.check, f.subject): (f.status, f.detail) for f in ctx.report.findings}
    assert by[("repodata", f"r/rpm/{rpm_file(LIBDEMO)}")] == (OK, "")
    assert by[("repodata", "r/repodata/primary.xml.gz")] == (OK, "")
    assert by[("rpm-signature", f"r/rpm/{rpm_file(DEMOD)}")] == (
        SKIP,
        "digests intact; signature not checked (unsigned release)",
    )
    assert by[("repomd-signature", "r/repodata/repomd.xml")][0] == SKIP
    assert by[("sbom", f"r/{DOC}")] == (OK, "2 RPMs")


def test_a_changed_rpm_fails_repodata_and_the_sbom(tmp_path: Path, ctx: Context) -> None:
    root = make(tmp_path / "r")
    (root / "rpm" / rpm_file(LIBDEMO)).write_bytes(b"another package")
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == [
        f"r/rpm/{rpm_file(LIBDEMO)}: repodata: sha256 differs from primary.xml",
        f"r/rpm/{rpm_file(LIBDEMO)}: sbom: sha256 differs from {DOC}",
    ]


def test_a_file_not_indexed_and_an_index_entry_without_file(tmp_path: Path, ctx: Context) -> None:
    root = make(tmp_path / "r", indexed=[LIBDEMO])
    write_sbom(root, {rpm_file(LIBDEMO): digest(root / "rpm" / rpm_file(LIBDEMO)), "gone-1-1.el7.x86_64.rpm": "0" * 64})
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == [
        f"r/rpm/{rpm_file(DEMOD)}: repodata: in the repository but not listed in primary.xml",
        f"r/rpm/{rpm_file(DEMOD)}: sbom: not listed in {DOC}",
        "r/rpm/gone-1-1.el7.x86_64.rpm: sbom: listed in demo-repo-1.0-1.el7.spdx.json but missing",
    ]
    root2 = make(tmp_path / "r2")
    (root2 / "rpm" / rpm_file(DEMOD)).unlink()
    ctx.report.findings.clear()
    repository.check_repository(root2, "r2", ctx)
    assert f"r2/rpm/{rpm_file(DEMOD)}: repodata: listed in primary.xml but not in the repository" in failures(ctx)


def test_a_size_other_than_primary_s_fails_even_with_its_sha256(tmp_path: Path, ctx: Context) -> None:
    repository.check_repository(make(tmp_path / "r", sizes={rpm_file(DEMOD): 7}), "r", ctx)
    size = len(rpm_file(DEMOD))
    assert failures(ctx) == [f"r/rpm/{rpm_file(DEMOD)}: repodata: size {size} differs from primary.xml (7)"]


def test_metadata_that_differs_from_repomd_or_is_not_sha256(tmp_path: Path, ctx: Context) -> None:
    root = make(tmp_path / "r")
    (root / "repodata" / "other.sqlite.bz2").write_bytes(b"changed")
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == ["r/repodata/other.sqlite.bz2: repodata: other_db: sha256 differs from repomd.xml"]
    ctx.report.findings.clear()
    repository.check_repository(make(tmp_path / "sha1", checksum="sha1"), "s", ctx)
    assert "s/repodata/filelists.xml.gz: repodata: filelists: checksum type 'sha1', not sha256" in failures(ctx)


def test_files_that_are_not_regular_are_problems_never_read(tmp_path: Path, ctx: Context) -> None:
    root = make(tmp_path / "r")
    os.mkfifo(root / "rpm" / "fifo.rpm")
    (root / "rpm" / "link.rpm").symlink_to(root / "rpm" / rpm_file(LIBDEMO))
    repository.check_repository(root, "r", ctx)
    assert failures(ctx)[:2] == [
        "r/rpm/fifo.rpm: files: a FIFO, not a regular file",
        "r/rpm/link.rpm: files: a symlink, not a regular file",
    ]
    outside = make(tmp_path / "outside")
    escaped = tmp_path / "escaped"
    escaped.mkdir()
    (escaped / "repodata").symlink_to(outside / "repodata")
    (escaped / "rpm").symlink_to(outside / "rpm")
    ctx.report.findings.clear()
    repository.check_repository(escaped, "e", ctx)
    assert "e/rpm: files: a symbolic link out of the repository, not a directory" in failures(ctx)


def test_an_sbom_missing_or_twice_or_other_than_outside(tmp_path: Path, ctx: Context) -> None:
    root = make(tmp_path / "r")
    (root / DOC).unlink()
    assert repository.check_repository(root, "r", ctx) is None
    assert failures(ctx) == ["r/: sbom: 0 SPDX documents (*.spdx.json) at the repository's root, not 1"]
    root2 = make(tmp_path / "r2")
    ctx.report.findings.clear()
    repository.check_repository(root2, "r2", ctx, expected={rpm_file(LIBDEMO): "0" * 64}, holder=HOLDER)
    assert failures(ctx) == [f"r2/{DOC}: sbom: differs from the copy beside the release's outputs"]


def test_an_rpm_with_a_damaged_digest_fails(tmp_path: Path, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make(tmp_path / "r")
    bad = (root / "rpm" / rpm_file(DEMOD)).resolve()
    monkeypatch.setattr(repository, "rpm_digests", lambda batch, log=None: {bad: "digests: SHA256 digest: BAD"})
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == [f"r/rpm/{rpm_file(DEMOD)}: rpm-signature: digests: SHA256 digest: BAD"]


def test_an_srpm_holds_exactly_what_the_sbom_says(
    tmp_path: Path, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    srpm: Nevra = ("libdemo", "1.2", "1.el7", "src")
    root = tmp_path / "r"
    write_repo(root, [srpm])
    name = rpm_file(srpm)
    write_sbom(root, {name: digest(root / "rpm" / name)}, {name: {"libdemo.spec": "a" * 64, "x.tar.gz": "b" * 64}})
    held = ["libdemo.spec\t" + "A" * 64, "x.tar.gz\t" + "c" * 64, "extra.patch\t" + "d" * 64]
    monkeypatch.setattr(repository, "query", lambda paths, scalars, arrays=None, **kw: [{"FILE": held}])
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == [
        f"r/rpm/{name}:extra.patch: sbom: not listed in {DOC} (as in the SRPM)",
        f"r/rpm/{name}:x.tar.gz: sbom: sha256 differs from {DOC} (as in the SRPM)",
    ]


def test_repomd_signature_files_that_lead_out_or_are_not_regular(tmp_path: Path, ctx: Context) -> None:
    ctx = dataclasses.replace(ctx, key=tmp_path / "RPM-GPG-KEY-x")
    root = make(tmp_path / "r", packages=())
    (tmp_path / "elsewhere.asc").write_text("sig")
    (root / "repodata" / "repomd.xml.asc").symlink_to(tmp_path / "elsewhere.asc")
    repository.check_repository(root, "r", ctx)
    assert failures(ctx) == [
        "r/repodata/repomd.xml: repomd-signature: repomd.xml.asc leads out of the repository (a symlink)"
    ]
    root2 = make(tmp_path / "r2", packages=())
    os.mkfifo(root2 / "repodata" / "repomd.xml.asc")
    ctx.report.findings.clear()
    repository.check_repository(root2, "r2", ctx)
    assert failures(ctx) == ["r2/repodata/repomd.xml: repomd-signature: repomd.xml.asc is a FIFO, not a regular file"]


def test_repository_roots_are_the_directories_with_repomd(tmp_path: Path) -> None:
    for where in ("opt/demo", "opt/demo-debuginfo", "x/y/z"):
        write_repo(tmp_path / where)
    (tmp_path / "no" / "repodata").mkdir(parents=True)
    assert repository.repository_roots(tmp_path) == [
        tmp_path / "opt/demo",
        tmp_path / "opt/demo-debuginfo",
        tmp_path / "x/y/z",
    ]
