"""verify's report (pmrepo.verify.report): a FAIL line as each problem is found, each gap said once at
the end with how many files it concerns, the summary table within 100 columns, and the run's
context hashing each file once and never through a symbolic link."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.fsutil import NotRegularFileError
from pmrepo.progress import Console
from pmrepo.verify.report import CHECKS, FAIL, OK, SKIP, Context, Finding, Report


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


def test_check_fails_with_a_problem_and_passes_without() -> None:
    lines: list[str] = []
    report = Report(lines.append)
    assert report.check("sbom", "el7/x.spdx.json", None, "valid") is True
    assert report.check("sbom", "el7/y.rpm", "not listed in x.spdx.json") is False
    assert report.findings == [
        Finding("sbom", "el7/x.spdx.json", OK, "valid"),
        Finding("sbom", "el7/y.rpm", FAIL, "not listed in x.spdx.json"),
    ]
    assert lines == ["FAIL el7/y.rpm: sbom: not listed in x.spdx.json"]
    assert report.failed == report.findings[1:] and report.skipped == []


def test_one_gap_line_per_check_and_reason() -> None:
    report = Report(lambda s: None)
    report.skip("sums", "(files not listed)", "over HTTP there is no listing")
    report.skip("rpm-signature", "el6/a.rpm", "unsigned")
    report.skip("rpm-signature", "el6/b.rpm", "no key")
    assert report.gaps() == [
        "NOT CHECKED (files not listed): sums: over HTTP there is no listing",
        "NOT CHECKED el6/a.rpm: rpm-signature: unsigned",
        "NOT CHECKED el6/b.rpm: rpm-signature: no key",
    ]
    assert [f.status for f in report.findings] == [SKIP] * 3
    rows = report.summary().splitlines()[2:]
    assert [r.split()[0] for r in rows] == ["sums", "rpm-signature"]  # in CHECKS order, only checks that ran


def test_an_unknown_check_id_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        Report(lambda s: None).fail("no-such-check", "x", "y")


def test_the_context_hashes_a_file_once_and_never_through_a_link(tmp_path: Path) -> None:
    ctx = Context(Report(lambda s: None), Console(), tmp_path)
    f = tmp_path / "a"
    f.write_bytes(b"abc")
    first = ctx.sha256(f)
    assert first == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    f.write_bytes(b"changed")
    assert ctx.sha256(f) == first  # hashed once per run
    (tmp_path / "link").symlink_to(f)
    with pytest.raises(NotRegularFileError):
        ctx.sha256(tmp_path / "link")
