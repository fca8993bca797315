"""The plain rpmbuild backend: builds on this host, no chroot.

BuildRequires satisfied by packages built earlier in the same run are
unpacked into a private dependency root (no rpmdb, no scriptlets). Two ways
make them visible to the build:

* **at their real paths** (root, ``unshare`` and overlayfs available): rpmbuild
  runs in its private mount namespace (sandbox.py) where the dependency root is overlaid on
  ``/usr``, ``/etc`` and ``/var`` (read-only lower layers: the dependency root
  above the host's directory; writes go to a tmpfs upper layer that vanishes
  with the namespace). ``/usr/include/pacemaker/crm_config.h`` is then where a
  configure script with a hard-coded path looks for it, as in a mock root;
  nothing is written to the host's directories.
* **through the compiler's search paths** everywhere: CPATH, LIBRARY_PATH,
  LD_LIBRARY_PATH, PKG_CONFIG_PATH and PATH point into the dependency root.
  Without a mount namespace this is all there is, and the build log says so.

The result is a real RPM but not an el6/el7 binary: ELF dependencies reflect
this host's libraries. Use the mock backend for production builds of
arch-specific packages.

Never as root: when pmrepo is root, rpmbuild runs as the build user in private
namespaces (no network, private /tmp), with a fresh environment — see
``sandbox.py``.

``host_buildrequires``: BuildRequires that no component of the release
provides and that this host cannot show it has (no rpmdb entry, no such
file or command) are taken as provided by the host's own, non-rpm packages
(e.g. Debian's -dev packages). Nothing checks that they are: such builds are
for spec development, marked not shippable (see ``shippable``).
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from ..manifest import Dist
from ..render.specs import define_args
from ..run import run
from ..sandbox import Sandbox
from .base import MACROS_FILE, Builder, BuildOutput, BuildRequest, fixed_topdir, rpm_macro_defines


def _extract(rpms: tuple[Path, ...], root: Path, log: Path) -> None:
    """Unpack the payloads of ``rpms`` under ``root`` (no rpmdb, no scriptlets)."""
    workdir = root.parent / ".pmrepo-unpack"
    workdir.mkdir(parents=True, exist_ok=True)
    for rpm in rpms:
        copy = workdir / rpm.name
        shutil.copyfile(rpm, copy)
        run(["rpm2archive", str(copy)], log_file=log, error=BuildError, cwd=workdir)
        tgz = workdir / f"{rpm.name}.tgz"
        with tarfile.open(tgz) as tar:
            tar.extractall(root, filter="tar")
        copy.unlink()
        tgz.unlink()
    workdir.rmdir()


#: the directories the dependency root is overlaid on, in a private mount namespace
OVERLAID = ("usr", "etc", "var")

# overlayfs option syntax: no ',' ':' '\\' or whitespace in the paths
_OVERLAY_SAFE = re.compile(r"^[A-Za-z0-9_./+@%=-]+\Z")


def namespace_available() -> bool:
    """Whether this process can make a private mount namespace with overlays."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    try:
        return "overlay" in Path("/proc/filesystems").read_text()
    except OSError:
        return False


