"""``make mutation``: mutation testing (cosmic-ray) of the modules where a wrong answer ships wrong
bits or lets input through, against the fast unit layer.

Each target is a module, optionally only some of its definitions (``scope``: top-level names,
``Class.method``), and the unit tests that must catch its mutants. The run copies the checkout's
``pmrepo/``, ``tests/``, ``releases/``, ``specs/`` and ``pyproject.toml`` into
``work/mutation/tree/`` (the checkout is never edited), checks that the selection passes
unmutated there, then has cosmic-ray apply one mutant at a time and run the selection
(``pytest -x``). cosmic-ray's own operators plus ``mutation.regex`` (patterns) make the mutants;
of the binary and comparison replacements only the boundary and negation ones are kept (``<`` ->
``<=``, ``==`` -> ``!=``, ``+`` -> ``-`` …), the rest of cosmic-ray's cross product being mostly
type errors every test catches at the cost of a test run each.

A survivor listed in ``mutation/equivalent.toml`` (module, operator, the line before and after)
is an equivalent mutant — no test can tell it from the original — and its reason is printed;
any other survivor makes the run exit 1. The result: a table per module (mutants, killed,
survived, equivalent, score = killed / (killed + non-equivalent survivors)), every survivor's
diff, and ``work/mutation/report.txt``.

    python3 -m mutation.run [--only MODULE]... [--list] [--timeout S]
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import difflib
import multiprocessing
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("pmrepo", "tests", "releases", "specs", "pyproject.toml", "build.py")  # build.py: a checkout to pmrepo
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.toml"


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]
    scope: tuple[str, ...] = ()  # top-level names or Class.method; empty: the whole module
    why: str = ""


TARGETS = (
    Target(
        "pmrepo/vercmp.py",
        ("tests/unit/test_vercmp.py", "tests/unit/manifest/test_next_release.py::test_vercmp_agrees_with_rpm"),
        why="version order",
    ),
    Target("pmrepo/checks/compat.py", ("tests/unit/checks/test_compat.py",), why="el6/el7 compat rules"),
    Target(
        "pmrepo/checks/el_support.py",
        ("tests/unit/checks/test_el_support.py", "tests/unit/checks/test_compat.py"),
        why="the compat table",
    ),
    Target(
        "pmrepo/manifest/model.py",
        ("tests/unit/manifest/test_model.py", "tests/unit/manifest/test_load.py", "tests/unit/test_trust_boundary.py"),
        scope=(
            "NAME_RE", "VERSION_RE", "SHA256_RE", "ARCH_RE", "REPO_FILE_RE", "IMAGE_RE", "HTTP_OR_FILE_URL_RE",
            "CONTROL_RE", "TEXT_CONTROL_RE", "DIR_RE", "PREFIX_RE", "SYSTEM_DIRS", "redact_url",
        ),
        why="manifest validation patterns",
    ),
    Target(
        "pmrepo/manifest/upstream.py",
        ("tests/unit/manifest/test_upstream.py", "tests/unit/manifest/test_upstream_manifest.py",
         "tests/unit/manifest/test_model.py"),
        why="the upstream field's validation",
    ),
    Target(
        "pmrepo/manifest/next_release.py",
        ("tests/unit/manifest/test_next_release_urls.py", "tests/unit/manifest/test_next_release_edges.py",
         "tests/unit/manifest/test_next_release.py"),
        why="new-release's rewriting",
    ),
    Target(
        "pmrepo/manifest/version_url.py",
        (
            "tests/unit/manifest/test_version_url.py",
            "tests/unit/manifest/test_next_release_urls.py",
            "tests/unit/manifest/test_next_release.py",
        ),
        why="the version in a source URL",
    ),
    Target(
        "pmrepo/publish/mirrors.py",
        ("tests/unit/publish/test_mirrors.py", "tests/unit/test_trust_boundary.py"),
        scope=("RELEASE_ID_RE", "TOKEN_HEX", "staging_re", "old_re", "_token", "_check_name", "_check_rel"),
        why="publish's name checks",
    ),
    Target(
        "pmrepo/checksums.py",
        ("tests/unit/publish/test_mirrors.py",),
        scope=("_LINE_RE", "_relative_name", "read_sha256sums", "verify_sha256sums"),
        why="SHA256SUMS names",
    ),
    Target(
        "pmrepo/fsutil.py",
        ("tests/unit/test_fsutil.py", "tests/unit/publish/test_mirrors.py"),
        why="regular files only, atomic writes, digests",
    ),
    Target(
        "pmrepo/render/environment.py",
        (
            "tests/unit/render/test_environment.py",
            "tests/unit/render/test_specs.py",
            "tests/unit/test_trust_boundary.py",
        ),
        scope=("_CONTROL", "spec_escape", "repo_escape", "xml_escape", "_SCRIPT_SCHEME", "md_escape", "_escaper"),
        why="output-context escaping",
    ),
    Target(
        "pmrepo/manifest/fields.py",
        ("tests/unit/manifest/test_fields.py", "tests/unit/test_trust_boundary.py",
         "tests/unit/manifest/test_model.py", "tests/unit/manifest/test_load.py"),
        scope=("_Reader.str_", "_Reader.str_list", "_opt_text", "_confined", "_file_url", "_confined_tree",
               "_no_template", "_check_macro"),
        why="confinement and text checks",
    ),
)  # fmt: skip

# cosmic-ray's binary and comparison replacements kept: boundary and negation (see the docstring)
KEPT_REPLACEMENTS = {
    "ReplaceBinaryOperator": {
        ("Add", "Sub"), ("Sub", "Add"), ("Mul", "Add"), ("Div", "Mul"), ("FloorDiv", "Mul"), ("Mod", "FloorDiv"),
        ("Pow", "Mul"), ("LShift", "RShift"), ("RShift", "LShift"), ("BitOr", "BitAnd"), ("BitAnd", "BitOr"),
        ("BitXor", "BitOr"),
    },
    "ReplaceComparisonOperator": {
        ("Lt", "LtE"), ("LtE", "Lt"), ("Gt", "GtE"), ("GtE", "Gt"), ("Eq", "NotEq"), ("NotEq", "Eq"),
        ("Is", "IsNot"), ("IsNot", "Is"), ("In", "NotIn"), ("NotIn", "In"), ("Lt", "Gt"), ("Gt", "Lt"),
    },
}  # fmt: skip


# the relative cost of a target (mutants x seconds per run, last measured): which to start first
COST = {
    "pmrepo/manifest/upstream.py": 9,
    "pmrepo/manifest/model.py": 8,
    "pmrepo/checks/compat.py": 3,
    "pmrepo/vercmp.py": 3,
}


def kept(operator: str) -> bool:
    """Whether an operator of cosmic-ray's (``core/Name[_From_To]``) or ours makes mutants here."""
    name = operator.split("/", 1)[1]
    family, _, pair = name.partition("_")
    if family not in KEPT_REPLACEMENTS:
        return True
    src, _, dst = pair.partition("_")
    return (src, dst) in KEPT_REPLACEMENTS[family]


