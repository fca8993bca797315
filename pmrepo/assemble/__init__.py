"""Assemble a dist's output from its builds: the three repositories and their metadata
(``repository``: createrepo_c), the metapackage and the repo packages (``repopkg``), what a
fresh install of the stack must bring (``installset``), and the whole output in a staging
directory, checked, then renamed into place (``assembly``)."""
