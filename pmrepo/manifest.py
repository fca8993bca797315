"""The release manifest: the model (``manifest_model``) and ``load``, which reads and validates it
(``manifest_load``). Callers import both from here."""

from __future__ import annotations

from .manifest_load import load as load
from .manifest_model import (
    ARCH_RE as ARCH_RE,
)
from .manifest_model import (
    CONTROL_RE as CONTROL_RE,
)
from .manifest_model import (
    DEFAULTS as DEFAULTS,
)
from .manifest_model import (
    DIR_RE as DIR_RE,
)
from .manifest_model import (
    HTTP_OR_FILE_URL_RE as HTTP_OR_FILE_URL_RE,
)
from .manifest_model import (
    IMAGE_RE as IMAGE_RE,
)
from .manifest_model import (
    LANGS as LANGS,
)
from .manifest_model import (
    NAME_RE as NAME_RE,
)
from .manifest_model import (
    REPO_FILE_RE as REPO_FILE_RE,
)
from .manifest_model import (
    REPO_KINDS as REPO_KINDS,
)
from .manifest_model import (
    REQUIRE_OPS as REQUIRE_OPS,
)
from .manifest_model import (
    SHA256_RE as SHA256_RE,
)
from .manifest_model import (
    SYSTEM_DIRS as SYSTEM_DIRS,
)
from .manifest_model import (
    TEXT_CONTROL_RE as TEXT_CONTROL_RE,
)
from .manifest_model import (
    VERSION_RE as VERSION_RE,
)
from .manifest_model import (
    Component as Component,
)
from .manifest_model import (
    Dist as Dist,
)
from .manifest_model import (
    NoteSection as NoteSection,
)
from .manifest_model import (
    Release as Release,
)
from .manifest_model import (
    Repository as Repository,
)
from .manifest_model import (
    RepoValue as RepoValue,
)
from .manifest_model import (
    Source as Source,
)
from .manifest_model import (
    Text as Text,
)
from .manifest_model import (
    Upstream as Upstream,
)
from .manifest_model import (
    redact_url as redact_url,
)
from .manifest_model import (
    repo_value as repo_value,
)
from .manifest_model import (
    repo_values as repo_values,
)
