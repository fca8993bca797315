"""Where a spec's code runs on this host: never as root, never with the host's /tmp.

``rpmbuild`` runs a spec's ``%prep``/``%build``/``%install``, and every parse
of a spec (``rpmbuild -bs``, ``rpmspec -q``) runs its ``%(…)`` shell macros.
When pmrepo is root it runs them as the **build user**, in private namespaces,
the way mock runs ``rpmbuild`` as the unprivileged ``mockbuild`` user in its
chroot:

* the build user is ``pmrepo-build`` (``PMREPO_BUILD_USER`` names another),
  a system user without a login shell or home that ``make setup`` creates;
  without it, the invoking ``SUDO_UID``. Never uid 0. The dedicated user comes
  first: a sudo user's own account can read their home (ssh keys, the
  ``~/.netrc`` publishing reads), which a spec outside a chroot could copy;
* ``unshare --mount --net --ipc --pid`` (as root, before privileges are
  dropped): the dependency root's overlays (rpmbuild.py), then a private tmpfs
  on each of ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run/lock`` — the
  places any user can write on the host — with the build tree (under
  ``/var/tmp``) bound back at its own path; no network, no other process to see;
* ``setpriv``: the build user's uid and gid, no supplementary groups, no
  capabilities (bounding set cleared), ``no_new_privs`` (a setuid ``sudo``
  gains nothing);
* ``env -i``: a fresh environment (PATH, the locale, what the backend sets;
  HOME is the build tree) — credentials in pmrepo's own environment
  (``PMREPO_PUBLISH_PASSWORD``…) never reach a build.

The host's build-tree directories stay root's (0700); only the tree of the
job at hand is handed over to the build user, after pmrepo filled it, and
what the build leaves is taken back only as a regular file of the build
user's, opened without following a symlink (``take``): a build that links
its result to ``/etc/shadow`` gets an error, not the file.

When pmrepo is not root, the build runs as the invoking user (that user's
own rights are all it has), with the same fresh environment.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .defaults import BUILD_USER
from .errors import BuildError
from .fsutil import NotRegularFileError, copy_regular
from .owner import owned_name, reap_dirs

__all__ = ["BUILD_USER", "BuildUser", "Sandbox", "build_user"]
#: the directories every user may write on a host: private (tmpfs) in a build's namespace
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
#: what a build keeps of pmrepo's environment (the rest is set by the backend)
ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")
SPEC_TREE_PREFIX = "pmrepo-spec-"  # <SCRATCH>/pmrepo-spec-<owner tag>-XXXXXXXX: a spec parse's tree
#: where private trees of inputs are made: on disk (a /tmp tmpfs would hold linted RPMs in memory)
SCRATCH = Path("/var/tmp")

# Runs as root inside the new namespaces; every path comes from the environment. Order
# matters: the build tree is held open (fd 3) before anything is mounted over its path.
SCRIPT = """set -e
if [ -n "$PMREPO_TOP" ]; then exec 3<"$PMREPO_TOP"; fi
if [ -n "$PMREPO_DIRS" ]; then
    mount -t tmpfs pmrepo-overlay "$PMREPO_OVL"
    for d in $PMREPO_DIRS; do
        mkdir -p "$PMREPO_OVL/$d/upper" "$PMREPO_OVL/$d/work"
        opts="lowerdir=$PMREPO_DEPS/$d:/$d,upperdir=$PMREPO_OVL/$d/upper"
        mount -t overlay "pmrepo-$d" -o "$opts,workdir=$PMREPO_OVL/$d/work" "/$d"
        echo "pmrepo: dependency root overlaid on /$d"
    done
fi
for d in $PMREPO_PRIVATE; do
    mount -t tmpfs -o mode=1777,nosuid,nodev pmrepo-private "$d"
done
if [ -n "$PMREPO_TOP" ]; then
    mkdir -p "$PMREPO_TOP"
    mount --no-canonicalize --bind /proc/self/fd/3 "$PMREPO_TOP"
    exec 3<&-
