# The two commands: `make run` (the whole product locally) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
export REDIS_URL ?= redis://127.0.0.1:6379/0
export GOOGLE_BASE_URL ?= http://127.0.0.1:8765
export EMULATOR_CLIENT_ID ?= portal-dev-client
export EMULATOR_CLIENT_SECRET ?= portal-dev-secret
# The broker's own host (make run) and the portal-embedded one (the default configuration).
export EMULATOR_REDIRECT_URIS ?= http://broker.localhost:5001/broker/google/callback,http://127.0.0.1:5000/broker/google/callback
export EMULATOR_DEMO_REFRESH_TOKEN ?= 1//demo-sam-legacy-one-way
PG_TEST_URL := postgresql+psycopg://pcs:pcs@127.0.0.1:5432/pcs_test
PYTEST_ARGS ?= -n 2

.PHONY: run test test-postgres ci venv lock bench clean

# Installs the lock (every transitive version, checked against its hashes). Not quiet: a first
# install takes a minute or two, and every package pip fetches is shown as it goes.
$(BIN)/activate: requirements.lock
	@echo "==> [1/3] Python virtualenv in $(VENV)"
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] Upgrading pip"
	$(BIN)/pip install -q --upgrade pip
	@echo "==> [3/3] Installing Python packages from requirements.lock (about a minute on a fresh machine)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -r requirements.lock
	touch $(BIN)/activate

venv: $(BIN)/activate

# After editing requirements.txt or requirements-dev.txt: pin every transitive version, with hashes.
lock: venv
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -o requirements.lock requirements-dev.txt

# make run shows white label across domains: each demo company on its own host name, the broker as its
# own process on a third (browsers resolve *.localhost to this machine).
run: export BROKER_MODE ?= separate
run: export GOOGLE_REDIRECT_URI ?= http://broker.localhost:5001/broker/google/callback
run: export WEBHOOK_BASE_URL ?= http://127.0.0.1:5001
run: venv
	@echo "==> Redis (installed with apt when missing)"
	scripts/ensure-system.sh redis
	@echo "==> Database schema and demo data"
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --port 5000
	@echo ""
	@echo "  Acme Advisory:    http://acme.localhost:5000     (admin@demo.test, client@demo.test, ...: see above)"
	@echo "  Globex Partners:  http://globex.localhost:5000   (admin@globex.test, client@globex.test, ...)"
	@echo "  Broker:           http://broker.localhost:5001   (Google's one redirect URI: $$GOOGLE_REDIRECT_URI)"
	@echo "  Google emulator:  $(GOOGLE_BASE_URL)/calendar   (the Google side: accounts alex@example.com, sam@example.com, ...)"
	@echo ""
	$(BIN)/honcho start -f Procfile

test: venv
	scripts/ensure-system.sh redis chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgres: venv
	scripts/ensure-system.sh redis chromium postgres
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

ci: test test-postgres

bench: venv
	scripts/ensure-system.sh redis
	bench/run_all.sh

clean:
	rm -rf var .pytest_cache
