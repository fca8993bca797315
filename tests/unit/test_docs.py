"""Every file path, module and code symbol that README.md, CONTRIBUTING.md and docs/*.md name exists in
the tree, and every link between them leads somewhere: rename a module, a function or a constant and
this test names the page that still says the old name.

What a page names is read from its inline code spans (`…`), word by word:

* a path (``pmrepo/layout.py``, ``tests/test_trust.py``, ``docs/ci.md``, ``.github/workflows/``,
  ``specs/*.spec.j2``): it exists (a glob matches); a path below the package may leave out
  ``pmrepo/`` (``checks/ids.py``); a bare file name of the source (``render.py``) is a file somewhere
  in the tree; outputs (``work/…``, ``repo/…``) and other projects' files (``FOREIGN``) are not checked;
* a module (``pmrepo.checks.container.upgrade.upgrade_test``): it imports, and the rest are attributes;
* ``module.Name`` with a module of the package (``publish_targets._shq``, ``cli_options.GROUPS``,
  ``layout.timings_file()``) or ``Class.attr`` with a class of the package (``Release.repositories``,
  ``Assembly.key``): the attribute exists (a dataclass field counts);
* a code-looking word (``PmrepoError``, ``default_checks()``, ``repo_value``, ``NOT_PACKAGE_SHAPING``,
  ``PMREPO_GPG_KEY``; a manifest field like ``mock_base_repos`` is one too): it is a word of the tree's
  code (``pmrepo/``, ``tests/``, ``bench/``, ``mutation/``, the workflows, the Makefile).
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

PAGES = ("README.md", "CONTRIBUTING.md", "docs/*.md")
# what a run creates (not in the tree) and where other projects' files are named (mock's own source,
# mock-core-configs' templates, the reference data beside the checkout)
OUTPUT_PREFIXES = ("work/", "repo/", "test-output/", "bench/out", "~/", "/", "../", "$")
FOREIGN_PREFIXES = ("mockbuild/", "eol/", "plugins/", "mock/py/", "mock-core-configs/")
FOREIGN_FILES = {
    "package_manager.py",  # mock's
    "exception.py",  # mock's mockbuild/exception.py
    "config.py",  # mock's mockbuild/config.py
    "root_cache.py",  # mock's plugin
    "setup.py",  # a component's build, not ours
}
TREE_TOPS = ("pmrepo/", "tests/", "docs/", "bench/", "mutation/", "releases/", "specs/", ".github/", ".ci/")
TOP_FILES = {"build.py", "Makefile", "pyproject.toml", "README.md", "CONTRIBUTING.md", "CHANGELOG.md",
             "requirements.txt", "requirements-test.txt", "requirements-mockref.txt"}
SOURCE_EXTENSIONS = (".py", ".md", ".toml", ".j2", ".yml", ".css", ".conf", ".1", ".macros")
# what a run writes or another tool reads: a file name with one of these is not looked for in the tree
DATA_EXTENSIONS = {"xml", "asc", "json", "cfg", "gz", "rpm", "log", "txt", "html", "tpl", "spec", "repo", "lock",
                   "tar", "bz2", "xz", "zst", "sqlite", "bundle", "diff", "sh", "d", "conf"}
NOT_CODE = {"pmrepo.build"}  # the build host name rpmbuild records, not a module
CODE_DIRS = ("pmrepo", "tests", "bench", "mutation", ".github", ".ci")

SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CAMEL = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+")  # PmrepoError, BuildRecord (one capital word is prose)
CONSTANT = re.compile(r"_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?")  # NOT_PACKAGE_SHAPING, PMREPO_GPG_KEY
SNAKE = re.compile(r"_?[a-z][a-z0-9]*(?:_[a-z0-9]+)*")  # default_checks (when written as a call)
DOTTED = re.compile(r"_?[A-Za-z]\w*(?:\.\w+)+")
PATHLIKE = re.compile(r"\.?[\w.*+-]+(?:/[\w.*+<>-]*)*")


@functools.cache
def tree_files() -> frozenset[str]:
    from pmrepo.run import run

    if (ROOT / ".git").exists():
        return frozenset(run(["git", "-C", str(ROOT), "ls-files"]).output.split())
    return frozenset(str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file())


@functools.cache
def code_words() -> frozenset[str]:
    words: set[str] = set()
    for name in tree_files():
        planted_here = name == "tests/unit/test_docs.py"  # its planted names are no code
        if (name.startswith(CODE_DIRS) or name == "Makefile") and not planted_here:
            path = ROOT / name
            if path.suffix in (".py", ".yml", ".j2", ".toml", ".cfg", "") and path.is_file():
                words |= set(re.findall(r"\w+", path.read_text(errors="replace")))
    return frozenset(words)


@functools.cache
def package_modules() -> dict[str, list[str]]:
    """Last component of every pmrepo module -> the modules of that name (``mock`` -> pmrepo.builders.mock)."""
    found: dict[str, list[str]] = {}
    for name in sorted(tree_files()):
        if name.startswith("pmrepo/") and name.endswith(".py") and "/templates/" not in name and "/demo/" not in name:
            dotted = name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            found.setdefault(dotted.rsplit(".", 1)[-1], []).append(dotted)
    return found


@functools.cache
def package_classes() -> dict[str, list[str]]:
    """Every class the package defines at a module's top -> the modules defining it."""
    found: dict[str, list[str]] = {}
    for short, modules in package_modules().items():
        del short
        for module in modules:
            path = ROOT / (module.replace(".", "/") + ".py")
            if not path.exists():
                path = ROOT / module.replace(".", "/") / "__init__.py"
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ClassDef):
                    found.setdefault(node.name, []).append(module)
    return found


