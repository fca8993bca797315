"""Gate 3 — dependency closure per dist.

Every Requires of every package in the release's repositories must be
satisfied by those repositories plus the dist's base repositories
(``Dist.base_repos``: CentOS vault, EPEL archive or internal mirrors; tests
pass a small local one). The resolver is dnf's ``repoclosure`` (Debian
package ``dnf-plugins-core``), never a hand-written one.

dnf runs fully private: its own config file, an empty installroot (no host
rpmdb), temporary cachedir/logdir/persistdir, an empty reposdir,
``--disablerepo='*'`` and only ``--repofrompath`` repositories, with
``--releasever`` set to the dist's RHEL version (Debian has no release
package dnf could detect it from) and ``--forcearch`` to the target arch.
``skip_if_unavailable=False``: an unreachable base repository fails the gate
instead of turning into a list of "unresolved" requirements.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolMissingError
from ..run import require_tool, run
from .base import Check, CheckContext, Findings

_REPO_ID = re.compile(r"[^A-Za-z0-9_.:-]")
_PACKAGE = re.compile(r"^package:\s+(?P<nevra>\S+)\s+from\s+(?P<repo>\S+)\s*$")
_FAILED_REPO = re.compile(r"for repo '(?P<id>[^']+)'")


@dataclass(frozen=True)
class Unresolved:
    nevra: str
    repo: str
    requires: tuple[str, ...]


def parse_repoclosure(output: str) -> list[Unresolved]:
    """``package: N-V-R.A from repo`` / ``unresolved deps (n):`` / indented deps."""
    found: list[Unresolved] = []
    current: tuple[str, str] | None = None
    deps: list[str] = []
    in_deps = False

    def flush() -> None:
        if current is not None:
            found.append(Unresolved(current[0], current[1], tuple(deps)))

    for line in output.splitlines():
        m = _PACKAGE.match(line.strip())
        if m:
            flush()
            current, deps, in_deps = (m["nevra"], m["repo"]), [], False
        elif current is not None and line.strip().startswith("unresolved deps"):
            in_deps = True
        elif current is not None and in_deps and line.startswith("    ") and line.strip():
            deps.append(line.strip())
        elif line.strip() and not line.startswith(" "):
            in_deps = False
    flush()
    return found


def expand_url(url: str, arch: str, releasever: int) -> str:
    """Substitute yum's $basearch/$arch/$releasever; make a local path absolute."""
    for var, value in (("$basearch", arch), ("$arch", arch), ("$releasever", str(releasever))):
        url = url.replace("${" + var[1:] + "}", value).replace(var, value)
    return url if "://" in url else str(Path(url).resolve())


class ClosureCheck(Check):
    id = "closure"
    name = "closure gate"
    required = True

    def __init__(self, timeout: float = 1800) -> None:
        self.timeout = timeout

    def dnf_args(self, tmp: Path, ctx: CheckContext, repos: dict[str, str]) -> list[str]:
        conf = tmp / "dnf.conf"
        for sub in ("root", "repos.d", "cache", "log", "persist"):
            (tmp / sub).mkdir(parents=True, exist_ok=True)
        conf.write_text(
            "[main]\n"
            "gpgcheck=0\n"
            f"reposdir={tmp / 'repos.d'}\n"
            f"cachedir={tmp / 'cache'}\n"
            f"logdir={tmp / 'log'}\n"
            f"persistdir={tmp / 'persist'}\n"
            "skip_if_unavailable=False\n"
            "install_weak_deps=False\n"
        )
        args = [
            "dnf",
            "-q",
            "-c",
            str(conf),
            "--installroot",
            str(tmp / "root"),
            f"--setopt=reposdir={tmp / 'repos.d'}",
            f"--setopt=cachedir={tmp / 'cache'}",
            f"--setopt=logdir={tmp / 'log'}",
            f"--setopt=persistdir={tmp / 'persist'}",
            "--setopt=skip_if_unavailable=False",
            "--disablerepo=*",
            "--releasever",
            str(ctx.dist.rhel),
            "--forcearch",
            ctx.arch,
        ]
        for repo_id, location in repos.items():
            args.append(f"--repofrompath={repo_id},{location}")
        return args

    def run(self, ctx: CheckContext) -> Findings:
        require_tool("dnf", "install the Debian packages dnf and dnf-plugins-core (make setup)")
        report = Findings(self.id, ctx.dist.name)
        ours = {f"{ctx.dist.name}-release-{i}": repo.resolve() for i, repo in enumerate(ctx.repos)}
        bases = {
            f"{ctx.dist.name}-base-{_REPO_ID.sub('_', rid)}": expand_url(url, ctx.arch, ctx.dist.rhel)
            for rid, url in ctx.bases().items()
        }
        base_names = {f"{ctx.dist.name}-base-{_REPO_ID.sub('_', rid)}": rid for rid in ctx.bases()}
        if not ours:
            return report
        rpm_files = sorted(p for repo in ours.values() for p in repo.rglob("*.rpm"))
        report.items += [str(p) for p in rpm_files]
        files = {self._strip_epoch(p.name[:-4]): p for p in rpm_files}
        log = ctx.log(f"closure-{ctx.dist.name}.log")
        with tempfile.TemporaryDirectory(prefix="pmrepo-closure-") as tmpdir:
            tmp = Path(tmpdir)
            argv = self.dnf_args(tmp, ctx, {**{k: str(v) for k, v in ours.items()}, **bases})
            argv += ["repoclosure", *[a for rid in ours for a in ("--check", rid)]]
            res = run(argv, log_file=log, check=False, timeout=self.timeout)
        if "No such command: repoclosure" in res.output:
            raise ToolMissingError(
                "dnf repoclosure is not available — fix: install the Debian package dnf-plugins-core (make setup)"
            )
        unresolved = parse_repoclosure(res.output)
        searched = ", ".join(base_names.values()) or "none configured"
        for u in unresolved:
            file = files.get(self._strip_epoch(u.nevra))
            where = str(file) if file else f"{ours.get(u.repo, u.repo)}: {u.nevra}"
            for dep in u.requires or ("(unknown)",):
                report.error(
                    where,
                    f"Requires: {dep}",
                    f"{u.nevra} needs it; neither the repository nor "
                    f"{ctx.dist.name}'s base repositories ({searched}) provide it",
                    "closure.unresolved",
                )
        if res.returncode != 0 and not unresolved:
            errors = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith("Error")]
            detail = errors[-1] if errors else (res.output.strip().splitlines() or ["no output"])[-1]
            m = _FAILED_REPO.search(detail)
            where = "dnf repoclosure"
            if m and m["id"] in bases:
                where = f"base repository {base_names[m['id']]} ({bases[m['id']]})"
            elif m and m["id"] in ours:
                where = str(ours[m["id"]])
            report.error(
                where, "repository", f"dnf repoclosure exited {res.returncode} (log: {log}): {detail}", "closure.failed"
            )
        return report

    @staticmethod
    def _strip_epoch(nevra: str) -> str:
        return re.sub(r"-\d+:", "-", nevra, count=1)
