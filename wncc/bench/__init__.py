"""Benchmarks: speed measured against peers in the same run (ratios, single thread)."""
