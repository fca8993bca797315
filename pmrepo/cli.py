"""Command line: ``./build.py <step> [options]`` in a checkout, ``pmrepo <step> [options]`` installed.

``COMMANDS`` is the one table of subcommands: each names its option groups (``GROUPS``: one row
per option; argparse parent parsers, so ``<step> --help`` lists only its own), its per-command
policy and its ``Pipeline`` call. An option fills the ``options.Options`` field of its ``dest``:
a new option is one row in ``GROUPS`` and one field of ``Options``.

Every failure a user can cause ends in one line on stderr and a non-zero exit.
This module parses arguments and makes one :class:`pmrepo.pipeline.Pipeline`
call per subcommand; it imports only the pipeline, its options, the errors and the default
directories (``defaults``). The pipeline is imported lazily so that ``setup``
(``hostsetup``, which installs the pipeline's dependencies) runs before they exist.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import defaults
from .errors import PmrepoError, UsageError, describe_os_error
from .options import Options

if TYPE_CHECKING:
    from .pipeline import Pipeline

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
            help="rebuild everything, or only COMPONENT (repeatable)",
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
    "new_release": (
        opt(
            "--from",
            dest="from_",
            type=Path,
            required=True,
            metavar="MANIFEST",
            help="the current release's manifest (the new one follows it)",
        ),
        opt("--version", required=True, help="the new repository package version, e.g. 1.1.15"),
        opt("--release", dest="new_release", required=True, help="its release, e.g. 1.1"),
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
    ),
}
# the groups whose defaults every subcommand gets (for the options it does not offer)
_ALL_GROUPS = ("release", "dist", "workdir", "outdir", "backend", "build", "checks", "container", "publish")
_PIPELINE = ("release", "dist", "workdir", "outdir", "backend", "build", "checks", "container")


def _group(*names: str) -> argparse.ArgumentParser:
    """A parent parser holding the options of the named groups."""
    p = argparse.ArgumentParser(add_help=False)
    for name in names:
        for o in GROUPS[name]:
            p.add_argument(*o.flags, **o.kw)
    return p


# -- per-command policy: overrides of the Options the parsed arguments give
def _engine(args: argparse.Namespace, default: str = "none") -> str:
    """The container engine: none without gates, else --container or the command's default."""
    return "none" if not args.gates else (args.container or default)


def _policy(args: argparse.Namespace) -> dict[str, object]:
    return {"container": _engine(args)}


def _demo_policy(args: argparse.Namespace) -> dict[str, object]:
    return {"release": DEMO, "container": _engine(args, "auto"), "container_image": args.container_image or "local"}


def _preflight_policy(args: argparse.Namespace) -> dict[str, object]:
    return {"sign": False, "container": "none"}  # preflight checks the key and the engine itself, with the rest


# -- what a command does
def _setup(args: argparse.Namespace) -> int:
    from .hostsetup import setup  # before the pipeline's own dependencies exist

    return setup()


def _new_release(args: argparse.Namespace) -> int:  # no pipeline: it writes a manifest
    from .newrelease import derive, report
    from .progress import default_console

    res = derive(
        args.from_, args.version, args.new_release, args.date, args.set, args.output, console=default_console()
    )
    print(report(res))
    return 0


def _preflight(pipe: Pipeline, args: argparse.Namespace) -> object:
    return pipe.run_preflight(
        sign=args.sign,
        target=args.target,
        replace=args.replace,
        container=_engine(args),
        container_image=args.container_image,
    )


def _publish(pipe: Pipeline, args: argparse.Namespace) -> None:
    from .publish_targets import ENV_INSECURE_AUTH

    if args.allow_insecure_auth:  # read by publish_targets.make_target, also in the preflight run_publish makes
        os.environ[ENV_INSECURE_AUTH] = "1"
    pipe.run_publish(args.target, dry_run=args.dry_run, replace=args.replace, allow_unchecked=args.allow_unchecked)


@dataclass(frozen=True)
class Command:
    """One subcommand: its one-line description, option groups, the Pipeline call (or a
    call without the pipeline: ``standalone``) and its per-command policy."""

    name: str
    text: str
    groups: tuple[str, ...]
    call: Callable[[Pipeline, argparse.Namespace], object] | None = None
    policy: Callable[[argparse.Namespace], dict[str, object]] = _policy
    standalone: Callable[[argparse.Namespace], int] | None = None


_BASE = ("release", "dist", "workdir", "outdir")
COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("setup", "install the system tools and Python packages this project needs", (), standalone=_setup),
        Command(
            "check",
            "validate the manifest and say whether it can be built here",
            ("release", "dist", "workdir", "backend"),
            lambda p, a: p.run_check(),
        ),
        Command(
            "render", "render the component specs per dist into the work directory", _BASE, lambda p, a: p.run_render()
        ),
        Command("sources", "fetch, verify and pack every source", _BASE, lambda p, a: p.run_sources()),
        Command(
            "plan",
            "print per dist the build order, parallel waves and the repo package's contents",
            (*_BASE, "backend"),
            lambda p, a: p.run_plan(),
        ),
        Command(
            "build",
            "build every component (SRPM + binary RPMs) in BuildRequires order",
            (*_BASE, "backend", "build", "component"),
            lambda p, a: p.run_build(),
        ),
        Command(
            "all", "the whole pipeline: build, repository, repo packages, checks", _PIPELINE, lambda p, a: p.run_all()
        ),  # takes the locks itself, after the checks that write nothing
        Command(
            "demo",
            "the offline demo release end to end (`all` with the demo manifest)",
            _PIPELINE[1:],
            lambda p, a: p.run_all(),
            policy=_demo_policy,
        ),
        Command(
            "pin",
            "download unpinned URL sources and record their sha256 in the manifest (trust on first use)",
            ("release", "workdir"),
            lambda p, a: p.run_pin(),
        ),
        Command(
            "gate",
            "run the release gates on what `all` assembled in the work directory",
            (*_BASE, "container"),
            lambda p, a: p.run_gate(),
        ),
        Command(
            "notes",
            "render the release notes (ja/en, Markdown and HTML) into <outdir>/<release_id>/",
            ("release", "outdir"),
            lambda p, a: p.run_notes(),
        ),
        Command(
            "publish",
            "write SHA256SUMS and publish <outdir>/<release_id>/ to a mirror atomically",
            (*_BASE, "publish"),
            _publish,
        ),
        Command(
            "new-release",
            "write the next release's manifest from the current one (follows, date, --set versions)",
            ("new_release",),
            standalone=_new_release,
        ),
        Command(
            "preflight",
            "check what a release run needs (key, mirror, container, disk, …) before any work",
            (*_BASE, "backend", "checks", "container", "preflight"),
            _preflight,
            policy=_preflight_policy,
        ),
    )
}


