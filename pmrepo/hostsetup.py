"""Install what this project needs on a fresh Debian/Ubuntu or Fedora/RHEL host.

Standard library only: it runs before the Python dependencies exist. It is
idempotent and quick when everything is present (no package manager call).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from . import defaults
from .errors import PmrepoError
from .layout import run_logs
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
    "debootstrap": ("debootstrap", "debootstrap"),  # the container install test's local image
    "zstd": ("zstd", "zstd"),  # the compatibility gate's test makes zstd metadata with it
    "sha256sum": ("coreutils", "coreutils"),
    # the release page test renders the notes in a real browser (headless, driven by selenium)
    "chromium": ("chromium", "chromium"),
    "chromedriver": ("chromium-driver", "chromedriver"),
}
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
    "spdx_tools",
    "in_toto_attestation",
    "securesystemslib",
    "packageurl",
)
# (ruff, mypy and the stubs mypy needs: `make check`; "requests-stubs" is what types-requests installs)
TEST_MODULES = ("pytest", "yaml", "setuptools", "wheel", "selenium", "ruff", "mypy", "requests-stubs")


def _sh(argv: list[str]) -> None:
    print("+", " ".join(argv), f"(log: {LOG})", flush=True)
    run(argv, log_file=LOG, env={"DEBIAN_FRONTEND": "noninteractive"})


def missing_packages(debian: bool) -> list[str]:
    idx = 0 if debian else 1
    pkgs = {pkgs[idx] for cmd, pkgs in TOOLS.items() if shutil.which(cmd) is None}
    pkgs |= {names[idx] for names, path in EXTRA.items() if not Path(path).exists()}
    return sorted(pkgs)


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


def setup() -> int:
    debian = shutil.which("apt-get") is not None
    fedora = not debian and shutil.which("dnf") is not None and Path("/etc/redhat-release").exists()
    try:
        pkgs = missing_packages(debian)
        if pkgs:
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            if debian:
                _sh([*sudo, "apt-get", "update", "-qq"])
                _sh([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *pkgs])
            elif fedora:
                _sh([*sudo, "dnf", "install", "-y", *pkgs, "mock"])
            else:
                print(f"setup: unknown host; install these yourself: {' '.join(pkgs)}", file=sys.stderr)
                return 2
        else:
            print("setup: system tools present")
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
    except PmrepoError as exc:
        print(f"setup: error: {exc}", file=sys.stderr)
        return 1
    return 0
