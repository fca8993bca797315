# Thin wrapper: every target calls build.py (the logic lives in pmrepo/).
PYTHON ?= python3
RELEASE ?= releases/1.1.14-1.1.toml
BUILD = $(PYTHON) build.py

.PHONY: setup test demo repo plan clean

setup:
	$(PYTHON) build.py setup

test: setup
	$(PYTHON) -m pytest -q tests

demo: setup
	$(BUILD) demo

repo: setup
	$(BUILD) all --release $(RELEASE)

plan:
	$(BUILD) plan --release $(RELEASE)

clean:
	rm -rf work repo/*/
