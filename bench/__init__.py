"""Benchmarks: ratios against going direct, measured in one run (`make bench`)."""
