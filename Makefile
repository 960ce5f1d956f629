# lsbook: two commands do all the set-up.  `make book`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOK_DIRS := book exercises solutions
FASHION_DIR := /usr/share/datasets/fashion-mnist

# Trained models are cached here and shared by the test run and the book build.
export LSUTILS_CACHE ?= $(CURDIR)/.cache/lsutils
export PYTHONHASHSEED := 0
# Import lsutils from this checkout (also when .venv is shared with another worktree).
export PYTHONPATH := $(CURDIR)

.PHONY: book test unit notebooks venv data exercises check-exercises browser-test bench lint clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Fashion-MNIST ships in Debian's dataset-fashion-mnist; install it when we can (root, apt).
# Without it lsutils falls back to torchvision's download, which needs network access.
data:
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ] && [ -z "$$LSUTILS_DATA" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's dataset-fashion-mnist"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) \
	      || echo "warning: could not install dataset-fashion-mnist; lsutils will try torchvision's download"; \
	  else echo "note: $(FASHION_DIR) missing; lsutils will try torchvision's download"; fi; \
	fi

# --all: re-read (and so re-execute) every page, so no number in the prose is left over from an old build.
# Notebook kernels inherit MPLBACKEND: the inline backend makes plt.show() put figures in the pages.
book: $(STAMP) data
	rm -rf _build/html
	MPLBACKEND=module://matplotlib_inline.backend_inline LSUTILS_PROGRESS=0 $(VENV)/bin/jupyter-book build --all . -W -n --keep-going

unit: $(STAMP) data
	$(PY) -m pytest tests -q

notebooks: $(STAMP) data
	$(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider $(NOTEBOOK_DIRS)

test: unit check-exercises notebooks

exercises: $(STAMP)
	$(PY) tools/exercisegen.py solutions exercises

check-exercises: $(STAMP)
	$(PY) tools/exercisegen.py solutions exercises --check

browser-test: $(STAMP)
	LSUTILS_BROWSER_TEST=require $(PY) -m pytest -q tests/test_browser.py

bench: $(STAMP)
	$(PY) benchmarks/cifar_finetune.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf _build .cache
