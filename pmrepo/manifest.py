"""Release manifests: TOML under ``releases/`` loaded into frozen dataclasses.

The manifest is validated once, here. Every problem is a ``ManifestError``
that names the file, the field and the fix. Names of the repository package,
metapackage, prefix and repo id are manifest values (with the Linux-HA Japan
defaults), never literals elsewhere in the code.

Paths in a manifest are relative to the manifest file's directory.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import fnmatch
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from . import defaults, layout
from .errors import ManifestError

# Every pattern is anchored with \Z: ``$`` would accept a trailing newline.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
VERSION_RE = re.compile(r"^[A-Za-z0-9._+]+\Z")  # no '-', no '~'/'^' (el6 rpm 4.8 lacks them)
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
ARCH_RE = re.compile(r"^[A-Za-z0-9_]+\Z")
REPO_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\.repo\Z")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*\Z")  # an image reference, never an option
URL_RE = re.compile(r"^(https?|file)://[^\s]+\Z")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")  # one-line text: no newline, tab or other control character
TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # multi-line text: newlines and tabs only
REQUIRE_OPS = ("=", ">=", "any", "none")
LANGS = ("ja", "en")
DIR_RE = re.compile(r"^(/[A-Za-z0-9._+-]+)+\Z")
REPO_KINDS = ("main", "debuginfo", "src")
# Directories a repository package must never own (they belong to the OS).
SYSTEM_DIRS = {"/", "/opt", "/srv", "/usr", "/usr/local", "/var", "/var/lib", "/etc", "/tmp", "/home", "/mnt"}

DEFAULTS: dict[str, Any] = {
    "name": "pacemaker-repo",
    "arch": "x86_64",
    "prefix": "/opt/linux-ha/pacemaker",
    "repo_id": "linux-ha-ja-pacemaker",
    "repo_file": "pacemaker.repo",
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
        return getattr(self, lang)

    def __bool__(self) -> bool:
        return bool(self.ja or self.en)


@dataclass(frozen=True)
class NoteSection:
    """A free section of the notes (configuration guidance): a Markdown file
    per language, next to the manifest."""

    title: Mapping[str, str]  # lang -> title
    files: Mapping[str, Path]  # lang -> Markdown file

    def text(self, lang: str) -> str:
        return self.files[lang].read_text()


@dataclass(frozen=True)
class Repository:
    """One of the three repositories and the repository package that installs it: THE value
    every step asks for its name, repo id, root, ``.repo`` file, RPM file name and inner paths."""

    kind: str  # "main", "debuginfo", "src"
    package: str  # e.g. pacemaker-repo-debuginfo
    prefix: str  # its root: rpm/ and repodata/ live here
    repo_id: str  # the .repo section
    repo_name: str  # name= of the section
    repo_file: str  # file name under /etc/yum.repos.d/
    vr: str  # the repository package's version-release (the release's)
    arch: str  # the repository package's architecture

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


RepoLayout = Repository  # the old name (one release's repository)

# The per-repository TOML values of ``[release]``: ``<field>`` for main, ``<kind>_<field>`` for the others.
REPO_KINDS = ("main", "debuginfo", "src")
REPO_FIELDS = ("prefix", "repo_id", "repo_name", "repo_file")


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
    prefix: str
    repo_id: str
    repo_name: str
    repo_file: str
    debuginfo_prefix: str
    debuginfo_repo_id: str
    debuginfo_repo_name: str
    debuginfo_repo_file: str
    src_prefix: str
    src_repo_id: str
    src_repo_name: str
    src_repo_file: str
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
    # The three repositories, main first: built once from the TOML values above (not an input).
    repositories: tuple[Repository, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "repositories", tuple(self._repository(kind) for kind in REPO_KINDS))

    def _repository(self, kind: str) -> Repository:
        key = "" if kind == "main" else f"{kind}_"
        return Repository(kind=kind, package=self.name if kind == "main" else f"{self.name}-{kind}",
                          vr=self.vr, arch=self.arch, **{f: getattr(self, key + f) for f in REPO_FIELDS})

    @property
    def repos(self) -> tuple[Repository, ...]:
        """The three repository packages, main first."""
        return self.repositories

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


class _Reader:
    """Typed field access that turns every problem into a ManifestError."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, fld: str, problem: str, fix: str) -> ManifestError:
        return ManifestError(self.path, fld, problem, fix)

    def table(self, data: Mapping[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            if required:
                raise self.fail(fld, "missing table", f"add a [{fld}] table")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            raise self.fail(fld, f"must be a table, got {type(value).__name__}", f"write [{fld}] as a table")
        return value

    def str_(self, data: Mapping[str, Any], key: str, where: str, default: str | None = None,
             pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            if default is None:
                raise self.fail(fld, "missing", f"add {key} = \"…\"{(' (' + hint + ')') if hint else ''}")
            return default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(fld, f"must be a non-empty string, got {value!r}", f"set {key} = \"…\"")
        if CONTROL_RE.search(value):
            raise self.fail(fld, f"contains a newline or control character: {value!r}", f"write {key} on one line")
        if pattern is not None and not pattern.match(value):
            raise self.fail(fld, f"invalid value {value!r}", hint or f"use a value matching {pattern.pattern}")
        return value

    def str_list(self, data: Mapping[str, Any], key: str, where: str, default: tuple[str, ...] = (),
                 pattern: re.Pattern[str] | None = None, hint: str = "") -> tuple[str, ...]:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(fld, f"must be a list of strings, got {value!r}", f"write {key} = [\"a\", \"b\"]")
        for v in value:
            if pattern is not None and not pattern.match(v):
                raise self.fail(fld, f"invalid value {v!r}", hint or f"use values matching {pattern.pattern}")
        return tuple(value)

    def unknown(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                fld = f"{where}.{key}" if where else key
                raise self.fail(fld, "unknown field", f"remove it or use one of: {', '.join(sorted(allowed))}")


def _opt_text(r: _Reader, data: Mapping[str, Any], key: str, where: str, multiline: bool = False,
              default: str = "") -> str:
    """Free text. One-line text rejects control characters; multi-line text
    (changes, known_issues, description) allows newlines and tabs, but no line
    may start with '%': rpm reads such a line as a section, conditional or
    macro even after the % is escaped (rendering doubles every other %)."""
    fld = f"{where}.{key}" if where else key
    value = data.get(key, default)
    if not isinstance(value, str):
        raise r.fail(fld, f"must be a string, got {type(value).__name__}", f"write {key} = \"…\"")
    if not multiline:
        if CONTROL_RE.search(value):
            raise r.fail(fld, f"contains a newline or control character: {value!r}", f"write {key} on one line")
        return value
    if TEXT_CONTROL_RE.search(value):
        raise r.fail(fld, f"contains a control character: {value!r}", "use plain text (newlines and tabs only)")
    for n, line in enumerate(value.splitlines(), 1):
        if line.lstrip().startswith("%"):
            raise r.fail(fld, f"line {n} starts with '%' ({line.strip()[:40]!r}), which rpm reads as a section or macro",
                         "rephrase the line so it does not start with %")
    return value


def _confined(r: _Reader, fld: str, root: Path, rel: str) -> Path:
    """``root / rel`` resolved (symlinks too); it must stay inside the manifest's
    directory tree or the project (the source checkout pmrepo runs from, if
    any: defaults.checkout()). There is no switch to turn this off."""
    try:
        path = (root / rel).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise r.fail(fld, f"{rel!r} cannot be resolved ({exc})", "remove the symlink loop") from None
    project = defaults.checkout()
    for top in (root.resolve(), project):
        if top is not None and (path == top or path.is_relative_to(top)):
            return path
    allowed = f"the release's tree ({root.resolve()})" + (f" and the project ({project})" if project else "")
    raise r.fail(fld, f"{rel!r} resolves to {path}, outside {allowed}",
                 "keep sources, specs and manifests inside the release's tree or the project")


def redact_url(url: str) -> str:
    """``url`` without a ``user:password@`` part (``***@host``): what is printed of a URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _file_url(r: _Reader, fld: str, root: Path, url: str) -> Path:
    """A ``file://`` source URL is a path like ``path =``: on this host, confined
    to the release's tree or the project, a regular file."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise r.fail(fld, f"{redact_url(url)!r} is not a local file:///path URL", "write url = \"file:///path/in/the/release\" "
                     "or path = \"src/file\"")
    path = _confined(r, fld, root, unquote(parts.path))
    if not path.is_file():
        raise r.fail(fld, f"{path} is not a regular file", "point the URL at a file in the release's tree")
    return path


def _confined_tree(r: _Reader, fld: str, root: Path, tree: Path) -> None:
    """Every symlink under a source directory points inside the allowed trees."""
    for dirpath, dirnames, filenames in os.walk(tree, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            if p.is_symlink():
                _confined(r, f"{fld} ({p.relative_to(tree)})", root, str(p))


def _items(r: _Reader, value: Any, fld: str) -> tuple[str, ...]:
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    where, _, key = fld.rpartition(".")
    for t in texts:
        if isinstance(t, str):  # the same rules as every multi-line text (control characters, '%' lines)
            _opt_text(r, {key: t}, key, where, multiline=True)
    if isinstance(value, str):
        return (value.strip("\n"),) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.rstrip() for v in value)
    raise r.fail(fld, f"must be text or a list of non-empty strings, got {type(value).__name__}",
                 f"write {fld.rsplit('.', 1)[-1]} = [\"first point\", \"  a sub-point\"]")


def _text(r: _Reader, data: Mapping[str, Any], key: str, where: str) -> Text:
    """Notes text: a string or list (the same in every language), or a table
    ``{ja = …, en = …}`` giving each language its own."""
    fld = f"{where}.{key}"
    if key not in data:
        return Text()
    value = data[key]
    if isinstance(value, dict):
        r.unknown(value, set(LANGS), fld)
        missing = [lang for lang in LANGS if lang not in value]
        if missing:
            raise r.fail(f"{fld}.{missing[0]}", "missing", f"give the text in every language ({', '.join(LANGS)})")
        return Text(**{lang: _items(r, value[lang], f"{fld}.{lang}") for lang in LANGS})
    items = _items(r, value, fld)
    return Text(items, items)


def _sections(r: _Reader, root: Path, value: Any) -> tuple[NoteSection, ...]:
    if not isinstance(value, list):
        raise r.fail("release.sections", "must be a list of tables",
                     'write sections = [{ title = "日本語 / English", ja = "notes/x.ja.md", en = "notes/x.en.md" }]')
    out = []
    for i, sec in enumerate(value):
        fld = f"release.sections[{i}]"
        if not isinstance(sec, dict):
            raise r.fail(fld, "must be a table", 'write { title = "…", ja = "x.ja.md", en = "x.en.md" }')
        r.unknown(sec, {"title", *LANGS}, fld)
        title = r.str_(sec, "title", fld, hint='a title, "日本語 / English" for one per language')
        parts = title.split(" / ")
        titles = dict(zip(LANGS, parts)) if len(parts) == len(LANGS) else {lang: title for lang in LANGS}
        files: dict[str, Path] = {}
        for lang in LANGS:
            rel = r.str_(sec, lang, fld, hint=f"the {lang} Markdown file, relative to the manifest")
            path = (root / rel).resolve()
            if not path.is_relative_to(root.resolve()) or path.suffix != ".md":
                raise r.fail(f"{fld}.{lang}", f"{rel!r} is not a Markdown file next to the manifest",
                             "name a .md file in the manifest's directory or below it")
            if not path.is_file():
                raise r.fail(f"{fld}.{lang}", f"{path} does not exist", "write the file or fix the name")
            try:
                path.read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise r.fail(f"{fld}.{lang}", f"{path} is not readable UTF-8 text ({exc})", "save it as UTF-8") from None
            files[lang] = path
        out.append(NoteSection(titles, files))
    return tuple(out)


def _layout(r: _Reader, rel: Mapping[str, Any], values: dict[str, str]) -> dict[str, str]:
    """The three repositories' roots, ids, names and files (defaults: the
    predecessor's layout, derived from prefix, repo_id and repo_file) and the
    parent directory they share."""
    stem = values["repo_file"][: -len(".repo")]
    out: dict[str, str] = {"repo_name": r.str_(rel, "repo_name", "release", default=values["repo_id"])}
    for kind in ("debuginfo", "src"):
        out[f"{kind}_prefix"] = r.str_(rel, f"{kind}_prefix", "release", default=f"{values['prefix']}-{kind}")
        out[f"{kind}_repo_id"] = r.str_(rel, f"{kind}_repo_id", "release", default=f"{values['repo_id']}-{kind}",
                                        pattern=NAME_RE, hint="a repo id uses letters, digits and ._+-")
        out[f"{kind}_repo_name"] = r.str_(rel, f"{kind}_repo_name", "release", default=out[f"{kind}_repo_id"])
        out[f"{kind}_repo_file"] = r.str_(rel, f"{kind}_repo_file", "release", default=f"{stem}-{kind}.repo")
    prefixes = {"prefix": values["prefix"], "debuginfo_prefix": out["debuginfo_prefix"], "src_prefix": out["src_prefix"]}
    out["parent_dir"] = r.str_(rel, "parent_dir", "release", default=values["prefix"].rsplit("/", 1)[0] or "/")
    parent = out["parent_dir"]
    if not DIR_RE.match(parent) or parent in SYSTEM_DIRS:
        raise r.fail("release.parent_dir", f"{parent!r} cannot be owned by the repository packages (an OS directory "
                     "or not an absolute path)", 'put the prefixes under a directory of your own, e.g. parent_dir = '
                     '"/opt/linux-ha" with prefix = "/opt/linux-ha/pacemaker"')
    for key, pre in prefixes.items():
        if not DIR_RE.match(pre):
            raise r.fail(f"release.{key}", f"{pre!r} is not an absolute directory", f'write {key} = "{parent}/<dir>"')
        if not pre.startswith(parent + "/"):
            raise r.fail(f"release.{key}", f"{pre} is not under parent_dir {parent}",
                         f"put it under {parent}/ or change parent_dir")
    for a, pa in prefixes.items():
        for b, pb in prefixes.items():
            if a != b and (pa == pb or pb.startswith(pa + "/")):
                raise r.fail(f"release.{b}", f"{pb} is inside (or equal to) {a} {pa}: each repository needs its own root",
                             f'write {b} = "{pa}-{b.split("_")[0]}"')
    files = [values["repo_file"], out["debuginfo_repo_file"], out["src_repo_file"]]
    for key, name in zip(("repo_file", "debuginfo_repo_file", "src_repo_file"), files):
        if not name.endswith(".repo") or "/" in name or not NAME_RE.match(name):
            raise r.fail(f"release.{key}", f"{name!r} is not a file name ending in .repo", f'write {key} = "x.repo"')
    ids = [values["repo_id"], out["debuginfo_repo_id"], out["src_repo_id"]]
    if len(set(files)) != 3 or len(set(ids)) != 3:
        raise r.fail("release.repo_file", f"the three repositories need distinct .repo files and ids, got {files} {ids}",
                     "give debuginfo_/src_repo_file and _repo_id their own values")
    return out


def _per_dist(r: _Reader, value: Any, fld: str, dists: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """A package list given as a list (all dists) or a table dist -> list."""
    if isinstance(value, list):
        if not all(isinstance(v, str) and v for v in value):
            raise r.fail(fld, f"must list package names, got {value!r}", "write [\"pkg\", …]")
        return {d: tuple(value) for d in dists}
    if isinstance(value, dict):
        out: dict[str, tuple[str, ...]] = {}
        for d, names in value.items():
            if d not in dists:
                raise r.fail(f"{fld}.{d}", f"'{d}' is not a target dist of this component",
                             f"use one of: {', '.join(dists)}")
            if not isinstance(names, list) or not all(isinstance(v, str) and v for v in names):
                raise r.fail(f"{fld}.{d}", f"must list package names, got {names!r}", "write [\"pkg\", …]")
            out[d] = tuple(names)
        return out
    raise r.fail(fld, f"must be a list or a table of lists per dist, got {type(value).__name__}",
                 "write [\"pkg\"] or {el6 = [\"pkg\"], el7 = [\"pkg\"]}")


# macros the tool defines itself (from tag/rhel, for reproducible payloads, or rpm's own
# build paths): a manifest's macros table must not redefine them
TOOL_MACROS = frozenset({
    "dist", "rhel", "_binary_payload", "_source_payload", "_binary_filedigest_algorithm",
    "_source_filedigest_algorithm", "_buildhost", "use_source_date_epoch_as_buildtime",
    "clamp_mtime_to_source_date_epoch", "_use_weak_usergroup_deps", "_rpmformat", "_enable_debug_packages",
    "_topdir", "_builddir", "_buildrootdir", "buildroot", "_sourcedir", "_specdir", "_srcrpmdir", "_rpmdir",
    "_tmppath", "_dbpath", "_rpmfilename", "source_date_epoch",
})
# a '%' in a macro value may only reference another macro: %name, %{name}, %{?name}, %{!?name}
_MACRO_REF = re.compile(r"%(?:[A-Za-z_][A-Za-z0-9_]*|\{!?\??[A-Za-z_][A-Za-z0-9_]*\})")


def _no_template(r: _Reader, fld: str, value: str) -> None:
    """Values that reach mock's config are rendered there by jinja: no template syntax."""
    for bad in ("{{", "{%", "{#"):
        if bad in value:
            raise r.fail(fld, f"contains {bad!r}, which mock's config expands as a jinja template",
                         "write the value without '{{', '{%' or '{#'")


def _check_macro(r: _Reader, fld: str, key: str, value: str, dist: str) -> None:
    """A macro value is data for rpm and for mock's config: it runs nothing
    (no %(…), %{lua:…}, %[…], %{expand:…}; no jinja for mock), redefines no
    macro the tool owns, and is not empty (mock refuses empty macros)."""
    if key in TOOL_MACROS or key == dist or key.startswith("__"):
        what = "a command or helper rpm runs" if key.startswith("__") else "a macro pmrepo defines itself"
        raise r.fail(fld, f"{key} is {what}", f"remove it (the dist tag comes from [dists.{dist}] tag, rhel from rhel)")
    if not value.strip():
        raise r.fail(fld, "is empty (mock refuses an empty macro: 'Bad macros')", f"give {key} a value or remove it")
    _no_template(r, fld, value)
    for m in re.finditer("%", value):
        if not _MACRO_REF.match(value, m.start()):
            rest = value[m.start():m.start() + 8]
            raise r.fail(fld, f"contains {rest!r}: rpm would run or expand it as code (%(…), %{{lua:…}}, %[…], "
                         "%{expand:…} and %% are not allowed)", "use plain text or a plain %{macro} reference")


def _load_dist(r: _Reader, name: str, data: Any) -> Dist:
    where = f"dists.{name}"
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table", f"write [{where}] with tag and rhel")
    r.unknown(data, {"tag", "rhel", "macros", "os_requires", "base_repos", "image"}, where)
    if not NAME_RE.match(name):
        raise r.fail(where, f"invalid dist name {name!r}", "use a name like el7")
    tag = r.str_(data, "tag", where, default=f".{name}")
    if not re.match(r"^\.[A-Za-z0-9_.+]+\Z", tag):
        raise r.fail(f"{where}.tag", f"{tag!r} is not a dist tag ('.' then letters, digits, '_', '.', '+')",
                     f"write tag = \".{name}\"")
    rhel = data.get("rhel")
    if not isinstance(rhel, int) or isinstance(rhel, bool) or rhel < 5:
        raise r.fail(f"{where}.rhel", f"must be an integer RHEL major version, got {rhel!r}", "write rhel = 7")
    macros = data.get("macros", {})
    if not isinstance(macros, dict) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                               for v in macros.values()):
        raise r.fail(f"{where}.macros", "must be a table of macro = \"value\"", "write macros = {_unitdir = \"/usr/lib/systemd/system\"}")
    for key in macros:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\Z", key):
            raise r.fail(f"{where}.macros.{key}", "not an rpm macro name", "use letters, digits and '_' (e.g. _unitdir)")
    for key, value in macros.items():
        if isinstance(value, str) and CONTROL_RE.search(value):
            raise r.fail(f"{where}.macros.{key}", f"contains a newline or control character: {value!r}",
                         "write the value on one line")
        _check_macro(r, f"{where}.macros.{key}", key, str(value), name)
    repos = data.get("base_repos", {})
    if not isinstance(repos, dict) or not all(isinstance(v, str) for v in repos.values()):
        raise r.fail(f"{where}.base_repos", "must be a table of repoid = \"baseurl\"", "write base_repos = {base = \"http://…\"}")
    for key, value in repos.items():
        if not NAME_RE.match(key):
            raise r.fail(f"{where}.base_repos.{key}", f"invalid repo id {key!r}", "use letters, digits and ._+-")
        if not URL_RE.match(value):
            raise r.fail(f"{where}.base_repos.{key}", f"{value!r} is not an http(s):// or file:// URL",
                         "write base = \"http://…\" (no spaces or newlines)")
        _no_template(r, f"{where}.base_repos.{key}", value)
    return Dist(
        name=name,
        tag=tag,
        rhel=rhel,
        macros={k: str(v) for k, v in macros.items()},
        os_requires=r.str_list(data, "os_requires", where, pattern=NAME_RE,
                               hint="list package names (letters, digits and ._+-)"),
        base_repos=dict(repos),
        image=r.str_(data, "image", where, default=f"centos:{rhel}", pattern=IMAGE_RE,
                     hint="an image reference like centos:7 (letters, digits, ._/:@-; not starting with '-')"),
    )


def _load_source(r: _Reader, root: Path, data: Any, where: str, comp: str, version: str) -> Source:
    if isinstance(data, str):
        data = {"url": data}
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table with url or path", "write {url = \"https://…\", sha256 = \"…\"}")
    r.unknown(data, {"url", "path", "sha256", "filename", "size"}, where)
    url = data.get("url")
    rel = data.get("path")
    if (url is None) == (rel is None):
        raise r.fail(where, "needs exactly one of url or path", "give url = \"https://…\" or path = \"src/dir\"")
    sha = data.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not SHA256_RE.match(sha)):
        raise r.fail(f"{where}.sha256", f"not a lowercase 64-hex sha256: {sha!r}",
                     f"run `build.py pin --release {r.path}` to record it")
    path: Path | None = None
    if url is not None:
        if not isinstance(url, str) or not URL_RE.match(url):
            raise r.fail(f"{where}.url", "must be an http(s):// or file:// URL, got "
                         f"{redact_url(url) if isinstance(url, str) else url!r}", "fix the URL")
        default_name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
        if url.startswith("file:"):
            _file_url(r, f"{where}.url", root, url)
    else:
        if not isinstance(rel, str) or not rel:
            raise r.fail(f"{where}.path", "must be a path string", "write path = \"src/name\"")
        path = _confined(r, f"{where}.path", root, rel)
        if not path.exists():
            raise r.fail(f"{where}.path", f"{path} does not exist", "point path at a file or directory in the project")
        if path.is_dir():
            _confined_tree(r, f"{where}.path", root, path)
        default_name = f"{comp}-{version}.tar.gz" if path.is_dir() else path.name
    filename = data.get("filename", default_name)
    if not isinstance(filename, str) or not NAME_RE.match(filename):
        raise r.fail(f"{where}.filename", f"invalid file name {filename!r}", "give a plain file name")
    size = data.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0 or url is None):
        raise r.fail(f"{where}.size", f"must be the URL source's size in bytes, got {size!r}",
                     f"remove it and run `build.py pin --release {r.path}` to record it")
    return Source(url=url, path=path, sha256=sha, filename=filename, size=size)


_COMPONENT_KEYS = {
    "name", "version", "release", "sources", "patches", "spec", "dists",
    "packages", "debuginfo", "require", "group", "smoke", "changes", "known_issues", "summary",
    "change_notes", "upgrade_warnings",
}


def _load_component(r: _Reader, root: Path, spec_dir: Path, idx: int, data: Any,
                    all_dists: tuple[str, ...]) -> Component:
    where = f"components[{idx}]"
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table", "write [[components]] entries")
    name = r.str_(data, "name", where, pattern=NAME_RE, hint="package names use letters, digits and ._+-")
    where = f"components.{name}"
    r.unknown(data, _COMPONENT_KEYS, where)
    version = r.str_(data, "version", where, pattern=VERSION_RE,
                     hint="a version has no '-', '~' or '^' (el6's rpm 4.8 cannot compare them)")
    release = r.str_(data, "release", where, pattern=VERSION_RE, hint="a release has no '-', '~' or '^'")
    dists = r.str_list(data, "dists", where, default=all_dists)
    for d in dists:
        if d not in all_dists:
            raise r.fail(f"{where}.dists", f"'{d}' is not declared under [dists]", f"use one of: {', '.join(all_dists)}")
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise r.fail(f"{where}.sources", "must be a list", "write sources = [{url = \"…\", sha256 = \"…\"}]")
    sources = tuple(_load_source(r, root, s, f"{where}.sources[{i}]", name, version) for i, s in enumerate(raw_sources))
    names = [s.filename for s in sources]
    if len(set(names)) != len(names):
        raise r.fail(f"{where}.sources", f"two sources share a file name: {names}", "set filename = \"…\" on one")
    patches: list[Path] = []
    for i, p in enumerate(r.str_list(data, "patches", where)):
        pp = _confined(r, f"{where}.patches[{i}]", spec_dir, p)
        if not pp.is_file():
            raise r.fail(f"{where}.patches[{i}]", f"{pp} does not exist", "put the patch beside the spec templates")
        patches.append(pp)
    spec_name = r.str_(data, "spec", where, default=f"{name}.spec.j2")
    spec = _confined(r, f"{where}.spec", spec_dir, spec_name)
    if "packages" not in data:
        raise r.fail(f"{where}.packages", "missing", "list the binary packages it ships: packages = [\"name\"]")
    packages = _per_dist(r, data["packages"], f"{where}.packages", dists)
    for d, names in packages.items():
        for pkg in names:
            if not NAME_RE.match(pkg):
                raise r.fail(f"{where}.packages.{d}", f"invalid package name {pkg!r}", "use letters, digits and ._+-")
    for d in dists:
        if not packages.get(d):
            raise r.fail(f"{where}.packages.{d}", "no packages listed for this dist",
                         f"list the packages built for {d}, or drop {d} from dists")
    debuginfo = _per_dist(r, data.get("debuginfo", []), f"{where}.debuginfo", dists)
    require = data.get("require", "none")
    if require not in REQUIRE_OPS:
        raise r.fail(f"{where}.require", f"unknown operator {require!r}",
                     "use \"=\" (exact V-R), \">=\", \"any\" (unversioned) or \"none\"")
    return Component(
        name=name,
        version=version,
        release=release,
        sources=sources,
        patches=tuple(patches),
        spec=spec,
        dists=dists,
        packages=packages,
        debuginfo=debuginfo,
        require=require,
        group=r.str_(data, "group", where, default="main", pattern=NAME_RE, hint="a key of release.note_groups"),
        smoke=_opt_text(r, data, "smoke", where) or None,
        changes=_opt_text(r, data, "changes", where, multiline=True),
        known_issues=_text(r, data, "known_issues", where),
        summary=r.str_(data, "summary", where, default=name),
        change_notes=_text(r, data, "change_notes", where),
        upgrade_warnings=_text(r, data, "upgrade_warnings", where),
    )


def _per_dist_entries(r: _Reader, raw: list[Any], comps: tuple[Component, ...]) -> tuple[Component, ...]:
    """Several ``[[components]]`` entries may share a name when each names its
    own, disjoint ``dists``: each is the whole component for those dists."""
    by_name: dict[str, list[int]] = {}
    for i, c in enumerate(comps):
        by_name.setdefault(c.name, []).append(i)
    out = list(comps)
    for name, idx in by_name.items():
        if len(idx) == 1:
            continue
        nums = " and ".join(f"#{i + 1}" for i in idx)
        for i in idx:
            if "dists" not in raw[i]:
                raise r.fail(f"components.{name}.dists", f"{len(idx)} entries ({nums} of [[components]]) share this "
                             f"name and entry #{i + 1} names no dists",
                             "give each entry of the component its own dists = [\"el6\"] / [\"el7\"]")
        owner: dict[str, int] = {}
        for i in idx:
            for d in comps[i].dists:
                if d in owner:
                    raise r.fail(f"components.{name}.dists", f"entries #{owner[d] + 1} and #{i + 1} of [[components]] "
                                 f"both cover {d}", "give each dist to one entry only (disjoint dists)")
                owner[d] = i
            out[i] = replace(comps[i], split=True)
    return tuple(out)


_LAYOUT_KEYS = {"repo_name", "parent_dir"} | {f"{k}_{f}" for k in ("debuginfo", "src")
                                              for f in ("prefix", "repo_id", "repo_name", "repo_file")}
_RELEASE_KEYS = set(DEFAULTS) | _LAYOUT_KEYS | {
    "version", "release", "follows", "date", "summary", "description", "note_groups", "rpmlint_filters",
    "change_notes", "known_issues", "upgrade_warnings", "sections"}


def _check_tool_names(r: _Reader, values: Mapping[str, str], comps: tuple[Component, ...]) -> None:
    """No component and no package may take a name of the packages the tool
    builds itself: the three repository packages and the metapackage."""
    name, meta = values["name"], values["metapackage"]
    repo_pkgs = (name, f"{name}-debuginfo", f"{name}-src")
    if meta in repo_pkgs:
        raise r.fail("release.metapackage", f"{meta} is also the name of a repository package",
                     f"give the metapackage its own name (e.g. {name.removesuffix('-repo')}-all)")
    own = {*repo_pkgs, meta}
    for c in comps:
        if c.name in own:
            raise r.fail(f"components.{c.name}.name", f"{c.name} is a package the tool builds itself",
                         "rename the component")
        for d in c.dists:
            for p in c.packages_for(d) + c.debuginfo.get(d, ()):
                if p in own:
                    raise r.fail(f"components.{c.name}.packages", f"{p} is a package the tool builds itself "
                                 f"({', '.join(sorted(own))})", "remove or rename it")


# rpm keeps times as 32-bit numbers (el6's rpm and yum read them signed); createrepo_c refuses times before 1970
DATE_MIN, DATE_MAX = _dt.date(1970, 1, 2), _dt.date(2038, 1, 18)


def _check_release_range(r: _Reader, path: Path, date: _dt.date, follows: str | None,
                         dists: Mapping[str, Dist]) -> None:
    """A date rpm and createrepo_c can store, one dist per tag, and a ``follows`` chain without a cycle."""
    if not DATE_MIN <= date <= DATE_MAX:
        raise r.fail("release.date", f"{date} is outside what rpm and createrepo_c store ({DATE_MIN} to {DATE_MAX})",
                     "write the release's real date")
    tags: dict[str, str] = {}
    for name, dist in dists.items():
        if dist.tag in tags:
            raise r.fail(f"dists.{name}.tag", f"{dist.tag} is also the tag of dists.{tags[dist.tag]}",
                         "give each dist its own tag")
        tags[dist.tag] = name
    chain, current, nxt = [path], path, follows
    while nxt:
        current = (current.parent / nxt).resolve()
        if current in chain:
            shown = " → ".join(p.name for p in [*chain, current])
            raise r.fail("release.follows", f"the follows chain has a cycle ({shown})",
                         "point follows at the previous release's manifest")
        chain.append(current)
        try:
            nxt = tomllib.loads(current.read_text()).get("release", {}).get("follows")
        except (OSError, ValueError):
            return  # that manifest's own load reports it
        if not isinstance(nxt, str) or len(chain) > 1000:
            return


def load(path: Path | str) -> Release:
    """Load and validate a release manifest."""
    path = Path(path).resolve()
    r = _Reader(path)
    if not path.is_file():
        raise ManifestError(path, "(file)", "no such manifest", "pass --release releases/<version>.toml")
    try:
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ManifestError(path, "(file)", "starts with a UTF-8 byte-order mark, which TOML does not allow",
                                "save the manifest as UTF-8 without a BOM")
        data = tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax") from None
    except UnicodeDecodeError:
        raise ManifestError(path, "(file)", "not UTF-8 text", "save the manifest as UTF-8") from None
    r.unknown(data, {"release", "dists", "components"}, "")
    root = path.parent
    rel = r.table(data, "release", "")
    r.unknown(rel, _RELEASE_KEYS, "release")
    values = {k: r.str_(rel, k, "release", default=v) for k, v in DEFAULTS.items()}
    if not NAME_RE.match(values["name"]):
        raise r.fail("release.name", f"invalid package name {values['name']!r}", "use letters, digits and ._+-")
    for key, pattern, fix in (("metapackage", NAME_RE, "use letters, digits and ._+-"),
                              ("group_id", NAME_RE, "use letters, digits and ._+-"),
                              ("repo_id", NAME_RE, "use letters, digits and ._+- (no brackets, no newline)"),
                              ("arch", ARCH_RE, "write arch = \"x86_64\""),
                              ("url", URL_RE, "write url = \"https://…\" (no spaces)")):
        if not pattern.match(values[key]):
            raise r.fail(f"release.{key}", f"invalid value {values[key]!r}", fix)
    if not re.match(r"^(/[A-Za-z0-9._+-]+)+\Z", values["prefix"]) or "/../" in values["prefix"] + "/":
        raise r.fail("release.prefix", f"{values['prefix']!r} is not an absolute directory", "write prefix = \"/opt/linux-ha/pacemaker\"")
    if not REPO_FILE_RE.match(values["repo_file"]):
        raise r.fail("release.repo_file", f"{values['repo_file']!r} is not a file name ending in .repo", "write repo_file = \"pacemaker.repo\"")
    layout = _layout(r, rel, values)
    version = r.str_(rel, "version", "release", pattern=VERSION_RE, hint="e.g. version = \"1.1.14\"")
    release = r.str_(rel, "release", "release", pattern=VERSION_RE, hint="e.g. release = \"1.1\"")
    date = rel.get("date")
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            date = None
    if not isinstance(date, _dt.date):
        raise r.fail("release.date", f"must be a date, got {rel.get('date')!r}", "write date = 2016-01-xx as YYYY-MM-DD")
    follows = rel.get("follows")
    if follows is not None:
        if not isinstance(follows, str) or not follows:
            raise r.fail("release.follows", "must be a path to the previous manifest", "write follows = \"1.1.13-1.1.toml\"")
        _confined(r, "release.follows", root, follows)
        if not (root / follows).is_file():
            raise r.fail("release.follows", f"{root / follows} does not exist", "point it at the previous release's manifest or remove it")
    note_groups = rel.get("note_groups", {"main": "Components"})
    if not isinstance(note_groups, dict) or not all(isinstance(v, str) for v in note_groups.values()):
        raise r.fail("release.note_groups", "must be a table key = \"title\"", "write note_groups = {main = \"Main components\"}")
    for key, title in note_groups.items():
        if not NAME_RE.match(key) or CONTROL_RE.search(title):
            raise r.fail(f"release.note_groups.{key}", f"invalid group {key!r} = {title!r}",
                         "use a key of letters, digits and ._+- and a one-line title")
    filters = rel.get("rpmlint_filters", {})
    if not isinstance(filters, dict):
        raise r.fail("release.rpmlint_filters", "must be a table regex = \"why it is legitimate\"",
                     "write rpmlint_filters = { \"regex\" = \"reason\" }")
    for regex, why in filters.items():
        try:
            re.compile(regex)
        except re.error as exc:
            raise r.fail(f"release.rpmlint_filters.{regex}", f"not a valid regex: {exc}", "fix the expression") from None
        if not isinstance(why, str) or len(why.strip()) < 10 or CONTROL_RE.search(why):
            raise r.fail(f"release.rpmlint_filters.{regex}", "needs a reason", "say why this is legitimate for el6/el7")

    raw_dists = r.table(data, "dists", "")
    if not raw_dists:
        raise r.fail("dists", "no target distributions", "add [dists.el7] with tag and rhel")
    dists = {name: _load_dist(r, name, d) for name, d in raw_dists.items()}
    spec_dir = _confined(r, "release.spec_dir", root, values["spec_dir"])

    raw_comps = data.get("components")
    if not isinstance(raw_comps, list) or not raw_comps:
        raise r.fail("components", "no components", "add [[components]] entries")
    comps = _per_dist_entries(r, raw_comps, tuple(_load_component(r, root, spec_dir, i, c, tuple(dists))
                                                   for i, c in enumerate(raw_comps)))
    shipped: dict[tuple[str, str], str] = {}
    for c in comps:
        if c.group not in note_groups:
            raise r.fail(f"components.{c.name}.group", f"unknown group {c.group!r}",
                         f"use one of {', '.join(note_groups)} or add it to release.note_groups")
        for d in c.dists:
            for p in c.packages_for(d) + c.debuginfo.get(d, ()):
                if (d, p) in shipped:
                    raise r.fail(f"components.{c.name}.packages", f"{p} is also shipped by {shipped[(d, p)]} for {d}",
                                 "ship each binary package from one component")
                shipped[(d, p)] = c.name
        for n in (values["metapackage"], values["name"]):
            if any(n in c.packages_for(d) for d in c.dists):
                raise r.fail(f"components.{c.name}.packages", f"{n} is built by the tool itself", "remove it from the list")
    _check_tool_names(r, values, comps)
    _check_release_range(r, path, date, follows, dists)
    if not any(c.require != "none" for c in comps):
        raise r.fail("components", f"{values['metapackage']} would require nothing",
                     "set require = \"=\", \">=\" or \"any\" on at least one component")
    return Release(
        path=path,
        root=root,
        version=version,
        release=release,
        follows=follows,
        date=date,
        summary=r.str_(rel, "summary", "release", default=f"{layout['repo_name']} package"),
        description=_opt_text(r, rel, "description", "release", multiline=True,
                              default="Installs a local yum repository with the cluster stack and its .repo file.")
        or "Installs a local yum repository with the cluster stack and its .repo file.",
        spec_dir=spec_dir,
        note_groups=dict(note_groups),
        rpmlint_filters=dict(filters),
        dists=dists,
        components=comps,
        key=hashlib.sha256(raw).hexdigest(),
        change_notes=_text(r, rel, "change_notes", "release"),
        known_issues=_text(r, rel, "known_issues", "release"),
        upgrade_warnings=_text(r, rel, "upgrade_warnings", "release"),
        sections=_sections(r, root, rel.get("sections", [])),
        **{k: v for k, v in values.items() if k != "spec_dir"},
        **layout,
    )