def scope_lines(source: str, names: Iterable[str]) -> list[tuple[int, int]]:
    """The line ranges of the top-level definitions (or ``Class.method``) ``names`` in ``source``."""
    tree = ast.parse(source)
    found: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        end = node.end_lineno or node.lineno
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found[node.name] = (node.lineno, end)
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef):
                        found[f"{node.name}.{sub.name}"] = (sub.lineno, sub.end_lineno or sub.lineno)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    found[t.id] = (node.lineno, end)
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit(f"mutation: scope names not found: {', '.join(missing)} — fix: update mutation/run.py")
    return [found[n] for n in names]


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the annotations are: never evaluated here (every module has ``from __future__ import
    annotations``), so a mutant inside one is equivalent by construction and not made."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
            a = node.args
            notes += [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x]
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for n in notes:
            if n is not None:
                spans.append(((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)))
    return spans


def _inside(pos: tuple[int, int], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(a <= tuple(pos) < b for a, b in spans)


@dataclass
class Outcome:
    target: Target
    mutants: int = 0
    killed: int = 0
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # (operator, diff, equivalent reason)
    broken: str = ""  # why the target was not run (its tests fail unmutated)
    incompetent: int = 0
    seconds: float = 0.0

    @property
    def survived(self) -> int:
        return sum(1 for _, _, why in self.survivors if not why)

    @property
    def equivalent(self) -> int:
        return sum(1 for _, _, why in self.survivors if why)

    @property
    def score(self) -> float:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else 100.0


def diff_lines(diff: str) -> tuple[str, str]:
    """The changed line of a one-mutant diff: (before, after), stripped."""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def load_equivalents() -> dict[tuple[str, str, str, str], str]:
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    out = {}
    for e in data.get("equivalent", []):
        out[(e["module"], e["operator"], e["before"].strip(), e["after"].strip())] = e["why"]
    return out


def _tree(tree: Path) -> Path:
    """A fresh copy of what the tests need of the checkout (mutated there, never in the checkout)."""
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), symlinks=True)
        else:
            shutil.copy2(src, tree / name)
    return tree


PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider")
# what the tests import besides pmrepo: imported once here, so each forked run starts warm
WARM = (
    "pytest",
    "hypothesis",
    "jinja2",
    "markupsafe",
    "requests",
    "tomlkit",
    "markdown_it",
    "yaml",
    "xml.etree.ElementTree",
)


def warm_up() -> None:
    import importlib

    sys.dont_write_bytecode = True  # a cached .pyc of the same size and second would hide a mutant
    for name in WARM:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    assert not any(m == "pmrepo" or m.startswith("pmrepo.") for m in sys.modules), "pmrepo imported before the fork"
    # the checkout's own pmrepo must never be the one a run imports
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != ROOT]


def _quick_hypothesis() -> None:
    """A mutant only needs a failing example, not the smallest one: no shrinking (a property test
    against rpm would call rpm for every shrink step), no example database. The tests' own settings
    are made at import, after this, and take what they leave unsaid from this profile."""
    try:
        from hypothesis import Phase, settings
    except ImportError:
        return
    settings.register_profile("mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate), database=None)
    settings.load_profile("mutation")


def run_tests(tests: tuple[str, ...], timeout: float, log: Path) -> tuple[int | None, float]:
    """pytest over ``tests`` in a forked child of this warm process (pmrepo imported fresh there, from
    the mutated tree in the working directory): (exit code or None on timeout, seconds)."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: output to the log, exit with pytest's code
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            import pytest

            _quick_hypothesis()
            code = int(pytest.main([*PYTEST_ARGS, *tests]))
        except BaseException:  # whatever happens, the child ends here
            code = 99
        os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), time.monotonic() - start
        if time.monotonic() - start > timeout:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return None, time.monotonic() - start
        time.sleep(0.02)


def _baseline(work: Path, target: Target) -> float:
    log = work / f"{target.module.replace('/', '_')}.baseline.log"
    code, seconds = run_tests(target.tests, 3600, log)
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise Unmutated(f"{target.module}: its tests fail unmutated (exit {code}), see {log}:\n{tail}")
    return seconds


class Unmutated(Exception):
    """A target's tests fail before any mutant: no score for it (the run reports it and fails)."""


def mutate_and_run(item: Any, tests: tuple[str, ...], timeout: float, log: Path) -> Any:
    """cosmic-ray's mutate-and-test, with the tests run by ``run_tests`` instead of a new interpreter."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    m = item.mutations[0]
    operator = cosmic_ray.plugins.get_operator(m.operator_name)(**(m.operator_args or {}))
    with use_mutation(Path(m.module_path), operator, m.occurrence) as (original, mutated):
        if mutated is None:
            return WorkResult(worker_outcome=WorkerOutcome.NO_TEST)
        code, _ = run_tests(tests, timeout, log)
    diff = "\n".join(
        difflib.unified_diff(
            original.splitlines(), mutated.splitlines(), str(m.module_path), str(m.module_path), lineterm=""
        )
    )
    outcome = TestOutcome.SURVIVED if code == 0 else TestOutcome.KILLED
    return WorkResult(output="timeout" if code is None else f"exit {code}", diff=diff, test_outcome=outcome,
                      worker_outcome=WorkerOutcome.NORMAL)  # fmt: skip


def run_target(tree: Path, work: Path, target: Target, timeout: float, equivalents: dict, say: Say) -> Outcome:
    from cosmic_ray.commands.init import init
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    out = Outcome(target)
    module = tree / target.module
    source = module.read_text(encoding="utf-8")
    ranges = scope_lines(source, target.scope) if target.scope else None
    notes = annotation_spans(source)
    log = work / f"{target.module.replace('/', '_')}.log"
    cwd = os.getcwd()
    os.chdir(tree)  # the forked runs import pmrepo from here: the copy with the mutant
    try:
        base = _baseline(work, target)
    finally:
        os.chdir(cwd)
    db_path = work / f"{target.module.replace('/', '_')}.sqlite"
    only = _previous_survivors(db_path) if SURVIVORS_ONLY else None
    db_path.unlink(missing_ok=True)
    with use_db(str(db_path), WorkDB.Mode.create) as db:
        init([module], db, {})
        todo = []
        for item in db.pending_work_items:
            m = item.mutations[0]
            line = m.start_pos[0]
            if (
                not kept(m.operator_name)
                or (ranges and not any(a <= line <= b for a, b in ranges))
                or _inside(m.start_pos, notes)
                or (only is not None and (m.operator_name, m.occurrence) not in only)
            ):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
            else:
                todo.append(item)
        out.mutants = len(todo)
        limit = timeout or 3 * base + 10
        say(f"{target.module}: {len(todo)} mutants ({target.why}); tests unmutated {base:.1f} s, limit {limit:.0f} s")
        start = time.monotonic()
        cwd = os.getcwd()
        os.chdir(tree)
        try:
            for n, item in enumerate(todo, 1):
                m = item.mutations[0]
                result = mutate_and_run(item, target.tests, limit, log)
                db.set_result(item.job_id, result)
                op = m.operator_name.split("/", 1)[1]
                if result.worker_outcome != WorkerOutcome.NORMAL:
                    out.incompetent += 1
                    verdict = f"not run ({result.worker_outcome})"
                elif result.test_outcome == TestOutcome.SURVIVED:
                    before, after = diff_lines(result.diff or "")
                    why = equivalents.get((target.module, m.operator_name, before, after), "")
                    out.survivors.append((op, result.diff or "", why))
                    verdict = "equivalent" if why else "SURVIVED"
                else:
                    out.killed += 1
                    verdict = "killed"
                if verdict != "killed" or n % 10 == 0 or n == len(todo):
                    say(f"  {target.module} {n}/{len(todo)} line {m.start_pos[0]} {op}: {verdict} "
                        f"({time.monotonic() - start:.0f} s)")  # fmt: skip
        finally:
            os.chdir(cwd)
    out.seconds = time.monotonic() - start
    return out


SURVIVORS_ONLY = False  # --survivors: only the mutants that survived the last run of each target


def _previous_survivors(db_path: Path) -> set[tuple[str, int]]:
    """(operator, occurrence) of every mutant that survived in the target's last session (the module
    unchanged since: the same occurrences name the same mutants)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    if not db_path.is_file():
        return set()
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        return {
            (item.mutations[0].operator_name, item.mutations[0].occurrence)
            for item, result in db.completed_work_items
            if result.test_outcome == TestOutcome.SURVIVED
        }


