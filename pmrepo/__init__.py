"""pmrepo: release tooling for a Pacemaker HA-cluster repository package."""

__version__ = "0.1.0"
