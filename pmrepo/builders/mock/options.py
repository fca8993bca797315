"""``--mock-opt KEY=VALUE`` (and ``--clean-roots``) read into MockBuilder fields: the mock
backend's own command-line vocabulary, used by every command that takes ``--backend`` and by
``mock-clean``."""

from __future__ import annotations

from ...errors import UsageError


def mock_options(pairs: list[str], clean_roots: bool = False) -> dict[str, object]:
    """--mock-opt KEY=VALUE pairs (and --clean-roots) as MockBuilder fields."""
    out: dict[str, object] = {"reuse_roots": False} if clean_roots else {}
    mirrors: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    images: dict[str, str] = {}
    flags = {"keep_roots", "root_cache", "yum_cache", "ccache", "use_bootstrap_image"}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--mock-opt {pair}: expected KEY=VALUE — fix: e.g. --mock-opt isolation=simple")
        if key.startswith("mirror."):
            mirrors[key[len("mirror.") :]] = value
        elif key.startswith("enable."):
            if value not in ("0", "1"):
                raise UsageError(f"--mock-opt {key}={value}: expected 0 or 1")
            enabled[key[len("enable.") :]] = value == "1"
        elif key == "bootstrap_image" or key.startswith("bootstrap_image."):
            images[key.partition(".")[2]] = value
        elif key in flags:
            if value not in ("0", "1"):
                raise UsageError(f"--mock-opt {key}={value}: expected 0 or 1")
            out[key] = value == "1"
        elif key in ("isolation", "mock_cmd", "chroot_setup_cmd", "uniqueext_prefix"):
            if key == "isolation" and value not in ("simple", "nspawn"):
                raise UsageError(f"--mock-opt isolation={value}: expected simple or nspawn")
            out[key] = value
        else:
            raise UsageError(f"--mock-opt {key}: unknown option — fix: see `build.py all --help`")
    if mirrors:
        out["mirrors"] = mirrors
    if enabled:
        out["repo_enabled"] = enabled
    if images:
        out["bootstrap_images"] = images
    return out
