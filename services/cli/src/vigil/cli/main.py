"""The `vigil` command."""

from __future__ import annotations

import typer

from vigil.cli import bench, notifier_cmd, registry_cmd, rules_cmd, sim, stack_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Vigil: vital signs over MQTT into TimescaleDB, alerts and Grafana.")
for command in (stack_cmd.up, stack_cmd.down, stack_cmd.status, stack_cmd.env,
                stack_cmd.migrate, stack_cmd.pages):
    app.command()(command)
app.add_typer(registry_cmd.patient_app, name="patient")
app.add_typer(registry_cmd.device_app, name="device")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(notifier_cmd.app, name="notifier")
app.add_typer(sim.app, name="sim")
app.add_typer(bench.app, name="bench")


@app.command()
def ingest() -> None:
    """Run the ingest service in the foreground (settings from VIGIL_* variables)."""
    from vigil.ingest.__main__ import main

    main()


if __name__ == "__main__":
    app()
