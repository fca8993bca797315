"""Signing: choosing and checking the release key, signing RPMs, repomd.xml and SHA256SUMS,
and verifying those signatures (``signer``)."""
