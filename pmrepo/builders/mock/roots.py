"""What the mock backend leaves on the host, and who may write where mock writes.

- ``invoker_access``: mock creates ``--resultdir`` as the invoking user — ``SUDO_UID`` with the
  ``mock`` group when run as root under sudo (mockbuild/uid.py ``setup_uid_manager``,
  buildroot.py ``create_resultdir``) — so a job directory root made is handed to that user for
  the mock call and taken back after it; a directory that user cannot reach is refused up front
  in one line instead of mock's exit 70.
- ``clean_roots``: the explicit clean (``pmrepo mock-clean``): every build root, bootstrap root
  and cache a work directory's runs left — the roots of each stable config in ``<workdir>/mock``,
  found in mock's basedir, each slot through ``mock --scrub=all`` — with what that freed.
"""

from __future__ import annotations

import grp
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...errors import BuildError
from ...run import run


def invoker() -> tuple[int, int] | None:
    """(uid, gid) mock acts as for the caller's files when pmrepo runs as root under sudo
    (SUDO_UID, the ``mock`` group, else SUDO_GID); None when mock acts as the caller itself."""
    if os.geteuid() != 0 or not os.environ.get("SUDO_UID", "").isdigit():
        return None
    uid = int(os.environ["SUDO_UID"])
    if uid == 0:
        return None
    try:
        gid = grp.getgrnam("mock").gr_gid
    except KeyError:
        gid = int(os.environ.get("SUDO_GID") or os.getgid())
    return uid, gid


