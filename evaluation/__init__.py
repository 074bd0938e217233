"""Metrics, per-era reports, benchmarks and baselines."""
