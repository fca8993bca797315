"""GPG signatures that el6 (rpm 4.8) and el7 (rpm 4.11) verify.

* RPMs: ``rpmsign --addsign`` with an RSA *primary* key (el7 cannot verify a
  signature made by a subkey; el6 verifies DSA only with SHA1 and no ECC) and
  an explicit SHA256 digest. Debian's rpm macros point ``%__gpg`` at the
  missing ``/usr/bin/gpg2``, so ``__gpg`` is always defined to ``gpg``.
* Repository metadata: ``repodata/repomd.xml.asc``, a detached ASCII-armored
  SHA256 signature (clients use ``repo_gpgcheck=1`` and ``gpgkey=``).
* Verification never trusts an exit code alone: ``rpm -Kv`` runs against a
  *fresh* temporary rpmdb holding only the given public key and every package
  must show an OK signature line by that key (an unsigned package also exits
  0 with "digests OK"); ``gpg --verify`` runs in a fresh keyring and its
  ``VALIDSIG`` status line must name that key and SHA256.

Key selection in production (:func:`key_from_env`)
    ``PMREPO_GPG_KEY``              fingerprint, key id or user id of the signing
                                    key (required for signing).
    ``GNUPGHOME``                   keyring holding its secret key (default
                                    ``~/.gnupg``); keep it outside the work tree.
    ``PMREPO_GPG_PASSPHRASE_FILE``  optional file holding the key's passphrase
                                    (CI); without it gpg-agent must already
                                    have the passphrase or be able to ask.

The key must be an RSA primary key of at least 2048 bits; it is always
selected with ``<fingerprint>!`` so gpg never substitutes a subkey.

No private key material is logged or written into the work tree: keyrings
made here are temporary directories outside the repository (``tempfile``),
only public keys are exported, and the logs record command lines (which name
the key's fingerprint and the passphrase *file*, never a secret).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import rpmfile
from ..errors import SigningError
from ..fsutil import NotRegularFileError, check_regular
from ..run import require_tool, run

log = logging.getLogger("pmrepo.sign.signer")

GPG = "/usr/bin/gpg" if os.path.exists("/usr/bin/gpg") else "gpg"
MIN_RSA_BITS = 2048
DIGEST = "sha256"
GPG_DIGEST = "SHA256"
GPG_HASH_ALGO_SHA256 = "8"  # RFC 4880 hash algorithm id, as in VALIDSIG
GPG_PUBKEY_ALGO_RSA = ("1", "2", "3")  # RSA (sign+encrypt), RSA encrypt-only, RSA sign-only

SIGN_TIMEOUT = 3600.0  # seconds; a pinentry waiting for a human must not hang CI forever

ENV_KEY = "PMREPO_GPG_KEY"
ENV_PASSPHRASE_FILE = "PMREPO_GPG_PASSPHRASE_FILE"


@dataclass(frozen=True)
class Key:
    """A signing key: its primary fingerprint and the keyring holding it."""

    fingerprint: str  # 40 hex digits, upper case
    uid: str
    gnupghome: Path
    passphrase_file: Path | None = None

    @property
    def selector(self) -> str:
        """The primary key exactly (the ``!`` stops gpg from picking a subkey)."""
        return f"{self.fingerprint}!"


# --------------------------------------------------------------------------
# keyrings


def _kill_agent(gnupghome: Path) -> None:
    """Stop the gpg-agent that gpg started for *this* keyring only."""
    if shutil.which("gpgconf"):
        run(["gpgconf", "--homedir", str(gnupghome), "--kill", "all"], check=False)


@contextlib.contextmanager
def temporary_gnupghome(prefix: str = "pmrepo-gpg-") -> Iterator[Path]:
    """A private keyring in the system temp dir (short path: gpg-agent's socket
    lives in it), removed with its agent afterwards."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(home, 0o700)
    try:
        yield home
    finally:
        _kill_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def _gpg(gnupghome: Path, *args: str) -> list[str]:
    return [GPG, "--homedir", str(gnupghome), "--batch", "--no-tty", *args]


