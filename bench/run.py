#!/usr/bin/env python3
"""Benchmark of the build scheduler, repo-package assembly and mock root reuse.

Prints ratios against targets; it is not a test and asserts nothing. Runs a
synthetic release of 12 C components (real compile work, a DAG with fan-out)
with the rpmbuild backend on this machine. Every ratio is measured as
interleaved repeated pairs in one run (A B A B ..., --pairs, at least 3) and
printed as the median with its spread (min-max over the pairs), so that a
busy neighbour on a shared machine moves both halves of a pair alike:

  P0  machine: `cores` gcc -O2 one after another vs all at once, measured in
      the same pairs as P1 (A = gcc one at a time + sequential build,
      B = gcc all at once + scheduler build), so P0 describes the moments P1
      ran in.
  P1  full build: scheduler (--jobs = cores) vs the same builds one at a time
      in dependency order (what `mock --chain` does), and vs the lower bound
      max(critical path, total work / cores) from the same pair's sequential
      per-job times (and with that pair's P0 effective cores), and vs the
      optimal schedule of those per-job times on `cores` slots (bench/optimal.py,
      CP-SAT); both plus the sequential run's serial steps (render, fetch and
      plan before the jobs, the assembly after them, timed apart), which no
      order overlaps with a job. The scheduler plans with the host-wide build
      time history the pair's sequential run recorded (the bench's own cache
      under --out, never the user's): a fresh work directory on a host that
      built before. Info
      rows: a third run with an empty history, and the optimum of the
      scheduler run's own per-job times (what contention between two jobs
      costs is then not counted against the order). Each build runs
      `make -j1`; P1' repeats with `make -j<cores>` inside each job.
  P2  no-op rerun as a fraction of the full build (after every B).
  P3  one component's spec touched: which jobs rebuilt, time.
  P4  repo-package assembly throughput vs a plain copy of the same bytes.
  M1  mock backend with the stand-in (tests/fake_mock/mock): roots reused per
      (dist, slot) vs --clean-roots, each mode on one work directory (and one
      mock basedir and cache) for all its runs, as on a build host: a cold first
      run (a root install costs --mock-init s, the bootstrap image pull and its
      yum install --mock-bootstrap s each), then warm pairs (a cache unpack costs
      --mock-unpack s): inits, network installs and pulls per run, wall times.

Usage (from the checkout): python3 -m bench.run [--out bench/out] [--quick] [--pairs N] [--mock-init S]
       [--mock-unpack S] [--mock-bootstrap S] [--only m1]
       (PMREPO_BENCH_QUICK=1 and PMREPO_BENCH_PAIRS=N do the same as the flags)
--quick: one work unit per component, a 16 MiB P4 payload, a 0.5 s mock
init: a smoke run of the script's output (its numbers are not the targets').
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.optimal import critical_path, lower_bound, optimal_makespan
from pmrepo.layout import CACHE_ENV
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.progress import table
from pmrepo.run import run
from pmrepo.schedule.jobs import JobResult
from tests.synthetic import make_release, work_file

OUT = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent

DAG = {
    "core": [],
    "util": [],
    "solo": [],
    "a1": ["core"],
    "a2": ["core"],
    "a3": ["core", "util"],
    "a4": ["util"],
    "b1": ["a1"],
    "b2": ["a2", "a3"],
    "b3": ["a4"],
    "c1": ["b1", "b2"],
    "top": ["c1", "b3"],
}
WORK = {
    "core": 6,
    "util": 3,
    "solo": 4,
    "a1": 3,
    "a2": 5,
    "a3": 3,
    "a4": 2,
    "b1": 4,
    "b2": 3,
    "b3": 5,
    "c1": 4,
    "top": 3,
}


def quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Timed:
    """One timed build: its wall seconds (render to assembly), the seconds of its serial
    steps (render, source fetch and plan before the jobs; the assembly after them) and its
    jobs' results."""

    seconds: float
    serial: float
    results: dict[tuple[str, str], JobResult]


