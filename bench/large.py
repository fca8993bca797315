#!/usr/bin/env python3
"""`check` and `plan` of large synthetic manifests: seconds per run and the longest silent gap.

Not a test, asserts nothing. Generates (tests/synthetic.make_release) a release
of N components in a layered DAG (each component needs up to three of the
previous layer's), then runs `build.py check --workdir W` and `build.py plan
--workdir W` as subprocesses, twice each (cold: empty work directory; warm: the
specinfo cache of the previous run), and prints wall seconds and the longest
stretch without an output line (the "no step silent for more than ~2 s" rule).

Usage (from the checkout): python3 -m bench.large [--sizes 100,500,2000] [--out bench/out/large]
       [--dists el7] [--profile check|plan]  (--profile: cProfile of one warm run, top 25 by cumulative time)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from pmrepo.progress import table
from tests.synthetic import make_release

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "large"


def dag(n: int, width: int = 50) -> dict[str, list[str]]:
    names = [f"c{i:04d}" for i in range(n)]
    out: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        layer = i // width
        prev = names[(layer - 1) * width : layer * width] if layer else []
        out[name] = [prev[(i + k) % len(prev)] for k in range(min(3, len(prev)))] if prev else []
        out[name] = sorted(set(out[name]))
    return out


def manifest(n: int, out: Path, dists: tuple[str, ...]) -> Path:
    dest = out / f"m{n}"
    path = dest / "release.toml"
    if not path.is_file():
        make_release(dest, dag(n), dists=dists)
    return path


def timed(build_py: Path, argv: list[str]) -> tuple[float, float, int, list[str]]:
    """(seconds, longest gap between output lines, exit code, lines)."""
    env = dict(os.environ, CI="true", PYTHONUNBUFFERED="1")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(build_py), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=build_py.parent,
    )
    last, gap, lines = t0, 0.0, []
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.monotonic()
        gap, last = max(gap, now - last), now
        lines.append(line.rstrip("\n"))
    code = proc.wait()
    end = time.monotonic()
    return end - t0, max(gap, end - last), code, lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,500,2000")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--dists", default="el7")
    ap.add_argument("--profile", choices=["check", "plan"], default=None)
    ap.add_argument("--commands", default="check,plan")
    ap.add_argument("--runs", default="cold,warm")
    ap.add_argument(
        "--build-py",
        type=Path,
        default=ROOT / "build.py",
        help="the build.py to time (e.g. an export of an older commit, for before/after)",
    )
    ap.add_argument("--check-without-workdir", action="store_true", help="`check` of a version without --workdir")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    dists = tuple(args.dists.split(","))
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = manifest(n, args.out, dists)
        work = args.out / f"work{n}"
        if args.profile:
            prof = args.out / f"{args.profile}-{n}.prof"
            env = dict(os.environ, CI="true")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cProfile",
                    "-o",
                    str(prof),
                    str(ROOT / "build.py"),
                    args.profile,
                    "--release",
                    str(path),
                    "--workdir",
                    str(work),
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                check=False,
            )
            import pstats

            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(25)
            continue
        subprocess.run(["rm", "-rf", str(work)], check=True)
        for cmd in args.commands.split(","):
            for state in args.runs.split(","):
                where = [] if cmd == "check" and args.check_without_workdir else ["--workdir", str(work)]
                secs, gap, code, lines = timed(args.build_py.resolve(), [cmd, "--release", str(path.resolve()), *where])
                rows.append((n, cmd, state, f"{secs:.1f}", f"{gap:.1f}", code, len(lines)))
                print(f"{n} {cmd} {state}: {secs:.1f}s, longest silence {gap:.1f}s, exit {code}", flush=True)
                if code != 0:
                    print("\n".join(lines[-5:]))
    if rows:
        print(table(["components", "command", "run", "seconds", "longest silence (s)", "exit", "lines"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