def has_attr(obj: object, name: str) -> bool:
    if hasattr(obj, name):
        return True
    if isinstance(obj, type) and dataclasses.is_dataclass(obj):
        return name in {f.name for f in dataclasses.fields(obj)}
    return isinstance(obj, type) and name in getattr(obj, "__annotations__", {})


def resolve(module: str, attrs: list[str]) -> bool:
    obj: object = importlib.import_module(module)
    for attr in attrs:
        if not has_attr(obj, attr):
            return False
        obj = getattr(obj, attr, None)
    return True


def module_path_exists(dotted: str) -> bool:
    """``pmrepo.a.b.c``: the longest prefix that is a module imports, the rest are its attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            return resolve(name, parts[cut:])
    return False


def path_exists(token: str) -> bool:
    token = token.rstrip(".,;:")
    rel = token.removeprefix("./").rstrip("/")
    candidates = [rel] if rel.startswith(TREE_TOPS) or rel in TOP_FILES else [f"pmrepo/{rel}", rel]
    for cand in candidates:
        if any(ch in cand for ch in "*?["):
            if list(ROOT.glob(cand)):
                return True
        elif (ROOT / cand).exists():
            return True
    return False


def not_looked_for(token: str) -> bool:
    """An output, a placeholder, another project's file, a kind of file: nothing the tree must hold."""
    if not token or token.startswith(OUTPUT_PREFIXES) or any(c in token for c in "<{…") or token in NOT_CODE:
        return True
    if re.fullmatch(r"\.?[\w+-]+(?:\.[\w+-]+)*\.(\w+)", token) and token.rsplit(".", 1)[1] in DATA_EXTENSIONS:
        return True  # repomd.xml, upstream.json, mock.cfg: a file a run writes or a tool reads
    if re.fullmatch(r"[\w-]+/", token) and not token.startswith(TREE_TOPS):
        return True  # rpm/, repodata/, gates/: a directory of an output, by its name
    return token.startswith(FOREIGN_PREFIXES) or token.rsplit("/", 1)[-1] in FOREIGN_FILES


def file_problem(token: str) -> str | None:
    """A path (``pmrepo/layout.py``, ``checks/ids.py``, ``docs/``) or a bare file name (``render.py``)."""
    if "/" in token:
        if token.rstrip("/").startswith(TREE_TOPS) or token.endswith((*SOURCE_EXTENSIONS, "/")):
            return None if path_exists(token) else f"path {token} is not in the tree"
        return None
    if token in TOP_FILES or any(f.rsplit("/", 1)[-1] == token for f in tree_files()):
        return None
    return f"file {token} is nowhere in the tree"


def dotted_problem(name: str) -> str | None:
    """``module.Name`` of a package module, or ``Class.attr`` of a package class; other dotted names
    (``os.environ``, ``dsse.Envelope``) are not this tree's."""
    head, *rest = name.split(".")
    if head in package_modules():
        if any(resolve(m, rest) for m in package_modules()[head]):
            return None
        return f"{name}: no {'.'.join(rest)} in {' or '.join(package_modules()[head])}"
    if head in package_classes():
        if any(resolve(m, [head, *rest]) for m in package_classes()[head]):
            return None
        return f"{name}: class {head} has no {'.'.join(rest)}"
    return None


def problem(word: str) -> str | None:
    """Why ``word`` (one word of a code span) names nothing in the tree, or None."""
    call = word.rstrip(".,;:'\"").endswith("()")  # default_checks(): a function, by its call
    token = word.lstrip("([\'\"").rstrip(".,;:)]\'\"").removesuffix("(")
    if not_looked_for(token):
        return None
    if token.startswith("pmrepo.") and DOTTED.fullmatch(token):
        return None if module_path_exists(token) else f"module or symbol {token} does not exist"
    if "/" in token and PATHLIKE.fullmatch(token):
        return file_problem(token)
    if token.startswith("."):
        return None  # `.spec.j2`, `.repo`: a kind of file, by its extension
    if token.endswith(SOURCE_EXTENSIONS) and re.fullmatch(r"[A-Za-z_][\w.+-]*", token):
        return file_problem(token)
    if DOTTED.fullmatch(token):
        return dotted_problem(token)
    snake = SNAKE.fullmatch(token) and (call or "_" in token.strip("_"))  # default_checks(), repo_value, base_repos
    if CAMEL.fullmatch(token) or CONSTANT.fullmatch(token) or snake:
        return None if token in code_words() else f"{token} is not a name in the tree's code"
    return None


