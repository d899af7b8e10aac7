"""Rebuild window, baseline and alert state from the database when a replica starts.

Each patient has a committed *progress* watermark: the reading time up to which the rules had
evaluated it when they last committed. Readings up to the progress are replayed silently, as
a warm-up (from what each metric's rules read before it, plus ``rebuild_s``), and the alerts
open at that instant are taken from the database. Readings after it are replayed for real.
Alert ids are deterministic, so a transition the replay produces is either already stored
(nothing changes) or was lost in a crash before commit (it is stored and published now): no
missed and no duplicate alert. A patient with no progress yet replays its last ``rebuild_s``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import asyncpg

from vigil.rules import store
from vigil.rules.events import to_dt, to_ms
from vigil.rules.lifecycle import Transition
from vigil.rules.state import Engine, Reading


def _plan(engine: Engine, patient_ids: list[str],
          ) -> tuple[dict[str, float], dict[str, set[int]], dict[str, float]]:
    """Per metric: seconds of raw history the rules read, roll-up widths and their lookback."""
    keep: dict[str, float] = defaultdict(float)
    widths: dict[str, set[int]] = defaultdict(set)
    lookback: dict[str, float] = defaultdict(float)
    seen: set[int] = set()
    for p in patient_ids:
        eff = engine.rules.for_patient(p)
        if id(eff) in seen:
            continue
        seen.add(id(eff))
        for metric, sizes in eff.rollups.items():
            widths[metric] |= set(sizes)
            lookback[metric] = max(lookback[metric], eff.baseline_s.get(metric, 0.0))
        for metric, r in eff.retention_s.items():
            keep[metric] = max(keep[metric], r)
    return keep, widths, lookback


async def rebuild(conn: asyncpg.Connection, engine: Engine, owned: Callable[[str], bool],
                  margin_s: float, wall_ms: int) -> tuple[list[str], list[Transition]]:
    """Replay owned patients' history; return (patients, transitions the replay produced)."""
    ids = [p for p in await store.patients(conn) if owned(p)]
    if not ids:
        return [], []
    keep, widths, lookback = _plan(engine, ids)
    last = await store.latest(conn, ids, sorted(keep))
    done = await store.progress(conn, ids)
    newest: dict[str, int] = {}
    for (p, _), t in last.items():
        newest[p] = max(newest.get(p, t), t)
    margin_ms = int(margin_s * 1000)
    cut = {p: done.get(p, t - margin_ms) for p, t in newest.items()}
    starts: dict[tuple[str, str], int] = {}
    for (p, metric), t in last.items():
        start = min(t, cut[p]) - int(keep[metric] * 1000) - margin_ms
        align = max(widths.get(metric, {1}))
        starts[(p, metric)] = start - start % align
    for metric, sizes in widths.items():
        before = {p: s for (p, m), s in starts.items() if m == metric}
        since = min(before.values(), default=wall_ms) - int(lookback[metric] * 1000)
        for w in sizes:
            for r in await store.rollups(conn, metric, w, since, before):
                engine.seed_rollup(r["patient_id"], metric, w, int(r["start_ms"]),
                                   float(r["total"]), int(r["n"]))
    by_patient: dict[str, list[Reading]] = defaultdict(list)
    arrived: dict[tuple[str, str], int] = {}
    for r in await store.history(conn, starts):
        by_patient[r["patient_id"]].append(
            Reading(to_ms(r["time"]), r["metric"], r["value"], r["device_id"]))
        key = (r["patient_id"], r["metric"])
        arrived[key] = max(arrived.get(key, 0), to_ms(r["ingested_at"]))
    out: list[Transition] = []
    open_rows = await store.open_between(conn, list(by_patient), to_dt(min(cut.values()))) \
        if by_patient else []
    for patient_id, readings in by_patient.items():
        w = cut[patient_id]
        engine.process(patient_id, [r for r in readings if r.time_ms <= w], wall_ms)
        engine.reconcile([patient_id], [
            (a["patient_id"], a["rule"], a["alert_id"], to_ms(a["started_at"]), a["severity"])
            for a in open_rows if a["patient_id"] == patient_id and to_ms(a["started_at"]) <= w
            and (a["resolved_at"] is None or to_ms(a["resolved_at"]) > w)])
        out += engine.process(patient_id, [r for r in readings if r.time_ms > w], wall_ms)
    for (patient_id, metric), ms in arrived.items():
        engine.set_arrived(patient_id, metric, ms)
    return ids, out
