"""The records an output directory carries, read and written only here.

* ``build.json`` (:class:`BuildRecord`): what assembly made — the release and
  manifest key it was built from, every shipped package's version-release,
  every repo package file with size and sha256, which checks ran (with their
  notes) and which did not, signing, the build backend, and every RPM of the
  three repositories with its sha256 and its unsigned digest (the next
  release's NEVRA gate compares its own builds with them), and those taken
  from the previous release's output instead of being built (``reused``:
  which release, repository package and path, sha256).
* ``installed.json`` (:class:`InstallRecord`): what the container install
  test's metapackage install really put there (name -> version-release).
* ``gates/results.json`` (:class:`CheckResults`): the latest result of every
  check of the output, whichever command ran it (``all`` or ``gate``): each
  run's results replace those of the checks it ran. ``publish`` vouches for it.
* ``timings.json`` (:class:`TimingRecord`, in the user's cache directory, not
  in an output): how long each (component, version, dist, backend) took to
  build on this host — the scheduler's estimates (``pmrepo.schedule.timings``). The
  tool's own private file: read without following a symlink, only when it is a
  regular file of at most ``TIMINGS_MAX_BYTES``, written atomically with mode 0600.

Each carries ``format`` (a file without one is format 1, the layout before
the field existed); a file of a newer format, unreadable JSON or a field of
the wrong type is a one-line :class:`RecordError` naming the file and field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .errors import PmrepoError
from .fsutil import FileTooLargeError, NotRegularFileError, read_regular, write_atomic

BUILD_FORMAT = 1
INSTALL_FORMAT = 1
RESULTS_FORMAT = 1
TIMINGS_FORMAT = 1
TIMINGS_MAX_BYTES = 1 << 20  # a larger file is not read (it is refused, then replaced)
TIMINGS_MAX_ENTRIES = 2000  # the newest entries are kept
TIMINGS_SAMPLES = 3  # measurements kept per entry (the estimate is their median)


class RecordError(PmrepoError):
    """A build.json/installed.json that cannot be used."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_regular(path))
    except (OSError, ValueError, NotRegularFileError) as exc:
        raise RecordError(f"{path}: not readable JSON ({exc}) — fix: rerun the step that writes it") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path}: not a JSON object — fix: rerun the step that writes it")
    return data


class _Fields:
    """Typed access to one record's fields, each error naming the file and field."""

    def __init__(self, path: Path, data: Mapping[str, Any], supported: int) -> None:
        self.path, self.data = path, data
        fmt = data.get("format", 1)
        if not isinstance(fmt, int) or fmt < 1:
            self.fail("format", "a positive integer")
        if fmt > supported:
            raise RecordError(
                f"{path}: format {fmt} is newer than this pmrepo reads ({supported}) — fix: use the "
                "pmrepo that wrote it, or rebuild"
            )

    def fail(self, name: str, what: str) -> NoReturn:
        if name not in self.data:
            raise RecordError(f'{self.path}: no "{name}" {what} — fix: rerun the step that writes it')
        raise RecordError(f'{self.path}: "{name}" is not {what} — fix: rerun the step that writes it')

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if value is not None and not isinstance(value, str):
            self.fail(name, "a string")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.fail(name, "true or false")
        return value

    def table(self, name: str, *, required: bool = False) -> dict[str, str]:
        if name not in self.data and not required:
            return {}
        value = self.data.get(name)
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            self.fail(name, "table")
        return dict(value)

    def names(self, name: str) -> tuple[str, ...] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "a list of names")
        return tuple(value)


@dataclass(frozen=True)
class FileInfo:
    size: int
    sha256: str


@dataclass(frozen=True)
class RpmInfo:
    """One RPM of the repositories: its file's sha256, and that of its header and payload
    (``rpmfile.unsigned_digest``: the build's, however it is signed)."""

    sha256: str
    unsigned: str


@dataclass(frozen=True)
class ReusedRpm:
    """One RPM not built but taken from the previous release's published output (``pmrepo.schedule.reuse``)."""

    release: str  # the release id that published it
    repo_package: str  # its repository package's file name
    path: str  # the RPM's path inside that package
    sha256: str  # the file's sha256 as published (its header's file digest)


