"""Prometheus metrics of the rules service, registered on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class RulesMetrics:
    """Counters and histograms named ``vigil_rules_<noun>_<unit>``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.readings = Counter(
            "vigil_rules_readings_total", "Readings taken from the readings topics",
            registry=registry)
        self.duplicates = Counter(
            "vigil_rules_duplicate_readings_total",
            "Readings seen before (redeliveries, replays): evaluated, never counted twice",
            registry=registry)
        self.skewed = Counter(
            "vigil_rules_skewed_readings_total",
            "Readings timestamped too far ahead of the clock (ignored)", registry=registry)
        self.evaluations = Counter(
            "vigil_rules_evaluations_total", "Rule evaluations", registry=registry)
        self.alerts = Counter(
            "vigil_rules_alerts_total", "Alert transitions committed and published",
            ["rule", "severity", "state"], registry=registry)
        self.evaluation_seconds = Histogram(
            "vigil_rules_evaluation_seconds", "Time to evaluate one batch of messages",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=registry)
        self.alert_latency = Histogram(
            "vigil_rules_alert_latency_seconds",
            "Reading timestamp to AlertEvent acknowledged by the broker", buckets=_LATENCY,
            registry=registry)
        self.rule_file_errors = Counter(
            "vigil_rules_rule_file_errors_total",
            "Rule file reloads refused as invalid (the previous rules stay in force)",
            registry=registry)
        self.rules_loaded = Gauge(
            "vigil_rules_rules_loaded", "Global rules in force", registry=registry)
        self.patients = Gauge(
            "vigil_rules_patients", "Patients with state on this replica", registry=registry)
        self.acks = Counter(
            "vigil_rules_acks_total", "Alert acknowledgements recorded", registry=registry)
        self.rejected = Counter(
            "vigil_rules_rejected_total",
            "Messages that could not be decoded or evaluated (logged, acknowledged)",
            registry=registry)
        self.db_errors = Counter(
            "vigil_rules_db_errors_total", "Failed database transactions (retried)",
            registry=registry)
