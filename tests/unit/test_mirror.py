"""The unit layer mirrors the package (issue 31): every module of pmrepo/ with logic (a function or a
class at its top) has its unit test file in the mirrored place — ``pmrepo/<stage>/<module>.py`` ->
``tests/unit/<stage>/test_<module>.py``, a shared top-level module -> ``tests/unit/test_<module>.py``, a
package's face with logic -> ``tests/unit/<stage>/test_<stage>.py`` — and no unit test file sits where no
module is (the test files that hold the tree's rules — style, docs, layout — are the named exceptions; the
benchmark's tests mirror ``bench/`` in ``tests/unit/bench/``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pmrepo"
UNIT = ROOT / "tests" / "unit"
BENCH = ROOT / "bench"  # the benchmark's code: its unit tests, where it has them, in tests/unit/bench/
NOT_CODE = (PACKAGE / "templates", PACKAGE / "demo")
#: unit test files of the tree as a whole, or of a theme several modules share, not of one module
TREE_TESTS = {
    "test_style.py",
    "test_docs.py",
    "test_readme_layout.py",
    "test_trust_boundary.py",
    "test_private_dirs.py",
    "test_mirror.py",
}


def has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def mirrored(module: Path, package: Path = PACKAGE, unit: Path = UNIT) -> Path:
    rel = module.relative_to(package)
    if rel.name == "__init__.py":
        return unit / rel.parent / f"test_{rel.parent.name}.py"
    return unit / rel.parent / f"test_{rel.stem}.py"


def modules(package: Path = PACKAGE) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*.py")
        if not any(p.is_relative_to(d) for d in NOT_CODE) and p != package / "__init__.py"
    )


def missing(package: Path = PACKAGE, unit: Path = UNIT) -> list[str]:
    return [
        f"{m.relative_to(package.parent)}: no {mirrored(m, package, unit).relative_to(unit.parent.parent)}"
        for m in modules(package)
        if has_logic(m) and not mirrored(m, package, unit).is_file()
    ]


def strays(package: Path = PACKAGE, unit: Path = UNIT) -> list[str]:
    wanted = {mirrored(m, package, unit) for m in modules(package)}
    if package == PACKAGE:
        wanted |= {unit / "bench" / f"test_{m.stem}.py" for m in BENCH.glob("*.py")}
    return [
        str(t.relative_to(unit.parent.parent))
        for t in sorted(unit.rglob("test_*.py"))
        if t not in wanted and t.name not in TREE_TESTS and not _extra_of(t, wanted)
    ]


def _extra_of(test: Path, wanted: set[Path]) -> bool:
    """A second file of one module's tests (``test_next_release_edges.py`` beside ``test_next_release.py``)."""
    return any(w.parent == test.parent and test.stem.startswith(w.stem + "_") for w in wanted)


def test_every_module_with_logic_has_its_unit_test_file() -> None:
    assert missing() == []


def test_no_unit_test_file_stands_where_no_module_is() -> None:
    assert strays() == []


def test_the_mirror_rule_finds_a_missing_and_a_stray_file(tmp_path: Path) -> None:
    pkg, unit = tmp_path / "pmrepo", tmp_path / "tests" / "unit"
    (pkg / "stage").mkdir(parents=True)
    (unit / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text('"""A face."""\n')
    (pkg / "stage" / "work.py").write_text("def f() -> int:\n    return 1\n")
    (pkg / "stage" / "data.py").write_text("X = 1\n")  # no logic: no test file needed
    assert missing(pkg, unit) == ["pmrepo/stage/work.py: no tests/unit/stage/test_work.py"]
    (unit / "stage" / "test_work.py").write_text("")
    (unit / "stage" / "test_work_edges.py").write_text("")
    assert missing(pkg, unit) == [] and strays(pkg, unit) == []
    (unit / "stage" / "test_gone.py").write_text("")
    assert strays(pkg, unit) == ["tests/unit/stage/test_gone.py"]
