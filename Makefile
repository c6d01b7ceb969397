# Kapchyk — everything a person repeats. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Find a Python >= 3.12 by running each candidate for real (pyenv shims may exist but fail).
FIND_PYTHON = for c in python3.14 python3.13 python3.12 python3 python \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
	  /usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  if $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo $$p; exit 0; fi; \
	done; exit 1

.PHONY: run test e2e-deps nginx-deps lighthouse venv serve-venv lock migrate demo static lint format messages check-messages bench serve clean help

help:
	@echo "make run        set up (venv, install, migrate, demo data) and serve on http://$(HOST):$(PORT)"
	@echo "make test       the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint       ruff check + format check"
	@echo "make messages   update and compile the ky/ru catalogues"
	@echo "make bench      what a payment costs, as ratios to peers (PostgreSQL, ~5 min)"
	@echo "make serve      the production stack, supervised: nginx + gunicorn + task worker + housekeeping"
	@echo "make lock       regenerate requirements.lock and requirements-dev.lock (hashes) with uv"

# Packages come only from the lock files, every file checked against its hash:
# requirements-dev.lock (runtime + tests, lint, browser tests) for .venv, requirements.lock
# (what production imports, nothing else) for $(SERVE_VENV), the one `make serve` runs.
# The stamp is older than the lock after `make lock` or a merge: the venv is brought up to date.
# SERVE_VENV=.venv serves from the dev one (a test that must not install anything).
SERVE_VENV ?= .venv-serve

# $(call install_venv,DIR,LOCK)
define install_venv
	@py=$$($(FIND_PYTHON)) || { echo "Python >= 3.12 is needed (python3.13 or python3.12)"; exit 1; }; \
	  echo "Using $$py ($$($$py --version))"; \
	  test -x $(1)/bin/python || $$py -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet --require-hashes -r $(2)
	touch $@
endef

$(VENV)/.installed: requirements-dev.lock
	$(call install_venv,$(VENV),requirements-dev.lock)

ifneq ($(SERVE_VENV),$(VENV))
$(SERVE_VENV)/.installed: requirements.lock
	$(call install_venv,$(SERVE_VENV),requirements.lock)
endif

venv: $(VENV)/.installed

serve-venv: $(SERVE_VENV)/.installed

# Regenerate the locks from requirements.txt (runtime) and requirements-dev.txt (-r the
# runtime, plus the tools), with every file's hash, for any platform and Python >= 3.12; the
# dev lock is constrained by the runtime one, so tests run the versions production installs.
# Versions already locked are kept; `make lock LOCK_ARGS=--upgrade` takes the newest allowed.
# uv is installed into .venv on demand (created bare when missing; make venv fills it).
UV_VERSION ?= 0.13.8
LOCK_ARGS ?=
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.12 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)
lock:
	@test -x $(PY) || { py=$$($(FIND_PYTHON)) || { echo "Python >= 3.12 is needed"; exit 1; }; $$py -m venv $(VENV); }
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

static: venv
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=$(VENV) --ignore=$(SERVE_VENV) -v0; \
	  else echo "msgfmt (gettext) not found: using the committed .mo catalogues"; fi
	$(PY) manage.py collectstatic --noinput -v0

migrate: venv
	$(PY) manage.py migrate --noinput -v0

demo: migrate
	$(PY) manage.py demo

# Beside the server: the reference OSMP provider on 127.0.0.1:$(REF_PORT), which the demo's
# Hoster.kg pays through (--attach), the reference acquirer (bank cards) on $(ACQ_PORT), and
# the retry sweeps for payments, card holds and top-ups left pending.
REF_PORT ?= 8300
ACQ_PORT ?= 8310
run: static demo
	@$(PY) manage.py reference_provider --port $(REF_PORT) --attach hoster & ref=$$!; \
	  $(PY) manage.py reference_acquirer --port $(ACQ_PORT) & acq=$$!; \
	  $(PY) manage.py payments_retry --every 5 & sweep=$$!; \
	  ACQUIRER_URL=http://127.0.0.1:$(ACQ_PORT) $(PY) manage.py cards_sweep --every 5 & cards=$$!; \
	  trap 'kill $$ref $$acq $$sweep $$cards 2>/dev/null; wait $$ref $$acq $$sweep $$cards 2>/dev/null' EXIT INT TERM; \
	  echo "Bank cards: link 9417 0100 0000 0014 (any future MM/YY, any 3-digit CVV) at /cards/add/;"; \
	  echo "  read the held amount in the card holder's bank: http://127.0.0.1:$(ACQ_PORT)/bank/ (type the card number)"; \
	  ACQUIRER_URL=http://127.0.0.1:$(ACQ_PORT) $(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests need Debian's Chromium and axe-core (npm); both are installed when possible,
