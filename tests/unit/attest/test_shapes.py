"""`verify` reads SBOMs and provenances from whoever published them: a document of any shape is
problems on one line each, never an exception (review M4: spdx-tools and securesystemslib read
the fields as they expect them, `"packages": "zz"` or `"payload": 5` raised AttributeError)."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pmrepo.attest import provenance, sbom

SBOMS: dict[str, Any] = {
    "an array": [],
    "a string": "x",
    "null": None,
    "packages a string": {"spdxVersion": "SPDX-2.3", "packages": "zz"},
    "relationships of numbers": {"spdxVersion": "SPDX-2.3", "relationships": [1]},
    "creationInfo a list": {"spdxVersion": "SPDX-2.3", "creationInfo": [1]},
}


@pytest.mark.parametrize("shape", list(SBOMS))
def test_an_sbom_of_any_shape_is_a_problem(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "x.spdx.json"
    path.write_text(json.dumps(SBOMS[shape]))
    view = sbom.read(path)
    assert view.problems and all("\n" not in p for p in view.problems), view.problems
    assert view.described == {} and view.contains == {}


def test_deep_nesting_and_a_non_regular_file_are_problems(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    assert sbom.read(deep).problems[0].startswith("not readable JSON: ")
    assert provenance.read(deep).problems[0].startswith("not readable JSON: ")
    import os
    os.mkfifo(tmp_path / "fifo.json")  # never opened for reading (it would wait for a writer)
    assert "a FIFO, not a regular file" in sbom.read(tmp_path / "fifo.json").problems[0]
    assert "a FIFO, not a regular file" in provenance.read(tmp_path / "fifo.json").problems[0]


def _payload(stmt: Any) -> str:
    return base64.b64encode(json.dumps(stmt).encode()).decode()


PROVENANCES: dict[str, Any] = {
    "payload a number": {"payloadType": provenance.PAYLOAD_TYPE, "payload": 5, "signatures": []},
    "signatures a string": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload({}), "signatures": "x"},
    "signatures of numbers": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload({}), "signatures": [5]},
    "payload an array": {"payloadType": provenance.PAYLOAD_TYPE, "payload": _payload([]), "signatures": []},
    "buildDefinition a string": {"_type": provenance.STATEMENT_TYPE, "predicate": {"buildDefinition": "x"},
                                 "subject": [{"name": "a", "digest": "x"}]},
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
