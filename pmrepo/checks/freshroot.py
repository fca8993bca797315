"""Install check in a fresh root, with the host's rpm and dnf.

Into an empty root: ``rpm -i`` the three repository packages, check that
dnf sees each of their repositories with every package its tree holds, then
``dnf install`` the metapackage using only the ``.repo`` files those
packages installed. The .repo files' ``baseurl=file://<root>/`` are paths
*inside* the root, so dnf runs in a private mount namespace where the root's
parent directory (``release.parent_dir``) is mounted at that directory — the
.repo files are used unchanged. Then: exactly the expected packages at the
manifest's versions; erase them and the repo packages; nothing left under
any repository's root, nor the parent directory.

No package code runs here: rpm and dnf run as root on the build host, and a
chroot (``--root``, ``--installroot``) does not hold root in — a scriptlet
can leave it (the classic ``chroot("/.esc"); chdir("..")…`` escape). So every
install and erase here runs with scriptlets and triggers disabled (rpm
``--noscripts --notriggers``, dnf ``tsflags=noscripts,notriggers``), and the
report names the packages whose scriptlets were not run; the container
install test runs them, in a container with no network. The root's directory
name records this run (``owner.owned_name``): a later run removes the roots
of runs that were killed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InstallCheckError, PmrepoError
from ..layout import RPM_DIR, YUM_REPOS_D
from ..manifest import Dist, Release
from ..owner import owned_name, reap_dirs
from ..run import run
from .base import Check, CheckContext, Findings


@dataclass
class InstallReport:
    dist: str
    installed: dict[str, str]  # the release's packages `dnf install` put there: name -> version-release
    os_packages: dict[str, str]  # pulled in from the dist's base repositories
    method: str = ""
    scriptlets: dict[str, list[str]] | None = None  # installed package -> the scriptlets/triggers not run


ROOT_PREFIX = "pmrepo-root-"  # <tmp>/pmrepo-root-<dist>-<owner tag>-XXXXXXXX
#: scriptlets and triggers never run in the fresh root (see the module's docstring)
RPM_NO_SCRIPTS = ("--noscripts", "--notriggers")
DNF_NO_SCRIPTS = "--setopt=tsflags=noscripts,notriggers"
# which scriptlets and triggers a package carries (a "-p <program>" one sets only the *PROG tag)
_SCRIPT_TAGS = (
    ("PRETRANSPROG", "%pretrans"),
    ("PREINPROG", "%pre"),
    ("POSTINPROG", "%post"),
    ("PREUNPROG", "%preun"),
    ("POSTUNPROG", "%postun"),
    ("POSTTRANSPROG", "%posttrans"),
    ("TRIGGERSCRIPTPROG", "%trigger"),
    ("FILETRIGGERSCRIPTPROG", "%filetrigger"),
    ("TRANSFILETRIGGERSCRIPTPROG", "%transfiletrigger"),
)
_SCRIPT_QF = "%{NAME}" + "".join(f"%|{tag}?{{ {name.replace('%', '%%')}}}|" for tag, name in _SCRIPT_TAGS) + "\\n"


def _query(root: Path, log: Path) -> dict[str, str]:
    res = run(
        ["rpm", "--root", str(root), "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\\n"],
        log_file=log,
        error=InstallCheckError,
    )
    return dict(line.split(" ", 1) for line in res.output.splitlines() if " " in line)


def base_repo_args(release: Release, dist: Dist) -> list[str]:
    """The dist's base repositories as dnf options, with the operator's
    ``exclude=`` of the release's component names (so the OS never supplies
    a package of ours)."""
    excludes = ",".join(release.exclude_patterns(dist.name))
    args: list[str] = []
    for repoid, url in sorted(dist.base_repos.items()):
        rid = f"pmrepo-base-{repoid}"
        args += [f"--repofrompath={rid},{url}", f"--setopt={rid}.excludepkgs={excludes}"]
    return args


def _dnf(root: Path, release: Release, dist: Dist, args: list[str], log: Path) -> tuple[str, str]:
    """Run dnf against ``root`` with the root's own .repo files (plus the
    dist's base repositories); returns the method used and dnf's output."""
    repos = root / YUM_REPOS_D.lstrip("/")
    dnf = [
        "dnf",
        "-y",
        f"--installroot={root}",
        f"--releasever={dist.rhel}",
        f"--setopt=reposdir={repos}",
        f"--setopt=cachedir={root}/var/cache/dnf",
        "--setopt=install_weak_deps=False",
        "--setopt=keepcache=False",
        "--disableplugin=*",
        "--nogpgcheck",
        DNF_NO_SCRIPTS,
        *base_repo_args(release, dist),
        *args,
    ]
    top = "/" + release.parent_dir.strip("/").split("/")[0]
    can_mount = os.geteuid() == 0 and shutil.which("unshare") and top not in ("/usr", "/etc", "/var", "/tmp", "/")
    if can_mount:
        script = (
            'set -e; mount -t tmpfs pmrepo {top}; mkdir -p {parent}; mount --bind {src} {parent}; exec "$@"'
        ).format(
            top=shlex.quote(top),
            parent=shlex.quote(release.parent_dir),
            src=shlex.quote(str(root) + release.parent_dir),
        )
        res = run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *dnf],
            log_file=log,
            error=InstallCheckError,
        )
        return "private mount namespace, .repo files unchanged", res.output
    # Not root (or the parent sits under a system directory): point the repo ids at the root's copies.
    redirect = [f"--setopt={r.repo_id}.baseurl=file://{root}{r.prefix}/" for r in release.repositories]
    res = run([*dnf, *redirect], log_file=log, error=InstallCheckError)
    return "baseurl redirected into the root (no mount namespace available)", res.output


def _scriptlets(root: Path, log: Path) -> dict[str, list[str]]:
    """The installed packages that carry scriptlets or triggers, and which."""
    res = run(["rpm", "--root", str(root), "-qa", "--qf", _SCRIPT_QF], log_file=log, error=InstallCheckError)
    out: dict[str, list[str]] = {}
    for line in res.output.splitlines():
        name, *kinds = line.split()
        if kinds and name:
            out[name] = kinds
    return out


def scriptlet_note(scriptlets: dict[str, list[str]]) -> str:
    """What the report says about the scriptlets the check did not run."""
    if not scriptlets:
        return "no package has scriptlets"
    some = sorted(scriptlets)
    shown = ", ".join(f"{n} ({' '.join(scriptlets[n])})" for n in some[:5])
    more = f" and {len(some) - 5} more" if len(some) > 5 else ""
    return (
        f"scriptlets not run on the host (--noscripts --notriggers): {shown}{more}; "
        "the container install test runs them"
    )


def new_root(dist: str, say: Callable[[str], None] | None = None) -> Path:
    """A fresh, empty root for ``dist`` in the temporary directory, named after this run;
    first, the roots that killed runs left there are removed."""
    parent = Path(tempfile.gettempdir())
    reap_dirs(parent, ROOT_PREFIX, say)
    return Path(tempfile.mkdtemp(prefix=owned_name(f"{ROOT_PREFIX}{dist}-"), dir=parent))


def _tree_rpms(root: Path, prefix: str) -> list[str]:
    return sorted(p.name[: -len(".rpm")] for p in (root / prefix.lstrip("/") / RPM_DIR).glob("*.rpm"))


def check(release: Release, dist: Dist, repo_rpms: list[Path], log: Path) -> InstallReport:
    """Install, verify and erase in a throw-away root; raise InstallCheckError on any mismatch.

    ``repo_rpms`` are the three repository packages. Packages not shipped by
    the release are accepted only from the dist's base repositories
    (``base_repos``; none: the release must be self-contained)."""
    root = new_root(dist.name, say=lambda line: _log_line(log, line))
    try:
        run(["rpm", "--root", str(root), "--initdb"], log_file=log, error=InstallCheckError)
        run(
            ["rpm", "--root", str(root), "-i", *RPM_NO_SCRIPTS, *map(str, repo_rpms)],
            log_file=log,
            error=InstallCheckError,
        )
        for repo in release.repositories:
            repo_file = root / YUM_REPOS_D.lstrip("/") / repo.repo_file
            if not repo_file.is_file() or f"[{repo.repo_id}]" not in repo_file.read_text().splitlines():
                raise InstallCheckError(f"{repo.package}: did not install {repo.repo_path} with [{repo.repo_id}]")
        # dnf sees each repository, with every package its tree holds
        qf = "%{name}-%{version}-%{release}.%{arch}"
        for repo in release.repositories:
            _, out = _dnf(root, release, dist, ["-q", "repoquery", f"--repo={repo.repo_id}", "--qf", qf], log)
            seen = sorted(ln.strip() for ln in out.splitlines() if ln.strip() and " " not in ln.strip())
            want = _tree_rpms(root, repo.prefix)
            if seen != want:
                raise InstallCheckError(
                    f"{dist.name}: dnf sees {len(seen)} packages in [{repo.repo_id}], its tree "
                    f"{repo.prefix}/rpm holds {len(want)} (missing: "
                    f"{', '.join(sorted(set(want) - set(seen))) or 'none'}) (log: {log})"
                )
        method, _ = _dnf(root, release, dist, ["install", release.metapackage], log)
        installed = _query(root, log)
        scriptlets = _scriptlets(root, log)
        own = dict.fromkeys(release.repo_package_names(), f"{release.vr}{dist.tag}")
        ours = release.shipped(dist) | own
        problems: list[str] = []
        os_packages: dict[str, str] = {}
        for name, vr in installed.items():
            if name not in ours:
                if dist.base_repos:
                    os_packages[name] = vr
                else:
                    problems.append(f"unexpected package {name}-{vr} (no base_repos for {dist.name})")
            elif ours[name] != vr:
                problems.append(f"{name} is {vr}, manifest says {ours[name]}")
        for name in sorted({*release.required_mains(dist), release.metapackage, *own}):
            if name not in installed:
                problems.append(f"{name} was not installed")
        if problems:
            raise InstallCheckError(
                f"{dist.name}: install of {release.metapackage}: " + "; ".join(problems) + f" (log: {log})"
            )
        stack = sorted(n for n in installed if n in ours and n not in own)
        _dnf(root, release, dist, ["remove", *stack], log)
        run(["rpm", "--root", str(root), "-e", *RPM_NO_SCRIPTS, *own], log_file=log, error=InstallCheckError)
        left = sorted(n for n in _query(root, log) if n in ours)
        leftovers = [f"package {n}" for n in left]
        parent = root / release.parent_dir.lstrip("/")
        if parent.exists():
            leftovers += [f"{release.parent_dir}/{p.relative_to(parent)}" for p in sorted(parent.rglob("*"))] or [
                release.parent_dir
            ]
        leftovers += [
            f"{YUM_REPOS_D}/{p.name}"
            for r in release.repositories
            for p in (root / YUM_REPOS_D.lstrip("/")).glob(r.repo_file + "*")
        ]
        if leftovers:
            raise InstallCheckError(f"{dist.name}: after erase, left behind: {', '.join(leftovers[:20])}")
        return InstallReport(
            dist.name, {n: v for n, v in installed.items() if n in ours}, os_packages, method, scriptlets
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


class FreshRootInstall(Check):
    """``rpm -i`` of the repo package into an empty root, ``dnf install`` of the metapackage, erase."""

    id = "fresh-root-install"
    name = "fresh-root install"
    record = "fresh-root install"
    required = True

    def label(self, ctx: CheckContext) -> str:
        return f"{ctx.dist.name}: fresh-root install check"

    def run(self, ctx: CheckContext) -> Findings:
        rel = ctx.need_release()
        report = self.report_path(ctx)
        report.parent.mkdir(parents=True, exist_ok=True)
        found = Findings(self.id, ctx.dist.name, path=report)
        try:
            log = ctx.layout.log("installcheck.log") if ctx.layout is not None else ctx.log("installcheck.log")
            res = check(rel, ctx.dist, ctx.repo_package_set(), log)
        except PmrepoError as exc:
            report.write_text(f"fresh-root install ({ctx.dist.name}): FAILED — {exc}\n")
            found.error(ctx.dist.name, "fresh-root install", str(exc), "fresh-root-install.failed")
            found.note, found.failure = str(exc), exc
            return found
        extra = f" + {len(res.os_packages)} from base repositories" if res.os_packages else ""
        found.note = (
            f"{len(rel.repositories)} repositories seen; installed and erased {len(res.installed)} packages"
            f"{extra} ({res.method}); {scriptlet_note(res.scriptlets or {})}"
        )
        report.write_text(
            f"fresh-root install ({ctx.dist.name}): PASSED — {found.note}\n\n"
            + "".join(f"[ok] {n}-{vr}\n" for n, vr in sorted(res.installed.items()))
        )
        return found


def _log_line(log: Path, line: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"# {line}\n")
