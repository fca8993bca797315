"""The release manifest: the model (``model``) and ``load``, which reads and validates it
(``load``, ``fields``, ``component``, ``repositories``, ``upstream``). Callers import both from here."""

from __future__ import annotations

from .load import load as load
from .model import ARCH_RE as ARCH_RE
from .model import CONTROL_RE as CONTROL_RE
from .model import DEFAULTS as DEFAULTS
from .model import DIR_RE as DIR_RE
from .model import HTTP_OR_FILE_URL_RE as HTTP_OR_FILE_URL_RE
from .model import IMAGE_RE as IMAGE_RE
from .model import LANGS as LANGS
from .model import NAME_RE as NAME_RE
from .model import REPO_FILE_RE as REPO_FILE_RE
from .model import REPO_KINDS as REPO_KINDS
from .model import REQUIRE_OPS as REQUIRE_OPS
from .model import SHA256_RE as SHA256_RE
from .model import SYSTEM_DIRS as SYSTEM_DIRS
from .model import TEXT_CONTROL_RE as TEXT_CONTROL_RE
from .model import VERSION_RE as VERSION_RE
from .model import Component as Component
from .model import Dist as Dist
from .model import NoteSection as NoteSection
from .model import Release as Release
from .model import Repository as Repository
from .model import RepoValue as RepoValue
from .model import Source as Source
from .model import Text as Text
from .model import Upstream as Upstream
from .model import redact_url as redact_url
from .model import repo_value as repo_value
from .model import repo_values as repo_values
