"""Simulated classes of students: the demo class, and the classes the benchmarks and tests grade."""
