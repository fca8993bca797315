"""Release gates: RPM digests, rpmlint, el6/el7 compatibility, dependency closure.

Usage::

    reports = run_gates(default_gates(release), GateContext(dist=..., report_dir=..., rpms=..., repos=...))
    # raises a one-line GateError on failure

The pipeline runs each gate as one of its checks (``pmrepo.checks.GateCheck``,
context from ``CheckContext.gate_context``).

Each gate writes ``<report_dir>/<gate>-<dist>.txt``; rpmlint also writes
``<report_dir>/rpmlint-<dist>/<file>.txt`` per package.
"""
from __future__ import annotations

from ..manifest import Release
from .base import Finding, Gate, GateContext, GateReport, Severity, run_gates
from .closure import ClosureGate
from .compat import SUPPORT, CompatGate, DistSupport
from .digest import DigestGate
from .rpmlint import RpmlintGate, release_filters

__all__ = [
    "ClosureGate", "CompatGate", "DigestGate", "DistSupport", "Finding", "Gate", "GateContext", "GateReport", "RpmlintGate",
    "SUPPORT", "Severity", "default_gates", "release_filters", "run_gates",
]


def default_gates(release: Release | None = None) -> list[Gate]:
    """Cheapest first: digests, compat reads headers, closure runs dnf, rpmlint is slowest.
    With ``release``, rpmlint also gets that release's own filters (its prefix …)."""
    extra = release_filters(release) if release is not None else {}
    return [DigestGate(), CompatGate(), ClosureGate(), RpmlintGate(extra_filters=extra)]
