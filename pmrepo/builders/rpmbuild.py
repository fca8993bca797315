"""The plain rpmbuild backend: builds on this host, no chroot.

BuildRequires satisfied by packages built earlier in the same run are made
available by unpacking those RPMs into a private root and pointing the
compiler and linker at it (CPATH, LIBRARY_PATH, …). The result is a real RPM
but not an el6/el7 binary: ELF dependencies reflect this host's libraries.
Use the mock backend for production builds of arch-specific packages.
"""
from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from ..manifest import Dist
from ..run import run
from ..specs import define_args
from .base import MACROS_FILE, Builder, BuildOutput, BuildRequest, fixed_topdir, rpm_macro_defines


def _extract(rpm: Path, root: Path, log: Path) -> None:
    """Unpack the payload of ``rpm`` under ``root`` (no rpmdb, no scriptlets)."""
    workdir = root.parent / ".pmrepo-unpack"
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / rpm.name
    shutil.copyfile(rpm, copy)
    run(["rpm2archive", str(copy)], log_file=log, error=BuildError, cwd=workdir)
    tgz = workdir / f"{rpm.name}.tgz"
    with tarfile.open(tgz) as tar:
        tar.extractall(root, filter="tar")
    copy.unlink()
    tgz.unlink()


@dataclass
class RpmbuildBuilder(Builder):
    name: str = "rpmbuild"
    remedy: str = ("build with --backend mock (its el6/el7 chroot installs BuildRequires from the dist's "
                   "repositories), or install it on this build host")

    def can_provide(self, capability: str) -> bool:
        """The host can provide an executable on PATH, an existing file path, or
        (on an RPM-based host) a capability its rpmdb provides."""
        if capability.startswith("/"):
            return os.path.exists(capability)
        if shutil.which(capability):
            return True
        if shutil.which("rpm"):
            res = run(["rpm", "-q", "--whatprovides", capability], check=False)
            return res.returncode == 0
        return False

    def config_id(self, dist: Dist) -> str:
        return f"rpmbuild;{MACROS_FILE.read_text()}"

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        # _topdir at a path independent of the work directory: reproducible from any checkout
        with fixed_topdir(req.dist.name, req.component, "rpmbuild") as top:
            return self._build_in(req, srpm, top)

    def _build_in(self, req: BuildRequest, srpm: Path, top: Path) -> BuildOutput:
        env = {"SOURCE_DATE_EPOCH": str(req.source_date_epoch)}
        if req.dep_rpms:
            # Inside rpmbuild's BUILD directory, so that debugedit rewrites the
            # paths it leaves in debug info like the build's own (reproducible).
            root = top / "BUILD" / ".pmrepo-deps"
            for rpm in req.dep_rpms:
                _extract(rpm, root, req.log)
            inc = [root / "usr/include"]
            libs = [root / "usr/lib64", root / "usr/lib"]
            env.update({
                "CPATH": os.pathsep.join(map(str, inc)),
                "LIBRARY_PATH": os.pathsep.join(map(str, libs)),
                "LD_LIBRARY_PATH": os.pathsep.join(map(str, libs)),
                "PKG_CONFIG_PATH": os.pathsep.join(str(p / "pkgconfig") for p in libs),
                "PATH": os.pathsep.join([str(root / "usr/bin"), str(root / "usr/sbin"), os.environ.get("PATH", "")]),
            })
        defines = rpm_macro_defines(req.dist, req.source_date_epoch)
        defines["_topdir"] = str(top)
        run(["rpmbuild", "--rebuild", "--nodeps", "--load", str(MACROS_FILE), *define_args(defines), str(srpm)],
            log_file=req.log, env=env, error=BuildError)
        rpms = []
        for rpm in sorted((top / "RPMS").rglob("*.rpm")):
            target = req.outdir / rpm.name
            shutil.move(rpm, target)
            rpms.append(target)
        if not rpms:
            raise BuildError(f"{req.component} ({req.dist.name}): rpmbuild produced no RPMs", log=req.log)
        return BuildOutput(srpm=srpm, rpms=tuple(rpms), logs=(req.log,))
