"""The SBOM (pmrepo.attest.sbom) on small hand-made inputs (no rpm: its header reader is stood in
for): what the document says, that spdx-tools accepts it, what collect reads from the SRPMs and
refuses, and ``read`` of a document of any shape — problems on one line each, never an exception
(review M4: spdx-tools reads the fields as it expects them, ``"packages": "zz"`` raised AttributeError)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from pmrepo import manifest
from pmrepo.attest import sbom
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import AttestationError
from pmrepo.limits import SBOM_MAX_ELEMENTS


def content(**changes: object) -> sbom.DistContent:
    rpm = sbom.Rpm(
        "libdemo-1.2-1.el7.x86_64.rpm",
        "a" * 64,
        "libdemo",
        "1.2",
        "1.el7",
        "x86_64",
        "MIT",
        "libdemo-1.2-1.el7.src.rpm",
        "https://example.invalid/libdemo",
        "main",
    )
    srpm = sbom.Rpm(
        "libdemo-1.2-1.el7.src.rpm", "b" * 64, "libdemo", "1.2", "1.el7", "src", "GPLv2+ and LGPLv2+", "", "", "src"
    )
    meta = sbom.Rpm(
        "demo-all-1.0-1.el7.noarch.rpm",
        "c" * 64,
        "demo-all",
        "1.0",
        "1.el7",
        "noarch",
        "MIT",
        "demo-all-1.0-1.el7.src.rpm",
        "",
        "main",
    )  # its SRPM is not shipped
    src = sbom.SourceFile(
        "libdemo-1.2-1.el7.src.rpm",
        "libdemo-1.2.tar.gz",
        "d" * 64,
        "1.2",
        "https://example.invalid/libdemo-1.2.tar.gz",
        "upstream source",
    )
    repos = tuple(
        sbom.RepoPackage(
            kind, f"demo-repo{suffix}-1.0-1.el7.x86_64.rpm", f"demo-repo{suffix}", "1.0-1.el7", "x86_64", None
        )
        for kind, suffix in (("main", ""), ("debuginfo", "-debuginfo"), ("src", "-src"))
    )
    c = sbom.DistContent(
        "demo-repo-1.0-1", "el7", "pmrepo", "MIT", dt.date(2026, 11, 24), repos, (meta, rpm, srpm), (src,)
    )
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
    assert (
        "SPDXRef-RPM-libdemo-1.2-1.el7.x86-64.rpm",
        "GENERATED_FROM",
        "SPDXRef-RPM-libdemo-1.2-1.el7.src.rpm",
    ) in rels
    assert (
        "SPDXRef-RPM-libdemo-1.2-1.el7.src.rpm",
        "CONTAINS",
        "SPDXRef-Source-libdemo-1.2-1.el7.src.rpm-libdemo-1.2.tar.gz",
    ) in rels
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
    assert view.contains["demo-repo-1.0-1.el7.x86_64.rpm"] == {
        "demo-all-1.0-1.el7.noarch.rpm": "c" * 64,
        "libdemo-1.2-1.el7.x86_64.rpm": "a" * 64,
    }
    assert view.srpm_files == {"libdemo-1.2-1.el7.src.rpm": {"libdemo-1.2.tar.gz": "d" * 64}}
    data = json.loads(path.read_text())
    data["spdxVersion"] = "SPDX-2.2"
    data["packages"][3]["checksums"][0]["checksumValue"] = "not-hex"
    path.write_text(json.dumps(data))
    assert sbom.read(path).problems  # the validator's messages, not an exception
    path.write_text("{not json")
    assert sbom.read(path).problems[0].startswith("not")


SBOMS: dict[str, Any] = {
    "an array": [],
    "a string": "x",
    "null": None,
    "packages a string": {"spdxVersion": "SPDX-2.3", "packages": "zz"},
    "relationships of numbers": {"spdxVersion": "SPDX-2.3", "relationships": [1]},
    "creationInfo a list": {"spdxVersion": "SPDX-2.3", "creationInfo": [1]},
}


@pytest.mark.parametrize("shape", list(SBOMS))
def test_an_sbom_of_any_shape_is_a_problem(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "x.spdx.json"
    path.write_text(json.dumps(SBOMS[shape]))
    view = sbom.read(path)
    assert view.problems and all("\n" not in p for p in view.problems), view.problems
    assert view.described == {} and view.contains == {}


def test_deep_nesting_and_a_non_regular_file_are_problems(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    assert sbom.read(deep).problems[0].startswith("not readable JSON: ")
    os.mkfifo(tmp_path / "fifo.json")  # never opened for reading (it would wait for a writer)
    assert "a FIFO, not a regular file" in sbom.read(tmp_path / "fifo.json").problems[0]


def test_an_sbom_with_too_many_elements_is_not_validated(tmp_path: Path) -> None:
    path = tmp_path / "x.spdx.json"
    pkgs = [
        {"SPDXID": f"SPDXRef-p{i}", "name": f"p{i}", "downloadLocation": "NOASSERTION"}
        for i in range(SBOM_MAX_ELEMENTS + 1)
    ]
    path.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "packages": pkgs}))
    t0 = time.monotonic()
    view = sbom.read(path)
    assert time.monotonic() - t0 < 5
    assert view.problems == (
        f"lists {SBOM_MAX_ELEMENTS + 1} packages, files and snippets and 0 relationships, "
        "more than the 2000 and 8000 an SBOM of a release may have (not validated)",
    )


# -- the document's parts ------------------------------------------------------------------------


def test_spdx_ids_keep_letters_digits_dots_and_dashes_only() -> None:
    assert sbom.spdx_id("RPM", "pm_diskd-2.2-1.el7.x86_64.rpm") == "SPDXRef-RPM-pm-diskd-2.2-1.el7.x86-64.rpm"
    assert sbom.spdx_id("Source", "a b.src.rpm", "x+y~z.tar.gz") == "SPDXRef-Source-a-b.src.rpm-x-y-z.tar.gz"


@pytest.mark.parametrize(
    ("value", "kind"),
    [({}, "object"), ([], "array"), ("", "string"), (True, "boolean"), (1, "number"), (1.5, "number"), (None, "null")],
)
def test_json_kind_in_json_s_words(value: object, kind: str) -> None:
    assert sbom.json_kind(value) == kind


def test_two_files_with_the_same_spdx_id_are_refused_naming_the_fix() -> None:
    c = content()
    twin = dataclasses.replace(c.rpms[1], file_name="libdemo-1.2-1.el7.x86-64.rpm")  # x86_64 and x86-64: one id
    with pytest.raises(AttestationError) as err:
        sbom.document(dataclasses.replace(c, rpms=(*c.rpms, twin)))
    assert str(err.value) == (
        "demo-repo-1.0-1-el7: two elements would have the SPDX id "
        "SPDXRef-RPM-libdemo-1.2-1.el7.x86-64.rpm — fix: rename one of the files"
    )


def test_a_document_spdx_tools_finds_invalid_is_not_rendered() -> None:
    c = content()
    bad = dataclasses.replace(c.rpms[1], sha256="not-hex")
    with pytest.raises(AttestationError, match=r"^the SBOM of demo-repo-1\.0-1 el7 is not valid SPDX \(1 problem"):
        sbom.render(dataclasses.replace(c, rpms=(c.rpms[0], bad, c.rpms[2])))


def test_a_license_tag_none_and_a_homepage_that_is_no_url() -> None:
    c = content()
    odd = dataclasses.replace(c.rpms[1], license="(none)", url="not a url")
    doc = json.loads(sbom.render(dataclasses.replace(c, rpms=(odd,), sources=())))
    pkgs = {p["packageFileName"]: p for p in doc["packages"]}
    lib = pkgs["libdemo-1.2-1.el7.x86_64.rpm"]
    assert lib["licenseDeclared"] == "NOASSERTION" and "(none)" in lib["licenseComments"]
    assert "homepage" not in lib
    assert pkgs["demo-repo-1.0-1.el7.x86_64.rpm"]["licenseDeclared"] == "MIT"


# -- collect: what the repositories hold, read through rpm (stood in for) ------------------------


class FakeRpm:
    """``rpmquery.query`` over files whose headers are given: {file name: tags}, {SRPM: its files}."""

    def __init__(self, headers: Mapping[str, Mapping[str, str]], srpm_files: Mapping[str, Mapping[str, str]]) -> None:
        self.headers, self.srpm_files = headers, srpm_files

    def __call__(
        self, paths: Sequence[Path], scalars: Mapping[str, str], arrays: Mapping[str, str] | None = None, **kw: Any
    ) -> list[dict[str, list[str]]]:
        if arrays:
            return [{"FILE": [f"{n}\t{d.upper()}" for n, d in self.srpm_files[p.name].items()]} for p in paths]
        return [{k: [v] for k, v in self.headers[p.name].items()} for p in paths]


def _header(name: str, version: str, release: str, arch: str, srpm: str = "") -> dict[str, str]:
    return {
        "NAME": name,
        "VERSION": version,
        "RELEASE": release,
        "ARCH": arch,
        "LICENSE": "MIT",
        "SOURCERPM": srpm,
        "URL": "",
    }


URL = "https://user:secret@example.invalid/libdemo-1.2.tar.gz"


def _collect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: Mapping[str, str], pin: str | None
) -> sbom.DistContent:
    rel = manifest.load(DEMO_RELEASE)
    lib = rel.component("libdemo")
    patch = rel.root / "specs" / "libdemo.spec.j2"  # any project file stands for a patch
    comp = dataclasses.replace(lib, sources=(manifest.Source(URL, None, pin, "libdemo-1.2.tar.gz"),), patches=(patch,))
    rel = dataclasses.replace(rel, components=tuple(comp if c.name == "libdemo" else c for c in rel.components))
    trees = {kind: tmp_path / kind for kind in ("main", "src")}
    rpm, srpm = "libdemo-1.2-1.el7.x86_64.rpm", "libdemo-1.2-1.el7.src.rpm"
    for kind, name in (("main", rpm), ("src", srpm)):
        (trees[kind] / "rpm").mkdir(parents=True)
        (trees[kind] / "rpm" / name).write_bytes(name.encode())
    headers = {rpm: _header("libdemo", "1.2", "1.el7", "x86_64", srpm), srpm: _header("libdemo", "1.2", "1.el7", "src")}
    monkeypatch.setattr(sbom, "query", FakeRpm(headers, {srpm: held}))
    return sbom.collect(rel, rel.dists["el7"], trees)


def test_collect_describes_each_srpm_file_from_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = "a" * 64
    got = _collect(
        tmp_path,
        monkeypatch,
        {"libdemo-1.2.tar.gz": tarball, "libdemo.spec.j2": "b" * 64, "libdemo.spec": "c" * 64},
        pin=tarball,
    )
    assert [(r.file_name, r.repository, r.sha256) for r in got.rpms] == [
        ("libdemo-1.2-1.el7.x86_64.rpm", "main", hashlib.sha256(b"libdemo-1.2-1.el7.x86_64.rpm").hexdigest()),
        ("libdemo-1.2-1.el7.src.rpm", "src", hashlib.sha256(b"libdemo-1.2-1.el7.src.rpm").hexdigest()),
    ]
    by_name = {s.file_name: s for s in got.sources}
    assert by_name["libdemo-1.2.tar.gz"].url == "https://***@example.invalid/libdemo-1.2.tar.gz"  # no credentials
    assert by_name["libdemo-1.2.tar.gz"].origin == "upstream source" and by_name["libdemo-1.2.tar.gz"].sha256 == tarball
    assert by_name["libdemo.spec.j2"].origin == "patch specs/libdemo.spec.j2"
    assert by_name["libdemo.spec"].origin == "spec" and by_name["libdemo.spec"].version == "1.2"
    assert [r.file_name for r in got.repo_packages] == [
        "demo-repo-1.0-1.el7.x86_64.rpm",
        "demo-repo-debuginfo-1.0-1.el7.x86_64.rpm",
        "demo-repo-src-1.0-1.el7.x86_64.rpm",
    ]
    assert all(r.sha256 is None for r in got.repo_packages) and got.date == dt.date(2026, 11, 24)


def test_collect_refuses_an_srpm_whose_source_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AttestationError) as err:
        _collect(tmp_path, monkeypatch, {"libdemo-1.2.tar.gz": "a" * 64, "libdemo.spec.j2": "b" * 64}, pin="f" * 64)
    assert str(err.value).startswith(
        "libdemo-1.2-1.el7.src.rpm: holds libdemo-1.2.tar.gz with sha256 aaaaaaaaaaaaaaaa…"
    )
    assert str(err.value).endswith("pins ffffffffffffffff… — fix: rebuild it (--force)")


def test_collect_refuses_an_srpm_without_a_file_of_its_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AttestationError, match=r"does not hold libdemo\.spec\.j2 of .* components\.libdemo — fix: "):
        _collect(tmp_path, monkeypatch, {"libdemo-1.2.tar.gz": "a" * 64}, pin=None)
