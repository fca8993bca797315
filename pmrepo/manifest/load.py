"""Loading a release manifest: the TOML read, validated and turned into the model of
``manifest`` (``manifest.load`` is the entry point)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import defaults
from ..errors import ManifestError
from ..fsutil import NotRegularFileError, read_regular
from .component import load_component, per_dist_entries
from .fields import (
    Reader,
    check_macro,
    confined_path,
    no_template,
    note_sections,
    opt_text,
    regular_file,
    text_field,
)
from .model import (
    ARCH_RE,
    CONTROL_RE,
    DEFAULTS,
    HTTP_OR_FILE_URL_RE,
    IMAGE_RE,
    NAME_RE,
    VERSION_RE,
    Component,
    Dist,
    Release,
)
from .repositories import load_repositories, repo_keys


def _load_dist(r: Reader, name: str, data: Any) -> Dist:
    where = f"dists.{name}"
    if not isinstance(data, dict):
        raise r.fail(where, "must be a table", f"write [{where}] with tag and rhel")
    r.unknown(data, {"tag", "rhel", "macros", "os_requires", "base_repos", "mock_base_repos", "image"}, where)
    if not NAME_RE.match(name):
        raise r.fail(where, f"invalid dist name {name!r}", "use a name like el7")
    tag = r.str_(data, "tag", where, default=f".{name}")
    if not re.match(r"^\.[A-Za-z0-9_.+]+\Z", tag):
        raise r.fail(
            f"{where}.tag",
            f"{tag!r} is not a dist tag ('.' then letters, digits, '_', '.', '+')",
            f'write tag = ".{name}"',
        )
    rhel = data.get("rhel")
    if not isinstance(rhel, int) or isinstance(rhel, bool) or rhel < 5:
        raise r.fail(f"{where}.rhel", f"must be an integer RHEL major version, got {rhel!r}", "write rhel = 7")
    macros = data.get("macros", {})
    if not isinstance(macros, dict) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in macros.values()
    ):
        raise r.fail(
            f"{where}.macros",
            'must be a table of macro = "value"',
            'write macros = {_unitdir = "/usr/lib/systemd/system"}',
        )
    for key in macros:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\Z", key):
            raise r.fail(
                f"{where}.macros.{key}", "not an rpm macro name", "use letters, digits and '_' (e.g. _unitdir)"
            )
    for key, value in macros.items():
        if isinstance(value, str) and CONTROL_RE.search(value):
            raise r.fail(
                f"{where}.macros.{key}",
                f"contains a newline or control character: {value!r}",
                "write the value on one line",
            )
        check_macro(r, f"{where}.macros.{key}", key, str(value), name)
    repos = _repos(r, data, "base_repos", where)
    mock_repos = _repos(r, data, "mock_base_repos", where)
    return Dist(
        name=name,
        tag=tag,
        rhel=rhel,
        macros={k: str(v) for k, v in macros.items()},
        os_requires=r.str_list(
            data, "os_requires", where, pattern=NAME_RE, hint="list package names (letters, digits and ._+-)"
        ),
        base_repos=repos,
        image=r.str_(
            data,
            "image",
            where,
            default=f"centos:{rhel}",
            pattern=IMAGE_RE,
            hint="an image reference like centos:7 (letters, digits, ._/:@-; not starting with '-')",
        ),
        mock_base_repos=mock_repos,
    )


def _repos(r: Reader, data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    """``[dists.<d>] <key>``: a table of repoid = "baseurl"."""
    repos = data.get(key, {})
    if not isinstance(repos, dict) or not all(isinstance(v, str) for v in repos.values()):
        raise r.fail(f"{where}.{key}", 'must be a table of repoid = "baseurl"', f'write {key} = {{base = "http://…"}}')
    for name, value in repos.items():
        if not NAME_RE.match(name):
            raise r.fail(f"{where}.{key}.{name}", f"invalid repo id {name!r}", "use letters, digits and ._+-")
        if not HTTP_OR_FILE_URL_RE.match(value):
            raise r.fail(
                f"{where}.{key}.{name}",
                f"{value!r} is not an http(s):// or file:// URL",
                'write base = "http://…" (no spaces or newlines)',
            )
        no_template(r, f"{where}.{key}.{name}", value)
    return dict(repos)


_RELEASE_KEYS = set(DEFAULTS) | {
    "parent_dir",
    "version",
    "release",
    "follows",
    "date",
    "summary",
    "description",
    "note_groups",
    "rpmlint_filters",
    "change_notes",
    "known_issues",
    "upgrade_warnings",
    "sections",
}


def _check_tool_names(r: Reader, values: Mapping[str, str], comps: tuple[Component, ...]) -> None:
    """No component and no package may take a name of the packages the tool
    builds itself: the three repository packages and the metapackage."""
    name, meta = values["name"], values["metapackage"]
    repo_pkgs = (name, f"{name}-debuginfo", f"{name}-src")
    if meta in repo_pkgs:
        raise r.fail(
            "release.metapackage",
            f"{meta} is also the name of a repository package",
            f"give the metapackage its own name (e.g. {name.removesuffix('-repo')}-all)",
        )
    own = {*repo_pkgs, meta}
    for c in comps:
        if c.name in own:
            raise r.fail(
                f"components.{c.name}.name", f"{c.name} is a package the tool builds itself", "rename the component"
            )
        for d in c.dists:
            for p in c.packages_for(d) + c.debuginfo.get(d, ()):
                if p in own:
                    raise r.fail(
                        f"components.{c.name}.packages",
                        f"{p} is a package the tool builds itself ({', '.join(sorted(own))})",
                        "remove or rename it",
                    )


# rpm keeps times as 32-bit numbers (el6's rpm and yum read them signed); createrepo_c refuses times before 1970
DATE_MIN, DATE_MAX = _dt.date(1970, 1, 2), _dt.date(2038, 1, 18)


def _check_release_range(r: Reader, path: Path, date: _dt.date, follows: str | None, dists: Mapping[str, Dist]) -> None:
    """A date rpm and createrepo_c can store, one dist per tag, and a ``follows`` chain without a cycle."""
    if not DATE_MIN <= date <= DATE_MAX:
        raise r.fail(
            "release.date",
            f"{date} is outside what rpm and createrepo_c store ({DATE_MIN} to {DATE_MAX})",
            "write the release's real date",
        )
    tags: dict[str, str] = {}
    for name, dist in dists.items():
        if dist.tag in tags:
            raise r.fail(
                f"dists.{name}.tag",
                f"{dist.tag} is also the tag of dists.{tags[dist.tag]}",
                "give each dist its own tag",
            )
        tags[dist.tag] = name
    # the chain is read only inside the trees a manifest may point into (confined like follows itself)
    tops = [t for t in (path.parent.resolve(), defaults.checkout()) if t is not None]
    chain, current, nxt = [path], path, follows
    while nxt:
        current = (current.parent / nxt).resolve()
        if current in chain:
            shown = " → ".join(p.name for p in [*chain, current])
            raise r.fail(
                "release.follows",
                f"the follows chain has a cycle ({shown})",
                "point follows at the previous release's manifest",
            )
        chain.append(current)
        if not any(current.is_relative_to(t) for t in tops):
            return  # not read: that manifest's own load refuses where it points
        try:
            nxt = tomllib.loads(read_regular(current).decode()).get("release", {}).get("follows")
        except (OSError, ValueError, NotRegularFileError):
            return  # that manifest's own load reports it
        if not isinstance(nxt, str) or len(chain) > 1000:
            return


def _read_toml(r: Reader, path: Path) -> tuple[bytes, dict[str, Any]]:
    """The manifest's bytes (its key) and its TOML."""
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        raise ManifestError(path, "(file)", "no such manifest", "pass --release releases/<version>.toml") from None
    except NotRegularFileError as exc:
        raise ManifestError(path, "(file)", f"{exc.kind}, not a regular file", "pass a manifest file") from None
    except OSError as exc:
        raise ManifestError(path, "(file)", f"cannot be read ({exc.strerror or exc})", "check the path") from None
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ManifestError(
                path,
                "(file)",
                "starts with a UTF-8 byte-order mark, which TOML does not allow",
                "save the manifest as UTF-8 without a BOM",
            )
        return raw, tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax") from None
    except UnicodeDecodeError:
        raise ManifestError(path, "(file)", "not UTF-8 text", "save the manifest as UTF-8") from None


