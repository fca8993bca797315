"""The demo release's SBOM and provenance, made for real (rpmbuild, createrepo_c) and checked with
the libraries and with rpm: a valid SPDX 2.3 document per dist whose packages and checksums match
every shipped file (beside the outputs, and inside each repository), a provenance whose subjects
are exactly the dist's files; and `verify` of the unsigned demo: what it cannot check, said, the
rest checked."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import DEMO, ROOT, DemoBuild
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from pmrepo import checksums
from pmrepo.run import run
from pmrepo.verify.report import CHECKS

DISTS = ("el6", "el7")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def payload(rpm: Path, dest: Path) -> Path:
    """The repository package's payload, unpacked under ``dest`` (rpm2archive, as an operator could)."""
    dest.mkdir(parents=True)
    copy = dest / rpm.name
    shutil.copyfile(rpm, copy)
    run(["rpm2archive", "-n", str(copy)], cwd=dest)
    with tarfile.open(f"{copy}.tar") as tar:
        tar.extractall(dest / "root", filter="data")
    return dest / "root"


def sbom_of(build: DemoBuild, dist: str) -> Path:
    return build.outputs[dist] / f"{build.release.release_id}.{dist}.spdx.json"


@pytest.mark.parametrize("dist", DISTS)
def test_sbom_is_valid_spdx_and_lists_every_shipped_file(demo_build: DemoBuild, dist: str, tmp_path: Path) -> None:
    path = sbom_of(demo_build, dist)
    assert validate_full_spdx_document(json_parser.parse_from_file(str(path)), "SPDX-2.3") == []
    data = json.loads(path.read_text())
    assert data["creationInfo"]["created"] == f"{demo_build.release.date.isoformat()}T00:00:00Z"
    by_file = {p["packageFileName"]: p for p in data["packages"]}
    for rpm in demo_build.repo_rpms(dist):  # the repository packages, with their sha256
        assert by_file[rpm.name]["checksums"] == [{"algorithm": "SHA256", "checksumValue": sha256(rpm)}]
    shipped: dict[str, Path] = {}  # every RPM the repository packages carry
    for rpm in demo_build.repo_rpms(dist):
        root = payload(rpm, tmp_path / rpm.name)
        shipped.update({p.name: p for p in root.rglob("rpm/*.rpm")})
        inner = list(root.rglob("*.spdx.json"))  # the copy inside, at the repository's root
        assert [p.relative_to(root).parent.parent.name for p in inner] == ["pmrepo-demo"] and inner[0].name == path.name
        inside = json.loads(inner[0].read_text())
        assert [p["packageFileName"] for p in inside["packages"]] == [p["packageFileName"] for p in data["packages"]]
        assert "checksums" not in inside["packages"][0]  # it is part of the repository package's payload
    listed = {n: p["checksums"][0]["checksumValue"] for n, p in by_file.items()
              if p["SPDXID"].startswith("SPDXRef-RPM-")}
    assert listed == {n: sha256(p) for n, p in shipped.items()} and len(listed) >= 16
    for name, p in sorted(shipped.items()):  # what rpm itself says of each
        nm, vr, arch, lic = run(["rpm", "-qp", "--nosignature", "--qf",
                                 "%{NAME} %{VERSION}-%{RELEASE} %|SOURCEPACKAGE?{src}:{%{ARCH}}| %{LICENSE}",
                                 str(p)]).output.split(" ", 3)
        entry = by_file[name]
        assert (entry["name"], entry["versionInfo"], entry["licenseDeclared"]) == (nm, vr, lic)
        assert entry["externalRefs"][0]["referenceLocator"] == f"pkg:rpm/pmrepo/{nm}@{vr}?arch={arch}&distro={dist}"
        assert "_" not in entry["SPDXID"]
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in data["relationships"]}
    ids = {p["packageFileName"]: p["SPDXID"] for p in data["packages"]}
    for name, p in shipped.items():
        if name.endswith(".src.rpm"):  # each SRPM holds exactly the sources the SBOM lists, with their sha256
            held = dict(ln.split() for ln in run(["rpm", "-qp", "--nosignature", "--qf",
                                                  "[%{FILENAMES} %{FILEDIGESTS}\n]",
                                                   str(p)]).output.splitlines())
            sources = {b for a, kind, b in rels if a == ids[name] and kind == "CONTAINS"}
            assert {by_id["packageFileName"]: by_id["checksums"][0]["checksumValue"]
                    for by_id in data["packages"] if by_id["SPDXID"] in sources} == held
        elif not name.startswith("demo-all-"):  # built from a shipped SRPM (the metapackage's is not shipped)
            srpm = run(["rpm", "-qp", "--nosignature", "--qf", "%{SOURCERPM}", str(p)]).output.strip()
            assert (ids[name], "GENERATED_FROM", ids[srpm]) in rels


