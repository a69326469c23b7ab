# Two commands a newcomer needs:  make demo  (run the bot with a local web chat)
#                                 make test  (set up everything and run every test)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/zhibu demo

# Installs/starts PostgreSQL, Chromium and the Node gateway where it can (.ci/services.sh),
# then runs the whole suite on both cores (worksteal: a worker waiting on a slow real component
# hands its queued tests to the other). Bytecode is cached even where the environment turns that
# off: both workers and every process a test starts would compile our modules again (~4 s CPU
# each). pytest's "no tests ran" (exit 5) is a failure.
test: $(VENV)/.installed
	bash .ci/services.sh
	set -a; . var/test.env; set +a; unset PYTHONDONTWRITEBYTECODE; \
	$(PY) -m pytest -n 2 --dist worksteal -p no:cacheprovider -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc

# Quick loop while developing: no real components.
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not gateway and not browser and not postgres"

bench: $(VENV)/.installed
	$(PY) bench/pipeline.py
	$(PY) bench/nlp.py
	$(PY) bench/digests.py

clean:
	rm -rf $(VENV) var .pytest_cache
