"""Where everything goes: the one owner of the work and output trees.

::

    <workdir>/                         work files (``--workdir``, default work/)
      cache/                           fetched sources (content-addressed), specinfo/ (rpmspec results)
      store/                           finished builds: <dist>/<component>/<key>/ (schedule.store.Store)
      logs/                            run-wide logs: sign.log, publish.log, the backend's
      <release>/
        logs/                          build-summary.txt: every job's status and log
        sources/<component>/           the sources and patches of one component
        upstream/                      pmrepo upstream (0700): nvchecker.toml it generates, logs/, upstream.{json,txt}
        <dist>/
          specs/                       rendered component specs, the metapackage's and repo packages' specs, .repo files
          logs/                        rpmspec.log, assemble.log, installcheck.log, build-summary.txt
          tree/                        the main repository (rpm/, repodata/ with the comps group)
          debuginfo-tree/              the debuginfo repository
          src-tree/                    the SRPM repository
          gates/                       every check's report (+ logs/)
          comps.xml                    the comps group file
          reuse/                       the previous release's repo packages unpacked, to take its builds
                                       (pmrepo.schedule.reuse; removed after the build step)
          meta-top/, repo-top/         rpmbuild trees of the metapackage and the repo packages (removed after)
          RPM-GPG-KEY-<repo_id>        the public key of a signed release
          <release>.<dist>.spdx.json   the SBOM shipped inside the repositories (pmrepo.attest.sbom)
    <outdir>/                          the output (``--outdir``, default repo/)
      .staging/                        an output being assembled (renamed into place when every check passed)
      <release>/                       what publish uploads: SHA256SUMS, release notes, and per dist:
        <dist>/                        the repo packages, build.json, installed.json, gates/ (+ results.json),
                                       <release>.<dist>.spdx.json (SBOM), <release>.<dist>.provenance.json

Outside both, the tool's own host-wide cache (``user_cache()``):
``$PMREPO_CACHE_DIR``, else ``$XDG_CACHE_HOME/pmrepo``, else ``~/.cache/pmrepo``
(mode 0700), holding ``timings.json`` (how long builds took on this host).

``Layout`` is one release in one work and output directory; ``DistLayout``
one dist of it; ``Output`` an output directory of one dist (the final one,
or a staging directory that becomes it).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .checksums import SUMS_NAME

BUILD_JSON = "build.json"
INSTALLED_JSON = "installed.json"
REPORTS = "gates"
CHECK_RESULTS = "results.json"  # inside an output's reports: the latest result of every check (records.CheckResults)
REPORT_LOGS = "logs"  # inside a reports directory: the checks' command logs (not copied to the output)
STAGING = ".staging"
# Inside every repository (a work tree, and the installed ``<prefix>``): the packages and their metadata.
RPM_DIR = "rpm"
REPODATA_DIR = "repodata"
REPOMD_XML = "repomd.xml"
YUM_REPOS_D = "/etc/yum.repos.d"  # where the repository packages install their .repo files
PUBLIC_KEY_PREFIX = "RPM-GPG-KEY-"
SBOM_SUFFIX = ".spdx.json"  # <release_id>.<dist>.spdx.json: beside the outputs and at each repository's root
PROVENANCE_SUFFIX = ".provenance.json"  # <release_id>.<dist>.provenance.json: beside the outputs only


TIMINGS_JSON = "timings.json"
CACHE_ENV = "PMREPO_CACHE_DIR"  # overrides the user's cache directory (tests, the benchmark)


def user_cache() -> Path:
    """The tool's host-wide cache directory of this user: ``$PMREPO_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/pmrepo`` (an absolute one only, as the XDG spec says), else ``~/.cache/pmrepo``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "pmrepo"


def timings_file() -> Path:
    """``<user cache>/timings.json``: the host's build times (records.TimingRecord)."""
    return user_cache() / TIMINGS_JSON


def repo_rpm_dir(tree: Path) -> Path:
    """``<tree>/rpm``: a repository's packages."""
    return tree / RPM_DIR


def repodata_dir(tree: Path) -> Path:
    """``<tree>/repodata``: a repository's metadata."""
    return tree / REPODATA_DIR


def repomd_xml(tree: Path) -> Path:
    """``<tree>/repodata/repomd.xml``."""
    return repodata_dir(tree) / REPOMD_XML


