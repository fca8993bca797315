"""The SBOM of one dist: an SPDX 2.3 JSON document, built, validated and written with spdx-tools.

What it lists (the model Red Hat's per-release SPDX documents use):

* the three repository packages (the document DESCRIBES them); each CONTAINS the RPMs of its
  repository;
* every binary RPM and SRPM: file name, sha256, name, version-release, arch, the License tag
  of its header (as an SPDX expression when it is one, else NOASSERTION with the tag in the
  license comment), supplier = the manifest's vendor, purl
  ``pkg:rpm/<vendor>/<name>@<version>-<release>?arch=<arch>&distro=<dist>``; each binary RPM is
  GENERATED_FROM its SRPM (its SOURCERPM tag) when the release ships that SRPM;
* every file an SRPM holds — the upstream sources, the patches, the spec — with the sha256
  its header records (for a URL source it must equal the manifest's pin) and where it came
  from: the URL (without credentials) or the project path it was packed from; each SRPM
  CONTAINS them.

One collection (:func:`collect`), two copies: at the root of each repository (inside the repo
packages, so a mirror of the repository and an installed one carry it) the repository packages
are listed without checksums — the file is part of their payload, it cannot hold their digest;
beside the outputs (:func:`with_repo_packages`) the same list with their sha256. Both are
deterministic for reproducible builds: ``created`` is the release date, the namespace is a
digest of the content, every list is sorted.

:func:`read` parses and validates a document for ``verify`` and returns what it lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from license_expression import ExpressionError
from packageurl import PackageURL
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from .. import __version__
from ..checks.rpmquery import query
from ..errors import AttestationError, PmrepoError
from ..fsutil import read_regular, sha256_file, write_atomic
from ..layout import repo_rpm_dir
from ..limits import ATTESTATION_MAX_BYTES, SBOM_MAX_ELEMENTS, SBOM_MAX_RELATIONSHIPS
from ..manifest import Dist, Release, redact_url

SPDX_VERSION = "SPDX-2.3"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/pmrepo"
_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]")  # SPDX ids: letters, digits, "." and "-" only (no "_": x86_64)
_URL = re.compile(r"https?://[^\s#]+\Z")


@dataclass(frozen=True)
class Rpm:
    """One binary RPM or SRPM of a repository."""

    file_name: str
    sha256: str
    name: str
    version: str
    release: str
    arch: str  # "src" for an SRPM
    license: str  # the header's License tag
    source_rpm: str  # the header's SOURCERPM ("" for an SRPM)
    url: str  # the header's URL ("" when none)
    repository: str  # the repository it is in: main, debuginfo or src

    @property
    def is_srpm(self) -> bool:
        return self.arch == "src"


@dataclass(frozen=True)
class SourceFile:
    """One file an SRPM holds: an upstream source, a patch or the spec."""

    srpm: str  # the SRPM's file name
    file_name: str
    sha256: str
    version: str  # the component's version
    url: str | None  # where it was downloaded from (credentials removed); None: made here
    origin: str  # what it is and where it came from, in words


@dataclass(frozen=True)
class RepoPackage:
    kind: str  # main, debuginfo, src
    file_name: str
    name: str
    version_release: str
    arch: str
    sha256: str | None  # None inside the repositories (the SBOM is part of their payload)


@dataclass(frozen=True)
class DistContent:
    """Everything the SBOM of one dist says."""

    release_id: str
    dist: str
    vendor: str
    license: str  # the repository packages' License
    date: dt.date  # the release date: the document's creation time
    repo_packages: tuple[RepoPackage, ...]
    rpms: tuple[Rpm, ...]
    sources: tuple[SourceFile, ...]


_SCALARS = {
    "NAME": "%{NAME}",
    "VERSION": "%{VERSION}",
    "RELEASE": "%{RELEASE}",
    "ARCH": "%|SOURCEPACKAGE?{src}:{%{ARCH}}|",
    "LICENSE": "%{LICENSE}",
    "SOURCERPM": "%|SOURCERPM?{%{SOURCERPM}}:{}|",
    "URL": "%|URL?{%{URL}}:{}|",
}
_SRPM_FILES = {"FILE": "%{FILENAMES}\\t%{FILEDIGESTS}"}


def _one(tags: Mapping[str, list[str]], key: str) -> str:
    return (tags.get(key) or [""])[0]


def _read_rpms(trees: Mapping[str, Path], log: Path | None) -> tuple[list[Rpm], dict[str, dict[str, str]]]:
    """Every RPM of the repositories, and each SRPM's files {file name: sha256}."""
    rpms: list[Rpm] = []
    srpm_files: dict[str, dict[str, str]] = {}
    for kind, tree in sorted(trees.items()):
        paths = sorted(repo_rpm_dir(tree).glob("*.rpm"))
        if not paths:
            continue
        headers = query(paths, _SCALARS, log=log, error=AttestationError)
        if len(headers) != len(paths):
            raise AttestationError(f"{repo_rpm_dir(tree)}: rpm read {len(headers)} of {len(paths)} package headers")
        for path, tags in zip(paths, headers, strict=True):
            rpms.append(
                Rpm(
                    file_name=path.name,
                    sha256=sha256_file(path),
                    name=_one(tags, "NAME"),
                    version=_one(tags, "VERSION"),
                    release=_one(tags, "RELEASE"),
                    arch=_one(tags, "ARCH"),
                    license=_one(tags, "LICENSE"),
                    source_rpm=_one(tags, "SOURCERPM"),
                    url=_one(tags, "URL"),
                    repository=kind,
                )
            )
        srpms = [p for p, tags in zip(paths, headers, strict=True) if _one(tags, "ARCH") == "src"]
        if srpms:
            for path, tags in zip(srpms, query(srpms, {}, _SRPM_FILES, log=log, error=AttestationError), strict=True):
                files = dict(line.split("\t", 1) for line in tags.get("FILE", []) if "\t" in line)
                srpm_files[path.name] = {name: digest.lower() for name, digest in files.items()}
    return rpms, srpm_files


