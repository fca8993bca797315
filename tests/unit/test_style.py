"""Style and types are enforced, not hoped for: ruff and mypy (configured in pyproject.toml, pinned in
requirements-test.txt) pass on the package and fail on a planted violation of each kind; ruff and a
non-strict mypy (tests/mypy.ini) pass on the tests, with the tests' profile shown to hold; modules stay
under 600 lines, functions under 80, and the package has no import cycle."""
from __future__ import annotations

import ast
import graphlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pmrepo import hostsetup

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "pmrepo"
# not Python of the tool: the release's and the demo's own files
NOT_CODE = (PACKAGE / "templates", PACKAGE / "demo")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _linted(name: str = "LINTED") -> list[str]:
    """What `make check` lints: the Makefile's LINTED line (one list, not two that can drift), or
    LINTED_TESTS (what it only checks with ruff, not ruff format: the tests)."""
    m = re.search(rf"^{name} = (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, f"Makefile: no {name} = … line for `make check`"
    return m.group(1).split()


#: the tests' own mypy configuration (not --strict): `make check` runs it after the package's
TESTS_MYPY = ROOT / "tests" / "mypy.ini"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if not any(p.is_relative_to(d) for d in NOT_CODE))


# -- planted violations: the config must catch each kind ------------------------------------------

PLANTED = {
    # an unannotated function: ruff's ANN rules and mypy --strict's no-untyped-def
    "unannotated": "def double(x):\n    return 2 * x\n",
    # a wrong type: only a type checker sees it
    "wrong_type": "def count() -> int:\n    return 'three'\n",
    # a lint error (an unused import, a bare except, a line of 130 columns)
    "lint": ("import os\n\n\ndef f() -> None:\n    try:\n        pass\n    except:\n        pass\n\n\n"
             f"X = {'1' * 124}\n"),
    # the control: the same tools pass on a clean module, so the failures above are the violations'
    "clean": "def double(x: int) -> int:\n    return 2 * x\n",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("planted")
    out = {}
    for name, text in PLANTED.items():
        (d / f"planted_{name}.py").write_text('"""A planted module."""\n' + text)
        out[name] = d / f"planted_{name}.py"
    return out


@pytest.fixture(scope="module")
def ruff_planted(planted: dict[str, Path]) -> str:
    r = _tool("ruff", "check", "--config", str(PYPROJECT), "--output-format", "concise", "--no-cache",
              *map(str, planted.values()))
    assert r.returncode == 1, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def mypy_planted(planted: dict[str, Path]) -> str:
    r = _tool("mypy", "--config-file", str(PYPROJECT), "--no-incremental", *map(str, planted.values()))
    assert r.returncode == 1, r.stdout + r.stderr
    return r.stdout


def _findings(output: str, path: Path) -> str:
    return "\n".join(line for line in output.splitlines() if line.startswith(str(path)))


def test_ruff_fails_on_an_unannotated_function(planted: dict[str, Path], ruff_planted: str) -> None:
    found = _findings(ruff_planted, planted["unannotated"])
    assert "ANN001" in found and "ANN201" in found, ruff_planted


def test_ruff_fails_on_lint_errors(planted: dict[str, Path], ruff_planted: str) -> None:
    found = _findings(ruff_planted, planted["lint"])
    for code in ("F401", "E722", "E501"):
        assert code in found, (code, ruff_planted)


def test_ruff_format_check_fails_on_unformatted_code(planted: dict[str, Path]) -> None:
    bad, good = (planted["clean"].with_name(f"planted_{n}.py") for n in ("unformatted", "formatted"))
    bad.write_text('"""A planted module."""\ndef double( x:int )->int :\n    return 2*x\n')
    good.write_text('"""A planted module."""\n\n\ndef double(x: int) -> int:\n    return 2 * x\n')
    r = _tool("ruff", "format", "--check", "--config", str(PYPROJECT), "--no-cache", str(bad), str(good))
    assert r.returncode == 1 and bad.name in r.stdout and good.name not in r.stdout, r.stdout + r.stderr


def test_mypy_fails_on_an_unannotated_function(planted: dict[str, Path], mypy_planted: str) -> None:
    assert "[no-untyped-def]" in _findings(mypy_planted, planted["unannotated"]), mypy_planted


def test_mypy_fails_on_a_wrong_type(planted: dict[str, Path], mypy_planted: str) -> None:
    assert "[return-value]" in _findings(mypy_planted, planted["wrong_type"]), mypy_planted


def test_the_clean_control_passes_both(planted: dict[str, Path], ruff_planted: str, mypy_planted: str) -> None:
    assert _findings(ruff_planted, planted["clean"]) == ""
    assert _findings(mypy_planted, planted["clean"]) == ""


# -- the tests' profile: no annotations asked, every other rule and every body's types checked ----

#: an unannotated test helper with an unused import, a line of 130 columns and a wrong call inside
PLANTED_TEST = ("import os\n\n\ndef helper(x):\n    return len(3)\n\n\n"
                f"X = {'1' * 124}\n")


def _ruff_as(path: str, text: str) -> str:
    """ruff's findings on ``text`` as if it were the checkout's file ``path`` (its per-file rules apply)."""
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--config", str(PYPROJECT), "--no-cache",
                        "--output-format", "concise", "--stdin-filename", path, "-"],
                       cwd=ROOT, input=text, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("where", ["tests/integration/test_planted.py", "tests/planted_helper.py",
                                   "tests/unit/manifest/test_planted.py"])
