"""Real upstreams on this machine for the upstream tests: git repositories with tags spelled as the
real projects spell them, a loopback HTTP server for release pages and a PyPI-like JSON index."""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from pmrepo.run import run

GIT_ENV = {"GIT_AUTHOR_NAME": "upstream", "GIT_AUTHOR_EMAIL": "upstream@example.invalid",
           "GIT_COMMITTER_NAME": "upstream", "GIT_COMMITTER_EMAIL": "upstream@example.invalid",
           "GIT_AUTHOR_DATE": "2016-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2016-01-01T00:00:00Z",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


def git_repo(path: Path, tags: Sequence[str], annotated: Sequence[str] = ()) -> Path:
    """A repository at ``path`` with one commit per tag (lightweight; ``annotated`` ones with a message)."""
    path.mkdir(parents=True)
    run(["git", "init", "-q", str(path)], env=GIT_ENV)
    for i, tag in enumerate(tags):
        (path / "VERSION").write_text(f"{tag}\n")
        run(["git", "-C", str(path), "add", "VERSION"], env=GIT_ENV)
        run(["git", "-C", str(path), "commit", "-q", "-m", f"release {i}"], env=GIT_ENV)
        extra = ["-a", "-m", tag] if tag in annotated else []
        run(["git", "-C", str(path), "tag", *extra, tag], env=GIT_ENV)
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    # each server's own, set on a subclass (http_server)
    pages: ClassVar[Mapping[str, bytes]] = {}
    delays: ClassVar[Mapping[str, float]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        time.sleep(self.delays.get(self.path, 0.0))
        body = self.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_server(pages: Mapping[str, bytes | str | dict],
                delays: Mapping[str, float] | None = None) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering ``pages`` (path -> body; a dict is served as JSON; ``delays``:
    seconds before answering a path): yields its base URL and the paths requested, stops on exit."""
    bodies = {p: (json.dumps(b).encode() if isinstance(b, dict) else b.encode() if isinstance(b, str) else b)
              for p, b in pages.items()}
    hits: list[str] = []
    handler = type("Handler", (_Handler,), {"pages": bodies, "hits": hits, "delays": dict(delays or {})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def pypi_json(versions: Mapping[str, bool]) -> dict:
    """A PyPI JSON answer: version -> yanked (every file)."""
    return {"info": {"name": "x"}, "releases": {
        v: [{"filename": f"x-{v}.tar.gz", "yanked": yanked, "upload_time_iso_8601": "2016-01-01T00:00:00Z"}]
        for v, yanked in versions.items()}}


# The demo's upstreams (pmrepo/demo/upstream/<name>.bundle): tags as the demo manifest spells them,
# a pre-release and another series among them. `python3 tests/upstream_repos.py` rewrites the bundles.
DEMO_TAGS: dict[str, list[str]] = {
    "libdemo": ["v1.0", "v1.1", "v1.2", "v1.3-rc1", "v1.3", "v2.0-rc1", "v2.0"],
    "demod": ["demod-0.9", "demod-1.0", "demod-1.1"],
    "demo-plugin": ["0.4", "0.5"],
    "demo-tools": ["v1.9", "v2.0"],
    "demo-units": ["v1.0"],
    "demo-extras": ["demo-extras-0.9", "demo-extras-1.0"],
}


def bundle(repo: Path, out: Path) -> Path:
    """A git bundle of every ref of ``repo``: one file ``git ls-remote`` reads like a repository."""
    run(["git", "-C", str(repo), "bundle", "create", "-q", str(out), "--all"], env=GIT_ENV)
    return out


def write_demo_bundles(directory: Path, scratch: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [bundle(git_repo(scratch / name, tags, annotated=tags[-1:]), directory / f"{name}.bundle")
            for name, tags in DEMO_TAGS.items()]


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(__file__).resolve().parent.parent
        for path in write_demo_bundles(root / "pmrepo" / "demo" / "upstream", Path(tmp)):
            print(f"wrote {path.relative_to(root)}", file=sys.stderr)
