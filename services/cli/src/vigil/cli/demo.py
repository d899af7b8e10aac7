"""Demo patients and devices registered by `vigil up` (pseudonymous ids, no personal data)."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

PATIENTS = [
    # patient, glucose profile, has a phone (Health Auto Export), has a pulse-oximeter
    ("demo-01", "diabetic", True, True),
    ("demo-02", "athlete", True, False),
    ("demo-03", "party-goer", False, False),
    ("demo-04", "low-glucose", False, True),
    ("demo-05", "elderly", True, False),
]


def devices() -> list[dict[str, str]]:
    """Every demo device: id, kind, patient and simulator profile."""
    out = []
    for i, (patient, profile, phone, oximeter) in enumerate(PATIENTS, start=1):
        out.append({"device_id": f"gm-{i:02d}", "kind": "glucose_meter",
                    "patient_id": patient, "profile": profile})
        if phone:
            # One phone exports in US units with a 12-hour clock, as many real phones do.
            units = "us" if i == 5 else "metric"
            out.append({"device_id": f"phone-{i:02d}", "kind": "phone", "patient_id": patient,
                        "profile": units})
        if oximeter:
            out.append({"device_id": f"ox-{i:02d}", "kind": "oximeter", "patient_id": patient,
                        "profile": "normal"})
    return out


async def register(conn: asyncpg.Connection, path: Path) -> int:
    """Insert the demo registry (idempotent) and write the device list for the simulators."""
    for patient, profile, _, _ in PATIENTS:
        await conn.execute(
            "INSERT INTO patients (patient_id, label, care_team) VALUES ($1, $2, 'demo')"
            " ON CONFLICT (patient_id) DO NOTHING", patient, f"demo {profile}")
    devs = devices()
    for d in devs:
        await conn.execute(
            "INSERT INTO devices (device_id, kind, patient_id, assigned_by) VALUES ($1, $2, $3,"
            " 'vigil up') ON CONFLICT (device_id) DO NOTHING",
            d["device_id"], d["kind"], d["patient_id"])
    path.write_text(json.dumps(devs, indent=2))  # noqa: ASYNC240 - a few hundred bytes, once
    return len(devs)
