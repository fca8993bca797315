"""Command line: ``./build.py <step> [--release FILE] [--dist D] [--backend B] [--workdir DIR]``.

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

PROJECT = Path(__file__).resolve().parent.parent
DEMO = PROJECT / "examples" / "demo" / "release.toml"
REAL = PROJECT / "releases" / "1.1.14-1.1.toml"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--release", type=Path, default=DEMO,
                   help=f"release manifest (default: the offline demo, {DEMO.relative_to(PROJECT)})")
    p.add_argument("--dist", action="append", default=[], help="build only this dist (repeatable)")
    p.add_argument("--workdir", type=Path, default=PROJECT / "work", help="work directory (default: work/)")
    p.add_argument("--outdir", type=Path, default=PROJECT / "repo", help="output directory (default: repo/)")
    p.add_argument("--backend", choices=["rpmbuild", "mock"], default=os.environ.get("PMREPO_BACKEND", "rpmbuild"),
                   help="build backend (default: rpmbuild, or $PMREPO_BACKEND)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel build jobs (default: per backend and cores)")
    p.add_argument("--force", nargs="?", const="*", action="append", default=[], metavar="COMPONENT",
                   help="rebuild everything, or only COMPONENT (repeatable)")
    p.add_argument("--no-install-check", action="store_true", help="skip the fresh-root install check")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="build.py", description="pmrepo: build, check and publish a Pacemaker repository package")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every external command line")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    sub.add_parser("setup", help="install the system tools and Python packages this project needs")
    for name, text in [
        ("check", "validate the manifest (and say whether it can be built here)"),
        ("render", "render the component specs per dist into the work directory"),
        ("sources", "fetch, verify and pack every source"),
        ("plan", "print per dist the build order, parallel waves and the repo package's contents"),
        ("build", "build every component (SRPM + binary RPMs) in BuildRequires order"),
        ("all", "the whole pipeline: build, repository, repo packages, install check"),
        ("pin", "download unpinned URL sources and record their sha256 in the manifest (trust on first use)"),
    ]:
        _common(sub.add_parser(name, help=text))
    demo = sub.add_parser("demo", help="the offline demo release end to end (same as `all` with the demo manifest)")
    _common(demo)
    return ap


def _options(args: argparse.Namespace):  # -> pipeline.Options
    from .pipeline import Options

    force = frozenset(args.force)
    return Options(release=args.release, workdir=args.workdir.resolve(), outdir=args.outdir.resolve(),
                   dists=tuple(args.dist), backend=args.backend, jobs=args.jobs, force=force,
                   install_check=not args.no_install_check)


def _cmd_plan(pipe) -> None:
    from .progress import table
    from .repopkg import metapackage_requires

    rendered = pipe.render()
    plans = pipe.plan(rendered)
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
    if args.cmd == "pin":
        return _cmd_pin(args)
    from .pipeline import Pipeline

    pipe = Pipeline(_options(args))
    if args.cmd == "check":
        print(f"{pipe.release.path}: valid manifest for {pipe.release.release_id} "
              f"({len(pipe.release.components)} components, dists {', '.join(pipe.release.dists)})")
        pipe.preflight()
        print("buildable here with backend", pipe.builder.name)
    elif args.cmd == "render":
        for (comp, dist), path in sorted(pipe.render().items()):
            print(f"{comp} {dist}: {path}")
    elif args.cmd == "sources":
        pipe.preflight()
        for comp, (path, digests) in pipe.fetch_sources().items():
            print(f"{comp}: {path} ({len(digests)} file(s))")
    elif args.cmd == "plan":
        _cmd_plan(pipe)
    elif args.cmd == "build":
        pipe.preflight()
        from .lock import WorkdirLock
        with WorkdirLock(pipe.opts.workdir):
            rendered = pipe.render()
            pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))
    elif args.cmd in ("all", "demo"):
        pipe.run_all()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.cmd == "demo":
        args.release = DEMO
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        from .errors import PmrepoError
    except ImportError as exc:  # pragma: no cover - only before setup
        print(f"build.py: error: {exc} — fix: run `make setup`", file=sys.stderr)
        return 2
    try:
        return dispatch(args)
    except PmrepoError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        print(f"build.py: error: Python module {exc.name!r} is missing — fix: run `make setup`", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("build.py: interrupted", file=sys.stderr)
        return 130
