"""The one jinja2 environment: StrictUndefined (a missing value is an error, not '').

Two kinds of template go through it:

* the tool's own templates, named by their path under ``pmrepo/templates/``
  (``specs/pacemaker-all.spec.j2``, ``repo/pacemaker.repo.j2``,
  ``comps/comps.xml.j2``, ``builders/mock.cfg.j2``, ``notes/…``) —
  package data, found the same way in a checkout and in an installed package;
* a release's component spec templates (release data, in its ``spec_dir``),
  named by their absolute path.

An ``include``/``import`` is resolved beside the including template, so a
release's templates see their own siblings and the tool's see theirs.
``*.html.j2`` templates are autoescaped; everything else is plain text.
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Callable

import jinja2

from .errors import SpecError

TEMPLATES = Path(__file__).resolve().parent / "templates"


class _Loader(jinja2.BaseLoader):
    """``name`` under TEMPLATES, or an absolute path."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = Path(template) if posixpath.isabs(template) else TEMPLATES / template
        if not posixpath.isabs(template) and ".." in Path(template).parts:
            raise jinja2.TemplateNotFound(template)
        try:
            source = path.read_text(encoding="utf-8")
            mtime = path.stat().st_mtime_ns
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise jinja2.TemplateNotFound(template) from None

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime_ns == mtime
            except OSError:
                return False
        return source, str(path), uptodate


class _Environment(jinja2.Environment):
    def join_path(self, template: str, parent: str) -> str:
        """Includes and imports are relative to the including template's directory."""
        if posixpath.isabs(template):
            return template
        return posixpath.join(posixpath.dirname(parent), template)


def _autoescape(name: str | None) -> bool:
    return bool(name and name.endswith(".html.j2"))


ENV = _Environment(
    loader=_Loader(),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=_autoescape,
)


def template_path(name: str) -> Path:
    """The file of the tool's template ``name`` (e.g. for hashing it into a cache key)."""
    return TEMPLATES / name


def render_template(name: str, context: dict[str, Any], *, what: str = "") -> str:
    """Render the tool's own template ``name`` (a path under ``pmrepo/templates/``)."""
    return _render(name, context, what=what or name)


def render_file(template: Path, context: dict[str, Any], *, what: str = "") -> str:
    """Render a release's template file (which may include its siblings)."""
    return _render(str(Path(template).resolve()), context, what=what or str(template))


def _render(name: str, context: dict[str, Any], *, what: str) -> str:
    shown = name if posixpath.isabs(name) else str(TEMPLATES / name)
    try:
        return ENV.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise SpecError(f"{what}: template {exc.name} not found — fix: create it or correct the manifest's spec field") from None
    except jinja2.UndefinedError as exc:
        raise SpecError(f"{shown}: {exc.message} — fix: supply the value in the manifest or correct the template") from None
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"{exc.filename or shown}:{exc.lineno}: template syntax error: {exc.message}") from None