def _may(st: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Whether (uid, gid) has ``bits`` (of r=4 w=2 x=1) on a file with this stat (no ACLs)."""
    if st.st_uid == uid:
        return (st.st_mode >> 6) & bits == bits
    if st.st_gid == gid:
        return (st.st_mode >> 3) & bits == bits
    return st.st_mode & bits == bits


def unreachable(path: Path, uid: int, gid: int) -> Path | None:
    """The first ancestor of ``path`` that (uid, gid) cannot enter, or None."""
    for parent in reversed(path.resolve().parents):
        if not _may(parent.stat(), uid, gid, 1):
            return parent
    return None


@contextmanager
def invoker_access(outdir: Path) -> Iterator[None]:
    """``outdir`` owned by the invoking user (and the mock group) while mock runs, then given back
    with what mock wrote into it; nothing happens when pmrepo does not run as root under sudo."""
    who = invoker()
    if who is None:
        yield
        return
    uid, gid = who
    blocked = unreachable(outdir, uid, gid)
    if blocked is not None:
        mode = stat.S_IMODE(blocked.stat().st_mode)
        raise BuildError(
            f"{outdir}: mock creates its result directory as the invoking user (SUDO_UID {uid}), who "
            f"cannot enter {blocked} (mode {mode:04o}) — fix: give --workdir a path uid {uid} can reach, "
            "or run pmrepo as that user (a member of the 'mock' group) without sudo"
        )
    before = outdir.stat()
    os.chown(outdir, uid, gid)
    try:
        yield
    finally:
        for entry in outdir.iterdir():
            if entry.lstat().st_uid == uid:
                os.lchown(entry, before.st_uid, before.st_gid)
        os.chown(outdir, before.st_uid, before.st_gid)


# -- the explicit clean ----------------------------------------------------------------

MOCK_BASEDIR, MOCK_CACHE_TOPDIR = Path("/var/lib/mock"), Path("/var/cache/mock")  # mock's defaults
_DEBUG_LINE = re.compile(r"^config_opts\['(basedir|cache_topdir)'\] = '([^'\\]+)'$", re.MULTILINE)


def mock_dirs(output: str) -> tuple[Path, Path]:
    """basedir and cache_topdir from ``mock --debug-config`` output (mock prints only the keys that
    differ from its defaults, with pformat: a plain quoted string for these)."""
    found = dict(_DEBUG_LINE.findall(output))
    return Path(found.get("basedir", MOCK_BASEDIR)), Path(found.get("cache_topdir", MOCK_CACHE_TOPDIR))


def disk_usage(paths: list[Path]) -> tuple[int, bool]:
    """Bytes allocated under ``paths`` (hard links once, symlinks not followed) and whether some
    part could not be read (then the number is a lower bound)."""
    seen: set[tuple[int, int]] = set()
    total, partial = 0, False
    todo = [p for p in paths if os.path.lexists(p)]
    while todo:
        path = todo.pop()
        try:
            st = os.lstat(path)
        except OSError:
            partial = True
            continue
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
        if stat.S_ISDIR(st.st_mode):
            try:
                todo.extend(Path(e.path) for e in os.scandir(path))
            except OSError:
                partial = True
    return total, partial


def human(n: int) -> str:
    """``n`` bytes as B, KiB, MiB or GiB."""
    if n < 1024:
        return f"{n} B"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


@dataclass(frozen=True)
class CleanedRoot:
    """One root's explicit clean: its slots, what existed, what was freed, mock's exits."""

    root: str
    slots: tuple[str, ...]
    paths: tuple[Path, ...]  # what existed before: build roots, bootstraps, the two cache directories
    freed: int
    partial: bool  # some part was unreadable: ``freed`` is a lower bound
    failed: tuple[int, ...]  # non-zero exits of mock --scrub=all


def root_slots(basedir: Path, root: str, slot_re: re.Pattern[str]) -> list[str]:
    """The unique extensions of ``root`` in mock's basedir: ``<root>-<ext>`` and ``<root>-bootstrap-<ext>``."""
    try:
        names = os.listdir(basedir)
    except OSError:
        return []
    slots = set()
    for name in names:
        for prefix in (f"{root}-bootstrap-", f"{root}-"):
            if name.startswith(prefix) and slot_re.match(name[len(prefix) :]):
                slots.add(name[len(prefix) :])
                break
    return sorted(slots)


def clean_root(cfg: Path, mock_cmd: str, slot_re: re.Pattern[str], default_slot: str, log: Path) -> CleanedRoot:
    """``mock --scrub=all`` for every slot of the root whose stable config is ``cfg`` (at least one,
    so that the caches go too); the config is removed when mock removed everything."""
    root = cfg.stem
    res = run([mock_cmd, "-r", str(cfg), "--debug-config"], log_file=log, check=False)
    basedir, cachedir = mock_dirs(res.output)
    slots = root_slots(basedir, root, slot_re) or [default_slot]
    paths = [basedir / f"{root}{kind}-{s}" for s in slots for kind in ("", "-bootstrap")]
    paths += [cachedir / root, cachedir / f"{root}-bootstrap"]
    before, partial_before = disk_usage(paths)
    existed = tuple(p for p in paths if os.path.lexists(p))
    failed = []
    for slot in slots:
        code = run([mock_cmd, "-r", str(cfg), "--uniqueext", slot, "--scrub=all"], log_file=log, check=False)
        if code.returncode != 0:
            failed.append(code.returncode)
    after, partial_after = disk_usage(paths)
    if not failed and res.returncode == 0:
        cfg.unlink()
    return CleanedRoot(
        root, tuple(slots), existed, max(0, before - after), partial_before or partial_after, tuple(failed)
    )


def clean_roots(
    state_dir: Path, mock_cmd: str, uniqueext_prefix: str, log: Path, say: Callable[[str], None]
) -> list[CleanedRoot]:
    """The explicit clean of every root a work directory's runs created (one stable config each)."""
    cfgs = sorted(state_dir.glob("*.cfg")) if state_dir.is_dir() else []
    slot_re = re.compile(rf"{re.escape(uniqueext_prefix)}\d+\Z")
    out = []
    for n, cfg in enumerate(cfgs, 1):
        say(f"mock-clean: {n}/{len(cfgs)} {cfg.stem}")
        out.append(clean_root(cfg, mock_cmd, slot_re, f"{uniqueext_prefix}0", log))
    return out
