"""The provenance of one dist: an in-toto Statement v1 with the SLSA provenance v1 predicate.

* ``subject``: every file of the dist's output directory (the repository packages, the public
  key, the SBOM, build.json, installed.json, the check reports) with its sha256, named as in
  ``SHA256SUMS`` (``el7/…``); the provenance itself is the one file not listed.
* ``buildDefinition``: the manifest (path and sha256), the dist and the options that shape the
  output (``externalParameters``); the backend, whether the provenance is signed
  (``internalParameters``); the sources and patches with their sha256, the spec templates and
  the tool's own templates with theirs, the repositories the build roots install from (the
  backend's own, credentials redacted; none for rpmbuild: the host) and — where the backend
  knows them — the packages of each build root (mock's ``installed_pkgs.log``), and each RPM
  not built but taken from the previous release's output (``pmrepo.schedule.reuse``: its file, sha256,
  the release and repository package it came from) (``resolvedDependencies``).
* ``runDetails``: the builder (the CI run's URL in CI, else the host), pmrepo's version, the
  run's start and end.

With a signing key it is written as a DSSE envelope (payload type
``application/vnd.in-toto+json``) whose one signature is a detached OpenPGP signature by the
release key over the envelope's PAE encoding. The envelope's format — base64, PAE — is
securesystemslib's :class:`~securesystemslib.dsse.Envelope`; the signature is made and checked
by gpg through :mod:`pmrepo.sign.signer` (every command through :mod:`pmrepo.run`): securesystemslib's
own GPGSigner runs gpg itself, from ``$GNUPG`` or the PATH, with a command line built by string
splitting. Without a key the bare Statement is written, marked ``"signed": false``.

The statement is validated with in-toto-attestation before it is written and when it is read.
It is never part of a repository package: it records run times and hosts (reproducible builds).
When only check reports changed after the build (``gate`` reran the checks), ``publish`` brings
its subjects up to date (:func:`refresh`) — after checking its signature — and signs it again.
"""

from __future__ import annotations

import binascii
import copy
import datetime as dt
import json
import os
import re
import socket
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signature

from .. import __version__
from ..errors import AttestationError, PmrepoError, SigningError
from ..fsutil import read_regular, sha256_file, write_atomic
from ..limits import ATTESTATION_MAX_BYTES
from ..manifest import Dist, Release
from ..records import ReusedRpm
from ..sign.signer import ENV_KEY, Key, sign_detached, verify_detached
from .sbom import SourceFile

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUILD_TYPE = "https://github.com/pmrepo/pmrepo/provenance/release-build/v1"
ENV_KEY_HINT = f"{ENV_KEY} to the release key"
INSTALLED_PKGS_LOG = "installed_pkgs.log"  # mock's list of a build root's packages (its package_state plugin)


def ci_run_url(env: Mapping[str, str] | None = None) -> str | None:
    """The URL of the CI run this process belongs to (GitHub Actions, GitLab CI), or None."""
    env = os.environ if env is None else env
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return url + (f"/attempts/{env['GITHUB_RUN_ATTEMPT']}" if env.get("GITHUB_RUN_ATTEMPT") else "")
    return env.get("CI_JOB_URL") or None


@dataclass(frozen=True)
class RunInfo:
    """The run that builds: when it started, where, and the options that shape its output."""

    started: dt.datetime
    options: Mapping[str, Any] = field(default_factory=dict)
    host: str = ""
    ci_url: str | None = None

    @classmethod
    def now(cls, options: Mapping[str, Any] | None = None) -> RunInfo:
        return cls(dt.datetime.now(dt.UTC), dict(options or {}), socket.gethostname(), ci_run_url())


@dataclass(frozen=True)
class BuildInputs:
    """What one dist was built from, as the assembly knows it."""

    release: Release
    dist: Dist
    backend: str
    sources: Sequence[SourceFile]  # every file the SRPMs hold (the SBOM's)
    templates: Mapping[str, str]  # spec and tool template (path as named) -> sha256
    build_roots: Mapping[str, Sequence[str]] | None  # component -> the packages of its build root (None: unknown)
    reused: Mapping[str, ReusedRpm] = field(default_factory=dict)  # RPM -> the previous release's copy it is
    build_repos: Mapping[str, str] | None = None  # repo id -> URL the build roots install from (None: the host's)


