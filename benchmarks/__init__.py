"""Benchmarks: `make bench` runs every `benchmarks/*_bench.py` and prints its figures."""
