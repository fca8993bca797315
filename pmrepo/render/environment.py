"""The one jinja2 environment: StrictUndefined (a missing value is an error, not '').

Two kinds of template go through it:

* the tool's own templates, named by their path under ``pmrepo/templates/``
  (``specs/pacemaker-all.spec.j2``, ``repo/pacemaker.repo.j2``,
  ``comps/comps.xml.j2``, ``builders/mock.cfg.j2``, ``notes/…``) —
  package data, found the same way in a checkout and in an installed package;
* a release's component spec templates (release data), rendered by an
  environment whose loader (:class:`ReleaseLoader`) is confined to the
  release's ``spec_dir``: no absolute name, no ``..`` out of it, no symlink
  resolving outside it, UTF-8 only. That environment is jinja2's
  ``ImmutableSandboxedEnvironment`` (no Python internals such as
  ``__globals__``, no changing the values a template is given), and each
  render runs in a child process bounded in memory, time and output
  (``render_limits``). The tool's own templates keep a plain environment:
  they are the tool's code, shipped and reviewed with it, and see manifest
  values only as escaped data.

An ``include``/``import`` is resolved beside the including template, so a
release's templates see their own siblings and the tool's see theirs.

Manifest values are data, never syntax. Every ``{{ … }}`` goes through the
escaping of its template's output context, chosen by the template's file name
(``finalize`` looks at the rendering template's name) and defined once, here:

* ``*.spec.j2`` — :func:`spec_escape` (filter ``spec``): every ``%`` doubled,
  so rpm never expands a value as a macro; continuation lines of multi-line
  text indented, so no value line starts a section, a changelog entry or a
  conditional; other control characters refused. The rendered spec is then
  checked to contain exactly the sections and tags the template wrote
  (:func:`check_structure`, through :func:`render_spec`).
* ``*.repo.j2`` — :func:`repo_escape` (filter ``repo``): a value is one line
  without ``[``/``]`` at its start, never a new key or section.
* ``*.xml.j2`` and ``*.html.j2`` — XML/HTML escaping (autoescape; filter ``xml``).
* ``*.md.j2`` — :func:`md_escape`: no raw HTML, no ``javascript:`` (entities).

Everything else (the mock config) is plain text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape as _xml_escape

from ..errors import SpecError
from ..fsutil import NotRegularFileError, open_regular
from . import limits as render_limits

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class _Loader(jinja2.BaseLoader):
    """The tool's own templates: ``name`` under TEMPLATES (no absolute path, no ``..``)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if posixpath.isabs(template) or ".." in Path(template).parts:
            raise jinja2.TemplateNotFound(template)
        return _read_template(TEMPLATES / template, template)


def _read_template(path: Path, name: str) -> tuple[str, str, Callable[[], bool]]:
    try:
        with open_regular(path) as fh:  # a FIFO or device is refused, never read or waited on
            source = fh.read().decode("utf-8")
            mtime = os.fstat(fh.fileno()).st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        raise jinja2.TemplateNotFound(name) from None
    except NotRegularFileError as exc:
        if exc.kind == "a directory":
            raise jinja2.TemplateNotFound(name) from None
        raise SpecError(f"{exc} — fix: make the template a regular file") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: byte {exc.start} is not UTF-8 — fix: save the template as UTF-8") from None
    source = source.removeprefix("\ufeff")  # a byte-order mark is not template text

    def uptodate() -> bool:
        try:
            return path.stat().st_mtime_ns == mtime
        except OSError:
            return False

    return source, str(path), uptodate


class ReleaseLoader(jinja2.BaseLoader):
    """A release's templates: names relative to ``root`` (the release's spec
    directory), confined to it like the manifest's paths — no absolute path,
    no ``..`` out of it, no symlink resolving outside it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        rel = posixpath.normpath(template)
        path = (self.root / rel).resolve()
        if posixpath.isabs(template) or rel == ".." or rel.startswith("../") or not path.is_relative_to(self.root):
            raise SpecError(
                f"template {template!r} resolves to {path}, outside the release's spec directory "
                f"({self.root}) — fix: keep spec templates and what they include inside spec_dir"
            )
        return _read_template(path, template)


class _Environment(jinja2.Environment):
    def join_path(self, template: str, parent: str) -> str:
        """Includes and imports are relative to the including template's directory."""
        if posixpath.isabs(template):
            return template
        return posixpath.join(posixpath.dirname(parent), template)


