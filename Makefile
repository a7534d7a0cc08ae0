# busta-quality: every target does its own set-up (venv + pinned install).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench bench-crash lint install clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 3; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,postgres,spark,serve]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/busta --config busta.yml demo
	$(VENV)/bin/busta --config busta.yml alerts list

# everything CI runs: lint (ruff, import contracts, mypy) and the whole suite, two workers
test: lint
	$(PY) -m pytest -q -n 2 --dist loadgroup

# the fast tier: pure functions, no GX, no servers (tests/unit)
test-fast: $(STAMP)
	$(PY) -m pytest -q tests/unit

bench: $(STAMP)
	$(PY) bench/run.py

# 20 SIGKILLs of real `busta ingest` processes at random moments, the store and the lake
# checked after each (make test runs 5, on forked processes); docs/operations.md
bench-crash: $(STAMP)
	$(PY) bench/crash.py

lint: $(STAMP)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --no-cache --check busta_quality tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy busta_quality

clean:
	rm -rf $(VENV) .busta lake gx/uncommitted

# The project templates `busta init` writes: a copy of the reference project (busta.yml, gx/
# without gx/uncommitted, expectations/, checkpoints/) shipped inside the package.
# tests/service/test_project.py fails when the copy drifts from the reference.
TEMPLATES := busta_quality/templates/project
.PHONY: templates
templates:
	rm -rf $(TEMPLATES)
	mkdir -p $(TEMPLATES)
	tar -cf - --exclude=gx/uncommitted --exclude=__pycache__ busta.yml gx expectations checkpoints \
		| tar -xf - -C $(TEMPLATES)