def _secret_keys(gnupghome: Path, selector: str | None, log_file: Path | None) -> list[dict[str, str]]:
    """Primary secret keys from ``gpg --list-secret-keys --with-colons``."""
    args = _gpg(gnupghome, "--with-colons", "--fixed-list-mode", "--list-secret-keys")
    if selector:
        args.append(selector)
    res = run(args, log_file=log_file, check=False)
    keys: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in res.output.splitlines():
        f = line.split(":")
        if f[0] == "sec":
            current = {
                "validity": f[1],
                "expires": f[6] if len(f) > 6 else "",
                "algo": f[3],
                "bits": f[2],
                "caps": f[11] if len(f) > 11 else "",
                "fpr": "",
                "uid": "",
                "subkeys": "0",
            }
            keys.append(current)
        elif f[0] == "ssb" and current is not None:
            current["subkeys"] = str(int(current["subkeys"]) + 1)
        elif f[0] == "fpr" and current is not None and not current["fpr"]:
            current["fpr"] = f[9].upper()
        elif f[0] == "uid" and current is not None and not current["uid"]:
            current["uid"] = f[9]
    return keys


def _check_key(key: dict[str, str], where: str) -> None:
    expires = int(key["expires"]) if key.get("expires", "").isdigit() else None
    if key.get("validity") == "e" or (expires is not None and expires <= time.time()):
        when = time.strftime("%Y-%m-%d", time.gmtime(expires)) if expires is not None else "an earlier date"
        raise SigningError(
            f"{where}: key {key['fpr']} expired on {when} (gpg would only say 'Unusable secret key') — fix: "
            f"extend it (gpg --quick-set-expire {key['fpr']} 2y), then ship its public key again; or use another key"
        )
    if key.get("validity") == "r":
        raise SigningError(f"{where}: key {key['fpr']} is revoked — fix: use another signing key")
    if key["algo"] not in GPG_PUBKEY_ALGO_RSA:
        raise SigningError(
            f"{where}: key {key['fpr']} is not RSA (algorithm {key['algo']}) "
            "— fix: use an RSA primary key (el6 verifies DSA only with SHA1, no ECC)"
        )
    if int(key["bits"] or 0) < MIN_RSA_BITS:
        raise SigningError(
            f"{where}: key {key['fpr']} has {key['bits']} bits — fix: use an RSA key of at least {MIN_RSA_BITS} bits"
        )
    if "s" not in key["caps"].lower():
        raise SigningError(
            f"{where}: primary key {key['fpr']} cannot sign — fix: use a key whose primary key has the sign capability"
        )


def key_from_env(env: dict[str, str] | None = None, *, log_file: Path | None = None) -> Key:
    """The production signing key: ``PMREPO_GPG_KEY`` in ``GNUPGHOME``."""
    env = dict(os.environ if env is None else env)
    selector = env.get(ENV_KEY, "").strip()
    if not selector:
        raise SigningError(
            f"{ENV_KEY} is not set — fix: export {ENV_KEY}=<fingerprint of the RSA signing key> (and GNUPGHOME)"
        )
    home = Path(env.get("GNUPGHOME") or Path.home() / ".gnupg")
    if not home.is_dir():
        raise SigningError(
            f"GNUPGHOME {home} does not exist — fix: point GNUPGHOME at the keyring holding the signing key"
        )
    keys = _secret_keys(home, selector, log_file)
    if len(keys) != 1:
        found = "no secret key" if not keys else f"{len(keys)} secret keys"
        raise SigningError(
            f"{ENV_KEY}={selector}: {found} in {home} — fix: set {ENV_KEY} to one key's full fingerprint"
        )
    _check_key(keys[0], f"{ENV_KEY}={selector}")
    pp = env.get(ENV_PASSPHRASE_FILE)
    passphrase_file = Path(pp) if pp else None
    if passphrase_file is not None:
        try:  # gpg reads it: a FIFO or device would make it wait or read what it should not
            check_regular(passphrase_file, follow=True)
        except (OSError, NotRegularFileError) as exc:
            why = "no such file" if isinstance(exc, FileNotFoundError) else str(exc).removeprefix(f"{pp}: ")
            raise SigningError(
                f"{ENV_PASSPHRASE_FILE}={pp}: {why} — fix: point it at the regular file holding the passphrase"
            ) from None
        _check_private(passphrase_file, pp or "")
    return Key(fingerprint=keys[0]["fpr"], uid=keys[0]["uid"], gnupghome=home, passphrase_file=passphrase_file)


