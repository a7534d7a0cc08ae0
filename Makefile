# busta-quality: every target does its own set-up (venv + pinned install).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo serve test test-fast bench bench-crash lint install clean

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
	@echo "next: make serve, then open http://127.0.0.1:8080/ (the dashboard, the API and Data Docs on the demo data)"

# busta serve on the demo project with a sign-in token made for this run: busta.serve.yml is
# busta.yml plus a serve.tokens entry holding only the token's hash (owner-only, git-ignored)
serve: $(STAMP)
	@token=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))'); \
	hash=$$(printf %s "$$token" | sha256sum | cut -d' ' -f1); \
	(umask 077; { cat busta.yml; printf '\nserve:\n  tokens:\n    - name: demo\n      sha256: %s\n      scopes: [read, write]\n' "$$hash"; } > busta.serve.yml); \
	echo "open http://127.0.0.1:8080/ and sign in with this token (valid while busta.serve.yml has its hash):"; \
	echo "  $$token"; \
	exec $(VENV)/bin/busta --config busta.serve.yml serve

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
