"""pmrepo.pipeline.plan_report: ``plan``'s report per dist (waves, build order, the repo package's
contents, what is reused) and the BuildRequires this host lacks, from a fake builder and the demo
manifest with its build graph written by hand."""

from __future__ import annotations

from pmrepo.pipeline.plan_report import say_lacking, say_plan
from pmrepo.schedule import reuse
from pmrepo.schedule.plan import ReusePlan

from .fakes import DEMO, FakeBuilder, collecting, demo_plan

EXTERNAL: dict[str, tuple[str, ...]] = {"libdemo": ("gcc", "make"), "demod": ("gcc", "systemd-devel")}


def test_nothing_lacking_is_said_only_when_asked() -> None:
    con, out = collecting()
    say_lacking(con, FakeBuilder(), demo_plan("el7", EXTERNAL))
    assert out == []
    say_lacking(con, FakeBuilder("rpmbuild"), demo_plan("el7", EXTERNAL), say_none=True)
    assert out == ["  this host has every BuildRequires from outside the release (backend rpmbuild)"]


def test_lacking_build_requires_are_listed_once_sorted_with_the_remedy() -> None:
    con, out = collecting()
    say_lacking(con, FakeBuilder("mock", missing={"make", "gcc", "perl"}), demo_plan("el7", EXTERNAL))
    assert out == [
        "  BuildRequires this host lacks for backend mock (2): gcc, make",  # perl: needed by nothing
        "  → install it on the host",
    ]


def test_an_unshippable_backend_says_its_builds_are_not_shippable() -> None:
    con, out = collecting()
    builder = FakeBuilder("rpmbuild", missing={"systemd-devel"}, unshippable="--host-buildrequires")
    say_lacking(con, builder, demo_plan("el6", EXTERNAL))
    assert out[0] == "  BuildRequires this host lacks for backend rpmbuild (1): systemd-devel"
    assert out[1].endswith("builds are NOT shippable") and "--host-buildrequires" in out[1]


def test_the_plan_of_each_dist() -> None:
    con, out = collecting()
    plans = {d: demo_plan(d) for d in ("el6", "el7")}
    say_plan(DEMO, plans, FakeBuilder(), con)
    el6 = out[: out.index("== el7 (.el7, rhel 7)")]
    assert el6[0] == "== el6 (.el6, rhel 6)"
    assert el6[1:4] == [
        "  wave 1: demo-extras, libdemo",
        "  wave 2: demo-tools, demod",
        "  wave 3: demo-plugin",
    ]
    assert el6[4] == "  build order: demo-extras -> libdemo -> demo-tools -> demod -> demo-plugin"
    assert el6[5] == f"  {DEMO.repo_rpm_name(DEMO.dists['el6'])} installs /opt/pmrepo-demo/demo/rpm/:"
    rows = el6[6].splitlines()
    assert rows[0].split() == ["package", "version-release", "component", "build"]
    assert rows[2].split() == ["libdemo", "1.2-1.el6", "libdemo", "built", "after", "-"]
    assert rows[4].split() == ["demod", "1.0-3.el6", "demod", "built", "after", "libdemo"]
    assert rows[-1].split() == ["demo-all", "1.0-1.el6", "(metapackage)", "built"]
    assert not any("demo-units" in r for r in rows)  # an el7-only component
    assert el6[7].startswith("  demo-all requires: ") and "libdemo" in el6[7]
    assert len(el6) == 8  # and nothing lacking
    assert any("demo-units" in ln for ln in out[len(el6) :])


def test_the_plan_says_what_is_reused_from_the_previous_release() -> None:
    con, out = collecting()
    plans = {"el7": demo_plan("el7")}
    taken = reuse.TakenRpm("libdemo-1.2-1.el7.src.rpm", "demo-repo-src.rpm", "/x", "00")
    job = reuse.Reuse("libdemo", "el7", "demo-repo-0.9-1", taken, ())
    reused = ReusePlan(DEMO, {"el7": reuse.DistReuse("el7", "demo-repo-0.9-1", {"libdemo": job})}, {})
    say_plan(DEMO, plans, FakeBuilder(), con, reused)
    assert out[1] == "  el7: reused from demo-repo-0.9-1, not built (1): libdemo"
    table = next(ln for ln in out if ln.lstrip().startswith("package"))
    rows = {r.split()[0]: r.split()[3:] for r in table.splitlines()[2:]}
    assert rows["libdemo"] == rows["libdemo-devel"] == ["reused", "from", "demo-repo-0.9-1"]
    assert rows["demod"] == ["built", "after", "libdemo"]
