"""Vigil cache service."""