def _sources(
    release: Release, dist: Dist, rpms: Sequence[Rpm], srpm_files: Mapping[str, Mapping[str, str]]
) -> list[SourceFile]:
    """Each SRPM's files, described from the manifest entry it was built from."""
    out: list[SourceFile] = []
    for srpm in (r for r in rpms if r.is_srpm):
        files = srpm_files.get(srpm.file_name, {})
        comp = release.component_for(srpm.name, dist.name)
        known: dict[str, tuple[str | None, str, str | None]] = {}  # file -> (url, origin, pinned sha256)
        if comp is not None:
            for src in comp.sources:
                if src.url is not None:
                    known[src.filename] = (redact_url(src.url), "upstream source", src.sha256)
                elif src.path is not None:
                    where = src.path.relative_to(release.root) if src.path.is_relative_to(release.root) else src.path
                    how = "packed from the project tree" if src.path.is_dir() else "copied from the project file"
                    known[src.filename] = (None, f"source {how} {where.as_posix()}", None)
            for patch in comp.patches:
                where = patch.relative_to(release.root) if patch.is_relative_to(release.root) else patch
                known[patch.name] = (None, f"patch {where.as_posix()}", None)
            missing = sorted(set(known) - set(files))
            if missing:
                raise AttestationError(
                    f"{srpm.file_name}: does not hold {', '.join(missing)} of {release.path} components.{comp.key} "
                    "— fix: rebuild it (--force)"
                )
        for name, digest in sorted(files.items()):
            url, origin, pinned = known.get(
                name, (None, "spec" if name.endswith(".spec") else "file in the SRPM", None)
            )
            if pinned is not None and pinned != digest:
                raise AttestationError(
                    f"{srpm.file_name}: holds {name} with sha256 {digest[:16]}…, {release.path} pins "
                    f"{pinned[:16]}… — fix: rebuild it (--force)"
                )
            version = comp.version if comp is not None else srpm.version
            out.append(SourceFile(srpm.file_name, name, digest, version, url, origin))
    return out


