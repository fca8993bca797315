#!/usr/bin/env python3
"""pmrepo command-line entry: see `./build.py --help`. The logic lives in pmrepo/."""

import sys

from pmrepo.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
