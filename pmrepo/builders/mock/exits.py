"""mock's versions, exit codes and errors: what pmrepo needs of mock, and what each way mock can
end means (the error class, defined here, the log that explains it, the fix). Used by the mock backend
(``mock.py``)."""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import BuildError
from ...run import TAIL_LINES
from ..base import BuildRequest

# -- the errors: one class per way mock can end (all BuildError, under PmrepoError)


class MockError(BuildError):
    """mock exited non-zero; ``log`` is the log that explains it, ``tail`` its end."""

    def __init__(self, message: str, log: Path | None = None, tail: str = "", returncode: int = 1) -> None:
        self.returncode = returncode
        super().__init__(message, log=log, tail=tail)


class MockArgumentError(MockError):
    """mock exit 5 (BadCmdline: a bad option value, or "Bad macros" in a config), or 2 (argparse's
    usage error; an unknown option for an optparse-era mock): it rejected its command line or macros."""


class MockConfigError(MockError):
    """mock exit 3 (ConfigError): a config that does not exist, cannot be included or raises."""


class MockArchError(MockError):
    """mock exit 6 (InvalidArchitecture): in mock 6.x mostly a target the host cannot run natively
    (not in legal_host_arches) with qemu-user-static missing for the --forcearch emulation."""


class MockBuildError(MockError):
    """mock exit 10: the package's own build failed (build.log)."""


class MockTimeoutError(MockError):
    """mock exit 11: a command inside the chroot timed out."""


class MockRootError(MockError):
    """mock exit 20: error in the chroot (root.log)."""


class MockLvmError(MockError):
    """mock exit 25 (LVM manipulation failed) or 65 (LVM thinpool locked)."""


class MockPackageManagerError(MockError):
    """mock exit 30: yum could not set up the build root (root.log)."""


class MockExternalDepsError(MockError):
    """mock exit 31: an unknown external dependency (root.log)."""


class MockPackageError(MockError):
    """mock exit 40 (PkgError): the chroot's rpm could not install the SRPM, it holds no spec, or
    the build left no results (mockbuild/backend.py)."""


class MockLockedError(MockError):
    """mock exit 60: another process holds the build root."""


class MockResultDirError(MockError):
    """mock exit 70: the result directory could not be created or written."""


class MockUnshareError(MockError):
    """mock exit 80: unshare(2) of a namespace failed."""


class MockBootstrapError(MockError):
    """mock exit 90: the bootstrap chroot could not be set up."""


class MockStateError(MockError):
    """mock exit 110: unbalanced state calls inside mock (state.log)."""


class MockVersionError(MockError):
    """The installed mock is older than the features pmrepo uses."""


class MockPrivilegeError(MockError):
    """mock exit 2 from its EPERM path (run without the setuid wrapper / consolehelper), or mock
    refusing the plain root account (no SUDO_UID/USERHELPER_UID), even for ``--version``."""


class MockChainError(MockError):
    """mock exit 4: only some packages were built during --chain."""


class MockInterruptedError(MockError):
    """mock exit 7 (Ctrl-C) or 128+n (SIGHUP 129, SIGPIPE 141, SIGTERM 143): mock was stopped."""


class MockBuildDepsToolError(MockError):
    """mock exit 120: the package manager's builddep tool (yum-builddep of yum-utils, dnf builddep
    of dnf-plugins-core) is missing where mock runs it: the bootstrap chroot."""


#: The oldest mock with every feature this backend uses, and why.
MOCK_FEATURES: tuple[tuple[tuple[int, ...], str], ...] = (
    ((1, 4, 5), "-N/--no-cleanup-after"),
    ((2, 0), "--isolation and bootstrap images"),
    ((2, 1), "config_opts['ssl_ca_bundle_path'] (el6 reaches EPEL over https)"),
    ((2, 5), "config_opts['user_agent'] ({{ user_agent }} in the config's yum.conf, as mock's templates)"),
)
MIN_MOCK_VERSION, MIN_MOCK_REASON = max(MOCK_FEATURES)
#: mock >= 2.13 parses with parse_known_args: an unknown option becomes an SRPM path.
KNOWN_ARGS_SINCE = (2, 13)
VERSION_RE = re.compile(r"\b(\d+)\.(\d+)(?:\.(\d+))?\b")

