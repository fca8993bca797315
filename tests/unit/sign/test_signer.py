"""The signing step's reader of ``rpm -K -v`` output: each package's verdict against the release key."""

from __future__ import annotations

from pmrepo.sign.signer import _parse_rpm_kv

RPM_KV = """\
/r/good.rpm:
    Header V4 RSA/SHA256 Signature, key ID c74c8dd2: OK
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/r/unsigned.rpm:
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/r/other.rpm:
    Header V4 RSA/SHA256 Signature, key ID 0badcafe: OK
    Header SHA256 digest: OK
/r/broken.rpm:
    Header V4 RSA/SHA256 Signature, key ID c74c8dd2: OK
    Payload SHA256 digest: BAD (Expected 1 != 2)
"""


def test_rpm_kv_verdicts() -> None:
    paths = ["/r/good.rpm", "/r/unsigned.rpm", "/r/other.rpm", "/r/broken.rpm", "/r/missing.rpm"]
    got = {c.path: (c.ok, c.reason) for c in _parse_rpm_kv(RPM_KV, paths, {"c74c8dd2"})}
    assert got["/r/good.rpm"] == (True, "OK")
    assert got["/r/unsigned.rpm"] == (False, "not signed")
    assert got["/r/other.rpm"] == (False, "signed by key 0badcafe, not by c74c8dd2")
    assert got["/r/broken.rpm"][0] is False and "BAD" in got["/r/broken.rpm"][1]
    assert got["/r/missing.rpm"] == (False, "rpm could not read it")
