"""Command line: ``./build.py <step> [options]`` in a checkout, ``pmrepo <step> [options]`` installed.

Each subcommand takes only the option groups it uses (argparse parent
parsers); ``<step> --help`` lists them.

Every failure a user can cause ends in one line on stderr and a non-zero exit.
This module parses arguments and makes one :class:`pmrepo.pipeline.Pipeline`
call per subcommand; it imports only the pipeline, the errors and the default
directories (``defaults``). The pipeline is imported lazily so that ``setup``
(``hostsetup``, which installs the pipeline's dependencies) runs before they exist.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import defaults
from .errors import PmrepoError, UsageError, describe_os_error

DEMO = defaults.DEMO_RELEASE


def _group(*adders) -> argparse.ArgumentParser:
    """A parent parser holding one group of options (subcommands pick the groups they use)."""
    p = argparse.ArgumentParser(add_help=False)
    for add in adders:
        add(p)
    return p


def _release(p: argparse.ArgumentParser) -> None:
    p.add_argument("--release", type=Path, default=DEMO, help="release manifest (default: the offline demo)")


def _dist(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dist", action="append", default=[], help="only this dist (repeatable)")


def _workdir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", type=Path, default=defaults.workdir(),
                   help="work directory (default: work/ of the checkout, or of the current directory)")


def _outdir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--outdir", type=Path, default=defaults.outdir(),
                   help="output directory (default: repo/ of the checkout, or of the current directory)")


def _backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=["rpmbuild", "mock"], default=os.environ.get("PMREPO_BACKEND", "rpmbuild"),
                   help="build backend (default: rpmbuild, or $PMREPO_BACKEND)")
    p.add_argument("--mock-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="mock backend option: isolation=simple|nspawn, keep_roots=1, root_cache=0|1, yum_cache=0|1, "
                        "ccache=0|1, use_bootstrap_image=0|1, bootstrap_image[.<dist>]=IMAGE, mock_cmd=PATH, "
                        "mirror.[<dist>/]<repoid>=URL, enable.[<dist>/]<repoid>=0|1")
    p.add_argument("--clean-roots", action="store_true",
                   help="mock: give every build a freshly initialised build root (default: one root per dist and "
                        "slot for the whole run, cleaned at its end)")
    p.add_argument("--host-buildrequires", action="store_true",
                   help="rpmbuild backend, for spec development: take BuildRequires this host cannot show (no rpmdb, "
                        "e.g. Debian's -dev packages) as provided by its own packages; the result is marked NOT "
                        "shippable and publish refuses it")


def _component(p: argparse.ArgumentParser) -> None:
    p.add_argument("--component", action="append", default=[], metavar="NAME",
                   help="build only NAME and what it needs from the chain (repeatable)")


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel build jobs (default: per backend and cores)")
    p.add_argument("--force", nargs="?", const="*", action="append", default=[], metavar="COMPONENT",
                   help="rebuild everything, or only COMPONENT (repeatable)")


def _checks(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-install-check", action="store_true", help="skip the fresh-root install check")
    p.add_argument("--no-gates", action="store_true", help="skip the rpmlint/compatibility/closure gates")
    p.add_argument("--sign", action="store_true",
                   help="sign every RPM and repomd.xml with $PMREPO_GPG_KEY from $GNUPGHOME, ship the public key")


def _container(p: argparse.ArgumentParser) -> None:
    p.add_argument("--container", choices=["none", "auto", "podman", "docker"], default=None,
                   help="container install test engine (default: none; `demo`: auto, skipped with a warning "
                        "when no engine works)")
    p.add_argument("--upgrade-from", type=Path, default=None, metavar="DIR",
                   help="with --container: also test the upgrade in place from the previous release (release.follows), "
                        "whose repository packages are in the output root DIR")
    p.add_argument("--container-image", default=None, metavar="IMAGE|local",
                   help="image for every dist (default: each dist's `image` from the manifest); `local` builds "
                        "or reuses pmrepo's Debian-based test image (no registry needed)")


def _publish(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=os.environ.get("PUBLISH_TARGET", ""),
                   help="mirror: /path, file:///path, ssh://host/path, rsync://host/path or https://… ($PUBLISH_TARGET)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--replace", action="store_true", help="replace a release that is already published")
    p.add_argument("--allow-unchecked", action="store_true",
                   help="publish outputs built without their checks (--no-gates/--no-install-check); the release "
                        "notes say so")
    p.add_argument("--allow-insecure-auth", action="store_true",
                   help="send publish credentials over plain http:// (default: only https:// or ssh)")


def _preflight(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=None,
                   help="also check this publish target (path or URL; given empty: reported as missing)")
    p.add_argument("--replace", action="store_true", help="publishing will replace a release already there")


def _new_release(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="from_", type=Path, required=True, metavar="MANIFEST",
                   help="the current release's manifest (the new one follows it)")
    p.add_argument("--version", required=True, help="the new repository package version, e.g. 1.1.15")
    p.add_argument("--release", dest="new_release", required=True, help="its release, e.g. 1.1")
    p.add_argument("--date", required=True, help="the release date, YYYY-MM-DD")
    p.add_argument("--set", action="append", default=[], metavar="[DIST:]NAME=VERSION-RELEASE",
                   help="a component's new version-release, on every dist or (DIST:) on one (repeatable)")
    p.add_argument("--output", type=Path, default=None,
                   help="the new manifest (default: <version>-<release>.toml beside --from)")


_ALL_GROUPS = (_release, _dist, _workdir, _outdir, _backend, _build, _checks, _container, _publish)
_PIPELINE = (_release, _dist, _workdir, _outdir, _backend, _build, _checks, _container)
# subcommand -> (one-line description, its option groups)
COMMANDS: dict[str, tuple[str, tuple]] = {
    "setup": ("install the system tools and Python packages this project needs", ()),
    "check": ("validate the manifest and say whether it can be built here",
              (_release, _dist, _workdir, _backend)),
    "render": ("render the component specs per dist into the work directory",
               (_release, _dist, _workdir, _outdir)),
    "sources": ("fetch, verify and pack every source", (_release, _dist, _workdir, _outdir)),
    "plan": ("print per dist the build order, parallel waves and the repo package's contents",
             (_release, _dist, _workdir, _outdir, _backend)),
    "build": ("build every component (SRPM + binary RPMs) in BuildRequires order",
              (_release, _dist, _workdir, _outdir, _backend, _build, _component)),
    "all": ("the whole pipeline: build, repository, repo packages, checks", _PIPELINE),
    "demo": ("the offline demo release end to end (`all` with the demo manifest)", _PIPELINE[1:]),
    "pin": ("download unpinned URL sources and record their sha256 in the manifest (trust on first use)",
            (_release, _workdir)),
    "gate": ("run the release gates on what `all` assembled in the work directory",
             (_release, _dist, _workdir, _outdir, _container)),
    "notes": ("render the release notes (ja/en, Markdown and HTML) into <outdir>/<release_id>/",
              (_release, _outdir)),
    "publish": ("write SHA256SUMS and publish <outdir>/<release_id>/ to a mirror atomically",
                (_release, _dist, _workdir, _outdir, _publish)),
    "new-release": ("write the next release's manifest from the current one (follows, date, --set versions)",
                    (_new_release,)),
    "preflight": ("check what a release run needs (key, mirror, container, disk, …) before any work",
                  (_release, _dist, _workdir, _outdir, _backend, _checks, _container, _preflight)),
}


def parser(prog: str = "build.py") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description="pmrepo: build, check and publish a Pacemaker repository package")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every external command line")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for name, (text, groups) in COMMANDS.items():
        sub.add_parser(name, help=text, description=text, parents=[_group(g) for g in groups])
    return ap


def _fallbacks() -> dict[str, object]:
    """The default of every option, for the subcommands that do not offer it."""
    return vars(_group(*_ALL_GROUPS).parse_args([]))


def _options(args: argparse.Namespace):  # -> pipeline.Options
    """The parsed arguments as the pipeline's options (the per-subcommand defaults decided here)."""
    from .pipeline import Options

    engine = args.container or ("auto" if args.cmd == "demo" else "none")
    return Options(release=args.release, workdir=args.workdir.resolve(), outdir=args.outdir.resolve(),
                   dists=tuple(args.dist), backend=args.backend, jobs=args.jobs, force=frozenset(args.force),
                   install_check=not args.no_install_check, gates=not args.no_gates,
                   sign=args.sign and args.cmd != "preflight",  # preflight checks the key itself, with the rest
                   container="none" if args.no_gates or args.cmd == "preflight" else engine,
                   container_image=args.container_image or ("local" if args.cmd == "demo" else None),
                   upgrade_from=args.upgrade_from.resolve() if getattr(args, "upgrade_from", None) else None,
                   components=tuple(getattr(args, "component", [])), backend_options=_backend_options(args))


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
            mirrors[key[len("mirror."):]] = value
        elif key.startswith("enable."):
            if value not in ("0", "1"):
                raise UsageError(f"--mock-opt {key}={value}: expected 0 or 1")
            enabled[key[len("enable."):]] = value == "1"
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
    """One pipeline call per subcommand."""
    if args.cmd == "setup":  # before the pipeline's own dependencies exist
        from .hostsetup import setup
        return setup()
    if getattr(args, "clean_roots", False) and args.backend != "mock":
        raise UsageError("--clean-roots is for the mock backend — fix: add --backend mock or drop --clean-roots")
    if args.mock_opt and args.backend != "mock":
        raise UsageError("--mock-opt is for the mock backend — fix: add --backend mock or drop --mock-opt")
    if getattr(args, "host_buildrequires", False) and args.backend != "rpmbuild":
        raise UsageError("--host-buildrequires is for the rpmbuild backend — fix: drop it (mock installs "
                         "BuildRequires from the dist's repositories)")
    if args.cmd == "new-release":  # no pipeline: it writes a manifest
        from .newrelease import derive, report
        print(report(derive(args.from_, args.version, args.new_release, args.date, args.set, args.output)))
        return 0
    from .pipeline import Pipeline
    from .publish import ENV_INSECURE_AUTH

    pipe = Pipeline(_options(args))
    if args.cmd in ("all", "demo"):
        pipe.run_all()  # takes the locks itself, after the checks that write nothing
    elif args.cmd == "check":
        pipe.run_check()
    elif args.cmd == "render":
        pipe.run_render()
    elif args.cmd == "sources":
        pipe.run_sources()
    elif args.cmd == "plan":
        pipe.run_plan()
    elif args.cmd == "build":
        pipe.run_build()
    elif args.cmd == "gate":
        pipe.run_gate()
    elif args.cmd == "notes":
        pipe.run_notes()
    elif args.cmd == "pin":
        pipe.run_pin()
    elif args.cmd == "preflight":
        pipe.run_preflight(sign=args.sign, target=args.target, replace=args.replace,
                           container="none" if args.no_gates else (args.container or "none"),
                           container_image=args.container_image)
    elif args.cmd == "publish":
        if args.allow_insecure_auth:  # read by publish.make_target, also in the preflight run_publish makes
            os.environ[ENV_INSECURE_AUTH] = "1"
        pipe.run_publish(args.target, dry_run=args.dry_run, replace=args.replace, allow_unchecked=args.allow_unchecked)
    return 0


def main(argv: list[str] | None = None, prog: str = "build.py") -> int:
    args = parser(prog).parse_args(argv)
    for name, value in _fallbacks().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if args.cmd == "demo":
        args.release = DEMO
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
