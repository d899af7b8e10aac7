"""Vigil rules service."""
