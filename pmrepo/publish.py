"""Publish a release directory to a mirror, atomically.

``publish(source_dir, target_url, release_id)`` puts ``source_dir`` (e.g.
``repo/<release_id>/`` with ``el6/``, ``el7/``, ``SHA256SUMS``, the notes) at
``<mirror root>/<release_id>/``:

1. check ``source_dir`` against its ``SHA256SUMS`` (every file listed, every
   listed file intact);
2. refuse if ``<release_id>`` already exists on the mirror, unless ``force``;
3. remove stale staging directories of this release left by a failed run
   (the rsync target reuses one instead: rsync then only sends what is missing);
4. upload everything to ``<root>/.staging-<release_id>-<random>/``;
5. verify the sha256 of every file *as stored on the mirror* (hash it in place
   for a directory, ``sha256sum`` over ssh for rsync, re-download with GET
   for HTTP) against ``SHA256SUMS``;
6. switch it into place with one rename (directory, rsync) or WebDAV ``MOVE``
   (``Overwrite: F``). With ``force`` on a directory target the new and the
   old release trade places in one atomic step (``renameat2`` with
   ``RENAME_EXCHANGE``): the mirror never lacks the release; the old one,
   now under the staging name, is deleted afterwards. On rsync and HTTP
   targets the old release is first moved aside to
   ``.old-<release_id>-<random>``, moved back if the switch fails, and
   deleted after it succeeded.

Before any of this, :func:`vouch` checks that the local release directory is
what this manifest built and checked (see there).

A partial upload is therefore never visible under the final name, and a rerun
after any failure starts clean. ``dry_run`` performs only the read-only
checks and returns the plan (list of actions) without changing anything.

Target URLs (the mirror root, which must exist):
    ``/srv/mirror``, ``file:///srv/mirror``   local or NFS directory
    ``ssh://user@host[:port]/srv/mirror``,
    ``rsync://[user@]host[:port]/srv/mirror`` rsync over ssh (``BatchMode``; the
                                              rsync *daemon* protocol is not
                                              used: it cannot rename or hash).
                                              The remote needs sh, mv, rm, ls,
                                              sha256sum and rsync.
                                              ``PMREPO_PUBLISH_SSH`` replaces
                                              the ssh command (e.g. ``ssh -i
                                              key``).
    ``rsync:///srv/mirror``                   the same rsync logic on this host
    ``http(s)://host[:port]/path/``           WebDAV-style server: PROPFIND
                                              (listing), MKCOL, PUT, GET, MOVE,
                                              DELETE. Credentials come from
                                              ``PMREPO_PUBLISH_USER`` and
                                              ``PMREPO_PUBLISH_PASSWORD`` or
                                              ``~/.netrc`` (``NETRC`` overrides
                                              its path) — never from the
                                              manifest or the URL.
"""
from __future__ import annotations

import abc
import ctypes
import errno
import hashlib
import logging
import netrc
import os
import re
import secrets
import shlex
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence
from urllib.parse import quote, unquote, urljoin, urlsplit

from .checksums import NOT_LISTED, SUMS_NAME, list_files, sha256_file, verify_sha256sums
from .errors import PublishError
from .layout import Output
from .records import BuildRecord, RecordError
from .run import run

logger = logging.getLogger("pmrepo.publish")

ENV_USER = "PMREPO_PUBLISH_USER"
ENV_PASSWORD = "PMREPO_PUBLISH_PASSWORD"
ENV_INSECURE_AUTH = "PMREPO_ALLOW_INSECURE_AUTH"  # "1": credentials over plain http:// (--allow-insecure-auth)
ENV_SSH = "PMREPO_PUBLISH_SSH"

RELEASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
TOKEN_HEX = 12
HTTP_TIMEOUT = (10.0, 120.0)  # connect, read (seconds)
CHUNK = 1024 * 1024


def staging_re(release_id: str) -> re.Pattern[str]:
    return re.compile(rf"^\.staging-{re.escape(release_id)}-[0-9a-f]{{{TOKEN_HEX}}}\Z")


def old_re(release_id: str) -> re.Pattern[str]:
    return re.compile(rf"^\.old-{re.escape(release_id)}-[0-9a-f]{{{TOKEN_HEX}}}\Z")


