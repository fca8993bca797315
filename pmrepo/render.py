"""jinja2 rendering with StrictUndefined: a missing value is an error, not ''."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .errors import SpecError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def environment(search: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    return env


def render_file(template: Path, context: dict[str, Any], *, what: str = "") -> str:
    """Render ``template`` (which may include siblings) with ``context``."""
    env = environment([template.parent, PROJECT_ROOT / "specs", PROJECT_ROOT / "comps", PROJECT_ROOT / "repo"])
    try:
        return env.get_template(template.name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise SpecError(f"{what or template}: template {exc.name} not found — fix: create it or correct the manifest's spec field") from None
    except jinja2.UndefinedError as exc:
        raise SpecError(f"{template}: {exc.message} — fix: supply the value in the manifest or correct the template") from None
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"{exc.filename or template}:{exc.lineno}: template syntax error: {exc.message}") from None
