"""What the release notes show, computed and checked (``collect``; ``notes`` renders it):
from the release manifest, its predecessor's manifest and the build results.

Inputs
    * the release manifest and, through ``release.follows``, its predecessor;
    * per dist, when they exist, ``<repo_dir>/<release_id>/<dist>/build.json``
      (the repo package files with size and sha256, the version-release of
      every package in the repository) and ``installed.json`` (what the
      container install test's ``yum install <metapackage>`` really put on
      the machine, written by the gates).

The version list (per dist, grouped by ``release.note_groups``)
    * first group: the repository package, then the metapackage;
    * then, per note group in manifest order, one line per component, in
      manifest order: named after the component (its source package), marked
      by its *main* package (the first of its ``packages`` for the dist);
    * *separately shipped* packages get a line of their own, directly after
      their component's line. Rule: a package of a component other than its
      main package is a **subpackage** (no line of its own) when its name
      starts with the component's name or the main package's name
      (``pacemaker-libs``, ``corosynclib``, ``fence-agents-apc``) or ends in
      one of :data:`SUBPACKAGE_SUFFIXES`; every other package (e.g.
      ``ldirectord`` of ``resource-agents``) is shipped separately;
    * ★ when the documented install steps put the package on the machine:
      the repository package itself (``rpm -ivh``) and every package in
      ``installed.json`` (the install record wins). Without it, the expected
      install set (:mod:`pmrepo.assemble.installset`): the metapackage's Requires
      resolved over the Requires/Provides of the built RPMs (recorded in
      ``build.json`` by the assembly) or, before a build, of the rendered
      specs. The page says which of the three it is;
    * **bold** when the package's version-release differs from the
      predecessor manifest's, or the package is new in this release (without
      a predecessor nothing is bold, and the page says so).

Dist-specific start commands of the stack are template data
(``templates/notes/_stack.j2``, keyed by RHEL major version); no package
name is a literal in this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .. import manifest
from ..assemble import installset
from ..errors import NotesError, PmrepoError
from ..layout import DistLayout, Layout
from ..manifest import Component, Dist, Release, Text
from ..records import BuildRecord, CheckResults, InstallRecord, RecordError
from .repofiles import RepoFileChange, changed_repo_files

LANGS = ("ja", "en")
SUBPACKAGE_SUFFIXES = ("-devel", "-libs", "-doc", "-debuginfo")

Role = Literal["repo", "metapackage", "main", "separate"]
StarSource = Literal["installed", "built RPMs", "rendered specs"]


@dataclass(frozen=True)
class PackageLine:
    name: str
    vr: str  # version-release including the dist tag, e.g. 1.1.14-1.el7
    role: Role
    component: str | None  # the component shipping it (None: the tool's own packages)
    star: bool  # put on the machine by the documented install steps
    bold: bool  # version-release differs from the predecessor's, or new
    previous_vr: str | None  # the predecessor's version-release (without dist tag)
    dist_label: str = ""  # "RHEL 6" when the component's version differs between dists

    @property
    def nvr(self) -> str:
        return f"{self.name}-{self.vr}"


@dataclass(frozen=True)
class Group:
    key: str  # note group key; "" for the repository package's own group (the templates title it)
    titles: dict[str, str]  # lang -> title
    lines: tuple[PackageLine, ...]


@dataclass(frozen=True)
class RepoFile:
    name: str
    size: int | None  # None: not built yet
    sha256: str | None


@dataclass(frozen=True)
class DistNotes:
    dist: Dist
    built: bool  # build.json exists
    signed: bool
    backend: str  # build.json's backend ("" when not built or not recorded)
    files: tuple[RepoFile, ...]  # main repo package first
    star_source: StarSource
    install_image: str  # the install test's image ("" when from the expectation)
    groups: tuple[Group, ...]
    erase: tuple[str, ...]  # `yum erase` list: packages of this release the install puts there
    smoke: tuple[tuple[str, str], ...]  # (component, command) of the starred components
    unchecked: tuple[str, ...] = ()  # checks that did not run for this output (published with --allow-unchecked)
    # .repo files the upgrade from the previous release changes (an edited one gets a .rpmnew to merge)
    repo_changes: tuple[RepoFileChange, ...] = ()
    previous_signed: bool | None = None  # from the previous release's build.json; None: not found, taken as this one
    sbom: str = ""  # the SBOM beside the repo packages (<dist>/<name>), "" when there is none
    provenance: str = ""  # the provenance beside them, likewise

    @property
    def repo_file(self) -> RepoFile:
        return self.files[0]

    @property
    def lines(self) -> tuple[PackageLine, ...]:
        return tuple(ln for g in self.groups for ln in g.lines)


@dataclass(frozen=True)
class ComponentChange:
    name: str
    vr: str
    previous_vr: str | None  # None: new (or no predecessor)
    changed: bool
    changes: Text  # the manifest's change_notes, else its one-line ``changes``
    known_issues: Text
    upgrade_warnings: Text
    dist_label: str = ""  # "RHEL 6" (or "RHEL 6, RHEL 7"): this entry is for these dists only


@dataclass(frozen=True)
class Notes:
    release: Release
    previous: Release | None
    excludes: tuple[str, ...]
    dists: tuple[DistNotes, ...]
    components: tuple[ComponentChange, ...]
    sums_file: bool  # SHA256SUMS exists beside the dist directories
    component_names: tuple[str, ...] = field(default=())

    @property
    def any_built(self) -> bool:
        return any(d.built for d in self.dists)


# -- rules ---------------------------------------------------------------------


def is_separate(comp: Component, dist: str, package: str) -> bool:
    """True when ``package`` of ``comp`` gets its own line (see module docstring)."""
    pkgs = comp.packages_for(dist)
    if not pkgs or package == pkgs[0]:
        return False
    if package.startswith(comp.name) or package.startswith(pkgs[0]):
        return False
    return not package.endswith(SUBPACKAGE_SUFFIXES)


def split_title(title: str) -> dict[str, str]:
    """A note group title ``"日本語 / English"`` gives each page its half; any other title is used as is."""
    parts = title.split(" / ")
    if len(parts) == 2 and all(p.strip() for p in parts):
        return {"ja": parts[0].strip(), "en": parts[1].strip()}
    return dict.fromkeys(LANGS, title)


def _rhel(release: Release, dists: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"RHEL {release.dists[d].rhel}" for d in dists)


def _varies(release: Release, name: str) -> bool:
    """True when component ``name`` ships different version-releases on different dists."""
    return len({c.vr for c in release.entries(name)}) > 1


def _previous_component(previous: Release | None, dist: str, package: str) -> Component | None:
    if previous is None:
        return None
    for comp in previous.components_for(dist):
        if package in comp.packages_for(dist):
            return comp
    return None


# -- inputs ----------------------------------------------------------------------


def _read(kind: type[BuildRecord] | type[InstallRecord], path: Path) -> Any:
    try:
        return kind.read(path)
    except RecordError as exc:
        raise NotesError(str(exc)) from None


def _check_dist(path: Path, recorded: str | None, dist: Dist) -> None:
    if recorded is not None and recorded != dist.name:
        raise NotesError(f"{path}: written for dist {recorded!r}, expected {dist.name} — fix: rebuild {dist.name}")


def load_previous(release: Release) -> Release | None:
    path = release.follows_path()
    if path is None:
        return None
    try:
        return manifest.load(path)
    except PmrepoError as exc:
        raise NotesError(f"{release.path}: release.follows: the previous manifest is invalid: {exc}") from None


# -- assembling the notes ----------------------------------------------------------


@dataclass(frozen=True)
class _Results:
    """One dist's build and install records (either may be absent), checked against the release."""

    release: Release
    build: BuildRecord | None
    build_path: Path | None
    installed: InstallRecord | None
    inst_path: Path | None

    @classmethod
    def read(cls, release: Release, dist: Dist, where: DistLayout | None) -> _Results:
        build_path = where.output.build_json if where else None
        inst_path = where.output.installed_json if where else None
        build: BuildRecord | None = _read(BuildRecord, build_path) if build_path and build_path.is_file() else None
        installed: InstallRecord | None = _read(InstallRecord, inst_path) if inst_path and inst_path.is_file() else None
        if build is not None:
            assert build_path is not None
            _check_dist(build_path, build.dist, dist)
            if build.release is not None and build.release != release.release_id:
                raise NotesError(
                    f"{build_path}: built for {build.release}, not {release.release_id} — fix: "
                    f"point --outdir at the build of {release.path.name}"
                )
        if installed is not None:
            assert inst_path is not None
            _check_dist(inst_path, installed.dist, dist)
            if installed.release is not None and installed.release != release.release_id:
                raise NotesError(
                    f"{inst_path}: install test of {installed.release}, not {release.release_id} — "
                    "fix: rerun the gates on this build"
                )
        return cls(release, build, build_path, installed, inst_path)

    def vr_of(self, name: str, manifest_vr: str) -> str:
        """The expected version-release of a package we list, checked against what was built/installed."""
        build, installed = self.build, self.installed
        if build is not None and name != self.release.name:
            built = build.packages.get(name)
            if built != manifest_vr:
                raise NotesError(
                    f"{self.build_path}: {name} is {built or 'missing'}, manifest "
                    f"{self.release.path.name} says {manifest_vr} — fix: rebuild (build.py all) "
                    "before rendering the notes"
                )
        if installed is not None and name in installed.packages and installed.packages[name] != manifest_vr:
            raise NotesError(
                f"{self.inst_path}: {name} was installed at {installed.packages[name]}, the release has "
                f"{manifest_vr} — fix: rerun the install test on this build"
            )
        return manifest_vr

    def put(self, dist: Dist) -> tuple[set[str], StarSource]:
        """What the install puts there (the starred packages) and where that is known from."""
        if self.installed is not None:
            return set(self.installed.packages), "installed"
        if self.build is not None and self.build.expected_install is not None:
            return set(self.build.expected_install), "built RPMs"
        return set(installset.expected(self.release, dist).packages), "rendered specs"

    def files(self, dist: Dist) -> tuple[RepoFile, ...]:
        """The repo package files: from build.json, or the names the build will produce."""
        files: list[RepoFile] = []
        for name in self.release.repo_rpm_names(dist):
            if self.build is None:
                files.append(RepoFile(name, None, None))
                continue
            info = self.build.files.get(name)
            if info is None:
                raise NotesError(f"{self.build_path}: no size/sha256 for {name} — fix: rebuild (build.py all)")
            files.append(RepoFile(name, info.size, info.sha256))
        return tuple(files)


