"""Install what this project needs on a fresh Debian/Ubuntu or Fedora/RHEL host.

Standard library only: it runs before the Python dependencies exist. It is
idempotent and quick when everything is present (no package manager call).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import sys
import sysconfig
from pathlib import Path

from . import defaults
from .errors import PmrepoError
from .layout import mock_reference_venv, run_logs
from .run import run

# command that must exist -> (Debian package, Fedora package)
TOOLS: dict[str, tuple[str, str]] = {
    "rpm": ("rpm", "rpm"),
    "rpmbuild": ("rpm", "rpm-build"),
    "rpmspec": ("rpm", "rpm-build"),
    "rpmsign": ("rpm", "rpm-sign"),
    "rpm2archive": ("rpm", "rpm"),
    "createrepo_c": ("createrepo-c", "createrepo_c"),
    "rpmlint": ("rpmlint", "rpmlint"),
    "dnf": ("dnf", "dnf"),
    "podman": ("podman", "podman"),
    "runc": ("runc", "runc"),
    "gpg": ("gnupg", "gnupg2"),
    "rsync": ("rsync", "rsync"),
    "eu-strip": ("elfutils", "elfutils"),
    "find-debuginfo": ("debugedit", "debugedit"),
    "cpio": ("cpio", "cpio"),
    "gcc": ("gcc", "gcc"),
    "make": ("make", "make"),
    "unshare": ("util-linux", "util-linux"),
    "setpriv": ("util-linux", "util-linux"),  # builds drop to the build user (sandbox.py)
    "useradd": ("passwd", "shadow-utils"),  # creates that user
    "debootstrap": ("debootstrap", "debootstrap"),  # the container install test's local image
    "zstd": ("zstd", "zstd"),  # the compatibility gate's test makes zstd metadata with it
    "sha256sum": ("coreutils", "coreutils"),
    "git": ("git", "git"),  # `upstream` lists a repository's tags with git ls-remote
    "man": ("man-db", "man-db"),  # tests/test_package.py renders the installed pmrepo(1) with man
    # the release page test renders the notes in a real browser (headless, driven by selenium)
    "chromium": ("chromium", "chromium"),
    "chromedriver": ("chromium-driver", "chromedriver"),
    # tests/integration/test_workflow.py: actionlint (requirements-test.txt) checks the workflows' run: blocks with it
    "shellcheck": ("shellcheck", "ShellCheck"),
}
# Debian packages Ubuntu does not have as such: its chromium-browser and chromium-chromedriver debs
# only install the Chromium snap, which cannot read pages outside the home directory. There the
# release page test takes a browser that is not a snap (GitHub's runners have /usr/bin/chromium,
# google-chrome and a matching chromedriver), or the one PMREPO_BROWSER names.
NOT_ON_UBUNTU = {"chromium", "chromium-driver"}
# extra packages with no single command to probe: (Debian, Fedora) -> a path that proves it is installed
EXTRA: dict[tuple[str, str], str] = {
    ("dnf-plugins-core", "dnf-plugins-core"): "/usr/share/doc/dnf-plugins-core",
    # Japanese glyphs for the release page test's screenshots (and its line wrapping)
    ("fonts-ipafont-gothic", "ipa-gothic-fonts"): "/usr/share/fonts/opentype/ipafont-gothic",
}


LOG = run_logs(defaults.workdir()) / "setup.log"
# Python packages: runtime (requirements.txt, the package's dependencies) and, in a checkout, the
# test suite's (requirements-test.txt), as the modules they provide
RUNTIME_MODULES = (
    "jinja2",
    "markdown_it",
    "requests",
    "tomlkit",
    "nvchecker",
    "defusedxml",
    "spdx_tools",
    "in_toto_attestation",
    "securesystemslib",
    "packageurl",
)
# (ruff, mypy and the stubs mypy needs: `make check`; "requests-stubs" is what types-requests installs)
TEST_MODULES = (
    "pytest",
    "yaml",
    "setuptools",
    "wheel",
    "selenium",
    "ruff",
    "mypy",
    "requests-stubs",
    "defusedxml-stubs",
)


def _sh(argv: list[str]) -> None:
    print("+", " ".join(argv), f"(log: {LOG})", flush=True)
    run(argv, log_file=LOG, env={"DEBIAN_FRONTEND": "noninteractive"})


def missing_packages(debian: bool, ubuntu: bool = False) -> list[str]:
    idx = 0 if debian else 1
    pkgs = {pkgs[idx] for cmd, pkgs in TOOLS.items() if shutil.which(cmd) is None}
    pkgs |= {names[idx] for names, path in EXTRA.items() if not Path(path).exists()}
    return sorted(pkgs - NOT_ON_UBUNTU if ubuntu else pkgs)


def is_ubuntu(os_release: Path = Path("/etc/os-release")) -> bool:
    """Whether the host is Ubuntu (or says it is like Ubuntu), from os-release(5)."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return False
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    ids = fields.get("ID", "").strip("\"'").split() + fields.get("ID_LIKE", "").strip("\"'").split()
    return "ubuntu" in ids


def python_missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def pins_unmet(requirements: Path) -> list[str]:
    """The ``name==version`` pins of a requirements file whose distribution is missing or
    another version (the linters' findings change between releases: the pin is what counts)."""
    unmet = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if not sep:
            continue
        try:
            installed = importlib.metadata.version(name.strip())
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version.strip():
            unmet.append(f"{name.strip()}=={version.strip()}")
    return unmet


