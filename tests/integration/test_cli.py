"""The `vigil` CLI as users run it (a subprocess) against a fresh database: migrations that are
safe to re-run, the patient and device registry, and errors that name the problem and change
nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fetch
from vigil.cli.servers import free_port
from vigil.core.migrate import load

pytestmark = pytest.mark.integration


class Vigil:
    """Runs ``python -m vigil.cli.main`` with the test's database and no local stack."""

    def __init__(self, database_url: str, state_dir: Path) -> None:
        self.database_url = database_url
        self.env = {
            **os.environ,
            "VIGIL_DATABASE_URL": database_url,
            # An empty state folder: settings must come from the environment, never from a
            # stack somebody started on this machine.
            "VIGIL_STATE_DIR": str(state_dir),
            # Wide and plain, so tables and messages are not wrapped or coloured.
            "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb",
        }

    def __call__(self, *args: str, env: dict[str, str] | None = None,
                 ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "vigil.cli.main", *args],
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=60, check=False)
        # Rich may still break a long line; the checks below read words, not layout.
        done.stdout = " ".join(done.stdout.split())
        done.stderr = " ".join(done.stderr.split())
        return done

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def fails(self, *args: str, says: str) -> None:
        """The command exits non-zero and its output names the problem."""
        done = self(*args)
        out = f"{done.stdout} {done.stderr}"
        assert done.returncode != 0, (args, out)
        assert says in out, (args, out)
        assert "Traceback" not in out, (args, out)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        return fetch(self.database_url, sql)


@pytest.fixture
def vigil(fresh_database_url: str, tmp_path: Path) -> Vigil:
    return Vigil(fresh_database_url, tmp_path / "state")


def test_migrate_twice_applies_then_nothing(vigil: Vigil) -> None:
    first = vigil.ok("migrate")
    applied = re.findall(r"applied (\d{4}_\w+) \((postgres|timescaledb)\)", first)
    # Whatever migrations exist today, in order, all of one flavour.
    flavours = {flavour for _, flavour in applied}
    assert len(flavours) == 1
    migrations = load(flavours.pop())
    assert len(migrations) >= 2
    assert [name for name, _ in applied] == [f"{m.version:04d}_{m.name}" for m in migrations]
    assert f"({len(applied)} applied" in first
    second = vigil.ok("migrate")
    assert "(0 applied" in second
    assert "applied 0" not in second
    assert vigil.rows("SELECT version, name FROM schema_migrations ORDER BY 1") == \
        [(m.version, m.name) for m in migrations]


def test_patient_and_device_registry(vigil: Vigil) -> None:
    vigil.ok("migrate")
    assert "patient p-001 added" in vigil.ok(
        "patient", "add", "p-001", "--label", "Bed 3", "--care-team", "ward-a",
        "--timezone", "Europe/Paris")
    assert "patient p-002 added" in vigil.ok("patient", "add", "p-002")
    assert "device ox-01 (oximeter) assigned to p-001" in vigil.ok(
        "device", "add", "ox-01", "--kind", "oximeter", "--patient", "p-001",
        "--mac", "AA:bb:cc:00:11:22", "--firmware", "1.4.2")
    assert "device gl-01 (glucose_meter) assigned to p-001" in vigil.ok(
        "device", "add", "gl-01", "--kind", "glucose_meter", "--patient", "p-001")

    patients = vigil.ok("patient", "list")
    assert re.search(r"p-001 .*Bed 3 .*ward-a .*Europe/Paris .*\b2\b", patients), patients
    assert re.search(r"p-002 .*default .*UTC .*\b0\b", patients), patients
    devices = vigil.ok("device", "list")
    assert re.search(r"gl-01 .*glucose_meter .*p-001 .*never", devices), devices
    assert re.search(r"ox-01 .*oximeter .*p-001 .*1\.4\.2 .*never", devices), devices
    assert devices.index("gl-01") < devices.index("ox-01")
    assert vigil.rows("SELECT device_id, kind, patient_id, mac::text, firmware_version,"
                      " assigned_by FROM devices ORDER BY 1") == [
        ("gl-01", "glucose_meter", "p-001", None, None, "cli"),
        ("ox-01", "oximeter", "p-001", "aa:bb:cc:00:11:22", "1.4.2", "cli"),
    ]
    assert vigil.rows("SELECT patient_id, label, care_team, timezone FROM patients"
                      " ORDER BY 1") == [("p-001", "Bed 3", "ward-a", "Europe/Paris"),
                                         ("p-002", "", "default", "UTC")]


