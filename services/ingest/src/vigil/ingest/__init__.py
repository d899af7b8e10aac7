"""Vigil ingest."""