def collect(release: Release, dist: Dist, trees: Mapping[str, Path], *, log: Path | None = None) -> DistContent:
    """What the SBOM of ``dist`` says, read from its repositories (``trees``: kind -> root)."""
    rpms, srpm_files = _read_rpms(trees, log)
    repo_packages = tuple(
        RepoPackage(r.kind, r.rpm_name(dist), r.package, f"{release.vr}{dist.tag}", release.arch, None)
        for r in release.repositories
    )
    return DistContent(
        release_id=release.release_id,
        dist=dist.name,
        vendor=release.vendor,
        license=release.license,
        date=release.date,
        repo_packages=repo_packages,
        rpms=tuple(sorted(rpms, key=lambda r: (r.repository, r.file_name))),
        sources=tuple(_sources(release, dist, rpms, srpm_files)),
    )


def with_repo_packages(content: DistContent, files: Sequence[Path]) -> DistContent:
    """``content`` with the sha256 of the repository packages (``files``, found by name)."""
    by_name = {p.name: p for p in files}
    missing = [r.file_name for r in content.repo_packages if r.file_name not in by_name]
    if missing:
        raise AttestationError(f"no repository package {', '.join(missing)} to describe in the SBOM")
    return dataclasses.replace(
        content,
        repo_packages=tuple(
            dataclasses.replace(r, sha256=sha256_file(by_name[r.file_name])) for r in content.repo_packages
        ),
    )


# -- the SPDX document ---------------------------------------------------------------------------


def spdx_id(kind: str, *names: str) -> str:
    """``SPDXRef-<kind>-<names>`` with every character SPDX does not allow in an id as ``-``."""
    return "SPDXRef-" + "-".join(_ID_CHARS.sub("-", n) for n in (kind, *names))


def _license(text: str) -> tuple[object, str | None]:
    """(licenseDeclared, licenseComments) for a License tag."""
    if text and text != "(none)":
        try:
            return spdx_licensing.parse(text, validate=True, strict=True), None
        except ExpressionError:
            pass
    return SpdxNoAssertion(), f"License tag of the RPM header: {text or '(none)'} (not an SPDX license expression)"


def _purl(vendor: str, name: str, version_release: str, arch: str, dist: str) -> ExternalPackageRef:
    purl = PackageURL(
        type="rpm",
        namespace=vendor.lower(),
        name=name,
        version=version_release,
        qualifiers={"arch": arch, "distro": dist},
    )
    return ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl.to_string())


def _rpm_package(c: DistContent, rpm: Rpm, supplier: Actor) -> Package:
    declared, comment = _license(rpm.license)
    return Package(
        spdx_id=spdx_id("RPM", rpm.file_name),
        name=rpm.name,
        download_location=SpdxNoAssertion(),
        version=f"{rpm.version}-{rpm.release}",
        file_name=rpm.file_name,
        supplier=supplier,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, rpm.sha256)],
        homepage=rpm.url if _URL.match(rpm.url) else None,
        license_concluded=SpdxNoAssertion(),
        license_declared=declared,
        license_comment=comment,
        copyright_text=SpdxNoAssertion(),
        external_references=[_purl(c.vendor, rpm.name, f"{rpm.version}-{rpm.release}", rpm.arch, c.dist)],
        primary_package_purpose=PackagePurpose.SOURCE if rpm.is_srpm else PackagePurpose.INSTALL,
        comment=f"in the {rpm.repository} repository",
    )


def _source_package(src: SourceFile) -> Package:
    return Package(
        spdx_id=spdx_id("Source", src.srpm, src.file_name),
        name=src.file_name,
        download_location=src.url if src.url else SpdxNoAssertion(),
        version=src.version,
        file_name=src.file_name,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, src.sha256)],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        source_info=src.origin,
        primary_package_purpose=PackagePurpose.SOURCE,
    )


def _repo_package(c: DistContent, repo: RepoPackage, supplier: Actor) -> Package:
    declared, comment = _license(c.license)
    note = (
        "its sha256 is in the copy of this document beside the release's outputs (this copy is part of its payload)"
        if repo.sha256 is None
        else None
    )
    return Package(
        spdx_id=spdx_id("RepoPackage", repo.file_name),
        name=repo.name,
        download_location=SpdxNoAssertion(),
        version=repo.version_release,
        file_name=repo.file_name,
        supplier=supplier,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, repo.sha256)] if repo.sha256 else [],
        license_concluded=SpdxNoAssertion(),
        license_declared=declared,
        license_comment=comment,
        copyright_text=SpdxNoAssertion(),
        external_references=[_purl(c.vendor, repo.name, repo.version_release, repo.arch, c.dist)],
        primary_package_purpose=PackagePurpose.INSTALL,
        comment=f"the {repo.kind} repository's package" + (f"; {note}" if note else ""),
    )


