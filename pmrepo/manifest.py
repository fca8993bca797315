"""The release manifest: the model (``manifest_model``) and ``load``, which reads and validates it
(``manifest_load``). Callers import both from here."""
from __future__ import annotations

from .manifest_load import load as load
from .manifest_model import (
    NAME_RE as NAME_RE,
    VERSION_RE as VERSION_RE,
    SHA256_RE as SHA256_RE,
    ARCH_RE as ARCH_RE,
    REPO_FILE_RE as REPO_FILE_RE,
    IMAGE_RE as IMAGE_RE,
    URL_RE as URL_RE,
    CONTROL_RE as CONTROL_RE,
    TEXT_CONTROL_RE as TEXT_CONTROL_RE,
    REQUIRE_OPS as REQUIRE_OPS,
    LANGS as LANGS,
    DIR_RE as DIR_RE,
    REPO_KINDS as REPO_KINDS,
    SYSTEM_DIRS as SYSTEM_DIRS,
    DEFAULTS as DEFAULTS,
    Text as Text,
    NoteSection as NoteSection,
    Repository as Repository,
    RepoLayout as RepoLayout,
    REPO_FIELDS as REPO_FIELDS,
    Dist as Dist,
    Source as Source,
    Component as Component,
    Release as Release,
    redact_url as redact_url,
)
