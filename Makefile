# Thin wrapper: every target calls build.py (the logic lives in pmrepo/).
#   make test                 install what is missing, then run the test suite (fast unit layer first)
#   make check                lint (ruff) and types (mypy --strict) of pmrepo/, ruff and a non-strict mypy over
#                             tests/, then the fast unit layer (seconds) (their config: pyproject.toml and
#                             tests/mypy.ini; their versions: requirements-test.txt)
#   make repo                 build the real release (RELEASE=…, BACKEND=mock on a mock host)
#   make demo                 the offline demo release end to end
#   make release              preflight -> build (signed) -> gates -> notes -> publish
#                             (PUBLISH_TARGET=…; CONTAINER=podman, CONTAINER_IMAGE=local|<image>;
#                             UPGRADE_FROM=<output root of the previous release> adds the upgrade test)
#   make preflight            what `make release` needs (key, mirror, container, disk), checked at once
#                             (PREFLIGHT=build: what a build needs, without the key and the mirror)
#   make pin                  record the sha256 of RELEASE's unpinned URL sources (network; review the diff)
#   make mock-clean           remove the mock roots, bootstraps and caches of work/'s runs (what it freed)
#   make mutation             mutation testing (cosmic-ray) of the modules that decide what ships or gets in,
#                             against the unit layer: score per module, survivors (slow: not part of `make test`)
PYTHON ?= python3
RELEASE ?= releases/1.1.14-1.1.toml
BACKEND ?= rpmbuild
DIST ?=
PUBLISH_TARGET ?=
CONTAINER ?= none
CONTAINER_IMAGE ?=
UPGRADE_FROM ?=
MUTATION_ARGS ?=
# extra yum/dnf options in the container tests, e.g. --setopt=skip_if_unavailable=1 (a real image, no network)
CONTAINER_PM_OPTS ?=
PREFLIGHT ?= release
CONTAINER_ARGS = --container $(CONTAINER) $(if $(CONTAINER_IMAGE),--container-image $(CONTAINER_IMAGE)) $(if $(UPGRADE_FROM),--upgrade-from $(UPGRADE_FROM)) $(foreach o,$(CONTAINER_PM_OPTS),--container-pm-opt=$(o))
DIST_ARGS = $(foreach d,$(DIST),--dist $(d))
BUILD = $(PYTHON) build.py

.PHONY: setup test check demo repo plan gates notes sign preflight pin release publish bench mutation clean mock-clean

setup:
	$(PYTHON) build.py setup

test: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/unit
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

LINTED = pmrepo bench mutation build.py
# ruff check only (tests/ keeps its own layout, not ruff format's), typed by tests/mypy.ini (not --strict)
LINTED_TESTS = tests

check:
	$(PYTHON) -m ruff check $(LINTED) $(LINTED_TESTS)
	$(PYTHON) -m ruff format --check $(LINTED)
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy --config-file tests/mypy.ini
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/unit

demo: setup
	$(BUILD) demo

repo: setup
	$(BUILD) all --release $(RELEASE) --backend $(BACKEND) $(DIST_ARGS)

plan:
	$(BUILD) plan --release $(RELEASE) $(DIST_ARGS)

gates:
	$(BUILD) gate --release $(RELEASE) $(DIST_ARGS) $(CONTAINER_ARGS)

notes:
	$(BUILD) notes --release $(RELEASE)

sign: setup
	$(BUILD) all --sign --release $(RELEASE) --backend $(BACKEND) $(DIST_ARGS)

publish:
	$(BUILD) publish --release $(RELEASE) $(DIST_ARGS) --target "$(PUBLISH_TARGET)"

preflight:
	$(BUILD) preflight --release $(RELEASE) --backend $(BACKEND) $(DIST_ARGS) $(if $(filter release,$(PREFLIGHT)),--sign) $(CONTAINER_ARGS) $(if $(filter release,$(PREFLIGHT)),--target "$(PUBLISH_TARGET)")

pin:
	$(BUILD) pin --release $(RELEASE)

# preflight first, on its own: nothing is built when something the release needs is missing
release: setup
	@$(MAKE) --no-print-directory preflight
	@$(MAKE) --no-print-directory sign gates notes publish

bench: setup
	$(PYTHON) -m bench.run

mutation: setup
	$(PYTHON) -m mutation.run $(MUTATION_ARGS)

mock-clean:
	$(BUILD) mock-clean

clean:
	rm -rf work repo bench/out