def _relationships(c: DistContent) -> list[Relationship]:
    def rel(a: str, kind: RelationshipType, b: str) -> Relationship:
        return Relationship(a, kind, b)

    contains = RelationshipType.CONTAINS
    rels = [rel(DOCUMENT_ID, RelationshipType.DESCRIBES, spdx_id("RepoPackage", r.file_name)) for r in c.repo_packages]
    by_kind = {r.kind: r for r in c.repo_packages}
    srpms = {r.file_name for r in c.rpms if r.is_srpm}
    for rpm in c.rpms:
        holder = by_kind.get(rpm.repository)
        if holder is not None:
            rels.append(rel(spdx_id("RepoPackage", holder.file_name), contains, spdx_id("RPM", rpm.file_name)))
        if not rpm.is_srpm and rpm.source_rpm in srpms:
            rels.append(
                rel(spdx_id("RPM", rpm.file_name), RelationshipType.GENERATED_FROM, spdx_id("RPM", rpm.source_rpm))
            )
    for src in c.sources:
        rels.append(rel(spdx_id("RPM", src.srpm), contains, spdx_id("Source", src.srpm, src.file_name)))
    return rels


def _fingerprint(c: DistContent) -> str:
    return hashlib.sha256(json.dumps(dataclasses.asdict(c), sort_keys=True, default=str).encode()).hexdigest()


def document(c: DistContent) -> Document:
    """The SPDX document of ``c`` (not yet validated)."""
    supplier = Actor(ActorType.ORGANIZATION, c.vendor)
    inside = any(r.sha256 is None for r in c.repo_packages)
    name = f"{c.release_id}-{c.dist}"
    info = CreationInfo(
        spdx_version=SPDX_VERSION,
        spdx_id=DOCUMENT_ID,
        name=name,
        document_namespace=f"{NAMESPACE_BASE}/{name}-{uuid.uuid5(uuid.NAMESPACE_URL, _fingerprint(c))}",
        creators=[Actor(ActorType.TOOL, f"pmrepo-{__version__}"), supplier],
        created=dt.datetime(c.date.year, c.date.month, c.date.day, tzinfo=dt.UTC),
        document_comment=(
            f"What {c.release_id} ships for {c.dist}: its repository packages, the RPMs and SRPMs "
            "they contain and the sources each SRPM holds. "
            + (
                "This copy is shipped inside the repositories: the repository packages are listed without checksums."
                if inside
                else "This copy lies beside the release's outputs and lists the repository packages' sha256."
            )
        ),
    )
    packages = [
        *(_repo_package(c, r, supplier) for r in c.repo_packages),
        *(_rpm_package(c, r, supplier) for r in c.rpms),
        *(_source_package(s) for s in c.sources),
    ]
    ids = [p.spdx_id for p in packages]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise AttestationError(f"{name}: two elements would have the SPDX id {dup} — fix: rename one of the files")
    return Document(creation_info=info, packages=packages, relationships=_relationships(c))


def validate(doc: Document) -> list[str]:
    """spdx-tools' full validation: one message per problem (none: valid SPDX 2.3)."""
    return [m.validation_message for m in validate_full_spdx_document(doc, SPDX_VERSION)]


def render(c: DistContent) -> str:
    """The validated document as JSON text (deterministic)."""
    doc = document(c)
    problems = validate(doc)
    if problems:
        raise AttestationError(
            f"the SBOM of {c.release_id} {c.dist} is not valid SPDX ({len(problems)} problem(s)): {problems[0]}"
        )
    converter = DocumentConverter()  # type: ignore[no-untyped-call]
    return json.dumps(converter.convert(doc), indent=2, ensure_ascii=False) + "\n"


