"""Vigil cli."""