@dataclass
class RpmbuildBuilder(Builder):
    name: str = "rpmbuild"
    remedy: str = (
        "build with --backend mock (its el6/el7 chroot installs BuildRequires from the dist's "
        "repositories), install it on this build host, or (spec development only) pass "
        "--host-buildrequires to take it from the host's own packages"
    )
    #: take BuildRequires this host cannot show as provided by its own (non-rpm) packages
    host_buildrequires: bool = False
    #: None: a mount namespace when available; False: never (search paths only)
    namespace: bool | None = None
    assumed: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def host_has(self, capability: str) -> bool:
        """The host can show it provides an executable on PATH, an existing file
        path, or (on an RPM-based host) a capability its rpmdb provides."""
        if capability.startswith("/"):
            return os.path.exists(capability)
        if shutil.which(capability):
            return True
        if shutil.which("rpm"):
            res = run(["rpm", "-q", "--whatprovides", capability], check=False)
            return res.returncode == 0
        return False

    def can_provide(self, capability: str) -> bool:
        if self.host_has(capability):
            return True
        if self.host_buildrequires:
            self.assumed.add(capability)
            return True
        return False

    def lacks(self, capability: str) -> bool:
        return not self.host_has(capability)

    @property
    def shippable(self) -> bool:
        """Builds whose BuildRequires were assumed from the host are not shippable."""
        return not self.host_buildrequires

    def unshippable_reason(self) -> str:
        if self.host_buildrequires:
            taken = f": {', '.join(sorted(self.assumed))}" if self.assumed else ""
            return (
                "built with --host-buildrequires: BuildRequires taken as provided by this host's own "
                f"packages, unverified{taken}"
            )
        return ""

    def uses_namespace(self) -> bool:
        return namespace_available() if self.namespace is None else (self.namespace and namespace_available())

    def config_id(self, dist: Dist) -> str:
        root = "overlay" if self.uses_namespace() else "search-paths"
        host = ";host-buildrequires" if self.host_buildrequires else ""
        return f"rpmbuild;root={root}{host};sandbox=1;{MACROS_FILE.read_text()}"

    def _overlay(self, req: BuildRequest, root: Path, top: Path) -> dict[str, str]:
        """The settings that overlay ``root`` on the system directories in the build's
        namespace (sandbox.py), or none (with the reason in the log) when that cannot be done here."""
        if not self.uses_namespace():
            why = (
                "no mount namespace here (needs root, unshare and overlayfs)"
                if self.namespace is None
                else "disabled by the backend option namespace=False"
            )
            _note(req.log, f"dependency root reachable through search paths only: {why}")
            return {}
        dirs: list[str] = []
        own = (req.outdir.resolve(), top.resolve())  # what the build writes must stay on the host
        for d in OVERLAID:
            if not (root / d).is_dir():
                continue
            under = [p for p in own if p.is_relative_to(Path("/") / d)]
            if under:
                _note(req.log, f"not overlaying /{d}: the build's own directory {under[0]} is under it")
                continue
            dirs.append(d)
        ovl = req.outdir / ".pmrepo-overlay"
        if not dirs:
            return {}
        if not all(_OVERLAY_SAFE.match(str(p)) for p in (root.resolve(), ovl.resolve())):
            _note(
                req.log,
                f"dependency root reachable through search paths only: {root} has characters "
                "overlayfs options cannot carry",
            )
            return {}
        ovl.mkdir(exist_ok=True)
        return {"PMREPO_DEPS": str(root.resolve()), "PMREPO_OVL": str(ovl.resolve()), "PMREPO_DIRS": " ".join(dirs)}

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        # _topdir at a path independent of the work directory: reproducible from any checkout
        with fixed_topdir(req.dist.name, req.component, "rpmbuild") as top:
            try:
                return self._build_in(req, srpm, top)
            finally:
                shutil.rmtree(req.outdir / ".pmrepo-overlay", ignore_errors=True)

    def _build_in(self, req: BuildRequest, srpm: Path, top: Path) -> BuildOutput:
        box = Sandbox.for_tree(top)
        env = {"SOURCE_DATE_EPOCH": str(req.source_date_epoch)}
        defines = rpm_macro_defines(req.dist, req.source_date_epoch)
        defines["_topdir"] = str(top)
        # what rpmbuild reads, inside the tree the build user gets (the work tree may be private)
        own_srpm, macros = top / srpm.name, top / MACROS_FILE.name
        shutil.copyfile(srpm, own_srpm)
        shutil.copyfile(MACROS_FILE, macros)
        argv = ["rpmbuild", "--rebuild", "--nodeps", "--load", str(macros), *define_args(defines), str(own_srpm)]
        overlay: dict[str, str] = {}
        keep: list[Path] = []
        if req.dep_rpms:
            # Inside rpmbuild's BUILD directory, so that debugedit rewrites the paths it leaves
            # in debug info like the build's own (reproducible); it stays pmrepo's, read-only.
            root = top / "BUILD" / ".pmrepo-deps"
            _extract(req.dep_rpms, root, req.log)
            keep.append(root)
            inc = [root / "usr/include"]
            libs = [root / "usr/lib64", root / "usr/lib"]
            env.update(
                {
                    "CPATH": os.pathsep.join(map(str, inc)),
                    "LIBRARY_PATH": os.pathsep.join(map(str, libs)),
                    "LD_LIBRARY_PATH": os.pathsep.join(map(str, libs)),
                    "PKG_CONFIG_PATH": os.pathsep.join(str(p / "pkgconfig") for p in libs),
                    "PATH": os.pathsep.join(
                        [str(root / "usr/bin"), str(root / "usr/sbin"), os.environ.get("PATH", "")]
                    ),
                }
            )
            overlay = self._overlay(req, root, top)
        box.hand_over(keep)
        argv, run_env = box.command(argv, env, overlay)
        run(argv, log_file=req.log, env=run_env, error=BuildError)
        rpms = [box.take(rpm, req.outdir / rpm.name) for rpm in box.results(top / "RPMS", ".rpm")]
        if not rpms:
            raise BuildError(f"{req.component} ({req.dist.name}): rpmbuild produced no RPMs", log=req.log)
        return BuildOutput(srpm=srpm, rpms=tuple(rpms), logs=(req.log,))


def _note(log: Path, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"pmrepo: {text}\n")
