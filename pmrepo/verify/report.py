"""What ``verify`` found: one finding per check and file, described once, and the summary table.

Every check ``verify`` runs has an id here (``CHECKS``, in the order of the summary table) and a
line saying what it checks. A finding passes, fails (one line on the spot: ``FAIL <file>:
<check>: <why>``) or could not be checked (at the end, one ``NOT CHECKED`` line per check and
reason — an unsigned release has no signatures to check; over HTTP there is no listing that
would show files SHA256SUMS does not name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import sha256_file
from ..progress import Console, table

CHECKS: dict[str, str] = {  # id -> what it checks (at most 48 characters: the summary table fits 100 columns)
    "files": "regular files only, inside the release",
    "sums": "SHA256SUMS lists every file, with its sha256",
    "sums-signature": "SHA256SUMS.asc: signed by the release key",
    "key": "one public key in every dist (--key's, if given)",
    "rpm-signature": "each RPM signed by the release key, digests OK",
    "payload": "each repo package holds one readable repository",
    "repomd-signature": "repomd.xml.asc: signed by the release key",
    "repodata": "repomd.xml and primary.xml match the files",
    "sbom": "valid SPDX 2.3; lists the files, their sha256",
    "provenance": "valid SLSA v1 Statement; subjects = the files",
    "provenance-signature": "a DSSE envelope signed by the release key",
}
OK, FAIL, SKIP = "ok", "fail", "not checked"


@dataclass(frozen=True)
class Finding:
    check: str  # a key of CHECKS
    subject: str  # the file (relative to what is verified)
    status: str  # OK, FAIL or SKIP
    detail: str = ""


@dataclass
class Report:
    """The findings of one ``verify``, each problem and gap said as it is found."""

    say: Callable[[str], None]
    findings: list[Finding] = field(default_factory=list)

    def ok(self, check: str, subject: str, detail: str = "") -> None:
        self.findings.append(Finding(check, subject, OK, detail))

    def fail(self, check: str, subject: str, detail: str) -> None:
        assert check in CHECKS, check
        self.findings.append(Finding(check, subject, FAIL, detail))
        self.say(f"FAIL {subject}: {check}: {detail}")

    def skip(self, check: str, subject: str, why: str) -> None:
        """Could not be checked: said once per reason, at the end (``gaps``)."""
        self.findings.append(Finding(check, subject, SKIP, why))

    def check(self, check: str, subject: str, problem: str | None, detail: str = "") -> bool:
        """``fail`` with ``problem``, or ``ok`` when there is none; True when it passed."""
        if problem:
            self.fail(check, subject, problem)
            return False
        self.ok(check, subject, detail)
        return True

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAIL]

    @property
    def skipped(self) -> list[Finding]:
        return [f for f in self.findings if f.status == SKIP]

    def gaps(self) -> list[str]:
        """One ``NOT CHECKED`` line per check and reason, with how many files it concerns."""
        groups: dict[tuple[str, str], list[str]] = {}
        for f in self.skipped:
            groups.setdefault((f.check, f.detail), []).append(f.subject)
        lines = []
        for (check, why), subjects in groups.items():
            which = subjects[0] if len(subjects) == 1 else f"{len(subjects)} files, e.g. {subjects[0]}"
            lines.append(f"NOT CHECKED {which}: {check}: {why}")
        return lines

    def summary(self) -> str:
        """One row per check that ran: how many files passed, failed, were not checked."""
        rows = []
        for check, what in CHECKS.items():
            mine = [f for f in self.findings if f.check == check]
            if mine:
                counts = [sum(1 for f in mine if f.status == s) for s in (OK, FAIL, SKIP)]
                rows.append((check, *counts, what))
        return table(["check", "passed", "failed", "not checked", "what"], rows)


@dataclass
class Context:
    """One ``verify`` run: where its report goes, the key it trusts, its scratch space."""

    report: Report
    console: Console
    scratch: Path  # a private temporary directory (extracted payloads, signature files)
    key: Path | None = None  # the public key trusted (None: the release is unsigned)
    complete_listing: bool = True  # False over HTTP: only the files SHA256SUMS names are known
    log: Path | None = None  # the commands' log
    digests: dict[Path, str] = field(default_factory=dict)

    def sha256(self, path: Path) -> str:
        """The file's sha256, hashed once per run (SHA256SUMS and the provenance both need it): a
        regular file, never read through a symlink (fsutil.NotRegularFileError)."""
        if path not in self.digests:
            self.digests[path] = sha256_file(path, follow=False)
        return self.digests[path]
