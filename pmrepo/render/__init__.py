"""Render the release's files from templates: the sandboxed jinja2 environments and their
escapers (``environment``), the render child that bounds a template's time and memory
(``limits``), the spec files and what rpmspec reads from them (``specs``) and each
component's origin, the %changelog date it renders with (``lineage``)."""