def timed_build(manifest: Path, work: Path, jobs: int, fresh: bool = True, cache: Path | None = None) -> Timed:
    """Render, plan, build and assemble (no install check, no gates); ``fresh``
    wipes the work directory first, otherwise it is an incremental rerun. ``cache``:
    the host-wide cache (the build time history) to use, default the bench's own."""
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    os.environ[CACHE_ENV] = str(cache or work.parent / "cache" / "default")
    opts = Options(release=manifest, workdir=work / "w", outdir=work / "o", jobs=jobs, install_check=False, gates=False)
    t0 = time.monotonic()
    p = Pipeline(opts, say=quiet)
    rendered = p.render()
    srcs, plans = p.fetch_sources(), p.plan(rendered)
    t1 = time.monotonic()
    results = p.build(rendered, srcs, plans)
    t2 = time.monotonic()
    p.assemble(p.dists[0], results)
    t3 = time.monotonic()
    return Timed(t3 - t0, (t1 - t0) + (t3 - t2), results)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def fmt_ratio(values: list[float], unit: str = "x", digits: int = 2) -> str:
    med, lo, hi = stats(values)
    return f"median {med:.{digits}f}{unit} ({lo:.{digits}f}-{hi:.{digits}f}, {len(values)} pairs)"


def arguments() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("PMREPO_BENCH_QUICK") == "1",
        help="less work per measurement (a smoke run of the script)",
    )
    ap.add_argument(
        "--pairs",
        type=int,
        default=int(os.environ.get("PMREPO_BENCH_PAIRS", "3")),
        help="interleaved A/B pairs per ratio (>= 3; default 3)",
    )
    ap.add_argument(
        "--mock-init",
        type=float,
        default=None,
        help="the mock stand-in's root install from the network, seconds (default 2, quick 0.5)",
    )
    ap.add_argument(
        "--mock-unpack",
        type=float,
        default=None,
        help="the stand-in's root cache unpack, seconds (default 1, quick 0.2)",
    )
    ap.add_argument(
        "--mock-bootstrap",
        type=float,
        default=None,
        help="the stand-in's bootstrap image pull and its yum install, seconds each (default 3, quick 0.5)",
    )
    ap.add_argument(
        "--only",
        choices=["m1"],
        default=None,
        help="run only this measurement (m1: the mock backend with the stand-in)",
    )
    return ap


def main() -> int:
    ap = arguments()
    args = ap.parse_args()
    if args.pairs < 3:
        ap.error("--pairs: at least 3 (a median and a spread need them)")
    cores = os.cpu_count() or 1
    work = {k: (1 if args.quick else v) for k, v in WORK.items()}
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    if args.only == "m1":
        started = time.monotonic()
        print(f"bench: M1 only, {args.pairs} interleaved warm pairs{' (quick)' if args.quick else ''}", flush=True)
        print(table(["measure", "result", "target", "verdict"], m1_rows(args, out, args.pairs)))
        print(f"bench: total {time.monotonic() - started:.0f}s; outputs under {out}")
        return 0
    serial = make_release(out / "rel-j1", DAG, work=work, macros={"_smp_mflags": "-j1"})
    smp = make_release(out / "rel-jn", DAG, work=work, macros={"_smp_mflags": f"-j{cores}"})
    started = time.monotonic()
    rows = []
    n = args.pairs

    print(
        f"bench: {len(DAG)} components, {sum(work.values())} work units, {cores} cores, rpmbuild backend, "
        f"{n} interleaved pairs per ratio{' (quick)' if args.quick else ''}",
        flush=True,
    )
    p1_rows, par_ts, noop = p1_pairs(out, serial, n, cores)
    rows += p1_rows
    rows.append(p1_smp(out, smp, n, cores))
    noop_s = statistics.median(par_ts) * statistics.median(noop)
    rows.append(
        (
            "P2 no-op rerun / full build",
            fmt_ratio([x * 100 for x in noop], "%", 1),
            "<= 2% and < 2s",
            verdict(statistics.median(noop) <= 0.02 and noop_s < 2.0),
        )
    )

    spec = out / "rel-j1" / "specs" / "a2.spec.j2"
    spec.write_text(spec.read_text().replace("Synthetic component a2", "Synthetic component a2 (touched)"))
    touch = timed_build(serial, out / "par", cores, fresh=False)
    rebuilt = sorted(c for (c, _), r in touch.results.items() if r.status == "built")
    expected = sorted({"a2", "b2", "c1", "top"})
    rows.append(
        (
            "P3 touch a2: rebuilt",
            f"{', '.join(rebuilt)} in {touch.seconds:.1f}s",
            "a2 + reverse deps only",
            verdict(rebuilt == expected),
        )
    )

    rows.append(p4(out, serial, n, 16 if args.quick else 64))
    rows.extend(m1_rows(args, out, n))
    print(table(["measure", "result", "target", "verdict"], rows))
    print(f"bench: total {time.monotonic() - started:.0f}s; outputs under {out}")
    return 0


