# LoRA Studio: `make run` starts the app, `make test` runs the whole test suite.
# Both create (or reuse) the virtual environment in .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Extra pip arguments for torch, e.g. a CPU-only package index (see README, "Installing").
TORCH_PIP_ARGS ?=
STAMP  := $(VENV)/.installed

.PHONY: run test venv demo bench bench-quick exe clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first: a CPU build where there is no NVIDIA GPU, the CUDA build where there is one.
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: installing CUDA torch"; \
		$(BIN)/pip install --quiet "torch>=2.4" $(TORCH_PIP_ARGS); \
	else \
		echo "No NVIDIA GPU: installing torch 2.13.0"; \
		$(BIN)/pip install --quiet "torch==2.13.0" $(TORCH_PIP_ARGS); \
	fi
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/lora-studio

demo: $(STAMP)
	$(BIN)/lora-studio --demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m engine bench

bench-quick: $(STAMP)
	$(BIN)/python -m engine bench --quick

exe: $(STAMP)
	$(BIN)/pyinstaller --noconfirm build.spec

clean:
	rm -rf build dist .pytest_cache