class _ReleaseEnvironment(ImmutableSandboxedEnvironment):
    def join_path(self, template: str, parent: str) -> str:
        """Includes are relative to the including template (absolute names are refused by the loader)."""
        if posixpath.isabs(template):
            return template
        return posixpath.normpath(posixpath.join(posixpath.dirname(parent), template))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Escaped(str):
    """Text already escaped for its output context (finalize leaves it alone)."""


def spec_escape(value: Any) -> str:
    """A value as literal text in a spec file."""
    if isinstance(value, Escaped):
        return value
    text = "" if value is None else str(value)
    if _CONTROL.search(text):
        raise SpecError(f"value {text[:60]!r} contains a control character — fix: correct the manifest value")
    lines = text.replace("%", "%%").split("\n")
    for line in lines[1:]:
        if line.lstrip().startswith("%"):
            raise SpecError(
                f"value line {line.strip()[:60]!r} starts with '%', which rpm reads as a section or "
                "macro — fix: rephrase it in the manifest"
            )
    # continuation lines indented: never a section (%…), entry (*) or tag at column 0
    return Escaped("\n".join([lines[0]] + [f"  {ln}" if ln.strip() else "" for ln in lines[1:]]))


def repo_escape(value: Any) -> str:
    """A value in a yum ``.repo`` file: one line, not a section header."""
    if isinstance(value, Escaped):
        return value
    text = "" if value is None else str(value)
    if re.search(r"[\x00-\x1f\x7f]", text) or text.lstrip().startswith("["):
        raise SpecError(
            f".repo value {text[:60]!r} contains a newline, a control character or starts with '[' — "
            "fix: correct the manifest value"
        )
    return Escaped(text)


def xml_escape(value: Any) -> str:
    return _xml_escape("" if value is None else value)


FILTERS: dict[str, Callable[[Any], Any]] = {"spec": spec_escape, "repo": repo_escape, "xml": xml_escape}


_SCRIPT_SCHEME = re.compile(r"\b(javascript|vbscript|data)(\s*):", re.IGNORECASE)
# a line that would open a heading: ATX (``## x``, also after list/quote markers) or a setext underline
# (``===``/``---`` under a line); at most 3 spaces in: 4 make an indented code block, left as it is
_MD_BLOCK = re.compile(
    r"^((?:[ \t]*(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ ]{0,3})"  # list/quote markers, < 4 spaces
    r"(#{1,6}(?=[ \t]|$)|=+[ \t]*$|-+[ \t]*$)",  # an ATX heading's #, a setext underline
    re.M,
)


def _md_inline(text: str) -> str:
    """No raw HTML, no script URL scheme, no image (``![`` written ``&#33;[``: shown as ``!`` and a link)."""
    return _SCRIPT_SCHEME.sub(r"\1\2&#58;", text.replace("<", "&lt;")).replace("![", "&#33;[")


def md_escape(value: Any) -> str:
    """A value in a Markdown file: no raw HTML (``<`` written as ``&lt;``), no script URL
    scheme (``javascript:`` written ``javascript&#58;``), no image (``![`` written
    ``&#33;[``: the page loads nothing from the network) — entities any Markdown renderer
    shows as the same characters — and no heading: a line of the value that would start
    one (``## x``, ``===`` under a line) gets a backslash (``\\## x``), so text cannot add
    a section or a table-of-contents entry to the notes."""
    if isinstance(value, Escaped):
        return value
    text = "" if value is None else str(value)
    return Escaped(_MD_BLOCK.sub(r"\1\\\2", _md_inline(text)))


def md_document(value: Any) -> str:
    """A Markdown document the release's author wrote (a notes section's file): its headings are
    its structure and stay; raw HTML, script schemes and images are escaped as in md_escape."""
    return Escaped(_md_inline("" if value is None else str(value)))


