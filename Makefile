# make demo  -- create .venv, install autograd_lite (with its plot, progress, symbolic and gif extras), run the walkthrough
# make test  -- create .venv with the dev extras (and Graphviz, Chromium, chromedriver and npm if missing), run everything
# make playground -- build the in-browser playground into ./playground and serve it on 127.0.0.1:8000
# make bench -- the benchmark against micrograd and PyTorch (writes benchmarks/RESULTS.md)
# make mutate -- mutation testing of autograd_lite/engine.py (tools/mutate.py; e.g. ARGS="--max 60");
#                 any other module: ARGS='autograd_lite/kernels.py --tests "pytest -x -q tests/test_ieee_edges.py"'
# make mutate-fuse, make mutate-forward -- the same for fuse.py and forward.py with their tests (ARGS adds, e.g. "--max 100")
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck bench mutate mutate-fuse mutate-forward graphviz browser npm playground clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[plot,progress,symbolic,gif]'
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.base
	$(PIP) -e '.[dev]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.base
	$(PIP) -e '.[bench]'
	touch $@

graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' not found: installing it with apt-get"; \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || \
	  (sudo apt-get update -qq && sudo apt-get install -y -qq graphviz >/dev/null) || \
	  echo "could not install Graphviz; tests that need 'dot' will be skipped (not in CI)"; }

# the headless browser that drives the step-through backprop page in the tests (Debian's packages)
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  echo "chromium/chromedriver not found: installing them with apt-get"; \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  (sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "could not install Chromium; browser tests will be skipped (not in CI)"; }

# npm fetches Pyodide and viz-js for the playground (once, into ~/.cache/autograd_lite/npm)
npm:
	@{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || { \
	  echo "node/npm not found: installing Debian's npm with apt-get"; \
	  (apt-get update -qq && apt-get install -y -qq npm >/dev/null) || \
	  (sudo apt-get update -qq && sudo apt-get install -y -qq npm >/dev/null) || \
	  echo "could not install npm; playground tests will be skipped (not in CI)"; }

playground: $(VENV)/.base npm
	$(PY) -m autograd_lite playground playground --serve

demo: $(VENV)/.base graphviz
	$(PY) -m autograd_lite demo

lint: $(VENV)/.dev
	$(PY) -m ruff check .

typecheck: $(VENV)/.dev
	$(PY) -m mypy

test: $(VENV)/.dev graphviz browser npm lint typecheck
	$(PY) -m pytest -q

bench: $(VENV)/.bench
	$(PY) benchmarks/run.py

mutate: $(VENV)/.dev
	CI=1 $(PY) tools/mutate.py $(ARGS)

mutate-fuse: $(VENV)/.dev
	CI=1 $(PY) tools/mutate.py autograd_lite/fuse.py --tests "pytest -x -q -p no:cacheprovider tests/test_fuse.py \
	  tests/test_issue20_batch.py tests/test_issue20_pins.py tests/test_vectorize.py" $(ARGS)

mutate-forward: $(VENV)/.dev
	CI=1 $(PY) tools/mutate.py autograd_lite/forward.py --tests "pytest -x -q -p no:cacheprovider \
	  tests/test_issue20_batch.py tests/test_explain.py -k 'forward or jvp or tangent or pushes'" $(ARGS)

clean:
	rm -rf $(VENV) demo-output playground build *.egg-info
