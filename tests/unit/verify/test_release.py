"""``verify DIR`` (pmrepo.verify.release) on a hand-made unsigned release directory: SHA256SUMS, the
key, the SBOM and provenance beside the packages, each package's payload (the payload reader and
rpm's digest check stood in for: a prepared repository is "extracted"), the one-line refusals, the
run's verdict, and what publish runs on its upload. Signed releases, real payloads and HTTP:
tests/integration/test_release_verify.py and test_attestations.py."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from pmrepo import checksums
from pmrepo.attest import provenance, sbom
from pmrepo.errors import PublishError, VerifyError
from pmrepo.progress import Console
from pmrepo.publish.mirrors import DirTarget, RsyncTarget
from pmrepo.records import BuildRecord
from pmrepo.verify import release, repository
from pmrepo.verify.report import SKIP, Context, Report

from ..assemble.test_repository import DEMOD, LIBDEMO, rpm_file
from .test_repository import DOC, HOLDER, digest, make

RID = "demo-repo-1.0-1"
PROV = f"{RID}.el7.provenance.json"


def quiet() -> Console:
    return Console(sink=lambda s: None, live=False)


def write_outside_sbom(d: Path, inner: Path) -> None:
    """The SBOM beside the packages: the repository package with its sha256, containing the inner RPMs."""
    rpms = tuple(
        sbom.Rpm(rpm_file(p), digest(inner / "rpm" / rpm_file(p)), p[0], p[1], p[2], p[3], "MIT", "", "", "main")
        for p in (LIBDEMO, DEMOD)
    )
    repo = sbom.RepoPackage("main", HOLDER, "demo-repo", "1.0-1.el7", "x86_64", digest(d / HOLDER))
    sbom.write(d / DOC, sbom.DistContent(RID, "el7", "pmrepo", "MIT", dt.date(2026, 11, 24), (repo,), rpms, ()))


def write_provenance(root: Path, *, signed_claim: bool = False, skip: str = "") -> None:
    d = root / "el7"
    subjects = [
        {"name": f"el7/{p.name}", "digest": {"sha256": digest(p)}}
        for p in sorted(d.iterdir())
        if p.is_file() and p.name != PROV and p.name != skip
    ]
    predicate: dict[str, object] = {"buildDefinition": {"buildType": provenance.BUILD_TYPE}}
    if signed_claim:
        predicate = {"buildDefinition": {"buildType": provenance.BUILD_TYPE, "internalParameters": {"signed": True}}}
    stmt = {
        "_type": provenance.STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": provenance.PREDICATE_TYPE,
        "predicate": predicate,
    }
    provenance.write(d / PROV, stmt, None)


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An unsigned release of one dist: a repository package whose payload is the repository ``inner``."""
    inner = make(tmp_path / "inner")
    root = tmp_path / RID
    d = root / "el7"
    d.mkdir(parents=True)
    (d / HOLDER).write_bytes(b"the repository package")
    BuildRecord(dist="el7", release=RID, packages={}, files={}, release_key="k" * 64).write(d / "build.json")
    write_outside_sbom(d, inner)
    write_provenance(root)
    checksums.write_sha256sums(root)

    def extract(rpm: Path, dest: Path, ctx: Context) -> str | None:
        shutil.copytree(inner, dest / "opt" / "pmrepo-demo" / "demo")
        return None

    monkeypatch.setattr(release, "extract_payload", extract)
    monkeypatch.setattr(repository, "rpm_digests", lambda batch, log=None: {})
    return root


def fails(report: Report) -> list[str]:
    return [f"{f.subject}: {f.check}: {f.detail}" for f in report.failed]


def test_an_unsigned_release_as_published_passes_and_says_what_it_did_not_check(published: Path) -> None:
    lines: list[str] = []
    report = release.run_verify(str(published), console=Console(sink=lines.append, live=False))
    assert fails(report) == []
    checks = {f.check for f in report.findings if f.status != SKIP}
    assert checks == {"sums", "payload", "repodata", "sbom", "provenance"}
    assert {f.check for f in report.skipped} == {
        "sums-signature",
        "rpm-signature",
        "repomd-signature",
        "provenance-signature",
    }
    assert "key: no public key shipped: an unsigned release (signatures are not checked)" in lines
    inner = f"el7/{HOLDER}:/opt/pmrepo-demo/demo"  # the repository in the package's payload
    assert [line for line in lines if line.startswith("NOT CHECKED")] == [
        "NOT CHECKED SHA256SUMS.asc: sums-signature: unsigned release: no SHA256SUMS.asc",
        f"NOT CHECKED 3 files, e.g. el7/{HOLDER}: rpm-signature: digests intact; signature not checked "
        "(unsigned release)",
        f"NOT CHECKED {inner}/repodata/repomd.xml: repomd-signature: unsigned release: no public key to check "
        "repomd.xml.asc against",
        f"NOT CHECKED el7/{PROV}: provenance-signature: unsigned release: the provenance is a bare statement",
    ]
    assert lines[-1].startswith(f"verify: {published}: all ") and lines[-1].endswith(
        " not checked (the NOT CHECKED lines)"
    )


