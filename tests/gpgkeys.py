"""Throwaway signing keys for the tests (the production key comes from the environment:
``pmrepo.sign.signer.key_from_env``, which also vets each key made here)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pmrepo.run import run
from pmrepo.sign import signer as sign


def generate_key(name: str, email: str) -> sign.Key:
    """A passphrase-less RSA-3072 sign-only primary key, no subkeys, in a new keyring in the
    system temp dir (short path: gpg-agent's socket lives in it). Remove it with ``cleanup``."""
    home = Path(tempfile.mkdtemp(prefix="pmrepo-gpg-"))
    home.chmod(0o700)
    uid = f"{name} <{email}>"
    run([sign.GPG, "--homedir", str(home), "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "",
         "--quick-generate-key", uid, "rsa3072", "sign", "never"])
    fingerprints = [ln.split(":")[9] for ln in run([sign.GPG, "--homedir", str(home), "--batch", "--with-colons",
                                                    "--list-secret-keys"]).output.splitlines()
                    if ln.startswith("fpr:")]
    assert len(fingerprints) == 1, fingerprints  # one primary key, no subkeys
    return sign.key_from_env({sign.ENV_KEY: fingerprints[0], "GNUPGHOME": str(home)})


def cleanup(key: sign.Key) -> None:
    """Stop the keyring's gpg-agent and delete the keyring."""
    if shutil.which("gpgconf"):
        run(["gpgconf", "--homedir", str(key.gnupghome), "--kill", "all"], check=False)
    shutil.rmtree(key.gnupghome, ignore_errors=True)


def key_id(key: sign.Key) -> str:
    """The short id rpm prints (``key ID c74c8dd2``)."""
    return key.fingerprint[-8:].lower()
