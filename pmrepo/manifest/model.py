"""Release manifests: TOML under ``releases/`` loaded into frozen dataclasses.

The manifest is validated once, when ``load`` reads it (``manifest_load``, with the
typed field access of ``manifest_read`` and the repositories' values read by ``manifest_repos``
from their declaration on ``Repository``); this module is the model. Every problem is a ``ManifestError``
that names the file, the field and the fix. Names of the repository package,
metapackage, prefix and repo id are manifest values (with the Linux-HA Japan
defaults), never literals elsewhere in the code.

Paths in a manifest are relative to the manifest file's directory.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import layout
from ..fsutil import read_regular

# Every pattern is anchored with \Z: ``$`` would accept a trailing newline.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
VERSION_RE = re.compile(r"^[A-Za-z0-9._+]+\Z")  # no '-', no '~'/'^' (el6 rpm 4.8 lacks them)
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
ARCH_RE = re.compile(r"^[A-Za-z0-9_]+\Z")
REPO_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\.repo\Z")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*\Z")  # an image reference, never an option
# a manifest URL (a source, a dist repository, the project page): http(s):// or file://, no whitespace
HTTP_OR_FILE_URL_RE = re.compile(r"^(https?|file)://[^\s]+\Z")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")  # one-line text: no newline, tab or other control character
TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # multi-line text: newlines and tabs only
REQUIRE_OPS = ("=", ">=", "any", "none")
LANGS = ("ja", "en")
# an absolute directory without a "." or ".." step (rpm cleans "/./usr" to /usr: an OS directory)
DIR_RE = re.compile(r"^(?!.*/\.\.?(/|\Z))(/[A-Za-z0-9._+-]+)+\Z")
PREFIX_RE = DIR_RE  # a repository's root: the same form
REPO_KINDS = ("main", "debuginfo", "src")
# Directories a repository package must never own (they belong to the OS).
SYSTEM_DIRS = {"/", "/opt", "/srv", "/usr", "/usr/local", "/var", "/var/lib", "/etc", "/tmp", "/home", "/mnt"}

DEFAULTS: dict[str, Any] = {
    "name": "pacemaker-repo",
    "arch": "x86_64",
    "metapackage": "pacemaker-all",
    "group_id": "pacemaker-all",
    "group_name": "Pacemaker cluster stack",
    "license": "GPLv2+",
    "url": "https://linux-ha.osdn.jp/",
    "vendor": "Linux-HA Japan",
    "packager": "Linux-HA Japan release engineering",
    "spec_dir": "../specs",
}


@dataclass(frozen=True)
class Text:
    """Release-notes text in each language: a tuple of items (bullets).
    An item starting with two spaces is a sub-item of the one before it;
    an item may span lines."""

    ja: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def get(self, lang: str) -> tuple[str, ...]:
        items: tuple[str, ...] = getattr(self, lang)
        return items

    def __bool__(self) -> bool:
        return bool(self.ja or self.en)


@dataclass(frozen=True)
class NoteSection:
    """A free section of the notes (configuration guidance): a Markdown file
    per language, next to the manifest."""

    title: Mapping[str, str]  # lang -> title
    files: Mapping[str, Path]  # lang -> Markdown file

    def text(self, lang: str) -> str:
        return read_regular(self.files[lang]).decode()


@dataclass(frozen=True)
class RepoValue:
    """How one per-repository manifest value is read (the metadata of a ``Repository`` field, see
    ``repo_value``): its ``[release]`` key is ``<field>`` for main and ``<kind>_<field>`` for the others."""

    main_default: Callable[[Mapping[str, str]], str]  # main's default, from main's values read before it
    default: Callable[[str, Mapping[str, str], Mapping[str, str]], str]  # (kind, main's values, its own so far)
    pattern: re.Pattern[str] | None = None  # every value must match it
    problem: str = "invalid value {value!r}"  # the error when it does not (formatted with value)
    main_fix: str = "use a value matching the documented form"  # formatted with key
    fix: str = ""  # for debuginfo_/src_ (default: main_fix); formatted with key and parent (parent_dir)

    @staticmethod
    def key(name: str, kind: str) -> str:
        """The TOML key of field ``name`` of the ``kind`` repository."""
        return name if kind == "main" else f"{kind}_{name}"


def repo_value(**how: Any) -> Any:
    """Declare a ``Repository`` field as a per-repository manifest value (``RepoValue``'s arguments)."""
    return field(metadata={"repo_value": RepoValue(**how)})


@dataclass(frozen=True)
class Repository:
    """One of the three repositories and the repository package that installs it: THE value
    every step asks for its name, repo id, root, ``.repo`` file, RPM file name and inner paths.

    A field declared with ``repo_value`` is a manifest value: adding one here is all it takes for
    the loader to read, default and check ``<field>``, ``debuginfo_<field>`` and ``src_<field>``."""

    kind: str  # "main", "debuginfo", "src"
    package: str  # e.g. pacemaker-repo-debuginfo (from the release's name)
    vr: str  # the repository package's version-release (the release's)
    arch: str  # the repository package's architecture (the release's)
    prefix: str = repo_value(  # its root: rpm/ and repodata/ live here
        main_default=lambda main: "/opt/linux-ha/pacemaker",
        default=lambda kind, main, own: f"{main['prefix']}-{kind}",
        pattern=PREFIX_RE,
        problem="{value!r} is not an absolute directory",
        main_fix='write {key} = "/opt/linux-ha/pacemaker"',
        fix='write {key} = "{parent}/<dir>"',
    )
    repo_id: str = repo_value(  # the .repo section
        main_default=lambda main: "linux-ha-ja-pacemaker",
        default=lambda kind, main, own: f"{main['repo_id']}-{kind}",
        pattern=NAME_RE,
        main_fix="use letters, digits and ._+- (no brackets, no newline)",
        fix="a repo id uses letters, digits and ._+-",
    )
    repo_name: str = repo_value(  # name= of the section
        main_default=lambda main: main["repo_id"], default=lambda kind, main, own: own["repo_id"]
    )
    repo_file: str = repo_value(  # file name under /etc/yum.repos.d/
        main_default=lambda main: "pacemaker.repo",
        default=lambda kind, main, own: f"{main['repo_file'].removesuffix('.repo')}-{kind}.repo",
        pattern=REPO_FILE_RE,
        problem="{value!r} is not a file name ending in .repo",
        main_fix='write {key} = "pacemaker.repo"',
        fix='write {key} = "x.repo"',
    )

    @property
    def baseurl(self) -> str:
        return f"file://{self.prefix}/"

    @property
    def rpm_dir(self) -> str:
        """Where the repository's packages are installed: ``<prefix>/rpm``."""
        return f"{self.prefix}/{layout.RPM_DIR}"

    @property
    def repodata_dir(self) -> str:
        """Where its metadata is installed: ``<prefix>/repodata``."""
        return f"{self.prefix}/{layout.REPODATA_DIR}"

    @property
    def repo_path(self) -> str:
        """The installed ``.repo`` file: ``/etc/yum.repos.d/<repo_file>``."""
        return f"{layout.YUM_REPOS_D}/{self.repo_file}"

    def rpm_name(self, dist: Dist) -> str:
        """The repository package's file name for ``dist``, e.g. ``pacemaker-repo-1.1.14-1.1.el7.x86_64.rpm``."""
        return layout.rpm_file_name(self.package, f"{self.vr}{dist.tag}", self.arch)


def repo_values(cls: type[Repository] = Repository) -> dict[str, RepoValue]:
    """The per-repository manifest values ``cls`` declares, in order: field name -> how it is read."""
    return {f.name: f.metadata["repo_value"] for f in fields(cls) if "repo_value" in f.metadata}


@dataclass(frozen=True)
class Dist:
    """A target distribution: ``el6`` or ``el7``."""

    name: str
    tag: str  # the %{dist} value, e.g. ".el7"
    rhel: int
    macros: Mapping[str, str]
    os_requires: tuple[str, ...]  # unversioned OS packages the metapackage requires
    base_repos: Mapping[str, str]  # repo id -> baseurl of the dist's base repositories
    image: str  # container image for the install test
    # repo id -> baseurl of repositories for the mock build roots only (on top of base_repos); the
    # checks and the rpmbuild backend never use them (the demo's roots need the vault, its checks not)
    mock_base_repos: Mapping[str, str] = field(default_factory=dict)

    def rpm_defines(self) -> dict[str, str]:
        """The macros every rpm/rpmbuild/rpmspec call for this dist defines."""
        defines = {"dist": self.tag, "rhel": str(self.rhel), self.name: "1"}
        defines.update(self.macros)
        return defines


@dataclass(frozen=True)
class Source:
    """One source: a URL (with sha256) or a path to a tree/file in the project."""

    url: str | None
    path: Path | None
    sha256: str | None
    filename: str  # name it has in SOURCES/
    size: int | None = None  # bytes, recorded by pin: the download's cap

    @property
    def pinned(self) -> bool:
        return self.url is None or self.sha256 is not None


@dataclass(frozen=True)
class Upstream:
    """Where a component's releases appear and how one spells a version (a component entry's
    ``upstream``, checked by ``pmrepo upstream``; loaded by ``manifest_upstream``)."""

    kind: str  # "git" (a repository's tags), "pypi" (a PyPI project), "page" (a page listing release files)
    location: str  # git: an https:// URL or an absolute local path; pypi: the project's name; page: its URL
    tag: str = "{version}"  # git: how a tag spells a version ({version} once)
    regex: str = ""  # page: a regular expression whose one group is the version
    series: str | None = None  # only versions equal to it or starting with "<series>."
    prereleases: bool = False  # rc, alpha, beta, pre and dev versions too


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    release: str
    sources: tuple[Source, ...]
    patches: tuple[Path, ...]
    spec: Path  # jinja2 template
    dists: tuple[str, ...]
    packages: Mapping[str, tuple[str, ...]]  # dist -> binary packages shipped into the repo
    debuginfo: Mapping[str, tuple[str, ...]]  # dist -> packages for the -debuginfo repo package
    require: str  # how the metapackage requires it: "=", ">=", "any", "none"
    group: str  # release-notes group key
    smoke: str | None
    changes: str  # one line: the spec's %changelog entry (and the notes' fallback)
    known_issues: Text
    summary: str
    change_notes: Text = Text()  # the notes' bulleted changes (default: ``changes``)
    upgrade_warnings: Text = Text()
    split: bool = False  # one of several per-dist entries with this name (disjoint ``dists``)
    upstream: Upstream | None = None  # where its releases appear (None: not tracked)
    # the scheduler's estimate of one build before this host has built it: about its seconds
    # (only the ratios between components count), per dist
    weight: Mapping[str, float] = field(default_factory=dict)

    @property
    def vr(self) -> str:
        return f"{self.version}-{self.release}"

    @property
    def key(self) -> str:
        """Unique per entry: the name, or ``name.el6+…`` for one of several per-dist entries
        (its sources' directory; the notes' and errors' label)."""
        return f"{self.name}.{'+'.join(self.dists)}" if self.split else self.name

    def packages_for(self, dist: str) -> tuple[str, ...]:
        return self.packages.get(dist, ())


@dataclass(frozen=True)
class Release:
    path: Path
    root: Path  # the manifest's directory; relative paths resolve against it
    name: str  # repository package name, e.g. pacemaker-repo
    version: str
    release: str
    follows: str | None  # previous release manifest (path relative to root) or None
    date: _dt.date
    arch: str
    # The three repositories, main first, with the per-repository manifest values (``Repository``'s
    # ``repo_value`` fields); their package name, version-release and arch follow the release's own.
    repositories: tuple[Repository, ...]
    parent_dir: str  # owned by every repo package; the three prefixes live under it
    metapackage: str
    group_id: str
    group_name: str
    license: str
    url: str
    vendor: str
    packager: str
    summary: str
    description: str
    spec_dir: Path
    note_groups: Mapping[str, str]  # group key -> title, in order
    rpmlint_filters: Mapping[str, str]  # release-specific rpmlint filter regex -> why it is legitimate
    dists: Mapping[str, Dist]
    components: tuple[Component, ...]
    key: str = ""  # sha256 of the manifest's bytes: build.json records it, publish compares it
    change_notes: Text = Text()
    known_issues: Text = Text()
    upgrade_warnings: Text = Text()
    sections: tuple[NoteSection, ...] = ()

    def __post_init__(self) -> None:
        kinds = tuple(r.kind for r in self.repositories)
        if kinds != REPO_KINDS:
            raise ValueError(f"a release has the repositories {REPO_KINDS}, got {kinds}")
        object.__setattr__(
            self,
            "repositories",
            tuple(
                replace(
                    r, package=self.name if r.kind == "main" else f"{self.name}-{r.kind}", vr=self.vr, arch=self.arch
                )
                for r in self.repositories
            ),
        )

    def repo(self, kind: str) -> Repository:
        return next(r for r in self.repositories if r.kind == kind)

    def repo_rpm_names(self, dist: Dist) -> list[str]:
        """The file names of the three repository packages of ``dist``, main first."""
        return [r.rpm_name(dist) for r in self.repositories]

    def repo_rpm_name(self, dist: Dist, kind: str = "main") -> str:
        return self.repo(kind).rpm_name(dist)

    @property
    def vr(self) -> str:
        return f"{self.version}-{self.release}"

    @property
    def epoch(self) -> int:
        """The release date, midnight UTC, as SOURCE_DATE_EPOCH / repodata revision."""
        return calendar.timegm(self.date.timetuple())

    @property
    def release_id(self) -> str:
        """Directory name under ``repo/``: e.g. ``pacemaker-repo-1.1.14-1.1``."""
        return f"{self.name}-{self.vr}"

    def component(self, name: str) -> Component:
        """The (first) entry named ``name``; with per-dist entries use component_for."""
        for comp in self.components:
            if comp.name == name:
                return comp
        raise KeyError(name)

    def component_for(self, name: str, dist: str) -> Component | None:
        """The entry of ``name`` that covers ``dist`` (None: not built for it)."""
        return next((c for c in self.components if c.name == name and dist in c.dists), None)

    def entries(self, name: str) -> tuple[Component, ...]:
        """Every entry named ``name`` (one, or several per-dist ones)."""
        return tuple(c for c in self.components if c.name == name)

    def component_names(self) -> list[str]:
        """Component names in manifest order, each once."""
        return list(dict.fromkeys(c.name for c in self.components))

    def components_for(self, dist: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if dist in c.dists)

    def follows_path(self) -> Path | None:
        return (self.root / self.follows).resolve() if self.follows else None

    # -- what the release says, per dist (used by checks, gates and notes) --
    def shipped(self, dist: Dist) -> dict[str, str]:
        """Every package shipped in ``dist``'s repository (the components' and the
        metapackage) -> version-release with the dist tag."""
        out = {p: f"{c.vr}{dist.tag}" for c in self.components_for(dist.name) for p in c.packages_for(dist.name)}
        out[self.metapackage] = f"{self.vr}{dist.tag}"
        return out

    def required_mains(self, dist: Dist) -> list[str]:
        """The main package of each component the metapackage requires, in manifest order."""
        return [c.packages_for(dist.name)[0] for c in self.components_for(dist.name) if c.require != "none"]

    def repo_package_names(self) -> list[str]:
        return [r.package for r in self.repositories]

    def exclude_patterns(self, dist: str | None = None) -> list[str]:
        """``<name>*`` for each component (of ``dist``), in manifest order, for the
        operator's ``exclude=`` line; a name already matched by an earlier,
        shorter pattern adds nothing."""
        comps = self.components_for(dist) if dist else self.components
        pats: list[str] = []
        for name in sorted((c.name for c in comps), key=len):
            if not any(fnmatch.fnmatchcase(name, p) for p in pats):
                pats.append(f"{name}*")
        order = {c.name: i for i, c in enumerate(comps)}
        return sorted(pats, key=lambda p: order[p[:-1]])


def redact_url(url: str) -> str:
    """``url`` without a ``user:password@`` part (``***@host``): what is printed of a URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))
