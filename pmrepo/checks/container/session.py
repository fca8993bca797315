"""One container and the steps run in it: settings, the session (start,
exclude, install the repository packages, see the repositories, erase, stop),
the report (table, JUnit XML, summary). ``install`` and ``upgrade`` run their
steps in it."""

from __future__ import annotations

import re
import shlex
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...layout import YUM_REPOS_D
from ...manifest import Dist, Release
from ...owner import Owner
from ...progress import Say, table
from ...run import Result
from .engine import OWNER_LABEL, ContainerError, Engine, default_conf, reap_containers

BASE_REPO_FILE = f"{YUM_REPOS_D}/CentOS-Base.repo"
EXCLUDE_SECTIONS = ("base", "updates")
MOUNT_DIR = "/tmp/pmrepo"  # where the repo package appears inside the container
LABEL = "pmrepo.install-test"

PASS, FAIL, SKIP, WARN = "pass", "fail", "skip", "warn"


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


def add_excludes(
    text: str, patterns: Sequence[str], sections: Sequence[str] = EXCLUDE_SECTIONS
) -> tuple[str, list[str]]:
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
        rows = [
            (s.name, s.status.upper() if s.status == FAIL else s.status, f"{s.seconds:.1f}s", s.detail)
            for s in self.steps
        ]
        return table(["step", "status", "time", "detail"], rows)

    def summary(self) -> str:
        if self.ok:
            return (
                f"{self.dist}: {self.kind} test passed in {self.image} ({self.engine}): "
                f"{len(self.installed)} packages installed and erased ({self.seconds:.0f}s)"
            )
        first = self.failures[0] if self.failures else Step("(no steps)", FAIL, "nothing ran")
        more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        where = f" (log: {self.log})" if self.log else ""
        return f"{self.dist}: {self.kind} test failed at '{first.name}': {first.detail}{more}{where}"

    def to_junit(self) -> ET.ElementTree:
        suites = ET.Element("testsuites")
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": f"install.{self.release_id}.{self.dist}",
                "tests": str(len(self.steps)),
                "failures": str(len(self.failures)),
                "errors": "0",
                "skipped": str(sum(1 for s in self.steps if s.status == SKIP)),
                "time": f"{self.seconds:.3f}",
            },
        )
        props = ET.SubElement(suite, "properties")
        for k, v in (("engine", self.engine), ("image", self.image), ("repo_rpm", self.repo_rpm)):
            ET.SubElement(props, "property", {"name": k, "value": v})
        for s in self.steps:
            case = ET.SubElement(
                suite, "testcase", {"classname": f"install.{self.dist}", "name": s.name, "time": f"{s.seconds:.3f}"}
            )
            if s.status == FAIL:
                ET.SubElement(case, "failure", {"message": s.detail[:500]}).text = s.detail
            elif s.status == SKIP:
                ET.SubElement(case, "skipped", {"message": s.detail[:500]})
            elif s.detail:
                ET.SubElement(case, "system-out").text = f"{s.status}: {s.detail}"
        tree = ET.ElementTree(suites)
        ET.indent(tree)
        return tree


