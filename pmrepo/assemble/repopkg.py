"""The tool's own packages: the metapackage and the repository package.

Both are rendered from the tool's templates (``pmrepo/templates/specs/``,
``repo/``, ``comps/``) with names taken from the manifest, and built with plain rpmbuild: they are noarch or
payload-only, have no ELF auto-requires, and are therefore safe to build on any host.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from ..builders.base import rpm_macro_defines
from ..errors import BuildError
from ..fsutil import write_atomic
from ..layout import DistLayout, public_key_name, repo_rpm_dir, repodata_dir, repomd_xml
from ..manifest import Component, Dist, Release, Repository
from ..render.environment import RELEASE_TEXT_FIELDS, TEMPLATES, neutral, render_spec, render_template
from ..render.specs import base_context, define_args
from ..run import run


def template_files() -> list[Path]:
    """The tool's templates the metapackage and the repo packages are made from."""
    return sorted(TEMPLATES.glob("specs/pacemaker-*.spec.j2")) + sorted(TEMPLATES.glob("repo/*.j2"))


def requirement(comp: Component, dist: Dist) -> str | None:
    """The metapackage's Requires line for ``comp`` on ``dist``."""
    main = comp.packages_for(dist.name)[0]
    evr = f"{comp.version}-{comp.release}{dist.tag}"
    return {"=": f"{main} = {evr}", ">=": f"{main} >= {evr}", "any": main, "none": None}[comp.require]


def metapackage_requires(release: Release, dist: Dist) -> list[str]:
    reqs = [r for c in release.components_for(dist.name) if (r := requirement(c, dist))]
    return reqs + list(dist.os_requires)


def group_members(release: Release, dist: Dist) -> tuple[list[str], list[str]]:
    """(mandatory, optional) comps members: the metapackage and what it requires
    directly are mandatory; every other shipped package is optional."""
    mandatory = [release.metapackage]
    optional: list[str] = []
    for comp in release.components_for(dist.name):
        pkgs = comp.packages_for(dist.name)
        if comp.require != "none":
            mandatory.append(pkgs[0])
            optional.extend(pkgs[1:])
        else:
            optional.extend(pkgs)
    return mandatory, optional


def render_comps(release: Release, dist: Dist) -> str:
    mandatory, optional = group_members(release, dist)
    ctx = base_context(release, dist) | {"mandatory": mandatory, "optional": optional}
    return render_template("comps/comps.xml.j2", ctx)


def render_repo_file(release: Release, dist: Dist, repo: Repository, gpg_key_name: str | None) -> str:
    ctx = base_context(release, dist) | {"repo": repo, "gpg_key_name": gpg_key_name}
    return render_template("repo/pacemaker.repo.j2", ctx)


def _rpmbuild(spec: Path, release: Release, dist: Dist, topdir: Path, log: Path, target: str | None) -> list[Path]:
    epoch = release.epoch
    defines = rpm_macro_defines(dist, epoch)
    defines["_topdir"] = str(topdir)
    args = ["rpmbuild", "-bb", *define_args(defines)]
    if target:
        args += ["--target", target]
    run([*args, str(spec)], log_file=log, error=BuildError, env={"SOURCE_DATE_EPOCH": str(epoch)})
    return sorted((topdir / "RPMS").rglob("*.rpm"))


def build_metapackage(release: Release, dist: Dist, where: DistLayout, log: Path) -> Path:
    extra = {"requires": metapackage_requires(release, dist)}
    spec = where.spec(release.metapackage)
    write_atomic(
        spec,
        render_spec(
            "specs/pacemaker-all.spec.j2",
            base_context(release, dist) | extra,
            base_context(neutral(release, RELEASE_TEXT_FIELDS), dist) | extra,
            what=f"{release.metapackage} ({dist.name})",
        ),
    )
    top = where.rpmbuild_top("meta")
    shutil.rmtree(top, ignore_errors=True)
    rpms = _rpmbuild(spec, release, dist, top, log, None)
    if len(rpms) != 1:
        raise BuildError(
            f"{release.metapackage} ({dist.name}): expected one RPM, got {[p.name for p in rpms]}", log=log
        )
    out = where.work / rpms[0].name
    rpms[0].replace(out)
    shutil.rmtree(top)
    return out


def build_repo_packages(
    release: Release,
    dist: Dist,
    where: DistLayout,
    *,
    log: Path,
    trees: Mapping[str, Path] | None = None,
    gpg_key: Path | None = None,
    spec_text: Callable[[str], str] | None = None,
    sbom_name: str | None = None,
) -> list[Path]:
    """Build ``<name>``, ``<name>-debuginfo`` and ``<name>-src`` for ``dist``:
    each installs ``trees[kind]`` (``rpm/`` and ``repodata/``; default: the
    dist's work trees, ``where.trees()``) under its own root with its own
    .repo file; with ``sbom_name`` also the SBOM of that name at each tree's root.
    ``spec_text`` may rewrite the rendered spec (tests build deliberately broken packages with it)."""
    trees = where.trees() if trees is None else trees
    key_name = public_key_name(release.repo("main").repo_id) if gpg_key else None
    repo_files: dict[str, Path] = {}
    for repo in release.repositories:
        path = where.spec(repo.repo_file)
        write_atomic(path, render_repo_file(release, dist, repo, key_name))
        repo_files[repo.kind] = path
    for kind, tree in trees.items():
        if not repomd_xml(tree).is_file():
            raise BuildError(f"{release.name} ({dist.name}): the {kind} repository {tree} has no repodata", log=log)
        if sbom_name and not (tree / sbom_name).is_file():
            raise BuildError(f"{release.name} ({dist.name}): the {kind} repository {tree} has no {sbom_name}", log=log)
    extra = {
        "tree_rpms": {k: repo_rpm_dir(t) for k, t in trees.items()},
        "tree_repodata": {k: repodata_dir(t) for k, t in trees.items()},
        "repo_files": repo_files,
        "gpg_key": gpg_key,
        "gpg_key_name": key_name,
        "tree_sbom": {k: t / sbom_name for k, t in trees.items()} if sbom_name else {},
        "sbom_name": sbom_name,
    }
    spec = where.spec(release.name)
    text = render_spec(
        "specs/pacemaker-repo.spec.j2",
        base_context(release, dist) | extra,
        base_context(neutral(release, RELEASE_TEXT_FIELDS), dist) | extra,
        what=f"{release.name} ({dist.name})",
    )
    write_atomic(spec, spec_text(text) if spec_text else text)
    top = where.rpmbuild_top("repo")
    shutil.rmtree(top, ignore_errors=True)
    rpms = _rpmbuild(spec, release, dist, top, log, release.arch)
    names = {p.name for p in rpms}
    expected = set(release.repo_rpm_names(dist))
    if names != expected:
        raise BuildError(f"{release.name} ({dist.name}): built {sorted(names)}, expected {sorted(expected)}", log=log)
    out = []
    for p in rpms:
        target = where.work / p.name
        p.replace(target)
        out.append(target)
    shutil.rmtree(top)
    return sorted(out)