def m1_rows(args: argparse.Namespace, out: Path, pairs: int) -> list[tuple[str, str, str, str]]:
    def cost(value: float | None, full: float, quick: float) -> float:
        return value if value is not None else (quick if args.quick else full)

    return m1(
        out,
        pairs,
        cost(args.mock_init, 2.0, 0.5),
        cost(args.mock_unpack, 1.0, 0.2),
        cost(args.mock_bootstrap, 3.0, 0.5),
    )


def p1_pairs(
    out: Path, serial: Path, n: int, cores: int
) -> tuple[list[tuple[str, str, str, str]], list[float], list[float]]:
    """P0, P1 and the no-op reruns (P2) in ``n`` interleaved pairs; returns the rows, the
    scheduler's seconds and the no-op fractions."""
    p0, p1, p1_bound, p1_eff, p1_opt, p1_fresh, p1_own, p1_jobs, opt_bound, noop_fraction = ([] for _ in range(10))
    seq_ts, par_ts, serial_s = [], [], []
    for i in range(n):
        history = out / "cache" / f"pair-{i}"  # the host-wide history the sequential half records
        gs = gcc_time(out / "calib", cores, parallel=False)
        seq = timed_build(serial, out / "seq", 1, cache=history)
        gp = gcc_time(out / "calib", cores, parallel=True)
        par = timed_build(serial, out / "par", cores, cache=history)
        noop = timed_build(serial, out / "par", cores, fresh=False, cache=history)
        fresh = timed_build(serial, out / "par-fresh", cores, cache=out / "cache" / f"empty-{i}")
        per_job = {c: r.seconds for (c, _), r in seq.results.items()}
        bound = lower_bound(per_job, DAG, cores)
        opt = optimal_makespan(per_job, DAG, cores).makespan
        own = optimal_makespan({c: r.seconds for (c, _), r in par.results.items()}, DAG, cores).makespan
        # the optimum of the whole build: the sequential run's serial steps (render, fetch and
        # plan before the jobs, the assembly after them; no order can overlap them with a
        # job) plus the optimal schedule of its jobs
        best = seq.serial + opt
        par_jobs = par.seconds - par.serial
        eff = gs / gp
        p0.append(eff)
        p1.append(seq.seconds / par.seconds)
        p1_bound.append(par.seconds / (seq.serial + bound))
        eff_bound = max(critical_path(per_job, DAG), sum(per_job.values()) / min(cores, max(1.0, eff)))
        p1_eff.append(par.seconds / (seq.serial + eff_bound))
        p1_opt.append(par.seconds / best)
        p1_jobs.append(par_jobs / opt)
        p1_fresh.append(fresh.seconds / best)
        p1_own.append(par_jobs / own)
        opt_bound.append(opt / bound)
        noop_fraction.append(noop.seconds / par.seconds)
        seq_ts.append(seq.seconds)
        par_ts.append(par.seconds)
        serial_s.append(seq.serial)
        reused = sum(1 for r in noop.results.values() if r.status == "reused")
        print(
            f"  pair {i + 1}/{n}: P0 {eff:.2f} cores, P1 {seq.seconds:.1f}s / {par.seconds:.1f}s (optimal "
            f"{best:.1f}s = serial steps {seq.serial:.1f}s + jobs {opt:.1f}s; no history {fresh.seconds:.1f}s), "
            f"no-op {noop.seconds:.2f}s ({reused}/{len(noop.results)} reused)",
            flush=True,
        )
    rows = [
        (f"P0 machine: {cores} gcc -O2 at once vs one at a time", fmt_ratio(p0, " cores"), "(info)", ""),
        (
            "P1 speed-up vs sequential (make -j1 per job)",
            fmt_ratio(p1),
            ">= 1.8x",
            verdict(statistics.median(p1) >= 1.8),
        ),
        (
            "P1 scheduler vs optimal (the pair's sequential run: serial steps + optimal schedule of its jobs)",
            fmt_ratio(p1_opt, ""),
            "<= 1.05",
            verdict(statistics.median(p1_opt) <= 1.05),
        ),
        (
            "P1 scheduler vs bound (serial steps + max(cp, work/cores))",
            fmt_ratio(p1_bound, ""),
            "<= 1.10",
            verdict(statistics.median(p1_bound) <= 1.10),
        ),
        ("    optimal / bound (the jobs)", fmt_ratio(opt_bound, ""), "(info)", ""),
        ("    the jobs phase alone vs the jobs' optimum", fmt_ratio(p1_jobs, ""), "(info)", ""),
        ("    no host history (fresh cache) vs optimal", fmt_ratio(p1_fresh, ""), "(info)", ""),
        ("    the jobs phase vs the optimum of the run's own per-job times", fmt_ratio(p1_own, ""), "(info)", ""),
        ("    same bound with the pair's P0 effective cores", fmt_ratio(p1_eff, ""), "(info)", ""),
        (
            "    sequential / scheduler seconds (median)",
            f"{statistics.median(seq_ts):.1f}s / {statistics.median(par_ts):.1f}s",
            "",
            "",
        ),
        ("    serial steps: render, fetch, plan; assembly (median)", f"{statistics.median(serial_s):.1f}s", "", ""),
    ]
    return rows, par_ts, noop_fraction


