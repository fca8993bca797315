"""Repository packages as the predecessor tool made them, built from the facts
file's description (../shared/reference/predecessor-layout.md), not from
pmrepo's templates: three specs, one per package, each a self-contained yum
repository (``rpm/`` + ``repodata/``, no comps group) under its own root,
its own ``%config(noreplace)`` .repo file whose section has ``name=`` equal
to the section id, ``enabled=1``, ``gpgcheck=0``; every package owns the
shared parent directory and its root; files root:root, RPMs 0644; no
automatic dependencies.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from pmrepo.manifest import Dist, Release
from pmrepo.run import run


def build(release: Release, dist: Dist, trees: dict[str, Path], out: Path) -> list[Path]:
    """The three packages of ``release`` (its names and roots) carrying the RPMs of ``trees[kind]/rpm``."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for repo in release.repositories:
        top = out / f"top-{repo.kind}"
        stage = top / "stage" / repo.kind
        (stage / "rpm").mkdir(parents=True)
        for rpm in sorted((trees[repo.kind] / "rpm").glob("*.rpm")):
            shutil.copyfile(rpm, stage / "rpm" / rpm.name)
        run(["createrepo_c", "--database", "--checksum", "sha256", "--general-compress-type", "gz", str(stage)])
        repo_text = (f"[{repo.repo_id}]\nname={repo.repo_id}\nbaseurl=file://{repo.prefix}/\nenabled=1\ngpgcheck=0\n")
        (top / "stage" / repo.repo_file).write_text(repo_text)
        spec = top / f"{repo.package}.spec"
        spec.write_text(f"""%global debug_package %{{nil}}
%global __os_install_post %{{nil}}
%global _build_id_links none
Name: {repo.package}
Version: {release.version}
Release: {release.release}{dist.tag}
Summary: {repo.package} (predecessor layout)
License: GPL
Group: Environment/Daemons
AutoReqProv: no
%description
Repository package as the predecessor's bash script assembled it.
%install
mkdir -p %{{buildroot}}{repo.prefix} %{{buildroot}}/etc/yum.repos.d
cp -pr {stage}/rpm {stage}/repodata %{{buildroot}}{repo.prefix}/
chmod 0644 %{{buildroot}}{repo.prefix}/rpm/*.rpm
install -m 0644 {top / 'stage' / repo.repo_file} %{{buildroot}}/etc/yum.repos.d/{repo.repo_file}
%files
%defattr(-,root,root,-)
%dir {release.parent_dir}
%dir {repo.prefix}
{repo.prefix}/rpm
{repo.prefix}/repodata
%config(noreplace) /etc/yum.repos.d/{repo.repo_file}
""")
        run(["rpmbuild", "-bb", "--target", release.arch, "--define", f"_topdir {top}",
             "--define", "_binary_payload w9.gzdio", str(spec)])
        rpm = next((top / "RPMS").rglob(f"{repo.package}-{release.vr}{dist.tag}.*.rpm"))
        made.append(shutil.copyfile(rpm, out / rpm.name))
    return made
