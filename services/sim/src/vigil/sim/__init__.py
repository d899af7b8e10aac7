"""Vigil sim."""
