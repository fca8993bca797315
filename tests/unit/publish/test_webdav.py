"""What publish reads from a WebDAV server (pmrepo.publish.webdav): a body within its bound, each
broken bound as one line saying what publish was doing and the fix (answers from a loopback server),
and a PROPFIND listing read as the names directly under the root — never a DTD or an entity."""

from __future__ import annotations

import time

import pytest
import requests

from pmrepo.errors import PublishError
from pmrepo.publish.webdav import child_names, read_body

from ..loopback import Answer, serve

WHAT = "listing the mirror root"


def test_a_body_within_the_bound_goes_to_the_sink() -> None:
    with serve({"/x": b"0123456789"}) as srv:
        resp = requests.get(srv.url + "/x", stream=True, timeout=5)
        got: list[bytes] = []
        assert read_body(resp, 10, WHAT, got.append, deadline=5, started=time.monotonic()) == 10
    assert b"".join(got) == b"0123456789"


def test_a_body_past_the_bound_is_one_line() -> None:
    with serve({"/x": b"z" * 5000}) as srv:
        resp = requests.get(srv.url + "/x", stream=True, timeout=5)
        with pytest.raises(PublishError) as err:
            read_body(resp, 100, WHAT, lambda b: None, deadline=5, started=time.monotonic())
    assert str(err.value) == (
        f"GET {srv.url}/x: the answer is larger than 100 bytes while {WHAT} — "
        "fix: check the mirror (a WebDAV server that answers as expected)"
    )


def test_a_body_past_the_deadline_is_one_line() -> None:
    with serve({"/x": b"z" * 100}) as srv:
        resp = requests.get(srv.url + "/x", stream=True, timeout=5)
        with pytest.raises(PublishError) as err:
            read_body(resp, 1000, WHAT, lambda b: None, deadline=2, started=time.monotonic() - 10)
    assert str(err.value).startswith(f"GET {srv.url}/x: the answer is not finished after 2s while {WHAT} (")
    assert str(err.value).endswith(" — fix: check the mirror, or raise PMREPO_FETCH_DEADLINE")


def test_a_body_that_breaks_off_is_one_line() -> None:
    with serve({"/x": Answer(body=b"short", headers={"Content-Length": "1000"})}) as srv:
        resp = requests.get(srv.url + "/x", stream=True, timeout=5)
        with pytest.raises(
            PublishError,
            match=rf"^GET {srv.url}/x broke off \(\w+\) while {WHAT} — fix: check the "
            "mirror, then rerun$",
        ):
            read_body(resp, 1000, WHAT, lambda b: None, deadline=5, started=time.monotonic())


def multistatus(*hrefs: str) -> bytes:
    rows = "".join(f"<d:response><d:href>{h}</d:href></d:response>" for h in hrefs)
    return f'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">{rows}</d:multistatus>'.encode()


def test_only_the_names_directly_under_the_root_are_listed() -> None:
    body = multistatus(
        "/mirror/",
        "/mirror/demo-repo-1.0-1/",
        "http://h/mirror/.staging-x-0123/",
        "/mirror/a%20b",
        "/mirror/demo-repo-1.0-1/el7/",
        "/other/x",
        "/mirrorx/y",
        " /mirror/z ",
    )
    assert child_names(body, "https://h/mirror/") == {"demo-repo-1.0-1", ".staging-x-0123", "a b", "z"}
    assert child_names(multistatus("/a", "/b/"), "https://h") == {"a", "b"}  # the server's root


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d:multistatus xmlns:d="DAV:">&e;</d:multistatus>',
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/x.dtd"><d/>',
    ],
)
def test_an_answer_that_is_not_plain_xml_is_refused(body: bytes) -> None:
    with pytest.raises(PublishError) as err:
        child_names(body, "https://h/mirror/")
    assert str(err.value) == (
        "PROPFIND https://h/mirror/: the answer is not plain XML — fix: the target must be a WebDAV server"
    )