def write(path: Path, c: DistContent) -> Path:
    write_atomic(path, render(c))
    return path


# -- reading, for verify -------------------------------------------------------------------------


@dataclass(frozen=True)
class SbomView:
    """What a document lists, by file name (the problems: why it is not a valid SPDX 2.3 document)."""

    path: Path
    problems: tuple[str, ...]
    described: Mapping[str, str | None]  # repository package file -> sha256 (None: listed without)
    contains: Mapping[str, Mapping[str, str]]  # repository package file -> {RPM file: sha256}
    srpm_files: Mapping[str, Mapping[str, str]]  # SRPM file -> {file it holds: sha256}


def _sha256(pkg: Package) -> str | None:
    return next((c.value.lower() for c in pkg.checksums if c.algorithm == ChecksumAlgorithm.SHA256), None)


def json_kind(value: object) -> str:
    """What a parsed JSON value is, in JSON's words (for a problem line)."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _unreadable(path: Path, problem: str) -> SbomView:
    return SbomView(path, (problem,), {}, {}, {})


def _parse(path: Path) -> Document | SbomView:
    """The document at ``path``, or the view of why it is none (a regular file of JSON, an object,
    that spdx-tools reads)."""
    try:
        data = json.loads(read_regular(path, limit=ATTESTATION_MAX_BYTES))
    except (OSError, ValueError, RecursionError, PmrepoError) as exc:
        return _unreadable(path, f"not readable JSON: {exc}")
    if not isinstance(data, dict):
        return _unreadable(path, f"not an SPDX document: a JSON {json_kind(data)}, not an object")
    elements = sum(len(v) for k in ("packages", "files", "snippets") if isinstance(v := data.get(k), list))
    listed = data.get("relationships")
    relationships = len(listed) if isinstance(listed, list) else 0
    if elements > SBOM_MAX_ELEMENTS or relationships > SBOM_MAX_RELATIONSHIPS:
        return _unreadable(
            path,
            f"lists {elements} packages, files and snippets and {relationships} relationships, more than "
            f"the {SBOM_MAX_ELEMENTS} and {SBOM_MAX_RELATIONSHIPS} an SBOM of a release may have (not validated)",
        )
    try:
        doc: Document = JsonLikeDictParser().parse(data)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        messages = exc.get_messages()  # type: ignore[no-untyped-call]
        return _unreadable(path, f"not an SPDX document: {messages[0] if messages else exc}")
    except Exception as exc:  # spdx-tools reads each field as it expects it ("packages".get…)
        return _unreadable(path, f"not an SPDX document: {type(exc).__name__}: {exc}")
    return doc


def read(path: Path) -> SbomView:
    """Parse and validate ``path``; never raises for a bad document (its problems say why)."""
    doc = _parse(path)
    if isinstance(doc, SbomView):
        return doc
    try:
        problems = validate(doc)
    except Exception as exc:  # a parsed model of a shape the validator does not expect
        return _unreadable(path, f"not a valid SPDX document: {type(exc).__name__}: {exc}")
    if doc.creation_info.spdx_version != SPDX_VERSION:
        problems.append(f"spdxVersion is {doc.creation_info.spdx_version}, not {SPDX_VERSION}")
    pkgs = {p.spdx_id: p for p in doc.packages}
    described: dict[str, str | None] = {}
    contains: dict[str, dict[str, str]] = {}
    srpm_files: dict[str, dict[str, str]] = {}
    for rel in doc.relationships:
        a, b = pkgs.get(rel.spdx_element_id), pkgs.get(str(rel.related_spdx_element_id))
        if rel.relationship_type == RelationshipType.DESCRIBES and rel.spdx_element_id == DOCUMENT_ID and b:
            described[b.file_name or b.name] = _sha256(b)
        elif rel.relationship_type == RelationshipType.CONTAINS and a is not None and b is not None:
            contains.setdefault(a.file_name or a.name, {})[b.file_name or b.name] = _sha256(b) or ""
    for holder in list(contains):
        if holder not in described:  # an SRPM and the files it holds
            srpm_files[holder] = contains.pop(holder)
    return SbomView(path, tuple(problems), described, contains, srpm_files)