fi
cd "${PMREPO_TOP:-/}"  # the caller's directory may be under a private one, hidden now
if [ -n "$PMREPO_AS" ]; then echo "pmrepo: building as $PMREPO_AS; private $PMREPO_PRIVATE; no network"; fi
exec "$@"
"""


@dataclass(frozen=True)
class BuildUser:
    name: str
    uid: int
    gid: int


def build_user() -> BuildUser | None:
    """Who builds: None when pmrepo is not root (it builds as itself); else the build user.
    Raises BuildError (one line, with the fix) when there is none."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("PMREPO_BUILD_USER") or BUILD_USER
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        pw = None
    sudo = os.environ.get("SUDO_UID", "")
    if pw is None and sudo.isdigit() and int(sudo) != 0:
        try:
            pw = pwd.getpwuid(int(sudo))
        except KeyError:
            gid = os.environ.get("SUDO_GID", "")
            return BuildUser(f"uid {sudo}", int(sudo), int(gid) if gid.isdigit() else int(sudo))
    if pw is None:
        raise BuildError(
            f"pmrepo runs as root and never builds as root, but there is no build user '{name}' "
            f"(nor SUDO_UID) — fix: run `make setup` (it creates the build user {BUILD_USER}), "
            "or run pmrepo as a non-root user"
        )
    if pw.pw_uid == 0:
        raise BuildError(
            f"build user '{name}' is uid 0 — fix: set PMREPO_BUILD_USER to an unprivileged user, "
            f"or unset it to use {BUILD_USER}"
        )
    return BuildUser(pw.pw_name, pw.pw_uid, pw.pw_gid)


