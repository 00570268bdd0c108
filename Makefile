# Everything runs in .venv, which the first target that needs it creates.
VENV := .venv
PY := $(VENV)/bin/python
# nbgrader starts its own console scripts (alembic, jupyter): the venv's bin/ goes first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Each edition's source notebook, source/<assignment>/<assignment>.ipynb (course.toml names the editions).
EDITION_NOTEBOOKS := $(foreach folder,$(wildcard source/*),$(folder)/$(notdir $(folder)).ipynb)
NBVAL := --nbval $(EDITION_NOTEBOOKS) notebooks/ --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup demo practice test test-fast lint nbval check docs notebooks release clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

## The main job: grade the bundled demo class in build/demo and show the results.
demo: setup
	$(PY) -m autograder demo

## Students on their own: the student's folder of an edition, outside the course (never over earlier work).
EDITION ?= en
PRACTICE_SUFFIX := $(if $(filter en,$(EDITION)),,_$(EDITION))
PRACTICE ?= $(HOME)/planar-practice$(if $(filter en,$(EDITION)),,-$(EDITION))
practice: setup
	@if [ ! -d release/planar_data_classification$(PRACTICE_SUFFIX) ]; then \
	echo "no edition in '$(EDITION)': release/ has $$(ls release | tr '\n' ' ')"; exit 2; \
	elif [ -e "$(PRACTICE)" ]; then echo "$(PRACTICE) exists already: your work is there (remove it to start again)"; \
	else cp -r release/planar_data_classification$(PRACTICE_SUFFIX) "$(PRACTICE)" && \
	echo "the assignment is in $(PRACTICE): .venv/bin/jupyter lab $(PRACTICE)/planar_data_classification$(PRACTICE_SUFFIX).ipynb"; fi

## All tests: unit and end-to-end tests, then nbval on the stored-output notebooks.
test: setup
	$(PY) -m pytest tests $(NBVAL)

## Maintainers, while working: the unit tests without their slow sweeps (docs/maintainers.md says how long).
test-fast: setup
	$(PY) -m pytest tests/unit -m "not slow" --hypothesis-profile=quick -p no:nbval

## Lint and format check (CI runs it); `.venv/bin/ruff format .` fixes the format.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

nbval: setup
	$(PY) -m pytest $(NBVAL)

## Maintainers: re-execute and store the notebooks (and re-translate), regenerate release/, check all.
notebooks: setup
	$(PY) -m tools.notebooks execute
release: setup
	$(PY) -m tools.notebooks release
check: setup
	$(PY) -m tools.notebooks check
	$(PY) -m tools.docs check

## Maintainers: regenerate the tables and usage the docs take from the code (make check fails when stale).
docs: setup
	$(PY) -m tools.docs write

clean:
	rm -rf build submitted autograded feedback gradebook.db
