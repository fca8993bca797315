"""Everything a release run will need, checked before any work starts.

The ``preflight`` command (``make release`` runs it first) calls :func:`check`;
``publish`` asks :func:`problems` the same before it writes anything: the
manifest and its sources, the build backend, the signing key (it must really
sign), the mirror, the container engine and image, and the free disk space
for the work and output directories. Every problem found is one line; all
of them are reported together (:class:`PreflightError`), nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ManifestError, PmrepoError
from ..manifest import Dist, Release

ENV_MIN_FREE = "PMREPO_MIN_FREE_MIB"
DEFAULT_MIN_FREE_MIB = 1024  # work tree + store + output of a release with mock-built binaries


class PreflightError(PmrepoError):
    """One or more things a run needs are missing; ``problems`` has one line each."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Input:
    """What preflight looks at (built by ``Pipeline.preflight_input``)."""

    release: Release
    dists: tuple[Dist, ...]
    workdir: Path
    outdir: Path
    log: Path | None  # the work directory's preflight.log; None: a private temporary one
    # (problems, what is fine) of what build would refuse: sources, specs, the backend; asked only when building
    build_check: Callable[[], tuple[list[str], str]]


@dataclass(frozen=True)
class Needs:
    """What the run about to start will use."""

    build: bool = True  # build/assemble: backend, sources, disk space
    sign: bool = False
    target: str | None = None  # publish target (None: not publishing)
    replace: bool = False
    allow_insecure_auth: bool = False  # publish credentials may go over plain http:// (--allow-insecure-auth)
    container: str = "none"  # engine of the container install test: none, auto, podman, docker
    container_image: str | None = None  # one image for every dist, "local", or None (each dist's image)


def future_date(release: Release) -> ManifestError | None:
    """A release date after today on this host's clock: every package's %changelog and build time
    would lie in the future, which rpmlint refuses after the whole build (None: the date is fine)."""
    today = dt.date.today()
    if release.date <= today:
        return None
    return ManifestError(
        release.path,
        "release.date",
        f"{release.date} is after today ({today} on this host's clock): the packages' %changelog and build "
        "time would be in the future, which rpmlint refuses",
        "write the release's date, today or earlier (set it on the release day)",
    )


def min_free_bytes() -> int:
    raw = os.environ.get(ENV_MIN_FREE, "").strip()
    if not raw:
        return DEFAULT_MIN_FREE_MIB * 1024 * 1024
    if not raw.isdigit():
        raise PreflightError([f"{ENV_MIN_FREE}={raw}: not a whole number of MiB — fix: e.g. {ENV_MIN_FREE}=2048"])
    return int(raw) * 1024 * 1024


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_problems(paths: list[Path], need: int) -> list[str]:
    """``need`` bytes free on the filesystem of each path (one need per filesystem)."""
    seen: set[int] = set()
    out: list[str] = []
    for p in paths:
        base = _existing(p.resolve())
        dev = base.stat().st_dev
        if dev in seen:
            continue
        seen.add(dev)
        free = shutil.disk_usage(base).free
        if free < need:
            out.append(
                f"{p}: {free // 2**20} MiB free on its filesystem, the run needs {need // 2**20} MiB — fix: "
                f"free space, use --workdir/--outdir elsewhere, or set {ENV_MIN_FREE}"
            )
    return out


def signing_problems(log: Path) -> tuple[list[str], str]:
    """The key from $PMREPO_GPG_KEY must exist and really sign (passphrase, agent): a
    throw-away detached signature is made and verified with the exported public key."""
    from ..sign import signer as sign

    try:
        key = sign.key_from_env(log_file=log)
        with tempfile.TemporaryDirectory(prefix="pmrepo-preflight-") as tmp:
            repodata = Path(tmp) / "repodata"
            repodata.mkdir()
            (repodata / "repomd.xml").write_text("<repomd/>\n")
            asc = sign.sign_repomd(repodata, key, log=log)
            pub = sign.export_public_key(key, Path(tmp) / "key.asc", log_file=log)
            sign.verify_detached(repodata / "repomd.xml", asc, pub, log=log)
    except PmrepoError as exc:
        return [f"signing: {exc}"], ""
    return [], f"signing key {key.fingerprint} signs"


