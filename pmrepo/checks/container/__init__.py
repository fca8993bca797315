"""Install test in a container: the operator's steps, for real, per dist.

In a fresh container of the dist's image (``Dist.image``, e.g. ``centos:7``,
or a local test image) with the repository package mounted read-only and no
network:

1. add ``exclude=<component>* …`` to ``[base]`` and ``[updates]`` of
   ``/etc/yum.repos.d/CentOS-Base.repo`` (if the image has that file);
2. ``rpm -ivh <repo package>``;
3. ``yum install -y <metapackage>`` (``dnf`` where the image has no yum);
4. check: every package the metapackage must bring is installed at the
   manifest's version-release, nothing else came in, ``rpm -V`` is clean, each
   component's smoke command runs;
5. ``yum erase -y`` the stack, ``rpm -e <repo package>``; nothing of ours is
   left, nothing remains under the release's prefix.

The result is a table (step, status, detail), a JUnit XML file and a log; on
success ``installed.json`` (what the metapackage actually pulled in) is
written into the caller's output directory. Every container command runs
through :func:`pmrepo.run.run`.

Entry points: :func:`install_test` (one dist) and :class:`InstallGate` (the
``pmrepo.checks.base.Gate`` interface; the pipeline runs it as
``pmrepo.checks.ContainerInstall``). Podman
gets ``containers.conf`` beside this file via ``CONTAINERS_CONF``. A real
``centos:6``/``centos:7`` image has [base]/[updates] on the network: with the
default ``network="none"`` pass e.g. ``pm_options=("--setopt=skip_if_unavailable=1",)``
or point the image's repos at a mirror.
"""
from __future__ import annotations

import fnmatch
import re
import shlex
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ClassVar, Mapping, Sequence

from ...fsutil import write_atomic
from ...errors import GateError
from ...manifest import Component, Dist, Release
from ...layout import Output
from ...progress import table
from ...records import InstallRecord
from ...run import Result, run
from ..base import CheckContext, Findings, Severity
from .engine import CONTAINERS_CONF, ContainerError, Engine, default_conf, detect_engine
from .image import ensure_image

__all__ = ["CONTAINERS_CONF", "ContainerError", "ContainerSettings", "Engine", "InstallGate", "detect_engine",
           "install_test"]

BASE_REPO_FILE = "/etc/yum.repos.d/CentOS-Base.repo"
EXCLUDE_SECTIONS = ("base", "updates")
MOUNT_DIR = "/tmp/pmrepo"  # where the repo package appears inside the container
LABEL = "pmrepo.install-test"

PASS, FAIL, SKIP, WARN = "pass", "fail", "skip", "warn"
Say = Callable[[str], None]


# -- settings and engine -----------------------------------------------------


@dataclass(frozen=True)
class ContainerSettings:
    """How the install test runs; the defaults are the operator's steps offline."""

    engine: str = "auto"  # "auto" (podman, then docker), "podman" or "docker"
    containers_conf: Path | None = field(default_factory=default_conf)  # podman only; None: podman's own
    image: str | None = None  # one image for every dist, overriding Dist.image
    images: Mapping[str, str] = field(default_factory=dict)  # dist name -> image, overriding Dist.image
    network: str = "none"  # our packages need no network
    pm_options: tuple[str, ...] = ()  # extra yum/dnf options, e.g. ("--setopt=skip_if_unavailable=1",)
    allow_os_extras: bool = False  # OS packages pulled in from base repos: warn instead of fail
    command_timeout: float = 900.0
    keep_container: bool = False  # leave the container for inspection (it is named in the log)

    def image_for(self, dist: Dist) -> str:
        return self.images.get(dist.name) or self.image or dist.image


# -- what the release says ---------------------------------------------------


def add_excludes(text: str, patterns: Sequence[str], sections: Sequence[str] = EXCLUDE_SECTIONS) -> tuple[str, list[str]]:
    """Add ``exclude=<patterns>`` to each of ``sections`` of a yum .repo file.

    An existing ``exclude=`` line in such a section is extended (no pattern
    twice); otherwise the line is added right after the section header. Returns
    the new text and the sections that were found.
    """
    lines = text.splitlines()
    header = re.compile(r"^\s*\[([^\]]+)\]\s*$")
    exclude = re.compile(r"^(\s*exclude\s*=\s*)(.*)$")
    found: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = header.match(line)
        out.append(line)
        i += 1
        if not m or m.group(1).strip() not in sections:
            continue
        found.append(m.group(1).strip())
        j = i
        while j < len(lines) and not header.match(lines[j]):
            j += 1
        body = lines[i:j]
        idx = next((k for k, ln in enumerate(body) if exclude.match(ln)), None)
        if idx is None:
            out.append("exclude=" + " ".join(patterns))
        else:
            em = exclude.match(body[idx])
            assert em is not None
            have = em.group(2).replace(",", " ").split()
            body[idx] = em.group(1) + " ".join([*have, *(p for p in patterns if p not in have)])
        out.extend(body)
        i = j
    return "\n".join(out) + ("\n" if text.endswith("\n") or not text else ""), found


# -- report --------------------------------------------------------------------


