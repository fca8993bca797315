"""The local test image for the container install test.

No image can be pulled here, so the install test runs in an image built from
Debian packages: ``debootstrap --variant=minbase`` with ``rpm`` and ``dnf``,
then made to look like a CentOS root where the install test cares:

- ``/etc/yum.repos.d/CentOS-Base.repo`` with ``[base]``, ``[updates]`` (and
  ``[extras]``) pointing at an empty local repository, so the exclude step
  edits a real file that dnf then reads;
- ``/etc/dnf/dnf.conf`` with yum's defaults (an unreadable repository fails);
- an rpm database that is not empty: ``pmrepo-testroot-os`` provides the
  interpreter paths the root really has (``/bin/sh``, …) — on CentOS, bash and
  coreutils provide them — and, like el's glibc, runs ``ldconfig`` when
  packages add libraries to ``/lib64`` or ``/usr/lib64`` (which
  ``/etc/ld.so.conf.d/el-lib64.conf`` adds to the loader's path);
- then ``tar`` and ``<engine> import`` as ``localhost/pmrepo-testroot:<suite>``
  with a label holding the recipe's digest.

:func:`ensure_image` reuses the image when the engine has it with the same
digest, and builds it otherwise (under a lock, so parallel test runs build it
once). Building needs root (debootstrap, chroot) and Debian's mirror.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ....errors import PmrepoError
from ....progress import Say
from ....run import run
from ..engine import ContainerError, Engine

HERE = Path(__file__).resolve().parent
RECIPE_VERSION = 1  # bump when the build steps below change what the image contains
LABEL = "pmrepo.recipe"
EMPTY_REPO = "/srv/pmrepo-testroot/empty-repo"
OS_PACKAGE = "pmrepo-testroot-os"
# Paths that packages require and that a CentOS base provides; the OS package
# provides those of them that the Debian root really has.
OS_PATHS = (
    "/bin/sh",
    "/bin/bash",
    "/usr/bin/sh",
    "/usr/bin/bash",
    "/usr/bin/env",
    "/bin/awk",
    "/usr/bin/awk",
    "/bin/sed",
    "/usr/bin/sed",
    "/bin/grep",
    "/usr/bin/grep",
    "/usr/bin/perl",
    "/usr/bin/python3",
    "/sbin/ldconfig",
    "/usr/sbin/ldconfig",
)
TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)


class ImageBuildError(ContainerError):
    """The local test image could not be built."""


def _default_mirror() -> str:
    return os.environ.get("PMREPO_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@dataclass(frozen=True)
class ImageRecipe:
    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = ("rpm", "dnf")
    mirror: str = field(default_factory=_default_mirror, compare=False)  # not part of the digest
    repository: str = "localhost/pmrepo-testroot"

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.suite}"

    def digest(self) -> str:
        """What the image contains: the recipe, the files put in it, the build steps' version."""
        data = {k: v for k, v in asdict(self).items() if k not in ("mirror", "repository")}
        data["version"] = RECIPE_VERSION
        data["files"] = {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(HERE.iterdir())
            if p.suffix in (".repo", ".conf")
        }
        data["os_spec"] = os_package_spec(["/bin/sh"])  # its shape, not the probed paths
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ImageInfo:
    ref: str
    digest: str
    built: bool  # False: an existing image was reused
    seconds: float  # wall time of ensure_image
    phases: dict[str, float]  # build phase -> seconds (empty when reused)
    log: Path


def os_package_spec(provides: list[str]) -> str:
    lines = [
        f"Name:           {OS_PACKAGE}",
        "Version:        1",
        "Release:        1",
        "Summary:        What pmrepo's Debian test root provides, for rpm",
        "License:        MIT",
        "BuildArch:      noarch",
        *(f"Provides:       {p}" for p in provides),
        "",
        "%description",
        "Stands in for the packages of a CentOS base system in the rpm database",
        "of pmrepo's Debian-based test image: it provides the paths the root has,",
        "and runs ldconfig when a transaction adds libraries under /lib64 or",
        "/usr/lib64, as el's glibc does.",
        "",
        "%transfiletriggerin -- /lib64 /usr/lib64",
        "/sbin/ldconfig",
        "",
        "%transfiletriggerpostun -- /lib64 /usr/lib64",
        "/sbin/ldconfig",
        "",
        "%files",
        "",
    ]
    return "\n".join(lines)


class _Lock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def image_is_current(engine: Engine, recipe: ImageRecipe, log: Path | None = None) -> bool:
    labels = engine.image_labels(recipe.ref, log)
    return labels is not None and labels.get(LABEL) == recipe.digest()


def ensure_image(
    engine: Engine,
    *,
    log_dir: Path,
    recipe: ImageRecipe | None = None,
    rebuild: bool = False,
    tmp_dir: Path | None = None,
    say: Say | None = None,
) -> ImageInfo:
    """The test image in ``engine``'s store: reused if current, built otherwise."""
    recipe = recipe or ImageRecipe()
    say = say or (lambda s: None)
    log = log_dir / "testroot-image.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    digest = recipe.digest()
    tmp_base = tmp_dir or Path(os.environ.get("PMREPO_IMAGE_TMP", "/var/tmp"))
    with _Lock(tmp_base / f"pmrepo-testroot-{recipe.suite}.lock"):
        if not rebuild and image_is_current(engine, recipe, log):
            return ImageInfo(recipe.ref, digest, False, time.monotonic() - t0, {}, log)
        say(
            f"building test image {recipe.ref} ({recipe.variant} {recipe.suite} + {', '.join(recipe.packages)}) "
            f"from {recipe.mirror}; log: {log}"
        )
        phases = _build(engine, recipe, digest, log, tmp_base)
    total = time.monotonic() - t0
    say(f"built {recipe.ref} in {total:.0f}s (" + ", ".join(f"{k} {v:.0f}s" for k, v in phases.items()) + ")")
    return ImageInfo(recipe.ref, digest, True, total, phases, log)


