"""Command line: ``./build.py <step> [options]`` in a checkout, ``pmrepo <step> [options]`` installed.

Each subcommand takes only the option groups it uses (argparse parent
parsers); ``<step> --help`` lists them.

Every failure a user can cause ends in one line on stderr and a non-zero exit.
Modules are imported lazily so that ``setup`` runs before the Python
dependencies exist.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import defaults

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


def _preflight(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=None,
                   help="also check this publish target (path or URL; given empty: reported as missing)")
    p.add_argument("--replace", action="store_true", help="publishing will replace a release already there")


_ALL_GROUPS = (_release, _dist, _workdir, _outdir, _backend, _build, _checks, _container, _publish)
_PIPELINE = (_release, _dist, _workdir, _outdir, _backend, _build, _checks, _container)
# subcommand -> (one-line description, its option groups)
COMMANDS: dict[str, tuple[str, tuple]] = {
    "setup": ("install the system tools and Python packages this project needs", ()),
    "check": ("validate the manifest and say whether it can be built here",
              (_release, _dist, _backend)),
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
    from .pipeline import Options

    force = frozenset(args.force)
    signer = None
    if args.sign:
        from .assemble import Signer
        from .sign import key_from_env
        log = args.workdir.resolve() / "logs" / "sign.log"
        signer = Signer(key_from_env(log_file=log), log)
    container = None
    engine = args.container or ("auto" if args.cmd == "demo" else "none")
    image = args.container_image or ("local" if args.cmd == "demo" else None)
    if engine != "none" and not args.no_gates:
        from .gates.container import ContainerSettings, container_check
        settings = ContainerSettings(engine=engine, image=None if image == "local" else image)
        from .progress import default_console
        container = container_check(settings, local_image=image == "local", require_engine=engine != "auto",
                                    say=default_console().say,
                                    upgrade_from=args.upgrade_from.resolve() if args.upgrade_from else None)
    return Options(release=args.release, workdir=args.workdir.resolve(), outdir=args.outdir.resolve(),
                   dists=tuple(args.dist), backend=args.backend, jobs=args.jobs, force=force,
                   install_check=not args.no_install_check, gates=not args.no_gates, signer=signer,
                   container=container, components=tuple(getattr(args, "component", [])),
                   backend_options=_backend_options(args))


def _backend_options(args: argparse.Namespace) -> dict[str, object]:
    if args.backend == "mock":
        return mock_options(args.mock_opt, clean_roots=getattr(args, "clean_roots", False))
    return {"host_buildrequires": True} if getattr(args, "host_buildrequires", False) else {}


def mock_options(pairs: list[str], clean_roots: bool = False) -> dict[str, object]:
    """--mock-opt KEY=VALUE pairs (and --clean-roots) as MockBuilder fields."""
    from .errors import UsageError

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


def _cmd_gate(pipe) -> None:
    from .gates import default_gates, layout_context, run_gates
    from .progress import table

    rows = []
    report_dirs = []
    failed = None
    for dist in pipe.dists:
        work = pipe.work / dist.name
        final = pipe.opts.outdir / pipe.release.release_id / dist.name
        if not (work / "tree" / "repodata").is_dir():
            from .errors import GateError
            raise GateError(f"{work}: nothing assembled for {dist.name} — fix: run `./build.py all --release "
                            f"{pipe.release.path}` first")
        ctx = layout_context(pipe.release, dist, work, report_dir=work / "gates",
                             extra_rpms=sorted(final.glob("*.rpm")))
        report_dirs.append(work / "gates")
        for report in run_gates(default_gates(pipe.release), ctx, fail=False, step=pipe.console.step):
            rows.append((dist.name, report.gate, "passed" if report.passed else "FAILED",
                         report.path.name if report.path else "-"))
            if not report.passed and failed is None:
                failed = report
        if pipe.opts.container is not None and failed is None:
            # the install test records installed.json beside the repo packages it tested
            with pipe.console.step(f"{dist.name}: container install test"):
                pipe.opts.container(pipe.release, dist, work, sorted(final.glob("*.rpm")), final)
            rows.append((dist.name, "install (container)", "passed", f"install-{dist.name}.txt"))
    pipe.say(table(["dist", "gate", "result", "report"], rows))
    for d in report_dirs:
        pipe.say(f"reports: {d}")
    if failed is not None:
        failed.raise_for_errors()


def _cmd_publish(args: argparse.Namespace, pipe) -> None:
    from .checksums import write_sha256sums
    from .errors import UsageError
    from .notes import render_notes
    from .preflight import Needs, PreflightError, problems
    from .publish import publish, refuse_unshippable, vouch

    if not args.target:
        raise UsageError("publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET")
    rel = pipe.release
    source = pipe.opts.outdir / rel.release_id
    missing = [d.name for d in pipe.dists if not (source / d.name / "build.json").is_file()]
    found = [f"publish: {source} has no finished build for {', '.join(missing)} — fix: run "
             f"`./build.py all --release {rel.path}` first"] if missing else []
    found += problems(pipe, Needs(build=False, target=args.target, replace=args.replace))[0]
    if found:  # everything publishing needs, reported at once before anything is written
        raise PreflightError(found)
    refuse_unshippable(source)  # before anything is written (notes, SHA256SUMS)
    unchecked = vouch(source, rel.key, rel.path, tuple(rel.dists), required=[d.name for d in pipe.dists],
                      allow_unchecked=args.allow_unchecked)
    for dist, skipped in unchecked.items():
        print(f"publish: {dist} was built without {', '.join(skipped)} (--allow-unchecked; the notes say so)")
    # the notes describe exactly the files being uploaded: regenerated from the build.json files just verified
    render_notes(rel, source, repo_dir=pipe.opts.outdir)
    write_sha256sums(source)  # local and derived: a dry run writes it too; the mirror is untouched
    with pipe.console.step(f"publish {pipe.release.release_id} to {args.target}"):
        result = publish(source, args.target, pipe.release.release_id, force=args.replace, dry_run=args.dry_run,
                         log=pipe.opts.workdir / "logs" / "publish.log", echo=pipe.console.say)
    if not args.dry_run:
        print(f"published {result.files} files to {result.url}")


def _cmd_plan(pipe) -> None:
    from .progress import table
    from .repopkg import metapackage_requires

    rendered = pipe.render()
    plans = pipe.plan(rendered, strict=False)
    rel = pipe.release
    for dname, plan in plans.items():
        print(f"== {dname} ({plan.dist.tag}, rhel {plan.dist.rhel})")
        for i, wave in enumerate(plan.graph.waves(), 1):
            print(f"  wave {i}: {', '.join(wave)}")
        print(f"  build order: {' -> '.join(plan.graph.order())}")
        rows = []
        for comp in rel.components_for(dname):
            deps = ", ".join(sorted(plan.graph.deps[comp.name])) or "-"
            for pkg in comp.packages_for(dname):
                rows.append((pkg, comp.vr + plan.dist.tag, comp.name, deps))
        rows.append((rel.metapackage, f"{rel.vr}{plan.dist.tag}", "(metapackage)", "-"))
        print(f"  {rel.name}-{rel.vr}{plan.dist.tag}.{rel.arch}.rpm installs {rel.prefix}/rpm/:")
        print("\n".join("    " + ln for ln in table(["package", "version-release", "component", "built after"], rows).splitlines()))
        print(f"  {rel.metapackage} requires: {', '.join(metapackage_requires(rel, plan.dist))}")
        _print_lacking(pipe, plan)


def _print_lacking(pipe, plan, say_none: bool = False) -> None:
    """Which of the dist's BuildRequires from outside the release this host lacks."""
    lacking = sorted({br for brs in plan.graph.external.values() for br in brs if pipe.builder.lacks(br)})
    if not lacking:
        if say_none:
            print(f"  this host has every BuildRequires from outside the release (backend {pipe.builder.name})")
        return
    print(f"  BuildRequires this host lacks for backend {pipe.builder.name} ({len(lacking)}): {', '.join(lacking)}")
    if not pipe.builder.shippable:
        print("  → taken as provided by the host's own packages (--host-buildrequires, unverified): "
              "builds are NOT shippable")
    else:
        print(f"  → {pipe.builder.remedy}")


