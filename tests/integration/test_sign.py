"""Signing and verification with real gpg, rpmsign and rpm (throwaway keys)."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import gpgkeys
import pytest

from pmrepo.errors import SigningError
from pmrepo.run import run
from pmrepo.sign import signer as sign

TOOLS = ("gpg", "gpgconf", "rpm", "rpmbuild", "rpmsign", "createrepo_c")
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} installed (make setup)")

SPEC = """\
Name: {name}
Version: 1.0
Release: 1
Summary: tiny test package
License: MIT
BuildArch: noarch
%description
tiny test package
%install
mkdir -p %{{buildroot}}/usr/share/{name}
echo {name} > %{{buildroot}}/usr/share/{name}/hello
%files
/usr/share/{name}/hello
"""


@pytest.fixture(scope="module")
def unsigned_rpms(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    top = tmp_path_factory.mktemp("rpmbuild")
    out = []
    for name in ("tiny-a", "tiny-b"):
        spec = top / f"{name}.spec"
        spec.write_text(SPEC.format(name=name))
        run(["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", "_binary_payload w9.gzdio",
             "--define", "_buildhost pmrepo.test", str(spec)], log_file=top / "build.log")
        out.append(top / "RPMS" / "noarch" / f"{name}-1.0-1.noarch.rpm")
    return out


@pytest.fixture(scope="module")
def key() -> Iterator[sign.Key]:
    k = gpgkeys.generate_key("pmrepo test", "test@pmrepo.invalid")
    yield k
    gpgkeys.cleanup(k)


@pytest.fixture(scope="module")
def other_key() -> Iterator[sign.Key]:
    k = gpgkeys.generate_key("someone else", "other@pmrepo.invalid")
    yield k
    gpgkeys.cleanup(k)


@pytest.fixture
def rpms(tmp_path: Path, unsigned_rpms: list[Path]) -> list[Path]:
    d = tmp_path / "rpms"
    d.mkdir()
    return [Path(shutil.copy2(p, d / p.name)) for p in unsigned_rpms]


def test_generated_key_is_rsa_primary_only(key: sign.Key) -> None:
    assert key.gnupghome.is_dir() and tempfile.gettempdir() in str(key.gnupghome)
    res = run(["gpg", "--homedir", str(key.gnupghome), "--with-colons", "--list-secret-keys"])
    records = [ln.split(":") for ln in res.output.splitlines()]
    sec = [r for r in records if r[0] == "sec"]
    assert len(sec) == 1
    assert sec[0][3] == "1" and int(sec[0][2]) >= 3072  # RSA, >= 3072 bits
    assert "s" in sec[0][11].lower() and "e" not in sec[0][11].lower()
    assert not [r for r in records if r[0] == "ssb"], "el7 cannot verify subkey signatures"
    assert len(key.fingerprint) == 40


def test_export_public_key_has_no_secret(key: sign.Key, tmp_path: Path) -> None:
    pub = sign.export_public_key(key, tmp_path / "RPM-GPG-KEY-test")
    text = pub.read_text()
    assert text.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in text


def test_rpmsign_defines_are_explicit(key: sign.Key) -> None:
    args = sign.rpmsign_defines(key)
    defines = dict(a.split(" ", 1) for a in args[1::2])
    assert defines["__gpg"] == "/usr/bin/gpg"
    assert defines["_gpg_digest_algo"] == "sha256"
    assert defines["_gpg_name"] == key.fingerprint + "!"
    assert defines["_gpg_path"] == str(key.gnupghome)


def test_sign_and_verify(key: sign.Key, rpms: list[Path], tmp_path: Path) -> None:
    pub = sign.export_public_key(key, tmp_path / "pub.asc")
    log = tmp_path / "sign.log"
    sign.sign_rpms(rpms, key, log=log)
    checks = sign.verify_rpms(rpms, pub, log=log)
    assert [c.ok for c in checks] == [True, True]
    for rpm in rpms:
        sig = run(["rpm", "-qp", "--nosignature", "--qf", "%{RSAHEADER:pgpsig}", str(rpm)]).output
        assert sig.startswith("RSA/SHA256") and key.fingerprint[-16:].lower() in sig.lower()
    # no private key material in the work tree or the log
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert b"PRIVATE KEY" not in f.read_bytes(), f
    assert not list(tmp_path.rglob("private-keys-v1.d"))


def test_unsigned_rpm_fails(key: sign.Key, rpms: list[Path], tmp_path: Path) -> None:
    pub = sign.export_public_key(key, tmp_path / "pub.asc")
    sign.sign_rpms(rpms[:1], key)
    with pytest.raises(SigningError) as err:
        sign.verify_rpms(rpms, pub)
    msg = str(err.value)
    assert "1 of 2" in msg and f"{rpms[1].name}: not signed" in msg and rpms[0].name not in msg
    assert "\n" not in msg


def test_rpm_signed_by_other_key_fails(key: sign.Key, other_key: sign.Key, rpms: list[Path], tmp_path: Path) -> None:
    pub = sign.export_public_key(key, tmp_path / "pub.asc")
    sign.sign_rpms(rpms, other_key)
    with pytest.raises(SigningError, match=f"signed by key {gpgkeys.key_id(other_key)}"):
        sign.verify_rpms(rpms, pub)
    # and the other key's own public key accepts them
    assert all(c.ok for c in sign.verify_rpms(rpms, sign.export_public_key(other_key, tmp_path / "other.asc")))


def test_corrupted_signed_rpm_fails(key: sign.Key, rpms: list[Path], tmp_path: Path) -> None:
    pub = sign.export_public_key(key, tmp_path / "pub.asc")
    sign.sign_rpms(rpms[:1], key)
    data = bytearray(rpms[0].read_bytes())
    data[-20] ^= 0xFF  # inside the payload
    rpms[0].write_bytes(bytes(data))
    with pytest.raises(SigningError, match=rpms[0].name):
        sign.verify_rpms(rpms[:1], pub)


def test_repomd_signature(key: sign.Key, other_key: sign.Key, rpms: list[Path], tmp_path: Path) -> None:
    run(["createrepo_c", "--general-compress-type=gz", str(rpms[0].parent)], log_file=tmp_path / "cr.log")
    repodata = rpms[0].parent / "repodata"
    pub = sign.export_public_key(key, tmp_path / "pub.asc")
    asc = sign.sign_repomd(repodata, key)
    assert asc == repodata / "repomd.xml.asc"
    assert asc.read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    assert sign.verify_repomd(repodata, pub) == key.fingerprint
    # independently of pmrepo: plain gpg in a fresh keyring
    with sign.temporary_gnupghome() as home:
        run(["gpg", "--homedir", str(home), "--batch", "--import", str(pub)])
        out = run(["gpg", "--homedir", str(home), "--batch", "--status-fd", "1", "--verify", str(asc),
                   str(repodata / "repomd.xml")]).output
        assert f"VALIDSIG {key.fingerprint}" in out
    # another key's public key does not accept it
    with pytest.raises(SigningError):
        sign.verify_repomd(repodata, sign.export_public_key(other_key, tmp_path / "other.asc"))
    # tampering breaks it
    repomd = repodata / "repomd.xml"
    repomd.write_text(repomd.read_text().replace("<revision>", "<revision>1"))
    with pytest.raises(SigningError, match="does not verify"):
        sign.verify_repomd(repodata, pub)


def test_key_from_env(key: sign.Key) -> None:
    got = sign.key_from_env({"PMREPO_GPG_KEY": key.fingerprint, "GNUPGHOME": str(key.gnupghome)})
    assert got.fingerprint == key.fingerprint and got.gnupghome == key.gnupghome
    with pytest.raises(SigningError, match="PMREPO_GPG_KEY is not set"):
        sign.key_from_env({"GNUPGHOME": str(key.gnupghome)})
    with pytest.raises(SigningError, match="no secret key"):
        sign.key_from_env({"PMREPO_GPG_KEY": "0" * 40, "GNUPGHOME": str(key.gnupghome)})


def test_key_from_env_refuses_non_rsa() -> None:
    with sign.temporary_gnupghome() as home:
        run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
             "--quick-generate-key", "ecc <ecc@pmrepo.invalid>", "ed25519", "sign", "never"])
        with pytest.raises(SigningError, match="not RSA"):
            sign.key_from_env({"PMREPO_GPG_KEY": "ecc@pmrepo.invalid", "GNUPGHOME": str(home)})


def test_key_from_env_says_the_key_expired() -> None:
    """Issue 26: an expired key is refused when it is chosen, saying so and how to extend it (gpg itself
    only says "Unusable secret key" when asked to sign)."""
    with sign.temporary_gnupghome() as home:
        run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
             "--faked-system-time", "20200101T000000", "--quick-generate-key", "old <old@pmrepo.invalid>",
             "rsa2048", "sign", "1d"])
        with pytest.raises(SigningError) as err:
            sign.key_from_env({"PMREPO_GPG_KEY": "old@pmrepo.invalid", "GNUPGHOME": str(home)})
        msg = str(err.value)
        assert "\n" not in msg and "expired on 2020-01-0" in msg and "fix: extend it (gpg --quick-set-expire" in msg


def test_passphrase_key_signs_only_with_passphrase_file(rpms: list[Path], tmp_path: Path) -> None:
    """The CI path: PMREPO_GPG_KEY + GNUPGHOME + PMREPO_GPG_PASSPHRASE_FILE, no tty."""
    with sign.temporary_gnupghome() as home:
        (home / "gpg-agent.conf").write_text("s2k-count 65536\n")  # cheap key protection: 0.3 s instead of 4 s
        run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", "--passphrase", "pw-4-ci",
             "--quick-generate-key", "ci <ci@pmrepo.invalid>", "rsa2048", "sign", "never"])  # 2048: faster keygen
        env = {"PMREPO_GPG_KEY": "ci@pmrepo.invalid", "GNUPGHOME": str(home)}
        run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"])  # forget any cached passphrase
        with pytest.raises(SigningError):
            sign.sign_rpms(rpms[:1], sign.key_from_env(env))
        ppfile = tmp_path / "passphrase"
        ppfile.write_text("pw-4-ci\n")
        ppfile.chmod(0o644)  # issue 26: other users could read it: refused in one line, as ssh refuses such a key
        with pytest.raises(SigningError, match=f"mode 0644 lets other users read .* fix: chmod 600 {ppfile}"):
            sign.key_from_env({**env, "PMREPO_GPG_PASSPHRASE_FILE": str(ppfile)})
        ppfile.chmod(0o600)
        key = sign.key_from_env({**env, "PMREPO_GPG_PASSPHRASE_FILE": str(ppfile)})
        log = tmp_path / "sign.log"
        sign.sign_rpms(rpms, key, log=log)
        pub = sign.export_public_key(key, tmp_path / "pub.asc")
        assert all(c.ok for c in sign.verify_rpms(rpms, pub))
        (tmp_path / "repodata").mkdir()
        (tmp_path / "repodata" / "repomd.xml").write_text("<repomd/>\n")
        sign.sign_repomd(tmp_path / "repodata", key, log=log)
        assert sign.verify_repomd(tmp_path / "repodata", pub) == key.fingerprint
        assert "pw-4-ci" not in log.read_text()


def test_signing_changes_the_file_not_the_build(key: sign.Key, other_key: sign.Key, rpms: list[Path],
                                                 tmp_path: Path) -> None:
    """Issue 26: rpmsign rewrites only the signature header, so a build's unsigned digest (what the NEVRA gate
    compares when a release is signed anew) is the same unsigned, signed, and signed again by another key."""
    import shutil

    from pmrepo import rpmfile
    from pmrepo.fsutil import sha256_file

    copies = [tmp_path / f"{i}.rpm" for i in range(3)]
    for c in copies:
        shutil.copyfile(rpms[0], c)
    sign.sign_rpms([copies[1]], key)
    sign.sign_rpms([copies[2]], other_key)
    assert len({sha256_file(c) for c in copies}) == 3
    assert len({rpmfile.unsigned_digest(c) for c in copies}) == 1
    assert [rpmfile.layout(c).signed for c in copies] == [False, True, True]
    with pytest.raises(rpmfile.RpmFileError, match="not an RPM file"):
        rpmfile.layout(Path(__file__))
