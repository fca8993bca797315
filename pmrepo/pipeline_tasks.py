"""The pipeline's pieces that need no ``Pipeline``: the previous release for the upgrade test
(located here, handed to ``checks.Upgrade``) and its published output for the NEVRA gate
(``checks.NevraCheck``) and the builds taken from it (``reuse``), a dist's build plan and
``plan``'s report of it, the jobs ``build --component`` selects, pinning sources
(``pin``) and publishing the outputs (``publish``: SHA256SUMS, signed when the release is, and
the verification of the upload). ``pipeline.Pipeline`` calls them with its release, layout and
console."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import manifest, preflight, reuse, sources, specs
from .builders import Builder, BuildOutput
from .checks import REQUIRED_CHECK_IDS, Predecessor
from .checksums import SUMS_NAME, SUMS_SIGNATURE, write_sha256sums
from .errors import GateError, PmrepoError, PublishError, UsageError
from .graph import BuildGraph
from .layout import PUBLIC_KEY_PREFIX, Layout
from .manifest import Dist, Release, redact_url
from .notes import render_notes
from .preflight import Input as PreflightInput
from .progress import Console, StepFn, table
from .provenance import refresh
from .publish import PublishResult, publish, refuse_unshippable, vouch
from .records import BuildRecord
from .release_verify import publish_check
from .repopkg import metapackage_requires
from .reuse_take import Taker
from .sign import ENV_KEY, Key, key_from_env, public_key_fingerprints, sign_detached

# -- the previous release, for the upgrade test (handed to checks.Upgrade) --------------------


def previous_repo_packages(release: Release, dist: Dist, upgrade_from: Path) -> tuple[Release, list[Path]]:
    """The release ``release`` follows, and its repository packages for ``dist``
    under the output root ``upgrade_from`` (``<release_id>/<dist>/``)."""
    where = release.follows_path()
    if where is None:
        raise GateError(
            f"{release.path}: release.follows is not set, so there is no previous release to upgrade from "
            "— fix: set follows, or drop --upgrade-from"
        )
    prev = manifest.load(where)
    d = prev.dists.get(dist.name)
    if d is None:
        raise GateError(
            f"{where}: the previous release has no dist {dist.name} to upgrade from — fix: drop --upgrade-from"
        )
    base = Layout(prev.release_id, upgrade_from).dist(dist.name).output.root
    rpms = [base / name for name in prev.repo_rpm_names(d)]
    missing = [str(p) for p in rpms if not p.is_file()]
    if missing:
        raise GateError(
            f"upgrade test ({dist.name}): the previous release's repository packages are not there: "
            f"{', '.join(missing)} — fix: build {where.name} into {upgrade_from} (build.py all --outdir …)"
        )
    return prev, rpms


def predecessor_output(release: Release, dist: Dist, root: Path) -> Predecessor:
    """The previous release's published output for ``dist`` under the output root ``root``
    (``<release_id>/<dist>/``: where ``all`` put it), for the NEVRA gate."""
    where = release.follows_path()
    if where is None:
        return Predecessor(why_none="release.follows is not set: the first release")
    try:
        prev = manifest.load(where)
    except PmrepoError as exc:
        return Predecessor(missing=f"its manifest does not load ({exc})")
    d = prev.dists.get(dist.name)
    if d is None:
        return Predecessor(why_none=f"{prev.release_id} has no {dist.name}")
    out = Layout(prev.release_id, root).dist(dist.name).output
    rpms = tuple(out.root / name for name in prev.repo_rpm_names(d))
    absent = [p.name for p in rpms if not p.is_file()]
    if absent:
        return Predecessor(
            prev,
            out,
            missing=f"{prev.release_id} is not in {root} (no {absent[0]}) — fix: pass --upgrade-from DIR, "
            "the output root holding it",
        )
    return Predecessor(prev, out, rpms)


@dataclass
class DistPlan:
    dist: Dist
    infos: dict[str, specs.SpecInfo]
    graph: BuildGraph


@dataclass
class ReusePlan:
    """Per dist the jobs taken from the previous release's output (``reuse``), and their takers."""

    release: Release
    dists: dict[str, reuse.DistReuse]
    graphs: dict[str, BuildGraph]
    takers: dict[str, Taker] = field(default_factory=dict)

    def jobs(self, wanted: Mapping[tuple[str, str], object]) -> dict[tuple[str, str], reuse.Reuse]:
        """The reused ones among ``wanted`` (component, dist) jobs."""
        return {(c, d): r for d, plan in self.dists.items() for c, r in plan.reused.items() if (c, d) in wanted}

    def take(self, job: reuse.Reuse, dest: Path) -> BuildOutput:
        return self.takers[job.dist].take(job, dest)

    def lines(self, indent: str = "") -> list[str]:
        return [ln for d, p in self.dists.items() for ln in reuse.describe(p, self.graphs[d], self.release, indent)]

    def close(self) -> None:
        for taker in self.takers.values():
            taker.close()


