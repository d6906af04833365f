# vgi-bench: `make run` runs a conformance campaign against the built-in reference DUTs,
# `make test` runs the bench's own tests. Both create .venv/ first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUITES ?= gbt27930.charger gbt27930.bms gbt27930.v2g-draft ocpp201.cp ocpp16.cp ocpp201.csms ocpp16.csms tcec102.platform gridplat.platform power.charger
TEST_WORKERS ?= 4
# Debian packages for report.pdf (WeasyPrint needs pango, and harfbuzz-subset to embed
# fonts quickly; a font that has Chinese) and for the PDF tests (pdftotext, pdftoppm).
# `make sysdeps` installs the missing ones with apt-get when run as root; it does nothing
# when all are present.
SYSTEM_PACKAGES ?= libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei poppler-utils

.PHONY: install sysdeps run test lint bench dbc schema clean

install: sysdeps $(STAMP)

sysdeps:
	@command -v dpkg-query >/dev/null || { echo "vgi-bench: not Debian: install pango, a CJK font and poppler-utils for report.pdf"; exit 0; }; \
	missing=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "vgi-bench: missing Debian packages (run as root: apt-get install $$missing)"; exit 0; fi; \
	echo "vgi-bench: installing Debian packages: $$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,report]'
	touch $(STAMP)

run: sysdeps $(STAMP)
	$(BIN)/vgi-bench run $(foreach s,$(SUITES),--suite $(s))

test: sysdeps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --timeout=1200 -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/can_timing.py

dbc: $(STAMP)
	$(BIN)/vgi-bench dbc gbt27930-2015.dbc

# the profile's JSON Schema shipped with the package, regenerated from vgi_bench/profile.py
schema: $(STAMP)
	$(BIN)/vgi-bench schema > vgi_bench/data/profile.schema.json

clean:
	rm -rf $(VENV) out build *.egg-info
