"""Typed, validating access to a manifest's TOML values: every problem a ``ManifestError``
that names the file, the field and the fix: the ``Reader`` and the field helpers that the
manifest's loaders share (``manifest_load``, ``manifest_component``, ``manifest_repos``,
``manifest_upstream``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import defaults
from ..errors import ManifestError
from ..fsutil import NotRegularFileError, check_regular, read_regular
from .model import CONTROL_RE, LANGS, TEXT_CONTROL_RE, NoteSection, Text, redact_url


class Reader:
    """Typed field access that turns every problem into a ManifestError."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, fld: str, problem: str, fix: str) -> ManifestError:
        return ManifestError(self.path, fld, problem, fix)

    def table(self, data: Mapping[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            if required:
                raise self.fail(fld, "missing table", f"add a [{fld}] table")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            raise self.fail(fld, f"must be a table, got {type(value).__name__}", f"write [{fld}] as a table")
        return value

    def str_(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            if default is None:
                raise self.fail(fld, "missing", f'add {key} = "…"{(" (" + hint + ")") if hint else ""}')
            return default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(fld, f"must be a non-empty string, got {value!r}", f'set {key} = "…"')
        if CONTROL_RE.search(value):
            raise self.fail(fld, f"contains a newline or control character: {value!r}", f"write {key} on one line")
        if pattern is not None and not pattern.match(value):
            raise self.fail(fld, f"invalid value {value!r}", hint or f"use a value matching {pattern.pattern}")
        return value

    def str_list(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        default: tuple[str, ...] = (),
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> tuple[str, ...]:
        fld = f"{where}.{key}" if where else key
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(fld, f"must be a list of strings, got {value!r}", f'write {key} = ["a", "b"]')
        for v in value:
            if pattern is not None and not pattern.match(v):
                raise self.fail(fld, f"invalid value {v!r}", hint or f"use values matching {pattern.pattern}")
        return tuple(value)

    def unknown(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                fld = f"{where}.{key}" if where else key
                raise self.fail(fld, "unknown field", f"remove it or use one of: {', '.join(sorted(allowed))}")


def opt_text(
    r: Reader, data: Mapping[str, Any], key: str, where: str, multiline: bool = False, default: str = ""
) -> str:
    """Free text. One-line text rejects control characters; multi-line text
    (changes, known_issues, description) allows newlines and tabs, but no line
    may start with '%': rpm reads such a line as a section, conditional or
    macro even after the % is escaped (rendering doubles every other %)."""
    fld = f"{where}.{key}" if where else key
    value = data.get(key, default)
    if not isinstance(value, str):
        raise r.fail(fld, f"must be a string, got {type(value).__name__}", f'write {key} = "…"')
    if not multiline:
        if CONTROL_RE.search(value):
            raise r.fail(fld, f"contains a newline or control character: {value!r}", f"write {key} on one line")
        return value
    if TEXT_CONTROL_RE.search(value):
        raise r.fail(fld, f"contains a control character: {value!r}", "use plain text (newlines and tabs only)")
    for n, line in enumerate(value.splitlines(), 1):
        if line.lstrip().startswith("%"):
            raise r.fail(
                fld,
                f"line {n} starts with '%' ({line.strip()[:40]!r}), which rpm reads as a section or macro",
                "rephrase the line so it does not start with %",
            )
    return value


def confined_path(r: Reader, fld: str, root: Path, rel: str) -> Path:
    """``root / rel`` resolved (symlinks too); it must stay inside the manifest's
    directory tree or the project (the source checkout pmrepo runs from, if
    any: defaults.checkout()). There is no switch to turn this off."""
    try:
        path = (root / rel).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise r.fail(fld, f"{rel!r} cannot be resolved ({exc})", "remove the symlink loop") from None
    project = defaults.checkout()
    for top in (root.resolve(), project):
        if top is not None and (path == top or path.is_relative_to(top)):
            return path
    allowed = f"the release's tree ({root.resolve()})" + (f" and the project ({project})" if project else "")
    raise r.fail(
        fld,
        f"{rel!r} resolves to {path}, outside {allowed}",
        "keep sources, specs and manifests inside the release's tree or the project",
    )


def regular_file(r: Reader, fld: str, path: Path, fix: str, *, read: bool = False) -> bytes:
    """``path`` (resolved and confined) is a regular file — a FIFO, socket, device or a symlink
    swapped in is refused in one line naming the field, never opened for reading (fsutil.open_regular);
    with ``read``, its bytes."""
    try:
        if read:
            return read_regular(path)
        check_regular(path)
        return b""
    except FileNotFoundError:
        raise r.fail(fld, f"{path} does not exist", fix) from None
    except NotRegularFileError as exc:
        raise r.fail(fld, str(exc), fix) from None
    except OSError as exc:
        raise r.fail(fld, f"{path} cannot be read ({exc.strerror or exc})", fix) from None


def file_url(r: Reader, fld: str, root: Path, url: str) -> Path:
    """A ``file://`` source URL is a path like ``path =``: on this host, confined
    to the release's tree or the project, a regular file."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise r.fail(
            fld,
            f"{redact_url(url)!r} is not a local file:///path URL",
            'write url = "file:///path/in/the/release" or path = "src/file"',
        )
    path = confined_path(r, fld, root, unquote(parts.path))
    regular_file(r, fld, path, "point the URL at a regular file in the release's tree")
    return path


def confined_tree(r: Reader, fld: str, root: Path, tree: Path) -> None:
    """Every symlink under a source directory points inside the allowed trees."""
    for dirpath, dirnames, filenames in os.walk(tree, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            if p.is_symlink():
                confined_path(r, f"{fld} ({p.relative_to(tree)})", root, str(p))


def _items(r: Reader, value: Any, fld: str) -> tuple[str, ...]:
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    where, _, key = fld.rpartition(".")
    for t in texts:
        if isinstance(t, str):  # the same rules as every multi-line text (control characters, '%' lines)
            opt_text(r, {key: t}, key, where, multiline=True)
    if isinstance(value, str):
        return (value.strip("\n"),) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.rstrip() for v in value)
    raise r.fail(
        fld,
        f"must be text or a list of non-empty strings, got {type(value).__name__}",
        f'write {fld.rsplit(".", 1)[-1]} = ["first point", "  a sub-point"]',
    )


def text_field(r: Reader, data: Mapping[str, Any], key: str, where: str) -> Text:
    """Notes text: a string or list (the same in every language), or a table
    ``{ja = …, en = …}`` giving each language its own."""
    fld = f"{where}.{key}"
    if key not in data:
        return Text()
    value = data[key]
    if isinstance(value, dict):
        r.unknown(value, set(LANGS), fld)
        missing = [lang for lang in LANGS if lang not in value]
        if missing:
            raise r.fail(f"{fld}.{missing[0]}", "missing", f"give the text in every language ({', '.join(LANGS)})")
        return Text(**{lang: _items(r, value[lang], f"{fld}.{lang}") for lang in LANGS})
    items = _items(r, value, fld)
    return Text(items, items)


def note_sections(r: Reader, root: Path, value: Any) -> tuple[NoteSection, ...]:
    if not isinstance(value, list):
        raise r.fail(
            "release.sections",
            "must be a list of tables",
            'write sections = [{ title = "日本語 / English", ja = "notes/x.ja.md", en = "notes/x.en.md" }]',
        )
    out = []
    for i, sec in enumerate(value):
        fld = f"release.sections[{i}]"
        if not isinstance(sec, dict):
            raise r.fail(fld, "must be a table", 'write { title = "…", ja = "x.ja.md", en = "x.en.md" }')
        r.unknown(sec, {"title", *LANGS}, fld)
        title = r.str_(sec, "title", fld, hint='a title, "日本語 / English" for one per language')
        parts = title.split(" / ")
        titles = dict(zip(LANGS, parts, strict=True)) if len(parts) == len(LANGS) else dict.fromkeys(LANGS, title)
        files: dict[str, Path] = {}
        for lang in LANGS:
            rel = r.str_(sec, lang, fld, hint=f"the {lang} Markdown file, relative to the manifest")
            path = (root / rel).resolve()
            if not path.is_relative_to(root.resolve()) or path.suffix != ".md":
                raise r.fail(
                    f"{fld}.{lang}",
                    f"{rel!r} is not a Markdown file next to the manifest",
                    "name a .md file in the manifest's directory or below it",
                )
            data = regular_file(
                r, f"{fld}.{lang}", path, "write the file (a regular Markdown file) or fix the name", read=True
            )
            try:
                data.decode()
            except UnicodeDecodeError as exc:
                raise r.fail(
                    f"{fld}.{lang}", f"{path} is not readable UTF-8 text ({exc})", "save it as UTF-8"
                ) from None
            files[lang] = path
        out.append(NoteSection(titles, files))
    return tuple(out)


def per_dist_items(r: Reader, value: Any, fld: str, dists: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """A package list given as a list (all dists) or a table dist -> list."""
    if isinstance(value, list):
        if not all(isinstance(v, str) and v for v in value):
            raise r.fail(fld, f"must list package names, got {value!r}", 'write ["pkg", …]')
        return {d: tuple(value) for d in dists}
    if isinstance(value, dict):
        out: dict[str, tuple[str, ...]] = {}
        for d, names in value.items():
            if d not in dists:
                raise r.fail(
                    f"{fld}.{d}", f"'{d}' is not a target dist of this component", f"use one of: {', '.join(dists)}"
                )
            if not isinstance(names, list) or not all(isinstance(v, str) and v for v in names):
                raise r.fail(f"{fld}.{d}", f"must list package names, got {names!r}", 'write ["pkg", …]')
            out[d] = tuple(names)
        return out
    raise r.fail(
        fld,
        f"must be a list or a table of lists per dist, got {type(value).__name__}",
        'write ["pkg"] or {el6 = ["pkg"], el7 = ["pkg"]}',
    )


# macros the tool defines itself (from tag/rhel, for reproducible payloads, or rpm's own
# build paths): a manifest's macros table must not redefine them
TOOL_MACROS = frozenset(
    {
        "dist",
        "rhel",
        "_binary_payload",
        "_source_payload",
        "_binary_filedigest_algorithm",
        "_source_filedigest_algorithm",
        "_buildhost",
        "use_source_date_epoch_as_buildtime",
        "clamp_mtime_to_source_date_epoch",
        "_use_weak_usergroup_deps",
        "_rpmformat",
        "_enable_debug_packages",
        "_topdir",
        "_builddir",
        "_buildrootdir",
        "buildroot",
        "_sourcedir",
        "_specdir",
        "_srcrpmdir",
        "_rpmdir",
        "_tmppath",
        "_dbpath",
        "_rpmfilename",
        "source_date_epoch",
    }
)
# a '%' in a macro value may only reference another macro: %name, %{name}, %{?name}, %{!?name}
_MACRO_REF = re.compile(r"%(?:[A-Za-z_][A-Za-z0-9_]*|\{!?\??[A-Za-z_][A-Za-z0-9_]*\})")


def no_template(r: Reader, fld: str, value: str) -> None:
    """Values that reach mock's config are rendered there by jinja: no template syntax."""
    for bad in ("{{", "{%", "{#"):
        if bad in value:
            raise r.fail(
                fld,
                f"contains {bad!r}, which mock's config expands as a jinja template",
                "write the value without '{{', '{%' or '{#'",
            )


def check_macro(r: Reader, fld: str, key: str, value: str, dist: str) -> None:
    """A macro value is data for rpm and for mock's config: it runs nothing
    (no %(…), %{lua:…}, %[…], %{expand:…}; no jinja for mock), redefines no
    macro the tool owns, and is not empty (mock refuses empty macros)."""
    if key in TOOL_MACROS or key == dist or key.startswith("__"):
        what = "a command or helper rpm runs" if key.startswith("__") else "a macro pmrepo defines itself"
        raise r.fail(fld, f"{key} is {what}", f"remove it (the dist tag comes from [dists.{dist}] tag, rhel from rhel)")
    if not value.strip():
        raise r.fail(fld, "is empty (mock refuses an empty macro: 'Bad macros')", f"give {key} a value or remove it")
    no_template(r, fld, value)
    for m in re.finditer("%", value):
        if not _MACRO_REF.match(value, m.start()):
            rest = value[m.start() : m.start() + 8]
            raise r.fail(
                fld,
                f"contains {rest!r}: rpm would run or expand it as code (%(…), %{{lua:…}}, %[…], "
                "%{expand:…} and %% are not allowed)",
                "use plain text or a plain %{macro} reference",
            )


def per_dist_weight(
    r: Reader, data: Mapping[str, Any], where: str, dists: tuple[str, ...], declared: tuple[str, ...]
) -> dict[str, float]:
    """A component's ``weight = 80`` (every dist) or ``weight = { el6 = 108, el7 = 82 }``:
    positive numbers, each dist one of the release's (one the component does not build is left out)."""
    if "weight" not in data:
        return {}
    raw = data["weight"]
    fix = "write weight = 80 (about the build's seconds) or weight = { el6 = 108, el7 = 82 }"
    table = raw if isinstance(raw, dict) else dict.fromkeys(dists, raw)
    out: dict[str, float] = {}
    for d, value in table.items():
        fld = f"{where}.weight.{d}" if isinstance(raw, dict) else f"{where}.weight"
        if d not in declared:
            raise r.fail(fld, f"'{d}' is not declared under [dists]", f"use one of: {', '.join(declared)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e7:
            raise r.fail(fld, f"must be a positive number, got {value!r}", fix)
        if d in dists:
            out[d] = float(value)
    return out
