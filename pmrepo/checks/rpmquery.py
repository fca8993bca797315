"""THE one reader of ``rpm -qp --qf`` output: ``query`` asks for tagged lines
(``@TAG=value``, one record per package) and parses them; on it, ``query_rpm``
(one package's header: payload, digests, rpmlib requirements, name/arch),
``packaged_files`` (the files of packages, with their digests) and
``package_deps`` (names, requires, provides and files, for the install set)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import GateError, PmrepoError
from ..run import run

Tags = dict[str, list[str]]  # one package: tag -> its values (one for a scalar, one per entry for an array)


def query(
    paths: Sequence[Path],
    scalars: Mapping[str, str],
    arrays: Mapping[str, str] | None = None,
    *,
    log: Path | None = None,
    error: type[PmrepoError] = GateError,
) -> list[Tags]:
    """``rpm -qp`` (no signature/digest checks) of ``paths``: each ``scalars`` name -> query format once per
    package, each ``arrays`` name -> format once per entry; one ``Tags`` per package, in order."""
    qf = (
        "@@\\n"
        + "".join(f"@{k}={fmt}\\n" for k, fmt in scalars.items())
        + "".join(f"[@{k}={fmt}\\n]" for k, fmt in (arrays or {}).items())
    )
    res = run(["rpm", "-qp", "--nosignature", "--nodigest", "--qf", qf, *map(str, paths)], log_file=log, error=error)
    out: list[Tags] = []
    for line in res.output.splitlines():
        if line == "@@":
            out.append({})
        elif line.startswith("@") and "=" in line and out:  # not rpm's own warnings
            key, _, value = line[1:].partition("=")
            out[-1].setdefault(key, []).append(value)
    return out


_HEADER = {
    f: f"%{{{f}}}"
    for f in ("NAME", "EPOCHNUM", "VERSION", "RELEASE", "PAYLOADCOMPRESSOR", "PAYLOADFORMAT", "FILEDIGESTALGO")
} | {"ARCH": "%|SOURCEPACKAGE?{src}:{%{ARCH}}|"}
_REQUIRES = {"REQUIRE": "%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}"}


@dataclass(frozen=True)
class RpmRequire:
    name: str
    flags: str  # "", "=", ">=", "<=", …
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.flags} {self.version}".strip() if self.flags else self.name


@dataclass(frozen=True)
class RpmHeader:
    """The header fields the gates need, as ``rpm -qp --qf`` reports them."""

    path: Path
    name: str
    epoch: int
    version: str
    release: str
    arch: str  # "src" for source packages
    payload_compressor: str  # "" when the tag is absent (rpm then assumes gzip)
    payload_format: str
    file_digest_algo: int | None  # None: no files or no tag (rpm then assumes MD5)
    requires: tuple[RpmRequire, ...]

    @property
    def key(self) -> str:
        """``name.arch`` — how rpmlint names a package in its output."""
        return f"{self.name}.{self.arch}"

    @property
    def nevra(self) -> str:
        ep = f"{self.epoch}:" if self.epoch else ""
        return f"{self.name}-{ep}{self.version}-{self.release}.{self.arch}"


def _none(value: str) -> str:
    return "" if value == "(none)" else value


def query_rpm(path: Path, log: Path | None = None) -> RpmHeader:
    """Read one RPM's header with ``rpm -qp --qf`` (no signature/digest checks)."""
    found = query([path], _HEADER, _REQUIRES, log=log)
    tags = found[0] if found else {}
    values = {k: v[0] for k, v in tags.items() if k != "REQUIRE"}
    requires = []
    for value in tags.get("REQUIRE", []):
        name, flags, version = [*value.split("\t"), "", ""][:3]
        requires.append(RpmRequire(name, _none(flags.strip()), _none(version)))
    if "NAME" not in values:
        raise GateError(f"{path}: rpm could not read the package header — fix: rebuild it")
    algo = _none(values.get("FILEDIGESTALGO", ""))
    epoch = _none(values.get("EPOCHNUM", ""))
    return RpmHeader(
        path=path,
        name=values["NAME"],
        epoch=int(epoch) if epoch.isdigit() else 0,
        version=values.get("VERSION", ""),
        release=values.get("RELEASE", ""),
        arch=values.get("ARCH", ""),
        payload_compressor=_none(values.get("PAYLOADCOMPRESSOR", "")),
        payload_format=_none(values.get("PAYLOADFORMAT", "")),
        file_digest_algo=int(algo) if algo.isdigit() else None,
        requires=tuple(requires),
    )


def packaged_files(
    rpms: Sequence[Path], log: Path | None = None, error: type[PmrepoError] = GateError
) -> dict[str, tuple[str, str]]:
    """path -> (package name, sha256) of the files in ``rpms`` (from their headers); "" for all but regular files."""
    out: dict[str, tuple[str, str]] = {}
    for tags in query(
        rpms, {"NAME": "%{NAME}"}, {"FILE": "%{FILENAMES}\\t%{FILEDIGESTS}\\t%{FILEMODES:perms}"}, log=log, error=error
    ):
        for value in tags.get("FILE", []):
            parts = value.split("\t")
            if len(parts) == 3 and "NAME" in tags:
                out[parts[0]] = (tags["NAME"][0], parts[1] if parts[2].startswith("-") else "")
    return out


def package_deps(
    rpms: Sequence[Path], log: Path | None = None, error: type[PmrepoError] = GateError
) -> list[tuple[str, list[str], list[str], list[str]]]:
    """(name, requires, provides, files) of each of ``rpms``: capability names and file paths."""
    found = query(
        rpms,
        {"NAME": "%{NAME}"},
        {"REQ": "%{REQUIRENAME}", "PROV": "%{PROVIDENAME}", "FILE": "%{FILENAMES}"},
        log=log,
        error=error,
    )
    return [(t["NAME"][0], t.get("REQ", []), t.get("PROV", []), t.get("FILE", [])) for t in found if "NAME" in t]