@dataclass
class Step:
    name: str
    status: str  # pass, fail, skip, warn
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ContainerReport:
    release_id: str
    dist: str
    engine: str
    image: str
    repo_rpm: str
    steps: list[Step] = field(default_factory=list)
    installed: dict[str, str] = field(default_factory=dict)  # what the install step added: name -> V-R
    extras: dict[str, str] = field(default_factory=dict)  # added packages the release does not ship
    log: Path | None = None
    junit: Path | None = None
    installed_json: Path | None = None
    seconds: float = 0.0
    kind: str = "install"  # "install" or "upgrade"

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.status != FAIL for s in self.steps)

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if s.status == FAIL]

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def table(self) -> str:
        rows = [(s.name, s.status.upper() if s.status == FAIL else s.status, f"{s.seconds:.1f}s", s.detail)
                for s in self.steps]
        return table(["step", "status", "time", "detail"], rows)

    def summary(self) -> str:
        if self.ok:
            return (f"{self.dist}: {self.kind} test passed in {self.image} ({self.engine}): "
                    f"{len(self.installed)} packages installed and erased ({self.seconds:.0f}s)")
        first = self.failures[0] if self.failures else Step("(no steps)", FAIL, "nothing ran")
        more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        where = f" (log: {self.log})" if self.log else ""
        return f"{self.dist}: {self.kind} test failed at '{first.name}': {first.detail}{more}{where}"

    def to_junit(self) -> ET.ElementTree:
        suites = ET.Element("testsuites")
        suite = ET.SubElement(suites, "testsuite", {
            "name": f"install.{self.release_id}.{self.dist}",
            "tests": str(len(self.steps)),
            "failures": str(len(self.failures)),
            "errors": "0",
            "skipped": str(sum(1 for s in self.steps if s.status == SKIP)),
            "time": f"{self.seconds:.3f}",
        })
        props = ET.SubElement(suite, "properties")
        for k, v in (("engine", self.engine), ("image", self.image), ("repo_rpm", self.repo_rpm)):
            ET.SubElement(props, "property", {"name": k, "value": v})
        for s in self.steps:
            case = ET.SubElement(suite, "testcase", {"classname": f"install.{self.dist}", "name": s.name,
                                                     "time": f"{s.seconds:.3f}"})
            if s.status == FAIL:
                ET.SubElement(case, "failure", {"message": s.detail[:500]}).text = s.detail
            elif s.status == SKIP:
                ET.SubElement(case, "skipped", {"message": s.detail[:500]})
            elif s.detail:
                ET.SubElement(case, "system-out").text = f"{s.status}: {s.detail}"
        tree = ET.ElementTree(suites)
        ET.indent(tree)
        return tree


