"""THE ``rpm -qp --qf`` header query of the checks: payload, digests, rpmlib
requirements, name/arch (``query_rpm`` -> ``RpmHeader``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import GateError
from ..run import run

_FIELDS = ("NAME", "EPOCHNUM", "VERSION", "RELEASE", "PAYLOADCOMPRESSOR", "PAYLOADFORMAT", "FILEDIGESTALGO")
_QF = ("".join(f"@{f}=%{{{f}}}\\n" for f in _FIELDS)
       + "@ARCH=%|SOURCEPACKAGE?{src}:{%{ARCH}}|\\n"
       + "[@REQUIRE=%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n]")


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
    res = run(["rpm", "-qp", "--nosignature", "--nodigest", "--qf", _QF, str(path)],
              log_file=log, error=GateError)
    values: dict[str, str] = {}
    requires: list[RpmRequire] = []
    for line in res.output.splitlines():
        if not line.startswith("@") or "=" not in line:
            continue  # rpm's own warnings
        key, _, value = line[1:].partition("=")
        if key == "REQUIRE":
            name, flags, version = (value.split("\t") + ["", ""])[:3]
            requires.append(RpmRequire(name, _none(flags.strip()), _none(version)))
        else:
            values[key] = value
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
