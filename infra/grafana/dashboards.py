"""Vigil's Grafana dashboards as code: ``uv run python infra/grafana/dashboards.py [--out DIR]``.

Writes one JSON file per dashboard (sorted keys, stable ids, so a diff shows only real
changes) to ``infra/grafana/dashboards/`` and to the Helm chart's copy in
``charts/vigil/dashboards/``; with ``--out DIR`` to DIR only. The SQL is in ``queries.py``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import queries as q
from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries, trend
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from panels import common, last_value, patient_variable, thresholds, with_ids

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUTPUTS = [HERE / "dashboards", ROOT / "charts" / "vigil" / "dashboards"]
TAGS = ["vigil"]
# Grafana unit ids; "suffix:" where Grafana has none (beats, breaths, mmHg).
BPM, PER_MIN, MMHG, MG_DL = "suffix: bpm", "suffix: /min", "suffix: mmHg", "conmgdL"

# Consensus glucose targets, mg/dL: < 54 level-2 and < 70 level-1 hypoglycaemia, > 180 and
# > 250 hyperglycaemia. Grafana colours a value from its step upwards.
GLUCOSE_STEPS = thresholds("dark-red", (54, "red"), (70, "green"), (180, "yellow"),
                           (250, "orange"))


def _series(title: str, description: str, sql: str, unit: str, w: int = 12) -> timeseries.Panel:
    panel: timeseries.Panel = common(timeseries.Panel(), title, description, sql, unit, w=w)
    return panel.span_nulls(True)


def _bars(title: str, description: str, sql: str, unit: str, w: int = 12) -> timeseries.Panel:
    panel: timeseries.Panel = common(timeseries.Panel(), title, description, sql, unit, w=w)
    return (panel.draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80)
            .stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL)))


def _stat(title: str, description: str, sql: str, unit: str, w: int = 4, h: int = 4,
          steps: db.ThresholdsConfig | None = None) -> stat.Panel:
    panel: stat.Panel = common(stat.Panel(), title, description, sql, unit, fmt="table", w=w,
                               h=h)
    panel = panel.reduce_options(last_value()).color_mode(cm.BigValueColorMode.VALUE)
    return panel.thresholds(steps or thresholds("blue"))


def _table(title: str, description: str, sql: str, unit: str = "none", w: int = 24,
           h: int = 8) -> table.Panel:
    panel: table.Panel = common(table.Panel(), title, description, sql, unit, fmt="table",
                                w=w, h=h)
    return panel


def _dashboard(uid: str, title: str, description: str, time_from: str) -> db.Dashboard:
    return (db.Dashboard(title).uid(uid).description(description).tags(TAGS)
            .time(time_from, "now").refresh("1m").timezone("browser").editable())


def patient_vitals() -> db.Dashboard:
    """The clinician's view of one patient: latest values, trends, firing alerts."""
    d = (_dashboard("vigil-patient-vitals", "Patient vitals",
                    "One patient's vital signs from every device, and their firing alerts.",
                    "now-24h").with_variable(patient_variable())
         .annotation(alert_annotations()))
    for title, metric, unit, steps in [
        ("Heart rate", "heart_rate", BPM, thresholds("red", (40, "green"), (130, "red"))),
        ("SpO2", "spo2", "percent", thresholds("red", (92, "orange"), (95, "green"))),
        ("Glucose", "glucose", MG_DL, GLUCOSE_STEPS),
        ("Respiratory rate", "respiratory_rate", PER_MIN,
         thresholds("red", (9, "green"), (21, "orange"), (25, "red"))),
        ("Temperature", "body_temperature", "celsius",
         thresholds("blue", (36.1, "green"), (38.1, "orange"), (39.1, "red"))),
    ]:
        d = d.with_panel(_stat(f"{title} (latest)", f"The newest {title.lower()} reading in"
                               " the time range.", q.latest([(title, metric)]), unit, steps=steps))
    d = d.with_panel(_stat(
        "Blood pressure (latest)", "The newest systolic and diastolic readings in the range.",
        q.latest([("systolic", "blood_pressure_systolic"),
                  ("diastolic", "blood_pressure_diastolic")]), MMHG))
    d = d.with_panel(_series(
        "Heart rate", "Mean per interval, with the lowest and highest reading.",
        q.vitals_series([("heart rate", "heart_rate", "avg"), ("min", "heart_rate", "min"),
                         ("max", "heart_rate", "max")]), BPM))
    d = d.with_panel(_series("SpO2", "Blood oxygen saturation, mean and lowest per interval.",
                             q.vitals_series([("SpO2", "spo2", "avg"),
                                              ("lowest", "spo2", "min")]), "percent"))
    d = d.with_panel(
        _series("Glucose", "Mean per interval. Bands: < 54 and < 70 (hypo), 70-180 (target),"
                " > 180 and > 250 mg/dL (hyper).",
                q.vitals_series([("glucose", "glucose", "avg")]), MG_DL)
        .thresholds(GLUCOSE_STEPS)
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.AREA)))
    d = d.with_panel(_series("Respiratory rate", "Breaths per minute, mean per interval.",
                             q.vitals_series([("respiratory rate", "respiratory_rate", "avg")]),
                             PER_MIN))
    d = d.with_panel(_series("Temperature", "Body temperature, mean per interval.",
                             q.vitals_series([("temperature", "body_temperature", "avg")]),
                             "celsius"))
    d = d.with_panel(_series(
        "Blood pressure", "Systolic and diastolic, mean per interval.",
        q.vitals_series([("systolic", "blood_pressure_systolic", "avg"),
                         ("diastolic", "blood_pressure_diastolic", "avg")]), MMHG))
    d = d.with_panel(_bars("Steps per day", "Steps per calendar day in the patient's time zone.",
                           q.daily_totals([("steps", "steps")]), "none"))
    d = d.with_panel(_bars(
        "Sleep per night", "Hours per sleep stage, by the day (patient's time zone) the night"
        " ends.", q.daily_totals([("deep", "sleep_deep"), ("core", "sleep_core"),
                                  ("REM", "sleep_rem"), ("awake", "sleep_awake")]), "h"))
    return d.with_panel(_table("Active alerts", "Alerts firing now for this patient, newest"
                               " first, acknowledged or not.", q.ACTIVE_ALERTS))