def safe_relative(name: str) -> PurePosixPath | None:
    """``name`` as a plain relative path (no absolute, ``..`` or backslash part), or None."""
    path = PurePosixPath(name)
    parts = [p for p in path.parts if p not in ("", ".", "/")]
    if not parts or ".." in parts or any("\\" in p for p in parts):
        return None
    return PurePosixPath(*parts)


def inside(root: Path, name: str) -> Path | None:
    """``root/name`` where a name from outside (a ``location href`` of repomd.xml, a payload entry)
    leads: None when it leaves ``root`` — absolute, ``..``, or through a symlink that resolves
    elsewhere."""
    rel = safe_relative(name)
    if rel is None or name.startswith("/"):
        return None
    path = root.joinpath(*rel.parts)
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return None
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return path


def rpm_file_name(name: str, version_release: str, arch: str) -> str:
    """A binary package's file name: ``<name>-<version>-<release>.<arch>.rpm``."""
    return f"{name}-{version_release}.{arch}.rpm"


def run_logs(workdir: Path) -> Path:
    """``<workdir>/logs``: run-wide logs (setup.log, sign.log, publish.log, the backend's)."""
    return workdir / "logs"


def mock_state_dir(workdir: Path) -> Path:
    """``<workdir>/mock``: each mock root's stable config (its mtime keeps mock's root cache);
    its path also names the run owner in the roots' names (``mock-clean`` starts from it)."""
    return workdir / "mock"


def mock_reference_venv(workdir: Path) -> Path:
    """``<workdir>/tools/mock-6.7``: the venv ``setup`` makes for running mock's own code in the
    contract tests (a system python with rpm, mock's PyPI requirements)."""
    return workdir / "tools" / "mock-6.7"


def public_key_name(repo_id: str) -> str:
    """The release's public key file, in the work tree and inside the repo package."""
    return f"{PUBLIC_KEY_PREFIX}{repo_id}"


def sbom_name(release_id: str, dist: str) -> str:
    """A dist's SPDX document: ``<release_id>.<dist>.spdx.json``."""
    return f"{release_id}.{dist}{SBOM_SUFFIX}"


def provenance_name(release_id: str, dist: str) -> str:
    """A dist's provenance (in-toto Statement, or its DSSE envelope when signed)."""
    return f"{release_id}.{dist}{PROVENANCE_SUFFIX}"


@dataclass(frozen=True)
class Output:
    """One dist's output directory: final (``<outdir>/<release>/<dist>``) or staging."""

    root: Path

    @property
    def build_json(self) -> Path:
        return self.root / BUILD_JSON

    @property
    def installed_json(self) -> Path:
        return self.root / INSTALLED_JSON

    @property
    def reports(self) -> Path:
        """The check reports, copied from the work tree."""
        return self.root / REPORTS

    @property
    def check_results(self) -> Path:
        """``gates/results.json``: the latest result of every check, whichever command ran it."""
        return self.reports / CHECK_RESULTS

    def rpms(self) -> list[Path]:
        return sorted(self.root.glob("*.rpm"))


