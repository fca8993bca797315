"""Mutation testing of the modules that decide what ships or gets in: ``python3 -m mutation.run``
(``make mutation``); the result and how to read it: ``docs/mutation.md``."""
