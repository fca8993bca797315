"""The digest gate: which RPMs it hands to ``rpm -K`` (the gate's RPMs and every repository's, each
once), and each bad verdict as one ``digest.bad`` error (``rpm -K`` itself is faked here; its
reading is ``checks.integrity``'s, run for real by tests/integration/test_gates.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import CheckContext, DigestCheck, digest

DIST = manifest.load(DEMO).dists["el7"]


class FakeDigests:
    """``rpm_digests`` as the gate calls it: records the call, answers the planted verdicts."""

    def __init__(self, bad: dict[str, str]) -> None:
        self.bad = bad
        self.calls: list[tuple[list[Path], Path | None]] = []

    def __call__(self, rpms: Sequence[Path], *, log: Path | None = None) -> dict[Path, str]:
        self.calls.append((list(rpms), log))
        return {p: self.bad[p.name] for p in rpms if p.name in self.bad}


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A repository with two RPMs (and a non-RPM beside them), a debuginfo repository, an SRPM."""
    main, debug = tmp_path / "tree", tmp_path / "debuginfo-tree"
    for repo, names in ((main, ["b-1-1.x86_64.rpm", "a-1-1.noarch.rpm", "README"]), (debug, ["a-dbg-1-1.rpm"])):
        (repo / "rpm").mkdir(parents=True)
        for name in names:
            (repo / "rpm" / name).write_bytes(b"x")
    srpm = tmp_path / "src" / "a-1-1.src.rpm"
    srpm.parent.mkdir()
    srpm.write_bytes(b"s")
    return main, debug, srpm


def test_every_rpm_once_sorted_and_a_clean_run_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, debug, srpm = _tree(tmp_path)
    fake = FakeDigests({})
    monkeypatch.setattr(digest, "rpm_digests", fake)
    via_link = tmp_path / "link.rpm"
    via_link.symlink_to(main / "rpm" / "a-1-1.noarch.rpm")  # the same file by another name: checked once
    ctx = CheckContext(
        release=None,
        dist=DIST,
        report_dir=tmp_path / "reports",
        rpms=(main / "rpm" / "a-1-1.noarch.rpm", srpm, via_link),
        repos=(main, debug),
    )
    found = DigestCheck().run(ctx)
    want = sorted(
        p.resolve()
        for p in (
            main / "rpm" / "a-1-1.noarch.rpm",
            main / "rpm" / "b-1-1.x86_64.rpm",
            debug / "rpm" / "a-dbg-1-1.rpm",
            srpm,
        )
    )
    assert fake.calls == [(want, tmp_path / "reports" / "logs" / "digest.log")]
    assert found.items == [str(p) for p in want]  # no README: only *.rpm of a repository
    assert found.passed and found.findings == [] and (found.check, found.dist) == ("digest", "el7")


def test_each_bad_verdict_is_one_error_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, debug, srpm = _tree(tmp_path)
    monkeypatch.setattr(
        digest,
        "rpm_digests",
        FakeDigests({"b-1-1.x86_64.rpm": "rpm -K: digests NOT OK", "a-1-1.src.rpm": "rpm -K gave no verdict"}),
    )
    ctx = CheckContext(release=None, dist=DIST, report_dir=tmp_path / "r", rpms=(srpm,), repos=(main, debug))
    found = DigestCheck().run(ctx)
    assert not found.passed
    assert sorted((Path(f.file).name, f.check, f.message, f.id, f.severity.value) for f in found.findings) == [
        ("a-1-1.src.rpm", "digests", "rpm -K gave no verdict", "digest.bad", "E"),
        ("b-1-1.x86_64.rpm", "digests", "rpm -K: digests NOT OK", "digest.bad", "E"),
    ]
    assert found.error_message() == (  # in rpm -K's order: the sorted paths
        f"digest gate failed for el7: {srpm.resolve()}: digests: rpm -K gave no verdict (+1 more error(s))"
    )


def test_nothing_to_check_passes_with_nothing_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDigests({})
    monkeypatch.setattr(digest, "rpm_digests", fake)
    found = DigestCheck().run(CheckContext(release=None, dist=DIST, report_dir=tmp_path, repos=(tmp_path / "none",)))
    assert found.passed and found.items == [] and fake.calls[0][0] == []


def test_the_gate_is_required_and_named_for_the_reports() -> None:
    assert (DigestCheck.id, DigestCheck.name, DigestCheck.record, DigestCheck.required) == (
        "digest",
        "digest gate",
        "gates",
        True,
    )
