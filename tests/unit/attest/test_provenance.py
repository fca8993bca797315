"""What the provenance records is published and signed: no URL in it keeps a password (review M7)."""
from __future__ import annotations

from pmrepo.attest.provenance import redacted


def test_every_url_anywhere_loses_its_credentials() -> None:
    data = {"mirrors": {"base": "https://user:s3cret@mirror.internal/centos/", "epel": "http://m/x"},
            "list": ["ftp://u@h/p", "text before https://a:b@c/d and after", 5, None, True],
            "https://k:v@key/": "plain"}
    out = redacted(data)
    assert out == {"mirrors": {"base": "https://***@mirror.internal/centos/", "epel": "http://m/x"},
                   "list": ["ftp://***@h/p", "text before https://***@c/d and after", 5, None, True],
                   "https://***@key/": "plain"}
    assert "s3cret" not in repr(out)
    assert redacted("user@example.com is no URL") == "user@example.com is no URL"
    assert redacted("/path/with@at") == "/path/with@at"
