"""The mock backend: builds every package in a clean el6/el7 chroot.

Per build, a mock config is rendered from ``pmrepo/templates/builders/mock.cfg.j2`` into the job's
output directory: mock's own format, yum with ``reposdir=/dev/null`` and
base/updates/extras from the CentOS vault plus EPEL from its archive. Repo
URLs, from lowest to highest precedence:

1. built-in defaults (``DEFAULT_REPOS``; vault 6.10 / 7.9.2009, EPEL archive),
2. the manifest's ``[dists.<d>] base_repos`` (repoid -> baseurl; new ids add repos),
3. the backend's ``mirrors`` option (``repoid`` or ``<dist>/<repoid>`` -> baseurl),
4. the environment: ``PMREPO_MIRROR_<REPOID>``, then ``PMREPO_MIRROR_<DIST>_<REPOID>``
   (uppercased, every non-alphanumeric character -> ``_``), for an internal mirror.

When the job has BuildRequires built earlier in this run (``req.dep_rpms``),
those RPMs are hard-linked into ``<outdir>/local-repo``, indexed with
createrepo_c and added to yum.conf as ``[pmrepo-local]``, so mock installs
them into the chroot like any other package.

mock runs as ``mock -r <cfg> --rebuild <srpm> --resultdir <dir> --uniqueext <slot>``.
The unique extension is a slot number per root that no concurrent job of this
backend holds, so parallel jobs never share a build root, and a later job may
reuse a finished one's (``--no-clean``). Results: binary RPMs and mock's
``build.log``, ``root.log``, ``state.log`` land in the output directory
(``build.log`` is ``req.log``); the commands this backend ran and mock's own
output are in ``mock.log``. A failure becomes a typed ``MockError`` carrying
the tail of the log that explains it (build.log for a build error, root.log
for a package-manager error, mock's output for a lock or argument error).
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from ..errors import (BuildError, MockArgumentError, MockBootstrapError, MockBuildError, MockError,
                      MockLockedError, MockPackageManagerError, MockResultDirError, UsageError)
from ..manifest import Dist
from ..fsutil import write_atomic
from ..render import render_template
from ..run import TAIL_LINES, require_tool, run
from .base import Builder, BuildOutput, BuildRequest, rpm_macro_defines

TEMPLATE = "builders/mock.cfg.j2"  # in pmrepo/templates/

VAULT = "http://vault.centos.org"
EPEL_ARCHIVE = "https://archives.fedoraproject.org/pub/archive/epel"
GPG_KEYS = "file:///usr/share/distribution-gpg-keys"  # shipped by distribution-gpg-keys (a mock dependency)

#: The last minor release of each major, as the CentOS vault names it.
VAULT_RELEASE = {6: "6.10", 7: "7.9.2009"}


@dataclass(frozen=True)
class RepoDefault:
    repoid: str
    name: str
    path: str  # baseurl = base + path, formatted with vault release / major
    base: str
    gpgkey: str


def _default_repos(rhel: int) -> list[RepoDefault]:
    vault = VAULT_RELEASE[rhel]
    centos_key = f"{GPG_KEYS}/centos/RPM-GPG-KEY-CentOS-{rhel}"
    epel_key = f"{GPG_KEYS}/epel/RPM-GPG-KEY-EPEL-{rhel}"
    return [
        RepoDefault("base", f"CentOS-{vault} - Base", f"/{vault}/os/$basearch/", VAULT, centos_key),
        RepoDefault("updates", f"CentOS-{vault} - Updates", f"/{vault}/updates/$basearch/", VAULT, centos_key),
        RepoDefault("extras", f"CentOS-{vault} - Extras", f"/{vault}/extras/$basearch/", VAULT, centos_key),
        RepoDefault("epel", f"EPEL {rhel} (archive)", f"/{rhel}/$basearch/", EPEL_ARCHIVE, epel_key),
    ]


def mirror_env_names(dist: str, repoid: str) -> tuple[str, str]:
    """The environment variables that override ``repoid``'s URL: generic, then per dist."""
    def norm(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", s).upper()
    return f"PMREPO_MIRROR_{norm(repoid)}", f"PMREPO_MIRROR_{norm(dist)}_{norm(repoid)}"


# A baseurl goes into yum.conf inside a Python triple-quoted string that mock
# also renders with jinja2: no whitespace, quotes, backslashes or braces.
URL_RE = re.compile(r"^(https?|ftp|file)://[^\s\"'\\{}]+$")
REPOID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")

#: mock's exit codes: (error class, what it means, logs that explain it (first present wins), fix)
EXIT_CODES: dict[int, tuple[type[MockError], str, tuple[str, ...], str]] = {
    5: (MockArgumentError, "rejected its arguments or configuration", ("mock.log",),
        "check mock.log; an old mock may lack --isolation/--uniqueext (needs mock >= 2)"),
    10: (MockBuildError, "build failed", ("build.log", "mock.log"),
         "fix the spec or sources; the package's own build failed in the chroot"),
    30: (MockPackageManagerError, "package manager failed", ("root.log", "mock.log"),
         "a BuildRequires is missing from the dist's repositories or a mirror is unreachable "
         "(set PMREPO_MIRROR_<REPOID> for an internal mirror)"),
    50: (MockError, "mode error", ("mock.log",), "check mock.log"),
    60: (MockLockedError, "build root is locked by another process", ("mock.log", "root.log"),
         "another mock run uses this root and unique extension; wait for it, or set a different uniqueext_prefix"),
    70: (MockResultDirError, "could not use the result directory", ("mock.log",),
         "make the work directory writable for the mock group"),
    90: (MockBootstrapError, "bootstrap chroot failed", ("root.log", "mock.log"),
         "check the bootstrap image / mirrors, or set use_bootstrap_image=False"),
}
RESULT_LOGS = ("build.log", "root.log", "state.log", "hw_info.log", "installed_pkgs.log")


@dataclass
class MockBuilder(Builder):
    name: str = "mock"
    remedy: str = ("add the component that provides it to the release, or make sure the dist's repositories "
                   "(base/updates/extras/EPEL or their mirrors) carry it")
    mock_cmd: str = "mock"
    arch: str = "x86_64"
    isolation: str | None = None  # None: "simple" for el6 (no nspawn there), mock's default otherwise
    no_clean: bool = False
    root_cache: bool | None = None  # None: mock's default; True/False: --enable/--disable-plugin=root_cache
    yum_cache: bool | None = None
    ccache: bool | None = None
    use_bootstrap_image: bool = True
    mirrors: Mapping[str, str] = field(default_factory=dict)  # "repoid" or "<dist>/repoid" -> baseurl
    uniqueext_prefix: str = "pmrepo"
    chroot_setup_cmd: str = "install @buildsys-build"
    _slot_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _slots: dict[str, set[int]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.isolation not in (None, "simple", "nspawn"):
            raise UsageError(f"mock isolation {self.isolation!r} is not supported — fix: use simple or nspawn")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.uniqueext_prefix):
            raise UsageError(f"mock uniqueext_prefix {self.uniqueext_prefix!r} — fix: use letters, digits and ._-")

    # -- backend interface -------------------------------------------------

    def check_available(self) -> None:
        require_tool(self.mock_cmd, hint="the mock backend needs a Fedora/RHEL build host with mock installed and "
                     "the user in the 'mock' group (README: mock build host), or use --backend rpmbuild")
        require_tool("createrepo_c")

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
        and so does --no-clean (a build root reused from an earlier build)."""
        return self.render_config(dist) + f"\n# no_clean={self.no_clean}\n"

    def isolation_for(self, dist: Dist) -> str | None:
        if self.isolation:
            return self.isolation
        return "simple" if dist.rhel <= 6 else None

    def root_name(self, dist: Dist) -> str:
        return f"pmrepo-{dist.name}-{self.arch}"

    # -- config --------------------------------------------------------------

    def repos_for(self, dist: Dist) -> list[dict[str, str]]:
        """The dist's repositories: id, name, baseurl, gpgkey ('' = no check), origin."""
        repos: dict[str, dict[str, str]] = {}
        if dist.rhel in VAULT_RELEASE:
            for d in _default_repos(dist.rhel):
                repos[d.repoid] = {"id": d.repoid, "name": d.name, "baseurl": d.base + d.path,
                                   "gpgkey": d.gpgkey, "origin": "built-in default"}
        for repoid, url in dist.base_repos.items():
            self._check_repoid(repoid, f"manifest [dists.{dist.name}] base_repos")
            self._set_url(repos, repoid, url, f"manifest [dists.{dist.name}] base_repos.{repoid}")
        for key, url in self.mirrors.items():
            target, _, repoid = key.rpartition("/")
            self._check_repoid(repoid, f"mock backend option mirrors[{key!r}]")
            if target and not REPOID_RE.match(target):
                raise UsageError(f"mock backend option mirrors[{key!r}]: {target!r} is not a dist name — "
                                 "fix: use \"repoid\" or \"<dist>/repoid\"")
            if target and target != dist.name:
                continue
            self._set_url(repos, repoid, url, f"mock backend option mirrors[{key!r}]")
        for repoid in list(repos):
            for var in mirror_env_names(dist.name, repoid):
                if os.environ.get(var):
                    self._set_url(repos, repoid, os.environ[var], f"environment {var}")
        if not repos:
            raise UsageError(f"dist {dist.name} (rhel {dist.rhel}): no built-in mirrors for this release — fix: "
                             f"list its repositories in the manifest: [dists.{dist.name}] base_repos = {{base = \"http://…\"}}")
        return list(repos.values())

    @staticmethod
    def _check_repoid(repoid: str, where: str) -> None:
        if not REPOID_RE.match(repoid) or repoid == "main" or repoid == "pmrepo-local":
            raise UsageError(f"{where}: invalid repository id {repoid!r} — fix: use letters, digits and ._:- "
                             "(not 'main' or 'pmrepo-local')")

    @staticmethod
    def _set_url(repos: dict[str, dict[str, str]], repoid: str, url: str, where: str) -> None:
        if not URL_RE.match(url):
            raise UsageError(f"{where}: {url!r} is not a usable baseurl — fix: give an http(s)://, ftp:// or file:// "
                             "URL without spaces, quotes, backslashes or braces ($releasever/$basearch are fine)")
        if repoid in repos:
            repos[repoid]["baseurl"] = url
            repos[repoid]["origin"] = f"{where} (overrides {repos[repoid]['origin']})"
        else:
            repos[repoid] = {"id": repoid, "name": f"{repoid} ({where})", "baseurl": url,
                             "gpgkey": "", "origin": where}

    def render_config(self, dist: Dist, local_repo: Path | None = None,
                      source_date_epoch: int | None = None) -> str:
        """mock's config for ``dist``; with ``local_repo``, a [pmrepo-local] section for it."""
        env = {"SOURCE_DATE_EPOCH": str(source_date_epoch)} if source_date_epoch is not None else {}
        context = {
            "py": repr,
            "root": self.root_name(dist),
            "target_arch": self.arch,
            "legal_host_arches": (self.arch,),
            "dist": dist.name,
            "releasever": str(dist.rhel),
            "chroot_setup_cmd": self.chroot_setup_cmd,
            "package_manager": "yum",
            "isolation": self.isolation_for(dist),
            "use_bootstrap_image": self.use_bootstrap_image,
            "bootstrap_image": dist.image,
            "macros": rpm_macro_defines(dist, source_date_epoch or 0),
            "environment": env,
            "repos": self.repos_for(dist),
            "local_repo": local_repo.resolve().as_uri() if local_repo is not None else None,
        }
        return render_template(TEMPLATE, context, what=f"mock config ({dist.name})")

    # -- building ------------------------------------------------------------

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

    def command(self, cfg: Path, srpm: Path, resultdir: Path, uniqueext: str, dist: Dist) -> list[str]:
        argv = [self.mock_cmd, "-r", str(cfg), "--rebuild", str(srpm), "--resultdir", str(resultdir),
                "--uniqueext", uniqueext]
        isolation = self.isolation_for(dist)
        if isolation:
            argv.append(f"--isolation={isolation}")
        if self.no_clean:
            argv.append("--no-clean")
        for plugin, enabled in (("root_cache", self.root_cache), ("yum_cache", self.yum_cache),
                                ("ccache", self.ccache)):
            if enabled is not None:
                argv.append(f"--{'enable' if enabled else 'disable'}-plugin={plugin}")
        return argv

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
        run(["createrepo_c", "--general-compress-type=gz", "--database", "--checksum", "sha256", str(repo)],
            log_file=log, error=BuildError)
        return repo

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        dist = req.dist
        outdir = req.outdir.resolve()
        mock_log = outdir / "mock.log"
        self.check_available()
        repo = self.local_repo(req, mock_log) if req.dep_rpms else None
        cfg = outdir / "mock.cfg"  # mock -r takes a path only when it ends in .cfg
        write_atomic(cfg, self.render_config(dist, repo, req.source_date_epoch))
        resultdir = outdir / "mock-result"
        root = self.root_name(dist)
        with self._slot(root) as ext:
            argv = self.command(cfg, srpm.resolve(), resultdir, ext, dist)
            res = run(argv, log_file=mock_log, check=False)
        logs = self._collect_logs(resultdir, outdir, res.returncode)
        if res.returncode != 0:
            shutil.rmtree(resultdir, ignore_errors=True)  # its logs were moved out; partial RPMs are no result
            raise self._error(req, res.returncode, outdir)
        rpms: list[Path] = []
        for rpm in sorted(resultdir.glob("*.rpm")):
            if rpm.name.endswith(".src.rpm"):
                continue  # the SRPM this job built (req's) is the one kept
            target = outdir / rpm.name
            rpm.replace(target)
            rpms.append(target)
        if not rpms:
            raise BuildError(f"{req.component} ({dist.name}): mock exited 0 but left no binary RPMs in {resultdir}",
                             log=req.log)
        shutil.rmtree(resultdir)
        return BuildOutput(srpm=srpm, rpms=tuple(rpms), logs=tuple(logs))

    @staticmethod
    def _collect_logs(resultdir: Path, outdir: Path, returncode: int) -> list[Path]:
        """Move mock's logs next to the RPMs; make sure ``build.log`` exists."""
        found: list[Path] = []
        for name in RESULT_LOGS:
            src = resultdir / name
            if src.is_file():
                src.replace(outdir / name)
                found.append(outdir / name)
        build_log = outdir / "build.log"
        if not build_log.exists():
            build_log.write_text(f"mock exited {returncode} before the package build started; "
                                 "see root.log and mock.log in this directory.\n")
            found.insert(0, build_log)
        found.append(outdir / "mock.log")
        return found

    @staticmethod
    def _error(req: BuildRequest, code: int, outdir: Path) -> MockError:
        cls, meaning, candidates, fix = EXIT_CODES.get(
            code, (MockError, "failed", ("mock.log", "state.log"), "check mock.log and state.log"))
        log = outdir / candidates[-1]
        for name in candidates:
            path = outdir / name
            if path.is_file() and path.read_text(errors="replace").strip():
                log = path
                break
        tail, last = explaining_tail(log)
        return cls(f"{req.component} ({req.dist.name}): mock {meaning} (exit {code}); {log.name}: {last} — fix: {fix}",
                   log=log, tail=tail, returncode=code)


ERROR_LINE = re.compile(r"(?i)error|bad exit status|fail|not found|no package")


def explaining_tail(log: Path, lines: int = TAIL_LINES) -> tuple[str, str]:
    """The end of ``log`` that explains a failure, and its most telling line.

    mock appends its own epilogue to build.log/root.log after the command that
    failed ("Child return code was: N", then an exception and traceback): the
    tail is cut there so it shows rpmbuild's or yum's own last words."""
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return "", "no output"
    text = [ln for ln in text if not ln.startswith(("$ ", "# exit:", "# cwd:"))]  # run()'s own lines in mock.log
    for i in range(len(text) - 1, -1, -1):
        if "Child return code was:" in text[i]:
            text = text[:i]
            break
    tail = text[-lines:]
    meaningful = [ln.strip() for ln in tail if ln.strip()]
    telling = [ln for ln in meaningful if ERROR_LINE.search(ln)]
    last = telling[-1] if telling else (meaningful[-1] if meaningful else "no output")
    return "\n".join(tail), last