def _check_private(path: Path, shown: str) -> None:
    """The passphrase file is readable by its owner only (as ssh wants of a private key): a file
    other users can read, or change, gives away or replaces the signing key's passphrase."""
    st = path.stat()
    if st.st_mode & 0o077:
        raise SigningError(
            f"{ENV_PASSPHRASE_FILE}={shown}: mode {stat.S_IMODE(st.st_mode):04o} lets other users read or "
            f"change the passphrase — fix: chmod 600 {shown}"
        )
    if st.st_uid != os.geteuid():
        raise SigningError(
            f"{ENV_PASSPHRASE_FILE}={shown}: owned by uid {st.st_uid}, not by you (uid {os.geteuid()}) — fix: "
            "keep the passphrase in a file of your own, mode 600"
        )


def export_public_key(key: Key, dest: Path, *, log_file: Path | None = None) -> Path:
    """Write the ASCII-armored *public* key to ``dest`` (atomically)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    run(
        _gpg(
            key.gnupghome,
            "--armor",
            "--export-options",
            "export-minimal",
            "--output",
            str(tmp),
            "--export",
            key.selector,
        ),
        log_file=log_file,
        error=SigningError,
    )
    text = tmp.read_text(errors="replace") if tmp.exists() else ""
    if "BEGIN PGP PUBLIC KEY BLOCK" not in text or "PRIVATE" in text:
        tmp.unlink(missing_ok=True)
        raise SigningError(
            f"{dest}: gpg exported no public key for {key.fingerprint} — fix: check {ENV_KEY} and GNUPGHOME"
        )
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)
    return dest


def _passphrase_args(key: Key) -> list[str]:
    if key.passphrase_file is None:
        return []
    if any(c.isspace() or c in "'\"\\" for c in str(key.passphrase_file)):
        raise SigningError(
            f"{ENV_PASSPHRASE_FILE}={key.passphrase_file}: path has blanks or quotes — fix: move the file"
        )
    return ["--pinentry-mode", "loopback", "--passphrase-file", str(key.passphrase_file)]


# --------------------------------------------------------------------------
# signing


def rpmsign_defines(key: Key, gnupghome: Path | None = None) -> list[str]:
    """``--define`` arguments making ``rpmsign`` use ``key`` with SHA256."""
    home = Path(gnupghome or key.gnupghome)
    extra = " ".join(["--batch", "--no-tty", *_passphrase_args(key)])
    defines = {
        "_gpg_name": key.selector,
        "_gpg_path": str(home),
        "__gpg": GPG,
        "_gpg_digest_algo": DIGEST,
        "_gpg_sign_cmd_extra_args": extra,
    }
    out: list[str] = []
    for name, value in defines.items():
        out += ["--define", f"{name} {value}"]
    return out


def sign_rpms(
    rpms: Sequence[Path], key: Key, gnupghome: Path | None = None, log: Path | None = None, *, rpmv3: bool = False
) -> None:
    """Sign ``rpms`` in place (``rpmsign --addsign``; ``rpmv3`` adds the legacy
    header+payload signature too). Verify afterwards with :func:`verify_rpms`."""
    if not rpms:
        return
    require_tool("rpmsign", "install the rpm package")
    for rpm in rpms:
        if not Path(rpm).is_file():
            raise SigningError(f"{rpm}: no such package to sign — fix: build it first")
    argv = ["rpmsign", "--addsign", *rpmsign_defines(key, gnupghome)]
    if rpmv3:
        argv.append("--rpmv3")
    argv += [str(p) for p in rpms]
    run(
        argv, log_file=log, error=SigningError, env={"GNUPGHOME": str(gnupghome or key.gnupghome)}, timeout=SIGN_TIMEOUT
    )


def strip_signatures(rpms: Sequence[Path], log: Path | None = None) -> None:
    """Remove the OpenPGP signatures of those of ``rpms`` that carry one (``rpmsign --delsign``;
    header and payload, the build, stay as they are): an unsigned release ships none, also of a
    build it took from a signed previous release (``pmrepo.schedule.reuse``)."""
    signed = []
    for rpm in rpms:
        try:
            if rpmfile.layout(Path(rpm)).signed:
                signed.append(Path(rpm))
        except rpmfile.RpmFileError:
            continue  # not an RPM: createrepo_c and the checks say so
    if signed:
        require_tool("rpmsign", "install the rpm package")
        run(["rpmsign", "--delsign", *map(str, signed)], log_file=log, error=SigningError)


def sign_detached(
    data: Path, key: Key, out: Path, *, armor: bool = True, gnupghome: Path | None = None, log: Path | None = None
) -> Path:
    """Write ``out``, a detached SHA256 signature of ``data`` by ``key`` (ASCII-armored unless
    ``armor`` is false), atomically. Verify it with :func:`verify_detached`."""
    data, out = Path(data), Path(out)
    if not data.is_file():
        raise SigningError(f"{data}: no such file to sign — fix: write it first")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.unlink(missing_ok=True)
    home = Path(gnupghome or key.gnupghome)
    run(
        _gpg(
            home,
            *_passphrase_args(key),
            "--local-user",
            key.selector,
            "--digest-algo",
            GPG_DIGEST,
            *(["--armor"] if armor else []),
            "--detach-sign",
            "--output",
            str(tmp),
            str(data),
        ),
        log_file=log,
        error=SigningError,
        timeout=SIGN_TIMEOUT,
    )
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return out


def sign_repomd(repodata_dir: Path, key: Key, gnupghome: Path | None = None, log: Path | None = None) -> Path:
    """Write ``repodata/repomd.xml.asc`` (detached, armored, SHA256)."""
    repodata_dir = Path(repodata_dir)
    repomd = repodata_dir / "repomd.xml"
    if not repomd.is_file():
        raise SigningError(f"{repomd}: no such file — fix: run createrepo_c for this repository first")
    return sign_detached(repomd, key, repodata_dir / "repomd.xml.asc", gnupghome=gnupghome, log=log)


# --------------------------------------------------------------------------
# verification

_KEYID_LINE = re.compile(r"Signature, key ID ([0-9a-fA-F]+): (.+)$")


@dataclass(frozen=True)
class RpmSignature:
    path: str
    ok: bool
    reason: str


def _parse_rpm_kv(output: str, paths: Sequence[str], key_ids: set[str]) -> list[RpmSignature]:
    """Judge each package from ``rpm -Kv`` output (blocks ``path:`` + indented lines)."""
    blocks: dict[str, list[str]] = {p: [] for p in paths}
    seen: set[str] = set()
    current: str | None = None
    for line in output.splitlines():
        if not line.startswith((" ", "\t")) and line.endswith(":") and line[:-1] in blocks:
            current = line[:-1]
            seen.add(current)
            continue
        if current is not None and line.startswith((" ", "\t")):
            blocks[current].append(line.strip())
        else:
            current = None
    checks = []
    for p in paths:
        lines = blocks[p]
        if p not in seen:
            checks.append(RpmSignature(p, False, "rpm could not read it"))
            continue
        sigs = [m for m in (_KEYID_LINE.search(ln) for ln in lines) if m]
        digest_bad = [ln for ln in lines if not ln.endswith(": OK") and not _KEYID_LINE.search(ln)]
        foreign = [m for m in sigs if m.group(1).lower() not in key_ids]
        sig_bad = [m for m in sigs if m.group(2) != "OK"]
        if digest_bad:
            checks.append(RpmSignature(p, False, digest_bad[0]))
        elif not sigs:
            checks.append(RpmSignature(p, False, "not signed"))
        elif foreign:
            checks.append(
                RpmSignature(p, False, f"signed by key {foreign[0].group(1)}, not by {'/'.join(sorted(key_ids))}")
            )
        elif sig_bad:
            checks.append(RpmSignature(p, False, sig_bad[0].group(0)))
        else:
            checks.append(RpmSignature(p, True, "OK"))
    return checks


def check_rpms(rpms: Sequence[Path], pubkey: Path, log: Path | None = None) -> list[RpmSignature]:
    """``rpm -Kv`` every package against ``pubkey`` imported into a fresh rpmdb: one verdict per
    package (unsigned, signed by another key, digest or signature not OK), none raised."""
    if not rpms:
        return []
    pubkey = Path(pubkey)
    if not pubkey.is_file():
        raise SigningError(f"{pubkey}: no such public key — fix: export it with export_public_key")
    require_tool("rpm", "install the rpm package")
    with tempfile.TemporaryDirectory(prefix="pmrepo-rpmdb-") as tmp:
        db = str(Path(tmp) / "db")
        run(["rpm", "--dbpath", db, "--initdb"], log_file=log, error=SigningError)
        run(["rpm", "--dbpath", db, "--import", str(pubkey)], log_file=log, error=SigningError)
        res = run(["rpm", "--dbpath", db, "-q", "gpg-pubkey", "--qf", "%{VERSION}\n"], log_file=log, error=SigningError)
        key_ids = {ln.strip().lower() for ln in res.output.splitlines() if re.fullmatch(r"[0-9a-fA-F]{8}", ln.strip())}
        if not key_ids:
            raise SigningError(f"{pubkey}: rpm imported no key from it — fix: export an armored public key")
        paths = [str(p) for p in rpms]
        res = run(["rpm", "--dbpath", db, "-Kv", *paths], log_file=log, check=False)
    checks = _parse_rpm_kv(res.output, paths, key_ids)
    if res.returncode != 0 and all(c.ok for c in checks):  # never trust parsing over rpm's own verdict
        checks[0] = RpmSignature(paths[0], False, f"rpm -K exited {res.returncode}")
    return checks


def verify_rpms(rpms: Sequence[Path], pubkey: Path, log: Path | None = None) -> list[RpmSignature]:
    """:func:`check_rpms`, raising SigningError naming the packages that are unsigned, signed
    by another key, or whose digest/signature is not OK."""
    checks = check_rpms(rpms, pubkey, log)
    failed = [c for c in checks if not c.ok]
    if failed:
        shown = "; ".join(f"{Path(c.path).name}: {c.reason}" for c in failed[:5])
        more = f" (+{len(failed) - 5} more)" if len(failed) > 5 else ""
        where = f" (log: {log})" if log else ""
        raise SigningError(
            f"{len(failed)} of {len(checks)} package(s) fail verification against {Path(pubkey).name}: "
            f"{shown}{more}{where} — fix: sign them with that key (build.py sign)"
        )
    return checks


@dataclass
class Signer:
    """Signs RPMs and repository metadata with one key; verifies afterwards (the pipeline's signing step)."""

    key: Key
    log: Path

    def sign_rpms(self, rpms: Sequence[Path]) -> None:
        sign_rpms(list(rpms), self.key, log=self.log)

    def sign_repo(self, repo: Path) -> None:
        sign_repomd(repo / "repodata", self.key, log=self.log)

    def public_key(self, dest: Path) -> Path:
        return export_public_key(self.key, dest, log_file=self.log)

    def verify(self, rpms: Sequence[Path], repos: Sequence[Path], pubkey: Path) -> None:
        verify_rpms(list(rpms), pubkey, log=self.log)
        for repo in repos:
            verify_repomd(repo / "repodata", pubkey, log=self.log)


def _pubkey_fingerprints(home: Path, pubkey: Path, log: Path | None) -> set[str]:
    run(_gpg(home, "--import", str(pubkey)), log_file=log, error=SigningError)
    res = run(_gpg(home, "--with-colons", "--fixed-list-mode", "--list-keys"), log_file=log, error=SigningError)
    fprs: set[str] = set()
    expect_fpr = False
    for line in res.output.splitlines():
        f = line.split(":")
        if f[0] == "pub":
            expect_fpr = True
        elif f[0] == "fpr" and expect_fpr:
            fprs.add(f[9].upper())
            expect_fpr = False
        elif f[0] == "sub":
            expect_fpr = False
    return fprs


def public_key_fingerprints(pubkey: Path, log: Path | None = None) -> set[str]:
    """The primary fingerprints of the keys in an exported public key file (a fresh keyring)."""
    if not Path(pubkey).is_file():
        raise SigningError(f"{pubkey}: no such public key file — fix: give the release's exported public key")
    with temporary_gnupghome("pmrepo-gpgk-") as home:
        return _pubkey_fingerprints(home, Path(pubkey), log)


def verify_detached(data: Path, signature: Path, pubkey: Path, log: Path | None = None) -> str:
    """Verify a detached signature with only ``pubkey`` trusted; return the
    signing fingerprint. Requires a SHA256 signature by that primary key."""
    for p in (data, signature, pubkey):
        if not Path(p).is_file():
            raise SigningError(f"{p}: no such file — fix: sign the file (build.py sign) and export the public key")
    with temporary_gnupghome("pmrepo-gpgv-") as home:
        fprs = _pubkey_fingerprints(home, Path(pubkey), log)
        if not fprs:
            raise SigningError(f"{pubkey}: contains no public key — fix: export an armored public key")
        res = run(_gpg(home, "--status-fd", "1", "--verify", str(signature), str(data)), log_file=log, check=False)
    valid = [ln.split() for ln in res.output.splitlines() if ln.startswith("[GNUPG:] VALIDSIG ")]
    bad = any(ln.startswith(("[GNUPG:] BADSIG", "[GNUPG:] ERRSIG")) for ln in res.output.splitlines())
    where = f" (log: {log})" if log else ""
    if res.returncode != 0 or bad or not valid:
        raise SigningError(
            f"{signature}: signature does not verify for {Path(data).name}{where} "
            "— fix: re-sign it with the release key"
        )
    fields = valid[0]
    # [GNUPG:] VALIDSIG <fpr> <date> <ts> <expire> <version> <reserved> <pkalgo> <hashalgo> <class> <primary-fpr>
    primary = fields[11].upper() if len(fields) > 11 else fields[2].upper()
    if primary not in fprs or fields[2].upper() != primary:
        raise SigningError(
            f"{signature}: signed by {fields[2]}, not by the primary key of {Path(pubkey).name} "
            "— fix: sign with the primary key"
        )
    if fields[9] != GPG_HASH_ALGO_SHA256:
        raise SigningError(
            f"{signature}: digest algorithm id {fields[9]} is not SHA256 — fix: sign with --digest-algo SHA256"
        )
    return primary


def verify_repomd(repodata_dir: Path, pubkey: Path, log: Path | None = None) -> str:
    """Verify ``repodata/repomd.xml.asc`` against ``pubkey``."""
    repodata_dir = Path(repodata_dir)
    return verify_detached(repodata_dir / "repomd.xml", repodata_dir / "repomd.xml.asc", pubkey, log)


__all__ = [
    "Key",
    "RpmSignature",
    "Signer",
    "check_rpms",
    "export_public_key",
    "key_from_env",
    "public_key_fingerprints",
    "sign_detached",
    "sign_repomd",
    "sign_rpms",
    "temporary_gnupghome",
    "verify_detached",
    "verify_repomd",
    "verify_rpms",
]
