"""Every command-line option, one row each (``GROUPS``): its flags, argparse's keywords and how
its value becomes the ``options.Options`` field of its ``dest``. ``cli.COMMANDS`` names the groups
each subcommand takes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import UsageError

DEMO = defaults.DEMO_RELEASE


@dataclass(frozen=True)
class Opt:
    """One CLI option: its flags, argparse's keywords, and how its value becomes the ``Options``
    field of the same name (``dest``); options that name no ``Options`` field are read by the
    command itself (``Command.call``) or by ``_backend_options``."""

    flags: tuple[str, ...]
    kw: Mapping[str, Any]
    convert: Callable[[Any], Any] | None = None  # applied to a value that is not None

    @property
    def dest(self) -> str:
        return str(self.kw.get("dest") or self.flags[0].lstrip("-").replace("-", "_"))


def opt(*flags: str, convert: Callable[[Any], Any] | None = None, **kw: Any) -> Opt:
    return Opt(flags, kw, convert)


def _resolved(path: Path) -> Path:
    return path.resolve()


def _pm_options(values: list[str]) -> tuple[str, ...]:
    """``--container-pm-opt`` values: each one option of yum/dnf (``-…``), one line."""
    for value in values:
        if not value.startswith("-") or any(c.isspace() or ord(c) < 32 for c in value):
            raise UsageError(
                f"--container-pm-opt {value!r}: not one yum/dnf option — fix: give e.g. "
                "--container-pm-opt=--setopt=skip_if_unavailable=1 (no spaces; repeat for more)"
            )
    return tuple(values)


# option group -> its options (subcommands pick the groups they use)
GROUPS: dict[str, tuple[Opt, ...]] = {
    "release": (opt("--release", type=Path, default=DEMO, help="release manifest (default: the offline demo)"),),
    "dist": (
        opt(
            "--dist",
            dest="dists",
            action="append",
            default=[],
            metavar="DIST",
            convert=tuple,
            help="only this dist (repeatable)",
        ),
    ),
    "workdir": (
        opt(
            "--workdir",
            type=Path,
            default=defaults.workdir(),
            convert=_resolved,
            help="work directory (default: work/ of the checkout, or of the current directory)",
        ),
    ),
    "outdir": (
        opt(
            "--outdir",
            type=Path,
            default=defaults.outdir(),
            convert=_resolved,
            help="output directory (default: repo/ of the checkout, or of the current directory)",
        ),
    ),
    "backend": (
        opt(
            "--backend",
            choices=["rpmbuild", "mock"],
            default=os.environ.get("PMREPO_BACKEND", "rpmbuild"),
            help="build backend (default: rpmbuild, or $PMREPO_BACKEND)",
        ),
        opt(
            "--mock-opt",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="mock backend option: isolation=simple|nspawn, keep_roots=1, root_cache=0|1, yum_cache=0|1, "
            "ccache=0|1, use_bootstrap_image=0|1, bootstrap_image[.<dist>]=IMAGE, mock_cmd=PATH, "
            "mirror.[<dist>/]<repoid>=URL, enable.[<dist>/]<repoid>=0|1",
        ),
        opt(
            "--clean-roots",
            action="store_true",
            help="mock: give every build a freshly initialised build root (default: one root per dist and "
            "slot for the whole run, cleaned at its end)",
        ),
        opt(
            "--host-buildrequires",
            action="store_true",
            help="rpmbuild backend, for spec development: take BuildRequires this host cannot show (no rpmdb, "
            "e.g. Debian's -dev packages) as provided by its own packages; the result is marked NOT "
            "shippable and publish refuses it",
        ),
    ),
    "mock_clean": (
        opt(
            "--mock-opt",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="mock_cmd=PATH, uniqueext_prefix=PREFIX (as the runs used them)",
        ),
    ),
    "component": (
        opt(
            "--component",
            dest="components",
            action="append",
            default=[],
            metavar="NAME",
            convert=tuple,
            help="build only NAME and what it needs from the chain (repeatable)",
        ),
    ),
    "build": (
        opt("--jobs", "-j", type=int, default=None, help="parallel build jobs (default: per backend and cores)"),
        opt(
            "--force",
            nargs="?",
            const="*",
            action="append",
            default=[],
            metavar="COMPONENT",
            convert=frozenset,
            help="rebuild everything, or only COMPONENT (repeatable); a build reused from the previous release is "
            "taken from its output again, not rebuilt (bump its release to rebuild it)",
        ),
    ),
    "checks": (
        opt("--no-install-check", dest="install_check", action="store_false", help="skip the fresh-root install check"),
        opt("--no-gates", dest="gates", action="store_false", help="skip the rpmlint/compatibility/closure gates"),
        opt(
            "--sign",
            action="store_true",
            help="sign every RPM and repomd.xml with $PMREPO_GPG_KEY from $GNUPGHOME, ship the public key",
        ),
    ),
    "container": (
        opt(
            "--container",
            choices=["none", "auto", "podman", "docker"],
            default=None,
            help="container install test engine (default: none; `demo`: auto, skipped with a warning "
            "when no engine works)",
        ),
        opt(
            "--upgrade-from",
            type=Path,
            default=None,
            metavar="DIR",
            convert=_resolved,
            help="the output root DIR holding the previous release (release.follows): the NEVRA gate compares "
            "with its packages (default: --outdir); with --container the upgrade in place from it is tested too",
        ),
        opt(
            "--container-pm-opt",
            dest="container_pm_options",
            action="append",
            default=[],
            metavar="OPTION",
            convert=_pm_options,
            help="an extra yum/dnf option for the container tests (repeatable), e.g. "
            "--container-pm-opt=--setopt=skip_if_unavailable=1 for a real centos image without network",
        ),
        opt(
            "--container-image",
            default=None,
            metavar="IMAGE|local",
            help="image for every dist (default: each dist's `image` from the manifest); `local` builds "
            "or reuses pmrepo's Debian-based test image (no registry needed)",
        ),
    ),
    "publish": (
        opt(
            "--target",
            default=os.environ.get("PUBLISH_TARGET", ""),
            help="mirror: /path, file:///path, ssh://host/path, rsync://host/path or https://… ($PUBLISH_TARGET)",
        ),
        opt("--dry-run", action="store_true", help="print the plan, change nothing"),
        opt("--replace", action="store_true", help="replace a release that is already published"),
        opt(
            "--allow-unchecked",
            action="store_true",
            help="publish outputs built without their checks (--no-gates/--no-install-check); the release notes say so",
        ),
        opt(
            "--allow-insecure-auth",
            action="store_true",
            help="send publish credentials over plain http:// (default: only https:// or ssh)",
        ),
    ),
    "preflight": (
        opt(
            "--target",
            default=None,
            help="also check this publish target (path or URL; given empty: reported as missing)",
        ),
        opt("--replace", action="store_true", help="publishing will replace a release already there"),
    ),
    "verify": (
        opt(
            "location",
            metavar="DIR|URL",
            help="a release directory (repo/<release>/ or its mirror copy), its "
            "http(s) URL, or a repository directory (with repodata/)",
        ),
        opt(
            "--key",
            type=Path,
            default=None,
            metavar="FILE",
            help="the public key to trust (got from elsewhere; default: the key the release ships)",
        ),
    ),
    "explain": (
        opt(
            "finding",
            metavar="FINDING-ID",
            help="a finding id from a check's report (e.g. compat.rpmlib, rpmlint.no-group-tag), "
            "or a check's prefix (compat) for all of its kinds",
        ),
    ),
    "new_release": (
        opt(
            "--from",
            dest="from_",
            type=Path,
            required=True,
            metavar="MANIFEST",
            help="the current release's manifest (the new one follows it)",
        ),
        opt(
            "--to",
            default=None,
            metavar="VERSION-RELEASE",
            help="the new release: its repository package's version-release, e.g. 1.1.15-1.1",
        ),
        # the old spellings of the new release, refused in one line naming --to (--release is the
        # manifest in every other command)
        opt("--release", dest="old_release", default=None, help=argparse.SUPPRESS),
        opt("--version", dest="old_version", default=None, help=argparse.SUPPRESS),
        opt("--date", required=True, help="the release date, YYYY-MM-DD"),
        opt(
            "--set",
            action="append",
            default=[],
            metavar="[DIST:]NAME=VERSION-RELEASE",
            help="a component's new version-release, on every dist or (DIST:) on one (repeatable)",
        ),
        opt(
            "--output",
            type=Path,
            default=None,
            help="the new manifest (default: <version>-<release>.toml beside --from)",
        ),
        opt(
            "--from-upstream",
            action="store_true",
            help="move every component to its newest upstream version in series (`upstream`); --set wins",
        ),
    ),
    "upstream": (
        opt("--json", action="store_true", help="print the report as JSON (progress goes to stderr)"),
        opt(
            "--timeout",
            dest="upstream_timeout",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="give up on one upstream after this long (default: 30)",
        ),
    ),
}