def _token() -> str:
    return secrets.token_hex(TOKEN_HEX // 2)


def _check_name(name: str) -> str:
    """Every name the targets touch is one path component under the root."""
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise PublishError(f"internal: '{name}' is not a single path component")
    return name


def _check_rel(rel: str) -> str:
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in ("..", ".") for p in parts):
        raise PublishError(f"'{rel}' is not a plain relative file name — fix: regenerate {SUMS_NAME}")
    return rel


# --------------------------------------------------------------------------
# the plan

@dataclass(frozen=True)
class Action:
    op: str  # remove | upload | verify | move | swap | remove-old
    name: str  # entry under the mirror root this acts on
    dest: str = ""
    files: tuple[str, ...] = ()
    size: int = 0

    def describe(self, root: str) -> str:
        if self.op == "remove":
            return f"remove stale {root}{self.name}"
        if self.op == "upload":
            return f"upload {len(self.files)} files ({self.size} bytes) to {root}{self.name}/"
        if self.op == "verify":
            return f"verify sha256 of {len(self.files)} files in {root}{self.name}/ against {SUMS_NAME}"
        if self.op == "move":
            return f"move {root}{self.name}/ to {root}{self.dest}/"
        if self.op == "swap":
            return f"replace {root}{self.dest}/ with {root}{self.name}/ (old release moved aside, then deleted)"
        if self.op == "exchange":
            return (f"replace {root}{self.dest}/ with {root}{self.name}/ in one atomic exchange "
                    "(the old release is deleted afterwards)")
        return f"{self.op} {root}{self.name}"


@dataclass
class PublishResult:
    url: str  # where the release is (or would be)
    plan: list[str]
    dry_run: bool
    replaced: bool  # an existing release was replaced (force)
    files: int = 0


# --------------------------------------------------------------------------
# targets