def test_registry_errors_name_the_problem_and_change_nothing(vigil: Vigil) -> None:
    vigil.ok("migrate")
    vigil.ok("patient", "add", "p-001")
    vigil.ok("device", "add", "ox-01", "--kind", "oximeter", "--patient", "p-001")
    before = (vigil.rows("SELECT * FROM patients ORDER BY 1"),
              vigil.rows("SELECT * FROM devices ORDER BY 1"))

    vigil.fails("patient", "add", "bad id!", says="must be 1-64 characters")
    vigil.fails("patient", "add", "x" * 65, says="must be 1-64 characters")
    vigil.fails("patient", "add", "p-001", says="patient 'p-001' already exists")
    vigil.fails("patient", "add", "p-009", "--timezone", "Mars/Olympus_Mons",
                says="unknown time zone 'Mars/Olympus_Mons'")
    add = ("device", "add")
    vigil.fails(*add, "ox/02", "--kind", "oximeter", "--patient", "p-001",
                says="must be 1-64 characters")
    vigil.fails(*add, "ox-02", "--kind", "toaster", "--patient", "p-001",
                says="'toaster' is not one of oximeter, glucose_meter, phone, other")
    vigil.fails(*add, "ox-02", "--kind", "oximeter", "--patient", "nobody",
                says="patient 'nobody' does not exist")
    vigil.fails(*add, "ox-01", "--kind", "oximeter", "--patient", "p-001",
                says="device 'ox-01' is already registered")
    vigil.fails(*add, "ox-02", "--kind", "oximeter", "--patient", "p-001",
                "--mac", "aa:bb:cc:dd:ee", says="'aa:bb:cc:dd:ee' is not a MAC address")
    vigil.fails(*add, "ox-02", "--kind", "oximeter", "--patient", "p-001",
                "--mac", "gg:bb:cc:dd:ee:ff", says="is not a MAC address")
    vigil.fails(*add, "ox-02", "--patient", "p-001", says="--kind")

    assert (vigil.rows("SELECT * FROM patients ORDER BY 1"),
            vigil.rows("SELECT * FROM devices ORDER BY 1")) == before


def test_unreachable_database_is_one_clear_line(vigil: Vigil) -> None:
    closed = f"postgresql://vigil:vigil@127.0.0.1:{free_port()}/vigil"
    done = vigil("patient", "list", env={"VIGIL_DATABASE_URL": closed})
    out = f"{done.stdout} {done.stderr}"
    assert done.returncode == 1, out
    assert "cannot reach the database" in out
    assert "Traceback" not in out
    assert "vigil:vigil" not in out  # never the password
    for args in (("rules", "list", "--patient", "p-001"), ("notifier", "fatigue"),
                 ("rules", "backtest", "--rule", "glucose-low", "--patient", "p-001",
                  "--from", "2026-11-01", "--to", "2026-11-02")):
        done = vigil(*args, env={"VIGIL_DATABASE_URL": closed})
        out = f"{done.stdout} {done.stderr}"
        assert (done.returncode, "Traceback" in out) == (1, False), out
        assert "cannot reach the database at 127.0.0.1:" in " ".join(out.split())
    done = vigil("migrate", env={"VIGIL_DATABASE_URL": closed})
    assert done.returncode == 1
    assert "migration failed" in f"{done.stdout} {done.stderr}"