def plan_reuse(
    release: Release,
    plans: Mapping[str, DistPlan],
    origins: Mapping[tuple[str, str], specs.Origin],
    root: Path,
    layout: Layout,
    step: StepFn,
) -> ReusePlan:
    """Which jobs are taken from the previous release's output under ``root`` (where the NEVRA gate
    looks for it), each dist's taker ready (nothing is unpacked before a job needs it)."""
    out = ReusePlan(release, {}, {d: p.graph for d, p in plans.items()})
    for dname, plan in plans.items():
        prev = predecessor_output(release, plan.dist, root)
        where = layout.dist(dname)
        log = where.log("reuse.log")
        out.dists[dname] = reuse.plan_dist(release, plan.dist, prev, origins, plan.infos, log)
        if out.dists[dname].reused:
            out.takers[dname] = Taker(prev, where.reuse_scratch, log, functools.partial(_step_for, step, dname))
    return out


def _step_for(step: StepFn, dist: str, label: str) -> contextlib.AbstractContextManager[None]:
    return step(f"{dist}: {label}")


def say_lacking(console: Console, builder: Builder, plan: DistPlan, say_none: bool = False) -> None:
    """Which of the dist's BuildRequires from outside the release this host lacks."""
    with console.watch(f"{plan.dist.name}: BuildRequires from outside the release on this host"):
        lacking = sorted({br for brs in plan.graph.external.values() for br in brs if builder.lacks(br)})
    if not lacking:
        if say_none:
            console.say(f"  this host has every BuildRequires from outside the release (backend {builder.name})")
        return
    console.say(f"  BuildRequires this host lacks for backend {builder.name} ({len(lacking)}): {', '.join(lacking)}")
    if not builder.shippable:
        console.say(
            "  → taken as provided by the host's own packages (--host-buildrequires, unverified): "
            "builds are NOT shippable"
        )
    else:
        console.say(f"  → {builder.remedy}")


def say_plan(
    release: Release, plans: dict[str, DistPlan], builder: Builder, console: Console, reused: ReusePlan | None = None
) -> None:
    """``plan``'s report: per dist the build order, the waves, which jobs are taken from the previous
    release (``reused``) and the repo package's contents."""
    rel = release
    for dname, plan in plans.items():
        console.say(f"== {dname} ({plan.dist.tag}, rhel {plan.dist.rhel})")
        if reused is not None and dname in reused.dists:
            for line in reuse.describe(reused.dists[dname], plan.graph, rel, "  "):
                console.say(line)
        for i, wave in enumerate(plan.graph.waves(), 1):
            console.say(f"  wave {i}: {', '.join(wave)}")
        console.say(f"  build order: {' -> '.join(plan.graph.order())}")
        rows = []
        taken = reused.dists[dname] if reused is not None and dname in reused.dists else reuse.DistReuse(dname)
        for comp in rel.components_for(dname):
            deps = ", ".join(sorted(plan.graph.deps[comp.name])) or "-"
            how = f"reused from {taken.previous}" if comp.name in taken.reused else f"built after {deps}"
            for pkg in comp.packages_for(dname):
                rows.append((pkg, comp.vr + plan.dist.tag, comp.name, how))
        rows.append((rel.metapackage, f"{rel.vr}{plan.dist.tag}", "(metapackage)", "built"))
        console.say(f"  {rel.repo_rpm_name(plan.dist)} installs {rel.repo('main').rpm_dir}/:")
        console.say(
            "\n".join(
                "    " + ln for ln in table(["package", "version-release", "component", "build"], rows).splitlines()
            )
        )
        console.say(f"  {rel.metapackage} requires: {', '.join(metapackage_requires(rel, plan.dist))}")
        say_lacking(console, builder, plan)


def pin_sources(release: Release, cache: Path, console: Console) -> None:
    """Record the sha256 of every unpinned URL source of ``release`` (trust on first use)."""
    rel = release
    todo = sources.unpinned(rel)
    if not todo:
        console.say(f"{rel.path}: every source is pinned")
        return
    console.say(
        f"pinning {len(todo)} source(s) by TRUST ON FIRST USE: the sha256 recorded is whatever the "
        "server sends now; compare it with upstream's published checksums before you release."
    )
    with console.step(f"download {len(todo)} source(s)"):
        pinned = sources.pin(rel, sources.Fetcher(cache, say=console.say))
    for comp, url, digest in pinned:
        console.say(f"  {comp}: {redact_url(url)}\n    sha256 = {digest}")
    manifest.load(rel.path)