class Target(abc.ABC):
    """A mirror root; names are single path components under it."""

    display: str
    reuse_staging: bool = False

    @abc.abstractmethod
    def list_root(self) -> set[str]:
        """Entries directly under the root (PublishError if the root is missing)."""

    @abc.abstractmethod
    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        """Put ``files`` (relative names) of ``source_dir`` under ``staging``."""

    @abc.abstractmethod
    def hashes(self, staging: str, files: Sequence[str]) -> dict[str, str]:
        """sha256 of each stored file (missing files absent from the result)."""

    @abc.abstractmethod
    def rename(self, src: str, dst: str) -> None:
        """Rename one root entry; fail if ``dst`` exists."""

    @abc.abstractmethod
    def remove(self, name: str) -> None:
        """Delete a root entry and everything below it (missing is fine)."""

    def url_of(self, name: str) -> str:
        return f"{self.display}{name}/"

    #: whether ``exchange`` swaps two entries in one atomic step
    atomic_exchange: bool = False

    def exchange(self, a: str, b: str) -> None:
        """Swap two root entries atomically (targets with ``atomic_exchange``)."""
        raise PublishError(f"internal: {type(self).__name__} cannot exchange entries atomically")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def rename_exchange(a: Path, b: Path) -> None:
    """``renameat2(a, b, RENAME_EXCHANGE)``: both exist before and after; no
    moment in which either name is missing. Linux ≥ 3.15, glibc ≥ 2.28."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fn = libc.renameat2
    except AttributeError:
        raise PublishError("this C library has no renameat2() — fix: publish from a host with glibc ≥ 2.28") from None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise PublishError(f"{a.parent}: the file system cannot exchange directories atomically "
                               f"({os.strerror(err)}) — fix: publish to a local file system (ext4, xfs, btrfs, tmpfs)")
        raise PublishError(f"exchanging {a} and {b} failed ({os.strerror(err)}) — fix: check permissions on the mirror")


class DirTarget(Target):
    """A local or NFS-mounted directory; rename(2) is atomic within it."""

    atomic_exchange = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.display = f"{self.root}/"

    def list_root(self) -> set[str]:
        if not self.root.is_dir():
            raise PublishError(f"mirror root {self.root} does not exist — fix: create it (or mount it) or check the publish target")
        return set(os.listdir(self.root))

    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        dest = self.root / _check_name(staging)
        try:
            dest.mkdir()
            for rel in files:
                target = dest / _check_rel(rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source_dir / rel, target)
                os.chmod(target, 0o644)
                with open(target, "rb") as fh:
                    os.fsync(fh.fileno())
            for d in sorted({(dest / rel).parent for rel in files} | {dest}, key=lambda p: -len(p.parts)):
                fd = os.open(d, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise PublishError(f"{dest}: upload failed ({exc.strerror or exc}) — fix: check space/permissions on the mirror and rerun") from None

    def hashes(self, staging: str, files: Sequence[str]) -> dict[str, str]:
        base = self.root / _check_name(staging)
        return {rel: sha256_file(base / rel) for rel in files if (base / rel).is_file()}

    def rename(self, src: str, dst: str) -> None:
        s, d = self.root / _check_name(src), self.root / _check_name(dst)
        if d.exists():
            raise PublishError(f"{d} appeared while publishing — fix: another publish is running; rerun afterwards")
        try:
            os.rename(s, d)
        except OSError as exc:
            raise PublishError(f"rename {s} → {d} failed ({exc.strerror}) — fix: check permissions on the mirror") from None

    def exchange(self, a: str, b: str) -> None:
        rename_exchange(self.root / _check_name(a), self.root / _check_name(b))

    def remove(self, name: str) -> None:
        p = self.root / _check_name(name)
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
        except OSError as exc:
            raise PublishError(f"cannot remove {p} ({exc.strerror}) — fix: check permissions on the mirror") from None


def _shq(value: str) -> str:
    """The one quoting of a value placed in a shell line (local ``sh -c`` or the
    mirror's shell over ssh): every word the scripts below build goes through it."""
    return shlex.quote(value)


class RsyncTarget(Target):
    """rsync over ssh (``remote`` user@host) or, with ``remote`` None, to a
    local path with the same commands (``sh -c`` instead of ssh)."""

    reuse_staging = True

    def __init__(self, root: str, remote: str | None = None, port: int | None = None,
                 ssh_command: str | None = None, log: Path | None = None) -> None:
        self.root = root.rstrip("/") or "/"
        self.remote = remote
        self.port = port
        self.ssh = shlex.split(ssh_command) if ssh_command else ["ssh"]
        self.log = log
        where = f"{remote}:" if remote else ""
        self.display = f"{where}{self.root}/"

    # command lines (unit-tested without a remote host)
    def ssh_base(self) -> list[str]:
        argv = [*self.ssh, "-o", "BatchMode=yes"]
        if self.port:
            argv += ["-p", str(self.port)]
        return argv

    def shell_argv(self, command: str) -> list[str]:
        if self.remote is None:
            return ["sh", "-c", command]
        return [*self.ssh_base(), "--", self.remote, command]

    def path(self, name: str) -> str:
        return f"{self.root}/{_check_name(name)}" if self.root != "/" else f"/{_check_name(name)}"

    def rsync_argv(self, source_dir: Path, staging: str) -> list[str]:
        argv = ["rsync", "--recursive", "--times", "--delete", "--checksum", "--protect-args", "--chmod=D755,F644"]
        dest = self.path(staging) + "/"
        if self.remote is not None:
            argv += ["--rsh", shlex.join(self.ssh_base())]
            # rsync >= 3.2.4 passes remote args unmodified when protect-args is on
            dest = f"{self.remote}:{dest}"
        argv += ["--", f"{source_dir}/", dest]
        return argv

    def _sh(self, command: str, what: str) -> str:
        res = run(self.shell_argv(command), log_file=self.log, check=False, timeout=600)
        if res.returncode != 0:
            last = res.output.strip().splitlines()[-1] if res.output.strip() else "no output"
            where = f" (log: {self.log})" if self.log else ""
            raise PublishError(f"{what} on {self.display} failed: {last}{where} — fix: check ssh access and the mirror path")
        return res.output

    def list_root(self) -> set[str]:
        q = _shq(self.root)
        say = _shq(f"no such directory: {self.root}")
        out = self._sh(f"test -d {q} || {{ echo {say} >&2; exit 3; }}; cd {q} && ls -1A", "listing the mirror root")
        return {ln for ln in out.splitlines() if ln and "/" not in ln}

    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        res = run(self.rsync_argv(source_dir, staging), log_file=self.log, check=False, timeout=6 * 3600)
        if res.returncode != 0:
            last = res.output.strip().splitlines()[-1] if res.output.strip() else "no output"
            where = f" (log: {self.log})" if self.log else ""
            raise PublishError(f"rsync to {self.display}{staging}/ exited {res.returncode}: {last}{where} — fix: rerun (the upload resumes)")

    def hashes(self, staging: str, files: Sequence[str]) -> dict[str, str]:
        if not files:
            return {}
        names = " ".join(_shq("./" + _check_rel(f)) for f in files)
        out = self._sh(f"cd {_shq(self.path(staging))} && sha256sum -- {names}", "hashing the staged files")
        got: dict[str, str] = {}
        for line in out.splitlines():
            m = re.match(r"^([0-9a-f]{64}) [ *]\./(.+)$", line)
            if m:
                got[m.group(2)] = m.group(1)
        return got

    def rename(self, src: str, dst: str) -> None:
        s, d = _shq(self.path(src)), _shq(self.path(dst))
        say = _shq(f"already exists: {self.path(dst)}")
        self._sh(f"if test -e {d}; then echo {say} >&2; exit 1; fi; mv -- {s} {d}", f"renaming {src} to {dst}")

    def remove(self, name: str) -> None:
        self._sh(f"rm -rf -- {_shq(self.path(name))}", f"removing {name}")


def _credentials(host: str) -> tuple[tuple[str, str] | None, str]:
    """(auth, where it came from) — environment first, then netrc."""
    user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
    if user or password:
        if not (user and password):
            raise PublishError(f"only one of {ENV_USER}/{ENV_PASSWORD} is set — fix: set both, or neither to use ~/.netrc")
        return (user, password), "environment"
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if os.path.isfile(path):
        try:
            entry = netrc.netrc(path).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            raise PublishError(f"{path}: cannot read netrc ({exc}) — fix: correct the file") from None
        if entry and entry[0]:
            return (entry[0], entry[2] or ""), "netrc"
    return None, "none"


def _refuse_plain_auth(scheme: str, host: str, has_auth: bool, source: str, allowed: bool) -> None:
    """Credentials go only over https (or ssh): never in clear text, unless the user says so."""
    allowed = allowed or os.environ.get(ENV_INSECURE_AUTH) == "1"
    if has_auth and scheme.lower() != "https" and not allowed:
        raise PublishError(f"publish credentials ({source}) would be sent in clear text over {scheme}:// to {host} — "
                           "fix: use an https:// URL, or pass --allow-insecure-auth on a network you trust")


class HttpTarget(Target):
    """A WebDAV-style HTTP(S) server (PROPFIND, MKCOL, PUT, GET, MOVE, DELETE)."""

    def __init__(self, root_url: str, log: Path | None = None, timeout: tuple[float, float] = HTTP_TIMEOUT,
                 allow_insecure_auth: bool = False) -> None:
        import requests  # local: only HTTP publishing needs it

        parts = urlsplit(root_url)
        if parts.username or parts.password:
            raise PublishError("publish URL contains credentials — fix: remove them and set "
                               f"{ENV_USER}/{ENV_PASSWORD} or a ~/.netrc entry")
        if not parts.hostname:
            raise PublishError(f"publish URL '{root_url}' has no host — fix: use http(s)://host/path/")
        self.root_url = root_url if root_url.endswith("/") else root_url + "/"
        self.display = self.root_url
        self.root_path = urlsplit(self.root_url).path or "/"
        self.log = log
        self.timeout = timeout
        self.requests = requests
        self.session = requests.Session()
        auth, self.auth_source = _credentials(parts.hostname)
        _refuse_plain_auth(parts.scheme, parts.hostname, auth is not None, self.auth_source, allow_insecure_auth)
        self.session.auth = auth
        self.session.headers["User-Agent"] = "pmrepo-publish"
        self.propfind_supported = True

    def url(self, name: str, rel: str = "", collection: bool = False) -> str:
        path = quote(_check_name(name))
        if rel:
            path += "/" + "/".join(quote(p) for p in _check_rel(rel).split("/"))
        if collection:
            path += "/"
        return urljoin(self.root_url, path)

    def _log(self, line: str) -> None:
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a") as fh:
                fh.write(line + "\n")

    def request(self, method: str, url: str, ok: Iterable[int], what: str, **kwargs):  # -> requests.Response
        try:
            resp = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except self.requests.RequestException as exc:
            self._log(f"{method} {url} -> {type(exc).__name__}")
            reason = type(exc).__name__
            raise PublishError(f"{method} {url} failed ({reason}) while {what} — fix: check the mirror, then rerun") from None
        self._log(f"{method} {url} -> {resp.status_code}")
        if resp.status_code not in ok:
            code = resp.status_code
            if code in (401, 403):
                fix = f"set {ENV_USER}/{ENV_PASSWORD} or a ~/.netrc entry (credentials used: {self.auth_source})"
            else:
                fix = "check the mirror, then rerun"
            resp.close()
            raise PublishError(f"{method} {url} → HTTP {code} {resp.reason} while {what} — fix: {fix}")
        return resp

    def _child_names(self, body: bytes) -> set[str]:
        try:
            tree = ET.fromstring(body)
        except ET.ParseError:
            raise PublishError(f"PROPFIND {self.root_url}: the answer is not XML — fix: the target must be a WebDAV server") from None
        root = self.root_path.rstrip("/")
        names = set()
        for href in tree.iter("{DAV:}href"):
            path = unquote(urlsplit((href.text or "").strip()).path).rstrip("/")
            if path == root or not path.startswith(root + "/"):
                continue
            rest = path[len(root) + 1:]
            if rest and "/" not in rest:
                names.add(rest)
        return names

    def list_root(self) -> set[str]:
        resp = self.request("PROPFIND", self.root_url, ok=(207, 404, 405, 501), what="listing the mirror root",
                            headers={"Depth": "1", "Content-Type": "application/xml"},
                            data=b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>')
        if resp.status_code == 404:
            raise PublishError(f"mirror root {self.root_url} does not exist (HTTP 404) — fix: create it or check the publish target")
        if resp.status_code == 207:
            return self._child_names(resp.content)
        # no PROPFIND: existence checks by HEAD only, stale staging cannot be listed
        self.propfind_supported = False
        logger.warning("%s does not support PROPFIND; stale staging directories cannot be cleaned", self.root_url)
        return set()

    def exists(self, name: str) -> bool:
        resp = self.request("HEAD", self.url(name, SUMS_NAME), ok=(200, 404, 410), what=f"checking {name}")
        return resp.status_code == 200

    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        self.request("MKCOL", self.url(staging, collection=True), ok=(201,), what="creating the staging collection")
        made: set[str] = set()
        for rel in files:
            parts = _check_rel(rel).split("/")[:-1]
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                if sub not in made:
                    self.request("MKCOL", self.url(staging, sub, collection=True), ok=(201, 405), what=f"creating {sub}/")
                    made.add(sub)
            path = source_dir / rel
            size = path.stat().st_size
            with open(path, "rb") as fh:
                self.request("PUT", self.url(staging, rel), ok=(200, 201, 204), what=f"uploading {rel}",
                             data=fh, headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})

    def hashes(self, staging: str, files: Sequence[str]) -> dict[str, str]:
        got: dict[str, str] = {}
        for rel in files:
            url = self.url(staging, rel)
            resp = self.request("GET", url, ok=(200, 404), what=f"re-downloading {rel}", stream=True)
            if resp.status_code == 404:
                resp.close()
                continue
            h = hashlib.sha256()
            try:
                for block in resp.iter_content(CHUNK):
                    h.update(block)
            except self.requests.RequestException as exc:
                raise PublishError(f"GET {url} broke off ({type(exc).__name__}) while verifying — fix: rerun") from None
            finally:
                resp.close()
            got[rel] = h.hexdigest()
        return got

    def rename(self, src: str, dst: str) -> None:
        resp = self.request("MOVE", self.url(src, collection=True), ok=(201, 204, 412), what=f"moving {src} to {dst}",
                            headers={"Destination": self.url(dst, collection=True), "Overwrite": "F"})
        if resp.status_code == 412:
            raise PublishError(f"{self.url(dst, collection=True)} appeared while publishing — fix: another publish is running; rerun afterwards")

    def remove(self, name: str) -> None:
        self.request("DELETE", self.url(name, collection=True), ok=(200, 204, 404), what=f"removing {name}")

    def close(self) -> None:
        self.session.close()


def make_target(target_url: str, log: Path | None = None, allow_insecure_auth: bool = False) -> Target:
    """The Target for a publish URL (see the module docstring)."""
    url = str(target_url).strip()
    if not url:
        raise PublishError("empty publish target — fix: set PUBLISH_TARGET to a directory, ssh://, rsync:// or http(s):// URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "file"):
        if scheme == "file" and parts.netloc not in ("", "localhost"):
            raise PublishError(f"{url}: file:// URLs must be local (file:///path) — fix: mount the share and use its path")
        path = unquote(parts.path) if scheme == "file" else url
        return DirTarget(Path(path))
    if scheme in ("ssh", "rsync"):
        if parts.password:
            raise PublishError(f"{scheme}:// URL contains a password — fix: use ssh keys")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise PublishError(f"{url}: needs an absolute path on the mirror — fix: {scheme}://host/srv/mirror")
        if not parts.hostname:
            if scheme == "ssh":
                raise PublishError(f"{url}: no host — fix: ssh://user@host/path")
            return RsyncTarget(path, None, log=log)
        remote = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
        return RsyncTarget(path, remote, parts.port, os.environ.get(ENV_SSH), log=log)
    if scheme in ("http", "https"):
        return HttpTarget(url, log=log, allow_insecure_auth=allow_insecure_auth)
    raise PublishError(f"unsupported publish target scheme '{scheme}://' — fix: use a path, file://, ssh://, rsync:// or http(s)://")


# --------------------------------------------------------------------------
# publish

def refuse_unshippable(source_dir: Path) -> None:
    """A dist built with BuildRequires assumed from the build host (rpmbuild
    --host-buildrequires) is marked ``"shippable": false`` in its build.json:
    it never reaches a mirror."""
    for out in (Output(d) for d in sorted(Path(source_dir).iterdir()) if d.is_dir()):
        meta_path = out.build_json
        if not meta_path.is_file():
            continue
        try:
            meta = BuildRecord.read(meta_path)
        except RecordError:
            raise PublishError(f"{meta_path}: unreadable build record — fix: rebuild the release") from None
        if not meta.shippable:
            raise PublishError(f"{meta_path}: not shippable ({meta.not_shippable or 'marked so by the build'}) "
                               "— fix: rebuild with --backend mock, or with rpmbuild on a host that has the "
                               "BuildRequires installed, without --host-buildrequires")


def _source_files(source_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Files to upload and their expected sha256 (from SHA256SUMS, plus the
    sums file itself and its signature, hashed here)."""
    if not source_dir.is_dir():
        raise PublishError(f"{source_dir}: no such release directory — fix: build the release first")
    if not (source_dir / SUMS_NAME).is_file():
        raise PublishError(f"{source_dir / SUMS_NAME}: missing — fix: write checksums first (build.py sign / write_sha256sums)")
    sums = verify_sha256sums(source_dir, error=PublishError)
    present = list_files(source_dir)
    unlisted = [f for f in present if f not in sums]
    if unlisted:
        raise PublishError(f"{source_dir / unlisted[0]}: not listed in {SUMS_NAME} — fix: regenerate {SUMS_NAME} or remove the file")
    expected = dict(sums)
    for name in sorted(NOT_LISTED):
        if (source_dir / name).is_file():
            expected[name] = sha256_file(source_dir / name)
    return sorted(expected), expected


def plan_actions(target: Target, release_id: str, files: Sequence[str], size: int, force: bool) -> tuple[list[Action], bool, str]:
    """(actions, replaces an existing release, staging name) from read-only checks."""
    entries = target.list_root()
    exists = release_id in entries
    if not exists and isinstance(target, HttpTarget) and not target.propfind_supported:
        exists = target.exists(release_id)
    if exists and not force:
        raise PublishError(f"release {release_id} is already published at {target.url_of(release_id)} — "
                           "fix: bump the release, or pass --replace (build.py publish) to replace it")
    stale = sorted(e for e in entries if staging_re(release_id).match(e))
    actions: list[Action] = []
    staging = f".staging-{release_id}-{_token()}"
    if stale and target.reuse_staging:
        staging, stale = stale[0], stale[1:]
    actions += [Action("remove", s) for s in stale]
    actions.append(Action("upload", staging, files=tuple(files), size=size))
    actions.append(Action("verify", staging, files=tuple(files)))
    if exists:
        actions.append(Action("exchange" if target.atomic_exchange else "swap", staging, dest=release_id))
    else:
        actions.append(Action("move", staging, dest=release_id))
    old = sorted(e for e in entries if old_re(release_id).match(e))
    actions += [Action("remove-old", o) for o in old]
    return actions, exists, staging


def _remove_quietly(target: Target, name: str) -> None:
    """Delete what the switch left aside; the release is already in place, so
    a failure here only warns (a later publish of the release removes it)."""
    try:
        target.remove(name)
    except PublishError as exc:
        logger.warning("could not remove %s%s: %s", target.display, name, exc)


def _execute(target: Target, source_dir: Path, action: Action, expected: dict[str, str]) -> None:
    if action.op == "remove":
        target.remove(action.name)
    elif action.op == "remove-old":  # leftovers of an earlier forced run; the release is in place
        _remove_quietly(target, action.name)
    elif action.op == "upload":
        target.upload(source_dir, action.files, action.name)
    elif action.op == "verify":
        got = target.hashes(action.name, action.files)
        for rel in action.files:
            if rel not in got:
                raise PublishError(f"{target.display}{action.name}/{rel}: missing after upload — fix: rerun publish")
            if got[rel] != expected[rel]:
                raise PublishError(f"{target.display}{action.name}/{rel}: sha256 {got[rel][:16]}… on the mirror differs "
                                   f"from {SUMS_NAME} ({expected[rel][:16]}…) — fix: rerun publish; check the mirror's storage")
    elif action.op == "move":
        target.rename(action.name, action.dest)
    elif action.op == "exchange":
        target.exchange(action.name, action.dest)  # the new release is in place; the old one has the staging name
        _remove_quietly(target, action.name)
    elif action.op == "swap":
        old = f".old-{action.dest}-{_token()}"
        target.rename(action.dest, old)
        try:
            target.rename(action.name, action.dest)
        except PublishError:
            try:
                target.rename(old, action.dest)
            except PublishError:
                logger.error("could not move %s back to %s on %s", old, action.dest, target.display)
            raise
        _remove_quietly(target, old)
    else:  # pragma: no cover - plan_actions makes only the above
        raise PublishError(f"internal: unknown publish action {action.op}")


def publish(
    source_dir: Path,
    target_url: str,
    release_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    log: Path | None = None,
    echo: Callable[[str], None] | None = None,
    allow_insecure_auth: bool = False,
) -> PublishResult:
    """Publish ``source_dir`` as ``<target>/<release_id>/`` (see module doc).

    ``log`` is a file that receives the commands/requests made; ``echo``
    receives each plan line (default: printed for a dry run, else the
    ``pmrepo.publish`` logger)."""
    if not RELEASE_ID_RE.match(release_id or ""):
        raise PublishError(f"release id '{release_id}' is not a plain name — fix: use <name>-<version>-<release>")
    source_dir = Path(source_dir)
    refuse_unshippable(source_dir)
    say = echo or (print if dry_run else logger.info)
    files, expected = _source_files(source_dir)
    size = sum((source_dir / f).stat().st_size for f in files)
    target = make_target(target_url, log=log, allow_insecure_auth=allow_insecure_auth)
    try:
        actions, exists, _staging = plan_actions(target, release_id, files, size, force)
        root = target.display
        plan = [a.describe(root) for a in actions]
        prefix = "[dry-run] would " if dry_run else ""
        for line in plan:
            say(prefix + line)
        result = PublishResult(url=target.url_of(release_id), plan=plan, dry_run=dry_run, replaced=exists, files=len(files))
        if dry_run:
            return result
        started = time.monotonic()
        for action in actions:
            _execute(target, source_dir, action, expected)
        say(f"published {release_id} ({len(files)} files, {size} bytes) to {result.url} in {time.monotonic() - started:.1f}s")
        return result
    finally:
        target.close()


# --------------------------------------------------------------------------
# what publish vouches for

def vouch(source_dir: Path, release_key: str, manifest: Path, dists: Sequence[str], *,
          required: Sequence[str] | None = None, allow_unchecked: bool = False) -> dict[str, list[str]]:
    """Refuse (one line) unless ``source_dir`` (``repo/<release_id>/``) holds
    exactly the outputs of the manifest whose key is ``release_key``:

    * every directory in it is one of ``dists`` (the manifest's), each of
      ``required`` (default: all of them) is there, and each has a ``build.json``
      recording that key (a tree left by another manifest, or by this one
      before an edit, is refused);
    * every output's checks ran and passed: ``build.json`` lists none as
      unchecked, unless ``allow_unchecked``;
    * every RPM in a dist directory is in its ``build.json`` with that very
      sha256, and every file ``build.json`` lists is there.

    Returns {dist: checks that did not run} (non-empty only with ``allow_unchecked``)."""
    rebuild = f"fix: rebuild with `./build.py all --release {manifest}`"
    if not source_dir.is_dir():
        raise PublishError(f"{source_dir}: no such release directory — {rebuild}")
    unchecked: dict[str, list[str]] = {}
    for entry in sorted(source_dir.iterdir()):
        if entry.is_dir() and entry.name not in dists:
            raise PublishError(f"{entry}: not a dist of {manifest} (dists: {', '.join(dists)}) — fix: remove it, "
                               "it is left over from another build")
    present = [d for d in dists if (source_dir / d).is_dir()]
    for dist in sorted(set(present) | set(dists if required is None else required), key=list(dists).index):
        out = Output(source_dir / dist)
        meta_path = out.build_json
        try:
            meta = BuildRecord.read(meta_path)
        except RecordError:
            raise PublishError(f"{meta_path}: missing or unreadable — {rebuild}") from None
        if meta.release_key != release_key:
            built = meta.manifest or "an unknown manifest"
            raise PublishError(f"{out.root}: built from {built} with a different content than {manifest} "
                               f"(release key {str(meta.release_key)[:12]}… ≠ {release_key[:12]}…) — {rebuild}")
        skipped = list(meta.unchecked) if meta.unchecked is not None else ["(no record of its checks)"]
        if skipped and not allow_unchecked:
            raise PublishError(f"{out.root}: built without {', '.join(skipped)} — fix: rebuild with the checks, "
                               "or pass --allow-unchecked (the release notes then say so)")
        if skipped:
            unchecked[dist] = skipped
        files = meta.files
        present_rpms = {p.name for p in out.rpms()}
        for name in sorted(present_rpms | set(files)):
            if name not in files:
                raise PublishError(f"{out.root / name}: not recorded in {meta_path} — fix: remove it or rebuild")
            if name not in present_rpms:
                raise PublishError(f"{out.root / name}: recorded in {meta_path} but missing — {rebuild}")
            got = sha256_file(out.root / name)
            if got != files[name].sha256:
                raise PublishError(f"{out.root / name}: sha256 {got[:16]}… differs from {meta_path} — {rebuild}")
    return unchecked


# --------------------------------------------------------------------------
# preflight

def preflight(target_url: str, release_id: str, *, replace: bool = False, log: Path | None = None) -> list[str]:
    """What publishing ``release_id`` to ``target_url`` needs from the mirror,
    checked without changing anything there: one line per problem (none: ready)."""
    try:
        target = make_target(target_url, log)
        try:
            names = target.list_root()
        finally:
            target.close()
    except PublishError as exc:
        return [str(exc)]
    if isinstance(target, DirTarget) and not os.access(target.root, os.W_OK | os.X_OK):
        return [f"mirror root {target.root} is not writable — fix: check its permissions or the publish target"]
    if release_id in names and not replace:
        return [f"release {release_id} is already published at {target.url_of(release_id)} — fix: pass --replace "
                "to replace it, or publish a new release"]
    return []
