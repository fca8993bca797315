"""``plan``'s report: per dist the build order, the waves, the jobs taken from the previous release,
the repo package's contents, and which BuildRequires from outside the release this host lacks."""

from __future__ import annotations

from ..assemble.repopkg import metapackage_requires
from ..builders import Builder
from ..manifest import Release
from ..progress import Console, table
from ..schedule import reuse
from ..schedule.plan import DistPlan, ReusePlan


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