def _release_values(r: Reader, rel: Mapping[str, Any]) -> dict[str, str]:
    """``[release]``'s string values with their defaults, each checked."""
    values = {k: r.str_(rel, k, "release", default=v) for k, v in DEFAULTS.items()}
    if not NAME_RE.match(values["name"]):
        raise r.fail("release.name", f"invalid package name {values['name']!r}", "use letters, digits and ._+-")
    for key, pattern, fix in (
        ("metapackage", NAME_RE, "use letters, digits and ._+-"),
        ("group_id", NAME_RE, "use letters, digits and ._+-"),
        ("arch", ARCH_RE, 'write arch = "x86_64"'),
        ("url", HTTP_OR_FILE_URL_RE, 'write url = "https://…" (no spaces)'),
    ):
        if not pattern.match(values[key]):
            raise r.fail(f"release.{key}", f"invalid value {values[key]!r}", fix)
    return values


def _date_follows(r: Reader, rel: Mapping[str, Any], root: Path) -> tuple[_dt.date, str | None]:
    """``release.date`` and ``release.follows`` (the previous manifest, inside the tree)."""
    date = rel.get("date")
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            date = None
    if not isinstance(date, _dt.date):
        raise r.fail(
            "release.date", f"must be a date, got {rel.get('date')!r}", "write date = 2016-01-xx as YYYY-MM-DD"
        )
    follows = rel.get("follows")
    if follows is not None:
        if not isinstance(follows, str) or not follows:
            raise r.fail(
                "release.follows", "must be a path to the previous manifest", 'write follows = "1.1.13-1.1.toml"'
            )
        previous = confined_path(r, "release.follows", root, follows)
        regular_file(r, "release.follows", previous, "point it at the previous release's manifest or remove it")
    return date, follows