def alert_annotations() -> db.AnnotationQuery:
    """The patient's alerts as the notifier posts them (vigil.notifier.annotations): a point
    when one fires, a region once it resolves. Grafana's own annotation store, by tags."""
    return (db.AnnotationQuery().name("Alerts").enable(True).icon_color("red")
            .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
            .target(db.AnnotationTarget().type("tags").match_any(False).limit(100)
                    .tags(["vigil", "alert", "patient:${patient}"])))


def glucose() -> db.Dashboard:
    """The CGM view: consensus metrics over the dashboard's time range."""
    d = (_dashboard("vigil-glucose", "Glucose",
                    "Continuous glucose monitoring metrics (international consensus, 2019).",
                    "now-14d").with_variable(patient_variable()))
    d = d.with_panel(
        common(bargauge.Panel(), "Time in range", "Share of glucose readings in each band.",
               q.TIME_IN_RANGE, "percent", fmt="table", w=12, h=8)
        .min(0).max(100).display_mode(cm.BarGaugeDisplayMode.BASIC)
        .reduce_options(last_value())
        .thresholds(thresholds("green"))
        .override_by_name(q.GLUCOSE_BANDS[0][0], [_colour("dark-red")])
        .override_by_name(q.GLUCOSE_BANDS[1][0], [_colour("red")])
        .override_by_name(q.GLUCOSE_BANDS[3][0], [_colour("yellow")])
        .override_by_name(q.GLUCOSE_BANDS[4][0], [_colour("orange")]))
    d = d.with_panel(_stat("Mean glucose", "Mean of every reading in the range.",
                           q.MEAN_GLUCOSE, MG_DL, w=3, h=8, steps=GLUCOSE_STEPS))
    d = d.with_panel(_stat("GMI", "Glucose management indicator: 3.31 + 0.02392 x mean mg/dL,"
                           " an estimate of HbA1c.", q.GMI, "percent", w=3, h=8,
                           steps=thresholds("green", (7, "orange"), (8, "red"))))
    d = d.with_panel(_stat("Coefficient of variation", "SD / mean; 36 % or more means"
                           " unstable glucose.", q.GLUCOSE_CV, "percent", w=3, h=8,
                           steps=thresholds("green", (36, "orange"))))
    d = d.with_panel(_stat("Readings", "Glucose readings in the range (a CGM gives 288 a day).",
                           q.GLUCOSE_COUNT, "none", w=3, h=8))
    d = d.with_panel(
        _series("Glucose", "Mean per interval, over the target bands.",
                q.vitals_series([("glucose", "glucose", "avg")]), MG_DL, w=24)
        .thresholds(GLUCOSE_STEPS)
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.AREA)))
    d = d.with_panel(
        _bars("Time in range per day", "Share of each day's readings in each band (patient's"
              " calendar day).", q.TIME_IN_RANGE_DAILY, "percent", w=24)
        .stacking(cb.StackingConfig().mode(cm.StackingMode.PERCENT))
        .override_by_name(q.GLUCOSE_BANDS[0][0], [_colour("dark-red")])
        .override_by_name(q.GLUCOSE_BANDS[1][0], [_colour("red")])
        .override_by_name(q.GLUCOSE_BANDS[2][0], [_colour("green")])
        .override_by_name(q.GLUCOSE_BANDS[3][0], [_colour("yellow")])
        .override_by_name(q.GLUCOSE_BANDS[4][0], [_colour("orange")]))
    return d.with_panel(
        common(trend.Panel(), "Ambulatory glucose profile", "Every day of the range laid over"
               " one another: percentiles per hour of the patient's day.", q.AGP, MG_DL,
               fmt="table", w=24, h=10)
        .x_field("hour of day").thresholds(GLUCOSE_STEPS)
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.AREA)))


