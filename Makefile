# OpinionOps — `make run` and `make test` are the two commands; everything else supports them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The web port of `make run` (PORT=9000 make run); links in notifications follow it unless SITE_URL is set.
PORT ?= 8000
export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install lint browser-deps migrate demo clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo $(if $(DEMO_PASSWORD),--password "$(DEMO_PASSWORD)")
	$(PY) manage.py load_demo_monitoring
	$(PY) manage.py load_demo_reports

## make run: install, migrate, load the demo unit, start web + Celery worker + beat (Ctrl-C stops all).
run: demo
	@echo "OpinionOps: http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	exec $(VENV)/bin/honcho -f Procfile start --port $(PORT)

## The browser tests need Debian's Chromium and CJK fonts, the report tests poppler-utils (pdffonts,
## pdftotext); install them when we can (root + apt).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || ! command -v pdffonts >/dev/null; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk gettext poppler-utils >/dev/null) \
			|| echo "warning: could not install chromium; browser tests will be skipped"; \
		else echo "warning: /usr/bin/chromium missing; browser tests will be skipped"; fi; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run
# Django's deployment checks on production settings; the secret is made up for this run only.
	OPINION_OPS_ENV=production DEBUG=false ALLOWED_HOSTS=example.org SITE_URL=https://example.org \
		DATABASE_URL=postgres://check@127.0.0.1:5432/check REDIS_URL=redis://127.0.0.1:6379/0 \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING

## make test: install and run the whole suite (lint, types, migrations check, tests).
test: install browser-deps lint
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf var
