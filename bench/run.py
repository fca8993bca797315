#!/usr/bin/env python3
"""Benchmark of the build scheduler and repo-package assembly (issue 3).

Prints ratios against targets; it is not a test and asserts nothing. Runs a
synthetic release of 12 C components (real compile work, a DAG with fan-out)
with the rpmbuild backend on this machine:

  P1  full build: scheduler (--jobs = cores) vs the same builds one at a time
      in dependency order (what `mock --chain` does), and vs the lower bound
      max(critical path, total work / cores) computed from the sequential
      run's per-job times. Each build runs `make -j1` so that the comparison
      measures job-level parallelism; a second line shows builds with
      `make -j<cores>` inside each job (the realistic mock --chain setting).
  P2  no-op rerun as a fraction of the full build.
  P3  one component's spec touched: which jobs rebuilt, time.
  P4  repo-package assembly throughput vs a plain copy of the same bytes.

Usage (from the checkout): python3 -m bench.run [--out bench/out] [--quick]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from pmrepo.pipeline import Options, Pipeline
from pmrepo.progress import table
from pmrepo.run import run
from tests.synthetic import _work_file, make_release

OUT = Path(__file__).resolve().parent / "out"

DAG = {
    "core": [], "util": [], "solo": [],
    "a1": ["core"], "a2": ["core"], "a3": ["core", "util"], "a4": ["util"],
    "b1": ["a1"], "b2": ["a2", "a3"], "b3": ["a4"],
    "c1": ["b1", "b2"], "top": ["c1", "b3"],
}
WORK = {"core": 6, "util": 3, "solo": 4, "a1": 3, "a2": 5, "a3": 3, "a4": 2, "b1": 4, "b2": 3, "b3": 5, "c1": 4, "top": 3}


def quiet(_: str) -> None:
    pass


def timed_build(manifest: Path, work: Path, jobs: int, fresh: bool = True) -> tuple[float, dict]:
    """Render, plan, build and assemble (no install check, no gates); ``fresh``
    wipes the work directory first, otherwise it is an incremental rerun."""
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    opts = Options(release=manifest, workdir=work / "w", outdir=work / "o", jobs=jobs, install_check=False, gates=False)
    t0 = time.monotonic()
    p = Pipeline(opts, say=quiet)
    rendered = p.render()
    results = p.build(rendered, p.fetch_sources(), p.plan(rendered))
    p.assemble(p.dists[0], results)
    return time.monotonic() - t0, results


def effective_cores(work: Path, cores: int) -> float:
    """How many compiles this machine really runs at once: the same gcc -O2
    job ``cores`` times, one after another vs all at once (a shared or
    overcommitted VM gives less than ``cores``)."""
    work.mkdir(parents=True, exist_ok=True)
    src = work / "w.c"
    src.write_text(_work_file("calib", 0, 120))

    def gcc(i: int) -> list[str]:
        return ["gcc", "-O2", "-c", "-o", str(work / f"w{i}.o"), str(src)]

    t0 = time.monotonic()
    for i in range(cores):
        run(gcc(i), log_file=work / "calib.log")
    seq = time.monotonic() - t0
    from concurrent.futures import ThreadPoolExecutor
    t0 = time.monotonic()
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(lambda i: run(gcc(i), log_file=work / f"calib-{i}.log"), range(cores)))
    par = time.monotonic() - t0
    return seq / par


def critical_path(seconds: dict[str, float]) -> float:
    memo: dict[str, float] = {}

    def longest(c: str) -> float:
        if c not in memo:
            memo[c] = seconds[c] + max((longest(d) for d in DAG[c]), default=0.0)
        return memo[c]
    return max(longest(c) for c in DAG)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quick", action="store_true", help="less compile work (a smoke run of the script)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    work = {k: (1 if args.quick else v) for k, v in WORK.items()}
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    serial = make_release(out / "rel-j1", DAG, work=work, macros={"_smp_mflags": "-j1"})
    smp = make_release(out / "rel-jn", DAG, work=work, macros={"_smp_mflags": f"-j{cores}"})
    started = time.monotonic()
    rows = []

    print(f"bench: {len(DAG)} components, {sum(work.values())} work units, {cores} cores, rpmbuild backend", flush=True)
    eff = effective_cores(out / "calib", cores)
    rows.append((f"P0 machine: {cores} gcc -O2 at once vs one at a time", f"{eff:.2f} effective cores of {cores}", "(info)", ""))
    seq_t, seq_res = timed_build(serial, out / "seq", 1)
    par_t, par_res = timed_build(serial, out / "par", cores)
    per_job = {c: r.seconds for (c, _), r in seq_res.items()}
    total = sum(per_job.values())
    cp = critical_path(per_job)
    bound = max(cp, total / cores)
    speedup = seq_t / par_t
    rows.append(("P1 speed-up vs sequential (make -j1 per job)", f"{seq_t:.1f}s / {par_t:.1f}s = {speedup:.2f}x",
                 ">= 1.8x", verdict(speedup >= 1.8)))
    rows.append(("P1 scheduler vs bound max(cp, work/cores)", f"{par_t:.1f}s / {bound:.1f}s = {par_t / bound:.2f}",
                 "<= 1.10", verdict(par_t / bound <= 1.10)))
    rows.append(("    critical path / total work", f"{cp:.1f}s / {total:.1f}s", "", ""))
    eff_bound = max(cp, total / min(cores, max(1.0, eff)))
    rows.append(("    same bound with the measured effective cores", f"{par_t:.1f}s / {eff_bound:.1f}s = {par_t / eff_bound:.2f}",
                 "(info)", ""))
    seqn_t, _ = timed_build(smp, out / "seqn", 1)
    parn_t, _ = timed_build(smp, out / "parn", cores)
    rows.append((f"P1' make -j{cores} inside each job: sequential vs scheduler", f"{seqn_t:.1f}s / {parn_t:.1f}s = {seqn_t / parn_t:.2f}x",
                 "(info)", ""))

    noop_t, noop_res = timed_build(serial, out / "par", cores, fresh=False)
    reused = sum(1 for r in noop_res.values() if r.status == "reused")
    frac = noop_t / par_t
    rows.append(("P2 no-op rerun / full build", f"{noop_t:.2f}s / {par_t:.1f}s = {frac * 100:.1f}% ({reused}/{len(noop_res)} reused)",
                 "<= 2% and < 2s", verdict(frac <= 0.02 and noop_t < 2.0)))

    spec = out / "rel-j1" / "specs" / "a2.spec.j2"
    spec.write_text(spec.read_text().replace("Synthetic component a2", "Synthetic component a2 (touched)"))
    touch_t, touch_res = timed_build(serial, out / "par", cores, fresh=False)
    rebuilt = sorted(c for (c, _), r in touch_res.items() if r.status == "built")
    expected = sorted({"a2", "b2", "c1", "top"})
    rows.append(("P3 touch a2: rebuilt", f"{', '.join(rebuilt)} in {touch_t:.1f}s", "a2 + reverse deps only",
                 verdict(rebuilt == expected)))

    rows.append(p4(out, serial, cores))
    print(table(["measure", "result", "target", "verdict"], rows))
    print(f"bench: total {time.monotonic() - started:.0f}s; outputs under {out}")
    return 0


def p4(out: Path, manifest: Path, cores: int) -> tuple[str, str, str, str]:
    """Assembly of the repo package over a tree with 64 MiB of incompressible RPM
    payload (real repositories are RPMs: already compressed) vs copying it."""
    from pmrepo import repopkg

    blob_dir = out / "blob"
    (blob_dir / "SOURCES").mkdir(parents=True)
    with open(blob_dir / "SOURCES" / "blob.bin", "wb") as fh:
        fh.write(os.urandom(64 << 20))
    spec = blob_dir / "blob.spec"
    spec.write_text("Name: blob\nVersion: 1\nRelease: 1\nSummary: b\nLicense: MIT\nBuildArch: noarch\n"
                    "%description\nb\n%install\nmkdir -p %{buildroot}/opt/b\ncp %{_sourcedir}/blob.bin %{buildroot}/opt/b/\n"
                    "%files\n/opt/b/blob.bin\n")
    run(["rpmbuild", "-bb", "--define", f"_topdir {blob_dir}", "--define", "_binary_payload w0.gzdio",
         "--define", "__os_install_post %{nil}", str(spec)], log_file=blob_dir / "build.log")
    p = Pipeline(Options(release=manifest, workdir=out / "par" / "w", outdir=out / "par" / "o", install_check=False), say=quiet)
    dist = p.dists[0]
    work = p.work / dist.name
    for rpm in (blob_dir / "RPMS").rglob("*.rpm"):
        shutil.copyfile(rpm, work / "tree" / "rpm" / rpm.name)
    nbytes = sum(f.stat().st_size for d in ("tree", "debuginfo-tree", "srpms") for f in (work / d).rglob("*") if f.is_file())
    t0 = time.monotonic()
    repopkg.build_repo_packages(p.release, dist, work, tree=work / "tree", debuginfo_tree=work / "debuginfo-tree",
                                srpm_dir=work / "srpms", log=work / "logs" / "bench-p4.log", epoch=p.epoch)
    asm = time.monotonic() - t0
    copy_dir = out / "copy"
    t0 = time.monotonic()
    for d in ("tree", "debuginfo-tree", "srpms"):
        shutil.copytree(work / d, copy_dir / d)
    os.sync()
    cp = time.monotonic() - t0
    ratio = cp / asm
    return ("P4 repo-package assembly vs copy (+sync)", f"{nbytes / asm / 2**20:.0f} MiB/s vs {nbytes / cp / 2**20:.0f} MiB/s = {ratio * 100:.0f}%",
            ">= 50%", verdict(ratio >= 0.5))


if __name__ == "__main__":
    sys.exit(main())
