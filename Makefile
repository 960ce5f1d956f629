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

# Notebooks run JOBS at a time, one kernel each with one thread for torch and BLAS alike: on 2 cores
# that beats one notebook with 2 threads, and two kernels with 2 threads each fight for the cores.
# Kernels inherit MPLBACKEND (the inline backend makes plt.show() put figures in the pages) and
# IPYTHONDIR, whose kernel config (book/ipython_kernel_config.py) makes figures SVG.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
IPYTHON_BUILD := $(CURDIR)/_build/ipython
NB_ENV := MPLBACKEND=module://matplotlib_inline.backend_inline LSUTILS_PROGRESS=0 LSUTILS_THREADS=1 \
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 IPYTHONDIR=$(IPYTHON_BUILD)

.PHONY: book pdf test unit notebooks venv data exercises check-exercises browser-test bench lint clean

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

# Every notebook is executed afresh (tools/execute_notebooks.py empties the execution cache first);
# --all re-reads every page, so no number in the prose is left over from an old build.
# Rendering errors fail the build: tools/check_sources.py before it (control characters, TeX escapes
# lost in Python strings), the book's Sphinx extension during it (-W), and MathJax in Chromium after it.
CHROMIUM ?= /usr/bin/chromium
book: $(STAMP) data
	$(PY) tools/check_sources.py
	rm -rf _build/html
	mkdir -p $(IPYTHON_BUILD)/profile_default
	cp book/ipython_kernel_config.py $(IPYTHON_BUILD)/profile_default/
	$(NB_ENV) $(PY) tools/execute_notebooks.py --jobs $(JOBS)
	$(NB_ENV) $(VENV)/bin/jupyter-book build --all . -W -n --keep-going
	@if [ -x "$(CHROMIUM)" ]; then \
	  LSUTILS_BROWSER_TEST=require LSUTILS_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q -p no:cacheprovider \
	    tests/test_browser.py -k test_no_math_errors; \
	else echo "note: no Chromium at $(CHROMIUM): MathJax errors are checked by make browser-test"; fi

# A PDF of the built book (run `make book` first): the pages in table-of-contents order, printed by the
# same headless Chromium as the browser test, with a title page and contents. See tools/build_pdf.py.
pdf: $(STAMP)
	$(PY) tools/build_pdf.py

unit: $(STAMP) data
	$(PY) -m pytest tests -q -n $(JOBS)

notebooks: $(STAMP) data
	$(NB_ENV) $(PY) -m pytest -q -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=900 -p no:cacheprovider $(NOTEBOOK_DIRS)

test: lint unit check-exercises notebooks

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
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf _build .cache
