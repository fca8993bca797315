"""pmrepo's nvchecker sources (pmrepo.upstream.sources): git's argument vector and environment (no
shell, no option, https or file only), its answers and errors read (git stood in for), one bounded
HTTP answer per page or PyPI check (a loopback server), PyPI's versions with files, requests' errors
in a few words, and the sources registered where nvchecker looks them up."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import sys
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any

import pytest
import requests
from nvchecker.api import GetVersionError

from pmrepo.run import Result
from pmrepo.upstream import sources

from ..loopback import Answer, serve


def test_git_lists_tags_without_a_shell_an_option_or_a_command_transport() -> None:
    argv, env = sources.ls_remote_argv("https://example.invalid/x.git")
    assert argv == ["git", "ls-remote", "--tags", "--refs", "--", "https://example.invalid/x.git"]
    assert env == {"GIT_ALLOW_PROTOCOL": "https", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    argv, env = sources.ls_remote_argv("--upload-pack=touch /tmp/x")
    assert argv[-2:] == ["--", "--upload-pack=touch /tmp/x"] and env["GIT_ALLOW_PROTOCOL"] == "file"
    assert sources.ls_remote_argv("ext::sh -c id")[1]["GIT_ALLOW_PROTOCOL"] == "file"  # never ext


def fake_git(monkeypatch: pytest.MonkeyPatch, output: str, code: int = 0, killed: str | None = None) -> list[Any]:
    calls: list[Any] = []

    def run(argv: list[str], **kw: Any) -> Result:
        calls.append((argv, kw))
        return Result(argv, code, output, None, killed)

    monkeypatch.setattr(sources, "run", run)
    return calls


def test_ls_remote_reads_tag_lines_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_git(
        monkeypatch, "aaa\trefs/tags/v1.0\nwarning: redirecting\nbbb\trefs/tags/v1.1 \nccc\trefs/heads/main\n"
    )
    assert sources.ls_remote("https://h/x.git", 7.0, Path("/l.log")) == [("v1.0", "aaa"), ("v1.1", "bbb")]
    argv, kw = calls[0]
    assert argv[-1] == "https://h/x.git" and kw["timeout"] == 7.0 and kw["check"] is False
    assert kw["max_output"] == sources.MAX_BYTES and kw["log_file"] == Path("/l.log")


@pytest.mark.parametrize(
    ("code", "killed", "output", "message"),
    [
        (-9, "output", "", f"answered more than {sources.MAX_BYTES} bytes of tags (refused; git was stopped)"),
        (-9, "timeout", "", "cannot be reached: no answer within 7s"),
        (
            128,
            None,
            "Cloning…\nfatal: repository 'https://h/x.git/' not found\n",
            "cannot be reached: repository 'https://h/x.git/' not found",
        ),
    ],
)
def test_ls_remote_failures_are_one_line(
    monkeypatch: pytest.MonkeyPatch, code: int, killed: str | None, output: str, message: str
) -> None:
    fake_git(monkeypatch, output, code, killed)
    with pytest.raises(GetVersionError) as err:
        sources.ls_remote("https://h/x.git", 7.0)
    assert err.value.msg == message


def test_git_s_message_is_its_fatal_or_error_line() -> None:
    assert sources.git_message("hint: x\nerror: unable to access 'h': Could not resolve host\n") == (
        "unable to access 'h': Could not resolve host"
    )
    assert sources.git_message("something odd\n") == "something odd"


def test_pypi_versions_with_files_not_all_yanked() -> None:
    data = {
        "releases": {
            "1.0": [{"yanked": False}],
            "1.1": [{"yanked": True}],
            "1.2": [],
            "1.3": [{"yanked": True}, {"yanked": False}],
            "1.4": "odd",
        }
    }
    assert sources.pypi_versions(data) == ["1.0", "1.3"]
    bad_answers: list[Any] = [[], {"info": {}}, {"releases": []}]
    for bad in bad_answers:
        with pytest.raises(GetVersionError, match="the PyPI answer has no releases"):
            sources.pypi_versions(bad)


def test_the_pypi_index_is_pypi_unless_the_environment_names_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMREPO_PYPI_URL", raising=False)
    assert sources.pypi_url("crmsh") == "https://pypi.org/pypi/crmsh/json"
    monkeypatch.setenv("PMREPO_PYPI_URL", "http://127.0.0.1:8080/pypi/")
    assert sources.pypi_url("crmsh") == "http://127.0.0.1:8080/pypi/crmsh/json"


def test_requests_errors_in_a_few_words() -> None:
    url = "https://mirror.example.invalid/x"
    assert (
        sources.http_why(requests.Timeout("read timed out"), url, 30)
        == "no answer from mirror.example.invalid within 30s"
    )
    refused = requests.ConnectionError(
        "HTTPSConnectionPool(...): Max retries (Caused by NewConnectionError('...: [Errno 111] Connection refused'))"
    )
    assert sources.http_why(refused, url, 30) == "connection refused (mirror.example.invalid)"
    assert sources.http_why(requests.ConnectionError("Failed to resolve 'x'"), url, 30) == (
        "host not found (mirror.example.invalid)"
    )
    assert sources.http_why(requests.TooManyRedirects("Exceeded 30 redirects.\nmore"), url, 30) == (
        "TooManyRedirects (mirror.example.invalid): Exceeded 30 redirects."
    )


def test_one_bounded_answer() -> None:
    with serve(
        {
            "/ok": b"hello",
            "/big": b"x" * 5000,
            "/gz": Answer(body=gzip.compress(b"hi"), headers={"Content-Encoding": "gzip"}),
        }
    ) as srv:
        assert sources.fetch_bounded(srv.url + "/ok", 5) == b"hello"
        assert srv.requests[0][2].get("Accept-Encoding") == "identity"
        failures = {}
        for path, limit in (("/big", 1000), ("/gz", 1000), ("/missing", 1000)):
            with pytest.raises(GetVersionError) as err:
                sources.fetch_bounded(srv.url + path, 5, limit)
            failures[path] = err.value.msg
    assert failures == {
        "/big": "answered more than 1000 bytes",
        "/gz": "answered gzip-encoded content (asked for identity)",
        "/missing": "cannot be read: HTTP 404 Not Found",
    }


def test_a_port_nobody_listens_on_is_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(GetVersionError) as err:
        sources.fetch_bounded(f"http://127.0.0.1:{port}/x", 5)
    assert err.value.msg == "cannot be reached: connection refused (127.0.0.1)"


class Cache:
    """nvchecker's cache as the sources use it: ``await cache.get(key, fn)``; remembers the keys."""

    def __init__(self) -> None:
        self.keys: list[Hashable] = []

    async def get(self, key: Hashable, fn: Callable[[Hashable], Awaitable[Any]]) -> Any:
        self.keys.append(key)
        return await fn(key)