def _one(work: Path, target: Target, timeout: float, equivalents: dict) -> Outcome:
    """One target in this process's own copy of the checkout (a worker takes one target at a time)."""
    say = Say()
    try:
        return run_target(_tree(work / f"tree-{os.getpid()}"), work, target, timeout, equivalents, say)
    except Unmutated as exc:
        say(f"{target.module}: NOT RUN: {exc}")
        return Outcome(target, broken=str(exc).splitlines()[0])


class Say:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.start:7.0f} s] {text}", flush=True)


def report(outcomes: list[Outcome]) -> str:
    head = ("module", "mutants", "killed", "survived", "equiv", "not run", "score", "time")
    lines = [f"{head[0]:32} " + " ".join(f"{h:>{max(len(h), 6)}}" for h in head[1:])]
    for o in outcomes:
        lines.append(
            f"{o.target.module:32} {o.mutants:7} {o.killed:6} {o.survived:8} {o.equivalent:5} {o.incompetent:7} "
            f"{o.score:6.1f}% {o.seconds:6.0f}s"
        )
    total = Outcome(Target("total", ()))
    for o in outcomes:
        total.mutants += o.mutants
        total.killed += o.killed
        total.survivors += o.survivors
        total.incompetent += o.incompetent
        total.seconds += o.seconds
    lines.append(
        f"{'total':32} {total.mutants:7} {total.killed:6} {total.survived:8} {total.equivalent:5} "
        f"{total.incompetent:7} {total.score:6.1f}% {total.seconds:6.0f}s"
    )
    for o in outcomes:
        if o.broken:
            lines += ["", f"{o.target.module}: NOT RUN: {o.broken}"]
        for op, diff, why in o.survivors:
            before, after = diff_lines(diff)
            head = f"equivalent ({why})" if why else "SURVIVED"
            lines += ["", f"{o.target.module}: {op}: {head}", f"  - {before}", f"  + {after}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m mutation.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="MODULE", help="only this target (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the targets and their tests, run nothing")
    ap.add_argument("--timeout", type=float, default=0.0, help="seconds per mutant's run (default: 3x unmutated + 10)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "work" / "mutation")
    ap.add_argument("--jobs", type=int, default=1, help="targets run side by side, each in its own copy (default 1)")
    ap.add_argument("--survivors", action="store_true", help="only the mutants that survived each target's last run")
    args = ap.parse_args(argv)
    targets = [t for t in TARGETS if not args.only or t.module in args.only or Path(t.module).stem in args.only]
    if not targets:
        ap.error(f"--only {args.only}: no such target (use one of: {', '.join(t.module for t in TARGETS)})")
    global SURVIVORS_ONLY
    SURVIVORS_ONLY = args.survivors
    if args.list:
        for t in targets:
            print(
                f"{t.module}: {t.why}; tests {' '.join(t.tests)}" + (f"; only {', '.join(t.scope)}" if t.scope else "")
            )
        return 0
    try:
        import cosmic_ray.plugins
    except ImportError:
        print(
            "mutation: cosmic-ray is not installed — fix: make setup (requirements-test.txt pins it)", file=sys.stderr
        )
        return 2
    from .regex import PROVIDER

    cosmic_ray.plugins.OPERATOR_PROVIDERS["pmrepo"] = PROVIDER
    warm_up()
    say = Say()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    equivalents = load_equivalents()
    say(f"{len(targets)} targets, {args.jobs} at a time; each in a copy of the checkout under {work}")
    # the longest first (the most mutants), so the last one to finish is a short one; reported in TARGETS order
    order = sorted(targets, key=lambda t: -COST.get(t.module, 0))
    jobs = [(work, t, args.timeout, equivalents) for t in order]
    if args.jobs <= 1:
        outcomes = [_one(*job) for job in jobs]
    else:
        with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_one, *zip(*jobs, strict=True)))
    outcomes.sort(key=lambda o: targets.index(o.target))
    text = report(outcomes)
    (work / "report.txt").write_text(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {os.getloadavg()[0]:.1f}\n{text}\n"
    )
    print(text)
    print(f"\n(report: {work / 'report.txt'}; the sessions: {work}/*.sqlite, `cr-report` reads them)")
    return 1 if any(o.survived or o.incompetent or o.broken for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
