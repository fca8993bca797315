"""Publish targets: the mirror roots ``publish`` uploads to, one class per kind (a directory,
rsync over ssh, a WebDAV-style HTTP server), and ``make_target`` that picks one for a URL.

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
                                              Every answer is read bounded:
                                              a listing up to 16 MiB, parsed
                                              with defusedxml; a re-download
                                              up to the uploaded size (+1);
                                              anything else up to 64 KiB;
                                              each within
                                              ``PMREPO_FETCH_DEADLINE``.
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from ..checksums import SUMS_NAME
from ..errors import PublishError
from ..fsutil import sha256_file
from ..httpread import Client, Watchdog
from ..limits import ANSWER_MAX_BYTES, FETCH_DEADLINE_ENV, LISTING_MAX_BYTES, fetch_deadline, fetch_max_bytes
from ..run import run
from .webdav import child_names, read_body

if TYPE_CHECKING:
    import requests

logger = logging.getLogger("pmrepo.publish.upload")

ENV_USER = "PMREPO_PUBLISH_USER"
ENV_PASSWORD = "PMREPO_PUBLISH_PASSWORD"
ENV_SSH = "PMREPO_PUBLISH_SSH"

RELEASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
TOKEN_HEX = 12
HTTP_TIMEOUT = (10.0, 120.0)  # connect, read (seconds)


def staging_re(release_id: str) -> re.Pattern[str]:
    return re.compile(rf"^\.staging-{re.escape(release_id)}-[0-9a-f]{{{TOKEN_HEX}}}\Z")


def old_re(release_id: str) -> re.Pattern[str]:
    return re.compile(rf"^\.old-{re.escape(release_id)}-[0-9a-f]{{{TOKEN_HEX}}}\Z")


def staging_token() -> str:
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
    def hashes(self, staging: str, files: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
        """sha256 of each stored file (missing files absent from the result); ``sizes``: what
        each file's size was when uploaded (a target that downloads stops reading there)."""

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
            raise PublishError(
                f"{a.parent}: the file system cannot exchange directories atomically "
                f"({os.strerror(err)}) — fix: publish to a local file system (ext4, xfs, btrfs, tmpfs)"
            )
        raise PublishError(f"exchanging {a} and {b} failed ({os.strerror(err)}) — fix: check permissions on the mirror")


