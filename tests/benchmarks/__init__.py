"""Benchmarks: scripts that print figures (``python -m tests.benchmarks.bench``), not tests."""
