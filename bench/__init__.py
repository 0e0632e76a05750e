"""Reproducible benchmarks (run as `python -m bench.<name>`; never run as tests)."""