def install_commands(pkgs: list[str], debian: bool, root: bool) -> list[list[str]]:
    """The package manager calls that install ``pkgs`` (Debian/Ubuntu: apt-get; else dnf, with mock).
    Not root (a GitHub runner, a developer's machine): through ``sudo -n`` — no password prompt
    without a terminal, a refusal instead — with ``env`` carrying DEBIAN_FRONTEND past sudo's
    environment reset."""
    sudo = [] if root else ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    if debian:
        return [
            [*sudo, "apt-get", "update", "-qq"],
            [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *pkgs],
        ]
    return [[*sudo, "dnf", "install", "-y", *pkgs, "mock"]]


# the system pythons that can carry Debian's/Fedora's rpm bindings (python3-rpm)
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/libexec/platform-python")
MOCKREF_REQUIREMENTS = "requirements-mockref.txt"


def _system_python_with_rpm() -> str | None:
    for python in SYSTEM_PYTHONS:
        if Path(python).exists() and run([python, "-c", "import rpm, venv"], check=False).returncode == 0:
            return python
    return None


def mock_reference(checkout: Path, debian: bool) -> None:
    """The venv the contract tests run mock 6.7's own code in (tests/mock_reference.py): a system
    python with rpm's bindings (--system-site-packages) and mock's requirements, pinned; made again
    only when the pins change."""
    venv = mock_reference_venv(defaults.workdir())
    pins = (checkout / MOCKREF_REQUIREMENTS).read_text(encoding="utf-8")
    stamp = venv / "pmrepo-requirements.txt"
    if (venv / "bin" / "python").exists() and stamp.is_file() and stamp.read_text(encoding="utf-8") == pins:
        print("setup: mock reference venv present")
        return
    python = _system_python_with_rpm()
    # Debian's venv needs python3-venv (ensurepip's wheels), Fedora's python has them
    if python is None or (debian and not Path("/usr/share/doc/python3-venv").exists()):
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
        if debian:
            _sh([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-rpm", "python3-venv"])
        else:
            _sh([*sudo, "dnf", "install", "-y", "python3-rpm"])
        python = _system_python_with_rpm()
    if python is None:
        raise PmrepoError(
            f"no system python with the rpm bindings ({', '.join(SYSTEM_PYTHONS)}) — fix: install python3-rpm"
        )
    shutil.rmtree(venv, ignore_errors=True)
    _sh([python, "-m", "venv", "--system-site-packages", str(venv)])
    _sh([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(checkout / MOCKREF_REQUIREMENTS)])
    stamp.write_text(pins, encoding="utf-8")


def ensure_build_user(name: str = defaults.BUILD_USER) -> None:
    """The unprivileged user builds run as when pmrepo is root (sandbox.py): a
    system user with its own group, no home and no login shell. Only root can create it;
    without it a root pmrepo builds as SUDO_UID, or refuses."""
    try:
        pwd.getpwnam(name)
        print(f"setup: build user {name} present")
        return
    except KeyError:
        pass
    if os.geteuid() != 0:
        print(f"setup: no build user {name} (only root creates it; pmrepo run as you builds as you)")
        return
    nologin = shutil.which("nologin") or "/usr/sbin/nologin"
    _sh(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", nologin, "--comment", "pmrepo package builds", name])  # fmt: skip


def setup() -> int:
    debian = shutil.which("apt-get") is not None
    fedora = not debian and shutil.which("dnf") is not None and Path("/etc/redhat-release").exists()
    ubuntu = debian and is_ubuntu()
    try:
        pkgs = missing_packages(debian, ubuntu)
        skipped = sorted(set(missing_packages(debian)) - set(pkgs))
        if skipped:
            print(
                f"setup: not installing {', '.join(skipped)} on Ubuntu (a snap there) — the release page test "
                "needs a browser that is not a snap and its chromedriver: set PMREPO_BROWSER to it",
                file=sys.stderr,
            )
        if pkgs:
            if not (debian or fedora):
                print(f"setup: unknown host; install these yourself: {' '.join(pkgs)}", file=sys.stderr)
                return 2
            for argv in install_commands(pkgs, debian, os.geteuid() == 0):
                _sh(argv)
        else:
            print("setup: system tools present")
        ensure_build_user()
        checkout = defaults.checkout()
        missing = python_missing(RUNTIME_MODULES + (TEST_MODULES if checkout else ()))
        if checkout is not None:
            missing += pins_unmet(checkout / "requirements.txt") + pins_unmet(checkout / "requirements-test.txt")
        if missing and checkout is None:
            print(
                f"setup: Python modules {', '.join(missing)} are missing — fix: reinstall the package "
                "(pip install pmrepo pulls in its dependencies)",
                file=sys.stderr,
            )
            return 1
        if missing:
            assert checkout is not None
            pip = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(checkout / "requirements.txt"),
                "-r",
                str(checkout / "requirements-test.txt"),
            ]
            # a distribution's own Python (PEP 668, e.g. Debian 12's /usr/bin/python3) refuses
            # plain pip installs; outside a virtualenv we install for this user instead
            marker = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
            if marker.exists() and sys.prefix == sys.base_prefix:
                pip += ["--user", "--break-system-packages"]
            _sh(pip)
        else:
            print("setup: Python packages present")
        if checkout is not None:
            mock_reference(checkout, debian)
    except PmrepoError as exc:
        print(f"setup: error: {exc}", file=sys.stderr)
        return 1
    return 0