def publish_outputs(
    release: Release,
    layout: Layout,
    dists: tuple[Dist, ...],
    preflight_input: Callable[[], PreflightInput],
    repo_dir: Path,
    target: str,
    console: Console,
    *,
    dry_run: bool,
    replace: bool,
    allow_unchecked: bool,
    allow_insecure_auth: bool = False,
) -> PublishResult:
    """``publish`` under the run's lock: refuse what is unfinished, unshippable or unvouched for
    (everything at once before anything is written), regenerate the notes and SHA256SUMS, upload."""
    rel = release
    source = layout.release_out
    missing = [d.name for d in dists if not layout.dist(d.name).output.build_json.is_file()]
    found = (
        [
            f"publish: {source} has no finished build for {', '.join(missing)} — fix: run "
            f"`./build.py all --release {rel.path}` first"
        ]
        if missing
        else []
    )
    found += preflight.problems(
        preflight_input(),
        preflight.Needs(build=False, target=target, replace=replace, allow_insecure_auth=allow_insecure_auth),
    )[0]
    if found:  # everything publishing needs, reported at once before anything is written
        raise preflight.PreflightError(found)
    refuse_unshippable(source)  # before anything is written (notes, SHA256SUMS)
    unchecked = vouch(
        source,
        rel.key,
        rel.path,
        tuple(rel.dists),
        required=[d.name for d in dists],
        allow_unchecked=allow_unchecked,
        required_checks=REQUIRED_CHECK_IDS,
    )
    for dist, skipped in unchecked.items():
        console.say(f"publish: {dist} was built without {', '.join(skipped)} (--allow-unchecked; the notes say so)")
    key, pubkey = release_key(layout, dists)
    refresh_provenances(layout, dists, key, pubkey, console, dry_run=dry_run)
    # the notes describe exactly the files being uploaded: regenerated from the build.json files just verified
    render_notes(rel, source, repo_dir=repo_dir)
    write_sha256sums(source)  # local and derived: a dry run writes it too; the mirror is untouched
    sign_sums(layout, key, console, dry_run=dry_run)
    with console.step(f"publish {rel.release_id} to {target}"):
        result = publish(
            source,
            target,
            rel.release_id,
            force=replace,
            dry_run=dry_run,
            log=layout.log("publish.log"),
            echo=console.say,
            allow_insecure_auth=allow_insecure_auth,
            check=None if dry_run else publish_check(source, console),
        )
    return result


def release_key(layout: Layout, dists: tuple[Dist, ...]) -> tuple[Key | None, Path | None]:
    """The release key (``PMREPO_GPG_KEY``) and the public key its outputs ship, when they are
    signed; (None, None) for an unsigned release. The key must be the one that signed them."""
    shipped = [
        p
        for d in dists
        for p in sorted(layout.dist(d.name).output.root.glob(f"{PUBLIC_KEY_PREFIX}*"))
        if BuildRecord.read(layout.dist(d.name).output.build_json).signed
    ]
    if not shipped:
        return None, None
    log = layout.log("sign.log")
    key = key_from_env(log_file=log)
    signed_with = public_key_fingerprints(shipped[0], log)
    if key.fingerprint not in signed_with:
        raise PublishError(
            f"{ENV_KEY}={key.fingerprint} is not the key {shipped[0]} holds ({', '.join(sorted(signed_with))}), "
            f"which signed the packages — fix: set {ENV_KEY} to that key to sign {SUMS_NAME}"
        )
    return key, shipped[0]


def refresh_provenances(
    layout: Layout, dists: tuple[Dist, ...], key: Key | None, pubkey: Path | None, console: Console, *, dry_run: bool
) -> None:
    """Each dist's provenance with subjects up to date where ``gate`` rewrote check reports since the build."""
    for d in dists:
        where = layout.dist(d.name)
        if dry_run:
            continue
        changed = refresh(
            where.provenance(where.output), where.output.root, d.name, key, pubkey, log=layout.log("sign.log")
        )
        if changed:
            console.say(
                f"{d.name}: provenance subjects brought up to date "
                f"({len(changed)} check report(s) rewritten since the build)"
            )


def sign_sums(layout: Layout, key: Key | None, console: Console, *, dry_run: bool) -> None:
    """A signed release gets ``SHA256SUMS.asc``, by the key its packages were signed with; an
    unsigned one none (a stale one is removed)."""
    asc = layout.release_out / SUMS_SIGNATURE
    if key is None:
        asc.unlink(missing_ok=True)
        return
    if dry_run:
        console.say(f"[dry-run] would sign {SUMS_NAME} with {key.fingerprint}")
        return
    sign_detached(layout.sums_file, key, asc, log=layout.log("sign.log"))
    console.say(f"signed {SUMS_NAME} with {key.fingerprint}: {asc}")


def component_selection(
    plans: Mapping[str, DistPlan], components: Sequence[str], dists: Sequence[str]
) -> set[tuple[str, str]] | None:
    """The jobs ``--component`` asks for: each named component and every component it needs
    built first, per dist (None: every job)."""
    if not components:
        return None
    out: set[tuple[str, str]] = set()
    for dname, plan in plans.items():
        for name in components:
            if name in plan.graph.deps:
                out |= {(c, dname) for c in plan.graph.closure(name) | {name}}
    if not out:
        raise UsageError(
            f"--component {', '.join(components)}: not built for {', '.join(dists)} — fix: choose another --dist"
        )
    return out
