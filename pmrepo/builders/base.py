"""What every backend shares: the request/result types and the SRPM step."""

from __future__ import annotations

import abc
import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
from ..errors import BuildError
from ..manifest import Dist
from ..render.specs import define_args
from ..run import require_tool, run
from ..sandbox import Sandbox, build_user

MACROS_FILE = Path(__file__).with_name("pmrepo.macros")
#: Where every rpmbuild tree (_topdir) lives while it builds: a path that depends only on the
#: dist and the component, never on the work directory, so the paths a build records (the
#: expanded spec in an SRPM, debug info, __FILE__) are the same for every checkout and engineer.
BUILD_TREES = Path(os.environ.get("PMREPO_BUILD_TREES") or f"/var/tmp/pmrepo-build-{os.getuid()}")


def private_dir(path: Path) -> None:
    """``path`` is a directory of this user's, not a symlink, that nobody else can
    write to: created with mode 0700 if missing, refused in one line otherwise."""
    problem = fsutil.private_dir(path, 0o022, parents=False)
    if problem and problem.startswith(fsutil.CANNOT_CREATE):
        raise BuildError(
            f"{path}: the build tree directory {problem} — fix: set PMREPO_BUILD_TREES to a directory of your own"
        )
    if problem:
        raise BuildError(
            f"{path}: the build tree directory {problem}, so another user could replace what builds "
            "there — fix: remove it, or set PMREPO_BUILD_TREES to a directory of your own (mode 0700)"
        )


@contextlib.contextmanager
def fixed_topdir(dist: str, component: str, kind: str) -> Iterator[Path]:
    """An empty rpmbuild ``_topdir`` at ``BUILD_TREES/<dist>/<component>/<kind>``.

    The path is shared by every run on this host, so it is held under an
    exclusive lock (a second run building the same job waits) and removed
    afterwards; whatever a killed run left there is removed first."""
    for name in (dist, component, kind):
        if not name or "/" in name or name.startswith("."):
            raise BuildError(f"internal: '{name}' is not a plain path component")
    top = BUILD_TREES
    top.parent.mkdir(parents=True, exist_ok=True)
    for d in (top, top / dist, top / dist / component):
        private_dir(d)
    path = top / dist / component / kind
    lock_path = path.parent / f".{kind}.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise BuildError(
            f"{lock_path}: cannot open the build lock ({exc.strerror}; a symlink is never followed) — fix: remove it"
        ) from None
    with os.fdopen(fd, "r+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def rpm_macro_defines(dist: Dist, source_date_epoch: int) -> dict[str, str]:
    """Macros for every package build: the dist's own, plus explicit payload
    and digest choices that el6's rpm 4.8 reads (never the host's default)."""
    defines = dist.rpm_defines()
    defines.update(
        {
            "_binary_payload": "w9.gzdio",
            "_source_payload": "w9.gzdio",
            "_binary_filedigest_algorithm": "8",  # sha256: readable by rpm 4.8
            "_source_filedigest_algorithm": "8",
            "_buildhost": "pmrepo.build",
            "use_source_date_epoch_as_buildtime": "1",
            "clamp_mtime_to_source_date_epoch": "1",
            "_use_weak_usergroup_deps": "1",
            "_rpmformat": "4",
        }
    )
    return defines


@dataclass(frozen=True)
class BuildRequest:
    component: str
    dist: Dist
    spec: Path  # rendered spec
    sources: Path  # directory holding the sources and patches
    dep_rpms: tuple[Path, ...]  # RPMs from this run that the build may need
    outdir: Path  # results go here (a temporary directory the caller renames)
    source_date_epoch: int

    @property
    def log(self) -> Path:
        return self.outdir / "build.log"


@dataclass(frozen=True)
class BuildOutput:
    srpm: Path
    rpms: tuple[Path, ...]
    logs: tuple[Path, ...]


class Builder(abc.ABC):
    name: str = "base"
    #: what to tell a user whose BuildRequires this backend cannot satisfy
    remedy: str = "add the component that provides it to the release"

    def check_available(self) -> None:
        """Raise ToolMissingError when the backend cannot run on this host; BuildError when
        pmrepo is root and has no build user: every backend makes SRPMs, parses specs and lints
        in the sandbox, as that user (``sandbox.build_user``)."""
        require_tool("rpmbuild")
        build_user()  # root without a build user: refused in preflight, before anything is built

    def check_dists(self, dists: Iterable[Dist], manifest_path: Path | None = None) -> None:  # noqa: B027 - optional hook
        """Raise what a build would refuse about these dists' backend settings (``check`` and
        ``build`` both call it): by default nothing."""

    def build_repositories(self, dist: Dist) -> dict[str, str] | None:
        """The repositories the dist's build roots install from, {repo id: URL with no credentials}
        (the provenance records them); None: the builds use the host's installed packages."""
        return None

    def can_provide(self, capability: str) -> bool:
        """Whether a BuildRequires no component of the release provides can be
        met from outside (the host, or the build root's repositories)."""
        return True

    def lacks(self, capability: str) -> bool:
        """Whether this host lacks what a build with this backend needs of it
        (for ``plan``/``check``): by default, what it cannot provide."""
        return not self.can_provide(capability)

    @property
    def shippable(self) -> bool:
        """Whether what this backend builds may be published."""
        return True

    def unshippable_reason(self) -> str:
        return ""

    @abc.abstractmethod
    def config_id(self, dist: Dist) -> str:
        """Everything about the backend that changes its output, for build keys."""

    @abc.abstractmethod
    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        """Build binary RPMs from ``srpm`` into ``req.outdir``."""

    def default_jobs(self, cores: int) -> int:
        return max(1, cores)

    def finish(self, log_dir: Path) -> None:  # noqa: B027 - optional hook
        """End of a run's builds (success or not): release what the backend kept
        between jobs (mock: its build roots). Logs go under ``log_dir``."""

    def build(self, req: BuildRequest) -> BuildOutput:
        srpm = self.build_srpm(req)
        return self.build_binary(req, srpm)

    def build_srpm(self, req: BuildRequest) -> Path:
        """rpmbuild -bs with the dist's macros: SRPMs are arch-independent text. Parsing the
        spec runs its ``%(…)`` macros: as the build user, in its namespaces (sandbox.py)."""
        # the SRPM records the expanded spec, with _topdir in it: a fixed path (see fixed_topdir)
        with fixed_topdir(req.dist.name, req.component, "srpm") as top:
            box = Sandbox.for_tree(top)
            (top / "SOURCES").mkdir(parents=True, exist_ok=True)
            (top / "SPECS").mkdir()
            for f in req.sources.iterdir():
                shutil.copyfile(f, top / "SOURCES" / f.name)
                os.utime(top / "SOURCES" / f.name, (req.source_date_epoch, req.source_date_epoch))
            spec = top / "SPECS" / req.spec.name
            shutil.copyfile(req.spec, spec)
            box.hand_over()
            defines = rpm_macro_defines(req.dist, req.source_date_epoch)
            defines["_topdir"] = str(top)
            argv, env = box.command(
                ["rpmbuild", "-bs", "--nodeps", *define_args(defines), str(spec)],
                {"SOURCE_DATE_EPOCH": str(req.source_date_epoch)},
            )
            run(argv, log_file=req.outdir / "srpm.log", error=BuildError, env=env)
            found = box.results(top / "SRPMS", ".src.rpm")
            if len(found) != 1:
                raise BuildError(
                    f"{req.component} ({req.dist.name}): expected one SRPM, found {len(found)}",
                    log=req.outdir / "srpm.log",
                )
            srpm = box.take(found[0], req.outdir / found[0].name)
        return srpm