def _first_lines(text: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    more = f" … (+{len(lines) - n} lines)" if len(lines) > n else ""
    return "; ".join(lines[:n]) + more


def _last_lines(text: str, n: int = 4) -> str:
    """The end of a failed command's output, where yum, dnf and rpm say what went wrong."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return ("… " if len(lines) > n else "") + "; ".join(lines[-n:])


_QF = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"
_MARK = "--pmrepo-file-mark--"
# print a file between two marker lines: the engine may add its own warnings to the output
_CAT_MARKED = f"echo {_MARK}; cat"


def _between_marks(output: str) -> str:
    """The file text printed by ``_CAT_MARKED`` (the engine's own lines before it dropped)."""
    _, _, text = output.partition(_MARK + "\n")
    return text


def _imported_keys(output: str) -> list[str]:
    """``0x<id> (<file>)`` of each key yum/dnf imported (``Importing GPG key 0x…`` … ``From : …``)."""
    keys: list[str] = []
    key = None
    for ln in output.splitlines():
        m = re.match(r"^Importing GPG key (0x[0-9A-Fa-f]+)", ln.strip())
        if m:
            key = m.group(1)
            continue
        m = re.match(r"^From\s*:\s*(\S+)", ln.strip())
        if m and key:
            keys.append(f"{key} ({m.group(1).removeprefix('file://')})")
            key = None
    return sorted(set(keys))


class _Session:
    """One container, the steps run in it, and what they found."""

    def __init__(self, engine: Engine, settings: ContainerSettings, release: Release, dist: Dist,
                 repo_rpms: Sequence[Path], log: Path, say: Say, *, mounts: Mapping[str, Path] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.release = release
        self.dist = dist
        self.repo_rpms = list(repo_rpms)
        self.repo_rpm = self.repo_rpms[0]
        self.log = log
        self.say = say
        self.image = settings.image_for(dist)
        self.name = f"pmrepo-install-{dist.name}-{uuid.uuid4().hex[:10]}"
        # inner path -> host file, mounted read-only
        self.mounts = dict(mounts) if mounts is not None else {f"{MOUNT_DIR}/{p.name}": p for p in self.repo_rpms}
        self.inner = {p: inner for inner, p in self.mounts.items()}
        self.inner_rpm = self.inner[self.repo_rpm]
        self.steps: list[Step] = []
        self.started = False

    # plumbing
    def record(self, name: str, status: str, detail: str, t0: float) -> Step:
        step = Step(name, status, detail, time.monotonic() - t0)
        self.steps.append(step)
        with self.log.open("a") as fh:
            fh.write(f"# step {name}: {status}: {detail}\n")
        self.say(f"  {self.dist.name}: {name}: {status}{': ' + detail if detail and status != PASS else ''}")
        return step

    def sh(self, script: str, *, input_text: str | None = None, timeout: float | None = None) -> Result:
        args = ["exec", *(["-i"] if input_text is not None else []), self.name, "sh", "-c", script]
        return self.engine.run(args, self.log, check=False, input_text=input_text,
                               timeout=timeout or self.settings.command_timeout)

    def rpm_qa(self) -> dict[str, str]:
        res = self.sh(f"rpm -qa --qf '{_QF}'", timeout=300)
        if res.returncode != 0:
            raise ContainerError(f"rpm -qa failed in {self.image}: {_first_lines(res.output, 2)} (log: {self.log})")
        out: dict[str, str] = {}
        for line in res.output.splitlines():
            parts = line.strip().split("\t")
            if len(parts) == 2 and parts[0] != "gpg-pubkey":
                out[parts[0]] = parts[1]
        return out

    # steps
    def start(self) -> bool:
        t0 = time.monotonic()
        args = ["run", "-d", "--name", self.name, "--label", f"{LABEL}={self.release.release_id}.{self.dist.name}",
                "--network", self.settings.network,
                *(a for inner, host in sorted(self.mounts.items()) for a in ("-v", f"{host.resolve()}:{inner}:ro")),
                self.image, "tail", "-f", "/dev/null"]
        res = self.engine.run(args, self.log, check=False, timeout=self.settings.command_timeout)
        if res.returncode != 0:
            self.record("start container", FAIL, f"{self.engine.name} run {self.image}: {_first_lines(res.output, 3)}", t0)
            return False
        self.started = True
        self.record("start container", PASS, f"{self.image} ({self.engine.version}), network={self.settings.network}", t0)
        return True

    def stop(self) -> None:
        if self.started and not self.settings.keep_container:
            # kill first: `tail -f` as PID 1 ignores SIGTERM, and `rm -f` would wait out the stop timeout
            self.engine.run(["kill", self.name], self.log, check=False, timeout=300)
            self.engine.run(["rm", "-f", self.name], self.log, check=False, timeout=300)

    def exclude(self) -> None:
        t0 = time.monotonic()
        pats = self.release.exclude_patterns(self.dist.name)
        res = self.sh(f"test -f {BASE_REPO_FILE} || exit 3; {_CAT_MARKED} {BASE_REPO_FILE}")
        if res.returncode == 3:
            self.record("exclude in CentOS-Base.repo", SKIP, f"the image has no {BASE_REPO_FILE}", t0)
            return
        if res.returncode != 0:
            self.record("exclude in CentOS-Base.repo", FAIL, f"cannot read {BASE_REPO_FILE}: {_first_lines(res.output, 2)}", t0)
            return
        text, found = add_excludes(_between_marks(res.output), pats)
        missing = [s for s in EXCLUDE_SECTIONS if s not in found]
        wrote = self.sh(f"cat > {BASE_REPO_FILE}", input_text=text)
        back = self.sh(f"{_CAT_MARKED} {BASE_REPO_FILE}")
        if wrote.returncode != 0 or _between_marks(back.output) != text:
            self.record("exclude in CentOS-Base.repo", FAIL, f"could not rewrite {BASE_REPO_FILE}: {_first_lines(wrote.output, 2)}", t0)
        elif missing:
            self.record("exclude in CentOS-Base.repo", FAIL,
                        f"{BASE_REPO_FILE} has no [{'], ['.join(missing)}] section to exclude from", t0)
        else:
            self.record("exclude in CentOS-Base.repo", PASS,
                        f"exclude={' '.join(pats)} in [{'], ['.join(found)}]", t0)

    def install_repo_package(self, rpms: Sequence[Path] | None = None, release: Release | None = None,
                             verb: str = "-ivh") -> bool:
        """``rpm -ivh`` (or ``-Uvh``) the repository packages; each must leave its
        .repo file with its section."""
        t0 = time.monotonic()
        rpms = list(rpms or self.repo_rpms)
        rel = release or self.release
        res = self.sh(f"rpm {verb} " + " ".join(shlex.quote(self.inner[p]) for p in rpms))
        name = f"rpm {verb} {' '.join(p.name for p in rpms)}"
        if res.returncode != 0:
            self.record(name, FAIL, _last_lines(res.output, 4), t0)
            return False
        names = {n for p in rpms for n in rel.repo_package_names() if p.name.startswith(f"{n}-{rel.version}-")}
        problems, found = [], []
        for repo in rel.repos:
            if repo.package not in names:
                continue
            repo_file = f"/etc/yum.repos.d/{repo.repo_file}"
            chk = self.sh(f"grep -qxF {shlex.quote('[' + repo.repo_id + ']')} {shlex.quote(repo_file)}")
            if chk.returncode != 0:
                problems.append(f"{repo_file} has no [{repo.repo_id}] section")
            else:
                found.append(f"{repo_file} [{repo.repo_id}]")
        if problems:
            self.record(name, FAIL, "installed, but " + "; ".join(problems), t0)
            return False
        self.record(name, PASS, ", ".join(found), t0)
        return True

    def check_repositories(self, tool: str, release: Release | None = None) -> bool:
        """The package manager lists each repository, with as many packages as its tree holds."""
        t0 = time.monotonic()
        rel = release or self.release
        name = f"{tool} sees the repositories"
        if not tool:
            self.record(name, SKIP, "no yum or dnf", t0)
            return False
        # -y: a signed repository (repo_gpgcheck=1) has its key imported from the .repo file's
        # gpgkey= on first use, as yum does for an operator's `yum -y install`; without it the
        # import prompt is declined and repomd.xml fails to verify. A bad signature still fails.
        res = self.sh(f"{tool} -y -v repolist enabled 2>&1; echo {_MARK}; "
                      + "; ".join(f"echo {shlex.quote(r.repo_id)} $(ls {shlex.quote(r.prefix)}/rpm 2>/dev/null | "
                                  f"grep -c '\\.rpm$')" for r in rel.repos))
        listing, _, counts = res.output.partition(_MARK + "\n")
        seen: dict[str, int] = {}
        current = None
        for ln in listing.splitlines():
            m = re.match(r"^Repo-id\s*:\s*(\S+)", ln)
            if m:
                current = m.group(1).split("/")[0]
                continue
            m = re.match(r"^Repo-pkgs\s*:\s*([\d,]+)", ln)
            if m and current:
                seen[current] = int(m.group(1).replace(",", ""))
        tree = {parts[0]: int(parts[1]) for parts in (ln.split() for ln in counts.splitlines()) if len(parts) == 2}
        problems = []
        for repo in rel.repos:
            if repo.repo_id not in seen:
                problems.append(f"[{repo.repo_id}] not listed")
            elif seen[repo.repo_id] != tree.get(repo.repo_id, -1):
                problems.append(f"[{repo.repo_id}] has {seen[repo.repo_id]} packages, {repo.prefix}/rpm holds "
                                f"{tree.get(repo.repo_id, 0)}")
        if problems:
            self.record(name, FAIL, "; ".join(problems), t0)
            return False
        keys = _imported_keys(listing)
        self.record(name, PASS, ", ".join(f"[{r.repo_id}] {seen[r.repo_id]}" for r in rel.repos)
                    + (f"; GPG key imported from gpgkey=: {', '.join(keys)}" if keys else ""), t0)
        return True

    def package_manager(self) -> str:
        res = self.sh("command -v yum || command -v dnf")
        path = res.output.strip().splitlines()[-1] if res.returncode == 0 and res.output.strip() else ""
        return path.rsplit("/", 1)[-1] if path else ""

    def pm(self, tool: str, verb: str, names: Sequence[str]) -> Result:
        opts = " ".join(shlex.quote(o) for o in self.settings.pm_options)
        return self.sh(f"{tool} -y {opts} {verb} " + " ".join(shlex.quote(n) for n in names))


def repo_package_set(release: Release, dist: Dist, repo_rpm: Path | Sequence[Path]) -> list[Path]:
    """The three repository packages: given, or found beside the main one."""
    if not isinstance(repo_rpm, (str, Path)):
        rpms = [Path(p) for p in repo_rpm]
    else:
        main = Path(repo_rpm)
        rest = [main.parent / f"{n}-{release.vr}{dist.tag}.{release.arch}.rpm" for n in release.repo_package_names()[1:]]
        rpms = [main, *rest]
    for p in rpms:
        if not p.is_file():
            raise ContainerError(f"{p}: repository package not found — fix: build it first (build.py repo)")
    return rpms


def install_test(release: Release, dist: Dist, repo_rpm: Path | Sequence[Path], *, outdir: Path, report_dir: Path,
                 settings: ContainerSettings | None = None, engine: Engine | None = None,
                 say: Say | None = None) -> ContainerReport:
    """Run the operator's install and uninstall of the repository packages in a container.

    ``repo_rpm`` is the main repository package (its -debuginfo and -src
    siblings are taken from the same directory) or the list of all three.

    ``outdir`` receives ``installed.json`` when every step passed (a stale one
    is removed otherwise); ``report_dir`` receives ``install-<dist>.log``,
    ``install-<dist>.junit.xml`` and ``install-<dist>.table.txt`` (the table).
    Raises ContainerError only when no engine works; a failing step is
    reported, not raised (``report.ok``; InstallGate turns it into a gate report).
    """
    settings = settings or ContainerSettings()
    say = say or (lambda s: None)
    rpms = repo_package_set(release, dist, repo_rpm)
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / f"install-{dist.name}.log"
    log.write_text(f"# pmrepo install test of {', '.join(map(str, rpms))} ({release.release_id}, {dist.name})\n")
    engine = engine or detect_engine(settings.engine, settings.containers_conf, log)
    t_all = time.monotonic()
    s = _Session(engine, settings, release, dist, rpms, log, say)
    report = ContainerReport(release.release_id, dist.name, engine.name, s.image, rpms[0].name, s.steps, log=log)
    ours = release.shipped(dist)
    try:
        if s.start():
            try:
                _run_steps(s, report, ours)
            except ContainerError as exc:  # the container itself misbehaved (e.g. rpm -qa failed)
                s.record("(container)", FAIL, str(exc), time.monotonic())
    finally:
        s.stop()
    report.seconds = time.monotonic() - t_all
    installed_json = Output(outdir).installed_json
    if report.ok:
        InstallRecord(dist=dist.name, release=release.release_id, packages=dict(report.installed),
                      metapackage=release.metapackage, image=s.image, engine=engine.name).write(installed_json)
        report.installed_json = installed_json
    else:
        installed_json.unlink(missing_ok=True)
    report.junit = report_dir / f"install-{dist.name}.junit.xml"
    report.to_junit().write(report.junit, encoding="utf-8", xml_declaration=True)
    write_atomic(report_dir / f"install-{dist.name}.table.txt", report.table() + "\n\n" + report.summary() + "\n")
    return report


def packaged_files(rpms: Sequence[Path], log: Path | None = None) -> dict[str, tuple[str, str]]:
    """path -> (package name, sha256) of the regular files in ``rpms`` (from their headers)."""
    qf = "[%{=NAME}\\t%{FILENAMES}\\t%{FILEDIGESTS}\\t%{FILEMODES:perms}\\n]"
    res = run(["rpm", "-qp", "--nosignature", "--nodigest", "--qf", qf, *map(str, rpms)], log_file=log,
              error=ContainerError)
    out: dict[str, tuple[str, str]] = {}
    for line in res.output.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            out[parts[1]] = (parts[0], parts[2] if parts[3].startswith("-") else "")
    return out


UPGRADE_MOUNT = {"old": f"{MOUNT_DIR}/old", "new": f"{MOUNT_DIR}/new"}
LOCAL_EDIT = "# edited locally by the pmrepo upgrade test"


def upgrade_test(old: Release, new: Release, dist: Dist, old_rpms: Path | Sequence[Path],
                 new_rpms: Path | Sequence[Path], *, report_dir: Path, settings: ContainerSettings | None = None,
                 engine: Engine | None = None, edit: str | None = "debuginfo", name: str = "upgrade",
                 say: Say | None = None) -> ContainerReport:
    """Upgrade in place, as an operator does: the previous release's repository
    packages and ``yum install <metapackage>`` from them; then ``rpm -Uvh`` the
    new repository packages, ``yum clean all`` and ``yum update``.

    Checked: every package of ours is the new release's version-release (and
    each package the new metapackage needs is there); each .repo file is the
    one the new package carries — or, for the one edited locally before the
    upgrade (repository ``edit``: "main", "debuginfo", "src" or None), the
    edited file is kept and the new one lies beside it as ``.rpmnew`` when
    the packaged file changed, as ``%config(noreplace)`` promises; yum sees
    each new repository; ``rpm -V`` is clean (but for that edit); nothing of
    the old repositories is left (every file under the old and new roots
    belongs to a new repository package, no .repo file nor .rpmsave of the
    old ones remains); then the erase leaves nothing. ``old_rpms`` may be
    repository packages of another layout (e.g. the predecessor tool's).
    """
    settings = settings or ContainerSettings()
    say = say or (lambda s: None)
    olds = repo_package_set(old, dist, old_rpms)
    news = repo_package_set(new, dist, new_rpms)
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / f"{name}-{dist.name}.log"
    log.write_text(f"# pmrepo upgrade test {old.release_id} -> {new.release_id} ({dist.name})\n")
    engine = engine or detect_engine(settings.engine, settings.containers_conf, log)
    mounts = {f"{UPGRADE_MOUNT['old']}/{p.name}": p for p in olds} | {f"{UPGRADE_MOUNT['new']}/{p.name}": p for p in news}
    t_all = time.monotonic()
    s = _Session(engine, settings, new, dist, news, log, say, mounts=mounts)
    report = ContainerReport(new.release_id, dist.name, engine.name, s.image, news[0].name, s.steps, log=log,
                             kind="upgrade")
    try:
        if s.start():
            try:
                _run_upgrade(s, report, old, olds, news, edit)
            except ContainerError as exc:
                s.record("(container)", FAIL, str(exc), time.monotonic())
    finally:
        s.stop()
    report.seconds = time.monotonic() - t_all
    report.junit = report_dir / f"{name}-{dist.name}.junit.xml"
    report.to_junit().write(report.junit, encoding="utf-8", xml_declaration=True)
    write_atomic(report_dir / f"{name}-{dist.name}.table.txt", report.table() + "\n\n" + report.summary() + "\n")
    return report


def _run_upgrade(s: _Session, report: ContainerReport, old: Release, olds: list[Path], news: list[Path],
                 edit: str | None) -> None:
    new, dist = s.release, s.dist
    before = s.rpm_qa()
    s.release = replace(new, components=tuple({c.key: c for c in (*old.components, *new.components)}.values()))
    s.exclude()  # the patterns of both releases' components
    s.release = new
    tool = s.package_manager()
    # 1. the previous release, as installed then
    if not s.install_repo_package(olds, old):
        for step in ("yum install (previous)", "rpm -Uvh", "yum update", "checks"):
            s.record(step, SKIP, "the previous repository packages did not install", time.monotonic())
        return
    t0 = time.monotonic()
    res = s.pm(tool, "install", [old.metapackage])
    old_added = {n: vr for n, vr in s.rpm_qa().items() if before.get(n) != vr}
    s.record(f"{tool} install {old.metapackage} (previous)", PASS if res.returncode == 0 else FAIL,
             f"{len(old_added)} packages" if res.returncode == 0 else _last_lines(res.output, 6), t0)
    if res.returncode != 0:
        return
    edited: str | None = None
    if edit is not None:
        t0 = time.monotonic()
        target = f"/etc/yum.repos.d/{old.repo(edit).repo_file}"
        res = s.sh(f"echo {shlex.quote(LOCAL_EDIT)} >> {shlex.quote(target)}")
        edited = target if res.returncode == 0 else None
        s.record(f"edit {target} locally", PASS if edited else FAIL, LOCAL_EDIT if edited else _last_lines(res.output, 2), t0)
    # 2. the upgrade
    upgraded = s.install_repo_package(news, new, verb="-Uvh")
    t0 = time.monotonic()
    res = s.sh(f"{tool} -y clean all && {tool} -y " + " ".join(shlex.quote(o) for o in s.settings.pm_options)
               + " update")
    s.record(f"{tool} clean all; {tool} update", PASS if res.returncode == 0 else FAIL,
             _last_lines(res.output, 3 if res.returncode == 0 else 6), t0)
    after = s.rpm_qa()
    ours = new.shipped(dist)
    # 3. checks
    t0 = time.monotonic()
    problems = []
    own_vr = f"{new.vr}{dist.tag}"
    for n in new.repo_package_names():
        if after.get(n) != own_vr:
            problems.append(f"{n} is {after.get(n, 'not installed')}, expected {own_vr}")
    for n in [new.metapackage, *new.required_mains(dist)]:
        if n not in after:
            problems.append(f"{n} is not installed")
    old_names = set(old.shipped(dist)) | set(old.repo_package_names())
    for n, vr in sorted(after.items()):
        if n in ours and vr != ours[n]:
            problems.append(f"{n} is {vr}, the new release has {ours[n]}")
        elif n in old_names and n not in ours and n not in new.repo_package_names():
            problems.append(f"{n}-{vr} of {old.release_id} is still installed, the new release does not ship it")
    changed = sorted(n for n in after if n in ours and old_added.get(n) not in (None, after[n]))
    s.record("new versions installed", FAIL if problems else PASS,
             "; ".join(problems) or f"{len(changed)} packages upgraded: {', '.join(changed)}", t0)

    t0 = time.monotonic()
    new_files = packaged_files(news, s.log)
    old_files = packaged_files(olds, s.log)
    problems, notes = [], []
    for repo in new.repos:
        path = f"/etc/yum.repos.d/{repo.repo_file}"
        want = new_files.get(path, ("", ""))[1]
        if not want:
            problems.append(f"{repo.package} does not carry {path}")
            continue
        res = s.sh(f"for f in {shlex.quote(path)} {shlex.quote(path + '.rpmnew')}; do "
                   "if [ -f \"$f\" ]; then sha256sum \"$f\"; else echo \"- $f\"; fi; done")
        sums = {ln.split()[1]: ln.split()[0] for ln in res.output.splitlines() if len(ln.split()) == 2}
        if path == edited:
            packaged_changed = old_files.get(path, ("", ""))[1] != want
            kept = s.sh(f"tail -n 1 {shlex.quote(path)}").output.strip().endswith(LOCAL_EDIT)
            if not kept:
                problems.append(f"{path}: the local edit was not kept")
            if packaged_changed and sums.get(path + ".rpmnew") != want:
                problems.append(f"{path}: edited and changed by the new package, but no matching {path}.rpmnew")
            if not packaged_changed and sums.get(path + ".rpmnew", "-") != "-":
                problems.append(f"{path}.rpmnew although the packaged file did not change")
            notes.append(f"{repo.repo_file} kept (edited)" + (" + .rpmnew" if packaged_changed else ""))
        elif sums.get(path) != want:
            problems.append(f"{path} is not the new package's file ({'missing' if path not in sums else 'differs'})")
        else:
            notes.append(f"{repo.repo_file} new")
    ours_repo = {f"/etc/yum.repos.d/{r.repo_file}" for r in new.repos}
    stale = sorted({p for p in old_files if p.startswith("/etc/yum.repos.d/") and p not in ours_repo})
    if stale:
        res = s.sh("for f in " + " ".join(shlex.quote(p) + "*" for p in stale) + "; do [ -e \"$f\" ] && echo \"$f\"; done; true")
        left = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith("/etc/yum.repos.d/")]
        if left:
            problems.append("left from the previous packages: " + ", ".join(left))
    s.record(".repo files", FAIL if problems else PASS, "; ".join(problems) or ", ".join(notes), t0)

    s.check_repositories(tool)

    t0 = time.monotonic()
    names = sorted(n for n in after if n in ours) + [n for n in new.repo_package_names() if n in after]
    res = s.sh("rpm -V " + " ".join(shlex.quote(n) for n in names))
    lines = [ln for ln in res.output.splitlines() if ln.strip() and not (edited and ln.rstrip().endswith(" " + edited))]
    s.record("rpm -V", FAIL if lines else PASS,
             _first_lines("\n".join(lines), 8) if lines else f"{len(names)} packages clean"
             + (f" (but the local edit of {edited})" if edited else ""), t0)

    t0 = time.monotonic()
    dirs = sorted({d for r in (old, new) for d in (r.parent_dir, *(x.prefix for x in r.repos))})
    res = s.sh("for d in " + " ".join(shlex.quote(d) for d in dirs) + "; do [ -e \"$d\" ] && find \"$d\"; done; true")
    present = {ln.strip() for ln in res.output.splitlines() if ln.strip().startswith(tuple(dirs))}
    owned = {p for p in new_files} | {str(Path(p).parent) for p in new_files}
    owned |= {str(q) for p in new_files for q in Path(p).parents}
    stray = sorted(present - owned)
    s.record("nothing of the old repositories left", FAIL if stray else PASS,
             ("not in the new packages: " + ", ".join(stray[:10]) + (f" (+{len(stray) - 10})" if len(stray) > 10 else ""))
             if stray else f"{len(present)} paths under {', '.join(dirs)}, all the new packages'", t0)
    report.installed = {n: vr for n, vr in after.items() if n in ours}

    # 4. uninstall
    t0 = time.monotonic()
    stack = sorted(n for n in after if n in ours or n in old_names - set(old.repo_package_names()))
    if stack:
        res = s.pm(tool, "erase", stack)
        s.record(f"{tool} erase stack", PASS if res.returncode == 0 else FAIL,
                 f"{len(stack)} packages" if res.returncode == 0 else _last_lines(res.output, 6), t0)
    _erase_repo_packages(s, upgraded or any(n in s.rpm_qa() for n in new.repo_package_names()))
    if edited:  # the operator's own files: the edited %config kept as .rpmsave on erase, and the .rpmnew
        s.sh(f"rm -f {shlex.quote(edited)}.rpmsave {shlex.quote(edited)}.rpmnew")
    _nothing_left(s, ours, also=(old,))


def _run_steps(s: _Session, report: ContainerReport, ours: dict[str, str]) -> None:
    rel = s.release
    before = s.rpm_qa()
    s.exclude()
    repo_ok = s.install_repo_package()

    tool = s.package_manager()
    if repo_ok:
        s.check_repositories(tool)
    else:
        s.record(f"{tool or 'yum'} sees the repositories", SKIP, "the repository packages did not install", time.monotonic())

    # 3. yum install -y <metapackage>
    t0 = time.monotonic()
    install_ok = False
    added: dict[str, str] = {}
    if not repo_ok:
        s.record(f"yum install {rel.metapackage}", SKIP, "the repository package did not install", t0)
    elif not tool:
        s.record(f"yum install {rel.metapackage}", FAIL, f"{s.image} has neither yum nor dnf", t0)
    else:
        res = s.pm(tool, "install", [rel.metapackage])
        after = s.rpm_qa()
        added = {n: vr for n, vr in after.items() if before.get(n) != vr and n not in rel.repo_package_names()}
        gone = sorted(set(before) - set(after))
        name = f"{tool} install {rel.metapackage}"
        if res.returncode != 0:
            s.record(name, FAIL, _last_lines(res.output, 6), t0)
        else:
            install_ok = True
            extra = f"; removed: {', '.join(gone)}" if gone else ""
            s.record(name, PASS, f"{len(added)} packages: {', '.join(sorted(added))}{extra}", t0)
    report.installed = dict(added)

    # 4. checks
    if install_ok:
        _check_packages(s, report, ours, added)
        _check_verify(s, ours, added)
        _check_smoke(s, added)
    else:
        for name in ("packages at manifest versions", "nothing unexpected", "rpm -V", "smoke"):
            s.record(name, SKIP, "the install step failed", time.monotonic())

    # 5. uninstall: the stack, then the repository package
    t0 = time.monotonic()
    stack = sorted(added)
    if not stack:
        s.record("yum erase stack", SKIP, "nothing was installed", t0)
    elif not tool:
        s.record("yum erase stack", SKIP, "no yum or dnf", t0)
    else:
        res = s.pm(tool, "erase", stack)
        s.record(f"{tool} erase stack", PASS if res.returncode == 0 else FAIL,
                 f"{len(stack)} packages" if res.returncode == 0 else _last_lines(res.output, 6), t0)
    _erase_repo_packages(s, repo_ok)
    _nothing_left(s, ours)


def _erase_repo_packages(s: _Session, installed: bool, release: Release | None = None) -> None:
    rel = release or s.release
    t0 = time.monotonic()
    names = rel.repo_package_names()
    step = f"rpm -e {' '.join(names)}"
    if installed:
        res = s.sh("rpm -e " + " ".join(shlex.quote(n) for n in names))
        s.record(step, PASS if res.returncode == 0 else FAIL, "" if res.returncode == 0 else _last_lines(res.output, 4), t0)
    else:
        s.record(step, SKIP, "the repository packages were not installed", t0)


def _nothing_left(s: _Session, ours: Mapping[str, str], also: Sequence[Release] = ()) -> None:
    """No package of ours, nothing under any repository's root or the parent
    directory, no .repo file (nor .rpmnew/.rpmsave) of any repository — of
    the release and of ``also`` (e.g. the release upgraded from)."""
    rel = s.release
    t0 = time.monotonic()
    problems: list[str] = []
    rels = [rel, *also]
    ours_all = set(ours) | {n for r in rels for n in r.repo_package_names()}
    left_pkgs = sorted(f"{n}-{vr}" for n, vr in s.rpm_qa().items() if n in ours_all)
    if left_pkgs:
        problems.append("packages still installed: " + ", ".join(left_pkgs))
    dirs = sorted({d for r in rels for d in (r.parent_dir, *(x.prefix for x in r.repos))})
    res = s.sh("; ".join(f"if [ -e {shlex.quote(d)} ] || [ -L {shlex.quote(d)} ]; then find {shlex.quote(d)} | head -n 50; fi"
                         for d in dirs))
    left_files = sorted({ln.strip() for ln in res.output.splitlines() if ln.strip().startswith(tuple(dirs))})
    if left_files:
        problems.append(f"left under {', '.join(dirs)}: " + ", ".join(left_files[:10]) +
                        (f" (+{len(left_files) - 10})" if len(left_files) > 10 else ""))
    files = sorted({x.repo_file for r in rels for x in r.repos})
    res = s.sh("for f in " + " ".join(shlex.quote(f"/etc/yum.repos.d/{f}") + "*" for f in files)
               + "; do [ -e \"$f\" ] && echo \"$f\"; done; true")
    left_repo = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith("/etc/yum.repos.d/")]
    if left_repo:
        problems.append("repo file left: " + ", ".join(left_repo))
    s.record("nothing left", FAIL if problems else PASS,
             "; ".join(problems) or f"no package of ours, nothing under {rel.parent_dir}, no .repo file of ours", t0)


def _check_packages(s: _Session, report: ContainerReport, ours: dict[str, str], added: dict[str, str]) -> None:
    t0 = time.monotonic()
    rel, dist = s.release, s.dist
    required = [rel.metapackage, *rel.required_mains(dist)]
    problems = [f"{n} was not installed" for n in required if n not in added]
    problems += [f"{n} is {vr}, manifest says {ours[n]}" for n, vr in sorted(added.items())
                 if n in ours and vr != ours[n]]
    if problems:
        s.record("packages at manifest versions", FAIL, "; ".join(problems), t0)
    else:
        got = [f"{n}-{added[n]}" for n in required]
        more = sorted(set(added) & set(ours) - set(required))
        s.record("packages at manifest versions", PASS,
                 ", ".join(got) + (f"; also pulled in: {', '.join(more)}" if more else ""), t0)

    t0 = time.monotonic()
    extras = {n: vr for n, vr in added.items() if n not in ours}
    report.extras = extras
    pats = rel.exclude_patterns(dist.name)
    shadow = sorted(f"{n}-{vr}" for n, vr in extras.items() if any(fnmatch.fnmatchcase(n, p) for p in pats))
    other = sorted(f"{n}-{vr}" for n, vr in extras.items() if not any(fnmatch.fnmatchcase(n, p) for p in pats))
    if shadow:
        s.record("nothing unexpected", FAIL, "packages matching our components that the release does not ship: "
                 + ", ".join(shadow) + (f"; other extras: {', '.join(other)}" if other else ""), t0)
    elif other:
        s.record("nothing unexpected", WARN if s.settings.allow_os_extras else FAIL,
                 "not shipped by the release: " + ", ".join(other), t0)
    else:
        s.record("nothing unexpected", PASS, "every installed package is shipped by the release", t0)


def _check_verify(s: _Session, ours: dict[str, str], added: dict[str, str]) -> None:
    t0 = time.monotonic()
    names = sorted(n for n in added if n in ours) + s.release.repo_package_names()
    res = s.sh("rpm -V " + " ".join(shlex.quote(n) for n in names))
    if res.returncode != 0 or res.output.strip():
        s.record("rpm -V", FAIL, _first_lines(res.output, 8) or f"exit {res.returncode}", t0)
    else:
        s.record("rpm -V", PASS, f"{len(names)} packages clean", t0)


def _check_smoke(s: _Session, added: dict[str, str]) -> None:
    comps: list[Component] = [c for c in s.release.components_for(s.dist.name) if c.smoke]
    if not comps:
        s.record("smoke", SKIP, "no component has a smoke command", time.monotonic())
    for comp in comps:
        t0 = time.monotonic()
        name = f"smoke {comp.name}: {comp.smoke}"
        if not any(p in added for p in comp.packages_for(s.dist.name)):
            s.record(name, SKIP, f"{comp.name} is not installed by {s.release.metapackage}", t0)
            continue
        assert comp.smoke is not None
        res = s.sh(comp.smoke, timeout=120)
        s.record(name, PASS if res.returncode == 0 else FAIL,
                 (_first_lines(res.output, 2) if res.returncode == 0
                  else f"exit {res.returncode}: {_last_lines(res.output, 4)}"), t0)


# -- the install test on one check context (pmrepo.checks.ContainerInstall) ----------------


class InstallGate:
    """The container install test on one :class:`~pmrepo.checks.base.CheckContext`.

    The repository package is ``repo_rpms[dist]`` or, by default, the one in
    ``ctx.rpms`` named ``<name>-<V>-<R><disttag>.<arch>.rpm``; ``installed.json``
    goes to ``outdirs[dist]`` or, by default, beside that package (the release's
    output directory). With ``local_image``, the Debian-based test image is
    built (or reused) and used for every dist. Without a working engine the
    gate fails, unless ``require_engine`` is false: then it passes with a
    warning (the pipeline's fresh-root install check still ran).
    """

    name: ClassVar[str] = "install"  # the check id: install-<dist>.txt, "install gate failed …"

    def __init__(self, release: Release, *, settings: ContainerSettings | None = None,
                 repo_rpms: Mapping[str, Path] | None = None, outdirs: Mapping[str, Path] | None = None,
                 local_image: bool = False, require_engine: bool = True, engine: Engine | None = None,
                 say: Say | None = None) -> None:
        self.release = release
        self.settings = settings or ContainerSettings()
        self.repo_rpms = dict(repo_rpms or {})
        self.outdirs = dict(outdirs or {})
        self.local_image = local_image
        self.require_engine = require_engine
        self.say = say
        self.engine = engine  # detected on first use when None
        self.reports: dict[str, ContainerReport] = {}

    def repo_rpm(self, ctx: CheckContext) -> Path | None:
        if ctx.dist.name in self.repo_rpms:
            return self.repo_rpms[ctx.dist.name]
        want = self.release.repo_rpm_name(ctx.dist)
        return next((p for p in ctx.rpms if p.name == want), None)

    def run(self, ctx: CheckContext) -> Findings:
        report = Findings(self.name, ctx.dist.name)
        rpm = self.repo_rpm(ctx)
        if rpm is None:
            report.error(f"{self.release.name} ({ctx.dist.name})", "repo package",
                         "no repository package among the gate's RPMs — fix: build it first (build.py repo)",
                         "install.repo-package")
            return report
        settings = self.settings
        try:
            if self.engine is None:
                self.engine = detect_engine(settings.engine, settings.containers_conf,
                                             ctx.log(f"install-engine-{ctx.dist.name}.log"))
            if self.local_image:
                info = ensure_image(self.engine, log_dir=ctx.log_dir, say=self.say)
                settings = replace(settings, image=info.ref, images={})
        except ContainerError as exc:
            if self.require_engine:
                report.error(rpm.name, "container engine", str(exc), "install.engine")
            else:
                report.items.append(rpm.name)
                report.warning(rpm.name, "container engine", f"install test not run: {exc}", "install.engine")
            return report
        outdir = self.outdirs.get(ctx.dist.name, rpm.parent)
        res = install_test(self.release, ctx.dist, rpm, outdir=outdir, report_dir=ctx.reports,
                           settings=settings, engine=self.engine, say=self.say)
        self.reports[ctx.dist.name] = res
        for step in res.steps:
            report.items.append(step.name)
            if step.status == FAIL:
                report.error(step.name, "install test", f"{step.detail} (log: {res.log})", "install.step")
            elif step.status == WARN:
                report.warning(step.name, "install test", step.detail, "install.step")
            elif step.status == SKIP:
                report.add(step.name, Severity.INFO, "skipped", step.detail, "install.skipped")
        return report