def _cmd_pin(args: argparse.Namespace) -> int:
    from . import manifest, sources

    rel = manifest.load(args.release)
    todo = sources.unpinned(rel)
    if not todo:
        print(f"{rel.path}: every source is pinned")
        return 0
    print(f"pinning {len(todo)} source(s) by TRUST ON FIRST USE: the sha256 recorded is whatever the server sends "
          "now; compare it with upstream's published checksums before you release.")
    for comp, url, digest in sources.pin(rel, sources.Fetcher(args.workdir.resolve() / "cache")):
        print(f"  {comp}: {url}\n    sha256 = {digest}")
    manifest.load(args.release)
    return 0


def dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "setup":
        from .hostsetup import setup
        return setup()
    from .lock import WorkdirLock

    if getattr(args, "clean_roots", False) and args.backend != "mock":
        from .errors import UsageError
        raise UsageError("--clean-roots is for the mock backend — fix: add --backend mock or drop --clean-roots")
    if args.mock_opt and args.backend != "mock":
        from .errors import UsageError
        raise UsageError("--mock-opt is for the mock backend — fix: add --backend mock or drop --mock-opt")
    if getattr(args, "host_buildrequires", False) and args.backend != "rpmbuild":
        from .errors import UsageError
        raise UsageError("--host-buildrequires is for the rpmbuild backend — fix: drop it (mock installs "
                         "BuildRequires from the dist's repositories)")
    if args.cmd == "pin":
        with WorkdirLock(args.workdir.resolve()):
            return _cmd_pin(args)
    if args.cmd == "notes":
        from . import manifest
        from .notes import render_notes
        rel = manifest.load(args.release)
        outdir = args.outdir.resolve()
        with WorkdirLock(outdir, "output directory"):
            for path in render_notes(rel, outdir / rel.release_id, repo_dir=outdir):
                print(path)
        return 0
    from .pipeline import Pipeline

    if args.cmd == "preflight":
        return _cmd_preflight(args)
    pipe = Pipeline(_options(args))
    if args.cmd in ("all", "demo"):
        pipe.run_all()  # takes the locks itself, after the checks that write nothing
        return 0
    if args.cmd == "check":
        _cmd_check(pipe)
        return 0
    with pipe.locked():
        _dispatch_locked(args, pipe)
    return 0