def _component_groups(
    release: Release, previous: Release | None, dist: Dist, res: _Results, star_set: set[str]
) -> tuple[list[Group], list[tuple[str, str]]]:
    """The components' groups of lines (in note_groups order) and the smoke tests of the starred mains."""
    groups: list[Group] = []
    smoke: list[tuple[str, str]] = []
    for key, title in release.note_groups.items():
        lines: list[PackageLine] = []
        for comp in release.components_for(dist.name):
            if comp.group != key:
                continue
            pkgs = comp.packages_for(dist.name)
            for pkg in pkgs:
                if pkg != pkgs[0] and not is_separate(comp, dist.name, pkg):
                    continue
                prev = _previous_component(previous, dist.name, pkg)
                prev_vr = prev.vr if prev else None
                main = pkg == pkgs[0]
                # a component's line carries its own (source package) name, as the published pages do:
                # fence-agents on el7, whose main binary package is fence-agents-all
                line = PackageLine(
                    comp.name if main else pkg,
                    res.vr_of(pkg, f"{comp.vr}{dist.tag}"),
                    "main" if main else "separate",
                    comp.name,
                    pkg in star_set,
                    previous is not None and prev_vr != comp.vr,
                    prev_vr,
                    _rhel(release, (dist.name,)) if _varies(release, comp.name) else "",
                )
                lines.append(line)
                if line.role == "main" and line.star and comp.smoke:
                    smoke.append((comp.name, comp.smoke))
        if lines:
            groups.append(Group(key, split_title(title), tuple(lines)))
    return groups, smoke


def _dist_notes(release: Release, previous: Release | None, dist: Dist, where: DistLayout | None) -> DistNotes:
    res = _Results.read(release, dist, where)
    build, installed = res.build, res.installed
    own_vr = f"{release.vr}{dist.tag}"
    put, source = res.put(dist)
    star_set = put | {release.name}

    def own_line(name: str, role: Role, prev_name: str | None) -> PackageLine:
        prev_vr = previous.vr if previous is not None and prev_name == name else None
        bold = previous is not None and prev_vr != release.vr
        return PackageLine(name, res.vr_of(name, own_vr), role, None, name in star_set, bold, prev_vr)

    # the repo package's group: key "", titled by the templates
    groups = [
        Group(
            "",
            {},
            (
                own_line(release.name, "repo", previous.name if previous else None),
                own_line(release.metapackage, "metapackage", previous.metapackage if previous else None),
            ),
        )
    ]
    comp_groups, smoke = _component_groups(release, previous, dist, res, star_set)
    groups += comp_groups
    files = res.files(dist)

    # `yum erase`: this release's packages the install puts there (OS packages it pulled in stay), in manifest order
    order = [release.metapackage] + [p for c in release.components_for(dist.name) for p in c.packages_for(dist.name)]
    erase = tuple(p for p in order if p in put)
    return DistNotes(
        dist=dist,
        built=build is not None,
        signed=bool(build and build.signed),
        backend=build.backend if build else "",
        files=files,
        star_source=source,
        install_image=installed.image if installed else "",
        groups=tuple(groups),
        erase=erase,
        smoke=tuple(smoke),
        unchecked=_unchecked(build, where),
        sbom=_shipped(dist, where.sbom(where.output)) if where else "",
        provenance=_shipped(dist, where.provenance(where.output)) if where else "",
    )


