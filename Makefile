# Two entry points: `make run` and `make test`. Both create .venv on first use.
# TORCH pins the wheel installed before the project: on this CPU-only machine
# torch==2.13.0 is a local CPU wheel. GPU users: see README ("CUDA").
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench gpu-check clean package package-test

# The one-dir executable (build.spec; docs/packaging.md). Rebuilt when a source changes.
PACKAGE := dist/streamer-studio/streamer-studio
PACKAGE_INPUTS := build.spec $(shell find app streamer_core resources -type f \
	-not -name '*.pyc' 2>/dev/null)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	# The reference implementation, as the parity tests' oracle (its own deps are not needed).
	$(PY) -m pip install --quiet --no-deps streamer-torch==0.0.3
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m app

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(VENV)/bin/ruff check .

package: $(PACKAGE)

$(PACKAGE): $(STAMP) $(PACKAGE_INPUTS)
	$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install --quiet -e ".[package]"
	$(PY) -m PyInstaller --noconfirm --log-level WARN --workpath build/pyinstaller-$(notdir $(VENV)) \
		--distpath dist build.spec
	touch $(PACKAGE)

package-test: $(PACKAGE)
	$(PY) .ci/package_smoke.py $(PACKAGE)

bench: $(STAMP)
	$(PY) benchmarks/learning_speed.py

# The CUDA path's tests and figures in under 8 minutes (docs/performance.md). Needs a CUDA
# build of torch: make gpu-check TORCH_INDEX=https://download.pytorch.org/whl/cu128
gpu-check: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
