"""The release notes: what changed since the previous release (``collect``), the Markdown and
HTML page (``render``) and the diff of the installed ``.repo`` files (``repofiles``)."""
