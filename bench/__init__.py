"""Benchmarks for filterd, run with ``python -m bench`` (``make bench``).

Each benchmark is one module with a ``run(options)`` function, registered in
``bench.__main__``; results land in ``bench/results/<name>-<UTC timestamp>.json``.
"""