def test_the_page_source_finds_the_regex_s_versions() -> None:
    page = b"libdemo-1.2.tar.gz libdemo-1.10.tar.gz libdemo-1.2.tar.gz"
    with serve({"/files/": page, "/empty/": b"nothing here"}) as srv:
        cache = Cache()
        conf = {"url": srv.url + "/files/", "regex": r"libdemo-([\d.]+)\.tar\.gz", "timeout": 5}
        assert asyncio.run(sources.page_source("libdemo", conf, cache=cache)) == ["1.10", "1.2"]
        assert cache.keys == [("pmrepo_page", srv.url + "/files/")]
        with pytest.raises(GetVersionError, match="the page has no match for the regex"):
            asyncio.run(sources.page_source("libdemo", conf | {"url": srv.url + "/empty/"}, cache=cache))


def test_the_pypi_source_reads_one_json_answer() -> None:
    answer = json.dumps({"releases": {"4.6.0": [{"yanked": False}], "5.0.0rc1": [{}]}}).encode()
    gone = json.dumps({"releases": {"1.0": [{"yanked": True}]}}).encode()
    with serve({"/pypi/crmsh/json": answer, "/pypi/old/json": gone, "/pypi/bad/json": b"<html>"}) as srv:
        conf = {"url": srv.url + "/pypi/crmsh/json", "timeout": 5}
        assert asyncio.run(sources.pypi_source("crmsh", conf, cache=Cache())) == ["4.6.0", "5.0.0rc1"]
        with pytest.raises(GetVersionError, match="has no released versions"):
            asyncio.run(sources.pypi_source("old", {"url": srv.url + "/pypi/old/json"}, cache=Cache()))
        with pytest.raises(GetVersionError, match="the PyPI answer is not JSON"):
            asyncio.run(sources.pypi_source("bad", {"url": srv.url + "/pypi/bad/json"}, cache=Cache()))


def test_the_git_source_returns_each_tag_with_its_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_git(monkeypatch, "aaa\trefs/tags/v1.0\n")
    got = asyncio.run(sources.git_source("x", {"git": "https://h/x.git", "timeout": 3}, cache=Cache()))
    assert [(r.version, r.revision, r.gitref) for r in got] == [("v1.0", "aaa", "refs/tags/v1.0")]
    fake_git(monkeypatch, "")
    with pytest.raises(GetVersionError, match="has no tags"):
        asyncio.run(sources.git_source("x", {"git": "https://h/x.git"}, cache=Cache()))


def test_the_sources_are_registered_where_nvchecker_imports_them() -> None:
    sources.register()
    for name, fn in sources.SOURCES.items():
        assert sys.modules[f"nvchecker_source.{name}"].get_version is fn