def _build(engine: Engine, recipe: ImageRecipe, digest: str, log: Path, tmp_base: Path) -> dict[str, float]:
    if os.geteuid() != 0:
        raise ImageBuildError(
            f"building the test image {recipe.ref} needs root (debootstrap, chroot) — fix: run as "
            "root, or provide the image yourself"
        )
    for tool in ("debootstrap", "chroot", "tar", "rpmbuild", "createrepo_c"):
        if shutil.which(tool) is None:
            raise ImageBuildError(
                f"building the test image needs '{tool}', which is not installed — fix: run "
                "`./build.py setup` (Debian package debootstrap)"
            )
    tmp_base.mkdir(parents=True, exist_ok=True)
    old_id = _image_id(engine, recipe.ref, log)
    work = Path(tempfile.mkdtemp(prefix="pmrepo-testroot-", dir=tmp_base))
    root = work / "root"
    phases: dict[str, float] = {}
    try:
        t = time.monotonic()
        run(
            [
                "debootstrap",
                f"--variant={recipe.variant}",
                f"--include={','.join(recipe.packages)}",
                recipe.suite,
                str(root),
                recipe.mirror,
            ],
            log_file=log,
            error=ImageBuildError,
            timeout=1800,
        )
        phases["debootstrap"] = time.monotonic() - t

        t = time.monotonic()
        _configure(root, work, log)
        phases["configure"] = time.monotonic() - t

        t = time.monotonic()
        tarball = work / "root.tar"
        run(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(tarball), "."],
            log_file=log,
            error=ImageBuildError,
            timeout=900,
        )
        engine.run(
            [
                "import",
                "--change",
                f"LABEL {LABEL}={digest}",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["/bin/sh"]',
                str(tarball),
                recipe.ref,
            ],
            log,
            timeout=900,
        )
        phases["import"] = time.monotonic() - t
    finally:
        _unmount_under(root, log)
        shutil.rmtree(work, ignore_errors=True)
    if not image_is_current(engine, recipe, log):
        raise ImageBuildError(
            f"{engine.name} import of {recipe.ref} did not yield an image labelled {LABEL}={digest} (log: {log})"
        )
    if old_id and old_id != _image_id(engine, recipe.ref, log):
        engine.run(["rmi", old_id], log, check=False, timeout=300)  # the outdated build, now untagged
    return phases


def _image_id(engine: Engine, ref: str, log: Path) -> str | None:
    res = engine.run(["image", "inspect", "--format", "{{.Id}}", ref], log, check=False, timeout=120)
    lines = res.output.strip().splitlines()
    return lines[-1].strip() if res.returncode == 0 and lines else None


def _configure(root: Path, work: Path, log: Path) -> None:
    for rel in TRIM:
        target = root / rel
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()
    # an empty repository for [base]/[updates]/[extras]
    empty = root / EMPTY_REPO.lstrip("/")
    empty.mkdir(parents=True)
    run(["createrepo_c", "--quiet", str(empty)], log_file=log, error=ImageBuildError)
    repos = root / "etc/yum.repos.d"
    repos.mkdir(parents=True, exist_ok=True)
    (repos / "CentOS-Base.repo").write_text((HERE / "CentOS-Base.repo").read_text().replace("@EMPTY_REPO@", EMPTY_REPO))
    (root / "etc/dnf").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "dnf.conf", root / "etc/dnf/dnf.conf")
    shutil.copyfile(HERE / "el-lib64.conf", root / "etc/ld.so.conf.d/el-lib64.conf")

    # the OS package: provides what the root has; rpm in the root installs it
    probe = " ".join(OS_PATHS)
    res = run(
        ["chroot", str(root), "sh", "-c", f'for p in {probe}; do [ -e "$p" ] && echo "$p"; done; true'],
        log_file=log,
        error=ImageBuildError,
    )
    have = [ln.strip() for ln in res.output.splitlines() if ln.strip() in OS_PATHS]
    if "/bin/sh" not in have:
        raise ImageBuildError(f"the test root {root} has no /bin/sh (log: {log})")
    top = work / "rpmbuild"
    spec = work / f"{OS_PACKAGE}.spec"
    spec.write_text(os_package_spec(have))
    run(
        ["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", "_binary_payload w9.gzdio", str(spec)],
        log_file=log,
        error=ImageBuildError,
    )
    rpms = sorted((top / "RPMS").rglob(f"{OS_PACKAGE}-*.rpm"))
    if len(rpms) != 1:
        raise ImageBuildError(f"rpmbuild of {OS_PACKAGE} gave {len(rpms)} packages (log: {log})")
    inside = root / "tmp" / rpms[0].name
    shutil.copyfile(rpms[0], inside)
    run(["chroot", str(root), "rpm", "-i", f"/tmp/{rpms[0].name}"], log_file=log, error=ImageBuildError)
    inside.unlink()
    run(["chroot", str(root), "ldconfig"], log_file=log, error=ImageBuildError)


def _unmount_under(root: Path, log: Path) -> None:
    """Unmount anything debootstrap left mounted under ``root`` (before deleting it)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(root) + "/"
    points = [m.split()[1] for m in mounts if len(m.split()) > 1 and (m.split()[1] + "/").startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        with contextlib.suppress(PmrepoError):
            run(["umount", "-l", point], log_file=log, error=ImageBuildError)
