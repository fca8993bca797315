"""Command line: ``./build.py <step> [options]`` in a checkout, ``pmrepo <step> [options]`` installed.

``COMMANDS`` is the one table of subcommands: each names its option groups (``cli_options.GROUPS``:
one row per option; argparse parent parsers, so ``<step> --help`` lists only its own), its per-command
policy and either its ``Pipeline`` call or, for a command that needs no pipeline, its ``standalone``
function here (``setup``, ``mock-clean``, ``verify``, ``explain``, ``new-release``, ``upstream``).
An option fills the ``options.Options`` field of its ``dest`` (a new option is one row in ``GROUPS``
and one field of ``Options``), unless its command reads it from the arguments itself.

Every failure a user can cause ends in one line on stderr and a non-zero exit. This module parses
arguments, turns them into ``Options`` and dispatches: one :class:`pmrepo.pipeline.orchestrator.Pipeline` call per
pipeline subcommand, or the standalone function. At the top it imports only the option table, the
options, the errors, the default directories (``defaults``) and the mock backend's option reader;
the pipeline and what a standalone command uses are imported when that command runs, so that
``setup`` (``hostsetup``, which installs the pipeline's dependencies) runs before they exist.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .. import defaults
from ..builders.mock.options import mock_options
from ..errors import BuildError, PmrepoError, UsageError, describe_os_error
from ..options import Options
from .option_table import GROUPS

if TYPE_CHECKING:
    from ..pipeline.orchestrator import Pipeline

DEMO = defaults.DEMO_RELEASE


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
    from ..hostsetup import setup  # before the pipeline's own dependencies exist

    return setup()


def _mock_clean(args: argparse.Namespace) -> int:  # no pipeline: no release is involved
    from ..builders.mock.builder import MockBuilder
    from ..builders.mock.roots import human
    from ..layout import mock_state_dir, run_logs
    from ..progress import table

    opts = {k: v for k, v in mock_options(args.mock_opt).items() if k in ("mock_cmd", "uniqueext_prefix")}
    if len(opts) != len(args.mock_opt):
        raise UsageError("mock-clean --mock-opt: only mock_cmd=PATH and uniqueext_prefix=PREFIX apply")
    workdir = args.workdir.resolve()
    builder = MockBuilder(state_dir=mock_state_dir(workdir), **opts)  # type: ignore[arg-type]
    builder.check_version()
    cleaned = builder.clean_all(run_logs(workdir), say=print)
    rows = [
        (
            c.root,
            ", ".join(c.slots),
            len(c.paths),
            ("at least " if c.partial else "") + human(c.freed),
            "ok" if not c.failed else f"mock exit {', '.join(map(str, c.failed))}",
        )
        for c in cleaned
    ]
    freed = sum(c.freed for c in cleaned)
    if rows:
        print(table(["root", "slots", "dirs removed", "freed", "mock"], rows))
    log = run_logs(workdir) / "mock-clean.log"
    print(f"mock-clean: {len(cleaned)} root(s) of {workdir}: freed {human(freed)} (log: {log})")
    failed = [c for c in cleaned if c.failed]
    if failed:
        raise BuildError(
            f"mock-clean: mock --scrub=all failed for {', '.join(c.root for c in failed)} (exit "
            f"{failed[0].failed[0]}; 60: a run still uses the root) — fix: see mock-clean.log, rerun when it ends"
        )
    return 0


def _new_release(args: argparse.Namespace) -> int:  # no pipeline: it writes a manifest
    from ..manifest.next_release import check_args, derive, parse_to, report
    from ..progress import default_console

    old = [f for f, v in (("--release", args.old_release), ("--version", args.old_version)) if v is not None]
    if old or args.to is None:
        given = f"{' and '.join(old)} no longer name{'s' if len(old) == 1 else ''} the new release" if old else ""
        raise UsageError(
            f"new-release: {given or '--to is missing'} — fix: give the new release as --to VERSION-RELEASE, "
            "e.g. --to 1.1.15-1.1 (--release is the manifest in every other command)"
        )
    version, release = parse_to(args.to)
    sets = list(args.set)
    if args.from_upstream:  # the newest upstream versions as --set values, then new-release as ever
        from ..upstream.report import proposed_sets

        # its own arguments first: a wrong --date or --output costs no upstream check
        check_args(args.from_, version, release, args.date, sets, args.output)

        sets = proposed_sets(args.from_, args.workdir.resolve(), args.outdir.resolve(), sets) + sets
    res = derive(args.from_, version, release, args.date, sets, args.output, console=default_console())
    print(report(res))
    return 0


def _upstream(args: argparse.Namespace) -> int:  # no pipeline: it reads the manifest and asks upstream
    from ..upstream.report import command

    return command(_options(args))


def _preflight(pipe: Pipeline, args: argparse.Namespace) -> object:
    return pipe.run_preflight(
        sign=args.sign,
        target=args.target,
        replace=args.replace,
        container=_engine(args),
        container_image=args.container_image,
    )


def _publish(pipe: Pipeline, args: argparse.Namespace) -> None:
    pipe.run_publish(args.target, dry_run=args.dry_run, replace=args.replace, allow_unchecked=args.allow_unchecked)


def _explain(args: argparse.Namespace) -> int:  # no pipeline: the descriptions of the finding ids
    from ..checks import explain

    print(explain(args.finding))
    return 0


def _verify(args: argparse.Namespace) -> int:  # no pipeline: it needs no manifest, only what was published
    from ..verify.release import run_verify

    run_verify(args.location, key=args.key)
    return 0


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
            "mock-clean",
            "remove the mock roots, bootstraps and caches of this work dir's runs; say what it freed",
            ("workdir", "mock_clean"),
            standalone=_mock_clean,
        ),
        Command(
            "verify",
            "check a published release: SHA256SUMS, signatures, repodata, SBOM and provenance against its files",
            ("verify",),
            standalone=_verify,
        ),
        Command(
            "explain",
            "print what a finding id of the checks' reports means (as rpmlint -e does)",
            ("explain",),
            standalone=_explain,
        ),
        Command(
            "new-release",
            "write the next release's manifest from the current one (follows, date, --set versions)",
            ("new_release", "workdir"),
            standalone=_new_release,
        ),
        Command(
            "upstream",
            "report the newest upstream version of every component in its series (nvchecker)",
            ("release", "workdir", "upstream"),
            standalone=_upstream,
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
    from ..pipeline.orchestrator import Pipeline

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