#: mock's exit codes: (error class, what it means, logs that explain it (first non-empty wins), fix).
#: Written from mockbuild/exception.py (the result-code comment and get_class_by_code, commit 4bc80c3)
#: and the exits of mock.py (commit 08c4e28: EPERM -> 2, KeyboardInterrupt -> 7, handle_signals ->
#: 128 + signal for SIGHUP/SIGPIPE/SIGTERM) and package_manager.py (sys.exit(120)). 2 has two
#: meanings: the option parser's usage error (an unknown option for optparse-era mock < 2.13, a bad
#: option value for both generations) and "run without the setuid wrapper" (EPERM): the message
#: tells them apart from mock's output (EPERM_RE). 4 comes from --chain only (pmrepo does not use it).
EXIT_CODES: dict[int, tuple[type[MockError], str, tuple[str, ...], str]] = {
    2: (
        MockArgumentError,
        "rejected its command line (argparse usage error)",
        ("mock.log",),
        f"check the option values in mock.log; pmrepo needs mock >= {'.'.join(map(str, MIN_MOCK_VERSION))}",
    ),
    3: (
        MockConfigError,
        "found a configuration missing or invalid (ConfigError)",
        ("mock.log",),
        "check the -r config (mock.cfg in the job directory), the --mock-opt values, and the configs mock "
        "reads besides it: /etc/mock/site-defaults.cfg, ~/.mock/user.cfg, ~/.config/mock.cfg",
    ),
    4: (
        MockChainError,
        "built only some packages of a --chain",
        ("mock.log",),
        "pmrepo runs --rebuild, not --chain: check mock_cmd is mock itself, not a wrapper",
    ),
    5: (
        MockArgumentError,
        "rejected its command line or a config's macros (BadCmdline)",
        ("mock.log",),
        "check the option values and macros named in mock.log (--mock-opt, the manifest's dist macros); "
        f"pmrepo needs mock >= {'.'.join(map(str, MIN_MOCK_VERSION))}",
    ),
    6: (
        MockArchError,
        "cannot build this architecture here (InvalidArchitecture)",
        ("mock.log",),
        "build x86_64 targets on an x86_64 host (legal_host_arches); mock 6.x emulates other hosts with "
        "--forcearch only where qemu-user-static is installed",
    ),
    7: (
        MockInterruptedError,
        "was interrupted (Ctrl-C)",
        ("mock.log",),
        "rerun the build; nothing of the interrupted job is kept",
    ),
    10: (
        MockBuildError,
        "build failed",
        ("build.log", "mock.log"),
        "fix the spec or sources; the package's own build failed in the chroot",
    ),
    11: (
        MockTimeoutError,
        "command timed out",
        ("build.log", "mock.log"),
        "the build exceeded mock's rpmbuild_timeout/opstimeout",
    ),
    20: (
        MockRootError,
        "could not set up the chroot",
        ("root.log", "mock.log"),
        "check root.log (mounts, chroot_setup_cmd)",
    ),
    25: (MockLvmError, "LVM manipulation failed", ("mock.log",), "check the lvm_root plugin's volume group"),
    30: (
        MockPackageManagerError,
        "package manager failed",
        ("root.log", "mock.log"),
        "a BuildRequires is missing from the dist's repositories or a mirror is unreachable "
        "(set PMREPO_MIRROR_<REPOID> for an internal mirror)",
    ),
    31: (
        MockExternalDepsError,
        "could not resolve an external dependency",
        ("root.log", "mock.log"),
        "the external: BuildRequires is unknown to mock",
    ),
    40: (
        MockPackageError,
        "could not use the SRPM (PkgError)",
        ("mock.log",),
        "the chroot's rpm could not install the SRPM (built with a newer rpm's payload or digest than the "
        "chroot reads?), it holds no spec, or the build left no results (root.log shows the rpm run)",
    ),
    50: (MockError, "mode error", ("mock.log",), "check mock.log"),
    60: (
        MockLockedError,
        "build root is locked by another process",
        ("mock.log", "root.log"),
        "another mock run uses this root and unique extension; wait for it, or set a different uniqueext_prefix",
    ),
    65: (MockLvmError, "LVM thinpool is locked", ("mock.log",), "another mock run holds the thinpool; wait for it"),
    70: (
        MockResultDirError,
        "could not create the result directory (ResultDirNotAccessible)",
        ("mock.log",),
        "mock creates it as the invoking user (SUDO_UID under sudo): the work directory and its parents "
        "must be reachable by that user (pmrepo makes each job directory theirs)",
    ),
    80: (
        MockUnshareError,
        "unshare(2) of a namespace failed",
        ("mock.log",),
        "run mock on a host (or privileged container) that allows namespaces",
    ),
    90: (
        MockBootstrapError,
        "bootstrap chroot failed",
        ("root.log", "mock.log"),
        "check the bootstrap image / mirrors, or set --mock-opt use_bootstrap_image=0",
    ),
    110: (
        MockStateError,
        "made unbalanced state calls",
        ("state.log", "mock.log"),
        "a mock bug or plugin error: see state.log",
    ),
    120: (
        MockBuildDepsToolError,
        "found no builddep tool for the package manager",
        ("root.log", "mock.log"),
        "mock runs yum-builddep in the bootstrap chroot: its config_opts['yum_install_command'] (mock's "
        "default 'install yum yum-utils') must install yum-utils, or the bootstrap image must carry it",
    ),
    129: (
        MockInterruptedError,
        "was stopped by SIGHUP (its console closed)",
        ("mock.log",),
        "run long builds detached from the terminal (nohup, tmux, CI); rerun the build",
    ),
    141: (
        MockInterruptedError,
        "was stopped by SIGPIPE (its output pipe closed)",
        ("mock.log",),
        "keep the reader of pmrepo's output open (e.g. no `| head`); rerun the build",
    ),
    143: (
        MockInterruptedError,
        "was stopped by SIGTERM (something killed it)",
        ("mock.log",),
        "check what killed it (CI timeout, OOM handling, a shutdown); rerun the build",
    ),
}
#: mock.py's EPERM path (exit 2): "... running /usr/libexec/mock/mock as an unprivileged user."
EPERM_RE = re.compile(r"(Operation not permitted|/usr/libexec/mock/mock|setuid wrapper)")
EPERM_FIX = (
    "run mock through its wrapper as a user in the 'mock' group (usermod -a -G mock USER), "
    "or as root under sudo; never /usr/libexec/mock/mock directly"
)
#: mock.py's rootcheck(): the root account without SUDO_UID/USERHELPER_UID is refused (exit 1).
PLAIN_ROOT_RE = re.compile(r"will not run from the root account")
RESULT_LOGS = ("build.log", "root.log", "state.log", "hw_info.log", "installed_pkgs.log")
UNKNOWN_OPTION_RE = re.compile(r"no such option: (\S+)")  # optparse (mock < 2.13), exit 2
OPTION_AS_SRPM_RE = re.compile(r"Cannot find/open srpm: (-\S*)")  # parse_known_args (mock >= 2.13), exit 1


