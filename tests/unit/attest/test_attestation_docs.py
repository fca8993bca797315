"""The SBOM, the provenance and verify's report on small hand-made inputs (no rpm, no gpg):
what each document says, that the libraries accept it, and what a changed one looks like."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from pmrepo import manifest
from pmrepo.attest import provenance, sbom
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import AttestationError
from pmrepo.verify.report import CHECKS, Report


def content(**changes: object) -> sbom.DistContent:
    rpm = sbom.Rpm("libdemo-1.2-1.el7.x86_64.rpm", "a" * 64, "libdemo", "1.2", "1.el7", "x86_64", "MIT",
                   "libdemo-1.2-1.el7.src.rpm", "https://example.invalid/libdemo", "main")
    srpm = sbom.Rpm("libdemo-1.2-1.el7.src.rpm", "b" * 64, "libdemo", "1.2", "1.el7", "src", "GPLv2+ and LGPLv2+",
                    "", "", "src")
    meta = sbom.Rpm("demo-all-1.0-1.el7.noarch.rpm", "c" * 64, "demo-all", "1.0", "1.el7", "noarch", "MIT",
                    "demo-all-1.0-1.el7.src.rpm", "", "main")  # its SRPM is not shipped
    src = sbom.SourceFile("libdemo-1.2-1.el7.src.rpm", "libdemo-1.2.tar.gz", "d" * 64, "1.2",
                          "https://example.invalid/libdemo-1.2.tar.gz", "upstream source")
    repos = tuple(sbom.RepoPackage(kind, f"demo-repo{suffix}-1.0-1.el7.x86_64.rpm", f"demo-repo{suffix}", "1.0-1.el7",
                                   "x86_64", None) for kind, suffix in (("main", ""), ("debuginfo", "-debuginfo"),
                                                                        ("src", "-src")))
    c = sbom.DistContent("demo-repo-1.0-1", "el7", "pmrepo", "MIT", dt.date(2026, 11, 24), repos, (meta, rpm, srpm),
                         (src,))
    return dataclasses.replace(c, **changes)  # type: ignore[arg-type]


def test_sbom_is_valid_spdx_23_with_sanitised_ids_and_the_release_date(tmp_path: Path) -> None:
    text = sbom.render(content())
    data = json.loads(text)
    assert data["spdxVersion"] == "SPDX-2.3" and data["creationInfo"]["created"] == "2026-11-24T00:00:00Z"
    ids = [p["SPDXID"] for p in data["packages"]]
    assert all("_" not in i for i in ids) and "SPDXRef-RPM-libdemo-1.2-1.el7.x86-64.rpm" in ids
    path = tmp_path / "doc.spdx.json"
    path.write_text(text)
    assert validate_full_spdx_document(json_parser.parse_from_file(str(path)), "SPDX-2.3") == []
    pkgs = {p["packageFileName"]: p for p in data["packages"]}
    lib = pkgs["libdemo-1.2-1.el7.x86_64.rpm"]
    assert lib["licenseDeclared"] == "MIT" and lib["supplier"] == "Organization: pmrepo"
    assert lib["externalRefs"][0]["referenceLocator"] == "pkg:rpm/pmrepo/libdemo@1.2-1.el7?arch=x86_64&distro=el7"
    assert lib["checksums"] == [{"algorithm": "SHA256", "checksumValue": "a" * 64}]
    srpm = pkgs["libdemo-1.2-1.el7.src.rpm"]  # a License tag that is no SPDX expression: said, not guessed
    assert srpm["licenseDeclared"] == "NOASSERTION" and "GPLv2+ and LGPLv2+" in srpm["licenseComments"]
    assert pkgs["libdemo-1.2.tar.gz"]["downloadLocation"] == "https://example.invalid/libdemo-1.2.tar.gz"
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in data["relationships"]}
    assert ("SPDXRef-RPM-libdemo-1.2-1.el7.x86-64.rpm", "GENERATED_FROM",
            "SPDXRef-RPM-libdemo-1.2-1.el7.src.rpm") in rels
    assert ("SPDXRef-RPM-libdemo-1.2-1.el7.src.rpm", "CONTAINS",
            "SPDXRef-Source-libdemo-1.2-1.el7.src.rpm-libdemo-1.2.tar.gz") in rels
    assert not [r for r in rels if r[0] == "SPDXRef-RPM-demo-all-1.0-1.el7.noarch.rpm"]  # no SRPM shipped: no relation
    assert {r[2] for r in rels if r[1] == "DESCRIBES"} == {i for i in ids if i.startswith("SPDXRef-RepoPackage-")}


def test_sbom_is_deterministic_and_the_two_copies_differ_only_by_the_repo_packages(tmp_path: Path) -> None:
    inside = sbom.render(content())
    assert sbom.render(content()) == inside  # no time, no random id: reproducible inside the repo packages
    files = []
    for r in content().repo_packages:
        (tmp_path / r.file_name).write_bytes(r.kind.encode())
        files.append(tmp_path / r.file_name)
    outside = json.loads(sbom.render(sbom.with_repo_packages(content(), files)))
    assert [p.get("checksums") for p in json.loads(inside)["packages"][:3]] == [None] * 3
    assert all(p["checksums"][0]["checksumValue"] for p in outside["packages"][:3])
    assert outside["documentNamespace"] != json.loads(inside)["documentNamespace"]
    with pytest.raises(AttestationError, match="no repository package"):
        sbom.with_repo_packages(content(), files[:1])


def test_sbom_read_reports_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "doc.spdx.json"
    path.write_text(sbom.render(content()))
    view = sbom.read(path)
    assert view.problems == () and set(view.described) == {r.file_name for r in content().repo_packages}
    assert view.contains["demo-repo-1.0-1.el7.x86_64.rpm"] == {"demo-all-1.0-1.el7.noarch.rpm": "c" * 64,
                                                              "libdemo-1.2-1.el7.x86_64.rpm": "a" * 64}
    assert view.srpm_files == {"libdemo-1.2-1.el7.src.rpm": {"libdemo-1.2.tar.gz": "d" * 64}}
    data = json.loads(path.read_text())
    data["spdxVersion"] = "SPDX-2.2"
    data["packages"][3]["checksums"][0]["checksumValue"] = "not-hex"
    path.write_text(json.dumps(data))
    assert sbom.read(path).problems  # the validator's messages, not an exception
    path.write_text("{not json")
    assert sbom.read(path).problems[0].startswith("not")


def test_provenance_statement_validates_and_a_changed_one_does_not() -> None:
    rel = manifest.load(DEMO_RELEASE)
    dist = rel.dists["el7"]
    inputs = provenance.BuildInputs(rel, dist, "mock", content().sources, {"specs/libdemo.spec.j2": "e" * 64},
                                    {"libdemo": ["bash-4.2.46-35.el7_9.x86_64", "gcc-4.8.5-44.el7.x86_64"]})
    run = provenance.RunInfo(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC), {"sign": True}, "build.example", None)
    stmt = provenance.statement({"el7/a.rpm": "f" * 64}, inputs, run, dt.datetime(2026, 12, 1, 10, 5, tzinfo=dt.UTC),
                                signed=True)
    assert provenance.check_statement(stmt) == []
    pred = stmt["predicate"]
    assert pred["buildDefinition"]["externalParameters"]["manifest"] == {"path": str(rel.path),
                                                                         "digest": {"sha256": rel.key}}
    assert pred["runDetails"]["metadata"] == {"invocationId": "build.example@2026-12-01T10:00:00Z",
                                              "startedOn": "2026-12-01T10:00:00Z", "finishedOn": "2026-12-01T10:05:00Z"}
    deps = {d["name"]: d for d in pred["buildDefinition"]["resolvedDependencies"]}
    assert deps["libdemo-1.2.tar.gz"]["uri"] == "https://example.invalid/libdemo-1.2.tar.gz"
    assert deps["gcc-4.8.5-44.el7.x86_64"]["annotations"] == {"origin": "build root package", "buildRoots": ["libdemo"]}
    broken = json.loads(json.dumps(stmt))
    broken["predicate"]["runDetails"]["metadata"]["startedOn"] = "yesterday"
    assert "SLSA provenance" in provenance.check_statement(broken)[0]
    broken = json.loads(json.dumps(stmt))
    broken["subject"] = []
    assert "Statement" in provenance.check_statement(broken)[0]
    broken = json.loads(json.dumps(stmt))
    broken["predicate"]["buildDefinition"]["surprise"] = 1  # a field SLSA v1 does not have
    assert provenance.check_statement(broken)


def test_provenance_read_tells_a_bare_statement_from_an_envelope(tmp_path: Path) -> None:
    stmt = {"_type": provenance.STATEMENT_TYPE, "subject": [{"name": "el7/a", "digest": {"sha256": "a" * 64}}],
            "predicateType": provenance.PREDICATE_TYPE,
            "predicate": {"buildDefinition": {"buildType": provenance.BUILD_TYPE}}}
    path = tmp_path / "p.json"
    provenance.write(path, stmt, None)
    view = provenance.read(path)
    assert not view.signed and view.problems == () and view.subjects() == {"el7/a": "a" * 64}
    import base64
    envelope = {"payloadType": provenance.PAYLOAD_TYPE,
                "payload": base64.b64encode(provenance.payload_bytes(stmt)).decode(),
                "signatures": [{"keyid": "ABC", "sig": base64.b64encode(b"sig").decode()}]}
    path.write_text(json.dumps(envelope))
    view = provenance.read(path)
    assert view.signed and view.problems == () and view.subjects() == {"el7/a": "a" * 64}
    envelope["payload"] = "!!!"
    path.write_text(json.dumps(envelope))
    assert provenance.read(path).problems[0].startswith("not a DSSE envelope")


def test_ci_run_url_and_build_root_lists(tmp_path: Path) -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7",
           "GITHUB_RUN_ATTEMPT": "2"}
    assert provenance.ci_run_url(env) == "https://github.com/o/r/actions/runs/7/attempts/2"
    assert provenance.ci_run_url({}) is None
    log = tmp_path / provenance.INSTALLED_PKGS_LOG
    # mock 6.7's package_state plugin: rpm -qa --qf '%{nevra} %{buildtime} %{size} %{pkgid} installed\n'
    log.write_text("bash-4.2.46-35.el7_9.x86_64 1604000000 3667709 0123abcd installed\n"
                   "gcc-4.8.5-44.el7.x86_64 1601000000 39238933 4567ef01 installed\n\n")
    assert provenance.build_root_packages([tmp_path / "build.log", log]) == ["bash-4.2.46-35.el7_9.x86_64",
                                                                             "gcc-4.8.5-44.el7.x86_64"]
    assert provenance.build_root_packages([tmp_path / "build.log"]) is None


def test_report_lines_table_and_gaps() -> None:
    lines: list[str] = []
    report = Report(lines.append)
    report.ok("sums", "a")
    report.fail("sums", "b", "sha256 differs")
    for n in range(3):
        report.skip("rpm-signature", f"el7/{n}.rpm", "unsigned release")
    assert lines == ["FAIL b: sums: sha256 differs"]  # a gap is said once, at the end
    assert report.gaps() == ["NOT CHECKED 3 files, e.g. el7/0.rpm: rpm-signature: unsigned release"]
    table = report.summary().splitlines()
    assert table[2].split() == ["sums", "1", "1", "0", *CHECKS["sums"].split()]
    assert all(len(d) <= 48 for d in CHECKS.values())
    full = Report(lambda s: None)
    for check in CHECKS:
        full.skip(check, "x", "y")
    assert max(len(line) for line in full.summary().splitlines()) <= 100
