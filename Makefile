# Documentation targets. `make docs-figures` runs every tutorial at full size and writes its
# figures into docs/figures/ (committed); `make docs` builds the site strictly into site/.
PYTHON ?= python
TUTORIALS := ill_posedness regularisation method_comparison resolution_snr cheese_pipeline

.PHONY: test lint typecheck docs docs-figures docs-figures-quick docs-serve

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

typecheck:
	$(PYTHON) -m mypy


docs-figures:
	@for t in $(TUTORIALS); do \
		echo "== tutorials/$$t.py"; \
		MPLBACKEND=Agg $(PYTHON) tutorials/$$t.py --out docs/figures || exit 1; \
	done

# Reduced sizes, into a scratch folder (what the tests run).
docs-figures-quick:
	@for t in $(TUTORIALS); do \
		MPLBACKEND=Agg $(PYTHON) tutorials/$$t.py --quick --out build/figures-quick || exit 1; \
	done

docs:
	$(PYTHON) -m mkdocs build --strict

docs-serve:
	$(PYTHON) -m mkdocs serve
