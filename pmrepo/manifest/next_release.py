"""``new-release``: the next release's manifest derived from the current one.

The manifest is rewritten through tomlkit (comments and layout kept):
``follows``, version and release (``--to V-R``) and date set; each ``--set [dist:]name=V-R``
applied to the component's entry for that dist (a ``dist:`` prefix splits a
component into per-dist entries, or updates the per-dist entry that exists):
version and release, the old version replaced in the version-bearing parts of
its source URLs and file names only (:mod:`pmrepo.manifest.version_url`: never a host,
user, port or owner), the sha256 and size of each rewritten source removed
(``pin`` must record the new files), its change texts emptied. Refused, each
in one line: an existing target, an unknown component or dist, a
version-release that does not sort after the previous one for that dist
(rpm's ordering, :mod:`pmrepo.vercmp`), a date after today, a source URL in
which no version is found or that would still name the old version.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table, Whitespace

from .. import manifest
from ..errors import ManifestError, PmrepoError, UsageError
from ..fsutil import read_regular
from ..progress import Console
from ..vercmp import vr_cmp
from . import VERSION_RE, Release, redact_url
from .version_url import VersionNotFound, VersionRemains, replace_in_name, replace_in_url

CHANGE_TEXTS = ("change_notes", "upgrade_warnings")  # emptied by removal; ``changes`` is set to ""


@dataclass(frozen=True)
class Setting:
    dist: str | None
    name: str
    version: str
    release: str

    @property
    def vr(self) -> str:
        return f"{self.version}-{self.release}"


@dataclass
class Result:
    path: Path
    changed: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def parse_set(text: str) -> Setting:
    """``[dist:]name=version-release``."""
    if not text.isprintable():  # a newline would split the one-line error in two
        raise UsageError(
            f"--set {text!r}: contains a newline or control character — fix: give one "
            "[dist:]name=version-release per --set, e.g. --set pacemaker=1.1.15-1"
        )
    head, sep, vr = text.partition("=")
    dist, colon, name = head.rpartition(":")
    version, dash, release = vr.partition("-")
    if (
        not sep
        or not name
        or not dash
        or (colon and not dist)
        or not VERSION_RE.match(version)
        or not VERSION_RE.match(release)
    ):
        raise UsageError(
            f"--set {text}: expected [dist:]name=version-release (version and release without '-', "
            "'~' or '^') — fix: e.g. --set pacemaker=1.1.15-1 or --set el7:fence-agents=4.0.25-1"
        )
    return Setting(dist or None, name, version, release)


def _fail(what: str, problem: str, fix: str) -> UsageError:
    return UsageError(f"new-release: {what}: {problem} — fix: {fix}")


def _refuse_url(setting: str, name: str, i: int, problem: str) -> UsageError:
    return _fail(
        f"--set {setting}",
        f"components.{name}.sources[{i}]: {problem}",
        f"derive without this --set, then edit components.{name} in the new manifest by hand "
        "(version, release, the source's url) and run pin",
    )


def _without(table: Any, keys: tuple[str, ...]) -> Any:
    """``table`` without ``keys``: an inline table rebuilt (tomlkit leaves a deleted key's spacing behind)."""
    if not isinstance(table, InlineTable):
        for key in keys:
            if key in table:
                del table[key]
        return table
    out = tomlkit.inline_table()
    for key, value in table.items():
        if key not in keys:
            item = tomlkit.item(value)
            item.trivia.indent = " "
            out.append(key, item)
    out.value.body.append((None, Whitespace(" ")))  # `{ url = "…" }`, spaced as written
    return out


def _rewrite_sources(entry: Any, name: str, old: str, new: str, setting: str) -> list[str]:
    """The old version replaced in the version-bearing parts of each source's URL and file name
    (:mod:`pmrepo.manifest.version_url`: never the host, user, port or an owner segment); a rewritten
    source loses its sha256 and size (``pin`` records the new file's). A source without the
    version (a helper file at a fixed URL) keeps its URL and its pin, unless no source of the
    component carries the version at all; a URL that would still name the old version is refused."""
    if old == new:  # a new release of the same version: the same files, their pins kept
        return []
    notes: list[str] = []
    srcs = entry.get("sources", [])
    kept: list[tuple[int, str]] = []
    for i in range(len(srcs)):
        src = srcs[i]
        url = str(src) if isinstance(src, str) else src.get("url")
        if not isinstance(url, str):  # a path source: packed under its new version by itself
            continue
        try:
            new_url = replace_in_url(url, name, old, new)
        except VersionNotFound:
            kept.append((i, url))
            continue
        except VersionRemains as exc:
            raise _refuse_url(
                setting, name, i, f"{redact_url(exc.url)} would still name the old version {old} (in {exc.part!r})"
            ) from None
        notes.append(f"url {redact_url(url)} -> {redact_url(new_url)}")
        if isinstance(src, str):
            srcs[i] = new_url
            continue
        src["url"] = new_url
        filename = src.get("filename")
        if isinstance(filename, str):
            renamed, _ = replace_in_name(filename, old, new)
            if renamed != filename:
                src["filename"] = renamed
                notes.append(f"filename {filename} -> {renamed}")
        dropped = tuple(k for k in ("sha256", "size") if k in src)
        if dropped:
            srcs[i] = _without(src, dropped)
            notes.append(f"{' and '.join(dropped)} removed ({redact_url(new_url)})")
    if kept and len(kept) == sum(1 for s in srcs if isinstance(s, str) or "url" in s):
        i, url = kept[0]
        raise _refuse_url(setting, name, i, f"no version {old} in the path of {redact_url(url)}")
    notes += [f"kept {redact_url(url)} (no version in it) and its pin" for _, url in kept]
    return notes


def _keep_dists(entry: Any, dists: list[str]) -> None:
    """Per-dist tables (``packages.el7 = …``) keep only the entry's own dists."""
    for key in ("packages", "debuginfo"):
        table = entry.get(key)
        if hasattr(table, "keys"):
            for d in [str(k) for k in table if str(k) not in dists]:
                # looked up again for each key: tomlkit's view of dotted keys (packages.el6 = …) is
                # stale after one deletion (a second one raised IndexError with three dists)
                del entry[key][d]


def _apply(rel: Release, entries: list[Any], s: Setting, res: Result) -> None:
    """One --set on the tomlkit [[components]] array ``entries`` (as earlier --set left it)."""
    indices = [i for i, e in enumerate(entries) if e.get("name") == s.name]
    if not indices:
        raise _fail(
            f"--set {s.name}",
            f"no component {s.name} in {rel.path.name}",
            f"use one of {', '.join(rel.component_names())}",
        )
    if s.dist is not None and s.dist not in rel.dists:
        raise _fail(
            f"--set {s.dist}:{s.name}",
            f"{s.dist} is not a dist of {rel.path.name}",
            f"use one of {', '.join(rel.dists)}",
        )

    def dists_of(entry: Any) -> list[str]:
        return [str(d) for d in entry.get("dists", list(rel.dists))]

    targets = [i for i in indices if s.dist is None or s.dist in dists_of(entries[i])]
    if not targets:
        raise _fail(
            f"--set {s.dist}:{s.name}",
            f"{s.name} is not built for {s.dist}",
            f"use one of its dists: {', '.join(d for i in indices for d in dists_of(entries[i]))}",
        )
    name = f"{s.dist + ':' if s.dist else ''}{s.name}={s.vr}"
    for i in targets:
        old = (str(entries[i]["version"]), str(entries[i]["release"]))
        if vr_cmp((s.version, s.release), old) <= 0:
            where = s.dist or ", ".join(dists_of(entries[i]))
            raise _fail(
                f"--set {name}",
                f"does not sort after {old[0]}-{old[1]} on {where} (rpm's version order)",
                "give a newer version or release",
            )
    for i in reversed(targets):  # from the end: a split inserts after i
        entry = entries[i]
        old_version, old_vr = str(entry["version"]), f"{entry['version']}-{entry['release']}"
        label = s.name if s.dist is None else f"{s.name} ({s.dist})"
        if s.dist is not None and dists_of(entry) != [s.dist]:  # split: the dist gets its own entry
            split = copy.deepcopy(entry)
            entry["dists"] = [d for d in dists_of(entry) if d != s.dist]
            split["dists"] = [s.dist]
            order = list(rel.dists)  # the entries stay in dist order (el6's first)
            entries.insert(i if order.index(s.dist) < order.index(entry["dists"][0]) else i + 1, split)
            res.changed.append(f"{s.name}: split into per-dist entries ({', '.join(entry['dists'])} | {s.dist})")
            for part in (entry, split):
                _keep_dists(part, [str(d) for d in part["dists"]])
                if isinstance(part, Table) and not part.as_string().endswith("\n\n"):  # a blank line between
                    part.add(tomlkit.nl())
            entry = split
        entry["version"] = s.version
        entry["release"] = s.release
        res.changed.append(f"{label}: {old_vr} -> {s.vr}")
        res.changed += [f"{label}: {n}" for n in _rewrite_sources(entry, s.name, old_version, s.version, name)]
        entry["changes"] = ""
        for key in CHANGE_TEXTS:
            if key in entry:
                del entry[key]
        spec = entry.get("spec", f"{s.name}.spec.j2")
        res.todo.append(f"write the change notes of {label}: components.{s.name}.changes (and change_notes)")
        res.todo.append(f"check that {spec} still builds {s.name} {s.version} (patches, file lists)")


def parse_to(value: str) -> tuple[str, str]:
    """``--to VERSION-RELEASE`` (e.g. 1.1.15-1.1): the new release's version and release
    (neither has a '-': the one '-' splits them)."""
    version, sep, release = value.partition("-")
    if not sep or not version or not release or "-" in release:
        raise _fail(f"--to {value}", "not VERSION-RELEASE", "write e.g. --to 1.1.15-1.1 (one '-', between the two)")
    return version, release


def _checked_args(
    rel: manifest.Release, version: str, release: str, date: str, sets: list[str], target: Path | None
) -> tuple[dt.date, Path, list[Setting]]:
    """The new release's date, manifest path and settings, each refused in one line when wrong."""
    for what, value in (("version", version), ("release", release)):
        if not VERSION_RE.match(value):
            raise _fail(
                f"--to {version}-{release}",
                f"invalid {what} {value!r}",
                "use letters, digits and ._+ (no '-', '~' or '^')",
            )
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise _fail("--date", f"{date!r} is not a date", "write --date YYYY-MM-DD") from None
    if vr_cmp((version, release), (rel.version, rel.release)) <= 0:
        raise _fail(
            f"--to {version}-{release}",
            f"does not sort after {rel.vr}",
            "give a newer version or release",
        )
    if day < rel.date:
        raise _fail("--date", f"{day} is before {rel.path.name}'s date {rel.date}", "give the new release's date")
    today = dt.date.today()
    if day > today:  # rpmlint would refuse every package's %changelog after the whole build
        raise _fail(
            "--date",
            f"{day} is after today ({today} on this host's clock)",
            "give the release's date, today or earlier (derive the manifest on the release day)",
        )
    default_name = f"{version}-{release}.toml"
    if target is not None and target.is_dir():  # --output DIR/: the default name in it
        target = target / default_name
    path = (target or rel.root / default_name).absolute()
    example = rel.path.parent / (path.name if path.suffix == ".toml" else default_name)
    if path.parent.resolve() != rel.path.parent.resolve():
        raise _fail(
            f"--output {target}",
            f"not in {rel.path.parent}, the directory of {rel.path.name}",
            f"write the new manifest beside it (its spec_dir, spec, patches and path sources are relative "
            f"to that directory), e.g. --output {example}",
        )
    if path.suffix != ".toml":
        raise _fail(
            f"--output {target}", "a release manifest is a .toml file", f"e.g. --output {path.parent / default_name}"
        )
    if path.exists():
        raise _fail(str(path), "already exists", "remove it or choose another --to")
    settings = [parse_set(s) for s in sets]
    seen: set[tuple[str | None, str]] = set()
    for s in settings:
        if (s.dist, s.name) in seen:
            raise _fail(f"--set {s.name}", "given twice", "give each component (and dist) once")
        seen.add((s.dist, s.name))
    return day, path, settings


def _load(source: Path, console: Console) -> Release:
    if not Path(source).is_file():
        raise _fail(
            f"--from {source}",
            "no such manifest",
            "pass the current release's manifest, e.g. --from releases/1.1.14-1.1.toml",
        )
    with console.reading(f"load {source}", Path(source)):
        return manifest.load(source)


def check_args(
    source: Path, version: str, release: str, date: str, sets: list[str], target: Path | None = None
) -> None:
    """What :func:`derive` refuses about its arguments (the manifest, version, date, output,
    ``--set`` values), refused before anything else is done: ``--from-upstream`` asks upstream
    only after this."""
    _checked_args(_load(source, Console(lambda line: None)), version, release, date, sets, target)


def derive(
    source: Path,
    version: str,
    release: str,
    date: str,
    sets: list[str],
    target: Path | None = None,
    *,
    console: Console | None = None,
) -> Result:
    """Write the next release's manifest; return what changed and what is left to do.
    ``console`` reports a slow stretch (loading or writing a large manifest)."""
    with _gc_paused():
        return _derive(source, version, release, date, sets, target, console or Console(lambda line: None))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large manifest's millions of tomlkit objects are made:
    a full collection over them stops every thread (the progress line's too) for seconds, and
    finds nothing (measured on 10,000 components: tomlkit's parse 11.4 s with it, 7.1 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _derive(
    source: Path,
    version: str,
    release: str,
    date: str,
    sets: list[str],
    target: Path | None,
    console: Console,
) -> Result:
    watch = console.watch
    rel = _load(source, console)
    day, path, settings = _checked_args(rel, version, release, date, sets, target)
    with watch(f"read {rel.path.name} for editing (tomlkit)"):
        doc = tomlkit.parse(read_regular(rel.path).decode())
    res = Result(path)
    head = doc["release"]
    head["follows"] = os.path.relpath(rel.path, path.parent)
    head["version"] = version
    head["release"] = release
    head["date"] = day
    res.changed.append(f"release: {rel.vr} -> {version}-{release}, date {day}, follows {head['follows']}")
    for key in CHANGE_TEXTS:
        if key in head:
            del head[key]
            res.changed.append(f"release.{key}: emptied (it described {rel.vr})")
    entries = doc["components"]
    for s in settings:
        _apply(rel, entries, s, res)
    with watch(f"write {path.name} (tomlkit)"):
        text = tomlkit.dumps(doc)
        del doc, head, entries  # freeing a large document's millions of objects takes a while too
    with watch(f"check and write {path}"):
        new = _write_checked(path, text)
    unpinned = sum(1 for c in new.components for s in c.sources if not s.pinned)
    if unpinned:
        res.todo.insert(0, f"pin {unpinned} source(s): ./build.py pin --release {path}")
    if new.known_issues or any(c.known_issues for c in new.components):
        res.todo.append(
            f"review the known issues carried over from {rel.vr} (release.known_issues, components.*.known_issues)"
        )
    if not settings:
        res.todo.append("no --set given: every component is unchanged")
    return res


def _write_checked(path: Path, text: str) -> Release:
    """Write ``path`` only if it loads as a manifest (returned); never over an existing file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        try:
            new = manifest.load(Path(tmp))
        except PmrepoError as exc:
            shown = str(exc).replace(tmp, str(path))
            if (
                isinstance(exc, ManifestError) and exc.field == "(syntax)"
            ):  # the text is tomlkit's: the edit is pmrepo's, not the user's
                raise UsageError(
                    f"new-release: pmrepo wrote invalid TOML for {path.name} ({shown}) — fix: report this "
                    "as a bug of pmrepo; meanwhile write the new manifest by hand"
                ) from exc
            raise UsageError(
                f"new-release: {path.name} as derived is invalid ({shown}) — fix: correct the --set values"
            ) from exc
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise _fail(str(path), "already exists", "remove it or choose another --to") from None
    finally:
        os.unlink(tmp)
    return new


def report(res: Result) -> str:
    """What ``new-release`` prints: what it changed, then what is left to do."""
    lines = [f"wrote {res.path}", "changed:"] + [f"  {c}" for c in res.changed]
    lines += ["left to do:"] + [f"  - {t}" for t in res.todo]
    return "\n".join(lines)