def _colour(colour: str) -> dm.DynamicConfigValue:
    return dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})


def platform() -> db.Dashboard:
    """The operators' view: throughput, devices, dead letters, ingest freshness."""
    d = _dashboard("vigil-platform", "Platform", "Ingest throughput, devices, dead letters"
                   " and alert delivery across all patients.", "now-6h")
    d = d.with_panel(_stat("Since last write", "Seconds since the ingest last stored a reading"
                           " measured in the range.", q.INGEST_FRESHNESS, "s", w=8,
                           steps=thresholds("green", (60, "orange"), (300, "red"))))
    d = d.with_panel(_stat("Devices online", "Devices whose last status said online, of all"
                           " registered.", q.DEVICES_ONLINE, "none", w=8))
    d = d.with_panel(_stat("Alerts firing", "Alerts firing now, all patients.", q.FIRING_ALERTS,
                           "none", w=8, steps=thresholds("green", (1, "red"))))
    d = d.with_panel(_series("Readings per minute", "Readings per minute by metric, by the time"
                             " they were measured.", q.READINGS_PER_MINUTE, "none", w=24))
    d = d.with_panel(_bars("Dead letters by reason", "Rejected messages per interval, by stage"
                           " and reason (ids and numbers folded to #).",
                           q.DEAD_LETTERS_BY_REASON, "none", w=12))
    d = d.with_panel(_bars("Notifications", "Notification attempts per interval by outcome.",
                           q.NOTIFICATIONS_BY_STATUS, "none", w=12))
    d = d.with_panel(_table("Latest dead letters", "The newest rejected messages (the payload"
                            " is not shown: it may hold health data).", q.LATEST_DEAD_LETTERS))
    d = d.with_panel(
        _table("Devices", "Every registered device, most recently seen first.", q.DEVICES,
               h=10)
        .override_by_name("silent for", [dm.DynamicConfigValue(id_val="unit", value="s")])
        .override_by_name("battery", [dm.DynamicConfigValue(id_val="unit", value="percent")])
        .override_by_name("RSSI", [dm.DynamicConfigValue(id_val="unit", value="dBm")]))
    return alarm_fatigue(d)


def alarm_fatigue(d: db.Dashboard) -> db.Dashboard:
    """How often carers are interrupted and how fast they answer (views of migration 0005)."""
    d = d.with_row(db.Row("Alarm fatigue"))
    d = d.with_panel(_bars("Notifications per patient per day", "Messages delivered for each"
                           " patient per calendar day of the patient (a grouped message"
                           " counts once).", q.NOTIFICATIONS_PER_PATIENT_DAY, "none"))
    d = d.with_panel(_series("Time to acknowledge", "From an alert's start to its first"
                             " acknowledgement, median and 90th percentile per UTC day, all"
                             " patients.", q.TIME_TO_ACK, "s"))
    d = d.with_panel(_bars("Snoozes and silences per day", "Snoozes (one alert) and silences"
                           " (a patient) created per patient day.", q.SNOOZES_PER_DAY, "none",
                           w=24))
    seconds = [dm.DynamicConfigValue(id_val="unit", value="s")]
    return d.with_panel(
        _table("Alarm fatigue by patient", "Per patient over the range: alerts, messages"
               " delivered (and per day of the range), time to acknowledge, alerts never"
               " acknowledged, snoozes and silences. Most notified first.",
               q.FATIGUE_BY_PATIENT)
        .override_by_name("median time to ack", seconds)
        .override_by_name("p90 time to ack", seconds)
        .override_by_name("per day", [dm.DynamicConfigValue(id_val="decimals", value=1)]))


DASHBOARDS: dict[str, Callable[[], db.Dashboard]] = {
    "patient_vitals": patient_vitals,
    "glucose": glucose,
    "platform": platform,
}


def render(build: Callable[[], db.Dashboard]) -> str:
    """One dashboard as deterministic JSON text."""
    model: dict[str, Any] = json.loads(json.dumps(build().build(), cls=JSONEncoder))
    return json.dumps(with_ids(model), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write(out: Path, *, prune: bool) -> list[Path]:
    """Write every dashboard to ``out``; return the files written.

    ``prune`` also removes other ``*.json`` there: a renamed or dropped dashboard must leave the
    committed folders (and so the chart's ConfigMaps), but an arbitrary ``--out`` is left alone.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in DASHBOARDS.items():
        path = out / f"{name}.json"
        path.write_text(render(build), encoding="utf-8")
        written.append(path)
    if prune:
        for stale in set(out.glob("*.json")) - set(written):
            stale.unlink()
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write here only (default: infra and chart)")
    args = parser.parse_args(argv)
    if args.out:
        write(args.out, prune=False)
    else:
        for out in OUTPUTS:
            write(out, prune=True)


if __name__ == "__main__":
    main()
