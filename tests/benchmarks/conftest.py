"""Nothing here is a test: pytest must collect no file in this folder (see bench.py)."""

collect_ignore_glob = ["*.py"]