def parse_version(text: str) -> tuple[int, ...] | None:
    m = VERSION_RE.search(text)
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def format_version(v: tuple[int, ...]) -> str:
    return ".".join(map(str, v))


def mock_error(req: BuildRequest, code: int, outdir: Path) -> MockError:
    """The typed error for mock's exit ``code`` (EXIT_CODES), with the log that explains it."""
    mock_log = outdir / "mock.log"
    output = mock_log.read_text(errors="replace") if mock_log.is_file() else ""
    need = format_version(MIN_MOCK_VERSION)
    # an option this mock does not know: optparse-era mock exits 2; parse_known_args-era
    # mock takes it as an SRPM path and fails to open it (exit 1)
    if code == 2 and EPERM_RE.search(output):
        tail, last = explaining_tail(mock_log)
        return MockPrivilegeError(
            f"{req.component} ({req.dist.name}): mock was run without its setuid wrapper "
            f"(exit 2, EPERM); mock.log: {last} — fix: {EPERM_FIX}",
            log=mock_log,
            tail=tail,
            returncode=code,
        )
    m = UNKNOWN_OPTION_RE.search(output) if code == 2 else (OPTION_AS_SRPM_RE.search(output) if code == 1 else None)
    if m:
        how = "rejected unknown option" if code == 2 else "took unknown option as an SRPM path:"
        tail, _ = explaining_tail(mock_log)
        option = m.group(1).rstrip(".")
        return MockArgumentError(
            f"{req.component} ({req.dist.name}): mock {how} {option} (exit {code}); "
            f"mock.log: {m.group(0).rstrip('.')} — fix: install mock >= {need} "
            f"(pmrepo needs it for {MIN_MOCK_REASON})",
            log=mock_log,
            tail=tail,
            returncode=code,
        )
    cls, meaning, candidates, fix = EXIT_CODES.get(
        code, (MockError, "failed", ("mock.log", "state.log"), "check mock.log and state.log")
    )
    log = outdir / candidates[-1]
    for name in candidates:
        path = outdir / name
        if path.is_file() and path.read_text(errors="replace").strip():
            log = path
            break
    tail, last = explaining_tail(log)
    return cls(
        f"{req.component} ({req.dist.name}): mock {meaning} (exit {code}); {log.name}: {last} — fix: {fix}",
        log=log,
        tail=tail,
        returncode=code,
    )


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