def test_ruff_lints_the_tests_without_asking_for_annotations(where: str) -> None:
    found = _ruff_as(where, '"""A planted test module."""\n' + PLANTED_TEST)
    assert "F401" in found and "E501" in found, found
    assert "ANN" not in found, found  # mypy checks the tests, not ruff's annotation rules
    # the same text in the package: the annotation rules hold there
    assert "ANN001" in _ruff_as("pmrepo/planted.py", '"""A planted module."""\n' + PLANTED_TEST)


def test_the_tests_mypy_checks_bodies_not_annotations(tmp_path: Path) -> None:
    (tmp_path / "planted_test.py").write_text('"""A planted test module."""\n' + PLANTED_TEST)
    (tmp_path / "planted_clean.py").write_text('"""A planted test module."""\n\n\ndef helper(x):\n    return len(x)\n')
    r = _tool("mypy", "--config-file", str(TESTS_MYPY), "--no-incremental",
              str(tmp_path / "planted_test.py"), str(tmp_path / "planted_clean.py"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "planted_test.py:6: error:" in r.stdout and "[arg-type]" in r.stdout, r.stdout  # len(3)
    assert "no-untyped-def" not in r.stdout and "planted_clean.py" not in r.stdout, r.stdout


# -- the package itself ---------------------------------------------------------------------------

def test_ruff_passes_on_the_package() -> None:
    r = _tool("ruff", "check", "--output-format", "concise", *_linted())
    assert r.returncode == 0, f"ruff check {' '.join(_linted())}:\n{r.stdout}{r.stderr}"


def test_the_package_is_formatted() -> None:
    r = _tool("ruff", "format", "--check", *_linted())
    assert r.returncode == 0, f"ruff format --check {' '.join(_linted())} (fix: ruff format):\n{r.stdout}{r.stderr}"


def test_mypy_passes_on_the_package() -> None:
    r = _tool("mypy")  # files and strictness from pyproject.toml
    assert r.returncode == 0, f"mypy (pyproject.toml: pmrepo, strict):\n{r.stdout}{r.stderr}"


def test_ruff_passes_on_the_tests() -> None:
    assert _linted("LINTED_TESTS") == ["tests"]
    r = _tool("ruff", "check", "--output-format", "concise", *_linted("LINTED_TESTS"))
    assert r.returncode == 0, f"ruff check {' '.join(_linted('LINTED_TESTS'))}:\n{r.stdout}{r.stderr}"


def test_mypy_passes_on_the_tests() -> None:
    assert f"mypy --config-file {TESTS_MYPY.relative_to(ROOT)}" in (ROOT / "Makefile").read_text()
    r = _tool("mypy", "--config-file", str(TESTS_MYPY))  # files (tests) and options from tests/mypy.ini
    assert r.returncode == 0, f"mypy --config-file {TESTS_MYPY.relative_to(ROOT)}:\n{r.stdout}{r.stderr}"


def test_no_module_over_600_lines_and_no_function_over_80() -> None:
    over = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            over.append(f"{rel}: {len(text.splitlines())} lines (module)")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    over.append(f"{rel}:{node.lineno}: {node.name}: {n} lines (function)")
    assert not over, "over the limits:\n" + "\n".join(over)


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_from(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from … import`` names, resolved against the importing module's ``package``."""
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def _imports(path: Path, known: set[str], root: Path = ROOT) -> set[str]:
    """The package's modules ``path`` imports (at the top or inside a function: a deferred import
    still ties the two modules together), resolved to module names in ``known``."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = _imported_from(node, package)
            # `from . import x` of a submodule x ties this module to x (the package is only its
            # container); `from . import name` of a name defined in the package ties it to the package
            subs = {f"{target}.{a.name}" for a in node.names} & known
            found |= subs
            if len(subs) < len(node.names):
                found.add(target)
    return {m for m in found if m in known and m != name}


def _cycle(paths: list[Path], root: Path = ROOT) -> list[str]:
    """An import cycle among ``paths`` (module names), or []."""
    modules = {_module_name(p, root): p for p in paths}
    graph = {name: _imports(path, set(modules), root) for name, path in modules.items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


@pytest.mark.parametrize(("files", "cyclic"), [
    # a submodule importing a sibling submodule through its package: no cycle
    ({"__init__.py": "from .base import B\n", "base.py": "from . import ids\n", "ids.py": "X = 1\n"}, False),
    # a submodule importing a name its package defines, while the package imports it: a cycle
    ({"__init__.py": "from .base import B\nLIST = 1\n", "base.py": "from . import LIST\nB = 1\n"}, True),
    # two modules importing each other, one of them inside a function: a cycle
    ({"__init__.py": "", "a.py": "from .b import f\n", "b.py": "def f():\n    from .a import g\n"}, True),
])
def test_the_cycle_finder_tells_a_cycle_from_a_sibling_import(tmp_path: Path, files: dict[str, str],
                                                              cyclic: bool) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    assert bool(_cycle(sorted(pkg.glob("*.py")), tmp_path)) is cyclic


def test_no_import_cycle_in_the_package() -> None:
    modules = {_module_name(p): p for p in _modules()}
    assert _imports(modules["pmrepo.pipeline.orchestrator"], set(modules)), (
        "the import graph is empty: the resolver is broken")
    cycle = _cycle(_modules())
    assert not cycle, f"import cycle: {' -> '.join(cycle)}"


# -- the stages are folders, in pipeline order: nothing imports a later stage ----------------------

#: the stage packages in the order the pipeline runs them (README's pipeline; CONTRIBUTING's layout). A
#: stage imports its own modules, earlier stages and the shared top-level modules; the shared modules
#: import no stage. checks/ comes before schedule/ and assemble/: reuse verifies a previous release's
#: builds and assembly gates its own output with the same checks (one package for what verifies a build).
STAGES = ("manifest", "upstream", "sources", "render", "sign", "builders", "checks", "schedule", "attest",
          "assemble", "notes", "publish", "verify", "pipeline", "cli")
ENTRY_POINTS = {"pmrepo.ci"}  # the workflows' `python3 -m pmrepo.ci`: an entry like cli, above every stage


def _stage(module: str, stages: tuple[str, ...]) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in stages else None


def _layer_violations(paths: list[Path], root: Path = ROOT, stages: tuple[str, ...] = STAGES,
                      entries: frozenset[str] | set[str] = ENTRY_POINTS) -> list[str]:
    """Every import that runs back up: a stage importing a later stage, a shared module importing a stage."""
    modules = {_module_name(p, root): p for p in paths}
    out = []
    for name, path in sorted(modules.items()):
        if name in entries:
            continue
        mine = _stage(name, stages)
        for target in sorted(_imports(path, set(modules), root)):
            theirs = _stage(target, stages)
            if theirs is None or theirs == mine:
                continue
            if mine is None and name.count(".") >= 1:
                out.append(f"{name} (shared) imports the stage {target}")
            elif mine is not None and stages.index(theirs) > stages.index(mine):
                out.append(f"{name} ({mine}) imports the later stage {target} ({theirs})")
    return out


def test_every_stage_is_a_folder() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), f"pmrepo/{stage}/ is not a package"
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if p.stem in STAGES)
    assert flat == [], f"a stage as a flat module: {flat}"


def test_nothing_imports_a_later_stage() -> None:
    bad = _layer_violations(_modules())
    assert bad == [], "\n".join(bad)


def test_the_layer_rule_catches_an_arrow_back_up(tmp_path: Path) -> None:
    pkg = tmp_path / "pmrepo"
    for d in ("early", "late"):
        (pkg / d).mkdir(parents=True)
        (pkg / d / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "shared.py").write_text("X = 1\n")
    (pkg / "late" / "b.py").write_text("from ..early.a import f\nfrom .. import shared\n")
    (pkg / "early" / "a.py").write_text("def f() -> None:\n    pass\n")
    paths = sorted(pkg.rglob("*.py"))
    assert _layer_violations(paths, tmp_path, ("early", "late"), set()) == []  # forward and shared: fine
    (pkg / "early" / "a.py").write_text("def f() -> None:\n    from ..late import b\n")
    (pkg / "shared.py").write_text("from .late.b import f\n")
    assert _layer_violations(paths, tmp_path, ("early", "late"), set()) == [
        "pmrepo.early.a (early) imports the later stage pmrepo.late.b (late)",
        "pmrepo.shared (shared) imports the stage pmrepo.late.b",
    ]


def _private_uses(path: Path, known: set[str], root: Path = ROOT) -> list[str]:
    """Where ``path`` imports or reads another module's private name (``_name``): ``from .x import _y``,
    ``x._y`` of an imported module ``x``. A private *module* may be imported inside its own package
    (the stage's private helper), never from outside it; a module's own private names are its own."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def private(n: str) -> bool:
        return n.startswith("_") and not n.startswith("__")

    def foreign(owner: str, attr: str) -> bool:
        full = f"{owner}.{attr}"
        if full in known:  # a module: private to the package that holds it
            return private(attr) and not (name == owner or name.startswith(owner + "."))
        return private(attr) and owner != name

    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found, aliases = _private_imports(tree, package, known, foreign, path.relative_to(root))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                dotted.insert(0, value.attr)
                value = value.value
            if not isinstance(value, ast.Name) or value.id not in aliases:
                continue
            owner = ".".join([aliases[value.id], *dotted[:-1]])
            if owner in known and foreign(owner, node.attr):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {owner}.{node.attr}")
    return found


def _private_imports(tree: ast.Module, package: str, known: set[str], foreign: Callable[[str, str], bool],
                     rel: Path) -> tuple[list[str], dict[str, str]]:
    """The imports of another module's private name in ``tree`` (as _private_uses words them), and
    the names the imports bind to the package's modules (name -> module)."""
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                bound = a.name if a.asname else a.name.partition(".")[0]  # `import p.a` binds `p`
                if bound in known:
                    aliases[a.asname or bound] = bound
        elif isinstance(node, ast.ImportFrom):
            target = _imported_from(node, package)
            if target not in known:
                continue
            for a in node.names:
                if foreign(target, a.name):
                    found.append(f"{rel}:{node.lineno}: from {target} import {a.name}")
                if f"{target}.{a.name}" in known:
                    aliases[a.asname or a.name] = f"{target}.{a.name}"
    return found, aliases


@pytest.mark.parametrize(("files", "flagged"), [
    # importing a sibling's private function
    ({"a.py": "def _y(): pass\n", "b.py": "from .a import _y\n"}, ["b.py:1: from pkg.a import _y"]),
    # reading it through the module, imported either way
    ({"a.py": "def _y(): pass\n", "b.py": "from . import a\na._y()\n"}, ["b.py:2: pkg.a._y"]),
    ({"a.py": "def _y(): pass\n", "b.py": "import pkg.a as m\nm._y()\n"}, ["b.py:2: pkg.a._y"]),
    ({"a.py": "def _y(): pass\n", "b.py": "import pkg.a\npkg.a._y()\n"}, ["b.py:2: pkg.a._y"]),
    # a private module imported from outside the package that holds it
    ({"sub/__init__.py": "", "sub/_h.py": "Y = 1\n", "b.py": "from .sub import _h\n"},
     ["b.py:1: from pkg.sub import _h"]),
    # clean: a public name, a module's own private name, a private module inside its package,
    # another library's private name
    ({"a.py": "def y(): pass\n", "b.py": "from .a import y\nimport os\n_z = 1\nprint(_z)\nos._exit(0)\n"}, []),
    ({"sub/__init__.py": "from ._h import Y\n", "sub/_h.py": "Y = 1\n", "sub/c.py": "from . import _h\n"}, []),
])
def test_the_private_name_finder_flags_another_modules_private_name(
        tmp_path: Path, files: dict[str, str], flagged: list[str]) -> None:
    pkg = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    paths = sorted(pkg.rglob("*.py"))
    known = {_module_name(p, tmp_path) for p in paths}
    found = [f for p in paths for f in _private_uses(p, known, tmp_path)]
    assert found == [f"pkg/{f}" for f in flagged]


def test_no_module_uses_another_modules_private_name() -> None:
    known = {_module_name(p) for p in _modules()}
    found = [f for p in _modules() for f in _private_uses(p, known)]
    assert not found, "a private name used outside its module (make it public where it is owned):\n" + "\n".join(found)


# -- make setup installs the pinned tools --------------------------------------------------------

def test_setup_installs_the_pinned_linters(tmp_path: Path) -> None:
    pins = (ROOT / "requirements-test.txt").read_text()
    for pin in ("ruff==", "mypy==", "types-requests=="):
        assert re.search(rf"^{re.escape(pin)}\S+", pins, re.M), f"requirements-test.txt: no {pin} pin"
    for module in ("ruff", "mypy", "requests-stubs"):
        assert module in hostsetup.TEST_MODULES
    assert hostsetup.python_missing(("ruff", "mypy", "requests-stubs", "pmrepo_no_such_module")) == [
        "pmrepo_no_such_module"]
    assert hostsetup.pins_unmet(ROOT / "requirements-test.txt") == [], "make setup would reinstall the pins"
    other = tmp_path / "requirements-test.txt"
    other.write_text("pytest>=7\nruff==0.0.1  # an older ruff\npmrepo-no-such-dist==1.0\n")
    assert hostsetup.pins_unmet(other) == ["ruff==0.0.1", "pmrepo-no-such-dist==1.0"]
