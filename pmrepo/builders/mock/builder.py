"""The mock backend: builds every package in an el6/el7 chroot with mock.

Per build, a mock config is rendered by ``mock_config`` (the template's facts, the repository
URLs and their overrides) into the job's output directory.

When the job has BuildRequires built earlier in this run (``req.dep_rpms``),
those RPMs are hard-linked into ``<outdir>/local-repo``, indexed with
createrepo_c and added to yum.conf under an id of the job's own
(``mock_config.local_repo_id``, derived from its path as mock's ``--addrepo``
does: yum's cache is shared by every slot and run of a root) — a fresh index
per job, which mock writes into the (reused) root's yum.conf before it
installs the BuildRequires, as ``mock --chain`` does with its local_build_repo.

Build roots: one persistent root per (dist, slot) for the whole run. mock runs
as ``mock -r <cfg> --rebuild <srpm> --resultdir <dir> --uniqueext <slot>
--no-cleanup-after`` (mock otherwise cleans the root after every build that
has a result dir: ``cleanup_on_success``/``cleanup_on_failure`` default true),
plus ``--no-clean`` from the second job of a slot on, so the root is
initialised once per slot and run (the first job cleans what an earlier run
may have left). A slot is held by one job at a time, so parallel jobs never
share a root. Root names carry the run owner (a hash of ``state_dir``, the
work directory's ``mock/``), so two runs on one host never share a root, its
lock or its cache. Each job's config gets the mtime of the root's stable
config (``root_config``), so mock's root cache is not invalidated by pmrepo's
own files (mock's 15-day age, counted from the cache's creation, and the
host's other mock configs still apply). ``finish()`` (end of the run) runs
``mock --clean`` on every build root it kept, unless ``keep_roots``: the
bootstrap roots and both root caches stay for the next run (no image pull, no
network install); ``clean_all()`` (``pmrepo mock-clean``) removes every root,
bootstrap and cache the work directory's runs created. ``reuse_roots=False``
(``--clean-roots``) gives every job a freshly initialised root (nothing a
previous job installed can reach a build). Run as root under sudo, each job
directory belongs to SUDO_UID while mock runs (``mock_roots.invoker_access``):
mock creates the result directory as that user. The mock version is checked
once per run (``MIN_MOCK_VERSION``, named with the feature that needs it).

Results: binary RPMs and mock's logs (``build.log``, ``root.log``,
``state.log``, ``hw_info.log``, ``installed_pkgs.log``) land in the output
directory (``build.log`` is ``req.log``); the commands this backend ran and
mock's own output are in ``mock.log``. A failure becomes a typed ``MockError``
(``EXIT_CODES``: every exit code mock defines) carrying the tail of the log
that explains it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import BuildError, UsageError
from ...fsutil import NotRegularFileError, copy_regular, write_atomic
from ...manifest import IMAGE_RE, Dist, redact_url
from ...run import require_tool, run
from ..base import Builder, BuildOutput, BuildRequest
from . import config as mock_config
from . import roots as mock_roots
from .exits import (
    EPERM_FIX,
    EPERM_RE,
    EXIT_CODES,
    KNOWN_ARGS_SINCE,
    MIN_MOCK_REASON,
    MIN_MOCK_VERSION,
    MOCK_FEATURES,
    PLAIN_ROOT_RE,
    RESULT_LOGS,
    MockError,
    MockPrivilegeError,
    MockVersionError,
    explaining_tail,
    format_version,
    mock_error,
    parse_version,
)

__all__ = [
    "EXIT_CODES",
    "KNOWN_ARGS_SINCE",
    "MIN_MOCK_VERSION",
    "MOCK_FEATURES",
    "MockBuilder",
    "MockError",
    "explaining_tail",
    "mock_error",
    "parse_version",
]


def _take(src: Path, dest: Path, req: BuildRequest | None) -> Path:
    """A file mock left in the result dir — the invoking user's under sudo (mock writes it as SUDO_UID)
    — as root's own copy, only a regular file (``fsutil.copy_regular``), as ``Sandbox.take`` takes a
    build's results: the store holds nothing another user may change later."""
    try:
        return copy_regular(src, dest)
    except NotRegularFileError as exc:
        what = f"{req.component} ({req.dist.name}): " if req is not None else ""
        raise BuildError(f"{what}{exc} — fix: mock leaves its results as regular files; check the mock host") from None