def parser(prog: str = "build.py") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=prog, description="pmrepo: build, check and publish a Pacemaker repository package"
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="log every external command line")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        sub.add_parser(cmd.name, help=cmd.text, description=cmd.text, parents=[_group(g) for g in cmd.groups])
    return ap


def _fallbacks() -> dict[str, object]:
    """The default of every option, for the subcommands that do not offer it."""
    return vars(_group(*_ALL_GROUPS).parse_args([]))


def _options(args: argparse.Namespace, cmd: Command | None = None) -> Options:
    """The parsed arguments as the pipeline's options: each option fills the ``Options`` field of
    its name (converted), then the command's policy decides the per-command defaults."""
    names = {f.name for f in fields(Options)}
    values: dict[str, Any] = {}
    for o in (o for group in GROUPS.values() for o in group):
        if o.dest in names and hasattr(args, o.dest):
            value = getattr(args, o.dest)
            values[o.dest] = o.convert(value) if o.convert and value is not None else value
    values["backend_options"] = _backend_options(args)
    policy = (cmd or COMMANDS[args.cmd]).policy
    return Options(**(values | policy(args)))


def _backend_options(args: argparse.Namespace) -> dict[str, object]:
    if args.backend == "mock":
        return mock_options(args.mock_opt, clean_roots=getattr(args, "clean_roots", False))
    return {"host_buildrequires": True} if getattr(args, "host_buildrequires", False) else {}


def mock_options(pairs: list[str], clean_roots: bool = False) -> dict[str, object]:
    """--mock-opt KEY=VALUE pairs (and --clean-roots) as MockBuilder fields."""
    out: dict[str, object] = {"reuse_roots": False} if clean_roots else {}
    mirrors: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    images: dict[str, str] = {}
    flags = {"keep_roots", "root_cache", "yum_cache", "ccache", "use_bootstrap_image"}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--mock-opt {pair}: expected KEY=VALUE — fix: e.g. --mock-opt isolation=simple")
        if key.startswith("mirror."):
            mirrors[key[len("mirror.") :]] = value
        elif key.startswith("enable."):
            if value not in ("0", "1"):
                raise UsageError(f"--mock-opt {key}={value}: expected 0 or 1")
            enabled[key[len("enable.") :]] = value == "1"
        elif key == "bootstrap_image" or key.startswith("bootstrap_image."):
            images[key.partition(".")[2]] = value
        elif key in flags:
            if value not in ("0", "1"):
                raise UsageError(f"--mock-opt {key}={value}: expected 0 or 1")
            out[key] = value == "1"
        elif key in ("isolation", "mock_cmd", "chroot_setup_cmd", "uniqueext_prefix"):
            if key == "isolation" and value not in ("simple", "nspawn"):
                raise UsageError(f"--mock-opt isolation={value}: expected simple or nspawn")
            out[key] = value
        else:
            raise UsageError(f"--mock-opt {key}: unknown option — fix: see `build.py all --help`")
    if mirrors:
        out["mirrors"] = mirrors
    if enabled:
        out["repo_enabled"] = enabled
    if images:
        out["bootstrap_images"] = images
    return out


def dispatch(args: argparse.Namespace) -> int:
    """One pipeline call per subcommand (the command table says which)."""
    cmd = COMMANDS[args.cmd]
    if cmd.standalone is not None:
        return cmd.standalone(args)
    if getattr(args, "clean_roots", False) and args.backend != "mock":
        raise UsageError("--clean-roots is for the mock backend — fix: add --backend mock or drop --clean-roots")
    if args.mock_opt and args.backend != "mock":
        raise UsageError("--mock-opt is for the mock backend — fix: add --backend mock or drop --mock-opt")
    if getattr(args, "host_buildrequires", False) and args.backend != "rpmbuild":
        raise UsageError(
            "--host-buildrequires is for the rpmbuild backend — fix: drop it (mock installs "
            "BuildRequires from the dist's repositories)"
        )
    from .pipeline import Pipeline

    assert cmd.call is not None, cmd.name
    cmd.call(Pipeline(_options(args, cmd)), args)
    return 0


def main(argv: list[str] | None = None, prog: str = "build.py") -> int:
    args = parser(prog).parse_args(argv)
    for name, value in _fallbacks().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        return dispatch(args)
    except PmrepoError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:  # a preflight lists one problem a line
            print(f"{prog}: error: {line}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        print(f"{prog}: error: Python module {exc.name!r} is missing — fix: run `{prog} setup`", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave (workdir, outdir, …) that cannot be used
        print(f"{prog}: error: {describe_os_error(exc, args.cmd)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def console() -> int:
    """The ``pmrepo`` command of an installed package."""
    return main(sys.argv[1:], prog="pmrepo")
