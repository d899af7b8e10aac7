"""The Grafana dashboards: committed JSON is fresh, well-formed, and every panel's SQL returns the
expected numbers on plain PostgreSQL (the TimescaleDB lane runs the same cases).

Grafana cannot run in CI (DESIGN.md), so the dashboards are checked where they can go wrong:
in their JSON and in their SQL.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import yaml

from tests.integration import dashboard_cases as cases
from tests.integration.grafana_macros import (
    DASHBOARDS,
    GENERATOR,
    expand,
    load_dashboards,
    panel_sql,
)
from vigil.core.migrate import migrate

pytestmark = pytest.mark.integration

DATASOURCE_UID = "vigil-timescaledb"


def test_committed_dashboards_match_the_generator(tmp_path: Path) -> None:
    """The JSON in git is what `dashboards.py` produces now (and so is the chart's copy)."""
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True)
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_text() for p in DASHBOARDS.glob("*.json")}
    assert fresh, "the generator wrote no dashboard"
    assert committed == fresh, "stale dashboards: run uv run python infra/grafana/dashboards.py"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Two runs give byte-identical files: a diff shows only real changes."""
    for out in ("a", "b"):
        subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path / out)],
                       check=True)
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").glob("*.json")}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").glob("*.json")}


def test_every_panel_targets_the_datasource_and_has_title_and_unit() -> None:
    """Each panel queries the provisioned datasource by uid, is titled and has a unit."""
    dashboards = load_dashboards()
    assert {d["title"] for d in dashboards.values()} == {"Patient vitals", "Glucose", "Platform"}
    panels = panel_sql(dashboards)
    assert len(panels) >= 30
    for p in panels:
        assert p.title, p
        assert p.unit, f"{p.key} has no unit"
        assert p.datasource_uid == p.target_uid == DATASOURCE_UID, p.key
        assert p.raw_sql.strip(), p.key
    assert len({p.key for p in panels}) == len(panels), "panel titles repeat in a dashboard"
    for d in dashboards.values():
        ids = [p["id"] for p in d["panels"]]
        assert len(set(ids)) == len(ids), d["uid"]
        for var in d.get("templating", {}).get("list", []):
            assert var["datasource"]["uid"] == DATASOURCE_UID
    clinical = [d for d in dashboards.values() if d["uid"] != "vigil-platform"]
    for d in clinical:
        (var,) = d["templating"]["list"]
        assert (var["name"], var["query"]) == (
            "patient", "SELECT patient_id FROM patients ORDER BY 1")


def test_provisioning_points_at_the_dashboards_datasource() -> None:
    """The provisioned datasource is the uid the panels use, configured only from the env."""
    provisioning = GENERATOR.parent / "provisioning"
    (ds,) = yaml.safe_load((provisioning / "datasources" / "vigil.yaml").read_text())[
        "datasources"]
    assert (ds["uid"], ds["type"], ds["jsonData"]["timescaledb"]) == (
        DATASOURCE_UID, "postgres", True)
    for value in (ds["url"], ds["user"], ds["jsonData"]["database"],
                  ds["secureJsonData"]["password"]):
        assert value.startswith("${VIGIL_GRAFANA_DB_"), value
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "vigil.yaml").read_text())[
        "providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]


def test_macro_expansion_is_grafanas() -> None:
    """The test helper expands macros and variables as Grafana's PostgreSQL datasource does."""
    sql = ("SELECT $__timeFrom(), $__timeTo(), $__interval, $__interval_ms,"
           " ${patient:sqlstring}, '$patient' WHERE $__timeFilter(r.time)")
    assert expand(sql, start=cases.START, end=cases.END, interval_ms=3_600_000,
                  variables={"patient": "o'brien"}) == (
        "SELECT '2025-03-03T00:00:00Z', '2025-03-05T00:00:00Z', 1h, 3600000,"
        " 'o''brien', 'o'brien' WHERE r.time BETWEEN '2025-03-03T00:00:00Z'"
        " AND '2025-03-05T00:00:00Z'")
    with pytest.raises(AssertionError, match="unexpanded"):
        expand("SELECT $__unixEpochFilter(t)", start=cases.START, end=cases.END,
               interval_ms=1, variables={})


@pytest.fixture
async def pg_conn(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A migrated (plain-PostgreSQL flavour) database holding the dashboard cases."""
    conn = await asyncpg.connect(fresh_database_url)
    try:
        # want_timescale=False: this lane is the plain-PostgreSQL flavour on any server.
        await migrate(conn, want_timescale=False)
        await cases.write(conn)
        yield conn
    finally:
        await conn.close()


async def test_every_panel_query_on_postgres(pg_conn: asyncpg.Connection) -> None:
    """Every panel runs at every rollup tier; the key panels show the expected numbers."""
    checked = await cases.check_all(pg_conn)
    assert len(checked) >= 20


def test_expectations_are_the_hand_computed_ones() -> None:
    """The Python expectations agree with numbers worked out by hand from the data set."""
    assert cases.time_in_range() == (10.0, 15.0, 50.0, 20.0, 5.0)
    assert cases.expected()["vigil-glucose", "Mean glucose"](cases.HOUR) == [(134.0,)]  # 2680 / 20
    hr = cases.expected()["vigil-patient-vitals", "Heart rate (latest)"](cases.HOUR)
    assert hr == [(77.0,)]
    paris = cases.T0.replace(hour=0) - cases.HOUR  # 2025-03-03 00:00 in Paris
    assert cases.daily_totals(["steps"]) == [(paris, 4600.0), (paris + cases.DAY, 2500.0)]
