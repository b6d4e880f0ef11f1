# Two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .uv/bin/uv
PY := .venv/bin/python

.PHONY: install run test lint format system-deps clean

# uv itself is bootstrapped into .uv/ with pip, so nothing is installed by hand.
$(UV):
	python3 -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Starting Backstride on http://127.0.0.1:8000 with a Celery worker and beat. Ctrl-C stops them all."
	@echo "Demo logins: physio@example.com / backstride-physio, patient@example.com / backstride-patient"
	.venv/bin/honcho start -f Procfile.dev

# Debian's Chromium for the browser tests and docker-compose to validate the
# compose file; installed only when missing (root can apt-get on these machines).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing from Debian"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install system-deps
	.venv/bin/pytest $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean:
	rm -rf .venv .uv var