def _shipped(dist: Dist, path: Path) -> str:
    """An output's file by its name in the release directory (``<dist>/<name>``), "" when absent."""
    return f"{dist.name}/{path.name}" if path.is_file() else ""


def _unchecked(build: BuildRecord | None, where: DistLayout | None) -> tuple[str, ...]:
    """The required checks without a passing latest result (``gates/results.json``, whichever command
    ran them; an output without it: build.json's record)."""
    from ..checks import REQUIRED_CHECK_IDS

    if build is None:
        return ()
    try:
        results = CheckResults.read_or_none(where.output.check_results) if where is not None else None
    except RecordError as exc:
        raise NotesError(str(exc)) from None
    return results.missing(REQUIRED_CHECK_IDS) if results is not None else tuple(build.unchecked or ())


def _with_repo_changes(release: Release, previous: Release | None, d: DistNotes, layout: Layout | None) -> DistNotes:
    """``d`` with the .repo files the upgrade changes: the previous release signed as its
    build.json (in the same output directory) says, else taken as built like this one."""
    if previous is None:
        return d
    prev_json = Layout(previous.release_id, layout.outdir).dist(d.dist.name).output.build_json if layout else None
    prev_signed = _read(BuildRecord, prev_json).signed if prev_json is not None and prev_json.is_file() else None
    changes = changed_repo_files(
        release, previous, d.dist, signed=d.signed, previous_signed=d.signed if prev_signed is None else prev_signed
    )
    return replace(d, repo_changes=changes, previous_signed=prev_signed)


def collect(release: Release, *, repo_dir: Path | None) -> Notes:
    """Everything the templates show, computed and checked (no rendering)."""
    previous = load_previous(release)
    layout = Layout(release.release_id, repo_dir) if repo_dir else None
    dists = tuple(
        _dist_notes(release, previous, d, layout.dist(d.name) if layout else None) for d in release.dists.values()
    )
    dists = tuple(_with_repo_changes(release, previous, d, layout) for d in dists)
    comps = [change for comp in release.components for change in _changes(release, previous, comp)]
    return Notes(
        release=release,
        previous=previous,
        excludes=tuple(release.exclude_patterns()),
        dists=dists,
        components=tuple(comps),
        sums_file=bool(layout and layout.sums_file.is_file()),
        component_names=tuple(release.component_names()),
    )


def _changes(release: Release, previous: Release | None, comp: Component) -> list[ComponentChange]:
    """The changes entry of one component entry: one per group of its dists with
    the same predecessor (a component split per dist, now or before, names its dists).
    A change text carried over unchanged with an unchanged component is no change."""
    by_prev: dict[str | None, list[str]] = {}
    prevs: dict[str | None, Component | None] = {}
    for d in comp.dists:
        prev = previous.component_for(comp.name, d) if previous is not None else None
        by_prev.setdefault(prev.vr if prev else None, []).append(d)
        prevs[prev.vr if prev else None] = prev
    split = comp.split or len(by_prev) > 1 or (previous is not None and len(previous.entries(comp.name)) > 1)
    out = []
    for prev_vr, ds in by_prev.items():
        prev = prevs[prev_vr]
        changed = previous is not None and prev_vr != comp.vr
        one_line = (comp.changes.strip(),) if comp.changes.strip() else ()
        text = comp.change_notes or Text(one_line, one_line)
        if not changed and prev is not None and (prev.changes, prev.change_notes) == (comp.changes, comp.change_notes):
            text = Text()
        out.append(
            ComponentChange(
                comp.name,
                comp.vr,
                prev_vr,
                changed,
                text,
                comp.known_issues,
                comp.upgrade_warnings,
                _rhel(release, ds) if split else "",
            )
        )
    return out