def p1_smp(out: Path, smp: Path, pairs: int, cores: int) -> tuple[str, str, str, str]:
    """P1': the release whose jobs run make -j<cores> themselves, sequential vs scheduler, in pairs."""
    p1n = []
    for _ in range(pairs):
        seqn = timed_build(smp, out / "seqn", 1)
        parn = timed_build(smp, out / "parn", cores)
        p1n.append(seqn.seconds / parn.seconds)
    return (f"P1' make -j{cores} inside each job: sequential vs scheduler", fmt_ratio(p1n), "(info)", "")


def gcc_time(work: Path, cores: int, parallel: bool) -> float:
    """``cores`` identical gcc -O2 compiles, one after another or all at once (P0's halves)."""
    from concurrent.futures import ThreadPoolExecutor

    work.mkdir(parents=True, exist_ok=True)
    src = work / "w.c"
    if not src.exists():
        src.write_text(work_file("calib", 0, 120))

    def gcc(i: int) -> None:
        run(["gcc", "-O2", "-c", "-o", str(work / f"w{i}.o"), str(src)], log_file=work / f"calib-{i}.log")

    t0 = time.monotonic()
    if parallel:
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(gcc, range(cores)))
    else:
        for i in range(cores):
            gcc(i)
    return time.monotonic() - t0