def _cmd_preflight(args: argparse.Namespace) -> int:
    from .pipeline import Options, Pipeline
    from .preflight import Needs, check

    opts = Options(release=args.release, workdir=args.workdir.resolve(), outdir=args.outdir.resolve(),
                   dists=tuple(args.dist), backend=args.backend,
                   backend_options=mock_options(args.mock_opt) if args.backend == "mock" else {})
    pipe = Pipeline(opts)
    engine = "none" if args.no_gates else (args.container or "none")
    needs = Needs(build=True, sign=args.sign, target=args.target, replace=args.replace, container=engine,
                  container_image=args.container_image)
    for line in check(pipe, needs):
        print(f"preflight: ok: {line}")
    return 0


def _cmd_check(pipe) -> None:
    print(f"{pipe.release.path}: valid manifest for {pipe.release.release_id} "
          f"({len(pipe.release.components)} components, dists {', '.join(pipe.release.dists)})")
    import dataclasses
    import shutil
    import tempfile
    from .pipeline import Pipeline

    if shutil.which("rpmspec"):
        # rendered and parsed in a scratch directory: `check` writes nothing of the user's
        with tempfile.TemporaryDirectory(prefix="pmrepo-check-") as tmp:
            scratch = Pipeline(dataclasses.replace(pipe.opts, workdir=Path(tmp) / "work", outdir=Path(tmp) / "out"),
                               say=lambda s: None)
            plans = scratch.plan(scratch.render(), strict=False)
            for dname, plan in plans.items():
                print(f"== {dname}")
                _print_lacking(scratch, plan, say_none=True)
    pipe.preflight()
    print("buildable here with backend", pipe.builder.name)


def _dispatch_locked(args: argparse.Namespace, pipe) -> None:
    if args.cmd == "render":
        for (comp, dist), path in sorted(pipe.render().items()):
            print(f"{comp} {dist}: {path}")
    elif args.cmd == "sources":
        pipe.preflight()
        for comp, (path, digests) in pipe.fetch_sources().items():
            print(f"{comp}: {path} ({len(digests)} file(s))")
    elif args.cmd == "plan":
        _cmd_plan(pipe)
    elif args.cmd == "build":
        if not pipe.opts.components:
            pipe.preflight()
            rendered = pipe.render()
            pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))
            return
        # --component: the chain comes from the build graph, so only its sources must be pinned
        rendered = pipe.render()
        plans = pipe.plan(rendered)
        only = pipe.selection(plans)
        names = {c for c, _ in only or ()}
        pipe.preflight(names)
        pipe.build(rendered, pipe.fetch_sources(names), plans, only)
    elif args.cmd == "gate":
        _cmd_gate(pipe)
    elif args.cmd == "publish":
        _cmd_publish(args, pipe)


def main(argv: list[str] | None = None, prog: str = "build.py") -> int:
    args = parser(prog).parse_args(argv)
    for name, value in _fallbacks().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if args.cmd == "demo":
        args.release = DEMO
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        from .errors import PmrepoError
    except ImportError as exc:  # pragma: no cover - only before setup
        print(f"{prog}: error: {exc} — fix: run `{prog} setup`", file=sys.stderr)
        return 2
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
        from .errors import describe_os_error
        print(f"{prog}: error: {describe_os_error(exc, args.cmd)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def console() -> int:
    """The ``pmrepo`` command of an installed package."""
    return main(sys.argv[1:], prog="pmrepo")
