"""Vigil shared core: settings, topics, metric catalogue, MQTT and database helpers."""