def _note_groups_filters(r: Reader, rel: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """``release.note_groups`` (key -> title) and ``release.rpmlint_filters`` (regex -> why)."""
    note_groups = rel.get("note_groups", {"main": "Components"})
    if not isinstance(note_groups, dict) or not all(isinstance(v, str) for v in note_groups.values()):
        raise r.fail(
            "release.note_groups", 'must be a table key = "title"', 'write note_groups = {main = "Main components"}'
        )
    for key, title in note_groups.items():
        if not NAME_RE.match(key) or CONTROL_RE.search(title):
            raise r.fail(
                f"release.note_groups.{key}",
                f"invalid group {key!r} = {title!r}",
                "use a key of letters, digits and ._+- and a one-line title",
            )
    filters = rel.get("rpmlint_filters", {})
    if not isinstance(filters, dict):
        raise r.fail(
            "release.rpmlint_filters",
            'must be a table regex = "why it is legitimate"',
            'write rpmlint_filters = { "regex" = "reason" }',
        )
    for regex, why in filters.items():
        try:
            re.compile(regex)
        except re.error as exc:
            raise r.fail(
                f"release.rpmlint_filters.{regex}", f"not a valid regex: {exc}", "fix the expression"
            ) from None
        if not isinstance(why, str) or len(why.strip()) < 10 or CONTROL_RE.search(why):
            raise r.fail(f"release.rpmlint_filters.{regex}", "needs a reason", "say why this is legitimate for el6/el7")
    return dict(note_groups), dict(filters)


def _check_components(
    r: Reader, values: Mapping[str, str], comps: tuple[Component, ...], note_groups: Mapping[str, str]
) -> None:
    """Each component's group exists; each binary package ships from one component, never the tool's own."""
    shipped: dict[tuple[str, str], str] = {}
    for c in comps:
        if c.group not in note_groups:
            raise r.fail(
                f"components.{c.name}.group",
                f"unknown group {c.group!r}",
                f"use one of {', '.join(note_groups)} or add it to release.note_groups",
            )
        for d in c.dists:
            for p in c.packages_for(d) + c.debuginfo.get(d, ()):
                if (d, p) in shipped:
                    raise r.fail(
                        f"components.{c.name}.packages",
                        f"{p} is also shipped by {shipped[(d, p)]} for {d}",
                        "ship each binary package from one component",
                    )
                shipped[(d, p)] = c.name
        for n in (values["metapackage"], values["name"]):
            if any(n in c.packages_for(d) for d in c.dists):
                raise r.fail(
                    f"components.{c.name}.packages", f"{n} is built by the tool itself", "remove it from the list"
                )


def load(path: Path | str) -> Release:
    """Load and validate a release manifest."""
    path = Path(path).resolve()
    r = Reader(path)
    raw, data = _read_toml(r, path)
    r.unknown(data, {"release", "dists", "components"}, "")
    root = path.parent
    rel = r.table(data, "release", "")
    r.unknown(rel, _RELEASE_KEYS | repo_keys(), "release")
    values = _release_values(r, rel)
    version = r.str_(rel, "version", "release", pattern=VERSION_RE, hint='e.g. version = "1.1.14"')
    release = r.str_(rel, "release", "release", pattern=VERSION_RE, hint='e.g. release = "1.1"')
    repos, parent_dir = load_repositories(r, rel, values["name"], f"{version}-{release}", values["arch"])
    date, follows = _date_follows(r, rel, root)
    note_groups, filters = _note_groups_filters(r, rel)

    raw_dists = r.table(data, "dists", "")
    if not raw_dists:
        raise r.fail("dists", "no target distributions", "add [dists.el7] with tag and rhel")
    dists = {name: _load_dist(r, name, d) for name, d in raw_dists.items()}
    spec_dir = confined_path(r, "release.spec_dir", root, values["spec_dir"])

    raw_comps = data.get("components")
    if not isinstance(raw_comps, list) or not raw_comps:
        raise r.fail("components", "no components", "add [[components]] entries")
    comps = per_dist_entries(
        r, raw_comps, tuple(load_component(r, root, spec_dir, i, c, tuple(dists)) for i, c in enumerate(raw_comps))
    )
    _check_components(r, values, comps, note_groups)
    _check_tool_names(r, values, comps)
    _check_release_range(r, path, date, follows, dists)
    if not any(c.require != "none" for c in comps):
        raise r.fail(
            "components",
            f"{values['metapackage']} would require nothing",
            'set require = "=", ">=" or "any" on at least one component',
        )
    return Release(
        path=path,
        root=root,
        version=version,
        release=release,
        follows=follows,
        date=date,
        summary=r.str_(rel, "summary", "release", default=f"{repos[0].repo_name} package"),
        description=opt_text(
            r,
            rel,
            "description",
            "release",
            multiline=True,
            default="Installs a local yum repository with the cluster stack and its .repo file.",
        )
        or "Installs a local yum repository with the cluster stack and its .repo file.",
        spec_dir=spec_dir,
        note_groups=dict(note_groups),
        rpmlint_filters=dict(filters),
        dists=dists,
        components=comps,
        key=hashlib.sha256(raw).hexdigest(),
        change_notes=text_field(r, rel, "change_notes", "release"),
        known_issues=text_field(r, rel, "known_issues", "release"),
        upgrade_warnings=text_field(r, rel, "upgrade_warnings", "release"),
        sections=note_sections(r, root, rel.get("sections", [])),
        repositories=repos,
        parent_dir=parent_dir,
        **{k: v for k, v in values.items() if k != "spec_dir"},
    )
