# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment and installs everything it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -c constraints.txt -e '.[test,ray]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m ncdiff_bench.demo samples demo-out

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/ncd bench ../shared/data/kodak --anchors ../shared/anchors/kodak --out bench-out

clean:
	rm -rf demo-out bench-out build *.egg-info
