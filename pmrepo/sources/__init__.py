"""A component's sources: downloaded within bounds and checked against the manifest's sha256,
local trees packed deterministically, a sources directory prepared for a build
(``fetch``), and unpinned URLs pinned by trust on first use (``pin``)."""