def test_a_changed_package_fails_every_check_that_lists_it(published: Path) -> None:
    (published / "el7" / HOLDER).write_bytes(b"another package")
    with pytest.raises(VerifyError) as err:
        release.run_verify(str(published), console=quiet())
    assert str(err.value) == (
        f"{published}: 3 problem(s), each on a FAIL line above — fix: do not use this copy; "
        "download the release again from its publisher"
    )
    report = release.verify(str(published), console=quiet())
    assert fails(report) == [
        f"el7/{HOLDER}: sums: sha256 differs from SHA256SUMS",
        f"el7/{HOLDER}: sbom: sha256 differs from {DOC}",
        f"el7/{HOLDER}: provenance: sha256 differs from its subject in el7/{PROV}",
    ]


def test_a_file_the_release_does_not_list_or_that_is_not_regular(published: Path) -> None:
    (published / "el7" / "stray.txt").write_text("x")
    (published / "link").symlink_to(published / "SHA256SUMS")
    report = release.verify(str(published), console=quiet())
    assert "link: files: not a regular file" in fails(report)
    assert "el7/stray.txt: sums: not listed in SHA256SUMS: a file that is not part of the release" in fails(report)
    assert f"el7/stray.txt: provenance: not a subject of el7/{PROV}: not a file this build made" in fails(report)


def test_a_signed_build_without_a_key_and_a_provenance_claiming_a_signature(published: Path) -> None:
    rec = published / "el7" / "build.json"
    data = json.loads(rec.read_text())
    data["signed"] = True
    rec.write_text(json.dumps(data))
    write_provenance(published, signed_claim=True)
    checksums.write_sha256sums(published)
    report = release.verify(str(published), console=quiet())
    assert fails(report) == [
        "el7/build.json: key: records a signed build, but the dist ships no public key",
        f"el7/{PROV}: provenance-signature: not signed (a bare statement, no DSSE envelope), but its statement says "
        "it was signed",
    ]


def test_attestations_missing_or_listing_a_package_without_its_sha256(published: Path, tmp_path: Path) -> None:
    (published / "el7" / PROV).unlink()
    doc = json.loads((published / "el7" / DOC).read_text())
    for pkg in doc["packages"]:
        if pkg.get("packageFileName") == HOLDER:
            del pkg["checksums"]
    (published / "el7" / DOC).write_text(json.dumps(doc))
    checksums.write_sha256sums(published)
    report = release.verify(str(published), console=quiet())
    assert fails(report) == [
        f"el7/{HOLDER}: sbom: {DOC} lists it without its sha256",
        "el7/: provenance: 0 provenance (*.provenance.json) files, not 1",
    ]


def test_a_payload_without_one_repository_fails(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release, "extract_payload", lambda rpm, dest, ctx: "rpm2archive: not an rpm package")
    assert f"el7/{HOLDER}: payload: rpm2archive: not an rpm package" in fails(
        release.verify(str(published), console=quiet())
    )

    def two(rpm: Path, dest: Path, ctx: Context) -> str | None:
        make(dest / "a")
        make(dest / "b")
        return None

    monkeypatch.setattr(release, "extract_payload", two)
    assert f"el7/{HOLDER}: payload: 2 repositories in its payload, not 1" in fails(
        release.verify(str(published), console=quiet())
    )


def test_what_is_no_release_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(VerifyError, match=r"--key .*nokey: no such file — fix: give the release's exported public key"):
        release.verify(str(tmp_path), key=tmp_path / "nokey", console=quiet())
    with pytest.raises(VerifyError, match=r"nothing: no such directory — fix: give a release directory or its URL"):
        release.verify(str(tmp_path / "nothing"), console=quiet())
    (tmp_path / "el7").mkdir()
    (tmp_path / "el7" / "notes.txt").write_text("x")
    with pytest.raises(VerifyError) as err:
        release.verify(str(tmp_path), console=quiet())
    assert str(err.value).startswith(
        f"{tmp_path}: no dist directory with repository packages — fix: give a release "
        "directory (repo/<release>/, its copy on a mirror or its URL) or a repository"
    )


def test_a_repository_directory_gets_the_repository_s_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "rpm_digests", lambda batch, log=None: {})
    root = make(tmp_path / "demo")
    report = release.verify(str(root) + "/", console=quiet())
    assert fails(report) == [] and f"{root}/rpm/{rpm_file(LIBDEMO)}" in {f.subject for f in report.findings}
    (root / "rpm" / rpm_file(LIBDEMO)).write_bytes(b"x")
    assert fails(release.verify(str(root), console=quiet()))[0] == (
        f"{root}/rpm/{rpm_file(LIBDEMO)}: repodata: sha256 differs from primary.xml"
    )


def test_publish_checks_the_uploaded_copy_before_the_switch(published: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(published, mirror / ".staging-x")
    check = release.publish_check(published, quiet())
    check(DirTarget(mirror), ".staging-x")  # passes: no exception
    (mirror / ".staging-x" / "el7" / HOLDER).write_bytes(b"changed on the mirror")
    with pytest.raises(PublishError) as err:
        check(DirTarget(mirror), ".staging-x")
    assert str(err.value).startswith(
        f"{mirror}/.staging-x/: verification of the upload failed (3 problem(s); first: "
        f"el7/{HOLDER}: sums: sha256 differs from SHA256SUMS); the release was not "
        "switched into place — fix: "
    )
    lines: list[str] = []
    release.publish_check(published, Console(sink=lines.append, live=False))(RsyncTarget("/srv/m", "host"), ".s")
    assert lines[0] == f"publish: the copy at host:/srv/m/.s/ has every file's sha256; verifying {published}"
