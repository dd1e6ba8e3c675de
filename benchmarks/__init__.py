"""Benchmarks for the SDK; run them as modules (``python -m benchmarks.robustness``)."""