def container_problems(inp: Input, engine_choice: str, image: str | None, log: Path) -> tuple[list[str], str]:
    from ..checks.container import ContainerError, ContainerSettings, detect_engine

    settings = ContainerSettings(engine=engine_choice, image=None if image == "local" else image)
    try:
        engine = detect_engine(settings.engine, settings.containers_conf, log)
    except ContainerError as exc:
        return [f"container: {exc}"], ""
    if image == "local":
        from ..checks.container.image.testroot import ImageRecipe, image_is_current

        recipe = ImageRecipe()
        if image_is_current(engine, recipe, log):
            return [], f"{engine.name} with {recipe.ref}"
        if shutil.which("debootstrap") is None:
            return [
                f"container: image {recipe.ref} is not built and debootstrap is missing — fix: run `make setup`"
            ], ""
        return [], f"{engine.name} ({recipe.ref} will be built)"
    out: list[str] = []
    refs = sorted({settings.image_for(d) for d in inp.dists})
    for ref in refs:
        if not ref:
            out.append(
                f"container: {inp.release.path}: a dist has no `image` — fix: set dists.<dist>.image or "
                "pass --container-image"
            )
        elif engine.image_labels(ref, log) is None:
            out.append(
                f"container: image {ref} is not in {engine.name}'s local store — fix: `{engine.name} pull "
                f"{ref}` (or load it), or use --container-image local"
            )
    return out, f"{engine.name} with {', '.join(refs)}"


def problems(inp: Input, needs: Needs) -> tuple[list[str], list[str]]:
    """(problems, what is fine) for the run ``needs`` describes."""
    if inp.log is not None:
        return _probe(inp, needs, inp.log)
    # no work directory yet: a private directory of its own (never a predictable name in the shared
    # /tmp, where a symlink could wait), kept only when a problem's log is worth reading
    private = Path(tempfile.mkdtemp(prefix="pmrepo-preflight-"))
    bad, good = _probe(inp, needs, private / "preflight.log")
    if not bad:
        shutil.rmtree(private, ignore_errors=True)
    return bad, good


def _probe(inp: Input, needs: Needs, log: Path) -> tuple[list[str], list[str]]:
    from concurrent.futures import ThreadPoolExecutor

    # the slow probes (gpg, `podman info`, the mirror) run side by side
    pool = ThreadPoolExecutor(max_workers=3)
    signing = pool.submit(signing_problems, log) if needs.sign else None
    container = (
        pool.submit(container_problems, inp, needs.container, needs.container_image, log)
        if needs.container != "none"
        else None
    )
    mirror = None
    if needs.target:
        from ..publish.upload import preflight as publish_preflight

        mirror = pool.submit(
            publish_preflight,
            needs.target,
            inp.release.release_id,
            replace=needs.replace,
            log=log,
            allow_insecure_auth=needs.allow_insecure_auth,
        )
    pool.shutdown(wait=False)
    bad: list[str] = []
    good: list[str] = []
    if needs.build:
        found, fine = inp.build_check()
        bad += found
        good += [fine] if fine else []
        try:
            need = min_free_bytes()
        except PreflightError as exc:
            bad += exc.problems
        else:
            space = disk_problems([inp.workdir, inp.outdir], need)
            bad += space
            if not space:
                good.append(f"at least {need // 2**20} MiB free for {inp.workdir} and {inp.outdir}")
    for fut in (signing, container):
        if fut is not None:
            found, ok = fut.result()
            bad += found
            good += [ok] if ok else []
    if needs.target is not None:
        if mirror is None:
            bad.append("publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET")
        else:
            found = mirror.result()
            bad += [f"publish: {p}" for p in found]
            if not found:
                good.append(f"mirror {needs.target} reachable")
    return bad, good


def check(inp: Input, needs: Needs) -> list[str]:
    """Raise PreflightError listing every problem; return what was found fine."""
    bad, good = problems(inp, needs)
    if bad:
        raise PreflightError(bad)
    return good
