"""The tool's own packages: the metapackage and the repository package.

Both are rendered from the tool's templates (``pmrepo/templates/specs/``,
``repo/``, ``comps/``) with names taken from the manifest, and built with plain rpmbuild: they are noarch or payload-only,
have no ELF auto-requires, and are therefore safe to build on any host.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .builders.base import rpm_macro_defines
from .errors import BuildError
from .manifest import Component, Dist, Release
from .fsutil import write_atomic
from .layout import DistLayout, public_key_name
from .render import RELEASE_TEXT_FIELDS, TEMPLATES, neutral, render_spec, render_template
from .run import run
from .specs import base_context, define_args



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


def render_repo_files(release: Release, dist: Dist, gpg_key_name: str | None) -> tuple[str, str]:
    ctx = base_context(release, dist) | {"gpg_key_name": gpg_key_name}
    return (render_template("repo/pacemaker.repo.j2", ctx),
            render_template("repo/pacemaker-debuginfo.repo.j2", ctx))


def debuginfo_repo_name(release: Release) -> str:
    return release.repo_file[: -len(".repo")] + "-debuginfo.repo"


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
    write_atomic(spec, render_spec("specs/pacemaker-all.spec.j2", base_context(release, dist) | extra,
                                   base_context(neutral(release, RELEASE_TEXT_FIELDS), dist) | extra,
                                   what=f"{release.metapackage} ({dist.name})"))
    top = where.rpmbuild_top("meta")
    shutil.rmtree(top, ignore_errors=True)
    rpms = _rpmbuild(spec, release, dist, top, log, None)
    if len(rpms) != 1:
        raise BuildError(f"{release.metapackage} ({dist.name}): expected one RPM, got {[p.name for p in rpms]}", log=log)
    out = where.work / rpms[0].name
    rpms[0].replace(out)
    shutil.rmtree(top)
    return out


def build_repo_packages(release: Release, dist: Dist, where: DistLayout, *, log: Path,
                        gpg_key: Path | None = None) -> list[Path]:
    """Build ``<name>``, ``<name>-debuginfo`` and ``<name>-src`` for ``dist``."""
    key_name = public_key_name(release.repo_id) if gpg_key else None
    repo_text, dbg_text = render_repo_files(release, dist, key_name)
    repo_file = where.spec(release.repo_file)
    dbg_file = where.spec(debuginfo_repo_name(release))
    write_atomic(repo_file, repo_text)
    write_atomic(dbg_file, dbg_text)
    extra = {
        "tree": where.tree, "debuginfo_tree": where.debuginfo_tree, "srpm_dir": where.srpms,
        "repo_file": repo_file, "debuginfo_repo_file": dbg_file, "debuginfo_repo_name": debuginfo_repo_name(release),
        "gpg_key": gpg_key, "gpg_key_name": key_name,
    }
    spec = where.spec(release.name)
    write_atomic(spec, render_spec("specs/pacemaker-repo.spec.j2", base_context(release, dist) | extra,
                                   base_context(neutral(release, RELEASE_TEXT_FIELDS), dist) | extra,
                                   what=f"{release.name} ({dist.name})"))
    top = where.rpmbuild_top("repo")
    shutil.rmtree(top, ignore_errors=True)
    rpms = _rpmbuild(spec, release, dist, top, log, release.arch)
    names = {p.name for p in rpms}
    expected = {f"{n}-{release.vr}{dist.tag}.{release.arch}.rpm"
                for n in (release.name, f"{release.name}-debuginfo", f"{release.name}-src")}
    if names != expected:
        raise BuildError(f"{release.name} ({dist.name}): built {sorted(names)}, expected {sorted(expected)}", log=log)
    out = []
    for p in rpms:
        target = where.work / p.name
        p.replace(target)
        out.append(target)
    shutil.rmtree(top)
    return sorted(out)
