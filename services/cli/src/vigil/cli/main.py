"""The `vigil` command."""

from __future__ import annotations

import contextlib
import importlib

import typer

from vigil.cli import registry_cmd, stack_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Vigil: vital signs over MQTT into TimescaleDB, alerts and Grafana.")
for command in (stack_cmd.up, stack_cmd.down, stack_cmd.status, stack_cmd.env,
                stack_cmd.migrate):
    app.command()(command)
app.add_typer(registry_cmd.patient_app, name="patient")
app.add_typer(registry_cmd.device_app, name="device")
# Optional sub-apps: mounted when their modules are present.
for module, name in (("vigil.cli.sim", "sim"), ("vigil.cli.bench", "bench")):
    with contextlib.suppress(ImportError):
        app.add_typer(importlib.import_module(module).app, name=name)


@app.command()
def ingest() -> None:
    """Run the ingest service in the foreground (settings from VIGIL_* variables)."""
    from vigil.ingest.__main__ import main

    main()


if __name__ == "__main__":
    app()
