"""Reading one ``[[components]]`` entry of a release manifest (its sources, patches, spec
and packages), and the rule that entries sharing a name cover disjoint dists."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .fields import (
    Reader,
    confined_path,
    confined_tree,
    file_url,
    opt_text,
    per_dist_items,
    per_dist_weight,
    regular_file,
    text_field,
)
from .model import (
    HTTP_OR_FILE_URL_RE,
    NAME_RE,
    REQUIRE_OPS,
    SHA256_RE,
    VERSION_RE,
    Component,
    Source,
    redact_url,
)
from .upstream import load_upstream


def _load_source(r: Reader, root: Path, data: Any, where: str, comp: str, version: str) -> Source:
    if isinstance(data, str):
        data = {"url": data}
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table with url or path", 'write {url = "https://…", sha256 = "…"}')
    r.unknown(data, {"url", "path", "sha256", "filename", "size"}, where)
    url = data.get("url")
    rel = data.get("path")
    if (url is None) == (rel is None):
        raise r.fail(where, "needs exactly one of url or path", 'give url = "https://…" or path = "src/dir"')
    sha = data.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not SHA256_RE.match(sha)):
        raise r.fail(
            f"{where}.sha256",
            f"not a lowercase 64-hex sha256: {sha!r}",
            f"run `build.py pin --release {r.path}` to record it",
        )
    path: Path | None = None
    if url is not None:
        if not isinstance(url, str) or not HTTP_OR_FILE_URL_RE.match(url):
            raise r.fail(
                f"{where}.url",
                f"must be an http(s):// or file:// URL, got {redact_url(url) if isinstance(url, str) else url!r}",
                "fix the URL",
            )
        default_name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
        if url.startswith("file:"):
            file_url(r, f"{where}.url", root, url)
    else:
        if not isinstance(rel, str) or not rel:
            raise r.fail(f"{where}.path", "must be a path string", 'write path = "src/name"')
        path = confined_path(r, f"{where}.path", root, rel)
        if path.is_dir():  # resolved: a directory itself, packed (its entries checked by sources.check_packable)
            confined_tree(r, f"{where}.path", root, path)
        else:
            regular_file(r, f"{where}.path", path, "point path at a regular file or a directory in the release's tree")
        default_name = f"{comp}-{version}.tar.gz" if path.is_dir() else path.name
    filename = data.get("filename", default_name)
    if not isinstance(filename, str) or not NAME_RE.match(filename):
        raise r.fail(f"{where}.filename", f"invalid file name {filename!r}", "give a plain file name")
    size = data.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0 or url is None):
        raise r.fail(
            f"{where}.size",
            f"must be the URL source's size in bytes, got {size!r}",
            f"remove it and run `build.py pin --release {r.path}` to record it",
        )
    return Source(url=url, path=path, sha256=sha, filename=filename, size=size)


_COMPONENT_KEYS = {
    "name",
    "version",
    "release",
    "sources",
    "patches",
    "spec",
    "dists",
    "packages",
    "debuginfo",
    "require",
    "group",
    "smoke",
    "changes",
    "known_issues",
    "summary",
    "change_notes",
    "upgrade_warnings",
    "upstream",
    "weight",
}


def _component_dists(r: Reader, data: Any, where: str, all_dists: tuple[str, ...]) -> tuple[str, ...]:
    """A component's ``dists``: declared ones, each once, at least one (default: every dist)."""
    dists, known = r.str_list(data, "dists", where, default=all_dists), ", ".join(all_dists)
    for i, d in enumerate(dists):
        if d not in all_dists:
            raise r.fail(f"{where}.dists", f"'{d}' is not declared under [dists]", f"use one of: {known}")
        if d in dists[:i]:
            raise r.fail(f"{where}.dists", f"{d} is listed twice", "list each dist once")
    if not dists:
        why, fix = "is empty: the component would be built for no dist", f"list its dists ({known}), or remove"
        raise r.fail(f"{where}.dists", why, f"{fix} dists to build it for every one")
    return dists


