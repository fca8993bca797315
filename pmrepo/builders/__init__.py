"""Build backends: turn a rendered spec + sources into an SRPM and binary RPMs.

``rpmbuild`` builds on this host (dependencies from earlier jobs are unpacked
into a private root the compiler is pointed at); ``mock`` builds in clean
el6/el7 chroots. Both share the SRPM step and the RPM macro set.
"""

from __future__ import annotations

from .base import Builder, BuildOutput, BuildRequest, rpm_macro_defines

__all__ = ["BuildOutput", "BuildRequest", "Builder", "get_builder", "rpm_macro_defines"]


def get_builder(name: str, **options: object) -> Builder:
    from ..errors import UsageError

    if name == "rpmbuild":
        from .rpmbuild import RpmbuildBuilder

        # the options are the user's --backend-option values: the backend's constructor takes its own names
        return RpmbuildBuilder(**options)  # type: ignore[arg-type]
    if name == "mock":
        from .mock.builder import MockBuilder

        return MockBuilder(**options)  # type: ignore[arg-type]
    raise UsageError(f"unknown backend {name!r} — fix: use --backend rpmbuild or --backend mock")
