# The README's two commands: `make demo` and `make test`. Both set themselves up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
DEMO_OUT ?= demo-out
DEMO_N ?= 40

.PHONY: setup demo test bench sample

setup:
	@scripts/setup.sh

demo: setup
	@status=0; $(VENV)/bin/airlock run data/sample/records.jsonl -o $(DEMO_OUT) \
		--policy data/sample/policy.yaml -n $(DEMO_N) || status=$$?; \
	if [ -f $(DEMO_OUT)/report.json.sig ]; then \
		$(VENV)/bin/airlock report verify $(DEMO_OUT)/report.json; fi; \
	if [ $$status -eq 3 ]; then \
		echo "The gate quarantined the demo's release (fail-closed, as designed); its reasons:"; \
		$(VENV)/bin/python -c 'import json,sys; [print(" -", r) for r in json.load(open(sys.argv[1]))["reasons"]]' \
			$(DEMO_OUT)/report.json; status=0; fi; \
	echo "Open the audit report: $(DEMO_OUT)/report.html"; exit $$status

test: setup
	scripts/test.sh

bench: setup
	$(VENV)/bin/python bench/scrub.py
	$(VENV)/bin/python bench/synth.py
	$(VENV)/bin/python bench/audit.py
	$(VENV)/bin/python bench/api.py

sample: setup
	$(VENV)/bin/python data/make_sample.py
