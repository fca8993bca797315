"""What ``pmrepo upstream`` prints and returns, and the versions ``new-release --from-upstream`` takes.

The report: a table that fits 100 columns (one row per component entry: its dists, the version
shipped, the series, the newest upstream version in it, the status), one line per upstream that
could not be checked, the ready ``new-release --set`` arguments for what is newer, a summary
line. ``--json`` prints the same as one JSON document. The exit status says which of three it is:
``EXIT_NOTHING_NEW`` (0), ``EXIT_NEWER`` (3: newer versions, every upstream checked) or
``EXIT_FAILED`` (4: at least one upstream could not be checked; the others are still reported).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import manifest
from ..fsutil import write_atomic
from ..layout import Layout
from ..manifest import VERSION_RE, Release
from ..options import Options
from ..progress import Console, default_console, table
from .check import EXIT_FAILED, EXIT_NEWER, EXIT_NOTHING_NEW, Check, UpstreamError, check
from .sources import DEFAULT_TIMEOUT

STATUS_TEXT = {
    "newer": "newer",
    "current": "up to date",
    "ahead": "shipped newer",
    "failed": "COULD NOT CHECK",
    "untracked": "not tracked",
}
EXIT_TEXT = {EXIT_NOTHING_NEW: "nothing new", EXIT_NEWER: "newer versions", EXIT_FAILED: "could not check"}
COLUMNS = (("component", 24), ("dists", 12), ("shipped", 14), ("series", 8), ("newest upstream", 15), ("status", 15))
NEW_RELEASE = "1"  # the release a new upstream version starts at


def exit_status(checks: Sequence[Check]) -> int:
    statuses = {c.status for c in checks}
    return EXIT_FAILED if "failed" in statuses else EXIT_NEWER if "newer" in statuses else EXIT_NOTHING_NEW


def _settable(c: Check) -> bool:
    return c.status == "newer" and c.newest is not None and VERSION_RE.match(c.newest) is not None


def set_values(checks: Sequence[Check]) -> list[str]:
    """``[dist:]name=version-release`` for every entry whose upstream is newer: one value per
    component when it has one entry (or every entry moves to the same version), else one per dist."""
    out: list[str] = []
    names = list(dict.fromkeys(c.component.name for c in checks))
    for name in names:
        entries = [c for c in checks if c.component.name == name]
        newer = [c for c in entries if _settable(c)]
        if not newer:
            continue
        if len(newer) == len(entries) and len({c.newest for c in newer}) == 1:
            out.append(f"{name}={newer[0].newest}-{NEW_RELEASE}")
            continue
        out += [f"{d}:{name}={c.newest}-{NEW_RELEASE}" for c in newer for d in c.component.dists]
    return out


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report_table(checks: Sequence[Check]) -> str:
    rows = [
        (
            c.component.name,
            " ".join(c.component.dists),
            c.component.version,
            (c.upstream.series or "any") if c.upstream else "",
            c.newest or ("-" if c.status == "failed" else ""),
            STATUS_TEXT[c.status],
        )
        for c in checks
    ]
    fitted = [[_fit(str(cell), w) for cell, (_, w) in zip(row, COLUMNS, strict=True)] for row in rows]
    return table([h for h, _ in COLUMNS], fitted)


def render(checks: Sequence[Check]) -> str:
    """The report as text: table, problems, --set arguments, summary."""
    lines = [report_table(checks)]
    failed = [c for c in checks if c.status == "failed"]
    if failed:
        lines += ["", f"could not check {len(failed)} upstream(s):"]
        lines += [f"  {c.component.key}: {c.problem}" for c in failed]
    odd = [c for c in checks if c.status == "newer" and not _settable(c)]
    if odd:
        lines += ["", "newer, but not an rpm version (give --set by hand):"]
        lines += [f"  {c.component.key}: {c.newest}" for c in odd]
    sets = set_values(checks)
    lines += ["", "new-release arguments for what is newer:"]
    lines.append("  " + " ".join(f"--set {s}" for s in sets) if sets else "  (none: nothing is newer)")
    tracked = [c for c in checks if c.status != "untracked"]
    counts = ", ".join(
        f"{sum(1 for c in tracked if c.status == s)} {STATUS_TEXT[s].lower()}"
        for s in ("newer", "current", "ahead", "failed")
        if any(c.status == s for c in tracked)
    )
    code = exit_status(checks)
    untracked = len(checks) - len(tracked)
    lines.append(
        f"summary: {len(tracked)} upstream(s) checked: {counts}"
        + (f"; {untracked} entr{'y' if untracked == 1 else 'ies'} not tracked" if untracked else "")
        + f" — {EXIT_TEXT[code]} (exit {code})"
    )
    return "\n".join(lines)


def to_json(rel: Release, checks: Sequence[Check]) -> dict[str, Any]:
    code = exit_status(checks)
    return {
        "release": str(rel.path),
        "release_id": rel.release_id,
        "status": EXIT_TEXT[code],
        "exit_status": code,
        "components": [
            {
                "name": c.component.name,
                "entry": c.component.key,
                "dists": list(c.component.dists),
                "shipped": c.component.version,
                "upstream": None
                if c.upstream is None
                else {
                    "kind": c.upstream.kind,
                    "location": manifest.redact_url(c.upstream.location),
                    "tag": c.upstream.tag if c.upstream.kind == "git" else None,
                    "series": c.upstream.series,
                    "prereleases": c.upstream.prereleases,
                },
                "newest": c.newest,
                "status": c.status,
                "problem": c.problem,
                "found": c.found,
                "prereleases_skipped": c.prereleases_skipped,
            }
            for c in checks
        ],
        "set": set_values(checks),
    }


def _checked(rel: Release, layout: Layout, console: Console, timeout: float) -> tuple[Check, ...]:
    """The checks, with their report and JSON kept in the upstream directory."""
    checks = check(rel, layout, console, timeout)
    write_atomic(layout.upstream_report("txt"), render(checks) + "\n")
    write_atomic(layout.upstream_report("json"), json.dumps(to_json(rel, checks), indent=2) + "\n")
    return checks


def command(opts: Options) -> int:
    """``pmrepo upstream``: the report on stdout (progress too; with ``--json`` progress goes to stderr)."""
    rel = manifest.load(opts.release)
    console = Console(stream=sys.stderr) if opts.json else default_console()
    checks = _checked(rel, Layout(rel.release_id, opts.outdir, opts.workdir), console, opts.upstream_timeout)
    print(json.dumps(to_json(rel, checks), indent=2) if opts.json else render(checks), flush=True)
    return exit_status(checks)


def proposed_sets(
    source: Path, workdir: Path, outdir: Path, given: Sequence[str], timeout: float = DEFAULT_TIMEOUT
) -> list[str]:
    """``new-release --from-upstream``: the ``--set`` values that move every component to its newest
    version in series, leaving out the components named in ``given`` (the user's ``--set`` wins).
    Refused in one line when an upstream of a component not given could not be checked."""
    from ..manifest.next_release import parse_set

    rel = manifest.load(source)
    console = default_console()
    checks = _checked(rel, Layout(rel.release_id, outdir, workdir), console, timeout)
    console.say(render(checks))
    named = {parse_set(s).name for s in given}
    failed = [c for c in checks if c.status == "failed" and c.component.name not in named]
    if failed:
        raise UpstreamError(
            f"new-release --from-upstream: {len(failed)} upstream(s) could not be checked (first: "
            f"{failed[0].component.key}: {failed[0].problem}) — fix: rerun where they can be reached, or give "
            f"--set for {', '.join(dict.fromkeys(c.component.name for c in failed))}"
        )
    return [s for s in set_values(checks) if parse_set(s).name not in named]
