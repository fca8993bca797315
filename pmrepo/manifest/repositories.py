"""Loading the three repositories of a release manifest: the per-repository values of ``[release]``
read, defaulted and checked generically from their declaration (``Repository``'s ``repo_value``
fields), then the checks that relate the repositories to each other and to ``parent_dir``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import Reader
from .model import DIR_RE, REPO_KINDS, SYSTEM_DIRS, Repository, RepoValue, repo_values


def repo_keys() -> set[str]:
    """Every ``[release]`` key the declared per-repository values take, for each kind."""
    return {RepoValue.key(name, kind) for name in repo_values(Repository) for kind in REPO_KINDS}


def _read(r: Reader, rel: Mapping[str, Any], declared: Mapping[str, RepoValue]) -> dict[str, dict[str, str]]:
    """kind -> field -> value: each key read (a one-line, non-empty string) or its default."""
    out: dict[str, dict[str, str]] = {}
    for kind in REPO_KINDS:
        own: dict[str, str] = {}
        main = out.get("main", own)
        for name, how in declared.items():
            default = how.main_default(own) if kind == "main" else how.default(kind, main, own)
            own[name] = r.str_(rel, RepoValue.key(name, kind), "release", default=default)
        out[kind] = own
    return out


def _check(r: Reader, values: Mapping[str, Mapping[str, str]], declared: Mapping[str, RepoValue], parent: str) -> None:
    """Each value matches its declared pattern; main's are checked first."""
    for kind in REPO_KINDS:
        for name, how in declared.items():
            value, key = values[kind][name], RepoValue.key(name, kind)
            if how.pattern is not None and not how.pattern.match(value):
                fix = how.main_fix if kind == "main" else (how.fix or how.main_fix)
                raise r.fail(f"release.{key}", how.problem.format(value=value), fix.format(key=key, parent=parent))


def _check_roots(r: Reader, prefixes: Mapping[str, str], parent: str) -> None:
    """``parent_dir`` is the tool's own directory and each root lies under it, none inside another."""
    if not DIR_RE.match(parent) or parent in SYSTEM_DIRS:
        raise r.fail(
            "release.parent_dir",
            f"{parent!r} cannot be owned by the repository packages (an OS directory or not an absolute path)",
            "put the prefixes under a directory of your own, e.g. parent_dir = "
            '"/opt/linux-ha" with prefix = "/opt/linux-ha/pacemaker"',
        )
    for key, pre in prefixes.items():
        if not pre.startswith(parent + "/"):
            raise r.fail(
                f"release.{key}",
                f"{pre} is not under parent_dir {parent}",
                f"put it under {parent}/ or change parent_dir",
            )
    for a, pa in prefixes.items():
        for b, pb in prefixes.items():
            if a != b and (pa == pb or pb.startswith(pa + "/")):
                raise r.fail(
                    f"release.{b}",
                    f"{pb} is inside (or equal to) {a} {pa}: each repository needs its own root",
                    f'write {b} = "{pa}-{b.split("_")[0]}"',
                )


def load_repositories(
    r: Reader, rel: Mapping[str, Any], name: str, vr: str, arch: str
) -> tuple[tuple[Repository, ...], str]:
    """The three repositories (main first) and the ``parent_dir`` they share. Defaults: the
    predecessor's layout, each kind's value derived from main's."""
    cls = Repository  # looked up on each call: the declaration is the one place a value is added
    declared = repo_values(cls)
    values = _read(r, rel, declared)
    parent = r.str_(rel, "parent_dir", "release", default=values["main"]["prefix"].rsplit("/", 1)[0] or "/")
    _check(r, values, declared, parent)
    _check_roots(r, {RepoValue.key("prefix", k): values[k]["prefix"] for k in REPO_KINDS}, parent)
    files = [values[k]["repo_file"] for k in REPO_KINDS]
    ids = [values[k]["repo_id"] for k in REPO_KINDS]
    if len(set(files)) != len(REPO_KINDS) or len(set(ids)) != len(REPO_KINDS):
        raise r.fail(
            "release.repo_file",
            f"the three repositories need distinct .repo files and ids, got {files} {ids}",
            "give debuginfo_/src_repo_file and _repo_id their own values",
        )
    repos = tuple(
        cls(kind=kind, package=name if kind == "main" else f"{name}-{kind}", vr=vr, arch=arch, **values[kind])
        for kind in REPO_KINDS
    )
    return repos, parent