def named(text: str) -> Iterator[tuple[int, str]]:
    """(line, word) for every word of every inline code span, fenced blocks left out."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):  # code blocks: commands with example paths
            continue
        for span in SPAN.findall(line):
            for word in re.split(r"[\s|=]+", span):
                yield number, word


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", path.read_text(), re.M)}


def link_problem(page: Path, target: str) -> str | None:
    if re.match(r"[a-z]+://|mailto:", target):
        return None
    file, _, anchor = target.partition("#")
    dest = (page.parent / file).resolve() if file else page
    if not dest.exists():
        return f"link to {target}: no such file"
    if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
        return f"link to {target}: no heading with that anchor"
    return None


def pages() -> list[Path]:
    found = [p for pattern in PAGES for p in sorted(ROOT.glob(pattern))]
    assert len(found) > 10, found
    return found


def page_problems(page: Path, text: str | None = None) -> list[str]:
    text = page.read_text() if text is None else text
    rel = page.relative_to(ROOT)
    out = [f"{rel}:{n}: {why}" for n, word in named(text) if (why := problem(word))]
    for number, line in enumerate(text.splitlines(), 1):
        links = LINK.findall(SPAN.sub("", line))  # a link inside a code span is an example
        out += [f"{rel}:{number}: {why}" for target in links if (why := link_problem(page, target))]
    return out


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_a_page_gives_exists(page: Path) -> None:
    assert page_problems(page) == []


def test_a_removed_path_module_or_symbol_is_found() -> None:
    """The checks above can fail: a page naming what is not there gets one line per name."""
    page = ROOT / "docs" / "commands.md"
    planted = "\n".join([
        "The layout is `pmrepo/layout.py`, the gone one `pmrepo/manifest_gone.py`; see `tests/test_gone.py`.",
        "Modules: `pmrepo.checks.container.upgrade.upgrade_test`, `pmrepo.checks.gone`, `pmrepo.sign.no_such`.",
        "Symbols: `publish_targets._shq`, `publish._shq`, `Release.repositories`, `Release.gone_field`,",
        "`cli_options.GROUPS`, `REPO_FIELDS`, `PmrepoError`, `PmrepoGoneError`, `default_checks()`, `gone_helper()`,",
        "`repo_value`, `gone_field_name`.",
        "Files: `render.py`, `gone_module.py`, `checks/ids.py`; links: [x](ci.md), [y](gone.md), [z](ci.md#nowhere).",
    ])
    assert page_problems(page, planted) == [
        "docs/commands.md:1: path pmrepo/manifest_gone.py is not in the tree",
        "docs/commands.md:1: path tests/test_gone.py is not in the tree",
        "docs/commands.md:2: module or symbol pmrepo.checks.gone does not exist",
        "docs/commands.md:2: module or symbol pmrepo.sign.no_such does not exist",
        "docs/commands.md:3: publish._shq: no _shq in pmrepo.publish",
        "docs/commands.md:3: Release.gone_field: class Release has no gone_field",
        "docs/commands.md:4: REPO_FIELDS is not a name in the tree's code",
        "docs/commands.md:4: PmrepoGoneError is not a name in the tree's code",
        "docs/commands.md:4: gone_helper is not a name in the tree's code",
        "docs/commands.md:5: gone_field_name is not a name in the tree's code",
        "docs/commands.md:6: file gone_module.py is nowhere in the tree",
        "docs/commands.md:6: link to gone.md: no such file",
        "docs/commands.md:6: link to ci.md#nowhere: no heading with that anchor",
    ]


def test_the_two_drifts_of_issue_31_are_gone() -> None:
    """README named REPO_FIELDS (gone in b62ebf0) and one shlex.quote helper `publish._shq` (it is
    publish_targets._shq, and the container checks quote with shlex.quote directly)."""
    text = "\n".join(p.read_text() for p in pages())
    assert "REPO_FIELDS" not in text and "publish._shq" not in text
    assert "`_shq` in\n  `pmrepo/publish/mirrors.py`" in (ROOT / "docs" / "manifest.md").read_text()
    for module in ("pmrepo/checks/freshroot.py", "pmrepo/checks/container/session.py"):
        assert "shlex.quote(" in (ROOT / module).read_text()  # what the page says of them holds


def test_readme_is_short_and_the_package_description() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "make test" in readme and "make demo" in readme
    assert 'readme = "README.md"' in (ROOT / "pyproject.toml").read_text()
