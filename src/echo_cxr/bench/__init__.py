"""Benchmarks: scripts that print numbers (decode speed; RAD training cost comes with training)."""