def load_component(r: Reader, root: Path, spec_dir: Path, idx: int, data: Any, all_dists: tuple[str, ...]) -> Component:
    where = f"components[{idx}]"
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table", "write [[components]] entries")
    name = r.str_(data, "name", where, pattern=NAME_RE, hint="package names use letters, digits and ._+-")
    where = f"components.{name}"
    r.unknown(data, _COMPONENT_KEYS, where)
    version = r.str_(
        data,
        "version",
        where,
        pattern=VERSION_RE,
        hint="a version has no '-', '~' or '^' (el6's rpm 4.8 cannot compare them)",
    )
    release = r.str_(data, "release", where, pattern=VERSION_RE, hint="a release has no '-', '~' or '^'")
    dists = _component_dists(r, data, where, all_dists)
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise r.fail(f"{where}.sources", "must be a list", 'write sources = [{url = "…", sha256 = "…"}]')
    sources = tuple(_load_source(r, root, s, f"{where}.sources[{i}]", name, version) for i, s in enumerate(raw_sources))
    names = [s.filename for s in sources]
    if len(set(names)) != len(names):
        raise r.fail(f"{where}.sources", f"two sources share a file name: {names}", 'set filename = "…" on one')
    patches: list[Path] = []
    for i, p in enumerate(r.str_list(data, "patches", where)):
        pp = confined_path(r, f"{where}.patches[{i}]", spec_dir, p)
        regular_file(r, f"{where}.patches[{i}]", pp, "put the patch (a regular file) beside the spec templates")
        patches.append(pp)
    spec_name = r.str_(data, "spec", where, default=f"{name}.spec.j2")
    spec = confined_path(r, f"{where}.spec", spec_dir, spec_name)
    if spec.exists() or spec.is_symlink():  # a missing template is reported where it is rendered (check, render)
        regular_file(r, f"{where}.spec", spec, "make the spec template a regular file in spec_dir")
    packages = _load_packages(r, data, where, dists)
    debuginfo = per_dist_items(r, data.get("debuginfo", []), f"{where}.debuginfo", dists)
    require = data.get("require", "none")
    if require not in REQUIRE_OPS:
        raise r.fail(
            f"{where}.require",
            f"unknown operator {require!r}",
            'use "=" (exact V-R), ">=", "any" (unversioned) or "none"',
        )
    return Component(
        name=name,
        version=version,
        release=release,
        sources=sources,
        patches=tuple(patches),
        spec=spec,
        dists=dists,
        packages=packages,
        debuginfo=debuginfo,
        require=require,
        group=r.str_(data, "group", where, default="main", pattern=NAME_RE, hint="a key of release.note_groups"),
        smoke=opt_text(r, data, "smoke", where) or None,
        changes=opt_text(r, data, "changes", where, multiline=True),
        known_issues=text_field(r, data, "known_issues", where),
        summary=r.str_(data, "summary", where, default=name),
        change_notes=text_field(r, data, "change_notes", where),
        upgrade_warnings=text_field(r, data, "upgrade_warnings", where),
        upstream=load_upstream(r, root, data.get("upstream"), where),
        weight=per_dist_weight(r, data, where, dists, all_dists),
    )


def _load_packages(r: Reader, data: dict[str, Any], where: str, dists: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """A component's ``packages`` per dist: valid names, at least one for every dist it builds for."""
    if "packages" not in data:
        raise r.fail(f"{where}.packages", "missing", 'list the binary packages it ships: packages = ["name"]')
    packages = per_dist_items(r, data["packages"], f"{where}.packages", dists)
    for d, listed in packages.items():
        for pkg in listed:
            if not NAME_RE.match(pkg):
                raise r.fail(f"{where}.packages.{d}", f"invalid package name {pkg!r}", "use letters, digits and ._+-")
    for d in dists:
        if not packages.get(d):
            raise r.fail(
                f"{where}.packages.{d}",
                "no packages listed for this dist",
                f"list the packages built for {d}, or drop {d} from dists",
            )
    return packages


def per_dist_entries(r: Reader, raw: list[Any], comps: tuple[Component, ...]) -> tuple[Component, ...]:
    """Several ``[[components]]`` entries may share a name when each names its
    own, disjoint ``dists``: each is the whole component for those dists."""
    by_name: dict[str, list[int]] = {}
    for i, c in enumerate(comps):
        by_name.setdefault(c.name, []).append(i)
    out = list(comps)
    for name, idx in by_name.items():
        if len(idx) == 1:
            continue
        nums = " and ".join(f"#{i + 1}" for i in idx)
        for i in idx:
            if "dists" not in raw[i]:
                raise r.fail(
                    f"components.{name}.dists",
                    f"{len(idx)} entries ({nums} of [[components]]) share this name and entry #{i + 1} names no dists",
                    'give each entry of the component its own dists = ["el6"] / ["el7"]',
                )
        owner: dict[str, int] = {}
        for i in idx:
            for d in comps[i].dists:
                if d in owner:
                    raise r.fail(
                        f"components.{name}.dists",
                        f"entries #{owner[d] + 1} and #{i + 1} of [[components]] both cover {d}",
                        "give each dist to one entry only (disjoint dists)",
                    )
                owner[d] = i
            out[i] = replace(comps[i], split=True)
    return tuple(out)