@dataclass(frozen=True)
class Sandbox:
    """One build tree (``top``; None: a spec parse, which reads its spec on stdin) and who
    builds in it (``user``; None: this process)."""

    top: Path | None
    user: BuildUser | None

    @classmethod
    def for_tree(cls, top: Path) -> Sandbox:
        return cls(top, build_user())

    @property
    def tree(self) -> Path:
        if self.top is None:
            raise BuildError("internal: this sandbox has no build tree")
        return self.top

    @property
    def owner_uid(self) -> int:
        return self.user.uid if self.user is not None else os.geteuid()

    def hand_over(self, keep: Sequence[Path] = ()) -> None:
        """Give the build tree, filled by pmrepo, to the build user (``keep``: subtrees that
        stay pmrepo's, read-only to the build). Nothing else can reach the tree yet: its
        parents are pmrepo's own 0700 directories."""
        if self.user is None:
            return
        self.check_reachable()
        uid, gid = self.user.uid, self.user.gid
        os.lchown(self.tree, uid, gid)
        for dirpath, dirnames, filenames in os.walk(self.tree):
            here = Path(dirpath)
            dirnames[:] = [n for n in dirnames if here / n not in keep]
            for name in (*dirnames, *filenames):
                os.lchown(here / name, uid, gid)

    def check_reachable(self) -> None:
        """The build user can enter the tree's parents: those under a private directory are
        made anew in the namespace; the others (the host's) must be open to all (o+x)."""
        private = [Path(d) for d in PRIVATE_DIRS]
        for parent in self.tree.parents:
            if any(parent.is_relative_to(d) for d in private):
                continue
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                raise BuildError(
                    f"{self.tree}: the build user cannot enter {parent} (mode "
                    f"{stat.S_IMODE(os.stat(parent).st_mode):04o}) — fix: set PMREPO_BUILD_TREES to a "
                    "directory under /var/tmp or /tmp, or under directories every user may enter"
                )

    def command(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        overlay: Mapping[str, str] | None = None,
        *,
        quiet: bool = False,
    ) -> tuple[list[str], dict[str, str]]:
        """``argv`` as the build user in the build's namespaces, and the environment for
        :func:`pmrepo.run.run`. ``env`` is the build's own (on top of ENV_KEEP); ``overlay``
        the dependency root's settings (PMREPO_DEPS, PMREPO_OVL, PMREPO_DIRS), if any;
        ``quiet``: no line of pmrepo's in the output (a query's output is parsed)."""
        fresh = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
        fresh.update({"HOME": str(self.top or "/nonexistent"), "TMPDIR": "/tmp"})
        if self.user is not None:
            fresh.update({"USER": self.user.name, "LOGNAME": self.user.name})
        fresh.update(env)
        clean = ["env", "-i", *(f"{k}={v}" for k, v in sorted(fresh.items())), *argv]
        if self.user is None:
            if overlay:
                raise BuildError("internal: a dependency overlay needs root")
            return clean, {}
        drop = [
            "setpriv",
            f"--reuid={self.user.uid}",
            f"--regid={self.user.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
        private = [d for d in PRIVATE_DIRS if os.path.isdir(d)]
        ns_env = {
            "PMREPO_TOP": str(self.top or ""),
            "PMREPO_PRIVATE": " ".join(private),
            "PMREPO_AS": "" if quiet else f"{self.user.name} (uid {self.user.uid})",
            "PMREPO_DIRS": "",
            **(overlay or {}),
        }
        unshare = ["unshare", "--mount", "--propagation", "private", "--net", "--ipc", "--pid", "--fork"]
        return [*unshare, "--mount-proc", "--kill-child", "sh", "-c", SCRIPT, "sh", *drop, *clean], ns_env

    def results(self, under: Path, suffix: str) -> list[Path]:
        """Names ending in ``suffix`` under ``under`` (symlinked directories not entered)."""
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(under):
            found += [Path(dirpath) / n for n in (*filenames, *dirnames) if n.endswith(suffix)]
        return sorted(found)

    def take(self, src: Path, dest: Path) -> Path:
        """Copy a file the build left to ``dest``: only a regular file owned by the build user,
        never through a symlink (``fsutil.copy_regular``); the build's copy stays (the tree is
        removed afterwards)."""
        try:
            return copy_regular(src, dest, owner=self.owner_uid)
        except NotRegularFileError as exc:
            raise BuildError(
                f"{src}: this build result is not a regular file of the build user's (uid "
                f"{self.owner_uid}; {exc.kind}) — fix: the spec must leave its packages as regular files"
            ) from None
        except OSError as exc:
            raise BuildError(
                f"{src}: cannot take this build result ({exc.strerror}; a symlink is never followed) "
                "— fix: the spec must leave its packages as regular files"
            ) from None


@contextlib.contextmanager
def private_tree(prefix: str, groups: Sequence[Sequence[Path]]) -> Iterator[tuple[Sandbox, list[list[Path]]]]:
    """For a command that reads files of pmrepo's and runs what is in them (``rpmspec`` and
    ``rpmlint`` parse a spec and run its ``%(…)`` macros): the sandbox, and the files where the
    build user can read them — each group in its own directory of a private temporary tree
    (``<SCRATCH>/<prefix><owner tag>-XXXXXXXX``, 0700, the build user's), hard-linked when readable
    to all (pmrepo's, read-only to the build user), else copied; removed afterwards, and trees
    of killed runs removed first. Not root: the files themselves."""
    user = build_user()
    if user is None:
        yield Sandbox(None, None), [list(g) for g in groups]
        return
    reap_dirs(SCRATCH, prefix, uids=(user.uid,))  # a killed run's tree is the build user's: it was handed over
    tmp = Path(tempfile.mkdtemp(prefix=owned_name(prefix), dir=SCRATCH))
    try:
        placed: list[list[Path]] = []
        for i, group in enumerate(groups):
            where = tmp / str(i)
            where.mkdir()
            where.chmod(0o755)
            placed.append([_place(f, where / f.name) for f in group])
        os.lchown(tmp, user.uid, user.gid)
        yield Sandbox(tmp, user), placed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _place(src: Path, dest: Path) -> Path:
    try:
        if os.stat(src).st_mode & stat.S_IROTH:
            os.link(src, dest)
            return dest
    except OSError:
        pass  # another file system: a copy
    shutil.copyfile(src, dest)
    dest.chmod(0o644)
    return dest


@contextlib.contextmanager
def spec_parse(spec: Path) -> Iterator[tuple[Sandbox, Path]]:
    """``private_tree`` for one spec parse (``rpmspec``)."""
    with private_tree(SPEC_TREE_PREFIX, [[spec]]) as (box, [[readable]]):
        yield box, readable