def first_lines(text: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    more = f" … (+{len(lines) - n} lines)" if len(lines) > n else ""
    return "; ".join(lines[:n]) + more


def last_lines(text: str, n: int = 4) -> str:
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


class Session:
    """One container, the steps run in it, and what they found."""

    def __init__(
        self,
        engine: Engine,
        settings: ContainerSettings,
        release: Release,
        dist: Dist,
        repo_rpms: Sequence[Path],
        log: Path,
        say: Say,
        *,
        mounts: Mapping[str, Path] | None = None,
    ) -> None:
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
        return self.engine.run(
            args, self.log, check=False, input_text=input_text, timeout=timeout or self.settings.command_timeout
        )

    def rpm_qa(self) -> dict[str, str]:
        res = self.sh(f"rpm -qa --qf '{_QF}'", timeout=300)
        if res.returncode != 0:
            raise ContainerError(f"rpm -qa failed in {self.image}: {first_lines(res.output, 2)} (log: {self.log})")
        out: dict[str, str] = {}
        for line in res.output.splitlines():
            parts = line.strip().split("\t")
            if len(parts) == 2 and parts[0] != "gpg-pubkey":
                out[parts[0]] = parts[1]
        return out

    # steps
    def start(self) -> bool:
        """Start the container, labelled with this run as its owner (a later run removes it if
        this one is killed) — first removing what killed runs left (``reap_containers``)."""
        reap_containers(self.engine, self.log, self.say)
        t0 = time.monotonic()
        owner = [] if self.settings.keep_container else ["--label", f"{OWNER_LABEL}={Owner.me().label()}"]
        args = [
            "run",
            "-d",
            "--name",
            self.name,
            "--label",
            f"{LABEL}={self.release.release_id}.{self.dist.name}",
            *owner,
            "--network",
            self.settings.network,
            *(a for inner, host in sorted(self.mounts.items()) for a in ("-v", f"{host.resolve()}:{inner}:ro")),
            self.image,
            "tail",
            "-f",
            "/dev/null",
        ]
        res = self.engine.run(args, self.log, check=False, timeout=self.settings.command_timeout)
        if res.returncode != 0:
            self.record(
                "start container", FAIL, f"{self.engine.name} run {self.image}: {first_lines(res.output, 3)}", t0
            )
            return False
        self.started = True
        self.record(
            "start container", PASS, f"{self.image} ({self.engine.version}), network={self.settings.network}", t0
        )
        return True

    def stop(self) -> None:
        if self.started and not self.settings.keep_container:
            # kill first: `tail -f` as PID 1 ignores SIGTERM, and `rm -f` would wait out the stop timeout
            self.engine.run(["kill", self.name], self.log, check=False, timeout=300)
            self.engine.run(["rm", "-f", self.name], self.log, check=False, timeout=300)

    def exclude(self, patterns: Sequence[str] | None = None) -> None:
        """``exclude=`` ``patterns`` (default: the release's components of the dist) in [base] and [updates]."""
        t0 = time.monotonic()
        pats = list(patterns) if patterns is not None else self.release.exclude_patterns(self.dist.name)
        res = self.sh(f"test -f {BASE_REPO_FILE} || exit 3; {_CAT_MARKED} {BASE_REPO_FILE}")
        if res.returncode == 3:
            self.record("exclude in CentOS-Base.repo", SKIP, f"the image has no {BASE_REPO_FILE}", t0)
            return
        if res.returncode != 0:
            self.record(
                "exclude in CentOS-Base.repo", FAIL, f"cannot read {BASE_REPO_FILE}: {first_lines(res.output, 2)}", t0
            )
            return
        text, found = add_excludes(_between_marks(res.output), pats)
        missing = [s for s in EXCLUDE_SECTIONS if s not in found]
        wrote = self.sh(f"cat > {BASE_REPO_FILE}", input_text=text)
        back = self.sh(f"{_CAT_MARKED} {BASE_REPO_FILE}")
        if wrote.returncode != 0 or _between_marks(back.output) != text:
            self.record(
                "exclude in CentOS-Base.repo",
                FAIL,
                f"could not rewrite {BASE_REPO_FILE}: {first_lines(wrote.output, 2)}",
                t0,
            )
        elif missing:
            self.record(
                "exclude in CentOS-Base.repo",
                FAIL,
                f"{BASE_REPO_FILE} has no [{'], ['.join(missing)}] section to exclude from",
                t0,
            )
        else:
            self.record("exclude in CentOS-Base.repo", PASS, f"exclude={' '.join(pats)} in [{'], ['.join(found)}]", t0)

    def install_repo_package(
        self, rpms: Sequence[Path] | None = None, release: Release | None = None, verb: str = "-ivh"
    ) -> bool:
        """``rpm -ivh`` (or ``-Uvh``) the repository packages; each must leave its
        .repo file with its section."""
        t0 = time.monotonic()
        rpms = list(rpms or self.repo_rpms)
        rel = release or self.release
        res = self.sh(f"rpm {verb} " + " ".join(shlex.quote(self.inner[p]) for p in rpms))
        name = f"rpm {verb} {' '.join(p.name for p in rpms)}"
        if res.returncode != 0:
            self.record(name, FAIL, last_lines(res.output, 4), t0)
            return False
        names = {n for p in rpms for n in rel.repo_package_names() if p.name.startswith(f"{n}-{rel.version}-")}
        problems, found = [], []
        for repo in rel.repositories:
            if repo.package not in names:
                continue
            repo_file = repo.repo_path
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
        opts = "".join(f"{shlex.quote(o)} " for o in self.settings.pm_options)
        res = self.sh(
            f"{tool} -y -v {opts}repolist enabled 2>&1; echo {_MARK} $?; "
            + "; ".join(
                f"echo {shlex.quote(r.repo_id)} $(ls {shlex.quote(r.rpm_dir)} 2>/dev/null | grep -c '\\.rpm$')"
                for r in rel.repositories
            )
        )
        listing, _, after = res.output.partition(_MARK + " ")
        status, _, counts = after.partition("\n")
        if status.strip() != "0":  # the listing itself failed (an unknown --container-pm-opt, a dead mirror)
            errors = [ln.strip() for ln in listing.splitlines() if "error" in ln.lower()]  # not the usage text
            said = "; ".join(errors[-2:]) if errors else last_lines(listing)
            self.record(name, FAIL, f"{tool} repolist exit {status.strip() or '?'}: {said}", t0)
            return False
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
        for repo in rel.repositories:
            if repo.repo_id not in seen:
                problems.append(f"[{repo.repo_id}] not listed")
            elif seen[repo.repo_id] != tree.get(repo.repo_id, -1):
                problems.append(
                    f"[{repo.repo_id}] has {seen[repo.repo_id]} packages, {repo.rpm_dir} holds "
                    f"{tree.get(repo.repo_id, 0)}"
                )
        if problems:
            self.record(name, FAIL, "; ".join(problems), t0)
            return False
        keys = _imported_keys(listing)
        self.record(
            name,
            PASS,
            ", ".join(f"[{r.repo_id}] {seen[r.repo_id]}" for r in rel.repositories)
            + (f"; GPG key imported from gpgkey=: {', '.join(keys)}" if keys else ""),
            t0,
        )
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
        rest = [main.parent / name for name in release.repo_rpm_names(dist)[1:]]
        rpms = [main, *rest]
    for p in rpms:
        if not p.is_file():
            raise ContainerError(f"{p}: repository package not found — fix: build it first (build.py repo)")
    return rpms


def erase_repo_packages(s: Session, installed: bool, release: Release | None = None) -> None:
    rel = release or s.release
    t0 = time.monotonic()
    names = rel.repo_package_names()
    step = f"rpm -e {' '.join(names)}"
    if installed:
        res = s.sh("rpm -e " + " ".join(shlex.quote(n) for n in names))
        s.record(
            step, PASS if res.returncode == 0 else FAIL, "" if res.returncode == 0 else last_lines(res.output, 4), t0
        )
    else:
        s.record(step, SKIP, "the repository packages were not installed", t0)


def repo_roots(rels: Sequence[Release]) -> list[str]:
    """The directories the releases' repository packages install under (parent and each root)."""
    return sorted({d for r in rels for d in (r.parent_dir, *(x.prefix for x in r.repositories))})


def paths_under(s: Session, dirs: Sequence[str], limit: int | None = None) -> set[str]:
    """Every path under ``dirs`` in the container (a dangling symlink too), at most ``limit`` per directory."""
    cut = f" | head -n {limit}" if limit else ""
    quoted = [shlex.quote(d) for d in dirs]
    res = s.sh("; ".join(f"if [ -e {q} ] || [ -L {q} ]; then find {q}{cut}; fi" for q in quoted) + "; true")
    return {ln.strip() for ln in res.output.splitlines() if ln.strip().startswith(tuple(dirs))}


def some(items: Sequence[str], n: int = 10) -> str:
    """The first ``n`` of ``items``, and how many more."""
    return ", ".join(items[:n]) + (f" (+{len(items) - n})" if len(items) > n else "")


def nothing_left(s: Session, ours: Mapping[str, str], also: Sequence[Release] = ()) -> None:
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
    dirs = repo_roots(rels)
    left_files = sorted(paths_under(s, dirs, limit=50))
    if left_files:
        problems.append(f"left under {', '.join(dirs)}: {some(left_files)}")
    files = sorted({x.repo_file for r in rels for x in r.repositories})
    res = s.sh(
        "for f in "
        + " ".join(shlex.quote(f"{YUM_REPOS_D}/{f}") + "*" for f in files)
        + '; do [ -e "$f" ] && echo "$f"; done; true'
    )
    left_repo = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith(f"{YUM_REPOS_D}/")]
    if left_repo:
        problems.append("repo file left: " + ", ".join(left_repo))
    s.record(
        "nothing left",
        FAIL if problems else PASS,
        "; ".join(problems) or f"no package of ours, nothing under {rel.parent_dir}, no .repo file of ours",
        t0,
    )
