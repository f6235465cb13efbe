# Izlek: two commands set everything up on a fresh machine (python3 and make are enough).
#   make run    run Izlek (SQLite, an embedded nats-server, the İzmir demo data)
#   make test   run every test against real PostgreSQL and real nats-servers
#   make bench  run the benchmarks: bench/results.json and docs/performance.md

UV_VERSION := 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
VENV       := .venv
PYTHON     ?= $(shell command -v python3.11 || command -v python3)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test bench browser install token lint format check-deploy clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml services/plans/pyproject.toml services/partners/pyproject.toml services/notifications/pyproject.toml gateway/pyproject.toml
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

run: install
	$(VENV)/bin/izlek run --demo-data examples/izmir

test: install browser
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# On the machine's cores, with PostgreSQL found as the tests find it and nats-servers of its own; BENCH_ARGS may
# hold --quick (small sizes, results in bench/results-quick.json only) or --only 1,2.
bench: install
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# The web pages' end-to-end test drives Debian's Chromium (never a downloaded browser). As root on Debian it is
# installed here; elsewhere install it yourself (apt-get install chromium), or that one test fails and says so.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

ROLE ?= coordinator
# SCOPE: the scopes of a partner app's token, separated by spaces, e.g. SCOPE="plan:izmir-eylem-plani region:İzmir"
SUBJECT ?= dev@izlek.local
token: install
	@$(VENV)/bin/izlek token --sub "$(SUBJECT)" --role "$(ROLE)" $(if $(ORG),--org "$(ORG)") \
		$(foreach scope,$(SCOPE),--scope "$(scope)")

lint: install
	$(VENV)/bin/ruff check libs services gateway tests bench

# The deployment checks (Kubernetes manifests, docker-compose.yml, Dockerfiles, security scan), offline, with
# tools pinned in deploy/checks/requirements.txt and kept apart from the workspace's lock in their own venv.
DEPLOY_TOOLS := $(TOOLS)/deploy-checks

$(DEPLOY_TOOLS)/.installed: deploy/checks/requirements.txt
	$(PYTHON) -m venv $(DEPLOY_TOOLS)
	$(DEPLOY_TOOLS)/bin/pip install --quiet --disable-pip-version-check -r deploy/checks/requirements.txt
	@touch $@

check-deploy: $(DEPLOY_TOOLS)/.installed
	PATH="$(CURDIR)/$(DEPLOY_TOOLS)/bin:$$PATH" $(DEPLOY_TOOLS)/bin/python deploy/checks/run_checks.py

format: install
	$(VENV)/bin/ruff format libs services gateway tests

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache
