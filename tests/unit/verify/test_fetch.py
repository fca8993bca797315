"""A published release downloaded for verify (pmrepo.verify.fetch), from a loopback server: SHA256SUMS
first, its signature only when the server has one, then every file it lists, each under the
destination; a name that is not plain and relative, or a download that fails, is reported per file;
without SHA256SUMS there is nothing to verify (one line naming the URL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pmrepo.errors import VerifyError
from pmrepo.progress import Console
from pmrepo.verify import fetch

from ..loopback import Answer, serve

RPM = b"a repo package"
NOTES = b"# notes\n"


def sums(**files: bytes) -> bytes:
    return "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in files.items()).encode()


def console() -> tuple[Console, list[str]]:
    lines: list[str] = []
    return Console(sink=lines.append, live=False), lines


def test_every_listed_file_is_downloaded_under_the_destination(tmp_path: Path) -> None:
    listing = sums(**{"el7/demo-repo-1.0-1.el7.x86_64.rpm": RPM, "RELEASE-NOTES.en.md": NOTES})
    routes = {
        "/rel/SHA256SUMS": listing,
        "/rel/SHA256SUMS.asc": b"sig",
        "/rel/el7/demo-repo-1.0-1.el7.x86_64.rpm": RPM,
        "/rel/RELEASE-NOTES.en.md": NOTES,
    }
    con, _ = console()
    with serve(routes) as srv:
        failed = fetch.fetch_release(srv.url + "/rel", tmp_path / "d", con)
    assert failed == {}
    got = {p.relative_to(tmp_path / "d").as_posix(): p.read_bytes() for p in (tmp_path / "d").rglob("*") if p.is_file()}
    assert got == {
        "SHA256SUMS": listing,
        "SHA256SUMS.asc": b"sig",
        "el7/demo-repo-1.0-1.el7.x86_64.rpm": RPM,
        "RELEASE-NOTES.en.md": NOTES,
    }  # no partial downloads left (.parts removed)
    assert [(m, p) for m, p, _ in srv.requests][:2] == [("GET", "/rel/SHA256SUMS"), ("HEAD", "/rel/SHA256SUMS.asc")]
    assert all(h.get("Accept-Encoding") == "identity" for m, _, h in srv.requests if m == "GET")


def test_no_signature_on_the_server_is_none_downloaded(tmp_path: Path) -> None:
    con, _ = console()
    with serve({"/SHA256SUMS": sums(a=b"x"), "/a": b"x", "/SHA256SUMS.asc": Answer(410)}) as srv:
        assert fetch.fetch_release(srv.url + "/", tmp_path / "d", con) == {}
    assert not (tmp_path / "d" / "SHA256SUMS.asc").exists() and (tmp_path / "d" / "a").read_bytes() == b"x"


def test_a_failed_file_is_reported_and_the_rest_downloaded(tmp_path: Path) -> None:
    con, _ = console()
    listing = sums(**{"gone.rpm": b"x", "here.rpm": b"y"})
    with serve({"/SHA256SUMS": listing, "/here.rpm": b"y"}) as srv:
        failed = fetch.fetch_release(srv.url, tmp_path / "d", con)
    assert list(failed) == ["gone.rpm"] and "404" in failed["gone.rpm"] and "\n" not in failed["gone.rpm"]
    assert (tmp_path / "d" / "here.rpm").read_bytes() == b"y" and not (tmp_path / "d" / "gone.rpm").exists()


def test_names_are_quoted_in_the_url_and_an_escaping_name_refuses_the_list(tmp_path: Path) -> None:
    assert fetch._url("http://h/rel/", "el7/a b#c.rpm") == "http://h/rel/el7/a%20b%23c.rpm"
    con, _ = console()
    listing = b"%s  ../outside\n%s  a b\n" % (
        hashlib.sha256(b"x").hexdigest().encode(),
        hashlib.sha256(b"y").hexdigest().encode(),
    )
    with serve({"/r/SHA256SUMS": listing, "/r/a%20b": b"y", "/outside": b"x"}) as srv:
        with pytest.raises(VerifyError) as err:
            fetch.fetch_release(srv.url + "/r/", tmp_path / "d", con)
        assert [p for _, p, _ in srv.requests] == ["/r/SHA256SUMS"]  # nothing else asked for
    assert str(err.value) == (
        f"{tmp_path / 'd' / 'SHA256SUMS'}:1: '../outside' is not a plain relative name — fix: regenerate SHA256SUMS"
    )
    assert not (tmp_path / "outside").exists()


def test_without_sha256sums_there_is_nothing_to_verify(tmp_path: Path) -> None:
    con, _ = console()
    with serve({}) as srv, pytest.raises(VerifyError) as err:
        fetch.fetch_release(srv.url + "/rel/", tmp_path / "d", con)
    text = str(err.value)
    assert text.startswith(f"{srv.url}/rel/SHA256SUMS: cannot download it (") and text.endswith(
        ") — fix: check the URL"
    )
    assert "\n" not in text