@dataclass(frozen=True)
class BuildRecord:
    """``build.json``: one assembled dist."""

    dist: str | None
    release: str | None
    packages: dict[str, str]  # shipped package -> version-release (with the metapackage)
    files: dict[str, FileInfo]  # repo package file -> size, sha256
    key: str = ""  # the assembly's input key (reuse)
    release_key: str | None = None  # the manifest's content key
    manifest: str | None = None
    checks: dict[str, str] = field(default_factory=dict)  # check -> note
    unchecked: tuple[str, ...] | None = None  # required checks that did not run (None: not recorded)
    signed: bool = False
    backend: str = ""
    shippable: bool = True  # False: built with BuildRequires assumed from the build host; publish refuses it
    not_shippable: str = ""  # why not
    expected_install: tuple[str, ...] | None = None  # what installing the metapackage must put there (the ★)
    # every RPM of the three repositories (file name -> digests): the next release's NEVRA gate reads them
    rpms: dict[str, RpmInfo] = field(default_factory=dict)
    reused: dict[str, ReusedRpm] = field(default_factory=dict)  # RPM file name -> where it was taken from
    format: int = BUILD_FORMAT

    @classmethod
    def read(cls, path: Path) -> BuildRecord:
        data = _load(path)
        f = _Fields(path, data, BUILD_FORMAT)
        files_raw = data.get("files")
        if not isinstance(files_raw, dict):
            f.fail("files", "table")
        files: dict[str, FileInfo] = {}
        for name, info in files_raw.items():
            if (
                not isinstance(info, dict)
                or not isinstance(info.get("size"), int)
                or not isinstance(info.get("sha256"), str)
            ):
                raise RecordError(f"{path}: no size/sha256 for {name} — fix: rebuild (build.py all)")
            files[name] = FileInfo(info["size"], info["sha256"])
        rpms_raw = data.get("rpms", {})
        if not isinstance(rpms_raw, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("unsigned"), str)
            for v in rpms_raw.values()
        ):
            f.fail("rpms", "a table of file name -> {sha256, unsigned}")
        reused_raw = data.get("reused", {})
        fields = ("release", "repo_package", "path", "sha256")
        if not isinstance(reused_raw, dict) or not all(
            isinstance(v, dict) and all(isinstance(v.get(k), str) for k in fields) for v in reused_raw.values()
        ):
            f.fail("reused", "a table of file name -> {release, repo_package, path, sha256}")
        return cls(
            dist=f.text("dist"),
            release=f.text("release"),
            packages=f.table("packages", required=True),
            files=files,
            key=f.text("key", "") or "",
            release_key=f.text("release_key"),
            manifest=f.text("manifest"),
            checks=f.table("checks"),
            unchecked=f.names("unchecked"),
            signed=f.flag("signed"),
            backend=f.text("backend", "") or "",
            shippable=f.flag("shippable", True),
            not_shippable=f.text("not_shippable", "") or "",
            expected_install=f.names("expected_install"),
            rpms={n: RpmInfo(v["sha256"], v["unsigned"]) for n, v in rpms_raw.items()},
            reused={n: ReusedRpm(*(v[k] for k in fields)) for n, v in reused_raw.items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dist": self.dist,
            "release": self.release,
            "key": self.key,
            "release_key": self.release_key,
            "manifest": self.manifest,
            "checks": dict(self.checks),
            "unchecked": list(self.unchecked or ()),
            "signed": self.signed,
            "backend": self.backend,
            "packages": dict(self.packages),
            "shippable": self.shippable,
            **({"not_shippable": self.not_shippable} if self.not_shippable else {}),
            **({"expected_install": list(self.expected_install)} if self.expected_install is not None else {}),
            "files": {n: {"size": i.size, "sha256": i.sha256} for n, i in sorted(self.files.items())},
            **(
                {"rpms": {n: {"sha256": i.sha256, "unsigned": i.unsigned} for n, i in self.rpms.items()}}
                if self.rpms
                else {}
            ),
            **(
                {
                    "reused": {
                        n: {"release": r.release, "repo_package": r.repo_package, "path": r.path, "sha256": r.sha256}
                        for n, r in sorted(self.reused.items())
                    }
                }
                if self.reused
                else {}
            ),
        }

    def write(self, path: Path) -> Path:
        write_atomic(path, json.dumps(self.to_json(), indent=2, sort_keys=True))
        return path


@dataclass(frozen=True)
class InstallRecord:
    """``installed.json``: what the metapackage's install put there."""

    dist: str | None
    release: str | None
    packages: dict[str, str]  # name -> version-release
    metapackage: str = ""
    image: str = ""
    engine: str = ""
    format: int = INSTALL_FORMAT

    @classmethod
    def read(cls, path: Path) -> InstallRecord:
        data = _load(path)
        f = _Fields(path, data, INSTALL_FORMAT)
        return cls(
            dist=f.text("dist"),
            release=f.text("release"),
            packages=f.table("packages", required=True),
            metapackage=f.text("metapackage", "") or "",
            image=f.text("image", "") or "",
            engine=f.text("engine", "") or "",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dist": self.dist,
            "release": self.release,
            "metapackage": self.metapackage,
            "image": self.image,
            "engine": self.engine,
            "packages": dict(sorted(self.packages.items())),
        }

    def write(self, path: Path) -> Path:
        write_atomic(path, json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        return path


@dataclass(frozen=True)
class CheckResult:
    """One check's latest run on one output."""

    check: str  # the check's id (digest, install, …)
    name: str  # its words (digest gate, container install, …)
    record: str  # its build.json record (gates, fresh-root install, container install)
    passed: bool
    ran: bool = True  # False: not run, because a check before it failed
    required: bool = False  # publish refuses an output without its passing result (unless --allow-unchecked)
    report: str = ""  # its report's file name in gates/ ("" none)
    note: str = ""
    command: str = ""  # the command that ran it: all, gate
    at: str = ""  # when, UTC (ISO 8601)

    @property
    def verdict(self) -> str:
        return "passed" if self.passed else ("FAILED" if self.ran else "not run")


@dataclass(frozen=True)
class CheckResults:
    """``gates/results.json``: the latest result of every check of one output, by check id."""

    dist: str | None
    results: dict[str, CheckResult] = field(default_factory=dict)
    format: int = RESULTS_FORMAT

    @classmethod
    def read(cls, path: Path) -> CheckResults:
        data = _load(path)
        f = _Fields(path, data, RESULTS_FORMAT)
        raw = data.get("results")
        if not isinstance(raw, dict):
            f.fail("results", "table")
        results: dict[str, CheckResult] = {}
        for check, entry in raw.items():
            one = _Fields(path, entry if isinstance(entry, dict) else {}, RESULTS_FORMAT)
            if not isinstance(entry, dict) or not isinstance(entry.get("passed"), bool):
                raise RecordError(f'{path}: "results.{check}" is not a check result — fix: rerun `build.py gate`')
            results[check] = CheckResult(
                check=check,
                name=one.text("name", check) or check,
                record=one.text("record", "") or "",
                passed=one.flag("passed"),
                ran=one.flag("ran", True),
                required=one.flag("required"),
                report=one.text("report", "") or "",
                note=one.text("note", "") or "",
                command=one.text("command", "") or "",
                at=one.text("at", "") or "",
            )
        return cls(dist=f.text("dist"), results=results)

    @classmethod
    def read_or_none(cls, path: Path) -> CheckResults | None:
        """The record at ``path``; None when there is none (an output of a pmrepo before it)."""
        return cls.read(path) if path.is_file() else None

    def merged(self, latest: list[CheckResult]) -> CheckResults:
        """These results with ``latest`` (one run's) replacing those of the same checks."""
        return CheckResults(self.dist, {**self.results, **{r.check: r for r in latest}})

    def failed(self) -> list[CheckResult]:
        """The results that did not pass: the failed ones first, then those not run."""
        bad = [r for r in self.results.values() if not r.passed]
        return sorted(bad, key=lambda r: not r.ran)

    def missing(self, required: Mapping[str, str]) -> tuple[str, ...]:
        """The records (of ``required``: check id -> record) with a check that has no passing result."""
        out = [rec for check, rec in required.items() if check not in self.results or not self.results[check].passed]
        return tuple(dict.fromkeys(out))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dist": self.dist,
            "results": {
                r.check: {
                    "name": r.name,
                    "record": r.record,
                    "passed": r.passed,
                    "ran": r.ran,
                    "required": r.required,
                    "report": r.report,
                    "note": r.note,
                    "command": r.command,
                    "at": r.at,
                }
                for r in self.results.values()
            },
        }

    def write(self, path: Path) -> Path:
        write_atomic(path, json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        return path


@dataclass(frozen=True)
class BuildTime:
    """The newest measured build times of one component version for one dist and backend."""

    component: str
    version: str
    dist: str
    backend: str
    seconds: tuple[float, ...]  # oldest first, at most TIMINGS_SAMPLES
    when: float  # epoch seconds of the newest measurement

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.component, self.version, self.dist, self.backend)


@dataclass(frozen=True)
class TimingRecord:
    """``timings.json``: the host's build times, at most TIMINGS_MAX_ENTRIES entries."""

    times: tuple[BuildTime, ...] = ()
    format: int = TIMINGS_FORMAT

    @classmethod
    def read(cls, path: Path) -> TimingRecord:
        """The record at ``path`` (empty when there is none); a symlink, a non-regular or
        oversized file, bad JSON or a bad field is a one-line RecordError."""
        try:
            raw = read_regular(path, limit=TIMINGS_MAX_BYTES)
        except FileNotFoundError:
            return cls()
        except NotRegularFileError as exc:
            raise RecordError(f"{path}: {exc.kind}, not a regular file (a symlink is never followed)") from None
        except FileTooLargeError:
            raise RecordError(f"{path}: more than the {TIMINGS_MAX_BYTES} bytes it may have") from None
        except OSError as exc:
            raise RecordError(f"{path}: cannot open ({exc.strerror})") from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise RecordError(f"{path}: not readable JSON ({exc})") from None
        if not isinstance(data, dict):
            raise RecordError(f"{path}: not a JSON object")
        f = _Fields(path, data, TIMINGS_FORMAT)
        entries = data.get("times", [])
        if not isinstance(entries, list):
            f.fail("times", "a list")
        return cls(tuple(_build_time(path, i, e) for i, e in enumerate(entries)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "times": [
                {
                    "component": t.component,
                    "version": t.version,
                    "dist": t.dist,
                    "backend": t.backend,
                    "seconds": list(t.seconds),
                    "when": t.when,
                }
                for t in self.times
            ],
        }

    def write(self, path: Path) -> Path:
        """Atomically, mode 0600, the newest TIMINGS_MAX_ENTRIES entries only."""
        newest = sorted(self.times, key=lambda t: t.when)[-TIMINGS_MAX_ENTRIES:]
        bounded = TimingRecord(tuple(newest), self.format)
        write_atomic(path, json.dumps(bounded.to_json(), sort_keys=True) + "\n", mode=0o600)
        return path


def _build_time(path: Path, i: int, entry: Any) -> BuildTime:
    where = f"times[{i}]"
    if not isinstance(entry, dict):
        raise RecordError(f"{path}: {where} is not a table")
    names = {}
    for name in ("component", "version", "dist", "backend"):
        value = entry.get(name)
        if not isinstance(value, str) or not value:
            raise RecordError(f"{path}: {where}.{name} is not a non-empty string")
        names[name] = value
    seconds = entry.get("seconds")
    if (
        not isinstance(seconds, list)
        or not 0 < len(seconds) <= TIMINGS_SAMPLES
        or not all(_positive(s) for s in seconds)
    ):
        raise RecordError(f"{path}: {where}.seconds is not a list of 1-{TIMINGS_SAMPLES} positive numbers")
    when = entry.get("when")
    if not isinstance(when, int | float) or not _positive(when):
        raise RecordError(f"{path}: {where}.when is not a positive number")
    return BuildTime(seconds=tuple(float(s) for s in seconds), when=float(when), **names)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
