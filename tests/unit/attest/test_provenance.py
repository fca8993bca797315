"""The provenance (pmrepo.attest.provenance): no URL in what it records keeps a password (review M7);
the statement validates and a changed one does not; a bare statement told from a DSSE envelope; the CI
run and the build roots it names; ``read`` of a document of any shape — problems on one line each,
never an exception (securesystemslib read ``"payload": 5`` as it expects it: AttributeError)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pmrepo import manifest
from pmrepo.attest import provenance
from pmrepo.attest.provenance import redacted
from pmrepo.defaults import DEMO_RELEASE

from .test_sbom import content


def test_every_url_anywhere_loses_its_credentials() -> None:
    data = {
        "mirrors": {"base": "https://user:s3cret@mirror.internal/centos/", "epel": "http://m/x"},
        "list": ["ftp://u@h/p", "text before https://a:b@c/d and after", 5, None, True],
        "https://k:v@key/": "plain",
    }
    out = redacted(data)
    assert out == {
        "mirrors": {"base": "https://***@mirror.internal/centos/", "epel": "http://m/x"},
        "list": ["ftp://***@h/p", "text before https://***@c/d and after", 5, None, True],
        "https://***@key/": "plain",
    }
    assert "s3cret" not in repr(out)
    assert redacted("user@example.com is no URL") == "user@example.com is no URL"
    assert redacted("/path/with@at") == "/path/with@at"


def test_provenance_statement_validates_and_a_changed_one_does_not() -> None:
    rel = manifest.load(DEMO_RELEASE)
    dist = rel.dists["el7"]
    inputs = provenance.BuildInputs(
        rel,
        dist,
        "mock",
        content().sources,
        {"specs/libdemo.spec.j2": "e" * 64},
        {"libdemo": ["bash-4.2.46-35.el7_9.x86_64", "gcc-4.8.5-44.el7.x86_64"]},
    )
    run = provenance.RunInfo(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC), {"sign": True}, "build.example", None)
    stmt = provenance.statement(
        {"el7/a.rpm": "f" * 64}, inputs, run, dt.datetime(2026, 12, 1, 10, 5, tzinfo=dt.UTC), signed=True
    )
    assert provenance.check_statement(stmt) == []
    pred = stmt["predicate"]
    assert pred["buildDefinition"]["externalParameters"]["manifest"] == {
        "path": str(rel.path),
        "digest": {"sha256": rel.key},
    }
    assert pred["runDetails"]["metadata"] == {
        "invocationId": "build.example@2026-12-01T10:00:00Z",
        "startedOn": "2026-12-01T10:00:00Z",
        "finishedOn": "2026-12-01T10:05:00Z",
    }
    deps = {d["name"]: d for d in pred["buildDefinition"]["resolvedDependencies"]}
    assert deps["libdemo-1.2.tar.gz"]["uri"] == "https://example.invalid/libdemo-1.2.tar.gz"
    assert deps["gcc-4.8.5-44.el7.x86_64"]["annotations"] == {"origin": "build root package", "buildRoots": ["libdemo"]}
    broken = json.loads(json.dumps(stmt))
    broken["predicate"]["runDetails"]["metadata"]["startedOn"] = "yesterday"
    assert "SLSA provenance" in provenance.check_statement(broken)[0]
    broken = json.loads(json.dumps(stmt))
    broken["subject"] = []
    assert "Statement" in provenance.check_statement(broken)[0]
    broken = json.loads(json.dumps(stmt))
    broken["predicate"]["buildDefinition"]["surprise"] = 1  # a field SLSA v1 does not have
    assert provenance.check_statement(broken)


def test_provenance_read_tells_a_bare_statement_from_an_envelope(tmp_path: Path) -> None:
    stmt = {
        "_type": provenance.STATEMENT_TYPE,
        "subject": [{"name": "el7/a", "digest": {"sha256": "a" * 64}}],
        "predicateType": provenance.PREDICATE_TYPE,
        "predicate": {"buildDefinition": {"buildType": provenance.BUILD_TYPE}},
    }
    path = tmp_path / "p.json"
    provenance.write(path, stmt, None)
    view = provenance.read(path)
    assert not view.signed and view.problems == () and view.subjects() == {"el7/a": "a" * 64}
    envelope = {
        "payloadType": provenance.PAYLOAD_TYPE,
        "payload": base64.b64encode(provenance.payload_bytes(stmt)).decode(),
        "signatures": [{"keyid": "ABC", "sig": base64.b64encode(b"sig").decode()}],
    }
    path.write_text(json.dumps(envelope))
    view = provenance.read(path)
    assert view.signed and view.problems == () and view.subjects() == {"el7/a": "a" * 64}
    envelope["payload"] = "!!!"
    path.write_text(json.dumps(envelope))
    assert provenance.read(path).problems[0].startswith("not a DSSE envelope")


def test_ci_run_url_and_build_root_lists(tmp_path: Path) -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "7",
        "GITHUB_RUN_ATTEMPT": "2",
    }
    assert provenance.ci_run_url(env) == "https://github.com/o/r/actions/runs/7/attempts/2"
    assert provenance.ci_run_url({}) is None
    log = tmp_path / provenance.INSTALLED_PKGS_LOG
    # mock 6.7's package_state plugin: rpm -qa --qf '%{nevra} %{buildtime} %{size} %{pkgid} installed\n'
    log.write_text(
        "bash-4.2.46-35.el7_9.x86_64 1604000000 3667709 0123abcd installed\n"
        "gcc-4.8.5-44.el7.x86_64 1601000000 39238933 4567ef01 installed\n\n"
    )
    assert provenance.build_root_packages([tmp_path / "build.log", log]) == [
        "bash-4.2.46-35.el7_9.x86_64",
        "gcc-4.8.5-44.el7.x86_64",
    ]
    assert provenance.build_root_packages([tmp_path / "build.log"]) is None


def test_deep_nesting_and_a_non_regular_file_are_problems(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    assert provenance.read(deep).problems[0].startswith("not readable JSON: ")
    os.mkfifo(tmp_path / "fifo.json")  # never opened for reading (it would wait for a writer)
    assert "a FIFO, not a regular file" in provenance.read(tmp_path / "fifo.json").problems[0]


def _payload(stmt: Any) -> str:
    return base64.b64encode(json.dumps(stmt).encode()).decode()


PROVENANCES: dict[str, Any] = {
    "payload a number": {"payloadType": provenance.PAYLOAD_TYPE, "payload": 5, "signatures": []},
    "signatures a string": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload({}), "signatures": "x"},
    "signatures of numbers": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload({}), "signatures": [5]},
    "payload an array": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload([]), "signatures": []},
    "buildDefinition a string": {
        "_type": provenance.STATEMENT_TYPE,
        "predicate": {"buildDefinition": "x"},
        "subject": [{"name": "a", "digest": "x"}],
    },
    "buildDefinition a list": {"_type": provenance.STATEMENT_TYPE, "predicate": {"buildDefinition": [1]}},
    "predicate a string": {"_type": provenance.STATEMENT_TYPE, "predicate": "x"},
    "subject a number": {"_type": provenance.STATEMENT_TYPE, "subject": 5},
    "subject a string": {"_type": provenance.STATEMENT_TYPE, "subject": "abc"},
}


@pytest.mark.parametrize("shape", list(PROVENANCES))
def test_a_provenance_of_any_shape_is_a_problem(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "x.provenance.json"
    path.write_text(json.dumps(PROVENANCES[shape]))
    view = provenance.read(path)
    assert view.problems and all("\n" not in p for p in view.problems), view.problems
    assert isinstance(view.subjects(), dict)
    claim = provenance.field_at(view.statement, "predicate", "buildDefinition", "internalParameters", "signed")
    assert claim is None


def test_field_at_reads_through_objects_only() -> None:
    data = {"a": {"b": {"c": True}}, "s": "x"}
    assert provenance.field_at(data, "a", "b", "c") is True
    assert provenance.field_at(data, "s", "b") is None and provenance.field_at(data, "a", "x", "c") is None
    assert provenance.field_at([1], "a") is None and provenance.field_at(data) == data
