"""Benchmarks: one command each (`.venv/bin/python bench/<name>.py`), with a baseline in the same run."""
