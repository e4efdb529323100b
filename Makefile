# The three commands a person needs: make run, make test, make bench.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= config/filterd.example.yaml
STAMP := $(VENV)/.installed

.PHONY: run demo test unit bench lint format system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian tools the tests and benchmarks drive as real peers (dnsmasq, dnsperf, dig), network
# namespaces for discovery tests (iproute2), the IEEE vendor registry (ieee-data), and headless
# Chromium with its WebDriver for the dashboard's browser tests (chromium, chromium-driver),
# systemd-analyze to verify the installer's unit files (systemd), and the font the PDFs print
# every name in (fonts-dejavu-core).
system-deps:
	@missing=""; \
	command -v dnsmasq >/dev/null || missing="$$missing dnsmasq-base"; \
	command -v dnsperf >/dev/null || missing="$$missing dnsperf"; \
	command -v dig >/dev/null || missing="$$missing dnsutils"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	test -f /usr/share/ieee-data/oui.txt || missing="$$missing ieee-data"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The first run a carer meets: no children yet (the starter rules), the dashboard's address and
# set-up code printed; Ctrl-C or closing the terminal stops both programs (`filterd up`).
run: $(STAMP)
	@echo "filterd starting with $(CONFIG); query it with: dig @127.0.0.1 -p 1053 example.com"
	@echo "metrics at:     http://127.0.0.1:9153/metrics"
	@echo "the browser warns about the box's own certificate until you trust var/tls/ca.crt"
	@echo "(README, Dashboard security)"
	@exec $(VENV)/bin/filterd up --config $(CONFIG) --first-rules config/rules.starter.yaml

# The demo home (two children, their devices and bedtimes, from config/rules.example.yaml) in
# var/demo, for the dig examples in the README; the carer's own var/ is left alone.
DEMO := var/demo
demo: $(STAMP)
	@mkdir -p $(DEMO)
	@sed -e 's#"var/rules.yaml"#"$(DEMO)/rules.yaml"#' -e 's#"var/filterd.db"#"$(DEMO)/filterd.db"#' \
	  -e 's#"var/dashboard.db"#"$(DEMO)/dashboard.db"#' $(CONFIG) > $(DEMO)/filterd.yaml
	@cp config/rules.example.yaml $(DEMO)/rules.yaml
	@echo "the demo home: query it with:  dig @127.0.0.1 -p 1053 example.com"
	@echo "as Sam's tablet: dig @127.0.0.1 -p 1053 -b 127.0.0.2 www.google.co.uk"
	@exec $(VENV)/bin/filterd up --config $(DEMO)/filterd.yaml

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

# In-process tests only (no subprocess, socket or browser): the chain's stages, the rules,
# list parsing, packet decoding. Seconds, so run them after every change; `make test` runs all.
unit: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

bench: $(STAMP) system-deps
	$(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var build *.egg-info
