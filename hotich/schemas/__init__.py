"""Schemas the product validates its output against (PAGE XML 2019, from PRImA, Apache-2.0)."""