def _escaper(name: str) -> Callable[[Any], Any] | None:
    if name.endswith(".md.j2"):
        return md_escape
    if name.endswith(".spec.j2") or name.endswith(".spec"):
        return spec_escape
    if name.endswith(".repo.j2") or name.endswith(".repo"):
        return repo_escape
    return None


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every ``{{ … }}`` escaped for the output context of the template it is in."""
    escaper = _escaper(context.name or "")
    return escaper(value) if escaper else value


def _autoescape(name: str | None) -> bool:
    return bool(name and (name.endswith(".html.j2") or name.endswith(".xml.j2")))


def _environment(cls: type[jinja2.Environment], loader: jinja2.BaseLoader) -> jinja2.Environment:
    """An environment with the one set of rules: StrictUndefined, escaping by output context."""
    env = cls(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=_autoescape,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    return env


ENV = _environment(_Environment, _Loader())
# one environment per release spec directory, kept for the process: a template is compiled once
# (and, with use_bytecode_cache, loaded from the cache on later runs), not on every render
_RELEASE_ENVS: dict[Path, jinja2.Environment] = {}
_RELEASE_CACHE: jinja2.BytecodeCache | None = None


def use_bytecode_cache(directory: Path | None) -> None:
    """Keep compiled templates in ``directory`` (None: in memory only): a release of many
    components compiles each spec template once, not on every run. Bytecode is reused only
    for the same template source (jinja2 checks it), the same jinja2 and Python versions
    and the same environment (this module's text is part of the directory name)."""
    global _RELEASE_CACHE
    if directory is None:
        ENV.bytecode_cache = _RELEASE_CACHE = None
    else:
        where = directory / hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        cache = ENV.bytecode_cache
        if not isinstance(cache, jinja2.FileSystemBytecodeCache) or cache.directory != str(where):
            ENV.bytecode_cache = jinja2.FileSystemBytecodeCache(str(where))
            # the sandbox's code (its calls and attribute lookups go through the sandbox) in files of
            # its own: a release template never runs code the plain environment compiled
            _RELEASE_CACHE = jinja2.FileSystemBytecodeCache(str(where), "__jinja2_sandboxed_%s.cache")
    for env in _RELEASE_ENVS.values():
        env.bytecode_cache = _RELEASE_CACHE


def render_template(name: str, context: dict[str, Any], *, what: str = "") -> str:
    """Render the tool's own template ``name`` (a path under ``pmrepo/templates/``)."""
    return _render(name, context, what=what or name)


def release_environment(root: Path) -> jinja2.Environment:
    """The environment for a release's templates, confined to ``root`` (its spec directory)."""
    root = Path(root).resolve()
    env = _RELEASE_ENVS.get(root)
    if env is None:
        env = _RELEASE_ENVS[root] = _environment(_ReleaseEnvironment, ReleaseLoader(root))
    env.bytecode_cache = _RELEASE_CACHE
    return env


def render_file(template: Path, context: dict[str, Any], *, what: str = "", root: Path | None = None) -> str:
    """Render a release's template file (which may include its siblings), confined
    to ``root`` (the release's spec directory; the template's own directory if not given),
    sandboxed, in a child process with limits (render_limits)."""
    return render_limits.one(str(template), lambda: _render_file(template, context, what=what, root=root))


def _render_file(template: Path, context: dict[str, Any], *, what: str = "", root: Path | None = None) -> str:
    path = Path(template).resolve()
    top = Path(root).resolve() if root is not None else path.parent
    if not path.is_relative_to(top):
        top = path.parent
    return _render(str(path.relative_to(top)), context, what=what or str(template), env=release_environment(top))


def _render(name: str, context: dict[str, Any], *, what: str, env: jinja2.Environment = ENV) -> str:
    loader = env.loader
    shown = str(loader.root / name) if isinstance(loader, ReleaseLoader) else str(TEMPLATES / name)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise SpecError(
            f"{what}: template {exc.name} not found — fix: create it or correct the manifest's spec field"
        ) from None
    except jinja2.UndefinedError as exc:
        raise SpecError(
            f"{shown}: {exc.message} — fix: supply the value in the manifest or correct the template"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"{exc.filename or shown}:{exc.lineno}: template syntax error: {exc.message}") from None
    except SpecError as exc:
        raise SpecError(f"{what}: {exc}") from None


# -- the rendered spec's structure ----------------------------------------------

SECTIONS = (
    "package",
    "description",
    "prep",
    "build",
    "install",
    "check",
    "clean",
    "files",
    "changelog",
    "pre",
    "post",
    "preun",
    "postun",
    "pretrans",
    "posttrans",
    "preuntrans",
    "postuntrans",
    "verifyscript",
    "triggerprein",
    "triggerin",
    "triggerun",
    "triggerpostun",
    "filetriggerin",
    "filetriggerun",
    "filetriggerpostun",
    "transfiletriggerin",
    "transfiletriggerun",
    "transfiletriggerpostun",
    "sepolicy",
    "patchlist",
    "sourcelist",
    "generate_buildrequires",
    "conf",
)
_SECTION_RE = re.compile(r"^\s*%(" + "|".join(SECTIONS) + r")\b(.*)$")
_TAG_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:\([^)]*\))?)\s*:")
_MACRO_RE = re.compile(
    r"^\s*%(if|ifarch|ifnarch|ifos|ifnos|elif|elifarch|elifos|else|endif"
    r"|define|global|undefine|include)\b"
)