# and the browser tests skip with a message where they cannot be (CI fails instead).
e2e-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
	@if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --silent; fi

test: static e2e-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Lighthouse report (mobile preset) on the main pages; a report, not a gate.
lighthouse: static demo
	@$(PY) scripts/lighthouse.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: venv
	$(PY) manage.py makemessages -l ky -l ru --no-obsolete --ignore=$(VENV) --ignore=$(SERVE_VENV) --ignore=staticfiles --ignore=build
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=$(SERVE_VENV) -v0

check-messages: venv
	$(PY) scripts/check_messages.py

# The production stack on this machine, supervised (deploy/supervise.py starts again whatever
# exits, with backoff, and forwards SIGTERM): nginx on $(HOST):$(PORT) in front (buffers slow
# clients; deploy/nginx.conf, its own files under build/nginx/), gunicorn on
# 127.0.0.1:$(WEB_PORT) (WEB_CONCURRENCY workers, static files by whitenoise), the task worker
# (`manage.py worker`) and the housekeeping loop (`manage.py housekeeping`), all with
# production settings; the worker and the loop outlive a database outage. Without nginx (and
# no root to install it) gunicorn serves $(HOST):$(PORT) itself. Over plain http on $(HOST) it
# turns the https-only parts off unless they are set: behind TLS in production set
# SECURE_SSL_REDIRECT=true and COOKIES_SECURE=true (or leave them unset outside make).
# SECRET_KEY is random per run unless set.
WEB_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
HOUSEKEEPING_EVERY ?= 15

nginx-deps:
	@if ! command -v nginx >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; fi

# OUTBOUND_ALLOW_PRIVATE=true lets it call the reference provider on 127.0.0.1; a real server
# leaves it unset (false): gateways and SMS on private or loopback addresses are refused.
# It runs from $(SERVE_VENV) (requirements.lock alone), as production does; `private` keeps
# static and migrate (prerequisites) on .venv.
serve: private VENV := $(SERVE_VENV)
serve: private PY := $(SERVE_VENV)/bin/python
serve: serve-venv static migrate nginx-deps
	@export DJANGO_DEBUG="$${DJANGO_DEBUG:-false}" ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$(HOST),localhost}" \
	    OUTBOUND_ALLOW_PRIVATE="$${OUTBOUND_ALLOW_PRIVATE:-true}" \
	    SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-false}" COOKIES_SECURE="$${COOKIES_SECURE:-false}" \
	    TASKS_BACKEND="$${TASKS_BACKEND:-django_tasks_db.DatabaseBackend}" WEB_CONCURRENCY="$${WEB_CONCURRENCY:-2}" \
	    SECRET_KEY="$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}"; \
	  if command -v nginx >/dev/null; then \
	    export TRUSTED_PROXY_COUNT="$${TRUSTED_PROXY_COUNT:-1}"; bind=127.0.0.1:$(WEB_PORT); \
	    front="nginx=$$($(PY) deploy/nginx.py --listen $(HOST):$(PORT) --upstream $$bind --prefix build/nginx)" || exit 1; \
	    shown="nginx → gunicorn on $$bind"; \
	  else \
	    echo "nginx is not installed (apt-get install nginx): gunicorn serves $(HOST):$(PORT) directly, unbuffered"; \
	    bind=$(HOST):$(PORT); front=; shown="gunicorn"; \
	  fi; \
	  echo "Serving http://$(HOST):$(PORT)/ ($$shown) with $$WEB_CONCURRENCY web workers + 1 task worker + housekeeping on $${DATABASE_URL:-SQLite}"; \
	  exec $(PY) deploy/supervise.py --grace 25 \
	    "web=$(VENV)/bin/gunicorn config.wsgi --bind $$bind --workers $$WEB_CONCURRENCY --timeout 30 --graceful-timeout 20 --forwarded-allow-ips $${FORWARDED_ALLOW_IPS:-127.0.0.1} --no-control-socket" \
	    "worker=$(PY) manage.py worker --no-reload" \
	    "housekeeping=$(PY) manage.py housekeeping --every $(HOUSEKEEPING_EVERY)" \
	    $${front:+"$$front"}

bench: static
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) $(SERVE_VENV) staticfiles db.sqlite3 build
