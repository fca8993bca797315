"""Publish to the mirror: the upload with its switch into place and the previous release kept
(``upload``), the mirror kinds — a directory, rsync over ssh, WebDAV — (``mirrors``) and the
bounded WebDAV client (``webdav``)."""