def structure(text: str) -> list[str]:
    """What rpm reads as syntax: section lines (whole), tag names, conditionals
    and macro definitions. ``%%`` is a literal ``%`` for rpm's parser, but a
    line starting with it becomes ``%…`` after expansion: it counts as ``%``."""
    out: list[str] = []
    section = "preamble"
    for line in text.splitlines():
        probe = line.replace("%%", "%")
        if m := _SECTION_RE.match(probe):
            section = "preamble" if m.group(1) == "package" else m.group(1)
            out.append(f"%{m.group(1)}")
        elif m := _MACRO_RE.match(probe):
            out.append(f"%{m.group(1)}")
        elif section == "preamble" and (t := _TAG_RE.match(line)):
            out.append(t.group(1).lower())
        elif section == "changelog" and line.startswith("*"):
            out.append("changelog entry")
    return out


def check_structure(rendered: str, neutral: str, what: str) -> None:
    """``rendered`` (real values) must have the sections and tags of ``neutral``
    (the same template, every free-text value a placeholder)."""
    got, want = structure(rendered), structure(neutral)
    if got != want:
        extra = [x for x in got if x not in want] or [x for x in want if x not in got] or ["order"]
        raise SpecError(
            f"{what}: the rendered spec's sections/tags differ from its template's ({extra[0]!r}) — "
            "a manifest value would be read as spec syntax; fix: correct that value"
        )


TEXT_PLACEHOLDER = "pmrepo-placeholder"
RELEASE_TEXT_FIELDS = ("summary", "description", "repo_name", "group_name", "vendor", "url", "packager", "license")
COMPONENT_TEXT_FIELDS = ("summary", "changes", "known_issues")


def neutral(obj: Any, fields: tuple[str, ...]) -> Any:
    """``obj`` (a Release or Component) with every free-text field a placeholder; a Release's
    per-repository ones (``repo_name``) in each of its ``repositories``."""

    def text(value: Any) -> dict[str, Any]:
        own = {f.name for f in dataclasses.fields(value)}
        return {f: TEXT_PLACEHOLDER for f in fields if f in own and getattr(value, f, None)}

    changes = text(obj)
    if hasattr(obj, "repositories"):
        changes["repositories"] = tuple(dataclasses.replace(r, **text(r)) for r in obj.repositories)
    return dataclasses.replace(obj, **changes)


def render_spec(
    template: Path | str,
    context: dict[str, Any],
    neutral_context: dict[str, Any],
    *,
    what: str,
    root: Path | None = None,
) -> str:
    """Render a spec template — a release's file (``Path``, confined to ``root``,
    its spec directory) or the tool's own (``str``, a name under
    ``pmrepo/templates/``) — and check its structure against the neutral render.
    A release's template is rendered (both times) in one child with limits (render_limits)."""

    def render(ctx: dict[str, Any]) -> str:
        if isinstance(template, Path):
            return _render_file(template, ctx, what=what, root=root)
        return render_template(template, ctx, what=what)

    def both() -> str:
        text = render(context)
        check_structure(text, render(neutral_context), what)
        return text

    return render_limits.one(str(template), both) if isinstance(template, Path) else both()
