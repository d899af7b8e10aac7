"""Vigil notifier service."""
