# The two commands of the README: `make run` (the whole pipeline on generated data, or
# ARGS="--source DIR" for the real files) and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test setup java chromium jars requirements templates lint-templates clean

# The report is written also when the run fails (it shows where); the exit status is the run's.
run: setup
	@status=0; $(BIN)/lake run $(ARGS) || status=$$?; $(BIN)/lake report; exit $$status

test: setup lint-templates
	$(BIN)/ruff check .
	$(BIN)/pytest $(ARGS)

# The CloudFormation templates as AWS teams check them: cfn-lint (no error or warning) and
# checkov (no failed check; tests/test_templates.py also requires a reason for every skip).
lint-templates: $(STAMP)
	$(BIN)/cfn-lint cloudformation/*.yaml
	$(BIN)/checkov --directory cloudformation --framework cloudformation --skip-download --quiet --compact

setup: java chromium $(STAMP) jars

java:
	@bin/check-java

chromium:
	@bin/check-chromium

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "error: Python 3.11 is required (Glue 5.0 parity); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --editable .
	@touch $(STAMP)

# The jars of versions.toml, then the class archive the local Spark JVMs map (made once per JDK
# and class path: instacart_lake/jvm_archive.py).
jars: $(STAMP)
	@$(BIN)/python -m instacart_lake.jars
	@$(BIN)/python -m instacart_lake.jvm_archive

# The CloudFormation templates whose facts live elsewhere in the repository (a test fails
# when a committed one is stale).
templates: $(STAMP)
	$(BIN)/python -m instacart_lake.deploy.templates

requirements:
	$(PYTHON) -m instacart_lake.versions requirements > requirements.txt
	$(PYTHON) -m instacart_lake.versions requirements-dev > requirements-dev.txt

clean:
	rm -rf $(VENV) .jars lake .pytest_cache