def test_the_repo_package_installs_the_sbom_in_each_repository(demo_build: DemoBuild) -> None:
    name = sbom_of(demo_build, "el7").name
    for rpm, prefix in zip(demo_build.repo_rpms("el7"), ("demo", "demo-debuginfo", "demo-src"), strict=True):
        assert f"/opt/pmrepo-demo/{prefix}/{name}" in run(["rpm", "-qpl", str(rpm)]).output.split()
    assert next(iter(demo_build.outputs["el7"].glob("*.provenance.json"))).name not in run(
        ["rpm", "-qpl", str(demo_build.repo_rpm("el7"))]).output  # run times and hosts stay out of the packages


@pytest.mark.parametrize("dist", DISTS)
def test_provenance_subjects_are_exactly_the_dist_files(demo_build: DemoBuild, dist: str) -> None:
    out = demo_build.outputs[dist]
    path = out / f"{demo_build.release.release_id}.{dist}.provenance.json"
    stmt = json.loads(path.read_text())  # unsigned: the bare statement
    Statement.copy_from_pb(json_format.ParseDict(stmt, statement_pb2.Statement())).validate()
    json_format.ParseDict(stmt["predicate"], provenance_pb2.Provenance())  # a SLSA provenance v1 predicate
    assert (stmt["_type"], stmt["predicateType"]) == ("https://in-toto.io/Statement/v1",
                                                      "https://slsa.dev/provenance/v1")
    files = {f"{dist}/{p.relative_to(out).as_posix()}": sha256(p) for p in out.rglob("*") if p.is_file() and p != path}
    assert {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]} == files
    assert {f"{dist}/{r.name}" for r in demo_build.repo_rpms(dist)} | {
        f"{dist}/build.json", f"{dist}/{sbom_of(demo_build, dist).name}"} <= set(files)
    build = stmt["predicate"]["buildDefinition"]
    assert build["externalParameters"]["manifest"] == {"path": str(DEMO), "digest": {"sha256": sha256(DEMO)}}
    assert build["externalParameters"]["options"]["backend"] == "rpmbuild"
    assert build["internalParameters"]["signed"] is False
    assert "not recorded" in build["internalParameters"]["buildRoots"]  # rpmbuild: the host's packages are not listed
    # rpmbuild builds against the host: no repository listed (the checks' base_repos are no build input)
    assert build["internalParameters"]["buildRootRepositories"].startswith("none: the rpmbuild backend builds")
    assert not [d for d in build["resolvedDependencies"] if "repository" in d["annotations"]["origin"]]
    deps = {d["name"]: d for d in build["resolvedDependencies"]}
    rel = demo_build.release
    for comp in rel.components_for(dist):
        assert deps[f"specs/{comp.spec.name}"]["digest"]["sha256"] == sha256(comp.spec)
    assert deps["pmrepo/templates/specs/pacemaker-repo.spec.j2"]["digest"]["sha256"] == sha256(
        ROOT / "pmrepo/templates/specs/pacemaker-repo.spec.j2")
    meta = stmt["predicate"]["runDetails"]["metadata"]
    assert meta["startedOn"] <= meta["finishedOn"]


def verify(location: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "verify", str(location), *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


def test_verify_unsigned_release_says_what_it_could_not_check(demo_build: DemoBuild, tmp_path: Path) -> None:
    release = tmp_path / demo_build.release.release_id
    shutil.copytree(demo_build.outdir / demo_build.release.release_id, release)
    checksums.write_sha256sums(release)  # what publish writes
    res = verify(release)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert "FAIL" not in res.stdout
    gaps = [ln for ln in res.stdout.splitlines() if ln.startswith("NOT CHECKED")]
    assert {c for ln in gaps for c in CHECKS if f": {c}: " in ln} == {"sums-signature", "rpm-signature",
                                                                      "repomd-signature", "provenance-signature"}
    rows = {ln.split()[0]: ln.split()[1:4] for ln in res.stdout.splitlines() if ln.split() and ln.split()[0] in (
        "sums", "repodata", "sbom", "provenance", "payload", "rpm-signature")}
    assert all(int(rows[c][0]) > 0 and rows[c][1] == "0" for c in ("sums", "repodata", "sbom", "provenance", "payload"))
    assert rows["rpm-signature"] == ["0", "0", "40"]  # digests checked, signatures not: said per RPM
    # ... and the rest is still checked: an edited SBOM is caught by name
    doc = release / "el7" / sbom_of(demo_build, "el7").name
    doc.write_text(doc.read_text().replace('"MIT"', '"GPL-2.0-only"', 1))
    res = verify(release)
    assert res.returncode != 0
    fails = [ln for ln in res.stdout.splitlines() if ln.startswith("FAIL")]
    assert f"FAIL el7/{doc.name}: sums: sha256 differs from SHA256SUMS" in fails
    subject_of = doc.name.replace(".spdx.json", ".provenance.json")
    assert f"FAIL el7/{doc.name}: provenance: sha256 differs from its subject in el7/{subject_of}" in fails
    assert res.stderr.strip().endswith("download the release again from its publisher")
