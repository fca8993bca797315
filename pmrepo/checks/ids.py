"""Stable finding ids (rpmlint's model): one id per kind of finding, described
once here; reports carry them with their descriptions (``<check>-<dist>.txt``
and ``.json``) and ``pmrepo explain <id>`` prints one.

rpmlint's own ids pass through as ``rpmlint.<its id>`` (described by
``rpmlint -e <id>``: ``checks.rpmlint.explain``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    id: str
    description: str  # what a finding of this kind means (the reports and `explain` show it)


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind("digest.bad", "rpm -K reports a bad or missing header or payload digest"),
        Kind("compat.unreadable", "the dist's rpm cannot read the package"),
        Kind("compat.rpm-format", "lead, signature or header version the dist's rpm does not read"),
        Kind("compat.header-size", "more header tags, data or bytes than the dist's rpm accepts"),
        Kind("compat.rpmlib", "an rpmlib() feature the dist's rpm does not provide"),
        Kind("compat.payload", "a payload compression the dist's rpm cannot decompress"),
        Kind("compat.file-digest", "a file digest algorithm the dist's rpm cannot verify"),
        Kind("compat.metadata-types", "repository metadata the dist's yum needs is missing"),
        Kind("compat.metadata-compression", "repository metadata compressed in a way the dist's yum cannot read"),
        Kind("compat.checksum-type", "a repository checksum type the dist's yum does not know"),
        Kind("compat.group-file", "the release defines a group but the repository has no comps file"),
        Kind("compat.metadata-integrity", "repomd.xml lists a missing file or a wrong checksum"),
        Kind("compat.repomd", "repomd.xml cannot be read"),
        Kind("closure.unresolved", "a requirement neither the repositories nor the base repositories provide"),
        Kind("closure.failed", "dnf repoclosure failed without naming a requirement"),
        Kind("rpmlint.unreadable", "rpm cannot read the package rpmlint should check"),
        Kind("rpmlint.failed", "rpmlint exited non-zero without a parsable error"),
        Kind("install.repo-package", "the repository package of the dist is missing"),
        Kind("install.engine", "no working container engine (an error when one is required)"),
        Kind("install.step", "a step of the container install test failed or warned"),
        Kind("install.skipped", "a step of the container install test was skipped"),
        Kind("fresh-root-install.failed", "rpm -i / dnf install / erase into an empty root failed"),
        Kind("upgrade.failed", "the upgrade in place from the previous release failed"),
        Kind("nevra.rebuilt", "a NEVRA the previous release published, built again with other bytes"),
        Kind("nevra.not-compared", "the previous release's published packages could not be compared"),
    )
}


RPMLINT_PREFIX = "rpmlint."


def describe(kind: str) -> str:
    """What a finding of ``kind`` means: its description here; for one of rpmlint's own ids,
    where its description is (rpmlint reports fill in rpmlint's own text: ``Findings.descriptions``)."""
    if kind in KINDS:
        return KINDS[kind].description
    if kind.startswith(RPMLINT_PREFIX):
        name = kind.removeprefix(RPMLINT_PREFIX)
        return f"rpmlint's check {name} (`rpmlint -e {name}` describes it)"
    return ""


def prefixes() -> list[str]:
    """The first part of every finding id (the check that reports it), with its dot."""
    return sorted({k.split(".", 1)[0] + "." for k in KINDS} | {RPMLINT_PREFIX})


def known(kind: str) -> str:
    """``kind`` if it is described (or an rpmlint id); otherwise a programming error."""
    if kind not in KINDS and not kind.startswith(RPMLINT_PREFIX):
        raise KeyError(f"finding kind {kind!r} is not described in pmrepo/checks/ids.py")
    return kind
