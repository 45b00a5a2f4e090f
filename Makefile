# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint clean browser bench regen-golden mutate bytecode

# The stamp files make set-up idempotent: pip runs again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed bytecode
	$(BIN)/offramp run kursk-2024 --futures 10000

test: $(VENV)/.installed-test browser bytecode
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# offramp's own modules compiled to bytecode once (up to date: ~0.05 s), not at every start:
# an editable install leaves that to the first import, which a PYTHONDONTWRITEBYTECODE
# environment never stores (~0.3 CPU-s of every command's start).
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q src/offramp

# The report tests open the HTML in Debian's Chromium: install it (root with apt), or fail.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || { echo "could not install chromium (apt-get failed)" >&2; exit 1; }; \
	  else echo "chromium not found and cannot be installed here (needs root and apt-get):" \
	    "install Debian's chromium package" >&2; exit 1; fi; }

# Speed, side by side with the peer (EMA Workbench), reported as ratios. Not part of `test`.
bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/full_command.py --proxy --ema 20
	$(BIN)/python benchmarks/analysis.py

# kursk-2024's pinned values (tests/golden): print what moved and record the current values.
regen-golden: $(VENV)/.installed-test
	$(BIN)/python tests/golden/pinned.py --write

# Named one-line mutations of src/, each run against its tests; prints the kill rate per area.
mutate: $(VENV)/.installed-test
	$(BIN)/python tests/mutants/mutate.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build src/*.egg-info
