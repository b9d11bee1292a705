# LoRA Studio: `make run` starts the app, `make test` runs the whole test suite.
# Both create (or reuse) the virtual environment in .venv first, with the exact versions
# of requirements.lock (the ones the test suite passed with).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
# torch is pinned in the lock like everything else; where it comes from (CPU or CUDA build)
# is chosen below. Extra pip arguments for it, e.g. a CPU-only index: see README, "Installing".
TORCH_VERSION ?= $(shell sed -n 's/^torch==\([0-9][^ ;]*\).*/\1/p' $(LOCK))
TORCH_PIP_ARGS ?=
STAMP  := $(VENV)/.installed
# `make check-latest`: a throw-away environment with the newest versions the ranges allow.
LATEST := build/latest-venv
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --extra dev --extra onnx --extra export --extra tools \
	--universal --python-version 3.11 --custom-compile-command "make lock" \
	--constraint $(VENV)/torch-pin.txt --quiet -o $(LOCK)

# Translations: the GUI's Qt .ts sources (compiled to .qm here, never committed) and the
# engine's gettext .po (read as text at run time). `make translations` refreshes both from
# the code; then translate the new entries (Qt Linguist / any .po editor) and commit.
LANGS := zh_CN
TS     := $(foreach l,$(LANGS),resources/i18n/lora_studio_$(l).ts)
QM     := $(TS:.ts=.qm)

.PHONY: run test venv demo bench bench-quick exe lock lock-upgrade check-latest clean qm translations

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# the set-up tools first (pip, and setuptools for the editable install), from the lock
	$(BIN)/python -m pip install --quiet -c $(LOCK) pip setuptools wheel
	@# torch next: a CPU build where there is no NVIDIA GPU, the CUDA build where there is one.
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: installing CUDA torch $(TORCH_VERSION)"; \
	else \
		echo "No NVIDIA GPU: installing torch $(TORCH_VERSION)"; \
	fi
	$(BIN)/pip install --quiet -c $(LOCK) "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet --no-build-isolation -c $(LOCK) -e ".[dev,export]"
	@touch $(STAMP)

venv: $(STAMP)

resources/i18n/%.qm: resources/i18n/%.ts $(STAMP)
	$(BIN)/pyside6-lrelease -silent $< -qm $@

qm: $(QM)

translations: $(STAMP)
	$(BIN)/pyside6-lupdate -extensions py -no-obsolete -locations relative gui -ts $(TS)
	@mkdir -p build
	$(BIN)/pybabel -q extract --no-default-keywords -k _ -k N_ -k _f:2 --ignore-dirs "bench .* _*" \
		--project "LoRA Studio" -o build/engine.pot engine
	@for l in $(LANGS); do \
		if [ -f engine/locale/$$l/LC_MESSAGES/engine.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -D engine \
				-i build/engine.pot -d engine/locale -l $$l; \
		else $(BIN)/pybabel -q init -D engine -i build/engine.pot -d engine/locale -l $$l; fi; done
	@echo "Catalogues refreshed: translate the new entries, then 'make test' (it fails on unfinished ones)"

run: $(STAMP) $(QM)
	$(BIN)/lora-studio

demo: $(STAMP) $(QM)
	$(BIN)/lora-studio --demo

test: $(STAMP) $(QM)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m engine bench

bench-quick: $(STAMP)
	$(BIN)/python -m engine bench --quick

exe: $(STAMP) $(QM)
	$(BIN)/pyinstaller --noconfirm build.spec

# Re-resolve requirements.lock after editing pyproject.toml's dependencies: pins that still
# fit are kept, new requirements get their newest version. `make lock-upgrade` moves every
# pin to the newest version the ranges allow. Then `make test` and commit both files.
# torch stays at TORCH_VERSION (override: make lock TORCH_VERSION=2.14.1).
lock: $(STAMP)
	$(BIN)/pip install --quiet -c $(LOCK) -e ".[tools]"
	@echo "torch==$(TORCH_VERSION)" > $(VENV)/torch-pin.txt
	$(UV_COMPILE)
	@echo "$(LOCK) written: run 'make test', then commit pyproject.toml and $(LOCK) together"

lock-upgrade: $(STAMP)
	$(BIN)/pip install --quiet -c $(LOCK) -e ".[tools]"
	@echo "torch==$(TORCH_VERSION)" > $(VENV)/torch-pin.txt
	$(UV_COMPILE) --upgrade
	@echo "$(LOCK) upgraded: run 'make test', then commit it"

# Newest versions the ranges allow (torch: TORCH_VERSION, as in make venv, since the newest
# torch on Linux is a multi-GB CUDA build), then the whole suite there, the executable's
# build and --self-test included. Finds upstream breakage before users do.
check-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/pip install --quiet "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	@# the eager upgrade would otherwise replace that torch with the newest (CUDA) build
	@echo "torch==$(TORCH_VERSION)" > $(LATEST)/torch-pin.txt
	$(LATEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager \
		-c $(LATEST)/torch-pin.txt -e ".[dev,export]"
	$(LATEST)/bin/python tests/lockfile.py --compare $(LOCK)
	QT_QPA_PLATFORM=offscreen LORA_STUDIO_UNLOCKED=1 $(LATEST)/bin/python -m pytest -q \
		-p no:cacheprovider
	@echo "check-latest passed with the versions listed above"

clean:
	rm -rf build dist .pytest_cache $(QM)
