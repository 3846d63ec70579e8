# Two commands set everything up on a fresh machine:
#   make run    the dashboard on the embedded demo database
#   make test   the whole test suite, with lint and format checks
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint format demo-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps record that the environment matches the requirement files; editing one
# of those files reinstalls on the next make.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

demo-db: $(VENV)/.runtime
	$(BIN)/python -m data_access init
	$(BIN)/python -m data_access demo --if-empty
	$(BIN)/python -m data_access precompute

run: demo-db
	$(BIN)/streamlit run dashboard.py --server.port $(PORT) --browser.gatherUsageStats false

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .hypothesis