def p4(out: Path, manifest: Path, pairs: int, mib: int) -> tuple[str, str, str, str]:
    """Assembly of the repo package over a tree with ``mib`` MiB of incompressible RPM
    payload (real repositories are RPMs: already compressed) vs copying it, in pairs."""
    from pmrepo.assemble import repopkg

    blob_dir = out / "blob"
    (blob_dir / "SOURCES").mkdir(parents=True)
    with open(blob_dir / "SOURCES" / "blob.bin", "wb") as fh:
        fh.write(os.urandom(mib << 20))
    spec = blob_dir / "blob.spec"
    spec.write_text(
        "Name: blob\nVersion: 1\nRelease: 1\nSummary: b\nLicense: MIT\nBuildArch: noarch\n"
        "%description\nb\n%install\nmkdir -p %{buildroot}/opt/b\n"
        "cp %{_sourcedir}/blob.bin %{buildroot}/opt/b/\n"
        "%files\n/opt/b/blob.bin\n"
    )
    run(
        [
            "rpmbuild",
            "-bb",
            "--define",
            f"_topdir {blob_dir}",
            "--define",
            "_binary_payload w0.gzdio",
            "--define",
            "__os_install_post %{nil}",
            str(spec),
        ],
        log_file=blob_dir / "build.log",
    )
    p = Pipeline(
        Options(release=manifest, workdir=out / "par" / "w", outdir=out / "par" / "o", install_check=False), say=quiet
    )
    dist = p.dists[0]
    where = p.layout.dist(dist.name)
    trees = tuple(where.trees().values())
    for rpm in (blob_dir / "RPMS").rglob("*.rpm"):
        shutil.copyfile(rpm, where.tree / "rpm" / rpm.name)
    nbytes = sum(f.stat().st_size for d in trees for f in d.rglob("*") if f.is_file())
    ratios, asm_rates, cp_rates = [], [], []
    for _ in range(pairs):
        t0 = time.monotonic()
        repopkg.build_repo_packages(p.release, dist, where, log=where.log("bench-p4.log"))
        asm = time.monotonic() - t0
        copy_dir = out / "copy"
        shutil.rmtree(copy_dir, ignore_errors=True)
        t0 = time.monotonic()
        for d in trees:
            shutil.copytree(d, copy_dir / d.name)
        os.sync()
        cp = time.monotonic() - t0
        ratios.append(cp / asm * 100)
        asm_rates.append(nbytes / asm / 2**20)
        cp_rates.append(nbytes / cp / 2**20)
    return (
        f"P4 repo-package assembly vs copy (+sync), {nbytes >> 20} MiB",
        f"{statistics.median(asm_rates):.0f} vs {statistics.median(cp_rates):.0f} MiB/s, " + fmt_ratio(ratios, "%", 0),
        ">= 50%",
        verdict(statistics.median(ratios) >= 50),
    )


def m1_run(rel: Path, work: Path, reuse: bool, stand_in: Path) -> tuple[float, list[dict[str, object]], int]:
    """One build of the release through the mock backend and the stand-in on ``work`` (kept between
    runs: the work dir's mock state, mock's basedir and caches; the store is emptied so every job
    builds again). Returns the wall time, the stand-in's build calls and the slots."""
    import json

    shutil.rmtree(work / "w" / "store", ignore_errors=True)
    record = work / "calls.jsonl"
    record.unlink(missing_ok=True)
    os.environ.update(
        FAKE_MOCK_RECORD=str(record),
        FAKE_MOCK_BASEDIR=str(work / "lib"),
        FAKE_MOCK_CACHEDIR=str(work / "cache"),
        FAKE_MOCK_CONFDIR=str(work / "etc"),
        FAKE_MOCK_HOME=str(work / "home"),
    )
    opts = Options(
        release=rel,
        workdir=work / "w",
        outdir=work / "o",
        install_check=False,
        gates=False,
        backend="mock",
        backend_options={"mock_cmd": str(stand_in), "reuse_roots": reuse},
    )
    t0 = time.monotonic()
    pipe = Pipeline(opts, say=quiet)
    rendered = pipe.render()
    pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))
    seconds = time.monotonic() - t0
    calls = [json.loads(ln) for ln in record.read_text().splitlines()]
    return seconds, [c for c in calls if c.get("mode") == "rebuild"], pipe.builder.default_jobs(os.cpu_count() or 1)


def m1_counts(builds: list[dict[str, object]]) -> dict[str, int]:
    """Per run: root inits, cache unpacks, and the stand-in's network contacts by kind."""
    events = [e for c in builds for e in c.get("network", [])]  # type: ignore[union-attr]
    return {
        "jobs": len(builds),
        "inits": sum(1 for c in builds if c.get("init")),
        "unpacks": sum(1 for c in builds if c.get("init_from") == "cache")
        + sum(1 for c in builds if c.get("bootstrap_from") == "cache"),
        "installs": sum(1 for e in events if e["kind"] == "install"),  # type: ignore[index]
        "pulls": sum(1 for e in events if e["kind"] == "pull"),  # type: ignore[index]
        "updates": sum(1 for e in events if e["kind"] == "update"),  # type: ignore[index]
    }


