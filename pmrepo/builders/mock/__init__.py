"""The mock backend: ``builder`` (MockBuilder: SRPMs on the host, binaries in mock's el6/el7
roots), ``config`` (the chroot config pmrepo renders, its repositories and mirrors),
``roots`` (the result directories mock writes as the invoking user), ``options``
(``--mock-opt``) and ``exits`` (what mock's exit codes mean, from mock's own code)."""