_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")


def redacted(value: Any) -> Any:
    """``value`` (plain JSON data) with the ``user:password@`` of every URL in it, wherever in a
    string, replaced by ``***@``: what is signed and published names no credential."""
    if isinstance(value, str):
        return _CREDENTIALS.sub(r"\1***@", value)
    if isinstance(value, dict):
        return {redacted(k): redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def build_root_packages(logs: Sequence[Path]) -> list[str] | None:
    """The packages of a build root from mock's ``installed_pkgs.log`` among a build's logs
    (``<nevra> <buildtime> <size> <pkgid> installed`` per line), or None without that log."""
    log = next((p for p in logs if p.name == INSTALLED_PKGS_LOG and p.is_file()), None)
    if log is None:
        return None
    return sorted({line.split()[0] for line in log.read_text(errors="replace").splitlines() if line.strip()})


def _timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dependencies(inputs: BuildInputs) -> list[dict[str, Any]]:
    deps: list[dict[str, Any]] = []
    for src in inputs.sources:
        entry: dict[str, Any] = {"name": src.file_name, "digest": {"sha256": src.sha256}}
        if src.url:
            entry["uri"] = redacted(src.url)
        entry["annotations"] = {"srpm": src.srpm, "origin": src.origin}
        deps.append(entry)
    for name, digest in sorted(inputs.templates.items()):
        deps.append({"name": name, "digest": {"sha256": digest}, "annotations": {"origin": "template"}})
    for repo_id, url in sorted((inputs.build_repos or {}).items()):
        deps.append({"name": repo_id, "uri": redacted(url), "annotations": {"origin": "build root repository"}})
    roots: dict[str, list[str]] = {}
    for comp, pkgs in sorted((inputs.build_roots or {}).items()):
        for pkg in pkgs:
            roots.setdefault(pkg, []).append(comp)
    for pkg, comps in sorted(roots.items()):
        deps.append({"name": pkg, "annotations": {"origin": "build root package", "buildRoots": comps}})
    for name, r in sorted(inputs.reused.items()):
        where = {"release": r.release, "repositoryPackage": r.repo_package, "path": r.path}
        deps.append(
            {"name": name, "digest": {"sha256": r.sha256}, "annotations": {"origin": "previous release", **where}}
        )
    return deps


def statement(
    subjects: Mapping[str, str], inputs: BuildInputs, run: RunInfo, finished: dt.datetime, *, signed: bool
) -> dict[str, Any]:
    """The Statement (a JSON object) for ``subjects`` ({name: sha256}), validated."""
    rel = inputs.release
    roots_known = inputs.build_roots is not None
    predicate = {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "manifest": {"path": str(rel.path), "digest": {"sha256": rel.key}},
                "release": rel.release_id,
                "dist": inputs.dist.name,
                "options": redacted(dict(run.options)),
            },
            "internalParameters": {
                "backend": inputs.backend,
                "signed": signed,
                "buildRootRepositories": (
                    "listed in resolvedDependencies (the backend's own: what its build roots install from)"
                    if inputs.build_repos is not None
                    else "none: the rpmbuild backend builds against the host's installed packages"
                ),
                "buildRoots": (
                    "listed in resolvedDependencies (the backend's record of each build root)"
                    if roots_known
                    else "not recorded: the rpmbuild backend builds on the host, whose package list it does not record"
                ),
            },
            "resolvedDependencies": _dependencies(inputs),
        },
        "runDetails": {
            "builder": {"id": run.ci_url or f"urn:pmrepo:host:{run.host}", "version": {"pmrepo": __version__}},
            "metadata": {
                "invocationId": run.ci_url or f"{run.host}@{_timestamp(run.started)}",
                "startedOn": _timestamp(run.started),
                "finishedOn": _timestamp(finished),
            },
        },
    }
    stmt = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(subjects.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
    problems = check_statement(stmt)
    if problems:
        raise AttestationError(f"the provenance of {rel.release_id} {inputs.dist.name} is not valid: {problems[0]}")
    return stmt


def check_statement(stmt: Any) -> list[str]:
    """Why ``stmt`` is not an in-toto Statement v1 with a SLSA provenance v1 predicate (none: it is)."""
    if not isinstance(stmt, dict):
        return ["not a JSON object"]
    try:
        pb = json_format.ParseDict(stmt, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
    except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        return [f"not an in-toto Statement v1: {exc}"]
    problems = []
    if stmt.get("_type") != STATEMENT_TYPE:
        problems.append(f"_type is {stmt.get('_type')!r}, not {STATEMENT_TYPE}")
    if stmt.get("predicateType") != PREDICATE_TYPE:
        problems.append(f"predicateType is {stmt.get('predicateType')!r}, not {PREDICATE_TYPE}")
    else:
        try:
            json_format.ParseDict(stmt.get("predicate"), provenance_pb2.Provenance())
        except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            problems.append(f"not a SLSA provenance v1 predicate: {exc}")
    subjects = stmt.get("subject")
    for i, subject in enumerate(subjects if isinstance(subjects, list) else []):
        if not isinstance(field_at(subject, "digest", "sha256"), str):
            problems.append(f"subject {i} has no sha256 digest")
    return problems


def subjects_of(directory: Path, prefix: str, exclude: set[str]) -> dict[str, str]:
    """Every regular file under ``directory`` but ``exclude`` (names relative to it), as
    ``<prefix>/<relative name>`` -> sha256."""
    out = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_file() and not path.is_symlink() and rel not in exclude:
            out[f"{prefix}/{rel}"] = sha256_file(path)
    return out


def payload_bytes(stmt: Mapping[str, Any]) -> bytes:
    return json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def write(path: Path, stmt: Mapping[str, Any], key: Key | None, *, log: Path | None = None) -> Path:
    """The statement at ``path``: a signed DSSE envelope with ``key``, else the bare statement."""
    if key is None:
        write_atomic(path, json.dumps(stmt, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return path
    envelope = Envelope(payload_bytes(stmt), PAYLOAD_TYPE, {})
    with tempfile.TemporaryDirectory(prefix="pmrepo-dsse-") as tmp:
        pae, sig = Path(tmp) / "pae", Path(tmp) / "pae.sig"
        pae.write_bytes(envelope.pae())
        sign_detached(pae, key, sig, armor=False, log=log)
        envelope.signatures[key.fingerprint] = Signature(key.fingerprint, sig.read_bytes().hex())
    write_atomic(path, json.dumps(envelope.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


@dataclass(frozen=True)
class ProvenanceView:
    """A provenance file as read: its statement, and its signatures when it is an envelope."""

    path: Path
    statement: dict[str, Any] | None
    problems: tuple[str, ...]  # why the file or its statement is not valid
    envelope: Envelope | None = None  # None: a bare (unsigned) statement

    @property
    def signed(self) -> bool:
        return self.envelope is not None

    def subjects(self) -> dict[str, str]:
        """{name: sha256} of the subjects that have a name (a statement of any shape: no error)."""
        out = {}
        listed = field_at(self.statement, "subject")
        for s in listed if isinstance(listed, list) else []:
            if isinstance(s, dict) and isinstance(s.get("name"), str):
                out[s["name"]] = str(field_at(s, "digest", "sha256") or "").lower()
        return out


def field_at(data: Any, *keys: str) -> Any:
    """``data[k1][k2]…`` where every level is a JSON object, else None: a value of an untrusted
    statement, whatever its shape."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def read(path: Path) -> ProvenanceView:
    """Parse ``path`` (envelope or statement); never raises for a bad file (its problems say why)."""
    try:
        data = json.loads(read_regular(path, limit=ATTESTATION_MAX_BYTES))
    except (OSError, ValueError, RecursionError, PmrepoError) as exc:
        return ProvenanceView(path, None, (f"not readable JSON: {exc}",))
    if not isinstance(data, dict) or "payloadType" not in data:
        return ProvenanceView(path, data if isinstance(data, dict) else None, tuple(check_statement(data)))
    try:
        envelope = Envelope.from_dict(copy.deepcopy(data))
        stmt = json.loads(envelope.payload)
    except (KeyError, TypeError, ValueError, binascii.Error, AttributeError, RecursionError) as exc:
        # securesystemslib reads the fields as it expects them (``payload.encode()``…): any other
        # shape ends in an error of its own, which is the document's problem, not a crash
        return ProvenanceView(path, None, (f"not a DSSE envelope: {exc.__class__.__name__}: {exc}",))
    problems = check_statement(stmt)
    if envelope.payload_type != PAYLOAD_TYPE:
        problems.insert(0, f"payloadType is {envelope.payload_type!r}, not {PAYLOAD_TYPE}")
    return ProvenanceView(path, stmt if isinstance(stmt, dict) else None, tuple(problems), envelope)


def verify_signatures(view: ProvenanceView, pubkey: Path, *, log: Path | None = None) -> str:
    """Check the envelope's signatures with only ``pubkey`` trusted; return the signing fingerprint.
    Raises SigningError when there is none, or one does not verify or names another key."""
    if view.envelope is None:
        raise SigningError(f"{view.path}: not signed (a bare statement, no DSSE envelope)")
    if not view.envelope.signatures:
        raise SigningError(f"{view.path}: the DSSE envelope has no signature")
    found = ""
    with tempfile.TemporaryDirectory(prefix="pmrepo-dsse-") as tmp:
        pae = Path(tmp) / "pae"
        pae.write_bytes(view.envelope.pae())
        for n, sig in enumerate(view.envelope.signatures.values()):
            sig_file = Path(tmp) / f"sig{n}"
            try:
                sig_file.write_bytes(bytes.fromhex(sig.signature))
            except ValueError:
                raise SigningError(f"{view.path}: signature {n} is not base64 data") from None
            try:
                fpr = verify_detached(pae, sig_file, pubkey, log)
            except SigningError:
                raise SigningError(
                    f"{view.path}: signature {n} does not verify with {pubkey.name}: the statement or the "
                    "signature was changed, or another key signed it"
                ) from None
            if sig.keyid.upper() != fpr:
                raise SigningError(f"{view.path}: signature {n} names key {sig.keyid}, but was made by {fpr}")
            found = fpr
    return found


# What checks write into an output after it was built (``gate`` reruns them, the container test
# records installed.json): the only files whose change ``refresh`` takes into the subjects.
REFRESHABLE = ("gates/", "installed.json")


def refresh(
    path: Path, directory: Path, prefix: str, key: Key | None, pubkey: Path | None, *, log: Path | None = None
) -> list[str]:
    """Bring the subjects of the provenance at ``path`` up to date with ``directory`` when only
    check reports (``REFRESHABLE``) changed since it was written; returns the changed names.
    Anything else that changed, a provenance that does not verify (``pubkey``) or a signed one
    without ``key`` is refused: it is never re-signed over."""
    view = read(path)
    if view.problems or view.statement is None:
        raise AttestationError(f"{path}: {(view.problems or ('unreadable',))[0]} — fix: rebuild (build.py all)")
    if view.signed:
        if key is None or pubkey is None:
            raise AttestationError(f"{path}: signed, and no key to sign it again — fix: set {ENV_KEY_HINT}")
        verify_signatures(view, pubkey, log=log)
    old, new = view.subjects(), subjects_of(directory, prefix, {path.name})
    changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
    if not changed:
        return []
    foreign = [n for n in changed if not n.removeprefix(f"{prefix}/").startswith(REFRESHABLE)]
    if foreign:
        raise AttestationError(
            f"{directory.parent / foreign[0]}: differs from its subject in {path.name} (changed after the build) "
            "— fix: rebuild (build.py all)"
        )
    stmt = copy.deepcopy(view.statement)
    stmt["subject"] = [{"name": n, "digest": {"sha256": d}} for n, d in sorted(new.items())]
    stmt["predicate"].setdefault("runDetails", {}).setdefault("byproducts", []).append(
        {
            "name": "check reports rewritten after the build",
            "annotations": {"files": changed, "subjectsUpdatedOn": _timestamp(dt.datetime.now(dt.UTC))},
        }
    )
    problems = check_statement(stmt)
    if problems:
        raise AttestationError(f"{path}: the refreshed statement is not valid: {problems[0]}")
    write(path, stmt, key if view.signed else None, log=log)
    return changed
