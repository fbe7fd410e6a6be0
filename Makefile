# Two commands on a fresh machine with only Python and pip: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test setup install translations extract-messages clean

# The web server and one job worker with its scheduler (celery beat), from the Procfile; Ctrl-C stops both.
# --env /dev/null: the .env beside compose.yaml describes the containers, not this machine.
run: setup
	@echo "OCOP Trace: http://127.0.0.1:5000  (demo logins in README.md)"
	$(BIN)/honcho start -f Procfile --env /dev/null

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-test.txt
	touch $@

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d app/translations --statistics

# For developers: refresh the catalogues after changing user-facing text.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_text -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --width 100

clean:
	rm -rf $(VENV)
