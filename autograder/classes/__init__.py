"""Synthetic classes: the demo class, and the classes the benchmarks grade."""