def m1(out: Path, pairs: int, init: float, unpack: float, bootstrap: float) -> list[tuple[str, str, str, str]]:
    """The mock backend against the stand-in: reused roots vs --clean-roots. Each mode keeps one work
    directory (and the stand-in's basedir and caches) for all its runs, as a build host does: a
    cold first run, then interleaved warm pairs (the store emptied, so every job builds again)."""
    rel = make_release(out / "rel-mock", DAG, work=1, macros={"_smp_mflags": "-j1"})
    stand_in = ROOT / "tests" / "fake_mock" / "mock"
    knobs = {
        "FAKE_MOCK_INIT_SECONDS": init,
        "FAKE_MOCK_UNPACK_SECONDS": unpack,
        "FAKE_MOCK_BOOTSTRAP_SECONDS": bootstrap,
        "FAKE_MOCK_UPDATE_SECONDS": 0.0,
    }
    names = ("RECORD", "BASEDIR", "CACHEDIR", "CONFDIR", "HOME")
    saved = {k: os.environ.get(k) for k in [*knobs, *(f"FAKE_MOCK_{n}" for n in names)]}
    times: dict[bool, list[float]] = {True: [], False: []}
    cold: dict[bool, dict[str, int]] = {}
    warm: dict[bool, list[dict[str, int]]] = {True: [], False: []}
    slots = 1
    try:
        os.environ.update({k: str(v) for k, v in knobs.items()})
        for reuse in (True, False):
            work = out / f"mock-{'reuse' if reuse else 'clean'}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            _, builds, slots = m1_run(rel, work, reuse, stand_in)
            cold[reuse] = m1_counts(builds)
        for i in range(pairs):
            for reuse in (True, False):
                seconds, builds, _ = m1_run(rel, out / f"mock-{'reuse' if reuse else 'clean'}", reuse, stand_in)
                times[reuse].append(seconds)
                warm[reuse].append(m1_counts(builds))
            print(
                f"  mock pair {i + 1}/{pairs} (warm): reused roots {times[True][-1]:.1f}s "
                f"({warm[True][-1]['inits']} inits), --clean-roots {times[False][-1]:.1f}s "
                f"({warm[False][-1]['inits']} inits)",
                flush=True,
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def med(reuse: bool, key: str) -> float:
        return statistics.median(w[key] for w in warm[reuse])

    def net(c: dict[str, int]) -> str:
        return f"{c['installs']} installs, {c['pulls']} image pulls"

    ratio = [c / r for c, r in zip(times[False], times[True], strict=True)]
    saved_s = statistics.median(c - r for c, r in zip(times[False], times[True], strict=True))  # per pair
    unpacks_avoided = med(False, "unpacks") - med(True, "unpacks")
    return [
        (
            f"M1 mock stand-in, cold run: install {init:g}s, bootstrap {bootstrap:g}s, unpack {unpack:g}s, "
            f"{slots} slot(s)",
            f"{cold[True]['jobs']} jobs; reused roots: {cold[True]['inits']} inits, {net(cold[True])}; "
            f"--clean-roots: {cold[False]['inits']} inits, {net(cold[False])}",
            "1 init per slot",
            verdict(cold[True]["inits"] == slots),
        ),
        (
            "M1 warm run (same work dir): network contacts per run",
            f"reused roots: {net(warm[True][-1])}, {med(True, 'updates'):.0f} yum updates, "
            f"{med(True, 'unpacks'):.0f} unpacks; --clean-roots: {net(warm[False][-1])}, "
            f"{med(False, 'updates'):.0f} yum updates, {med(False, 'unpacks'):.0f} unpacks",
            "0 installs, 0 pulls",
            verdict(all(w["installs"] == w["pulls"] == 0 for r in (True, False) for w in warm[r])),
        ),
        (
            "    warm --clean-roots / reused roots, wall time",
            fmt_ratio(ratio) + f"; reuse saves {saved_s:.1f}s per run (median of the pairs' differences; "
            f"the unpacks it avoids: {unpacks_avoided:.0f} x {unpack:g}s = {unpacks_avoided * unpack:.1f}s)",
            "(info)",
            "",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