class DirTarget(Target):
    """A local or NFS-mounted directory; rename(2) is atomic within it."""

    atomic_exchange = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.display = f"{self.root}/"

    def list_root(self) -> set[str]:
        if not self.root.is_dir():
            raise PublishError(
                f"mirror root {self.root} does not exist — fix: create it (or mount it) or check the publish target"
            )
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
            raise PublishError(
                f"{dest}: upload failed ({exc.strerror or exc}) — fix: check space/permissions on the mirror and rerun"
            ) from None

    def hashes(self, staging: str, files: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
        base = self.root / _check_name(staging)
        return {rel: sha256_file(base / rel) for rel in files if (base / rel).is_file()}

    def rename(self, src: str, dst: str) -> None:
        s, d = self.root / _check_name(src), self.root / _check_name(dst)
        if d.exists():
            raise PublishError(f"{d} appeared while publishing — fix: another publish is running; rerun afterwards")
        try:
            os.rename(s, d)
        except OSError as exc:
            raise PublishError(
                f"rename {s} → {d} failed ({exc.strerror}) — fix: check permissions on the mirror"
            ) from None

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

    def __init__(
        self,
        root: str,
        remote: str | None = None,
        port: int | None = None,
        ssh_command: str | None = None,
        log: Path | None = None,
    ) -> None:
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
            raise PublishError(
                f"{what} on {self.display} failed: {last}{where} — fix: check ssh access and the mirror path"
            )
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
            raise PublishError(
                f"rsync to {self.display}{staging}/ exited {res.returncode}: {last}{where} "
                "— fix: rerun (the upload resumes)"
            )

    def hashes(self, staging: str, files: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
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
            raise PublishError(
                f"only one of {ENV_USER}/{ENV_PASSWORD} is set — fix: set both, or neither to use ~/.netrc"
            )
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
    if has_auth and scheme.lower() != "https" and not allowed:
        raise PublishError(
            f"publish credentials ({source}) would be sent in clear text over {scheme}:// to {host} — "
            "fix: use an https:// URL, or pass --allow-insecure-auth on a network you trust"
        )


class HttpTarget(Target):
    """A WebDAV-style HTTP(S) server (PROPFIND, MKCOL, PUT, GET, MOVE, DELETE)."""

    def __init__(
        self,
        root_url: str,
        log: Path | None = None,
        timeout: tuple[float, float] = HTTP_TIMEOUT,
        allow_insecure_auth: bool = False,
        deadline: float | None = None,
        listing_max: int = LISTING_MAX_BYTES,
    ) -> None:
        import requests  # local: only HTTP publishing needs it

        parts = urlsplit(root_url)
        if parts.username or parts.password:
            raise PublishError(
                "publish URL contains credentials — fix: remove them and set "
                f"{ENV_USER}/{ENV_PASSWORD} or a ~/.netrc entry"
            )
        if not parts.hostname:
            raise PublishError(f"publish URL '{root_url}' has no host — fix: use http(s)://host/path/")
        self.root_url = root_url if root_url.endswith("/") else root_url + "/"
        self.display = self.root_url
        self.log = log
        self.timeout = timeout
        self.deadline = fetch_deadline() if deadline is None else deadline  # seconds per answer
        self.listing_max = listing_max
        self.requests = requests
        self.session = requests.Session()
        auth, self.auth_source = _credentials(parts.hostname)
        _refuse_plain_auth(parts.scheme, parts.hostname, auth is not None, self.auth_source, allow_insecure_auth)
        self.session.auth = auth
        self.session.headers["User-Agent"] = "pmrepo-publish"
        self.session.headers["Accept-Encoding"] = "identity"  # bytes as stored: nothing decompressed here
        self.watchdog = Watchdog(self.session)  # the deadline covers a whole answer, its headers too
        # verify's downloads of the upload: this session (its credentials), no redirect followed
        self.client = Client(self.deadline, self.timeout, self.session, self.watchdog, allow_redirects=False)
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

    def request(
        self, method: str, url: str, ok: Iterable[int], what: str, *, keep_open: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send one request; its answer's body is read (at most ANSWER_MAX_BYTES, within the
        deadline) and dropped, unless ``keep_open``: then the caller reads it with ``body``."""
        started = time.monotonic()
        self.watchdog.arm(self.deadline)
        try:
            resp = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs)
        except self.requests.RequestException as exc:
            self.watchdog.disarm()
            self._log(f"{method} {url} -> {type(exc).__name__}")
            if self.watchdog.fired:
                raise PublishError(
                    f"{method} {url}: no complete answer within {self.deadline:.0f}s while {what} — "
                    f"fix: check the mirror, or raise {FETCH_DEADLINE_ENV}"
                ) from None
            reason = type(exc).__name__
            raise PublishError(
                f"{method} {url} failed ({reason}) while {what} — fix: check the mirror, then rerun"
            ) from None
        self._log(f"{method} {url} -> {resp.status_code}")
        if resp.status_code not in ok:
            code = resp.status_code
            if code in (401, 403):
                fix = f"set {ENV_USER}/{ENV_PASSWORD} or a ~/.netrc entry (credentials used: {self.auth_source})"
            else:
                fix = "check the mirror, then rerun"
            resp.close()
            self.watchdog.disarm()
            raise PublishError(f"{method} {url} → HTTP {code} {resp.reason} while {what} — fix: {fix}")
        resp.started = started  # type: ignore[attr-defined]  # the answer's deadline counts from the request
        if not keep_open:
            self.body(resp, ANSWER_MAX_BYTES, what, lambda _block: None)
        return resp

    def _drop(self, resp: requests.Response) -> None:
        """An answer whose body is not wanted (a 404): closed, its deadline off."""
        resp.close()
        self.watchdog.disarm()

    def body(self, resp: requests.Response, limit: int, what: str, sink: Callable[[bytes], None]) -> int:
        """``resp``'s body to ``sink``, bounded (webdav.read_body: ``limit`` bytes, the deadline)."""
        started: float = getattr(resp, "started", time.monotonic())
        return read_body(resp, limit, what, sink, deadline=self.deadline, started=started, watchdog=self.watchdog)

    def list_root(self) -> set[str]:
        resp = self.request(
            "PROPFIND",
            self.root_url,
            ok=(207, 404, 405, 501),
            what="listing the mirror root",
            headers={"Depth": "1", "Content-Type": "application/xml"},
            data=b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>',
            keep_open=True,
        )
        if resp.status_code == 404:
            self._drop(resp)
            raise PublishError(
                f"mirror root {self.root_url} does not exist (HTTP 404) — fix: create it or check the publish target"
            )
        if resp.status_code == 207:
            parts: list[bytes] = []
            self.body(resp, self.listing_max, "listing the mirror root", parts.append)
            return child_names(b"".join(parts), self.root_url)
        self._drop(resp)
        # no PROPFIND: existence checks by HEAD only, stale staging cannot be listed
        self.propfind_supported = False
        logger.warning("%s does not support PROPFIND; stale staging directories cannot be cleaned", self.root_url)
        return set()

    def exists(self, name: str) -> bool:
        resp = self.request("HEAD", self.url(name, SUMS_NAME), ok=(200, 404, 410), what=f"checking {name}")
        return bool(resp.status_code == 200)

    def upload(self, source_dir: Path, files: Sequence[str], staging: str) -> None:
        self.request("MKCOL", self.url(staging, collection=True), ok=(201,), what="creating the staging collection")
        made: set[str] = set()
        for rel in files:
            parts = _check_rel(rel).split("/")[:-1]
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                if sub not in made:
                    self.request(
                        "MKCOL", self.url(staging, sub, collection=True), ok=(201, 405), what=f"creating {sub}/"
                    )
                    made.add(sub)
            path = source_dir / rel
            size = path.stat().st_size
            with open(path, "rb") as fh:
                self.request(
                    "PUT",
                    self.url(staging, rel),
                    ok=(200, 201, 204),
                    what=f"uploading {rel}",
                    data=fh,
                    headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
                )

    def hashes(self, staging: str, files: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
        """Re-download each file and hash it; a body longer than the uploaded size is cut at that
        size + 1 (the hash then differs, one line names the file), each within the deadline."""
        got: dict[str, str] = {}
        for rel in files:
            url = self.url(staging, rel)
            resp = self.request("GET", url, ok=(200, 404), what=f"re-downloading {rel}", keep_open=True)
            if resp.status_code == 404:
                self._drop(resp)
                continue
            h = hashlib.sha256()
            limit = sizes[rel] if sizes is not None and rel in sizes else fetch_max_bytes()
            try:
                self.body(resp, limit, f"verifying {rel}", h.update)
            except PublishError as exc:
                if "larger than" not in str(exc):
                    raise
                raise PublishError(
                    f"{url}: the mirror serves more than the {limit} bytes uploaded — fix: check the mirror's "
                    "storage, then rerun publish"
                ) from None
            got[rel] = h.hexdigest()
        return got

    def rename(self, src: str, dst: str) -> None:
        resp = self.request(
            "MOVE",
            self.url(src, collection=True),
            ok=(201, 204, 412),
            what=f"moving {src} to {dst}",
            headers={"Destination": self.url(dst, collection=True), "Overwrite": "F"},
        )
        if resp.status_code == 412:
            raise PublishError(
                f"{self.url(dst, collection=True)} appeared while publishing "
                "— fix: another publish is running; rerun afterwards"
            )

    def remove(self, name: str) -> None:
        self.request("DELETE", self.url(name, collection=True), ok=(200, 204, 404), what=f"removing {name}")

    def close(self) -> None:
        self.watchdog.disarm()
        self.session.close()


def make_target(target_url: str, log: Path | None = None, allow_insecure_auth: bool = False) -> Target:
    """The Target for a publish URL (see the module docstring)."""
    url = str(target_url).strip()
    if not url:
        raise PublishError(
            "empty publish target — fix: set PUBLISH_TARGET to a directory, ssh://, rsync:// or http(s):// URL"
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "file"):
        if scheme == "file" and parts.netloc not in ("", "localhost"):
            raise PublishError(
                f"{url}: file:// URLs must be local (file:///path) — fix: mount the share and use its path"
            )
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
    raise PublishError(
        f"unsupported publish target scheme '{scheme}://' — fix: use a path, file://, ssh://, rsync:// or http(s)://"
    )
