"""A component's sources: local trees packed deterministically (``tree``), URLs downloaded within
bounds into a content-addressed cache and checked against the manifest's sha256 (``fetch``), a
component's sources put into its build directory (``build_dir``), and unpinned URLs pinned by trust
on first use (``pin``). The names other stages use are here."""

from .build_dir import copy_private as copy_private
from .build_dir import prepare as prepare
from .fetch import Fetcher as Fetcher
from .fetch import check_archive as check_archive
from .pin import pin as pin
from .pin import pin_sources as pin_sources
from .pin import record_pins as record_pins
from .pin import unpinned as unpinned
from .tree import check_packable as check_packable
from .tree import pack_tree as pack_tree