@dataclass
class MockBuilder(Builder):
    name: str = "mock"
    remedy: str = (
        "add the component that provides it to the release, or make sure the dist's repositories "
        "(base/updates/extras/EPEL or their mirrors) carry it"
    )
    mock_cmd: str = "mock"
    arch: str = "x86_64"
    isolation: str | None = None  # None: mock's template value ("simple" for el6, mock's default otherwise)
    reuse_roots: bool = True  # one root per (dist, slot) for the run; False (--clean-roots): a fresh root per job
    keep_roots: bool = False  # leave the roots after the run (debugging); default: mock --clean at the end
    root_cache: bool | None = None  # None: mock's default; True/False: --enable/--disable-plugin=root_cache
    yum_cache: bool | None = None
    ccache: bool | None = None
    use_bootstrap_image: bool = True
    bootstrap_images: Mapping[str, str] = field(default_factory=dict)  # "" (all) or dist name -> image
    mirrors: Mapping[str, str] = field(default_factory=dict)  # "repoid" or "<dist>/repoid" -> baseurl
    repo_enabled: Mapping[str, bool] = field(default_factory=dict)  # "repoid" or "<dist>/repoid" -> on/off
    uniqueext_prefix: str = "pmrepo"
    chroot_setup_cmd: str = "install @buildsys-build"
    #: where the run owner keeps each root's stable config (``<root>.cfg``) between runs (the
    #: pipeline: ``<workdir>/mock``); None: a private directory for this builder's lifetime
    state_dir: Path | None = None
    #: the run owner's tag in root names (two work directories never share a root or its cache);
    #: None: a short hash of state_dir
    owner: str | None = None
    _slot_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _slots: dict[str, set[int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _roots: dict[tuple[str, str], Dist] = field(default_factory=dict, init=False, repr=False, compare=False)
    _config_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _private_state: bool = field(default=False, init=False, repr=False, compare=False)
    _version: tuple[int, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.owner is None:
            who = str(Path(self.state_dir).resolve()) if self.state_dir is not None else os.urandom(8).hex()
            self.owner = hashlib.sha256(who.encode()).hexdigest()[:8]
        if not re.match(r"^[A-Za-z0-9_.-]*\Z", self.owner):
            raise UsageError(f"mock owner {self.owner!r} — fix: use letters, digits and ._-")
        if self.isolation not in (None, "simple", "nspawn"):
            raise UsageError(f"mock isolation {self.isolation!r} is not supported — fix: use simple or nspawn")
        if not re.match(r"^[A-Za-z0-9_.-]+\Z", self.uniqueext_prefix):
            raise UsageError(f"mock uniqueext_prefix {self.uniqueext_prefix!r} — fix: use letters, digits and ._-")
        for key, image in self.bootstrap_images.items():
            if not IMAGE_RE.match(image):
                raise UsageError(
                    f"mock bootstrap_image{'.' + key if key else ''}={image!r}: not an image "
                    "reference — fix: e.g. quay.io/centos/centos:7"
                )

    # -- backend interface -------------------------------------------------

    def check_available(self) -> None:
        super().check_available()  # SRPMs, spec parses and rpmlint: rpmbuild and the build user
        require_tool(
            self.mock_cmd,
            hint="the mock backend needs a Fedora/RHEL build host with mock installed and "
            "the user in the 'mock' group (docs/mock-build-host.md), or use --backend rpmbuild",
        )
        require_tool("createrepo_c")
        self.check_version()

    def check_version(self) -> tuple[int, ...]:
        """``mock --version``, once per builder (= per run): refuse a mock older than MIN_MOCK_VERSION."""
        with self._slot_lock:
            if self._version is not None:
                return self._version
            res = run([self.mock_cmd, "--version"], check=False)
            text = res.output.strip()
            version = parse_version(text)
            need = format_version(MIN_MOCK_VERSION)
            if res.returncode != 0 and PLAIN_ROOT_RE.search(text):
                raise MockPrivilegeError(
                    f"`{self.mock_cmd} --version` refused to run: mock will not run from the "
                    f"plain root account (exit {res.returncode}) — fix: run pmrepo as a user "
                    "in the 'mock' group (usermod -a -G mock USER), or as root through sudo "
                    "(mock needs SUDO_UID to drop privileges)",
                    returncode=res.returncode,
                )
            if res.returncode != 0 and EPERM_RE.search(text):
                raise MockPrivilegeError(
                    f"`{self.mock_cmd} --version`: mock was run without its setuid wrapper "
                    f"(exit {res.returncode}) — fix: {EPERM_FIX}",
                    returncode=res.returncode,
                )
            if res.returncode != 0 or version is None:
                last = text.splitlines()[-1] if text else "no output"
                raise MockVersionError(
                    f"`{self.mock_cmd} --version` did not give a version (exit {res.returncode}: "
                    f"{last}) — fix: install a released mock >= {need}",
                    returncode=res.returncode,
                )
            if version < MIN_MOCK_VERSION:
                raise MockVersionError(
                    f"mock {format_version(version)} is too old: pmrepo needs mock >= {need} for "
                    f"{MIN_MOCK_REASON} — fix: install mock >= {need} (e.g. from EPEL/Fedora)"
                )
            self._version = version
            return version

    def check_dists(self, dists: Iterable[Dist], manifest_path: Path | None = None) -> None:
        """What ``build`` would refuse about the dists' repositories, refused up front (``check``
        and ``build`` share it): every repository URL and id (``repos_for``), and no
        ``PMREPO_MIRROR_*`` variable that names no repository of these dists (a misspelt mirror
        would otherwise be ignored and the build would reach the public mirror)."""
        dists = list(dists)
        known: set[str] = set()
        ids: set[str] = set()
        for dist in dists:
            try:
                repos = self.repos_for(dist)
            except UsageError as exc:
                if manifest_path is None or not str(exc).startswith("manifest ["):
                    raise
                raise UsageError(f"{manifest_path}: {str(exc)[len('manifest ') :]}") from None
            for repo in repos:
                ids.add(str(repo["id"]))
                known.update(mock_config.mirror_env_names(dist.name, str(repo["id"])))
        for var in sorted(os.environ):
            if var.startswith("PMREPO_MIRROR_") and var not in known:
                raise UsageError(
                    f"environment {var}: names no repository of dists "
                    f"{', '.join(d.name for d in dists)} — fix: use PMREPO_MIRROR_<REPOID> or "
                    f"PMREPO_MIRROR_<DIST>_<REPOID> with a repo id of {', '.join(sorted(ids))}"
                )

    def can_provide(self, capability: str) -> bool:
        """Anything outside the release is looked up by yum in the chroot's repositories."""
        return True

    def default_jobs(self, cores: int) -> int:
        """Half the cores: each mock job installs a whole build root (yum, CPU and disk bound)
        and then runs ``make %{?_smp_mflags}``, which already uses every core; and parallel
        jobs of one root serialise on mock's root/yum cache locks anyway. More jobs than
        cores/2 mostly wait on those locks and thrash the disk."""
        return max(1, cores // 2)

    def config_id(self, dist: Dist) -> str:
        """The rendered config without the per-build parts (the local repository's
        path, SOURCE_DATE_EPOCH): those are covered by the dependency keys and
        the spec. A changed mirror, macro or isolation changes the build key,
        and so does root reuse (packages an earlier job installed stay in the root)."""
        return self.render_config(dist, owned=False) + f"\n# reuse_roots={self.reuse_roots}\n"

    def root_name(self, dist: Dist, owned: bool = True) -> str:
        """``pmrepo-<dist>-<arch>-<owner>``: the run owner (work directory) is part of the root name,
        so mock's basedir entries, its root_cache/yum_cache directories and its buildroot.lock are
        per owner: two runs on one host never share or clean each other's roots, and the root cache
        always holds a root installed from this owner's repositories."""
        base = f"pmrepo-{dist.name}-{self.arch}"
        return f"{base}-{self.owner}" if owned and self.owner else base

    # -- config (mock_config) -----------------------------------------------

    def isolation_for(self, dist: Dist) -> str | None:
        return mock_config.isolation_for(dist, self.isolation)

    def bootstrap_image_for(self, dist: Dist) -> str:
        return mock_config.bootstrap_image_for(dist, self.bootstrap_images)

    def build_repositories(self, dist: Dist) -> dict[str, str] | None:
        """The enabled repositories of the dist's roots (``repos_for``: defaults, manifest, mirrors,
        environment), their URLs without credentials; the jobs' own local repositories are not listed."""
        return {str(r["id"]): redact_url(str(r["baseurl"])) for r in self.repos_for(dist) if r["enabled"]}

    def repos_for(self, dist: Dist) -> list[dict[str, object]]:
        """The dist's repositories (``mock_config.repos_for``) with this backend's mirrors and switches."""
        return mock_config.repos_for(dist, self.mirrors, self.repo_enabled)

    def render_config(
        self,
        dist: Dist,
        local_repo: Path | None = None,
        source_date_epoch: int | None = None,
        owned: bool = True,
        local_id: str = mock_config.LOCAL_REPO_PREFIX,
    ) -> str:
        """mock's config for ``dist``; with ``local_repo``, a section ``[local_id]`` for it;
        ``owned=False``: the root name without the owner (build keys do not depend on the work dir)."""
        cfg = mock_config.ConfigInput(
            root=self.root_name(dist, owned),
            arch=self.arch,
            chroot_setup_cmd=self.chroot_setup_cmd,
            isolation=self.isolation_for(dist),
            use_bootstrap_image=self.use_bootstrap_image,
            bootstrap_image=self.bootstrap_image_for(dist),
            repos=self.repos_for(dist),
        )
        return mock_config.render_config(dist, cfg, local_repo, source_date_epoch, local_id)

    # -- build roots ----------------------------------------------------------

    @contextmanager
    def _slot(self, root: str) -> Iterator[str]:
        """A --uniqueext no concurrent job of this builder holds for ``root``."""
        with self._slot_lock:
            used = self._slots.setdefault(root, set())
            n = 0
            while n in used:
                n += 1
            used.add(n)
        try:
            yield f"{self.uniqueext_prefix}{n}"
        finally:
            with self._slot_lock:
                used.discard(n)

    def command(
        self, cfg: Path, srpm: Path, resultdir: Path, uniqueext: str, dist: Dist, initialised: bool = False
    ) -> list[str]:
        """mock's command line; ``initialised``: this run already set up the root of this slot."""
        argv = [
            self.mock_cmd,
            "-r",
            str(cfg),
            "--rebuild",
            str(srpm),
            "--resultdir",
            str(resultdir),
            "--uniqueext",
            uniqueext,
        ]
        isolation = self.isolation_for(dist)
        if isolation:
            argv.append(f"--isolation={isolation}")
        if self.reuse_roots:
            if initialised:
                argv.append("--no-clean")
            argv.append("--no-cleanup-after")
        for plugin, enabled in (
            ("root_cache", self.root_cache),
            ("yum_cache", self.yum_cache),
            ("ccache", self.ccache),
        ):
            if enabled is not None:
                argv.append(f"--{'enable' if enabled else 'disable'}-plugin={plugin}")
        return argv

    def clean_command(self, cfg: Path, uniqueext: str, dist: Dist) -> list[str]:
        """``mock --clean``: the build root only; mock keeps the bootstrap root ``<root>-bootstrap-<ext>``
        and both root caches (mockbuild/backend.py ``clean``), which the next run starts from."""
        argv = [self.mock_cmd, "-r", str(cfg), "--uniqueext", uniqueext]
        isolation = self.isolation_for(dist)
        if isolation:
            argv.append(f"--isolation={isolation}")
        return [*argv, "--clean"]

    def root_config(self, dist: Dist) -> Path:
        """The root's stable config ``<state_dir>/<root>.cfg``: the config without the per-job
        parts (local repository, SOURCE_DATE_EPOCH), rewritten only when its bytes change, so its
        mtime is when the root's content last changed. mock's root_cache plugin deletes
        ``cache.tar.gz`` when any config path is newer than it (root_cache.py, the config_paths
        mtime loop): each job's config gets this mtime (``build_binary``), so pmrepo's files never
        invalidate the cache between jobs and runs; mock's other rules (the 15 days since the
        cache was made, the host's site-defaults.cfg and the user's mock configs) still hold."""
        text = self.render_config(dist).encode()
        with self._config_lock:
            if self.state_dir is None:  # private (0700) and this builder's own
                self.state_dir = Path(tempfile.mkdtemp(prefix="pmrepo-mock-state-"))
                self._private_state = True
                weakref.finalize(self, shutil.rmtree, self.state_dir, True)  # also without finish()
            path = Path(self.state_dir) / f"{self.root_name(dist)}.cfg"
            try:
                same = path.read_bytes() == text
            except OSError:
                same = False
            if not same:
                write_atomic(path, text.decode())
        return path

    def finish(self, log_dir: Path) -> None:
        """End of the run (unless keep_roots): ``mock --clean`` every build root this run left. The
        bootstrap roots and the caches stay: the next run pulls no image and installs nothing from
        the network (``clean_all`` removes them). A failure to clean is logged, never fatal: the
        builds are done. A private state dir (no owner's work dir) has no next run: it is all removed."""
        if self.keep_roots:
            return
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / "mock-clean.log"
        with self._slot_lock:
            kept = sorted(self._roots.items())
        for (root, ext), dist in kept:
            cfg = self.root_config(dist)  # the same bytes and mtime: the root cache stays valid
            run(self.clean_command(cfg, ext, dist), log_file=log, check=False)
            with self._slot_lock:
                self._roots.pop((root, ext), None)
        if self._private_state and self.state_dir is not None:
            self.clean_all(log_dir)  # nobody can reuse what this builder's private owner made
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir, self._private_state = None, False

    def clean_all(self, log_dir: Path, say: Callable[[str], None] = lambda _: None) -> list[mock_roots.CleanedRoot]:
        """Every build root, bootstrap root and cache of this owner's roots (``mock --scrub=all`` per
        slot found in mock's basedir), for each stable config in the state dir; see ``mock_roots``."""
        log_dir.mkdir(parents=True, exist_ok=True)
        if self.state_dir is None:
            return []
        return mock_roots.clean_roots(
            Path(self.state_dir), self.mock_cmd, self.uniqueext_prefix, log_dir / "mock-clean.log", say
        )

    # -- building ------------------------------------------------------------

    def local_repo(self, req: BuildRequest, log: Path) -> Path:
        """Hard-link (or copy) ``req.dep_rpms`` into a yum repository under the output dir."""
        repo = req.outdir.resolve() / "local-repo"
        repo.mkdir(parents=True, exist_ok=True)
        for rpm in req.dep_rpms:
            target = repo / rpm.name
            if target.exists():
                continue
            try:
                os.link(rpm, target)
            except OSError:
                shutil.copy2(rpm, target)
        run(
            ["createrepo_c", "--general-compress-type=gz", "--database", "--checksum", "sha256", str(repo)],
            log_file=log,
            error=BuildError,
        )
        return repo

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        dist = req.dist
        outdir = req.outdir.resolve()
        mock_log = outdir / "mock.log"
        self.check_available()
        repo = self.local_repo(req, mock_log) if req.dep_rpms else None
        cfg = outdir / "mock.cfg"  # mock -r takes a path only when it ends in .cfg
        stable = self.root_config(dist).stat()
        local_id = mock_config.local_repo_id(req.component, repo) if repo else mock_config.LOCAL_REPO_PREFIX
        write_atomic(cfg, self.render_config(dist, repo, req.source_date_epoch, local_id=local_id))
        os.utime(cfg, ns=(stable.st_atime_ns, stable.st_mtime_ns))  # see root_config
        resultdir = outdir / "mock-result"
        root = self.root_name(dist)
        with self._slot(root) as ext:
            with self._slot_lock:
                initialised = (root, ext) in self._roots
            argv = self.command(cfg, srpm.resolve(), resultdir, ext, dist, initialised)
            with mock_roots.invoker_access(outdir):  # mock makes resultdir as SUDO_UID under sudo
                res = run(argv, log_file=mock_log, check=False)
            with self._slot_lock:
                if self.reuse_roots:
                    # mock kept the root (-N), whether the build succeeded or not
                    self._roots[(root, ext)] = dist
        logs = self._collect_logs(resultdir, outdir, res.returncode)
        if res.returncode != 0:
            shutil.rmtree(resultdir, ignore_errors=True)  # its logs were moved out; partial RPMs are no result
            raise mock_error(req, res.returncode, outdir)
        rpms: list[Path] = []
        for rpm in sorted(resultdir.glob("*.rpm")):
            if rpm.name.endswith(".src.rpm"):
                continue  # the SRPM this job built (req's) is the one kept
            rpms.append(_take(rpm, outdir / rpm.name, req))
        if not rpms:
            raise BuildError(
                f"{req.component} ({dist.name}): mock exited 0 but left no binary RPMs in {resultdir}", log=req.log
            )
        shutil.rmtree(resultdir)
        return BuildOutput(srpm=srpm, rpms=tuple(rpms), logs=tuple(logs))

    @staticmethod
    def _collect_logs(resultdir: Path, outdir: Path, returncode: int) -> list[Path]:
        """Move mock's logs next to the RPMs; make sure ``build.log`` exists."""
        found: list[Path] = []
        for name in RESULT_LOGS:
            src = resultdir / name
            if src.is_file() and not src.is_symlink():
                found.append(_take(src, outdir / name, None))
        build_log = outdir / "build.log"
        if not build_log.exists():
            build_log.write_text(
                f"mock exited {returncode} before the package build started; "
                "see root.log and mock.log in this directory.\n"
            )
            found.insert(0, build_log)
        found.append(outdir / "mock.log")
        return found
