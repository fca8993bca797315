"""Install check in a fresh root, with the host's rpm and dnf.

Into an empty root: ``rpm -i`` the repository package, then ``dnf install``
the metapackage using only the ``.repo`` file that package installed. The
.repo file's ``baseurl=file://<prefix>/`` is a path *inside* the root, so dnf
runs in a private mount namespace where the root's ``<prefix>`` is mounted at
``<prefix>`` — the .repo file is used unchanged. Then: exactly the expected
packages at the manifest's versions; erase them and the repo package; nothing
left under the prefix.
"""
from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InstallCheckError
from .manifest import Dist, Release
from .run import run


@dataclass
class InstallReport:
    dist: str
    installed: dict[str, str]  # the release's packages `dnf install` put there: name -> version-release
    os_packages: dict[str, str]  # pulled in from the dist's base repositories
    method: str = ""


def _query(root: Path, log: Path) -> dict[str, str]:
    res = run(["rpm", "--root", str(root), "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\\n"], log_file=log,
              error=InstallCheckError)
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


def _dnf(root: Path, release: Release, dist: Dist, args: list[str], log: Path) -> str:
    """Run dnf against ``root`` with the root's own .repo files (plus the
    dist's base repositories); returns the method used."""
    repos = root / "etc/yum.repos.d"
    dnf = ["dnf", "-y", f"--installroot={root}", f"--releasever={dist.rhel}",
           f"--setopt=reposdir={repos}", f"--setopt=cachedir={root}/var/cache/dnf",
           "--setopt=install_weak_deps=False", "--setopt=keepcache=False", "--disableplugin=*",
           "--nogpgcheck", *base_repo_args(release, dist), *args]
    top = "/" + release.prefix.strip("/").split("/")[0]
    can_mount = os.geteuid() == 0 and shutil.which("unshare") and top not in ("/usr", "/etc", "/var", "/tmp", "/")
    if can_mount:
        script = ("set -e; mount -t tmpfs pmrepo {top}; mkdir -p {prefix}; mount --bind {src} {prefix}; exec \"$@\"").format(
            top=shlex.quote(top), prefix=shlex.quote(release.prefix), src=shlex.quote(str(root) + release.prefix))
        run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *dnf], log_file=log,
            error=InstallCheckError)
        return "private mount namespace, .repo file unchanged"
    # Not root (or the prefix sits under a system directory): point the repo id at the root's copy.
    run([*dnf, f"--setopt={release.repo_id}.baseurl=file://{root}{release.prefix}/"], log_file=log,
        error=InstallCheckError)
    return "baseurl redirected into the root (no mount namespace available)"


def check(release: Release, dist: Dist, repo_rpm: Path, log: Path) -> InstallReport:
    """Install, verify and erase in a throw-away root; raise InstallCheckError on any mismatch.

    Packages not shipped by the release are accepted only from the dist's
    base repositories (``base_repos``; none: the release must be self-contained)."""
    root = Path(tempfile.mkdtemp(prefix=f"pmrepo-root-{dist.name}-"))
    try:
        run(["rpm", "--root", str(root), "--initdb"], log_file=log, error=InstallCheckError)
        run(["rpm", "--root", str(root), "-i", str(repo_rpm)], log_file=log, error=InstallCheckError)
        repo_file = root / "etc/yum.repos.d" / release.repo_file
        if not repo_file.is_file():
            raise InstallCheckError(f"{repo_rpm.name}: did not install /etc/yum.repos.d/{release.repo_file}")
        method = _dnf(root, release, dist, ["install", release.metapackage], log)
        installed = _query(root, log)
        ours = release.shipped(dist) | {release.name: f"{release.vr}{dist.tag}"}
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
        for name in sorted({*release.required_mains(dist), release.metapackage, release.name}):
            if name not in installed:
                problems.append(f"{name} was not installed")
        if problems:
            raise InstallCheckError(f"{dist.name}: install of {release.metapackage}: " + "; ".join(problems) + f" (log: {log})")
        stack = sorted(n for n in installed if n in ours and n != release.name)
        _dnf(root, release, dist, ["remove", *stack], log)
        run(["rpm", "--root", str(root), "-e", release.name], log_file=log, error=InstallCheckError)
        left = sorted(n for n in _query(root, log) if n in ours)
        under = root / release.prefix.lstrip("/")
        leftovers = [f"package {n}" for n in left] + ([f"{release.prefix}/{p.relative_to(under)}" for p in under.rglob("*")]
                                                      if under.exists() else [])
        if leftovers or under.exists():
            raise InstallCheckError(f"{dist.name}: after erase, left behind: {', '.join(leftovers) or release.prefix}")
        return InstallReport(dist.name, {n: v for n, v in installed.items() if n in ours}, os_packages, method)
    finally:
        shutil.rmtree(root, ignore_errors=True)
