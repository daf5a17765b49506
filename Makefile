# The README's two commands: `make demo` and `make test`. Both set themselves up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
DEMO_OUT ?= demo-out

.PHONY: setup demo test bench sample

setup:
	@scripts/setup.sh

demo: setup
	$(VENV)/bin/airlock run data/sample/records.jsonl -o $(DEMO_OUT)

test: setup
	scripts/test.sh

bench: setup
	$(VENV)/bin/python bench/scrub.py
	$(VENV)/bin/python bench/synth.py
	$(VENV)/bin/python bench/audit.py
	$(VENV)/bin/python bench/api.py

sample: setup
	$(VENV)/bin/python data/make_sample.py