@dataclass(frozen=True)
class DistLayout:
    """The work and output paths of one release and dist."""

    work_root: Path | None  # <workdir>/<release>/<dist> (None: a layout of the output tree only)
    output: Output  # <outdir>/<release>/<dist>
    staging_root: Path  # <outdir>/.staging
    dist: str
    release_id: str

    @property
    def work(self) -> Path:
        if self.work_root is None:
            raise ValueError(f"{self.output.root}: this layout has no work directory")
        return self.work_root

    @property
    def specs(self) -> Path:
        return self.work / "specs"

    def spec(self, name: str) -> Path:
        """A rendered spec (``name`` without .spec) or another file rendered beside them (a .repo file)."""
        return self.specs / (name if name.endswith(".repo") else f"{name}.spec")

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    def log(self, name: str) -> Path:
        return self.logs / name

    @property
    def tree(self) -> Path:
        return self.work / "tree"

    @property
    def debuginfo_tree(self) -> Path:
        return self.work / "debuginfo-tree"

    @property
    def src_tree(self) -> Path:
        return self.work / "src-tree"

    def trees(self) -> dict[str, Path]:
        """Where each of the three repositories is assembled, by kind (main, debuginfo, src)."""
        return {"main": self.tree, "debuginfo": self.debuginfo_tree, "src": self.src_tree}

    @property
    def reports(self) -> Path:
        """Where every check writes its report (``all`` and ``gate`` alike)."""
        return self.work / REPORTS

    @property
    def comps_xml(self) -> Path:
        return self.work / "comps.xml"

    def rpmbuild_top(self, what: str) -> Path:
        """A scratch rpmbuild tree: ``meta`` (the metapackage) or ``repo`` (the repo packages)."""
        return self.work / f"{what}-top"

    def public_key(self, repo_id: str) -> Path:
        return self.work / public_key_name(repo_id)

    @property
    def reuse_scratch(self) -> Path:
        """Where the previous release's repository packages are unpacked to take its builds from
        (``pmrepo.schedule.reuse``; removed after the build step)."""
        return self.work / "reuse"

    @property
    def sbom_name(self) -> str:
        return sbom_name(self.release_id, self.dist)

    def tree_sbom(self, tree: Path) -> Path:
        """The SBOM at a repository's root (beside rpm/ and repodata/), shipped in its repo package."""
        return tree / self.sbom_name

    def sbom(self, out: Output) -> Path:
        """The SBOM beside an output's repo packages (with their checksums)."""
        return out.root / self.sbom_name

    def provenance(self, out: Output) -> Path:
        return out.root / provenance_name(self.release_id, self.dist)

    def assembled(self) -> tuple[Path, ...]:
        """What one assembly writes in the work tree (removed before the next)."""
        return (*self.trees().values(), self.reports)

    def new_staging(self) -> Output:
        """A fresh staging output directory (outside ``<outdir>/<release>/``: never checksummed or published)."""
        self.staging_root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"{self.release_id}-{self.dist}-", dir=self.staging_root))
        path.chmod(0o755)
        return Output(path)


@dataclass(frozen=True)
class Layout:
    """Every path of one release's work tree (``workdir``) and output tree (``outdir``)."""

    release_id: str
    outdir: Path
    workdir: Path | None = None  # None: only the output tree is used (notes)

    def _work(self) -> Path:
        if self.workdir is None:
            raise ValueError("this layout has no work directory")
        return self.workdir

    # -- shared by every release of a work directory
    @property
    def cache(self) -> Path:
        return self._work() / "cache"

    @property
    def specinfo_cache(self) -> Path:
        return self.cache / "specinfo"

    @property
    def template_cache(self) -> Path:
        """Compiled spec templates (jinja2 bytecode), reused by the next render."""
        return self.cache / "templates"

    @property
    def store(self) -> Path:
        return self._work() / "store"

    @property
    def mock_state(self) -> Path:
        return mock_state_dir(self._work())

    @property
    def logs(self) -> Path:
        return run_logs(self._work())

    def log(self, name: str) -> Path:
        return self.logs / name

    @property
    def staging(self) -> Path:
        return self.outdir / STAGING

    # -- this release
    @property
    def work(self) -> Path:
        return self._work() / self.release_id

    @property
    def release_logs(self) -> Path:
        """``<workdir>/<release>/logs``: build-summary.txt (every job's log)."""
        return self.work / "logs"

    def sources(self, component: str) -> Path:
        return self.work / "sources" / component

    @property
    def upstream(self) -> Path:
        """``<workdir>/<release>/upstream``: ``pmrepo upstream``'s private directory: the nvchecker
        configuration it generates, git's logs, the last result (upstream.json, upstream.txt)."""
        return self.work / "upstream"

    @property
    def upstream_config(self) -> Path:
        """The nvchecker configuration ``pmrepo upstream`` generates (rewritten on every run)."""
        return self.upstream / "nvchecker.toml"

    @property
    def upstream_logs(self) -> Path:
        return self.upstream / "logs"

    def upstream_log(self, entry: str) -> Path:
        """git's log of one component entry's upstream (``<key>.log``)."""
        return self.upstream_logs / f"{entry}.log"

    def upstream_report(self, suffix: str) -> Path:
        """The last report: ``upstream.txt`` (the table) or ``upstream.json``."""
        return self.upstream / f"upstream.{suffix}"

    @property
    def release_out(self) -> Path:
        """``<outdir>/<release>/``: what publish uploads."""
        return self.outdir / self.release_id

    @property
    def sums_file(self) -> Path:
        return self.release_out / SUMS_NAME

    def dist(self, name: str) -> DistLayout:
        return DistLayout(
            work_root=self.work / name if self.workdir is not None else None,
            output=Output(self.release_out / name),
            staging_root=self.staging,
            dist=name,
            release_id=self.release_id,
        )
